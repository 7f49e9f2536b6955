//! H.263 toward room systems that offer nothing newer, in either RTP format:
//!
//! - RFC 4629 (`H263-1998`): `avenc_h263p ! rtph263ppay`. libavcodec's H.263+ with no optional
//!   annexes (no UMV, AIC, deblocking, slice structure), so any H.263+ decoder takes it; the
//!   picture header is PLUSPTYPE. The encoder starts a GOB with a header at the first macroblock
//!   row after `ps` bytes (set just under the MTU); the payloader cuts at those GOB starts where
//!   it can (`fragmentation-mode=sync`), anywhere else (RFC 4629 allows it) when a GOB is larger
//!   than the MTU.
//! - RFC 2190 (`H263`): `avenc_h263 ! rtph263pay`, baseline H.263 at a standard source format.
//!   `rtph263pay` packs whole GOBs into mode A packets up to the MTU and splits a GOB larger than
//!   the MTU at macroblocks (mode B), but only when it finds *every* GOB header of the picture:
//!   without them it sends the whole picture as one oversized mode A packet. So the encoder
//!   writes a GOB header at every GOB (`ps=1`: "start a GOB as soon as one byte is written"),
//!   about 4 bytes a GOB row.

use gst::prelude::*;

use crate::downlink::encode::{CodecChain, libav};
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::make;
use crate::downlink::spec::{DownlinkSpec, VideoCodecOut};

/// RTP header and the largest H.263 payload header (RFC 2190 mode B: 8 bytes).
const HEADERS: u32 = 12 + 8;

pub(super) fn chain(spec: &DownlinkSpec) -> Result<CodecChain, DownlinkError> {
    let v = &spec.video;
    let plus = v.codec == VideoCodecOut::H263Plus;
    let enc = libav::encoder(if plus { "avenc_h263p" } else { "avenc_h263" }, spec)?;
    let ps = if plus {
        i32::try_from(v.mtu - HEADERS).map_err(DownlinkError::build)?
    } else {
        1
    };
    enc.set_property("ps", ps);
    let pay = make(if plus { "rtph263ppay" } else { "rtph263pay" }, "venc-pay")?;
    if plus {
        pay.set_property_from_str("fragmentation-mode", "sync");
    }
    pay.set_property("mtu", v.mtu);
    pay.set_property("pt", u32::from(v.payload_type));
    pay.set_property("ssrc", v.ssrc);
    Ok(CodecChain {
        encoder: enc,
        rest: vec![pay],
    })
}
