//! meet-sim gateway authentication over real loopback HTTP (meet-side.md §5.b "Gateway
//! authentication" and the JWT rows of its test matrix): every refused token gets the
//! documented status (401 `UNAUTHENTICATED` from `JwtError::status()`, 403
//! `PERMISSION_DENIED` for the interop token) and a `request_refused` event.

#[path = "sim_support.rs"]
mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use support::{CODE, Fixture, ISS, KID, LONG_ID, NOW, es256_key};

/// The last `request_refused` event.
async fn last_refusal(fx: &Fixture) -> Value {
    fx.events("request_refused")
        .await
        .pop()
        .expect("a refusal was logged")
}

/// Asserts a 401 for `jwt` on `connectGateway` with `reason` and `message`, logged.
async fn refused_401(fx: &Fixture, jwt: &str, reason: &str, message: &str) {
    let joined_before = fx.events("participant_joined").await.len();
    let reply = fx.connect_with(CODE, Some(jwt)).await;
    reply.assert_error(401, "UNAUTHENTICATED", reason, message);
    let event = last_refusal(fx).await;
    assert_eq!(event["endpoint"], "connectGateway");
    assert_eq!(event["httpStatus"], 401);
    assert_eq!(event["reason"], reason);
    assert_eq!(event["atUnixMs"], json!(NOW * 1000));
    assert_eq!(fx.events("participant_joined").await.len(), joined_before);
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn claims(itk: &str) -> Value {
    json!({"iss": ISS, "sub": "call-1", "aud": "meet-sim", "iat": NOW, "nbf": NOW,
           "exp": NOW + 300, "jti": "hand-made", "itk": itk})
}

#[tokio::test]
async fn valid_token_is_accepted() {
    let fx = Fixture::new().await;
    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    assert_eq!(reply.json["participantId"], 1);
    assert_eq!(reply.json["traceId"].as_str().unwrap().len(), 16);
    let answer = reply.json["answer"].as_str().unwrap();
    assert!(answer.starts_with("v=0\r\n"), "{answer}");
    // the media plane's answer: every m-line mirrored, ICE-lite on the sim's UDP port,
    // and the simulcast layers accepted (RFC 8853)
    assert_eq!(answer.matches("m=").count(), 14, "{answer}");
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(answer.contains("a=simulcast:recv q;h;f"), "{answer}");
    // the send limit on the gateway's simulcast m-line (mid 12), and only there
    let video = answer
        .split("m=")
        .find(|s| s.contains("a=mid:12\r\n"))
        .unwrap();
    assert!(video.contains("b=TIAS:2000000\r\n"), "{video}");
    assert_eq!(answer.matches("b=TIAS").count(), 1, "{answer}");
    assert!(answer.contains("127.0.0.1"), "{answer}");
    assert!(fx.events("request_refused").await.is_empty());
}

#[tokio::test]
async fn expired_token_is_401() {
    let fx = Fixture::new().await;
    // Minted 400 s ago with the longest lifetime: expired 100 s ago, past the 30 s leeway.
    let old = fx.now() - Duration::from_secs(400);
    let jwt = fx.key.mint(&fx.mint_request(&fx.trusted), old).unwrap();
    refused_401(&fx, jwt.expose(), "TOKEN_EXPIRED", "token expired").await;
}

#[tokio::test]
async fn token_expired_within_the_leeway_is_accepted() {
    let fx = Fixture::new().await;
    let old = fx.now() - Duration::from_secs(320);
    let jwt = fx.key.mint(&fx.mint_request(&fx.trusted), old).unwrap();
    assert_eq!(fx.connect_with(CODE, Some(jwt.expose())).await.status, 200);
}

#[tokio::test]
async fn token_not_yet_valid_is_401() {
    let fx = Fixture::new().await;
    let later = fx.now() + Duration::from_secs(120);
    let jwt = fx.key.mint(&fx.mint_request(&fx.trusted), later).unwrap();
    refused_401(
        &fx,
        jwt.expose(),
        "TOKEN_NOT_YET_VALID",
        "token not yet valid",
    )
    .await;
}

#[tokio::test]
async fn forged_signature_is_401() {
    let fx = Fixture::new().await;
    let forger = es256_key(KID);
    let jwt = forger
        .mint(&fx.mint_request(&fx.trusted), fx.now())
        .unwrap();
    refused_401(
        &fx,
        jwt.expose(),
        "TOKEN_BAD_SIGNATURE",
        "bad token signature",
    )
    .await;
}

#[tokio::test]
async fn wrong_audience_is_401() {
    let fx = Fixture::new().await;
    let mut req = fx.mint_request(&fx.trusted);
    req.audience = "meet.google.com".into();
    let jwt = fx.key.mint(&req, fx.now()).unwrap();
    refused_401(
        &fx,
        jwt.expose(),
        "TOKEN_WRONG_AUDIENCE",
        "token audience is not this service",
    )
    .await;
}

#[tokio::test]
async fn wrong_issuer_is_401() {
    let fx = Fixture::new().await;
    let mut req = fx.mint_request(&fx.trusted);
    req.issuer = "other-gateway.example".into();
    let jwt = fx.key.mint(&req, fx.now()).unwrap();
    refused_401(
        &fx,
        jwt.expose(),
        "TOKEN_WRONG_ISSUER",
        "token issuer is not the key's registered issuer",
    )
    .await;
}

#[tokio::test]
async fn alg_none_is_401() {
    let fx = Fixture::new().await;
    let header = b64(&json!({"alg": "none", "typ": "JWT", "kid": KID}));
    let jwt = format!("{header}.{}.", b64(&claims(&fx.trusted)));
    refused_401(
        &fx,
        &jwt,
        "TOKEN_DISALLOWED_ALGORITHM",
        "token algorithm not allowed",
    )
    .await;
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_401() {
    let fx = Fixture::new().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let secret = fx.key.verifying_key().to_jwk_json();
    let jwt = jsonwebtoken::encode(
        &header,
        &claims(&fx.trusted),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    refused_401(
        &fx,
        &jwt,
        "TOKEN_DISALLOWED_ALGORITHM",
        "token algorithm not allowed",
    )
    .await;
}

#[tokio::test]
async fn replayed_jti_is_401() {
    let fx = Fixture::new().await;
    let jwt = fx.jwt(&fx.trusted);
    assert_eq!(fx.connect_with(CODE, Some(&jwt)).await.status, 200);
    refused_401(&fx, &jwt, "TOKEN_REPLAYED_JTI", "token id already used").await;
    // A fresh token is fine.
    assert_eq!(
        fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted)))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_kid_and_missing_token_are_401() {
    let fx = Fixture::new().await;
    let stranger = es256_key("not-enrolled");
    let jwt = stranger
        .mint(&fx.mint_request(&fx.trusted), fx.now())
        .unwrap();
    refused_401(
        &fx,
        jwt.expose(),
        "TOKEN_UNKNOWN_KID",
        "token key id is not registered",
    )
    .await;

    let reply = fx.connect_with(CODE, None).await;
    reply.assert_error(
        401,
        "UNAUTHENTICATED",
        "CREDENTIALS_MISSING",
        "missing Authorization: Bearer <gateway JWT>",
    );
    refused_401(
        &fx,
        "not-a-jwt",
        "TOKEN_MALFORMED",
        "malformed token: not three dot-separated parts",
    )
    .await;
}

#[tokio::test]
async fn removed_key_is_refused_as_unknown() {
    let fx = Fixture::new().await;
    let reply = request_delete(&fx, &format!("/sim/gateways/{KID}")).await;
    assert_eq!(reply, 204);
    refused_401(
        &fx,
        &fx.jwt(&fx.trusted),
        "TOKEN_UNKNOWN_KID",
        "token key id is not registered",
    )
    .await;
    let removed = fx.events("gateway_key_removed").await;
    assert_eq!(removed[0]["kid"], KID);
}

async fn request_delete(fx: &Fixture, path: &str) -> u16 {
    support::request(fx.addr(), "DELETE", path, None, None)
        .await
        .status
}

#[tokio::test]
async fn revoked_interop_token_is_403() {
    let fx = Fixture::new().await;
    let path = format!(
        "/sim/orgs/corp.example/interopTokens/{}:revoke",
        fx.trusted_id
    );
    let reply = fx.post(&path, json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["revoked"], true);
    assert!(
        reply.json.get("token").is_none(),
        "the value is shown once only"
    );

    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    reply.assert_error(
        403,
        "PERMISSION_DENIED",
        "INTEROP_TOKEN_REVOKED",
        "the interop token was revoked",
    );
    let event = last_refusal(&fx).await;
    assert_eq!(
        (event["httpStatus"].clone(), event["reason"].clone()),
        (json!(403), json!("INTEROP_TOKEN_REVOKED"))
    );
    let revoked = fx.events("interop_token_revoked").await;
    assert_eq!(revoked[0]["tokenId"], json!(fx.trusted_id));
}

#[tokio::test]
async fn unknown_interop_token_is_403() {
    let fx = Fixture::new().await;
    let reply = fx
        .connect_with(CODE, Some(&fx.jwt("itk-never-issued")))
        .await;
    reply.assert_error(
        403,
        "PERMISSION_DENIED",
        "INTEROP_TOKEN_UNKNOWN",
        "the interop token is not known",
    );
}

#[tokio::test]
async fn org_with_interop_disabled_is_403() {
    let fx = Fixture::new().await;
    let reply = fx
        .post(
            "/sim/orgs/corp.example:setInterop",
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(
        reply.json,
        json!({"org": "corp.example", "interopEnabled": false})
    );
    let reply = fx.connect_with(CODE, Some(&fx.jwt(&fx.trusted))).await;
    reply.assert_error(
        403,
        "PERMISSION_DENIED",
        "INTEROP_DISABLED",
        "the token's organisation does not allow interoperability",
    );
}

#[tokio::test]
async fn resolve_needs_a_valid_token_and_finds_every_id_form() {
    let fx = Fixture::new().await;
    for id in [CODE, "ABCDEFGHIJ", LONG_ID] {
        let path = format!("/v1/interop/meetingIds/{id}:resolve");
        let jwt = fx.jwt(&fx.untrusted);
        let reply = support::request(fx.addr(), "GET", &path, Some(&jwt), None).await;
        assert_eq!(reply.status, 200, "{id}: {}", reply.json);
        assert_eq!(
            reply.json,
            json!({"space": fx.space, "meetingCode": CODE}),
            "{id}"
        );
    }
    let resolved = fx.events("meeting_id_resolved").await;
    assert_eq!(resolved.len(), 3);
    assert_eq!(resolved[2]["id"], LONG_ID);

    let jwt = fx.jwt(&fx.trusted);
    let path = "/v1/interop/meetingIds/9999999999999:resolve";
    let reply = support::request(fx.addr(), "GET", path, Some(&jwt), None).await;
    reply.assert_error(
        404,
        "NOT_FOUND",
        "MEETING_ID_NOT_FOUND",
        "no meeting has the id \"9999999999999\"",
    );

    let old = fx.now() - Duration::from_secs(400);
    let expired = fx.key.mint(&fx.mint_request(&fx.trusted), old).unwrap();
    let path = format!("/v1/interop/meetingIds/{CODE}:resolve");
    let reply = support::request(fx.addr(), "GET", &path, Some(expired.expose()), None).await;
    reply.assert_error(401, "UNAUTHENTICATED", "TOKEN_EXPIRED", "token expired");
    let event = last_refusal(&fx).await;
    assert_eq!(event["endpoint"], "resolve");
}
