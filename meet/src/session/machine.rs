//! [`MeetSession`]: the state machine itself.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::event::{ChatError, MessageError, SessionEvent, SessionState};
use super::outcome::{ConnectFailure, SessionOutcome};
use super::settings::SessionSettings;
use super::stats::allowed_sections;
use crate::protocol::media_entries::{MediaEntriesToClient, MediaEntry, MediaEntryResource};
use crate::protocol::media_stats::{
    MediaStatsConfiguration, MediaStatsFromClient, MediaStatsSection, MediaStatsToClient,
};
use crate::protocol::participants::{Participant, ParticipantResource, ParticipantsToClient};
use crate::protocol::session_control::{
    ConnectionState, SessionControlFromClient, SessionControlToClient, SessionStatus,
};
use crate::protocol::video_assignment::{
    SetAssignment, VideoAssignment, VideoAssignmentFromClient, VideoAssignmentToClient,
};
use crate::protocol::x_chat::{XChatFromClient, XChatToClient};
use crate::protocol::x_conference::{ConferenceState, XConferenceToClient};
use crate::protocol::{DataChannel, RequestIdGenerator, Response};

/// Requests still waiting for an answer, per channel, beyond which the oldest is forgotten
/// (a server that never answers stats uploads must not grow the map forever).
const MAX_PENDING_PER_CHANNEL: usize = 64;

/// The sans-IO client of one gateway call's Meet data channels (meet-side.md §1.4, §5.a
/// steps 4 to 10). See the [module docs](super) for the driving loop.
#[derive(Debug)]
pub struct MeetSession {
    settings: SessionSettings,
    state: SessionState,
    /// Whether `STATE_JOINED` was ever reached.
    joined_once: bool,
    /// Whether [`MeetSession::channels_open`] was called: nothing is sent before.
    channels_open: bool,
    /// The session's own join timer; set while connecting or waiting.
    join_deadline: Option<Instant>,
    /// When to stop waiting for `STATE_DISCONNECTED` after a `leave`; set while leaving.
    leave_deadline: Option<Instant>,
    /// The next stats upload; set while uploads are due.
    next_upload: Option<Instant>,
    /// One request-id sequence per channel, in [`DataChannel::ALL`] order.
    request_ids: [RequestIdGenerator; DataChannel::ALL.len()],
    /// Sent requests not answered yet, by channel and request id.
    pending: BTreeMap<(DataChannel, i64), Pending>,
    /// Layouts sent so far; numbers the layout labels.
    layouts_sent: u32,
    stats_configuration: Option<MediaStatsConfiguration>,
    stats: Vec<MediaStatsSection>,
    roster: BTreeMap<i64, Participant>,
    media_entries: BTreeMap<i64, MediaEntry>,
    assignment: Option<VideoAssignment>,
    conference: Option<ConferenceState>,
    transmits: VecDeque<(DataChannel, String)>,
    events: VecDeque<SessionEvent>,
}

/// What a sent request was, so that its answer can be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Leave,
    StatsUpload,
    SetAssignment { label: String },
    Chat,
}

impl MeetSession {
    /// A session for a call whose connector answer has just been applied (meet-side.md §5.a
    /// step 4): the join timer starts at `now` and fires at
    /// [`SessionSettings::join_timeout`] unless the session has joined or ended by then.
    pub fn new(settings: SessionSettings, now: Instant) -> Self {
        let join_deadline = Some(now + settings.join_timeout());
        Self {
            settings,
            state: SessionState::Connecting,
            joined_once: false,
            channels_open: false,
            join_deadline,
            leave_deadline: None,
            next_upload: None,
            request_ids: Default::default(),
            pending: BTreeMap::new(),
            layouts_sent: 0,
            stats_configuration: None,
            stats: Vec::new(),
            roster: BTreeMap::new(),
            media_entries: BTreeMap::new(),
            assignment: None,
            conference: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    // ---- inputs ---------------------------------------------------------------------------

    /// The data channels are open (all of them: the node calls this once the last one is).
    /// Nothing is sent before: the server speaks first on every channel (session status,
    /// media-stats configuration, conference state); the client's first message is the 1+7
    /// `setAssignment`, which goes out now if the session has already joined, else on
    /// `STATE_JOINED`. Stats uploads start counting from here (or from the configuration, if
    /// that comes later). A second call does nothing.
    pub fn channels_open(&mut self, now: Instant) {
        if self.channels_open || self.state.is_disconnected() {
            return;
        }
        self.channels_open = true;
        self.schedule_stats(now);
        self.send_assignment_if_due();
    }

    /// A message received on `channel` (JSON text, as bytes or `&str`).
    ///
    /// Unknown fields, unknown request kinds, unknown resources, responses to requests this
    /// session did not send (or no longer waits for), and anything after the session ended
    /// are ignored. Only a message that is not JSON of the channel's server → client shape is
    /// an error, for the caller's log; the session goes on as if it had not come.
    pub fn handle_message(
        &mut self,
        channel: DataChannel,
        message: impl AsRef<[u8]>,
        now: Instant,
    ) -> Result<(), MessageError> {
        if self.state.is_disconnected() {
            return Ok(());
        }
        let bytes = message.as_ref();
        match channel {
            DataChannel::SessionControl => self.on_session_control(parse(channel, bytes)?),
            DataChannel::MediaStats => self.on_media_stats(parse(channel, bytes)?, now),
            DataChannel::Participants => self.on_participants(parse(channel, bytes)?),
            DataChannel::MediaEntries => self.on_media_entries(parse(channel, bytes)?),
            DataChannel::VideoAssignment => self.on_video_assignment(parse(channel, bytes)?),
            DataChannel::XConference => self.on_conference(parse(channel, bytes)?, now),
            DataChannel::XChat => self.on_chat(parse(channel, bytes)?),
        }
        Ok(())
    }

    /// Time has passed: fires whatever is due at `now` (the join timer, the leave timer, a
    /// stats upload). Calling it early, or more than once, is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.join_deadline.is_some_and(|at| now >= at) {
            self.join_deadline = None;
            let outcome = match self.state {
                SessionState::Waiting => SessionOutcome::AdmissionTimeout {
                    status: self.settings.lobby_timeout_status,
                },
                _ => SessionOutcome::JoinTimeout,
            };
            self.end(outcome, now);
        }
        if self.leave_deadline.is_some_and(|at| now >= at)
            && let SessionState::Leaving(outcome) = self.state
        {
            self.disconnect(outcome);
        }
        if let Some(due) = self.next_upload
            && now >= due
        {
            self.upload_stats(due, now);
        }
    }

    /// Leave the conference (the SIP side hung up, or the node is draining).
    ///
    /// Joined: sends `leave` and waits for `STATE_DISCONNECTED` or
    /// [`SessionSettings::leave_timeout`], then ends with [`SessionOutcome::Left`]. Before
    /// joining: sends `leave` if the channels are open and ends at once ("Leave before JOINED
    /// ⇒ client goes straight to disconnected", meet-side.md §1.4). Leaving or ended: nothing.
    pub fn leave(&mut self, now: Instant) {
        self.end(SessionOutcome::Left, now);
    }

    /// Send `text` to the conference chat (`x-chat` `sendMessage`). Returns the request id;
    /// the answer comes as [`SessionEvent::ChatDelivered`] or [`SessionEvent::ChatRefused`]
    /// with it. Refused here, without sending, when the session is not joined, when chat is
    /// restricted to hosts (meet-side.md §5.a step 9), or when the text is empty or longer
    /// than [`SessionSettings::chat_max_chars`]. `now` is taken for uniformity with the other
    /// inputs; no timer depends on chat.
    pub fn send_chat(&mut self, text: &str, now: Instant) -> Result<i64, ChatError> {
        let _ = now;
        if self.state != SessionState::Joined || !self.channels_open {
            return Err(ChatError::NotJoined);
        }
        if self
            .conference
            .as_ref()
            .is_some_and(|c| !c.chat_restriction.allows_everyone())
        {
            return Err(ChatError::Restricted);
        }
        if text.trim().is_empty() {
            return Err(ChatError::Empty);
        }
        let chars = text.chars().count();
        let max = self.settings.chat_max_chars;
        if chars > max {
            return Err(ChatError::TooLong { chars, max });
        }
        Ok(self.request(DataChannel::XChat, Pending::Chat, |id| {
            XChatFromClient::send_message(id, text)
        }))
    }

    /// The latest statistics, sent with every upload from now on (replacing what was set
    /// before). Give them in either dialect (meet-side.md §1.4, media-stats); each upload
    /// keeps only the allowlisted types and keys of the server's configuration and sends them
    /// in the TS dialect (§5.a step 7). Until this is called, uploads carry no sections.
    /// Refresh it before each [`Self::poll_timeout`] that an upload is due at.
    pub fn set_stats(&mut self, sections: Vec<MediaStatsSection>) {
        self.stats = sections;
    }

    /// The connector's `resolve` or `connect` failed: the session ends at once with
    /// [`ConnectFailure::outcome`] (nothing is sent: there is no conference to leave).
    pub fn connect_failed(&mut self, failure: &ConnectFailure, now: Instant) {
        let _ = now;
        if !self.state.is_disconnected() {
            self.disconnect(failure.outcome());
        }
    }

    /// The WebRTC transport failed or the data channels closed: the session ends at once,
    /// with [`SessionOutcome::Unavailable`] (or, while leaving, the outcome it was leaving
    /// with). Nothing is sent.
    pub fn transport_failed(&mut self, now: Instant) {
        let _ = now;
        match self.state {
            SessionState::Disconnected(_) => {}
            SessionState::Leaving(outcome) => self.disconnect(outcome),
            _ => self.disconnect(SessionOutcome::Unavailable),
        }
    }

    // ---- outputs --------------------------------------------------------------------------

    /// The next message to send: the channel and its JSON text. Drain it after every input.
    pub fn poll_transmit(&mut self) -> Option<(DataChannel, String)> {
        self.transmits.pop_front()
    }

    /// The next event for the call controller. Drain it after every input.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] should be called next; `None` when no timer runs (after
    /// the session ended, or joined with no stats uploads configured).
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.join_deadline, self.leave_deadline, self.next_upload]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- state ----------------------------------------------------------------------------

    /// Where the session stands.
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    /// How the session ended; `None` while it runs.
    pub fn outcome(&self) -> Option<SessionOutcome> {
        match self.state {
            SessionState::Disconnected(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// The settings the session runs on.
    pub fn settings(&self) -> &SessionSettings {
        &self.settings
    }

    /// The participants now known, by resource id (ascending).
    pub fn roster(&self) -> impl Iterator<Item = (i64, &Participant)> {
        self.roster.iter().map(|(&id, p)| (id, p))
    }

    /// The media entries now known, by resource id (ascending).
    pub fn media_entries(&self) -> impl Iterator<Item = (i64, &MediaEntry)> {
        self.media_entries.iter().map(|(&id, e)| (id, e))
    }

    /// The media entry whose audio or video carries `csrc` (the CSRC of an incoming RTP
    /// packet, meet-side.md §1.5), with its resource id.
    pub fn media_entry_for_csrc(&self, csrc: u32) -> Option<(i64, &MediaEntry)> {
        self.media_entries().find(|(_, e)| e.has_csrc(csrc))
    }

    /// The latest video assignment, if any.
    pub fn assignment(&self) -> Option<&VideoAssignment> {
        self.assignment.as_ref()
    }

    /// The latest conference state (`x-conference`), if any.
    pub fn conference_state(&self) -> Option<&ConferenceState> {
        self.conference.as_ref()
    }

    /// The server's media-stats configuration, if it has sent one.
    pub fn stats_configuration(&self) -> Option<&MediaStatsConfiguration> {
        self.stats_configuration.as_ref()
    }

    // ---- channel handlers -----------------------------------------------------------------

    fn on_session_control(&mut self, message: SessionControlToClient) {
        let leave_answered = message
            .response
            .as_ref()
            .and_then(|r| self.take_pending(DataChannel::SessionControl, r.request_id))
            .is_some_and(|p| p == Pending::Leave);
        if let Some(status) = message.session_status() {
            self.apply_status(status);
        }
        // The answer to `leave` ends the wait even without a status next to it.
        if leave_answered && let SessionState::Leaving(outcome) = self.state {
            self.disconnect(outcome);
        }
    }

    fn apply_status(&mut self, status: &SessionStatus) {
        match (&status.connection_state, &self.state) {
            (Some(ConnectionState::Waiting), SessionState::Connecting) => {
                self.state = SessionState::Waiting;
                self.events.push_back(SessionEvent::Waiting);
            }
            (Some(ConnectionState::Joined), SessionState::Connecting | SessionState::Waiting) => {
                self.state = SessionState::Joined;
                self.joined_once = true;
                self.join_deadline = None;
                self.events.push_back(SessionEvent::Joined);
                self.send_assignment_if_due();
            }
            (Some(ConnectionState::Disconnected), SessionState::Leaving(outcome)) => {
                // We asked to leave; whatever reason comes back, we end as we meant to.
                let outcome = *outcome;
                self.disconnect(outcome);
            }
            (Some(ConnectionState::Disconnected), _) => {
                let reason = status.gateway_reason();
                self.disconnect(SessionOutcome::from_disconnect_reason(
                    reason.as_ref(),
                    self.settings.lobby_timeout_status,
                ));
            }
            // A repeated state, a step back (JOINED → WAITING is not a documented
            // transition), an unknown state or none: nothing to do.
            _ => {}
        }
    }

    fn on_media_stats(&mut self, message: MediaStatsToClient, now: Instant) {
        if let Some(response) = &message.response {
            // An upload's answer carries nothing to act on; it only stops being pending.
            self.take_pending(DataChannel::MediaStats, response.request_id);
        }
        let configuration = message
            .resources
            .into_iter()
            .rev()
            .find_map(|r| r.configuration);
        if let Some(configuration) = configuration {
            self.stats_configuration = Some(configuration.clone());
            self.events
                .push_back(SessionEvent::StatsConfigured(configuration));
            self.schedule_stats(now);
        }
    }

    fn on_participants(&mut self, message: ParticipantsToClient) {
        let before = self.roster.clone();
        for resource in message.resources {
            if let Some(participant) = resource.participant {
                self.roster.insert(resource.id, participant);
            }
        }
        for deleted in message.deleted_resources {
            self.roster.remove(&deleted.id);
        }
        if self.roster != before {
            let snapshot = self
                .roster
                .iter()
                .map(|(&id, p)| ParticipantResource {
                    id,
                    participant: Some(p.clone()),
                })
                .collect();
            self.events.push_back(SessionEvent::RosterChanged(snapshot));
        }
    }

    fn on_media_entries(&mut self, message: MediaEntriesToClient) {
        let before = self.media_entries.clone();
        for resource in message.resources {
            if let Some(entry) = resource.media_entry {
                self.media_entries.insert(resource.id, entry);
            }
        }
        for deleted in message.deleted_resources {
            self.media_entries.remove(&deleted.id);
        }
        if self.media_entries != before {
            let snapshot = self
                .media_entries
                .iter()
                .map(|(&id, e)| MediaEntryResource {
                    id,
                    media_entry: Some(e.clone()),
                })
                .collect();
            self.events
                .push_back(SessionEvent::MediaEntriesChanged(snapshot));
        }
    }

    fn on_video_assignment(&mut self, message: VideoAssignmentToClient) {
        if let Some(response) = &message.response
            && let Some(Pending::SetAssignment { label }) =
                self.take_pending(DataChannel::VideoAssignment, response.request_id)
        {
            let request_id = response.request_id;
            self.events.push_back(match failure_status(response) {
                None => SessionEvent::AssignmentAccepted { request_id, label },
                Some(status) => SessionEvent::AssignmentRefused {
                    request_id,
                    label,
                    status,
                },
            });
        }
        if let Some(assignment) = message.current_assignment()
            && self.assignment.as_ref() != Some(assignment)
        {
            self.assignment = Some(assignment.clone());
            self.events
                .push_back(SessionEvent::Assignment(assignment.clone()));
        }
    }

    fn on_conference(&mut self, message: XConferenceToClient, now: Instant) {
        let Some(state) = message.conference_state() else {
            return;
        };
        if self.conference.as_ref() == Some(state) {
            return;
        }
        let lock_switched_on =
            state.video_lock && !self.conference.as_ref().is_some_and(|c| c.video_lock);
        self.conference = Some(state.clone());
        self.events
            .push_back(SessionEvent::ConferenceStateChanged(state.clone()));
        if lock_switched_on && self.settings.leave_on_video_lock {
            self.end(SessionOutcome::VideoLocked, now);
        }
    }

    fn on_chat(&mut self, message: XChatToClient) {
        if let Some(response) = &message.response
            && self.take_pending(DataChannel::XChat, response.request_id) == Some(Pending::Chat)
        {
            let request_id = response.request_id;
            self.events.push_back(match failure_status(response) {
                None => SessionEvent::ChatDelivered { request_id },
                Some(status) => SessionEvent::ChatRefused { request_id, status },
            });
        }
        for resource in message.resources {
            if let Some(chat) = resource.chat_message {
                self.events.push_back(SessionEvent::ChatReceived {
                    id: resource.id,
                    message: chat,
                });
            }
        }
    }

    // ---- actions --------------------------------------------------------------------------

    /// Ends the session for a reason of our own: with a `leave` and a wait when joined, at
    /// once before (meet-side.md §1.4, §5.a step 10).
    fn end(&mut self, outcome: SessionOutcome, now: Instant) {
        match self.state {
            SessionState::Connecting | SessionState::Waiting => {
                if self.channels_open {
                    self.send_leave();
                }
                self.disconnect(outcome);
            }
            SessionState::Joined if self.channels_open => {
                self.send_leave();
                self.state = SessionState::Leaving(outcome);
                self.leave_deadline = Some(now + self.settings.leave_timeout);
                self.join_deadline = None;
                self.next_upload = None;
            }
            SessionState::Joined => self.disconnect(outcome),
            SessionState::Leaving(_) | SessionState::Disconnected(_) => {}
        }
    }

    fn send_leave(&mut self) {
        self.request(DataChannel::SessionControl, Pending::Leave, |id| {
            SessionControlFromClient::leave(id)
        });
    }

    /// The final transition: every timer stops, nothing more is sent or reported after the
    /// [`SessionEvent::Disconnected`] it queues (already queued transmits stay).
    fn disconnect(&mut self, outcome: SessionOutcome) {
        self.state = SessionState::Disconnected(outcome);
        self.join_deadline = None;
        self.leave_deadline = None;
        self.next_upload = None;
        self.pending.clear();
        self.events.push_back(SessionEvent::Disconnected {
            outcome,
            after_join: self.joined_once,
        });
    }

    /// Sends the 1+7 `setAssignment` once: when joined with the channels open (meet-side.md
    /// §5.a step 6).
    fn send_assignment_if_due(&mut self) {
        if self.state != SessionState::Joined || !self.channels_open || self.layouts_sent > 0 {
            return;
        }
        self.layouts_sent += 1;
        let label = format!("tcn-1+7-{}", self.layouts_sent);
        let mut layout = SetAssignment::one_plus_seven(label.clone());
        layout
            .layout_model
            .canvases
            .truncate(self.settings.canvas_count());
        self.request(
            DataChannel::VideoAssignment,
            Pending::SetAssignment { label },
            |id| VideoAssignmentFromClient::set_assignment(id, layout),
        );
    }

    /// Starts (or restarts, or stops) the upload cadence from `now`: uploads run while the
    /// session is alive and not leaving, the channels are open, and the configuration asks
    /// for them (`uploadIntervalSeconds` > 0).
    fn schedule_stats(&mut self, now: Instant) {
        let alive = matches!(
            self.state,
            SessionState::Connecting | SessionState::Waiting | SessionState::Joined
        );
        self.next_upload = match &self.stats_configuration {
            Some(configuration) if alive && self.channels_open => {
                configuration.upload_interval().map(|every| now + every)
            }
            _ => None,
        };
    }

    /// Sends one upload (due at `due`, handled at `now`) and schedules the next one interval
    /// after `due`, or after `now` if the caller was more than an interval late.
    fn upload_stats(&mut self, due: Instant, now: Instant) {
        let Some(configuration) = &self.stats_configuration else {
            self.next_upload = None;
            return;
        };
        let Some(every) = configuration.upload_interval() else {
            self.next_upload = None;
            return;
        };
        let sections = allowed_sections(configuration, &self.stats);
        self.request(DataChannel::MediaStats, Pending::StatsUpload, |id| {
            MediaStatsFromClient::upload(id, sections)
        });
        let next = due + every;
        self.next_upload = Some(if next > now { next } else { now + every });
    }

    /// Sends a request built for the channel's next request id, remembering what it was.
    fn request<T: Serialize>(
        &mut self,
        channel: DataChannel,
        pending: Pending,
        build: impl FnOnce(i64) -> T,
    ) -> i64 {
        let index = DataChannel::ALL
            .iter()
            .position(|&c| c == channel)
            .unwrap_or_default();
        let id = self.request_ids[index].next_id();
        let message = build(id);
        // Invariant: the protocol types are structs and maps with string keys, which
        // serde_json always encodes.
        let json = serde_json::to_string(&message).expect("data-channel messages encode");
        self.transmits.push_back((channel, json));
        self.pending.insert((channel, id), pending);
        let mut of_channel = self
            .pending
            .range((channel, i64::MIN)..=(channel, i64::MAX));
        if of_channel.clone().count() > MAX_PENDING_PER_CHANNEL
            && let Some((&oldest, _)) = of_channel.next()
        {
            self.pending.remove(&oldest);
        }
        id
    }

    fn take_pending(&mut self, channel: DataChannel, request_id: i64) -> Option<Pending> {
        self.pending.remove(&(channel, request_id))
    }
}

/// The status of a response that is not OK; `None` for OK (absent status or code 0).
fn failure_status<P>(response: &Response<P>) -> Option<crate::protocol::Status> {
    (!response.is_ok()).then(|| response.status.clone().unwrap_or_default())
}

fn parse<T: DeserializeOwned>(channel: DataChannel, bytes: &[u8]) -> Result<T, MessageError> {
    serde_json::from_slice(bytes).map_err(|source| MessageError { channel, source })
}
