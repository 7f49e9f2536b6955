//! The default Meet backend: with no `meet.backend`, the node starts meet-sim inside itself on
//! loopback with a demo meeting (a running conference owned by `tcn.demo`, the node's gateway
//! key enrolled, a trusted interop token issued) and shows it in `/status`; the simulator
//! stops with the node. With `meet.backend` set no simulator starts. A backend that is not an
//! http(s) URL is refused naming `meet.backend`. And the key and CSR of `tcn meet-csr` enrol
//! into meet-sim, whose certificate the node then takes as its gateway token.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::get;
use node::Node;
use node::config::Config;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Loopback listeners, media ports 28400-28499 (no other test file uses them), and `extra`.
fn config(extra: &str) -> Config {
    Config::from_toml_str(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [28400, 28499]\n{extra}"
    ))
    .unwrap()
}

async fn json_get(addr: SocketAddr, path: &str) -> Value {
    let reply = get(addr, path).await.unwrap();
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// `POST path` with a JSON body; returns the status and the body as JSON.
async fn post(addr: SocketAddr, path: &str, body: &Value) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let body = body.to_string();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn is_meeting_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    parts.iter().map(|p| p.len()).eq([3, 4, 3])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
}

#[tokio::test]
async fn with_no_backend_the_node_runs_meet_sim_with_a_demo_meeting() {
    let node = Node::start(config("")).await.unwrap();
    let (admin, sip) = (node.admin_addr(), node.sip_udp_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));

    let status = json_get(admin, "/status").await;
    let backend = &status["meet"]["backend"];
    assert_eq!(backend["kind"], "embedded_sim", "{status:#}");
    let url = backend["url"].as_str().unwrap();
    let sim: SocketAddr = url
        .strip_prefix("http://127.0.0.1:")
        .map(|port| format!("127.0.0.1:{port}").parse().unwrap())
        .unwrap_or_else(|| panic!("a loopback URL: {url}"));
    let demo = &backend["demo"];
    let code = demo["meeting_code"].as_str().unwrap();
    let long_id = demo["long_id"].as_str().unwrap();
    assert!(is_meeting_code(code), "{code}");
    assert!(
        long_id.len() == 13 && long_id.bytes().all(|b| b.is_ascii_digit()),
        "{long_id}"
    );
    assert_eq!(demo["dial"], format!("sip:{long_id}@{sip}"));
    assert_eq!(demo["browser_url"], format!("{url}/m/{code}"));
    assert_eq!(demo["org"], "tcn.demo");
    // No gateway token is configured; the ephemeral key is not one.
    assert_eq!(status["meet"]["gateway_token"]["status"], "missing");

    // The simulator serves the demo space with a running conference.
    let spaces = json_get(sim, "/sim/spaces").await;
    let spaces = spaces["spaces"].as_array().unwrap();
    assert_eq!(spaces.len(), 1, "{spaces:?}");
    assert_eq!(spaces[0]["meetingCode"], code);
    assert_eq!(spaces[0]["longId"], long_id);
    assert_eq!(spaces[0]["name"], demo["space"]);
    assert_eq!(spaces[0]["ownerOrg"], "tcn.demo");
    assert!(spaces[0]["activeConference"].is_string(), "{:?}", spaces[0]);
    // The node's (ephemeral) key is enrolled through a CSR, for meet.issuer / meet.key_id,
    // and the demo organisation has one trusted token.
    let gateways = json_get(sim, "/sim/gateways").await;
    assert_eq!(
        gateways["gateways"],
        json!([{"issuer": "tcn", "kid": "tcn-gateway", "alg": "ES256"}])
    );
    let events = json_get(sim, "/sim/events").await;
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "gateway_certificate_issued"),
        "{events:#}"
    );
    let tokens = json_get(sim, "/sim/orgs/tcn.demo/interopTokens").await;
    let tokens = tokens["interopTokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["trusted"], true);

    // Neither the interop token nor a key reaches /status.
    let body = get(admin, "/status").await.unwrap().body;
    assert!(
        !body.contains("itk-") && !body.contains("PRIVATE KEY") && !body.contains("\"token\""),
        "{body}"
    );

    // The simulator stops with the node.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(sim).await.is_err(),
        "meet-sim still listens"
    );
}

#[tokio::test]
async fn with_a_backend_configured_no_simulator_starts() {
    let config = config("[meet]\nbackend = \"https://meet-backend.example.test\"\n");
    let node = Node::start(config).await.unwrap();
    let admin = node.admin_addr();
    tokio::spawn(node.run_until(std::future::pending()));
    let status = json_get(admin, "/status").await;
    assert_eq!(
        status["meet"]["backend"],
        json!({"kind": "remote", "url": "https://meet-backend.example.test"})
    );
}

#[test]
fn a_backend_that_is_not_an_http_url_is_refused() {
    let refused = |meet: &str| {
        Config::from_toml_str(&format!("[meet]\n{meet}\n"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused("backend = \"ftp://x\""),
        "meet.backend: must be an http:// or https:// URL, not ftp://"
    );
    let error = refused("backend = \"https://user:secret@meet.example\"");
    assert!(
        error.starts_with("meet.backend: must not carry credentials"),
        "{error}"
    );
    assert!(!error.contains("secret"), "the URL is not echoed: {error}");
    let error = refused("embedded_sim_listen = \"0.0.0.0:0\"");
    assert!(
        error.starts_with("meet.embedded_sim_listen: 0.0.0.0:0 is not a loopback address"),
        "{error}"
    );
    // Unused with a backend, but still checked; a loopback address with a backend is fine.
    Config::from_toml_str("[meet]\nbackend = \"http://127.0.0.1:9\"\n").unwrap();
}

/// The key and request `tcn meet-csr` writes enrol into meet-sim (201), and the certificate
/// the simulator's CA signs is a gateway token the node accepts for that key.
#[tokio::test]
async fn the_meet_csr_request_enrols_into_meet_sim_and_its_certificate_is_a_gateway_token() {
    let sim = meet_sim::Sim::spawn(
        "127.0.0.1:0".parse().unwrap(),
        meet_sim::SimConfig::default(),
    )
    .await
    .unwrap();
    let (key_pem, csr_pem) = node::meet_gateway::new_key_and_csr("tcn-gateway").unwrap();
    let (status, enrolled) = post(
        sim.addr(),
        "/sim/gateways",
        &json!({"issuer": "tcn", "csr": csr_pem}),
    )
    .await;
    assert_eq!(status, 201, "{enrolled}");
    assert_eq!(
        (&enrolled["issuer"], &enrolled["kid"], &enrolled["alg"]),
        (&json!("tcn"), &json!("tcn-gateway"), &json!("ES256"))
    );
    let chain = enrolled["certificateChainPem"].as_str().unwrap();
    let leaf_end = chain.find("-----END CERTIFICATE-----\n").unwrap() + 26;

    let dir = common::tls::scratch_dir("meet-embedded-csr");
    let (key, token) = (dir.join("gateway.key"), dir.join("gateway.crt"));
    std::fs::write(&key, key_pem).unwrap();
    std::fs::write(&token, &chain[..leaf_end]).unwrap();
    let config = Config::from_toml_str(&format!(
        "[meet]\nbackend = \"{}\"\ngateway_key = {key:?}\ngateway_token = {token:?}\n",
        sim.url()
    ))
    .expect("the certificate meet-sim signed is a gateway token for the key");
    assert_eq!(config.meet.backend.as_deref(), Some(sim.url().as_str()));
    sim.shutdown().await.unwrap();
}
