//! `session-control`: the join state of the session, and `leave` (meet-side.md §1.4).
//!
//! ```json
//! {"request":{"requestId":1,"leave":{}}}
//! {"resources":[{"sessionStatus":{"connectionState":"STATE_JOINED"}}]}
//! ```
//!
//! The session status is a singleton resource (id 0 or absent). tcn adds gateway disconnect
//! reasons spelled `x-REASON_*` (§5.b, "Extension data channels") and an optional `"x-reason"`
//! detail next to a Media API reason (§5.b, "Kick").

use serde::{Deserialize, Serialize};

use super::{ClientMessage, Empty, Response, Status, int64};

/// A client → server `session-control` message.
pub type SessionControlFromClient = ClientMessage<SessionControlRequestPayload>;

impl SessionControlFromClient {
    /// `{"request":{"requestId":<request_id>,"leave":{}}}`: the client is about to leave.
    pub fn leave(request_id: i64) -> Self {
        Self::new(
            request_id,
            SessionControlRequestPayload {
                leave: Some(Empty {}),
            },
        )
    }
}

/// The request kinds of `session-control` (a `oneof`: at most one is set; none when the
/// client sent a kind this version does not know).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControlRequestPayload {
    /// `leave`: tell the server the client is about to disconnect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave: Option<Empty>,
}

/// The echo of the request kind in a `session-control` response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControlResponsePayload {
    /// Set in the answer to a `leave`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave: Option<Empty>,
}

/// A server → client `session-control` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControlToClient {
    /// The answer to a request, if this message carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response<SessionControlResponsePayload>>,
    /// Session status snapshots (in practice at most one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<SessionControlResource>,
}

impl SessionControlToClient {
    /// A message carrying only a new session status.
    pub fn status(status: SessionStatus) -> Self {
        Self {
            response: None,
            resources: vec![SessionControlResource::new(status)],
        }
    }

    /// The answer to `leave` request `request_id`, with `status`, carrying the final
    /// `STATE_DISCONNECTED` / `REASON_CLIENT_LEFT` session status as Meet does.
    pub fn leave_answer(request_id: i64, status: Status) -> Self {
        Self {
            response: Some(Response {
                request_id,
                status: Some(status),
                payload: SessionControlResponsePayload {
                    leave: Some(Empty {}),
                },
            }),
            resources: vec![SessionControlResource::new(SessionStatus::disconnected(
                DisconnectReason::ClientLeft,
            ))],
        }
    }

    /// The session status in this message, if any (the last snapshot when there are several).
    pub fn session_status(&self) -> Option<&SessionStatus> {
        self.resources
            .iter()
            .rev()
            .find_map(|r| r.session_status.as_ref())
    }
}

/// A `session-control` resource snapshot: `{"id"?: 0, "sessionStatus": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControlResource {
    /// Resource id; always 0 (the session status is a singleton). Absent reads as 0.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The session status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_status: Option<SessionStatus>,
}

impl SessionControlResource {
    /// The singleton resource (id 0) holding `status`.
    pub fn new(status: SessionStatus) -> Self {
        Self {
            id: 0,
            session_status: Some(status),
        }
    }
}

/// The state of the client's session in the conference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Where the session stands; `None` when the server left it out (unspecified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_state: Option<ConnectionState>,
    /// Why the session ended; only with [`ConnectionState::Disconnected`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnect_reason: Option<DisconnectReason>,
    /// tcn extension `"x-reason"`: a gateway-specific detail sent next to a Media API
    /// reason, e.g. `"KICKED"` with `REASON_SESSION_UNHEALTHY` (meet-side.md §5.b, "Kick").
    /// Free text; see [`SessionStatus::gateway_reason`].
    #[serde(rename = "x-reason", default, skip_serializing_if = "Option::is_none")]
    pub x_reason: Option<String>,
}

impl SessionStatus {
    /// `STATE_WAITING`: waiting in the lobby to be admitted.
    pub fn waiting() -> Self {
        Self::in_state(ConnectionState::Waiting)
    }

    /// `STATE_JOINED`: in the conference.
    pub fn joined() -> Self {
        Self::in_state(ConnectionState::Joined)
    }

    /// `STATE_DISCONNECTED` with `reason`.
    pub fn disconnected(reason: DisconnectReason) -> Self {
        Self {
            connection_state: Some(ConnectionState::Disconnected),
            disconnect_reason: Some(reason),
            x_reason: None,
        }
    }

    fn in_state(state: ConnectionState) -> Self {
        Self {
            connection_state: Some(state),
            disconnect_reason: None,
            x_reason: None,
        }
    }

    /// The most specific reason this status gives for a disconnect: an `x-REASON_*`
    /// `disconnectReason` as is; otherwise, when `"x-reason"` names a known extension reason
    /// (`"KICKED"` → [`DisconnectReason::XKicked`]), that; otherwise `disconnectReason`.
    pub fn gateway_reason(&self) -> Option<DisconnectReason> {
        if let Some(reason) = &self.disconnect_reason
            && reason.is_extension()
        {
            return Some(reason.clone());
        }
        if let Some(detail) = &self.x_reason {
            let spelled = DisconnectReason::from_wire(&format!("x-REASON_{detail}"));
            if spelled.is_extension() {
                return Some(spelled);
            }
        }
        self.disconnect_reason.clone()
    }
}

open_enum! {
    /// `connectionState` of a [`SessionStatus`].
    pub enum ConnectionState {
        /// Waiting to be admitted. May never be seen when admission is quick.
        Waiting = "STATE_WAITING",
        /// Fully joined: media flows once a video assignment is accepted.
        Joined = "STATE_JOINED",
        /// Not connected: left, kicked, not admitted, or the conference ended.
        Disconnected = "STATE_DISCONNECTED",
    }
}

open_enum! {
    /// `disconnectReason` of a [`SessionStatus`]: the Media API reasons and tcn's `x-`
    /// extensions (meet-side.md §1.4 and §5.b).
    pub enum DisconnectReason {
        /// The client sent `leave`.
        ClientLeft = "REASON_CLIENT_LEFT",
        /// A participant stopped the Media API session.
        UserStopped = "REASON_USER_STOPPED",
        /// The conference ended.
        ConferenceEnded = "REASON_CONFERENCE_ENDED",
        /// Something else went wrong (also what a Media API client sees for a kick).
        SessionUnhealthy = "REASON_SESSION_UNHEALTHY",
        /// Extension: a host denied admission from the lobby.
        XAdmissionDenied = "x-REASON_ADMISSION_DENIED",
        /// Extension: nobody decided within the lobby timeout.
        XAdmissionTimeout = "x-REASON_ADMISSION_TIMEOUT",
        /// Extension: video was locked while the gateway was in the call.
        XVideoLocked = "x-REASON_VIDEO_LOCKED",
        /// Extension: audio was locked while the gateway was in the call (by analogy with
        /// video: §5.b says "Audio lock analogous").
        XAudioLocked = "x-REASON_AUDIO_LOCKED",
        /// Extension: a host removed the gateway participant.
        XKicked = "x-REASON_KICKED",
    }
}

impl DisconnectReason {
    /// Whether this is a tcn extension reason (`x-REASON_*`).
    pub fn is_extension(&self) -> bool {
        matches!(
            self,
            Self::XAdmissionDenied
                | Self::XAdmissionTimeout
                | Self::XVideoLocked
                | Self::XAudioLocked
                | Self::XKicked
        )
    }

    /// The reason a plain Media API client would see: extension and unknown reasons map to
    /// `REASON_SESSION_UNHEALTHY`, as Google's TS client does with reasons it does not know.
    pub fn media_api_equivalent(&self) -> Self {
        match self {
            Self::ClientLeft | Self::UserStopped | Self::ConferenceEnded => self.clone(),
            _ => Self::SessionUnhealthy,
        }
    }
}
