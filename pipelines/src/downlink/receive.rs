//! What arrives from Meet on each SSRC, counted as it is pushed (before the jitter buffer):
//! packets and bytes, packets lost from the sequence numbers (RFC 3550 A.3) and the
//! interarrival jitter (RFC 3550 A.8), for the node's view of the call's streams.

use std::collections::BTreeMap;
use std::time::Instant;

/// SSRCs followed at most; Meet sends up to 8 video and 3 audio streams, and packets of
/// further SSRCs are not counted here.
const MAX_TRACKED: usize = 32;

/// What arrived on one SSRC from Meet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReceivedFigures {
    /// Video (VP8) or audio (Opus).
    pub video: bool,
    /// RTP packets pushed.
    pub packets: u64,
    /// Their bytes, RTP headers included.
    pub bytes: u64,
    /// Packets expected from the sequence numbers: highest extended number − first + 1.
    pub expected: u64,
    /// Expected less received (negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter, in milliseconds.
    pub jitter_ms: f64,
}

/// One SSRC's counters.
#[derive(Debug)]
struct Tracker {
    figures: ReceivedFigures,
    clock_rate: f64,
    /// First and highest extended sequence numbers.
    base: i64,
    highest: i64,
    /// The last packet's arrival (in clock units since `epoch`) and RTP timestamp.
    last: (f64, u32),
    /// Jitter in clock units.
    jitter: f64,
    epoch: Instant,
}

/// The trackers of every SSRC.
#[derive(Debug, Default)]
pub(crate) struct Received {
    trackers: BTreeMap<u32, Tracker>,
}

impl Received {
    /// Counts `packet` (an RTP packet of `ssrc`), arrived at `now`. Too short for an RTP
    /// header: not counted (the graph counts it as dropped).
    pub(crate) fn on_packet(&mut self, ssrc: u32, video: bool, packet: &[u8], now: Instant) {
        let (Some(seq), Some(ts)) = (packet.get(2..4), packet.get(4..8)) else {
            return;
        };
        if packet.len() < 12 {
            return;
        }
        let seq = i64::from(u16::from_be_bytes([seq[0], seq[1]]));
        let ts = u32::from_be_bytes([ts[0], ts[1], ts[2], ts[3]]);
        if !self.trackers.contains_key(&ssrc) && self.trackers.len() >= MAX_TRACKED {
            return;
        }
        let t = self.trackers.entry(ssrc).or_insert_with(|| Tracker {
            figures: ReceivedFigures {
                video,
                ..ReceivedFigures::default()
            },
            clock_rate: if video { 90_000.0 } else { 48_000.0 },
            base: seq,
            highest: seq,
            last: (0.0, ts),
            jitter: 0.0,
            epoch: now,
        });
        let arrival = now.duration_since(t.epoch).as_secs_f64() * t.clock_rate;
        if t.figures.packets > 0 {
            // RFC 3550 A.8: D = (arrival_i − arrival_j) − (ts_i − ts_j), J += (|D| − J) / 16.
            let sent = f64::from(ts.wrapping_sub(t.last.1) as i32);
            let d = (arrival - t.last.0) - sent;
            t.jitter += (d.abs() - t.jitter) / 16.0;
            // The extended sequence number nearest the highest so far (A.1's wrap handling).
            let mut extended = (t.highest & !0xffff) | seq;
            if extended < t.highest - 0x8000 {
                extended += 0x1_0000;
            } else if extended > t.highest + 0x8000 {
                extended -= 0x1_0000;
            }
            t.highest = t.highest.max(extended);
            t.base = t.base.min(extended);
        }
        t.last = (arrival, ts);
        t.figures.packets += 1;
        t.figures.bytes += packet.len() as u64;
        t.figures.expected = u64::try_from(t.highest - t.base + 1).unwrap_or(0);
        t.figures.lost = i64::try_from(t.figures.expected).unwrap_or(i64::MAX)
            - i64::try_from(t.figures.packets).unwrap_or(i64::MAX);
        t.figures.jitter_ms = t.jitter / t.clock_rate * 1000.0;
    }

    /// Every SSRC's figures.
    pub(crate) fn figures(&self) -> BTreeMap<u32, ReceivedFigures> {
        self.trackers
            .iter()
            .map(|(ssrc, t)| (*ssrc, t.figures))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn packet(seq: u16, ts: u32) -> Vec<u8> {
        let mut p = vec![0x80, 96];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend_from_slice(&[0; 88]);
        p
    }

    #[test]
    fn loss_across_the_wrap_and_steady_jitter() {
        let mut received = Received::default();
        let start = Instant::now();
        // 30 fps at 90 kHz, sent and received on time, across the sequence wrap, one lost.
        for (i, seq) in [65_533u16, 65_534, 65_535, 0, 2, 3].into_iter().enumerate() {
            let i = u32::try_from(i).unwrap();
            let at = start + Duration::from_micros(33_333 * u64::from(i));
            received.on_packet(7, true, &packet(seq, 3000 * i), at);
        }
        let f = received.figures()[&7];
        assert_eq!((f.packets, f.bytes, f.expected, f.lost), (6, 600, 7, 1));
        assert!(f.jitter_ms < 0.1, "{f:?}");
        // A packet 20 ms late: jitter grows by about 20/16 ms.
        received.on_packet(
            7,
            true,
            &packet(4, 3000 * 6),
            start + Duration::from_micros(33_333 * 6 + 20_000),
        );
        let j = received.figures()[&7].jitter_ms;
        assert!((1.0..1.5).contains(&j), "{j}");
        // Too short: not counted.
        received.on_packet(8, false, &[0x80, 111, 0, 1], start);
        assert!(!received.figures().contains_key(&8));
    }
}
