//! The Meet leg against meet-sim on loopback: real webrtcbin, real H.264 from a fake room
//! system, real VP8 simulcast, real ICE/DTLS-SRTP/SCTP into the sim.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;
use pipelines::{MediaEvent, PortRange};
use serde_json::Value;

use support::{Call, heavy, i420_to_rgb, poll, write_png};

/// Per-RID `(width, height, frames, keyframes, bitrateBps)` from the sim's report.
fn layers(media: &Value) -> Vec<(String, u64, u64, u64, u64, u64)> {
    media["layers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| {
            (
                l["rid"].as_str().unwrap_or("").to_owned(),
                l["width"].as_u64().unwrap_or(0),
                l["height"].as_u64().unwrap_or(0),
                l["frames"].as_u64().unwrap_or(0),
                l["keyframes"].as_u64().unwrap_or(0),
                l["bitrateBps"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn frames_of(media: &Value, rid: &str) -> u64 {
    layers(media).iter().find(|l| l.0 == rid).map_or(0, |l| l.3)
}

const SIZES: [(&str, u64, u64); 3] = [("q", 320, 180), ("h", 640, 360), ("f", 1280, 720)];

fn sizes_right(media: &Value) -> bool {
    let seen = layers(media);
    SIZES
        .iter()
        .all(|(rid, w, h)| seen.iter().any(|l| l.0 == *rid && (l.1, l.2) == (*w, *h)))
}

#[test]
fn meet_sim_receives_three_vp8_layers_opus_and_joined() {
    let _heavy = heavy();
    let call = Call::start(
        1280,
        720,
        PortRange {
            min: 47100,
            max: 47199,
        },
    );
    let connected = call
        .events
        .first(|e| *e == MediaEvent::ConnectionState(pipelines::ConnectionState::Connected));
    let connected = connected.unwrap();
    println!("connected {:?} after joining", connected - call.joined_at);

    call.events
        .wait("JOINED on session-control", Duration::from_secs(30), |e| {
            matches!(e, MediaEvent::DataChannelMessage { label, text }
                if label == "session-control" && text.contains("STATE_JOINED"))
        });
    for label in pipelines::spec::DATA_CHANNELS {
        call.events.wait(
            label,
            Duration::from_secs(30),
            |e| matches!(e, MediaEvent::DataChannelOpen { label: l } if l == label),
        );
    }

    // every layer keyframed after connecting, and the sim reads the three sizes
    let sized = poll(
        "the sim sees q/h/f at their sizes",
        Duration::from_secs(30),
        || {
            let media = call.sim.media(call.pid);
            sizes_right(&media).then_some(Instant::now())
        },
    );
    println!("sizes at the sim {:?} after connecting", sized - connected);
    for (rid, _, _) in SIZES {
        let first = call
            .events
            .first(|e| matches!(e, MediaEvent::KeyframeSent { rid: r } if r == rid));
        let after = poll(
            &format!("{rid}: a keyframe after connecting"),
            Duration::from_secs(10),
            || {
                let after: Vec<_> = call
                    .events
                    .all(|e| matches!(e, MediaEvent::KeyframeSent { rid: r } if r == rid))
                    .into_iter()
                    .filter(|(t, _)| *t >= connected)
                    .collect();
                (!after.is_empty()).then_some(after)
            },
        );
        println!(
            "{rid}: first keyframe {:?} after connecting (first ever {:?})",
            after[0].0 - connected,
            first.map(|f| f.saturating_duration_since(call.joined_at))
        );
    }

    // a measured window of at least 150 source frames (5 s), in steady state
    let (src0, media0) = (call.source.frames(), call.sim.media(call.pid));
    let t0 = Instant::now();
    poll("150 source frames", Duration::from_secs(60), || {
        (call.source.frames() >= src0 + 150).then_some(())
    });
    // the sim's rules run 5 s after joining; leave them a second
    poll("6 s since joining", Duration::from_secs(30), || {
        (call.joined_at.elapsed() > Duration::from_secs(7)).then_some(())
    });
    let (src1, media1) = (call.source.frames(), call.sim.media(call.pid));
    let window = t0.elapsed();
    let sent = src1 - src0;
    println!("window {window:?}: the source sent {sent} frames");
    let mut total = 0;
    for (rid, w, h) in SIZES {
        let got = frames_of(&media1, rid) - frames_of(&media0, rid);
        let layer = layers(&media1).into_iter().find(|l| l.0 == rid).unwrap();
        println!(
            "{rid}: {}x{} frames {got} ({:.1} %), keyframes {}, {} bit/s",
            layer.1,
            layer.2,
            100.0 * got as f64 / sent as f64,
            layer.4,
            layer.5
        );
        assert_eq!((layer.1, layer.2), (w, h), "{rid}");
        assert!(got * 10 >= sent * 9, "{rid}: {got} frames of {sent}");
        total += layer.5;
    }
    println!("total {total} bit/s");
    assert!(total <= 2_000_000, "{total} bit/s");
    let audio0 = media0["audioPackets"].as_u64().unwrap_or(0);
    let audio1 = media1["audioPackets"].as_u64().unwrap_or(0);
    println!(
        "opus packets at the sim: {audio1} ({} in the window)",
        audio1 - audio0
    );
    assert!(audio1 - audio0 > 100, "{audio0} → {audio1} Opus packets");
    let broken = call.sim.events("media_rule_broken");
    assert!(broken.is_empty(), "{broken:?}");
    assert_eq!(media1["connected"], true);
    for rid in ["q", "h", "f"] {
        println!("{rid}: {:?}", call.leg.keyframe_stats(rid).unwrap());
    }
    // the leg sends on a data channel
    call.leg
        .send_data("media-stats", "{\"request\":{\"requestId\":1}}")
        .expect("media-stats is open");
    assert!(call.leg.send_data("nope", "{}").is_err());
}

/// Decodes VP8 `frames` (starting at a keyframe) and returns the last picture as I420.
fn decode_last(frames: &[Vec<u8>], width: u32, height: u32) -> Vec<u8> {
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src format=time caps=video/x-vp8,width={width},height={height},framerate=30/1 ! \
         vp8dec ! videoconvert ! video/x-raw,format=I420 ! appsink name=out sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    let out = pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        let mut buffer = gst::Buffer::from_slice(frame.clone());
        buffer
            .get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(33 * i as u64));
        src.push_buffer(buffer).unwrap();
    }
    src.end_of_stream().unwrap();
    let mut last = None;
    while let Ok(sample) = out.pull_sample() {
        last = Some(sample);
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let sample = last.expect("vp8dec produced a picture");
    let map = sample.buffer().unwrap().map_readable().unwrap();
    map.to_vec()
}

#[test]
fn a_4_3_picture_is_pillarboxed_on_the_720p_layer() {
    let _heavy = heavy();
    let call = Call::start(
        640,
        480,
        PortRange {
            min: 47200,
            max: 47299,
        },
    );
    // tap the f layer: frames from the first keyframe on
    let frames: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let sink = Arc::clone(&frames);
    call.leg
        .tap_layer("f", move |data, keyframe| {
            let mut frames = sink.lock().unwrap();
            if keyframe || !frames.is_empty() {
                frames.push(data.to_vec());
            }
        })
        .unwrap();
    poll("30 frames of f", Duration::from_secs(30), || {
        (frames.lock().unwrap().len() >= 30).then_some(())
    });
    // the sim reads full-size layers too
    poll(
        "the sim sees q/h/f at their sizes",
        Duration::from_secs(30),
        || sizes_right(&call.sim.media(call.pid)).then_some(()),
    );
    let frames = frames.lock().unwrap().clone();
    let (w, h) = (1280usize, 720usize);
    let picture = decode_last(&frames, w as u32, h as u32);
    assert_eq!(picture.len(), w * h * 3 / 2);
    let y = |x: usize, row: usize| picture[row * w + x];
    let u = |x: usize, row: usize| picture[w * h + (row / 2) * (w / 2) + x / 2];
    let v = |x: usize, row: usize| picture[w * h + (w / 2) * (h / 2) + (row / 2) * (w / 2) + x / 2];
    let black = |x: usize, row: usize| {
        y(x, row) <= 24 && u(x, row).abs_diff(128) <= 6 && v(x, row).abs_diff(128) <= 6
    };
    let describe = |x: usize, row: usize| format!("Y{} U{} V{}", y(x, row), u(x, row), v(x, row));
    // 640×480 scaled to 960×720: 160-pixel black bars left and right
    for (x, row) in [
        (80, 360),
        (1200, 360),
        (80, 100),
        (1200, 650),
        (150, 360),
        (1130, 360),
    ] {
        assert!(
            black(x, row),
            "bar at ({x},{row}) is not black: {}",
            describe(x, row)
        );
    }
    // the picture itself: centre (green bar), first bar (grey), last bar (blue)
    for (x, row) in [(640, 360), (170, 200), (1110, 200)] {
        assert!(
            !black(x, row),
            "picture at ({x},{row}) is black: {}",
            describe(x, row)
        );
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("meet_leg_f_layer_4x3.png");
    write_png(&path, &i420_to_rgb(&picture, w, h), w as u32, h as u32);
    println!("f layer picture: {}", path.display());
}
