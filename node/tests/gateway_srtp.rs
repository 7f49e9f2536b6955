//! SRTP both ways on a gateway call: baresip, with SDES-SRTP mandatory (`srtp-mand`: it drops
//! anything that does not authenticate), dials the demo meeting. Meet (meet-sim) must measure
//! the three VP8 layers made from baresip's protected H.264, and baresip must decode the
//! node's protected H.264 composite: it logs the resolution of what it decodes and its
//! receive frame rate.
//!
//! baresip is required: without it this test fails with an install hint (`make deps`).

mod common;

use std::time::Duration;

use common::baresip::{self, Call, Transport};
use common::demo::Demo;
use common::eventually;
use serde_json::Value;

/// The receive frame rate of baresip's last status line (`efps=<tx>/<rx>`).
fn last_rx_fps(log: &str) -> Option<f64> {
    log.rsplit("efps=")
        .next()
        .and_then(|tail| tail.split('/').nth(1))
        .and_then(|rx| rx.split_whitespace().next())
        .and_then(|rx| rx.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srtp_both_ways_baresip_decodes_the_nodes_h264_and_meet_gets_the_layers() {
    baresip::require();
    let demo = Demo::start(28_900, "").await;
    let long_id = demo.long_id.clone();
    let sip = demo.sip;
    let dir = baresip::run_dir("gateway-srtp");
    let vtc = tokio::task::spawn_blocking(move || {
        let call = Call {
            target: sip,
            transport: Transport::Udp,
            user: &long_id,
            srtp: true,
            rtp_base: 29_100,
            seconds: 14,
        };
        baresip::dial(&dir, &call)
    });

    let joined = eventually(Duration::from_secs(15), || async {
        !demo.gateways(None).await.is_empty()
    })
    .await;
    assert!(joined, "no gateway joined the demo meeting");
    let pid = demo.gateways(None).await[0]["participantId"]
        .as_i64()
        .expect("a participant id");
    // The node decrypted what baresip sent: Meet sees every layer at its size.
    let sizes = [("f", 1280, 720), ("h", 640, 360), ("q", 320, 180)];
    let sized = eventually(Duration::from_secs(10), || async {
        let media = demo.media(pid).await;
        sizes.iter().all(|&(rid, w, h)| {
            media["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|l: &Value| {
                    l["rid"] == rid
                        && l["width"] == w
                        && l["height"] == h
                        && l["frames"].as_u64().unwrap_or(0) > 0
                })
        })
    })
    .await;
    assert!(sized, "layers: {:#}", demo.media(pid).await);
    // The node's own view: both streams SRTP, packets authenticated, none refused.
    let status: Value =
        serde_json::from_str(&common::get(demo.admin, "/status").await.unwrap().body).unwrap();
    let streams = status["calls"][0]["streams"].clone();
    let srtp_metrics: Vec<String> = demo
        .metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("tcn_srtp_errors_total"))
        .map(str::to_owned)
        .collect();
    for stream in streams.as_array().expect("streams in /status") {
        assert_eq!(stream["srtp"], true, "{streams:#}");
        assert!(stream["packets"].as_u64().unwrap_or(0) > 0, "{streams:#}");
    }
    // Nothing failed authentication or replay checks (baresip's keepalives, shorter than an
    // SRTP header and tag, are refused as `too_short`: they carry nothing).
    for reason in ["auth", "replay", "malformed"] {
        let line = format!("tcn_srtp_errors_total{{reason=\"{reason}\"}} 0");
        assert!(srtp_metrics.contains(&line), "{srtp_metrics:#?}");
    }

    let run = vtc.await.unwrap();
    let log = run.log.replace('\r', "\n");
    assert!(run.established(), "{}", baresip::tail(&log));
    assert!(
        log.contains("srtp: video: SRTP is Enabled")
            && log.contains("srtp: audio: SRTP is Enabled"),
        "{}",
        baresip::tail(&log)
    );
    // baresip decoded the node's composite (SRTP-mandatory: unprotected packets never reach
    // its decoder) at the node's 1280×720, and at about the node's 30 fps at the end.
    assert!(
        log.contains("video: receiving with resolution 1280 x 720"),
        "{}",
        baresip::tail(&log)
    );
    let fps = last_rx_fps(&log).expect("a status line with efps");
    println!("baresip decodes the node's H.264 at {fps} fps");
    assert!(fps >= 25.0, "baresip receives {fps} fps");
}
