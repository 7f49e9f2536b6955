//! The output side of every video codec: an appsink that checks, counts and sends each RTP
//! packet the payloader writes.
//!
//! - Any packet larger than the MTU, and in H.264 mode 0 any payload that is not a single NAL
//!   unit, is dropped (counted in `oversize_nals_dropped`) and an intra picture is requested to
//!   repair the picture. The payloaders are set to the MTU, so this is a guard, not a path.
//! - A packet with the marker bit ends a frame (`frames_encoded`).
//! - Intra pictures are counted (`keyframes_sent`) and serve a pending request (the IDR
//!   scheduler's `idr_sent`): H.264 IDRs and
//!   H.263 I-pictures are read on the wire ([`crate::downlink::rtp`],
//!   [`crate::downlink::keyframe`]); H.261, whose bitstream does not say, by the encoder's
//!   sync-point flag ([`count_sync_points`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use gst::prelude::*;

use crate::downlink::graph::Shared;
use crate::downlink::keyframe::{PictureType, h263_rfc2190_picture, h263plus_picture};
use crate::downlink::rtp::{RtpPacket, h264_payload_type, h264_starts_idr};
use crate::downlink::spec::{DownlinkSpec, Packetization, VideoCodecOut};
use crate::downlink::{DownlinkEvent, lock};

/// The appsink at the end of the video chain.
pub(super) fn sink(shared: &Arc<Shared>, spec: &DownlinkSpec) -> gst_app::AppSink {
    let v = &spec.video;
    let sink = gst_app::AppSink::builder()
        .name("venc-sink")
        .sync(false)
        .async_(false)
        .build();
    let check = OutputCheck {
        shared: Arc::downgrade(shared),
        codec: v.codec,
        mode0: v.codec == VideoCodecOut::H264 && v.packetization == Packetization::SingleNal,
        mtu: usize::try_from(v.mtu).unwrap_or(usize::MAX),
        last_key_ts: AtomicU64::new(u64::MAX),
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
    sink
}

/// Counts every encoded buffer of `encoder` without the delta-unit flag as an intra picture sent
/// (for H.261, whose RTP does not show it).
pub(super) fn count_sync_points(shared: &Arc<Shared>, encoder: &gst::Element) {
    let Some(pad) = encoder.static_pad("src") else {
        return;
    };
    let weak: Weak<Shared> = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let key = info
            .buffer()
            .is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
        if let (true, Some(shared)) = (key, weak.upgrade()) {
            shared.stats.bump(&shared.stats.keyframes_sent);
            lock(&shared.idr).idr_sent(Instant::now());
        }
        gst::PadProbeReturn::Ok
    });
}

/// Checks and counts every RTP packet the payloader writes, then sends it.
struct OutputCheck {
    shared: Weak<Shared>,
    codec: VideoCodecOut,
    mode0: bool,
    mtu: usize,
    /// RTP timestamp of the last intra picture seen (`u64::MAX`: none yet), to count each once.
    last_key_ts: AtomicU64,
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
        let single_nal = || h264_payload_type(rtp.payload).is_some_and(|t| (1..=23).contains(&t));
        if bytes.len() > self.mtu || (self.mode0 && !single_nal()) {
            stats.bump(&stats.oversize_nals_dropped);
            // The picture is broken until the next intra picture: ask for one (rate-limited).
            lock(&shared.idr).request(Instant::now());
            return;
        }
        if rtp.marker {
            stats.bump(&stats.frames_encoded);
        }
        let key = match self.codec {
            VideoCodecOut::H264 => h264_starts_idr(rtp.payload),
            VideoCodecOut::H263Plus => h263plus_picture(rtp.payload) == Some(PictureType::Intra),
            VideoCodecOut::H263 => h263_rfc2190_picture(rtp.payload) == Some(PictureType::Intra),
            VideoCodecOut::H261 => false,
        };
        if key
            && self
                .last_key_ts
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
