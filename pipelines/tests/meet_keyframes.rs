//! Keyframe requests toward Meet: two legs in one meet-sim conference, one sending video; the
//! other asks Meet for a keyframe of the stream it receives (what the downlink does on loss or
//! a new decoder). The sim must see one PLI on that stream only, pass it on to the sending
//! leg's layer, and a second request inside the interval must stay home.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meet::protocol::video_assignment::VideoAssignmentFromClient;
use pipelines::{KeyframeCause, MediaEvent, PortRange, ReceivedKind};
use serde_json::Value;

use support::source::Source;
use support::{Joined, heavy, poll, sim::SimHandle};

/// `(ssrc, keyframe_requests)` of each virtual video stream toward participant `pid`.
fn video_streams(sim: &SimHandle, pid: i64) -> Vec<(u64, u64)> {
    sim.media(pid)["videoStreams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s: &Value| {
            (
                s["ssrc"].as_u64().unwrap_or(0),
                s["keyframeRequests"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_keyframe_request_toward_meet_is_one_pli_on_that_stream_only() {
    let _heavy = heavy();
    let sim = SimHandle::start();
    let sender = Joined::start(
        &sim,
        PortRange {
            min: 47300,
            max: 47349,
        },
    );
    let _source = Source::start(640, 360, &sender.leg.input());
    let receiver = Joined::start(
        &sim,
        PortRange {
            min: 47350,
            max: 47399,
        },
    );
    // no video comes before a setAssignment (meet-side.md §1.4)
    receiver.events.wait(
        "video-assignment open",
        Duration::from_secs(30),
        |e| matches!(e, MediaEvent::DataChannelOpen { label } if label == "video-assignment"),
    );
    let request = VideoAssignmentFromClient::set_assignment_1_plus_7(1, "1+7");
    receiver
        .leg
        .send_data(
            "video-assignment",
            &serde_json::to_string(&request).unwrap(),
        )
        .unwrap();
    let seen: Arc<Mutex<BTreeSet<u32>>> = Arc::default();
    let log = Arc::clone(&seen);
    receiver
        .leg
        .on_receive(Arc::new(move |kind: ReceivedKind, packet: &[u8]| {
            if kind == ReceivedKind::Video && packet.len() >= 12 {
                let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
                log.lock().unwrap().insert(ssrc);
            }
        }));
    let ssrc = poll(
        "the receiving leg gets the sender's video",
        Duration::from_secs(30),
        || seen.lock().unwrap().iter().next().copied(),
    );
    let before = video_streams(&sim, receiver.pid);
    assert!(
        before.iter().any(|(s, _)| *s == u64::from(ssrc)),
        "{ssrc:#x} not among the sim's streams {before:?}"
    );
    let plis_before = sender
        .events
        .all(|e| {
            matches!(
                e,
                MediaEvent::KeyframeRequested {
                    cause: KeyframeCause::Pli,
                    ..
                }
            )
        })
        .len();

    assert!(receiver.leg.request_keyframe_from_meet(ssrc));
    // inside the interval: answered by the keyframe already asked for
    assert!(!receiver.leg.request_keyframe_from_meet(ssrc));
    let counts = receiver.leg.meet_keyframe_requests();
    assert_eq!((counts.sent, counts.dropped), (1, 1));

    let after = poll(
        "the sim counts the PLI on that stream",
        Duration::from_secs(5),
        || {
            let now = video_streams(&sim, receiver.pid);
            now.iter()
                .any(|(s, n)| *s == u64::from(ssrc) && *n > 0)
                .then_some(now)
        },
    );
    for ((s, n), (_, was)) in after.iter().zip(&before) {
        let expected = was + u64::from(*s == u64::from(ssrc));
        assert_eq!(*n, expected, "stream {s:#x}: {before:?} → {after:?}");
    }
    // the sim passes it on to the source: a PLI reaches the sending leg's layer
    poll(
        "the sending leg gets the PLI",
        Duration::from_secs(5),
        || {
            let plis = sender.events.all(|e| {
                matches!(
                    e,
                    MediaEvent::KeyframeRequested {
                        cause: KeyframeCause::Pli,
                        ..
                    }
                )
            });
            (plis.len() > plis_before).then_some(())
        },
    );

    // after the interval a new request goes out again
    std::thread::sleep(pipelines::MEET_KEYFRAME_REQUEST_INTERVAL);
    assert!(receiver.leg.request_keyframe_from_meet(ssrc));
    poll(
        "the second PLI reaches the sim",
        Duration::from_secs(5),
        || {
            video_streams(&sim, receiver.pid)
                .iter()
                .any(|(s, n)| *s == u64::from(ssrc) && *n >= 2)
                .then_some(())
        },
    );
}
