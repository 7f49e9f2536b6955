//! The VTC → Meet graph: the VTC's H.264 and G.711 RTP in (through `appsrc`), VP8 simulcast
//! and Opus RTP out, ready for webrtcbin.
//!
//! ```text
//! appsrc (H.264 RTP) → rtpjitterbuffer → rtph264depay → avdec_h264 → videoconvert → tee
//!   tee → queue → videoscale add-borders (exact layer size, 4:3 pillarboxed) → vp8enc
//!       → rtpvp8pay (fixed SSRC, 15-bit PictureID, MID + RID header extensions) → rtpfunnel
//! appsrc (PCMU/PCMA RTP) → rtpjitterbuffer → depay → G.711 decode → audioresample 48 kHz
//!   → opusenc → rtpopuspay (MID header extension)
//! ```
//!
//! One decode, one scale per layer. The per-layer queue is leaky, so a slow layer drops its
//! own frames instead of stalling the decode; `appsrc` is leaky too, so pushing never blocks
//! the node's socket task.

use gst::prelude::*;
use gst_rtp::prelude::*;

use crate::error::PipelineError;
use crate::spec::{G711, LayerSpec, MeetLegSpec, UplinkSpec};

/// The RTP header-extension id of the MID extension on every sent stream.
pub(crate) const EXT_ID_MID: u32 = 1;
/// The RTP header-extension id of the RID extension on the video layers.
pub(crate) const EXT_ID_RID: u32 = 2;
/// The URI of the MID extension.
pub(crate) const EXT_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// The URI of the RID extension.
pub(crate) const EXT_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";

/// Where the node pushes the VTC's RTP. Cheap to clone; pushing never blocks (a full queue
/// drops its oldest buffer).
#[derive(Clone, Debug)]
pub struct UplinkInput {
    video: gst_app::AppSrc,
    audio: gst_app::AppSrc,
}

impl UplinkInput {
    /// One RTP packet of the VTC's H.264 stream (header included, SRTP already removed).
    pub fn push_video_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        // What the depayloader would only fail or warn on stays out (crate::h264_guard).
        if crate::h264_guard::check_h264_rtp(packet).is_err() {
            return Ok(());
        }
        push(&self.video, packet)
    }

    /// One RTP packet of the VTC's G.711 stream.
    pub fn push_audio_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        push(&self.audio, packet)
    }
}

fn push(src: &gst_app::AppSrc, packet: &[u8]) -> Result<(), PipelineError> {
    src.push_buffer(gst::Buffer::from_slice(packet.to_vec()))
        .map(|_| ())
        .map_err(|e| PipelineError::Flow(format!("{}: {e:?}", src.name())))
}

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

fn header_ext(uri: &str, id: u32) -> Result<gst_rtp::RTPHeaderExtension, PipelineError> {
    let ext = gst_rtp::RTPHeaderExtension::create_from_uri(uri)
        .ok_or_else(|| PipelineError::MissingElement(format!("RTP header extension {uri}")))?;
    ext.set_id(id);
    Ok(ext)
}

fn ms(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn rtp_src(name: &str, media: &str, clock_rate: u32, encoding: &str, pt: u8) -> gst_app::AppSrc {
    let caps = gst::Caps::builder("application/x-rtp")
        .field("media", media)
        .field("clock-rate", clock_rate as i32)
        .field("encoding-name", encoding)
        .field("payload", i32::from(pt))
        .build();
    let src = gst_app::AppSrc::builder()
        .name(name)
        .caps(&caps)
        .is_live(true)
        .format(gst::Format::Time)
        .do_timestamp(true)
        .max_bytes(4 << 20)
        .build();
    src.set_leaky_type(gst_app::AppLeakyType::Downstream);
    src
}

/// Builds the uplink into `pipeline`.
pub(crate) fn build(
    pipeline: &gst::Pipeline,
    leg: &MeetLegSpec,
    input: &UplinkSpec,
) -> Result<UplinkGraph, PipelineError> {
    // video: one decode
    let video_src = rtp_src(
        "vtc_video",
        "video",
        input.h264_clock_rate,
        "H264",
        input.h264_payload_type,
    );
    let jitter = make("rtpjitterbuffer", "vtc_video_jitter")?;
    jitter.set_property("latency", ms(input.jitter_latency));
    let depay = make("rtph264depay", "vtc_h264_depay")?;
    depay.set_property("request-keyframe", true);
    depay.set_property("wait-for-keyframe", true);
    let decode = make("avdec_h264", "vtc_h264_decode")?;
    // frame threading would add a frame of delay per thread
    decode.set_property("max-threads", 1i32);
    let convert = make("videoconvert", "vtc_convert")?;
    let tee = make("tee", "layers_tee")?;
    tee.set_property("allow-not-linked", true);
    let funnel = make("rtpfunnel", "layers_funnel")?;
    pipeline.add_many([
        video_src.upcast_ref(),
        &jitter,
        &depay,
        &decode,
        &convert,
        &tee,
        &funnel,
    ])?;
    gst::Element::link_many([
        video_src.upcast_ref(),
        &jitter,
        &depay,
        &decode,
        &convert,
        &tee,
    ])?;

    let mut layers = Vec::new();
    for layer in &leg.layers.layers {
        layers.push(build_layer(pipeline, leg, layer, &tee, &funnel)?);
    }

    // audio
    let (encoding, depay_name, decode_name) = match input.audio {
        G711::MuLaw => ("PCMU", "rtppcmudepay", "mulawdec"),
        G711::ALaw => ("PCMA", "rtppcmadepay", "alawdec"),
    };
    let audio_src = rtp_src(
        "vtc_audio",
        "audio",
        8000,
        encoding,
        input.audio_payload_type,
    );
    let a_jitter = make("rtpjitterbuffer", "vtc_audio_jitter")?;
    a_jitter.set_property("latency", ms(input.jitter_latency));
    let a_depay = make(depay_name, "vtc_audio_depay")?;
    let a_decode = make(decode_name, "vtc_audio_decode")?;
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
    let chain = [
        audio_src.upcast_ref(),
        &a_jitter,
        &a_depay,
        &a_decode,
        &a_convert,
        &a_resample,
        &a_caps,
        &opus,
        &opus_pay,
    ];
    pipeline.add_many(chain)?;
    gst::Element::link_many(chain)?;

    Ok(UplinkGraph {
        input: UplinkInput {
            video: video_src,
            audio: audio_src,
        },
        layers,
        video_out: funnel,
        audio_out: opus_pay,
        audio_mid_ext,
    })
}

fn build_layer(
    pipeline: &gst::Pipeline,
    leg: &MeetLegSpec,
    layer: &LayerSpec,
    tee: &gst::Element,
    funnel: &gst::Element,
) -> Result<LayerChain, PipelineError> {
    let rid = &layer.rid;
    let queue = make("queue", &format!("layer_{rid}_queue"))?;
    queue.set_property("max-size-buffers", 3u32);
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    queue.set_property_from_str("leaky", "downstream");
    // add-borders keeps the picture's aspect ratio: 4:3 comes out pillarboxed, never stretched
    let scale = make("videoscale", &format!("layer_{rid}_scale"))?;
    scale.set_property("add-borders", true);
    let caps = make("capsfilter", &format!("layer_{rid}_caps"))?;
    caps.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .field("width", layer.width as i32)
            .field("height", layer.height as i32)
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build(),
    );
    // platform.md §4: realtime, one thread (libvpx MT spins on a loaded box), CBR, no lag;
    // keyframes come from PLIs, so the periodic ones are rare
    let encoder = make("vp8enc", &format!("layer_{rid}_vp8enc"))?;
    encoder.set_property("deadline", 1i64);
    encoder.set_property("cpu-used", -6i32);
    encoder.set_property("threads", 1i32);
    encoder.set_property_from_str("end-usage", "cbr");
    encoder.set_property_from_str("error-resilient", "default");
    encoder.set_property("lag-in-frames", 0i32);
    encoder.set_property("keyframe-max-dist", 3000i32);
    encoder.set_property("target-bitrate", layer.bitrate_bps as i32);
    // libwebrtc's rate-control buffer (1 s, start 0.5 s, optimal 0.6 s; undershoot 100 %,
    // overshoot 15 %): libvpx's default 6 s buffer lets the 720p layer run ~20 % over its
    // target for seconds, past Meet's 2 Mb/s (measured against meet-sim: 1.55 Mb/s for 1.3)
    encoder.set_property("buffer-size", 1000i32);
    encoder.set_property("buffer-initial-size", 500i32);
    encoder.set_property("buffer-optimal-size", 600i32);
    encoder.set_property("undershoot", 100i32);
    encoder.set_property("overshoot", 15i32);
    // and libwebrtc's frame dropping: on content no rate fits (noise), drop frames rather
    // than break Meet's cap (measured: SMPTE bars with their snow block, x264-decoded, cost
    // 1.7 Mb/s at 720p even at the highest quantizer; 1.34 Mb/s with dropping)
    encoder.set_property("dropframe-threshold", 30i32);
    let pay = make("rtpvp8pay", &format!("layer_{rid}_pay"))?;
    pay.set_property("pt", u32::from(leg.vp8_payload_type));
    pay.set_property("ssrc", layer.ssrc);
    pay.set_property_from_str("picture-id-mode", "15-bit");
    pay.set_property("mtu", 1200u32);
    pay.set_property("auto-header-extension", false);
    let mid_ext = header_ext(EXT_MID, EXT_ID_MID)?;
    let rid_ext = header_ext(EXT_RID, EXT_ID_RID)?;
    rid_ext.set_property("rid", rid.as_str());
    pay.emit_by_name::<()>("add-extension", &[&mid_ext]);
    pay.emit_by_name::<()>("add-extension", &[&rid_ext]);
    let chain = [&queue, &scale, &caps, &encoder, &pay];
    pipeline.add_many(chain)?;
    gst::Element::link_many(chain)?;
    tee.link(&queue)?;
    pay.link(funnel)?;
    Ok(LayerChain {
        spec: layer.clone(),
        encoder,
        mid_ext,
    })
}
