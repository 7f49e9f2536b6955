//! One virtual stream toward a receiver: which source and layer it carries, and the rewrite
//! that makes a spliced sequence of sources and layers look like one continuous stream
//! (meet-side.md §3.3, §5.b: "switch only on keyframe of the target RID after sending PLI;
//! rewrite seq/ts/PictureID").
//!
//! Sans-IO: [`VideoSlot::on_packet`] takes what arrived and says what to send. Packets are
//! forwarded in arrival order, so the outgoing sequence number simply counts up.

use std::time::{Duration, Instant};

use super::vp8::Vp8Packet;

/// A switch leaves this gap in the outgoing RTP timestamp (one frame at 30 fps, 90 kHz).
const VIDEO_SWITCH_TS_GAP: u32 = 3000;
/// A switch leaves this gap in the outgoing audio timestamp (20 ms at 48 kHz).
const AUDIO_SWITCH_TS_GAP: u32 = 960;
/// Keyframe requests for one slot are at least this far apart.
pub const PLI_INTERVAL: Duration = Duration::from_millis(300);

/// What to do with one incoming packet for one slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not for this slot now.
    Drop,
    /// Not yet: the slot waits for a key frame of `rid`; ask the source for one.
    RequestKeyframe(String),
    /// Send it with these header fields.
    Forward(Rewrite),
}

/// The rewritten fields of a forwarded packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// Outgoing (extended) sequence number.
    pub seq: u64,
    /// Outgoing RTP timestamp.
    pub timestamp: u32,
    /// Outgoing PictureID, for VP8 with one.
    pub picture_id: Option<u16>,
    /// `Some(previous RID)` when this packet is the first of a new layer or source.
    pub switched_from: Option<Option<String>>,
}

/// Sequence-number and timestamp continuity across splices; shared by video and audio.
#[derive(Clone, Debug, Default)]
struct Splice {
    next_seq: u64,
    ts_offset: u32,
    last_ts: Option<u32>,
    pic_offset: u16,
    last_pic: Option<u16>,
}

impl Splice {
    fn restart(&mut self, in_ts: u32, in_pic: Option<u16>, modulus: u16, gap: u32) {
        self.ts_offset = match self.last_ts {
            Some(last) => last.wrapping_add(gap).wrapping_sub(in_ts),
            None => 0,
        };
        if let Some(pic) = in_pic {
            self.pic_offset = match self.last_pic {
                Some(last) => (last + 1).wrapping_sub(pic) % modulus,
                None => 0,
            };
        }
    }

    fn rewrite(
        &mut self,
        in_ts: u32,
        in_pic: Option<u16>,
        modulus: u16,
    ) -> (u64, u32, Option<u16>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let ts = in_ts.wrapping_add(self.ts_offset);
        self.last_ts = Some(ts);
        let pic = in_pic.map(|p| p.wrapping_add(self.pic_offset) % modulus);
        if pic.is_some() {
            self.last_pic = pic;
        }
        (seq, ts, pic)
    }
}

/// One virtual video stream of a receiver.
#[derive(Clone, Debug, Default)]
pub struct VideoSlot {
    /// The source participant now assigned, if any.
    pub source: Option<i64>,
    /// The RID being forwarded (after a key frame of it).
    pub current_rid: Option<String>,
    splice: Splice,
    last_request: Option<Instant>,
    /// Packets sent on this slot.
    pub packets: u64,
}

impl VideoSlot {
    /// A new source (or none): forwarding stops until a key frame of the new source.
    pub fn set_source(&mut self, source: Option<i64>) {
        if self.source != source {
            self.source = source;
            self.current_rid = None;
        }
    }

    /// A packet of the slot's source on layer `rid` arrived at `now`; `target` is the layer
    /// the slot should carry.
    pub fn on_packet(
        &mut self,
        now: Instant,
        rid: &str,
        target: &str,
        timestamp: u32,
        vp8: &Vp8Packet,
    ) -> Decision {
        let on_current = self.current_rid.as_deref() == Some(rid);
        if rid == target && !on_current {
            if vp8.keyframe {
                let from = self.current_rid.replace(rid.to_owned());
                let modulus = vp8.picture_id_modulus();
                self.splice
                    .restart(timestamp, vp8.picture_id, modulus, VIDEO_SWITCH_TS_GAP);
                return Decision::Forward(self.forward(timestamp, vp8, Some(from)));
            }
            return self.request(now, rid);
        }
        if on_current {
            return Decision::Forward(self.forward(timestamp, vp8, None));
        }
        Decision::Drop
    }

    /// The receiver asked for a key frame: request one of the layer carried, or of the
    /// target when none is yet.
    pub fn request(&mut self, now: Instant, rid: &str) -> Decision {
        let due = self
            .last_request
            .is_none_or(|at| now.saturating_duration_since(at) >= PLI_INTERVAL);
        if due {
            self.last_request = Some(now);
            Decision::RequestKeyframe(rid.to_owned())
        } else {
            Decision::Drop
        }
    }

    fn forward(
        &mut self,
        timestamp: u32,
        vp8: &Vp8Packet,
        switched_from: Option<Option<String>>,
    ) -> Rewrite {
        self.packets += 1;
        let (seq, timestamp, picture_id) =
            self.splice
                .rewrite(timestamp, vp8.picture_id, vp8.picture_id_modulus());
        Rewrite {
            seq,
            timestamp,
            picture_id,
            switched_from,
        }
    }
}

/// One virtual audio stream of a receiver.
#[derive(Clone, Debug, Default)]
pub struct AudioSlot {
    /// The source participant now carried, if any.
    pub source: Option<i64>,
    splice: Splice,
    /// Packets sent on this slot.
    pub packets: u64,
}

impl AudioSlot {
    /// Carry `source` from now on.
    pub fn set_source(&mut self, source: Option<i64>) {
        self.source = source;
    }

    /// A packet of the slot's source: the outgoing sequence number and timestamp.
    pub fn forward(&mut self, timestamp: u32, first_of_source: bool) -> (u64, u32) {
        if first_of_source {
            self.splice.restart(timestamp, None, 1, AUDIO_SWITCH_TS_GAP);
        }
        self.packets += 1;
        let (seq, ts, _) = self.splice.rewrite(timestamp, None, 1);
        (seq, ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(keyframe: bool, picture_id: u16) -> Vp8Packet {
        let mut p = vec![0x90, 0x80, 0x80 | (picture_id >> 8) as u8, picture_id as u8];
        p.push(if keyframe { 0x10 } else { 0x11 });
        p.extend([0; 12]);
        Vp8Packet::parse(&p).unwrap()
    }

    #[test]
    fn waits_for_a_keyframe_of_the_target_then_switches_on_it() {
        let now = Instant::now();
        let mut slot = VideoSlot::default();
        slot.set_source(Some(7));
        assert_eq!(
            slot.on_packet(now, "f", "f", 1000, &packet(false, 10)),
            Decision::RequestKeyframe("f".into())
        );
        // a second request inside the interval is suppressed
        assert_eq!(
            slot.on_packet(now, "f", "f", 1000, &packet(false, 10)),
            Decision::Drop
        );
        let Decision::Forward(first) = slot.on_packet(now, "f", "f", 4000, &packet(true, 11))
        else {
            panic!("keyframe not forwarded");
        };
        assert_eq!(first.seq, 0);
        assert_eq!(first.switched_from, Some(None));
        // other layers are dropped while f is carried
        assert_eq!(
            slot.on_packet(now, "q", "f", 9, &packet(true, 3)),
            Decision::Drop
        );
    }

    #[test]
    fn a_layer_switch_keeps_seq_ts_and_picture_id_continuous() {
        let now = Instant::now();
        let mut slot = VideoSlot::default();
        slot.set_source(Some(7));
        let Decision::Forward(a) = slot.on_packet(now, "q", "q", 50_000, &packet(true, 100)) else {
            panic!()
        };
        let Decision::Forward(b) = slot.on_packet(now, "q", "q", 53_000, &packet(false, 101))
        else {
            panic!()
        };
        assert_eq!((b.seq, b.timestamp.wrapping_sub(a.timestamp)), (1, 3000));
        // target becomes f: q still flows until f's keyframe, which continues the numbering
        let later = now + PLI_INTERVAL;
        assert_eq!(
            slot.on_packet(later, "f", "f", 777, &packet(false, 9000)),
            Decision::RequestKeyframe("f".into())
        );
        let Decision::Forward(c) = slot.on_packet(later, "q", "f", 56_000, &packet(false, 102))
        else {
            panic!()
        };
        let Decision::Forward(d) = slot.on_packet(later, "f", "f", 900, &packet(true, 9001)) else {
            panic!()
        };
        assert_eq!(d.seq, c.seq + 1);
        assert_eq!(d.timestamp, c.timestamp.wrapping_add(3000));
        assert_eq!(d.picture_id, Some(c.picture_id.unwrap() + 1));
        assert_eq!(d.switched_from, Some(Some("q".into())));
    }
}
