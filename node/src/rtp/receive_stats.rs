//! Reception statistics of one RTP source, as RFC 3550 appendix A computes them: the extended
//! highest sequence number and the sequence-number checks of A.1, the expected and lost counts
//! of A.3 (cumulative, and the fraction since the last report), and the interarrival jitter of
//! A.8, in the payload's clock (90 kHz video, 8 kHz G.711 and G.722, 48 kHz Opus).
//!
//! One [`SourceStats`] follows one SSRC; a new SSRC (or a sequence restart) starts a new one.

use std::ops::Range;
use std::time::Instant;

/// A.1's `MAX_DROPOUT`: a forward jump of less than this is a gap, not a restart.
pub const MAX_DROPOUT: u16 = 3000;
/// A.1's `MAX_MISORDER`: a packet up to this far behind the highest is a late packet.
pub const MAX_MISORDER: u16 = 100;

/// What the sequence number of one packet of the followed source says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SequenceOutcome {
    /// At or ahead of the highest so far; `missing` is the (possibly empty) range of extended
    /// sequence numbers it skipped.
    InOrder {
        /// Its extended sequence number.
        extended: u64,
        /// The extended numbers skipped between the previous highest and this one.
        missing: Range<u64>,
    },
    /// Behind the highest (reordered or duplicated).
    Late {
        /// Its extended sequence number.
        extended: u64,
    },
    /// A jump of [`MAX_DROPOUT`] or more: dropped, unless the next packet follows it.
    Jump,
    /// The packet after a jump followed it: the source restarted its numbering, and the
    /// statistics start again from it.
    Restarted,
}

/// One report block's worth of figures (RFC 3550 §6.4.1), computed at the time of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportFigures {
    /// Packets lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Packets lost since the start, clamped to the 24-bit signed field.
    pub cumulative_lost: i32,
    /// The extended highest sequence number received.
    pub extended_highest: u32,
    /// The interarrival jitter, in clock units.
    pub jitter: u32,
}

/// The statistics of one source.
#[derive(Clone, Debug)]
pub struct SourceStats {
    clock_rate: u32,
    /// The reference for arrival times in clock units.
    epoch: Instant,
    base_seq: u64,
    max_seq: u16,
    /// Wraps of the sequence number, times 65536.
    cycles: u64,
    /// The sequence number that would confirm a jump (A.1's `bad_seq`); `None` until a jump.
    bad_seq: Option<u16>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// The last relative transit time, in clock units.
    transit: Option<u32>,
    /// The jitter estimate times 16 (A.8's integer form), in 64 bits: with transit
    /// differences near 2^31 (a peer's timestamps jumping about) it outgrows 32.
    jitter_x16: u64,
}

impl SourceStats {
    /// Starts following a source at its packet numbered `seq`, which arrived at `arrival` with
    /// `timestamp`; that packet is counted.
    pub fn new(seq: u16, timestamp: u32, arrival: Instant, clock_rate: u32) -> Self {
        let mut stats = Self {
            clock_rate: clock_rate.max(1),
            epoch: arrival,
            base_seq: u64::from(seq),
            max_seq: seq,
            cycles: 0,
            bad_seq: None,
            received: 1,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter_x16: 0,
        };
        stats.jitter(timestamp, arrival);
        stats
    }

    /// Counts a packet of the source (A.1 `update_seq`): what its sequence number says, and,
    /// unless it is a dropped jump, its contribution to the jitter.
    pub fn update(&mut self, seq: u16, timestamp: u32, arrival: Instant) -> SequenceOutcome {
        let delta = seq.wrapping_sub(self.max_seq);
        let outcome = if delta < MAX_DROPOUT {
            let before = self.extended_highest();
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
            let extended = self.extended_highest();
            SequenceOutcome::InOrder {
                extended,
                missing: (before + 1).min(extended)..extended,
            }
        } else if delta <= u16::MAX - MAX_MISORDER + 1 {
            if self.bad_seq == Some(seq) {
                // Two sequential packets after a jump: the source restarted (A.1).
                *self = Self::new(seq, timestamp, arrival, self.clock_rate);
                return SequenceOutcome::Restarted;
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return SequenceOutcome::Jump;
        } else {
            // Behind the highest: in this cycle, or (when the highest has just wrapped) the
            // previous one.
            let mut extended = self.cycles + u64::from(seq);
            if seq > self.max_seq {
                extended = extended.saturating_sub(1 << 16);
            }
            SequenceOutcome::Late { extended }
        };
        self.received += 1;
        self.jitter(timestamp, arrival);
        outcome
    }

    /// A.8: the jitter estimate moves 1/16 of the way to the difference of transit times.
    fn jitter(&mut self, timestamp: u32, arrival: Instant) {
        let elapsed = arrival.saturating_duration_since(self.epoch).as_nanos();
        // Arrival in clock units, modulo 2^32 like the RTP timestamp.
        let ticks = (elapsed * u128::from(self.clock_rate) / 1_000_000_000) as u32;
        let transit = ticks.wrapping_sub(timestamp);
        if let Some(last) = self.transit {
            let d = u64::from((transit.wrapping_sub(last) as i32).unsigned_abs());
            // J += (|D| - J) / 16, in the form scaled by 16.
            self.jitter_x16 = self.jitter_x16 + d - ((self.jitter_x16 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// The extended highest sequence number received.
    pub fn extended_highest(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected: from the first to the highest sequence number.
    pub fn expected(&self) -> u64 {
        self.extended_highest() + 1 - self.base_seq
    }

    /// Packets received (late and duplicated ones included, as in A.3).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets lost since the start: expected less received; negative with duplicates.
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// The interarrival jitter, in clock units.
    pub fn jitter_units(&self) -> u32 {
        u32::try_from(self.jitter_x16 >> 4).unwrap_or(u32::MAX)
    }

    /// The interarrival jitter in seconds.
    pub fn jitter_seconds(&self) -> f64 {
        f64::from(self.jitter_units()) / f64::from(self.clock_rate)
    }

    /// The clock rate the jitter is counted in.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// The figures of a report block, and the start of the next reporting interval (A.3).
    pub fn report(&mut self) -> ReportFigures {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        ReportFigures {
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            extended_highest: self.extended_highest() as u32,
            jitter: self.jitter_units(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_gap_is_lost_and_reported_as_a_fraction_once() {
        let t0 = Instant::now();
        let mut s = SourceStats::new(100, 0, t0, 8000);
        for seq in 101..=109 {
            let out = s.update(seq, 0, t0);
            assert!(
                matches!(out, SequenceOutcome::InOrder { ref missing, .. } if missing.is_empty())
            );
        }
        // 110 and 111 are lost.
        assert_eq!(
            s.update(112, 0, t0),
            SequenceOutcome::InOrder {
                extended: 112,
                missing: 110..112
            }
        );
        assert_eq!((s.expected(), s.received(), s.lost()), (13, 11, 2));
        let first = s.report();
        // 2 of 13: 2 * 256 / 13 = 39.
        assert_eq!(
            first,
            ReportFigures {
                fraction_lost: 39,
                cumulative_lost: 2,
                extended_highest: 112,
                jitter: 0
            }
        );
        // A late packet fills one of the holes: the next interval has a negative loss (0).
        assert_eq!(
            s.update(110, 0, t0),
            SequenceOutcome::Late { extended: 110 }
        );
        s.update(113, 0, t0);
        let second = s.report();
        assert_eq!((second.fraction_lost, second.cumulative_lost), (0, 1));
    }

    #[test]
    fn sequence_wraps_extend_the_highest_number() {
        let t0 = Instant::now();
        let mut s = SourceStats::new(65_534, 0, t0, 90_000);
        s.update(65_535, 0, t0);
        assert_eq!(
            s.update(1, 0, t0),
            SequenceOutcome::InOrder {
                extended: 65_537,
                missing: 65_536..65_537
            }
        );
        assert_eq!(
            s.update(0, 0, t0),
            SequenceOutcome::Late { extended: 65_536 }
        );
        assert_eq!((s.expected(), s.lost()), (4, 0));
        assert_eq!(s.report().extended_highest, 65_537);
    }

    #[test]
    fn a_jump_is_dropped_unless_confirmed_by_the_next_packet() {
        let t0 = Instant::now();
        let mut s = SourceStats::new(10, 0, t0, 8000);
        assert_eq!(s.update(20_000, 0, t0), SequenceOutcome::Jump);
        assert_eq!(
            s.update(11, 0, t0),
            SequenceOutcome::InOrder {
                extended: 11,
                missing: 11..11
            }
        );
        assert_eq!(s.update(30_000, 0, t0), SequenceOutcome::Jump);
        assert_eq!(s.update(30_001, 0, t0), SequenceOutcome::Restarted);
        assert_eq!(
            (s.expected(), s.received(), s.extended_highest()),
            (1, 1, 30_001)
        );
    }

    #[test]
    fn jitter_follows_a8_by_hand() {
        // 8 kHz, 20 ms packets (160 units). Arrivals: 0, 20, 45, 60, 80 ms.
        // Transit differences |D|: 0, 40 (5 ms late), 40 (5 ms early), 0.
        // J (x16): 0 -> 0; +40 -> 40 - (0+8)>>4 = 40; +40 -> 40+40 - (40+8)>>4 = 77;
        //          +0 -> 77 - (77+8)>>4 = 72. J = 72 >> 4 = 4 units = 0.5 ms.
        let t0 = Instant::now();
        let mut s = SourceStats::new(1, 1000, t0, 8000);
        for (i, arrival) in [20, 45, 60, 80].into_iter().enumerate() {
            let i = i as u32 + 1;
            s.update(1 + i as u16, 1000 + 160 * i, ms(t0, arrival));
        }
        assert_eq!(s.jitter_x16, 72);
        assert_eq!(s.jitter_units(), 4);
        assert!((s.jitter_seconds() - 0.0005).abs() < 1e-9);
        // 90 kHz: one packet 10 ms late (900 units) after steady ones.
        let mut v = SourceStats::new(1, 0, t0, 90_000);
        v.update(2, 2970, ms(t0, 33 + 10));
        // |D| = 900: J x16 = 900 -> J = 56 units.
        assert_eq!(v.jitter_units(), 56);
    }
}
