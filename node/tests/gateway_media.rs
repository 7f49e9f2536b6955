//! Media both ways through a gateway call, checked by pixels and by spectrum.
//!
//! Two Meet participants (the node's own Meet leg joined to meet-sim's participant endpoint,
//! each sending a solid colour and a 440 Hz tone) and a room system (a SIP caller sending SMPTE
//! bars and a 1 kHz tone as H.264 + G.711, and decoding what it gets back). The room system's
//! picture is the 1+7 composite: the participants' colours are in the tiles the conference's
//! video assignment gave them, and move when the active speaker changes. The participants see
//! the room system's bars at 1280×720 and hear its 1 kHz tone; the room system hears 440 Hz.
//! Decoded frames of each direction are saved as PNG (`target/gateway-media/`).

mod common;

use std::time::Duration;

use common::demo::Demo;
use common::eventually;
use kernels::frame::{I420Frame, Yuv};
use node::demo::participant::Participant;
use node::demo::run::{close, distinct_colours, tile_centre as demo_tile_centre, yuv};
use node::demo::vtc::Vtc;
use pipelines::PortRange;
use pipelines::peers::{PROBE_RATE, Pattern, dominant_frequency};
use serde_json::json;

const RED: u32 = 0xdd_2222;
const BLUE: u32 = 0x22_22dd;

fn rgb(colour: u32) -> Yuv {
    yuv(colour)
}

/// The colour at the centre of tile `tile` of a 1+7 composite.
fn tile_centre(frame: &I420Frame, tile: usize) -> Yuv {
    demo_tile_centre(frame, tile).expect("a 1+7 composite")
}

/// Mean luma difference between the caption of `name` in tile `tile` as kernels draws it and
/// what `frame` shows there (255 when the tile has no room for a caption).
fn caption_difference(frame: &I420Frame, tile: usize, name: &str) -> f64 {
    let layout = kernels::layout::Layout::one_plus_seven(frame.width(), frame.height()).unwrap();
    let Some((rect, picture)) = kernels::slate::caption_picture(layout.tile(tile).unwrap(), name)
    else {
        return 255.0;
    };
    let mut sum = 0u64;
    for y in 0..rect.height {
        for x in 0..rect.width {
            let seen = frame.pixel(rect.x + x, rect.y + y).y;
            let drawn = picture.pixel(x, y).y;
            sum += u64::from(seen.abs_diff(drawn));
        }
    }
    sum as f64 / f64::from(rect.width * rect.height)
}

fn save(frame: &I420Frame, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gateway-media");
    std::fs::create_dir_all(&dir).unwrap();
    frame.write_png(dir.join(name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn video_and_audio_cross_the_gateway_both_ways() {
    let demo = Demo::start(28_800, "").await;
    let (sim, code) = (demo.sim, demo.meeting_code.clone());
    let join = |name: &'static str, colour: u32, ports: u16| {
        let code = code.clone();
        tokio::task::spawn_blocking(move || {
            Participant::join(
                sim,
                &code,
                name,
                (Pattern::Solid(colour), 640, 360),
                440.0,
                PortRange {
                    min: ports,
                    max: ports + 9,
                },
                1,
            )
            .unwrap()
        })
    };
    let red = join("Red", RED, 29_000).await.unwrap();
    let blue = join("Blue", BLUE, 29_010).await.unwrap();
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let vtc = tokio::task::spawn_blocking(move || {
        Vtc::call(
            sip,
            &long_id,
            Pattern::Bars,
            1000.0,
            Duration::from_secs(20),
        )
        .unwrap()
    })
    .await
    .unwrap();
    let gateway = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();

    // The gateway speaks: both participants show it on their one canvas, and the room system's
    // main tile and first thumbnail show the two participants.
    let speak = |pid: i64| {
        let space = demo.space.clone();
        let demo = &demo;
        async move {
            let (status, body) = demo
                .sim_post(
                    &format!("/sim/spaces/{space}:setActiveSpeaker"),
                    json!({"participantId": pid}),
                )
                .await;
            assert_eq!(status, 200, "{body:#}");
        }
    };
    speak(gateway).await;
    let (red_yuv, blue_yuv) = (rgb(RED), rgb(BLUE));
    let composite_ok = eventually(Duration::from_secs(20), || async {
        vtc.video().latest().is_some_and(|f| {
            let (main, first) = (tile_centre(&f, 0), tile_centre(&f, 1));
            (close(main, red_yuv, 12) && close(first, blue_yuv, 12))
                || (close(main, blue_yuv, 12) && close(first, red_yuv, 12))
        })
    })
    .await;
    let composite = vtc
        .video()
        .latest()
        .expect("the room system decodes the composite");
    save(&composite, "vtc-view.png");
    assert!(
        composite_ok,
        "tiles 0 and 1: {:?} {:?}, want red and blue",
        tile_centre(&composite, 0),
        tile_centre(&composite, 1)
    );
    assert_eq!((composite.width(), composite.height()), (1280, 720));
    // Each tile carries its participant's name from the roster: the caption kernels draws
    // for that name, compared by luma with what the room system decoded.
    let (main_name, first_name) = if close(tile_centre(&composite, 0), red_yuv, 12) {
        ("Red", "Blue")
    } else {
        ("Blue", "Red")
    };
    for (tile, name, other) in [(0, main_name, first_name), (1, first_name, main_name)] {
        let right = caption_difference(&composite, tile, name);
        let wrong = caption_difference(&composite, tile, other);
        println!("tile {tile}: caption {name:?} differs by {right:.1}, {other:?} by {wrong:.1}");
        assert!(
            right < 12.0 && right < wrong,
            "tile {tile}: no {name:?} caption ({right:.1} vs {wrong:.1})"
        );
    }

    // The conference records: the indicator shows on the room system's picture, then goes.
    let record = |active: bool| {
        let space = demo.space.clone();
        let demo = &demo;
        async move {
            let (status, body) = demo
                .sim_post(
                    &format!("/sim/spaces/{space}:setRecording"),
                    json!({ "active": active }),
                )
                .await;
            assert_eq!(status, 200, "{body:#}");
        }
    };
    // The red dot inside the indicator's dark box (the box tells it from a red tile).
    let ((dot_x, dot_y), radius) = kernels::overlay::rec_dot(1280, 720);
    let red_dot = |f: &I420Frame| {
        close(f.pixel(dot_x, dot_y), kernels::overlay::REC_RED, 24)
            && close(
                f.pixel(dot_x, dot_y + radius + 2),
                kernels::overlay::REC_BACKGROUND,
                16,
            )
    };
    assert!(!red_dot(&composite), "an indicator before any recording");
    record(true).await;
    let shown = eventually(Duration::from_secs(5), || async {
        vtc.video().latest().is_some_and(|f| red_dot(&f))
    })
    .await;
    save(&vtc.video().latest().unwrap(), "vtc-view-recording.png");
    assert!(shown, "no recording indicator while recording");
    record(false).await;
    let gone = eventually(Duration::from_secs(5), || async {
        vtc.video().latest().is_some_and(|f| !red_dot(&f))
    })
    .await;
    assert!(
        gone,
        "the recording indicator stays after recording stopped"
    );

    // The active speaker moves to Blue: Blue takes the room system's main tile.
    speak(blue.participant_id).await;
    let moved = eventually(Duration::from_secs(10), || async {
        vtc.video()
            .latest()
            .is_some_and(|f| close(tile_centre(&f, 0), blue_yuv, 12))
    })
    .await;
    let after = vtc.video().latest().unwrap();
    save(&after, "vtc-view-blue-speaks.png");
    assert!(moved, "main tile {:?}, want blue", tile_centre(&after, 0));

    // Red sees the room system's bars, at the 720p layer.
    speak(gateway).await;
    let bars = eventually(Duration::from_secs(15), || async {
        red.video()
            .latest()
            .is_some_and(|f| f.width() == 1280 && distinct_colours(&f) >= 5)
    })
    .await;
    let seen = red
        .video()
        .latest()
        .expect("Red decodes the gateway's video");
    save(&seen, "meet-view.png");
    assert!(
        bars,
        "Red sees {}x{} with {} colours",
        seen.width(),
        seen.height(),
        distinct_colours(&seen)
    );

    // Audio both ways: the room system hears 440 Hz; a participant hears 1 kHz.
    let vtc_hears = eventually(Duration::from_secs(10), || async {
        let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
        (freq - 440.0).abs() <= 10.0 && share > 0.5
    })
    .await;
    let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
    assert!(vtc_hears, "the room system hears {freq} Hz ({share:.2})");
    let red_hears = eventually(Duration::from_secs(10), || async {
        red.audio_samples().iter().any(|s| {
            let (freq, share) = dominant_frequency(s, PROBE_RATE);
            (freq - 1000.0).abs() <= 10.0 && share > 0.5
        })
    })
    .await;
    let heard: Vec<(f64, f64)> = red
        .audio_samples()
        .iter()
        .map(|s| dominant_frequency(s, PROBE_RATE))
        .collect();
    assert!(red_hears, "Red hears {heard:?}");

    // Per-stream figures: /status shows frames each way on the room system's video and the
    // Meet side (layers sent, streams received); the metrics count frames by direction.
    let figures = eventually(Duration::from_secs(5), || async {
        let status: serde_json::Value =
            serde_json::from_str(&common::get(demo.admin, "/status").await.unwrap().body).unwrap();
        let call = &status["calls"][0];
        let video = &call["streams"][1];
        let meet = &call["meet"];
        let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
        n(&video["frames"]["frames_in"]) > 30
            && n(&video["frames"]["frames_out"]) > 30
            && n(&video["rtp"]["packets_in"]) > 0
            && meet["layers"]
                .as_array()
                .is_some_and(|l| l.len() == 3 && l.iter().all(|l| n(&l["frames"]) > 30))
            && meet["streams"]
                .as_array()
                .is_some_and(|s| s.iter().filter(|s| n(&s["frames"]) > 30).count() >= 2)
    })
    .await;
    let status = common::get(demo.admin, "/status").await.unwrap().body;
    assert!(figures, "{status}");
    // Every stream from Meet shows its codec, size, bit rate, loss and jitter (Live View).
    let meet_streams = || async {
        let status: serde_json::Value =
            serde_json::from_str(&common::get(demo.admin, "/status").await.unwrap().body).unwrap();
        status["calls"][0]["meet"]["streams"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let measured = |s: &serde_json::Value| {
        s["bitrate_bps"].as_u64() > Some(0)
            && s["jitter_ms"].as_f64().is_some()
            && s["loss_ratio"].as_f64().is_some_and(|l| l < 0.05)
    };
    let live = eventually(Duration::from_secs(5), || async {
        let streams = meet_streams().await;
        let video = streams
            .iter()
            .filter(|s| s["media"] == "video" && s["codec"] == "VP8")
            .filter(|s| s["resolution"]["width"].as_u64() > Some(0) && measured(s))
            .count();
        let audio = streams
            .iter()
            .any(|s| s["media"] == "audio" && s["codec"] == "opus" && measured(s));
        video >= 2 && audio
    })
    .await;
    assert!(live, "{:#?}", meet_streams().await);
    for s in meet_streams().await {
        println!(
            "from Meet: {} {} {} {}x{} {} b/s, loss {}, jitter {} ms",
            s["ssrc"],
            s["media"],
            s["codec"],
            s["resolution"]["width"],
            s["resolution"]["height"],
            s["bitrate_bps"],
            s["loss_ratio"],
            s["jitter_ms"]
        );
    }
    let metrics = demo.metrics().await;
    for direction in ["vtc_in", "vtc_out", "meet_in", "meet_out"] {
        let series = format!("tcn_media_video_frames_total{{direction=\"{direction}\"}}");
        assert!(
            common::metric(&metrics, &series).unwrap_or(0.0) > 0.0,
            "{series}"
        );
    }
    drop((red, blue, vtc));
}
