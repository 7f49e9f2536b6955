//! An SDES-SRTP call to the built-in test call service, over real loopback sockets: the offer
//! is `RTP/SAVP` with `a=crypto` lines, the answer must be too, and the node must count only
//! the SRTP packets that authenticate under the key we offered. Packets under a wrong key (RTP
//! and RTCP), replays and plain RTP are counted as the stream's `srtp_errors` instead, in
//! `/status` and in `tcn_srtp_errors_total{reason}`.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use node::srtp::SrtpSession;
use signaling::sdp::{CryptoAttribute, CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};
use signaling::sip::message::Response;
use tokio::net::UdpSocket;

/// This file's own media range, apart from the other node tests' and below the kernel's ephemeral
/// ports (Linux: 32768 to 60999 by default), so that no socket bound to port 0 (the node's own
/// SIP listener included) can take one of its ports.
const CONFIG: &str = r#"
[admin]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
[media]
port_range = [20000, 20099]
"#;

const SUITE: CryptoSuite = CryptoSuite::AesCm128HmacSha1_80;

/// The keys we offer (test keys).
const AUDIO_KEY: [u8; SRTP_KEY_SALT_LEN] = [0xa5; SRTP_KEY_SALT_LEN];
const VIDEO_KEY: [u8; SRTP_KEY_SALT_LEN] = [
    0x07, 0x1d, 0x93, 0x4e, 0xc2, 0x58, 0xaf, 0x36, 0x81, 0xfb, 0x10, 0x6c, 0xd4, 0x29, 0x9e, 0x43,
    0xb7, 0x05, 0x6a, 0xe8, 0x31, 0xcd, 0x72, 0x1f, 0x88, 0x5b, 0xe6, 0x94, 0x0c, 0x3a,
];

/// Genuine video packets.
const N: u16 = 50;
/// Video packets under a wrong key.
const M: u16 = 7;
/// Genuine video packets sent a second time.
const REPLAYS: u16 = 3;

/// A SIP client on its own UDP socket.
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

    /// Sends a request in the dialog of `call_id`, with `extra` after the To URI (a tag) and
    /// `headers` before Contact.
    async fn send(&self, method: &str, cseq: u32, extra: &str, headers: &str, body: &str) {
        let port = self.socket.local_addr().unwrap().port();
        let uri = "sip:test@127.0.0.1";
        let text = format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-srtp-{cseq}-{method};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:room@127.0.0.1>;tag=room1\r\n\
             To: <{uri}>{extra}\r\n\
             Call-ID: srtp-call\r\n\
             CSeq: {cseq} {method}\r\n\
             {headers}Contact: <sip:room@127.0.0.1:{port}>\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
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

fn offer() -> String {
    let crypto = |key| CryptoAttribute::inline(1, SUITE, key).to_string();
    format!(
        "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 30000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=crypto:{}\r\n\
         m=video 30002 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\na=crypto:{}\r\n",
        crypto(&AUDIO_KEY),
        crypto(&VIDEO_KEY),
    )
}

/// The answer's media section for `media`: its port, profile and `a=crypto` lines.
fn answered(answer: &str, media: &str) -> (u16, String, Vec<CryptoAttribute>) {
    let section = answer
        .split("m=")
        .find(|s| s.starts_with(&format!("{media} ")))
        .unwrap_or_else(|| panic!("no m={media} in\n{answer}"));
    let mut fields = section.split_whitespace().skip(1);
    let port = fields.next().and_then(|p| p.parse().ok()).unwrap();
    let profile = fields.next().unwrap().to_owned();
    let crypto = section
        .lines()
        .filter_map(|l| l.strip_prefix("a=crypto:"))
        .map(|v| CryptoAttribute::parse(v).unwrap())
        .collect();
    (port, profile, crypto)
}

/// A session sending with `key`.
fn sender(key: [u8; SRTP_KEY_SALT_LEN]) -> SrtpSession {
    SrtpSession::new(&SrtpContext {
        suite: SUITE,
        local_key: key,
        remote_key: [0; SRTP_KEY_SALT_LEN],
        tag: 1,
    })
}

/// An H.264-ish RTP packet, PT 96.
fn video_rtp(sequence: u16) -> Vec<u8> {
    let mut packet = vec![0x80, 96];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&(u32::from(sequence) * 3000).to_be_bytes());
    packet.extend_from_slice(&0x5eed_0001_u32.to_be_bytes());
    packet.extend_from_slice(&[0x65; 100]);
    packet
}

/// An RFC 4733 event packet for `digit` (PT 101): a start, or an end.
fn dtmf_rtp(sequence: u8, digit: u8, end: bool) -> Vec<u8> {
    let flags = if end { 0x80 } else { 0x00 } | 10;
    vec![
        0x80, 101, 0, sequence, 0, 0, 0x10, 0, 0, 0, 0, 7, digit, flags, 0x03, 0x20,
    ]
}

/// An RTCP sender report without report blocks (RFC 3550 §6.4.1).
fn sender_report(ssrc: u32) -> Vec<u8> {
    let mut packet = vec![0x80, 200, 0, 6];
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend_from_slice(&[0x11; 20]);
    packet
}

async fn fetch_status(admin: SocketAddr) -> serde_json::Value {
    serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap()
}

fn stream<'a>(status: &'a serde_json::Value, media: &str) -> &'a serde_json::Value {
    status["calls"][0]["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["media"] == media))
        .unwrap_or_else(|| panic!("no {media} stream in {status}"))
}

#[tokio::test]
async fn an_srtp_test_call_counts_only_authenticated_packets() {
    let node = Node::start(Config::from_toml_str(CONFIG).unwrap())
        .await
        .unwrap();
    let (admin, udp) = (node.admin_addr(), node.sip_udp_addr().unwrap());
    let running = tokio::spawn(node.run_until(std::future::pending()));
    let client = Client::new(udp).await;

    client
        .send(
            "INVITE",
            1,
            "",
            "Content-Type: application/sdp\r\n",
            &offer(),
        )
        .await;
    let ok = client.response().await;
    assert_eq!(ok.status.code(), 200);
    let answer = String::from_utf8(ok.body.clone()).unwrap();
    let to_tag = format!(";tag={}", ok.to().unwrap().tag().unwrap());
    let (audio_port, audio_profile, audio_crypto) = answered(&answer, "audio");
    let (video_port, video_profile, video_crypto) = answered(&answer, "video");
    for (profile, crypto) in [(audio_profile, audio_crypto), (video_profile, video_crypto)] {
        assert_eq!(profile, "RTP/SAVP", "{answer}");
        let [line] = &crypto[..] else {
            panic!("one a=crypto line per stream: {answer}")
        };
        assert_eq!((line.tag, line.known_suite()), (1, Some(SUITE)), "{answer}");
        let key = line.usable_key().expect("an inline 30-byte key");
        assert!(
            key != AUDIO_KEY && key != VIDEO_KEY,
            "the node keys its own sending"
        );
    }

    // Video: N genuine packets; before each of the first M, a packet under a wrong key that
    // claims the next sequence number (it must not make the genuine one look replayed); then
    // REPLAYS genuine packets again.
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut genuine = sender(VIDEO_KEY);
    let mut wrong_key = VIDEO_KEY;
    wrong_key[0] ^= 0x80;
    let mut forger = sender(wrong_key);
    let mut sent = Vec::new();
    for sequence in 0..N {
        if sequence < M {
            let forged = forger.protect_rtp(&video_rtp(sequence)).unwrap();
            rtp.send_to(&forged, ("127.0.0.1", video_port))
                .await
                .unwrap();
        }
        let packet = genuine.protect_rtp(&video_rtp(sequence)).unwrap();
        rtp.send_to(&packet, ("127.0.0.1", video_port))
            .await
            .unwrap();
        sent.push(packet);
    }
    for packet in &sent[..usize::from(REPLAYS)] {
        rtp.send_to(packet, ("127.0.0.1", video_port))
            .await
            .unwrap();
    }
    // Video RTCP (no rtcp-mux offered: RTP port + 1): an SRTCP sender report under the wrong
    // key, then the genuine one with the same SRTCP index.
    let report = sender_report(0x5eed_0001);
    for session in [&mut forger, &mut genuine] {
        let packet = session.protect_rtcp(&report).unwrap();
        rtp.send_to(&packet, ("127.0.0.1", video_port + 1))
            .await
            .unwrap();
    }
    // Audio: an SRTP RFC 4733 '7', and a plain RTP '9' that must not count.
    let mut audio = sender(AUDIO_KEY);
    for (i, end) in [false, true, true, true].into_iter().enumerate() {
        let packet = audio.protect_rtp(&dtmf_rtp(i as u8, 7, end)).unwrap();
        rtp.send_to(&packet, ("127.0.0.1", audio_port))
            .await
            .unwrap();
    }
    rtp.send_to(&dtmf_rtp(9, 9, false), ("127.0.0.1", audio_port))
        .await
        .unwrap();

    client.send("ACK", 1, &to_tag, "", "").await;

    let counted = eventually(Duration::from_secs(5), || async {
        let status = fetch_status(admin).await;
        let (video, audio) = (stream(&status, "video"), stream(&status, "audio"));
        video["packets"] == N
            && video["srtp_errors"] == M + REPLAYS + 1
            && audio["packets"] == 4
            && audio["srtp_errors"] == 1
            && status["calls"][0]["dtmf"] == "7"
    })
    .await;
    let status = fetch_status(admin).await;
    assert!(counted, "{status}");
    assert_eq!(stream(&status, "video")["srtp"], true, "{status}");
    assert_eq!(stream(&status, "audio")["srtp"], true, "{status}");
    let text = get(admin, "/metrics").await.unwrap().body;
    let reason = |r: &str| metric(&text, &format!("tcn_srtp_errors_total{{reason=\"{r}\"}}"));
    assert_eq!(reason("auth"), Some(f64::from(M + 1)), "{text}");
    assert_eq!(reason("replay"), Some(f64::from(REPLAYS)), "{text}");
    assert_eq!(reason("too_short"), Some(1.0), "the plain DTMF packet");
    assert_eq!(
        metric(&text, "tcn_rtp_packets_received_total{media=\"video\"}"),
        Some(f64::from(N))
    );

    client.send("BYE", 2, &to_tag, "", "").await;
    assert_eq!(client.response().await.status.code(), 200);
    let status = fetch_status(admin).await;
    assert_eq!(status["calls"].as_array().unwrap().len(), 0, "{status}");
    running.abort();
}
