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

use std::time::Duration;

use common::baresip::{self, Call, Transport};
use common::demo::Demo;
use common::{eventually, metric};
use serde_json::Value;

/// baresip's fakevideo runs at 25 fps.
const VTC_FPS: f64 = 25.0;

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
    let demo = Demo::start(28_000, "").await;
    let threads_before = metric(&demo.metrics().await, "tcn_process_threads").unwrap();
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
        !demo.gateways(None).await.is_empty()
    })
    .await;
    assert!(joined, "no gateway joined the demo meeting");
    let pid = demo.gateways(None).await[0]["participantId"]
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
        demo.gateways(None).await.is_empty()
    })
    .await;
    assert!(left, "the gateway is still in the meeting");
    let freed = eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
            && metric(
                &text,
                "tcn_gateway_call_endings_total{ending=\"caller_hung_up\"}",
            ) == Some(1.0)
    })
    .await;
    assert!(freed, "{}", demo.metrics().await);
    // No pipeline and no thread is left (tokio keeps an idle blocking thread for 10 s).
    let threads = eventually(Duration::from_secs(30), || async {
        let text = demo.metrics().await;
        metric(&text, "tcn_media_graphs_active") == Some(0.0)
            && metric(&text, "tcn_process_threads").is_some_and(|t| t <= threads_before + 2.0)
    })
    .await;
    let text = demo.metrics().await;
    assert!(
        threads,
        "threads before the call {threads_before}, now {:?}; media graphs {:?}",
        metric(&text, "tcn_process_threads"),
        metric(&text, "tcn_media_graphs_active")
    );
}
