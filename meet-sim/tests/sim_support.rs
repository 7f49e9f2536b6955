//! Helpers shared by the meet-sim tests (included with `#[path]`): a minimal HTTP/1.1
//! client over a real loopback socket, and a simulator with a gateway, its tokens and a
//! running conference.
//!
//! Cargo also builds this file as a test target of its own; it holds no tests.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meet::jwt::{GatewayKey, InteropToken, MintRequest, SigningAlgorithm};
use meet_sim::{ClockMode, Sim, SimConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// 2027-01-15T08:00:00Z: where the manual clock starts. No test reads the system clock.
pub const NOW: u64 = 1_800_000_000;
/// The gateway's registered issuer.
pub const ISS: &str = "gw.tcn.example";
/// Its key id.
pub const KID: &str = "gw-key-1";
/// The organisation that owns the test space and issues the tokens.
pub const ORG: &str = "corp.example";
/// The test space's meeting code.
pub const CODE: &str = "abc-defg-hij";
/// The test space's long numeric id.
pub const LONG_ID: &str = "1234567890123";
/// A gateway's offer as the rules of §5.b want it: 3 recvonly audio, 8 recvonly video, Opus
/// sendonly, VP8 simulcast q/h/f sendonly, data channels. Nothing answers its ICE or DTLS.
pub fn offer() -> String {
    gateway_offer(8, &["q", "h", "f"], "VP8")
}

/// One m-line of a hand-written offer, with the ICE and DTLS lines every section carries.
fn section(kind: &str, mid: usize, direction: &str, extra: &str) -> String {
    let head = match kind {
        "audio" => "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n".to_owned(),
        "application" => "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n".to_owned(),
        _ => "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n".to_owned(),
    };
    let codec = match kind {
        "audio" => {
            "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n".to_owned()
        }
        "application" => "a=sctp-port:5000\r\n".to_owned(),
        _ => String::new(),
    };
    format!(
        "{head}c=IN IP4 0.0.0.0\r\na=ice-ufrag:tcnT\r\na=ice-pwd:tcntestpasswordtcntest01\r\n\
         a=fingerprint:sha-256 {FINGERPRINT}\r\na=setup:actpass\r\na=mid:{mid}\r\n\
         a={direction}\r\na=rtcp-mux\r\n{codec}{extra}"
    )
}

const FINGERPRINT: &str = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";

fn video_codec(codec: &str) -> String {
    format!("a=rtpmap:96 {codec}/90000\r\na=rtcp-fb:96 nack pli\r\n")
}

/// A gateway-shaped offer with `recv_video` receive-video m-lines and `rids` simulcast
/// layers of `codec` (`VP8`, `H264`).
pub fn gateway_offer(recv_video: usize, rids: &[&str], codec: &str) -> String {
    let mut sections = Vec::new();
    let mut mid = 0;
    let mut push = |kind: &str, direction: &str, extra: String| {
        sections.push(section(kind, mid, direction, &extra));
        mid += 1;
    };
    for _ in 0..3 {
        push("audio", "recvonly", String::new());
    }
    for _ in 0..recv_video {
        push("video", "recvonly", video_codec("VP8"));
    }
    push("audio", "sendonly", String::new());
    let mut simulcast = video_codec(codec);
    simulcast += "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n";
    simulcast += "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n";
    for rid in rids {
        simulcast += &format!("a=rid:{rid} send\r\n");
    }
    simulcast += &format!("a=simulcast:send {}\r\n", rids.join(";"));
    push("video", "sendonly", simulcast);
    push("application", "sendrecv", String::new());
    assemble(&sections)
}

/// `offer` as webrtcbin writes it with `bundle-policy=max-bundle` (RFC 8843): every m-line
/// after the first on port 0 with `a=bundle-only`, all in the BUNDLE group.
pub fn max_bundle(offer: &str) -> String {
    let mut sections = offer.split("m=");
    let mut out = sections.next().unwrap_or_default().to_owned();
    for (index, section) in sections.enumerate() {
        if index == 0 {
            out += &format!("m={section}");
        } else {
            out += &format!("m={}a=bundle-only\r\n", section.replacen(" 9 ", " 0 ", 1));
        }
    }
    out
}

/// A Media-API-shaped offer: `audio` recvonly audio m-lines, the application section, then
/// `video` recvonly video m-lines (the TS client's order).
pub fn media_client_offer(audio: usize, video: usize) -> String {
    let mut sections = Vec::new();
    let mut mid = 0;
    for _ in 0..audio {
        sections.push(section("audio", mid, "recvonly", ""));
        mid += 1;
    }
    sections.push(section("application", mid, "sendrecv", ""));
    mid += 1;
    for _ in 0..video {
        sections.push(section("video", mid, "recvonly", &video_codec("VP8")));
        mid += 1;
    }
    assemble(&sections)
}

fn assemble(sections: &[String]) -> String {
    let mids: Vec<String> = (0..sections.len()).map(|m| m.to_string()).collect();
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
         a=group:BUNDLE {}\r\na=msid-semantic: WMS\r\n{}",
        mids.join(" "),
        sections.concat()
    )
}

/// One HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body parsed as JSON; `Null` when empty or not JSON.
    pub json: Value,
}

impl Reply {
    /// `error.details[0].reason` of a Google-style error body.
    pub fn reason(&self) -> &str {
        self.json["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or("")
    }

    /// `error.status`.
    pub fn rpc_status(&self) -> &str {
        self.json["error"]["status"].as_str().unwrap_or("")
    }

    /// `error.message`.
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts a Google-style error: HTTP status, rpc status, reason and message, and that
    /// `error.code` repeats the HTTP status and the domain is `meet-sim`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, rpc: &str, reason: &str, message: &str) {
        assert_eq!(
            (
                self.status,
                self.rpc_status(),
                self.reason(),
                self.message()
            ),
            (status, rpc, reason, message),
            "body: {}",
            self.json
        );
        assert_eq!(self.json["error"]["code"], json!(status));
        assert_eq!(self.json["error"]["details"][0]["domain"], "meet-sim");
        assert_eq!(
            self.json["error"]["details"][0]["@type"],
            "type.googleapis.com/google.rpc.ErrorInfo"
        );
    }
}

fn decode_chunked(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = body.windows(2).position(|w| w == b"\r\n") {
        let size_line = std::str::from_utf8(&body[..pos]).unwrap_or("0");
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = pos + 2;
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
    out
}

/// One request with `Connection: close`; the response is read to EOF.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect to meet-sim");
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = decode_chunked(&body);
    }
    Reply {
        status,
        content_type: header("content-type"),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
    }
}

/// A fresh ES256 gateway key with `kid` (P-256 from rcgen, PKCS#8).
pub fn es256_key(kid: &str) -> GatewayKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    GatewayKey::from_pem(kid, SigningAlgorithm::Es256, &pair.serialize_pem()).unwrap()
}

/// A simulator on a manual clock at [`NOW`], seeded, with `edit` applied to its settings.
pub async fn start_sim(edit: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut config = SimConfig::default();
    config.model.seed = 1;
    config.clock = ClockMode::Manual(UNIX_EPOCH + Duration::from_secs(NOW));
    edit(&mut config);
    Sim::spawn("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("meet-sim starts")
}

/// A simulator with one enrolled gateway, a trusted and an untrusted interop token of
/// [`ORG`], and a space [`CODE`] owned by [`ORG`] with a running conference.
pub struct Fixture {
    /// The running simulator.
    pub sim: Sim,
    /// The enrolled gateway's signing key ([`KID`], issuer [`ISS`]).
    pub key: GatewayKey,
    /// A trusted interop token of [`ORG`].
    pub trusted: String,
    /// An untrusted interop token of [`ORG`].
    pub untrusted: String,
    /// The trusted token's id.
    pub trusted_id: u64,
    /// The untrusted token's id.
    pub untrusted_id: u64,
    /// `spaces/{id}` of the test space.
    pub space: String,
}

impl Fixture {
    /// The default fixture.
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// The fixture on a simulator whose settings `edit` changed.
    pub async fn with(edit: impl FnOnce(&mut SimConfig)) -> Self {
        let sim = start_sim(edit).await;
        let key = es256_key(KID);
        let addr = sim.addr();
        let jwk: Value = serde_json::from_str(&key.verifying_key().to_jwk_json()).unwrap();
        let enrolled = request(
            addr,
            "POST",
            "/sim/gateways",
            None,
            Some(&json!({"issuer": ISS, "jwk": jwk})),
        )
        .await;
        assert_eq!(enrolled.status, 201, "{}", enrolled.json);
        let issue = |trusted: bool| {
            let body = json!({"name": format!("tcn trusted={trusted}"), "type": "GATEWAY", "trusted": trusted});
            async move {
                let path = format!("/sim/orgs/{ORG}/interopTokens");
                let reply = request(addr, "POST", &path, None, Some(&body)).await;
                assert_eq!(reply.status, 201, "{}", reply.json);
                (
                    reply.json["token"].as_str().unwrap().to_owned(),
                    reply.json["id"].as_u64().unwrap(),
                )
            }
        };
        let (trusted, trusted_id) = issue(true).await;
        let (untrusted, untrusted_id) = issue(false).await;
        let created = request(
            addr,
            "POST",
            "/sim/spaces",
            None,
            Some(&json!({"meetingCode": CODE, "longId": LONG_ID, "ownerOrg": ORG})),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.json);
        let space = created.json["name"].as_str().unwrap().to_owned();
        let started = request(
            addr,
            "POST",
            &format!("/sim/spaces/{CODE}:startConference"),
            None,
            None,
        )
        .await;
        assert_eq!(started.status, 200, "{}", started.json);
        Self {
            sim,
            key,
            trusted,
            untrusted,
            trusted_id,
            untrusted_id,
            space,
        }
    }

    /// The simulator's address.
    pub fn addr(&self) -> SocketAddr {
        self.sim.addr()
    }

    /// The simulator's time now.
    pub fn now(&self) -> SystemTime {
        self.sim.with_model(|_, now| now)
    }

    /// A mint request from the enrolled gateway carrying interop token `itk`.
    pub fn mint_request(&self, itk: &str) -> MintRequest {
        MintRequest::new(ISS, "meet-sim", "call-1@10.0.0.1", InteropToken::new(itk))
            .with_display_name("Room 4.1")
    }

    /// A fresh gateway JWT carrying `itk`, minted at the simulator's time.
    pub fn jwt(&self, itk: &str) -> String {
        self.key
            .mint(&self.mint_request(itk), self.now())
            .unwrap()
            .expose()
            .to_owned()
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        request(self.addr(), "GET", path, None, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        request(self.addr(), "POST", path, None, Some(&body)).await
    }

    /// `connectGateway` to `space` with bearer `jwt` (`None`: no Authorization header).
    pub async fn connect_with(&self, space: &str, jwt: Option<&str>) -> Reply {
        self.connect_offer(space, jwt, &offer()).await
    }

    /// `connectGateway` to `space` with bearer `jwt` and SDP `offer`.
    pub async fn connect_offer(&self, space: &str, jwt: Option<&str>, offer: &str) -> Reply {
        let body = json!({"offer": offer, "displayName": "Room 4.1",
                          "callerUri": "sip:room41@corp.example", "protocol": "SIP"});
        let path = format!("/v1/interop/spaces/{space}:connectGateway");
        request(self.addr(), "POST", &path, jwt, Some(&body)).await
    }

    /// `connectGateway` to [`CODE`] with a fresh JWT carrying `itk`; asserts 200 and
    /// returns the participant id.
    pub async fn join(&self, itk: &str) -> i64 {
        let reply = self.connect_with(CODE, Some(&self.jwt(itk))).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        reply.json["participantId"].as_i64().unwrap()
    }

    /// The data-channel messages kept for `pid`, on `channel` or on all.
    pub async fn messages(&self, pid: i64, channel: Option<&str>) -> Vec<Value> {
        let filter = channel.map(|c| format!("?channel={c}")).unwrap_or_default();
        let reply = self
            .get(&format!(
                "/sim/spaces/{CODE}/participants/{pid}/messages{filter}"
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        reply.json["messages"].as_array().unwrap().clone()
    }

    /// The `sessionStatus` of every `session-control` message for `pid`, in order.
    pub async fn session_states(&self, pid: i64) -> Vec<Value> {
        self.messages(pid, Some("session-control"))
            .await
            .iter()
            .map(|m| m["message"]["resources"][0]["sessionStatus"].clone())
            .collect()
    }

    /// The `conferenceState` of every `x-conference` message for `pid`, in order.
    pub async fn conference_states(&self, pid: i64) -> Vec<Value> {
        self.messages(pid, Some("x-conference"))
            .await
            .iter()
            .map(|m| m["message"]["resources"][0]["conferenceState"].clone())
            .collect()
    }

    /// The participant as the control API shows it.
    pub async fn participant(&self, pid: i64) -> Value {
        let reply = self
            .get(&format!("/sim/spaces/{CODE}/participants/{pid}"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        reply.json
    }

    /// Every event of type `kind`, in order.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        let reply = self.get("/sim/events").await;
        assert_eq!(reply.status, 200);
        reply.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    }

    /// Moves the simulator's clock forward by `ms`.
    pub async fn advance_ms(&self, ms: u64) {
        let reply = self.post("/sim/clock", json!({"advanceMs": ms})).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
    }

    /// Adds a synthetic participant (a host when `host`) and returns its id.
    pub async fn add_person(&self, name: &str, host: bool) -> i64 {
        let reply = self
            .post(
                &format!("/sim/spaces/{CODE}/participants"),
                json!({"displayName": name, "host": host, "signedInUser": "users/42"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.json);
        reply.json["participantId"].as_i64().unwrap()
    }

    /// Sends a client message on `label` for `pid`; returns the messages it caused for `pid`.
    pub async fn send_on(&self, pid: i64, label: &str, message: Value) -> Vec<Value> {
        let reply = self
            .post(
                &format!("/sim/spaces/{CODE}/participants/{pid}/channels/{label}"),
                message,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        reply.json["messages"].as_array().unwrap().clone()
    }
}
