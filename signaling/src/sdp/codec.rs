//! The codecs we negotiate, their RTP names, static payload types and clock rates (RFC 3551
//! §4.5, §6), and how an offered payload type is recognised as one of them.

use super::attribute::RtpMap;
use super::h264::ProfileLevelId;
use super::session::MediaDescription;

/// An audio codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// G.711 µ-law: static PT 0, 8000 Hz (RFC 3551 §4.5.14).
    Pcmu,
    /// G.711 A-law: static PT 8, 8000 Hz (RFC 3551 §4.5.14).
    Pcma,
    /// G.722: static PT 9; RTP clock 8000 Hz although sampled at 16 kHz (RFC 3551 §4.5.2).
    G722,
    /// Opus: dynamic PT, `opus/48000/2` whatever is actually coded (RFC 7587 §4.1, §7).
    Opus,
}

impl AudioCodec {
    /// Every audio codec.
    pub const ALL: [Self; 4] = [Self::Pcmu, Self::Pcma, Self::G722, Self::Opus];

    /// The RTP encoding name (RFC 3551 §6, RFC 7587 §7).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::G722 => "G722",
            Self::Opus => "opus",
        }
    }

    /// The static payload type (RFC 3551 Table 4); `None` for dynamic ones.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
            Self::G722 => Some(9),
            Self::Opus => None,
        }
    }

    /// The RTP clock rate in Hz.
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma | Self::G722 => 8000,
            Self::Opus => 48000,
        }
    }

    /// The channel count of the `rtpmap` (RFC 7587 §7: always 2 for Opus).
    pub fn channels(self) -> u8 {
        match self {
            Self::Opus => 2,
            _ => 1,
        }
    }

    /// The `rtpmap` for payload type `pt`.
    pub fn rtpmap(self, pt: u8) -> RtpMap {
        let mut map = RtpMap::new(pt, self.encoding_name(), self.clock_rate());
        if self.channels() != 1 {
            map.encoding_params = Some(self.channels().to_string());
        }
        map
    }

    /// Whether an offered format with this mapping is this codec.
    pub(crate) fn matches(self, map: &RtpMap) -> bool {
        map.is(self.encoding_name(), self.clock_rate()) && map.channels() == self.channels()
    }
}

/// A video codec; for H.264 with its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 (RFC 6184), dynamic PT.
    H264 {
        /// In capabilities: the profile and the highest level we can receive. In a
        /// negotiated format: the value of the answer.
        profile_level_id: ProfileLevelId,
        /// In capabilities: the packetization modes we support, preferred first. In a
        /// negotiated format: the one agreed mode.
        packetization_modes: Vec<u8>,
    },
    /// H.263 in the RFC 2190 payload format: static PT 34 (RFC 3551 §5.4).
    H263,
    /// H.263 in the RFC 4629 payload format, `H263-1998`, dynamic PT.
    H263Plus,
    /// H.261 (RFC 4587): static PT 31 (RFC 3551 §5.4), QCIF and CIF only; what the oldest
    /// room systems still send.
    H261,
    /// VP8 (RFC 7741), dynamic PT.
    Vp8,
}

impl VideoCodec {
    /// H.264 Constrained Baseline up to level 3.1, packetization mode 1 preferred to 0.
    pub fn h264_default() -> Self {
        Self::H264 {
            profile_level_id: ProfileLevelId::CONSTRAINED_BASELINE_3_1,
            packetization_modes: vec![1, 0],
        }
    }

    /// The RTP encoding name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Self::H264 { .. } => "H264",
            Self::H263 => "H263",
            Self::H263Plus => "H263-1998",
            Self::H261 => "H261",
            Self::Vp8 => "VP8",
        }
    }

    /// The static payload type (RFC 3551 Table 5): H.263 (RFC 2190) and H.261 have one.
    pub fn static_payload_type(&self) -> Option<u8> {
        match self {
            Self::H263 => Some(34),
            Self::H261 => Some(31),
            _ => None,
        }
    }

    /// The RTP clock rate: 90 kHz for every video codec here.
    pub fn clock_rate(&self) -> u32 {
        90_000
    }

    /// The `rtpmap` for payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> RtpMap {
        RtpMap::new(pt, self.encoding_name(), self.clock_rate())
    }

    /// Whether an offered format with this mapping is of this codec's kind (parameters are
    /// judged separately).
    pub(crate) fn matches(&self, map: &RtpMap) -> bool {
        map.is(self.encoding_name(), self.clock_rate())
    }
}

/// The mapping of a static payload type (RFC 3551 Tables 4 and 5), for the ones we know.
pub fn static_rtpmap(pt: u8) -> Option<RtpMap> {
    let (name, rate) = match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        18 => ("G729", 8000),
        31 => ("H261", 90_000),
        34 => ("H263", 90_000),
        _ => return None,
    };
    Some(RtpMap::new(pt, name, rate))
}

/// The mapping that applies to payload type `pt` of `media`: its `a=rtpmap`, else the static
/// assignment (RFC 8866 §6.6: static types need no rtpmap).
pub(crate) fn resolve(media: &MediaDescription, pt: u8) -> Option<RtpMap> {
    media.rtpmap(pt).or_else(|| static_rtpmap(pt))
}

/// The payload types of `media` with their mappings, in the order of the `m=` line.
pub(crate) fn offered_formats(media: &MediaDescription) -> Vec<RtpMap> {
    let mut seen = Vec::new();
    media
        .payload_types()
        .filter(|pt| {
            let fresh = !seen.contains(pt);
            seen.push(*pt);
            fresh
        })
        .filter_map(|pt| resolve(media, pt))
        .collect()
}
