//! The one error of the simulator: a Google-style refusal with its HTTP status.

use meet::jwt::JwtError;

/// A `google.rpc.Code` the simulator answers with, and its HTTP status.
///
/// The HTTP statuses follow Google's canonical mapping, except `FAILED_PRECONDITION`, which
/// meet-side.md §5.b answers with 412 (`VIDEO_LOCKED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcCode {
    /// 400: the request is malformed (`INVALID_OFFER`, a bad control-API body).
    InvalidArgument,
    /// 401: no credentials, or credentials that do not authenticate.
    Unauthenticated,
    /// 403: authenticated, but not allowed (revoked interop token, interop disabled).
    PermissionDenied,
    /// 404: no such space, meeting id, conference or participant.
    NotFound,
    /// 409: it exists already (a meeting code, a `kid`).
    AlreadyExists,
    /// 412: the conference is not in a state that allows this (`VIDEO_LOCKED`).
    FailedPrecondition,
    /// 429: a limit is reached (`CONNECTIONS_EXHAUSTED`).
    ResourceExhausted,
    /// 500: our own configuration or a bug.
    Internal,
    /// 501: not implemented.
    Unimplemented,
    /// 503: unavailable for now (fault injection).
    Unavailable,
}

impl RpcCode {
    /// Every code, for parsing.
    pub const ALL: [Self; 10] = [
        Self::InvalidArgument,
        Self::Unauthenticated,
        Self::PermissionDenied,
        Self::NotFound,
        Self::AlreadyExists,
        Self::FailedPrecondition,
        Self::ResourceExhausted,
        Self::Internal,
        Self::Unimplemented,
        Self::Unavailable,
    ];

    /// The canonical name (`"PERMISSION_DENIED"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Self::Internal => "INTERNAL",
            Self::Unimplemented => "UNIMPLEMENTED",
            Self::Unavailable => "UNAVAILABLE",
        }
    }

    /// The HTTP status the simulator answers with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidArgument => 400,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::AlreadyExists => 409,
            Self::FailedPrecondition => 412,
            Self::ResourceExhausted => 429,
            Self::Internal => 500,
            Self::Unimplemented => 501,
            Self::Unavailable => 503,
        }
    }

    /// The code named `name` (exact upper-case spelling).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A refused request: rendered by the HTTP layer as
/// `{"error":{"code":<http>,"message":…,"status":…,"details":[{"@type":
/// "type.googleapis.com/google.rpc.ErrorInfo","reason":…,"domain":"meet-sim"}]}}`.
///
/// Messages never carry a token, key material or an interop token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} ({http_status}): {message}")]
pub struct SimError {
    /// The HTTP status.
    pub http_status: u16,
    /// The google.rpc status name that goes with it.
    pub status: &'static str,
    /// The `ErrorInfo.reason`, e.g. `VIDEO_LOCKED`; `None` for no details.
    pub reason: Option<String>,
    /// Human-readable explanation.
    pub message: String,
}

impl SimError {
    /// A refusal with `code`, `reason` and `message`.
    pub fn new(code: RpcCode, reason: &str, message: impl Into<String>) -> Self {
        Self {
            http_status: code.http_status(),
            status: code.name(),
            reason: Some(reason.to_owned()),
            message: message.into(),
        }
    }

    /// A control-API body that does not make sense: 400 `INVALID_ARGUMENT`, reason
    /// `BAD_REQUEST`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(RpcCode::InvalidArgument, "BAD_REQUEST", message)
    }

    /// 404 `NOT_FOUND` with `reason`.
    pub fn not_found(reason: &str, message: impl Into<String>) -> Self {
        Self::new(RpcCode::NotFound, reason, message)
    }
}

impl From<JwtError> for SimError {
    /// The status is [`JwtError::status`] (401, or 500 for our own key), the reason
    /// `TOKEN_` + the upper-cased [`JwtError::label`] (`TOKEN_EXPIRED`, `TOKEN_REPLAYED_JTI`).
    fn from(err: JwtError) -> Self {
        Self {
            http_status: err.status(),
            status: err.rpc_status(),
            reason: Some(format!("TOKEN_{}", err.label().to_ascii_uppercase())),
            message: err.to_string(),
        }
    }
}
