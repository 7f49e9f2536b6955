//! How a Meet leg ends, and what that means on the SIP side: **the one place** where Meet
//! outcomes become SIP status codes and `Reason` headers (meet-side.md §5.a, "Failure → SIP
//! mapping").
//!
//! | outcome | Meet side | [`sip_status`] | [`reason_header`] (BYE) | [`label`] |
//! |---|---|---|---|---|
//! | [`NotFound`] | resolve/connect `NOT_FOUND`, `NO_ACTIVE_CONFERENCE` | 404 | `SIP;cause=404;text="Conference not found"` | `not_found` |
//! | [`Unauthenticated`] | gateway JWT invalid or expired (`UNAUTHENTICATED`) | 403 | `SIP;cause=403;text="Gateway authentication failed"` | `unauthenticated` |
//! | [`PermissionDenied`] | interop disabled, token revoked (`PERMISSION_DENIED`) | 403 | `SIP;cause=403;text="Gateway not permitted"` | `permission_denied` |
//! | [`VideoLocked`] | `FAILED_PRECONDITION`/`VIDEO_LOCKED` at connect, `x-REASON_VIDEO_LOCKED` later | 480 | `SIP;cause=480;text="Call rejected"` (the reference's cause) | `video_locked` |
//! | [`AudioLocked`] | the same for audio (§5.b: "Audio lock analogous") | 480 | `SIP;cause=480;text="Audio locked by host"` | `audio_locked` |
//! | [`AdmissionDenied`] | `x-REASON_ADMISSION_DENIED` | 403 | `SIP;cause=403;text="Admission denied"` | `admission_denied` |
//! | [`AdmissionTimeout`] | `x-REASON_ADMISSION_TIMEOUT`, or the join timer in the lobby | 408 (or 480: setting) | `SIP;cause=408;text="Admission timed out"` (or 480) | `admission_timeout` |
//! | [`Busy`] | `RESOURCE_EXHAUSTED`, `CONNECTIONS_EXHAUSTED` | 486 | `SIP;cause=486;text="Conference full"` | `busy` |
//! | [`OfferRejected`] | `INVALID_OFFER`, SDP mismatch (`INVALID_ARGUMENT`) | 488 | `SIP;cause=488;text="Media offer not acceptable"` | `offer_rejected` |
//! | [`Unavailable`] | transport failure, 5xx, any other error | 503 | `SIP;cause=503;text="Meet unavailable"` | `unavailable` |
//! | [`JoinTimeout`] | join timer fired with no session status at all | 503 | `SIP;cause=503;text="Meet join timed out"` | `join_timeout` |
//! | [`SessionUnhealthy`] | `REASON_SESSION_UNHEALTHY`, an unknown or missing reason | 503 | `SIP;cause=503;text="Meet session failed"` | `session_unhealthy` |
//! | [`Kicked`] | `x-REASON_KICKED` (or `"x-reason":"KICKED"`) | 403 | `SIP;cause=403;text="Removed by host"` | `kicked` |
//! | [`ConferenceEnded`] | `REASON_CONFERENCE_ENDED` | 404 | `SIP;cause=200;text="Conference ended"` | `conference_ended` |
//! | [`UserStopped`] | `REASON_USER_STOPPED` | 480 | `SIP;cause=200;text="Stopped by a participant"` | `user_stopped` |
//! | [`Left`] | tcn left (`leave`; `REASON_CLIENT_LEFT`) | 487 | `SIP;cause=200;text="Call completed"` | `left` |
//!
//! The table of meet-side.md §5.a gives the codes of the first ten rows for a leg that is
//! still unanswered, and says only "BYE with `Reason:` header" for a disconnect after join;
//! "in 'answered slate' lobby mode a denial/timeout becomes a BYE carrying
//! `Reason: SIP;cause=403|408`", so the `Reason` cause of a refusal is its table code. The
//! rest is tcn's reading, chosen so that every outcome has both forms:
//! - After join, a removal by the host keeps its refusal code (kick 403, like a denial; lock
//!   480, like a lock at connect; an unhealthy session 503, like a transport failure), while
//!   the normal ends (conference ended, stopped by a participant, tcn left) carry cause 200,
//!   RFC 3326's "call completed" (§3, `SIP;cause=200;text="Call completed elsewhere"`).
//! - Before join, the normal ends still need a final response: the conference ending in the
//!   lobby is 404 (as "no active conference"), a stop 480, and tcn's own leave 487 (the node
//!   leaves before answering only when the caller cancels; RFC 3261 §9.2 answers 487).
//!
//! Which form applies is up to the node, which knows whether it answered the SIP leg (it may
//! answer early in "answered slate" lobby mode): [`SessionOutcome::sip_ending`].
//!
//! [`sip_status`]: SessionOutcome::sip_status
//! [`reason_header`]: SessionOutcome::reason_header
//! [`label`]: SessionOutcome::label
//! [`NotFound`]: SessionOutcome::NotFound
//! [`Unauthenticated`]: SessionOutcome::Unauthenticated
//! [`PermissionDenied`]: SessionOutcome::PermissionDenied
//! [`VideoLocked`]: SessionOutcome::VideoLocked
//! [`AudioLocked`]: SessionOutcome::AudioLocked
//! [`AdmissionDenied`]: SessionOutcome::AdmissionDenied
//! [`AdmissionTimeout`]: SessionOutcome::AdmissionTimeout
//! [`Busy`]: SessionOutcome::Busy
//! [`OfferRejected`]: SessionOutcome::OfferRejected
//! [`Unavailable`]: SessionOutcome::Unavailable
//! [`JoinTimeout`]: SessionOutcome::JoinTimeout
//! [`SessionUnhealthy`]: SessionOutcome::SessionUnhealthy
//! [`Kicked`]: SessionOutcome::Kicked
//! [`ConferenceEnded`]: SessionOutcome::ConferenceEnded
//! [`UserStopped`]: SessionOutcome::UserStopped
//! [`Left`]: SessionOutcome::Left

use std::fmt;

use serde::Deserialize;

use super::settings::LobbyTimeoutStatus;
use crate::protocol::session_control::DisconnectReason;

/// How one gateway call's Meet leg ended (or was refused before it began). See the module
/// docs for the full table of SIP codes, `Reason` headers and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionOutcome {
    /// The meeting code or ID resolves to nothing, or the conference has not started
    /// (`NOT_FOUND`, `NO_ACTIVE_CONFERENCE`). SIP 404.
    NotFound,
    /// The backend refused the gateway JWT (`UNAUTHENTICATED`: bad signature, expired, wrong
    /// audience, replayed). SIP 403; a configuration error to log.
    Unauthenticated,
    /// The backend refused the gateway (`PERMISSION_DENIED`: interop disabled, interop token
    /// unknown or revoked). SIP 403; a configuration error to log.
    PermissionDenied,
    /// A host locked video: at connect (`FAILED_PRECONDITION`, reason `VIDEO_LOCKED`) or
    /// while in the conference (`x-REASON_VIDEO_LOCKED`). SIP 480 \[BRIEF\].
    VideoLocked,
    /// A host locked audio (`AUDIO_LOCKED`, `x-REASON_AUDIO_LOCKED`), by analogy with video.
    /// SIP 480.
    AudioLocked,
    /// A host denied admission from the lobby (`x-REASON_ADMISSION_DENIED`). SIP 403.
    AdmissionDenied,
    /// Nobody admitted the gateway in time (`x-REASON_ADMISSION_TIMEOUT`, or the session's own
    /// join timer while waiting in the lobby). SIP 408, or 480 when so configured.
    AdmissionTimeout {
        /// The SIP status configured for a lobby timeout
        /// ([`super::SessionSettings::lobby_timeout_status`]).
        status: LobbyTimeoutStatus,
    },
    /// The conference or the backend is full (`RESOURCE_EXHAUSTED`, `CONNECTIONS_EXHAUSTED`).
    /// SIP 486.
    Busy,
    /// The backend refused the SDP offer (`INVALID_OFFER`, `INVALID_ARGUMENT`). SIP 488.
    OfferRejected,
    /// The backend could not be reached or failed (transport failure, HTTP 5xx, a timeout, an
    /// error this table does not know), or the WebRTC transport failed. SIP 503.
    Unavailable,
    /// The session's join timer fired before the server sent any session status: neither the
    /// lobby nor the conference was ever reached. SIP 503.
    JoinTimeout,
    /// The server ended the session as unhealthy (`REASON_SESSION_UNHEALTHY`), or gave a
    /// reason this version does not know, or none. SIP 503.
    SessionUnhealthy,
    /// A host removed the gateway (`x-REASON_KICKED`, or `REASON_SESSION_UNHEALTHY` with
    /// `"x-reason":"KICKED"`). SIP 403 / `Reason: SIP;cause=403`.
    Kicked,
    /// The conference ended (`REASON_CONFERENCE_ENDED`). `Reason: SIP;cause=200`; 404 before
    /// the leg is answered.
    ConferenceEnded,
    /// A participant stopped the session (`REASON_USER_STOPPED`). `Reason: SIP;cause=200`;
    /// 480 before the leg is answered.
    UserStopped,
    /// tcn left ([`super::MeetSession::leave`]; the server's `REASON_CLIENT_LEFT`).
    /// `Reason: SIP;cause=200`; 487 before the leg is answered.
    Left,
}

/// What the node does on the SIP (or, through RFC 3398, H.323) leg when the Meet leg ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEnding {
    /// The leg is not answered yet: send this final response to the INVITE.
    Reject {
        /// The SIP status code (4xx or 5xx).
        status: u16,
    },
    /// The leg is answered: send BYE carrying this `Reason` header value.
    Bye {
        /// The `Reason` header value (RFC 3326), e.g. `SIP;cause=200;text="Conference ended"`.
        reason: String,
    },
}

impl SessionOutcome {
    /// The SIP final response for a leg that is not answered yet (meet-side.md §5.a table).
    pub fn sip_status(&self) -> u16 {
        match self {
            Self::NotFound | Self::ConferenceEnded => 404,
            Self::Unauthenticated | Self::PermissionDenied | Self::AdmissionDenied => 403,
            Self::Kicked => 403,
            Self::VideoLocked | Self::AudioLocked | Self::UserStopped => 480,
            Self::AdmissionTimeout { status } => status.code(),
            Self::Busy => 486,
            Self::OfferRejected => 488,
            Self::Unavailable | Self::JoinTimeout | Self::SessionUnhealthy => 503,
            Self::Left => 487,
        }
    }

    /// The `cause` of the `Reason` header on a BYE: [`Self::sip_status`] for a refusal or
    /// failure, 200 for a normal end ([`Self::is_normal_end`]).
    pub fn reason_cause(&self) -> u16 {
        if self.is_normal_end() {
            200
        } else {
            self.sip_status()
        }
    }

    /// The `text` of the `Reason` header on a BYE, for people reading logs and endpoint
    /// screens.
    pub fn reason_text(&self) -> &'static str {
        match self {
            Self::NotFound => "Conference not found",
            Self::Unauthenticated => "Gateway authentication failed",
            Self::PermissionDenied => "Gateway not permitted",
            // The reference: a lock "reported as SIP 480 errors (with a cause of "Call
            // rejected")".
            Self::VideoLocked => "Call rejected",
            Self::AudioLocked => "Audio locked by host",
            Self::AdmissionDenied => "Admission denied",
            Self::AdmissionTimeout { .. } => "Admission timed out",
            Self::Busy => "Conference full",
            Self::OfferRejected => "Media offer not acceptable",
            Self::Unavailable => "Meet unavailable",
            Self::JoinTimeout => "Meet join timed out",
            Self::SessionUnhealthy => "Meet session failed",
            Self::Kicked => "Removed by host",
            Self::ConferenceEnded => "Conference ended",
            Self::UserStopped => "Stopped by a participant",
            Self::Left => "Call completed",
        }
    }

    /// The `Reason` header value (RFC 3326) for a BYE on an answered leg, in the canonical
    /// form tcn's SIP stack prints: `SIP;cause=<cause>;text="<text>"`.
    pub fn reason_header(&self) -> String {
        format!(
            "SIP;cause={};text=\"{}\"",
            self.reason_cause(),
            self.reason_text()
        )
    }

    /// What to do on the SIP leg: a final response when `leg_answered` is false, a BYE with
    /// [`Self::reason_header`] when it is true.
    pub fn sip_ending(&self, leg_answered: bool) -> SipEnding {
        if leg_answered {
            SipEnding::Bye {
                reason: self.reason_header(),
            }
        } else {
            SipEnding::Reject {
                status: self.sip_status(),
            }
        }
    }

    /// A short, stable, snake_case name for metrics labels and logs (a closed set: one per
    /// variant).
    pub fn label(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::VideoLocked => "video_locked",
            Self::AudioLocked => "audio_locked",
            Self::AdmissionDenied => "admission_denied",
            Self::AdmissionTimeout { .. } => "admission_timeout",
            Self::Busy => "busy",
            Self::OfferRejected => "offer_rejected",
            Self::Unavailable => "unavailable",
            Self::JoinTimeout => "join_timeout",
            Self::SessionUnhealthy => "session_unhealthy",
            Self::Kicked => "kicked",
            Self::ConferenceEnded => "conference_ended",
            Self::UserStopped => "user_stopped",
            Self::Left => "left",
        }
    }

    /// Whether this is a normal end of a call rather than a refusal or a failure: the
    /// conference ended, a participant stopped the session, or tcn left.
    pub fn is_normal_end(&self) -> bool {
        matches!(self, Self::ConferenceEnded | Self::UserStopped | Self::Left)
    }

    /// Whether this points at the node's configuration rather than at the call (meet-side.md
    /// §5.a: "log as config error"): the backend refused the gateway's credentials.
    pub fn is_config_error(&self) -> bool {
        matches!(self, Self::Unauthenticated | Self::PermissionDenied)
    }

    /// The outcome of a `STATE_DISCONNECTED` with `reason` (already resolved through
    /// [`crate::protocol::session_control::SessionStatus::gateway_reason`]); `None` when no
    /// reason was given. A lobby timeout takes `lobby_timeout_status`.
    pub fn from_disconnect_reason(
        reason: Option<&DisconnectReason>,
        lobby_timeout_status: LobbyTimeoutStatus,
    ) -> Self {
        match reason {
            Some(DisconnectReason::ClientLeft) => Self::Left,
            Some(DisconnectReason::UserStopped) => Self::UserStopped,
            Some(DisconnectReason::ConferenceEnded) => Self::ConferenceEnded,
            Some(DisconnectReason::XAdmissionDenied) => Self::AdmissionDenied,
            Some(DisconnectReason::XAdmissionTimeout) => Self::AdmissionTimeout {
                status: lobby_timeout_status,
            },
            Some(DisconnectReason::XVideoLocked) => Self::VideoLocked,
            Some(DisconnectReason::XAudioLocked) => Self::AudioLocked,
            Some(DisconnectReason::XKicked) => Self::Kicked,
            // A real-Meet adapter maps unknown reasons to REASON_SESSION_UNHEALTHY, as
            // Google's TS client does (meet-side.md §5.b); so does tcn.
            Some(DisconnectReason::SessionUnhealthy | DisconnectReason::Unknown(_)) | None => {
                Self::SessionUnhealthy
            }
        }
    }
}

impl fmt::Display for SessionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why the connector's `resolve` or `connect` failed: the parts of a Google-style error that
/// decide the SIP code (meet-side.md §5.b: `{"error":{"code":<http>,"message":…,
/// "status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",
/// "reason":"CONSENTER_ABSENT","domain":"meet-sim"}]}}`). [`Self::outcome`] maps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectFailure {
    /// The HTTP status of the answer; `None` when no answer came (transport failure, timeout).
    pub http_status: Option<u16>,
    /// The canonical status name (`"PERMISSION_DENIED"`), when the body gave one.
    pub status: Option<String>,
    /// The `google.rpc.ErrorInfo` reason (`"VIDEO_LOCKED"`), when the body gave one.
    pub reason: Option<String>,
}

impl ConnectFailure {
    /// No answer at all: the request failed in transport or timed out (→ 503).
    pub fn transport() -> Self {
        Self::default()
    }

    /// An error answer: the HTTP status and the response body. The body is read as a
    /// Google-style error for `status` and the first `ErrorInfo` `reason`; a body that is not
    /// one (empty, HTML from a proxy) leaves both `None`, and only `http_status` counts.
    pub fn from_error_body(http_status: u16, body: &[u8]) -> Self {
        let error = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .and_then(|b| b.error);
        let (status, reason) = match error {
            Some(e) => (
                e.status.filter(|s| !s.is_empty()),
                e.details.iter().find_map(error_info_reason),
            ),
            None => (None, None),
        };
        Self {
            http_status: Some(http_status),
            status,
            reason,
        }
    }

    /// The outcome (meet-side.md §5.a table). The `ErrorInfo` reason decides first
    /// (`VIDEO_LOCKED` → 480 whatever the status), then the canonical status, then the HTTP
    /// status; anything else, and no answer, is [`SessionOutcome::Unavailable`] (503).
    pub fn outcome(&self) -> SessionOutcome {
        let by_name = |name: &str| match name {
            "VIDEO_LOCKED" => Some(SessionOutcome::VideoLocked),
            "AUDIO_LOCKED" => Some(SessionOutcome::AudioLocked),
            "NOT_FOUND" | "NO_ACTIVE_CONFERENCE" => Some(SessionOutcome::NotFound),
            "UNAUTHENTICATED" => Some(SessionOutcome::Unauthenticated),
            "PERMISSION_DENIED" => Some(SessionOutcome::PermissionDenied),
            "RESOURCE_EXHAUSTED" | "CONNECTIONS_EXHAUSTED" => Some(SessionOutcome::Busy),
            "INVALID_OFFER" | "INVALID_ARGUMENT" => Some(SessionOutcome::OfferRejected),
            _ => None,
        };
        let by_http = |code: u16| match code {
            400 => SessionOutcome::OfferRejected,
            401 => SessionOutcome::Unauthenticated,
            403 => SessionOutcome::PermissionDenied,
            404 => SessionOutcome::NotFound,
            429 => SessionOutcome::Busy,
            _ => SessionOutcome::Unavailable,
        };
        if let Some(outcome) = self.reason.as_deref().and_then(by_name) {
            return outcome;
        }
        if let Some(status) = self.status.as_deref() {
            // A status the table does not name (FAILED_PRECONDITION without a known reason,
            // INTERNAL, UNAVAILABLE, ...) is a backend failure: 503.
            return by_name(status).unwrap_or(SessionOutcome::Unavailable);
        }
        self.http_status
            .map_or(SessionOutcome::Unavailable, by_http)
    }
}

impl From<&ConnectFailure> for SessionOutcome {
    fn from(failure: &ConnectFailure) -> Self {
        failure.outcome()
    }
}

/// `{"error": {...}}`, the parts [`ConnectFailure`] reads; everything else is ignored.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorObject>,
}

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    status: Option<String>,
    /// `google.protobuf.Any` objects of any type; kept raw so that one odd detail does not
    /// hide the others.
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

/// The `reason` of a `google.rpc.ErrorInfo` detail; `None` for any other detail.
fn error_info_reason(detail: &serde_json::Value) -> Option<String> {
    let type_url = detail.get("@type")?.as_str()?;
    if !type_url.ends_with("google.rpc.ErrorInfo") {
        return None;
    }
    let reason = detail.get("reason")?.as_str()?;
    (!reason.is_empty()).then(|| reason.to_owned())
}
