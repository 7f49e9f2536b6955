//! The JSON messages of the Meet data channels (meet-side.md §1.4, §5.b).
//!
//! One module per channel, named after its label ([`DataChannel`]):
//!
//! | module | label | direction |
//! |---|---|---|
//! | [`session_control`] | `session-control` | both: `leave` → join state |
//! | [`media_stats`] | `media-stats` | both: upload configuration → stats uploads |
//! | [`participants`] | `participants` | server → client: roster |
//! | [`media_entries`] | `media-entries` | server → client: per-session media sources |
//! | [`video_assignment`] | `video-assignment` | both: `setAssignment` → canvas assignment |
//! | [`x_conference`] | `x-conference` | server → client: recording, locks, policies (tcn extension) |
//! | [`x_chat`] | `x-chat` | both: chat (tcn extension) |
//!
//! Every channel uses the envelope in [`envelope`] (re-exported here): a client sends
//! `ClientMessage<XRequestPayload>`; a server sends `XToClient`, with an optional
//! [`Response`] (matched by `requestId`), resource snapshots and, where the channel has them,
//! deleted resources. The types only describe messages: no I/O, no clock, no state. Encode and
//! decode them with `serde_json`.
//!
//! Wire conventions, applied throughout:
//! - **Integers** are read from a JSON number or a JSON string and written as numbers
//!   ([`int64`]; meet-side.md §1.4 "Interop note" asks for numbers on output).
//! - **Unknown fields are ignored** on input, at every level, and are not kept: Meet (or a
//!   newer meet-sim) may add fields, and a gateway must not drop a call over a field it does
//!   not use. A re-encoded message therefore carries only the fields modelled here. Nothing
//!   uses `deny_unknown_fields`.
//! - **Open enumerations** (connection states, disconnect reasons, restriction types, ...) have
//!   an `Unknown(String)` variant that keeps the spelling received, so it round-trips.
//! - **`oneof`s** are one `Option` field per member, as proto3 JSON spells them, with an
//!   accessor that picks the member that is set.
//! - **Absent vs. default**: optional scalars are `Option`; booleans, ids and counters default
//!   to `false`/0 when absent (proto3 omits defaults) and are always written.

/// Declares an open string enumeration: the listed variants with their wire spellings, plus
/// `Unknown(String)` for any other spelling, serialised as a JSON string.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A spelling this version does not know, kept verbatim so that it round-trips.
            /// Never holds one of the known spellings when produced by parsing.
            Unknown(String),
        }

        impl $name {
            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// The value for a wire spelling; an unknown spelling gives `Unknown`.
            pub fn from_wire(spelling: &str) -> Self {
                match spelling {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let spelling = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_wire(&spelling))
            }
        }
    };
}

pub mod envelope;
pub mod int64;
pub mod media_entries;
pub mod media_stats;
pub mod participants;
pub mod session_control;
pub mod video_assignment;
pub mod x_chat;
pub mod x_conference;

use std::fmt;

pub use envelope::{
    ClientMessage, Empty, Request, RequestIdGenerator, Response, Status, StatusCode,
};

/// The data channels a tcn client opens, by label. The client creates them, all reliable and
/// ordered, carrying JSON text (meet-side.md §1.4, §5.a step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataChannel {
    /// `session-control`: join state and leave.
    SessionControl,
    /// `media-stats`: upload configuration and stats uploads.
    MediaStats,
    /// `participants`: the roster.
    Participants,
    /// `media-entries`: media sources per participant session.
    MediaEntries,
    /// `video-assignment`: layout request and canvas assignment.
    VideoAssignment,
    /// `x-conference`: conference state (tcn extension).
    XConference,
    /// `x-chat`: chat messages (tcn extension).
    XChat,
}

impl DataChannel {
    /// Every channel, in the order the client creates them.
    pub const ALL: [Self; 7] = [
        Self::SessionControl,
        Self::MediaStats,
        Self::Participants,
        Self::MediaEntries,
        Self::VideoAssignment,
        Self::XConference,
        Self::XChat,
    ];

    /// The channel label, which is the contract between client and server.
    pub fn label(self) -> &'static str {
        match self {
            Self::SessionControl => "session-control",
            Self::MediaStats => "media-stats",
            Self::Participants => "participants",
            Self::MediaEntries => "media-entries",
            Self::VideoAssignment => "video-assignment",
            Self::XConference => "x-conference",
            Self::XChat => "x-chat",
        }
    }

    /// The channel with this label, or `None` for a label tcn does not know.
    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.label() == label)
    }

    /// Whether this is a tcn extension (`x-`) rather than a Meet Media API channel.
    pub fn is_extension(self) -> bool {
        matches!(self, Self::XConference | Self::XChat)
    }
}

impl fmt::Display for DataChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
