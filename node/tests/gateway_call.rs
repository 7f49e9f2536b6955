//! The first gateway call: baresip, a real SIP softphone standing in for a room system,
//! dials the demo meeting's long ID on a node that runs on its defaults (meet-sim embedded,
//! the demo's trusted token and rule). The call is established; meet-sim measures the three
//! VP8 simulcast layers the node makes from baresip's H.264 at exactly 1280×720, 640×360 and
//! 320×180, each carrying nearly every frame baresip sent, and no media rule fires; when
//! baresip hangs up, the gateway leaves the conference within 2 s and the node holds nothing
//! (licence, ports).
//!
//! baresip is required: without it this test fails with an install hint (`make deps`).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::baresip::{self, Call, Transport};
use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use serde_json::Value;

/// baresip's fakevideo runs at 25 fps.
const VTC_FPS: f64 = 25.0;

struct Demo {
    admin: SocketAddr,
    sip: SocketAddr,
    sim: SocketAddr,
    space: String,
    long_id: String,
}

async fn start(media_base: u16) -> Demo {
    let config = Config::from_toml_str(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [{media_base}, {}]\n",
        media_base + 99
    ))
    .unwrap();
    let node = Node::start(config).await.expect("node starts");
    let admin = node.admin_addr();
    let sip = node.sip_udp_addr().unwrap();
    tokio::spawn(node.run_until(std::future::pending()));
    let status: Value = serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap();
    let backend = &status["meet"]["backend"];
    assert_eq!(backend["kind"], "embedded_sim", "{status:#}");
    let url = backend["url"].as_str().unwrap();
    Demo {
        admin,
        sip,
        sim: url.trim_start_matches("http://").parse().unwrap(),
        space: backend["demo"]["space"]
            .as_str()
            .unwrap()
            .trim_start_matches("spaces/")
            .to_owned(),
        long_id: backend["demo"]["long_id"].as_str().unwrap().to_owned(),
    }
}

impl Demo {
    async fn sim_json(&self, path: &str) -> Value {
        let response = get(self.sim, path).await.unwrap();
        serde_json::from_str(&response.body).unwrap_or(Value::Null)
    }

    /// The gateway participants of the demo meeting still in it.
    async fn gateways(&self) -> Vec<Value> {
        let list = self
            .sim_json(&format!("/sim/spaces/{}/participants", self.space))
            .await;
        list["participants"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p["kind"] == "gateway" && p["state"] != "STATE_DISCONNECTED")
            .collect()
    }

    async fn media(&self, pid: i64) -> Value {
        self.sim_json(&format!(
            "/sim/spaces/{}/participants/{pid}/media",
            self.space
        ))
        .await["media"]
            .clone()
    }

    async fn events(&self, kind: &str) -> Vec<Value> {
        self.sim_json("/sim/events").await["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }
}

/// `(width, height, frames, bitrate)` of layer `rid` in a sim media report.
fn layer(media: &Value, rid: &str) -> (u64, u64, u64, u64) {
    let found = media["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["rid"] == rid)
        .cloned()
        .unwrap_or(Value::Null);
    let n = |k: &str| found[k].as_u64().unwrap_or(0);
    (n("width"), n("height"), n("frames"), n("bitrateBps"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_dials_the_demo_meeting_and_meet_sees_three_layers() {
    baresip::require();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "off".into()))
        .with_test_writer()
        .try_init();
    let demo = start(28_000).await;
    let long_id = demo.long_id.clone();
    let sip = demo.sip;
    let dir = baresip::run_dir("gateway");
    let vtc = tokio::task::spawn_blocking(move || {
        let call = Call {
            target: sip,
            transport: Transport::Udp,
            user: &long_id,
            srtp: false,
            rtp_base: 28_200,
            seconds: 16,
        };
        baresip::dial(&dir, &call)
    });

    // The gateway joins the demo meeting (trusted: no lobby).
    let joined = eventually(Duration::from_secs(15), || async {
        !demo.gateways().await.is_empty()
    })
    .await;
    assert!(joined, "no gateway joined the demo meeting");
    let pid = demo.gateways().await[0]["participantId"]
        .as_i64()
        .expect("a participant id");

    // Wait until every layer has its size, then measure a window of ≥ 4 s.
    let sizes = [("f", 1280, 720), ("h", 640, 360), ("q", 320, 180)];
    let sized = eventually(Duration::from_secs(10), || async {
        let media = demo.media(pid).await;
        sizes
            .iter()
            .all(|&(rid, w, h)| matches!(layer(&media, rid), (lw, lh, f, _) if lw == w && lh == h && f > 0))
    })
    .await;
    let media = demo.media(pid).await;
    assert!(sized, "layers: {media:#}");
    let start_frames: Vec<u64> = sizes.iter().map(|s| layer(&media, s.0).2).collect();
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let media = demo.media(pid).await;
    let seconds = started.elapsed().as_secs_f64();
    let expected = VTC_FPS * seconds;
    let mut total_bps = 0;
    for (i, &(rid, w, h)) in sizes.iter().enumerate() {
        let (lw, lh, frames, bps) = layer(&media, rid);
        assert_eq!((lw, lh), (w, h), "layer {rid}: {media:#}");
        let got = (frames - start_frames[i]) as f64;
        println!(
            "layer {rid}: {lw}x{lh}, {got} frames in {seconds:.2} s ({:.0} %), {bps} b/s",
            100.0 * got / expected
        );
        // ≥ 90 % of what the room system sent in the window (a margin of 10 % for the timing of
        // the two reads on a loaded machine).
        assert!(
            got >= 0.9 * expected * 0.9,
            "layer {rid}: {got} frames of {expected:.0} in {seconds:.2} s"
        );
        total_bps += bps;
    }
    assert!(total_bps <= 2_000_000, "together {total_bps} b/s");
    let broken = demo.events("media_rule_broken").await;
    assert!(
        broken.is_empty(),
        "LAYERS_MISSING or BITRATE_EXCEEDED: {broken:#?}"
    );

    // baresip hangs up: the gateway leaves, the node holds nothing.
    let run = vtc.await.unwrap();
    assert!(run.established(), "{}", baresip::tail(&run.log));
    let left = eventually(Duration::from_secs(2), || async {
        demo.gateways().await.is_empty()
    })
    .await;
    assert!(left, "the gateway is still in the meeting");
    let freed = eventually(Duration::from_secs(5), || async {
        let text = get(demo.admin, "/metrics").await.unwrap().body;
        metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
            && metric(
                &text,
                "tcn_gateway_call_endings_total{ending=\"caller_hung_up\"}",
            ) == Some(1.0)
    })
    .await;
    assert!(freed, "{}", get(demo.admin, "/metrics").await.unwrap().body);
}
