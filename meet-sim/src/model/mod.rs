//! The conference model of meet-sim: sans-IO (no sockets, no tasks, no clock).
//!
//! [`SimModel`] holds the spaces and their conferences, the enrolled gateway keys and the test
//! CA that signs their certificate requests, the interop and OAuth tokens, the participants, the lobby and the host controls (meet-side.md §5.b).
//! Every input is a method call that takes `now`; what comes out is
//!
//! - the method's result (a join outcome, or a [`SimError`] carrying the documented HTTP
//!   status and `ErrorInfo.reason`),
//! - data-channel messages for participants, as values: drain them with
//!   [`SimModel::poll_delivery`] after every call,
//! - the next time a timer (the lobby timeout) is due: [`SimModel::poll_timeout`]; call
//!   [`SimModel::handle_timeout`] then (every other input runs due timers first, too),
//! - the append-only [`Event`] log: [`SimModel::events_since`].
//!
//! ```text
//!   HTTP layer / tests ──calls(now)──► SimModel ──poll_delivery──► mailbox (now) or
//!                                         │                        data channels (media plane)
//!                                         └──poll_timeout──► timer ──handle_timeout(now)──┘
//! ```
//!
//! The model checks an offer's m-lines against the rules (`offer`) and decides the 1+7 video
//! assignment (`assignment`); what the media plane must forward comes out as
//! [`MediaUpdate`]s ([`SimModel::poll_media_update`]). ICE, DTLS, the SDP answer and the
//! packets themselves are the media plane's ([`crate::media`]).

mod admission;
mod assignment;
mod ca;
mod channels;
mod config;
mod controls;
mod delivery;
mod enrollment;
mod error;
mod events;
mod faults;
mod ids;
mod lobby;
mod media_events;
mod offer;
mod participant;
mod roster;
mod space;
mod time;

use std::collections::{BTreeMap, VecDeque};
use std::time::SystemTime;

pub use admission::{BrowserJoin, GatewayJoin, JoinOutcome, Resolved};
pub use assignment::{MediaUpdate, VideoSource};
pub use ca::TEST_CA_NAME;
pub use config::{
    DEFAULT_AUDIENCE, DEFAULT_CERTIFICATE_VALIDITY, DEFAULT_CHAT_MAX_LEN, DEFAULT_LOBBY_TIMEOUT,
    DEFAULT_LONG_ID_LEN, DEFAULT_MAX_SEND_BITRATE_BPS, DEFAULT_UPLOAD_INTERVAL_S,
    DEFAULT_VIDEO_RECV_STREAMS_MAX, LockPolicy, ModelConfig,
};
pub use delivery::{ChannelMessage, Delivery};
pub use enrollment::{
    EnrolledCertificate, EnrolledKey, InteropTokenInfo, IssuedInteropToken, MEDIA_SCOPES,
};
pub use error::{RpcCode, SimError};
pub use events::{Event, EventKind};
pub use faults::{FailConnect, Faults, MediaFaults};
pub use ids::{
    MAX_SHORT_ID_LEN, MIN_SHORT_ID_LEN, is_long_id, is_meeting_code, is_short_id,
    normalize_meeting_code,
};
pub use offer::{
    Direction, EXT_MID, EXT_RID, MediaShape, OfferError, OfferSection, OfferShape, SectionKind,
};
pub use participant::{LobbyEntry, ParticipantInfo, ParticipantKindName, SyntheticJoin};
pub use space::{AccessType, SpaceConfig, SpaceInfo, SpaceRequest};
pub use time::{rfc3339, unix_ms};

use ca::TestCa;
use enrollment::{Org, TokenRecord};
use events::EventLog;
use ids::IdGen;
use meet::jwt::{Validator, ValidatorConfig};
use participant::Participant;
use space::Space;

/// The simulated Meet: see the module documentation.
#[derive(Debug)]
pub struct SimModel {
    config: ModelConfig,
    ids: IdGen,
    validator: Validator,
    /// Enrolled keys by `kid`.
    keys: BTreeMap<String, EnrolledKey>,
    /// The test CA that signs CSR enrolments, made on first use.
    ca: Option<TestCa>,
    orgs: BTreeMap<String, Org>,
    /// Interop tokens by id.
    tokens: BTreeMap<u64, TokenRecord>,
    /// OAuth test tokens (value → scopes).
    oauth: BTreeMap<String, Vec<String>>,
    /// Spaces by space id (without `spaces/`).
    spaces: BTreeMap<String, Space>,
    participants: BTreeMap<i64, Participant>,
    faults: Faults,
    outbox: VecDeque<Delivery>,
    media_updates: VecDeque<MediaUpdate>,
    events: EventLog,
    next_participant_id: i64,
    next_media_entry_id: i64,
    next_token_id: u64,
    next_conference_no: u64,
    next_chat_id: i64,
    latest_now: SystemTime,
}

impl SimModel {
    /// An empty simulator: no spaces, keys or tokens.
    pub fn new(config: ModelConfig) -> Self {
        let mut validator_config = ValidatorConfig::new(config.audience.clone());
        validator_config.leeway = config.token_leeway;
        validator_config.max_lifetime = config.max_token_lifetime;
        Self {
            ids: IdGen::new(config.seed),
            validator: Validator::new(validator_config),
            config,
            keys: BTreeMap::new(),
            ca: None,
            orgs: BTreeMap::new(),
            tokens: BTreeMap::new(),
            oauth: BTreeMap::new(),
            spaces: BTreeMap::new(),
            participants: BTreeMap::new(),
            faults: Faults::default(),
            outbox: VecDeque::new(),
            media_updates: VecDeque::new(),
            events: EventLog::default(),
            next_participant_id: 1,
            next_media_entry_id: 1,
            next_token_id: 1,
            next_conference_no: 1,
            next_chat_id: 1,
            latest_now: SystemTime::UNIX_EPOCH,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The next data-channel message to deliver, oldest first.
    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        self.outbox.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called: the earliest lobby
    /// deadline, or `None` when no timer runs.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        self.participants
            .values()
            .filter_map(Participant::lobby_deadline)
            .min()
    }

    /// Runs the timers due at `now`: a gateway still in the lobby at its deadline is
    /// disconnected with `x-REASON_ADMISSION_TIMEOUT`. Expired `jti`s are forgotten.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let now = self.advance(now);
        self.validator.handle_timeout(now);
        self.expire_lobby(now);
    }

    /// Log entries with `seq > since` (0 for all).
    pub fn events_since(&self, since: u64) -> &[Event] {
        self.events.since(since)
    }

    /// Appends `kind` to the log at `now` (for inputs that live outside the model, such as the
    /// HTTP layer's clock).
    pub fn log(&mut self, now: SystemTime, kind: EventKind) {
        self.events.push(now, kind);
    }

    /// `now`, never earlier than a `now` already seen, with due timers run.
    fn step(&mut self, now: SystemTime) -> SystemTime {
        let now = self.advance(now);
        self.expire_lobby(now);
        now
    }

    fn advance(&mut self, now: SystemTime) -> SystemTime {
        self.latest_now = self.latest_now.max(now);
        self.latest_now
    }

    fn push(&mut self, participant_id: i64, message: ChannelMessage) {
        self.outbox.push_back(Delivery {
            participant_id,
            message,
        });
    }
}
