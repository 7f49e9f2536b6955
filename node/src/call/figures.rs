//! The media plane's own figures of a gateway call, gathered once a second by the call's task
//! and shown in `/status` (the call's `meet` section, and `frames` on each room-system stream)
//! and as metrics: frames each way, codec errors, keyframes and keyframe requests per layer and
//! per stream. The RTP-level figures (packets, bit rate, loss, jitter) come from the RTP/RTCP
//! core instead ([`crate::rtp`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::calls::{
    CallDetail, FrameFigures, LayerFigures, MeetFigures, MeetStreamFigures, Resolution,
};
use crate::metrics::Metrics;
use pipelines::downlink::{Downlink, DownlinkStats};
use pipelines::uplink::UplinkStats;
use pipelines::{LayerTable, MeetLeg};

/// What was last published, to count metric deltas and rates.
#[derive(Debug, Default)]
pub(crate) struct Published {
    frames: [u64; 4],
    errors: [u64; 2],
    /// Bytes encoded per layer, bytes received per Meet SSRC, and when they were read.
    layer_bytes: Vec<u64>,
    meet_bytes: BTreeMap<u32, u64>,
    at: Option<Instant>,
}

/// Reads the media plane's counters and shows them: `/status` and metrics.
pub(crate) fn publish(
    leg: &MeetLeg,
    layers: &LayerTable,
    uplink: &UplinkStats,
    downlink: &Downlink,
    detail: &CallDetail,
    metrics: &Metrics,
    last: &mut Published,
) {
    let down = downlink.stats();
    let mut meet = meet_figures(leg, &down);
    // The layers' sizes and their bit rates since the last reading.
    let now = Instant::now();
    let seconds = last.at.map(|at| now.duration_since(at).as_secs_f64());
    let bytes: Vec<u64> = meet
        .layers
        .iter()
        .map(|l| leg.layer_bytes(&l.rid).unwrap_or(0))
        .collect();
    for (i, layer) in meet.layers.iter_mut().enumerate() {
        layer.resolution = layers
            .layers
            .iter()
            .find(|spec| spec.rid == layer.rid)
            .map(|spec| Resolution {
                width: spec.width,
                height: spec.height,
            });
        let before = last.layer_bytes.get(i).copied().unwrap_or(0);
        if let Some(seconds) = seconds.filter(|s| *s > 0.0) {
            layer.bitrate_bps = (bytes[i].saturating_sub(before) as f64 * 8.0 / seconds) as u64;
        }
    }
    last.layer_bytes = bytes;
    for stream in &mut meet.streams {
        let bytes = down.received.get(&stream.ssrc).map_or(0, |r| r.bytes);
        let before = last.meet_bytes.insert(stream.ssrc, bytes).unwrap_or(0);
        if let Some(seconds) = seconds.filter(|s| *s > 0.0) {
            stream.bitrate_bps = (bytes.saturating_sub(before) as f64 * 8.0 / seconds) as u64;
        }
    }
    last.at = Some(now);
    if let (Some(video), Some((width, height))) = (
        detail.streams.iter().find(|s| s.media == "video"),
        uplink.video.resolution,
    ) {
        video.set_resolution_in(Resolution { width, height });
    }
    // streams are (audio, video) in plan order
    let figures = [
        FrameFigures {
            frames_in: uplink.audio.decoded,
            frames_out: down.audio_packets,
            decode_errors: uplink.audio.decode_errors,
            encode_errors: 0,
        },
        FrameFigures {
            frames_in: uplink.video.decoded,
            frames_out: down.frames_encoded,
            decode_errors: uplink.video.decode_errors,
            encode_errors: down.oversize_nals_dropped,
        },
    ];
    for (stream, f) in detail.streams.iter().zip(figures) {
        stream.set_frames(f);
    }
    let frames = [
        uplink.video.decoded,
        down.frames_encoded,
        meet.layers.iter().map(|l| l.frames).sum(),
        meet.streams.iter().map(|s| s.frames).sum(),
    ];
    let errors = [
        uplink.video.decode_errors,
        meet.streams.iter().map(|s| s.decode_errors).sum(),
    ];
    for (i, direction) in ["vtc_in", "vtc_out", "meet_out", "meet_in"]
        .into_iter()
        .enumerate()
    {
        metrics.count_video_frames(direction, frames[i].saturating_sub(last.frames[i]));
    }
    for (i, direction) in ["vtc_in", "meet_in"].into_iter().enumerate() {
        metrics.count_decode_errors(direction, errors[i].saturating_sub(last.errors[i]));
    }
    last.frames = frames;
    last.errors = errors;
    detail.set_meet(meet);
}

fn meet_figures(leg: &MeetLeg, down: &DownlinkStats) -> MeetFigures {
    let requests = leg.meet_keyframe_requests();
    MeetFigures {
        layers: leg
            .rids()
            .iter()
            .map(|rid| {
                let stats = leg.keyframe_stats(rid).unwrap_or_default();
                LayerFigures {
                    rid: rid.clone(),
                    codec: "VP8",
                    // filled in by `publish`: the spec's size, the bit rate since the last
                    resolution: None,
                    bitrate_bps: 0,
                    frames: leg.layer_frames(rid).unwrap_or(0),
                    keyframes: stats.keyframes_out,
                    keyframe_requests: stats.plis + stats.firs,
                }
            })
            .collect(),
        streams: meet_streams(down),
        frames_composed: down.frames_composed,
        ticks_skipped: down.ticks_skipped,
        keyframe_requests_sent: requests.sent,
        keyframe_requests_dropped: requests.dropped,
    }
}

/// Every stream received from Meet: the video SSRCs decoded and every SSRC that arrived,
/// with what arrived (loss, jitter) and, for video, what was decoded. Bit rates are filled in
/// by [`publish`].
fn meet_streams(down: &DownlinkStats) -> Vec<MeetStreamFigures> {
    let ssrcs: BTreeSet<u32> = down
        .frames_decoded
        .keys()
        .chain(down.received.keys())
        .copied()
        .collect();
    ssrcs
        .into_iter()
        .map(|ssrc| {
            let received = down.received.get(&ssrc);
            let video = received.is_none_or(|r| r.video);
            MeetStreamFigures {
                ssrc,
                media: if video { "video" } else { "audio" },
                codec: if video { "VP8" } else { "opus" },
                resolution: down
                    .resolutions
                    .get(&ssrc)
                    .map(|&(width, height)| Resolution { width, height }),
                bitrate_bps: 0,
                lost: received.map_or(0, |r| r.lost),
                loss_ratio: received
                    .filter(|r| r.expected > 0)
                    .map_or(0.0, |r| r.lost.max(0) as f64 / r.expected as f64),
                jitter_ms: received.map_or(0.0, |r| r.jitter_ms),
                frames: down.frames_decoded.get(&ssrc).copied().unwrap_or(0),
                decode_errors: down.decode_errors.get(&ssrc).copied().unwrap_or(0),
            }
        })
        .collect()
}
