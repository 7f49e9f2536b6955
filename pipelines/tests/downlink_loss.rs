//! Loss on one Meet stream asks for a keyframe of that stream only: two VP8 inputs, one packet
//! of one of them lost; the downlink wishes a keyframe (the node's PLI toward Meet) for that
//! SSRC and never for the other.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gst::prelude::*;
use pipelines::downlink::{Downlink, DownlinkEvent, DownlinkSpec};

/// A live VP8 RTP source of `ssrc` into the downlink; packet number `drop_at` (counting from
/// 1) never arrives.
fn vp8_source(
    dl: &Arc<Downlink>,
    ssrc: u32,
    drop_at: Option<u64>,
) -> (gst::Pipeline, Arc<AtomicU64>) {
    gst::init().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=180,framerate=30/1 \
         ! vp8enc deadline=1 cpu-used=16 threads=1 keyframe-max-dist=300 \
         ! rtpvp8pay ssrc={ssrc} pt=96 mtu=300 ! appsink name=out sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let dl = Arc::clone(dl);
    pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap()
        .set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let map = sample.buffer().unwrap().map_readable().unwrap();
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    if Some(n) != drop_at {
                        let _ = dl.push_vp8_rtp(ssrc, &map);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
    pipeline.set_state(gst::State::Playing).unwrap();
    (pipeline, sent)
}

#[test]
fn a_lost_packet_asks_for_a_keyframe_of_that_stream_only() {
    let (dl, events) = Downlink::start(DownlinkSpec::default()).unwrap();
    let dl = Arc::new(dl);
    dl.assign(&[(0, 7), (1, 8)]).unwrap();
    let wanted: Arc<Mutex<Vec<(Instant, u32)>>> = Arc::default();
    let log = Arc::clone(&wanted);
    let drain = std::thread::spawn(move || {
        while let Ok(event) = events.recv() {
            match event {
                DownlinkEvent::KeyframeWanted { ssrc } => {
                    log.lock().unwrap().push((Instant::now(), ssrc));
                }
                DownlinkEvent::Stopped => break,
                _ => {}
            }
        }
    });
    // Packet 150 of SSRC 7 is lost: 5 s of packets at ~1 per frame and more, well after start.
    let (lossy, sent) = vp8_source(&dl, 7, Some(150));
    let (clean, _) = vp8_source(&dl, 8, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sent.load(Ordering::SeqCst) < 150 {
        assert!(Instant::now() < deadline, "the source stalled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let lost_at = Instant::now();
    // Each input asked once when it started (its new decoder).
    let at_start: Vec<u32> = wanted
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t < lost_at)
        .map(|(_, s)| *s)
        .collect();
    assert!(
        at_start.contains(&7) && at_start.contains(&8),
        "{at_start:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    let after_loss = loop {
        let after: Vec<u32> = wanted
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| *t >= lost_at)
            .map(|(_, s)| *s)
            .collect();
        if after.contains(&7) || Instant::now() > deadline {
            break after;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let the clean stream run on a while: it must not ask.
    std::thread::sleep(Duration::from_millis(500));
    let after_loss_all: Vec<u32> = wanted
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t >= lost_at)
        .map(|(_, s)| *s)
        .collect();
    println!("keyframe wishes: at start {at_start:?}, after the loss {after_loss_all:?}");
    assert!(
        after_loss.contains(&7),
        "no keyframe wish for the lossy stream"
    );
    assert!(
        !after_loss_all.contains(&8),
        "the clean stream asked too: {after_loss_all:?}"
    );
    let _ = (
        lossy.set_state(gst::State::Null),
        clean.set_state(gst::State::Null),
    );
    dl.stop();
    drain.join().unwrap();
}
