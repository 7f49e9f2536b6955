//! `HttpConnector` (feature `http`) without a backend: nobody listening, canned answers it
//! does not understand, the one table from `MeetError` to `SessionOutcome` and SIP code,
//! construction and `Debug` output. The connector against meet-sim is tested in
//! `meet-sim/tests/connector.rs`.

use std::time::{Duration, UNIX_EPOCH};

use meet::connector::{
    CallerProtocol, ConferenceRef, DialString, GatewayCredential, HttpConnector, JoinInfo,
    MeetConnector, MeetError, MeetProfile, VideoCodec,
};
use meet::jwt::{GatewayKey, InteropToken, JwtError, SigningAlgorithm};
use meet::session::{ConnectFailure, SessionOutcome};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// The connector's key id.
const CONNECTOR_KID: &str = "connector-key";
/// The gateway's issuer.
const ISS: &str = "gw.tcn.example";

/// A fresh ES256 gateway key with `kid` (P-256 from rcgen, PKCS#8).
fn es256_key(kid: &str) -> GatewayKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    GatewayKey::from_pem(kid, SigningAlgorithm::Es256, &pair.serialize_pem()).unwrap()
}

/// An offer; nothing here reads it.
fn offer() -> String {
    "v=0\r\n".to_owned()
}

fn join_info() -> JoinInfo {
    JoinInfo {
        display_name: "Room 4.1".into(),
        caller_uri: "sip:room41@corp.example".into(),
        protocol: CallerProtocol::Sip,
        call_id: "a84b4c76e66710@pc33.corp.example".into(),
    }
}

fn long_id() -> DialString {
    DialString::LongId("1234567890123".to_owned())
}

#[tokio::test]
async fn nobody_listening_is_unavailable_503() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let credential = GatewayCredential::new(
        es256_key(CONNECTOR_KID),
        ISS,
        "meet-sim",
        InteropToken::new("itk"),
    );
    let connector = HttpConnector::new(&format!("http://127.0.0.1:{port}"), credential).unwrap();
    let err = connector.resolve(&long_id()).await.unwrap_err();
    assert!(matches!(err, MeetError::Transport { .. }), "{err:?}");
    assert_eq!(
        (err.outcome(), err.outcome().sip_status()),
        (SessionOutcome::Unavailable, 503)
    );
    let err = connector
        .connect(
            &ConferenceRef {
                space: "spaces/x".into(),
                meeting_code: None,
            },
            &offer(),
            &join_info(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.outcome().sip_status(), 503);
}

/// A one-shot server that reads one request and answers `response` verbatim; returns its
/// base URL.
async fn canned_server(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 8192];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
    });
    format!("http://{addr}")
}

async fn resolve_against(response: &'static str) -> MeetError {
    let credential = GatewayCredential::new(
        es256_key(CONNECTOR_KID),
        ISS,
        "meet-sim",
        InteropToken::new("itk"),
    );
    HttpConnector::new(&canned_server(response).await, credential)
        .unwrap()
        .resolve(&long_id())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn answers_that_are_not_understood_are_unavailable_503() {
    let err = resolve_against("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nnot json").await;
    assert!(
        matches!(
            err,
            MeetError::BadAnswer {
                http_status: 200,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome().sip_status(), 503);

    let err =
        resolve_against("HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n{\"space\":\"rooms/abc\"}  ")
            .await;
    assert!(matches!(err, MeetError::BadAnswer { .. }), "{err:?}");

    // A proxy's HTML error page: only the HTTP status counts.
    let err = resolve_against(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>bad gateway</html>",
    )
    .await;
    assert_eq!(
        err,
        MeetError::Refused {
            http_status: 502,
            status: None,
            reason: None,
            message: None
        }
    );
    assert_eq!(err.outcome(), SessionOutcome::Unavailable);

    // The server hangs up without answering.
    let err = resolve_against("").await;
    assert!(matches!(err, MeetError::Transport { .. }), "{err:?}");
    assert_eq!(err.outcome().sip_status(), 503);
}

#[test]
fn every_error_maps_through_the_one_table() {
    let google = |http: u16, status: &str, reason: &str| {
        let body = json!({"error": {"code": http, "message": "m", "status": status,
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                         "reason": reason, "domain": "meet-sim"}]}});
        MeetError::from_error_answer(http, body.to_string().as_bytes())
    };
    let cases = [
        (
            google(404, "NOT_FOUND", "MEETING_ID_NOT_FOUND"),
            SessionOutcome::NotFound,
            404,
        ),
        (
            google(404, "NOT_FOUND", "NO_ACTIVE_CONFERENCE"),
            SessionOutcome::NotFound,
            404,
        ),
        (
            google(401, "UNAUTHENTICATED", "TOKEN_EXPIRED"),
            SessionOutcome::Unauthenticated,
            403,
        ),
        (
            google(403, "PERMISSION_DENIED", "INTEROP_DISABLED"),
            SessionOutcome::PermissionDenied,
            403,
        ),
        (
            google(412, "FAILED_PRECONDITION", "VIDEO_LOCKED"),
            SessionOutcome::VideoLocked,
            480,
        ),
        (
            google(412, "FAILED_PRECONDITION", "AUDIO_LOCKED"),
            SessionOutcome::AudioLocked,
            480,
        ),
        (
            google(412, "FAILED_PRECONDITION", "CONFERENCE_ACTIVE"),
            SessionOutcome::Unavailable,
            503,
        ),
        (
            google(429, "RESOURCE_EXHAUSTED", "CONNECTIONS_EXHAUSTED"),
            SessionOutcome::Busy,
            486,
        ),
        (
            google(400, "INVALID_ARGUMENT", "INVALID_OFFER"),
            SessionOutcome::OfferRejected,
            488,
        ),
        (
            google(500, "INTERNAL", "BUG"),
            SessionOutcome::Unavailable,
            503,
        ),
        (
            MeetError::from_error_answer(404, b"<html/>"),
            SessionOutcome::NotFound,
            404,
        ),
        (
            MeetError::from_error_answer(503, b""),
            SessionOutcome::Unavailable,
            503,
        ),
        (
            MeetError::Transport {
                detail: "refused".into(),
            },
            SessionOutcome::Unavailable,
            503,
        ),
        (
            MeetError::Timeout {
                timeout: Duration::from_secs(10),
            },
            SessionOutcome::Unavailable,
            503,
        ),
        (
            MeetError::BadAnswer {
                http_status: 200,
                detail: "x".into(),
            },
            SessionOutcome::Unavailable,
            503,
        ),
        (
            MeetError::Credential(JwtError::Malformed { reason: "empty" }),
            SessionOutcome::Unauthenticated,
            403,
        ),
    ];
    for (err, outcome, sip) in cases {
        assert_eq!(
            (err.outcome(), err.outcome().sip_status()),
            (outcome, sip),
            "{err}"
        );
        // The failure a MeetSession takes maps the same way.
        assert_eq!(err.failure().outcome(), outcome, "{err}");
        assert_eq!(SessionOutcome::from(&err), outcome);
    }
    let err = google(412, "FAILED_PRECONDITION", "VIDEO_LOCKED");
    assert_eq!(
        err.failure(),
        ConnectFailure {
            http_status: Some(412),
            status: Some("FAILED_PRECONDITION".into()),
            reason: Some("VIDEO_LOCKED".into()),
        }
    );
    assert_eq!(
        err.to_string(),
        "Meet refused the request: HTTP 412 FAILED_PRECONDITION/VIDEO_LOCKED: m"
    );
}

#[test]
fn construction_refuses_other_schemes() {
    let credential = || {
        GatewayCredential::new(
            es256_key(CONNECTOR_KID),
            ISS,
            "meet-sim",
            InteropToken::new("itk"),
        )
    };
    let err = HttpConnector::new("https://meet.googleapis.com", credential()).unwrap_err();
    assert!(matches!(err, MeetError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("only http://"), "{err}");
    let connector = HttpConnector::new("http://127.0.0.1:8080", credential()).unwrap();
    assert_eq!(connector.base_url(), "http://127.0.0.1:8080");
    assert_eq!(connector.timeout(), Duration::from_secs(10));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let credential = GatewayCredential::new(
        es256_key(CONNECTOR_KID),
        ISS,
        "meet-sim",
        InteropToken::new("itk-SECRET-VALUE"),
    );
    let connector = HttpConnector::new("http://127.0.0.1:1", credential).unwrap();
    let token = connector
        .credential()
        .mint(
            "call-1",
            None,
            None,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )
        .unwrap();
    let debug = format!("{connector:?}");
    assert!(
        debug.contains(CONNECTOR_KID) && debug.contains(ISS),
        "{debug}"
    );
    assert!(!debug.contains("itk-SECRET-VALUE"), "{debug}");
    assert!(!debug.contains(token.expose()), "{debug}");
    assert!(!format!("{token:?}").contains(token.expose()));
}

#[test]
fn profile_defaults_are_the_documented_numbers() {
    let profile = MeetProfile::default();
    assert_eq!(
        (
            profile.audio_recv_streams,
            profile.video_recv_streams_max,
            profile.send_video_layers,
            profile.send_video_codec,
            profile.max_send_bitrate_bps,
            profile.long_id_len,
        ),
        (3, 8, 3, VideoCodec::Vp8, 2_000_000, 13)
    );
    assert_eq!(profile.recv_video_codecs, [VideoCodec::Vp8]);
    assert_eq!(profile.short_id_prefix, None);
    assert_eq!(profile.long_id_len, meet::connector::DEFAULT_LONG_ID_LEN);
}
