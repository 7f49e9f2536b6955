//! Transaction timer values (RFC 3261 §17 and Table 4 of Appendix A; RFC 6026 §8.7 for L and M).

use std::time::Duration;

/// The three base values every transaction timer derives from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// T1, the round-trip estimate: 500 ms (RFC 3261 §17.1.1.1).
    pub t1: Duration,
    /// T2, the cap on non-INVITE and response retransmission intervals: 4 s.
    pub t2: Duration,
    /// T4, how long a message can stay in the network: 5 s.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J (unreliable), L and M.
    pub fn transaction_timeout(&self) -> Duration {
        self.t1 * 64
    }

    /// Timer D: ≥ 32 s over unreliable transports, 0 over reliable ones (§17.1.1.2).
    pub fn timer_d(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            Duration::from_secs(32).max(self.transaction_timeout() / 2)
        }
    }

    /// Timers I and K: T4 over unreliable transports, 0 over reliable ones (§17.2.1, §17.1.2.2).
    pub fn timer_i_k(&self, reliable: bool) -> Duration {
        if reliable { Duration::ZERO } else { self.t4 }
    }

    /// Timer J: 64·T1 over unreliable transports, 0 over reliable ones (§17.2.2).
    pub fn timer_j(&self, reliable: bool) -> Duration {
        if reliable {
            Duration::ZERO
        } else {
            self.transaction_timeout()
        }
    }

    /// The next retransmission interval after `current`: doubled, capped at T2 when `capped`
    /// (Timers E and G); Timer A doubles without a cap (§17.1.1.2).
    pub fn back_off(&self, current: Duration, capped: bool) -> Duration {
        let doubled = current * 2;
        if capped {
            doubled.min(self.t2)
        } else {
            doubled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_values() {
        let t = TimerConfig::default();
        assert_eq!(t.transaction_timeout(), Duration::from_secs(32));
        assert_eq!(t.timer_d(false), Duration::from_secs(32));
        assert_eq!(t.timer_d(true), Duration::ZERO);
        assert_eq!(t.timer_i_k(false), Duration::from_secs(5));
        assert_eq!(t.timer_j(false), Duration::from_secs(32));
        // Timer E: 500 ms, 1 s, 2 s, 4 s, 4 s …
        let mut e = t.t1;
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(e.as_millis());
            e = t.back_off(e, true);
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 4000]);
        // Timer A keeps doubling.
        assert_eq!(
            t.back_off(Duration::from_secs(4), false),
            Duration::from_secs(8)
        );
    }
}
