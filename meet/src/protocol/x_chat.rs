//! `x-chat` (tcn extension): conference chat in both directions (meet-side.md §5.b).
//!
//! ```json
//! {"request":{"requestId":4,"sendMessage":{"text":"hi"}}}
//! {"resources":[{"id":88,"chatMessage":{"participantId":7,"displayName":"Alice",
//!   "text":"hello","createTime":"2026-01-01T00:00:00Z"}}]}
//! ```
//!
//! A `sendMessage` is refused with `PERMISSION_DENIED` (7) while chat is restricted to hosts,
//! and with `INVALID_ARGUMENT` (3) when the text is longer than the server's limit.

use serde::{Deserialize, Serialize};

use super::{ClientMessage, Empty, Response, int64};

/// A client → server `x-chat` message.
pub type XChatFromClient = ClientMessage<XChatRequestPayload>;

impl XChatFromClient {
    /// A `sendMessage` request with `text`.
    pub fn send_message(request_id: i64, text: impl Into<String>) -> Self {
        Self::new(
            request_id,
            XChatRequestPayload {
                send_message: Some(SendMessage { text: text.into() }),
            },
        )
    }
}

/// The request kinds of `x-chat` (a `oneof`; none set for an unknown kind).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XChatRequestPayload {
    /// `sendMessage`: post a message to everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_message: Option<SendMessage>,
}

/// The body of `sendMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SendMessage {
    /// The message text.
    #[serde(default)]
    pub text: String,
}

/// The echo of the request kind in an `x-chat` response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XChatResponsePayload {
    /// Set in the answer to a `sendMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_message: Option<Empty>,
}

/// A server → client `x-chat` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XChatToClient {
    /// The answer to a `sendMessage`, if this message carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response<XChatResponsePayload>>,
    /// Chat messages, one resource each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ChatMessageResource>,
}

/// An `x-chat` resource snapshot: `{"id": 88, "chatMessage": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessageResource {
    /// Resource id of the message, unique within the channel.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_message: Option<ChatMessage>,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// The sender's [`super::participants::Participant::participant_id`].
    #[serde(default, with = "int64")]
    pub participant_id: i64,
    /// The sender's display name.
    #[serde(default)]
    pub display_name: String,
    /// The message text.
    #[serde(default)]
    pub text: String,
    /// When the server received it, RFC 3339 (`2026-01-01T00:00:00Z`), kept as text.
    #[serde(default)]
    pub create_time: String,
}
