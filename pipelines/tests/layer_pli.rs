//! Keyframe requests for one simulcast layer, end to end: meet-sim sends a real RTCP PLI for
//! one RID's SSRC (its control API's `:requestKeyframe`, through its str0m connection) to the
//! Meet leg's webrtcbin, which must force a keyframe on that layer's encoder within 2 frames
//! and on no other layer (a FIR too); a storm of PLIs on one layer yields at most one keyframe per
//! `keyframe_min_interval` (300 ms) on it.
//!
//! Frames are timed where they leave each layer's `vp8enc` (`MeetLeg::tap_layer`); a PLI's
//! arrival is its `KeyframeRequested { cause: Pli }` event. The uplink's `keyframe-max-dist`
//! (3000 frames, 100 s) keeps periodic keyframes out of the way, and with the gateway alone
//! in the space the sim asks for no keyframe by itself.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pipelines::{KeyframeCause, KeyframeOutcome, MediaEvent, PortRange};

use support::{Call, heavy, poll};

const RIDS: [&str; 3] = ["q", "h", "f"];
/// The leg's `keyframe_min_interval` (`MeetLegSpec::new`).
const MIN_INTERVAL: Duration = Duration::from_millis(300);
/// How long the other layers are watched for a keyframe after a PLI.
const WATCH: Duration = Duration::from_secs(1);

/// Every encoded frame of one layer: when it left the encoder and whether it is a keyframe.
#[derive(Clone, Default)]
struct Frames(Arc<Mutex<Vec<(Instant, bool)>>>);

impl Frames {
    fn all(&self) -> Vec<(Instant, bool)> {
        self.0.lock().unwrap().clone()
    }

    /// Frames that left in `(after, until]`.
    fn between(&self, after: Instant, until: Instant) -> Vec<(Instant, bool)> {
        self.all()
            .into_iter()
            .filter(|(t, _)| *t > after && *t <= until)
            .collect()
    }

    /// When the keyframes after `after` left.
    fn keyframes_after(&self, after: Instant) -> Vec<Instant> {
        self.all()
            .into_iter()
            .filter(|(t, key)| *key && *t > after)
            .map(|(t, _)| t)
            .collect()
    }
}

/// Taps every layer's encoder.
fn tap(call: &Call) -> BTreeMap<&'static str, Frames> {
    RIDS.iter()
        .map(|rid| {
            let frames = Frames::default();
            let sink = frames.clone();
            call.leg
                .tap_layer(rid, move |_, keyframe| {
                    sink.0.lock().unwrap().push((Instant::now(), keyframe));
                })
                .unwrap();
            (*rid, frames)
        })
        .collect()
}

/// The keyframe requests on `rid` with cause `cause`, in order: when each arrived, and what
/// the limiter made of it.
fn requests(call: &Call, rid: &str, cause: KeyframeCause) -> Vec<(Instant, KeyframeOutcome)> {
    call.events
        .all(|e| {
            matches!(e, MediaEvent::KeyframeRequested { rid: r, cause: c, .. }
                if r == rid && *c == cause)
        })
        .into_iter()
        .filter_map(|(t, e)| match e {
            MediaEvent::KeyframeRequested { outcome, .. } => Some((t, outcome)),
            _ => None,
        })
        .collect()
}

/// Starts a call and waits until every layer sent its keyframe after connecting, the sim
/// knows every RID (and its size), and the connection keyframes are older than the
/// interval, so that the next PLI is forced at once.
fn settled_call(ports: PortRange) -> (Call, BTreeMap<&'static str, Frames>) {
    let call = Call::start(1280, 720, ports);
    let frames = tap(&call);
    let connected = call
        .events
        .first(|e| *e == MediaEvent::ConnectionState(pipelines::ConnectionState::Connected))
        .unwrap();
    for rid in RIDS {
        call.events.wait(
            &format!("{rid}: a keyframe after connecting"),
            Duration::from_secs(30),
            |e| matches!(e, MediaEvent::KeyframeSent { rid: r } if r == rid),
        );
    }
    poll("the sim sees q, h and f", Duration::from_secs(30), || {
        let media = call.sim.media(call.pid);
        let layers = media["layers"].as_array().cloned().unwrap_or_default();
        RIDS.iter()
            .all(|rid| {
                layers
                    .iter()
                    .any(|l| l["rid"] == *rid && l["height"].as_u64().unwrap_or(0) > 0)
            })
            .then_some(())
    });
    poll(
        "30 frames on every layer since the tap",
        Duration::from_secs(30),
        || frames.values().all(|f| f.all().len() >= 30).then_some(()),
    );
    poll(
        "the connection keyframes older than the interval",
        Duration::from_secs(30),
        || (connected.elapsed() > 2 * MIN_INTERVAL).then_some(()),
    );
    for rid in RIDS {
        let plis = requests(&call, rid, KeyframeCause::Pli);
        assert!(
            plis.is_empty(),
            "{rid}: PLIs before any was asked: {plis:?}"
        );
    }
    (call, frames)
}

/// What one PLI (or FIR) did.
#[derive(Debug)]
struct Round {
    rid: &'static str,
    cause: KeyframeCause,
    /// Frames of the layer from the request's arrival to its keyframe, the keyframe included.
    frames_after_arrival: usize,
    /// The same from the moment the test asked the sim (an upper bound).
    frames_after_ask: usize,
    /// From the arrival to the keyframe.
    latency: Duration,
    /// Frames the other layers sent in the watch window, and their keyframes.
    others: Vec<(&'static str, usize, usize)>,
}

/// Asks the sim for a PLI or FIR (`cause`) on `rid` and measures what came of it.
fn one_request(
    call: &Call,
    frames: &BTreeMap<&'static str, Frames>,
    rid: &'static str,
    cause: KeyframeCause,
) -> Round {
    let before = requests(call, rid, cause).len();
    let other_requests = |call: &Call| -> usize {
        RIDS.iter()
            .filter(|r| **r != rid)
            .map(|r| {
                requests(call, r, KeyframeCause::Pli).len()
                    + requests(call, r, KeyframeCause::Fir).len()
            })
            .sum()
    };
    let others_before = other_requests(call);
    let asked = Instant::now();
    let kind = if cause == KeyframeCause::Fir {
        "fir"
    } else {
        "pli"
    };
    let (status, body) = call.sim.request_keyframe(call.pid, rid, kind);
    assert_eq!(status, 200, "{body}");
    let (arrived, outcome) = poll(
        &format!("{rid}: the {kind} reaches the leg"),
        Duration::from_secs(10),
        || requests(call, rid, cause).get(before).copied(),
    );
    assert_eq!(outcome, KeyframeOutcome::Forced, "{rid}");
    let keyframe = poll(
        &format!("{rid}: a keyframe after the PLI"),
        Duration::from_secs(10),
        || frames[rid].keyframes_after(asked).first().copied(),
    );
    // watch every layer for a while after the PLI; the others must keep sending (else "no
    // keyframe" would prove nothing)
    let watch_end = poll(
        &format!("{rid}: {WATCH:?} of frames on the other layers"),
        Duration::from_secs(30),
        || {
            let end = arrived + WATCH;
            let busy = RIDS
                .iter()
                .filter(|r| **r != rid)
                .all(|r| frames[r].between(arrived, end).len() >= 10);
            (Instant::now() > end && busy).then_some(end)
        },
    );
    let frames_after_arrival = frames[rid].between(arrived, keyframe).len();
    let frames_after_ask = frames[rid].between(asked, keyframe).len();
    let others = RIDS
        .iter()
        .filter(|r| **r != rid)
        .map(|r| {
            let window = frames[r].between(asked, watch_end);
            (*r, window.len(), window.iter().filter(|f| f.1).count())
        })
        .collect();
    assert_eq!(
        other_requests(call),
        others_before,
        "a {kind} for {rid} became a request on another layer"
    );
    // the keyframe can be logged a hair before the event that announced the request was
    // (the event goes through a channel): it then counts as the first frame
    Round {
        rid,
        cause,
        frames_after_arrival: frames_after_arrival.max(1),
        frames_after_ask,
        latency: keyframe.saturating_duration_since(arrived),
        others,
    }
}

#[test]
fn a_pli_for_one_layer_keyframes_that_layer_within_2_frames_and_no_other() {
    let _heavy = heavy();
    let (call, frames) = settled_call(PortRange {
        min: 47600,
        max: 47649,
    });
    let stats_before: Vec<_> = RIDS
        .iter()
        .map(|r| call.leg.keyframe_stats(r).unwrap())
        .collect();
    let mut rounds = Vec::new();
    let (pli, fir) = (KeyframeCause::Pli, KeyframeCause::Fir);
    let plan = [
        ("h", pli),
        ("q", pli),
        ("f", pli),
        ("h", pli),
        ("h", pli),
        ("f", pli),
        ("q", pli),
        ("h", pli),
        ("h", fir),
        ("f", fir),
    ];
    for (rid, cause) in plan {
        let round = one_request(&call, &frames, rid, cause);
        println!(
            "{rid} {cause:?}: the keyframe is frame {} after the arrival ({} after asking the \
             sim), {:?} after it; other layers (rid, frames, keyframes) in {WATCH:?}: {:?}",
            round.frames_after_arrival, round.frames_after_ask, round.latency, round.others
        );
        rounds.push(round);
    }
    for round in &rounds {
        assert!(
            round.frames_after_arrival <= 2,
            "{}: the keyframe was frame {} after the request: {round:?}",
            round.rid,
            round.frames_after_arrival
        );
        for (other, sent, keyframes) in &round.others {
            assert_eq!(
                *keyframes, 0,
                "a request for {} put {keyframes} keyframes on {other} ({sent} frames): {round:?}",
                round.rid
            );
        }
    }
    // the counters agree: one request and one forced keyframe per round, nothing waited
    for (i, rid) in RIDS.iter().enumerate() {
        let before = stats_before[i];
        let after = call.leg.keyframe_stats(rid).unwrap();
        let asked = |cause| {
            rounds
                .iter()
                .filter(|r| r.rid == *rid && r.cause == cause)
                .count() as u64
        };
        let all = asked(pli) + asked(fir);
        println!("{rid}: {after:?}");
        assert_eq!(after.plis - before.plis, asked(pli), "{rid}");
        assert_eq!(after.firs - before.firs, asked(fir), "{rid}");
        assert_eq!(after.forced - before.forced, all, "{rid}");
        assert_eq!(after.keyframes_out - before.keyframes_out, all, "{rid}");
        assert_eq!(
            (after.deferred, after.merged),
            (before.deferred, before.merged),
            "{rid}"
        );
    }
    let broken = call.sim.events("media_rule_broken");
    assert!(broken.is_empty(), "{broken:?}");
}

#[test]
fn a_pli_storm_on_one_layer_yields_at_most_one_keyframe_per_interval() {
    let _heavy = heavy();
    let (call, frames) = settled_call(PortRange {
        min: 47650,
        max: 47699,
    });
    let rid = "h";
    let stats_before = call.leg.keyframe_stats(rid).unwrap();
    // 20 PLIs within a second, one every 45 ms
    let start = Instant::now();
    for i in 0..20u32 {
        let due = start + Duration::from_millis(45) * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let (status, body) = call.sim.request_keyframe(call.pid, rid, "pli");
        assert_eq!(status, 200, "{body}");
    }
    let asked_for = start.elapsed();
    let plis = poll("the 20 PLIs reach the leg", Duration::from_secs(10), || {
        let plis = requests(&call, rid, KeyframeCause::Pli);
        (plis.len() >= 20).then_some(plis)
    });
    let (first, last) = (plis[0].0, plis[plis.len() - 1].0);
    // a request that waited is forced at most an interval after the last, on a frame
    let end = poll(
        "a second after the last PLI",
        Duration::from_secs(30),
        || {
            let end = last + MIN_INTERVAL + WATCH;
            (Instant::now() > end && frames[rid].between(last, end).len() >= 10).then_some(end)
        },
    );
    let keyframes: Vec<Instant> = frames[rid]
        .keyframes_after(start)
        .into_iter()
        .filter(|t| *t <= end)
        .collect();
    let gaps: Vec<Duration> = keyframes.windows(2).map(|w| w[1] - w[0]).collect();
    let outcome = |o: KeyframeOutcome| plis.iter().filter(|p| p.1 == o).count();
    let stats = call.leg.keyframe_stats(rid).unwrap();
    println!(
        "{} PLIs asked for in {asked_for:?}, arrived over {:?}: {} forced, {} deferred, {} merged",
        plis.len(),
        last - first,
        outcome(KeyframeOutcome::Forced),
        outcome(KeyframeOutcome::Deferred),
        outcome(KeyframeOutcome::Merged),
    );
    println!(
        "{rid}: {} keyframes, the first {:?} after the first PLI, gaps {gaps:?}",
        keyframes.len(),
        keyframes
            .first()
            .map(|t| t.saturating_duration_since(first)),
    );
    println!("{rid}: before {stats_before:?}\n{rid}: after  {stats:?}");
    assert_eq!(plis.len(), 20, "{plis:?}");
    assert_eq!(stats.plis - stats_before.plis, 20);
    // one keyframe per interval at most: the first at once, then one per 300 ms while PLIs
    // come, then the last waiting one
    let most = (last - first).as_millis() / MIN_INTERVAL.as_millis() + 2;
    assert!(!keyframes.is_empty(), "no keyframe for a storm of PLIs");
    // every PLI is answered: a keyframe left after the last one arrived
    assert!(
        keyframes.last().is_some_and(|k| *k > last),
        "no keyframe after the last PLI"
    );
    assert!(
        keyframes.len() as u128 <= most,
        "{} keyframes for PLIs over {:?} (at most {most})",
        keyframes.len(),
        last - first
    );
    // forced ≥ 300 ms apart; a keyframe leaves the encoder 1–2 frames after it is forced,
    // so two of them can come a frame or two closer than that
    for gap in &gaps {
        assert!(
            *gap >= MIN_INTERVAL - Duration::from_millis(100),
            "keyframes {gap:?} apart: {gaps:?}"
        );
    }
    assert_eq!(
        (stats.forced - stats_before.forced) as usize,
        keyframes.len(),
        "{stats:?}"
    );
    // no keyframe on the other layers
    for other in ["q", "f"] {
        let window = frames[other].between(start, end);
        let keys = window.iter().filter(|f| f.1).count();
        println!("{other}: {} frames, {keys} keyframes", window.len());
        assert_eq!(keys, 0, "{other}: keyframes during a storm on {rid}");
        assert!(requests(&call, other, KeyframeCause::Pli).is_empty());
    }
}
