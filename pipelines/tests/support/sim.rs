//! meet-sim, in-process on 127.0.0.1: every use of it by these tests is in this file.
//!
//! The sim runs on a tokio runtime owned here (the pipelines crate has no tokio); the tests
//! talk to its HTTP API with a small blocking HTTP/1.1 client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use meet::jwt::{GatewayKey, InteropToken, MintRequest, SigningAlgorithm};
use meet_sim::{ClockMode, Sim, SimConfig};
use serde_json::{Value, json};

/// The gateway's registered issuer.
const ISS: &str = "gw.tcn.example";
/// The organisation owning the space.
const ORG: &str = "corp.example";
/// The test space's meeting code.
pub const CODE: &str = "abc-defg-hij";

/// A running sim with an enrolled gateway, a trusted interop token and a started conference.
pub struct SimHandle {
    // dropped after `sim`, which stops on it
    sim: Option<Sim>,
    runtime: tokio::runtime::Runtime,
    key: GatewayKey,
    token: String,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.runtime.block_on(async move { drop(sim) });
        }
    }
}

impl SimHandle {
    /// Starts the sim on a wall clock (its media rules fire on their own).
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sim = runtime.block_on(async {
            let config = SimConfig {
                clock: ClockMode::Wall,
                ..SimConfig::default()
            };
            Sim::spawn("127.0.0.1:0".parse().unwrap(), config)
                .await
                .expect("meet-sim starts")
        });
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let key = GatewayKey::from_pem("gw-key-1", SigningAlgorithm::Es256, &pair.serialize_pem())
            .unwrap();
        let mut handle = Self {
            sim: Some(sim),
            runtime,
            key,
            token: String::new(),
        };
        let jwk: Value = serde_json::from_str(&handle.key.verifying_key().to_jwk_json()).unwrap();
        let r = handle.post("/sim/gateways", json!({"issuer": ISS, "jwk": jwk}));
        assert_eq!(r.0, 201, "{}", r.1);
        let r = handle.post(
            &format!("/sim/orgs/{ORG}/interopTokens"),
            json!({"name": "tcn", "type": "GATEWAY", "trusted": true}),
        );
        assert_eq!(r.0, 201, "{}", r.1);
        handle.token = r.1["token"].as_str().unwrap().to_owned();
        let r = handle.post(
            "/sim/spaces",
            json!({"meetingCode": CODE, "longId": "1234567890123", "ownerOrg": ORG}),
        );
        assert_eq!(r.0, 201, "{}", r.1);
        let r = handle.post(&format!("/sim/spaces/{CODE}:startConference"), json!({}));
        assert_eq!(r.0, 200, "{}", r.1);
        handle
    }

    fn addr(&self) -> SocketAddr {
        self.sim.as_ref().unwrap().addr()
    }

    /// Joins as the gateway with `offer`; returns the participant id and the answer.
    pub fn join(&self, offer: &str) -> (i64, String) {
        let now = self.sim.as_ref().unwrap().with_model(|_, now| now);
        let request = MintRequest::new(
            ISS,
            "meet-sim",
            "call-1@127.0.0.1",
            InteropToken::new(self.token.clone()),
        )
        .with_display_name("Room 4.1");
        let jwt = self.key.mint(&request, now).unwrap().expose().to_owned();
        let body = json!({"offer": offer, "displayName": "Room 4.1",
                          "callerUri": "sip:room41@corp.example", "protocol": "SIP"});
        let (status, reply) = request_json(
            self.addr(),
            "POST",
            &format!("/v1/interop/spaces/{CODE}:connectGateway"),
            Some(&jwt),
            Some(&body),
        );
        assert_eq!(status, 200, "connectGateway: {reply}");
        (
            reply["participantId"].as_i64().unwrap(),
            reply["answer"].as_str().unwrap().to_owned(),
        )
    }

    /// The sim's media report of participant `pid` (`media`: layers, audioPackets, …).
    pub fn media(&self, pid: i64) -> Value {
        let (status, reply) = self.get(&format!("/sim/spaces/{CODE}/participants/{pid}/media"));
        assert_eq!(status, 200, "{reply}");
        reply["media"].clone()
    }

    /// Has the sim send participant `pid` a real RTCP PLI (`kind` `"pli"`) or FIR (`"fir"`)
    /// for layer `rid` (the control API's `:requestKeyframe`); returns the HTTP status and
    /// body.
    pub fn request_keyframe(&self, pid: i64, rid: &str, kind: &str) -> (u16, Value) {
        self.post(
            &format!("/sim/spaces/{CODE}/participants/{pid}:requestKeyframe"),
            json!({ "rid": rid, "kind": kind }),
        )
    }

    /// The sim's events of type `kind`.
    pub fn events(&self, kind: &str) -> Vec<Value> {
        let (_, reply) = self.get("/sim/events");
        reply["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }

    fn get(&self, path: &str) -> (u16, Value) {
        request_json(self.addr(), "GET", path, None, None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        request_json(self.addr(), "POST", path, None, Some(&body))
    }
}

/// One HTTP/1.1 request with `Connection: close`; the body parsed as JSON (`Null` if not).
fn request_json(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect to meet-sim");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..pos])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[pos + 2..pos + 2 + size]);
        body = &body[pos + 2 + size + 2..];
    }
    out
}
