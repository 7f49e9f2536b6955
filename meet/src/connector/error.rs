//! `MeetError`: why a connector's `resolve` or `connect` failed, the one error of this
//! boundary.
//!
//! It maps to a [`SessionOutcome`] (and so to a SIP code) in one place,
//! [`MeetError::failure`] → [`ConnectFailure::outcome`], the table of meet-side.md §5.a:
//!
//! | error | outcome (SIP) |
//! |---|---|
//! | [`Refused`] `NOT_FOUND`, `NO_ACTIVE_CONFERENCE` | `NotFound` (404) |
//! | [`Refused`] `UNAUTHENTICATED` (bad, expired, replayed JWT) | `Unauthenticated` (403) |
//! | [`Refused`] `PERMISSION_DENIED` (interop token revoked, interop off) | `PermissionDenied` (403) |
//! | [`Refused`] `FAILED_PRECONDITION` + `VIDEO_LOCKED` / `AUDIO_LOCKED` | `VideoLocked` / `AudioLocked` (480) |
//! | [`Refused`] `RESOURCE_EXHAUSTED`, `CONNECTIONS_EXHAUSTED` | `Busy` (486) |
//! | [`Refused`] `INVALID_OFFER`, `INVALID_ARGUMENT` | `OfferRejected` (488) |
//! | [`Refused`] 5xx or any other status, [`Transport`], [`Timeout`], [`BadAnswer`], [`Config`] | `Unavailable` (503) |
//! | [`Credential`]: no token could be minted | `Unauthenticated` (403), a configuration error |
//!
//! [`Refused`]: MeetError::Refused
//! [`Transport`]: MeetError::Transport
//! [`Timeout`]: MeetError::Timeout
//! [`BadAnswer`]: MeetError::BadAnswer
//! [`Config`]: MeetError::Config
//! [`Credential`]: MeetError::Credential

use std::time::Duration;

use serde::Deserialize;

use crate::jwt::JwtError;
use crate::session::{ConnectFailure, SessionOutcome};

/// The longest backend error message kept, in characters; the rest is cut.
pub const MAX_ERROR_MESSAGE_LEN: usize = 256;

/// Why `resolve` or `connect` failed (or why a connector could not be built).
///
/// Nothing here carries a token, key material or an interop token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MeetError {
    /// The backend answered with an error status. The rest comes from a Google-style error
    /// body (`{"error":{"code","message","status","details":[{"@type":
    /// "type.googleapis.com/google.rpc.ErrorInfo","reason"}]}}`), when it was one.
    #[error(
        "Meet refused the request: HTTP {http_status} {}/{}: {}",
        status.as_deref().unwrap_or("-"),
        reason.as_deref().unwrap_or("-"),
        message.as_deref().unwrap_or("(no message)")
    )]
    Refused {
        /// The HTTP status.
        http_status: u16,
        /// The RPC status name, e.g. `FAILED_PRECONDITION`.
        status: Option<String>,
        /// The first `google.rpc.ErrorInfo` reason, e.g. `VIDEO_LOCKED`.
        reason: Option<String>,
        /// The human-readable message, at most [`MAX_ERROR_MESSAGE_LEN`] characters.
        message: Option<String>,
    },
    /// No answer: the connection could not be made, or failed before the answer was read.
    #[error("cannot reach Meet: {detail}")]
    Transport {
        /// What failed (the I/O or HTTP error).
        detail: String,
    },
    /// No complete answer within the connector's request timeout.
    #[error("Meet did not answer within {} ms", timeout.as_millis())]
    Timeout {
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// A success status, but the body is not the documented answer (not JSON, a missing
    /// field, too large).
    #[error("Meet's answer (HTTP {http_status}) is not understood: {detail}")]
    BadAnswer {
        /// The HTTP status.
        http_status: u16,
        /// What is wrong with it.
        detail: String,
    },
    /// No gateway token could be minted: a broken key, or an empty issuer, audience or
    /// interop token. A configuration error.
    #[error("cannot mint the gateway token: {0}")]
    Credential(#[from] JwtError),
    /// The connector's settings cannot work (e.g. a base URL that is not `http://`). Only
    /// construction returns it.
    #[error("invalid Meet connector settings: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
}

impl MeetError {
    /// The error for an answer with error status `http_status` and `body`: the body is read
    /// as a Google-style error; one that is not (empty, HTML from a proxy) leaves the status,
    /// reason and message `None`, and the HTTP status decides.
    pub fn from_error_answer(http_status: u16, body: &[u8]) -> Self {
        let ConnectFailure { status, reason, .. } =
            ConnectFailure::from_error_body(http_status, body);
        Self::Refused {
            http_status,
            status,
            reason,
            message: error_message(body),
        }
    }

    /// The error as the failure [`MeetSession::connect_failed`] takes: the parts that decide
    /// the outcome.
    ///
    /// [`MeetSession::connect_failed`]: crate::session::MeetSession::connect_failed
    pub fn failure(&self) -> ConnectFailure {
        match self {
            Self::Refused {
                http_status,
                status,
                reason,
                ..
            } => ConnectFailure {
                http_status: Some(*http_status),
                status: status.clone(),
                reason: reason.clone(),
            },
            Self::BadAnswer { http_status, .. } => ConnectFailure {
                http_status: Some(*http_status),
                status: None,
                reason: None,
            },
            // Our own credential is unusable: the gateway cannot authenticate, which is what
            // a refused token means too (403, logged as a configuration error).
            Self::Credential(_) => ConnectFailure {
                http_status: None,
                status: Some("UNAUTHENTICATED".to_owned()),
                reason: None,
            },
            Self::Transport { .. } | Self::Timeout { .. } | Self::Config { .. } => {
                ConnectFailure::transport()
            }
        }
    }

    /// How the call ends because of this error (see the module docs); its
    /// [`SessionOutcome::sip_status`] is the SIP answer.
    pub fn outcome(&self) -> SessionOutcome {
        self.failure().outcome()
    }
}

impl From<&MeetError> for SessionOutcome {
    fn from(err: &MeetError) -> Self {
        err.outcome()
    }
}

/// `error.message` of a Google-style error body, cut to [`MAX_ERROR_MESSAGE_LEN`] characters;
/// `None` when there is none.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(default)]
        message: Option<String>,
    }
    let message = serde_json::from_slice::<Body>(body).ok()?.error.message?;
    let message: String = message
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_ERROR_MESSAGE_LEN)
        .collect();
    (!message.is_empty()).then_some(message)
}
