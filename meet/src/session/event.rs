//! What a [`super::MeetSession`] reports: its state, its events, and its errors.

use crate::protocol::DataChannel;
use crate::protocol::Status;
use crate::protocol::media_entries::MediaEntryResource;
use crate::protocol::media_stats::MediaStatsConfiguration;
use crate::protocol::participants::ParticipantResource;
use crate::protocol::video_assignment::VideoAssignment;
use crate::protocol::x_chat::ChatMessage;
use crate::protocol::x_conference::ConferenceState;

use super::outcome::SessionOutcome;

/// Where the session stands (`session-control`'s `connectionState`, meet-side.md §1.4, plus
/// the two client-side states around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Created; the server has not sent a session status yet. Meet may go straight to
    /// `STATE_JOINED` (a trusted gateway) without ever sending `STATE_WAITING`.
    Connecting,
    /// `STATE_WAITING`: in the lobby, waiting for a host to admit the gateway.
    Waiting,
    /// `STATE_JOINED`: in the conference.
    Joined,
    /// tcn sent `leave` from the joined state and waits for `STATE_DISCONNECTED` (or the
    /// leave timeout); the session will end with this outcome.
    Leaving(SessionOutcome),
    /// The session is over, with this outcome. Final.
    Disconnected(SessionOutcome),
}

impl SessionState {
    /// Whether the session is over.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Self::Disconnected(_))
    }
}

/// Something the call controller should act on, from [`super::MeetSession::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// `STATE_WAITING`: the gateway is in the lobby (the node plays "waiting for the host":
    /// 183 early media or an answered slate, meet-side.md §5.a).
    Waiting,
    /// `STATE_JOINED`: the gateway is in the conference (→ 200 OK, or stop the slate). The
    /// 1+7 `setAssignment` goes out now, or as soon as the channels are open.
    Joined,
    /// The roster changed: every participant now known, by resource id (ascending).
    RosterChanged(Vec<ParticipantResource>),
    /// The media entries changed: every entry now known, by resource id (ascending). Maps the
    /// CSRCs of incoming RTP to participant sessions (names for overlays, the loudest speaker).
    MediaEntriesChanged(Vec<MediaEntryResource>),
    /// The server accepted the `setAssignment` with this request id and layout label.
    AssignmentAccepted {
        /// The `requestId` of the `setAssignment`.
        request_id: i64,
        /// The layout label it carried.
        label: String,
    },
    /// The server refused the `setAssignment` (e.g. `INVALID_ARGUMENT`: more canvases than
    /// negotiated video streams). No video comes until an assignment is accepted.
    AssignmentRefused {
        /// The `requestId` of the `setAssignment`.
        request_id: i64,
        /// The layout label it carried.
        label: String,
        /// The status the server answered with.
        status: Status,
    },
    /// A new video assignment: which virtual SSRC and media entry each canvas shows.
    Assignment(VideoAssignment),
    /// The server's media-stats configuration (upload interval and allowlist); uploads follow
    /// it from now on.
    StatsConfigured(MediaStatsConfiguration),
    /// The conference state (`x-conference`) is new or changed: recording indicator, locks,
    /// chat and present restrictions.
    ConferenceStateChanged(ConferenceState),
    /// A chat message from the conference (`x-chat`), to relay as SIP MESSAGE or an overlay.
    ChatReceived {
        /// The message's resource id.
        id: i64,
        /// The message.
        message: ChatMessage,
    },
    /// The server accepted the chat message sent with this request id.
    ChatDelivered {
        /// The id [`super::MeetSession::send_chat`] returned.
        request_id: i64,
    },
    /// The server refused the chat message sent with this request id (`PERMISSION_DENIED`
    /// while chat is restricted to hosts, `INVALID_ARGUMENT` for a text too long).
    ChatRefused {
        /// The id [`super::MeetSession::send_chat`] returned.
        request_id: i64,
        /// The status the server answered with.
        status: Status,
    },
    /// The session is over. Always the last event. Drain [`super::MeetSession::poll_transmit`]
    /// (a final `leave` may be queued), then close the PeerConnection; on the SIP side, see
    /// [`SessionOutcome::sip_ending`].
    Disconnected {
        /// How it ended.
        outcome: SessionOutcome,
        /// Whether the session had reached `STATE_JOINED` before it ended.
        after_join: bool,
    },
}

/// Why [`super::MeetSession::send_chat`] sent nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The session is not joined, or its data channels are not open.
    #[error("not joined to the conference")]
    NotJoined,
    /// `x-conference` says only hosts may chat (meet-side.md §5.a step 9).
    #[error("chat is restricted to hosts")]
    Restricted,
    /// The text is empty or only whitespace.
    #[error("empty chat message")]
    Empty,
    /// The text is longer than [`super::SessionSettings::chat_max_chars`].
    #[error("chat message of {chars} characters is longer than {max}")]
    TooLong {
        /// Characters in the text.
        chars: usize,
        /// The configured maximum.
        max: usize,
    },
}

/// A data-channel message that is not JSON of the channel's server → client shape. The
/// session ignores it and goes on; the error is for the caller's log.
#[derive(Debug, thiserror::Error)]
#[error("malformed {channel} message: {source}")]
pub struct MessageError {
    /// The channel it came on.
    pub channel: DataChannel,
    /// What the JSON decoder said.
    #[source]
    pub source: serde_json::Error,
}
