//! The VTC → Meet graph: the room system's video (H.264, H.263, H.263+ or H.261) and audio
//! (PCMU, PCMA, G.722 or Opus) RTP in (through `appsrc`), VP8 simulcast and Opus RTP out,
//! ready for webrtcbin.
//!
//! ```text
//! appsrc (video RTP) → rtpjitterbuffer → depay → decode → videoconvert → tee
//!   tee → queue → videoscale add-borders (exact layer size, 4:3 pillarboxed) → vp8enc
//!       → rtpvp8pay (fixed SSRC, 15-bit PictureID, MID + RID header extensions) → rtpfunnel
//! appsrc (audio RTP) → rtpjitterbuffer → depay → decode → audioconvert → audioresample
//!   48 kHz mono → opusenc → rtpopuspay (MID header extension)
//! ```
//!
//! One decode, one scale per layer. The per-layer queue is leaky, so a slow layer drops its
//! own frames instead of stalling the decode; `appsrc` is leaky too, so pushing never blocks
//! the node's socket task. Packets of another payload type are dropped before the graph and
//! counted (`input.rs`, [`UplinkInput::stats`]); what the depayloaders and decoders say about
//! bad media is counted and never stops the call (`bad_media.rs`: the uplink owns the pipeline
//! bus's sync handler). The codec heads are in `decode.rs`, a layer's chain in `layer.rs`.
//! [`UplinkProbe`] runs the same graph without webrtcbin, for tests.

mod bad_media;
mod decode;
mod input;
mod layer;
mod probe;

use gst::prelude::*;
use gst_rtp::prelude::*;

use crate::error::PipelineError;
use crate::spec::{LayerSpec, MeetLegSpec, UplinkSpec, VideoIn};

pub use input::{KeyframeRequestHook, MediaInStats, UplinkInput, UplinkStats};
pub use probe::{SentStream, UplinkProbe};

/// The RTP header-extension id of the MID extension on every sent stream.
pub(crate) const EXT_ID_MID: u32 = 1;
/// The RTP header-extension id of the RID extension on the video layers.
pub(crate) const EXT_ID_RID: u32 = 2;
/// The URI of the MID extension.
pub(crate) const EXT_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// The URI of the RID extension.
pub(crate) const EXT_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";

/// One layer's encoder chain.
#[derive(Debug)]
pub(crate) struct LayerChain {
    pub(crate) spec: LayerSpec,
    pub(crate) encoder: gst::Element,
    pub(crate) mid_ext: gst_rtp::RTPHeaderExtension,
}

/// The built graph, inside the leg's pipeline.
#[derive(Debug)]
pub(crate) struct UplinkGraph {
    pub(crate) input: UplinkInput,
    pub(crate) layers: Vec<LayerChain>,
    /// The video output (`rtpfunnel`'s src pad goes to webrtcbin).
    pub(crate) video_out: gst::Element,
    /// The audio output (`rtpopuspay`).
    pub(crate) audio_out: gst::Element,
    pub(crate) audio_mid_ext: gst_rtp::RTPHeaderExtension,
}

/// Makes element `factory` named `name`.
pub(crate) fn make(factory: &str, name: &str) -> Result<gst::Element, PipelineError> {
    gst::ElementFactory::make(factory)
        .name(name)
        .build()
        .map_err(|_| PipelineError::MissingElement(factory.to_owned()))
}

pub(crate) fn header_ext(uri: &str, id: u32) -> Result<gst_rtp::RTPHeaderExtension, PipelineError> {
    let ext = gst_rtp::RTPHeaderExtension::create_from_uri(uri)
        .ok_or_else(|| PipelineError::MissingElement(format!("RTP header extension {uri}")))?;
    ext.set_id(id);
    Ok(ext)
}

pub(crate) fn ms(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Builds the uplink into `pipeline`.
pub(crate) fn build(
    pipeline: &gst::Pipeline,
    leg: &MeetLegSpec,
    input: &UplinkSpec,
) -> Result<UplinkGraph, PipelineError> {
    gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
    let shared = std::sync::Arc::new(input::InputShared::default());

    // video: one decode
    let video = decode::video_head(pipeline, &input.video, input.jitter_latency, &shared)?;
    let convert = make("videoconvert", "vtc_convert")?;
    let tee = make("tee", "layers_tee")?;
    tee.set_property("allow-not-linked", true);
    let funnel = make("rtpfunnel", "layers_funnel")?;
    pipeline.add_many([&convert, &tee, &funnel])?;
    gst::Element::link_many([&video.out, &convert, &tee])?;

    let mut layers = Vec::new();
    for layer in &leg.layers.layers {
        layers.push(layer::build_layer(pipeline, leg, layer, &tee, &funnel)?);
    }

    // audio
    let audio = decode::audio_head(pipeline, &input.audio, input.jitter_latency, &shared)?;
    bad_media::install(pipeline, &video, &audio, &shared)?;
    let a_convert = make("audioconvert", "vtc_audio_convert")?;
    let a_resample = make("audioresample", "vtc_audio_resample")?;
    let a_caps = make("capsfilter", "opus_caps")?;
    a_caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("rate", 48_000i32)
            .field("channels", 1i32)
            .build(),
    );
    let opus = make("opusenc", "opus_encode")?;
    opus.set_property("bitrate", leg.opus_bitrate_bps as i32);
    let opus_pay = make("rtpopuspay", "opus_pay")?;
    opus_pay.set_property("pt", u32::from(leg.opus_payload_type));
    opus_pay.set_property("ssrc", leg.opus_ssrc);
    opus_pay.set_property("auto-header-extension", false);
    let audio_mid_ext = header_ext(EXT_MID, EXT_ID_MID)?;
    opus_pay.emit_by_name::<()>("add-extension", &[&audio_mid_ext]);
    let chain = [&a_convert, &a_resample, &a_caps, &opus, &opus_pay];
    pipeline.add_many(chain)?;
    gst::Element::link_many([&audio.out, &a_convert])?;
    gst::Element::link_many(chain)?;

    Ok(UplinkGraph {
        input: UplinkInput {
            video: video.src,
            audio: audio.src,
            video_payload_type: input.video.payload_type(),
            video_is_h264: matches!(input.video, VideoIn::H264 { .. }),
            audio_payload_type: input.audio.payload_type(),
            shared,
        },
        layers,
        video_out: funnel,
        audio_out: opus_pay,
        audio_mid_ext,
    })
}
