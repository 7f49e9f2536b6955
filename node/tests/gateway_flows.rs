//! Gateway calls into the demo meeting driven by a plain SIP caller on a loopback UDP socket,
//! so that every response and request the node sends can be checked: the lobby (180 until a
//! host admits the gateway, then 200), the conference ending (a BYE with its `Reason`), a
//! caller that never ACKs (the call is freed and the gateway leaves), and an unknown
//! meeting (404 from the Meet side's one table).

mod common;

use std::time::Duration;

use common::caller::Caller;
use common::demo::Demo;
use common::{eventually, metric};
use serde_json::{Value, json};

/// The id of the demo organisation's interop token.
async fn demo_token_id(demo: &Demo) -> u64 {
    let tokens = demo.sim_get("/sim/orgs/tcn.demo/interopTokens").await;
    tokens["interopTokens"][0]["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("{tokens:#}"))
}

async fn ended(demo: &Demo, ending: &str) -> bool {
    eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        metric(
            &text,
            &format!("tcn_gateway_call_endings_total{{ending=\"{ending}\"}}"),
        ) == Some(1.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_call_rings_in_the_lobby_until_a_host_admits_it() {
    let demo = Demo::start(28_400, "").await;
    let id = demo_token_id(&demo).await;
    let (status, body) = demo
        .sim_post(
            &format!("/sim/orgs/tcn.demo/interopTokens/{id}:setTrusted"),
            json!({"trusted": false}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");

    let caller = Caller::new("lobby-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ringing = caller.response(Duration::from_secs(15)).await.expect("180");
    assert_eq!(ringing.status.code(), 180);
    let waiting = demo.gateways(Some("STATE_WAITING")).await;
    assert_eq!(waiting.len(), 1, "the gateway waits in the lobby");
    assert!(
        caller.response(Duration::from_millis(500)).await.is_none(),
        "no answer while in the lobby"
    );

    let pid = waiting[0]["participantId"].as_i64().unwrap();
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}/lobby/{pid}:admit", demo.space),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let ok = caller.response(Duration::from_secs(10)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("H264/90000"));
    caller.ack(demo.sip, &ok, &demo.long_id).await;
    assert_eq!(demo.gateways(Some("STATE_JOINED")).await.len(), 1);

    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let bye = caller.in_dialog("BYE", 2, &tag, &demo.long_id);
    caller.sip.send_to(bye.as_bytes(), demo.sip).await.unwrap();
    assert_eq!(
        caller
            .response(Duration::from_secs(5))
            .await
            .map(|r| r.status.code()),
        Some(200)
    );
    let left = eventually(Duration::from_secs(2), || async {
        demo.gateways(None).await.is_empty()
    })
    .await;
    assert!(left, "the gateway left within 2 s");
    assert!(
        ended(&demo, "caller_hung_up").await,
        "{}",
        demo.metrics().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_the_conference_sends_a_bye_with_its_reason() {
    let demo = Demo::start(28_500, "").await;
    let caller = Caller::new("end-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ok = caller.response(Duration::from_secs(15)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    caller.ack(demo.sip, &ok, &demo.long_id).await;

    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:endConference", demo.space),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let bye = caller.request(Duration::from_secs(5)).await.expect("a BYE");
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("SIP;cause=200;text=\"Conference ended\"")
    );
    caller.reply(&bye, demo.sip).await;
    assert!(
        ended(&demo, "conference_ended").await,
        "{}",
        demo.metrics().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_call_whose_caller_never_acks_is_freed_and_leaves() {
    // T1 = 20 ms: the 2xx is given up 1.28 s after it was sent.
    let demo = Demo::start(28_600, "t1 = \"20ms\"").await;
    let caller = Caller::new("no-ack-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ok = caller.response(Duration::from_secs(15)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    assert_eq!(demo.gateways(Some("STATE_JOINED")).await.len(), 1);
    assert!(
        ended(&demo, "caller_lost").await,
        "{}",
        demo.metrics().await
    );
    assert!(
        demo.gateways(None).await.is_empty(),
        "the gateway left the conference"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_that_is_not_running_is_refused_with_404() {
    let demo = Demo::start(28_700, "").await;
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:endConference", demo.space),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let caller = Caller::new("gone-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let refusal = caller
        .response(Duration::from_secs(15))
        .await
        .expect("a refusal");
    assert_eq!(refusal.status.code(), 404, "{refusal:?}");
    let reason: Value = Value::String(refusal.headers.get("Reason").unwrap_or("").to_owned());
    assert!(reason.as_str().unwrap().contains("cause=404"), "{reason}");
    assert!(ended(&demo, "not_found").await, "{}", demo.metrics().await);
}
