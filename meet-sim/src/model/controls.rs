//! Host controls (meet-side.md §2.4, §5.b "Host controls"): locks, recording, chat and present
//! restrictions, kick; and synthetic participants, who stand in for hosts and users until
//! browsers join through the media plane.

use std::time::SystemTime;

use super::SimModel;
use super::config::LockPolicy;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::lobby::participant_not_found;
use super::participant::{Kind, State, SyntheticJoin};
use meet::protocol::session_control::DisconnectReason;
use meet::protocol::x_conference::RestrictionType;

/// Which lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lock {
    Video,
    Audio,
}

impl SimModel {
    /// Switches the video and/or audio lock (`None` leaves one as it is). Every joined gateway
    /// gets the new `x-conference` state. A lock switched on applies its policy to gateways in
    /// the call: `remove` disconnects them (`x-REASON_VIDEO_LOCKED` / `x-REASON_AUDIO_LOCKED`),
    /// `mute` marks their media of that kind to be dropped. Gateways in the lobby are
    /// disconnected the same way under either policy: they could not join while locked.
    pub fn set_locks(
        &mut self,
        key: &str,
        video: Option<bool>,
        audio: Option<bool>,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.space_id_or_404(key)?;
        let Some(space) = self.spaces.get_mut(&space_id) else {
            return Ok(());
        };
        let video_on = video == Some(true) && !space.state.video_lock;
        let audio_on = audio == Some(true) && !space.state.audio_lock;
        if let Some(v) = video {
            space.state.video_lock = v;
        }
        if let Some(a) = audio {
            space.state.audio_lock = a;
        }
        let (video_lock, audio_lock) = (space.state.video_lock, space.state.audio_lock);
        self.events.push(
            now,
            EventKind::LocksChanged {
                space: format!("spaces/{space_id}"),
                video_lock,
                audio_lock,
            },
        );
        self.broadcast_conference_state(&space_id);
        if video_on {
            self.apply_lock(&space_id, Lock::Video, now);
        }
        if audio_on {
            self.apply_lock(&space_id, Lock::Audio, now);
        }
        Ok(())
    }

    fn apply_lock(&mut self, space_id: &str, lock: Lock, now: SystemTime) {
        let (policy, reason, media) = match lock {
            Lock::Video => (
                self.config.video_lock_policy,
                DisconnectReason::XVideoLocked,
                "video",
            ),
            Lock::Audio => (
                self.config.audio_lock_policy,
                DisconnectReason::XAudioLocked,
                "audio",
            ),
        };
        for pid in self.present_in(space_id) {
            let p = &self.participants[&pid];
            if !matches!(p.kind, Kind::Gateway { .. }) {
                continue;
            }
            if policy == LockPolicy::Remove || !p.is_joined() {
                self.disconnect(pid, reason.clone(), None, now);
                continue;
            }
            if let Some(p) = self.participants.get_mut(&pid) {
                match lock {
                    Lock::Video => p.video_muted_by_lock = true,
                    Lock::Audio => p.audio_muted_by_lock = true,
                }
                let update = super::MediaUpdate::Muted {
                    pid,
                    video: p.video_muted_by_lock,
                    audio: p.audio_muted_by_lock,
                };
                self.media_updates.push_back(update);
            }
            self.events.push(
                now,
                EventKind::GatewayMediaMuted {
                    space: format!("spaces/{space_id}"),
                    participant_id: pid,
                    media: media.to_owned(),
                },
            );
        }
    }

    /// Starts or stops recording; joined gateways get the new `x-conference` state (their
    /// recording indicator).
    pub fn set_recording(
        &mut self,
        key: &str,
        active: bool,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.space_id_or_404(key)?;
        if let Some(space) = self.spaces.get_mut(&space_id) {
            space.state.recording = active;
        }
        self.events.push(
            now,
            EventKind::RecordingChanged {
                space: format!("spaces/{space_id}"),
                recording: active,
            },
        );
        self.broadcast_conference_state(&space_id);
        Ok(())
    }

    /// Sets who may chat and who may present (`None` leaves one as it is); joined gateways
    /// get the new `x-conference` state.
    pub fn set_restrictions(
        &mut self,
        key: &str,
        chat: Option<RestrictionType>,
        present: Option<RestrictionType>,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.space_id_or_404(key)?;
        let Some(space) = self.spaces.get_mut(&space_id) else {
            return Ok(());
        };
        if let Some(chat) = chat {
            space.state.chat_restriction = chat;
        }
        if let Some(present) = present {
            space.state.present_restriction = present;
        }
        let event = EventKind::RestrictionsChanged {
            space: format!("spaces/{space_id}"),
            chat_restriction: space.state.chat_restriction.as_str().to_owned(),
            present_restriction: space.state.present_restriction.as_str().to_owned(),
        };
        self.events.push(now, event);
        self.broadcast_conference_state(&space_id);
        Ok(())
    }

    /// A host removes `pid` (joined or waiting): `STATE_DISCONNECTED` with
    /// `REASON_SESSION_UNHEALTHY` and `"x-reason":"KICKED"` (§5.b "Kick").
    pub fn kick(&mut self, key: &str, pid: i64, now: SystemTime) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.present_participant(key, pid)?;
        self.events.push(
            now,
            EventKind::ParticipantKicked {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
            },
        );
        self.disconnect(pid, DisconnectReason::SessionUnhealthy, Some("KICKED"), now);
        Ok(())
    }

    /// The space id if `pid` is waiting or joined in the space `key` names; 404
    /// `PARTICIPANT_NOT_FOUND`, or 412 `PARTICIPANT_GONE`.
    pub(super) fn present_participant(&self, key: &str, pid: i64) -> Result<String, SimError> {
        let space_id = self.space_id_or_404(key)?;
        let p = self
            .participants
            .get(&pid)
            .filter(|p| p.space == space_id)
            .ok_or_else(|| participant_not_found(pid))?;
        if !p.is_present() {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "PARTICIPANT_GONE",
                format!("participant {pid} is no longer in the conference"),
            ));
        }
        Ok(space_id)
    }

    /// Adds a synthetic participant (no channels, no media) to the running conference of the
    /// space `key` names: joined at once. 404 `NO_ACTIVE_CONFERENCE` when none runs.
    pub fn add_participant(
        &mut self,
        key: &str,
        join: SyntheticJoin,
        now: SystemTime,
    ) -> Result<i64, SimError> {
        let now = self.step(now);
        let space_id = self.space_id_or_404(key)?;
        if self.spaces[&space_id].conference.is_none() {
            return Err(SimError::not_found(
                "NO_ACTIVE_CONFERENCE",
                "no conference is running in this space",
            ));
        }
        if join.display_name.is_empty() {
            return Err(SimError::bad_request("displayName must not be empty"));
        }
        let kind = Kind::Synthetic {
            signed_in_user: join.signed_in_user,
        };
        let pid = self.new_participant(
            &space_id,
            join.display_name,
            join.host,
            kind,
            State::Joined,
            Default::default(),
        );
        self.join(pid, now);
        Ok(pid)
    }

    /// A synthetic participant leaves (`REASON_CLIENT_LEFT`). Gateways leave with `leave` on
    /// `session-control` instead.
    pub fn remove_participant(
        &mut self,
        key: &str,
        pid: i64,
        now: SystemTime,
    ) -> Result<(), SimError> {
        let now = self.step(now);
        self.present_participant(key, pid)?;
        self.disconnect(pid, DisconnectReason::ClientLeft, None, now);
        Ok(())
    }
}
