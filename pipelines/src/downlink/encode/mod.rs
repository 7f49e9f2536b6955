//! The video encoder toward the room system: `appsrc ! <codec chain> ! appsink`, one chain per
//! codec, and one output side that checks and sends what the payloader writes.
//!
//! - [`h264`]: `x264enc ! video/x-h264,profile=… ! rtph264pay` (profiles, levels, mode 0/1).
//! - [`h263`]: `avenc_h263p ! rtph263ppay` (RFC 4629) or `avenc_h263 ! rtph263pay` (RFC 2190).
//! - [`h261`]: `avenc_h261 ! rtph261pay` (RFC 4587).
//! - [`libav`]: the rate control and keyframe settings the libavcodec encoders share.
//! - [`output`]: the appsink side: MTU (and mode-0) check, frame and keyframe counters, and the
//!   [`DownlinkEvent::VideoRtp`](crate::downlink::DownlinkEvent::VideoRtp) events.
//!
//! Every codec runs one encoder thread in real time (the call's CPU is shared with many calls).
//! Intra pictures are forced the same way for all of them: an upstream `GstForceKeyUnit` event
//! into the encoder, which `GstVideoEncoder` turns into a forced key frame of the next input
//! frame (x264: an IDR; libavcodec: `pict_type = I`).

mod h261;
mod h263;
mod h264;
mod libav;
mod output;

use std::sync::Arc;

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{Shared, add_chain};
use crate::downlink::spec::{DownlinkSpec, VideoCodecOut};

/// The elements between the raw-video appsrc and the appsink, for one codec.
pub(crate) struct CodecChain {
    /// The encoder, which takes the force-key-unit events.
    encoder: gst::Element,
    /// What follows it, in order (caps filter, payloader).
    rest: Vec<gst::Element>,
}

/// The encoder's input end, driven by the tick thread.
pub(crate) struct Encoder {
    src: gst_app::AppSrc,
    encoder: gst::Element,
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
        let chain = match v.codec {
            VideoCodecOut::H264 => h264::chain(spec)?,
            VideoCodecOut::H263Plus | VideoCodecOut::H263 => h263::chain(spec)?,
            VideoCodecOut::H261 => h261::chain(spec)?,
        };
        let sink = output::sink(shared, spec);
        if v.codec == VideoCodecOut::H261 {
            // H.261 says nothing of intra pictures on the wire: count the encoder's own.
            output::count_sync_points(shared, &chain.encoder);
        }
        let mut elements: Vec<&gst::Element> = vec![src.upcast_ref(), &chain.encoder];
        elements.extend(chain.rest.iter());
        elements.push(sink.upcast_ref());
        add_chain(&shared.pipeline, &elements)?;
        Ok(Self {
            src,
            encoder: chain.encoder,
        })
    }

    /// Makes the next frame an intra picture (an IDR in H.264). For H.264 the SPS/PPS come with
    /// it from x264 and the payloader (`config-interval=-1`); `all-headers` stays off because
    /// `GstVideoEncoder` would push the headers again as a separate buffer, which `rtph264pay`
    /// sends as its own access unit with the marker bit set (a spurious "frame" of parameter
    /// sets before every forced IDR). The ITU codecs have no parameter sets.
    pub(crate) fn force_idr(&self) {
        let event = gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(false)
            .build();
        self.encoder.send_event(event);
    }

    /// Hands one canvas frame to the encoder (never blocks: the oldest queued frame is dropped if
    /// the encoder falls behind).
    pub(crate) fn push(&self, frame: gst::Buffer) -> Result<(), gst::FlowError> {
        self.src.push_buffer(frame).map(|_| ())
    }
}
