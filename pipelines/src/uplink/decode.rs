//! The uplink's input heads: the room system's RTP of one codec in, raw pictures or audio
//! out.
//!
//! ```text
//! appsrc (RTP caps of the codec) → rtpjitterbuffer → depayloader → decoder [→ PAR fix]
//! ```
//!
//! | input | RTP caps | depayloader | decoder |
//! |---|---|---|---|
//! | H.264 (RFC 6184) | `H264`/90000, `sprop-parameter-sets` when given | `rtph264depay` | `avdec_h264` |
//! | H.263 (RFC 2190) | `H263`/90000 | `rtph263depay` | `avdec_h263` |
//! | H.263+ (RFC 4629) | `H263-1998`/90000 | `rtph263pdepay` | `avdec_h263` |
//! | H.261 (RFC 4587) | `H261`/90000 | `rtph261depay` | `avdec_h261`, then PAR 12:11 |
//! | PCMU / PCMA | `PCMU`/`PCMA`/8000 | `rtppcmudepay`/`rtppcmadepay` | `mulawdec`/`alawdec` |
//! | G.722 | `G722`/8000 (16 kHz audio) | `rtpg722depay` | `avdec_g722` |
//! | Opus | `OPUS`/48000 | `rtpopusdepay` | `opusdec` |
//!
//! H.261 knows only QCIF and CIF, both 4:3 pictures of 12:11 pixels, but FFmpeg's decoder
//! reports square pixels; the head says 12:11 so that the layers pillarbox the picture
//! instead of stretching it to 1.22:1. (`avdec_h263` already says 12:11 for the standard
//! formats.)
//!
//! Decoders run with `max-errors = -1`: undecodable data is a warning, never the end of the
//! pipeline ([`super::bad_media`] counts it). The heads count what the decoders put out with
//! a pad probe.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use gst::prelude::*;

use crate::error::PipelineError;
use crate::spec::{AudioIn, VideoIn};
use crate::uplink::input::{Counters, InputShared};
use crate::uplink::{make, ms};

/// One input head, built into the pipeline and linked from `appsrc` to `out`.
#[derive(Debug)]
pub(crate) struct Head {
    /// Where the room system's packets go in.
    pub(crate) src: gst_app::AppSrc,
    /// The depayloader and the decoder: what they post about bad media is counted
    /// ([`super::bad_media`]).
    pub(crate) depay: gst::Element,
    pub(crate) decoder: gst::Element,
    /// The last element: raw video or audio on its src pad.
    pub(crate) out: gst::Element,
}

/// What one codec needs: the RTP caps of the `appsrc`, the depayloader and the decoder.
struct CodecChain {
    caps: gst::Caps,
    depay: &'static str,
    decoder: &'static str,
}

fn rtp_caps(
    media: &str,
    clock_rate: i32,
    encoding: &str,
    payload_type: u8,
) -> gst::caps::Builder<gst::caps::NoFeature> {
    gst::Caps::builder("application/x-rtp")
        .field("media", media)
        .field("clock-rate", clock_rate)
        .field("encoding-name", encoding)
        .field("payload", i32::from(payload_type))
}

fn video_chain(video: &VideoIn) -> CodecChain {
    let pt = video.payload_type();
    match video {
        VideoIn::H264 {
            sprop_parameter_sets,
            ..
        } => {
            let mut caps = rtp_caps("video", 90_000, "H264", pt);
            if let Some(sprop) = sprop_parameter_sets {
                // rtph264depay takes the SPS and PPS from here when none come in band
                caps = caps.field("sprop-parameter-sets", sprop.as_str());
            }
            CodecChain {
                caps: caps.build(),
                depay: "rtph264depay",
                decoder: "avdec_h264",
            }
        }
        VideoIn::H263 { .. } => CodecChain {
            caps: rtp_caps("video", 90_000, "H263", pt).build(),
            depay: "rtph263depay",
            decoder: "avdec_h263",
        },
        VideoIn::H263Plus { .. } => CodecChain {
            caps: rtp_caps("video", 90_000, "H263-1998", pt).build(),
            depay: "rtph263pdepay",
            decoder: "avdec_h263",
        },
        VideoIn::H261 { .. } => CodecChain {
            caps: rtp_caps("video", 90_000, "H261", pt).build(),
            depay: "rtph261depay",
            decoder: "avdec_h261",
        },
    }
}

fn audio_chain(audio: &AudioIn) -> CodecChain {
    let pt = audio.payload_type();
    let (caps, depay, decoder) = match audio {
        AudioIn::Pcmu { .. } => (
            rtp_caps("audio", 8000, "PCMU", pt).build(),
            "rtppcmudepay",
            "mulawdec",
        ),
        AudioIn::Pcma { .. } => (
            rtp_caps("audio", 8000, "PCMA", pt).build(),
            "rtppcmadepay",
            "alawdec",
        ),
        // RFC 3551 §4.5.2: the RTP clock of G.722 is 8000 although it samples at 16 kHz
        AudioIn::G722 { .. } => (
            rtp_caps("audio", 8000, "G722", pt).build(),
            "rtpg722depay",
            "avdec_g722",
        ),
        AudioIn::Opus { .. } => (
            rtp_caps("audio", 48_000, "OPUS", pt)
                .field("encoding-params", "2")
                .build(),
            "rtpopusdepay",
            "opusdec",
        ),
    };
    CodecChain {
        caps,
        depay,
        decoder,
    }
}

/// The `appsrc` the node pushes into: live, timestamped on arrival (the jitter buffer works
/// from arrival times), leaky so that pushing never blocks.
fn rtp_src(name: &str, caps: &gst::Caps) -> gst_app::AppSrc {
    let src = gst_app::AppSrc::builder()
        .name(name)
        .caps(caps)
        .is_live(true)
        .format(gst::Format::Time)
        .do_timestamp(true)
        .max_bytes(4 << 20)
        .build();
    src.set_leaky_type(gst_app::AppLeakyType::Downstream);
    src
}

fn build_head(
    prefix: &str,
    chain: &CodecChain,
    latency: std::time::Duration,
) -> Result<(gst_app::AppSrc, Vec<gst::Element>), PipelineError> {
    let src = rtp_src(prefix, &chain.caps);
    let jitter = make("rtpjitterbuffer", &format!("{prefix}_jitter"))?;
    jitter.set_property("latency", ms(latency));
    let depay = make(chain.depay, &format!("{prefix}_depay"))?;
    let decoder = make(chain.decoder, &format!("{prefix}_decode"))?;
    if decoder.find_property("max-errors").is_some() {
        decoder.set_property("max-errors", -1i32);
    }
    Ok((src, vec![jitter, depay, decoder]))
}

fn add_and_link(
    pipeline: &gst::Pipeline,
    src: &gst_app::AppSrc,
    rest: &[gst::Element],
) -> Result<(), PipelineError> {
    let mut all: Vec<&gst::Element> = vec![src.upcast_ref()];
    all.extend(rest);
    pipeline.add_many(all.iter().copied())?;
    gst::Element::link_many(all.iter().copied())?;
    Ok(())
}

/// The video head: H.264, H.263, H.263+ or H.261 RTP in, raw pictures out.
pub(crate) fn video_head(
    pipeline: &gst::Pipeline,
    video: &VideoIn,
    latency: std::time::Duration,
    shared: &Arc<InputShared>,
) -> Result<Head, PipelineError> {
    let chain = video_chain(video);
    let (src, mut elements) = build_head("vtc_video", &chain, latency)?;
    let (depay, decoder) = (elements[1].clone(), elements[2].clone());
    if depay.find_property("request-keyframe").is_some() {
        // after a loss: ask upstream for a keyframe (caught at the appsrc, below) and drop
        // the broken frames until it comes
        depay.set_property("request-keyframe", true);
        depay.set_property("wait-for-keyframe", true);
    }
    if decoder.find_property("max-threads").is_some() {
        // frame threading would add a frame of delay per thread
        decoder.set_property("max-threads", 1i32);
    }
    if matches!(video, VideoIn::H261 { .. }) {
        let fix = make("capssetter", "vtc_h261_par")?;
        fix.set_property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("pixel-aspect-ratio", gst::Fraction::new(12, 11))
                .build(),
        );
        elements.push(fix);
    }
    add_and_link(pipeline, &src, &elements)?;
    watch_keyframe_requests(&src, shared)?;
    count_output(&decoder, shared, |s| &s.video)?;
    let out = elements.last().cloned().unwrap_or_else(|| decoder.clone());
    Ok(Head {
        src,
        depay,
        decoder,
        out,
    })
}

/// The audio head: PCMU, PCMA, G.722 or Opus RTP in, raw audio out.
pub(crate) fn audio_head(
    pipeline: &gst::Pipeline,
    audio: &AudioIn,
    latency: std::time::Duration,
    shared: &Arc<InputShared>,
) -> Result<Head, PipelineError> {
    let chain = audio_chain(audio);
    let (src, elements) = build_head("vtc_audio", &chain, latency)?;
    add_and_link(pipeline, &src, &elements)?;
    let (depay, decoder) = (elements[1].clone(), elements[2].clone());
    count_output(&decoder, shared, |s| &s.audio)?;
    Ok(Head {
        src,
        depay,
        out: decoder.clone(),
        decoder,
    })
}

/// A `GstForceKeyUnit` travelling upstream (from the depayloader, after a loss) ends at the
/// `appsrc`: catch it there and tell the node.
fn watch_keyframe_requests(
    src: &gst_app::AppSrc,
    shared: &Arc<InputShared>,
) -> Result<(), PipelineError> {
    let pad = src
        .static_pad("src")
        .ok_or_else(|| PipelineError::Build("appsrc without a src pad".into()))?;
    let weak = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::EVENT_UPSTREAM, move |_, info| {
        if let Some(event) = info.event()
            && gst_video::UpstreamForceKeyUnitEvent::parse(event).is_ok()
            && let Some(shared) = weak.upgrade()
        {
            shared.want_keyframe();
        }
        gst::PadProbeReturn::Ok
    });
    Ok(())
}

/// Counts the buffers leaving `decoder`, and keeps the size of the pictures from its caps.
fn count_output(
    decoder: &gst::Element,
    shared: &Arc<InputShared>,
    counters: fn(&InputShared) -> &Counters,
) -> Result<(), PipelineError> {
    let pad = decoder
        .static_pad("src")
        .ok_or_else(|| PipelineError::Build(format!("{} has no src pad", decoder.name())))?;
    let weak = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        if let Some(shared) = weak.upgrade() {
            counters(&shared).decoded.fetch_add(1, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });
    let weak = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
        if let Some(gst::EventView::Caps(caps)) = info.event().map(|e| e.view())
            && let Some(s) = caps.caps().structure(0)
            && let (Ok(width), Ok(height)) = (s.get::<i32>("width"), s.get::<i32>("height"))
            && let Some(shared) = weak.upgrade()
        {
            let (w, h) = (
                u64::from(width.unsigned_abs()),
                u64::from(height.unsigned_abs()),
            );
            counters(&shared)
                .resolution
                .store(w << 32 | h, Ordering::Relaxed);
        }
        gst::PadProbeReturn::Ok
    });
    Ok(())
}
