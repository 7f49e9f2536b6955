//! meet-sim host controls over real loopback HTTP (meet-side.md §2.4, §5.b "Host controls"
//! and its test matrix): video lock at connect (412 `VIDEO_LOCKED`, the node's SIP 480),
//! video lock mid-call (removal, or mute by setting), unlock → rejoin, kick, end of
//! conference, recording indicator, chat restriction; with the messages and events of each.

#[path = "sim_support.rs"]
mod support;

use meet_sim::model::LockPolicy;
use serde_json::{Value, json};
use support::{CODE, Fixture};

async fn space_verb(fx: &Fixture, verb: &str, body: Value) -> Value {
    let reply = fx.post(&format!("/sim/spaces/{CODE}:{verb}"), body).await;
    assert_eq!(reply.status, 200, "{verb}: {}", reply.json);
    reply.json
}

fn disconnected(reason: &str) -> Value {
    json!({"connectionState": "STATE_DISCONNECTED", "disconnectReason": reason})
}

#[tokio::test]
async fn video_lock_at_connect_is_412_video_locked_and_unlock_allows_rejoin() {
    let fx = Fixture::new().await;
    let space = space_verb(&fx, "setLocks", json!({"video": true})).await;
    assert_eq!(space["conferenceState"]["videoLock"], true);

    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    reply.assert_error(
        412,
        "FAILED_PRECONDITION",
        "VIDEO_LOCKED",
        "a host locked video: gateways cannot join until it is unlocked",
    );
    let refused = fx.events("request_refused").await;
    assert_eq!(refused[0]["reason"], "VIDEO_LOCKED");
    assert_eq!(refused[0]["httpStatus"], 412);
    assert!(fx.events("participant_joined").await.is_empty());

    space_verb(&fx, "setLocks", json!({"video": false})).await;
    let pid = fx.join(&fx.trusted).await;
    assert_eq!(fx.participant(pid).await["state"], "STATE_JOINED");
    let locks = fx.events("locks_changed").await;
    assert_eq!(
        (locks[0]["videoLock"].clone(), locks[1]["videoLock"].clone()),
        (json!(true), json!(false))
    );
}

#[tokio::test]
async fn audio_lock_at_connect_is_412_audio_locked() {
    let fx = Fixture::new().await;
    space_verb(&fx, "setLocks", json!({"audio": true})).await;
    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    reply.assert_error(
        412,
        "FAILED_PRECONDITION",
        "AUDIO_LOCKED",
        "a host locked audio: gateways cannot join until it is unlocked",
    );
}

#[tokio::test]
async fn video_lock_mid_call_removes_the_gateway() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.trusted).await;
    let waiting = fx.join(&fx.untrusted).await;
    space_verb(&fx, "setLocks", json!({"video": true})).await;

    let states = fx.session_states(pid).await;
    assert_eq!(
        states.last().unwrap(),
        &disconnected("x-REASON_VIDEO_LOCKED")
    );
    // The lock is pushed on x-conference before the removal.
    let conference = fx.conference_states(pid).await;
    assert_eq!(conference.len(), 2);
    assert_eq!(conference[1]["videoLock"], true);
    // A gateway in the lobby cannot join while locked either.
    assert_eq!(
        fx.session_states(waiting).await.last().unwrap(),
        &disconnected("x-REASON_VIDEO_LOCKED")
    );

    let left = fx.events("participant_left").await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|e| e["reason"] == "x-REASON_VIDEO_LOCKED"));
    assert_eq!(fx.events("locks_changed").await.len(), 1);
}

#[tokio::test]
async fn video_lock_mid_call_mutes_under_the_mute_policy() {
    let fx = Fixture::with(|c| c.model.video_lock_policy = LockPolicy::Mute).await;
    let pid = fx.join(&fx.trusted).await;
    space_verb(&fx, "setLocks", json!({"video": true})).await;
    let info = fx.participant(pid).await;
    assert_eq!(info["state"], "STATE_JOINED");
    assert_eq!(info["videoMutedByLock"], true);
    assert_eq!(fx.conference_states(pid).await[1]["videoLock"], true);
    let muted = fx.events("gateway_media_muted").await;
    assert_eq!(muted[0]["participantId"], json!(pid));
    assert_eq!(muted[0]["media"], "video");
}

#[tokio::test]
async fn kick_disconnects_with_session_unhealthy_and_x_reason_kicked() {
    let fx = Fixture::new().await;
    let watcher = fx.join(&fx.trusted).await;
    let pid = fx.join(&fx.trusted).await;
    let reply = fx
        .post(
            &format!("/sim/spaces/{CODE}/participants/{pid}:kick"),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["xReason"], "KICKED");
    assert_eq!(
        fx.session_states(pid).await.last().unwrap(),
        &json!({"connectionState": "STATE_DISCONNECTED",
                "disconnectReason": "REASON_SESSION_UNHEALTHY", "x-reason": "KICKED"})
    );
    let entries = fx.messages(watcher, Some("media-entries")).await;
    let deleted = &entries.last().unwrap()["message"]["deletedResources"][0];
    assert_eq!(deleted["mediaEntry"], true);

    assert_eq!(
        fx.events("participant_kicked").await[0]["participantId"],
        json!(pid)
    );
    let left = fx.events("participant_left").await;
    assert_eq!(left[0]["xReason"], "KICKED");

    let again = fx
        .post(
            &format!("/sim/spaces/{CODE}/participants/{pid}:kick"),
            json!({}),
        )
        .await;
    again.assert_error(
        412,
        "FAILED_PRECONDITION",
        "PARTICIPANT_GONE",
        &format!("participant {pid} is no longer in the conference"),
    );
}

#[tokio::test]
async fn end_of_conference_disconnects_everyone() {
    let fx = Fixture::new().await;
    let joined = fx.join(&fx.trusted).await;
    let waiting = fx.join(&fx.untrusted).await;
    let host = fx.add_person("Alice", true).await;
    let space = space_verb(&fx, "endConference", json!({})).await;
    assert_eq!(space["activeConference"], Value::Null);

    for pid in [joined, waiting] {
        assert_eq!(
            fx.session_states(pid).await.last().unwrap(),
            &disconnected("REASON_CONFERENCE_ENDED")
        );
    }
    assert_eq!(
        fx.participant(host).await["disconnectReason"],
        "REASON_CONFERENCE_ENDED"
    );
    let ended = fx.events("conference_ended").await;
    assert_eq!(ended[0]["conference"], "conferenceRecords/cr-1");
    assert_eq!(fx.events("participant_left").await.len(), 3);

    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    assert_eq!(
        (reply.status, reply.reason()),
        (404, "NO_ACTIVE_CONFERENCE")
    );
    let again = fx
        .post(&format!("/sim/spaces/{CODE}:endConference"), json!({}))
        .await;
    assert_eq!(
        (again.status, again.reason()),
        (412, "NO_ACTIVE_CONFERENCE")
    );
}

#[tokio::test]
async fn recording_flag_changes_reach_the_gateway() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.trusted).await;
    space_verb(&fx, "setRecording", json!({"active": true})).await;
    space_verb(&fx, "setRecording", json!({"active": false})).await;
    let recording: Vec<Value> = fx
        .conference_states(pid)
        .await
        .iter()
        .map(|s| s["recording"].clone())
        .collect();
    assert_eq!(recording, [json!(false), json!(true), json!(false)]);
    let events = fx.events("recording_changed").await;
    assert_eq!(
        (
            events[0]["recording"].clone(),
            events[1]["recording"].clone()
        ),
        (json!(true), json!(false))
    );

    let missing = fx
        .post(&format!("/sim/spaces/{CODE}:setRecording"), json!({}))
        .await;
    missing.assert_error(400, "INVALID_ARGUMENT", "BAD_REQUEST", "active is required");
}

fn send_message(id: i64, text: &str) -> Value {
    json!({"request": {"requestId": id, "sendMessage": {"text": text}}})
}

#[tokio::test]
async fn chat_restricted_to_hosts_refuses_the_gateway_with_code_7() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.trusted).await;
    let other = fx.join(&fx.trusted).await;
    let guest = fx.add_person("Bob", false).await;
    let host = fx.add_person("Alice", true).await;

    let answer = fx.send_on(pid, "x-chat", send_message(4, "hi")).await;
    assert_eq!(
        answer[0]["message"],
        json!({"response": {"requestId": 4, "status": {"code": 0, "message": "OK"},
                            "sendMessage": {}}})
    );
    let received = fx.messages(other, Some("x-chat")).await;
    let chat = &received[0]["message"]["resources"][0];
    assert_eq!(chat["chatMessage"]["participantId"], json!(pid));
    assert_eq!(chat["chatMessage"]["displayName"], "Room 4.1");
    assert_eq!(chat["chatMessage"]["text"], "hi");
    assert_eq!(chat["chatMessage"]["createTime"], "2027-01-15T08:00:00Z");

    space_verb(
        &fx,
        "setRestrictions",
        json!({"chatRestriction": "HOSTS_ONLY"}),
    )
    .await;
    assert_eq!(
        fx.conference_states(pid).await.last().unwrap()["chatRestriction"],
        "HOSTS_ONLY"
    );
    let answer = fx.send_on(pid, "x-chat", send_message(5, "again")).await;
    assert_eq!(
        answer[0]["message"]["response"]["status"],
        json!({"code": 7, "message": "chat is restricted to hosts"})
    );
    assert_eq!(fx.messages(other, Some("x-chat")).await.len(), 1);

    // Hosts still chat, and the gateways receive it; a non-host synthetic is refused.
    let ok = fx
        .post(
            &format!("/sim/spaces/{CODE}/chat"),
            json!({"fromParticipant": host, "text": "hosts only now"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let received = fx.messages(pid, Some("x-chat")).await;
    assert_eq!(
        received.last().unwrap()["message"]["resources"][0]["chatMessage"]["text"],
        "hosts only now"
    );
    let refused = fx
        .post(
            &format!("/sim/spaces/{CODE}/chat"),
            json!({"fromParticipant": guest, "text": "me too"}),
        )
        .await;
    refused.assert_error(
        403,
        "PERMISSION_DENIED",
        "CHAT_RESTRICTED",
        "chat is restricted to hosts",
    );

    let refusals = fx.events("chat_refused").await;
    assert_eq!(refusals[0]["participantId"], json!(pid));
    assert_eq!(refusals[0]["code"], 7);
    assert_eq!(fx.events("chat_message").await.len(), 2);
    let changed = fx.events("restrictions_changed").await;
    assert_eq!(changed[0]["chatRestriction"], "HOSTS_ONLY");
}

#[tokio::test]
async fn over_long_chat_is_code_3() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.trusted).await;
    let answer = fx
        .send_on(pid, "x-chat", send_message(1, &"x".repeat(501)))
        .await;
    assert_eq!(
        answer[0]["message"]["response"]["status"],
        json!({"code": 3, "message": "text must be 1 to 500 characters"})
    );
}
