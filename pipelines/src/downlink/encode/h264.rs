//! H.264: `x264enc ! video/x-h264,profile=… ! rtph264pay`.
//!
//! Settings (`shared/docs/media.md` §3, `platform.md` §4): x264 `tune=zerolatency
//! speed-preset=ultrafast threads=1`, CBR at the spec's bitrate, the level through x264's own
//! `level=` option (x264enc 1.22 does not take it from caps).
//!
//! Profiles: x264 writes the *lowest* `profile_idc` the coding tools it uses need, whatever the
//! caps ask, and `ultrafast` turns CABAC and the 8×8 transform off, so every profile would come
//! out as constrained baseline (`42c0xx`). Main turns CABAC on (`4d40xx`); High turns CABAC and
//! the 8×8 transform on (`6400xx`). Baseline and constrained baseline both come out as
//! `profile_idc` 66 with `constraint_set1_flag` set (x264 never uses FMO/ASO/redundant slices),
//! which a Baseline decoder takes.
//!
//! Packetization mode 0: x264 cuts slices by size (`slice-max-size`, so every NAL fits an RTP
//! packet), the payloader's MTU is set out of reach so it never fragments (`rtph264pay` 1.22
//! FU-A-fragments any NAL above its MTU whatever the negotiated mode), and the output check
//! drops (and counts) any payload that is not a single NAL unit or exceeds the MTU, then asks for
//! an IDR to repair the picture. `config-interval=-1` repeats SPS/PPS before every IDR.

use gst::prelude::*;

use crate::downlink::encode::CodecChain;
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::make;
use crate::downlink::spec::{DownlinkSpec, H264Profile, Packetization};

/// The payloader MTU in mode 0: larger than any slice x264 writes, so it never fragments.
const MODE0_PAYLOADER_MTU: u32 = 65_000;

pub(super) fn chain(spec: &DownlinkSpec) -> Result<CodecChain, DownlinkError> {
    let v = &spec.video;
    let x264 = make("x264enc", "venc-x264")?;
    x264.set_property_from_str("tune", "zerolatency");
    x264.set_property_from_str("speed-preset", "ultrafast");
    x264.set_property("threads", 1u32);
    x264.set_property("bitrate", v.bitrate_kbps);
    x264.set_property("vbv-buf-capacity", 1000u32);
    x264.set_property("key-int-max", v.keyframes.max_gop_frames);
    x264.set_property("b-adapt", false);
    x264.set_property("bframes", 0u32);
    match v.profile {
        H264Profile::ConstrainedBaseline | H264Profile::Baseline => {}
        H264Profile::Main => x264.set_property("cabac", true),
        H264Profile::High => {
            x264.set_property("cabac", true);
            x264.set_property("dct8x8", true);
        }
    }
    let mut options = format!("level={}", v.level.dotted());
    if v.packetization == Packetization::SingleNal {
        options.push_str(&format!(":slice-max-size={}", spec.slice_max_size()));
    }
    x264.set_property("option-string", options);
    let caps = make("capsfilter", "venc-caps")?;
    caps.set_property(
        "caps",
        gst::Caps::builder("video/x-h264")
            .field("profile", v.profile.caps_name())
            .field("stream-format", "byte-stream")
            .field("alignment", "au")
            .build(),
    );
    let pay = make("rtph264pay", "venc-pay")?;
    pay.set_property("pt", u32::from(v.payload_type));
    pay.set_property("ssrc", v.ssrc);
    pay.set_property("config-interval", -1i32);
    match v.packetization {
        Packetization::SingleNal => {
            pay.set_property("mtu", MODE0_PAYLOADER_MTU);
            pay.set_property_from_str("aggregate-mode", "none");
        }
        Packetization::NonInterleaved => {
            pay.set_property("mtu", v.mtu);
            pay.set_property_from_str("aggregate-mode", "zero-latency");
        }
    }
    Ok(CodecChain {
        encoder: x264,
        rest: vec![caps, pay],
    })
}
