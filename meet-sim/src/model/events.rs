//! The append-only event log tests assert on (meet-side.md §5.b: "All state changes go to an
//! append-only event log").
//!
//! Each entry is `{"seq": n, "atUnixMs": t, "type": "<snake_case kind>", <camelCase fields>}`.

use std::time::SystemTime;

use serde::Serialize;

use super::time::unix_ms;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When it happened, on the simulator's clock.
    pub at_unix_ms: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum EventKind {
    /// A gateway public key was registered.
    GatewayEnrolled {
        /// The `iss` it is registered for.
        issuer: String,
        /// Its `kid`.
        kid: String,
        /// Its algorithm (`ES256`, `RS256`).
        alg: String,
    },
    /// The test CA signed a certificate for a gateway enrolled with a CSR.
    GatewayCertificateIssued {
        /// The `iss` the key is registered for.
        issuer: String,
        /// Its `kid`.
        kid: String,
        /// The certificate's serial number.
        serial: u64,
        /// When it expires, Unix milliseconds.
        not_after_unix_ms: u64,
    },
    /// A gateway key was removed.
    GatewayKeyRemoved {
        /// The `kid` removed.
        kid: String,
    },
    /// An organisation's "Allow interoperability" setting changed.
    OrgInteropChanged {
        /// The organisation.
        org: String,
        /// The new setting.
        enabled: bool,
    },
    /// An interop token was issued (the value is never logged).
    InteropTokenIssued {
        /// The issuing organisation.
        org: String,
        /// Its id.
        token_id: u64,
        /// Its name.
        name: String,
        /// Its type (`GATEWAY`, ...).
        token_type: String,
        /// Whether it is trusted.
        trusted: bool,
    },
    /// An interop token was revoked.
    InteropTokenRevoked {
        /// The organisation.
        org: String,
        /// The token id.
        token_id: u64,
    },
    /// An interop token was flipped trusted/untrusted.
    InteropTokenTrustChanged {
        /// The organisation.
        org: String,
        /// The token id.
        token_id: u64,
        /// The new setting.
        trusted: bool,
    },
    /// A test OAuth token for `connectActiveConference` was issued.
    OauthTokenIssued {
        /// Its scopes.
        scopes: Vec<String>,
    },
    /// A space was created.
    SpaceCreated {
        /// `spaces/{id}`.
        space: String,
        /// Its meeting code.
        meeting_code: String,
        /// Its long numeric id.
        long_id: String,
        /// The owning organisation.
        owner_org: String,
    },
    /// A conference started in a space.
    ConferenceStarted {
        /// The space.
        space: String,
        /// `conferenceRecords/{id}`.
        conference: String,
    },
    /// A conference ended.
    ConferenceEnded {
        /// The space.
        space: String,
        /// `conferenceRecords/{id}`.
        conference: String,
    },
    /// A public endpoint refused a request (authentication, lookup, locks, faults).
    RequestRefused {
        /// `connectGateway`, `resolve` or `connectActiveConference`.
        endpoint: String,
        /// The HTTP status answered.
        http_status: u16,
        /// The google.rpc status name.
        status: String,
        /// The `ErrorInfo.reason`.
        reason: Option<String>,
        /// The message answered.
        message: String,
    },
    /// A meeting id or code was resolved.
    MeetingIdResolved {
        /// The id asked for.
        id: String,
        /// The space it names.
        space: String,
    },
    /// A participant was put in the lobby (`STATE_WAITING`).
    ParticipantWaiting {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
        /// The name shown in the lobby.
        display_name: String,
        /// When the lobby timeout fires.
        deadline_unix_ms: u64,
    },
    /// A host admitted a participant from the lobby.
    ParticipantAdmitted {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
    },
    /// A host denied a participant in the lobby.
    ParticipantDenied {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
    },
    /// Nobody decided within the lobby timeout.
    LobbyTimedOut {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
    },
    /// A participant joined (`STATE_JOINED`).
    ParticipantJoined {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
        /// The display name.
        display_name: String,
        /// `gateway`, `media_client` or `synthetic`.
        kind: String,
    },
    /// A participant left or was disconnected (`STATE_DISCONNECTED`).
    ParticipantLeft {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
        /// The `disconnectReason` sent.
        reason: String,
        /// The `x-reason` detail sent, if any.
        x_reason: Option<String>,
    },
    /// A host removed a participant.
    ParticipantKicked {
        /// The space.
        space: String,
        /// The participant.
        participant_id: i64,
    },
    /// Video or audio lock changed.
    LocksChanged {
        /// The space.
        space: String,
        /// The video lock now.
        video_lock: bool,
        /// The audio lock now.
        audio_lock: bool,
    },
    /// Under the `mute` lock policy, a gateway's media of one kind is to be dropped.
    GatewayMediaMuted {
        /// The space.
        space: String,
        /// The gateway participant.
        participant_id: i64,
        /// `video` or `audio`.
        media: String,
    },
    /// Recording started or stopped.
    RecordingChanged {
        /// The space.
        space: String,
        /// Recording now.
        recording: bool,
    },
    /// Chat or present restriction changed.
    RestrictionsChanged {
        /// The space.
        space: String,
        /// `HOSTS_ONLY` or `NO_RESTRICTION`.
        chat_restriction: String,
        /// `HOSTS_ONLY` or `NO_RESTRICTION`.
        present_restriction: String,
    },
    /// A chat message was posted.
    ChatMessage {
        /// The space.
        space: String,
        /// The sender.
        participant_id: i64,
        /// The text.
        text: String,
    },
    /// A chat message was refused.
    ChatRefused {
        /// The space.
        space: String,
        /// The sender.
        participant_id: i64,
        /// The status code answered (3 or 7).
        code: i32,
        /// Why.
        message: String,
    },
    /// A client uploaded media stats.
    MediaStatsUploaded {
        /// The participant.
        participant_id: i64,
        /// How many sections.
        sections: usize,
    },
    /// The active speaker of a conference changed (the 1+7 assignment follows).
    ActiveSpeakerChanged {
        /// `spaces/{id}`.
        space: String,
        /// The new active speaker.
        participant_id: i64,
    },
    /// A participant's video assignment changed.
    VideoAssigned {
        /// The receiving participant.
        participant_id: i64,
        /// The layout label.
        label: String,
        /// Per canvas (request order): `(canvas id, source participant id, or 0 for none)`.
        canvases: Vec<(i32, i64)>,
    },
    /// The media plane switched the simulcast layer a canvas receives, on a keyframe.
    LayerSwitched {
        /// The receiving participant.
        participant_id: i64,
        /// The source participant.
        source: i64,
        /// The virtual SSRC.
        ssrc: u32,
        /// The RID before (empty when the stream starts).
        from_rid: String,
        /// The RID now.
        to_rid: String,
    },
    /// A gateway broke a media rule (§5.b "Media rules"): `LAYERS_MISSING` or
    /// `BITRATE_EXCEEDED`.
    MediaRuleBroken {
        /// The participant.
        participant_id: i64,
        /// `LAYERS_MISSING` or `BITRATE_EXCEEDED`.
        flag: String,
        /// What was measured.
        detail: String,
    },
    /// The injectable clock was moved.
    ClockChanged {
        /// The time before, Unix ms.
        from_unix_ms: u64,
        /// The time after, Unix ms.
        to_unix_ms: u64,
    },
    /// Fault injection changed; `faults` is the new set, as the control API shows it.
    FaultsChanged {
        /// The faults now in force.
        faults: serde_json::Value,
    },
}

/// The log itself.
#[derive(Debug, Default)]
pub(super) struct EventLog {
    events: Vec<Event>,
}

impl EventLog {
    pub(super) fn push(&mut self, now: SystemTime, kind: EventKind) {
        let seq = self.events.len() as u64 + 1;
        self.events.push(Event {
            seq,
            at_unix_ms: unix_ms(now),
            kind,
        });
    }

    /// Entries with `seq > since`.
    pub(super) fn since(&self, since: u64) -> &[Event] {
        let start = usize::try_from(since)
            .unwrap_or(usize::MAX)
            .min(self.events.len());
        &self.events[start..]
    }
}
