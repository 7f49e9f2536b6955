//! Gateway calls into the demo meeting driven by a plain SIP caller on a loopback UDP socket,
//! so that every response and request the node sends can be checked: the lobby (180 until a
//! host admits the gateway, then 200; a timeout on the simulator's clock, 408; a denial, 403;
//! with `lobby = "slate"`, 200 at once and a "Waiting to be admitted" picture, and a BYE with
//! a `Reason` at the timeout), a host's video lock (480 "Call rejected" at connect, a BYE with
//! that `Reason` mid-call), the conference ending (a BYE with its `Reason`), a caller that
//! never ACKs (the call is freed and the gateway leaves), and an unknown meeting (404 from the
//! Meet side's one table).

mod common;

use std::time::Duration;

use common::caller::Caller;
use common::demo::Demo;
use common::{eventually, metric};
use kernels::canvas::{Canvas, DEFAULT_BACKGROUND};
use kernels::frame::I420Frame;
use kernels::layout::{Layout, MAIN_TILE};
use kernels::slate::Slate;
use node::demo::vtc::Vtc;
use pipelines::peers::Pattern;
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

/// Makes the demo organisation's interop token untrusted: its callers wait in the lobby.
async fn untrust(demo: &Demo) {
    let id = demo_token_id(demo).await;
    let (status, body) = demo
        .sim_post(
            &format!("/sim/orgs/tcn.demo/interopTokens/{id}:setTrusted"),
            json!({"trusted": false}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
}

/// The one gateway waiting in the lobby, once it is there.
async fn waiting_gateway(demo: &Demo) -> i64 {
    let there = eventually(Duration::from_secs(15), || async {
        demo.gateways(Some("STATE_WAITING")).await.len() == 1
    })
    .await;
    assert!(there, "{:#}", demo.sim_get("/sim/events").await);
    demo.gateways(Some("STATE_WAITING")).await[0]["participantId"]
        .as_i64()
        .unwrap()
}

async fn lobby_verb(demo: &Demo, pid: i64, verb: &str) {
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}/lobby/{pid}:{verb}", demo.space),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
}

/// Moves the simulator's clock on by the lobby's 30 s: whoever still waits times out.
async fn lobby_time_passes(demo: &Demo) {
    let (status, body) = demo
        .sim_post("/sim/clock", json!({"advanceMs": 30_000}))
        .await;
    assert_eq!(status, 200, "{body:#}");
}

fn ending_count(text: &str, ending: &str) -> Option<f64> {
    metric(
        text,
        &format!("tcn_gateway_call_endings_total{{ending=\"{ending}\"}}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lobby_admits_one_call_times_out_another_and_denies_a_third() {
    let demo = Demo::start(31_100, "").await;
    untrust(&demo).await;

    // Admitted: the 200 comes with the admission, and media flows both ways.
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let vtc = tokio::task::spawn_blocking(move || {
        Vtc::call(
            sip,
            &long_id,
            Pattern::Bars,
            1000.0,
            Duration::from_secs(30),
        )
    });
    let admitted = waiting_gateway(&demo).await;
    lobby_verb(&demo, admitted, "admit").await;
    let mut vtc = vtc.await.unwrap().expect("the 200 once admitted");
    let flowing = eventually(Duration::from_secs(15), || async {
        demo.layer_frames(admitted, "f").await > 10 && vtc.video_rtp().packets > 10
    })
    .await;
    assert!(
        flowing,
        "Meet got {} frames, the room system {} video packets",
        demo.layer_frames(admitted, "f").await,
        vtc.video_rtp().packets
    );

    // Not admitted: 180 until the lobby's 30 s pass on the simulator's clock, then 408.
    let caller = Caller::new("lobby-timeout").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ringing = caller.response(Duration::from_secs(15)).await.expect("180");
    assert_eq!(ringing.status.code(), 180);
    waiting_gateway(&demo).await;
    lobby_time_passes(&demo).await;
    let refusal = caller.response(Duration::from_secs(5)).await.expect("408");
    assert_eq!(refusal.status.code(), 408, "{refusal:?}");
    assert_eq!(
        refusal.headers.get("Reason"),
        Some("SIP;cause=408;text=\"Admission timed out\"")
    );
    assert!(
        !demo.events("lobby_timed_out").await.is_empty(),
        "the simulator timed the lobby out"
    );

    // Denied: 403.
    let caller = Caller::new("lobby-denied").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ringing = caller.response(Duration::from_secs(15)).await.expect("180");
    assert_eq!(ringing.status.code(), 180);
    let denied = waiting_gateway(&demo).await;
    lobby_verb(&demo, denied, "deny").await;
    let refusal = caller.response(Duration::from_secs(5)).await.expect("403");
    assert_eq!(refusal.status.code(), 403, "{refusal:?}");
    assert_eq!(
        refusal.headers.get("Reason"),
        Some("SIP;cause=403;text=\"Admission denied\"")
    );

    // The admitted call went on through both: still in the conference, media still flowing.
    let before = demo.layer_frames(admitted, "f").await;
    let still = eventually(Duration::from_secs(5), || async {
        demo.layer_frames(admitted, "f").await > before + 10
    })
    .await;
    assert!(still, "the admitted call's media stopped");
    assert_eq!(vtc.hang_up(), Ok(200));
    let counted = eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        ending_count(&text, "admission_timeout") == Some(1.0)
            && ending_count(&text, "admission_denied") == Some(1.0)
            && ending_count(&text, "caller_hung_up") == Some(1.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
    })
    .await;
    assert!(counted, "{}", demo.metrics().await);
}

/// The picture of a full-frame slate with `text`, as the downlink draws it.
fn slate_picture(width: u32, height: u32, text: &str) -> I420Frame {
    let mut canvas = Canvas::new(Layout::full(width, height).unwrap());
    let slate = Slate {
        background: DEFAULT_BACKGROUND,
        text: text.to_owned(),
    };
    canvas.draw_slate(MAIN_TILE, &slate).unwrap();
    canvas.frame().clone()
}

/// Mean luma difference between `frame` and `picture` over the box that holds the text of
/// `picture` and of `other` (where either is not the background).
fn text_difference(frame: &I420Frame, picture: &I420Frame, other: &I420Frame) -> f64 {
    let background = DEFAULT_BACKGROUND.y;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..picture.height() {
        for x in 0..picture.width() {
            if picture.pixel(x, y).y != background || other.pixel(x, y).y != background {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    let mut sum = 0u64;
    for y in y0..=y1 {
        for x in x0..=x1 {
            sum += u64::from(frame.pixel(x, y).y.abs_diff(picture.pixel(x, y).y));
        }
    }
    sum as f64 / f64::from((x1 - x0 + 1) * (y1 - y0 + 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slate_lobby_answers_at_once_shows_the_slate_and_a_timeout_ends_with_a_bye() {
    let demo = Demo::start(31_300, "[meet]\nlobby = \"slate\"").await;
    untrust(&demo).await;

    // Answered while still in the lobby: the picture says so.
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let mut vtc = tokio::task::spawn_blocking(move || {
        Vtc::call(
            sip,
            &long_id,
            Pattern::Bars,
            1000.0,
            Duration::from_secs(15),
        )
    })
    .await
    .unwrap()
    .expect("a 200 in the lobby");
    let pid = waiting_gateway(&demo).await;
    let (lobby, waiting) = (
        slate_picture(1280, 720, "Waiting to be admitted"),
        slate_picture(1280, 720, kernels::slate::WAITING_TEXT),
    );
    let shows = |want: &I420Frame, other: &I420Frame| {
        vtc.video().latest().is_some_and(|f| {
            (f.width(), f.height()) == (1280, 720)
                && text_difference(&f, want, other) < 8.0
                && text_difference(&f, other, want) > 30.0
        })
    };
    let lobby_slate = eventually(Duration::from_secs(15), || async {
        shows(&lobby, &waiting)
    })
    .await;
    let frame = vtc.video().latest().expect("a picture");
    println!(
        "in the lobby: mean luma difference {:.1} from the lobby slate, {:.1} from the waiting slate",
        text_difference(&frame, &lobby, &waiting),
        text_difference(&frame, &waiting, &lobby)
    );
    assert!(
        lobby_slate,
        "{}x{}: {:.1} from the lobby slate, {:.1} from the waiting slate",
        frame.width(),
        frame.height(),
        text_difference(&frame, &lobby, &waiting),
        text_difference(&frame, &waiting, &lobby)
    );
    assert_eq!(demo.gateways(Some("STATE_WAITING")).await.len(), 1);

    // Admitted: the call goes on (the conference's own waiting slate, media to Meet).
    lobby_verb(&demo, pid, "admit").await;
    let joined = eventually(Duration::from_secs(15), || async {
        shows(&waiting, &lobby) && demo.layer_frames(pid, "f").await > 10
    })
    .await;
    assert!(
        joined,
        "Meet got {} frames",
        demo.layer_frames(pid, "f").await
    );
    let frame = vtc.video().latest().expect("a picture");
    println!(
        "admitted: {:.1} from the waiting slate, {:.1} from the lobby slate; Meet got {} frames",
        text_difference(&frame, &waiting, &lobby),
        text_difference(&frame, &lobby, &waiting),
        demo.layer_frames(pid, "f").await
    );
    assert_eq!(vtc.hang_up(), Ok(200));

    // A second call is answered in the lobby too, and nobody admits it: a BYE with cause 408.
    let caller = Caller::new("slate-timeout").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ok = caller.response(Duration::from_secs(15)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    caller.ack(demo.sip, &ok, &demo.long_id).await;
    waiting_gateway(&demo).await;
    lobby_time_passes(&demo).await;
    let bye = caller.request(Duration::from_secs(5)).await.expect("a BYE");
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("SIP;cause=408;text=\"Admission timed out\"")
    );
    caller.reply(&bye, demo.sip).await;
    let counted = eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        ending_count(&text, "admission_timeout") == Some(1.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
    })
    .await;
    assert!(counted, "{}", demo.metrics().await);
}

async fn set_video_lock(demo: &Demo, on: bool) {
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setLocks", demo.space),
            json!({"video": on}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_lock_refuses_the_call_with_480_and_ends_a_call_in_progress_with_a_bye() {
    let demo = Demo::start(31_500, "").await;
    let call_rejected = Some("SIP;cause=480;text=\"Call rejected\"");

    // Locked before dialling: 480, "Call rejected".
    set_video_lock(&demo, true).await;
    let caller = Caller::new("locked-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let refusal = caller.response(Duration::from_secs(15)).await.expect("480");
    assert_eq!(refusal.status.code(), 480, "{refusal:?}");
    assert_eq!(refusal.headers.get("Reason"), call_rejected);

    // Locked mid-call: a BYE with the same Reason.
    set_video_lock(&demo, false).await;
    let caller = Caller::new("locked-2").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ok = caller.response(Duration::from_secs(15)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    caller.ack(demo.sip, &ok, &demo.long_id).await;
    set_video_lock(&demo, true).await;
    let bye = caller.request(Duration::from_secs(5)).await.expect("a BYE");
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(bye.headers.get("Reason"), call_rejected);
    caller.reply(&bye, demo.sip).await;
    let counted = eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        ending_count(&text, "video_locked") == Some(2.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await;
    assert!(counted, "{}", demo.metrics().await);
    assert!(demo.gateways(None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_in_the_dialog_goes_both_ways_and_a_restricted_message_is_refused_with_403() {
    let demo = Demo::start(31_600, "").await;
    let (status, alice) = demo
        .sim_post(
            &format!("/sim/spaces/{}/participants", demo.space),
            json!({"displayName": "Alice"}),
        )
        .await;
    assert_eq!(status, 201, "{alice:#}");
    let alice = alice["participantId"].as_i64().unwrap();
    let caller = Caller::new("chat-1").await;
    caller.invite(demo.sip, &demo.long_id).await;
    let ok = caller.response(Duration::from_secs(15)).await.expect("200");
    assert_eq!(ok.status.code(), 200);
    caller.ack(demo.sip, &ok, &demo.long_id).await;
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let gateway = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let message = |cseq: u32, text: &str| {
        caller
            .in_dialog("MESSAGE", cseq, &tag, &demo.long_id)
            .replace(
                "Content-Length: 0\r\n\r\n",
                &format!(
                    "Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{text}",
                    text.len()
                ),
            )
    };

    // The room system → Meet: 200, and the text in the conference's chat.
    let sent = message(2, "Hello from room 4");
    caller.sip.send_to(sent.as_bytes(), demo.sip).await.unwrap();
    let answer = caller.response(Duration::from_secs(5)).await.expect("200");
    assert_eq!(answer.status.code(), 200, "{answer:?}");
    let logged = eventually(Duration::from_secs(5), || async {
        demo.events("chat_message").await.iter().any(|e| {
            e["participantId"].as_i64() == Some(gateway) && e["text"] == "Hello from room 4"
        })
    })
    .await;
    assert!(logged, "{:#?}", demo.events("chat_message").await);

    // Meet → the room system: a MESSAGE in the dialog, with the sender's name.
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}/chat", demo.space),
            json!({"fromParticipant": alice, "text": "Hello from Meet"}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let request = caller
        .request(Duration::from_secs(5))
        .await
        .expect("a MESSAGE");
    assert_eq!(request.method.as_str(), "MESSAGE");
    assert_eq!(request.to().unwrap().tag(), Some("vtc1"), "in the dialog");
    assert!(
        request
            .headers
            .get("Content-Type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{request:?}"
    );
    assert_eq!(
        String::from_utf8_lossy(&request.body),
        "Alice: Hello from Meet"
    );
    caller.reply(&request, demo.sip).await;

    // Chat for hosts only: 403 with why, and nothing reaches the conference.
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setRestrictions", demo.space),
            json!({"chatRestriction": "HOSTS_ONLY"}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let mut cseq = 3;
    let refused = eventually(Duration::from_secs(5), || {
        cseq += 1;
        let sent = message(cseq, "Hello while restricted");
        let caller = &caller;
        let node = demo.sip;
        async move {
            caller.sip.send_to(sent.as_bytes(), node).await.unwrap();
            caller
                .response(Duration::from_secs(1))
                .await
                .is_some_and(|r| {
                    r.status.code() == 403 && r.reason == "Forbidden - chat is restricted to hosts"
                })
        }
    })
    .await;
    assert!(refused, "no 403 while chat is for hosts only");
    let chat = demo.events("chat_message").await;
    assert_eq!(chat.len(), 2, "{chat:#?}");
}
