//! The Meet gateway token: the certificate issued for the gateway key. Its expiry shows in
//! `/status` and `tcn_gateway_token_expiry_seconds`; the `gateway_token_expiring` alarm rises
//! when fewer than 30 days are left (31 → none, 29 → raised) and for an expired token, which
//! also refuses calls into Meet (403) with a clear log line. A token issued for another key,
//! or a key without its token, is refused by the config check, naming the key.

mod common;

use std::path::{Path, PathBuf};

use common::{get, metric};
use node::Node;
use node::config::Config;
use rcgen::{CertificateParams, DnType, Issuer, KeyPair};
use time::{Duration, OffsetDateTime};

/// A gateway key and a token for it that expires `days` from now (negative: expired), signed
/// by a test CA; returns (key path, token path).
fn credential(dir: &Path, days: i64) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test Meet CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let (key_pem, _) = node::meet_gateway::new_key_and_csr("gw-test").unwrap();
    let key = KeyPair::from_pem(&key_pem).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "gw-test");
    params.not_before = OffsetDateTime::now_utc() - Duration::days(400);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(days) + Duration::hours(1);
    let token = params.signed_by(&key, &issuer).unwrap();
    let (key_path, token_path) = (dir.join("gateway.key"), dir.join("gateway.crt"));
    std::fs::write(&key_path, key_pem).unwrap();
    std::fs::write(&token_path, token.pem()).unwrap();
    (key_path, token_path)
}

fn config(key: &Path, token: &Path, media: u16) -> String {
    format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [{media}, {}]\n\
         [meet]\ngateway_key = {key:?}\ngateway_token = {token:?}\n\
         [[meet.access_tokens]]\nname = \"t\"\ntoken = \"secret-interop-token\"\n\
         [[routing.rules]]\nname = \"meet\"\npriority = 1\nmatch = '(\\d{{13}})@.*'\nreplace = '\\1'\n\
         target = {{ kind = \"meet\", access_token = \"t\" }}\n",
        media + 99
    )
}

/// Starts a node; returns its admin and SIP/UDP addresses.
async fn start(text: &str) -> (std::net::SocketAddr, std::net::SocketAddr) {
    let node = Node::start(Config::from_toml_str(text).unwrap())
        .await
        .unwrap();
    let addrs = (node.admin_addr(), node.sip_udp_addr().unwrap());
    tokio::spawn(node.run_until(std::future::pending()));
    addrs
}

async fn status(admin: std::net::SocketAddr) -> serde_json::Value {
    serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap()
}

fn alarm_raised(status: &serde_json::Value) -> bool {
    status["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "gateway_token_expiring")
}

#[tokio::test]
async fn thirty_one_days_left_raise_no_alarm_and_twenty_nine_do() {
    let dir = common::tls::scratch_dir("gateway-token");
    let (key, token) = credential(&dir.join("31"), 31);
    let (admin, _) = start(&config(&key, &token, 28_000)).await;
    let now = status(admin).await;
    assert_eq!(now["meet"]["gateway_token"]["status"], "ok", "{now:#}");
    assert_eq!(now["meet"]["gateway_token"]["days_left"], 31);
    assert!(!alarm_raised(&now), "{now:#}");
    let text = get(admin, "/metrics").await.unwrap().body;
    let left = metric(&text, "tcn_gateway_token_expiry_seconds").unwrap();
    assert!((31.0 * 86_400.0..32.0 * 86_400.0).contains(&left), "{left}");
    assert_eq!(
        metric(&text, "tcn_alarm_active{alarm=\"gateway_token_expiring\"}"),
        Some(0.0)
    );
    // Neither the key nor the access token is shown.
    let body = get(admin, "/status").await.unwrap().body;
    assert!(!body.contains("PRIVATE KEY") && !body.contains("secret-interop-token"));

    let (key, token) = credential(&dir.join("29"), 29);
    let (admin, _) = start(&config(&key, &token, 28_100)).await;
    let now = status(admin).await;
    assert_eq!(now["meet"]["gateway_token"]["status"], "expiring");
    assert_eq!(now["meet"]["gateway_token"]["days_left"], 29);
    assert!(alarm_raised(&now), "{now:#}");
    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_alarm_active{alarm=\"gateway_token_expiring\"}"),
        Some(1.0)
    );
}

#[tokio::test]
async fn an_expired_token_raises_the_alarm_and_refuses_calls_into_meet() {
    let dir = common::tls::scratch_dir("gateway-token-expired");
    let (key, token) = credential(&dir, -3);
    let (admin, sip) = start(&config(&key, &token, 28_200)).await;
    let now = status(admin).await;
    assert_eq!(now["meet"]["gateway_token"]["status"], "expired");
    assert!(alarm_raised(&now));
    let text = get(admin, "/metrics").await.unwrap().body;
    assert!(metric(&text, "tcn_gateway_token_expiry_seconds").unwrap() < 0.0);

    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let invite = format!(
        "INVITE sip:1234567890123@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-exp1\r\nMax-Forwards: 70\r\n\
         From: <sip:room@127.0.0.1>;tag=a\r\nTo: <sip:1234567890123@127.0.0.1>\r\n\
         Call-ID: exp1\r\nCSeq: 1 INVITE\r\nContact: <sip:room@127.0.0.1:{port}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    socket.send_to(invite.as_bytes(), sip).await.unwrap();
    let mut buf = vec![0; 4096];
    let code = loop {
        let len = tokio::time::timeout(std::time::Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..len]).to_string();
        if !text.starts_with("SIP/2.0 100") {
            break text;
        }
    };
    assert!(code.starts_with("SIP/2.0 403"), "{code}");
    assert!(code.contains("gateway token expired"), "{code}");
    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(
            &text,
            "tcn_route_lookups_total{result=\"gateway_token_expired\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn a_token_for_another_key_or_a_key_alone_is_refused() {
    let dir = common::tls::scratch_dir("gateway-token-mismatch");
    let (key_a, _) = credential(&dir.join("a"), 100);
    let (_, token_b) = credential(&dir.join("b"), 100);
    let error = Config::from_toml_str(&config(&key_a, &token_b, 28_300))
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("meet.gateway_token: "), "{error}");
    assert!(error.contains("not issued for meet.gateway_key"), "{error}");
    let alone = format!("[meet]\ngateway_key = {key_a:?}\n");
    let error = Config::from_toml_str(&alone).unwrap_err().to_string();
    assert!(error.starts_with("meet.gateway_token: missing"), "{error}");
}
