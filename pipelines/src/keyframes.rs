//! Per-layer keyframe requests: rate-limited, merged, and dropped once answered.
//!
//! Sans-IO: time comes in as `now`. A request is forced on the layer's encoder at once unless a
//! keyframe was forced on that layer less than the minimum interval ago; then it waits, and
//! is dropped if a keyframe leaves the encoder after it arrived (that keyframe answers it),
//! or forced when the interval has passed ([`KeyframeLimiter::poll`]). Requests that arrive
//! while one waits are merged into it. This keeps a PLI storm from Meet from turning into a
//! keyframe storm (media.md §5, mediasoup and FreeSWITCH experience).

use std::time::{Duration, Instant};

use crate::events::{KeyframeCause, KeyframeOutcome};

/// Counters of one layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyframeStats {
    /// PLIs received for the layer.
    pub plis: u64,
    /// FIRs received for the layer.
    pub firs: u64,
    /// Keyframes forced on the encoder (requests answered at once, waited requests, and the
    /// keyframes at connection).
    pub forced: u64,
    /// Requests that had to wait for the interval.
    pub deferred: u64,
    /// Requests merged into one already waiting.
    pub merged: u64,
    /// Waiting requests dropped because a keyframe went out after they arrived.
    pub answered: u64,
    /// Keyframes that left the encoder (forced or not).
    pub keyframes_out: u64,
}

#[derive(Clone, Debug, Default)]
struct Gate {
    last_forced: Option<Instant>,
    waiting_since: Option<Instant>,
    stats: KeyframeStats,
}

/// The keyframe gates of every layer, by layer index.
#[derive(Clone, Debug)]
pub struct KeyframeLimiter {
    min_interval: Duration,
    gates: Vec<Gate>,
}

impl KeyframeLimiter {
    /// `layers` gates, forcing at most one keyframe per `min_interval` on each.
    pub fn new(layers: usize, min_interval: Duration) -> Self {
        Self {
            min_interval,
            gates: vec![Gate::default(); layers],
        }
    }

    /// A request for a keyframe on `layer`. On [`KeyframeOutcome::Forced`] the caller forces
    /// one on that layer's encoder now. [`KeyframeCause::Connected`] always forces.
    pub fn request(&mut self, layer: usize, cause: KeyframeCause, now: Instant) -> KeyframeOutcome {
        let min_interval = self.min_interval;
        let Some(gate) = self.gates.get_mut(layer) else {
            return KeyframeOutcome::Merged;
        };
        match cause {
            KeyframeCause::Pli => gate.stats.plis += 1,
            KeyframeCause::Fir => gate.stats.firs += 1,
            KeyframeCause::Connected => {
                gate.waiting_since = None;
                gate.last_forced = Some(now);
                gate.stats.forced += 1;
                return KeyframeOutcome::Forced;
            }
        }
        if gate.waiting_since.is_some() {
            gate.stats.merged += 1;
            return KeyframeOutcome::Merged;
        }
        let due = gate
            .last_forced
            .is_none_or(|at| now.saturating_duration_since(at) >= min_interval);
        if due {
            gate.last_forced = Some(now);
            gate.stats.forced += 1;
            KeyframeOutcome::Forced
        } else {
            gate.waiting_since = Some(now);
            gate.stats.deferred += 1;
            KeyframeOutcome::Deferred
        }
    }

    /// A keyframe left `layer`'s encoder at `now`: it answers a request waiting since then.
    pub fn keyframe_sent(&mut self, layer: usize, now: Instant) {
        if let Some(gate) = self.gates.get_mut(layer) {
            gate.stats.keyframes_out += 1;
            if gate.waiting_since.is_some_and(|since| since <= now) {
                gate.waiting_since = None;
                gate.stats.answered += 1;
            }
        }
    }

    /// Whether a waiting request on `layer` is due now; if so the caller forces a keyframe.
    pub fn poll(&mut self, layer: usize, now: Instant) -> bool {
        let min_interval = self.min_interval;
        let Some(gate) = self.gates.get_mut(layer) else {
            return false;
        };
        let due = gate.waiting_since.is_some()
            && gate
                .last_forced
                .is_none_or(|at| now.saturating_duration_since(at) >= min_interval);
        if due {
            gate.waiting_since = None;
            gate.last_forced = Some(now);
            gate.stats.forced += 1;
        }
        due
    }

    /// The counters of `layer`.
    pub fn stats(&self, layer: usize) -> KeyframeStats {
        self.gates.get(layer).map(|g| g.stats).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_first_request_forces_and_a_second_within_the_interval_waits() {
        let t0 = Instant::now();
        let mut gates = KeyframeLimiter::new(3, 300 * MS);
        assert_eq!(
            gates.request(2, KeyframeCause::Pli, t0),
            KeyframeOutcome::Forced
        );
        assert_eq!(
            gates.request(2, KeyframeCause::Pli, t0 + 100 * MS),
            KeyframeOutcome::Deferred
        );
        assert_eq!(
            gates.request(2, KeyframeCause::Fir, t0 + 150 * MS),
            KeyframeOutcome::Merged
        );
        // other layers are independent
        assert_eq!(
            gates.request(0, KeyframeCause::Pli, t0 + 100 * MS),
            KeyframeOutcome::Forced
        );
        assert!(!gates.poll(2, t0 + 299 * MS));
        assert!(gates.poll(2, t0 + 300 * MS));
        assert!(!gates.poll(2, t0 + 400 * MS));
        let s = gates.stats(2);
        assert_eq!(
            (s.plis, s.firs, s.forced, s.deferred, s.merged),
            (2, 1, 2, 1, 1)
        );
    }

    #[test]
    fn a_keyframe_sent_after_a_waiting_request_answers_it() {
        let t0 = Instant::now();
        let mut gates = KeyframeLimiter::new(1, 300 * MS);
        gates.request(0, KeyframeCause::Pli, t0);
        gates.request(0, KeyframeCause::Pli, t0 + 10 * MS);
        // the keyframe forced at t0 leaves the encoder at t0 + 30 ms
        gates.keyframe_sent(0, t0 + 30 * MS);
        assert!(!gates.poll(0, t0 + 400 * MS));
        let s = gates.stats(0);
        assert_eq!((s.forced, s.answered, s.keyframes_out), (1, 1, 1));
    }

    #[test]
    fn connecting_forces_regardless_of_the_interval() {
        let t0 = Instant::now();
        let mut gates = KeyframeLimiter::new(1, 300 * MS);
        gates.request(0, KeyframeCause::Pli, t0);
        assert_eq!(
            gates.request(0, KeyframeCause::Connected, t0 + MS),
            KeyframeOutcome::Forced
        );
        assert_eq!(gates.stats(0).forced, 2);
    }
}
