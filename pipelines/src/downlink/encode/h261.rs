//! H.261 (RFC 4587) for the oldest room systems: `avenc_h261 ! rtph261pay`, QCIF or CIF, at
//! most 2 Mb/s (typically 384–768 kb/s at CIF).
//!
//! H.261 pictures are always cut into GOBs (12 at CIF, 3 at QCIF, each with a header); the
//! payloader fragments at macroblock boundaries, carrying the decoder state each packet needs
//! in its 4-byte header. An intra picture has no flag of its own in H.261 (see
//! [`crate::downlink::keyframe`]): a forced one is recognised by the decoder recovering from it.
//!
//! The payloader's MTU is [`MTU_MARGIN`] under the spec's: `rtph261pay` (1.22) always puts at
//! least one macroblock in a packet, so when whole GOBs have nearly filled a packet and the first
//! macroblock of the next GOB does not fit, it sends that GOB header and macroblock anyway and
//! the packet overshoots its MTU by up to one macroblock (108 bytes seen with noise at CIF). The
//! margin absorbs any macroblock up to its size; one larger still is dropped by the output check
//! (counted, and an intra picture requested), never sent over the MTU.

use gst::prelude::*;

use crate::downlink::encode::{CodecChain, libav};
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::make;
use crate::downlink::spec::DownlinkSpec;

/// How far under the spec's MTU the payloader is set (bytes): the largest overshoot absorbed.
pub(super) const MTU_MARGIN: u32 = 256;

pub(super) fn chain(spec: &DownlinkSpec) -> Result<CodecChain, DownlinkError> {
    let v = &spec.video;
    let enc = libav::encoder("avenc_h261", spec)?;
    let pay = make("rtph261pay", "venc-pay")?;
    pay.set_property("mtu", v.mtu - MTU_MARGIN);
    pay.set_property("pt", u32::from(v.payload_type));
    pay.set_property("ssrc", v.ssrc);
    Ok(CodecChain {
        encoder: enc,
        rest: vec![pay],
    })
}
