//! baresip, a real SIP softphone, calls the node's test alias with H.264 + PCMU over UDP, TCP
//! and TLS; the TLS call also uses SDES-SRTP (RTP/SAVP). Each call must be established, and
//! the node must count the video packets it received (authenticated ones for SRTP) in
//! `/status` while the call runs; when baresip hangs up, the call ends as completed and frees
//! its media ports.
//!
//! baresip is required: without it these tests fail with an install hint (`make deps`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::baresip::{self, Call, Transport};
use common::tls::{self, TlsFiles};
use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use serde_json::Value;

/// At 25 fps a static picture still gives one packet per frame: 50 is two seconds of video.
const MIN_VIDEO_PACKETS: u64 = 50;

struct TestNode {
    admin: SocketAddr,
    udp: SocketAddr,
    tcp: SocketAddr,
    tls: SocketAddr,
}

impl TestNode {
    async fn start(media_base: u16, files: &TlsFiles) -> Self {
        let config = Config::from_toml_str(&format!(
            "[admin]\nlisten = \"127.0.0.1:0\"\n\
             [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\ntls = \"127.0.0.1:0\"\n\
             tls_cert = {:?}\ntls_key = {:?}\n\
             [media]\nport_range = [{media_base}, {}]\n",
            files.cert,
            files.key,
            media_base + 99
        ))
        .unwrap();
        let node = Node::start(config).await.expect("node starts");
        let started = Self {
            admin: node.admin_addr(),
            udp: node.sip_udp_addr().unwrap(),
            tcp: node.sip_tcp_addr().unwrap(),
            tls: node.sip_tls_addr().unwrap(),
        };
        tokio::spawn(node.run_until(std::future::pending()));
        started
    }

    fn sip(&self, transport: Transport) -> SocketAddr {
        match transport {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
            Transport::Tls => self.tls,
        }
    }

    async fn status(&self) -> Value {
        serde_json::from_str(&get(self.admin, "/status").await.unwrap().body).unwrap()
    }
}

/// Sum of one field over the call's streams of `media`.
fn stream_sum(call: &Value, media: &str, field: &str) -> u64 {
    call["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|stream| stream["media"] == media)
        .filter_map(|stream| stream[field].as_u64())
        .sum()
}

async fn call_in(transport: Transport, srtp: bool, media_base: u16, rtp_base: u16) {
    baresip::require();
    let name = format!("{}{}", transport.param(), if srtp { "-srtp" } else { "" });
    let dir = baresip::run_dir(&name);
    let files = tls::self_signed(&dir.join("tls"));
    let node = TestNode::start(media_base, &files).await;
    let call = Call {
        target: node.sip(transport),
        transport,
        user: "test",
        srtp,
        rtp_base,
        seconds: 8,
    };
    let run_dir = dir.join("vtc");
    let baresip = tokio::task::spawn_blocking(move || baresip::dial(&run_dir, &call));

    // While the call runs, the node shows it with both streams counting.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut best: Option<Value> = None;
    while Instant::now() < deadline && !baresip.is_finished() {
        if let Some(call) = node.status().await["calls"].get(0).cloned() {
            let enough = stream_sum(&call, "video", "packets") >= MIN_VIDEO_PACKETS
                && stream_sum(&call, "audio", "packets") > 0;
            best = Some(call);
            if enough {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let run = baresip.await.expect("the baresip thread does not panic");
    let tail = baresip::tail(&run.log);
    assert!(
        run.established(),
        "{name}: baresip never established the call:\n{tail}"
    );
    let call = best.unwrap_or_else(|| panic!("{name}: the call never showed in /status:\n{tail}"));
    let video = stream_sum(&call, "video", "packets");
    assert!(
        video >= MIN_VIDEO_PACKETS,
        "{name}: the node counted {video} video packets: {call:#}\n{tail}"
    );
    assert!(
        stream_sum(&call, "audio", "packets") > 0,
        "{name}: {call:#}"
    );
    if srtp {
        assert!(
            run.log.contains("SRTP is Enabled"),
            "{name}: baresip did not use SRTP:\n{tail}"
        );
        for stream in call["streams"].as_array().unwrap() {
            assert_eq!(stream["srtp"], true, "{name}: {stream:#}");
            // baresip sends one RTCP APP packet ("PINGPONG", a NAT keep-alive) in the clear
            // before SRTCP starts; the node rightly refuses it. Nothing else may fail.
            let errors = stream["srtp_errors"].as_u64().unwrap();
            assert!(errors <= 1, "{name}: {errors} SRTP errors: {stream:#}");
        }
    }

    // baresip hung up: the call ended normally and left nothing behind.
    let ended = eventually(Duration::from_secs(5), || async {
        let status = node.status().await;
        status["calls"].as_array().is_some_and(Vec::is_empty)
            && status["media_ports"]["in_use"].as_u64() == Some(0)
    })
    .await;
    assert!(
        ended,
        "{name}: call or ports left: {:#}",
        node.status().await
    );
    let metrics = get(node.admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&metrics, "tcn_calls_total{outcome=\"completed\"}"),
        Some(1.0),
        "{name}"
    );
    let requests = format!(
        "tcn_sip_requests_total{{method=\"INVITE\",transport=\"{}\"}}",
        transport.param()
    );
    assert_eq!(metric(&metrics, &requests), Some(1.0), "{name}: {requests}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_over_udp() {
    call_in(Transport::Udp, false, 23_000, 21_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_over_tcp() {
    call_in(Transport::Tcp, false, 23_100, 21_100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_calls_over_tls_with_sdes_srtp() {
    call_in(Transport::Tls, true, 23_200, 21_200).await;
}
