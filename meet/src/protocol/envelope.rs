//! The envelope every data channel shares (meet-side.md §1.4, "Common envelope").
//!
//! ```text
//! client → server  {"request": {"requestId": <int64, non-zero>, <one payload field>}}
//! server → client  {"response"?: {"requestId", "status"?: {"code", "message", "details"?},
//!                                 <payload echo>},
//!                   "resources"?: [{"id"?: <int64>, <resource field>: {...}}],
//!                   "deletedResources"?: [{"id": <int64>, <resource field>: true}]}
//! ```
//!
//! The request and response halves are generic here ([`ClientMessage`], [`Request`],
//! [`Response`]) over a per-channel *payload* struct. A payload struct has one `Option` field
//! per member of the protobuf `oneof`, exactly as proto3 JSON spells a `oneof` (the member's
//! key is present or absent), so a request kind this version does not know parses with every
//! field `None` instead of failing. The server → client halves differ per channel in their
//! resource types and live in the channel modules (`SessionControlToClient`, ...).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::int64;

/// A client → server message on any channel: `{"request": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClientMessage<P> {
    /// The one request this message carries.
    pub request: Request<P>,
}

impl<P> ClientMessage<P> {
    /// A message carrying `payload` under `request_id` (non-zero, unique per channel: see
    /// [`RequestIdGenerator`]).
    pub fn new(request_id: i64, payload: P) -> Self {
        Self {
            request: Request {
                request_id,
                payload,
            },
        }
    }
}

/// A request: its id and the channel-specific payload (flattened next to `requestId`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request<P> {
    /// Client-chosen correlation id, echoed in the [`Response`]. Must be non-zero and unique
    /// within the channel (Google's C++ client refuses to send 0); this type does not check
    /// that, the receiver does.
    #[serde(with = "int64")]
    pub request_id: i64,
    /// The channel-specific payload, e.g. `{"leave": {}}`.
    #[serde(flatten)]
    pub payload: P,
}

/// A response to a [`Request`], matched to it by `request_id`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response<P> {
    /// The `requestId` of the request this answers.
    #[serde(with = "int64")]
    pub request_id: i64,
    /// The outcome; absent means OK (meet-side.md §1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The echo of the request kind, e.g. `{"leave": {}}`; all `None` when the server sent no
    /// echo or one this version does not know.
    #[serde(flatten)]
    pub payload: P,
}

impl<P> Response<P> {
    /// Whether the request succeeded: no `status`, or a status with code 0.
    pub fn is_ok(&self) -> bool {
        self.status.as_ref().is_none_or(Status::is_ok)
    }
}

/// A `google.rpc.Status`-shaped outcome: `{"code": 0, "message": "OK", "details": [...]}`.
///
/// `code` and `message` are always written, because Google's C++ client refuses a `status`
/// without them on some channels; on input both default (to 0 and `""`) when absent, as
/// proto3 JSON omits default values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Status {
    /// Canonical status code; 0 is OK.
    #[serde(default)]
    pub code: StatusCode,
    /// Human-readable explanation (not for matching on).
    #[serde(default)]
    pub message: String,
    /// Extra typed details (`google.protobuf.Any` objects), kept as raw JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

impl Status {
    /// `{"code": 0, "message": "OK"}`.
    pub fn ok() -> Self {
        Self::new(StatusCode::OK, "OK")
    }

    /// A status with `code` and `message` and no details.
    pub fn new(code: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Whether `code` is [`StatusCode::OK`].
    pub fn is_ok(&self) -> bool {
        self.code == StatusCode::OK
    }
}

/// A canonical status code (`google.rpc.Code`; C++ reads it as `absl::StatusCode`). An open
/// set: any `i32` is representable, so codes outside the table (the TS client fabricates 400
/// for local failures) survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StatusCode(pub i32);

macro_rules! status_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)+) => {
        impl StatusCode {
            $($(#[$doc])* pub const $name: Self = Self($value);)+

            /// The canonical upper-case name (`"INVALID_ARGUMENT"`), or `None` for a code
            /// outside the canonical table.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)+
                    _ => None,
                }
            }
        }
    };
}

status_codes! {
    /// Success.
    OK = 0,
    /// The operation was cancelled.
    CANCELLED = 1,
    /// Unknown error.
    UNKNOWN = 2,
    /// The request is malformed (meet-sim: too many canvases, chat text too long).
    INVALID_ARGUMENT = 3,
    /// A deadline passed before the operation completed.
    DEADLINE_EXCEEDED = 4,
    /// Something requested was not found.
    NOT_FOUND = 5,
    /// Something to be created already exists.
    ALREADY_EXISTS = 6,
    /// The caller may not do this (meet-sim: chat restricted to hosts).
    PERMISSION_DENIED = 7,
    /// A quota or resource ran out.
    RESOURCE_EXHAUSTED = 8,
    /// The system is not in a state that allows this.
    FAILED_PRECONDITION = 9,
    /// The operation was aborted (e.g. a concurrency conflict).
    ABORTED = 10,
    /// A value was past the valid range.
    OUT_OF_RANGE = 11,
    /// The operation is not implemented (e.g. an unknown request kind).
    UNIMPLEMENTED = 12,
    /// An internal error.
    INTERNAL = 13,
    /// The service is unavailable for now; retrying may help.
    UNAVAILABLE = 14,
    /// Unrecoverable data loss.
    DATA_LOSS = 15,
    /// The request lacks valid credentials.
    UNAUTHENTICATED = 16,
}

impl Serialize for StatusCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        int64::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        int64::deserialize(deserializer).map(Self)
    }
}

/// An empty message, `{}`: the payload of `leave`, and of every response echo
/// (`"setAssignment": {}`). Fields inside it are ignored on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Empty {}

/// Hands out request ids for one channel: 1, 2, 3, ... (never 0, which Google's clients
/// refuse). Keep one per data channel.
#[derive(Debug, Clone, Default)]
pub struct RequestIdGenerator {
    last: i64,
}

impl RequestIdGenerator {
    /// A generator whose first id is 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next id. After `i64::MAX` it starts again at 1 (not reachable in practice).
    pub fn next_id(&mut self) -> i64 {
        self.last = if self.last == i64::MAX {
            1
        } else {
            self.last + 1
        };
        self.last
    }
}
