//! Video assignment: `setAssignment` and the **1+7 `relevant` policy** (meet-side.md §1.4
//! "video-assignment", §5.b "Sending to the gateway"), the active speaker, and the
//! [`MediaUpdate`]s that tell the media plane what to forward.
//!
//! Policy, per receiver with a layout: the candidates are the other joined participants on
//! the roster, most recent active speaker first, then the rest in join order. The canvas with
//! the largest area gets the first candidate; each other canvas keeps its source while that
//! source is still among the next `canvases - 1` candidates (stable placement), and empty
//! canvases take the remaining candidates in order. Canvas `i` of the layout is carried on
//! the receiver's virtual video stream `i`. Nothing is sent before a layout is accepted.

use std::time::SystemTime;

use super::SimModel;
use super::delivery::ChannelMessage;
use super::events::EventKind;
use super::participant::Layout;
use meet::protocol::video_assignment::{
    CanvasAssignment, SetAssignment, VideoAssignment, VideoAssignmentResponsePayload,
    VideoAssignmentToClient,
};
use meet::protocol::{Empty, Response, Status, StatusCode};

/// What the media plane must change. Drain with [`SimModel::poll_media_update`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaUpdate {
    /// `pid` joined the conference of space `space`: its audio goes to the other members,
    /// and theirs to it. Its media carries these CSRCs.
    Joined {
        /// The participant.
        pid: i64,
        /// The space id (without `spaces/`).
        space: String,
        /// The CSRC its audio is forwarded with.
        audio_csrc: u32,
        /// The CSRC its video is forwarded with.
        video_csrc: u32,
    },
    /// What each of `receiver`'s virtual video streams carries, in m-line order.
    Video {
        /// The receiving participant.
        receiver: i64,
        /// One entry per virtual video stream: the source, or `None` for nothing.
        slots: Vec<Option<VideoSource>>,
    },
    /// Whether `pid`'s video and audio are dropped (the `mute` lock policy).
    Muted {
        /// The participant.
        pid: i64,
        /// Drop its video.
        video: bool,
        /// Drop its audio.
        audio: bool,
    },
    /// `pid` left: forward nothing to or from it, and close its connection.
    Left {
        /// The participant.
        pid: i64,
    },
}

/// The source of one virtual video stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoSource {
    /// The source participant.
    pub source: i64,
    /// The CSRC to send (the source's `videoCsrcs[0]`).
    pub csrc: u32,
    /// The canvas size, capped by `maxVideoResolution`: the media plane picks the highest
    /// simulcast layer that fits its height.
    pub width: u32,
    /// See `width`.
    pub height: u32,
}

impl SimModel {
    /// The next change for the media plane, oldest first.
    pub fn poll_media_update(&mut self) -> Option<MediaUpdate> {
        self.media_updates.pop_front()
    }

    /// The media plane's virtual SSRCs for `pid`'s receive-video m-lines (offer order), once
    /// it has accepted the offer. Re-sends the assignment if one is in force.
    pub fn set_video_ssrcs(&mut self, pid: i64, ssrcs: Vec<u32>) {
        let Some(p) = self.participants.get_mut(&pid) else {
            return;
        };
        p.video_ssrcs = ssrcs;
        if p.layout.is_some() {
            self.assign(pid, true);
        }
    }

    /// `pid` is now the active speaker of its conference (the media plane's audio-level
    /// detection, or the control API). 404 when `pid` is not joined in the space `key` names.
    pub fn set_active_speaker(
        &mut self,
        key: &str,
        pid: i64,
        now: SystemTime,
    ) -> Result<(), super::SimError> {
        let now = self.step(now);
        let space_id = self.present_participant(key, pid)?;
        self.speaker_changed(&space_id, pid, now);
        Ok(())
    }

    /// [`set_active_speaker`](Self::set_active_speaker) from the media plane, which knows the
    /// participant but not the space key.
    pub fn detected_active_speaker(&mut self, pid: i64, now: SystemTime) {
        let now = self.step(now);
        let Some(p) = self.participants.get(&pid) else {
            return;
        };
        if p.is_joined() {
            let space_id = p.space.clone();
            self.speaker_changed(&space_id, pid, now);
        }
    }

    fn speaker_changed(&mut self, space_id: &str, pid: i64, now: SystemTime) {
        let Some(conference) = self
            .spaces
            .get_mut(space_id)
            .and_then(|s| s.conference.as_mut())
        else {
            return;
        };
        if conference.speakers.first() == Some(&pid) {
            return;
        }
        conference.speakers.retain(|&p| p != pid);
        conference.speakers.insert(0, pid);
        self.events.push(
            now,
            EventKind::ActiveSpeakerChanged {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
            },
        );
        self.reassign(space_id, now);
    }

    /// A `setAssignment` from `pid`: 3 `INVALID_ARGUMENT` for no canvas, more canvases than
    /// negotiated video streams, repeated canvas ids or an empty canvas; otherwise the layout
    /// replaces the old one, the answer is OK and the new assignment follows.
    pub(super) fn handle_set_assignment(
        &mut self,
        pid: i64,
        request_id: i64,
        set: SetAssignment,
        now: SystemTime,
    ) {
        let streams = self.participants[&pid].video_ssrcs.len();
        let canvases = &set.layout_model.canvases;
        let mut ids: Vec<i32> = canvases.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let refusal = if canvases.is_empty() {
            Some("the layout has no canvas".to_owned())
        } else if canvases.len() > streams {
            Some(format!(
                "{} canvases, but only {streams} video streams were negotiated",
                canvases.len()
            ))
        } else if ids.len() != canvases.len() {
            Some("canvas ids must be unique".to_owned())
        } else if canvases
            .iter()
            .any(|c| c.dimensions.width == 0 || c.dimensions.height == 0)
        {
            Some("every canvas needs a width and a height".to_owned())
        } else {
            None
        };
        let status = match &refusal {
            Some(message) => Status::new(StatusCode::INVALID_ARGUMENT, message),
            None => Status::ok(),
        };
        let answer = VideoAssignmentToClient {
            response: Some(Response {
                request_id,
                status: Some(status),
                payload: VideoAssignmentResponsePayload {
                    set_assignment: Some(Empty {}),
                },
            }),
            resources: Vec::new(),
        };
        self.send(pid, ChannelMessage::VideoAssignment(answer));
        if refusal.is_some() {
            return;
        }
        let layout = Layout {
            label: set.layout_model.label.clone(),
            canvases: canvases
                .iter()
                .map(|c| (c.id, c.dimensions.width, c.dimensions.height))
                .collect(),
            max_resolution: set.max_video_resolution.map(|r| (r.width, r.height)),
        };
        let p = self
            .participants
            .get_mut(&pid)
            .expect("checked by the caller");
        // Stable placement across layouts: a canvas id keeps its source.
        let previous: Vec<(i32, Option<i64>)> = p
            .layout
            .iter()
            .flat_map(|l| l.canvases.iter().map(|c| c.0))
            .zip(p.assigned.iter().copied())
            .collect();
        p.assigned = layout
            .canvases
            .iter()
            .map(|c| {
                previous
                    .iter()
                    .find(|(id, _)| *id == c.0)
                    .and_then(|(_, s)| *s)
            })
            .collect();
        p.layout = Some(layout);
        let _ = now;
        self.assign(pid, true);
    }

    /// Recomputes every assignment in `space_id` (after a join, a leave, a speaker change);
    /// sends those that changed.
    pub(super) fn reassign(&mut self, space_id: &str, _now: SystemTime) {
        let receivers: Vec<i64> = self
            .participants
            .values()
            .filter(|p| p.space == space_id && p.is_joined() && p.layout.is_some())
            .map(|p| p.id)
            .collect();
        for pid in receivers {
            self.assign(pid, false);
        }
    }

    /// The candidates `pid` may see, in policy order.
    fn candidates(&self, pid: i64) -> Vec<i64> {
        let space_id = &self.participants[&pid].space;
        let is_source = |id: &i64| {
            *id != pid
                && self
                    .participants
                    .get(id)
                    .is_some_and(|p| &p.space == space_id && p.is_video_source())
        };
        let speakers = self.spaces[space_id]
            .conference
            .as_ref()
            .map(|c| c.speakers.clone())
            .unwrap_or_default();
        let mut order: Vec<i64> = speakers.into_iter().filter(is_source).collect();
        let rest: Vec<i64> = self
            .participants
            .keys()
            .copied()
            .filter(|id| is_source(id) && !order.contains(id))
            .collect();
        order.extend(rest);
        order
    }

    /// Applies the policy to `pid`; sends the assignment and the media update when it changed
    /// (or always, with `force`).
    fn assign(&mut self, pid: i64, force: bool) {
        let candidates = self.candidates(pid);
        let p = &self.participants[&pid];
        let Some(layout) = p.layout.clone() else {
            return;
        };
        let n = layout.canvases.len();
        let chosen: Vec<i64> = candidates.into_iter().take(n).collect();
        let main = layout
            .canvases
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (u64::from(c.1) * u64::from(c.2), std::cmp::Reverse(*i)))
            .map_or(0, |(i, _)| i);
        let mut assigned: Vec<Option<i64>> = vec![None; n];
        assigned[main] = chosen.first().copied();
        let rest = chosen.get(1..).unwrap_or_default();
        for (i, slot) in assigned.iter_mut().enumerate() {
            if i != main
                && let Some(Some(old)) = p.assigned.get(i)
                && rest.contains(old)
            {
                *slot = Some(*old);
            }
        }
        let placed = assigned.clone();
        let mut unplaced = rest.iter().filter(|s| !placed.contains(&Some(**s)));
        for (i, slot) in assigned.iter_mut().enumerate() {
            if i != main && slot.is_none() {
                *slot = unplaced.next().copied();
            }
        }
        if !force && assigned == p.assigned {
            return;
        }
        let ssrcs = p.video_ssrcs.clone();
        let (max_w, max_h) = layout.max_resolution.unwrap_or((u32::MAX, u32::MAX));
        let mut canvases = Vec::with_capacity(n);
        let mut slots: Vec<Option<VideoSource>> = vec![None; ssrcs.len()];
        for (i, (&(canvas_id, width, height), source)) in
            layout.canvases.iter().zip(&assigned).enumerate()
        {
            let source = source.and_then(|s| self.participants.get(&s));
            let ssrc = ssrcs.get(i).copied().unwrap_or(0);
            canvases.push(CanvasAssignment {
                canvas_id,
                ssrc: if source.is_some() { ssrc } else { 0 },
                media_entry_id: source.map_or(0, |s| s.media_entry_id),
            });
            if let (Some(source), Some(slot)) = (source, slots.get_mut(i)) {
                *slot = Some(VideoSource {
                    source: source.id,
                    csrc: source.video_csrc,
                    width: width.min(max_w),
                    height: height.min(max_h),
                });
            }
        }
        let event = EventKind::VideoAssigned {
            participant_id: pid,
            label: layout.label.clone(),
            canvases: layout
                .canvases
                .iter()
                .zip(&assigned)
                .map(|(c, s)| (c.0, s.unwrap_or(0)))
                .collect(),
        };
        self.events.push(self.latest_now, event);
        if let Some(p) = self.participants.get_mut(&pid) {
            p.assigned = assigned;
        }
        let message = VideoAssignmentToClient::assignment(VideoAssignment {
            label: layout.label,
            canvases,
        });
        self.send(pid, ChannelMessage::VideoAssignment(message));
        self.media_updates.push_back(MediaUpdate::Video {
            receiver: pid,
            slots,
        });
    }
}
