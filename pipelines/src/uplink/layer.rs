//! One simulcast layer: the decoded picture scaled to the layer's exact size (4:3 and other
//! shapes pillarboxed or letterboxed, never stretched), VP8-encoded and packetized.
//!
//! ```text
//! tee → queue (leaky, 3 pictures) → videoscale add-borders → capsfilter (I420, exact size,
//!   PAR 1/1) → vp8enc → rtpvp8pay (fixed SSRC, 15-bit PictureID, MID + RID) → rtpfunnel
//! ```
//!
//! The capsfilter fixes only format, size and pixel aspect ratio: when the room system
//! changes its picture size mid-call (a new SPS and IDR), `videoscale` renegotiates its input
//! alone and the encoder keeps its caps, its rate control and its stream (its caps change only
//! if the frame rate does).

use gst::prelude::*;

use crate::error::PipelineError;
use crate::spec::{LayerSpec, MeetLegSpec};
use crate::uplink::{EXT_ID_MID, EXT_ID_RID, EXT_MID, EXT_RID, LayerChain, header_ext, make};

/// Builds one layer's chain into `pipeline`, from `tee` to `funnel`.
pub(crate) fn build_layer(
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
