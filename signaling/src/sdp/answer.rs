//! Answering an offer (RFC 3264 §6): one answer `m=` line per offered one, in order; at most
//! one audio and one video stream accepted, each with exactly one codec (plus telephone
//! events); everything else rejected with port 0.
//!
//! The answer never contains a codec, payload type, `rtcp-fb` line, crypto suite or fmtp
//! parameter the offer did not have (Opus's receiver preferences `minptime` and
//! `useinbandfec`, which RFC 7587 §7 lets an answerer state, aside), nor a direction the
//! offered one does not permit (RFC 3264 §6.1).

use super::attribute::{Fmtp, RtpMap};
use super::caps::{CryptoPolicy, LocalCapabilities, RtcpFeedback};
use super::codec::{AudioCodec, VideoCodec};
use super::crypto::{self, CryptoAttribute, CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};
use super::direction::Direction;
use super::error::{NegotiationError, most_telling};
use super::h263;
use super::negotiated::{AudioFormat, NegotiatedMedia, NegotiatedStream, VideoFormat};
use super::params::{AnswerParams, StreamKind};
use super::select::{
    self, H264Agreement, RemoteTransport, RtpProfile, VideoMatch, remote_transport,
};
use super::session::{Attribute, Bandwidth, MediaDescription, MediaKind, SessionDescription};

/// Answers `offer` (RFC 3264 §6) and says what was agreed.
///
/// Errors, when no audio or video stream can be accepted although one was offered (the most
/// telling reason of all streams): [`NegotiationError::NoConnectionAddress`] (400),
/// [`EncryptionRequired`](NegotiationError::EncryptionRequired),
/// [`EncryptionRefused`](NegotiationError::EncryptionRefused),
/// [`NoCommonCryptoSuite`](NegotiationError::NoCommonCryptoSuite),
/// [`UnsupportedAddress`](NegotiationError::UnsupportedAddress),
/// [`NoCommonCodec`](NegotiationError::NoCommonCodec) (488). An offer with no active stream
/// at all (every port 0, or no `m=` line) is answered in kind with no media agreed.
pub fn answer(
    offer: &SessionDescription,
    params: &AnswerParams<'_>,
) -> Result<(SessionDescription, NegotiatedMedia), NegotiationError> {
    let mut description = params.empty_description();
    let mut media = NegotiatedMedia {
        audio: None,
        video: None,
    };
    let mut failures = Vec::new();
    let mut any_active = false;
    for (index, offered) in offer.media.iter().enumerate() {
        // RFC 3264 §6: "An offered stream MAY be rejected in the answer" by port 0, and one
        // offered with port 0 MUST be answered with port 0.
        let mut answered = rejected(offered);
        if !offered.is_rejected() {
            any_active = true;
            let stream = Stream {
                offer,
                index,
                offered,
                params,
            };
            match offered.media {
                MediaKind::Audio if media.audio.is_none() => match stream.audio() {
                    Ok((line, agreed)) => {
                        answered = line;
                        media.audio = Some(agreed);
                    }
                    Err(error) => failures.push(error),
                },
                MediaKind::Video if media.video.is_none() => match stream.video() {
                    Ok((line, agreed)) => {
                        answered = line;
                        media.video = Some(agreed);
                    }
                    Err(error) => failures.push(error),
                },
                _ => {}
            }
        }
        description.media.push(answered);
    }
    if any_active && media.audio.is_none() && media.video.is_none() {
        return Err(most_telling(failures));
    }
    Ok((description, media))
}

/// The answer to a stream we do not take: port 0, the offered type and protocol and its
/// first format only (RFC 3264 §6: a rejected stream still lists a format; no attributes).
fn rejected(offered: &MediaDescription) -> MediaDescription {
    let mut media = MediaDescription::new(offered.media.clone(), 0, offered.protocol.clone());
    media.formats = offered.formats.iter().take(1).cloned().collect();
    media
}

/// One offered stream being answered.
struct Stream<'a> {
    offer: &'a SessionDescription,
    index: usize,
    offered: &'a MediaDescription,
    params: &'a AnswerParams<'a>,
}

/// What the answerer takes from an offered `a=crypto` line.
struct ChosenKeys {
    line: CryptoAttribute,
    suite: CryptoSuite,
    remote_key: [u8; SRTP_KEY_SALT_LEN],
}

impl Stream<'_> {
    /// The SRTP decision for the stream under our policy (RFC 4568 §5.2, §7.1.2 for `RTP/SAVP`;
    /// SDES keys on `RTP/AVP` are "best-effort SRTP" as Polycom and Cisco send them).
    fn keys(&self) -> Result<Option<ChosenKeys>, NegotiationError> {
        let Some(profile) = RtpProfile::of(&self.offered.protocol) else {
            // DTLS-SRTP without SDES is a crypto mismatch; anything else is not RTP we carry.
            return Err(
                if self.offered.protocol.to_ascii_uppercase().contains("SAVP") {
                    NegotiationError::NoCommonCryptoSuite
                } else {
                    NegotiationError::NoCommonCodec
                },
            );
        };
        let lines = self.offered.crypto();
        let chosen = || {
            crypto::choose(&lines).map(|(line, suite, remote_key)| ChosenKeys {
                line: line.clone(),
                suite,
                remote_key,
            })
        };
        match (profile, self.params.crypto) {
            (RtpProfile::Secure, CryptoPolicy::Off) => Err(NegotiationError::EncryptionRefused),
            (RtpProfile::Secure, _) => chosen()
                .map(Some)
                .ok_or(NegotiationError::NoCommonCryptoSuite),
            (RtpProfile::Plain, CryptoPolicy::On) if lines.is_empty() => {
                Err(NegotiationError::EncryptionRequired)
            }
            (RtpProfile::Plain, CryptoPolicy::On) => chosen()
                .map(Some)
                .ok_or(NegotiationError::NoCommonCryptoSuite),
            (RtpProfile::Plain, CryptoPolicy::BestEffort) => Ok(chosen()),
            (RtpProfile::Plain, CryptoPolicy::Off) => Ok(None),
        }
    }

    /// Our direction: the offered one reversed (RFC 3264 §6.1), without sending to a peer
    /// on RFC 2543 hold (RFC 3264 §8.4).
    fn direction(&self, transport: &RemoteTransport) -> Direction {
        let ours = self.offer.media_direction(self.offered).reverse();
        if transport.hold {
            ours.without_send()
        } else {
            ours
        }
    }

    /// The answer `m=` line with the parts every accepted stream has, and the stream with a
    /// placeholder format.
    fn accept<F>(
        &self,
        kind: StreamKind,
        formats: Vec<u8>,
        format: F,
        keys: Option<ChosenKeys>,
    ) -> Result<(MediaDescription, NegotiatedStream<F>), NegotiationError> {
        // RFC 5761 §5.1.1: we multiplex when offered.
        let mux = self.offered.rtcp_mux();
        let transport = remote_transport(self.offer, self.index, self.offered, mux)?;
        let direction = self.direction(&transport);
        let mut line = self.params.media_line(kind, &self.offered.protocol, mux);
        line.formats = formats.iter().map(ToString::to_string).collect();
        let srtp = keys.map(|keys| {
            let local_key = self.params.key(kind);
            // RFC 4568 §5.2, §7.1.2: the answer has the offered tag and suite and our own key.
            line.attributes.push(
                CryptoAttribute::inline(keys.line.tag, keys.suite, &local_key).to_attribute(),
            );
            SrtpContext {
                suite: keys.suite,
                local_key,
                remote_key: keys.remote_key,
                tag: keys.line.tag,
            }
        });
        if mux {
            line.attributes.push(Attribute::property("rtcp-mux"));
        }
        let mut local = self.params.endpoint(kind);
        if mux {
            local.rtcp_port = local.rtp_port;
        }
        let stream = NegotiatedStream {
            format,
            payload_type: formats.first().copied().unwrap_or_default(),
            remote_rtp: transport.rtp,
            remote_rtcp: transport.rtcp,
            rtcp_mux: mux,
            direction,
            srtp,
            rtcp_fb: RtcpFeedback::NONE,
            bandwidth_kbps: select::remote_bandwidth_kbps(self.offer, self.offered),
            local,
        };
        Ok((line, stream))
    }

    /// The answer for an audio stream: the codec, then `telephone-event` at its clock rate.
    fn audio(&self) -> Result<(MediaDescription, NegotiatedStream<AudioFormat>), NegotiationError> {
        let keys = self.keys()?;
        let caps = self.params.caps;
        let (codec, pt, event) =
            choose_audio(self.offered, caps).ok_or(NegotiationError::NoCommonCodec)?;
        let mut formats = vec![pt];
        formats.extend(event);
        let format = AudioFormat {
            codec,
            clock_rate: codec.clock_rate(),
            channels: codec.channels(),
            telephone_event: event,
            ptime_ms: self.offered.ptime(),
        };
        let (mut line, stream) = self.accept(StreamKind::Audio, formats, format, keys)?;
        let mut attributes = vec![codec.rtpmap(pt).to_attribute()];
        if codec == AudioCodec::Opus {
            // RFC 7587 §6.1: receiver preferences we can state in an answer.
            attributes.push(Fmtp::attribute(pt, "minptime=10;useinbandfec=1"));
        }
        if let Some(event) = event {
            attributes
                .push(RtpMap::new(event, "telephone-event", codec.clock_rate()).to_attribute());
            if let Some(events) = self.answer_events(event) {
                attributes.push(Fmtp::attribute(event, &events));
            }
        }
        if self.offered.ptime().is_some() {
            // RFC 8866 §6.4: the packet time we want to receive.
            attributes.push(Attribute::new("ptime", "20"));
        }
        attributes.append(&mut line.attributes);
        attributes.push(Attribute::property(stream.direction.attribute_name()));
        line.attributes = attributes;
        Ok((line, stream))
    }

    /// The events of the answer's telephone-event fmtp: those offered among the DTMF events
    /// 0-15 we handle (RFC 4733 §7.1.1); `None` when the offer has no readable list.
    fn answer_events(&self, pt: u8) -> Option<String> {
        let offered = self.offered.fmtp(&pt.to_string())?;
        let events = dtmf_events(&offered.params)?;
        (events != 0).then(|| format_events(events))
    }

    /// The answer for a video stream.
    fn video(&self) -> Result<(MediaDescription, NegotiatedStream<VideoFormat>), NegotiationError> {
        let keys = self.keys()?;
        let caps = self.params.caps;
        let matches = select::video_matches(self.offered, caps);
        let chosen =
            select::preferred_video(&matches, caps).ok_or(NegotiationError::NoCommonCodec)?;
        let (codec, fmtp, agreement) = self.video_codec(chosen)?;
        let pt = chosen.payload_type;
        let format = select::video_format(
            self.offered,
            pt,
            codec.clone(),
            chosen.h264.as_ref().zip(agreement),
        );
        let (mut line, mut stream) = self.accept(StreamKind::Video, vec![pt], format, keys)?;
        let mut attributes = vec![codec.rtpmap(pt).to_attribute()];
        if let Some(fmtp) = fmtp {
            attributes.push(Fmtp::attribute(pt, &fmtp));
        }
        let (agreed, fb_lines) = select::feedback(self.offered, pt, caps.rtcp_fb);
        stream.rtcp_fb = agreed;
        attributes.extend(fb_lines.iter().map(|fb| fb.to_attribute()));
        attributes.append(&mut line.attributes);
        attributes.push(Attribute::property(stream.direction.attribute_name()));
        line.attributes = attributes;
        if let Some(kbps) = caps.max_video_kbps {
            // RFC 3264 §6.1 / RFC 8866 §5.8: b= in an answer is what the answerer receives.
            line.bandwidths.push(Bandwidth {
                kind: "AS".to_owned(),
                value: kbps.into(),
            });
            if select::uses_tias(self.offer, self.offered) {
                line.bandwidths.push(Bandwidth {
                    kind: "TIAS".to_owned(),
                    value: u64::from(kbps) * 1000,
                });
            }
        }
        Ok((line, stream))
    }

    /// The agreed codec, the answer's fmtp parameters and, for H.264, the levels.
    fn video_codec(
        &self,
        chosen: &VideoMatch,
    ) -> Result<(VideoCodec, Option<String>, Option<H264Agreement>), NegotiationError> {
        let cap = self
            .params
            .caps
            .video
            .get(chosen.cap)
            .ok_or(NegotiationError::NoCommonCodec)?;
        let offered_fmtp = self.offered.fmtp(&chosen.payload_type.to_string());
        match (cap, &chosen.h264) {
            (
                VideoCodec::H264 {
                    profile_level_id, ..
                },
                Some(offered),
            ) => {
                let agreement = select::answer_h264(offered, *profile_level_id)
                    .ok_or(NegotiationError::NoCommonCodec)?;
                // RFC 6184 §8.2.2: profile and packetization mode as offered, the level
                // ours; each parameter only if the offer had it.
                let mut params = Vec::new();
                if offered.profile_level_id.is_some() {
                    params.push(format!("profile-level-id={}", agreement.answer));
                }
                if offered.has_packetization_mode {
                    params.push(format!("packetization-mode={}", chosen.mode));
                }
                if offered.level_asymmetry_allowed {
                    params.push("level-asymmetry-allowed=1".to_owned());
                }
                let codec = VideoCodec::H264 {
                    profile_level_id: agreement.answer,
                    packetization_modes: vec![chosen.mode],
                };
                Ok((
                    codec,
                    (!params.is_empty()).then(|| params.join(";")),
                    Some(agreement),
                ))
            }
            (VideoCodec::H263 | VideoCodec::H263Plus, _) => {
                // RFC 4629 §8.1.1: the sizes we decode, of those offered.
                let sizes: Vec<_> = h263::picture_sizes(offered_fmtp.as_ref())
                    .into_iter()
                    .filter(h263::supported)
                    .collect();
                let fmtp = (!sizes.is_empty()).then(|| h263::fmtp_params(&sizes));
                Ok((cap.clone(), fmtp, None))
            }
            (VideoCodec::H261, _) => {
                // RFC 4587 §6.1: QCIF and CIF, of those offered.
                let sizes: Vec<_> = h263::picture_sizes(offered_fmtp.as_ref())
                    .into_iter()
                    .filter(h263::h261_supported)
                    .collect();
                let fmtp = (!sizes.is_empty()).then(|| h263::fmtp_params(&sizes));
                Ok((cap.clone(), fmtp, None))
            }
            (codec, _) => Ok((codec.clone(), None, None)),
        }
    }
}

/// The answerer's audio pick: the first of our codecs the offer has (RFC 3264 §6.1 lets the
/// answerer choose). When we take telephone events and the offer has some, a codec whose
/// clock rate they come at goes first: DTMF is how callers reach a meeting through the IVR,
/// and the events share the RTP timestamp clock of the audio they go with (RFC 4733).
fn choose_audio(
    offered: &MediaDescription,
    caps: &LocalCapabilities,
) -> Option<(AudioCodec, u8, Option<u8>)> {
    let matches = select::audio_matches(offered, caps);
    let by_preference = || {
        caps.audio.iter().filter_map(|codec| {
            matches
                .iter()
                .find(|(c, _)| c == codec)
                .map(|(c, pt)| (*c, *pt))
        })
    };
    if caps.telephone_event {
        let with_events = by_preference().find_map(|(codec, pt)| {
            select::telephone_event_at(offered, codec.clock_rate())
                .map(|event| (codec, pt, Some(event)))
        });
        if with_events.is_some() {
            return with_events;
        }
    }
    by_preference().next().map(|(codec, pt)| (codec, pt, None))
}

/// Reads an RFC 4733 §7.1.1 event list, e.g. `0-15,32-41`, into a mask of the DTMF events
/// 0-15 it has (bit `n` for event `n`).
pub(crate) fn dtmf_events(text: &str) -> Option<u16> {
    let mut mask = 0u16;
    for part in text.split(',') {
        let part = part.trim();
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let low: u8 = low.trim().parse().ok()?;
        let high: u8 = high.trim().parse().ok()?;
        if low > high {
            return None;
        }
        for event in low..=high.min(15) {
            mask |= 1 << event;
        }
    }
    Some(mask)
}

/// Writes a mask of DTMF events as ranges, e.g. `0-11,14`.
pub(crate) fn format_events(mask: u16) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut event = 0u8;
    while event < 16 {
        if mask & (1 << event) == 0 {
            event += 1;
            continue;
        }
        let start = event;
        while event < 15 && mask & (1 << (event + 1)) != 0 {
            event += 1;
        }
        parts.push(if start == event {
            start.to_string()
        } else {
            format!("{start}-{event}")
        });
        event += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_event_lists() {
        assert_eq!(dtmf_events("0-15"), Some(0xffff));
        assert_eq!(dtmf_events("0-16,32-41"), Some(0xffff));
        assert_eq!(dtmf_events(" 1 , 3-4 "), Some(0b11010));
        assert_eq!(dtmf_events("5-3"), None);
        assert_eq!(dtmf_events("300"), None);
        assert_eq!(dtmf_events(""), None);
        assert_eq!(format_events(0xffff), "0-15");
        assert_eq!(format_events(0b1000_0000_0000_1011), "0-1,3,15");
        assert_eq!(format_events(0), "");
    }
}
