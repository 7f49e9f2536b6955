//! The SIP front end over real loopback sockets, byte by byte: OPTIONS, malformed input (400,
//! and the node keeps serving), TCP framing, an unknown alias (404), and a whole test call with
//! RTP and DTMF counted by the node.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use signaling::sip::message::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const CONFIG: &str = r#"
[admin]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
[media]
port_range = [22000, 22199]

[[sip.credentials]]
username = "room"
password = "s3cret"

[[meet.access_tokens]]
name = "t"
token = "secret"

[[routing.rules]]
name = "meet"
priority = 10
match = '(\d{13})@.*'
replace = '\1'
target = { kind = "meet", access_token = "t" }
"#;

struct Client {
    socket: UdpSocket,
    node: SocketAddr,
}

impl Client {
    async fn new(node: SocketAddr) -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            node,
        }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    async fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.node)
            .await
            .unwrap();
    }

    /// The next response, skipping 100 Trying.
    async fn response(&self) -> Response {
        common::sip_udp::next_response(&self.socket).await
    }
}

fn request(
    method: &str,
    uri: &str,
    port: u16,
    call_id: &str,
    cseq: u32,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id}-{cseq}-{method};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:room@127.0.0.1>;tag=room1\r\n\
         To: <{uri}>{extra}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:room@127.0.0.1:{port}>\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const OFFER: &str = "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n\
m=video 30002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n";

async fn start() -> (
    SocketAddr,
    SocketAddr,
    SocketAddr,
    tokio::task::JoinHandle<Result<(), node::StartError>>,
) {
    let node = Node::start(Config::from_toml_str(CONFIG).unwrap())
        .await
        .unwrap();
    let (admin, udp, tcp) = (
        node.admin_addr(),
        node.sip_udp_addr().unwrap(),
        node.sip_tcp_addr().unwrap(),
    );
    let running = tokio::spawn(node.run_until(std::future::pending()));
    (admin, udp, tcp, running)
}

#[tokio::test]
async fn options_and_malformed_requests_over_udp() {
    let (admin, udp, _, running) = start().await;
    let client = Client::new(udp).await;
    let port = client.port();

    client
        .send(&request("OPTIONS", "sip:127.0.0.1", port, "o1", 1, "", ""))
        .await;
    let ok = client.response().await;
    assert_eq!(ok.status.code(), 200);
    assert!(ok.headers.get("Allow").unwrap().contains("INVITE"));
    assert!(
        ok.headers
            .get("Accept")
            .unwrap()
            .contains("application/sdp")
    );
    let via = ok.top_via().unwrap();
    assert_eq!(via.rport, Some(Some(port)), "rport filled in (RFC 3581)");

    // CSeq method does not match the request line: 400 naming the problem (RFC 4475 mismatch01).
    let bad = request("OPTIONS", "sip:127.0.0.1", port, "o2", 1, "", "")
        .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    client.send(&bad).await;
    let refused = client.response().await;
    assert_eq!(refused.status.code(), 400);
    assert!(
        refused.reason.to_ascii_lowercase().contains("cseq"),
        "{}",
        refused.reason
    );

    // Pure garbage gets no answer, and the node keeps serving.
    client.send("\u{1}\u{2}garbage\r\n\r\n").await;
    client
        .send(&request("OPTIONS", "sip:127.0.0.1", port, "o3", 1, "", ""))
        .await;
    assert_eq!(client.response().await.status.code(), 200);

    // An unknown alias is a 404; a call routed to Meet without an SDP offer (late offers are not
    // served) is a 488.
    client
        .send(&request(
            "INVITE",
            "sip:nobody@127.0.0.1",
            port,
            "i1",
            1,
            "",
            "",
        ))
        .await;
    assert_eq!(client.response().await.status.code(), 404);
    client
        .send(&request(
            "INVITE",
            "sip:1234567890123@127.0.0.1",
            port,
            "i2",
            1,
            "",
            "",
        ))
        .await;
    assert_eq!(client.response().await.status.code(), 488);
    // An unsupported extension: 420 with Unsupported.
    client
        .send(&request(
            "OPTIONS",
            "sip:127.0.0.1",
            port,
            "o4",
            1,
            "\r\nRequire: 100rel",
            "",
        ))
        .await;
    let bad_ext = client.response().await;
    assert_eq!(bad_ext.status.code(), 420);
    assert_eq!(bad_ext.headers.get("Unsupported"), Some("100rel"));

    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(metric(&text, "tcn_sip_parse_errors_total"), Some(2.0));
    assert_eq!(
        metric(&text, "tcn_sip_responses_total{code=\"400\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "tcn_sip_requests_total{method=\"OPTIONS\",transport=\"udp\"}"
        ),
        Some(3.0)
    );
    running.abort();
}

#[tokio::test]
async fn tcp_frames_messages_and_closes_on_garbage() {
    let (_, _, tcp, running) = start().await;
    let mut stream = TcpStream::connect(tcp).await.unwrap();
    let port = stream.local_addr().unwrap().port();
    let options = request("OPTIONS", "sip:127.0.0.1", port, "t1", 1, "", "")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    // Two requests in one write, the second split across writes.
    let second = request("OPTIONS", "sip:127.0.0.1", port, "t2", 1, "", "")
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP");
    stream
        .write_all(format!("{options}{}", &second[..40]).as_bytes())
        .await
        .unwrap();
    stream.write_all(&second.as_bytes()[40..]).await.unwrap();
    let mut received = Vec::new();
    let mut buf = vec![0; 8192];
    while received.windows(8).filter(|w| w == b"SIP/2.0 ").count() < 2 {
        let len = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(len > 0);
        received.extend_from_slice(&buf[..len]);
    }
    let text = String::from_utf8_lossy(&received);
    assert_eq!(text.matches("SIP/2.0 200 OK").count(), 2, "{text}");
    // A message without Content-Length on a stream is invalid: 400, then the node closes.
    let no_length = options.replace("Content-Length: 0\r\n", "");
    stream.write_all(no_length.as_bytes()).await.unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("closed");
    assert!(
        String::from_utf8_lossy(&rest).starts_with("SIP/2.0 400"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
    running.abort();
}

#[tokio::test]
async fn a_test_call_counts_media_and_dtmf_then_ends_with_bye() {
    let (admin, udp, _, running) = start().await;
    let client = Client::new(udp).await;
    let port = client.port();
    client
        .send(
            &request("INVITE", "sip:test@127.0.0.1", port, "call1", 1, "", OFFER)
                .replace("Contact:", "Content-Type: application/sdp\r\nContact:"),
        )
        .await;
    let ok = client.response().await;
    assert_eq!(ok.status.code(), 200);
    let answer = String::from_utf8(ok.body.clone()).unwrap();
    let to_tag = ok.to().unwrap().tag().unwrap().to_owned();
    let port_of = |media: &str| -> u16 {
        answer
            .lines()
            .find_map(|l| l.strip_prefix(&format!("m={media} ")))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .expect("media port in the answer")
    };
    let (audio_port, video_port) = (port_of("audio"), port_of("video"));
    assert!((22_000..=22_199).contains(&video_port), "{answer}");
    assert!(answer.contains("a=rtpmap:96 H264/90000"), "{answer}");
    client
        .send(&request(
            "ACK",
            "sip:test@127.0.0.1",
            port,
            "call1",
            1,
            &format!(";tag={to_tag}"),
            "",
        ))
        .await;

    // 120 H.264-ish RTP packets and an RFC 4733 '7' (start + 3 end packets).
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for seq in 0u16..120 {
        let mut packet = vec![
            0x80,
            96,
            (seq >> 8) as u8,
            seq as u8,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            9,
        ];
        packet.extend_from_slice(&[0x65; 100]);
        rtp.send_to(&packet, ("127.0.0.1", video_port))
            .await
            .unwrap();
    }
    for (i, end) in [false, true, true, true].into_iter().enumerate() {
        let flags = if end { 0x80 } else { 0x00 } | 10;
        let packet = [
            0x80, 101, 0, i as u8, 0, 0, 0x10, 0, 0, 0, 0, 7, 7, flags, 0x03, 0x20,
        ];
        rtp.send_to(&packet, ("127.0.0.1", audio_port))
            .await
            .unwrap();
    }
    // And a '5' by SIP INFO.
    let info = request(
        "INFO",
        "sip:test@127.0.0.1",
        port,
        "call1",
        2,
        &format!(";tag={to_tag}"),
        "Signal=5\r\nDuration=160\r\n",
    )
    .replace(
        "Contact:",
        "Content-Type: application/dtmf-relay\r\nContact:",
    );
    client.send(&info).await;
    assert_eq!(client.response().await.status.code(), 200);

    let seen = eventually(Duration::from_secs(5), || async {
        let status: serde_json::Value =
            serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap();
        let call = &status["calls"][0];
        let video = call["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["media"] == "video").cloned());
        call["service"] == "test"
            && video.is_some_and(|v| v["packets"] == 120)
            // RTP and INFO are separate paths: their relative order is not defined.
            && (call["dtmf"] == "75" || call["dtmf"] == "57")
    })
    .await;
    assert!(seen, "{}", get(admin, "/status").await.unwrap().body);

    client
        .send(&request(
            "BYE",
            "sip:test@127.0.0.1",
            port,
            "call1",
            3,
            &format!(";tag={to_tag}"),
            "",
        ))
        .await;
    assert_eq!(client.response().await.status.code(), 200);
    let status: serde_json::Value =
        serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap();
    assert_eq!(status["calls"].as_array().unwrap().len(), 0);
    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_rtp_packets_received_total{media=\"video\"}"),
        Some(120.0)
    );
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"completed\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_media_ports_in_use"),
        Some(0.0),
        "ports released"
    );
    // A BYE for a call that no longer exists: 481.
    client
        .send(&request(
            "BYE",
            "sip:test@127.0.0.1",
            port,
            "call1",
            4,
            &format!(";tag={to_tag}"),
            "",
        ))
        .await;
    assert_eq!(client.response().await.status.code(), 481);
    running.abort();
}

#[tokio::test]
async fn register_is_challenged_with_sha256_first_and_binds_on_a_valid_answer() {
    use signaling::digest::{Challenge, authorize};

    let (admin, udp, _, running) = start().await;
    let client = Client::new(udp).await;
    let port = client.port();
    let register = |cseq: u32, authorization: &str| {
        request("REGISTER", "sip:127.0.0.1", port, "reg1", cseq, "", "")
            .replace("To: <sip:127.0.0.1>", "To: <sip:room@127.0.0.1>")
            .replace(
                "Contact:",
                &format!("{authorization}Expires: 600\r\nContact:"),
            )
    };
    client.send(&register(1, "")).await;
    let challenged = client.response().await;
    assert_eq!(challenged.status.code(), 401);
    let challenges: Vec<Challenge> = challenged
        .headers
        .get_all("WWW-Authenticate")
        .map(|v| Challenge::parse(v).unwrap())
        .collect();
    let algorithms: Vec<String> = challenges.iter().map(|c| c.algorithm.to_string()).collect();
    assert_eq!(algorithms, ["SHA-256", "MD5"], "RFC 8760: preferred first");
    assert!(challenges.iter().all(|c| c.realm == "tcn"));

    // A wrong password: 403.
    let wrong = authorize(
        &challenges[0],
        "REGISTER",
        "sip:127.0.0.1",
        "room",
        "guess",
        "c0ffee",
        1,
    );
    client
        .send(&register(2, &format!("Authorization: {wrong}\r\n")))
        .await;
    assert_eq!(client.response().await.status.code(), 403);

    // The right one, with SHA-256: 200 and the binding.
    let right = authorize(
        &challenges[0],
        "REGISTER",
        "sip:127.0.0.1",
        "room",
        "s3cret",
        "c0ffee",
        1,
    );
    client
        .send(&register(3, &format!("Authorization: {right}\r\n")))
        .await;
    let ok = client.response().await;
    assert_eq!(ok.status.code(), 200);
    let contact = ok.headers.get("Contact").unwrap();
    assert!(contact.ends_with(";expires=600"), "{contact}");
    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(metric(&text, "tcn_registrations_active"), Some(1.0));
    running.abort();
}

#[tokio::test]
async fn media_encryption_setting_decides_srtp_offers() {
    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    let savp = format!(
        "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 30000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n"
    );
    let plain = "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    // (setting, offer, expected status, whether the answer carries a=crypto)
    let cases = [
        ("off", savp.as_str(), 488, false),
        ("off", plain, 200, false),
        ("on", plain, 488, false),
        ("on", savp.as_str(), 200, true),
        ("besteffort", savp.as_str(), 200, true),
        ("besteffort", plain, 200, false),
    ];
    for (n, (setting, offer, expected, crypto)) in cases.into_iter().enumerate() {
        let text = CONFIG.replace(
            "[media]",
            &format!("media_encryption = \"{setting}\"\n[media]"),
        );
        let node = Node::start(Config::from_toml_str(&text).unwrap())
            .await
            .unwrap();
        let udp = node.sip_udp_addr().unwrap();
        let running = tokio::spawn(node.run_until(std::future::pending()));
        let client = Client::new(udp).await;
        let call_id = format!("enc{n}");
        client
            .send(
                &request(
                    "INVITE",
                    "sip:test@127.0.0.1",
                    client.port(),
                    &call_id,
                    1,
                    "",
                    offer,
                )
                .replace("Contact:", "Content-Type: application/sdp\r\nContact:"),
            )
            .await;
        let response = client.response().await;
        assert_eq!(
            response.status.code(),
            expected,
            "media_encryption = {setting}: {response:?}"
        );
        let answer = String::from_utf8_lossy(&response.body);
        assert_eq!(
            answer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
            crypto,
            "{setting}: {answer}"
        );
        running.abort();
    }
}
