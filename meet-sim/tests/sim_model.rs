//! The meet-sim model driven directly, without HTTP or a runtime: time goes in as `now`,
//! data-channel messages come out of `poll_delivery` as `meet::protocol` values, and
//! `poll_timeout` says when the lobby timer is due (meet-side.md §5.b; style.md §0.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meet::jwt::{GatewayKey, InteropToken, MintRequest, SigningAlgorithm};
use meet::protocol::session_control::{ConnectionState, DisconnectReason};
use meet_sim::model::{ChannelMessage, Delivery, GatewayJoin, ModelConfig, SimModel, SpaceRequest};

const NOW: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

struct World {
    model: SimModel,
    key: GatewayKey,
    trusted: String,
    untrusted: String,
}

fn world() -> World {
    let mut model = SimModel::new(ModelConfig::default());
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let key = GatewayKey::from_pem("k1", SigningAlgorithm::Es256, &pair.serialize_pem()).unwrap();
    model
        .enroll_gateway("gw", key.verifying_key().clone(), at(NOW))
        .unwrap();
    let trusted = model
        .issue_interop_token("corp", "t", "GATEWAY", true, at(NOW))
        .unwrap()
        .token;
    let untrusted = model
        .issue_interop_token("corp", "u", "GATEWAY", false, at(NOW))
        .unwrap()
        .token;
    let request = SpaceRequest {
        meeting_code: Some("abc-defg-hij".into()),
        owner_org: "corp".into(),
        ..SpaceRequest::default()
    };
    model.create_space(request, at(NOW)).unwrap();
    model.start_conference("abc-defg-hij", at(NOW)).unwrap();
    World {
        model,
        key,
        trusted,
        untrusted,
    }
}

/// A gateway-shaped offer (the model checks the m-lines only).
fn sim_offer() -> String {
    let mut sdp = String::from("v=0\r\n");
    let m = |kind: &str, dir: &str, extra: &str| {
        let codec = if kind == "audio" {
            "opus/48000/2"
        } else {
            "VP8/90000"
        };
        format!("m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\na={dir}\r\na=rtpmap:96 {codec}\r\n{extra}")
    };
    for _ in 0..3 {
        sdp += &m("audio", "recvonly", "");
    }
    for _ in 0..8 {
        sdp += &m("video", "recvonly", "");
    }
    sdp += &m("audio", "sendonly", "");
    sdp += &m(
        "video",
        "sendonly",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
         a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n\
         a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n",
    );
    sdp + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
}

impl World {
    fn connect(&mut self, itk: &str, now: SystemTime) -> i64 {
        let req = MintRequest::new("gw", "meet-sim", "call", InteropToken::new(itk));
        let jwt = self.key.mint(&req, now).unwrap();
        let join = GatewayJoin {
            offer: sim_offer(),
            display_name: "Room".into(),
            ..GatewayJoin::default()
        };
        self.model
            .connect_gateway("abc-defg-hij", Some(jwt.expose()), join, now)
            .unwrap()
            .participant_id
    }

    fn drain(&mut self) -> Vec<Delivery> {
        std::iter::from_fn(|| self.model.poll_delivery()).collect()
    }
}

fn session_state(delivery: &Delivery) -> Option<(ConnectionState, Option<DisconnectReason>)> {
    match &delivery.message {
        ChannelMessage::SessionControl(m) => {
            let status = m.session_status()?;
            Some((
                status.connection_state.clone()?,
                status.disconnect_reason.clone(),
            ))
        }
        _ => None,
    }
}

#[test]
fn trusted_join_emits_joined_then_state_as_values() {
    let mut w = world();
    let pid = w.connect(&w.trusted.clone(), at(NOW));
    let out = w.drain();
    assert!(out.iter().all(|d| d.participant_id == pid));
    assert_eq!(
        session_state(&out[0]),
        Some((ConnectionState::Joined, None))
    );
    let labels: Vec<&str> = out.iter().map(|d| d.message.channel().label()).collect();
    assert_eq!(labels, ["session-control", "x-conference", "media-stats"]);
    assert_eq!(w.model.poll_timeout(), None);
}

#[test]
fn lobby_timer_is_polled_and_fired_by_the_caller() {
    let mut w = world();
    let pid = w.connect(&w.untrusted.clone(), at(NOW));
    assert_eq!(
        session_state(&w.drain()[0]),
        Some((ConnectionState::Waiting, None))
    );
    assert_eq!(w.model.poll_timeout(), Some(at(NOW + 30)));

    w.model.handle_timeout(at(NOW + 29));
    assert!(w.drain().is_empty());
    w.model.handle_timeout(at(NOW + 30));
    let out = w.drain();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].participant_id, pid);
    assert_eq!(
        session_state(&out[0]),
        Some((
            ConnectionState::Disconnected,
            Some(DisconnectReason::XAdmissionTimeout)
        ))
    );
    assert_eq!(w.model.poll_timeout(), None);
    let last = w.model.events_since(0).last().unwrap();
    assert_eq!(
        serde_json::to_value(last).unwrap()["type"],
        "participant_left"
    );
}

#[test]
fn any_input_runs_due_timers_first() {
    let mut w = world();
    let waiting = w.connect(&w.untrusted.clone(), at(NOW));
    w.drain();
    // No handle_timeout call: the next input, 31 s later, fires the lobby timer first.
    let err = w
        .model
        .admit("abc-defg-hij", waiting, at(NOW + 31))
        .unwrap_err();
    assert_eq!(err.reason.as_deref(), Some("NOT_IN_LOBBY"));
    assert_eq!(err.http_status, 412);
}
