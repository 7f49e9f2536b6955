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
//!
//! Opus timestamps: `opusenc` stamps its first packet 312 samples (its pre-skip) late and every
//! later one on time, so the first two packets would be only 13.5 ms apart at ptime 20. Opus RTP
//! timestamps simply count 48 kHz samples (RFC 7587 §4.1) and RTP carries no pre-skip, so a
//! probe on the encoder's output restamps packet `n` at `first + n × ptime`: the mix is one
//! continuous live stream, and every packet steps the timestamp by exactly `48 × ptime`.

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
        restamp_by_count(&enc, gst::ClockTime::from_mseconds(u64::from(a.ptime_ms)));
    } else {
        pay.set_property("min-ptime", ptime_ns);
        pay.set_property("max-ptime", ptime_ns);
    }
    pay.set_property("pt", u32::from(a.payload_type));
    pay.set_property("ssrc", a.ssrc);
    Ok([enc, pay])
}

/// Restamps the buffers leaving `encoder` at `first + n × duration` (see the module docs).
fn restamp_by_count(encoder: &gst::Element, duration: gst::ClockTime) {
    let Some(pad) = encoder.static_pad("src") else {
        return;
    };
    // (first PTS, packets so far), touched only by the encoder's streaming thread.
    let state = std::sync::Mutex::new((None::<gst::ClockTime>, 0u64));
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if let Some(buffer) = info.buffer_mut()
            && let Some(pts) = buffer.pts()
        {
            let mut state = crate::downlink::lock(&state);
            let start = *state.0.get_or_insert(pts);
            let buffer = buffer.make_mut();
            buffer.set_pts(start + duration * state.1);
            buffer.set_duration(duration);
            state.1 += 1;
        }
        gst::PadProbeReturn::Ok
    });
}
