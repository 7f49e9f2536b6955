//! Break-in defence: thresholds, window and block edges, reloads, the memory bound, and a
//! property test against a naive model that keeps every failure.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use routing::break_in::{Blocked, BreakInConfig, BreakInGuard};

const NS: Duration = Duration::from_nanos(1);

#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn v6(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}

fn config(max_failures: u32, window: Duration, block_for: Duration) -> BreakInConfig {
    BreakInConfig {
        max_failures,
        window,
        block_for,
        ..BreakInConfig::default()
    }
}

/// Records `count` failures from `source` at `at`, asserting none blocks.
fn fail_without_block(guard: &mut BreakInGuard, source: IpAddr, at: Instant, count: u32) {
    for i in 0..count {
        assert_eq!(guard.record_failure(source, at), None, "failure {i}");
    }
}

#[test]
fn defaults_are_20_failures_in_10_minutes_blocking_for_10_minutes() {
    let config = BreakInConfig::default();
    assert_eq!(config.max_failures, 20);
    assert_eq!(config.window, Duration::from_secs(600));
    assert_eq!(config.block_for, Duration::from_secs(600));
    assert_eq!(config.max_tracked_sources, 100_000);
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn config_reads_from_toml_with_defaults_and_human_durations() {
    let config: BreakInConfig = toml::from_str("max_failures = 5\nwindow = \"30s\"").unwrap();
    assert_eq!(config.max_failures, 5);
    assert_eq!(config.window, Duration::from_secs(30));
    assert_eq!(config.block_for, Duration::from_secs(600));
    let empty: BreakInConfig = toml::from_str("").unwrap();
    assert_eq!(empty, BreakInConfig::default());
    let round_trip: BreakInConfig = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
    assert_eq!(round_trip, config);
}

#[test]
fn config_refuses_unknown_keys_and_bad_durations() {
    assert!(toml::from_str::<BreakInConfig>("max_failure = 5").is_err());
    let error = toml::from_str::<BreakInConfig>("window = \"ten minutes\"").unwrap_err();
    assert!(error.to_string().contains("is not a duration"), "{error}");
}

#[test]
fn validate_names_the_field() {
    let cases = [
        (
            BreakInConfig {
                max_failures: 0,
                ..BreakInConfig::default()
            },
            "routing.break_in.max_failures: ",
        ),
        (
            config(20, Duration::ZERO, ms(1)),
            "routing.break_in.window: ",
        ),
        (
            config(20, Duration::from_secs(86_401), ms(1)),
            "routing.break_in.window: ",
        ),
        (
            config(20, ms(1), Duration::ZERO),
            "routing.break_in.block_for: ",
        ),
        (
            config(20, ms(1), Duration::from_secs(86_401)),
            "routing.break_in.block_for: ",
        ),
        (
            BreakInConfig {
                max_tracked_sources: 0,
                ..BreakInConfig::default()
            },
            "routing.break_in.max_tracked_sources: ",
        ),
    ];
    for (config, prefix) in cases {
        let message = config.validate().unwrap_err().to_string();
        assert!(message.starts_with(prefix), "{message}");
    }
    let day = Duration::from_secs(86_400);
    assert_eq!(config(1, day, day).validate(), Ok(()));
}

#[test]
fn exactly_max_failures_do_not_block_and_the_next_one_does() {
    let start = t0();
    let mut guard = BreakInGuard::new(BreakInConfig::default());
    let source = v4(1);
    fail_without_block(&mut guard, source, start, 20);
    assert_eq!(guard.check(source, start), Ok(()));
    let now = start + ms(5);
    let until = now + Duration::from_secs(600);
    assert_eq!(guard.record_failure(source, now), Some(Blocked { until }));
    assert_eq!(guard.check(source, now), Err(Blocked { until }));
    assert_eq!(guard.blocked_sources(now), 1);
}

#[test]
fn a_failure_exactly_window_old_no_longer_counts() {
    let start = t0();
    let window = ms(100);
    let mut guard = BreakInGuard::new(config(3, window, ms(50)));
    let source = v4(1);
    guard.record_failure(source, start);
    fail_without_block(&mut guard, source, start + ms(10), 2);
    // The first failure is exactly `window` old: three count, not four.
    assert_eq!(guard.record_failure(source, start + window), None);
    assert_eq!(guard.check(source, start + window), Ok(()));
}

#[test]
fn a_failure_one_nanosecond_short_of_window_old_still_counts() {
    let start = t0();
    let window = ms(100);
    let mut guard = BreakInGuard::new(config(3, window, ms(50)));
    let source = v4(1);
    guard.record_failure(source, start);
    fail_without_block(&mut guard, source, start + ms(10), 2);
    let now = start + window - NS;
    assert_eq!(
        guard.record_failure(source, now),
        Some(Blocked {
            until: now + ms(50)
        })
    );
}

#[test]
fn the_block_ends_at_until() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, ms(100), ms(50)));
    let source = v4(1);
    guard.record_failure(source, start);
    let until = start + ms(50);
    assert_eq!(guard.record_failure(source, start), Some(Blocked { until }));
    assert_eq!(guard.check(source, until - NS), Err(Blocked { until }));
    assert_eq!(guard.blocked_sources(until - NS), 1);
    assert_eq!(guard.blocked_sources(until), 0);
    assert_eq!(guard.check(source, until), Ok(()));
    // The history went with the block: one failure (not more than 1) does not block again.
    assert_eq!(guard.record_failure(source, until), None);
}

#[test]
fn failures_while_blocked_do_not_extend_the_block() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, ms(100), ms(50)));
    let source = v4(1);
    guard.record_failure(source, start);
    let until = start + ms(50);
    assert_eq!(guard.record_failure(source, start), Some(Blocked { until }));
    for step in 1..=10 {
        assert_eq!(guard.record_failure(source, start + ms(step)), None);
    }
    assert_eq!(guard.check(source, until - NS), Err(Blocked { until }));
    assert_eq!(guard.check(source, until), Ok(()));
}

#[test]
fn a_failure_after_the_block_ends_starts_afresh_without_a_check() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, Duration::from_secs(10), ms(50)));
    let source = v4(1);
    guard.record_failure(source, start);
    guard.record_failure(source, start);
    let until = start + ms(50);
    assert_eq!(guard.record_failure(source, until), None);
    assert_eq!(
        guard.record_failure(source, until),
        Some(Blocked {
            until: until + ms(50)
        })
    );
}

#[test]
fn other_sources_are_unaffected() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(2, ms(100), ms(50)));
    fail_without_block(&mut guard, v4(1), start, 2);
    assert!(guard.record_failure(v4(1), start).is_some());
    assert_eq!(guard.check(v4(2), start), Ok(()));
    fail_without_block(&mut guard, v4(2), start, 2);
    assert_eq!(guard.check(v4(2), start), Ok(()));
    assert_eq!(guard.blocked_sources(start), 1);
}

#[test]
fn ipv6_sources_are_tracked_per_address() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, ms(100), ms(50)));
    guard.record_failure(v6(1), start);
    let until = start + ms(50);
    assert_eq!(guard.record_failure(v6(1), start), Some(Blocked { until }));
    assert_eq!(guard.check(v6(1), start), Err(Blocked { until }));
    assert_eq!(guard.check(v6(2), start), Ok(()));
    assert_eq!(guard.tracked_sources(), 1);
}

#[test]
fn set_config_keeps_state_and_a_lower_maximum_applies_to_the_next_failure() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(20, ms(100), ms(50)));
    fail_without_block(&mut guard, v4(1), start, 5);
    guard.record_failure(v4(2), start);
    guard.record_failure(v4(2), start);
    let lower = config(5, ms(100), ms(30));
    guard.set_config(lower.clone());
    assert_eq!(guard.config(), &lower);
    assert_eq!(guard.tracked_sources(), 2);
    assert_eq!(guard.check(v4(1), start), Ok(()));
    let now = start + ms(1);
    assert_eq!(
        guard.record_failure(v4(1), now),
        Some(Blocked {
            until: now + ms(30)
        })
    );
    assert_eq!(guard.record_failure(v4(2), now), None);
}

#[test]
fn set_config_keeps_existing_blocks_until_their_end() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, ms(100), ms(50)));
    guard.record_failure(v4(1), start);
    let until = start + ms(50);
    assert_eq!(guard.record_failure(v4(1), start), Some(Blocked { until }));
    guard.set_config(config(1, ms(100), ms(10)));
    assert_eq!(guard.check(v4(1), start + ms(20)), Err(Blocked { until }));
}

fn bounded(max_failures: u32) -> BreakInGuard {
    BreakInGuard::new(BreakInConfig {
        max_tracked_sources: 3,
        ..config(
            max_failures,
            Duration::from_secs(60),
            Duration::from_secs(60),
        )
    })
}

#[test]
fn beyond_the_bound_the_least_recently_failing_source_is_forgotten() {
    let start = t0();
    let mut guard = bounded(2);
    fail_without_block(&mut guard, v4(1), start, 2);
    fail_without_block(&mut guard, v4(2), start + ms(1), 2);
    fail_without_block(&mut guard, v4(3), start + ms(2), 2);
    guard.record_failure(v4(4), start + ms(3));
    assert_eq!(guard.tracked_sources(), 3);
    // v4(1) was forgotten: its third failure is its first again.
    assert_eq!(guard.record_failure(v4(1), start + ms(4)), None);
    // ... which made room by forgetting v4(2), while v4(3) still remembers its two.
    assert!(guard.record_failure(v4(3), start + ms(5)).is_some());
    assert_eq!(guard.tracked_sources(), 3);
}

#[test]
fn a_blocked_source_is_not_forgotten_while_an_unblocked_one_can_be() {
    let start = t0();
    let mut guard = bounded(1);
    guard.record_failure(v4(1), start);
    let blocked = guard.record_failure(v4(1), start).unwrap();
    guard.record_failure(v4(2), start + ms(1));
    guard.record_failure(v4(3), start + ms(2));
    guard.record_failure(v4(4), start + ms(3));
    guard.record_failure(v6(5), start + ms(4));
    assert_eq!(guard.tracked_sources(), 3);
    assert_eq!(guard.check(v4(1), start + ms(5)), Err(blocked));
    // v4(2) and v4(3) went: v4(2)'s failure counts as its first again. v6(5) is remembered.
    assert_eq!(guard.record_failure(v4(2), start + ms(6)), None);
    assert!(guard.record_failure(v6(5), start + ms(7)).is_some());
}

#[test]
fn when_every_source_is_blocked_the_block_ending_first_is_forgotten() {
    let start = t0();
    let mut guard = bounded(1);
    for (i, source) in [v4(1), v4(2), v4(3)].into_iter().enumerate() {
        let at = start + ms(u64::try_from(i).unwrap());
        guard.record_failure(source, at);
        assert!(guard.record_failure(source, at).is_some());
    }
    guard.record_failure(v4(4), start + ms(10));
    assert_eq!(guard.tracked_sources(), 3);
    assert_eq!(guard.check(v4(1), start + ms(10)), Ok(()));
    assert!(guard.check(v4(2), start + ms(10)).is_err());
    assert!(guard.check(v4(3), start + ms(10)).is_err());
    assert_eq!(guard.blocked_sources(start + ms(10)), 2);
}

#[test]
fn an_expired_block_makes_room_before_anything_else() {
    let start = t0();
    let mut guard = BreakInGuard::new(BreakInConfig {
        max_tracked_sources: 3,
        ..config(2, Duration::from_secs(60), ms(10))
    });
    fail_without_block(&mut guard, v4(1), start, 2);
    assert!(guard.record_failure(v4(1), start).is_some());
    fail_without_block(&mut guard, v4(2), start + ms(1), 2);
    fail_without_block(&mut guard, v4(3), start + ms(2), 2);
    guard.record_failure(v4(4), start + ms(20));
    // v4(1)'s block had passed, so it went rather than v4(2), the least recently failing
    // unblocked source: v4(2) and v4(3) still remember their failures.
    assert!(guard.record_failure(v4(2), start + ms(21)).is_some());
    assert!(guard.record_failure(v4(3), start + ms(22)).is_some());
}

#[test]
fn a_lower_bound_on_reload_is_reached_at_the_next_new_source() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(5, Duration::from_secs(60), ms(10)));
    for last in 1..=10 {
        guard.record_failure(v4(last), start + ms(u64::from(last)));
    }
    guard.set_config(BreakInConfig {
        max_tracked_sources: 3,
        ..guard.config().clone()
    });
    assert_eq!(guard.tracked_sources(), 10);
    guard.record_failure(v4(11), start + ms(11));
    assert_eq!(guard.tracked_sources(), 3);
}

#[test]
fn purge_drops_idle_sources_and_expired_blocks_only() {
    let start = t0();
    let window = ms(100);
    let mut guard = BreakInGuard::new(config(1, window, ms(50)));
    guard.record_failure(v4(1), start);
    guard.record_failure(v4(2), start + ms(30));
    guard.record_failure(v4(3), start + ms(40));
    let until = start + ms(90);
    assert_eq!(
        guard.record_failure(v4(3), start + ms(40)),
        Some(Blocked { until })
    );
    guard.purge(until - NS);
    assert_eq!(guard.tracked_sources(), 3);
    guard.purge(until);
    assert_eq!(guard.tracked_sources(), 2, "v4(3)'s block ended");
    guard.purge(start + window - NS);
    assert_eq!(guard.tracked_sources(), 2);
    guard.purge(start + window);
    assert_eq!(
        guard.tracked_sources(),
        1,
        "v4(1)'s failure left the window"
    );
    guard.purge(start + ms(30) + window);
    assert_eq!(guard.tracked_sources(), 0);
    assert_eq!(guard.check(v4(3), start + ms(200)), Ok(()));
}

#[test]
fn purge_keeps_current_blocks() {
    let start = t0();
    let mut guard = BreakInGuard::new(config(1, ms(10), ms(50)));
    guard.record_failure(v4(1), start);
    let blocked = guard.record_failure(v4(1), start).unwrap();
    guard.purge(start + ms(49));
    assert_eq!(guard.check(v4(1), start + ms(49)), Err(blocked));
}

#[test]
fn checking_an_unknown_source_tracks_nothing() {
    let start = t0();
    let mut guard = BreakInGuard::new(BreakInConfig::default());
    assert_eq!(guard.check(v6(1), start), Ok(()));
    assert_eq!(guard.tracked_sources(), 0);
}

/// The naive reference: every failure since the source's last fresh start, counted on demand.
#[derive(Default)]
struct Model {
    sources: HashMap<IpAddr, (Vec<Instant>, Option<Instant>)>,
}

impl Model {
    fn check(&mut self, source: IpAddr, now: Instant) -> Result<(), Blocked> {
        let Some((failures, blocked)) = self.sources.get_mut(&source) else {
            return Ok(());
        };
        match *blocked {
            Some(until) if until > now => Err(Blocked { until }),
            Some(_) => {
                failures.clear();
                *blocked = None;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn record_failure(
        &mut self,
        config: &BreakInConfig,
        source: IpAddr,
        now: Instant,
    ) -> Option<Blocked> {
        if self.check(source, now).is_err() {
            return None;
        }
        let (failures, blocked) = self.sources.entry(source).or_default();
        failures.push(now);
        let counted = failures
            .iter()
            .filter(|&&t| now - t < config.window)
            .count();
        if counted <= usize::try_from(config.max_failures).unwrap() {
            return None;
        }
        let until = now + config.block_for;
        *blocked = Some(until);
        Some(Blocked { until })
    }

    fn blocked_sources(&self, now: Instant) -> usize {
        self.sources
            .values()
            .filter(|(_, blocked)| blocked.is_some_and(|until| until > now))
            .count()
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Failure(usize),
    Check(usize),
    Purge,
}

const SOURCES: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..SOURCES.len()).prop_map(Op::Failure),
        3 => (0..SOURCES.len()).prop_map(Op::Check),
        1 => Just(Op::Purge),
    ]
}

/// Time steps that land on the window and block edges, and in between.
fn step() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(NS),
        Just(ms(10) - NS),
        Just(ms(10)),
        Just(ms(50) - NS),
        Just(ms(50)),
        Just(ms(100) - NS),
        Just(ms(100)),
        (0..120_000_000_u64).prop_map(Duration::from_nanos),
    ]
}

fn guard_config() -> impl Strategy<Value = BreakInConfig> {
    (
        1..=4_u32,
        prop_oneof![Just(ms(10)), Just(ms(100))],
        prop_oneof![Just(ms(10)), Just(ms(50))],
    )
        .prop_map(|(max_failures, window, block_for)| config(max_failures, window, block_for))
}

proptest! {
    #[test]
    fn the_guard_answers_like_the_naive_model(
        config in guard_config(),
        events in prop::collection::vec((step(), op()), 1..200),
    ) {
        let mut now = t0();
        let mut guard = BreakInGuard::new(config.clone());
        let mut model = Model::default();
        for (step, op) in events {
            now += step;
            match op {
                Op::Failure(i) => prop_assert_eq!(
                    guard.record_failure(SOURCES[i], now),
                    model.record_failure(&config, SOURCES[i], now)
                ),
                Op::Check(i) => prop_assert_eq!(guard.check(SOURCES[i], now), model.check(SOURCES[i], now)),
                Op::Purge => guard.purge(now),
            }
            prop_assert_eq!(guard.blocked_sources(now), model.blocked_sources(now));
        }
    }

    #[test]
    fn the_bound_holds_and_a_new_block_is_in_force(
        max_tracked_sources in 1..=3_usize,
        events in prop::collection::vec((step(), 0..SOURCES.len(), any::<bool>()), 1..200),
    ) {
        let mut now = t0();
        let mut guard = BreakInGuard::new(BreakInConfig {
            max_tracked_sources,
            ..config(1, ms(100), ms(50))
        });
        for (step, i, is_failure) in events {
            now += step;
            if is_failure {
                if let Some(blocked) = guard.record_failure(SOURCES[i], now) {
                    prop_assert_eq!(guard.check(SOURCES[i], now), Err(blocked));
                }
            } else {
                let _ = guard.check(SOURCES[i], now);
            }
            prop_assert!(guard.tracked_sources() <= max_tracked_sources);
        }
    }
}
