//! Chat both ways through a gateway call, with baresip as the room system: its MESSAGE (the
//! `contact` module's `/message`, sent outside the dialog as baresip does) reaches the Meet
//! conference's chat log in meet-sim; a chat message a Meet participant posts reaches baresip
//! as a MESSAGE with the sender's name; and while the conference lets only hosts chat, the
//! room system's MESSAGE is refused with 403 and its reason instead of vanishing.
//!
//! baresip is required: without it this test fails with an install hint (`make deps`).

mod common;

use std::time::Duration;

use common::baresip::{self, Call, Transport};
use common::demo::Demo;
use common::{eventually, metric};
use serde_json::{Value, json};

/// The chat messages meet-sim logged from participant `pid`.
async fn chat_from(demo: &Demo, pid: i64) -> Vec<String> {
    demo.events("chat_message")
        .await
        .into_iter()
        .filter(|e| e["participantId"].as_i64() == Some(pid))
        .filter_map(|e| e["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_and_meet_chat_both_ways_and_a_restricted_chat_is_refused() {
    baresip::require();
    let demo = Demo::start(31_700, "").await;
    let (status, alice) = demo
        .sim_post(
            &format!("/sim/spaces/{}/participants", demo.space),
            json!({"displayName": "Alice"}),
        )
        .await;
    assert_eq!(status, 201, "{alice:#}");
    let alice = alice["participantId"].as_i64().expect("Alice's id");

    let dir = baresip::run_dir("chat");
    let contact = format!("sip:{}@{}", demo.long_id, demo.sip);
    let call = Call {
        target: demo.sip,
        transport: Transport::Udp,
        user: &demo.long_id,
        srtp: false,
        rtp_base: 31_900,
        seconds: 40,
    };
    let vtc = baresip::start(&dir, &call, &contact);

    // The call is up: the gateway is in the conference and Meet gets its video.
    let joined = eventually(Duration::from_secs(20), || async {
        let gateways = demo.gateways(Some("STATE_JOINED")).await;
        match gateways.first().and_then(|g| g["participantId"].as_i64()) {
            Some(pid) => demo.layer_frames(pid, "f").await > 0,
            None => false,
        }
    })
    .await;
    assert!(joined, "{}", baresip::tail(&vtc.log()));
    let gateway = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();

    // The room system → Meet.
    let sent = vtc.command("message", "Hello from room 4");
    assert!(sent.is_ok(), "{sent:?}");
    let logged = eventually(Duration::from_secs(10), || async {
        chat_from(&demo, gateway).await == ["Hello from room 4"]
    })
    .await;
    assert!(
        logged,
        "meet-sim's chat log from the gateway: {:?}\n{}",
        chat_from(&demo, gateway).await,
        baresip::tail(&vtc.log())
    );

    // Meet → the room system, with the sender's name.
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}/chat", demo.space),
            json!({"fromParticipant": alice, "text": "Hello from Meet"}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let received = eventually(Duration::from_secs(10), || async {
        vtc.log().contains("Alice: Hello from Meet")
    })
    .await;
    assert!(received, "{}", baresip::tail(&vtc.log()));

    // Chat for hosts only: the room system's MESSAGE is refused with 403 and why (the
    // restriction reaches the node on `x-conference` a moment after it is set).
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setRestrictions", demo.space),
            json!({"chatRestriction": "HOSTS_ONLY"}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let mut refused = false;
    for _ in 0..10 {
        let sent = vtc.command("message", "Hello while restricted");
        assert!(sent.is_ok(), "{sent:?}");
        refused = eventually(Duration::from_secs(1), || async {
            vtc.log()
                .contains("403 Forbidden - chat is restricted to hosts")
        })
        .await;
        if refused {
            break;
        }
    }
    assert!(refused, "{}", baresip::tail(&vtc.log()));
    let chat: Vec<Value> = demo.events("chat_message").await;
    assert!(
        !chat.iter().any(|e| e["text"] == "Hello while restricted"),
        "{chat:#?}"
    );

    // baresip hangs up: the gateway leaves and the node holds nothing.
    let _ = vtc.command("quit", "");
    let run = tokio::task::spawn_blocking(move || vtc.finish())
        .await
        .unwrap();
    assert!(run.established(), "{}", baresip::tail(&run.log));
    let freed = eventually(Duration::from_secs(10), || async {
        let text = demo.metrics().await;
        demo.gateways(None).await.is_empty()
            && metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await;
    assert!(freed, "{}", demo.metrics().await);
}
