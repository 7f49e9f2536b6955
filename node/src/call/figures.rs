//! The media plane's own figures of a gateway call, gathered once a second by the call's task
//! and shown in `/status` (the call's `meet` section, and `frames` on each room-system stream)
//! and as metrics: frames each way, codec errors, keyframes and keyframe requests per layer and
//! per stream. The RTP-level figures (packets, bit rate, loss, jitter) come from the RTP/RTCP
//! core instead ([`crate::rtp`]).

use crate::calls::{CallDetail, FrameFigures, LayerFigures, MeetFigures, MeetStreamFigures};
use crate::metrics::Metrics;
use pipelines::MeetLeg;
use pipelines::downlink::{Downlink, DownlinkStats};
use pipelines::uplink::UplinkStats;

/// What was last published, to count metric deltas.
#[derive(Debug, Default)]
pub(crate) struct Published {
    frames: [u64; 4],
    errors: [u64; 2],
}

/// Reads the media plane's counters and shows them: `/status` and metrics.
pub(crate) fn publish(
    leg: &MeetLeg,
    uplink: &UplinkStats,
    downlink: &Downlink,
    detail: &CallDetail,
    metrics: &Metrics,
    last: &mut Published,
) {
    let down = downlink.stats();
    let meet = meet_figures(leg, &down);
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
                    frames: leg.layer_frames(rid).unwrap_or(0),
                    keyframes: stats.keyframes_out,
                    keyframe_requests: stats.plis + stats.firs,
                }
            })
            .collect(),
        streams: down
            .frames_decoded
            .iter()
            .map(|(ssrc, frames)| MeetStreamFigures {
                ssrc: *ssrc,
                frames: *frames,
                decode_errors: down.decode_errors.get(ssrc).copied().unwrap_or(0),
            })
            .collect(),
        frames_composed: down.frames_composed,
        ticks_skipped: down.ticks_skipped,
        keyframe_requests_sent: requests.sent,
        keyframe_requests_dropped: requests.dropped,
    }
}
