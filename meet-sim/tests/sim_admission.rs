//! meet-sim admission over real loopback HTTP (meet-side.md §5.b "Admission" and its test
//! matrix): trusted → joined without waiting, untrusted → lobby → admit / deny / 30 s
//! timeout on the injectable clock, foreign organisation, unknown meeting, conference not
//! started, leave; with the `session-control`, roster and event-log entries each produces.

#[path = "sim_support.rs"]
mod support;

use serde_json::{Value, json};
use support::{CODE, Fixture, NOW};

fn joined() -> Value {
    json!({"connectionState": "STATE_JOINED"})
}

fn waiting() -> Value {
    json!({"connectionState": "STATE_WAITING"})
}

fn disconnected(reason: &str) -> Value {
    json!({"connectionState": "STATE_DISCONNECTED", "disconnectReason": reason})
}

#[tokio::test]
async fn trusted_gateway_joins_without_waiting() {
    let fx = Fixture::new().await;
    let host = fx.add_person("Alice", true).await;
    let pid = fx.join(&fx.trusted).await;

    assert_eq!(fx.session_states(pid).await, vec![joined()]);
    let all = fx.messages(pid, None).await;
    let channels: Vec<&str> = all.iter().map(|m| m["channel"].as_str().unwrap()).collect();
    assert_eq!(
        channels,
        [
            "session-control",
            "participants",
            "media-entries",
            "x-conference",
            "media-stats"
        ]
    );
    // The roster holds the host (signed in), not the gateway itself.
    let roster = &all[1]["message"]["resources"];
    assert_eq!(roster.as_array().unwrap().len(), 1);
    assert_eq!(roster[0]["id"], json!(host));
    assert_eq!(
        roster[0]["participant"]["signedInUser"],
        json!({"user": "users/42", "displayName": "Alice"})
    );
    assert_eq!(
        all[3]["message"],
        json!({"resources": [{"id": 0, "conferenceState": {
            "recording": false, "transcribing": false, "videoLock": false, "audioLock": false,
            "chatRestriction": "NO_RESTRICTION", "presentRestriction": "NO_RESTRICTION"}}]})
    );
    assert_eq!(
        all[4]["message"]["resources"][0]["configuration"]["uploadIntervalSeconds"],
        10
    );

    let info = fx.participant(pid).await;
    assert_eq!(info["state"], "STATE_JOINED");
    assert_eq!(info["trusted"], true);
    assert_eq!(info["kind"], "gateway");
    assert_eq!(info["displayName"], "Room 4.1");
    assert_eq!(info["callerUri"], "sip:room41@corp.example");
    assert_eq!(info["protocol"], "SIP");

    assert!(fx.events("participant_waiting").await.is_empty());
    let events = fx.events("participant_joined").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["participantId"], json!(pid));
    assert_eq!(events[1]["kind"], "gateway");
    assert_eq!(events[1]["space"], json!(fx.space));
    assert_eq!(events[1]["atUnixMs"], json!(NOW * 1000));
}

#[tokio::test]
async fn other_gateways_see_the_new_one_as_anonymous_with_x_gateway() {
    let fx = Fixture::new().await;
    let first = fx.join(&fx.trusted).await;
    let second = fx.join(&fx.trusted).await;
    let roster = fx.messages(first, Some("participants")).await;
    assert_eq!(roster.len(), 1);
    let participant = &roster[0]["message"]["resources"][0]["participant"];
    assert_eq!(participant["participantId"], json!(second));
    assert_eq!(
        participant["anonymousUser"],
        json!({"displayName": "Room 4.1"})
    );
    assert_eq!(
        participant["x-gateway"],
        json!({"trusted": true, "protocol": "SIP"})
    );
    let entries = fx.messages(first, Some("media-entries")).await;
    let entry = &entries[0]["message"]["resources"][0]["mediaEntry"];
    assert_ne!(entry["audioCsrc"], json!(0));
    assert_eq!(entry["videoCsrcs"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn untrusted_gateway_waits_then_is_admitted() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.untrusted).await;
    assert_eq!(fx.session_states(pid).await, vec![waiting()]);
    // Nothing but the session status while waiting.
    assert_eq!(fx.messages(pid, None).await.len(), 1);

    let lobby = fx.get(&format!("/sim/spaces/{CODE}/lobby")).await;
    assert_eq!(
        lobby.json,
        json!({"lobby": [{"participantId": pid, "displayName": "Room 4.1",
                          "deadlineUnixMs": (NOW + 30) * 1000}]})
    );
    let waiting_events = fx.events("participant_waiting").await;
    assert_eq!(waiting_events.len(), 1);
    assert_eq!(
        waiting_events[0]["deadlineUnixMs"],
        json!((NOW + 30) * 1000)
    );

    fx.advance_ms(5_000).await;
    let reply = fx
        .post(&format!("/sim/spaces/{CODE}/lobby/{pid}:admit"), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["state"], "STATE_JOINED");
    assert_eq!(reply.json["trusted"], false);
    assert_eq!(fx.session_states(pid).await, vec![waiting(), joined()]);
    let lobby = fx.get(&format!("/sim/spaces/{CODE}/lobby")).await;
    assert_eq!(lobby.json, json!({"lobby": []}));

    let admitted = fx.events("participant_admitted").await;
    assert_eq!(admitted[0]["participantId"], json!(pid));
    assert_eq!(admitted[0]["atUnixMs"], json!(NOW * 1000 + 5_000));
    assert_eq!(fx.events("participant_joined").await.len(), 1);

    // Admitting twice is refused.
    let again = fx
        .post(&format!("/sim/spaces/{CODE}/lobby/{pid}:admit"), json!({}))
        .await;
    again.assert_error(
        412,
        "FAILED_PRECONDITION",
        "NOT_IN_LOBBY",
        &format!("participant {pid} is not waiting in the lobby"),
    );
}

#[tokio::test]
async fn untrusted_gateway_is_denied() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.untrusted).await;
    let reply = fx
        .post(&format!("/sim/spaces/{CODE}/lobby/{pid}:deny"), json!({}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["state"], "STATE_DISCONNECTED");
    assert_eq!(reply.json["disconnectReason"], "x-REASON_ADMISSION_DENIED");
    assert_eq!(
        fx.session_states(pid).await,
        vec![waiting(), disconnected("x-REASON_ADMISSION_DENIED")]
    );
    assert_eq!(fx.events("participant_denied").await.len(), 1);
    let left = fx.events("participant_left").await;
    assert_eq!(left[0]["reason"], "x-REASON_ADMISSION_DENIED");
    assert!(fx.events("participant_joined").await.is_empty());
}

#[tokio::test]
async fn lobby_times_out_after_30_s_on_the_injectable_clock() {
    let fx = Fixture::new().await;
    let pid = fx.join(&fx.untrusted).await;
    fx.advance_ms(29_999).await;
    assert_eq!(fx.session_states(pid).await, vec![waiting()]);
    assert!(fx.events("lobby_timed_out").await.is_empty());

    fx.advance_ms(1).await;
    assert_eq!(
        fx.session_states(pid).await,
        vec![waiting(), disconnected("x-REASON_ADMISSION_TIMEOUT")]
    );
    let timed_out = fx.events("lobby_timed_out").await;
    assert_eq!(timed_out.len(), 1);
    assert_eq!(timed_out[0]["participantId"], json!(pid));
    assert_eq!(timed_out[0]["atUnixMs"], json!((NOW + 30) * 1000));
    let clock = fx.events("clock_changed").await;
    assert_eq!(clock[1]["toUnixMs"], json!((NOW + 30) * 1000));

    let late = fx
        .post(&format!("/sim/spaces/{CODE}/lobby/{pid}:admit"), json!({}))
        .await;
    assert_eq!((late.status, late.reason()), (412, "NOT_IN_LOBBY"));
}

#[tokio::test]
async fn lobby_timeout_is_a_setting() {
    let fx = Fixture::with(|c| c.model.lobby_timeout = std::time::Duration::from_secs(5)).await;
    let pid = fx.join(&fx.untrusted).await;
    fx.advance_ms(5_000).await;
    assert_eq!(
        fx.participant(pid).await["disconnectReason"],
        "x-REASON_ADMISSION_TIMEOUT"
    );
}

#[tokio::test]
async fn trusted_token_of_another_org_waits_in_the_lobby() {
    let fx = Fixture::new().await;
    let foreign = fx
        .post(
            "/sim/orgs/guest.example/interopTokens",
            json!({"name": "guest", "type": "PEXIP", "trusted": true}),
        )
        .await;
    assert_eq!(foreign.status, 201);
    let itk = foreign.json["token"].as_str().unwrap().to_owned();
    let pid = fx.join(&itk).await;
    assert_eq!(fx.session_states(pid).await, vec![waiting()]);
    assert_eq!(fx.participant(pid).await["trusted"], false);
}

#[tokio::test]
async fn open_space_admits_untrusted_gateways_when_configured() {
    let fx = Fixture::with(|c| c.model.open_admits_untrusted_gateway = true).await;
    let reply = fx
        .post(
            "/sim/spaces",
            json!({"meetingCode": "opn-spac-eee", "ownerOrg": "corp.example",
                   "config": {"accessType": "OPEN"}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    fx.post("/sim/spaces/opn-spac-eee:startConference", json!({}))
        .await;
    let reply = fx
        .connect_with("opn-spac-eee", Some(&fx.jwt(&fx.untrusted)))
        .await;
    let pid = reply.json["participantId"].as_i64().unwrap();
    // It belongs to the other space, not to CODE.
    let elsewhere = fx
        .get(&format!("/sim/spaces/{CODE}/participants/{pid}"))
        .await;
    assert_eq!(
        (elsewhere.status, elsewhere.reason()),
        (404, "PARTICIPANT_NOT_FOUND")
    );
    let info = fx
        .get(&format!("/sim/spaces/opn-spac-eee/participants/{pid}"))
        .await;
    assert_eq!(info.json["state"], "STATE_JOINED");
}

#[tokio::test]
async fn unknown_meeting_and_conference_not_started_are_404() {
    let fx = Fixture::new().await;
    let reply = fx
        .connect_with("zzz-zzzz-zzz", Some(&fx.jwt(&fx.trusted)))
        .await;
    reply.assert_error(
        404,
        "NOT_FOUND",
        "SPACE_NOT_FOUND",
        "no space is named \"zzz-zzzz-zzz\"",
    );

    fx.post(
        "/sim/spaces",
        json!({"meetingCode": "not-star-ted", "ownerOrg": "corp.example"}),
    )
    .await;
    let reply = fx
        .connect_with("not-star-ted", Some(&fx.jwt(&fx.trusted)))
        .await;
    reply.assert_error(
        404,
        "NOT_FOUND",
        "NO_ACTIVE_CONFERENCE",
        "no conference is running in this space",
    );
    let refused = fx.events("request_refused").await;
    let reasons: Vec<&str> = refused
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["SPACE_NOT_FOUND", "NO_ACTIVE_CONFERENCE"]);
}

#[tokio::test]
async fn conference_auto_starts_when_configured() {
    let fx = Fixture::with(|c| c.model.auto_start_conference = true).await;
    fx.post(
        "/sim/spaces",
        json!({"meetingCode": "aut-osta-rts", "ownerOrg": "corp.example"}),
    )
    .await;
    let reply = fx
        .connect_with("aut-osta-rts", Some(&fx.jwt(&fx.trusted)))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(fx.events("conference_started").await.len(), 2);
}

#[tokio::test]
async fn offer_that_is_not_sdp_is_400_invalid_offer() {
    let fx = Fixture::new().await;
    let path = format!("/v1/interop/spaces/{CODE}:connectGateway");
    let jwt = fx.jwt(&fx.trusted);
    let reply = support::request(
        fx.addr(),
        "POST",
        &path,
        Some(&jwt),
        Some(&json!({"offer": "hello"})),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_OFFER",
        "offer is not an SDP offer (must start with v=0)",
    );
}

#[tokio::test]
async fn leave_on_session_control_disconnects_with_client_left() {
    let fx = Fixture::new().await;
    let watcher = fx.join(&fx.trusted).await;
    let pid = fx.join(&fx.trusted).await;
    let answer = fx
        .send_on(
            pid,
            "session-control",
            json!({"request": {"requestId": 7, "leave": {}}}),
        )
        .await;
    assert_eq!(answer.len(), 1);
    assert_eq!(
        answer[0]["message"],
        json!({"response": {"requestId": 7, "status": {"code": 0, "message": "OK"}, "leave": {}},
               "resources": [{"id": 0, "sessionStatus": {
                   "connectionState": "STATE_DISCONNECTED",
                   "disconnectReason": "REASON_CLIENT_LEFT"}}]})
    );
    // The other gateway sees it leave the roster.
    let roster = fx.messages(watcher, Some("participants")).await;
    assert_eq!(
        roster.last().unwrap()["message"],
        json!({"deletedResources": [{"id": pid, "participant": true}]})
    );
    let left = fx.events("participant_left").await;
    assert_eq!(left[0]["reason"], "REASON_CLIENT_LEFT");
}
