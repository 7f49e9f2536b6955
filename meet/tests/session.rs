//! `MeetSession` driven with fake time and the message shapes of meet-side.md §1.4 and §5.b
//! (the examples copied from there where they exist): join through the lobby or directly,
//! every way a session ends and its SIP status or BYE `Reason` (§5.a table), the 1+7
//! assignment sent once, stats uploads at the configured interval, chat both ways, conference
//! state, request-id correlation, and what is ignored.

use std::time::{Duration, Instant};

use meet::protocol::DataChannel;
use meet::protocol::media_stats::MediaStatsSection;
use meet::protocol::x_conference::RestrictionType;
use meet::protocol::{Status, StatusCode};
use meet::session::{
    ChatError, ConnectFailure, LobbyTimeoutStatus, MeetSession, SessionEvent, SessionOutcome,
    SessionSettings, SessionState, SipEnding,
};
use serde_json::{Value, json};

use DataChannel::{
    MediaEntries, MediaStats, Participants, SessionControl, VideoAssignment, XChat, XConference,
};

// ---- messages (meet-side.md §1.4 and §5.b; verbatim where the note has them) ---------------

const WAITING: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_WAITING"}}]}"#;
const JOINED: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_JOINED"}}]}"#;
const LEAVE_ANSWER: &str = r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"leave":{}},
 "resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED","disconnectReason":"REASON_CLIENT_LEFT"}}]}"#;
const STATS_CONFIGURATION: &str = r#"{"resources":[{"id":0,"configuration":{"uploadIntervalSeconds":10,
  "allowlist":{"inbound-rtp":{"keys":["ssrc","packetsLost","framesDecoded"]},
               "codec":{"keys":["mimeType","payloadType"]}}}}]}"#;
const PARTICIPANTS: &str = r#"{"resources":[{"id":7,"participant":{"participantId":7,
   "participantKey":"participants/abc","name":"conferenceRecords/x/participants/abc",
   "signedInUser":{"user":"users/123","displayName":"Alice"}}}],
 "deletedResources":[{"id":9,"participant":true}]}"#;
const MEDIA_ENTRY: &str = r#"{"resources":[{"id":3,"mediaEntry":{"participant":"conferenceRecords/x/participants/abc",
   "participantKey":"participants/abc",
   "session":"conferenceRecords/x/participants/abc/participantSessions/s1",
   "sessionName":"participants/abc/participantSessions/s1",
   "audioCsrc":11111,"videoCsrcs":[22222],
   "presenter":false,"screenshare":false,"audioMuted":false,"videoMuted":false}}]}"#;
const MEDIA_ENTRY_DELETED: &str = r#"{"deletedResources":[{"id":3,"mediaEntry":true}]}"#;
const ASSIGNMENT: &str = r#"{"resources":[{"videoAssignment":{"label":"tcn-1+7-1","canvases":[
   {"canvasId":1,"ssrc":3001,"mediaEntryId":3},{"canvasId":2,"ssrc":3002,"mediaEntryId":4}]}}]}"#;
const CONFERENCE_STATE: &str = r#"{"resources":[{"conferenceState":{"recording":false,"transcribing":false,
  "videoLock":false,"audioLock":false,"chatRestriction":"NO_RESTRICTION",
  "presentRestriction":"NO_RESTRICTION"}}]}"#;
const CHAT_MESSAGE: &str = r#"{"resources":[{"id":88,"chatMessage":{"participantId":7,"displayName":"Alice",
  "text":"hello","createTime":"2026-01-01T00:00:00Z"}}]}"#;

fn disconnected(reason: &str) -> String {
    format!(
        r#"{{"resources":[{{"sessionStatus":{{"connectionState":"STATE_DISCONNECTED","disconnectReason":"{reason}"}}}}]}}"#
    )
}

fn conference(recording: bool, video_lock: bool, chat: &str) -> String {
    json!({"resources": [{"conferenceState": {
        "recording": recording, "transcribing": false, "videoLock": video_lock,
        "audioLock": false, "chatRestriction": chat, "presentRestriction": "NO_RESTRICTION"}}]})
    .to_string()
}

/// The 1+7 `setAssignment` tcn sends (meet-side.md §5.a step 6).
fn one_plus_seven(request_id: i64, label: &str, canvases: i32) -> Value {
    let canvases: Vec<Value> = (1..=canvases)
        .map(|id| {
            let (height, width) = if id == 1 { (720, 1280) } else { (180, 320) };
            json!({"id": id, "dimensions": {"height": height, "width": width}, "relevant": {}})
        })
        .collect();
    json!({"request": {"requestId": request_id, "setAssignment": {
        "layoutModel": {"label": label, "canvases": canvases},
        "maxVideoResolution": {"height": 720, "width": 1280, "frameRate": 30}}}})
}

// ---- harness ------------------------------------------------------------------------------

#[allow(clippy::disallowed_methods)] // one real instant; everything else is fake time
fn real_instant() -> Instant {
    Instant::now()
}

/// One session and the start of its fake time.
struct Call {
    session: MeetSession,
    t0: Instant,
}

impl Call {
    fn new(settings: SessionSettings) -> Self {
        let t0 = real_instant();
        Self {
            session: MeetSession::new(settings, t0),
            t0,
        }
    }

    /// A session with default settings whose channels are open at t0.
    fn open() -> Self {
        let mut call = Self::new(SessionSettings::default());
        call.session.channels_open(call.t0);
        call
    }

    /// A session with `settings`, channels open and joined at t0, with its join drained.
    fn joined_with(settings: SessionSettings) -> Self {
        let mut call = Self::new(settings);
        call.session.channels_open(call.t0);
        call.recv(SessionControl, JOINED, 0);
        assert_eq!(call.events(), [SessionEvent::Joined]);
        assert_eq!(call.transmits().len(), 1, "the setAssignment");
        call
    }

    fn joined() -> Self {
        Self::joined_with(SessionSettings::default())
    }

    /// t0 + `ms` milliseconds.
    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn recv(&mut self, channel: DataChannel, json: &str, ms: u64) {
        let now = self.at(ms);
        self.session
            .handle_message(channel, json, now)
            .expect("a well-formed message");
    }

    fn timeout(&mut self, ms: u64) {
        let now = self.at(ms);
        self.session.handle_timeout(now);
    }

    fn transmits(&mut self) -> Vec<(DataChannel, Value)> {
        std::iter::from_fn(|| self.session.poll_transmit())
            .map(|(channel, text)| (channel, serde_json::from_str(&text).expect("JSON")))
            .collect()
    }

    fn events(&mut self) -> Vec<SessionEvent> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// The fake-time offset of the next timer, in ms.
    fn next_timer_ms(&self) -> Option<u128> {
        self.session
            .poll_timeout()
            .map(|at| at.duration_since(self.t0).as_millis())
    }
}

fn leave_request(request_id: i64) -> (DataChannel, Value) {
    (
        SessionControl,
        json!({"request": {"requestId": request_id, "leave": {}}}),
    )
}

fn bye(reason: &str) -> SipEnding {
    SipEnding::Bye {
        reason: reason.to_owned(),
    }
}

// ---- joining -------------------------------------------------------------------------------

#[test]
fn direct_join_sends_the_1_plus_7_assignment_once_with_8_canvases() {
    let mut call = Call::open();
    assert_eq!(call.session.state(), &SessionState::Connecting);
    assert!(call.transmits().is_empty(), "the server speaks first");

    call.recv(SessionControl, JOINED, 400);
    assert_eq!(call.events(), [SessionEvent::Joined]);
    assert_eq!(call.session.state(), &SessionState::Joined);
    let sent = call.transmits();
    assert_eq!(
        sent,
        [(VideoAssignment, one_plus_seven(1, "tcn-1+7-1", 8))],
        "exactly one setAssignment, 8 canvases: 1280×720 then seven 320×180"
    );
    assert_eq!(
        sent[0].1["request"]["setAssignment"]["layoutModel"]["canvases"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );

    // A repeated JOINED changes nothing and sends nothing more.
    call.recv(SessionControl, JOINED, 500);
    assert!(call.events().is_empty());
    assert!(call.transmits().is_empty());

    // The answer, then the assignment itself.
    call.recv(
        VideoAssignment,
        r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"setAssignment":{}}}"#,
        600,
    );
    call.recv(VideoAssignment, ASSIGNMENT, 700);
    let events = call.events();
    assert_eq!(
        events[0],
        SessionEvent::AssignmentAccepted {
            request_id: 1,
            label: "tcn-1+7-1".into()
        }
    );
    let SessionEvent::Assignment(assignment) = &events[1] else {
        panic!("expected the assignment, got {events:?}");
    };
    assert_eq!(
        assignment.canvas(1).map(|c| (c.ssrc, c.media_entry_id)),
        Some((3001, 3))
    );
    assert_eq!(
        assignment.canvas(2).map(|c| (c.ssrc, c.media_entry_id)),
        Some((3002, 4))
    );
    assert_eq!(events.len(), 2);
    assert_eq!(call.session.assignment(), Some(assignment));

    // The same assignment again is no news; no layout is ever re-sent.
    call.recv(VideoAssignment, ASSIGNMENT, 800);
    assert!(call.events().is_empty());
    assert!(call.transmits().is_empty());
    // Joined with no stats configured: no timer at all.
    assert_eq!(call.session.poll_timeout(), None);
}

#[test]
fn joined_before_the_channels_open_sends_the_assignment_when_they_do() {
    let mut call = Call::new(SessionSettings::default());
    call.recv(SessionControl, JOINED, 100);
    assert_eq!(call.events(), [SessionEvent::Joined]);
    assert!(call.transmits().is_empty());
    call.session.channels_open(call.at(300));
    assert_eq!(
        call.transmits(),
        [(VideoAssignment, one_plus_seven(1, "tcn-1+7-1", 8))]
    );
    call.session.channels_open(call.at(400));
    assert!(call.transmits().is_empty());
}

#[test]
fn the_canvas_count_is_a_setting() {
    let call = &mut Call::new(SessionSettings {
        video_canvases: 3,
        ..SessionSettings::default()
    });
    call.session.channels_open(call.t0);
    call.recv(SessionControl, JOINED, 0);
    assert_eq!(
        call.transmits(),
        [(VideoAssignment, one_plus_seven(1, "tcn-1+7-1", 3))]
    );
}

#[test]
fn waiting_then_admitted() {
    let mut call = Call::open();
    assert_eq!(
        call.next_timer_ms(),
        Some(35_000),
        "lobby 30 s + margin 5 s"
    );
    call.recv(SessionControl, WAITING, 200);
    assert_eq!(call.events(), [SessionEvent::Waiting]);
    assert_eq!(call.session.state(), &SessionState::Waiting);
    assert!(call.transmits().is_empty(), "no layout while in the lobby");
    assert_eq!(call.next_timer_ms(), Some(35_000), "the join timer runs on");

    call.recv(SessionControl, JOINED, 12_000);
    assert_eq!(call.events(), [SessionEvent::Joined]);
    assert_eq!(
        call.transmits(),
        [(VideoAssignment, one_plus_seven(1, "tcn-1+7-1", 8))]
    );
    assert_eq!(call.session.poll_timeout(), None, "the join timer stopped");
    call.timeout(35_000);
    assert_eq!(call.session.state(), &SessionState::Joined);
    assert!(call.events().is_empty());
}

// ---- refusals before join (SIP final responses) --------------------------------------------

#[test]
fn lobby_timeout_reported_by_the_server_is_408() {
    let mut call = Call::open();
    call.recv(SessionControl, WAITING, 100);
    call.recv(
        SessionControl,
        &disconnected("x-REASON_ADMISSION_TIMEOUT"),
        30_100,
    );
    let outcome = SessionOutcome::AdmissionTimeout {
        status: LobbyTimeoutStatus::RequestTimeout,
    };
    assert_eq!(
        call.events(),
        [
            SessionEvent::Waiting,
            SessionEvent::Disconnected {
                outcome,
                after_join: false
            }
        ]
    );
    assert_eq!(call.session.outcome(), Some(outcome));
    assert_eq!(outcome.sip_status(), 408);
    assert_eq!(outcome.sip_ending(false), SipEnding::Reject { status: 408 });
    // "answered slate" lobby mode: a BYE carrying Reason: SIP;cause=408 (§5.a).
    assert_eq!(
        outcome.sip_ending(true),
        bye(r#"SIP;cause=408;text="Admission timed out""#)
    );
    assert_eq!(outcome.label(), "admission_timeout");
    assert!(call.transmits().is_empty(), "the server ended it: no leave");
    assert_eq!(call.session.poll_timeout(), None);
}

#[test]
fn lobby_timeout_by_the_join_timer_is_408_after_35_s() {
    let mut call = Call::open();
    call.recv(SessionControl, WAITING, 100);
    call.events();
    call.timeout(34_999);
    assert_eq!(call.session.state(), &SessionState::Waiting);
    assert!(call.events().is_empty());

    call.timeout(35_000);
    assert_eq!(
        call.transmits(),
        [leave_request(1)],
        "leave before JOINED: sent, not awaited"
    );
    let outcome = SessionOutcome::AdmissionTimeout {
        status: LobbyTimeoutStatus::RequestTimeout,
    };
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome,
            after_join: false
        }]
    );
    assert_eq!(call.session.state(), &SessionState::Disconnected(outcome));
    assert_eq!(outcome.sip_status(), 408);
    assert_eq!(call.session.poll_timeout(), None);
}

#[test]
fn lobby_timeout_status_and_length_are_settings() {
    let mut call = Call::new(SessionSettings {
        lobby_timeout: Duration::from_secs(60),
        lobby_timeout_status: LobbyTimeoutStatus::TemporarilyUnavailable,
        ..SessionSettings::default()
    });
    call.recv(SessionControl, WAITING, 0);
    assert_eq!(call.next_timer_ms(), Some(65_000));
    call.timeout(65_000);
    let events = call.events();
    let Some(SessionEvent::Disconnected { outcome, .. }) = events.last() else {
        panic!("expected the end, got {events:?}");
    };
    assert_eq!(outcome.sip_status(), 480);
    assert_eq!(
        outcome.reason_header(),
        r#"SIP;cause=480;text="Admission timed out""#
    );
    assert!(
        call.transmits().is_empty(),
        "channels never opened: nothing to send leave on"
    );

    // The server's x-REASON_ADMISSION_TIMEOUT follows the same setting.
    let mut call = Call::new(SessionSettings {
        lobby_timeout_status: LobbyTimeoutStatus::TemporarilyUnavailable,
        ..SessionSettings::default()
    });
    call.recv(
        SessionControl,
        &disconnected("x-REASON_ADMISSION_TIMEOUT"),
        0,
    );
    assert_eq!(call.session.outcome().map(|o| o.sip_status()), Some(480));
}

#[test]
fn no_session_status_at_all_is_a_join_timeout_503() {
    let mut call = Call::open();
    call.timeout(35_000);
    assert_eq!(call.transmits(), [leave_request(1)]);
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::JoinTimeout,
            after_join: false
        }]
    );
    assert_eq!(SessionOutcome::JoinTimeout.sip_status(), 503);
}

#[test]
fn admission_denied_is_403() {
    let mut call = Call::open();
    call.recv(SessionControl, WAITING, 0);
    call.recv(
        SessionControl,
        &disconnected("x-REASON_ADMISSION_DENIED"),
        9_000,
    );
    let events = call.events();
    assert_eq!(
        events.last(),
        Some(&SessionEvent::Disconnected {
            outcome: SessionOutcome::AdmissionDenied,
            after_join: false
        })
    );
    assert_eq!(
        SessionOutcome::AdmissionDenied.sip_ending(false),
        SipEnding::Reject { status: 403 }
    );
    assert_eq!(
        SessionOutcome::AdmissionDenied.sip_ending(true),
        bye(r#"SIP;cause=403;text="Admission denied""#)
    );
}

#[test]
fn video_locked_at_connect_is_480() {
    // meet-sim rejects connectGateway with 412/FAILED_PRECONDITION, reason VIDEO_LOCKED (§5.b).
    let body = br#"{"error":{"code":412,"message":"video is locked","status":"FAILED_PRECONDITION",
        "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"VIDEO_LOCKED","domain":"meet-sim"}]}}"#;
    let failure = ConnectFailure::from_error_body(412, body);
    assert_eq!(
        failure,
        ConnectFailure {
            http_status: Some(412),
            status: Some("FAILED_PRECONDITION".into()),
            reason: Some("VIDEO_LOCKED".into()),
        }
    );
    let mut call = Call::new(SessionSettings::default());
    call.session.connect_failed(&failure, call.at(800));
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::VideoLocked,
            after_join: false
        }]
    );
    assert!(call.transmits().is_empty());
    assert_eq!(call.session.poll_timeout(), None);
    let outcome = call.session.outcome().expect("ended");
    assert_eq!(outcome.sip_status(), 480);
    assert_eq!(outcome.sip_ending(false), SipEnding::Reject { status: 480 });
    assert_eq!(outcome.label(), "video_locked");
}

#[test]
fn connector_failures_map_to_the_table_codes() {
    let error = |http: u16, status: &str, reason: Option<&str>| {
        let details: Vec<Value> = reason
            .map(|r| {
                json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": r,
                       "domain": "meet-sim"})
            })
            .into_iter()
            .collect();
        let body = json!({"error": {"code": http, "message": "m", "status": status,
                                    "details": details}});
        ConnectFailure::from_error_body(http, body.to_string().as_bytes())
    };
    let cases = [
        (error(404, "NOT_FOUND", None), 404, "not_found"),
        (
            error(412, "FAILED_PRECONDITION", Some("NO_ACTIVE_CONFERENCE")),
            404,
            "not_found",
        ),
        (error(401, "UNAUTHENTICATED", None), 403, "unauthenticated"),
        (
            error(403, "PERMISSION_DENIED", Some("CONSENTER_ABSENT")),
            403,
            "permission_denied",
        ),
        (
            error(412, "FAILED_PRECONDITION", Some("VIDEO_LOCKED")),
            480,
            "video_locked",
        ),
        (
            error(412, "FAILED_PRECONDITION", Some("AUDIO_LOCKED")),
            480,
            "audio_locked",
        ),
        (error(429, "RESOURCE_EXHAUSTED", None), 486, "busy"),
        (
            error(429, "RESOURCE_EXHAUSTED", Some("CONNECTIONS_EXHAUSTED")),
            486,
            "busy",
        ),
        (
            error(400, "INVALID_ARGUMENT", Some("INVALID_OFFER")),
            488,
            "offer_rejected",
        ),
        (error(500, "INTERNAL", None), 503, "unavailable"),
        (error(503, "UNAVAILABLE", None), 503, "unavailable"),
        (
            error(412, "FAILED_PRECONDITION", Some("SOMETHING_NEW")),
            503,
            "unavailable",
        ),
        // No Google-style body: the HTTP status decides.
        (
            ConnectFailure::from_error_body(404, b"<html>not found</html>"),
            404,
            "not_found",
        ),
        (
            ConnectFailure::from_error_body(401, b""),
            403,
            "unauthenticated",
        ),
        (
            ConnectFailure::from_error_body(502, b"bad gateway"),
            503,
            "unavailable",
        ),
        (ConnectFailure::transport(), 503, "unavailable"),
    ];
    for (failure, status, label) in cases {
        let outcome = failure.outcome();
        assert_eq!(
            (outcome.sip_status(), outcome.label()),
            (status, label),
            "{failure:?}"
        );
        assert_eq!(SessionOutcome::from(&failure), outcome);
    }
    assert!(
        error(401, "UNAUTHENTICATED", None)
            .outcome()
            .is_config_error()
    );
    assert!(
        error(403, "PERMISSION_DENIED", None)
            .outcome()
            .is_config_error()
    );
    assert!(!error(404, "NOT_FOUND", None).outcome().is_config_error());
}

// ---- ends after join (BYE with Reason) ------------------------------------------------------

#[test]
fn disconnects_after_join_are_a_bye_with_the_documented_reason() {
    let cases = [
        (
            disconnected("REASON_CONFERENCE_ENDED"),
            SessionOutcome::ConferenceEnded,
            r#"SIP;cause=200;text="Conference ended""#,
        ),
        (
            disconnected("x-REASON_KICKED"),
            SessionOutcome::Kicked,
            r#"SIP;cause=403;text="Removed by host""#,
        ),
        (
            // meet-sim's kick: a Media API reason plus the x-reason detail (§5.b).
            r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED",
                "disconnectReason":"REASON_SESSION_UNHEALTHY","x-reason":"KICKED"}}]}"#
                .to_owned(),
            SessionOutcome::Kicked,
            r#"SIP;cause=403;text="Removed by host""#,
        ),
        (
            disconnected("x-REASON_VIDEO_LOCKED"),
            SessionOutcome::VideoLocked,
            r#"SIP;cause=480;text="Call rejected""#,
        ),
        (
            disconnected("REASON_USER_STOPPED"),
            SessionOutcome::UserStopped,
            r#"SIP;cause=200;text="Stopped by a participant""#,
        ),
        (
            disconnected("REASON_SESSION_UNHEALTHY"),
            SessionOutcome::SessionUnhealthy,
            r#"SIP;cause=503;text="Meet session failed""#,
        ),
        (
            disconnected("REASON_SOMETHING_NEW"),
            SessionOutcome::SessionUnhealthy,
            r#"SIP;cause=503;text="Meet session failed""#,
        ),
        (
            r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED"}}]}"#
                .to_owned(),
            SessionOutcome::SessionUnhealthy,
            r#"SIP;cause=503;text="Meet session failed""#,
        ),
    ];
    for (message, outcome, reason) in cases {
        let mut call = Call::joined();
        call.recv(SessionControl, &message, 60_000);
        assert_eq!(
            call.events(),
            [SessionEvent::Disconnected {
                outcome,
                after_join: true
            }],
            "{message}"
        );
        assert!(call.transmits().is_empty(), "the server ended it: no leave");
        assert_eq!(call.session.poll_timeout(), None);
        assert_eq!(outcome.sip_ending(true), bye(reason));
        assert_eq!(outcome.reason_header(), reason);
    }
}

#[test]
fn video_lock_mid_call_is_only_reported_by_default() {
    let mut call = Call::joined();
    call.recv(XConference, CONFERENCE_STATE, 100);
    call.events();
    call.recv(
        XConference,
        &conference(false, true, "NO_RESTRICTION"),
        5_000,
    );
    let events = call.events();
    let [SessionEvent::ConferenceStateChanged(state)] = events.as_slice() else {
        panic!("expected the new conference state, got {events:?}");
    };
    assert!(state.video_lock);
    assert_eq!(call.session.state(), &SessionState::Joined);
    assert!(call.transmits().is_empty());
}

#[test]
fn video_lock_mid_call_leaves_when_the_node_cannot_honour_it() {
    let mut call = Call::joined_with(SessionSettings {
        leave_on_video_lock: true,
        ..SessionSettings::default()
    });
    call.recv(XConference, CONFERENCE_STATE, 100);
    call.events();
    call.recv(
        XConference,
        &conference(false, true, "NO_RESTRICTION"),
        5_000,
    );
    assert!(matches!(
        call.events().as_slice(),
        [SessionEvent::ConferenceStateChanged(s)] if s.video_lock
    ));
    assert_eq!(call.transmits(), [leave_request(1)]);
    assert_eq!(
        call.session.state(),
        &SessionState::Leaving(SessionOutcome::VideoLocked)
    );
    // The server answers the leave with REASON_CLIENT_LEFT; the outcome stays the lock.
    call.recv(SessionControl, LEAVE_ANSWER, 5_100);
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::VideoLocked,
            after_join: true
        }]
    );
    assert_eq!(
        SessionOutcome::VideoLocked.sip_ending(true),
        bye(r#"SIP;cause=480;text="Call rejected""#)
    );
}

#[test]
fn transport_failure_after_join_is_a_bye_with_503() {
    let mut call = Call::joined();
    call.session.transport_failed(call.at(9_000));
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::Unavailable,
            after_join: true
        }]
    );
    assert!(call.transmits().is_empty());
    assert_eq!(
        SessionOutcome::Unavailable.sip_ending(true),
        bye(r#"SIP;cause=503;text="Meet unavailable""#)
    );
}

// ---- leaving -------------------------------------------------------------------------------

#[test]
fn leave_when_joined_waits_for_disconnected() {
    let mut call = Call::joined();
    call.session.leave(call.at(60_000));
    assert_eq!(call.transmits(), [leave_request(1)]);
    assert_eq!(
        call.session.state(),
        &SessionState::Leaving(SessionOutcome::Left)
    );
    assert_eq!(call.next_timer_ms(), Some(62_000));
    assert!(call.events().is_empty());
    // A second leave does nothing.
    call.session.leave(call.at(60_500));
    assert!(call.transmits().is_empty());

    call.recv(SessionControl, LEAVE_ANSWER, 60_300);
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::Left,
            after_join: true
        }]
    );
    assert_eq!(call.session.poll_timeout(), None);
    assert_eq!(
        SessionOutcome::Left.sip_ending(true),
        bye(r#"SIP;cause=200;text="Call completed""#)
    );
}

#[test]
fn leave_gives_up_waiting_after_2_s() {
    let mut call = Call::joined();
    call.session.leave(call.at(60_000));
    call.transmits();
    call.timeout(61_999);
    assert_eq!(
        call.session.state(),
        &SessionState::Leaving(SessionOutcome::Left)
    );
    call.timeout(62_000);
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::Left,
            after_join: true
        }]
    );
    // The answer arriving late is ignored.
    call.recv(SessionControl, LEAVE_ANSWER, 62_100);
    assert!(call.events().is_empty());
}

#[test]
fn leave_before_join_ends_at_once() {
    let mut call = Call::open();
    call.recv(SessionControl, WAITING, 0);
    call.events();
    call.session.leave(call.at(3_000));
    assert_eq!(call.transmits(), [leave_request(1)]);
    assert_eq!(
        call.events(),
        [SessionEvent::Disconnected {
            outcome: SessionOutcome::Left,
            after_join: false
        }]
    );
    assert_eq!(
        SessionOutcome::Left.sip_ending(false),
        SipEnding::Reject { status: 487 }
    );
    assert_eq!(call.session.poll_timeout(), None);
}

// ---- media stats ---------------------------------------------------------------------------

fn section(json: Value) -> MediaStatsSection {
    serde_json::from_value(json).expect("a stats section")
}

#[test]
fn stats_uploads_come_at_the_configured_interval_and_stop_after_disconnect() {
    let mut call = Call::joined();
    call.recv(MediaStats, STATS_CONFIGURATION, 1_000);
    let events = call.events();
    let [SessionEvent::StatsConfigured(configuration)] = events.as_slice() else {
        panic!("expected the configuration, got {events:?}");
    };
    assert_eq!(configuration.upload_interval_seconds, 10);
    assert_eq!(call.next_timer_ms(), Some(11_000));

    // C++-dialect stats with keys and a type outside the allowlist.
    call.session.set_stats(vec![
        section(json!({"id": "IT01V123", "inbound-rtp": {
            "ssrc": "123", "packetsLost": "0", "framesDecoded": "900", "jitter": "0.01"}})),
        section(json!({"id": "T01", "transport": {"bytesSent": "1000"}})),
    ]);
    call.timeout(10_999);
    assert!(call.transmits().is_empty());
    call.timeout(11_000);
    // The upload of §1.4, TS dialect, only the allowlisted keys.
    assert_eq!(
        call.transmits(),
        [(
            MediaStats,
            json!({"request":{"requestId":1,"uploadMediaStats":{"sections":[
                {"id":"IT01V123","inbound_rtp":{"ssrc":123,"packets_lost":0,"frames_decoded":900}}]}}})
        )]
    );
    assert_eq!(call.next_timer_ms(), Some(21_000));
    call.recv(
        MediaStats,
        r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"uploadMediaStats":{}}}"#,
        11_100,
    );
    assert!(
        call.events().is_empty(),
        "an upload's answer is not an event"
    );

    call.timeout(21_000);
    let sent = call.transmits();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["request"]["requestId"], 2);
    assert_eq!(call.next_timer_ms(), Some(31_000));

    // Woken late by more than an interval: one upload, then the cadence restarts from now.
    call.timeout(45_000);
    assert_eq!(call.transmits().len(), 1);
    assert_eq!(call.next_timer_ms(), Some(55_000));

    call.recv(
        SessionControl,
        &disconnected("REASON_CONFERENCE_ENDED"),
        50_000,
    );
    call.events();
    assert_eq!(call.session.poll_timeout(), None);
    call.timeout(55_000);
    call.timeout(100_000);
    assert!(call.transmits().is_empty(), "no upload after the end");
}

#[test]
fn stats_uploads_run_in_the_lobby_and_stop_while_leaving() {
    let mut call = Call::open();
    call.recv(MediaStats, STATS_CONFIGURATION, 0);
    call.recv(SessionControl, WAITING, 0);
    assert_eq!(
        call.next_timer_ms(),
        Some(10_000),
        "before the 35 s join timer"
    );
    call.timeout(10_000);
    let sent = call.transmits();
    assert_eq!(
        sent,
        [(
            MediaStats,
            json!({"request":{"requestId":1,"uploadMediaStats":{"sections":[]}}})
        )],
        "no stats set: an upload with no sections"
    );
    call.recv(SessionControl, JOINED, 12_000);
    call.transmits();
    call.session.leave(call.at(15_000));
    assert_eq!(call.transmits(), [leave_request(1)]);
    assert_eq!(call.next_timer_ms(), Some(17_000), "only the leave timer");
}

#[test]
fn stats_interval_zero_means_no_uploads() {
    let mut call = Call::joined();
    call.recv(
        MediaStats,
        r#"{"resources":[{"id":0,"configuration":{"uploadIntervalSeconds":0,"allowlist":{}}}]}"#,
        0,
    );
    assert_eq!(call.session.poll_timeout(), None);
    // A later configuration turns them on, counted from its arrival.
    call.recv(
        MediaStats,
        r#"{"resources":[{"id":0,"configuration":{"uploadIntervalSeconds":"1","allowlist":{}}}]}"#,
        4_500,
    );
    assert_eq!(call.next_timer_ms(), Some(5_500));
}

#[test]
fn stats_uploads_wait_for_the_channels() {
    let mut call = Call::new(SessionSettings::default());
    call.recv(MediaStats, STATS_CONFIGURATION, 0);
    assert_eq!(call.next_timer_ms(), Some(35_000), "only the join timer");
    call.session.channels_open(call.at(2_000));
    assert_eq!(call.next_timer_ms(), Some(12_000));
}

// ---- chat and conference state ------------------------------------------------------------

#[test]
fn chat_both_ways() {
    let mut call = Call::joined();
    call.recv(XChat, CHAT_MESSAGE, 1_000);
    let events = call.events();
    let [SessionEvent::ChatReceived { id: 88, message }] = events.as_slice() else {
        panic!("expected the chat message, got {events:?}");
    };
    assert_eq!(
        (
            message.participant_id,
            message.display_name.as_str(),
            message.text.as_str()
        ),
        (7, "Alice", "hello")
    );
    assert_eq!(message.create_time, "2026-01-01T00:00:00Z");

    assert_eq!(call.session.send_chat("hi", call.at(2_000)), Ok(1));
    assert_eq!(
        call.transmits(),
        [(
            XChat,
            json!({"request":{"requestId":1,"sendMessage":{"text":"hi"}}})
        )]
    );
    call.recv(
        XChat,
        r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"sendMessage":{}}}"#,
        2_100,
    );
    assert_eq!(
        call.events(),
        [SessionEvent::ChatDelivered { request_id: 1 }]
    );

    assert_eq!(call.session.send_chat("second", call.at(3_000)), Ok(2));
    call.transmits();
    call.recv(
        XChat,
        r#"{"response":{"requestId":2,"status":{"code":7,"message":"chat is restricted"},"sendMessage":{}}}"#,
        3_100,
    );
    assert_eq!(
        call.events(),
        [SessionEvent::ChatRefused {
            request_id: 2,
            status: Status::new(StatusCode::PERMISSION_DENIED, "chat is restricted")
        }]
    );
}

#[test]
fn chat_is_refused_locally_when_it_cannot_be_sent() {
    let mut call = Call::open();
    let now = call.at(0);
    assert_eq!(call.session.send_chat("hi", now), Err(ChatError::NotJoined));

    let mut call = Call::joined();
    let now = call.at(1_000);
    assert_eq!(call.session.send_chat("  ", now), Err(ChatError::Empty));
    let long = "é".repeat(501);
    assert_eq!(
        call.session.send_chat(&long, now),
        Err(ChatError::TooLong {
            chars: 501,
            max: 500
        })
    );
    assert_eq!(
        call.session.send_chat(&long[2..], now),
        Ok(1),
        "500 characters"
    );
    call.transmits();

    call.recv(XConference, &conference(false, false, "HOSTS_ONLY"), 2_000);
    assert_eq!(
        call.session.conference_state().map(|c| &c.chat_restriction),
        Some(&RestrictionType::HostsOnly)
    );
    assert_eq!(
        call.session.send_chat("hi", call.at(2_100)),
        Err(ChatError::Restricted)
    );
    call.recv(
        XConference,
        &conference(false, false, "NO_RESTRICTION"),
        3_000,
    );
    assert_eq!(call.session.send_chat("hi", call.at(3_100)), Ok(2));

    call.session.leave(call.at(4_000));
    assert_eq!(
        call.session.send_chat("hi", call.at(4_100)),
        Err(ChatError::NotJoined)
    );
}

#[test]
fn conference_state_is_reported_when_it_changes() {
    let mut call = Call::joined();
    call.recv(XConference, CONFERENCE_STATE, 100);
    let events = call.events();
    let [SessionEvent::ConferenceStateChanged(state)] = events.as_slice() else {
        panic!("expected the first conference state, got {events:?}");
    };
    assert!(!state.recording);
    call.recv(XConference, CONFERENCE_STATE, 200);
    assert!(call.events().is_empty(), "unchanged");

    call.recv(XConference, &conference(true, false, "NO_RESTRICTION"), 300);
    assert!(matches!(
        call.events().as_slice(),
        [SessionEvent::ConferenceStateChanged(s)] if s.recording
    ));
    call.recv(
        XConference,
        &conference(false, false, "NO_RESTRICTION"),
        400,
    );
    assert!(matches!(
        call.events().as_slice(),
        [SessionEvent::ConferenceStateChanged(s)] if !s.recording
    ));
}

// ---- roster and media entries --------------------------------------------------------------

#[test]
fn roster_and_media_entries_are_kept_and_reported_whole() {
    let mut call = Call::open();
    call.recv(Participants, PARTICIPANTS, 0);
    let events = call.events();
    let [SessionEvent::RosterChanged(roster)] = events.as_slice() else {
        panic!("expected the roster, got {events:?}");
    };
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].id, 7);
    assert_eq!(
        roster[0]
            .participant
            .as_ref()
            .and_then(|p| p.display_name()),
        Some("Alice")
    );
    // The same snapshot again (and the deletion of a participant never seen): no news.
    call.recv(Participants, PARTICIPANTS, 100);
    assert!(call.events().is_empty());
    call.recv(
        Participants,
        r#"{"deletedResources":[{"id":7,"participant":true}]}"#,
        200,
    );
    assert_eq!(call.events(), [SessionEvent::RosterChanged(vec![])]);
    assert_eq!(call.session.roster().count(), 0);

    call.recv(MediaEntries, MEDIA_ENTRY, 300);
    assert!(matches!(
        call.events().as_slice(),
        [SessionEvent::MediaEntriesChanged(entries)] if entries.len() == 1 && entries[0].id == 3
    ));
    assert_eq!(
        call.session.media_entry_for_csrc(22222).map(|(id, _)| id),
        Some(3)
    );
    assert_eq!(
        call.session.media_entry_for_csrc(11111).map(|(id, _)| id),
        Some(3)
    );
    assert!(call.session.media_entry_for_csrc(42).is_none());
    call.recv(MediaEntries, MEDIA_ENTRY_DELETED, 400);
    assert_eq!(call.events(), [SessionEvent::MediaEntriesChanged(vec![])]);
}

// ---- request ids and what is ignored -------------------------------------------------------

#[test]
fn responses_are_matched_to_requests_by_channel_and_id() {
    let mut call = Call::joined(); // setAssignment went out as video-assignment request 1
    let refused = r#"{"response":{"requestId":1,"status":{"code":3,"message":"too many canvases"},"setAssignment":{}}}"#;
    // The right id on the wrong channel, and the wrong id on the right channel: ignored.
    call.recv(XChat, refused, 100);
    call.recv(
        VideoAssignment,
        r#"{"response":{"requestId":2,"status":{"code":0,"message":"OK"},"setAssignment":{}}}"#,
        100,
    );
    assert!(call.events().is_empty());
    // Numbers may come as strings (proto3 JSON).
    call.recv(
        VideoAssignment,
        &refused.replace(r#""requestId":1"#, r#""requestId":"1""#),
        200,
    );
    assert_eq!(
        call.events(),
        [SessionEvent::AssignmentRefused {
            request_id: 1,
            label: "tcn-1+7-1".into(),
            status: Status::new(StatusCode::INVALID_ARGUMENT, "too many canvases")
        }]
    );
    // Answered once: the same answer again is ignored.
    call.recv(VideoAssignment, refused, 300);
    assert!(call.events().is_empty());

    // Each channel counts its own ids.
    assert_eq!(call.session.send_chat("a", call.at(400)), Ok(1));
    assert_eq!(call.session.send_chat("b", call.at(400)), Ok(2));
    call.session.leave(call.at(500));
    let sent = call.transmits();
    assert_eq!(sent.last(), Some(&leave_request(1)));
    // An answer to a leave we did not send does not end the wait.
    call.recv(
        SessionControl,
        r#"{"response":{"requestId":5,"status":{"code":0,"message":"OK"},"leave":{}}}"#,
        600,
    );
    assert_eq!(
        call.session.state(),
        &SessionState::Leaving(SessionOutcome::Left)
    );
    call.recv(
        SessionControl,
        r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"leave":{}}}"#,
        700,
    );
    assert_eq!(call.session.outcome(), Some(SessionOutcome::Left));
}

#[test]
fn unknown_and_malformed_messages_are_ignored() {
    let mut call = Call::joined();
    let ignored: [(DataChannel, &str); 9] = [
        (SessionControl, "{}"),
        (
            SessionControl,
            r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_SOMETHING_NEW"}}]}"#,
        ),
        (SessionControl, WAITING), // no way back from joined to the lobby
        (SessionControl, r#"{"request":{"requestId":1,"leave":{}}}"#), // a client's message
        (
            Participants,
            r#"{"resources":[{"id":1,"somethingElse":{}}],"newField":true}"#,
        ),
        (MediaStats, r#"{"resources":[{"id":0}]}"#),
        (
            VideoAssignment,
            r#"{"response":{"requestId":99,"newKind":{}}}"#,
        ),
        (XConference, r#"{"resources":[{"id":0}]}"#),
        (
            XChat,
            r#"{"resources":[{"id":5,"reaction":{"emoji":"x"}}]}"#,
        ),
    ];
    for (channel, message) in ignored {
        call.recv(channel, message, 1_000);
        assert!(call.events().is_empty(), "{channel}: {message}");
        assert!(call.transmits().is_empty(), "{channel}: {message}");
        assert_eq!(call.session.state(), &SessionState::Joined);
    }

    let error = call
        .session
        .handle_message(SessionControl, "not json", call.at(2_000))
        .expect_err("malformed");
    assert_eq!(error.channel, SessionControl);
    assert!(
        error
            .to_string()
            .starts_with("malformed session-control message: "),
        "{error}"
    );
    assert!(
        call.session
            .handle_message(Participants, b"[1,2]", call.at(2_000))
            .is_err()
    );
    assert!(call.events().is_empty());
    assert_eq!(call.session.state(), &SessionState::Joined);

    // After the end, everything is ignored, even what would not parse.
    call.recv(
        SessionControl,
        &disconnected("REASON_CONFERENCE_ENDED"),
        3_000,
    );
    call.events();
    for (channel, message) in [
        (Participants, PARTICIPANTS),
        (XChat, CHAT_MESSAGE),
        (SessionControl, JOINED),
        (SessionControl, "not json"),
    ] {
        assert!(
            call.session
                .handle_message(channel, message, call.at(4_000))
                .is_ok()
        );
    }
    assert!(call.events().is_empty());
    assert_eq!(
        call.session.outcome(),
        Some(SessionOutcome::ConferenceEnded)
    );
}

// ---- the outcome table ---------------------------------------------------------------------

#[test]
fn every_outcome_has_its_sip_status_reason_and_label() {
    let timeout_408 = SessionOutcome::AdmissionTimeout {
        status: LobbyTimeoutStatus::RequestTimeout,
    };
    let timeout_480 = SessionOutcome::AdmissionTimeout {
        status: LobbyTimeoutStatus::TemporarilyUnavailable,
    };
    let table = [
        (
            SessionOutcome::NotFound,
            404,
            r#"SIP;cause=404;text="Conference not found""#,
            "not_found",
        ),
        (
            SessionOutcome::Unauthenticated,
            403,
            r#"SIP;cause=403;text="Gateway authentication failed""#,
            "unauthenticated",
        ),
        (
            SessionOutcome::PermissionDenied,
            403,
            r#"SIP;cause=403;text="Gateway not permitted""#,
            "permission_denied",
        ),
        (
            SessionOutcome::VideoLocked,
            480,
            r#"SIP;cause=480;text="Call rejected""#,
            "video_locked",
        ),
        (
            SessionOutcome::AudioLocked,
            480,
            r#"SIP;cause=480;text="Audio locked by host""#,
            "audio_locked",
        ),
        (
            SessionOutcome::AdmissionDenied,
            403,
            r#"SIP;cause=403;text="Admission denied""#,
            "admission_denied",
        ),
        (
            timeout_408,
            408,
            r#"SIP;cause=408;text="Admission timed out""#,
            "admission_timeout",
        ),
        (
            timeout_480,
            480,
            r#"SIP;cause=480;text="Admission timed out""#,
            "admission_timeout",
        ),
        (
            SessionOutcome::Busy,
            486,
            r#"SIP;cause=486;text="Conference full""#,
            "busy",
        ),
        (
            SessionOutcome::OfferRejected,
            488,
            r#"SIP;cause=488;text="Media offer not acceptable""#,
            "offer_rejected",
        ),
        (
            SessionOutcome::Unavailable,
            503,
            r#"SIP;cause=503;text="Meet unavailable""#,
            "unavailable",
        ),
        (
            SessionOutcome::JoinTimeout,
            503,
            r#"SIP;cause=503;text="Meet join timed out""#,
            "join_timeout",
        ),
        (
            SessionOutcome::SessionUnhealthy,
            503,
            r#"SIP;cause=503;text="Meet session failed""#,
            "session_unhealthy",
        ),
        (
            SessionOutcome::Kicked,
            403,
            r#"SIP;cause=403;text="Removed by host""#,
            "kicked",
        ),
        (
            SessionOutcome::ConferenceEnded,
            404,
            r#"SIP;cause=200;text="Conference ended""#,
            "conference_ended",
        ),
        (
            SessionOutcome::UserStopped,
            480,
            r#"SIP;cause=200;text="Stopped by a participant""#,
            "user_stopped",
        ),
        (
            SessionOutcome::Left,
            487,
            r#"SIP;cause=200;text="Call completed""#,
            "left",
        ),
    ];
    for (outcome, status, reason, label) in table {
        assert_eq!(outcome.sip_status(), status, "{outcome:?}");
        assert_eq!(outcome.reason_header(), reason, "{outcome:?}");
        assert_eq!(outcome.label(), label, "{outcome:?}");
        assert_eq!(outcome.to_string(), label);
        assert_eq!(outcome.sip_ending(false), SipEnding::Reject { status });
        assert_eq!(outcome.sip_ending(true), bye(reason));
        assert_eq!(
            outcome.is_normal_end(),
            outcome.reason_cause() == 200,
            "{outcome:?}"
        );
    }
}

#[test]
fn settings_defaults_are_the_documented_numbers() {
    let settings = SessionSettings::default();
    assert_eq!(settings.lobby_timeout, Duration::from_secs(30));
    assert_eq!(settings.join_timeout_margin, Duration::from_secs(5));
    assert_eq!(settings.join_timeout(), Duration::from_secs(35));
    assert_eq!(settings.lobby_timeout_status.code(), 408);
    assert_eq!(settings.leave_timeout, Duration::from_secs(2));
    assert_eq!(settings.video_canvases, 8);
    assert!(!settings.leave_on_video_lock);
    assert_eq!(settings.chat_max_chars, 500);
    let clamped = |video_canvases| {
        SessionSettings {
            video_canvases,
            ..SessionSettings::default()
        }
        .canvas_count()
    };
    assert_eq!((clamped(0), clamped(3), clamped(12)), (1, 3, 8));
}

// ---- sans-IO -------------------------------------------------------------------------------

/// The session module never reads the clock or does I/O (style.md §0, 1). meet's
/// `clippy.toml` forbids reading the clock in the whole crate; this also keeps runtimes,
/// sockets, threads and files out of the source of `meet/src/session/` (comments, where the
/// driving-loop example shows the node's clock, are skipped).
#[test]
fn the_session_module_reads_no_clock_and_does_no_io() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/session");
    let forbidden = [
        "Instant::now",
        "SystemTime::now",
        "tokio",
        "std::net",
        "std::thread",
        "std::fs",
        "std::io",
    ];
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("meet/src/session") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let source = std::fs::read_to_string(&path).expect("readable source");
        for (n, line) in source.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for word in forbidden {
                assert!(
                    !code.contains(word),
                    "{}:{}: `{word}` in the sans-IO session module",
                    path.display(),
                    n + 1
                );
            }
        }
    }
    assert!(
        files >= 5,
        "found only {files} source files in {}",
        dir.display()
    );
}
