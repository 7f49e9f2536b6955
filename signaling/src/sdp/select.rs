//! The pieces of a negotiation both the answerer ([`answer`](super::answer)) and the offerer
//! reading an answer ([`offer`](super::offer)) need: which RTP profile a stream uses, where the
//! peer wants media, what it may receive, and which of its formats are codecs of ours.

use std::net::{IpAddr, SocketAddr};

use super::attribute::{RtcpFb, RtpMap};
use super::caps::{LocalCapabilities, RtcpFeedback};
use super::codec::{AudioCodec, VideoCodec, offered_formats};
use super::error::NegotiationError;
use super::h263;
use super::h264::{H264Level, H264Params, ProfileLevelId};
use super::negotiated::VideoFormat;
use super::session::{MediaDescription, SessionDescription, bandwidth};

/// The RTP profile of an `m=` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RtpProfile {
    /// `RTP/AVP` (RFC 3551) or `RTP/AVPF` (RFC 4585): plain RTP, keys optional.
    Plain,
    /// `RTP/SAVP` (RFC 3711) or `RTP/SAVPF` (RFC 5124): SRTP mandatory.
    Secure,
}

impl RtpProfile {
    /// The profile of a protocol we carry; `None` for DTLS-SRTP (`UDP/TLS/RTP/SAVP(F)`, which
    /// needs ICE and DTLS we do not have), TCP, BFCP and the rest.
    pub(crate) fn of(protocol: &str) -> Option<Self> {
        let upper = protocol.to_ascii_uppercase();
        match upper.as_str() {
            "RTP/AVP" | "RTP/AVPF" => Some(Self::Plain),
            "RTP/SAVP" | "RTP/SAVPF" => Some(Self::Secure),
            _ => None,
        }
    }
}

/// Where the peer wants a stream's media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemoteTransport {
    pub(crate) rtp: SocketAddr,
    pub(crate) rtcp: SocketAddr,
    pub(crate) rtcp_mux: bool,
    /// The connection address is 0.0.0.0 (or `::`): RFC 3264 §8.4 says "neither RTP nor RTCP
    /// is to be sent to the peer" (RFC 2543 hold).
    pub(crate) hold: bool,
}

/// The peer's transport for `media` (section `index` of `session`). `mux` is whether RTP and
/// RTCP share a port (RFC 5761 §5.1.1: when both sides say `a=rtcp-mux`).
pub(crate) fn remote_transport(
    session: &SessionDescription,
    index: usize,
    media: &MediaDescription,
    mux: bool,
) -> Result<RemoteTransport, NegotiationError> {
    let connection = session
        .connection_for(media)
        .ok_or(NegotiationError::NoConnectionAddress { index })?;
    let unsupported = || NegotiationError::UnsupportedAddress {
        index,
        address: connection.address.clone(),
    };
    let ip = connection.ip().ok_or_else(unsupported)?;
    if ip.is_multicast() {
        return Err(unsupported());
    }
    let rtp = SocketAddr::new(ip, media.port);
    let rtcp = if mux {
        rtp
    } else if let Some(attribute) = media.rtcp() {
        // RFC 3605 §2.1: the port, and the address when given (else the media's).
        let rtcp_ip = attribute
            .connection
            .and_then(|c| c.ip())
            .filter(|ip: &IpAddr| !ip.is_multicast())
            .unwrap_or(ip);
        SocketAddr::new(rtcp_ip, attribute.port)
    } else {
        // RFC 3550 §11: RTCP on the next port up (65535 cannot have one; keep it).
        SocketAddr::new(ip, media.port.saturating_add(1))
    };
    Ok(RemoteTransport {
        rtp,
        rtcp,
        rtcp_mux: mux,
        hold: ip.is_unspecified(),
    })
}

/// The most the peer receives on `media`, in kbit/s: `b=TIAS` / 1000 (RFC 3890, the
/// application rate without transport overhead) else `b=AS` (RFC 8866 §5.8), media-level
/// before session-level.
pub(crate) fn remote_bandwidth_kbps(
    session: &SessionDescription,
    media: &MediaDescription,
) -> Option<u32> {
    let kbps = media
        .bandwidth("TIAS")
        .map(|bps| bps / 1000)
        .or_else(|| media.bandwidth("AS"))
        .or_else(|| bandwidth(&session.bandwidths, "TIAS").map(|bps| bps / 1000))
        .or_else(|| bandwidth(&session.bandwidths, "AS"))?;
    Some(u32::try_from(kbps).unwrap_or(u32::MAX))
}

/// Whether the peer uses `b=TIAS` anywhere for `media`.
pub(crate) fn uses_tias(session: &SessionDescription, media: &MediaDescription) -> bool {
    media.bandwidth("TIAS").is_some() || bandwidth(&session.bandwidths, "TIAS").is_some()
}

/// The audio formats of `media` that are codecs of ours: `(codec, payload type)` in the order
/// of the `m=` line.
pub(crate) fn audio_matches(
    media: &MediaDescription,
    caps: &LocalCapabilities,
) -> Vec<(AudioCodec, u8)> {
    offered_formats(media)
        .iter()
        .filter_map(|map| {
            caps.audio
                .iter()
                .find(|codec| codec.matches(map))
                .map(|codec| (*codec, map.payload_type))
        })
        .collect()
}

/// The `telephone-event` formats of `media` (RFC 4733 §7.1.1), in order.
pub(crate) fn telephone_events(media: &MediaDescription) -> Vec<RtpMap> {
    offered_formats(media)
        .into_iter()
        .filter(|map| map.encoding.eq_ignore_ascii_case("telephone-event"))
        .collect()
}

/// The payload type of the telephone events of `media` at `clock_rate` (RFC 4733: the
/// events use the clock of the audio they go with).
pub(crate) fn telephone_event_at(media: &MediaDescription, clock_rate: u32) -> Option<u8> {
    telephone_events(media)
        .iter()
        .find(|map| map.clock_rate == clock_rate)
        .map(|map| map.payload_type)
}

/// A video format of the peer's that is a codec of ours, with the agreed format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VideoMatch {
    /// The index of the codec in our capabilities.
    pub(crate) cap: usize,
    /// The peer's payload type.
    pub(crate) payload_type: u8,
    /// The peer's H.264 parameters.
    pub(crate) h264: Option<H264Params>,
    /// The packetization mode, for H.264.
    pub(crate) mode: u8,
}

/// The video formats of `media` that are codecs of ours, in the order of the `m=` line. An
/// H.264 format matches when its profile is ours (RFC 6184 §8.2.2: the profile is symmetric;
/// [`ProfileLevelId::same_profile`]), its level is readable and its packetization mode is one
/// we support.
pub(crate) fn video_matches(media: &MediaDescription, caps: &LocalCapabilities) -> Vec<VideoMatch> {
    let mut matches = Vec::new();
    for map in offered_formats(media) {
        let pt = map.payload_type;
        let found = caps.video.iter().enumerate().find_map(|(cap, codec)| {
            if !codec.matches(&map) {
                return None;
            }
            let VideoCodec::H264 {
                profile_level_id,
                packetization_modes,
            } = codec
            else {
                return Some(VideoMatch {
                    cap,
                    payload_type: pt,
                    h264: None,
                    mode: 0,
                });
            };
            let params = H264Params::from_fmtp(media.fmtp(&pt.to_string()).as_ref())?;
            let theirs = params.profile_level_id();
            let usable = theirs.same_profile(*profile_level_id)
                && theirs.level().is_some()
                && profile_level_id.level().is_some()
                && packetization_modes.contains(&params.packetization_mode);
            usable.then_some(VideoMatch {
                cap,
                payload_type: pt,
                h264: Some(params),
                mode: params.packetization_mode,
            })
        });
        matches.extend(found);
    }
    matches
}

/// The answerer's pick among `matches`: the first of our codecs the peer has; for H.264 our
/// most preferred packetization mode (mode 1 before mode 0 by default), then the peer's
/// order.
pub(crate) fn preferred_video<'a>(
    matches: &'a [VideoMatch],
    caps: &LocalCapabilities,
) -> Option<&'a VideoMatch> {
    let mode_rank = |m: &VideoMatch| match caps.video.get(m.cap) {
        Some(VideoCodec::H264 {
            packetization_modes,
            ..
        }) => packetization_modes
            .iter()
            .position(|mode| *mode == m.mode)
            .unwrap_or(usize::MAX),
        _ => 0,
    };
    // `min_by_key` keeps the first of equal keys, so the peer's order breaks ties.
    matches.iter().min_by_key(|m| (m.cap, mode_rank(m)))
}

/// The H.264 levels agreed for a format (RFC 6184 §8.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct H264Agreement {
    /// The `profile-level-id` of the answer.
    pub(crate) answer: ProfileLevelId,
    /// The highest level we may send.
    pub(crate) send: H264Level,
    /// The highest level we said we receive.
    pub(crate) receive: H264Level,
}

/// The answerer's levels: with `level-asymmetry-allowed=1` in the offer (and so in our
/// answer) the answer states our own highest level and we send up to the offer's; otherwise
/// the answer's level may not exceed the offer's and is the level both ways (RFC 6184
/// §8.2.2).
pub(crate) fn answer_h264(offered: &H264Params, ours: ProfileLevelId) -> Option<H264Agreement> {
    let theirs = offered.profile_level_id();
    let their_level = theirs.level()?;
    let our_level = ours.level()?;
    let (answer_level, send) = if offered.level_asymmetry_allowed {
        (our_level, their_level)
    } else {
        let level = our_level.min(their_level);
        (level, level)
    };
    Some(H264Agreement {
        answer: theirs.with_level(answer_level),
        send,
        receive: answer_level,
    })
}

/// The peer's receive limits from the fmtp of `pt`, for the agreed video format.
pub(crate) fn video_format(
    media: &MediaDescription,
    pt: u8,
    codec: VideoCodec,
    h264: Option<(&H264Params, H264Agreement)>,
) -> VideoFormat {
    let fmtp = media.fmtp(&pt.to_string());
    let mut format = VideoFormat::plain(codec);
    match &format.codec {
        VideoCodec::H264 { .. } => {
            if let Some((params, agreement)) = h264 {
                format.h264_send_level = Some(agreement.send);
                format.h264_receive_level = Some(agreement.receive);
                format.max_mbps = params.max_mbps;
                format.max_fs = params.max_fs;
                format.max_br = params.max_br;
            }
            format.sprop_parameter_sets = fmtp
                .as_ref()
                .and_then(|f| f.get("sprop-parameter-sets"))
                .map(|v| v.trim().to_owned())
                .filter(|v| {
                    !v.is_empty()
                        && v.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+/=,".contains(&b))
                });
        }
        VideoCodec::H263 | VideoCodec::H263Plus => {
            format.h263_sizes = h263::picture_sizes(fmtp.as_ref())
                .into_iter()
                .filter(h263::supported)
                .collect();
        }
        VideoCodec::H261 => {
            format.h263_sizes = h263::picture_sizes(fmtp.as_ref())
                .into_iter()
                .filter(h263::h261_supported)
                .collect();
        }
        VideoCodec::Vp8 => {
            let number = |name| fmtp.as_ref()?.get(name)?.trim().parse().ok();
            format.max_fr = number("max-fr");
            format.max_fs = number("max-fs");
        }
    }
    format
}

/// The RTCP feedback of the peer's `rtcp-fb` lines for `pt` that we also support (RFC 4585
/// §4.2), with the lines themselves (first of each kind) to echo in an answer.
pub(crate) fn feedback(
    media: &MediaDescription,
    pt: u8,
    ours: RtcpFeedback,
) -> (RtcpFeedback, Vec<RtcpFb>) {
    let mut agreed = RtcpFeedback::NONE;
    let mut lines = Vec::new();
    for line in media.rtcp_fb() {
        if !line.applies_to(pt) {
            continue;
        }
        let Some(message) = RtcpFeedback::of(&line.kind, line.param.as_deref()) else {
            continue;
        };
        if ours.contains(message) && !agreed.contains(message) {
            agreed = agreed.union(message);
            lines.push(line);
        }
    }
    (agreed, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::attribute::Fmtp;

    fn params(fmtp: &str) -> H264Params {
        H264Params::from_fmtp(Fmtp::parse(&format!("96 {fmtp}")).as_ref()).unwrap()
    }

    #[test]
    fn answerer_h264_levels() {
        let ours = ProfileLevelId::CONSTRAINED_BASELINE_3_1;
        let asymmetric = answer_h264(
            &params("profile-level-id=42e028;level-asymmetry-allowed=1"),
            ours,
        )
        .unwrap();
        assert_eq!(asymmetric.answer.to_string(), "42e01f");
        assert_eq!(
            (asymmetric.send, asymmetric.receive),
            (H264Level::L4, H264Level::L3_1)
        );
        let higher = answer_h264(&params("profile-level-id=42e028"), ours).unwrap();
        assert_eq!(
            (higher.send, higher.receive),
            (H264Level::L3_1, H264Level::L3_1)
        );
        let lower = answer_h264(&params("profile-level-id=42800d"), ours).unwrap();
        assert_eq!(lower.answer.to_string(), "42800d");
        assert_eq!(
            (lower.send, lower.receive),
            (H264Level::L1_3, H264Level::L1_3)
        );
        // Asymmetry lets us state a higher level than theirs.
        let small = answer_h264(
            &params("profile-level-id=42e00a;level-asymmetry-allowed=1"),
            ours,
        )
        .unwrap();
        assert_eq!(small.answer.to_string(), "42e01f");
        assert_eq!(
            (small.send, small.receive),
            (H264Level::L1, H264Level::L3_1)
        );
    }

    #[test]
    fn rtp_profiles() {
        assert_eq!(RtpProfile::of("RTP/AVP"), Some(RtpProfile::Plain));
        assert_eq!(RtpProfile::of("rtp/avpf"), Some(RtpProfile::Plain));
        assert_eq!(RtpProfile::of("RTP/SAVPF"), Some(RtpProfile::Secure));
        assert_eq!(RtpProfile::of("UDP/TLS/RTP/SAVPF"), None);
        assert_eq!(RtpProfile::of("TCP/BFCP"), None);
    }
}
