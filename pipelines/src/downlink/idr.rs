//! When to force an IDR: the start-of-call IDRs, and requests (a VTC's PLI/FIR) coalesced and
//! rate-limited. Pure logic with the time passed in; the tick thread polls it once per frame.
//!
//! Rules (`shared/docs/media.md` §3 and §5): at most one requested IDR per `min_interval`; a
//! request inside the interval is kept as *pending* and served when the interval ends; a request
//! arriving while one is pending is dropped (counted); any IDR that leaves the encoder, for
//! whatever reason, satisfies the pending request.

use std::time::{Duration, Instant};

use crate::downlink::spec::KeyframePolicy;

/// What became of one keyframe request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// Will be served at the next frame.
    Accepted,
    /// Inside the rate limit: served when the interval ends.
    Deferred,
    /// One is already pending: this one adds nothing.
    Dropped,
}

/// The IDR scheduler of one encoder.
#[derive(Debug)]
pub(crate) struct IdrScheduler {
    min_interval: Duration,
    start_idrs: Vec<Duration>,
    /// When the first frame went out (the start IDRs are offsets from it).
    started: Option<Instant>,
    next_start_idr: usize,
    last_idr: Option<Instant>,
    pending: bool,
}

impl IdrScheduler {
    pub(crate) fn new(policy: &KeyframePolicy) -> Self {
        let mut start_idrs = policy.start_idrs.clone();
        start_idrs.sort();
        Self {
            min_interval: policy.min_interval,
            start_idrs,
            started: None,
            next_start_idr: 0,
            last_idr: None,
            pending: false,
        }
    }

    /// A keyframe request at `now`.
    pub(crate) fn request(&mut self, now: Instant) -> Request {
        if self.pending {
            return Request::Dropped;
        }
        self.pending = true;
        if self.allowed(now) {
            Request::Accepted
        } else {
            Request::Deferred
        }
    }

    fn allowed(&self, now: Instant) -> bool {
        self.last_idr
            .is_none_or(|last| now.saturating_duration_since(last) >= self.min_interval)
    }

    /// Called for every output frame at `now`: whether this frame must be forced to an IDR.
    pub(crate) fn poll(&mut self, now: Instant) -> bool {
        let started = *self.started.get_or_insert(now);
        let mut force = false;
        while let Some(offset) = self.start_idrs.get(self.next_start_idr) {
            if now.saturating_duration_since(started) < *offset {
                break;
            }
            self.next_start_idr += 1;
            force = true;
        }
        if self.pending && self.allowed(now) {
            force = true;
        }
        if force {
            self.idr_sent(now);
        }
        force
    }

    /// An IDR left the encoder at `now` (forced or on its own): it serves any pending request.
    pub(crate) fn idr_sent(&mut self, now: Instant) {
        self.pending = false;
        self.last_idr = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(start: &[u64]) -> KeyframePolicy {
        KeyframePolicy {
            min_interval: Duration::from_secs(1),
            start_idrs: start.iter().map(|ms| Duration::from_millis(*ms)).collect(),
            max_gop_frames: 300,
        }
    }

    fn frames(s: &mut IdrScheduler, t0: Instant, from_ms: u64, to_ms: u64) -> Vec<u64> {
        (from_ms..to_ms)
            .step_by(33)
            .filter(|ms| s.poll(t0 + Duration::from_millis(*ms)))
            .collect()
    }

    #[test]
    fn start_idrs_at_their_offsets() {
        let t0 = Instant::now();
        let mut s = IdrScheduler::new(&policy(&[0, 1000, 2000]));
        let idrs = frames(&mut s, t0, 0, 5000);
        assert_eq!(idrs, vec![0, 1023, 2013]);
    }

    #[test]
    fn storm_is_coalesced_to_one_per_second() {
        let t0 = Instant::now();
        let mut s = IdrScheduler::new(&policy(&[]));
        assert!(!s.poll(t0));
        let mut outcomes = Vec::new();
        let mut idrs = Vec::new();
        for ms in 0..1000u64 {
            let now = t0 + Duration::from_millis(ms);
            if ms % 10 == 0 {
                outcomes.push(s.request(now));
            }
            if ms % 33 == 0 && s.poll(now) {
                idrs.push(ms);
            }
        }
        assert_eq!(outcomes[0], Request::Accepted);
        assert_eq!(idrs, vec![0]);
        // The second request waits for the interval; the rest are dropped while it waits.
        assert_eq!(outcomes[1], Request::Deferred);
        let dropped = outcomes.iter().filter(|o| **o == Request::Dropped).count();
        assert_eq!(dropped, 100 - 2);
        assert!(s.poll(t0 + Duration::from_millis(1000)));
        assert!(!s.poll(t0 + Duration::from_millis(1033)));
    }

    #[test]
    fn an_idr_going_out_serves_a_pending_request() {
        let t0 = Instant::now();
        let mut s = IdrScheduler::new(&policy(&[]));
        s.poll(t0);
        s.idr_sent(t0);
        assert_eq!(
            s.request(t0 + Duration::from_millis(100)),
            Request::Deferred
        );
        s.idr_sent(t0 + Duration::from_millis(500));
        assert!(!s.poll(t0 + Duration::from_millis(1100)));
        assert_eq!(
            s.request(t0 + Duration::from_millis(1200)),
            Request::Deferred
        );
        assert!(s.poll(t0 + Duration::from_millis(1500)));
    }
}
