//! `GatewayCall`: one call from a room system into a Meet conference, sans-IO.
//!
//! It owns the call's [`MeetSession`] and decides, from what comes in (the SIP leg's events,
//! the connector's answers, the media plane's events, the time), what goes out: a connector
//! request, an SDP step for the media plane, a data-channel message, a command to the SIP leg,
//! and at the end exactly one [`CallOutput::Ended`]. The flow (meet-side.md §5.a):
//!
//! ```text
//!  resolve the dialled ID ─► media builds the offer ─► connect (offer → answer) ─► apply
//!    data channels open ─► STATE_WAITING: 180 ─► STATE_JOINED: 200, setAssignment (1+7)
//!    videoAssignment, roster, media entries ─► who shows in which tile, under which name
//!    conference state ─► the recording indicator
//!  caller BYE ─► leave ─► DISCONNECTED (or 2 s) ─► close
//!  Meet ends it ─► BYE with a Reason (or a final response while unanswered) ─► close
//! ```
//!
//! Every ending goes through [`CallEnding`], the one table of endings.

use std::collections::VecDeque;
use std::time::Instant;

use meet::connector::{ConferenceRef, ConnectOutcome, MeetError};
use meet::protocol::DataChannel;
use meet::session::{MeetSession, SessionEvent, SessionSettings};
use tracing::{debug, info, warn};

use super::ending::{CallEnding, LegEnding};
use crate::calls::CallOutcome;
use crate::sip::{LegEnd, LegEvent};

/// What the call asks of the SIP leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegCommand {
    /// 180 Ringing (waiting in the lobby).
    Ring,
    /// The 2xx with the SDP answer prepared for the room system.
    Accept,
    /// End the leg: a final response while unanswered, a BYE once answered.
    End(LegEnding),
}

/// What the call asks its driver to do.
#[derive(Debug)]
pub(crate) enum CallOutput {
    /// Resolve the dialled ID with the connector.
    Resolve,
    /// Build the media plane and its SDP offer.
    CreateOffer,
    /// Send the offer to the conference.
    Connect {
        conference: ConferenceRef,
        offer: String,
    },
    /// Apply the conference's SDP answer to the media plane.
    ApplyAnswer(String),
    /// Send a message on a data channel.
    SendData(DataChannel, String),
    /// Who the room system sees now, tile by tile (a new list whenever the assignment, the
    /// roster or the media entries change what it shows).
    Show(Vec<Shown>),
    /// Whether the conference is being recorded (the indicator on the composite); sent when
    /// it changes.
    Recording(bool),
    /// Tell the SIP leg.
    Leg(LegCommand),
    /// Tear the media plane down.
    CloseMedia,
    /// The call is over: nothing more comes out.
    Ended {
        ending: CallEnding,
        outcome: CallOutcome,
    },
}

/// One participant on the room system's canvas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shown {
    /// The tile: Meet's canvas id less one (0 the main tile, 1..=7 the thumbnails).
    pub(crate) tile: usize,
    /// The virtual SSRC of their video; `None` without video (muted, or none assigned): the
    /// name slate shows instead.
    pub(crate) ssrc: Option<u32>,
    /// Their display name from the roster (the caption or the slate), empty when unknown.
    pub(crate) name: String,
}

#[derive(Debug)]
enum Stage {
    Resolving,
    Offering(ConferenceRef),
    Connecting,
    Connected,
    Ended,
}

/// One gateway call.
#[derive(Debug)]
pub(crate) struct GatewayCall {
    session: MeetSession,
    stage: Stage,
    /// Whether the 2xx went to the room system.
    answered: bool,
    /// Why the call ends, once that is decided (the session may still be leaving).
    ending: Option<CallEnding>,
    /// What the room system was last told it sees, and whether the conference records.
    shown: Vec<Shown>,
    recording: bool,
    outputs: VecDeque<CallOutput>,
}

impl GatewayCall {
    /// A call that starts by resolving what the caller dialled.
    pub(crate) fn new(settings: SessionSettings, now: Instant) -> Self {
        let mut outputs = VecDeque::new();
        outputs.push_back(CallOutput::Resolve);
        Self {
            session: MeetSession::new(settings, now),
            stage: Stage::Resolving,
            answered: false,
            ending: None,
            shown: Vec::new(),
            recording: false,
            outputs,
        }
    }

    /// A call that a Virtual Reception has already answered (same dialog, same ports) and
    /// whose conference it has resolved: it starts by building the offer; the room system is
    /// not rung nor answered again, and endings are BYEs.
    pub(crate) fn answered(
        settings: SessionSettings,
        conference: ConferenceRef,
        now: Instant,
    ) -> Self {
        let mut call = Self::new(settings, now);
        call.answered = true;
        call.stage = Stage::Offering(conference);
        call.outputs.clear();
        call.outputs.push_back(CallOutput::CreateOffer);
        call
    }

    /// Whether the call is over.
    pub(crate) fn is_ended(&self) -> bool {
        matches!(self.stage, Stage::Ended)
    }

    /// The connector resolved the dialled ID (or could not).
    pub(crate) fn on_resolved(&mut self, result: Result<ConferenceRef, MeetError>, now: Instant) {
        if !matches!(self.stage, Stage::Resolving) {
            return;
        }
        match result {
            Ok(conference) => {
                self.stage = Stage::Offering(conference);
                self.outputs.push_back(CallOutput::CreateOffer);
            }
            Err(error) => {
                info!("resolve failed: {error}");
                self.session.connect_failed(&error.failure(), now);
            }
        }
        self.drain();
    }

    /// The media plane made its offer (or failed to build).
    pub(crate) fn on_offer(&mut self, result: Result<String, String>, now: Instant) {
        if !matches!(self.stage, Stage::Offering(_)) {
            return;
        }
        match result {
            Ok(offer) => {
                let Stage::Offering(conference) =
                    std::mem::replace(&mut self.stage, Stage::Connecting)
                else {
                    return;
                };
                self.outputs
                    .push_back(CallOutput::Connect { conference, offer });
            }
            Err(error) => {
                warn!("the media plane could not make an offer: {error}");
                self.end(CallEnding::MediaFailed, now);
            }
        }
        self.drain();
    }

    /// The conference answered the offer (or refused it).
    pub(crate) fn on_connected(&mut self, result: Result<ConnectOutcome, MeetError>, now: Instant) {
        if !matches!(self.stage, Stage::Connecting) {
            return;
        }
        match result {
            Ok(connected) => {
                self.stage = Stage::Connected;
                info!(trace_id = ?connected.trace_id, "connected to the conference");
                self.outputs
                    .push_back(CallOutput::ApplyAnswer(connected.answer));
            }
            Err(error) => {
                info!("connect failed: {error}");
                self.session.connect_failed(&error.failure(), now);
            }
        }
        self.drain();
    }

    /// Every data channel is open.
    pub(crate) fn on_channels_open(&mut self, now: Instant) {
        self.session.channels_open(now);
        self.drain();
    }

    /// A data-channel message from the conference.
    pub(crate) fn on_data(&mut self, channel: DataChannel, text: &str, now: Instant) {
        if let Err(error) = self.session.handle_message(channel, text, now) {
            debug!("data-channel message ignored: {error}");
        }
        self.drain();
    }

    /// The WebRTC transport failed, or the data channels closed.
    pub(crate) fn on_transport_failed(&mut self, now: Instant) {
        self.session.transport_failed(now);
        self.drain();
    }

    /// A media pipeline failed: the call ends (only this call).
    pub(crate) fn on_media_failed(&mut self, now: Instant) {
        self.end(CallEnding::MediaFailed, now);
        self.drain();
    }

    /// The SIP leg reports.
    pub(crate) fn on_leg(&mut self, event: &LegEvent, now: Instant) {
        let LegEvent::Ended(end) = event else {
            return;
        };
        let ending = match end {
            LegEnd::Bye => CallEnding::CallerHungUp,
            LegEnd::Cancelled => CallEnding::CallerCancelled,
            LegEnd::NoAck | LegEnd::SessionExpired | LegEnd::RefreshFailed => {
                CallEnding::CallerLost
            }
            // The leg ended because this call told it to: the ending is already known.
            LegEnd::Local => return,
        };
        if self.ending.is_none() {
            self.ending = Some(ending);
        }
        self.session.leave(now);
        self.drain();
    }

    /// The node is shutting down: the caller is told, the conference is left.
    pub(crate) fn shut_down(&mut self, now: Instant) {
        self.end(CallEnding::Shutdown, now);
        self.drain();
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.is_ended() {
            return None;
        }
        self.session.poll_timeout()
    }

    /// Time has passed (the join timer, the leave timer, stats uploads).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
        self.drain();
    }

    /// The next thing to do.
    pub(crate) fn poll_output(&mut self) -> Option<CallOutput> {
        self.outputs.pop_front()
    }

    /// The call ends for `ending` (unless an ending is already decided): the leg is told at
    /// once, and the conference is left.
    fn end(&mut self, ending: CallEnding, now: Instant) {
        if self.ending.is_some() || self.is_ended() {
            return;
        }
        let leg = ending.leg(self.answered);
        if leg != LegEnding::None {
            self.outputs
                .push_back(CallOutput::Leg(LegCommand::End(leg)));
        }
        self.ending = Some(ending);
        self.session.leave(now);
    }

    /// Turns what the session has to say into outputs.
    fn drain(&mut self) {
        while let Some((channel, text)) = self.session.poll_transmit() {
            self.outputs.push_back(CallOutput::SendData(channel, text));
        }
        while let Some(event) = self.session.poll_event() {
            if self.is_ended() {
                break;
            }
            match event {
                SessionEvent::Waiting if self.ending.is_none() && !self.answered => {
                    self.outputs.push_back(CallOutput::Leg(LegCommand::Ring));
                }
                SessionEvent::Joined if self.ending.is_none() && !self.answered => {
                    self.answered = true;
                    self.outputs.push_back(CallOutput::Leg(LegCommand::Accept));
                }
                SessionEvent::Assignment(_)
                | SessionEvent::RosterChanged(_)
                | SessionEvent::MediaEntriesChanged(_) => self.show(),
                SessionEvent::ConferenceStateChanged(state) => {
                    if state.recording != self.recording {
                        self.recording = state.recording;
                        self.outputs
                            .push_back(CallOutput::Recording(state.recording));
                    }
                }
                SessionEvent::Disconnected { outcome, .. } => {
                    // The session's outcome unless the call already knew why it ends (the
                    // caller hung up, the media failed, the node stops).
                    let ending = match self.ending.take() {
                        Some(ending) => ending,
                        None => {
                            let ending = CallEnding::Meet(outcome);
                            let leg = ending.leg(self.answered);
                            if leg != LegEnding::None {
                                self.outputs
                                    .push_back(CallOutput::Leg(LegCommand::End(leg)));
                            }
                            ending
                        }
                    };
                    self.finish(ending);
                }
                other => debug!(?other, "session event"),
            }
        }
        // A final `leave` may have been queued with the last event.
        while let Some((channel, text)) = self.session.poll_transmit() {
            self.outputs.push_back(CallOutput::SendData(channel, text));
        }
    }

    /// Who is on which canvas, by name: each canvas of the latest assignment that names a media
    /// entry, with that entry's video (none when muted or not sent) and its participant's name
    /// from the roster. Sent when it differs from what was sent last.
    fn show(&mut self) {
        let Some(assignment) = self.session.assignment() else {
            return;
        };
        let mut shown: Vec<Shown> = assignment
            .canvases
            .iter()
            .filter(|c| c.media_entry_id != 0 || c.ssrc != 0)
            .filter_map(|c| {
                let tile = usize::try_from(c.canvas_id).ok()?.checked_sub(1)?;
                let entry = self
                    .session
                    .media_entries()
                    .find(|(id, _)| *id == c.media_entry_id)
                    .map(|(_, entry)| entry);
                let muted = entry.is_some_and(|e| e.video_muted);
                let name = entry
                    .and_then(|e| {
                        self.session
                            .roster()
                            .map(|(_, p)| p)
                            .find(|p| {
                                (e.participant_key.is_some()
                                    && p.participant_key == e.participant_key)
                                    || (e.participant.is_some() && p.name == e.participant)
                            })
                            .and_then(|p| p.display_name())
                    })
                    .unwrap_or_default()
                    .to_owned();
                Some(Shown {
                    tile,
                    ssrc: (c.ssrc != 0 && !muted).then_some(c.ssrc),
                    name,
                })
            })
            .collect();
        shown.sort_by_key(|s| s.tile);
        shown.dedup_by_key(|s| s.tile);
        if shown != self.shown {
            self.shown = shown.clone();
            self.outputs.push_back(CallOutput::Show(shown));
        }
    }

    fn finish(&mut self, ending: CallEnding) {
        let outcome = ending.outcome(self.answered);
        info!(ending = ending.label(), ?outcome, "gateway call ended");
        self.stage = Stage::Ended;
        self.outputs.push_back(CallOutput::CloseMedia);
        self.outputs
            .push_back(CallOutput::Ended { ending, outcome });
    }
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
