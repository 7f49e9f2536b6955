//! meet-sim's media plane with real WebRTC peers on loopback: ICE-lite, DTLS-SRTP, SCTP data
//! channels and RTP forwarding (meet-side.md §5.b "Media rules", "Sending to the gateway").
//! The gateways here are str0m offerers (`media_support.rs`) sending synthetic VP8 simulcast.

#[path = "media_support.rs"]
mod media;
#[path = "sim_support.rs"]
mod support;

use std::time::Duration;

use media::{Client, Layer, good_layers};
use meet::protocol::video_assignment::VideoAssignmentFromClient;
use meet_sim::media::vp8::Vp8Packet;
use serde_json::Value;
use support::{CODE, Fixture, max_bundle, offer};

/// Connects a client through `connectGateway` with a trusted token; returns its pid.
async fn connect(fx: &Fixture, client: &mut Client, offer: &str) -> i64 {
    let reply = fx
        .connect_offer(CODE, Some(&fx.jwt(&fx.trusted)), offer)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    client.accept(reply.json["answer"].as_str().unwrap());
    reply.json["participantId"].as_i64().unwrap()
}

/// Runs every client, round robin, for `duration`; sends media when `send`.
fn run(clients: &mut [Client], duration: Duration, send: bool) {
    let end = std::time::Instant::now() + duration;
    while std::time::Instant::now() < end {
        for client in clients.iter_mut() {
            client.run_for(Duration::from_millis(3), send);
        }
    }
}

fn set_assignment(request_id: i64) -> String {
    serde_json::to_string(&VideoAssignmentFromClient::set_assignment_1_plus_7(
        request_id, "l1",
    ))
    .unwrap()
}

async fn report(fx: &Fixture, pid: i64) -> Value {
    let reply = fx
        .get(&format!("/sim/spaces/{CODE}/participants/{pid}/media"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json["media"].clone()
}

/// Key-frame sizes seen on `ssrc`, in order, from the forwarded payloads.
fn sizes_on(client: &Client, ssrc: u32) -> Vec<(u16, u16)> {
    client
        .video
        .iter()
        .filter(|p| p.ssrc == ssrc)
        .filter_map(|p| Vp8Packet::parse(&p.payload)?.size)
        .collect()
}

/// The canvas-1 and canvas-2 virtual SSRCs of the last assignment `client` got.
fn assigned_ssrcs(client: &Client) -> Vec<(i64, u32, i64)> {
    let text = client.messages["video-assignment"]
        .iter()
        .rev()
        .find(|t| t.contains("videoAssignment"))
        .expect("an assignment")
        .clone();
    let value: Value = serde_json::from_str(&text).unwrap();
    value["resources"][0]["videoAssignment"]["canvases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["canvasId"].as_i64().unwrap(),
                c["ssrc"].as_u64().unwrap_or(0) as u32,
                c["mediaEntryId"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_get_channels_layers_and_a_1_plus_7_forwarding() {
    let fx = Fixture::new().await;
    let mut clients = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..3 {
        let (mut client, offer) = Client::new(8, good_layers());
        pids.push(connect(&fx, &mut client, &offer).await);
        clients.push(client);
    }
    // ICE, DTLS, SCTP; the JOINED status arrives on the real session-control channel
    let mut clients = tokio::task::spawn_blocking(move || {
        run(&mut clients, Duration::from_millis(1500), false);
        for (i, c) in clients.iter_mut().enumerate() {
            assert!(c.connected, "client {i} connected");
            assert!(c.got("session-control", "STATE_JOINED"), "{:?}", c.messages);
            assert!(c.got("participants", "participantId"), "{:?}", c.messages);
            assert!(c.send_text("video-assignment", &set_assignment(1)));
        }
        run(&mut clients, Duration::from_millis(5000), true);
        clients
    })
    .await
    .unwrap();
    // the layer deadline (5 s after joining, on the sim's clock) passes while media flows
    fx.advance_ms(6000).await;
    let mut clients = tokio::task::spawn_blocking(move || {
        run(&mut clients, Duration::from_millis(1000), true);
        clients
    })
    .await
    .unwrap();

    // the sim measured 3 layers from each, at the sizes sent, within the bitrate rule
    for &pid in &pids {
        let media = report(&fx, pid).await;
        assert_eq!(media["connected"], true);
        let layers = media["layers"].as_array().unwrap();
        let seen: Vec<(String, u64, u64, u64)> = layers
            .iter()
            .map(|l| {
                (
                    l["rid"].as_str().unwrap().to_owned(),
                    l["width"].as_u64().unwrap(),
                    l["height"].as_u64().unwrap(),
                    l["frames"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(seen.len(), 3, "{media}");
        for (rid, w, h, frames) in &seen {
            let expected = match rid.as_str() {
                "q" => (320, 180),
                "h" => (640, 360),
                _ => (1280, 720),
            };
            assert_eq!((*w, *h), expected, "{rid}");
            assert!(*frames > 100, "{rid}: {frames} frames in 6 s");
        }
        assert_eq!(media["channels"].as_array().unwrap().len(), 7, "{media}");
    }
    assert!(fx.events("media_rule_broken").await.is_empty());

    // the last client's canvas 1 (1280×720) shows the first gateway's f layer, canvas 2
    // (320×180) the second's q layer, each with the source's CSRC
    let third = &mut clients[2];
    let canvases = assigned_ssrcs(third);
    let (main_ssrc, pip_ssrc) = (canvases[0].1, canvases[1].1);
    assert_ne!(main_ssrc, 0);
    assert_ne!(pip_ssrc, 0);
    assert!(sizes_on(third, main_ssrc).iter().all(|s| *s == (1280, 720)));
    assert!(!sizes_on(third, main_ssrc).is_empty());
    assert!(sizes_on(third, pip_ssrc).iter().all(|s| *s == (320, 180)));
    assert!(!sizes_on(third, pip_ssrc).is_empty());
    let first_csrc = fx.participant(pids[0]).await["videoCsrc"].as_u64().unwrap() as u32;
    let main: Vec<_> = third.video.iter().filter(|p| p.ssrc == main_ssrc).collect();
    assert!(main.len() > 300, "{} packets on canvas 1", main.len());
    assert!(main.iter().all(|p| p.csrc == vec![first_csrc]));
    // one continuous stream: seq +1 per packet, PictureID +0/+1 per packet
    for pair in main.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        let (a, b) = (
            Vp8Packet::parse(&pair[0].payload)
                .unwrap()
                .picture_id
                .unwrap(),
            Vp8Packet::parse(&pair[1].payload)
                .unwrap()
                .picture_id
                .unwrap(),
        );
        assert!(b == a || b == (a + 1) % 0x8000, "{a} → {b}");
    }
    let switched = fx.events("layer_switched").await;
    assert!(
        switched
            .iter()
            .any(|e| e["participantId"] == pids[2] && e["toRid"] == "f"),
        "{switched:?}"
    );

    // the second gateway becomes the speaker: canvas 1 switches to its f layer on a key
    // frame, on the same virtual SSRC, without a gap in sequence numbers
    let before = third.video.len();
    let reply = fx
        .post(
            &format!("/sim/spaces/{CODE}:setActiveSpeaker"),
            serde_json::json!({"participantId": pids[1]}),
        )
        .await;
    assert_eq!(reply.status, 200);
    let clients = tokio::task::spawn_blocking(move || {
        run(&mut clients, Duration::from_millis(2500), true);
        clients
    })
    .await
    .unwrap();
    let third = &clients[2];
    let second_csrc = fx.participant(pids[1]).await["videoCsrc"].as_u64().unwrap() as u32;
    let after: Vec<_> = third.video[before..]
        .iter()
        .filter(|p| p.ssrc == main_ssrc)
        .collect();
    let switch = after
        .iter()
        .position(|p| p.csrc == vec![second_csrc])
        .expect("canvas 1 switched to the new speaker");
    let first_new = Vp8Packet::parse(&after[switch].payload).unwrap();
    assert!(first_new.keyframe, "the switch is on a key frame");
    assert_eq!(first_new.size, Some((1280, 720)));
    if switch > 0 {
        assert_eq!(after[switch].seq, after[switch - 1].seq.wrapping_add(1));
    }
    assert!(after[switch..].iter().all(|p| p.csrc == vec![second_csrc]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_layers_and_excess_bitrate_are_flagged() {
    let fx = Fixture::new().await;
    // announces q/h/f, sends only q and h
    let (mut lazy, offer) = Client::new(2, good_layers());
    let lazy_pid = connect(&fx, &mut lazy, &offer).await;
    // sends 4 Mb/s on f
    let mut loud_layers = good_layers();
    loud_layers[2] = Layer {
        rid: "f",
        width: 1280,
        height: 720,
        bps: 4_000_000,
    };
    let (mut loud, offer) = Client::new(2, loud_layers);
    let loud_pid = connect(&fx, &mut loud, &offer).await;
    let mut clients = tokio::task::spawn_blocking(move || {
        let mut clients = [lazy, loud];
        clients[0].drop_layer("f");
        run(&mut clients, Duration::from_millis(3500), true);
        clients
    })
    .await
    .unwrap();
    // nothing is flagged before the layer deadline on the sim's clock
    assert!(fx.events("media_rule_broken").await.is_empty());
    fx.advance_ms(5000).await;
    tokio::task::spawn_blocking(move || {
        run(&mut clients, Duration::from_millis(1000), true);
    })
    .await
    .unwrap();
    let flags = fx.events("media_rule_broken").await;
    let of = |pid: i64, flag: &str| {
        flags
            .iter()
            .filter(|e| e["participantId"] == pid && e["flag"] == flag)
            .count()
    };
    assert_eq!(of(lazy_pid, "LAYERS_MISSING"), 1, "{flags:?}");
    assert_eq!(of(lazy_pid, "BITRATE_EXCEEDED"), 0, "{flags:?}");
    assert_eq!(of(loud_pid, "BITRATE_EXCEEDED"), 1, "{flags:?}");
    assert_eq!(of(loud_pid, "LAYERS_MISSING"), 0, "{flags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_channel_fault_keeps_that_channel_silent() {
    let fx = Fixture::new().await;
    fx.add_person("Host", true).await;
    let reply = fx
        .post(
            "/sim/faults",
            serde_json::json!({"dropChannel": "participants"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let (mut client, offer) = Client::new(1, good_layers());
    let pid = connect(&fx, &mut client, &offer).await;
    let client = tokio::task::spawn_blocking(move || {
        let mut clients = [client];
        run(&mut clients, Duration::from_millis(1500), false);
        let [client] = clients;
        client
    })
    .await
    .unwrap();
    assert!(
        client.got("session-control", "STATE_JOINED"),
        "{:?}",
        client.messages
    );
    assert!(
        client.got("media-entries", "mediaEntry"),
        "{:?}",
        client.messages
    );
    assert!(
        !client.messages.contains_key("participants"),
        "{:?}",
        client.messages
    );
    // the sim did produce the roster: it is in the mailbox
    assert!(!fx.messages(pid, Some("participants")).await.is_empty());
}

/// webrtcbin with `bundle-policy=max-bundle` offers every m-line after the first on port 0
/// with `a=bundle-only` (RFC 8843 §6; media.md §8): those lines are active, not rejected, so
/// the offer passes the rules and the answer accepts all 14 m-lines.
#[tokio::test]
async fn a_max_bundle_offer_with_bundle_only_m_lines_is_answered() {
    let fx = Fixture::new().await;
    let sdp = max_bundle(&offer());
    assert_eq!(sdp.matches("a=bundle-only").count(), 13, "{sdp}");
    let reply = fx
        .connect_offer(CODE, Some(&fx.jwt(&fx.trusted)), &sdp)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let answer = reply.json["answer"].as_str().unwrap();
    let m_lines: Vec<&str> = answer.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(m_lines.len(), 14, "{answer}");
    // str0m takes them as bundled: no m-line is rejected (port 0) or inactive, and each
    // answers the offered direction.
    assert!(m_lines.iter().all(|m| !m.contains(" 0 ")), "{answer}");
    assert!(!answer.contains("a=inactive"), "{answer}");
    assert_eq!(answer.matches("a=sendonly").count(), 11, "{answer}");
    assert_eq!(answer.matches("a=recvonly").count(), 2, "{answer}");
}

/// A sender whose first key frames were lost (none sent before it is asked) and that ignores
/// the first keyframe request of each layer: the sim keeps asking, every 500 ms at most, so
/// the viewer's first key frame comes within a second of media, not at a periodic key frame
/// (this sender sends none). media.md §8: webrtcbin's first PLI from the sim went out before
/// its DTLS was up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_asks_again_until_a_joining_sender_sends_a_key_frame() {
    let fx = Fixture::new().await;
    let (mut sender, offer) = Client::new(1, good_layers());
    sender.hold_keyframes(1);
    let sender_pid = connect(&fx, &mut sender, &offer).await;
    let (mut viewer, offer) = Client::new(8, good_layers());
    connect(&fx, &mut viewer, &offer).await;
    let mut clients = vec![sender, viewer];
    let clients = tokio::task::spawn_blocking(move || {
        run(&mut clients, Duration::from_millis(1500), false);
        for c in clients.iter_mut() {
            assert!(c.got("session-control", "STATE_JOINED"), "{:?}", c.messages);
            assert!(c.send_text("video-assignment", &set_assignment(1)));
        }
        run(&mut clients, Duration::from_millis(300), false);
        // media from now on, until the viewer holds a key frame (or 5 s of it)
        let keyframe = |c: &Client| {
            c.video
                .iter()
                .any(|p| Vp8Packet::parse(&p.payload).is_some_and(|v| v.keyframe))
        };
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while !keyframe(&clients[1]) && std::time::Instant::now() < end {
            run(&mut clients, Duration::from_millis(10), true);
        }
        clients
    })
    .await
    .unwrap();
    let (sender, viewer) = (&clients[0], &clients[1]);
    let first = viewer
        .video
        .iter()
        .find(|p| Vp8Packet::parse(&p.payload).is_some_and(|v| v.keyframe))
        .unwrap_or_else(|| {
            panic!(
                "no key frame reached the viewer in {} frames; requests: {:?}",
                sender.frame_no, sender.keyframe_requests
            )
        });
    let csrc = fx.participant(sender_pid).await["videoCsrc"]
        .as_u64()
        .unwrap() as u32;
    assert_eq!(first.csrc, vec![csrc]);
    // it was asked again after the ignored request; the key frame came within ~1 s of media
    // (30 frames a second; the retry is 500 ms)
    assert!(
        sender.keyframe_requests.values().any(|n| *n >= 2),
        "{:?}",
        sender.keyframe_requests
    );
    assert!(
        sender.frame_no <= 36,
        "the viewer's first key frame came after {} frames; requests: {:?}",
        sender.frame_no,
        sender.keyframe_requests
    );
    // and only ever first-key-frame retries: at most 2 per layer per second of media, plus
    // the forwarding slot's own
    let seconds = sender.frame_no.div_ceil(30) as usize;
    for (rid, n) in &sender.keyframe_requests {
        assert!(*n <= 2 * seconds + 4, "{rid}: {n} requests in {seconds} s");
    }
}

/// `:requestKeyframe {rid}` sends the participant a real RTCP PLI for that one layer (and
/// none for the others), `{rid, kind: "fir"}` a FIR; a RID it has not sent on is refused with 412 `NO_SUCH_LAYER`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_asks_a_sender_for_a_key_frame_on_one_layer() {
    let fx = Fixture::new().await;
    let (mut sender, offer) = Client::new(1, good_layers());
    sender.hold_keyframes(0);
    let pid = connect(&fx, &mut sender, &offer).await;
    let path = format!("/sim/spaces/{CODE}/participants/{pid}:requestKeyframe");
    // nothing sent yet: no layer to ask
    let reply = fx.post(&path, serde_json::json!({"rid": "h"})).await;
    let message = format!("participant {pid} has sent nothing on RID \"h\" yet");
    reply.assert_error(412, "FAILED_PRECONDITION", "NO_SUCH_LAYER", &message);
    let reply = fx.post(&path, serde_json::json!({})).await;
    assert_eq!(reply.status, 400, "{}", reply.json);
    // media on every layer (alone in the space: nobody asks for key frames)
    let mut sender = tokio::task::spawn_blocking(move || {
        let mut clients = vec![sender];
        run(&mut clients, Duration::from_millis(1500), true);
        clients.pop().unwrap()
    })
    .await
    .unwrap();
    assert!(
        sender.keyframe_requests.is_empty(),
        "{:?}",
        sender.keyframe_requests
    );
    let reply = fx.post(&path, serde_json::json!({"rid": "h"})).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["participantId"].as_i64(), Some(pid));
    let mut sender = tokio::task::spawn_blocking(move || {
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while sender.keyframe_requests.is_empty() && std::time::Instant::now() < end {
            sender.run_for(Duration::from_millis(10), true);
        }
        sender.run_for(Duration::from_millis(300), true);
        sender
    })
    .await
    .unwrap();
    assert_eq!(
        sender.keyframe_requests,
        [("h".to_owned(), 1)].into_iter().collect(),
    );
    // a FIR for q
    let reply = fx
        .post(&path, serde_json::json!({"rid": "q", "kind": "fir"}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let sender = tokio::task::spawn_blocking(move || {
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while !sender.keyframe_requests.contains_key("q") && std::time::Instant::now() < end {
            sender.run_for(Duration::from_millis(10), true);
        }
        sender
    })
    .await
    .unwrap();
    assert_eq!(
        sender.keyframe_requests,
        [("h".to_owned(), 1), ("q".to_owned(), 1)]
            .into_iter()
            .collect(),
    );
    let reply = fx
        .post(&path, serde_json::json!({"rid": "q", "kind": "nack"}))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.json);
    let reply = fx.post(&path, serde_json::json!({"rid": "x"})).await;
    let message = format!("participant {pid} announced no RID \"x\"");
    reply.assert_error(412, "FAILED_PRECONDITION", "NO_SUCH_LAYER", &message);
}
