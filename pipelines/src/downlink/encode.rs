//! The H.264 encoder toward the room system:
//! `appsrc ! x264enc ! video/x-h264,profile=… ! rtph264pay ! appsink`, and the check of what
//! it sends.
//!
//! Settings (`shared/docs/media.md` §3, `platform.md` §4): x264 `tune=zerolatency
//! speed-preset=ultrafast threads=1`, CBR at the spec's bitrate, the level through x264's own
//! `level=` option (x264enc 1.22 does not take it from caps). Packetization mode 0: x264 cuts
//! slices by size (`slice-max-size`, so every NAL fits an RTP packet), the payloader's MTU is set
//! out of reach so it never fragments (`rtph264pay` 1.22 FU-A-fragments any NAL above its MTU
//! whatever the negotiated mode), and the output check drops (and counts) any payload that is not
//! a single NAL unit or exceeds the MTU, then asks for an IDR to repair the picture. IDRs are
//! forced with an upstream `GstForceKeyUnit` event into x264enc; `config-interval=-1` repeats
//! SPS/PPS before every IDR.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{Shared, add_chain, make};
use crate::downlink::rtp::{RtpPacket, h264_payload_type, h264_starts_idr};
use crate::downlink::spec::{DownlinkSpec, Packetization};
use crate::downlink::{DownlinkEvent, lock};

/// The payloader MTU in mode 0: larger than any slice x264 writes, so it never fragments.
const MODE0_PAYLOADER_MTU: u32 = 65_000;

/// The encoder's input end, driven by the tick thread.
pub(crate) struct Encoder {
    src: gst_app::AppSrc,
    x264: gst::Element,
}

impl Encoder {
    pub(crate) fn build(shared: &Arc<Shared>, spec: &DownlinkSpec) -> Result<Self, DownlinkError> {
        let v = &spec.video;
        let fps = i32::try_from(v.fps).map_err(DownlinkError::build)?;
        let raw = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, v.width, v.height)
            .fps(gst::Fraction::new(fps, 1))
            .build()
            .map_err(DownlinkError::build)?
            .to_caps()
            .map_err(DownlinkError::build)?;
        let src = gst_app::AppSrc::builder()
            .name("venc-src")
            .caps(&raw)
            .format(gst::Format::Time)
            .is_live(true)
            .do_timestamp(false)
            .max_buffers(3)
            .leaky_type(gst_app::AppLeakyType::Downstream)
            .build();
        let x264 = make("x264enc", "venc-x264")?;
        x264.set_property_from_str("tune", "zerolatency");
        x264.set_property_from_str("speed-preset", "ultrafast");
        x264.set_property("threads", 1u32);
        x264.set_property("bitrate", v.bitrate_kbps);
        x264.set_property("vbv-buf-capacity", 1000u32);
        x264.set_property("key-int-max", v.keyframes.max_gop_frames);
        x264.set_property("b-adapt", false);
        x264.set_property("bframes", 0u32);
        let mut options = format!("level={}", v.level.dotted());
        if v.packetization == Packetization::SingleNal {
            options.push_str(&format!(":slice-max-size={}", spec.slice_max_size()));
        }
        x264.set_property("option-string", options);
        let h264 = make("capsfilter", "venc-caps")?;
        h264.set_property(
            "caps",
            gst::Caps::builder("video/x-h264")
                .field("profile", v.profile.caps_name())
                .field("stream-format", "byte-stream")
                .field("alignment", "au")
                .build(),
        );
        let pay = make("rtph264pay", "venc-pay")?;
        pay.set_property("pt", u32::from(v.payload_type));
        pay.set_property("ssrc", v.ssrc);
        pay.set_property("config-interval", -1i32);
        match v.packetization {
            Packetization::SingleNal => {
                pay.set_property("mtu", MODE0_PAYLOADER_MTU);
                pay.set_property_from_str("aggregate-mode", "none");
            }
            Packetization::NonInterleaved => {
                pay.set_property("mtu", v.mtu);
                pay.set_property_from_str("aggregate-mode", "zero-latency");
            }
        }
        let sink = gst_app::AppSink::builder()
            .name("venc-sink")
            .sync(false)
            .async_(false)
            .build();
        let check = OutputCheck {
            shared: Arc::downgrade(shared),
            mode0: v.packetization == Packetization::SingleNal,
            mtu: usize::try_from(v.mtu).unwrap_or(usize::MAX),
            last_idr_ts: AtomicU64::new(u64::MAX),
        };
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(buffer) = sample.buffer() {
                        let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                        check.packet(&map);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        let chain = [src.upcast_ref(), &x264, &h264, &pay, sink.upcast_ref()];
        add_chain(&shared.pipeline, &chain)?;
        Ok(Self { src, x264 })
    }

    /// Makes the next frame an IDR. SPS/PPS come with it from x264 and the payloader
    /// (`config-interval=-1`); `all-headers` stays off because `GstVideoEncoder` would push the
    /// headers again as a separate buffer, which `rtph264pay` sends as its own access unit with
    /// the marker bit set (a spurious "frame" of parameter sets before every forced IDR).
    pub(crate) fn force_idr(&self) {
        let event = gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(false)
            .build();
        self.x264.send_event(event);
    }

    /// Hands one canvas frame to the encoder (never blocks: the oldest queued frame is dropped if
    /// x264 falls behind).
    pub(crate) fn push(&self, frame: gst::Buffer) -> Result<(), gst::FlowError> {
        self.src.push_buffer(frame).map(|_| ())
    }
}

/// Counts and checks every RTP packet the payloader writes, then sends it.
struct OutputCheck {
    shared: std::sync::Weak<Shared>,
    mode0: bool,
    mtu: usize,
    /// RTP timestamp of the last IDR seen (`u64::MAX`: none yet), to count each IDR once.
    last_idr_ts: AtomicU64,
}

impl OutputCheck {
    fn packet(&self, bytes: &[u8]) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let stats = &shared.stats;
        let Some(rtp) = RtpPacket::parse(bytes) else {
            return;
        };
        let single_nal = h264_payload_type(rtp.payload).is_some_and(|t| (1..=23).contains(&t));
        if self.mode0 && (!single_nal || bytes.len() > self.mtu) {
            stats.bump(&stats.oversize_nals_dropped);
            // The picture is broken until the next IDR: ask for one (rate-limited).
            lock(&shared.idr).request(Instant::now());
            return;
        }
        if rtp.marker {
            stats.bump(&stats.frames_encoded);
        }
        if h264_starts_idr(rtp.payload)
            && self
                .last_idr_ts
                .swap(u64::from(rtp.timestamp), Ordering::Relaxed)
                != u64::from(rtp.timestamp)
        {
            stats.bump(&stats.keyframes_sent);
            lock(&shared.idr).idr_sent(Instant::now());
        }
        stats.bump(&stats.video_packets);
        shared.send(DownlinkEvent::VideoRtp(bytes.to_vec()));
    }
}
