//! meet's `HttpConnector` (feature `http`) against meet-sim over real loopback sockets
//! (meet-side.md §5.a, §5.b): resolve and connect succeed, and every refusal the simulator
//! makes ends as the documented `SessionOutcome` and SIP code. What needs no simulator (canned
//! servers, the error table, construction) is tested in `meet/tests/connector.rs`.

#[path = "sim_support.rs"]
mod sim_support;

use std::sync::Arc;
use std::time::Duration;

use meet::connector::{
    CallerProtocol, ConferenceRef, DialString, GatewayCredential, HttpConnector, JoinInfo,
    MeetConnector, MeetError, MeetProfile,
};
use meet::jwt::{GatewayKey, InteropToken};
use meet::session::SessionOutcome;
use serde_json::{Value, json};
use sim_support::{CODE, Fixture, ISS, LONG_ID, es256_key, offer};

/// The connector's own key id, enrolled next to the fixture's.
const CONNECTOR_KID: &str = "connector-key";

/// A fresh key, enrolled with the simulator for [`ISS`].
async fn enrolled_key(fx: &Fixture) -> GatewayKey {
    let key = es256_key(CONNECTOR_KID);
    let jwk: Value = serde_json::from_str(&key.verifying_key().to_jwk_json()).unwrap();
    let reply = fx
        .post("/sim/gateways", json!({"issuer": ISS, "jwk": jwk}))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    key
}

/// A connector to the fixture's simulator, audience `audience`, interop token `itk`, minting
/// at the simulator's time (its manual clock does not move unless a test moves it).
async fn connector_for(fx: &Fixture, audience: &str, itk: &str) -> HttpConnector {
    let credential = GatewayCredential::new(
        enrolled_key(fx).await,
        ISS,
        audience,
        InteropToken::new(itk),
    );
    let now = fx.now();
    HttpConnector::new(&fx.sim.url(), credential)
        .unwrap()
        .with_clock(move || now)
}

/// A connector with the trusted interop token and the simulator's audience.
async fn trusted_connector(fx: &Fixture) -> HttpConnector {
    connector_for(fx, "meet-sim", &fx.trusted).await
}

fn join_info() -> JoinInfo {
    JoinInfo {
        display_name: "Room 4.1".into(),
        caller_uri: "sip:room41@corp.example".into(),
        protocol: CallerProtocol::Sip,
        call_id: "a84b4c76e66710@pc33.corp.example".into(),
    }
}

/// The fixture's space as `resolve` finds it.
fn test_space(fx: &Fixture) -> ConferenceRef {
    ConferenceRef {
        space: fx.space.clone(),
        meeting_code: Some(CODE.to_owned()),
    }
}

fn long_id() -> DialString {
    DialString::LongId(LONG_ID.to_owned())
}

/// Asserts that `err` is a refusal with `http`, `rpc` and `reason`, and that it ends the call
/// as `outcome` with SIP `sip`.
#[track_caller]
fn assert_refused(
    err: &MeetError,
    http: u16,
    rpc: &str,
    reason: &str,
    outcome: SessionOutcome,
    sip: u16,
) {
    let MeetError::Refused {
        http_status,
        status,
        reason: got_reason,
        message,
    } = err
    else {
        panic!("not a refusal: {err:?}");
    };
    assert_eq!(
        (*http_status, status.as_deref(), got_reason.as_deref()),
        (http, Some(rpc), Some(reason)),
        "{err}"
    );
    assert!(message.as_deref().is_some_and(|m| !m.is_empty()), "{err}");
    assert_eq!(
        (err.outcome(), err.outcome().sip_status()),
        (outcome, sip),
        "{err}"
    );
}

/// Sets the host locks of the test space.
async fn set_locks(fx: &Fixture, video: bool, audio: bool) -> sim_support::Reply {
    let path = format!("/sim/spaces/{CODE}:setLocks");
    fx.post(&path, json!({"video": video, "audio": audio}))
        .await
}

/// Sets the simulator's faults.
async fn set_faults(fx: &Fixture, faults: Value) {
    let reply = fx.post("/sim/faults", faults).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
}

#[tokio::test]
async fn resolve_finds_the_space_by_long_id_and_by_meeting_code() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    assert_eq!(
        connector.resolve(&long_id()).await.unwrap(),
        test_space(&fx)
    );
    let dial = DialString::parse("ABC-Defg-HIJ", connector.profile()).unwrap();
    assert_eq!(connector.resolve(&dial).await.unwrap(), test_space(&fx));
    let resolved: Vec<Value> = fx.events("meeting_id_resolved").await;
    let ids: Vec<&str> = resolved.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [LONG_ID, CODE]);
    assert!(fx.events("request_refused").await.is_empty());
}

#[tokio::test]
async fn resolve_finds_a_short_id_with_the_pin_prefix() {
    let fx = Fixture::new().await;
    let created = fx
        .post(
            "/sim/spaces",
            json!({"meetingCode": "xyz-wxyz-xyz", "shortId": "7771234", "ownerOrg": "corp.example"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let connector = trusted_connector(&fx)
        .await
        .with_profile(MeetProfile::default().with_short_id_prefix("777"));
    let dial = DialString::parse("777 1234", connector.profile()).unwrap();
    assert_eq!(
        dial,
        DialString::ShortId {
            prefix: "777".into(),
            digits: "1234".into()
        }
    );
    let found = connector.resolve(&dial).await.unwrap();
    assert_eq!(found.space, created.json["name"].as_str().unwrap());
    assert_eq!(found.meeting_code.as_deref(), Some("xyz-wxyz-xyz"));
}

#[tokio::test]
async fn unknown_id_is_not_found_404() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    let err = connector
        .resolve(&DialString::LongId("9999999999999".into()))
        .await
        .unwrap_err();
    assert_refused(
        &err,
        404,
        "NOT_FOUND",
        "MEETING_ID_NOT_FOUND",
        SessionOutcome::NotFound,
        404,
    );
    let err = connector
        .resolve(&DialString::MeetingCode("zzz-zzzz-zzz".into()))
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), SessionOutcome::NotFound);
}

#[tokio::test]
async fn conference_not_started_is_not_found_404() {
    let fx = Fixture::new().await;
    let ended = fx
        .post(&format!("/sim/spaces/{CODE}:endConference"), json!({}))
        .await;
    assert_eq!(ended.status, 200, "{}", ended.json);
    let connector = trusted_connector(&fx).await;
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        404,
        "NOT_FOUND",
        "NO_ACTIVE_CONFERENCE",
        SessionOutcome::NotFound,
        404,
    );
}

#[tokio::test]
async fn wrong_audience_is_unauthenticated_403() {
    let fx = Fixture::new().await;
    let connector = connector_for(&fx, "meet.google.com", &fx.trusted).await;
    let err = connector.resolve(&long_id()).await.unwrap_err();
    assert_refused(
        &err,
        401,
        "UNAUTHENTICATED",
        "TOKEN_WRONG_AUDIENCE",
        SessionOutcome::Unauthenticated,
        403,
    );
    assert!(err.outcome().is_config_error());
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), SessionOutcome::Unauthenticated);
}

#[tokio::test]
async fn expired_token_is_unauthenticated_403() {
    let fx = Fixture::new().await;
    // Tokens minted at the simulator's start, valid 60 s.
    let connector = trusted_connector(&fx).await;
    assert!(connector.resolve(&long_id()).await.is_ok());
    // 400 s later the simulator finds them expired, past its 30 s leeway.
    fx.advance_ms(400_000).await;
    let err = connector.resolve(&long_id()).await.unwrap_err();
    assert_refused(
        &err,
        401,
        "UNAUTHENTICATED",
        "TOKEN_EXPIRED",
        SessionOutcome::Unauthenticated,
        403,
    );
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_eq!(err.outcome().sip_status(), 403);
}

#[tokio::test]
async fn revoked_interop_token_is_permission_denied_403() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    assert!(connector.resolve(&long_id()).await.is_ok());
    let path = format!(
        "/sim/orgs/corp.example/interopTokens/{}:revoke",
        fx.trusted_id
    );
    assert_eq!(fx.post(&path, json!({})).await.status, 200);
    let err = connector.resolve(&long_id()).await.unwrap_err();
    assert_refused(
        &err,
        403,
        "PERMISSION_DENIED",
        "INTEROP_TOKEN_REVOKED",
        SessionOutcome::PermissionDenied,
        403,
    );
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), SessionOutcome::PermissionDenied);
}

#[tokio::test]
async fn host_locks_are_480() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    assert_eq!(set_locks(&fx, true, false).await.status, 200);
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        412,
        "FAILED_PRECONDITION",
        "VIDEO_LOCKED",
        SessionOutcome::VideoLocked,
        480,
    );
    assert_eq!(set_locks(&fx, false, true).await.status, 200);
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        412,
        "FAILED_PRECONDITION",
        "AUDIO_LOCKED",
        SessionOutcome::AudioLocked,
        480,
    );
    // Unlocked, the same connector joins.
    assert_eq!(set_locks(&fx, false, false).await.status, 200);
    assert!(
        connector
            .connect(&test_space(&fx), &offer(), &join_info())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn trusted_connect_returns_the_answer_and_participant() {
    let fx = Fixture::new().await;
    let connector: Arc<dyn MeetConnector> = Arc::new(trusted_connector(&fx).await);
    let conference = connector.resolve(&long_id()).await.unwrap();
    let join = JoinInfo {
        protocol: CallerProtocol::H323,
        ..join_info()
    };
    let outcome = connector
        .connect(&conference, &offer(), &join)
        .await
        .unwrap();
    assert!(outcome.answer.starts_with("v=0\r\n"), "{}", outcome.answer);
    assert_eq!(outcome.trace_id.as_deref().map(str::len), Some(16));
    let pid = outcome.participant_id.expect("a participant id");
    assert_eq!(pid, 1);
    // The simulator saw the caller as sent, the call id as the token's subject, and let the
    // trusted gateway straight in.
    let participant = fx.participant(pid).await;
    assert_eq!(participant["displayName"], "Room 4.1");
    assert_eq!(participant["protocol"], "H323");
    assert_eq!(participant["callerUri"], "sip:room41@corp.example");
    assert_eq!(participant["callId"], "a84b4c76e66710@pc33.corp.example");
    assert_eq!(participant["issuer"], ISS);
    assert_eq!(participant["trusted"], true);
    assert_eq!(participant["state"], "STATE_JOINED");
    // A second call joins as a second participant: every request has its own token.
    let again = connector
        .connect(&conference, &offer(), &join)
        .await
        .unwrap();
    assert_eq!(again.participant_id, Some(2));
}

#[tokio::test]
async fn untrusted_connect_is_a_success_that_waits_in_the_lobby() {
    let fx = Fixture::new().await;
    let connector = connector_for(&fx, "meet-sim", &fx.untrusted).await;
    let outcome = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap();
    let pid = outcome.participant_id.unwrap();
    assert_eq!(fx.participant(pid).await["state"], "STATE_WAITING");
}

#[tokio::test]
async fn invalid_offer_is_offer_rejected_488() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    let err = connector
        .connect(&test_space(&fx), "not sdp", &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        400,
        "INVALID_ARGUMENT",
        "INVALID_OFFER",
        SessionOutcome::OfferRejected,
        488,
    );
}

#[tokio::test]
async fn injected_connect_failures_map_by_status_and_reason() {
    let fx = Fixture::new().await;
    let connector = trusted_connector(&fx).await;
    set_faults(
        &fx,
        json!({"failConnect": {"status": "UNAVAILABLE", "reason": "BACKEND_DOWN", "times": 1}}),
    )
    .await;
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        503,
        "UNAVAILABLE",
        "BACKEND_DOWN",
        SessionOutcome::Unavailable,
        503,
    );
    set_faults(
        &fx,
        json!({"failConnect": {"status": "RESOURCE_EXHAUSTED", "reason": "CONNECTIONS_EXHAUSTED", "times": 1}}),
    )
    .await;
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_refused(
        &err,
        429,
        "RESOURCE_EXHAUSTED",
        "CONNECTIONS_EXHAUSTED",
        SessionOutcome::Busy,
        486,
    );
    // Used up: the next connect goes through.
    assert!(
        connector
            .connect(&test_space(&fx), &offer(), &join_info())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn slow_answer_times_out_as_unavailable_503() {
    let fx = Fixture::new().await;
    set_faults(&fx, json!({"delayAnswerMs": 3000})).await;
    let connector = trusted_connector(&fx)
        .await
        .with_timeout(Duration::from_millis(200));
    let err = connector
        .connect(&test_space(&fx), &offer(), &join_info())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MeetError::Timeout {
            timeout: Duration::from_millis(200)
        }
    );
    assert_eq!(err.outcome().sip_status(), 503);
}

#[test]
fn the_connector_and_the_simulator_agree_on_the_id_rules() {
    assert_eq!(
        usize::from(MeetProfile::default().long_id_len),
        meet_sim::model::DEFAULT_LONG_ID_LEN
    );
    assert_eq!(
        (
            meet::connector::MIN_SHORT_ID_LEN,
            meet::connector::MAX_SHORT_ID_LEN
        ),
        (
            meet_sim::model::MIN_SHORT_ID_LEN,
            meet_sim::model::MAX_SHORT_ID_LEN
        )
    );
}
