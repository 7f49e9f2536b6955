//! When one side of a gateway call disappears (issue 12, point 7), the other is told and
//! everything is freed:
//! - Meet becomes unreachable mid-call (its media plane goes silent, as after a crash or a
//!   network cut) → the room system gets a BYE with `Reason` within 5 s;
//! - meet-sim is shut down mid-call (its sockets close) → the same;
//! - Meet's DTLS handshake fails (a wrong fingerprint in its answer) → the call is refused
//!   with 503 and its `Reason`;
//! - the room system goes silent (no RTP for `media.rtp_timeout`) → the node leaves the
//!   conference, sends a BYE and frees the call; while it sends RTP nothing happens;
//! - the node drains with two gateway calls up → one finishes on its own, the other ends
//!   with a `Reason` at the drain timeout, and both gateways leave.
//!
//! The session timer's expiry is covered by the call's sans-IO unit tests: RFC 4028's least
//! interval is 90 s, too long for a test in real time.

mod common;

use std::time::{Duration, Instant};

use common::caller::{Caller, media_port};
use common::demo::Demo;
use common::{eventually, metric};
use serde_json::json;
use signaling::sip::message::Response;

/// Dials `long_id` on the node at `sip` and confirms the call (200, ACK); returns the 200.
async fn connected(sip: std::net::SocketAddr, long_id: &str, caller: &Caller) -> Response {
    caller.invite(sip, long_id).await;
    let ok = caller
        .response(Duration::from_secs(20))
        .await
        .expect("a final response");
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    caller.ack(sip, &ok, long_id).await;
    ok
}

/// Whether the node has ended the call with `ending` and holds nothing for it.
async fn freed(demo: &Demo, ending: &str) -> bool {
    eventually(Duration::from_secs(10), || async {
        let text = demo.metrics().await;
        metric(
            &text,
            &format!("tcn_gateway_call_endings_total{{ending=\"{ending}\"}}"),
        ) == Some(1.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
            && metric(&text, "tcn_media_graphs_active") == Some(0.0)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meet_unreachable_mid_call_sends_a_bye_within_5_s() {
    let demo = Demo::start(24_000, "").await;
    let caller = Caller::new("meet-gone-1").await;
    let _ok = connected(demo.sip, &demo.long_id, &caller).await;

    let (status, body) = demo
        .sim_post("/sim/faults", json!({"blackholeMedia": true}))
        .await;
    assert_eq!(status, 200, "{body:#}");
    let cut = Instant::now();
    let bye = caller
        .request(Duration::from_secs(10))
        .await
        .expect("a BYE");
    let after = cut.elapsed();
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("SIP;cause=503;text=\"Meet unavailable\"")
    );
    eprintln!("BYE {after:?} after Meet went away");
    assert!(after < Duration::from_secs(5), "BYE after {after:?}");
    caller.reply(&bye, demo.sip).await;
    assert!(
        freed(&demo, "unavailable").await,
        "{}",
        demo.metrics().await
    );
}

/// A node whose Meet backend is a meet-sim of the test's own (so that the test can stop it,
/// or look at it after the node has stopped), set up as an operator would: the gateway key
/// enrolled, an interop token, a running conference and a rule for 13-digit IDs.
struct OwnSim {
    sim: meet_sim::Sim,
    sip: std::net::SocketAddr,
    admin: std::net::SocketAddr,
    long_id: String,
    /// `spaces/{id}` of the conference.
    space: String,
    /// Stops the node (the drain begins).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    node: tokio::task::JoinHandle<Result<(), node::error::StartError>>,
}

/// Starts [`OwnSim`] with `extra` TOML appended to the node's configuration.
async fn node_with_its_own_sim(media_base: u16, extra: &str) -> OwnSim {
    let sim = meet_sim::Sim::spawn(
        "127.0.0.1:0".parse().unwrap(),
        meet_sim::SimConfig::default(),
    )
    .await
    .unwrap();
    let (key_pem, csr_pem) = node::meet_gateway::new_key_and_csr("tcn-gateway").unwrap();
    let (chain, token, long_id) = sim.with_model(|model, now| {
        let enrolled = model
            .enroll_csr("tcn", &csr_pem, Some("tcn-gateway"), Some("ES256"), now)
            .unwrap();
        let token = model
            .issue_interop_token("failures.test", "t", "GATEWAY", true, now)
            .unwrap();
        let space = model
            .create_space(
                meet_sim::model::SpaceRequest {
                    owner_org: "failures.test".to_owned(),
                    ..Default::default()
                },
                now,
            )
            .unwrap();
        let space = model.start_conference(&space.name, now).unwrap();
        (
            enrolled.certificate_chain_pem,
            token.token,
            (space.long_id, space.name),
        )
    });
    let (long_id, space) = long_id;
    let leaf_end = chain.find("-----END CERTIFICATE-----").unwrap() + 26;
    let dir = common::tls::scratch_dir(&format!("gateway-failures-{media_base}"));
    let (key, cert) = (dir.join("gateway.key"), dir.join("gateway.crt"));
    std::fs::write(&key, key_pem).unwrap();
    std::fs::write(&cert, &chain[..leaf_end]).unwrap();
    let config = node::config::Config::from_toml_str(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [{media_base}, {}]\n\
         [meet]\nbackend = \"{}\"\ngateway_key = {key:?}\ngateway_token = {cert:?}\n\
         [[meet.access_tokens]]\nname = \"t\"\ntoken = \"{token}\"\ntrusted = true\n\
         [[routing.rules]]\nname = \"meet\"\npriority = 1\nmatch = '(\\d{{13}})@.*'\n\
         replace = '\\1'\ntarget = {{ kind = \"meet\", access_token = \"t\" }}\n{extra}\n",
        media_base + 99,
        sim.url(),
    ))
    .unwrap();
    let node = node::Node::start(config).await.expect("node starts");
    let (sip, admin) = (node.sip_udp_addr().unwrap(), node.admin_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    OwnSim {
        sim,
        sip,
        admin,
        long_id,
        space,
        stop: Some(stop),
        node,
    }
}

/// The gateway participants of the conference not yet disconnected.
fn gateways_present(own: &OwnSim) -> usize {
    own.sim.with_model(|model, _| {
        model
            .participants(&own.space)
            .into_iter()
            .filter(|p| {
                p.kind == meet_sim::model::ParticipantKindName::Gateway
                    && p.state != "STATE_DISCONNECTED"
            })
            .count()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meet_sim_shut_down_mid_call_sends_a_bye_within_5_s() {
    let own = node_with_its_own_sim(24_400, "").await;
    let (sip, admin, long_id) = (own.sip, own.admin, own.long_id.clone());
    let caller = Caller::new("sim-killed-1").await;
    connected(sip, &long_id, &caller).await;

    own.sim.shutdown().await.unwrap();
    let killed = Instant::now();
    let bye = caller
        .request(Duration::from_secs(10))
        .await
        .expect("a BYE");
    let after = killed.elapsed();
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("SIP;cause=503;text=\"Meet unavailable\"")
    );
    eprintln!("BYE {after:?} after Meet went away");
    assert!(after < Duration::from_secs(5), "BYE after {after:?}");
    caller.reply(&bye, sip).await;
    let freed = eventually(Duration::from_secs(10), || async {
        let text = common::get(admin, "/metrics").await.unwrap().body;
        metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
            && metric(&text, "tcn_media_graphs_active") == Some(0.0)
    })
    .await;
    assert!(freed, "the call was freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dtls_failure_toward_meet_refuses_the_call_with_503() {
    let demo = Demo::start(24_100, "").await;
    let (status, body) = demo
        .sim_post("/sim/faults", json!({"badFingerprint": true}))
        .await;
    assert_eq!(status, 200, "{body:#}");
    let caller = Caller::new("dtls-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let started = Instant::now();
    let refused = caller
        .response(Duration::from_secs(20))
        .await
        .expect("a final response");
    eprintln!("refused {:?} after the INVITE", started.elapsed());
    assert_eq!(refused.status.code(), 503, "{refused:?}");
    assert_eq!(
        refused.headers.get("Reason"),
        Some("SIP;cause=503;text=\"Meet unavailable\"")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused after {:?}",
        started.elapsed()
    );
    assert!(
        freed(&demo, "unavailable").await,
        "{}",
        demo.metrics().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_room_system_is_ended_and_the_gateway_leaves() {
    let demo = Demo::start_with(24_200, "", |config| {
        config.media.rtp_timeout = Duration::from_secs(2);
    })
    .await;
    let caller = Caller::new("silent-1").await;
    let ok = connected(demo.sip, &demo.long_id, &caller).await;
    let audio = media_port(&ok.body, "audio").expect("an audio port in the answer");

    // PCMU at 50 packets a second for 4 s: twice the timeout, and the call stays up.
    let rtp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44];
    packet.extend_from_slice(&[0xff; 160]);
    for n in 0u16..200 {
        packet[2..4].copy_from_slice(&n.to_be_bytes());
        packet[4..8].copy_from_slice(&(u32::from(n) * 160).to_be_bytes());
        rtp.send_to(&packet, ("127.0.0.1", audio)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        caller.request(Duration::from_millis(10)).await.is_none(),
        "no BYE while the room system sends RTP"
    );
    assert_eq!(demo.gateways(Some("STATE_JOINED")).await.len(), 1);

    let silent = Instant::now();
    let bye = caller
        .request(Duration::from_secs(10))
        .await
        .expect("a BYE");
    let after = silent.elapsed();
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("SIP;cause=408;text=\"No media from the room system\"")
    );
    eprintln!("BYE {after:?} after the room system's last packet");
    assert!(
        after >= Duration::from_millis(1_500) && after < Duration::from_secs(5),
        "BYE {after:?} after the last packet (timeout 2 s)"
    );
    caller.reply(&bye, demo.sip).await;
    assert!(
        freed(&demo, "caller_silent").await,
        "{}",
        demo.metrics().await
    );
    let left = eventually(Duration::from_secs(5), || async {
        demo.gateways(None).await.is_empty()
    })
    .await;
    assert!(left, "the gateway left the conference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_lets_one_gateway_call_finish_and_ends_the_other_with_a_reason() {
    let mut own = node_with_its_own_sim(24_300, "[node]\ndrain_timeout = \"1s\"").await;
    let mut callers = Vec::new();
    for id in ["drain-1", "drain-2"] {
        let caller = Caller::new(id).await;
        let ok = connected(own.sip, &own.long_id, &caller).await;
        callers.push((caller, ok.to().unwrap().tag().unwrap().to_owned()));
    }
    assert_eq!(gateways_present(&own), 2);

    let asked = Instant::now();
    own.stop.take().unwrap().send(()).unwrap();
    // The first finishes on its own during the drain: its BYE is answered as usual.
    let (first, tag) = &callers[0];
    let bye = first.in_dialog("BYE", 2, tag, &own.long_id);
    first.sip.send_to(bye.as_bytes(), own.sip).await.unwrap();
    let answer = first.response(Duration::from_secs(5)).await;
    assert_eq!(answer.map(|r| r.status.code()), Some(200));
    // The second is still up at the drain timeout: a BYE with the node's Reason.
    let (second, _) = &callers[1];
    let bye = second
        .request(Duration::from_secs(10))
        .await
        .expect("a BYE");
    let after = asked.elapsed();
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("Q.850;cause=16;text=\"Node shutting down\"")
    );
    assert!(
        after >= Duration::from_millis(900),
        "ended after {after:?}, before the drain timeout"
    );
    eprintln!("drain: the remaining call got its BYE {after:?} after the stop");
    second.reply(&bye, own.sip).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), &mut own.node).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "the node stopped: {stopped:?}"
    );
    assert_eq!(
        gateways_present(&own),
        0,
        "both gateways left the conference"
    );
}
