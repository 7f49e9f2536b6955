//! Break-in defence: blocking sources that keep failing alias lookups.
//!
//! Someone scanning for meetings dials alias after alias, or tries meeting ID after meeting ID
//! at the Virtual Reception. The node reports each failed alias lookup and each wrong IVR
//! meeting ID to a [`BreakInGuard`] with the caller's source address. More than
//! `max_failures` failures (default 20) from one source within a sliding `window` (default 10
//! minutes) block that source for `block_for` (default 10 minutes): while blocked,
//! [`BreakInGuard::check`] refuses it and the node answers SIP 403 (and counts it in a metric).
//!
//! A failure at time `t` counts while `now - t < window`: a failure exactly `window` old no
//! longer does. A block lasts while `now < until`. When it has passed the source starts afresh,
//! with no failure history; failures reported while blocked neither count nor extend the block.
//!
//! Memory is bounded: at most `max_tracked_sources` sources are held (each with at most
//! `max_failures + 1` failure times). A new source beyond that makes the guard forget another
//! one: a source whose block has passed (it holds nothing), else the unblocked source with the
//! oldest latest failure, and a blocked source (the one whose block ends first) only when every
//! source is blocked.
//!
//! Time comes in as `now` and must not go backwards (the node passes a monotonic clock); if it
//! does, nothing panics, but windows are measured from the latest times seen.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Default `max_failures`: 20.
pub const DEFAULT_MAX_FAILURES: u32 = 20;
/// Default `window`: 10 minutes.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Default `block_for`: 10 minutes.
pub const DEFAULT_BLOCK_FOR: Duration = Duration::from_secs(10 * 60);
/// Default `max_tracked_sources`: 100 000.
pub const DEFAULT_MAX_TRACKED_SOURCES: usize = 100_000;
/// The longest `window` and `block_for` accepted: 24 hours.
pub const MAX_PERIOD: Duration = Duration::from_secs(24 * 60 * 60);

/// `[routing.break_in]`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakInConfig {
    /// More than this many failures from one source within `window` block it. Default 20.
    pub max_failures: u32,
    /// The sliding window failures are counted in, e.g. `"10m"`. Default 10 minutes.
    #[serde(with = "crate::duration")]
    pub window: Duration,
    /// How long a source stays blocked, e.g. `"10m"`. Default 10 minutes.
    #[serde(with = "crate::duration")]
    pub block_for: Duration,
    /// The most sources held in memory; beyond it the guard forgets the least recently failing
    /// unblocked one. Default 100 000.
    pub max_tracked_sources: usize,
}

impl Default for BreakInConfig {
    fn default() -> Self {
        Self {
            max_failures: DEFAULT_MAX_FAILURES,
            window: DEFAULT_WINDOW,
            block_for: DEFAULT_BLOCK_FOR,
            max_tracked_sources: DEFAULT_MAX_TRACKED_SOURCES,
        }
    }
}

impl BreakInConfig {
    /// Checks the bounds: `max_failures` and `max_tracked_sources` at least 1, `window` and
    /// `block_for` more than zero and at most [`MAX_PERIOD`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        const ITEM: &str = "routing.break_in";
        if self.max_failures == 0 {
            return Err(ConfigError::new(ITEM, "max_failures", "must be at least 1"));
        }
        check_period(ITEM, "window", self.window)?;
        check_period(ITEM, "block_for", self.block_for)?;
        if self.max_tracked_sources == 0 {
            return Err(ConfigError::new(
                ITEM,
                "max_tracked_sources",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

fn check_period(item: &str, field: &'static str, period: Duration) -> Result<(), ConfigError> {
    if period.is_zero() || period > MAX_PERIOD {
        return Err(ConfigError::new(
            item,
            field,
            format!(
                "must be more than 0 and at most 24h, not {}",
                humantime::format_duration(period)
            ),
        ));
    }
    Ok(())
}

/// A source is blocked until `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The first instant the source is allowed again.
    pub until: Instant,
}

/// Per-source failure counting and blocking; see the module documentation.
#[derive(Clone, Debug)]
pub struct BreakInGuard {
    config: BreakInConfig,
    sources: HashMap<IpAddr, Source>,
    /// The unblocked sources, keyed by their latest failure: eviction and purge take the oldest
    /// first without scanning every source.
    counting: BTreeSet<(Instant, IpAddr)>,
    /// The blocked sources, keyed by the end of the block: the expired ones come first.
    blocked: BTreeSet<(Instant, IpAddr)>,
}

/// What the guard holds for one source. Either blocked (`blocked_until` set, `failures` empty,
/// keyed in `blocked`) or counting (`failures` not empty, keyed in `counting` by the last one).
#[derive(Clone, Debug, Default)]
struct Source {
    /// Failure times, oldest first; pruned to the window when the source fails again.
    failures: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl BreakInGuard {
    /// A guard with no history. `config` should have passed [`BreakInConfig::validate`].
    pub fn new(config: BreakInConfig) -> Self {
        Self {
            config,
            sources: HashMap::new(),
            counting: BTreeSet::new(),
            blocked: BTreeSet::new(),
        }
    }

    /// Replaces the configuration on reload, keeping every source's failures and block. The new
    /// limits apply from the next failure: a lower `max_failures` may block at once, existing
    /// blocks keep their end, and a lower `max_tracked_sources` is reached when the next new
    /// source is tracked.
    pub fn set_config(&mut self, config: BreakInConfig) {
        self.config = config;
    }

    /// The configuration in force.
    pub fn config(&self) -> &BreakInConfig {
        &self.config
    }

    /// `Err` while `source` is blocked. Once the block has passed the source is allowed again
    /// and its history forgotten.
    pub fn check(&mut self, source: IpAddr, now: Instant) -> Result<(), Blocked> {
        match self.blocked_until(source) {
            Some(until) if until > now => Err(Blocked { until }),
            Some(_) => {
                self.forget(source);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a failed lookup from `source`. Returns the block exactly when this failure makes
    /// the failures within the window exceed `max_failures`; `None` otherwise, including for a
    /// source already blocked (its failures do not extend the block).
    pub fn record_failure(&mut self, source: IpAddr, now: Instant) -> Option<Blocked> {
        match self.blocked_until(source) {
            Some(until) if until > now => return None,
            // The block has passed: the source starts afresh, as `check` would have done.
            Some(_) => self.forget(source),
            None => {}
        }
        if !self.sources.contains_key(&source) {
            self.make_room(now);
        }
        let state = self.sources.entry(source).or_default();
        if let Some(&latest) = state.failures.back() {
            self.counting.remove(&(latest, source));
        }
        prune(&mut state.failures, now, self.config.window);
        state.failures.push_back(now);
        if !exceeds(state.failures.len(), self.config.max_failures) {
            self.counting.insert((now, source));
            return None;
        }
        let until = block_end(now, self.config.block_for);
        // The history is cleared when the block ends anyway; drop it now to free the memory.
        state.failures.clear();
        state.blocked_until = Some(until);
        self.blocked.insert((until, source));
        Some(Blocked { until })
    }

    /// The number of sources blocked at `now`.
    pub fn blocked_sources(&self, now: Instant) -> usize {
        // `blocked` is ordered by the end of the block: the current ones are at the back.
        self.blocked
            .iter()
            .rev()
            .take_while(|(until, _)| *until > now)
            .count()
    }

    /// The number of sources held in memory, blocked or not, including those whose failures
    /// have aged out but which [`purge`](Self::purge) has not dropped yet.
    pub fn tracked_sources(&self) -> usize {
        self.sources.len()
    }

    /// Forgets the sources whose block has passed and those whose failures have all left the
    /// window. The node calls it periodically; it changes no answer, only frees memory. The cost
    /// is proportional to what it drops.
    pub fn purge(&mut self, now: Instant) {
        while let Some(source) = self.expired_block(now) {
            self.forget(source);
        }
        let window = self.config.window;
        while let Some(&(latest, source)) = self.counting.first() {
            if now.saturating_duration_since(latest) < window {
                break;
            }
            self.forget(source);
        }
    }

    fn blocked_until(&self, source: IpAddr) -> Option<Instant> {
        self.sources.get(&source)?.blocked_until
    }

    /// The source whose block ended first, if that was at or before `now`.
    fn expired_block(&self, now: Instant) -> Option<IpAddr> {
        let &(until, source) = self.blocked.first()?;
        (until <= now).then_some(source)
    }

    /// Drops everything held about `source`.
    fn forget(&mut self, source: IpAddr) {
        let Some(state) = self.sources.remove(&source) else {
            return;
        };
        if let Some(until) = state.blocked_until {
            self.blocked.remove(&(until, source));
        }
        if let Some(&latest) = state.failures.back() {
            self.counting.remove(&(latest, source));
        }
    }

    /// Forgets sources until a new one fits within `max_tracked_sources`.
    fn make_room(&mut self, now: Instant) {
        while self.sources.len() >= self.config.max_tracked_sources {
            let Some(victim) = self.eviction_victim(now) else {
                return;
            };
            self.forget(victim);
        }
    }

    /// Which source to forget: one whose block has passed (forgetting it changes nothing), else
    /// the unblocked source that failed least recently, else the block that ends first.
    fn eviction_victim(&self, now: Instant) -> Option<IpAddr> {
        self.expired_block(now)
            .or_else(|| self.counting.first().map(|&(_, source)| source))
            .or_else(|| self.blocked.first().map(|&(_, source)| source))
    }
}

/// Drops the failures at least `window` old.
fn prune(failures: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while let Some(&oldest) = failures.front() {
        if now.saturating_duration_since(oldest) < window {
            break;
        }
        failures.pop_front();
    }
}

fn exceeds(count: usize, max_failures: u32) -> bool {
    // On targets where `usize` is narrower than `u32`, no count can exceed a larger maximum.
    usize::try_from(max_failures).is_ok_and(|max| count > max)
}

/// `now + block_for`, never panicking: a duration too long for the clock is cut to
/// [`MAX_PERIOD`] (which `validate` enforces anyway), and failing that the block is empty.
fn block_end(now: Instant, block_for: Duration) -> Instant {
    now.checked_add(block_for)
        .or_else(|| now.checked_add(MAX_PERIOD))
        .unwrap_or(now)
}
