//! End-to-end SIP tests: SIPp (Debian `sip-tester`) against a node started in-process on
//! loopback.
//!
//! Each test starts its own node (SIP on `127.0.0.1:0` over UDP and TCP, its own 100-port
//! media range, one Meet access token and one routing rule, so an unknown alias really matches
//! nothing), runs one scenario from `tests/sipp/` (see the README there) with the harness in
//! `common/sipp.rs`, and checks SIPp's verdict (exit code 0: every expected message arrived
//! and every regexp check in the scenario passed) together with what the node shows in
//! `/status` and `/metrics`.
//!
//! SIPp is required: without it these tests fail with an install hint (`make deps`); they do
//! not skip. The H.264 pcap and the G.711 tone are made on first use with GStreamer and cached
//! under the target directory.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::sipp::{self, SippRun, Transport};
use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The Request-URI user of the built-in test call service.
const TEST_ALIAS: &str = "test";
/// The test service that rings 2 s before answering (for CANCEL).
const RING_ALIAS: &str = "ringing";
/// An alias no rule, Virtual Reception or test service matches.
const UNKNOWN_ALIAS: &str = "nobody";

/// The node configuration of these tests; `{first}`/`{last}` is the test's media range.
const CONFIG: &str = r#"
[node]
name = "sipp-node"
drain_timeout = "5s"

[admin]
listen = "127.0.0.1:0"

[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
test_alias = "test"
test_ring_alias = "ringing"

# SIPp 3.6 answers only the first challenge, and only with MD5.
digest_algorithms = ["MD5"]

[[sip.credentials]]
username = "room"
password = "secret"

[media]
port_range = [{first}, {last}]

[capacity]
max_calls = 4

[[meet.access_tokens]]
name = "lab"
token = "secret-lab"

# Only 13-digit meeting IDs route; "nobody" matches nothing.
[[routing.rules]]
name = "meet"
priority = 10
match = '(\d{13})(@.*)?'
replace = '\1'
target = { kind = "meet", access_token = "lab" }
"#;

/// Media ranges, one per test, so that tests running side by side never share ports.
mod media_base {
    pub(super) const OPTIONS_UDP: u16 = 24_000;
    pub(super) const OPTIONS_TCP: u16 = 24_100;
    pub(super) const CALL_UDP: u16 = 24_200;
    pub(super) const CALL_TCP: u16 = 24_300;
    pub(super) const UNKNOWN_UDP: u16 = 24_400;
    pub(super) const UNKNOWN_TCP: u16 = 24_500;
    pub(super) const MALFORMED_UDP: u16 = 24_600;
    pub(super) const MALFORMED_TCP: u16 = 24_700;
    pub(super) const CONTENT_LENGTH_UDP: u16 = 24_800;
    pub(super) const CANCEL_UDP: u16 = 24_900;
    pub(super) const CANCEL_TCP: u16 = 25_000;
    pub(super) const REGISTER_UDP: u16 = 25_100;
}

/// A node serving in the background of one test.
struct TestNode {
    admin: SocketAddr,
    udp: SocketAddr,
    tcp: SocketAddr,
    media: (u16, u16),
    stop: oneshot::Sender<()>,
    running: JoinHandle<Result<(), node::StartError>>,
}

impl TestNode {
    /// Starts a node whose media range is `media_base..=media_base + 99`.
    async fn start(media_base: u16) -> Self {
        let media = (media_base, media_base + 99);
        let text = CONFIG
            .replace("{first}", &media.0.to_string())
            .replace("{last}", &media.1.to_string());
        let config = Config::from_toml_str(&text).expect("test config is valid");
        let node = Node::start(config).await.expect("node starts");
        let admin = node.admin_addr();
        let udp = node.sip_udp_addr().expect("SIP over UDP listens");
        let tcp = node.sip_tcp_addr().expect("SIP over TCP listens");
        assert_ne!(udp.port(), 0, "the bound UDP port, not the configured 0");
        assert_ne!(tcp.port(), 0, "the bound TCP port, not the configured 0");
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(node.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            admin,
            udp,
            tcp,
            media,
            stop,
            running,
        }
    }

    /// The node's SIP address for `transport`.
    fn sip(&self, transport: Transport) -> SocketAddr {
        match transport {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
        }
    }

    /// The `/status` document.
    async fn status(&self) -> Value {
        let response = get(self.admin, "/status").await.expect("GET /status");
        assert_eq!(response.status, 200, "/status: {}", response.body);
        serde_json::from_str(&response.body).expect("/status is JSON")
    }

    /// The active calls in `/status`.
    async fn calls(&self) -> Vec<Value> {
        let status = self.status().await;
        status["calls"]
            .as_array()
            .unwrap_or_else(|| panic!("/status has no calls array: {status:#}"))
            .clone()
    }

    /// The `/metrics` text.
    async fn metrics(&self) -> String {
        let response = get(self.admin, "/metrics").await.expect("GET /metrics");
        assert_eq!(response.status, 200);
        response.body
    }

    /// One series of `/metrics`; 0 when absent (a labelled counter appears on first use).
    async fn counter(&self, series: &str) -> f64 {
        metric(&self.metrics().await, series).unwrap_or(0.0)
    }

    /// Asserts that the call list empties (within 3 s) and that no media port stays allocated.
    async fn assert_idle(&self, what: &str) {
        let idle = eventually(Duration::from_secs(3), || async {
            let status = self.status().await;
            status["calls"].as_array().is_some_and(Vec::is_empty)
                && status["media_ports"]["in_use"].as_u64() == Some(0)
        })
        .await;
        assert!(
            idle,
            "{what}: calls or media ports left behind: {:#}",
            self.status().await
        );
    }

    /// Stops the node (no call is left, so this is quick).
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.running)
            .await
            .expect("the node stops within 10 s")
            .expect("the node task does not panic")
            .expect("the node ran without error");
    }
}

/// The scenario file `name` in `tests/sipp/`.
fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// Runs a scenario on a blocking thread (SIPp runs for seconds; the node keeps serving).
fn spawn_sipp(
    name: &str,
    target: SocketAddr,
    transport: Transport,
    service: &str,
    timeout: Duration,
) -> JoinHandle<SippRun> {
    let path = scenario(name);
    let service = service.to_owned();
    tokio::task::spawn_blocking(move || {
        sipp::run_scenario(&path, target, transport, &["-s", &service], timeout)
    })
}

/// Runs a scenario to its end.
async fn run_sipp(
    name: &str,
    target: SocketAddr,
    transport: Transport,
    service: &str,
    timeout: Duration,
) -> SippRun {
    spawn_sipp(name, target, transport, service, timeout)
        .await
        .expect("the SIPp thread does not panic")
}

/// RTP packets the node counted for `media` ("audio"/"video") in one `/status` call entry.
fn packets(call: &Value, media: &str) -> u64 {
    call["streams"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|stream| stream["media"] == media)
        .filter_map(|stream| stream["packets"].as_u64())
        .sum()
}

/// The port of the first `m=<media>` line in a SIP message's SDP body.
fn sdp_port(message: &str, media: &str) -> Option<u16> {
    let prefix = format!("m={media} ");
    message
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Polls `/status` until the first active call satisfies `done` or `limit` passes; returns
/// whether it did and the last call entry seen.
async fn watch_call(
    node: &TestNode,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> (bool, Option<Value>) {
    let deadline = Instant::now() + limit;
    let mut last = None;
    while Instant::now() < deadline {
        if let Some(call) = node.calls().await.into_iter().next() {
            if done(&call) {
                return (true, Some(call));
            }
            last = Some(call);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (false, last)
}

// -------------------------------------------------------------------------------------------
// OPTIONS
// -------------------------------------------------------------------------------------------

async fn options(transport: Transport, media_base: u16) {
    sipp::require_sipp();
    let node = TestNode::start(media_base).await;
    let run = run_sipp(
        "options.xml",
        node.sip(transport),
        transport,
        TEST_ALIAS,
        Duration::from_secs(8),
    )
    .await;
    // The scenario checks the 200 and its Allow and Accept headers.
    run.assert_success(&format!("OPTIONS over {transport}"));

    let requests = format!(
        "tcn_sip_requests_total{{method=\"OPTIONS\",transport=\"{}\"}}",
        transport.label()
    );
    assert!(node.counter(&requests).await >= 1.0, "{requests}");
    assert!(
        node.counter("tcn_sip_responses_total{code=\"200\"}").await >= 1.0,
        "tcn_sip_responses_total{{code=\"200\"}}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_udp() {
    options(Transport::Udp, media_base::OPTIONS_UDP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_tcp() {
    options(Transport::Tcp, media_base::OPTIONS_TCP).await;
}

// -------------------------------------------------------------------------------------------
// A test call with media, INFO DTMF, hold re-INVITE and BYE
// -------------------------------------------------------------------------------------------

async fn test_call(transport: Transport, media_base: u16) {
    sipp::require_sipp();
    // Make the media first (the first use encodes the pcap), outside the call's timing.
    tokio::task::spawn_blocking(|| (sipp::h264_pcap(), sipp::ulaw_tone()))
        .await
        .expect("media files are made");
    let node = TestNode::start(media_base).await;
    let what = format!("test call over {transport}");
    let sipp_run = spawn_sipp(
        "call_test_alias.xml",
        node.sip(transport),
        transport,
        TEST_ALIAS,
        Duration::from_secs(16),
    );

    // During the ~6 s of media (the call and its counts disappear with the BYE): the call is
    // in /status with both streams counting. The pcap sends ~57 video packets a second.
    let (flowing, during_media) = watch_call(&node, Duration::from_secs(9), |call| {
        packets(call, "video") > 100 && packets(call, "audio") > 0
    })
    .await;
    // After the INFO (sent ~6 s into the call, ~2.5 s before the BYE): the digit shows.
    let (got_dtmf, after_info) =
        watch_call(&node, Duration::from_secs(9), |call| call["dtmf"] == "5").await;

    let run = sipp_run.await.expect("the SIPp thread does not panic");
    // The scenario checks the answer (both streams accepted), the INFO's 200, the hold answer
    // (a=recvonly on both streams) and the BYE's 200.
    run.assert_success(&what);

    assert!(
        flowing,
        "{what}: the node did not count > 100 video and > 0 audio packets; last /status \
         call entry: {during_media:#?}\n{run}"
    );
    let call = during_media.expect("seen");
    assert_eq!(call["service"], "test", "{what}: {call:#}");
    assert!(call["id"].is_u64(), "{what}: call id: {call:#}");
    let streams = call["streams"].as_array().expect("streams array");
    let (first, last) = node.media;
    for stream in streams {
        let port = stream["local_port"].as_u64().expect("local_port");
        assert!(
            (u64::from(first)..=u64::from(last)).contains(&port),
            "{what}: stream port {port} outside the media range {first}..={last}: {call:#}"
        );
    }
    // The ports in the SDP answer are the ones the node counts on.
    let answer = run.response(200).expect("a 200 was received");
    for media in ["audio", "video"] {
        let port = sdp_port(answer, media)
            .unwrap_or_else(|| panic!("{what}: no m={media} port in the answer:\n{answer}"));
        assert!(
            streams
                .iter()
                .any(|s| s["media"] == media && s["local_port"] == port),
            "{what}: answer m={media} port {port} is not a counted stream: {call:#}"
        );
    }
    assert!(
        got_dtmf,
        "{what}: /status never showed \"dtmf\": \"5\"; last call entry: {after_info:#?}"
    );

    // After the BYE: the call is gone and its ports are free; the counters remain.
    node.assert_idle(&what).await;
    let text = node.metrics().await;
    let count = |series: &str| metric(&text, series).unwrap_or(0.0);
    let t = transport.label();
    for (method, at_least) in [("INVITE", 2.0), ("ACK", 2.0), ("INFO", 1.0), ("BYE", 1.0)] {
        let series = format!("tcn_sip_requests_total{{method=\"{method}\",transport=\"{t}\"}}");
        assert!(count(&series) >= at_least, "{what}: {series} < {at_least}");
    }
    // 200s for the INVITE, the INFO, the re-INVITE and the BYE.
    assert!(
        count("tcn_sip_responses_total{code=\"200\"}") >= 4.0,
        "{what}: fewer than four 200s counted"
    );
    let video = count("tcn_rtp_packets_received_total{media=\"video\"}");
    let audio = count("tcn_rtp_packets_received_total{media=\"audio\"}");
    assert!(video >= 100.0, "{what}: {video} video packets counted");
    assert!(audio > 0.0, "{what}: {audio} audio packets counted");
    assert_eq!(
        count("tcn_calls_total{outcome=\"completed\"}"),
        1.0,
        "{what}: the call ended by BYE counts as completed"
    );
    assert_eq!(count("tcn_sip_parse_errors_total"), 0.0, "{what}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_call_udp() {
    test_call(Transport::Udp, media_base::CALL_UDP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_call_tcp() {
    test_call(Transport::Tcp, media_base::CALL_TCP).await;
}

// -------------------------------------------------------------------------------------------
// Unknown alias: 404
// -------------------------------------------------------------------------------------------

async fn unknown_alias(transport: Transport, media_base: u16) {
    sipp::require_sipp();
    let node = TestNode::start(media_base).await;
    let what = format!("unknown alias over {transport}");
    let run = run_sipp(
        "unknown_alias.xml",
        node.sip(transport),
        transport,
        UNKNOWN_ALIAS,
        Duration::from_secs(8),
    )
    .await;
    // The scenario expects 404 (a 180/200 would be unexpected) and ACKs it.
    run.assert_success(&what);

    node.assert_idle(&what).await;
    assert!(
        node.counter("tcn_sip_responses_total{code=\"404\"}").await >= 1.0,
        "{what}: no 404 counted"
    );
    let series = format!(
        "tcn_sip_requests_total{{method=\"INVITE\",transport=\"{}\"}}",
        transport.label()
    );
    assert!(node.counter(&series).await >= 1.0, "{what}: {series}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_alias_udp() {
    unknown_alias(Transport::Udp, media_base::UNKNOWN_UDP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_alias_tcp() {
    unknown_alias(Transport::Tcp, media_base::UNKNOWN_TCP).await;
}

// -------------------------------------------------------------------------------------------
// Malformed requests: 400 naming the problem, and the node keeps serving
// -------------------------------------------------------------------------------------------

async fn malformed(file: &str, transport: Transport, media_base: u16) {
    sipp::require_sipp();
    let node = TestNode::start(media_base).await;
    let what = format!("{file} over {transport}");
    let target = node.sip(transport);
    let run = run_sipp(file, target, transport, TEST_ALIAS, Duration::from_secs(8)).await;
    // The scenario checks the 400 and that its reason phrase names the problem.
    run.assert_success(&what);
    // Still serving: a well-formed OPTIONS right after gets 200 (over TCP on a new connection:
    // the node closes a connection after an invalid message).
    let after = run_sipp(
        "options.xml",
        target,
        transport,
        TEST_ALIAS,
        Duration::from_secs(8),
    )
    .await;
    after.assert_success(&format!("OPTIONS after {what}"));

    let text = node.metrics().await;
    let count = |series: &str| metric(&text, series).unwrap_or(0.0);
    assert!(
        count("tcn_sip_parse_errors_total") >= 1.0,
        "{what}: no parse error counted"
    );
    assert!(
        count("tcn_sip_responses_total{code=\"400\"}") >= 1.0,
        "{what}: no 400 counted"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_cseq_udp() {
    malformed("malformed.xml", Transport::Udp, media_base::MALFORMED_UDP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_cseq_tcp() {
    malformed("malformed.xml", Transport::Tcp, media_base::MALFORMED_TCP).await;
}

/// UDP only: on TCP a too-large Content-Length just means more bytes are to come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_content_length_udp() {
    malformed(
        "bad_content_length.xml",
        Transport::Udp,
        media_base::CONTENT_LENGTH_UDP,
    )
    .await;
}

// -------------------------------------------------------------------------------------------
// CANCEL while ringing
// -------------------------------------------------------------------------------------------

async fn cancel(transport: Transport, media_base: u16) {
    sipp::require_sipp();
    let node = TestNode::start(media_base).await;
    let what = format!("CANCEL over {transport}");
    let run = run_sipp(
        "cancel.xml",
        node.sip(transport),
        transport,
        RING_ALIAS,
        Duration::from_secs(10),
    )
    .await;
    // The scenario expects 180, then 200 (CANCEL) and 487 (INVITE), ACKs the 487, and fails
    // on a 200 for the INVITE in the 2.5 s after.
    run.assert_success(&what);

    node.assert_idle(&what).await;
    let text = node.metrics().await;
    let count = |series: &str| metric(&text, series).unwrap_or(0.0);
    let series = format!(
        "tcn_sip_requests_total{{method=\"CANCEL\",transport=\"{}\"}}",
        transport.label()
    );
    assert!(count(&series) >= 1.0, "{what}: {series}");
    for code in ["180", "487"] {
        let series = format!("tcn_sip_responses_total{{code=\"{code}\"}}");
        assert!(count(&series) >= 1.0, "{what}: {series}");
    }
    assert_eq!(
        count("tcn_calls_total{outcome=\"cancelled\"}"),
        1.0,
        "{what}: the call counts as cancelled"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_udp() {
    cancel(Transport::Udp, media_base::CANCEL_UDP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_tcp() {
    cancel(Transport::Tcp, media_base::CANCEL_TCP).await;
}

// -------------------------------------------------------------------------------------------
// REGISTER with digest authentication
// -------------------------------------------------------------------------------------------

/// Needs a registrar account `room` / `secret` in the node's configuration: add it to
/// `CONFIG` (or to this test's config) when the registrar lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_digest_udp() {
    sipp::require_sipp();
    let node = TestNode::start(media_base::REGISTER_UDP).await;
    let run = run_sipp(
        "register_digest.xml",
        node.sip(Transport::Udp),
        Transport::Udp,
        "room",
        Duration::from_secs(8),
    )
    .await;
    // The scenario checks the 401 challenge and the binding in the 200.
    run.assert_success("REGISTER with digest over udp");
    let text = node.metrics().await;
    assert_eq!(metric(&text, "tcn_registrations_active"), Some(1.0));
    assert!(metric(&text, "tcn_sip_responses_total{code=\"401\"}").unwrap_or(0.0) >= 1.0);
    node.stop().await;
}

// -------------------------------------------------------------------------------------------
// The media the scenarios send
// -------------------------------------------------------------------------------------------

/// The pcap holds ~10 s of H.264 RTP (PT 96) as Ethernet/IPv4/UDP frames to one port, in
/// time order; the tone is 1 s of μ-law.
#[test]
fn media_files_are_well_formed() {
    let pcap = std::fs::read(sipp::h264_pcap()).expect("read the pcap");
    assert_eq!(pcap[..4], 0xa1b2_c3d4_u32.to_le_bytes(), "libpcap magic");
    assert_eq!(pcap[20..24], 1_u32.to_le_bytes(), "link type Ethernet");
    let word = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().expect("4 bytes"));
    let (mut at, mut count, mut first, mut last) = (24, 0, None, 0_u64);
    while at < pcap.len() {
        let time = u64::from(word(at)) * 1_000_000 + u64::from(word(at + 4));
        let len = word(at + 8) as usize;
        assert_eq!(len, word(at + 12) as usize, "not truncated");
        let frame = &pcap[at + 16..at + 16 + len];
        assert_eq!(frame[12..14], [0x08, 0x00], "IPv4");
        assert_eq!(frame[14 + 9], 17, "UDP");
        assert_eq!(frame[14 + 20 + 2..14 + 20 + 4], 40_000_u16.to_be_bytes());
        assert_eq!(frame[14 + 28 + 1] & 0x7f, 96, "RTP payload type 96");
        assert!(time >= last, "time order");
        first.get_or_insert(time);
        last = time;
        count += 1;
        at += 16 + len;
    }
    assert!((550..=600).contains(&count), "{count} packets");
    let span = last - first.expect("packets");
    assert!((9_500_000..10_500_000).contains(&span), "{span} µs");

    let tone = std::fs::read(sipp::ulaw_tone()).expect("read the tone");
    assert_eq!(tone.len(), 8_000);
    assert!(tone.iter().any(|&b| b != 0xff), "not silence");
    assert_eq!(sipp::linear_to_ulaw(0), 0xff);
    assert_eq!(sipp::linear_to_ulaw(-1), 0x7f);
    assert_eq!(sipp::linear_to_ulaw(i16::MAX), 0x80);
    assert_eq!(sipp::linear_to_ulaw(i16::MIN), 0x00);
}
