//! Why a call is refused, mapped in one place to the SIP answer and the metric label.
//!
//! Every refusal of an incoming call goes through [`CallRefusal`]: the SIP front end answers
//! with [`CallRefusal::sip_status`], and metrics count [`CallRefusal::label`]. Nothing else in
//! the node picks a status code for a refused call.

use std::time::Instant;

use routing::alias::AliasError;

use crate::calls::AdmissionError;

/// Why an incoming call is not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallRefusal {
    /// The node cannot take another call (draining, full, out of licences, CPU busy).
    #[error(transparent)]
    Admission(#[from] AdmissionError),
    /// The dialled alias is malformed.
    #[error("invalid alias: {0}")]
    InvalidAlias(#[from] AliasError),
    /// The source is blocked by break-in defence.
    #[error("source blocked after repeated failed lookups")]
    Blocked {
        /// When the block ends.
        until: Instant,
    },
    /// No Call Routing Rule matched.
    #[error("no routing rule matches this alias")]
    NoMatch,
    /// The call goes to Meet, but the gateway token (`meet.gateway_token`) has expired: Meet
    /// would refuse every request signed with it (meet-side.md §5.a: 403, a config error).
    #[error(
        "the Google Meet gateway token expired {days_ago} day(s) ago: install a renewed meet.gateway_token"
    )]
    GatewayTokenExpired {
        /// Whole days since it expired.
        days_ago: u64,
    },
    /// A rule sent the call to Meet, but the rewritten alias is no meeting ID.
    #[error("rule `{rule}` rewrote the alias to `{alias}`, which is not a Meet meeting ID")]
    NotAMeetingId {
        /// The rule that matched.
        rule: String,
        /// The rewritten alias.
        alias: String,
    },
}

/// A SIP final response: code and reason phrase (RFC 3261 §21).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipStatus {
    /// Status code.
    pub code: u16,
    /// Reason phrase.
    pub reason: &'static str,
}

impl CallRefusal {
    /// The SIP answer to a call refused for this reason.
    pub fn sip_status(&self) -> SipStatus {
        let (code, reason) = match self {
            Self::Admission(_) => (503, "Service Unavailable"),
            Self::InvalidAlias(AliasError::UnsupportedScheme(_)) => (416, "Unsupported URI Scheme"),
            Self::InvalidAlias(_) => (400, "Bad Request"),
            Self::Blocked { .. } | Self::GatewayTokenExpired { .. } => (403, "Forbidden"),
            Self::NoMatch | Self::NotAMeetingId { .. } => (404, "Not Found"),
        };
        SipStatus { code, reason }
    }

    /// The metric label (`reason` of `tcn_calls_refused_total`, `result` of
    /// `tcn_route_lookups_total`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Admission(AdmissionError::Draining) => "draining",
            Self::Admission(AdmissionError::AtCapacity { .. }) => "at_capacity",
            Self::Admission(AdmissionError::NoLicense { .. }) => "no_license",
            Self::Admission(AdmissionError::CpuFull { .. }) => "cpu_full",
            Self::InvalidAlias(_) => "invalid_alias",
            Self::Blocked { .. } => "blocked",
            Self::GatewayTokenExpired { .. } => "gateway_token_expired",
            Self::NoMatch => "no_match",
            Self::NotAMeetingId { .. } => "not_a_meeting_id",
        }
    }

    /// The `Retry-After` of the answer, in seconds (RFC 3261 §20.33): a full node says when
    /// to try again; nothing else does.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::Admission(e) => e.retry_after(),
            _ => None,
        }
    }

    /// Whether this refusal counts as a failed lookup for break-in defence.
    pub fn is_lookup_failure(&self) -> bool {
        matches!(
            self,
            Self::InvalidAlias(_) | Self::NoMatch | Self::NotAMeetingId { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_sip_answer() {
        let cases = [
            (
                CallRefusal::Admission(AdmissionError::Draining),
                503,
                "draining",
            ),
            (
                CallRefusal::Admission(AdmissionError::AtCapacity {
                    max_calls: 2,
                    retry_after: 30,
                }),
                503,
                "at_capacity",
            ),
            (
                CallRefusal::Admission(AdmissionError::NoLicense {
                    needed: 2,
                    free: 0,
                    total: 4,
                    retry_after: 30,
                }),
                503,
                "no_license",
            ),
            (
                CallRefusal::Admission(AdmissionError::CpuFull {
                    calls: 2,
                    retry_after: 30,
                }),
                503,
                "cpu_full",
            ),
            (
                CallRefusal::InvalidAlias(AliasError::Empty),
                400,
                "invalid_alias",
            ),
            (
                CallRefusal::InvalidAlias(AliasError::UnsupportedScheme("mailto".into())),
                416,
                "invalid_alias",
            ),
            (CallRefusal::NoMatch, 404, "no_match"),
            (
                CallRefusal::NotAMeetingId {
                    rule: "r".into(),
                    alias: "x".into(),
                },
                404,
                "not_a_meeting_id",
            ),
        ];
        for (refusal, code, label) in cases {
            assert_eq!(
                (refusal.sip_status().code, refusal.label()),
                (code, label),
                "{refusal}"
            );
            let full = matches!(
                refusal,
                CallRefusal::Admission(
                    AdmissionError::AtCapacity { .. }
                        | AdmissionError::NoLicense { .. }
                        | AdmissionError::CpuFull { .. }
                )
            );
            assert_eq!(refusal.retry_after().is_some(), full, "{refusal}");
        }
    }
}
