//! Room systems that offer only an older or another codec, through the whole node: each row
//! is a room system offering one video codec and one audio codec (nothing else), calling the
//! demo meeting where one participant sends a solid colour and a 440 Hz tone. The node must
//! answer with those codecs and carry both ways: the room system decodes the participant's
//! colour at the codec's picture size and hears 440 Hz; the participant hears the room
//! system's 1 kHz, and Meet gets the three VP8 layers at their sizes. Together with
//! `gateway_media` (H.264 and PCMU) every audio codec is covered in both directions.

mod common;

use std::time::Duration;

use common::demo::Demo;
use common::{eventually, mangle};
use kernels::frame::Yuv;
use node::demo::participant::Participant;
use node::demo::run::close;
use node::demo::vtc::{Vtc, VtcAudio, VtcOptions, VtcVideo};
use pipelines::PortRange;
use pipelines::peers::{PROBE_RATE, Pattern, dominant_frequency};
use serde_json::Value;
use tokio::sync::Mutex;

/// One row at a time: each is a node, a participant and a room system.
static SERIAL: Mutex<()> = Mutex::const_new(());

const GREEN: u32 = 0x22_bb44;

async fn row(video: VtcVideo, audio: VtcAudio, media_base: u16, size: (u32, u32), corrupt: bool) {
    let _serial = SERIAL.lock().await;
    let demo = Demo::start(media_base, "").await;
    let (sim, code) = (demo.sim, demo.meeting_code.clone());
    let green = tokio::task::spawn_blocking(move || {
        Participant::join(
            sim,
            &code,
            "Green",
            (Pattern::Solid(GREEN), 640, 360),
            440.0,
            PortRange {
                min: media_base + 200,
                max: media_base + 209,
            },
            1,
        )
        .unwrap()
    })
    .await
    .unwrap();
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let options = VtcOptions {
        video,
        audio,
        ..VtcOptions::default()
    };
    let vtc = tokio::task::spawn_blocking(move || Vtc::call_with(sip, &long_id, &options))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{video:?} + {audio:?}: {e}"));
    let name = format!("{video:?} + {audio:?}");

    // The room system decodes the composite in its codec: Green fills the frame (one other).
    let [_, r, g, b] = GREEN.to_be_bytes();
    let green_yuv = Yuv::from_rgb([r, g, b]);
    let seen = eventually(Duration::from_secs(20), || async {
        vtc.video().latest().is_some_and(|f| {
            (f.width(), f.height()) == size && close(f.pixel(size.0 / 2, size.1 / 3), green_yuv, 14)
        })
    })
    .await;
    let frame = vtc.video().latest();
    if let Some(frame) = &frame {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gateway-codecs");
        std::fs::create_dir_all(&dir).unwrap();
        frame
            .write_png(dir.join(format!("{video:?}-{audio:?}.png")))
            .unwrap();
    }
    assert!(
        seen,
        "{name}: the room system decodes {:?}",
        frame.map(|f| (f.width(), f.height(), f.pixel(size.0 / 2, size.1 / 3)))
    );

    // Audio both ways keeps its frequency.
    let vtc_hears = eventually(Duration::from_secs(10), || async {
        let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
        (freq - 440.0).abs() <= 10.0 && share > 0.5
    })
    .await;
    let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
    assert!(
        vtc_hears,
        "{name}: the room system hears {freq} Hz ({share:.2})"
    );
    let green_hears = eventually(Duration::from_secs(10), || async {
        green.audio_samples().iter().any(|s| {
            let (freq, share) = dominant_frequency(s, PROBE_RATE);
            (freq - 1000.0).abs() <= 10.0 && share > 0.5
        })
    })
    .await;
    let heard: Vec<(f64, f64)> = green
        .audio_samples()
        .iter()
        .map(|s| dominant_frequency(s, PROBE_RATE))
        .collect();
    assert!(green_hears, "{name}: Green hears {heard:?}");

    // Meet gets the three layers made from the room system's video.
    let gateway = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let layers_ok = eventually(Duration::from_secs(10), || async {
        let media = demo.media(gateway).await;
        [("f", 1280, 720), ("h", 640, 360), ("q", 320, 180)]
            .iter()
            .all(|&(rid, w, h)| {
                media["layers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l: &Value| {
                        l["rid"] == rid
                            && l["width"] == w
                            && l["height"] == h
                            && l["frames"].as_u64().unwrap_or(0) > 15
                    })
            })
    })
    .await;
    assert!(layers_ok, "{name}: {:#}", demo.media(gateway).await);
    println!("{name}: decoded at {size:?}, {freq:.0} Hz to the room system, 1 kHz to Meet");

    if corrupt {
        // Bit flips, then truncated packets, for 2 s each: the layers carry on at the next
        // intra picture (the clip has one every 2 s), and the call stays up.
        for mangler in [mangle::bit_flips(), mangle::truncation()] {
            vtc.set_video_mangler(Some(mangler));
            tokio::time::sleep(Duration::from_secs(2)).await;
            vtc.set_video_mangler(None);
            let before = demo.layer_frames(gateway, "f").await;
            let resumed = eventually(Duration::from_secs(8), || async {
                demo.layer_frames(gateway, "f").await >= before + 30
            })
            .await;
            assert!(
                resumed,
                "{name}: the layers did not resume after corrupt video"
            );
        }
        assert!(
            !demo.gateways(Some("STATE_JOINED")).await.is_empty(),
            "{name}: the call ended"
        );
    }
    drop((vtc, green));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h263_plus_and_g722_and_corrupt_h263_plus() {
    row(VtcVideo::H263Plus, VtcAudio::G722, 30_000, (352, 288), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h261_and_opus() {
    row(VtcVideo::H261, VtcAudio::Opus, 30_300, (352, 288), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h263_rfc2190_and_pcma_and_corrupt_h263() {
    row(VtcVideo::H263, VtcAudio::Pcma, 30_600, (352, 288), true).await;
}
