//! Media direction: `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866 §6.7)
//! and how an answer mirrors an offer's (RFC 3264 §6.1).

use std::fmt;

use super::session::{MediaDescription, SessionDescription};

/// A media direction, always from the point of view of the side it describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Send and receive (the default, RFC 8866 §6.7).
    SendRecv,
    /// Send only.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// Every direction.
    pub const ALL: [Self; 4] = [
        Self::SendRecv,
        Self::SendOnly,
        Self::RecvOnly,
        Self::Inactive,
    ];

    /// The attribute name, e.g. `sendonly`.
    pub fn attribute_name(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an attribute name stands for (case-insensitive).
    pub fn from_attribute_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.attribute_name().eq_ignore_ascii_case(name))
    }

    /// The direction from the other side: sendonly ↔ recvonly, the others unchanged. An
    /// answer to an offered direction is its reverse (RFC 3264 §6.1).
    pub fn reverse(self) -> Self {
        match self {
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            other => other,
        }
    }

    /// Whether media is sent.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether media is received.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The direction with these two abilities.
    pub fn from_abilities(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// This direction without sending, e.g. for a peer on hold.
    pub fn without_send(self) -> Self {
        Self::from_abilities(false, self.receives())
    }

    /// Whether `answer` is a permitted answer to this offered direction (RFC 3264 §6.1): any
    /// answer to sendrecv, recvonly or inactive to sendonly, sendonly or inactive to recvonly,
    /// inactive to inactive.
    pub fn permits_answer(self, answer: Self) -> bool {
        answer == Self::Inactive
            || match self {
                Self::SendRecv => true,
                Self::SendOnly => answer == Self::RecvOnly,
                Self::RecvOnly => answer == Self::SendOnly,
                Self::Inactive => false,
            }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.attribute_name())
    }
}

fn first_direction<'a>(names: impl Iterator<Item = &'a str>) -> Option<Direction> {
    names.filter_map(Direction::from_attribute_name).next()
}

impl MediaDescription {
    /// The media-level direction attribute, if any (the first one).
    pub fn direction(&self) -> Option<Direction> {
        first_direction(self.attributes.iter().map(|a| a.name.as_str()))
    }
}

impl SessionDescription {
    /// The session-level direction: the attribute, else sendrecv (RFC 8866 §6.7).
    pub fn direction(&self) -> Direction {
        first_direction(self.attributes.iter().map(|a| a.name.as_str()))
            .unwrap_or(Direction::SendRecv)
    }

    /// The direction of `media`: its own attribute, else the session's (RFC 8866 §6.7).
    pub fn media_direction(&self, media: &MediaDescription) -> Direction {
        media.direction().unwrap_or_else(|| self.direction())
    }
}
