//! `GatewayCall` driven by hand: connector answers, data-channel messages in meet-sim's words,
//! leg events and a fake clock in; outputs checked as values.

use std::time::{Duration, Instant};

use meet::connector::{ConferenceRef, ConnectOutcome, MeetError};
use meet::protocol::DataChannel;
use meet::session::{SessionOutcome, SessionSettings};

use super::*;

const WAITING: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_WAITING"}}]}"#;
const JOINED: &str = r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_JOINED"}}]}"#;
const ASSIGNMENT: &str = r#"{"resources":[{"videoAssignment":{"label":"tcn-1+7-1","canvases":[
   {"canvasId":1,"ssrc":3001,"mediaEntryId":3},{"canvasId":2,"ssrc":3002,"mediaEntryId":4}]}}]}"#;

fn disconnected(reason: &str) -> String {
    format!(
        r#"{{"resources":[{{"sessionStatus":{{"connectionState":"STATE_DISCONNECTED","disconnectReason":"{reason}"}}}}]}}"#
    )
}

fn outputs(call: &mut GatewayCall) -> Vec<CallOutput> {
    std::iter::from_fn(|| call.poll_output()).collect()
}

fn conference() -> ConferenceRef {
    ConferenceRef {
        space: "spaces/demo".to_owned(),
        meeting_code: Some("abc-defg-hij".to_owned()),
    }
}

/// A call taken to the point where the data channels are open.
fn connected(now: Instant) -> GatewayCall {
    let mut call = GatewayCall::new(SessionSettings::default(), now);
    assert!(matches!(
        outputs(&mut call).as_slice(),
        [CallOutput::Resolve]
    ));
    call.on_resolved(Ok(conference()), now);
    assert!(matches!(
        outputs(&mut call).as_slice(),
        [CallOutput::CreateOffer]
    ));
    call.on_offer(Ok("v=0 offer".to_owned()), now);
    let out = outputs(&mut call);
    let [CallOutput::Connect { conference, offer }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(conference.space, "spaces/demo");
    assert_eq!(offer, "v=0 offer");
    call.on_connected(
        Ok(ConnectOutcome {
            answer: "v=0 answer".to_owned(),
            trace_id: None,
            participant_id: Some(5),
        }),
        now,
    );
    assert!(matches!(
        outputs(&mut call).as_slice(),
        [CallOutput::ApplyAnswer(answer)] if answer == "v=0 answer"
    ));
    call.on_channels_open(now);
    outputs(&mut call);
    call
}

fn legs(out: &[CallOutput]) -> Vec<LegCommand> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Leg(command) => Some(command.clone()),
            _ => None,
        })
        .collect()
}

fn ended(out: &[CallOutput]) -> Option<(CallEnding, CallOutcome)> {
    out.iter().find_map(|o| match o {
        CallOutput::Ended { ending, outcome } => Some((ending.clone(), *outcome)),
        _ => None,
    })
}

#[test]
fn lobby_rings_then_joined_answers_and_asks_for_the_1_plus_7_layout() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    assert_eq!(legs(&outputs(&mut call)), [LegCommand::Ring]);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    let out = outputs(&mut call);
    assert_eq!(legs(&out), [LegCommand::Accept]);
    let assignment = out
        .iter()
        .find_map(|o| match o {
            CallOutput::SendData(DataChannel::VideoAssignment, text) => Some(text),
            _ => None,
        })
        .expect("the setAssignment goes out on JOINED");
    assert!(assignment.contains("setAssignment"), "{assignment}");
    call.on_data(DataChannel::VideoAssignment, ASSIGNMENT, now);
    let out = outputs(&mut call);
    let [CallOutput::Show(shown)] = out.as_slice() else {
        panic!("{out:?}");
    };
    let tiles: Vec<_> = shown.iter().map(|s| (s.tile, s.ssrc)).collect();
    assert_eq!(tiles, [(0, Some(3001)), (1, Some(3002))]);
}

const ROSTER: &str = r#"{"resources":[
  {"id":1,"participant":{"participantKey":"participants/p1","name":"conferenceRecords/r/participants/p1","anonymousUser":{"displayName":"Ada"}}},
  {"id":2,"participant":{"participantKey":"participants/p2","name":"conferenceRecords/r/participants/p2","signedInUser":{"user":"users/2","displayName":"Grace"}}}]}"#;
const ENTRIES: &str = r#"{"resources":[
  {"id":3,"mediaEntry":{"participantKey":"participants/p1","videoCsrcs":[11]}},
  {"id":4,"mediaEntry":{"participant":"conferenceRecords/r/participants/p2","videoMuted":true}}]}"#;

#[test]
fn names_come_from_the_roster_through_media_entries_and_muted_video_is_a_slate() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_data(DataChannel::VideoAssignment, ASSIGNMENT, now);
    outputs(&mut call);
    call.on_data(DataChannel::Participants, ROSTER, now);
    call.on_data(DataChannel::MediaEntries, ENTRIES, now);
    let shown = outputs(&mut call)
        .into_iter()
        .filter_map(|o| match o {
            CallOutput::Show(shown) => Some(shown),
            _ => None,
        })
        .next_back()
        .expect("a new list once names are known");
    let seen: Vec<_> = shown
        .iter()
        .map(|s| (s.tile, s.ssrc, s.name.as_str()))
        .collect();
    assert_eq!(seen, [(0, Some(3001), "Ada"), (1, None, "Grace")]);
    // Nothing changed: nothing new is sent.
    call.on_data(DataChannel::Participants, ROSTER, now);
    assert!(
        !outputs(&mut call)
            .iter()
            .any(|o| matches!(o, CallOutput::Show(_)))
    );
}

#[test]
fn the_recording_state_is_passed_on_when_it_changes() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    let state = |recording: bool| {
        format!(r#"{{"resources":[{{"id":0,"conferenceState":{{"recording":{recording}}}}}]}}"#)
    };
    let recording = |call: &mut GatewayCall| -> Vec<bool> {
        outputs(call)
            .into_iter()
            .filter_map(|o| match o {
                CallOutput::Recording(on) => Some(on),
                _ => None,
            })
            .collect()
    };
    call.on_data(DataChannel::XConference, &state(false), now);
    assert!(
        recording(&mut call).is_empty(),
        "not recording from the start"
    );
    call.on_data(DataChannel::XConference, &state(true), now);
    assert_eq!(recording(&mut call), [true]);
    call.on_data(DataChannel::XConference, &state(true), now);
    assert!(recording(&mut call).is_empty());
    call.on_data(DataChannel::XConference, &state(false), now);
    assert_eq!(recording(&mut call), [false]);
}

#[test]
fn a_caller_bye_leaves_the_conference_and_ends_after_disconnected() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_leg(&LegEvent::Ended(LegEnd::Bye), now);
    let out = outputs(&mut call);
    assert!(
        out.iter().any(|o| matches!(
            o,
            CallOutput::SendData(DataChannel::SessionControl, text) if text.contains("leave")
        )),
        "{out:?}"
    );
    assert!(legs(&out).is_empty(), "the caller ended the leg itself");
    assert_eq!(ended(&out), None, "waiting for DISCONNECTED");
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CLIENT_LEFT"),
        now,
    );
    let out = outputs(&mut call);
    assert!(
        matches!(out.first(), Some(CallOutput::CloseMedia)),
        "{out:?}"
    );
    assert_eq!(
        ended(&out),
        Some((CallEnding::CallerHungUp, CallOutcome::Completed))
    );
    assert!(call.is_ended());
}

#[test]
fn a_leave_nobody_answers_ends_at_the_leave_timeout() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_leg(&LegEvent::Ended(LegEnd::Bye), now);
    outputs(&mut call);
    let due = call.poll_timeout().expect("the leave timer");
    assert!(due <= now + Duration::from_secs(2));
    call.handle_timeout(due);
    assert_eq!(
        ended(&outputs(&mut call)),
        Some((CallEnding::CallerHungUp, CallOutcome::Completed))
    );
    assert_eq!(call.poll_timeout(), None);
}

#[test]
fn the_conference_ending_sends_a_bye_with_a_reason() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CONFERENCE_ENDED"),
        now,
    );
    let out = outputs(&mut call);
    let commands = legs(&out);
    let [LegCommand::End(LegEnding::Bye { reason })] = commands.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(
        reason.to_string(),
        SessionOutcome::ConferenceEnded.reason_header()
    );
    assert_eq!(
        ended(&out),
        Some((
            CallEnding::Meet(SessionOutcome::ConferenceEnded),
            CallOutcome::Completed
        ))
    );
}

#[test]
fn refusals_before_the_answer_become_final_responses() {
    let now = Instant::now();
    // An unknown meeting ID.
    let mut call = GatewayCall::new(SessionSettings::default(), now);
    outputs(&mut call);
    call.on_resolved(
        Err(MeetError::from_error_answer(
            404,
            br#"{"error":{"code":404,"status":"NOT_FOUND","message":"no such meeting"}}"#,
        )),
        now,
    );
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Reject { status: 404, .. })]
        ),
        "{out:?}"
    );
    assert_eq!(
        ended(&out).map(|(_, outcome)| outcome),
        Some(CallOutcome::Rejected)
    );

    // A host denies admission from the lobby.
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    outputs(&mut call);
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("x-REASON_ADMISSION_DENIED"),
        now,
    );
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Reject { status: 403, .. })]
        ),
        "{out:?}"
    );

    // Nobody admits the gateway: the session's own join timer.
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    outputs(&mut call);
    let due = call.poll_timeout().expect("the join timer");
    assert_eq!(due, now + Duration::from_secs(35));
    call.handle_timeout(due);
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Reject { status: 408, .. })]
        ),
        "{out:?}"
    );
}

#[test]
fn a_media_failure_ends_only_this_call_with_503_or_a_bye() {
    let now = Instant::now();
    let mut call = GatewayCall::new(SessionSettings::default(), now);
    outputs(&mut call);
    call.on_resolved(Ok(conference()), now);
    outputs(&mut call);
    call.on_offer(Err("no webrtcbin".to_owned()), now);
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Reject { status: 503, .. })]
        ),
        "{out:?}"
    );
    assert_eq!(
        ended(&out),
        Some((CallEnding::MediaFailed, CallOutcome::Failed))
    );

    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_media_failed(now);
    let out = outputs(&mut call);
    assert!(
        matches!(legs(&out).as_slice(), [LegCommand::End(LegEnding::Bye { reason })] if reason.cause == Some(503)),
        "{out:?}"
    );
}

#[test]
fn shutdown_while_waiting_in_the_lobby_answers_480() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    outputs(&mut call);
    call.shut_down(now);
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Reject { status: 480, .. })]
        ),
        "{out:?}"
    );
    // Inputs after the end are ignored.
    call.on_data(DataChannel::SessionControl, JOINED, now);
    assert!(legs(&outputs(&mut call)).is_empty());
}

#[test]
fn the_slate_lobby_answers_at_once_and_the_conference_replaces_the_slate() {
    let now = Instant::now();
    let mut call = connected(now).with_lobby(LobbyMode::Slate);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    let out = outputs(&mut call);
    assert!(
        matches!(
            out.as_slice(),
            [CallOutput::Slate(text), CallOutput::Leg(LegCommand::Accept)] if text == LOBBY_SLATE_TEXT
        ),
        "{out:?}"
    );
    call.on_data(DataChannel::SessionControl, JOINED, now);
    let out = outputs(&mut call);
    assert!(legs(&out).is_empty(), "answered already: {out:?}");
    assert!(
        out.iter()
            .any(|o| matches!(o, CallOutput::Show(shown) if shown.is_empty())),
        "the slate goes: {out:?}"
    );
}

#[test]
fn a_denial_in_the_slate_lobby_is_a_bye_with_cause_403() {
    let now = Instant::now();
    let mut call = connected(now).with_lobby(LobbyMode::Slate);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    outputs(&mut call);
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("x-REASON_ADMISSION_DENIED"),
        now,
    );
    let out = outputs(&mut call);
    let commands = legs(&out);
    let [LegCommand::End(LegEnding::Bye { reason })] = commands.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(
        reason.to_string(),
        r#"SIP;cause=403;text="Admission denied""#
    );
    assert_eq!(
        ended(&out),
        Some((
            CallEnding::Meet(SessionOutcome::AdmissionDenied),
            CallOutcome::Failed
        ))
    );
}

fn chat_states(out: &[CallOutput]) -> Vec<ChatState> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Chat(state) => Some(*state),
            _ => None,
        })
        .collect()
}

#[test]
fn chat_goes_both_ways_and_follows_the_restriction() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    assert!(
        chat_states(&outputs(&mut call)).is_empty(),
        "closed in the lobby"
    );
    call.on_data(DataChannel::SessionControl, JOINED, now);
    assert_eq!(chat_states(&outputs(&mut call)), [ChatState::Open]);

    // Meet → the room system, with the sender's name.
    call.on_data(
        DataChannel::XChat,
        r#"{"resources":[{"id":88,"chatMessage":{"participantId":7,"displayName":"Alice","text":"hello"}}]}"#,
        now,
    );
    assert_eq!(
        legs(&outputs(&mut call)),
        [LegCommand::Message("Alice: hello".to_owned())]
    );
    // The room system → Meet.
    call.on_leg(&LegEvent::Message("hi from room 4".to_owned()), now);
    let out = outputs(&mut call);
    assert!(
        out.iter().any(|o| matches!(
            o,
            CallOutput::SendData(DataChannel::XChat, text) if text.contains("sendMessage") && text.contains("hi from room 4")
        )),
        "{out:?}"
    );

    let restriction = |r: &str| {
        format!(r#"{{"resources":[{{"id":0,"conferenceState":{{"chatRestriction":"{r}"}}}}]}}"#)
    };
    call.on_data(DataChannel::XConference, &restriction("HOSTS_ONLY"), now);
    assert_eq!(chat_states(&outputs(&mut call)), [ChatState::HostsOnly]);
    call.on_leg(&LegEvent::Message("refused".to_owned()), now);
    assert!(
        !outputs(&mut call)
            .iter()
            .any(|o| matches!(o, CallOutput::SendData(DataChannel::XChat, _))),
        "nothing is sent while chat is for hosts only"
    );
    call.on_data(
        DataChannel::XConference,
        &restriction("NO_RESTRICTION"),
        now,
    );
    assert_eq!(chat_states(&outputs(&mut call)), [ChatState::Open]);

    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CONFERENCE_ENDED"),
        now,
    );
    let out = outputs(&mut call);
    assert_eq!(chat_states(&out), [ChatState::Closed]);
    assert!(ended(&out).is_some());
}

/// The room system's session timer ran out (RFC 4028: no refresh in time): the node leaves
/// the conference; the leg is already over, so nothing more goes to it.
#[test]
fn an_expired_session_timer_leaves_the_conference() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_leg(&LegEvent::Ended(LegEnd::SessionExpired), now);
    let out = outputs(&mut call);
    assert!(
        out.iter().any(|o| matches!(
            o,
            CallOutput::SendData(DataChannel::SessionControl, text) if text.contains("leave")
        )),
        "{out:?}"
    );
    assert!(legs(&out).is_empty(), "the leg ended itself");
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CLIENT_LEFT"),
        now,
    );
    assert_eq!(
        ended(&outputs(&mut call)),
        Some((CallEnding::CallerLost, CallOutcome::Failed))
    );
}

/// No RTP from the room system: a BYE with its `Reason`, then the conference is left.
#[test]
fn a_silent_caller_gets_a_bye_and_the_gateway_leaves() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    assert!(call.is_answered());
    call.on_caller_silent(now);
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Bye { reason })] if reason.cause == Some(408)
        ),
        "{out:?}"
    );
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CLIENT_LEFT"),
        now,
    );
    assert_eq!(
        ended(&outputs(&mut call)),
        Some((CallEnding::CallerSilent, CallOutcome::Failed))
    );
}

/// Meet went silent on the transport: the call ends as "Meet unavailable" with a BYE.
#[test]
fn a_silent_meet_ends_the_call_as_unavailable() {
    let now = Instant::now();
    let mut call = connected(now);
    call.on_data(DataChannel::SessionControl, JOINED, now);
    outputs(&mut call);
    call.on_meet_silent(now);
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Bye { reason })] if reason.cause == Some(503)
        ),
        "{out:?}"
    );
    assert_eq!(
        ended(&out),
        Some((
            CallEnding::Meet(SessionOutcome::Unavailable),
            CallOutcome::Failed
        ))
    );
}

#[test]
fn a_call_a_reception_answered_is_not_rung_nor_answered_again_and_ends_with_a_bye() {
    let now = Instant::now();
    let mut call = GatewayCall::answered(SessionSettings::default(), conference(), now);
    // The reception resolved the conference already.
    assert!(matches!(
        outputs(&mut call).as_slice(),
        [CallOutput::CreateOffer]
    ));
    call.on_offer(Ok("v=0 offer".to_owned()), now);
    outputs(&mut call);
    call.on_connected(
        Ok(ConnectOutcome {
            answer: "v=0 answer".to_owned(),
            trace_id: None,
            participant_id: Some(5),
        }),
        now,
    );
    outputs(&mut call);
    call.on_channels_open(now);
    outputs(&mut call);
    call.on_data(DataChannel::SessionControl, WAITING, now);
    let out = outputs(&mut call);
    assert_eq!(legs(&out), []);
    assert!(
        out.iter()
            .any(|o| matches!(o, CallOutput::Slate(text) if text == LOBBY_SLATE_TEXT)),
        "answered already, the lobby shows as a slate: {out:?}"
    );
    call.on_data(DataChannel::SessionControl, JOINED, now);
    assert_eq!(legs(&outputs(&mut call)), []);
    // Meet ends it: a BYE (with the session's Reason), never a final response.
    call.on_data(
        DataChannel::SessionControl,
        &disconnected("REASON_CONFERENCE_ENDED"),
        now,
    );
    let out = outputs(&mut call);
    assert!(
        matches!(
            legs(&out).as_slice(),
            [LegCommand::End(LegEnding::Bye { .. })]
        ),
        "{out:?}"
    );
}
