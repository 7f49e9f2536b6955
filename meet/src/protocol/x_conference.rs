//! `x-conference` (tcn extension): conference-wide state a gateway must reflect — recording,
//! transcription, host locks and policies. Server → client only; one singleton resource,
//! sent when the channel opens and again on every change (meet-side.md §5.b).
//!
//! ```json
//! {"resources":[{"conferenceState":{"recording":false,"transcribing":false,
//!   "videoLock":false,"audioLock":false,"chatRestriction":"NO_RESTRICTION",
//!   "presentRestriction":"NO_RESTRICTION"}}]}
//! ```

use serde::{Deserialize, Serialize};

use super::int64;

/// A server → client `x-conference` message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct XConferenceToClient {
    /// Conference state snapshots (in practice exactly one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ConferenceStateResource>,
}

impl XConferenceToClient {
    /// A message carrying `state`.
    pub fn state(state: ConferenceState) -> Self {
        Self {
            resources: vec![ConferenceStateResource {
                id: 0,
                conference_state: Some(state),
            }],
        }
    }

    /// The conference state in this message, if any (the last snapshot when there are
    /// several).
    pub fn conference_state(&self) -> Option<&ConferenceState> {
        self.resources
            .iter()
            .rev()
            .find_map(|r| r.conference_state.as_ref())
    }
}

/// An `x-conference` resource snapshot: `{"id"?: 0, "conferenceState": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceStateResource {
    /// Resource id; always 0 (singleton). Absent reads as 0.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The conference state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_state: Option<ConferenceState>,
}

/// The conference-wide state. Every field is always written; an absent field reads as
/// `false` / `NO_RESTRICTION`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceState {
    /// The conference is being recorded: drives the gateway's recording indicator.
    #[serde(default)]
    pub recording: bool,
    /// The conference is being transcribed.
    #[serde(default)]
    pub transcribing: bool,
    /// A host locked video: participants may not send video.
    #[serde(default)]
    pub video_lock: bool,
    /// A host locked audio: participants may not send audio.
    #[serde(default)]
    pub audio_lock: bool,
    /// Who may send chat messages.
    #[serde(default)]
    pub chat_restriction: RestrictionType,
    /// Who may present.
    #[serde(default)]
    pub present_restriction: RestrictionType,
}

open_enum! {
    /// Who may use a feature (Meet REST API `RestrictionType`).
    pub enum RestrictionType {
        /// Only hosts and co-hosts.
        HostsOnly = "HOSTS_ONLY",
        /// Everyone.
        NoRestriction = "NO_RESTRICTION",
    }
}

impl Default for RestrictionType {
    /// `NO_RESTRICTION`, Meet's default when moderation is off.
    fn default() -> Self {
        Self::NoRestriction
    }
}

impl RestrictionType {
    /// Whether a participant who is not a host (such as the gateway) may use the feature.
    /// An unknown restriction counts as a restriction.
    pub fn allows_everyone(&self) -> bool {
        *self == Self::NoRestriction
    }
}
