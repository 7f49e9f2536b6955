//! The encoder and payloader after the audio mix, one pair per codec, each cutting packets of
//! exactly the spec's ptime:
//!
//! | codec | mix rate | chain | packet duration from |
//! |---|---|---|---|
//! | PCMU | 8 kHz | `mulawenc ! rtppcmupay` | `min-ptime` = `max-ptime` = ptime |
//! | PCMA | 8 kHz | `alawenc ! rtppcmapay` | `min-ptime` = `max-ptime` = ptime |
//! | G.722 | 16 kHz | `avenc_g722 ! rtpg722pay` | `min-ptime` = `max-ptime` = ptime |
//! | Opus | 48 kHz | `opusenc ! rtpopuspay` | `frame-size` = ptime (one frame a packet) |
//!
//! The G.711 and G.722 payloaders are `GstRTPBaseAudioPayload`s: with the minimum and maximum
//! duration equal they hold audio back until exactly one ptime is there and send exactly that.
//! G.722 codes 16 kHz audio at 4 bits a sample (8 bytes a ms) but its RTP clock is 8000 Hz
//! (RFC 3551 §4.5.2), which `rtpg722pay` knows: a 20 ms packet is 160 bytes and steps the
//! timestamp by 160. `rtpopuspay` sends each Opus packet as it comes, so the encoder's frame
//! duration is the ptime (hence Opus takes 10, 20, 40 or 60 ms only).

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::make;
use crate::downlink::spec::{AudioCodecOut, AudioOut, OPUS_BITRATE};

/// The encoder and payloader of `a`, named `aout-enc` and `aout-pay`; they take mono S16 audio
/// at `a.codec.sample_rate()`.
pub(crate) fn chain(a: &AudioOut) -> Result<[gst::Element; 2], DownlinkError> {
    let ptime_ns = i64::from(a.ptime_ms) * 1_000_000;
    let (enc, pay) = match a.codec {
        AudioCodecOut::Pcmu => ("mulawenc", "rtppcmupay"),
        AudioCodecOut::Pcma => ("alawenc", "rtppcmapay"),
        AudioCodecOut::G722 => ("avenc_g722", "rtpg722pay"),
        AudioCodecOut::Opus => ("opusenc", "rtpopuspay"),
    };
    let enc = make(enc, "aout-enc")?;
    let pay = make(pay, "aout-pay")?;
    if a.codec == AudioCodecOut::Opus {
        enc.set_property_from_str("frame-size", &a.ptime_ms.to_string());
        enc.set_property("bitrate", i32::try_from(OPUS_BITRATE).unwrap_or(i32::MAX));
    } else {
        pay.set_property("min-ptime", ptime_ns);
        pay.set_property("max-ptime", ptime_ns);
    }
    pay.set_property("pt", u32::from(a.payload_type));
    pay.set_property("ssrc", a.ssrc);
    Ok([enc, pay])
}
