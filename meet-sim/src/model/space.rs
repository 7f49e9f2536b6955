//! Spaces and their conferences (meet-side.md §1.6 Space / SpaceConfig, §2.3 dial strings).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::SimModel;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::ids::{is_long_id, is_short_id, normalize_meeting_code};
use meet::protocol::session_control::DisconnectReason;
use meet::protocol::x_conference::{ConferenceState, RestrictionType};

/// `SpaceConfig.accessType`: who joins without knocking (§1.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessType {
    /// Anyone with the link.
    Open,
    /// Members of the owner's organisation (Meet's default).
    #[default]
    Trusted,
    /// Only invitees.
    Restricted,
}

/// The settings a space is created with (a subset of Meet's `SpaceConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SpaceConfig {
    /// Who joins without knocking.
    pub access_type: AccessType,
    /// Who may chat (`moderationRestrictions.chatRestriction`).
    pub chat_restriction: RestrictionType,
    /// Who may present.
    pub present_restriction: RestrictionType,
}

/// A request to create a space: every field optional but the owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SpaceRequest {
    /// The meeting code (`abc-defg-hij`, any case); generated when absent.
    pub meeting_code: Option<String>,
    /// The long numeric id (`long_id_len` digits); generated when absent.
    pub long_id: Option<String>,
    /// The legacy short id (PIN prefix + digits, 5 to 20 digits); none when absent.
    pub short_id: Option<String>,
    /// The organisation that owns the space.
    pub owner_org: String,
    /// The space's settings.
    pub config: SpaceConfig,
}

/// The active conference of a space.
#[derive(Clone, Debug)]
pub(super) struct Conference {
    /// `conferenceRecords/{id}`.
    pub(super) record: String,
    /// Participants by how recently they were the active speaker, most recent first: the
    /// order the 1+7 video assignment fills canvases in.
    pub(super) speakers: Vec<i64>,
}

/// A meeting space.
#[derive(Clone, Debug)]
pub(super) struct Space {
    pub(super) id: String,
    pub(super) meeting_code: String,
    pub(super) long_id: String,
    pub(super) short_id: Option<String>,
    pub(super) owner_org: String,
    pub(super) config: SpaceConfig,
    pub(super) conference: Option<Conference>,
    /// Recording, locks and restrictions: what `x-conference` carries.
    pub(super) state: ConferenceState,
}

impl Space {
    pub(super) fn name(&self) -> String {
        format!("spaces/{}", self.id)
    }

    fn info(&self) -> SpaceInfo {
        SpaceInfo {
            name: self.name(),
            meeting_uri: format!("https://meet.google.com/{}", self.meeting_code),
            meeting_code: self.meeting_code.clone(),
            long_id: self.long_id.clone(),
            short_id: self.short_id.clone(),
            owner_org: self.owner_org.clone(),
            config: self.config.clone(),
            active_conference: self.conference.as_ref().map(|c| c.record.clone()),
            conference_state: self.state.clone(),
        }
    }
}

/// What the control API shows of a space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceInfo {
    /// `spaces/{id}`.
    pub name: String,
    /// `https://meet.google.com/{meetingCode}`.
    pub meeting_uri: String,
    /// `abc-defg-hij`.
    pub meeting_code: String,
    /// The long numeric id.
    pub long_id: String,
    /// The short numeric id, if any.
    pub short_id: Option<String>,
    /// The owning organisation.
    pub owner_org: String,
    /// The settings it was created with.
    pub config: SpaceConfig,
    /// `conferenceRecords/{id}` while a conference runs.
    pub active_conference: Option<String>,
    /// Recording, locks and restrictions now.
    pub conference_state: ConferenceState,
}

impl SimModel {
    /// Creates a space. Given codes and ids are checked for format and uniqueness (400
    /// `BAD_REQUEST`, 409 `ALREADY_EXISTS`); missing ones are generated.
    pub fn create_space(
        &mut self,
        request: SpaceRequest,
        now: SystemTime,
    ) -> Result<SpaceInfo, SimError> {
        let now = self.step(now);
        if request.owner_org.is_empty() {
            return Err(SimError::bad_request("ownerOrg must not be empty"));
        }
        let meeting_code = match &request.meeting_code {
            Some(code) => normalize_meeting_code(code).ok_or_else(|| {
                SimError::bad_request("meetingCode must be three, four and three letters")
            })?,
            None => loop {
                let code = self.ids.meeting_code();
                if self.find_space(&code).is_none() {
                    break code;
                }
            },
        };
        let len = self.config.long_id_len;
        let long_id = match &request.long_id {
            Some(id) if is_long_id(id, len) => id.clone(),
            Some(_) => {
                return Err(SimError::bad_request(format!(
                    "longId must be {len} digits, not starting with 0"
                )));
            }
            None => loop {
                let id = self.ids.long_id(len);
                if self.find_space(&id).is_none() {
                    break id;
                }
            },
        };
        if let Some(short) = &request.short_id
            && !is_short_id(short)
        {
            return Err(SimError::bad_request("shortId must be 5 to 20 digits"));
        }
        let taken = [
            Some(&meeting_code),
            Some(&long_id),
            request.short_id.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|key| self.find_space(key).is_some());
        if taken {
            return Err(SimError::new(
                RpcCode::AlreadyExists,
                "MEETING_ID_IN_USE",
                "meetingCode, longId or shortId already names a space",
            ));
        }
        let id = self.ids.space_id();
        let state = ConferenceState {
            chat_restriction: request.config.chat_restriction.clone(),
            present_restriction: request.config.present_restriction.clone(),
            ..ConferenceState::default()
        };
        let space = Space {
            id: id.clone(),
            meeting_code,
            long_id,
            short_id: request.short_id,
            owner_org: request.owner_org,
            config: request.config,
            conference: None,
            state,
        };
        let info = space.info();
        self.events.push(
            now,
            EventKind::SpaceCreated {
                space: info.name.clone(),
                meeting_code: info.meeting_code.clone(),
                long_id: info.long_id.clone(),
                owner_org: info.owner_org.clone(),
            },
        );
        self.spaces.insert(id, space);
        Ok(info)
    }

    /// The space that `key` names: `spaces/{id}`, `{id}`, a meeting code (any case, with or
    /// without dashes), a long numeric id or a short numeric id.
    pub fn space(&self, key: &str) -> Option<SpaceInfo> {
        self.find_space(key)
            .and_then(|id| self.spaces.get(&id))
            .map(Space::info)
    }

    /// Every space.
    pub fn spaces(&self) -> Vec<SpaceInfo> {
        self.spaces.values().map(Space::info).collect()
    }

    /// The id of the space `key` names; see [`space`](Self::space).
    pub(super) fn find_space(&self, key: &str) -> Option<String> {
        let bare = key.strip_prefix("spaces/").unwrap_or(key);
        if self.spaces.contains_key(bare) {
            return Some(bare.to_owned());
        }
        let code = normalize_meeting_code(bare);
        self.spaces
            .values()
            .find(|s| {
                code.as_deref() == Some(s.meeting_code.as_str())
                    || s.long_id == bare
                    || s.short_id.as_deref() == Some(bare)
            })
            .map(|s| s.id.clone())
    }

    /// The space `key` names, or 404 `SPACE_NOT_FOUND`.
    pub(super) fn space_id_or_404(&self, key: &str) -> Result<String, SimError> {
        self.find_space(key).ok_or_else(|| {
            SimError::not_found("SPACE_NOT_FOUND", format!("no space is named {key:?}"))
        })
    }

    /// Starts a conference in the space `key` names; 412 `CONFERENCE_ACTIVE` when one runs.
    pub fn start_conference(&mut self, key: &str, now: SystemTime) -> Result<SpaceInfo, SimError> {
        let now = self.step(now);
        let id = self.space_id_or_404(key)?;
        if self.spaces[&id].conference.is_some() {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "CONFERENCE_ACTIVE",
                "a conference is already running in this space",
            ));
        }
        self.open_conference(&id, now);
        Ok(self.spaces[&id].info())
    }

    pub(super) fn open_conference(&mut self, space_id: &str, now: SystemTime) {
        let record = format!("conferenceRecords/cr-{}", self.next_conference_no);
        self.next_conference_no += 1;
        if let Some(space) = self.spaces.get_mut(space_id) {
            space.conference = Some(Conference {
                record: record.clone(),
                speakers: Vec::new(),
            });
            self.events.push(
                now,
                EventKind::ConferenceStarted {
                    space: space.name(),
                    conference: record,
                },
            );
        }
    }

    /// Ends the conference in the space `key` names: everyone in it, in the lobby too, is
    /// disconnected with `REASON_CONFERENCE_ENDED`, and recording stops. 412
    /// `NO_ACTIVE_CONFERENCE` when none runs.
    pub fn end_conference(&mut self, key: &str, now: SystemTime) -> Result<SpaceInfo, SimError> {
        let now = self.step(now);
        let id = self.space_id_or_404(key)?;
        let Some(conference) = self.spaces[&id].conference.clone() else {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "NO_ACTIVE_CONFERENCE",
                "no conference is running in this space",
            ));
        };
        for pid in self.present_in(&id) {
            self.disconnect(pid, DisconnectReason::ConferenceEnded, None, now);
        }
        if let Some(space) = self.spaces.get_mut(&id) {
            space.conference = None;
            space.state.recording = false;
            space.state.transcribing = false;
            self.events.push(
                now,
                EventKind::ConferenceEnded {
                    space: space.name(),
                    conference: conference.record,
                },
            );
        }
        Ok(self.spaces[&id].info())
    }
}
