//! Where the node pushes the room system's RTP, and what the uplink counts about it.
//!
//! A packet is checked before it enters the graph: too short or not RTP version 2 is
//! *malformed*, a payload type other than the negotiated one is *wrong payload type*; both are
//! dropped and counted. That keeps RFC 4733 telephone events (PT 101) and RFC 3389 comfort
//! noise (PT 13) out of the audio decoder, and a stray stream out of the video decoder.
//!
//! The graph adds to the same counters: the pictures and audio buffers its decoders put out,
//! the errors they report (a decoder error never ends the pipeline; the picture recovers at
//! the room system's next keyframe), and the keyframe requests that go back toward the room
//! system. A request comes from the H.264 depayloader after a packet loss (a `GstForceKeyUnit`
//! event reaching the input's `appsrc`) or from a video decode error; the node learns of it
//! through [`UplinkInput::on_keyframe_request`] and answers with a FIR or PLI of its own
//! (rate-limiting is the node's: a burst of corrupt packets gives a burst of requests).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;

use crate::error::PipelineError;

/// What the uplink saw of one medium (video or audio) of the room system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaInStats {
    /// Packets pushed by the node, every one counted (those dropped included).
    pub received: u64,
    /// Packets dropped because their payload type is not the negotiated one.
    pub wrong_payload_type: u64,
    /// Packets dropped because they are not RTP (shorter than the 12-byte header, or not
    /// version 2).
    pub malformed: u64,
    /// Buffers the decoder put out: pictures for video, audio buffers for audio.
    pub decoded: u64,
    /// Errors and warnings the decoder posted (undecodable data; the stream goes on).
    pub decode_errors: u64,
    /// Video: the size of the decoded pictures (the decoder's latest caps); `None` before
    /// the first picture and on audio.
    pub resolution: Option<(u32, u32)>,
}

/// The uplink's input counters ([`UplinkInput::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UplinkStats {
    /// The room system's video.
    pub video: MediaInStats,
    /// The room system's audio.
    pub audio: MediaInStats,
    /// Times the uplink wanted a keyframe from the room system (see
    /// [`UplinkInput::on_keyframe_request`]).
    pub keyframe_requests: u64,
}

/// The live counters of one medium.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    received: AtomicU64,
    wrong_payload_type: AtomicU64,
    malformed: AtomicU64,
    pub(crate) decoded: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    /// Width and height of the decoded pictures, packed (`width << 32 | height`); 0 unknown.
    pub(crate) resolution: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> MediaInStats {
        MediaInStats {
            received: self.received.load(Ordering::Relaxed),
            wrong_payload_type: self.wrong_payload_type.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            decoded: self.decoded.load(Ordering::Relaxed),
            decode_errors: self.decode_errors.load(Ordering::Relaxed),
            resolution: match self.resolution.load(Ordering::Relaxed) {
                0 => None,
                packed => Some(((packed >> 32) as u32, packed as u32)),
            },
        }
    }
}

/// Called when the uplink wants a keyframe from the room system.
pub type KeyframeRequestHook = Arc<dyn Fn() + Send + Sync>;

/// What the input and the graph share.
#[derive(Default)]
pub(crate) struct InputShared {
    pub(crate) video: Counters,
    pub(crate) audio: Counters,
    keyframe_requests: AtomicU64,
    on_keyframe: Mutex<Option<KeyframeRequestHook>>,
}

impl std::fmt::Debug for InputShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputShared")
            .field("video", &self.video)
            .field("audio", &self.audio)
            .field("keyframe_requests", &self.keyframe_requests)
            .finish_non_exhaustive()
    }
}

impl InputShared {
    /// Counts a keyframe request and tells the hook (on a streaming thread).
    pub(crate) fn want_keyframe(&self) {
        self.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        let hook = self
            .on_keyframe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(hook) = hook {
            hook();
        }
    }
}

/// Where the node pushes the VTC's RTP. Cheap to clone; pushing never blocks (a full queue
/// drops its oldest buffer).
#[derive(Clone, Debug)]
pub struct UplinkInput {
    pub(crate) video: gst_app::AppSrc,
    pub(crate) audio: gst_app::AppSrc,
    pub(crate) video_payload_type: u8,
    pub(crate) audio_payload_type: u8,
    /// The video is H.264: its packets pass [`crate::h264_guard`] first.
    pub(crate) video_is_h264: bool,
    pub(crate) shared: Arc<InputShared>,
}

/// What the check before the graph made of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Accept,
    WrongPayloadType,
    Malformed,
}

fn verdict(packet: &[u8], payload_type: u8) -> Verdict {
    match packet {
        [first, second, ..] if packet.len() >= 12 && first >> 6 == 2 => {
            if second & 0x7f == payload_type {
                Verdict::Accept
            } else {
                Verdict::WrongPayloadType
            }
        }
        _ => Verdict::Malformed,
    }
}

impl UplinkInput {
    /// One RTP packet of the VTC's video (header included, SRTP already removed). A packet
    /// with another payload type, or that is not RTP, is dropped and counted ([`Self::stats`]);
    /// that is not an error.
    pub fn push_video_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        // What rtph264depay would fail the pipeline on, or only warn about, stays out.
        if self.video_is_h264
            && packet
                .get(1)
                .is_some_and(|b| b & 0x7f == self.video_payload_type)
            && crate::h264_guard::check_h264_rtp(packet).is_err()
        {
            let counters = &self.shared.video;
            counters.received.fetch_add(1, Ordering::Relaxed);
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        push(
            &self.video,
            &self.shared.video,
            self.video_payload_type,
            packet,
        )
    }

    /// One RTP packet of the VTC's audio, checked as [`Self::push_video_rtp`] checks video:
    /// telephone events and comfort noise are dropped and counted.
    pub fn push_audio_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        push(
            &self.audio,
            &self.shared.audio,
            self.audio_payload_type,
            packet,
        )
    }

    /// The counters so far.
    pub fn stats(&self) -> UplinkStats {
        UplinkStats {
            video: self.shared.video.snapshot(),
            audio: self.shared.audio.snapshot(),
            keyframe_requests: self.shared.keyframe_requests.load(Ordering::Relaxed),
        }
    }

    /// Calls `hook` (on a GStreamer streaming thread; keep it short) each time the uplink
    /// wants a keyframe from the room system: after a packet loss in H.264 (the depayloader's
    /// request) or a video decode error (any codec). Replaces an earlier hook. The node sends
    /// the room system a FIR (RFC 5104) or PLI, rate-limited on its side.
    pub fn on_keyframe_request(&self, hook: impl Fn() + Send + Sync + 'static) {
        *self
            .shared
            .on_keyframe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(hook));
    }
}

fn push(
    src: &gst_app::AppSrc,
    counters: &Counters,
    payload_type: u8,
    packet: &[u8],
) -> Result<(), PipelineError> {
    counters.received.fetch_add(1, Ordering::Relaxed);
    match verdict(packet, payload_type) {
        Verdict::Accept => src
            .push_buffer(gst::Buffer::from_slice(packet.to_vec()))
            .map(|_| ())
            .map_err(|e| PipelineError::Flow(format!("{}: {e:?}", src.name()))),
        Verdict::WrongPayloadType => {
            counters.wrong_payload_type.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Verdict::Malformed => {
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(payload_type: u8, marker: bool) -> Vec<u8> {
        let mut packet = vec![0x80, payload_type | if marker { 0x80 } else { 0 }];
        packet.extend_from_slice(&[0; 10]);
        packet
    }

    #[test]
    fn packets_are_sorted_by_payload_type_and_shape() {
        assert_eq!(verdict(&header(0, false), 0), Verdict::Accept);
        // the marker bit is not part of the payload type
        assert_eq!(verdict(&header(96, true), 96), Verdict::Accept);
        assert_eq!(verdict(&header(101, true), 0), Verdict::WrongPayloadType);
        assert_eq!(verdict(&header(13, false), 0), Verdict::WrongPayloadType);
        assert_eq!(verdict(&header(0, false)[..11], 0), Verdict::Malformed);
        let mut version_1 = header(0, false);
        version_1[0] = 0x40;
        assert_eq!(verdict(&version_1, 0), Verdict::Malformed);
        assert_eq!(verdict(&[], 0), Verdict::Malformed);
    }
}
