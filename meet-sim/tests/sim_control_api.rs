//! meet-sim's control API and Media-API endpoint over real loopback HTTP (meet-side.md §5.b
//! "Control API for tests", "Public, Meet-shaped endpoints"): spaces, enrolment, the clock,
//! the event log, fault injection, `connectActiveConference`, and the binary.

#[path = "sim_support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meet_sim::model::{MEDIA_SCOPES, is_long_id, is_meeting_code};
use serde_json::{Value, json};
use support::{CODE, Fixture, KID, NOW, es256_key, media_client_offer, request, start_sim};

#[tokio::test]
async fn spaces_get_codes_and_long_ids_in_the_documented_formats() {
    let sim = start_sim(|_| {}).await;
    let reply = request(
        sim.addr(),
        "POST",
        "/sim/spaces",
        None,
        Some(&json!({"ownerOrg": "corp.example"})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let code = reply.json["meetingCode"].as_str().unwrap();
    assert!(is_meeting_code(code), "{code}");
    let long_id = reply.json["longId"].as_str().unwrap();
    assert!(is_long_id(long_id, 13), "{long_id}");
    assert_eq!(
        reply.json["meetingUri"],
        json!(format!("https://meet.google.com/{code}"))
    );
    assert!(reply.json["name"].as_str().unwrap().starts_with("spaces/"));
    assert_eq!(reply.json["config"]["accessType"], "TRUSTED");
    assert_eq!(reply.json["activeConference"], Value::Null);

    let by_code = request(
        sim.addr(),
        "GET",
        &format!("/sim/spaces/{long_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(by_code.json["meetingCode"], json!(code));

    let duplicate = request(
        sim.addr(),
        "POST",
        "/sim/spaces",
        None,
        Some(&json!({"ownerOrg": "corp.example", "meetingCode": code.to_uppercase()})),
    )
    .await;
    duplicate.assert_error(
        409,
        "ALREADY_EXISTS",
        "MEETING_ID_IN_USE",
        "meetingCode, longId or shortId already names a space",
    );
    let bad = request(
        sim.addr(),
        "POST",
        "/sim/spaces",
        None,
        Some(&json!({"ownerOrg": "corp.example", "longId": "12345"})),
    )
    .await;
    bad.assert_error(
        400,
        "INVALID_ARGUMENT",
        "BAD_REQUEST",
        "longId must be 13 digits, not starting with 0",
    );
    let events = request(sim.addr(), "GET", "/sim/events", None, None).await;
    assert_eq!(events.json["events"][0]["type"], "space_created");
    assert_eq!(events.json["events"][0]["meetingCode"], json!(code));
}

#[tokio::test]
async fn enrolment_refuses_csr_duplicates_and_bad_keys() {
    let fx = Fixture::new().await;
    let csr = fx
        .post(
            "/sim/gateways",
            json!({"issuer": "gw", "csr": "-----BEGIN CERTIFICATE REQUEST-----"}),
        )
        .await;
    csr.assert_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_CSR",
        "csr is not PEM (expected -----BEGIN CERTIFICATE REQUEST-----)",
    );
    let jwk: Value = serde_json::from_str(&es256_key(KID).verifying_key().to_jwk_json()).unwrap();
    let duplicate = fx
        .post("/sim/gateways", json!({"issuer": "gw", "jwk": jwk}))
        .await;
    duplicate.assert_error(
        409,
        "ALREADY_EXISTS",
        "KID_IN_USE",
        "kid \"gw-key-1\" is already enrolled",
    );
    let bad = fx
        .post(
            "/sim/gateways",
            json!({"issuer": "gw", "jwk": {"kty": "oct", "kid": "k"}}),
        )
        .await;
    assert_eq!((bad.status, bad.reason()), (400, "INVALID_KEY"));

    // A PEM public key enrols too, and its tokens are accepted.
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let reply = fx
        .post(
            "/sim/gateways",
            json!({"issuer": "gw2.example", "publicKeyPem": pair.public_key_pem(),
                   "kid": "pem-key", "alg": "ES256"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.json.clone()),
        (
            201,
            json!({"issuer": "gw2.example", "kid": "pem-key", "alg": "ES256"})
        )
    );
    let listed = fx.get("/sim/gateways").await;
    assert_eq!(listed.json["gateways"].as_array().unwrap().len(), 2);
    let enrolled = fx.events("gateway_enrolled").await;
    assert_eq!(enrolled[1]["kid"], "pem-key");
}

#[tokio::test]
async fn interop_tokens_flip_trusted_and_list_without_values() {
    let fx = Fixture::new().await;
    let path = format!(
        "/sim/orgs/corp.example/interopTokens/{}:setTrusted",
        fx.untrusted_id
    );
    let reply = fx.post(&path, json!({"trusted": true})).await;
    assert_eq!(reply.json["trusted"], true);
    let pid = fx.join(&fx.untrusted).await;
    assert_eq!(fx.participant(pid).await["state"], "STATE_JOINED");

    let listed = fx.get("/sim/orgs/corp.example/interopTokens").await;
    let tokens = listed.json["interopTokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t.get("token").is_none()));
    assert_eq!(fx.events("interop_token_trust_changed").await.len(), 1);

    let unknown = fx
        .post("/sim/orgs/corp.example/interopTokens/99:revoke", json!({}))
        .await;
    assert_eq!(
        (unknown.status, unknown.reason()),
        (404, "INTEROP_TOKEN_NOT_FOUND")
    );
}

#[tokio::test]
async fn clock_is_manual_moves_forward_only_and_is_logged() {
    let fx = Fixture::new().await;
    let clock = fx.get("/sim/clock").await;
    assert_eq!(
        clock.json,
        json!({"nowUnixMs": NOW * 1000, "mode": "manual"})
    );
    let moved = fx.post("/sim/clock", json!({"advanceMs": 1500})).await;
    assert_eq!(moved.json["nowUnixMs"], json!(NOW * 1000 + 1500));
    let set = fx
        .post("/sim/clock", json!({"setUnixMs": NOW * 1000 + 10_000}))
        .await;
    assert_eq!(set.json["nowUnixMs"], json!(NOW * 1000 + 10_000));
    let back = fx
        .post("/sim/clock", json!({"setUnixMs": NOW * 1000}))
        .await;
    back.assert_error(
        400,
        "INVALID_ARGUMENT",
        "BAD_REQUEST",
        "the clock never runs backwards: setUnixMs is before now",
    );
    let changes = fx.events("clock_changed").await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1]["fromUnixMs"], json!(NOW * 1000 + 1500));
}

#[tokio::test]
async fn event_log_is_append_only_and_pages_with_since() {
    let fx = Fixture::new().await;
    let first = fx.get("/sim/events").await;
    let events = first.json["events"].as_array().unwrap().clone();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "gateway_enrolled",
            "interop_token_issued",
            "interop_token_issued",
            "space_created",
            "conference_started"
        ]
    );
    let next = first.json["next"].as_u64().unwrap();
    fx.join(&fx.trusted).await;
    let later = fx.get(&format!("/sim/events?since={next}")).await;
    let types: Vec<&str> = later.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["participant_joined"]);
    assert_eq!(later.json["next"], json!(next + 1));
}

#[tokio::test]
async fn fail_connect_fault_answers_the_injected_error_then_clears() {
    let fx = Fixture::new().await;
    let faults = fx
        .post(
            "/sim/faults",
            json!({"failConnect": {"status": "RESOURCE_EXHAUSTED",
                                   "reason": "CONNECTIONS_EXHAUSTED", "times": 1}}),
        )
        .await;
    assert_eq!(faults.status, 200, "{}", faults.json);
    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    reply.assert_error(
        429,
        "RESOURCE_EXHAUSTED",
        "CONNECTIONS_EXHAUSTED",
        "injected failure (failConnect)",
    );
    assert_eq!(fx.get("/sim/faults").await.json["failConnect"], Value::Null);
    assert_eq!(
        fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted)))
            .await
            .status,
        200
    );
    assert_eq!(fx.events("faults_changed").await.len(), 1);

    let bad = fx
        .post(
            "/sim/faults",
            json!({"failConnect": {"status": "NOPE", "reason": "X"}}),
        )
        .await;
    assert_eq!((bad.status, bad.reason()), (400, "BAD_REQUEST"));
}

#[tokio::test]
async fn expire_tokens_now_refuses_tokens_minted_before_it() {
    let fx = Fixture::new().await;
    let early = fx.jwt(&fx.trusted);
    fx.post("/sim/faults", json!({"expireTokensNow": true}))
        .await;
    let reply = fx.connect_with(CODE, Some(&early)).await;
    reply.assert_error(401, "UNAUTHENTICATED", "TOKEN_EXPIRED", "token expired");
    fx.advance_ms(1000).await;
    assert_eq!(
        fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted)))
            .await
            .status,
        200
    );
    let cleared = request(fx.addr(), "DELETE", "/sim/faults", None, None).await;
    assert_eq!(cleared.status, 204);
    assert_eq!(
        fx.get("/sim/faults").await.json,
        json!({"delayAnswerMs": 0, "dropChannel": null, "failConnect": null,
               "tokensExpiredUpToUnixS": null})
    );
}

#[tokio::test]
async fn delay_answer_fault_delays_the_connect_answer() {
    let fx = Fixture::new().await;
    fx.post("/sim/faults", json!({"delayAnswerMs": 300})).await;
    let started = Instant::now();
    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    assert_eq!(reply.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

async fn media_connect(fx: &Fixture, token: &str) -> support::Reply {
    let path = format!("/v2beta/spaces/{CODE}:connectActiveConference");
    request(
        fx.addr(),
        "POST",
        &path,
        Some(token),
        Some(&json!({"offer": media_client_offer(3, 3)})),
    )
    .await
}

async fn oauth_token(fx: &Fixture, scopes: Value) -> String {
    let reply = fx.post("/sim/oauthTokens", json!({"scopes": scopes})).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["scopes"], scopes);
    reply.json["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn media_api_client_needs_a_scope_a_host_and_a_free_slot() {
    let fx = Fixture::new().await;
    media_connect(&fx, "ya29.unknown").await.assert_error(
        401,
        "UNAUTHENTICATED",
        "ACCESS_TOKEN_INVALID",
        "the OAuth token is not known",
    );
    let wrong = oauth_token(
        &fx,
        json!(["https://www.googleapis.com/auth/meetings.space.readonly"]),
    )
    .await;
    media_connect(&fx, &wrong).await.assert_error(
        403,
        "PERMISSION_DENIED",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "the OAuth token has no meetings.conference.media scope",
    );
    let good = oauth_token(&fx, json!([MEDIA_SCOPES[0]])).await;
    media_connect(&fx, &good).await.assert_error(
        412,
        "FAILED_PRECONDITION",
        "CONSENTER_ABSENT",
        "no host is in the conference to consent",
    );
    fx.add_person("Alice", true).await;
    let reply = media_connect(&fx, &good).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["answer", "traceId"]
    );
    media_connect(&fx, &good).await.assert_error(
        429,
        "RESOURCE_EXHAUSTED",
        "CONNECTIONS_EXHAUSTED",
        "another Media API client is connected to this conference",
    );
    let participants = fx.get(&format!("/sim/spaces/{CODE}/participants")).await;
    let client = participants.json["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "media_client")
        .unwrap()
        .clone();
    let pid = client["participantId"].as_i64().unwrap();
    assert_eq!(
        fx.session_states(pid).await,
        vec![json!({"connectionState": "STATE_JOINED"})]
    );
    // Media API clients get no x- channels.
    assert!(fx.messages(pid, Some("x-conference")).await.is_empty());
}

#[tokio::test]
async fn unknown_endpoints_and_verbs_are_404() {
    let fx = Fixture::new().await;
    fx.get("/nope")
        .await
        .assert_error(404, "NOT_FOUND", "NO_SUCH_ENDPOINT", "no such endpoint");
    let reply = fx
        .post(&format!("/sim/spaces/{CODE}:explode"), json!({}))
        .await;
    assert_eq!((reply.status, reply.reason()), (404, "NO_SUCH_ENDPOINT"));
    let reply = fx
        .post(
            &format!("/v1/interop/spaces/{CODE}:connectActiveConference"),
            json!({}),
        )
        .await;
    assert_eq!((reply.status, reply.reason()), (404, "NO_SUCH_ENDPOINT"));
    let reply = fx.post("/sim/spaces", json!({"ownerOrg": 5})).await;
    assert_eq!((reply.status, reply.reason()), (400, "BAD_REQUEST"));
}

#[tokio::test]
async fn embedding_refuses_a_non_loopback_address() {
    let err = meet_sim::Sim::spawn("0.0.0.0:0".parse().unwrap(), meet_sim::SimConfig::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn binary_prints_its_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meet-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--manual-clock-start",
            "1800000000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("meet-sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("meet-sim listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(request(
        url.parse().unwrap(),
        "GET",
        "/sim/clock",
        None,
        None,
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        reply.json,
        json!({"nowUnixMs": 1_800_000_000_000u64, "mode": "manual"})
    );
}
