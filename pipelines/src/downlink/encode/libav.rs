//! What the libavcodec encoders (`avenc_h263p`, `avenc_h263`, `avenc_h261`) share: CBR-like rate
//! control, the GOP, and real-time settings.
//!
//! - `bitrate` the spec's, with `maxrate` equal to it and a VBV buffer (`bufsize`) of half a
//!   second, so a forced intra picture raises the quantiser rather than the rate. libavcodec has
//!   no filler for these codecs: a static canvas runs below the target, which is fine.
//! - `gop-size` the spec's longest GOP; no B-frames (`max-bframes=0`): no reordering delay.
//! - One thread (gst-libav's default `threads=1`, kept) and the default cheap motion search
//!   (EPZS, `mbd=simple`): at CIF this is a fraction of a core.
//! - `qos=false`: the tick thread already drops frames when the encoder falls behind.

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::make;
use crate::downlink::spec::DownlinkSpec;

/// A libavcodec video encoder of `factory`, named `venc-av`, set up for the spec.
pub(super) fn encoder(factory: &str, spec: &DownlinkSpec) -> Result<gst::Element, DownlinkError> {
    let v = &spec.video;
    let enc = make(factory, "venc-av")?;
    let bits = i64::from(v.bitrate_kbps) * 1000;
    enc.set_property(
        "bitrate",
        i32::try_from(bits).map_err(DownlinkError::build)?,
    );
    enc.set_property("maxrate", bits);
    enc.set_property(
        "bufsize",
        i32::try_from(bits / 2).map_err(DownlinkError::build)?,
    );
    enc.set_property(
        "gop-size",
        i32::try_from(v.keyframes.max_gop_frames).map_err(DownlinkError::build)?,
    );
    enc.set_property("max-bframes", 0i32);
    enc.set_property("qos", false);
    Ok(enc)
}
