//! The data-channel message types against the shapes in meet-side.md §1.4 and §5.b: every
//! example message in that note parses (copied verbatim below), survives a round trip, and
//! where tcn writes the same shape, re-encodes to the same JSON; integers are read from
//! numbers and strings and written as numbers; unknown fields and enum values do not break
//! parsing; the 1+7 layout request has the right canvases.

use std::fmt::Debug;

use meet::protocol::media_entries::{DeletedMediaEntry, MediaEntriesToClient};
use meet::protocol::media_stats::{
    MediaStatsConfiguration, MediaStatsFromClient, MediaStatsSection, MediaStatsToClient,
};
use meet::protocol::participants::{GatewayProtocol, ParticipantUser, ParticipantsToClient};
use meet::protocol::session_control::{
    ConnectionState, DisconnectReason, SessionControlFromClient, SessionControlToClient,
    SessionStatus,
};
use meet::protocol::video_assignment::{
    AssignmentProtocol, CanvasDimensions, MAIN_CANVAS_ID, SMALL_CANVAS_IDS, SetAssignment,
    VideoAssignmentFromClient, VideoAssignmentToClient, VideoResolution,
};
use meet::protocol::x_chat::{XChatFromClient, XChatToClient};
use meet::protocol::x_conference::{ConferenceState, RestrictionType, XConferenceToClient};
use meet::protocol::{DataChannel, RequestIdGenerator, Status, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---- the examples of meet-side.md, verbatim ----------------------------------------------

// §1.4 session-control
const SC_LEAVE: &str = r#"{"request":{"requestId":1,"leave":{}}}"#;
const SC_WAITING: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_WAITING"}}]}"#;
const SC_JOINED: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_JOINED"}}]}"#;
const SC_LEAVE_ANSWER: &str = r#"{"response":{"requestId":1,"status":{"code":0,"message":"OK"},"leave":{}},
 "resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED","disconnectReason":"REASON_CLIENT_LEFT"}}]}"#;

// §1.4 media-stats
const MS_CONFIGURATION: &str = r#"{"resources":[{"id":0,"configuration":{"uploadIntervalSeconds":10,
  "allowlist":{"inbound-rtp":{"keys":["ssrc","packetsLost","framesDecoded"]},
               "codec":{"keys":["mimeType","payloadType"]}}}}]}"#;
const MS_UPLOAD: &str = r#"{"request":{"requestId":5,"uploadMediaStats":{"sections":[
  {"id":"IT01V123","inbound_rtp":{"ssrc":123,"packets_lost":0,"frames_decoded":900}}]}}}"#;
const MS_UPLOAD_ANSWER: &str =
    r#"{"response":{"requestId":5,"status":{"code":0,"message":"OK"},"uploadMediaStats":{}}}"#;

// §1.4 participants
const PARTICIPANTS: &str = r#"{"resources":[{"id":7,"participant":{"participantId":7,
   "participantKey":"participants/abc","name":"conferenceRecords/x/participants/abc",
   "signedInUser":{"user":"users/123","displayName":"Alice"}}}],
 "deletedResources":[{"id":9,"participant":true}]}"#;

// §1.4 media-entries
const MEDIA_ENTRIES: &str = r#"{"resources":[{"id":3,"mediaEntry":{"participant":"conferenceRecords/x/participants/abc",
   "participantKey":"participants/abc",
   "session":"conferenceRecords/x/participants/abc/participantSessions/s1",
   "sessionName":"participants/abc/participantSessions/s1",
   "audioCsrc":11111,"videoCsrcs":[22222],
   "presenter":false,"screenshare":false,"audioMuted":false,"videoMuted":false}}],
 "deletedResources":[{"id":3,"mediaEntry":true}]}"#;

// §1.4 video-assignment
const VA_SET: &str = r#"{"request":{"requestId":2,"setAssignment":{
   "layoutModel":{"label":"1700000000000","canvases":[
      {"id":1,"dimensions":{"height":720,"width":1280},"relevant":{}},
      {"id":2,"dimensions":{"height":180,"width":320},"relevant":{}}]},
   "maxVideoResolution":{"height":1080,"width":1920,"frameRate":30}}}}"#;
const VA_SET_ANSWER: &str =
    r#"{"response":{"requestId":2,"status":{"code":0,"message":"OK"},"setAssignment":{}}}"#;
const VA_ASSIGNMENT: &str = r#"{"resources":[{"videoAssignment":{"label":"1700000000000","canvases":[
   {"canvasId":1,"ssrc":3001,"mediaEntryId":3},{"canvasId":2,"ssrc":3002,"mediaEntryId":4}]}}]}"#;

// §5.b x-conference
const XC_STATE: &str = r#"{"resources":[{"conferenceState":{"recording":false,"transcribing":false,
  "videoLock":false,"audioLock":false,"chatRestriction":"NO_RESTRICTION",
  "presentRestriction":"NO_RESTRICTION"}}]}"#;

// §5.b x-chat
const CHAT_SEND: &str = r#"{"request":{"requestId":4,"sendMessage":{"text":"hi"}}}"#;
const CHAT_SEND_ANSWER: &str =
    r#"{"response":{"requestId":4,"status":{"code":0,"message":"OK"},"sendMessage":{}}}"#;
const CHAT_MESSAGE: &str = r#"{"resources":[{"id":88,"chatMessage":{"participantId":7,"displayName":"Alice",
  "text":"hello","createTime":"2026-01-01T00:00:00Z"}}]}"#;

// ---- helpers --------------------------------------------------------------------------------

fn parse<T: DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("does not parse: {e}\n{text}"))
}

/// Serialise, parse back, and require the same value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let text = serde_json::to_string(value).expect("serialises");
    let back: T = parse(&text);
    assert_eq!(&back, value, "round trip through {text}");
}

/// Parse a doc example, round-trip it, and return it.
fn example<T: Serialize + DeserializeOwned + PartialEq + Debug>(text: &str) -> T {
    let value: T = parse(text);
    round_trip(&value);
    value
}

/// The example re-encodes to the same JSON (as a value: key order and spacing aside).
fn reencodes_same<T: Serialize + DeserializeOwned>(text: &str) {
    let value: T = parse(text);
    let expected: Value = parse(text);
    assert_eq!(serde_json::to_value(&value).unwrap(), expected, "{text}");
}

// ---- session-control ------------------------------------------------------------------------

#[test]
fn session_control_examples() {
    let leave: SessionControlFromClient = example(SC_LEAVE);
    assert_eq!(leave, SessionControlFromClient::leave(1));
    assert_eq!(serde_json::to_string(&leave).unwrap(), SC_LEAVE);

    let waiting: SessionControlToClient = example(SC_WAITING);
    assert_eq!(waiting.response, None);
    assert_eq!(waiting.session_status(), Some(&SessionStatus::waiting()));
    assert_eq!(waiting.resources[0].id, 0, "absent singleton id reads as 0");

    let joined: SessionControlToClient = example(SC_JOINED);
    assert_eq!(
        joined.session_status().unwrap().connection_state,
        Some(ConnectionState::Joined)
    );

    let answer: SessionControlToClient = example(SC_LEAVE_ANSWER);
    let response = answer.response.as_ref().unwrap();
    assert_eq!(response.request_id, 1);
    assert!(response.is_ok());
    assert!(response.payload.leave.is_some());
    assert_eq!(
        answer.session_status(),
        Some(&SessionStatus::disconnected(DisconnectReason::ClientLeft))
    );
    assert_eq!(
        answer,
        SessionControlToClient::leave_answer(1, Status::ok())
    );
}

#[test]
fn session_control_extension_reasons() {
    for (wire, reason) in [
        (
            "x-REASON_ADMISSION_DENIED",
            DisconnectReason::XAdmissionDenied,
        ),
        (
            "x-REASON_ADMISSION_TIMEOUT",
            DisconnectReason::XAdmissionTimeout,
        ),
        ("x-REASON_VIDEO_LOCKED", DisconnectReason::XVideoLocked),
        ("x-REASON_KICKED", DisconnectReason::XKicked),
    ] {
        let text = format!(
            r#"{{"resources":[{{"sessionStatus":{{"connectionState":"STATE_DISCONNECTED","disconnectReason":"{wire}"}}}}]}}"#
        );
        let msg: SessionControlToClient = example(&text);
        let status = msg.session_status().unwrap();
        assert_eq!(status.disconnect_reason.as_ref(), Some(&reason));
        assert!(reason.is_extension());
        assert_eq!(
            reason.media_api_equivalent(),
            DisconnectReason::SessionUnhealthy
        );
        assert_eq!(status.gateway_reason(), Some(reason));
    }
    assert_eq!(
        DisconnectReason::ConferenceEnded.media_api_equivalent(),
        DisconnectReason::ConferenceEnded
    );

    // The other spelling of a kick in §5.b: a Media API reason plus an "x-reason" detail.
    let kicked: SessionControlToClient = example(
        r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED",
            "disconnectReason":"REASON_SESSION_UNHEALTHY","x-reason":"KICKED"}}]}"#,
    );
    let status = kicked.session_status().unwrap();
    assert_eq!(
        status.disconnect_reason,
        Some(DisconnectReason::SessionUnhealthy)
    );
    assert_eq!(status.x_reason.as_deref(), Some("KICKED"));
    assert_eq!(status.gateway_reason(), Some(DisconnectReason::XKicked));

    // An "x-reason" that names no known extension leaves the Media API reason.
    let mut other = status.clone();
    other.x_reason = Some("SOMETHING_NEW".into());
    assert_eq!(
        other.gateway_reason(),
        Some(DisconnectReason::SessionUnhealthy)
    );
}

#[test]
fn unknown_enum_values_are_kept() {
    let text = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_FUTURE","disconnectReason":"REASON_NEW"}}]}"#;
    let msg: SessionControlToClient = example(text);
    let status = msg.session_status().unwrap();
    assert_eq!(
        status.connection_state,
        Some(ConnectionState::Unknown("STATE_FUTURE".into()))
    );
    assert_eq!(
        status.disconnect_reason,
        Some(DisconnectReason::Unknown("REASON_NEW".into()))
    );
    assert_eq!(
        DisconnectReason::Unknown("REASON_NEW".into()).media_api_equivalent(),
        DisconnectReason::SessionUnhealthy
    );
    reencodes_same::<SessionControlToClient>(
        r#"{"resources":[{"id":0,"sessionStatus":{"connectionState":"STATE_FUTURE","disconnectReason":"REASON_NEW"}}]}"#,
    );

    let state: XConferenceToClient = example(
        r#"{"resources":[{"conferenceState":{"chatRestriction":"RESTRICTION_TYPE_UNSPECIFIED"}}]}"#,
    );
    let chat = &state.conference_state().unwrap().chat_restriction;
    assert_eq!(
        *chat,
        RestrictionType::Unknown("RESTRICTION_TYPE_UNSPECIFIED".into())
    );
    assert!(!chat.allows_everyone(), "an unknown restriction restricts");
}

// ---- media-stats ----------------------------------------------------------------------------

#[test]
fn media_stats_examples() {
    let config: MediaStatsToClient = example(MS_CONFIGURATION);
    reencodes_same::<MediaStatsToClient>(MS_CONFIGURATION);
    assert_eq!(config.resources.len(), 1);
    let configuration = config.resources[0].configuration.as_ref().unwrap();
    assert_eq!(configuration.upload_interval_seconds, 10);
    assert_eq!(
        configuration.upload_interval(),
        Some(std::time::Duration::from_secs(10))
    );
    assert_eq!(
        configuration.allowlist["inbound-rtp"].keys,
        ["ssrc", "packetsLost", "framesDecoded"]
    );
    assert!(configuration.allows("inbound-rtp", "packetsLost"));
    assert!(
        configuration.allows("inbound_rtp", "packets_lost"),
        "TS dialect"
    );
    assert!(configuration.allows("codec", "mime_type"));
    assert!(!configuration.allows("inbound_rtp", "jitter"));
    assert!(!configuration.allows("transport", "ssrc"));
    assert_eq!(
        config,
        MediaStatsToClient::configuration(configuration.clone())
    );

    let upload: MediaStatsFromClient = example(MS_UPLOAD);
    reencodes_same::<MediaStatsFromClient>(MS_UPLOAD);
    assert_eq!(upload.request.request_id, 5);
    let sections = &upload
        .request
        .payload
        .upload_media_stats
        .as_ref()
        .unwrap()
        .sections;
    assert_eq!(sections.len(), 1);
    assert_eq!(sections[0].id, "IT01V123");
    assert_eq!(sections[0].section_type, "inbound_rtp");
    assert_eq!(sections[0].values["frames_decoded"], json!(900));
    assert_eq!(sections[0].to_ts_style(), sections[0], "already TS style");
    assert_eq!(
        upload,
        MediaStatsFromClient::upload(5, sections.clone()),
        "constructor builds the same message"
    );

    let answer: MediaStatsToClient = example(MS_UPLOAD_ANSWER);
    reencodes_same::<MediaStatsToClient>(MS_UPLOAD_ANSWER);
    let response = answer.response.unwrap();
    assert_eq!(response.request_id, 5);
    assert!(response.is_ok() && response.payload.upload_media_stats.is_some());
}

#[test]
fn media_stats_cpp_dialect_normalises_to_ts_dialect() {
    // Google's C++ client: raw RTCStatsType, camelCase keys, string values.
    let cpp: MediaStatsFromClient = example(
        r#"{"request":{"requestId":"6","uploadMediaStats":{"sections":[
            {"id":"IT01V123","inbound-rtp":{"ssrc":"123","packetsLost":"0","jitter":"0.25",
             "mimeType":"video/VP8","codecId":"007"}}]}}}"#,
    );
    let section = &cpp.request.payload.upload_media_stats.unwrap().sections[0];
    assert_eq!(section.section_type, "inbound-rtp");
    let ts = section.to_ts_style();
    assert_eq!(ts.section_type, "inbound_rtp");
    assert_eq!(ts.values["ssrc"], json!(123));
    assert_eq!(ts.values["packets_lost"], json!(0));
    assert_eq!(ts.values["jitter"], json!(0.25));
    assert_eq!(ts.values["mime_type"], json!("video/VP8"));
    assert_eq!(
        ts.values["codec_id"],
        json!("007"),
        "not a canonical number"
    );
    assert_eq!(ts.to_ts_style(), ts, "idempotent");
    round_trip(&ts);
}

#[test]
fn media_stats_section_edge_cases() {
    let two_types = r#"{"id":"x","inbound_rtp":{"ssrc":1},"codec":{"mime_type":"audio/opus"}}"#;
    assert!(serde_json::from_str::<MediaStatsSection>(two_types).is_err());

    let extra_scalar: MediaStatsSection =
        parse(r#"{"id":"x","timestamp":12,"codec":{"payload_type":111}}"#);
    assert_eq!(extra_scalar.section_type, "codec");
    assert_eq!(extra_scalar.values.len(), 1);

    // an empty type name could not be written back (found by the meet_channel fuzz target)
    let empty_type = r#"{"id":"x","":{"src":2470}}"#;
    assert!(serde_json::from_str::<MediaStatsSection>(empty_type).is_err());

    let bare: MediaStatsSection = example(r#"{"id":"x"}"#);
    assert_eq!(bare.section_type, "");
    assert_eq!(serde_json::to_string(&bare).unwrap(), r#"{"id":"x"}"#);

    let off: MediaStatsConfiguration = parse(r#"{"uploadIntervalSeconds":0,"allowlist":{}}"#);
    assert_eq!(off.upload_interval(), None);
}

// ---- participants ---------------------------------------------------------------------------

#[test]
fn participants_example() {
    let msg: ParticipantsToClient = example(PARTICIPANTS);
    reencodes_same::<ParticipantsToClient>(PARTICIPANTS);
    let resource = &msg.resources[0];
    assert_eq!(resource.id, 7);
    let participant = resource.participant.as_ref().unwrap();
    assert_eq!(participant.participant_id, Some(7));
    assert_eq!(
        participant.participant_key.as_deref(),
        Some("participants/abc")
    );
    assert!(matches!(
        participant.user(),
        Some(ParticipantUser::SignedIn(u)) if u.user == "users/123"
    ));
    assert_eq!(participant.display_name(), Some("Alice"));
    assert_eq!(msg.deleted_resources.len(), 1);
    assert_eq!(msg.deleted_resources[0].id, 9);
    assert!(msg.deleted_resources[0].participant);
}

#[test]
fn gateway_participant_extension() {
    // §5.b: gateway participants are anonymous users plus "x-gateway".
    let text = r#"{"resources":[{"id":12,"participant":{"participantId":12,
        "anonymousUser":{"displayName":"Room 4 (SIP)"},
        "x-gateway":{"trusted":true,"protocol":"SIP"}}}]}"#;
    let msg: ParticipantsToClient = example(text);
    reencodes_same::<ParticipantsToClient>(text);
    let participant = msg.resources[0].participant.as_ref().unwrap();
    assert!(matches!(
        participant.user(),
        Some(ParticipantUser::Anonymous(_))
    ));
    assert_eq!(participant.display_name(), Some("Room 4 (SIP)"));
    let gateway = participant.x_gateway.as_ref().unwrap();
    assert!(gateway.trusted);
    assert_eq!(gateway.protocol, Some(GatewayProtocol::Sip));

    let h323: ParticipantsToClient = example(
        r#"{"resources":[{"id":1,"participant":{"phoneUser":{"displayName":"+44 *** 123"},
            "x-gateway":{"protocol":"H323"}}}]}"#,
    );
    let participant = h323.resources[0].participant.as_ref().unwrap();
    assert_eq!(
        participant.x_gateway.as_ref().unwrap().protocol,
        Some(GatewayProtocol::H323)
    );
    assert!(!participant.x_gateway.as_ref().unwrap().trusted);
    assert!(matches!(
        participant.user(),
        Some(ParticipantUser::Phone(_))
    ));

    // A user kind this version does not know: the participant still parses.
    let future: ParticipantsToClient =
        example(r#"{"resources":[{"id":2,"participant":{"robotUser":{"displayName":"R2"}}}]}"#);
    let participant = future.resources[0].participant.as_ref().unwrap();
    assert_eq!(participant.user(), None);
    assert_eq!(participant.display_name(), None);
}

// ---- media-entries --------------------------------------------------------------------------

#[test]
fn media_entries_example() {
    let msg: MediaEntriesToClient = example(MEDIA_ENTRIES);
    reencodes_same::<MediaEntriesToClient>(MEDIA_ENTRIES);
    let entry = msg.resources[0].media_entry.as_ref().unwrap();
    assert_eq!(msg.resources[0].id, 3);
    assert_eq!(entry.audio_csrc, 11111);
    assert_eq!(entry.video_csrcs, [22222]);
    assert!(entry.has_csrc(11111) && entry.has_csrc(22222) && !entry.has_csrc(42));
    assert!(!entry.presenter && !entry.screenshare && !entry.audio_muted && !entry.video_muted);
    assert_eq!(
        entry.session_name.as_deref(),
        Some("participants/abc/participantSessions/s1")
    );
    assert_eq!(msg.deleted_resources, [DeletedMediaEntry::new(3)]);
}

// ---- video-assignment -----------------------------------------------------------------------

#[test]
fn video_assignment_examples() {
    let set: VideoAssignmentFromClient = example(VA_SET);
    reencodes_same::<VideoAssignmentFromClient>(VA_SET);
    assert_eq!(set.request.request_id, 2);
    let body = set.request.payload.set_assignment.as_ref().unwrap();
    assert_eq!(body.layout_model.label, "1700000000000");
    assert_eq!(body.layout_model.canvases.len(), 2);
    assert_eq!(
        body.layout_model.canvases[0].dimensions,
        CanvasDimensions {
            height: 720,
            width: 1280
        }
    );
    assert_eq!(
        body.layout_model.canvases[1].assignment_protocol(),
        Some(AssignmentProtocol::Relevant)
    );
    assert_eq!(
        body.max_video_resolution,
        Some(VideoResolution {
            height: 1080,
            width: 1920,
            frame_rate: 30
        })
    );

    let answer: VideoAssignmentToClient = example(VA_SET_ANSWER);
    reencodes_same::<VideoAssignmentToClient>(VA_SET_ANSWER);
    let response = answer.response.unwrap();
    assert_eq!(response.request_id, 2);
    assert!(response.is_ok() && response.payload.set_assignment.is_some());

    let assignment: VideoAssignmentToClient = example(VA_ASSIGNMENT);
    let current = assignment.current_assignment().unwrap();
    assert_eq!(current.label, "1700000000000");
    assert_eq!(current.canvas(1).unwrap().ssrc, 3001);
    assert_eq!(current.canvas(2).unwrap().media_entry_id, 4);
    assert_eq!(current.canvas(2).unwrap().video_ssrc(), Some(3002));
    assert_eq!(current.canvas(9), None);
    assert_eq!(
        assignment,
        VideoAssignmentToClient::assignment(current.clone())
    );
}

#[test]
fn one_plus_seven_layout() {
    let msg = VideoAssignmentFromClient::set_assignment_1_plus_7(2, "layout-1");
    assert_eq!(msg.request.request_id, 2);
    let body = msg.request.payload.set_assignment.as_ref().unwrap();
    let canvases = &body.layout_model.canvases;
    assert_eq!(body.layout_model.label, "layout-1");
    assert_eq!(canvases.len(), 8, "1 + 7 canvases");

    assert_eq!(canvases[0].id, MAIN_CANVAS_ID);
    assert_eq!(
        (canvases[0].dimensions.width, canvases[0].dimensions.height),
        (1280, 720)
    );
    for (canvas, id) in canvases[1..].iter().zip(SMALL_CANVAS_IDS) {
        assert_eq!(canvas.id, id);
        assert_eq!(
            (canvas.dimensions.width, canvas.dimensions.height),
            (320, 180)
        );
    }
    let mut ids: Vec<i32> = canvases.iter().map(|c| c.id).collect();
    assert!(ids.iter().all(|&id| id != 0), "canvas ids are non-zero");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "canvas ids are unique");
    assert!(
        canvases
            .iter()
            .all(|c| c.assignment_protocol() == Some(AssignmentProtocol::Relevant))
    );
    assert_eq!(
        body.max_video_resolution,
        Some(VideoResolution {
            height: 720,
            width: 1280,
            frame_rate: 30
        })
    );

    // Stable ids: a later request (new id, new label) has exactly the same canvases.
    let later = VideoAssignmentFromClient::set_assignment_1_plus_7(9, "layout-2");
    let later_body = later.request.payload.set_assignment.as_ref().unwrap();
    assert_eq!(later_body.layout_model.canvases, *canvases);
    assert_eq!(
        later_body.layout_model.canvases,
        SetAssignment::one_plus_seven("x").layout_model.canvases
    );

    // The wire shape is the one of meet-side.md §1.4.
    let wire = serde_json::to_value(&msg).unwrap();
    assert_eq!(
        wire["request"]["setAssignment"]["layoutModel"]["canvases"][0],
        json!({"id": 1, "dimensions": {"height": 720, "width": 1280}, "relevant": {}})
    );
    assert_eq!(
        wire["request"]["setAssignment"]["layoutModel"]["canvases"][7],
        json!({"id": 8, "dimensions": {"height": 180, "width": 320}, "relevant": {}})
    );
    assert_eq!(
        wire["request"]["setAssignment"]["maxVideoResolution"],
        json!({"height": 720, "width": 1280, "frameRate": 30})
    );
    round_trip(&msg);
}

// ---- x-conference and x-chat ----------------------------------------------------------------

#[test]
fn x_conference_example() {
    let msg: XConferenceToClient = example(XC_STATE);
    let state = msg.conference_state().unwrap();
    assert_eq!(*state, ConferenceState::default());
    assert!(state.chat_restriction.allows_everyone());

    let recording = ConferenceState {
        recording: true,
        video_lock: true,
        chat_restriction: RestrictionType::HostsOnly,
        ..ConferenceState::default()
    };
    let msg = XConferenceToClient::state(recording.clone());
    round_trip(&msg);
    let wire = serde_json::to_value(&msg).unwrap();
    assert_eq!(
        wire["resources"][0]["conferenceState"],
        json!({"recording": true, "transcribing": false, "videoLock": true, "audioLock": false,
               "chatRestriction": "HOSTS_ONLY", "presentRestriction": "NO_RESTRICTION"})
    );
    assert!(!recording.chat_restriction.allows_everyone());
}

#[test]
fn x_chat_examples() {
    let send: XChatFromClient = example(CHAT_SEND);
    assert_eq!(send, XChatFromClient::send_message(4, "hi"));
    assert_eq!(serde_json::to_string(&send).unwrap(), CHAT_SEND);

    let answer: XChatToClient = example(CHAT_SEND_ANSWER);
    reencodes_same::<XChatToClient>(CHAT_SEND_ANSWER);
    assert!(answer.response.unwrap().payload.send_message.is_some());

    let message: XChatToClient = example(CHAT_MESSAGE);
    reencodes_same::<XChatToClient>(CHAT_MESSAGE);
    assert_eq!(message.resources[0].id, 88);
    let chat = message.resources[0].chat_message.as_ref().unwrap();
    assert_eq!(
        (
            chat.participant_id,
            chat.display_name.as_str(),
            chat.text.as_str()
        ),
        (7, "Alice", "hello")
    );
    assert_eq!(chat.create_time, "2026-01-01T00:00:00Z");

    // §5.b: HOSTS_ONLY ⇒ code 7; text too long ⇒ code 3.
    let denied: XChatToClient = example(
        r#"{"response":{"requestId":5,"status":{"code":7,"message":"chat is restricted to hosts"},"sendMessage":{}}}"#,
    );
    let response = denied.response.unwrap();
    assert!(!response.is_ok());
    assert_eq!(response.status.unwrap().code, StatusCode::PERMISSION_DENIED);
}

// ---- envelope -------------------------------------------------------------------------------

#[test]
fn status_and_request_ids() {
    assert_eq!(StatusCode::INVALID_ARGUMENT, StatusCode(3));
    assert_eq!(
        StatusCode::PERMISSION_DENIED.name(),
        Some("PERMISSION_DENIED")
    );
    assert_eq!(StatusCode(400).name(), None);

    // A response without a status is OK; `status: {}` is code 0 too.
    let no_status: VideoAssignmentToClient = example(r#"{"response":{"requestId":3}}"#);
    assert!(no_status.response.unwrap().is_ok());
    let empty_status: VideoAssignmentToClient =
        example(r#"{"response":{"requestId":3,"status":{}}}"#);
    assert!(empty_status.response.unwrap().is_ok());

    // Status details survive as raw JSON; a code outside the table round-trips.
    let detailed: MediaStatsToClient = example(
        r#"{"response":{"requestId":8,"status":{"code":400,"message":"local",
            "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"X"}]}}}"#,
    );
    let status = detailed.response.unwrap().status.unwrap();
    assert_eq!(status.code, StatusCode(400));
    assert_eq!(status.details[0]["reason"], "X");

    // Status is always written with code and message (Google's C++ client requires both).
    assert_eq!(
        serde_json::to_string(&Status::new(StatusCode::OK, "")).unwrap(),
        r#"{"code":0,"message":""}"#
    );

    let mut ids = RequestIdGenerator::new();
    assert_eq!([ids.next_id(), ids.next_id(), ids.next_id()], [1, 2, 3]);
}

#[test]
fn data_channel_labels() {
    let labels: Vec<&str> = DataChannel::ALL.iter().map(|c| c.label()).collect();
    assert_eq!(
        labels,
        [
            "session-control",
            "media-stats",
            "participants",
            "media-entries",
            "video-assignment",
            "x-conference",
            "x-chat"
        ]
    );
    for channel in DataChannel::ALL {
        assert_eq!(DataChannel::from_label(channel.label()), Some(channel));
        assert_eq!(channel.to_string(), channel.label());
        assert_eq!(channel.is_extension(), channel.label().starts_with("x-"));
    }
    assert_eq!(DataChannel::from_label("x-unknown"), None);
}

// ---- integers: number or string in, number out ------------------------------------------------

#[test]
fn integers_accept_numbers_and_strings() {
    // Every integer of the examples, as strings (proto3 JSON style).
    let as_strings: MediaEntriesToClient = parse(
        r#"{"resources":[{"id":"3","mediaEntry":{"audioCsrc":"11111","videoCsrcs":["22222",33333],
            "participantId":"7"}}],"deletedResources":[{"id":"3","mediaEntry":true}]}"#,
    );
    let entry = as_strings.resources[0].media_entry.as_ref().unwrap();
    assert_eq!(as_strings.resources[0].id, 3);
    assert_eq!(entry.audio_csrc, 11111);
    assert_eq!(entry.video_csrcs, [22222, 33333]);
    assert_eq!(entry.participant_id, Some(7));
    assert_eq!(as_strings.deleted_resources[0].id, 3);

    let leave: SessionControlFromClient = parse(r#"{"request":{"requestId":"1","leave":{}}}"#);
    assert_eq!(leave, SessionControlFromClient::leave(1));

    let assignment: VideoAssignmentToClient = parse(
        r#"{"resources":[{"id":"0","videoAssignment":{"label":"l","canvases":[
            {"canvasId":"1","ssrc":"3001","mediaEntryId":"3"}]}}]}"#,
    );
    let canvas = assignment.current_assignment().unwrap().canvas(1).unwrap();
    assert_eq!((canvas.ssrc, canvas.media_entry_id), (3001, 3));

    let config: MediaStatsToClient = parse(
        r#"{"resources":[{"id":"0","configuration":{"uploadIntervalSeconds":"10","allowlist":{}}}],
            "response":{"requestId":"5","status":{"code":"0","message":"OK"}}}"#,
    );
    assert_eq!(
        config.resources[0]
            .configuration
            .as_ref()
            .unwrap()
            .upload_interval_seconds,
        10
    );
    assert_eq!(config.response.unwrap().request_id, 5);

    let chat: XChatToClient =
        parse(r#"{"resources":[{"id":"88","chatMessage":{"participantId":"7","text":"x"}}]}"#);
    assert_eq!(
        chat.resources[0]
            .chat_message
            .as_ref()
            .unwrap()
            .participant_id,
        7
    );

    let set: VideoAssignmentFromClient = parse(
        r#"{"request":{"requestId":"2","setAssignment":{"layoutModel":{"label":"l","canvases":[
            {"id":"1","dimensions":{"height":"720","width":"1280"},"relevant":{}}]},
            "maxVideoResolution":{"height":"720","width":"1280","frameRate":"30"}}}}"#,
    );
    assert_eq!(
        set,
        parse::<VideoAssignmentFromClient>(
            r#"{"request":{"requestId":2,"setAssignment":{"layoutModel":{"label":"l","canvases":[
            {"id":1,"dimensions":{"height":720,"width":1280},"relevant":{}}]},
            "maxVideoResolution":{"height":720,"width":1280,"frameRate":30}}}}"#
        )
    );
}

#[test]
fn integers_are_written_as_numbers() {
    let entry: MediaEntriesToClient =
        parse(r#"{"resources":[{"id":"3","mediaEntry":{"audioCsrc":"1","videoCsrcs":["2"]}}]}"#);
    let wire = serde_json::to_value(&entry).unwrap();
    assert_eq!(wire["resources"][0]["id"], json!(3));
    assert_eq!(wire["resources"][0]["mediaEntry"]["audioCsrc"], json!(1));
    assert_eq!(wire["resources"][0]["mediaEntry"]["videoCsrcs"], json!([2]));

    let leave: SessionControlFromClient = parse(r#"{"request":{"requestId":"77","leave":{}}}"#);
    assert_eq!(
        serde_json::to_string(&leave).unwrap(),
        r#"{"request":{"requestId":77,"leave":{}}}"#
    );
}

#[test]
fn int64_extremes_and_bad_values() {
    fn request_id(value: &str) -> Result<i64, serde_json::Error> {
        serde_json::from_str::<SessionControlFromClient>(&format!(
            r#"{{"request":{{"requestId":{value},"leave":{{}}}}}}"#
        ))
        .map(|m| m.request.request_id)
    }
    assert_eq!(request_id("9223372036854775807").unwrap(), i64::MAX);
    assert_eq!(request_id(r#""9223372036854775807""#).unwrap(), i64::MAX);
    assert_eq!(request_id(r#""-9223372036854775808""#).unwrap(), i64::MIN);
    assert_eq!(request_id(r#""+5""#).unwrap(), 5);
    assert_eq!(request_id("1e3").unwrap(), 1000, "exponent notation");
    assert_eq!(request_id("7.0").unwrap(), 7);
    for bad in [
        r#""9223372036854775808""#, // past i64::MAX
        "9223372036854775808",
        r#""1.5""#,
        "1.5",
        r#""abc""#,
        r#""""#,
        r#"" 1""#,
        r#""0x10""#,
        "true",
        "null",
        "[1]",
    ] {
        assert!(request_id(bad).is_err(), "{bad} should be refused");
    }

    // Width matters: a uint32 refuses negatives and values past u32::MAX.
    fn ssrc(value: &str) -> Result<u32, serde_json::Error> {
        serde_json::from_str::<VideoAssignmentToClient>(&format!(
            r#"{{"resources":[{{"videoAssignment":{{"canvases":[{{"canvasId":1,"ssrc":{value}}}]}}}}]}}"#
        ))
        .map(|m| m.current_assignment().unwrap().canvases[0].ssrc)
    }
    assert_eq!(ssrc(r#""4294967295""#).unwrap(), u32::MAX);
    assert!(ssrc(r#""4294967296""#).is_err());
    assert!(ssrc("4294967296").is_err());
    assert!(ssrc("-1").is_err());
    assert!(ssrc(r#""-1""#).is_err());

    // The error names what was wrong.
    let err = ssrc(r#""4294967296""#).unwrap_err().to_string();
    assert!(err.contains("out of range for uint32"), "{err}");

    // null for an optional integer is None.
    let entry: MediaEntriesToClient =
        parse(r#"{"resources":[{"id":1,"mediaEntry":{"participantId":null}}]}"#);
    assert_eq!(
        entry.resources[0]
            .media_entry
            .as_ref()
            .unwrap()
            .participant_id,
        None
    );
}

// ---- forward compatibility: unknown fields are ignored ------------------------------------------

#[test]
fn unknown_fields_are_ignored() {
    // The same messages as the examples, with unknown members at every level.
    let cases: [(&str, &str); 6] = [
        (
            SC_LEAVE_ANSWER,
            r#"{"future":1,"response":{"requestId":1,"status":{"code":0,"message":"OK","extra":[]},
              "leave":{"why":"x"},"newEcho":{}},
             "resources":[{"sessionStatus":{"connectionState":"STATE_DISCONNECTED",
              "disconnectReason":"REASON_CLIENT_LEFT","since":"2026"},"other":{}}]}"#,
        ),
        (
            MS_CONFIGURATION,
            r#"{"resources":[{"id":0,"configuration":{"uploadIntervalSeconds":10,"jitterMs":5,
              "allowlist":{"inbound-rtp":{"keys":["ssrc","packetsLost","framesDecoded"],"mode":1},
                           "codec":{"keys":["mimeType","payloadType"]}}}}]}"#,
        ),
        (
            PARTICIPANTS,
            r#"{"resources":[{"id":7,"participant":{"participantId":7,"role":"HOST",
               "participantKey":"participants/abc","name":"conferenceRecords/x/participants/abc",
               "signedInUser":{"user":"users/123","displayName":"Alice","avatar":"a.png"}}}],
             "deletedResources":[{"id":9,"participant":true,"reason":"left"}],"cursor":"c"}"#,
        ),
        (
            MEDIA_ENTRIES,
            r#"{"resources":[{"id":3,"mediaEntry":{"participant":"conferenceRecords/x/participants/abc",
               "participantKey":"participants/abc",
               "session":"conferenceRecords/x/participants/abc/participantSessions/s1",
               "sessionName":"participants/abc/participantSessions/s1",
               "audioCsrc":11111,"videoCsrcs":[22222],"handRaised":true,
               "presenter":false,"screenshare":false,"audioMuted":false,"videoMuted":false}}],
             "deletedResources":[{"id":3,"mediaEntry":true}]}"#,
        ),
        (
            VA_ASSIGNMENT,
            r#"{"resources":[{"videoAssignment":{"label":"1700000000000","version":2,"canvases":[
               {"canvasId":1,"ssrc":3001,"mediaEntryId":3,"layer":"f"},
               {"canvasId":2,"ssrc":3002,"mediaEntryId":4}]}}]}"#,
        ),
        (
            CHAT_MESSAGE,
            r#"{"resources":[{"id":88,"chatMessage":{"participantId":7,"displayName":"Alice",
              "text":"hello","createTime":"2026-01-01T00:00:00Z","reactions":[]}}]}"#,
        ),
    ];
    fn same<T: DeserializeOwned + PartialEq + Debug>(plain: &str, extended: &str) {
        assert_eq!(parse::<T>(extended), parse::<T>(plain), "{extended}");
    }
    same::<SessionControlToClient>(cases[0].0, cases[0].1);
    same::<MediaStatsToClient>(cases[1].0, cases[1].1);
    same::<ParticipantsToClient>(cases[2].0, cases[2].1);
    same::<MediaEntriesToClient>(cases[3].0, cases[3].1);
    same::<VideoAssignmentToClient>(cases[4].0, cases[4].1);
    same::<XChatToClient>(cases[5].0, cases[5].1);

    same::<VideoAssignmentFromClient>(
        VA_SET,
        r#"{"request":{"requestId":2,"priority":"high","setAssignment":{"hint":1,
           "layoutModel":{"label":"1700000000000","canvases":[
              {"id":1,"dimensions":{"height":720,"width":1280,"depth":8},"relevant":{"x":1}},
              {"id":2,"dimensions":{"height":180,"width":320},"relevant":{}}]},
           "maxVideoResolution":{"height":1080,"width":1920,"frameRate":30,"codec":"AV1"}}},
           "trace":"t"}"#,
    );
    same::<XConferenceToClient>(
        XC_STATE,
        r#"{"resources":[{"conferenceState":{"recording":false,"transcribing":false,
          "videoLock":false,"audioLock":false,"chatRestriction":"NO_RESTRICTION",
          "presentRestriction":"NO_RESTRICTION","captions":true}}]}"#,
    );
    same::<XChatFromClient>(
        CHAT_SEND,
        r#"{"request":{"requestId":4,"sendMessage":{"text":"hi","format":"plain"}}}"#,
    );
}

#[test]
fn unknown_request_kinds_parse_with_no_payload() {
    // A request kind this version does not know: the request parses, no payload is set, and
    // the receiver can answer with an error for `requestId`.
    let future: SessionControlFromClient =
        parse(r#"{"request":{"requestId":3,"pause":{"seconds":5}}}"#);
    assert_eq!(future.request.request_id, 3);
    assert_eq!(future.request.payload.leave, None);

    let future: VideoAssignmentFromClient =
        parse(r#"{"request":{"requestId":4,"pinCanvas":{"id":1}}}"#);
    assert_eq!(future.request.payload.set_assignment, None);

    // A canvas mode this version does not know.
    let set: VideoAssignmentFromClient = parse(
        r#"{"request":{"requestId":5,"setAssignment":{"layoutModel":{"label":"l","canvases":[
            {"id":1,"dimensions":{"height":180,"width":320},"pinned":{"mediaEntryId":3}}]}}}}"#,
    );
    let canvas = &set
        .request
        .payload
        .set_assignment
        .unwrap()
        .layout_model
        .canvases[0];
    assert_eq!(canvas.assignment_protocol(), None);
}
