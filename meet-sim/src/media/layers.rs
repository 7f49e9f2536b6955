//! What the sim measures of each simulcast layer (RID) a participant sends: packets, bytes,
//! frames, key frames, the resolution from the last key-frame header, and frame rate and
//! bitrate over a sliding window (meet-side.md §5.b "record per-RID resolution, fps,
//! bitrate").

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::vp8::Vp8Packet;

/// The window for frame rate and bitrate: 5 s, as the bitrate rule averages.
pub const RATE_WINDOW: Duration = Duration::from_secs(5);

/// A layer that someone needs and that has sent no key frame yet is asked for one again at
/// most this often, until one arrives ([`LayerStats::first_keyframe_due`]).
pub const FIRST_KEYFRAME_RETRY: Duration = Duration::from_millis(500);

/// Counters of one RID.
#[derive(Clone, Debug, Default)]
pub struct LayerStats {
    packets: u64,
    bytes: u64,
    frames: u64,
    keyframes: u64,
    size: Option<(u16, u16)>,
    last_at: Option<Instant>,
    /// When the sim last asked for this layer's first key frame.
    first_keyframe_asked: Option<Instant>,
    /// `(arrival, payload bytes, starts a frame)` within [`RATE_WINDOW`].
    window: VecDeque<(Instant, usize, bool)>,
}

/// What the control API shows of one RID.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerSnapshot {
    /// The RID.
    pub rid: String,
    /// RTP packets received.
    pub packets: u64,
    /// RTP payload bytes received.
    pub bytes: u64,
    /// Frames started.
    pub frames: u64,
    /// Key frames started.
    pub keyframes: u64,
    /// Width from the last key-frame header (0 before one arrived).
    pub width: u16,
    /// Height from the last key-frame header.
    pub height: u16,
    /// Frames per second over the last 5 s.
    pub fps: f64,
    /// Payload bit/s over the last 5 s.
    pub bitrate_bps: u64,
}

impl LayerStats {
    /// One packet of `bytes` payload bytes arrived at `now`.
    pub fn record(&mut self, now: Instant, bytes: usize, vp8: Option<&Vp8Packet>) {
        self.packets += 1;
        self.bytes += bytes as u64;
        let starts = vp8.is_some_and(|p| p.starts_frame);
        if starts {
            self.frames += 1;
        }
        if let Some(p) = vp8.filter(|p| p.keyframe) {
            self.keyframes += 1;
            if p.size.is_some() {
                self.size = p.size;
            }
        }
        self.last_at = Some(now);
        self.window.push_back((now, bytes, starts));
        self.expire(now);
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, _, _)) = self.window.front() {
            if now.saturating_duration_since(at) <= RATE_WINDOW {
                break;
            }
            self.window.pop_front();
        }
    }

    /// Packets received so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The resolution of the last key frame.
    pub fn size(&self) -> Option<(u16, u16)> {
        self.size
    }

    /// Whether to ask the sender for a key frame of this layer at `now`: none with a size has
    /// arrived yet (so the layer cannot be picked for anyone), and the last such request is
    /// [`FIRST_KEYFRAME_RETRY`] old or older. A request made before the sender's DTLS was up,
    /// or one the sender ignored, is so repeated until the key frame arrives. Records the
    /// request when it says yes.
    pub fn first_keyframe_due(&mut self, now: Instant) -> bool {
        let due = self.size.is_none()
            && self
                .first_keyframe_asked
                .is_none_or(|at| now.saturating_duration_since(at) >= FIRST_KEYFRAME_RETRY);
        if due {
            self.first_keyframe_asked = Some(now);
        }
        due
    }

    /// Whether a packet arrived within `within` before `now`.
    pub fn active(&self, now: Instant, within: Duration) -> bool {
        self.last_at
            .is_some_and(|at| now.saturating_duration_since(at) <= within)
    }

    /// Payload bit/s over the window ending at `now`.
    pub fn bitrate_bps(&mut self, now: Instant) -> u64 {
        self.expire(now);
        let bytes: usize = self.window.iter().map(|w| w.1).sum();
        (bytes as u64 * 8) / RATE_WINDOW.as_secs()
    }

    /// The snapshot for the control API.
    pub fn snapshot(&mut self, rid: &str, now: Instant) -> LayerSnapshot {
        let bitrate_bps = self.bitrate_bps(now);
        let frames = self.window.iter().filter(|w| w.2).count();
        let (width, height) = self.size.unwrap_or((0, 0));
        LayerSnapshot {
            rid: rid.to_owned(),
            packets: self.packets,
            bytes: self.bytes,
            frames: self.frames,
            keyframes: self.keyframes,
            width,
            height,
            fps: frames as f64 / RATE_WINDOW.as_secs_f64(),
            bitrate_bps,
        }
    }
}
