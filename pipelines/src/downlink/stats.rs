//! The downlink's counters: atomics bumped by the graph's threads, read as one snapshot.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::downlink::lock;
use crate::downlink::receive::{Received, ReceivedFigures};

/// A snapshot of a downlink's counters (see [`Downlink::stats`](crate::downlink::Downlink::stats)).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DownlinkStats {
    /// Canvas frames handed to the encoder by the fixed-rate tick.
    pub frames_composed: u64,
    /// Ticks skipped because the tick thread woke more than a frame late.
    pub ticks_skipped: u64,
    /// Encoded frames sent (RTP packets with the marker bit).
    pub frames_encoded: u64,
    /// Video RTP packets sent.
    pub video_packets: u64,
    /// IDR frames (H.264) or intra pictures (H.263, H.261) sent, forced or on the encoder's own
    /// GOP.
    pub keyframes_sent: u64,
    /// Keyframe requests received ([`Downlink::request_keyframe`](crate::downlink::Downlink::request_keyframe)).
    pub keyframe_requests: u64,
    /// Keyframe requests dropped because one was already pending.
    pub keyframe_requests_dropped: u64,
    /// Video RTP packets dropped before sending: larger than the MTU (any codec), or in H.264
    /// mode 0 not a single NAL unit.
    pub oversize_nals_dropped: u64,
    /// Decoded tile pictures drawn on the canvas (decoded and pushed frames).
    pub tiles_drawn: u64,
    /// VP8 packets dropped: SSRC unassigned, or more inputs than tiles.
    pub video_packets_dropped: u64,
    /// Opus packets dropped: more than 3 SSRCs.
    pub audio_packets_dropped: u64,
    /// Audio RTP packets sent.
    pub audio_packets: u64,
    /// Decoded frames per Meet video SSRC.
    pub frames_decoded: BTreeMap<u32, u64>,
    /// Decode errors (decoder warnings and errors) per Meet SSRC, video and audio.
    pub decode_errors: BTreeMap<u32, u64>,
    /// The size (width, height) of the latest picture decoded per Meet video SSRC.
    pub resolutions: BTreeMap<u32, (u32, u32)>,
    /// What arrived per Meet SSRC, video and audio: packets, bytes, loss, jitter.
    pub received: BTreeMap<u32, ReceivedFigures>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) frames_composed: AtomicU64,
    pub(crate) ticks_skipped: AtomicU64,
    pub(crate) frames_encoded: AtomicU64,
    pub(crate) video_packets: AtomicU64,
    pub(crate) keyframes_sent: AtomicU64,
    pub(crate) keyframe_requests: AtomicU64,
    pub(crate) keyframe_requests_dropped: AtomicU64,
    pub(crate) oversize_nals_dropped: AtomicU64,
    pub(crate) tiles_drawn: AtomicU64,
    pub(crate) video_packets_dropped: AtomicU64,
    pub(crate) audio_packets_dropped: AtomicU64,
    pub(crate) audio_packets: AtomicU64,
    pub(crate) frames_decoded: Mutex<BTreeMap<u32, u64>>,
    pub(crate) decode_errors: Mutex<BTreeMap<u32, u64>>,
    pub(crate) resolutions: Mutex<BTreeMap<u32, (u32, u32)>>,
    pub(crate) received: Mutex<Received>,
}

impl Counters {
    pub(crate) fn bump(&self, counter: &AtomicU64) {
        self.add(counter, 1);
    }

    pub(crate) fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn bump_ssrc(map: &Mutex<BTreeMap<u32, u64>>, ssrc: u32) {
        *lock(map).entry(ssrc).or_default() += 1;
    }

    /// Counts an RTP packet of `ssrc` pushed by the node.
    pub(crate) fn received(&self, ssrc: u32, video: bool, packet: &[u8]) {
        lock(&self.received).on_packet(ssrc, video, packet, Instant::now());
    }

    /// Counts a picture decoded from `ssrc` and keeps its size.
    pub(crate) fn decoded(&self, ssrc: u32, size: Option<(u32, u32)>) {
        Self::bump_ssrc(&self.frames_decoded, ssrc);
        if let Some(size) = size {
            lock(&self.resolutions).insert(ssrc, size);
        }
    }

    pub(crate) fn snapshot(&self) -> DownlinkStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DownlinkStats {
            frames_composed: get(&self.frames_composed),
            ticks_skipped: get(&self.ticks_skipped),
            frames_encoded: get(&self.frames_encoded),
            video_packets: get(&self.video_packets),
            keyframes_sent: get(&self.keyframes_sent),
            keyframe_requests: get(&self.keyframe_requests),
            keyframe_requests_dropped: get(&self.keyframe_requests_dropped),
            oversize_nals_dropped: get(&self.oversize_nals_dropped),
            tiles_drawn: get(&self.tiles_drawn),
            video_packets_dropped: get(&self.video_packets_dropped),
            audio_packets_dropped: get(&self.audio_packets_dropped),
            audio_packets: get(&self.audio_packets),
            frames_decoded: lock(&self.frames_decoded).clone(),
            decode_errors: lock(&self.decode_errors).clone(),
            resolutions: lock(&self.resolutions).clone(),
            received: lock(&self.received).figures(),
        }
    }
}
