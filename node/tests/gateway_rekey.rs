//! SRTP re-keying on a gateway call: a room system with SDES-SRTP calls the demo meeting, then
//! sends a re-INVITE with new keys for both streams. The node answers with new keys of its
//! own, and both directions move to them: Meet keeps getting the room system's video (now
//! protected with the new offer keys, which the old ones cannot open), and the room system
//! keeps decoding the node's video, soon all of it protected with the node's new keys.

mod common;

use std::time::Duration;

use common::demo::Demo;
use common::eventually;
use node::demo::vtc::{Vtc, VtcOptions};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_invite_with_new_keys_re_keys_both_directions() {
    let demo = Demo::start(29_300, "").await;
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let options = VtcOptions {
        size: (640, 360, 30),
        srtp: true,
        ..VtcOptions::default()
    };
    let mut vtc = tokio::task::spawn_blocking(move || Vtc::call_with(sip, &long_id, &options))
        .await
        .unwrap()
        .expect("the SRTP call is answered");
    let pid = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let flowing = eventually(Duration::from_secs(20), || async {
        demo.layer_frames(pid, "f").await > 30 && vtc.video().frames() > 30
    })
    .await;
    assert!(flowing, "media both ways before the re-key");
    assert_eq!(vtc.srtp_previous_keys(), 0);

    let (vtc_back, status) = tokio::task::spawn_blocking(move || {
        let status = vtc.rekey();
        (vtc, status)
    })
    .await
    .unwrap();
    vtc = vtc_back;
    assert_eq!(status, Ok(200));
    let (up, down) = (demo.layer_frames(pid, "f").await, vtc.video().frames());

    // Room system → node: only the new keys protect what it sends now.
    let uplink = eventually(Duration::from_secs(8), || async {
        demo.layer_frames(pid, "f").await >= up + 60
    })
    .await;
    assert!(uplink, "Meet gets no video after the re-key");
    // Node → room system: the room system decodes on, and what only its old keys could open
    // stops (the node has switched to its new keys).
    let downlink = eventually(Duration::from_secs(8), || async {
        vtc.video().frames() >= down + 60
    })
    .await;
    assert!(downlink, "the room system decodes nothing after the re-key");
    let settled = vtc.srtp_previous_keys();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = vtc.srtp_previous_keys();
    println!(
        "after the re-key: {settled} packets under the node's old keys, {} refused",
        vtc.srtp_refused()
    );
    assert_eq!(later, settled, "the node still sends with its old keys");
    assert!(
        vtc.srtp_refused() < 60,
        "{} packets refused around the switch",
        vtc.srtp_refused()
    );
    let status: Value =
        serde_json::from_str(&common::get(demo.admin, "/status").await.unwrap().body).unwrap();
    for stream in status["calls"][0]["streams"].as_array().unwrap() {
        assert_eq!(stream["srtp"], true, "{stream:#}");
        assert!(
            stream["srtp_errors"].as_u64().unwrap_or(0) < 60,
            "the node refused {stream:#}"
        );
    }
    let bye = tokio::task::spawn_blocking(move || vtc.hang_up())
        .await
        .unwrap();
    assert_eq!(bye, Ok(200));
}
