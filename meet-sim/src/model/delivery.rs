//! What the model sends: one data-channel message for one participant.
//!
//! The model addresses a message to a participant and a channel label; whoever carries the
//! channels delivers it. Until the media plane (str0m, SCTP data channels) exists, the HTTP
//! layer keeps them in a per-participant mailbox that tests read. A carrier must queue a
//! message for a channel the client has not opened yet and send it when it opens: the model
//! emits the first `session-control`, roster and `x-conference` messages right at connect.

use serde::Serialize;

use meet::protocol::DataChannel;
use meet::protocol::media_entries::MediaEntriesToClient;
use meet::protocol::media_stats::MediaStatsToClient;
use meet::protocol::participants::ParticipantsToClient;
use meet::protocol::session_control::SessionControlToClient;
use meet::protocol::video_assignment::VideoAssignmentToClient;
use meet::protocol::x_chat::XChatToClient;
use meet::protocol::x_conference::XConferenceToClient;

/// A server → client message on one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelMessage {
    /// `session-control`.
    SessionControl(SessionControlToClient),
    /// `media-stats`.
    MediaStats(MediaStatsToClient),
    /// `participants`.
    Participants(ParticipantsToClient),
    /// `media-entries`.
    MediaEntries(MediaEntriesToClient),
    /// `video-assignment`.
    VideoAssignment(VideoAssignmentToClient),
    /// `x-conference`.
    XConference(XConferenceToClient),
    /// `x-chat`.
    XChat(XChatToClient),
}

impl ChannelMessage {
    /// The channel it goes on.
    pub fn channel(&self) -> DataChannel {
        match self {
            Self::SessionControl(_) => DataChannel::SessionControl,
            Self::MediaStats(_) => DataChannel::MediaStats,
            Self::Participants(_) => DataChannel::Participants,
            Self::MediaEntries(_) => DataChannel::MediaEntries,
            Self::VideoAssignment(_) => DataChannel::VideoAssignment,
            Self::XConference(_) => DataChannel::XConference,
            Self::XChat(_) => DataChannel::XChat,
        }
    }

    /// The message as a JSON value, exactly as it goes on the channel.
    pub fn to_json(&self) -> serde_json::Value {
        fn value<T: Serialize>(message: &T) -> serde_json::Value {
            // Protocol types are plain structs with string keys: serialising cannot fail.
            serde_json::to_value(message).unwrap_or(serde_json::Value::Null)
        }
        match self {
            Self::SessionControl(m) => value(m),
            Self::MediaStats(m) => value(m),
            Self::Participants(m) => value(m),
            Self::MediaEntries(m) => value(m),
            Self::VideoAssignment(m) => value(m),
            Self::XConference(m) => value(m),
            Self::XChat(m) => value(m),
        }
    }
}

/// A message for one participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The participant it is for.
    pub participant_id: i64,
    /// The message.
    pub message: ChannelMessage,
}
