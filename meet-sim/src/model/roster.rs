//! Joining and leaving: the session status a participant gets, and the roster and media-entry
//! updates everyone else gets (meet-side.md §1.4).

use std::time::SystemTime;

use super::SimModel;
use super::assignment::MediaUpdate;
use super::delivery::ChannelMessage;
use super::events::EventKind;
use super::participant::{Participant, ParticipantInfo, State};
use meet::protocol::media_entries::{DeletedMediaEntry, MediaEntriesToClient};
use meet::protocol::media_stats::{MediaStatsConfiguration, MediaStatsToClient};
use meet::protocol::participants::{DeletedParticipant, ParticipantsToClient};
use meet::protocol::session_control::{DisconnectReason, SessionControlToClient, SessionStatus};
use meet::protocol::x_conference::XConferenceToClient;

impl SimModel {
    /// Ids of the participants of space `space_id` that are waiting or joined.
    pub(super) fn present_in(&self, space_id: &str) -> Vec<i64> {
        self.participants
            .values()
            .filter(|p| p.space == space_id && p.is_present())
            .map(|p| p.id)
            .collect()
    }

    /// Ids of the joined participants of `space_id` with data channels, but `except`.
    fn listeners(&self, space_id: &str, except: i64) -> Vec<i64> {
        self.participants
            .values()
            .filter(|p| p.space == space_id && p.is_joined() && p.has_channels() && p.id != except)
            .map(|p| p.id)
            .collect()
    }

    /// Sends `message` to `pid` if it has data channels (and the `x-` ones for `x-` messages).
    pub(super) fn send(&mut self, pid: i64, message: ChannelMessage) {
        let Some(p) = self.participants.get(&pid) else {
            return;
        };
        if !p.has_channels() || (message.channel().is_extension() && !p.has_extensions()) {
            return;
        }
        self.push(pid, message);
    }

    /// Sends the conference state on `x-conference` to every joined gateway in `space_id`.
    pub(super) fn broadcast_conference_state(&mut self, space_id: &str) {
        let Some(state) = self.spaces.get(space_id).map(|s| s.state.clone()) else {
            return;
        };
        for pid in self.listeners(space_id, 0) {
            self.send(
                pid,
                ChannelMessage::XConference(XConferenceToClient::state(state.clone())),
            );
        }
    }

    /// Puts `pid` in the conference: `STATE_JOINED`, then the roster, media entries,
    /// conference state and media-stats configuration for it, and its own roster and media
    /// entry for everyone else.
    pub(super) fn join(&mut self, pid: i64, now: SystemTime) {
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        p.state = State::Joined;
        let (space_id, on_roster) = (p.space.clone(), p.on_roster());
        let (resource, entry) = (p.resource(), p.media_entry());
        self.media_updates.push_back(MediaUpdate::Joined {
            pid,
            space: space_id.clone(),
            audio_csrc: p.audio_csrc,
            video_csrc: p.video_csrc,
        });
        let event = EventKind::ParticipantJoined {
            space: format!("spaces/{space_id}"),
            participant_id: pid,
            display_name: p.display_name.clone(),
            kind: p.kind_name().as_str().to_owned(),
        };
        self.events.push(now, event);

        self.send(
            pid,
            ChannelMessage::SessionControl(SessionControlToClient::status(SessionStatus::joined())),
        );
        let others: Vec<&Participant> = self
            .participants
            .values()
            .filter(|o| o.space == space_id && o.is_joined() && o.on_roster() && o.id != pid)
            .collect();
        if !others.is_empty() {
            let roster = ParticipantsToClient {
                resources: others.iter().map(|o| o.resource()).collect(),
                deleted_resources: Vec::new(),
            };
            let entries = MediaEntriesToClient {
                resources: others.iter().map(|o| o.media_entry()).collect(),
                deleted_resources: Vec::new(),
            };
            self.send(pid, ChannelMessage::Participants(roster));
            self.send(pid, ChannelMessage::MediaEntries(entries));
        }
        if let Some(state) = self.spaces.get(&space_id).map(|s| s.state.clone()) {
            self.send(
                pid,
                ChannelMessage::XConference(XConferenceToClient::state(state)),
            );
        }
        let stats = MediaStatsConfiguration {
            upload_interval_seconds: self.config.media_stats_upload_interval_s,
            allowlist: Default::default(),
        };
        self.send(
            pid,
            ChannelMessage::MediaStats(MediaStatsToClient::configuration(stats)),
        );

        if on_roster {
            for other in self.listeners(&space_id, pid) {
                let roster = ParticipantsToClient {
                    resources: vec![resource.clone()],
                    deleted_resources: Vec::new(),
                };
                let entries = MediaEntriesToClient {
                    resources: vec![entry.clone()],
                    deleted_resources: Vec::new(),
                };
                self.send(other, ChannelMessage::Participants(roster));
                self.send(other, ChannelMessage::MediaEntries(entries));
            }
            self.reassign(&space_id, now);
        }
    }

    /// Ends `pid`'s session with `reason` (and the `x-reason` detail): it gets
    /// `STATE_DISCONNECTED`, and if it was joined everyone else gets its roster and media
    /// entry deleted. Nothing happens to a participant already disconnected.
    pub(super) fn disconnect(
        &mut self,
        pid: i64,
        reason: DisconnectReason,
        x_reason: Option<&str>,
        now: SystemTime,
    ) {
        let mut status = SessionStatus::disconnected(reason.clone());
        status.x_reason = x_reason.map(str::to_owned);
        self.disconnect_with(
            pid,
            SessionControlToClient::status(status),
            reason,
            x_reason,
            now,
        );
    }

    /// [`disconnect`](Self::disconnect), sending `message` as the final `session-control`
    /// message (the answer to `leave` carries a response too).
    pub(super) fn disconnect_with(
        &mut self,
        pid: i64,
        message: SessionControlToClient,
        reason: DisconnectReason,
        x_reason: Option<&str>,
        now: SystemTime,
    ) {
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        if !p.is_present() {
            return;
        }
        let was_joined = p.is_joined();
        p.state = State::Disconnected {
            reason: reason.clone(),
            x_reason: x_reason.map(str::to_owned),
        };
        let (space_id, on_roster, entry_id) = (p.space.clone(), p.on_roster(), p.media_entry_id);
        self.events.push(
            now,
            EventKind::ParticipantLeft {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
                reason: reason.as_str().to_owned(),
                x_reason: x_reason.map(str::to_owned),
            },
        );
        self.send(pid, ChannelMessage::SessionControl(message));
        self.media_updates.push_back(MediaUpdate::Left { pid });
        if let Some(conference) = self
            .spaces
            .get_mut(&space_id)
            .and_then(|s| s.conference.as_mut())
        {
            conference.speakers.retain(|&p| p != pid);
        }
        if was_joined && on_roster {
            for other in self.listeners(&space_id, pid) {
                let roster = ParticipantsToClient {
                    resources: Vec::new(),
                    deleted_resources: vec![DeletedParticipant::new(pid)],
                };
                let entries = MediaEntriesToClient {
                    resources: Vec::new(),
                    deleted_resources: vec![DeletedMediaEntry::new(entry_id)],
                };
                self.send(other, ChannelMessage::Participants(roster));
                self.send(other, ChannelMessage::MediaEntries(entries));
            }
            self.reassign(&space_id, now);
        }
    }

    /// The sections of `pid`'s last media-stats upload, in the TS dialect (empty before one).
    pub fn last_media_stats(
        &self,
        pid: i64,
    ) -> Vec<meet::protocol::media_stats::MediaStatsSection> {
        self.participants
            .get(&pid)
            .map(|p| p.last_media_stats.clone())
            .unwrap_or_default()
    }

    /// Every participant of the space `key` names, present or gone, in id order.
    pub fn participants(&self, key: &str) -> Vec<ParticipantInfo> {
        let Some(space_id) = self.find_space(key) else {
            return Vec::new();
        };
        self.participants
            .values()
            .filter(|p| p.space == space_id)
            .map(|p| p.info(format!("spaces/{space_id}")))
            .collect()
    }

    /// One participant, by id.
    pub fn participant(&self, pid: i64) -> Option<ParticipantInfo> {
        self.participants
            .get(&pid)
            .map(|p| p.info(format!("spaces/{}", p.space)))
    }
}
