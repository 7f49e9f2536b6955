//! Licences and the Live View, on a node with `[capacity] licenses = 4` and the embedded
//! demo meeting: baresip (real H.264 + PCMU) and a plain SIP caller each make a gateway call
//! into the same conference, where a synthetic participant sits too.
//!
//! - `/status` shows, per call, the caller's alias and protocol, the state, the meeting ID as
//!   the alias of the leg into Meet, the other participants as `spaces/<id>/devices/<id>`,
//!   every stream with codec, resolution, bit rate, loss and jitter, and the 2 licences held;
//!   both calls are grouped under the conference. The metrics follow
//!   (`tcn_calls_active{protocol,state}`, `tcn_licenses_in_use`, per-stream gauges,
//!   `tcn_call_setup_seconds`).
//! - The pool is full: OPTIONS answers 503 with `Retry-After`, a third call gets 503 with
//!   `Retry-After` and counts as `tcn_calls_total{outcome="no_license"}`; once a call ends,
//!   OPTIONS answers 200 again.
//! - A gateway call the CPU cannot carry (`cpu_cores_per_call`) is refused the same way.
//! - A call held in the lobby shows as `lobby` (holding its licences), then `joined`; its
//!   setup time includes the wait.
//!
//! baresip is required: without it this test fails with an install hint (`make deps`).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::baresip::{self, Call, Transport};
use common::caller::Caller;
use common::demo::Demo;
use common::{eventually, get, metric};
use serde_json::{Value, json};
use signaling::sip::message::Response;

/// `licenses = 4`: two gateway calls. The CPU check is set low enough not to be what refuses
/// the third call on a 2-core machine, and `max_calls` high enough.
const CAPACITY: &str = "[capacity]\nlicenses = 4\ncpu_cores_per_call = 0.1\nmax_calls = 10\n\
                        retry_after = \"12s\"\n";

/// Sends OPTIONS from `caller`'s socket (a load balancer's probe) and waits for the answer.
async fn options(caller: &Caller, node: SocketAddr, cseq: u32) -> Option<Response> {
    let options = format!(
        "OPTIONS sip:tcn@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-options{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=probe\r\n\
         To: <sip:tcn@127.0.0.1>\r\nCall-ID: {id}-options\r\n\
         CSeq: {cseq} OPTIONS\r\nContent-Length: 0\r\n\r\n",
        port = caller.port(),
        id = caller.call_id,
    );
    caller.sip.send_to(options.as_bytes(), node).await.unwrap();
    caller.response(Duration::from_secs(5)).await
}

async fn status(demo: &Demo) -> Value {
    serde_json::from_str(&get(demo.admin, "/status").await.unwrap().body).unwrap()
}

/// The call of `/status` whose caller alias starts with `alias`.
fn call_of<'a>(status: &'a Value, alias: &str) -> &'a Value {
    status["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["caller"]["alias"]
                .as_str()
                .is_some_and(|a| a.starts_with(alias))
        })
        .unwrap_or_else(|| panic!("no call from {alias}: {status:#}"))
}

fn stream<'a>(call: &'a Value, media: &str) -> &'a Value {
    call["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["media"] == media)
        .unwrap_or_else(|| panic!("no {media} stream: {call:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_calls_in_one_conference_fill_four_licences_and_show_in_the_live_view() {
    baresip::require();
    let demo = Demo::start(29_700, CAPACITY).await;
    let space = format!("spaces/{}", demo.space);
    let (code, alice) = demo
        .sim_post(
            &format!("/sim/spaces/{}/participants", demo.space),
            json!({"displayName": "Alice"}),
        )
        .await;
    assert_eq!(code, 201, "{alice:#}");
    let alice = format!(
        "{space}/devices/{}",
        alice["participantId"].as_i64().expect("Alice's id")
    );

    // Call 1: baresip, with real media, for 16 s.
    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let dir = baresip::run_dir("live-view");
    let vtc = tokio::task::spawn_blocking(move || {
        let call = Call {
            target: sip,
            transport: Transport::Udp,
            user: &long_id,
            srtp: false,
            rtp_base: 29_800,
            seconds: 16,
        };
        baresip::dial(&dir, &call)
    });
    let joined = eventually(Duration::from_secs(15), || async {
        demo.gateways(Some("STATE_JOINED")).await.len() == 1
    })
    .await;
    assert!(joined, "baresip's call did not join");

    // Call 2: the plain SIP caller (signalling only).
    let room = Caller::new("live-view-2").await;
    room.invite(demo.sip, &demo.long_id).await;
    let ok = room.response(Duration::from_secs(15)).await.expect("a 200");
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    room.ack(demo.sip, &ok, &demo.long_id).await;

    // The pool is full: OPTIONS and a third call are answered 503 with Retry-After.
    let probe = Caller::new("live-view-probe").await;
    let busy = options(&probe, demo.sip, 1).await.expect("an answer");
    assert_eq!(busy.status.code(), 503, "{busy:?}");
    assert_eq!(busy.headers.get("Retry-After"), Some("12"));
    let third = Caller::new("live-view-3").await;
    third.invite(demo.sip, &demo.long_id).await;
    let refused = third.response(Duration::from_secs(5)).await.expect("a 503");
    assert_eq!(refused.status.code(), 503, "{refused:?}");
    assert_eq!(refused.headers.get("Retry-After"), Some("12"));
    assert_eq!(refused.reason, "Service Unavailable - no license");

    // Live View: wait until the media figures are in (baresip's 352×288 decoded, the layers'
    // bit rates measured).
    let live = eventually(Duration::from_secs(15), || async {
        let status = status(&demo).await;
        let calls = status["calls"].as_array().map_or(0, Vec::len);
        calls == 2 && {
            let call = call_of(&status, "sip:vtc@");
            let video = stream(call, "video");
            video["resolution_in"]["width"] == 352
                && video["rtp"]["bitrate_in_bps"].as_u64() > Some(0)
                && call["meet"]["layers"]
                    .as_array()
                    .is_some_and(|l| l.iter().all(|l| l["bitrate_bps"].as_u64() > Some(0)))
                && call["meet_leg"]["participants"]
                    .as_array()
                    .is_some_and(|p| p.len() >= 2)
        }
    })
    .await;
    let status = status(&demo).await;
    assert!(live, "{status:#}");
    println!("{:#}", status["calls"]);
    let vtc_call = call_of(&status, "sip:vtc@");
    let room_call = call_of(&status, "sip:room@127.0.0.1");
    for call in [vtc_call, room_call] {
        assert_eq!(call["caller"]["protocol"], "sip", "{call:#}");
        assert_eq!(call["state"], "joined", "{call:#}");
        assert_eq!(call["licenses"], 2, "{call:#}");
        let leg = &call["meet_leg"];
        assert_eq!(leg["alias"], demo.long_id.as_str(), "{call:#}");
        assert_eq!(leg["conference"], space.as_str(), "{call:#}");
        assert_eq!(leg["meeting_code"], demo.meeting_code.as_str(), "{call:#}");
        let me = leg["device"].as_str().expect("the gateway's own device");
        assert!(me.starts_with(&format!("{space}/devices/")), "{call:#}");
        let others: Vec<&str> = leg["participants"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(others.contains(&alice.as_str()), "{call:#}");
        assert!(
            !others.contains(&me),
            "its own device is not an other: {call:#}"
        );
        assert_eq!(stream(call, "audio")["codec"], "PCMU", "{call:#}");
        let video = stream(call, "video");
        assert_eq!(video["codec"], "H264", "{call:#}");
        assert_eq!(
            video["resolution_out"],
            json!({"width": 1280, "height": 720})
        );
    }
    assert_eq!(room_call["caller"]["display_name"], "Room 4");
    // Each sees the other gateway call as a participant of the conference.
    let device = |call: &Value| call["meet_leg"]["device"].as_str().unwrap().to_owned();
    let others = |call: &Value| call["meet_leg"]["participants"].to_string();
    assert!(others(vtc_call).contains(&device(room_call)), "{status:#}");
    assert!(others(room_call).contains(&device(vtc_call)), "{status:#}");
    // baresip's call: every stream measured.
    let video = stream(vtc_call, "video");
    assert_eq!(video["resolution_in"], json!({"width": 352, "height": 288}));
    for media in ["audio", "video"] {
        let rtp = &stream(vtc_call, media)["rtp"];
        assert!(rtp["bitrate_in_bps"].as_u64() > Some(0), "{rtp:#}");
        assert!(rtp["bitrate_out_bps"].as_u64() > Some(0), "{rtp:#}");
        assert!(rtp["jitter_ms"].as_f64().is_some(), "{rtp:#}");
        assert!(rtp["fraction_lost"].as_f64().is_some(), "{rtp:#}");
    }
    for layer in vtc_call["meet"]["layers"].as_array().unwrap() {
        assert_eq!(layer["codec"], "VP8", "{layer:#}");
        assert!(layer["resolution"]["width"].as_u64() > Some(0), "{layer:#}");
    }
    // Grouped under the one conference.
    let ids = json!([status["calls"][0]["id"], status["calls"][1]["id"]]);
    assert_eq!(
        status["conferences"],
        json!([{"conference": space, "meeting_code": demo.meeting_code, "calls": ids}]),
        "{status:#}"
    );
    assert_eq!(
        status["capacity"]["licenses"],
        json!({"total": 4, "in_use": 4})
    );
    assert_eq!(status["capacity"]["full"], "no_license");

    let text = demo.metrics().await;
    let vtc_id = vtc_call["id"].as_u64().unwrap();
    for (series, expected) in [
        ("tcn_licenses_in_use", 4.0),
        ("tcn_licenses_total", 4.0),
        ("tcn_full", 1.0),
        // (Prometheus prints labels in name order.)
        ("tcn_calls_active{protocol=\"sip\",state=\"joined\"}", 2.0),
        ("tcn_calls_active{protocol=\"sip\",state=\"lobby\"}", 0.0),
        ("tcn_calls_total{outcome=\"no_license\"}", 1.0),
        ("tcn_call_setup_seconds_count", 2.0),
    ] {
        assert_eq!(metric(&text, series), Some(expected), "{series}\n{text}");
    }
    let bitrate = metric(
        &text,
        &format!(
            "tcn_stream_bitrate_bps{{call=\"{vtc_id}\",direction=\"in\",stream=\"vtc_video\"}}"
        ),
    );
    assert!(bitrate > Some(0.0), "{text}");
    assert!(
        metric(
            &text,
            &format!(
                "tcn_stream_bitrate_bps{{call=\"{vtc_id}\",direction=\"out\",stream=\"meet_video_f\"}}"
            ),
        ) > Some(0.0),
        "{text}"
    );

    // The plain caller hangs up: its 2 licences are free, OPTIONS answers 200 again.
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let bye = room.in_dialog("BYE", 2, &tag, &demo.long_id);
    room.sip.send_to(bye.as_bytes(), demo.sip).await.unwrap();
    let freed = eventually(Duration::from_secs(5), || async {
        metric(&demo.metrics().await, "tcn_licenses_in_use") == Some(2.0)
    })
    .await;
    assert!(freed, "{}", demo.metrics().await);
    let open = options(&probe, demo.sip, 2).await.expect("an answer");
    assert_eq!(open.status.code(), 200, "{open:?}");
    assert_eq!(open.headers.get("Retry-After"), None);

    let run = vtc.await.unwrap();
    assert!(run.established(), "{}", baresip::tail(&run.log));
    let idle = eventually(Duration::from_secs(5), || async {
        let text = demo.metrics().await;
        metric(&text, "tcn_licenses_in_use") == Some(0.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
    })
    .await;
    assert!(idle, "{}", demo.metrics().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_call_the_cpu_cannot_carry_is_refused() {
    // 64 cores per call: the CPU carries one gateway call (on any host of fewer than 128).
    let demo = Demo::start(
        29_900,
        "[capacity]\ncpu_cores_per_call = 64\nmax_calls = 10\n",
    )
    .await;
    let cpu = &status(&demo).await["capacity"]["cpu"];
    assert_eq!(cpu["gateway_calls_max"], 1, "{cpu:#}");

    let first = Caller::new("cpu-1").await;
    first.invite(demo.sip, &demo.long_id).await;
    let ok = first
        .response(Duration::from_secs(15))
        .await
        .expect("a 200");
    assert_eq!(ok.status.code(), 200, "{ok:?}");
    first.ack(demo.sip, &ok, &demo.long_id).await;

    let busy = options(&first, demo.sip, 1).await.expect("an answer");
    assert_eq!(busy.status.code(), 503, "{busy:?}");
    assert_eq!(busy.headers.get("Retry-After"), Some("30"));
    let second = Caller::new("cpu-2").await;
    second.invite(demo.sip, &demo.long_id).await;
    let refused = second
        .response(Duration::from_secs(5))
        .await
        .expect("a 503");
    assert_eq!(
        (refused.status.code(), refused.reason.as_str()),
        (503, "Service Unavailable - cpu full")
    );
    assert_eq!(refused.headers.get("Retry-After"), Some("30"));
    let status = status(&demo).await;
    assert_eq!(status["capacity"]["full"], "cpu_full", "{status:#}");
    assert_eq!(status["capacity"]["cpu"]["gateway_calls"], 1);
    let text = demo.metrics().await;
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"rejected\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"no_license\"}"),
        Some(0.0)
    );

    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let bye = first.in_dialog("BYE", 2, &tag, &demo.long_id);
    first.sip.send_to(bye.as_bytes(), demo.sip).await.unwrap();
    let free = eventually(Duration::from_secs(5), || async {
        metric(&demo.metrics().await, "tcn_full") == Some(0.0)
    })
    .await;
    assert!(free, "{}", demo.metrics().await);
    let open = options(&second, demo.sip, 2).await.expect("an answer");
    assert_eq!(open.status.code(), 200, "{open:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waiting_in_the_lobby_shows_as_lobby_then_joined() {
    let demo = Demo::start(30_900, "").await;
    let tokens = demo.sim_get("/sim/orgs/tcn.demo/interopTokens").await;
    let token = tokens["interopTokens"][0]["id"].as_u64().expect("a token");
    let (code, body) = demo
        .sim_post(
            &format!("/sim/orgs/tcn.demo/interopTokens/{token}:setTrusted"),
            json!({"trusted": false}),
        )
        .await;
    assert_eq!(code, 200, "{body:#}");

    let room = Caller::new("live-view-lobby").await;
    let dialled = std::time::Instant::now();
    room.invite(demo.sip, &demo.long_id).await;
    let ringing = room.response(Duration::from_secs(15)).await.expect("a 180");
    assert_eq!(ringing.status.code(), 180);
    let lobby_status = status(&demo).await;
    let call = call_of(&lobby_status, "sip:room@");
    assert_eq!(call["state"], "lobby", "{call:#}");
    assert_eq!(
        call["licenses"], 2,
        "licences are held from the INVITE: {call:#}"
    );
    assert_eq!(
        call["meet_leg"]["conference"],
        format!("spaces/{}", demo.space)
    );
    let text = demo.metrics().await;
    assert_eq!(
        metric(&text, "tcn_calls_active{protocol=\"sip\",state=\"lobby\"}"),
        Some(1.0)
    );
    assert_eq!(metric(&text, "tcn_call_setup_seconds_count"), Some(0.0));

    // Admitted after a wait of at least 500 ms (between the 180 and the admission): the
    // setup time includes it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = demo.gateways(Some("STATE_WAITING")).await;
    let pid = waiting[0]["participantId"]
        .as_i64()
        .expect("the waiting gateway");
    let admitted = std::time::Instant::now();
    let (code, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}/lobby/{pid}:admit", demo.space),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{body:#}");
    let ok = room.response(Duration::from_secs(10)).await.expect("a 200");
    assert_eq!(ok.status.code(), 200);
    room.ack(demo.sip, &ok, &demo.long_id).await;
    let joined = eventually(Duration::from_secs(5), || async {
        call_of(&status(&demo).await, "sip:room@")["state"] == "joined"
    })
    .await;
    assert!(joined, "{:#}", status(&demo).await);
    let text = demo.metrics().await;
    let setup = metric(&text, "tcn_call_setup_seconds_sum").unwrap();
    let lobby = admitted.duration_since(dialled).as_secs_f64();
    println!("setup {setup:.3} s, of which {lobby:.3} s before the host admitted the call");
    assert!(
        (0.5..lobby + 5.0).contains(&setup),
        "setup {setup} s, lobby wait {lobby} s"
    );
    assert_eq!(metric(&text, "tcn_call_setup_seconds_count"), Some(1.0));

    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let bye = room.in_dialog("BYE", 2, &tag, &demo.long_id);
    room.sip.send_to(bye.as_bytes(), demo.sip).await.unwrap();
    let idle = eventually(Duration::from_secs(5), || async {
        metric(&demo.metrics().await, "tcn_licenses_in_use") == Some(0.0)
    })
    .await;
    assert!(idle, "{}", demo.metrics().await);
}
