//! Bad media never spreads. Two room systems call the demo meeting through one node: call B is
//! healthy, call A is broken in one way after another (bit flips, truncated packets, an
//! oversized NAL unit, garbage payloads, a payload type and a codec that were not negotiated,
//! an SSRC change, and a picture beyond the negotiated level). After each case A either
//! recovers (Meet gets its layers again, at the next keyframe) or is ended with a `Reason`;
//! B's frame rate both ways stays at its baseline and B stays up; nothing panics.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::demo::Demo;
use common::eventually;
use common::mangle::{bit_flips, garbage, payload_type, ssrc, truncation};
use node::demo::vtc::{Vtc, VtcOptions, VtcVideo};
use pipelines::peers::{Pattern, RtpSource};
use serde_json::Value;

/// Panics anywhere in the process (the node's threads included), counted by a hook.
static PANICS: AtomicU64 = AtomicU64::new(0);

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

/// What one call does over a window: frames per second Meet got from it, and frames per
/// second its room system decoded from the node.
#[derive(Debug, Clone, Copy)]
struct Rates {
    up: f64,
    down: f64,
}

async fn rates(demo: &Demo, pid: i64, vtc: &Vtc, window: Duration) -> Rates {
    let (up0, down0, t0) = (
        demo.layer_frames(pid, "f").await,
        vtc.video().frames(),
        Instant::now(),
    );
    tokio::time::sleep(window).await;
    let (up1, down1) = (demo.layer_frames(pid, "f").await, vtc.video().frames());
    let seconds = t0.elapsed().as_secs_f64();
    Rates {
        up: (up1 - up0) as f64 / seconds,
        down: (down1 - down0) as f64 / seconds,
    }
}

/// One FU-A NAL unit (IDR type) of `fragments` × 1100 bytes, with the stream's header.
fn oversized_nal(template: &[u8], fragments: u16) -> Vec<Vec<u8>> {
    let mut seq = u16::from_be_bytes([template[2], template[3]]).wrapping_add(10_000);
    (0..fragments)
        .map(|i| {
            let mut p = template[..12].to_vec();
            p[1] &= 0x7f;
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            seq = seq.wrapping_add(1);
            let start = if i == 0 { 0x80 } else { 0 };
            let end = if i + 1 == fragments { 0x40 } else { 0 };
            p.extend_from_slice(&[0x7c, start | end | 5]);
            p.extend(std::iter::repeat_n(0xa5, 1100));
            p
        })
        .collect()
}

/// H.263 (RFC 2190 mode A) packets on static payload type 34: a codec never negotiated.
fn h263_packets(template: &[u8], n: u16) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut p = template[..12].to_vec();
            p[1] = 34;
            p[2..4].copy_from_slice(&(i.wrapping_mul(7)).to_be_bytes());
            p.extend_from_slice(&[0x00, 0x40, 0x00, 0x00]);
            p.extend_from_slice(&[0x00, 0x00, 0x80, 0x02, 0x08]);
            p.extend(std::iter::repeat_n(0x5a, 600));
            p
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_media_on_one_call_never_reaches_the_other() {
    count_panics();
    let demo = Demo::start(29_200, "").await;
    let options = VtcOptions {
        size: (640, 360, 30),
        ..VtcOptions::default()
    };
    let call = |colour: u32| {
        let (sip, long_id) = (demo.sip, demo.long_id.clone());
        let options = VtcOptions {
            pattern: Pattern::Solid(colour),
            ..options
        };
        tokio::task::spawn_blocking(move || Vtc::call_with(sip, &long_id, &options).unwrap())
    };
    let healthy = call(0x22_22dd).await.unwrap();
    let healthy_pid = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let broken = Arc::new(call(0xdd_2222).await.unwrap());
    let broken_pid = demo
        .gateways(Some("STATE_JOINED"))
        .await
        .iter()
        .filter_map(|p| p["participantId"].as_i64())
        .find(|pid| *pid != healthy_pid)
        .expect("the second gateway joined");

    // A template of the broken call's own RTP (its header: SSRC, PT, sequence).
    let template = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let template = Arc::clone(&template);
        broken.set_video_mangler(Some(Box::new(move |packet: &[u8]| {
            *template.lock().unwrap() = packet.to_vec();
            vec![packet.to_vec()]
        })));
    }
    let flowing = eventually(Duration::from_secs(20), || async {
        demo.layer_frames(healthy_pid, "f").await > 30
            && demo.layer_frames(broken_pid, "f").await > 30
    })
    .await;
    assert!(flowing, "both calls' video reaches Meet");
    let flowing = eventually(Duration::from_secs(10), || async {
        healthy.video().frames() > 30 && broken.video().frames() > 30
    })
    .await;
    assert!(flowing, "both room systems decode the node's video");
    let baseline = rates(&demo, healthy_pid, &healthy, Duration::from_secs(3)).await;
    println!("baseline of the healthy call: {baseline:?}");
    assert!(baseline.up >= 20.0 && baseline.down >= 25.0, "{baseline:?}");

    let template = template.lock().unwrap().clone();
    assert!(template.len() > 12);
    type Case = (&'static str, Box<dyn Fn(&Vtc) + Send + Sync>);
    let cases: Vec<Case> = vec![
        (
            "bit flips",
            Box::new(|v| v.set_video_mangler(Some(bit_flips()))),
        ),
        (
            "truncated packets",
            Box::new(|v| v.set_video_mangler(Some(truncation()))),
        ),
        (
            "garbage payloads",
            Box::new(|v| v.set_video_mangler(Some(garbage()))),
        ),
        (
            "payload type 97, not negotiated",
            Box::new(|v| v.set_video_mangler(Some(payload_type(97)))),
        ),
        ("an oversized NAL unit", {
            let template = template.clone();
            Box::new(move |v: &Vtc| {
                for p in oversized_nal(&template, 2_000) {
                    v.send_video_raw(&p);
                }
            })
        }),
        ("H.263 on payload type 34, not negotiated", {
            let template = template.clone();
            Box::new(move |v: &Vtc| {
                for p in h263_packets(&template, 200) {
                    v.send_video_raw(&p);
                }
            })
        }),
        (
            "an SSRC change",
            Box::new(|v| v.set_video_mangler(Some(ssrc(0x5eed_0002)))),
        ),
    ];
    for (name, start) in &cases {
        start(&broken);
        let during = rates(&demo, healthy_pid, &healthy, Duration::from_secs(3)).await;
        // The SSRC change stays: the stream goes on under its new SSRC.
        if *name != "an SSRC change" {
            broken.set_video_mangler(None);
        }
        println!("{name}: the healthy call during it {during:?}");
        assert!(
            during.up >= 0.85 * baseline.up && during.down >= 0.85 * baseline.down,
            "{name}: the healthy call fell from {baseline:?} to {during:?}"
        );
        // The broken call recovers at its next keyframe (its source sends one every 2 s).
        let before = demo.layer_frames(broken_pid, "f").await;
        let recovered = eventually(Duration::from_secs(8), || async {
            demo.layer_frames(broken_pid, "f").await >= before + 30
        })
        .await;
        assert!(recovered, "{name}: the broken call's video did not resume");
    }

    // A picture beyond the negotiated level (3.1: 1080p is more than its 3600 macroblocks):
    // the room system's own stream stops and a 1080p one takes its place.
    broken.set_video_mangler(Some(Box::new(|_: &[u8]| Vec::new())));
    let raw = Arc::clone(&broken);
    let big = RtpSource::h264(
        Pattern::Bars,
        (1920, 1080, 30),
        node::demo::vtc::VTC_H264_PT,
        Box::new(move |p| raw.send_video_raw(p)),
    )
    .unwrap();
    let broken_before = demo.layer_frames(broken_pid, "f").await;
    let during = rates(&demo, healthy_pid, &healthy, Duration::from_secs(3)).await;
    // The node takes it (within its own 4.1 decoder) and the layers keep their sizes.
    let went_on = eventually(Duration::from_secs(5), || async {
        demo.layer_frames(broken_pid, "f").await >= broken_before + 30
    })
    .await;
    let f = demo.media(broken_pid).await["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l: &&Value| l["rid"] == "f")
        .cloned()
        .unwrap_or(Value::Null);
    drop(big);
    assert!(went_on, "the 1080p call stalled: {f:#}");
    assert_eq!(
        (f["width"].as_u64(), f["height"].as_u64()),
        (Some(1280), Some(720))
    );
    println!("beyond the level: the healthy call during it {during:?}");
    assert!(
        during.up >= 0.85 * baseline.up && during.down >= 0.85 * baseline.down,
        "beyond the level: the healthy call fell from {baseline:?} to {during:?}"
    );

    // Corrupt H.263: the broken call hangs up and an H.263+ room system calls in its place;
    // bit flips, then truncated packets. It recovers at its next intra picture; the healthy
    // call does not notice.
    let mut broken = Arc::try_unwrap(broken).expect("nothing else holds the broken call");
    let bye = tokio::task::spawn_blocking(move || broken.hang_up())
        .await
        .unwrap();
    assert_eq!(bye, Ok(200), "the broken call hangs up");
    let h263 = {
        let (sip, long_id) = (demo.sip, demo.long_id.clone());
        let options = VtcOptions {
            video: VtcVideo::H263Plus,
            ..options
        };
        tokio::task::spawn_blocking(move || Vtc::call_with(sip, &long_id, &options).unwrap())
            .await
            .unwrap()
    };
    let h263_pid = eventually(Duration::from_secs(10), || async {
        demo.gateways(Some("STATE_JOINED")).await.len() == 2
    })
    .await;
    assert!(h263_pid, "the H.263+ call joined");
    let h263_pid = demo
        .gateways(Some("STATE_JOINED"))
        .await
        .iter()
        .filter_map(|p| p["participantId"].as_i64())
        .find(|pid| *pid != healthy_pid && *pid != broken_pid)
        .expect("the H.263+ gateway");
    let flowing = eventually(Duration::from_secs(10), || async {
        demo.layer_frames(h263_pid, "f").await > 30
    })
    .await;
    assert!(flowing, "the H.263+ call's video reaches Meet");
    for (name, mangler) in [
        ("H.263+ bit flips", bit_flips()),
        ("truncated H.263+ packets", truncation()),
    ] {
        h263.set_video_mangler(Some(mangler));
        let during = rates(&demo, healthy_pid, &healthy, Duration::from_secs(3)).await;
        h263.set_video_mangler(None);
        println!("{name}: the healthy call during it {during:?}");
        assert!(
            during.up >= 0.85 * baseline.up && during.down >= 0.85 * baseline.down,
            "{name}: the healthy call fell from {baseline:?} to {during:?}"
        );
        let before = demo.layer_frames(h263_pid, "f").await;
        let recovered = eventually(Duration::from_secs(8), || async {
            demo.layer_frames(h263_pid, "f").await >= before + 30
        })
        .await;
        assert!(recovered, "{name}: the H.263+ call's video did not resume");
    }

    // The healthy call is still up and still carries media both ways; nothing panicked.
    let after = rates(&demo, healthy_pid, &healthy, Duration::from_secs(2)).await;
    assert!(
        after.up >= 0.85 * baseline.up && after.down >= 0.85 * baseline.down,
        "after: {after:?}"
    );
    assert!(
        demo.gateways(Some("STATE_JOINED"))
            .await
            .iter()
            .any(|p| p["participantId"].as_i64() == Some(healthy_pid)),
        "the healthy call left the meeting"
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
    let mut healthy = healthy;
    let bye = tokio::task::spawn_blocking(move || healthy.hang_up())
        .await
        .unwrap();
    assert_eq!(bye, Ok(200));
}
