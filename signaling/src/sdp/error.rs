//! The two SDP errors: a body that cannot be read ([`SdpError`]) and an offer or answer that
//! cannot be agreed to ([`NegotiationError`]), each with the SIP status it maps to.

/// An SDP body that cannot be parsed (RFC 8866). The SIP layer answers it with 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is larger than [`MAX_SDP_BYTES`](super::MAX_SDP_BYTES).
    #[error("SDP body of {0} bytes is over the 64 KiB limit")]
    TooLarge(usize),
    /// The body has more than [`MAX_SDP_LINES`](super::MAX_SDP_LINES) lines.
    #[error("SDP body has more than 512 lines")]
    TooManyLines,
    /// The body has more than [`MAX_MEDIA_SECTIONS`](super::MAX_MEDIA_SECTIONS) `m=` lines.
    #[error("SDP body has more than 32 media sections")]
    TooManyMedia,
    /// A required line (`v=` or `o=`) is missing.
    #[error("SDP body has no {0}= line")]
    Missing(char),
    /// A line that cannot be read; `line` counts from 1.
    #[error("SDP line {line}: {reason}")]
    Line {
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

impl SdpError {
    /// The SIP status for a request carrying this body: 400 Bad Request (RFC 3261 §21.4.1).
    pub fn sip_status(&self) -> u16 {
        400
    }
}

/// An offer or answer that cannot be agreed to (RFC 3264).
///
/// [`sip_status`](Self::sip_status) gives the final response for an INVITE carrying such an
/// offer: 488 Not Acceptable Here (RFC 3261 §21.4.26) when the SDP is fine but we cannot meet
/// it, 400 Bad Request when it is unusable as SDP.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// No audio or video stream has a codec both sides support.
    #[error("no common codec")]
    NoCommonCodec,
    /// Our policy requires SRTP, and no stream offers SDES keys (RFC 4568).
    #[error("SRTP is required by policy but not offered")]
    EncryptionRequired,
    /// Our policy refuses SRTP, and the streams are `RTP/SAVP(F)` only.
    #[error("SRTP is offered as mandatory but refused by policy")]
    EncryptionRefused,
    /// SRTP is mandatory for the stream but no `a=crypto` line is acceptable (unknown suites,
    /// MKI, short lifetime, session parameters, DTLS-SRTP without SDES).
    #[error("no acceptable SRTP crypto suite")]
    NoCommonCryptoSuite,
    /// A stream that could be accepted has no `c=` line at either level (RFC 8866 §5.7).
    #[error("media section {index} has no connection address")]
    NoConnectionAddress {
        /// The 0-based index of the media section.
        index: usize,
    },
    /// A stream's connection address is a host name, a multicast group or of an unknown type.
    #[error("media section {index} has an unsupported connection address {address:?}")]
    UnsupportedAddress {
        /// The 0-based index of the media section.
        index: usize,
        /// The address as written.
        address: String,
    },
    /// The description is unusable as an offer or answer.
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// An answer that does not fit our offer (RFC 3264 §6): another number of media
    /// sections, a codec or key we did not offer.
    #[error("answer does not match the offer: {0}")]
    AnswerMismatch(String),
}

impl NegotiationError {
    /// The SIP final response status for an offer refused with this error.
    ///
    /// 400 for a description that is not usable SDP (no connection address, malformed); 488
    /// for everything we merely cannot agree to (RFC 3261 §21.4.26, RFC 3264 §6: "488 Not
    /// Acceptable Here" when no media are acceptable).
    pub fn sip_status(&self) -> u16 {
        match self {
            Self::NoConnectionAddress { .. } | Self::Malformed(_) => 400,
            Self::NoCommonCodec
            | Self::EncryptionRequired
            | Self::EncryptionRefused
            | Self::NoCommonCryptoSuite
            | Self::UnsupportedAddress { .. }
            | Self::AnswerMismatch(_) => 488,
        }
    }
}

impl From<SdpError> for NegotiationError {
    fn from(error: SdpError) -> Self {
        Self::Malformed(error.to_string())
    }
}

/// The reason to give when no stream is acceptable: a broken offer (400) first, then the
/// SRTP policy, then addresses, then codecs.
pub(crate) fn most_telling(failures: Vec<NegotiationError>) -> NegotiationError {
    let rank = |error: &NegotiationError| match error {
        NegotiationError::Malformed(_) | NegotiationError::NoConnectionAddress { .. } => 0,
        NegotiationError::EncryptionRequired => 1,
        NegotiationError::EncryptionRefused => 2,
        NegotiationError::NoCommonCryptoSuite => 3,
        NegotiationError::UnsupportedAddress { .. } => 4,
        NegotiationError::AnswerMismatch(_) => 5,
        _ => 6,
    };
    failures
        .into_iter()
        .min_by_key(rank)
        .unwrap_or(NegotiationError::NoCommonCodec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_telling_reason() {
        assert_eq!(most_telling(vec![]), NegotiationError::NoCommonCodec);
        assert_eq!(
            most_telling(vec![
                NegotiationError::NoCommonCodec,
                NegotiationError::EncryptionRefused,
                NegotiationError::NoCommonCryptoSuite,
            ]),
            NegotiationError::EncryptionRefused
        );
    }
}
