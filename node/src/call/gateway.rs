//! `GatewayCall`: one call from a room system into a Meet conference, sans-IO.
//!
//! It owns the call's [`MeetSession`] and decides, from what comes in (the SIP leg's events,
//! the connector's answers, the media plane's events, the time), what goes out: a connector
//! request, an SDP step for the media plane, a data-channel message, a command to the SIP leg,
//! and at the end exactly one [`CallOutput::Ended`]. The flow (meet-side.md §5.a):
//!
//! ```text
//!  resolve the dialled ID ─► media builds the offer ─► connect (offer → answer) ─► apply
//!    data channels open ─► STATE_WAITING: 180 (or, `lobby = "slate"`: 200 and a slate)
//!    STATE_JOINED: 200 (or the slate goes), setAssignment (1+7)
//!    videoAssignment, roster, media entries ─► who shows in which tile, under which name
//!    conference state ─► the recording indicator, whether the room system may chat
//!    SIP MESSAGE ─► x-chat sendMessage;  x-chat message ─► SIP MESSAGE to the room system
//!  caller BYE ─► leave ─► DISCONNECTED (or 2 s) ─► close
//!  Meet ends it ─► BYE with a Reason (or a final response while unanswered) ─► close
//! ```
//!
//! Every ending goes through [`CallEnding`], the one table of endings.

use std::collections::VecDeque;
use std::time::Instant;

use meet::connector::{ConferenceRef, ConnectOutcome, MeetError};
use meet::protocol::DataChannel;
use meet::session::{MeetSession, SessionEvent, SessionSettings, SessionState};
use tracing::{debug, info, warn};

use super::chat::{self, ChatState};
use super::ending::{CallEnding, LegEnding};
use crate::calls::CallOutcome;
use crate::config::LobbyMode;
use crate::live_view::{CallState, MeetLegView, device_alias};
use crate::sip::{LegEnd, LegEvent};

/// What the call asks of the SIP leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegCommand {
    /// 180 Ringing (waiting in the lobby).
    Ring,
    /// The 2xx with the SDP answer prepared for the room system.
    Accept,
    /// Send this text to the room system in a MESSAGE (a Meet chat message); only once
    /// answered.
    Message(String),
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
    /// Show this text on a full-frame slate instead of the conference (the lobby slate); the
    /// next [`CallOutput::Show`] replaces it.
    Slate(String),
    /// Whether the room system may chat now (sent when it changes).
    Chat(ChatState),
    /// Tear the media plane down.
    CloseMedia,
    /// The call is over: nothing more comes out.
    Ended {
        ending: CallEnding,
        outcome: CallOutcome,
    },
}

/// The text of the slate a room system sees while it waits in the lobby (`lobby = "slate"`).
pub(crate) const LOBBY_SLATE_TEXT: &str = "Waiting to be admitted";

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
    /// How a wait in the lobby is presented.
    lobby: LobbyMode,
    /// Whether the lobby slate shows (answered in the lobby, not joined yet).
    lobby_slate: bool,
    /// Whether the room system may chat, as last sent.
    chat: ChatState,
    /// Why the call ends, once that is decided (the session may still be leaving).
    ending: Option<CallEnding>,
    /// What the room system was last told it sees, and whether the conference records.
    shown: Vec<Shown>,
    recording: bool,
    outputs: VecDeque<CallOutput>,
    /// The conference, once resolved, and the gateway's participant id in it, once connected
    /// (when Meet gives it): for the Live View ([`GatewayCall::meet_leg`]).
    conference: Option<ConferenceRef>,
    participant_id: Option<i64>,
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
            lobby: LobbyMode::Ring,
            lobby_slate: false,
            chat: ChatState::Closed,
            ending: None,
            shown: Vec::new(),
            recording: false,
            outputs,
            conference: None,
            participant_id: None,
        }
    }

    /// Where the call stands, for `/status` and `tcn_calls_active`: in the lobby while Meet
    /// holds it there, joined once admitted (and while it leaves), connecting before.
    pub(crate) fn state(&self) -> CallState {
        match self.session.state() {
            SessionState::Waiting => CallState::Lobby,
            SessionState::Joined => CallState::Joined,
            SessionState::Leaving(_) | SessionState::Disconnected(_) if self.answered => {
                CallState::Joined
            }
            _ => CallState::Connecting,
        }
    }

    /// The leg into Meet as the Live View shows it: `alias` (the meeting ID dialled), the
    /// conference, the gateway's own device and every other participant of the roster as
    /// `spaces/<id>/devices/<id>`.
    pub(crate) fn meet_leg(&self, alias: &str) -> MeetLegView {
        let Some(conference) = &self.conference else {
            return MeetLegView {
                alias: alias.to_owned(),
                ..MeetLegView::default()
            };
        };
        let space = format!("spaces/{}", conference.space_id());
        let mut others: Vec<i64> = self
            .session
            .roster()
            .map(|(key, p)| p.participant_id.unwrap_or(key))
            .filter(|id| Some(*id) != self.participant_id)
            .collect();
        others.sort_unstable();
        others.dedup();
        MeetLegView {
            alias: alias.to_owned(),
            conference: Some(space.clone()),
            meeting_code: conference.meeting_code.clone(),
            device: self.participant_id.map(|id| device_alias(&space, id)),
            participants: others.iter().map(|&id| device_alias(&space, id)).collect(),
        }
    }

    /// Presents a wait in the lobby as `lobby` says (ringing by default).
    pub(crate) fn with_lobby(mut self, lobby: LobbyMode) -> Self {
        self.lobby = lobby;
        self
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
        call.conference = Some(conference.clone());
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
                self.conference = Some(conference.clone());
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
                self.participant_id = connected.participant_id;
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

    /// Whether the room system has been answered (the 2xx went out).
    pub(crate) fn is_answered(&self) -> bool {
        self.answered
    }

    /// The room system has sent no RTP for the media timeout: the call ends, the conference
    /// is left.
    pub(crate) fn on_caller_silent(&mut self, now: Instant) {
        self.end(CallEnding::CallerSilent, now);
        self.drain();
    }

    /// Nothing has come from Meet on the transport for the Meet timeout: Meet (or the path
    /// to it) is gone, as if the transport had failed.
    pub(crate) fn on_meet_silent(&mut self, now: Instant) {
        self.on_transport_failed(now);
    }

    /// A media pipeline failed: the call ends (only this call).
    pub(crate) fn on_media_failed(&mut self, now: Instant) {
        self.end(CallEnding::MediaFailed, now);
        self.drain();
    }

    /// The SIP leg reports: a MESSAGE goes to the conference chat, an ending leaves.
    pub(crate) fn on_leg(&mut self, event: &LegEvent, now: Instant) {
        let end = match event {
            LegEvent::Ended(end) => end,
            LegEvent::Message(text) => {
                // The SIP side asked the chat gate already; a refusal here is a race with a
                // change of the conference's state, or the server's own refusal.
                match self.session.send_chat(text, now) {
                    Ok(request_id) => debug!(request_id, "chat from the room system sent"),
                    Err(error) => info!("chat from the room system not sent: {error}"),
                }
                self.drain();
                return;
            }
            LegEvent::Confirmed | LegEvent::Dtmf(_) => return,
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
                SessionEvent::Waiting if self.ending.is_none() => {
                    if self.answered || matches!(self.lobby, LobbyMode::Slate) {
                        // Answered already (by a Virtual Reception) or answered now: the
                        // slate says why nothing else shows yet.
                        self.lobby_slate = true;
                        self.outputs
                            .push_back(CallOutput::Slate(LOBBY_SLATE_TEXT.to_owned()));
                        if !self.answered {
                            self.answered = true;
                            self.outputs.push_back(CallOutput::Leg(LegCommand::Accept));
                        }
                    } else {
                        self.outputs.push_back(CallOutput::Leg(LegCommand::Ring));
                    }
                }
                SessionEvent::Joined if self.ending.is_none() => {
                    if !self.answered {
                        self.answered = true;
                        self.outputs.push_back(CallOutput::Leg(LegCommand::Accept));
                    }
                    if std::mem::take(&mut self.lobby_slate) {
                        // The conference replaces the slate (its waiting picture until the
                        // assignment names someone).
                        self.outputs.push_back(CallOutput::Show(self.shown.clone()));
                    }
                }
                SessionEvent::ChatReceived { id, message } => {
                    debug!(
                        id,
                        from = message.participant_id,
                        "chat from the conference"
                    );
                    if self.answered && self.ending.is_none() {
                        let text = chat::from_meet(&message.display_name, &message.text);
                        self.outputs
                            .push_back(CallOutput::Leg(LegCommand::Message(text)));
                    }
                }
                SessionEvent::ChatRefused { request_id, status } => {
                    info!(request_id, ?status, "the conference refused a chat message");
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
        let chat = self.chat_state();
        if chat != self.chat {
            self.chat = chat;
            self.outputs.push_back(CallOutput::Chat(chat));
        }
    }

    /// Whether the room system may chat: joined, not ending, and not restricted to hosts.
    fn chat_state(&self) -> ChatState {
        if self.is_ended() || self.ending.is_some() || *self.session.state() != SessionState::Joined
        {
            return ChatState::Closed;
        }
        match self.session.conference_state() {
            Some(conference) if !conference.chat_restriction.allows_everyone() => {
                ChatState::HostsOnly
            }
            _ => ChatState::Open,
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
        if self.chat != ChatState::Closed {
            self.chat = ChatState::Closed;
            self.outputs.push_back(CallOutput::Chat(ChatState::Closed));
        }
        self.outputs.push_back(CallOutput::CloseMedia);
        self.outputs
            .push_back(CallOutput::Ended { ending, outcome });
    }
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
