//! Offering (RFC 3264 §5) for outbound SIP legs, and reading the answer to our offer (RFC
//! 3264 §7).
//!
//! Our offer has one audio and one video stream (each only when we have codecs for it), every
//! codec of ours in preference order, telephone events at each audio clock rate, our RTCP
//! feedback, `a=rtcp-mux` and, unless the policy is off, SDES keys: `RTP/SAVP` when SRTP is
//! required, keys on `RTP/AVP` (best-effort SRTP) otherwise.

use std::fmt;

use super::attribute::{Fmtp, RtcpFb, RtpMap};
use super::caps::{CryptoPolicy, Endpoint, LocalCapabilities, RtcpFeedback};
use super::codec::{AudioCodec, VideoCodec};
use super::crypto::{CryptoAttribute, CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};
use super::error::{NegotiationError, most_telling};
use super::h263::{self, H263Format, H263PictureSize};
use super::h264::{H264Params, ProfileLevelId};
use super::negotiated::{AudioFormat, NegotiatedMedia, NegotiatedStream, VideoFormat};
use super::params::{AnswerParams, OfferParams, StreamKind};
use super::select::{self, H264Agreement, RtpProfile, remote_transport};
use super::session::{Attribute, Bandwidth, MediaDescription, SessionDescription};

/// Our offer, kept until its answer arrives.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingOffer {
    description: SessionDescription,
    caps: LocalCapabilities,
    audio: Endpoint,
    video: Endpoint,
    crypto: CryptoPolicy,
    key_material: [u8; 60],
    audio_index: Option<usize>,
    video_index: Option<usize>,
}

impl PendingOffer {
    /// The offer as sent.
    pub fn description(&self) -> &SessionDescription {
        &self.description
    }

    fn params(&self) -> AnswerParams<'_> {
        AnswerParams {
            caps: &self.caps,
            audio: self.audio,
            video: self.video,
            crypto: self.crypto,
            srtp_key_material: self.key_material,
            session_id: self.description.origin.session_id,
            session_version: self.description.origin.session_version,
            username: &self.description.origin.username,
        }
    }
}

impl fmt::Debug for PendingOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingOffer")
            .field("description", &self.description)
            .field("caps", &self.caps)
            .field("crypto", &self.crypto)
            .field("key_material", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Picture sizes we offer to receive for H.263 (RFC 4629 §8.1.1), largest first.
const H263_SIZES: [H263PictureSize; 4] = [
    H263PictureSize {
        format: H263Format::Cif4,
        mpi: 1,
    },
    H263PictureSize {
        format: H263Format::Cif,
        mpi: 1,
    },
    H263PictureSize {
        format: H263Format::Qcif,
        mpi: 1,
    },
    H263PictureSize {
        format: H263Format::Sqcif,
        mpi: 1,
    },
];

/// Builds our offer (RFC 3264 §5): an audio and a video stream (each only with codecs for
/// it), all our codecs in preference order on dynamic payload types from 96 up, telephone
/// events per audio clock rate, H.264 once per packetization mode with
/// `level-asymmetry-allowed=1`, our `rtcp-fb` lines, `b=AS`/`b=TIAS` from
/// `max_video_kbps`, `a=rtcp-mux`, `a=sendrecv`; `RTP/SAVP` with SDES keys under
/// [`CryptoPolicy::On`], `RTP/AVP` with keys (best-effort SRTP) under
/// [`CryptoPolicy::BestEffort`], `RTP/AVP` without keys under [`CryptoPolicy::Off`].
pub fn offer(params: &OfferParams<'_>) -> (SessionDescription, PendingOffer) {
    let mut description = params.empty_description();
    let (protocol, with_keys) = match params.crypto {
        CryptoPolicy::On => ("RTP/SAVP", true),
        CryptoPolicy::BestEffort => ("RTP/AVP", true),
        CryptoPolicy::Off => ("RTP/AVP", false),
    };
    let mut payload_types = PayloadTypes { next: 96 };
    let mut audio_index = None;
    let mut video_index = None;
    if let Some(line) = audio_section(params, protocol, with_keys, &mut payload_types) {
        audio_index = Some(description.media.len());
        description.media.push(line);
    }
    if let Some(line) = video_section(params, protocol, with_keys, &mut payload_types) {
        video_index = Some(description.media.len());
        description.media.push(line);
    }
    let pending = PendingOffer {
        description: description.clone(),
        caps: params.caps.clone(),
        audio: params.audio,
        video: params.video,
        crypto: params.crypto,
        key_material: params.srtp_key_material,
        audio_index,
        video_index,
    };
    (description, pending)
}

/// Our audio `m=` section, `None` without audio codecs.
fn audio_section(
    params: &OfferParams<'_>,
    protocol: &str,
    with_keys: bool,
    payload_types: &mut PayloadTypes,
) -> Option<MediaDescription> {
    let caps = params.caps;
    if caps.audio.is_empty() {
        return None;
    }
    let mut line = params.media_line(StreamKind::Audio, protocol, false);
    let mut attributes = Vec::new();
    let mut clock_rates = Vec::new();
    for (index, codec) in caps.audio.iter().enumerate() {
        if caps.audio[..index].contains(codec) {
            continue;
        }
        let Some(pt) = payload_types.take(codec.static_payload_type()) else {
            continue;
        };
        line.formats.push(pt.to_string());
        attributes.push(codec.rtpmap(pt).to_attribute());
        if *codec == AudioCodec::Opus {
            // RFC 7587 §6.1: receiver preferences.
            attributes.push(Fmtp::attribute(pt, "minptime=10;useinbandfec=1"));
        }
        if !clock_rates.contains(&codec.clock_rate()) {
            clock_rates.push(codec.clock_rate());
        }
    }
    if caps.telephone_event {
        // One telephone-event format per audio clock rate: events share the RTP timestamp
        // clock of the audio they go with (RFC 4733).
        for rate in clock_rates {
            let Some(pt) = payload_types.take(None) else {
                break;
            };
            line.formats.push(pt.to_string());
            attributes.push(RtpMap::new(pt, "telephone-event", rate).to_attribute());
            attributes.push(Fmtp::attribute(pt, "0-15"));
        }
    }
    finish_line(params, StreamKind::Audio, with_keys, &mut line, attributes);
    Some(line)
}

/// Our video `m=` section, `None` without video codecs.
fn video_section(
    params: &OfferParams<'_>,
    protocol: &str,
    with_keys: bool,
    payload_types: &mut PayloadTypes,
) -> Option<MediaDescription> {
    let caps = params.caps;
    if caps.video.is_empty() {
        return None;
    }
    let mut line = params.media_line(StreamKind::Video, protocol, false);
    let mut attributes = Vec::new();
    let mut feedback = Vec::new();
    for (index, codec) in caps.video.iter().enumerate() {
        if caps.video[..index].contains(codec) {
            continue;
        }
        for (pt, fmtp) in video_formats(codec, payload_types) {
            line.formats.push(pt.to_string());
            attributes.push(codec.rtpmap(pt).to_attribute());
            if let Some(fmtp) = fmtp {
                attributes.push(Fmtp::attribute(pt, &fmtp));
            }
            feedback.extend(feedback_lines(pt, caps));
        }
    }
    attributes.append(&mut feedback);
    finish_line(params, StreamKind::Video, with_keys, &mut line, attributes);
    if let Some(kbps) = caps.max_video_kbps {
        // RFC 8866 §5.8 and RFC 3890: what we want to receive at most.
        line.bandwidths.push(Bandwidth {
            kind: "AS".to_owned(),
            value: kbps.into(),
        });
        line.bandwidths.push(Bandwidth {
            kind: "TIAS".to_owned(),
            value: u64::from(kbps) * 1000,
        });
    }
    Some(line)
}

/// Dynamic payload types handed out from 96 up (RFC 3551 §3), distinct across the session.
struct PayloadTypes {
    next: u8,
}

impl PayloadTypes {
    /// The static type if there is one, else the next dynamic one; `None` when all 32 are
    /// used.
    fn take(&mut self, fixed: Option<u8>) -> Option<u8> {
        if fixed.is_some() {
            return fixed;
        }
        let pt = self.next;
        (pt <= 127).then(|| {
            self.next += 1;
            pt
        })
    }
}

/// The payload types and fmtp parameters we offer for one video codec: H.264 once per
/// packetization mode (RFC 6184 §8.1), with `level-asymmetry-allowed=1` so the peer may send
/// at its own level.
fn video_formats(
    codec: &VideoCodec,
    payload_types: &mut PayloadTypes,
) -> Vec<(u8, Option<String>)> {
    let mut formats = Vec::new();
    match codec {
        VideoCodec::H264 {
            profile_level_id,
            packetization_modes,
        } => {
            for mode in packetization_modes {
                let Some(pt) = payload_types.take(None) else {
                    break;
                };
                formats.push((
                    pt,
                    Some(format!(
                        "profile-level-id={profile_level_id};packetization-mode={mode};level-asymmetry-allowed=1"
                    )),
                ));
            }
        }
        VideoCodec::H263 | VideoCodec::H263Plus => {
            if let Some(pt) = payload_types.take(codec.static_payload_type()) {
                formats.push((pt, Some(h263::fmtp_params(&H263_SIZES))));
            }
        }
        VideoCodec::H261 => {
            if let Some(pt) = payload_types.take(codec.static_payload_type()) {
                let sizes: Vec<_> = H263_SIZES
                    .into_iter()
                    .filter(h263::h261_supported)
                    .collect();
                formats.push((pt, Some(h263::fmtp_params(&sizes))));
            }
        }
        VideoCodec::Vp8 => formats.extend(payload_types.take(None).map(|pt| (pt, None))),
    }
    formats
}

/// Our `rtcp-fb` lines for a video payload type (RFC 4585 §4.2, RFC 5104 §7.1).
fn feedback_lines(pt: u8, caps: &LocalCapabilities) -> Vec<Attribute> {
    let fb = caps.rtcp_fb;
    [
        (fb.nack, "nack", None),
        (fb.pli, "nack", Some("pli")),
        (fb.fir, "ccm", Some("fir")),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, kind, param)| {
        RtcpFb {
            payload_type: Some(pt),
            kind: kind.to_owned(),
            param: param.map(str::to_owned),
        }
        .to_attribute()
    })
    .collect()
}

/// Adds keys, `a=rtcp-mux`, `a=sendrecv` and whatever `media_line` put (`a=rtcp`) after the
/// codec attributes.
fn finish_line(
    params: &OfferParams<'_>,
    kind: StreamKind,
    with_keys: bool,
    line: &mut MediaDescription,
    mut attributes: Vec<Attribute>,
) {
    if with_keys {
        let key = params.key(kind);
        for (tag, suite) in (1..).zip(CryptoSuite::PREFERENCE) {
            attributes.push(CryptoAttribute::inline(tag, suite, &key).to_attribute());
        }
    }
    attributes.append(&mut line.attributes);
    attributes.push(Attribute::property("rtcp-mux"));
    attributes.push(Attribute::property("sendrecv"));
    line.attributes = attributes;
}

/// Reads the answer to our offer (RFC 3264 §7) and says what was agreed.
///
/// The answer must have our number of media sections of the same types (RFC 3264 §6), else
/// [`NegotiationError::AnswerMismatch`]. A stream the answer accepts but that we cannot use
/// (a codec or key we did not offer, no address) is left out; when that leaves nothing, the
/// most telling reason is the error, [`NegotiationError::NoCommonCodec`] when the answer
/// rejected every stream.
pub fn accept_answer(
    pending: &PendingOffer,
    answer: &SessionDescription,
) -> Result<NegotiatedMedia, NegotiationError> {
    let offered = &pending.description.media;
    if answer.media.len() != offered.len() {
        return Err(NegotiationError::AnswerMismatch(format!(
            "{} media sections in the answer for {} offered",
            answer.media.len(),
            offered.len()
        )));
    }
    if let Some(index) = (0..offered.len()).find(|i| offered[*i].media != answer.media[*i].media) {
        return Err(NegotiationError::AnswerMismatch(format!(
            "media section {index} changed its type"
        )));
    }
    let params = pending.params();
    let mut media = NegotiatedMedia {
        audio: None,
        video: None,
    };
    let mut failures = Vec::new();
    let answered = |index: Option<usize>| {
        let index = index?;
        let theirs = answer.media.get(index)?;
        let ours = offered.get(index)?;
        (!theirs.is_rejected()).then_some(Answered {
            answer,
            index,
            ours,
            theirs,
            params: &params,
        })
    };
    if let Some(stream) = answered(pending.audio_index) {
        match stream.audio() {
            Ok(agreed) => media.audio = Some(agreed),
            Err(error) => failures.push(error),
        }
    }
    if let Some(stream) = answered(pending.video_index) {
        match stream.video() {
            Ok(agreed) => media.video = Some(agreed),
            Err(error) => failures.push(error),
        }
    }
    if media.audio.is_none() && media.video.is_none() && !offered.is_empty() {
        return Err(most_telling(failures));
    }
    Ok(media)
}

/// One stream of ours the answer accepted.
struct Answered<'a> {
    answer: &'a SessionDescription,
    index: usize,
    ours: &'a MediaDescription,
    theirs: &'a MediaDescription,
    params: &'a AnswerParams<'a>,
}

impl Answered<'_> {
    /// The keys: the answer's line must carry the tag and suite of one of ours (RFC 4568
    /// §5.3, §7.1.3); `RTP/SAVP` needs one, best-effort keys on `RTP/AVP` may go unanswered.
    fn srtp(&self, kind: StreamKind) -> Result<Option<SrtpContext>, NegotiationError> {
        if !self
            .theirs
            .protocol
            .eq_ignore_ascii_case(&self.ours.protocol)
        {
            return Err(NegotiationError::AnswerMismatch(format!(
                "protocol {} answered with {}",
                self.ours.protocol, self.theirs.protocol
            )));
        }
        let offered = self.ours.crypto();
        if offered.is_empty() {
            return Ok(None);
        }
        let answered = self.theirs.crypto();
        let agreed = answered.iter().find_map(|line| {
            let suite = line.known_suite()?;
            offered
                .iter()
                .find(|ours| ours.tag == line.tag && ours.suite == line.suite)?;
            let remote_key: [u8; SRTP_KEY_SALT_LEN] = line.usable_key()?;
            Some(SrtpContext {
                suite,
                local_key: self.params.key(kind),
                remote_key,
                tag: line.tag,
            })
        });
        match agreed {
            Some(context) => Ok(Some(context)),
            None if !answered.is_empty() => Err(NegotiationError::AnswerMismatch(
                "a=crypto does not answer an offered line".to_owned(),
            )),
            None if RtpProfile::of(&self.ours.protocol) == Some(RtpProfile::Secure) => {
                Err(NegotiationError::NoCommonCryptoSuite)
            }
            None => Ok(None),
        }
    }

    /// The parts every stream has; `format` and `payload_type` from the caller.
    fn stream<F>(
        &self,
        kind: StreamKind,
        format: F,
        payload_type: u8,
    ) -> Result<NegotiatedStream<F>, NegotiationError> {
        let srtp = self.srtp(kind)?;
        // RFC 5761 §5.1.1: multiplex when both sides said so.
        let mux = self.ours.rtcp_mux() && self.theirs.rtcp_mux();
        let transport = remote_transport(self.answer, self.index, self.theirs, mux)?;
        // Our offer was sendrecv; our side is the answer's reversed (RFC 3264 §6.1), without
        // sending to a peer that answered with 0.0.0.0 (RFC 3264 §8.4).
        let mut direction = self.answer.media_direction(self.theirs).reverse();
        if transport.hold {
            direction = direction.without_send();
        }
        let mut local = self.params.endpoint(kind);
        if mux {
            local.rtcp_port = local.rtp_port;
        }
        Ok(NegotiatedStream {
            format,
            payload_type,
            remote_rtp: transport.rtp,
            remote_rtcp: transport.rtcp,
            rtcp_mux: mux,
            direction,
            srtp,
            rtcp_fb: RtcpFeedback::NONE,
            bandwidth_kbps: select::remote_bandwidth_kbps(self.answer, self.theirs),
            local,
        })
    }

    /// The audio stream: the answer's first codec of ours (RFC 3264 §6.1: the answerer lists
    /// its preference first).
    fn audio(&self) -> Result<NegotiatedStream<AudioFormat>, NegotiationError> {
        let caps = self.params.caps;
        let (codec, pt) = select::audio_matches(self.theirs, caps)
            .first()
            .copied()
            .ok_or(NegotiationError::NoCommonCodec)?;
        let telephone_event = if caps.telephone_event {
            select::telephone_event_at(self.theirs, codec.clock_rate())
        } else {
            None
        };
        let format = AudioFormat {
            codec,
            clock_rate: codec.clock_rate(),
            channels: codec.channels(),
            telephone_event,
            ptime_ms: self.theirs.ptime(),
        };
        self.stream(StreamKind::Audio, format, pt)
    }

    /// The video stream: the answer's first codec of ours; for H.264 the answer's
    /// `profile-level-id` and packetization mode (RFC 6184 §8.2.2).
    fn video(&self) -> Result<NegotiatedStream<VideoFormat>, NegotiationError> {
        let caps = self.params.caps;
        let matches = select::video_matches(self.theirs, caps);
        let chosen = matches.first().ok_or(NegotiationError::NoCommonCodec)?;
        let cap = caps
            .video
            .get(chosen.cap)
            .ok_or(NegotiationError::NoCommonCodec)?;
        let pt = chosen.payload_type;
        let format = match (cap, &chosen.h264) {
            (
                VideoCodec::H264 {
                    profile_level_id, ..
                },
                Some(params),
            ) => {
                let agreement = offerer_h264(params, *profile_level_id)
                    .ok_or(NegotiationError::NoCommonCodec)?;
                let codec = VideoCodec::H264 {
                    profile_level_id: agreement.answer,
                    packetization_modes: vec![chosen.mode],
                };
                select::video_format(self.theirs, pt, codec, Some((params, agreement)))
            }
            (codec, _) => select::video_format(self.theirs, pt, codec.clone(), None),
        };
        let mut stream = self.stream(StreamKind::Video, format, pt)?;
        stream.rtcp_fb = select::feedback(self.theirs, pt, caps.rtcp_fb).0;
        Ok(stream)
    }
}

/// The offerer's H.264 levels (RFC 6184 §8.2.2): we send up to the answer's level either
/// way; we receive up to our own level when the answer also allows level asymmetry (our
/// offer always does), else up to the answer's.
fn offerer_h264(answered: &H264Params, ours: ProfileLevelId) -> Option<H264Agreement> {
    let theirs = answered.profile_level_id();
    let their_level = theirs.level()?;
    let receive = if answered.level_asymmetry_allowed {
        ours.level()?
    } else {
        their_level
    };
    Some(H264Agreement {
        answer: theirs,
        send: their_level,
        receive,
    })
}
