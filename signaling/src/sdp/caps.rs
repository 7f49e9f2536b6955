//! What we bring to a negotiation: the codecs we support in preference order, the feedback we
//! understand, our transport addresses and our SRTP policy.

use std::net::IpAddr;

use super::codec::{AudioCodec, VideoCodec};

/// Our media capabilities. Preference order is `Vec` order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalCapabilities {
    /// Audio codecs, preferred first.
    pub audio: Vec<AudioCodec>,
    /// Video codecs, preferred first.
    pub video: Vec<VideoCodec>,
    /// Whether we take RFC 4733 telephone events (DTMF).
    pub telephone_event: bool,
    /// The RTCP feedback we understand on video (RFC 4585).
    pub rtcp_fb: RtcpFeedback,
    /// The video bit rate we want to receive at most, in kbit/s; stated as `b=AS` (and
    /// `b=TIAS` when the peer uses it, RFC 3890).
    pub max_video_kbps: Option<u32>,
}

impl Default for LocalCapabilities {
    /// Audio Opus, G.722, PCMU, PCMA; video H.264 Constrained Baseline up to level 3.1 (modes 1
    /// and 0), VP8, H.263-1998, H.263; telephone events; NACK, PLI and FIR; no bit-rate limit.
    fn default() -> Self {
        Self {
            audio: vec![
                AudioCodec::Opus,
                AudioCodec::G722,
                AudioCodec::Pcmu,
                AudioCodec::Pcma,
            ],
            video: vec![
                VideoCodec::h264_default(),
                VideoCodec::Vp8,
                VideoCodec::H263Plus,
                VideoCodec::H263,
            ],
            telephone_event: true,
            rtcp_fb: RtcpFeedback::ALL,
            max_video_kbps: None,
        }
    }
}

/// RTCP feedback messages (RFC 4585 §4.2, RFC 5104 §7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RtcpFeedback {
    /// Generic NACK, `a=rtcp-fb:<pt> nack` (RFC 4585 §6.2.1).
    pub nack: bool,
    /// Picture Loss Indication, `a=rtcp-fb:<pt> nack pli` (RFC 4585 §6.3.1).
    pub pli: bool,
    /// Full Intra Request, `a=rtcp-fb:<pt> ccm fir` (RFC 5104 §7.1).
    pub fir: bool,
}

impl RtcpFeedback {
    /// All three.
    pub const ALL: Self = Self {
        nack: true,
        pli: true,
        fir: true,
    };

    /// None.
    pub const NONE: Self = Self {
        nack: false,
        pli: false,
        fir: false,
    };

    /// The messages both sets have.
    pub fn intersect(self, other: Self) -> Self {
        Self {
            nack: self.nack && other.nack,
            pli: self.pli && other.pli,
            fir: self.fir && other.fir,
        }
    }

    /// The message an `rtcp-fb` type and parameter name, if it is one of ours.
    pub(crate) fn of(kind: &str, param: Option<&str>) -> Option<Self> {
        let kind = kind.to_ascii_lowercase();
        let param = param.map(str::to_ascii_lowercase);
        match (kind.as_str(), param.as_deref()) {
            ("nack", None) => Some(Self {
                nack: true,
                ..Self::NONE
            }),
            ("nack", Some("pli")) => Some(Self {
                pli: true,
                ..Self::NONE
            }),
            ("ccm", Some("fir")) => Some(Self {
                fir: true,
                ..Self::NONE
            }),
            _ => None,
        }
    }

    /// Whether every message of `other` is in this set.
    pub(crate) fn contains(self, other: Self) -> bool {
        self.intersect(other) == other
    }

    /// The messages of either set.
    pub(crate) fn union(self, other: Self) -> Self {
        Self {
            nack: self.nack || other.nack,
            pli: self.pli || other.pli,
            fir: self.fir || other.fir,
        }
    }
}

/// One of our media endpoints; the caller allocates the ports from its media range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The address we advertise in `c=`.
    pub address: IpAddr,
    /// The RTP port.
    pub rtp_port: u16,
    /// The RTCP port; stated with `a=rtcp` (RFC 3605) when it is not `rtp_port + 1`.
    pub rtcp_port: u16,
}

/// Whether we use SRTP (SDES keys, RFC 4568).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CryptoPolicy {
    /// SRTP or no call: an offer without SDES keys is refused with 488.
    On,
    /// SRTP when the peer offers keys, plain RTP otherwise.
    #[default]
    BestEffort,
    /// Plain RTP only: an `RTP/SAVP` offer is refused with 488; keys offered on `RTP/AVP`
    /// (best-effort SRTP) are ignored.
    Off,
}
