//! Chat between the room system and the Meet conference (SIP MESSAGE ⇄ `x-chat`).
//!
//! The SIP stack answers a room system's MESSAGE at once, while the call's task owns the
//! [`MeetSession`](meet::session::MeetSession) that knows whether the conference would take
//! it. [`ChatGate`] is what they share: the task sets whether chat is open (joined, and not
//! restricted to hosts), and the stack asks it before it takes a MESSAGE, so that a message
//! the conference would refuse gets a clear SIP refusal ([`refusal`]) instead of vanishing.
//!
//! | why | SIP |
//! |---|---|
//! | not in the conference yet (lobby, connecting) or no longer | 480 `Temporarily Unavailable - not in the conference` |
//! | the conference restricts chat to hosts | 403 `Forbidden - chat is restricted to hosts` |
//! | the text is empty | 400 `Bad Request - empty message` |
//! | the text is longer than the session's `chat_max_chars` | 413 `Message Too Large - ...` (RFC 3428 §7) |

use std::sync::atomic::{AtomicU8, Ordering};

use meet::session::ChatError;

/// Whether the room system may chat now, as the call's task last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChatState {
    /// Not joined: connecting, in the lobby, or ended.
    Closed,
    /// Joined, and everyone may chat.
    Open,
    /// Joined, but the conference lets only hosts chat (`x-conference` `chatRestriction`).
    HostsOnly,
}

/// The chat state of one call, shared by its SIP leg and its task.
#[derive(Debug)]
pub(crate) struct ChatGate {
    state: AtomicU8,
    /// The longest text taken, in characters (the session's `chat_max_chars`).
    max_chars: usize,
}

impl ChatGate {
    /// A closed gate for texts of at most `max_chars` characters.
    pub(crate) fn new(max_chars: usize) -> Self {
        Self {
            state: AtomicU8::new(ChatState::Closed as u8),
            max_chars,
        }
    }

    /// Sets the state (from the call's task).
    pub(crate) fn set(&self, state: ChatState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    /// The current state.
    pub(crate) fn state(&self) -> ChatState {
        match self.state.load(Ordering::Relaxed) {
            s if s == ChatState::Open as u8 => ChatState::Open,
            s if s == ChatState::HostsOnly as u8 => ChatState::HostsOnly,
            _ => ChatState::Closed,
        }
    }

    /// Whether the conference would take `text` from the room system now: the same checks,
    /// in the same order, as [`MeetSession::send_chat`](meet::session::MeetSession::send_chat).
    pub(crate) fn check(&self, text: &str) -> Result<(), ChatError> {
        match self.state() {
            ChatState::Closed => return Err(ChatError::NotJoined),
            ChatState::HostsOnly => return Err(ChatError::Restricted),
            ChatState::Open => {}
        }
        if text.trim().is_empty() {
            return Err(ChatError::Empty);
        }
        let chars = text.chars().count();
        if chars > self.max_chars {
            return Err(ChatError::TooLong {
                chars,
                max: self.max_chars,
            });
        }
        Ok(())
    }
}

/// The SIP status and reason phrase that refuse a MESSAGE for `error`.
pub(crate) fn refusal(error: &ChatError) -> (u16, String) {
    match error {
        ChatError::NotJoined => (
            480,
            "Temporarily Unavailable - not in the conference".to_owned(),
        ),
        ChatError::Restricted => (403, "Forbidden - chat is restricted to hosts".to_owned()),
        ChatError::Empty => (400, "Bad Request - empty message".to_owned()),
        ChatError::TooLong { chars, max } => (
            413,
            format!("Message Too Large - {chars} characters, at most {max}"),
        ),
    }
}

/// The text a Meet chat message becomes on the room system: `"<name>: <text>"`, or the text
/// alone when the sender has no name.
pub(crate) fn from_meet(display_name: &str, text: &str) -> String {
    let name = display_name.trim();
    if name.is_empty() {
        text.to_owned()
    } else {
        format!("{name}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_follows_the_conference() {
        let gate = ChatGate::new(5);
        assert_eq!(gate.check("hi"), Err(ChatError::NotJoined));
        gate.set(ChatState::Open);
        assert_eq!(gate.check("hi"), Ok(()));
        assert_eq!(gate.check("  "), Err(ChatError::Empty));
        assert_eq!(
            gate.check("toolong"),
            Err(ChatError::TooLong { chars: 7, max: 5 })
        );
        gate.set(ChatState::HostsOnly);
        assert_eq!(gate.check("hi"), Err(ChatError::Restricted));
        gate.set(ChatState::Closed);
        assert_eq!(gate.state(), ChatState::Closed);
    }

    #[test]
    fn refusals() {
        assert_eq!(refusal(&ChatError::Restricted).0, 403);
        assert_eq!(refusal(&ChatError::NotJoined).0, 480);
        assert_eq!(refusal(&ChatError::Empty).0, 400);
        let (code, phrase) = refusal(&ChatError::TooLong { chars: 9, max: 5 });
        assert_eq!(
            (code, phrase.as_str()),
            (413, "Message Too Large - 9 characters, at most 5")
        );
        assert_eq!(from_meet(" Alice ", "hello"), "Alice: hello");
        assert_eq!(from_meet("", "hello"), "hello");
    }
}
