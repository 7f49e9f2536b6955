//! `media-entries`: the media sources of each participant session, server → client only
//! (meet-side.md §1.4, §1.5).
//!
//! There is one media entry per participant *session*; a screenshare is an entry of its own.
//! The CSRCs tie RTP to an entry: Meet sends every participant's media on a few virtual SSRCs
//! and names the real source in the RTP CSRC list, so a receiver maps the CSRC of a packet
//! to `audioCsrc` / `videoCsrcs` here.

use serde::{Deserialize, Serialize};

use super::int64;

/// A server → client `media-entries` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaEntriesToClient {
    /// Media entries added or changed, in no particular order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<MediaEntryResource>,
    /// Media entries that ended, in no particular order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_resources: Vec<DeletedMediaEntry>,
}

/// A `media-entries` resource snapshot: `{"id": 3, "mediaEntry": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaEntryResource {
    /// Resource id; `video-assignment` refers to it as `mediaEntryId`.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The media entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_entry: Option<MediaEntry>,
}

/// A deleted media entry: `{"id": 3, "mediaEntry": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedMediaEntry {
    /// The resource id of the entry that ended.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The resource-type marker; `true` on the wire.
    #[serde(default)]
    pub media_entry: bool,
}

impl DeletedMediaEntry {
    /// The deletion of resource `id`, with the `mediaEntry: true` marker.
    pub fn new(id: i64) -> Self {
        Self {
            id,
            media_entry: true,
        }
    }
}

/// The media of one participant session.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaEntry {
    /// The participant's resource name, `conferenceRecords/{record}/participants/{p}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// `participants/{participant}`: matches [`super::participants::Participant::participant_key`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_key: Option<String>,
    /// The session's resource name,
    /// `conferenceRecords/{record}/participants/{p}/participantSessions/{s}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// `participants/{p}/participantSessions/{s}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// Deprecated numeric participant id (Google's TS client still declares it).
    #[serde(
        default,
        with = "int64::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub participant_id: Option<i64>,
    /// The CSRC of this entry's audio; 0 when it sends none.
    #[serde(default, with = "int64")]
    pub audio_csrc: u32,
    /// The CSRCs of this entry's video; empty when it sends none.
    #[serde(default, with = "int64::vec")]
    pub video_csrcs: Vec<u32>,
    /// The entry is presenting.
    #[serde(default)]
    pub presenter: bool,
    /// The entry is a screenshare.
    #[serde(default)]
    pub screenshare: bool,
    /// The participant muted their audio.
    #[serde(default)]
    pub audio_muted: bool,
    /// The participant muted their video.
    #[serde(default)]
    pub video_muted: bool,
}

impl MediaEntry {
    /// Whether a packet carrying `csrc` belongs to this entry (audio or video).
    pub fn has_csrc(&self, csrc: u32) -> bool {
        csrc != 0 && (self.audio_csrc == csrc || self.video_csrcs.contains(&csrc))
    }
}
