//! meet-sim's browser pages (meet-side.md §5.b): served as files, and run in a real headless
//! Chromium inside a loopback-only network namespace (tests/browser_support.rs).
//!
//! Against the simulator: three browsers send Opus and 3-layer VP8 simulcast, the sim measures
//! each layer at the size the browser encodes, and a fourth browser decodes the 1+7 forwarding
//! (issue 5 acceptance); a Media-API-style receive-only client gets JOINED, the roster, media
//! entries and an assignment. The pages' own logic in detail (layout request, stats uploads,
//! chat) is also checked against a browser peer standing in for Meet
//! (`tests/browser/fake-meet.js`).
//!
//! Run: `cargo test -p tcn-meet --test browser_pages` as root (for the namespace), after
//! `deploy/install-deps.sh` (Chromium, Node.js, `npm ci` in `tests/browser/`).

#[path = "browser_support.rs"]
mod browser_support;
#[path = "sim_support.rs"]
mod sim_support;

use std::time::{Duration, Instant};

use browser_support::{
    BrowserRun, DriverSpec, MediaSection, browser_available, drive, get_text, in_loopback_netns,
    media_sections, summary,
};
use serde_json::{Value, json};
use sim_support::{CODE, Fixture};

/// The Media API scope for audio and video.
const MEDIA_SCOPE: &str = "https://www.googleapis.com/auth/meetings.conference.media.readonly";

#[tokio::test]
async fn pages_and_assets_are_served_with_no_external_resources() {
    let fx = Fixture::new().await;
    let files = [
        (format!("/m/{CODE}?name=Alice&video=8"), "text/html"),
        (format!("/media-api/{CODE}?token=t"), "text/html"),
        ("/m/assets/client.js".to_owned(), "text/javascript"),
        ("/m/assets/participant.js".to_owned(), "text/javascript"),
        ("/m/assets/media-api.js".to_owned(), "text/javascript"),
        ("/m/assets/page.css".to_owned(), "text/css"),
    ];
    for (path, content_type) in files {
        let reply = get_text(fx.addr(), &path).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(
            reply.header("content-type"),
            Some(format!("{content_type}; charset=utf-8").as_str()),
            "{path}"
        );
        assert_eq!(
            reply.header("content-security-policy"),
            Some("default-src 'self'"),
            "{path}"
        );
        for external in ["http://", "https://", "\"//"] {
            assert!(!reply.body.contains(external), "{path} loads {external}…");
        }
    }
    let participant = get_text(fx.addr(), &format!("/m/{CODE}")).await;
    assert!(
        participant
            .body
            .contains(r#"<script type="module" src="/m/assets/participant.js">"#)
    );
    let media_api = get_text(fx.addr(), &format!("/media-api/{CODE}")).await;
    assert!(
        media_api
            .body
            .contains(r#"<script type="module" src="/m/assets/media-api.js">"#)
    );
    for missing in [
        "/m/assets/nope.js",
        "/m/assets/",
        &format!("/m/{CODE}:join"),
    ] {
        let reply = get_text(fx.addr(), missing).await;
        assert_eq!(reply.status, 404, "{missing}");
    }
    assert_eq!(get_text(fx.addr(), "/favicon.ico").await.status, 204);
}

/// The kinds and directions of `sections`, as `"audio sendonly"`.
fn shape(sections: &[MediaSection]) -> Vec<String> {
    sections
        .iter()
        .map(|s| match s.kind.as_str() {
            "application" => "application".to_owned(),
            kind => format!("{kind} {}", s.direction),
        })
        .collect()
}

/// `n` times `item`.
fn times(n: usize, item: &str) -> Vec<String> {
    vec![item.to_owned(); n]
}

/// The result for the page whose URL contains `needle`.
fn page<'a>(result: &'a Value, needle: &str) -> &'a Value {
    result["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["url"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no page {needle} in {result}"))
}

/// Checks what holds for every offer: vanilla ICE with loopback host candidates only (the
/// namespace works), one BUNDLE group over every section, data channels present.
#[track_caller]
fn assert_common_offer(sdp: &str, sections: &[MediaSection]) {
    let mids: Vec<&str> = sections
        .iter()
        .map(|s| s.attribute_values("mid")[0])
        .collect();
    assert!(
        sdp.contains(&format!("a=group:BUNDLE {}", mids.join(" "))),
        "{sdp}"
    );
    let candidates: Vec<&str> = sections
        .iter()
        .flat_map(|s| s.attribute_values("candidate"))
        .collect();
    assert!(
        !candidates.is_empty(),
        "no ICE candidates in the offer:\n{sdp}"
    );
    for candidate in candidates {
        assert!(
            candidate.contains(" 127.0.0.1 ") && candidate.contains(" typ host"),
            "{candidate}"
        );
    }
    let data = sections.iter().find(|s| s.kind == "application").unwrap();
    assert_eq!(data.formats, ["webrtc-datachannel"]);
}

/// The participant page with `video` receive streams: capture and offer shape.
#[track_caller]
fn assert_participant_offer(page: &Value, video: usize) {
    let tcn = &page["tcn"];
    assert_eq!(page["pageErrors"], json!([]), "{page}");
    assert_eq!(
        tcn["camera"],
        json!({"width": 1280, "height": 720, "frameRate": 30}),
        "getUserMedia: {page}"
    );
    let sdp = tcn["offer"].as_str().expect("an offer");
    let sections = media_sections(sdp);
    let expected = [
        vec!["audio sendonly".to_owned(), "video sendonly".to_owned()],
        times(3, "audio recvonly"),
        times(video, "video recvonly"),
        vec!["application".to_owned()],
    ]
    .concat();
    assert_eq!(shape(&sections), expected, "{sdp}");
    assert_common_offer(sdp, &sections);

    let (audio, camera) = (&sections[0], &sections[1]);
    assert_eq!(audio.codecs()[0], "opus");
    assert_eq!(
        camera.attribute_values("rid"),
        ["q send", "h send", "f send"]
    );
    assert_eq!(camera.attribute_values("simulcast"), ["send q;h;f"]);
    assert_eq!(camera.codecs(), ["VP8", "rtx"], "VP8 forced");
    for ext in [
        "urn:ietf:params:rtp-hdrext:sdes:mid",
        "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    ] {
        assert!(
            camera
                .attribute_values("extmap")
                .iter()
                .any(|e| e.ends_with(ext)),
            "{ext}"
        );
    }
}

/// The messages a page received on `channel`.
fn received<'a>(page: &'a Value, channel: &str) -> Vec<&'a Value> {
    page["tcn"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["channel"] == channel)
        .map(|m| &m["message"])
        .collect()
}

/// A sender is done when it is joined and sends all three layers (Chrome turns h and f on as
/// its bandwidth estimate, fed by the sim's transport-wide feedback, grows).
const SENDING: &str = "tcn.sessionState === 'STATE_JOINED' \
    && stats.outbound.filter(s => s.kind === 'video' && s.framesEncoded > 30 && s.packetsSent > 30).length === 3";
/// The viewer is done when it decodes three forwarded streams.
const VIEWING: &str = "tcn.sessionState === 'STATE_JOINED' \
    && stats.inbound.filter(s => s.kind === 'video' && s.framesDecoded > 30).length >= 3";

#[test]
fn three_browsers_send_simulcast_through_the_sim_and_a_fourth_receives_the_1_plus_7() {
    if !browser_available() {
        return;
    }
    in_loopback_netns(|| async {
        let started = Instant::now();
        let fx = Fixture::new().await;
        let base = fx.sim.url();
        let spec = DriverSpec::new(
            [
                format!("{base}/m/{CODE}?name=Alice&video=1"),
                format!("{base}/m/{CODE}?name=Bob&video=1"),
                format!("{base}/m/{CODE}?name=Carol&video=1"),
                format!("{base}/m/{CODE}?name=Dave&video=8"),
            ],
            Duration::from_secs(45),
        )
        .page_until(0, SENDING)
        .page_until(1, SENDING)
        .page_until(2, SENDING)
        .page_until(3, VIEWING);
        let result = drive(&spec).await;
        eprintln!(
            "Chromium {}: pages done after {} ms, {} ms in all\n{}",
            result["browserVersion"],
            result["elapsedMs"],
            started.elapsed().as_millis(),
            summary(&result)
        );
        let mut senders = Vec::new();
        for name in ["Alice", "Bob", "Carol"] {
            let page = page(&result, name);
            assert_participant_offer(page, 1);
            assert_eq!(page["tcn"]["error"], Value::Null, "{page}");
            assert_eq!(page["tcn"]["sessionState"], "STATE_JOINED", "{page}");
            assert_eq!(page["stats"]["connectionState"], "connected");
            senders.push(page["tcn"]["participantId"].as_i64().expect("a pid"));
            // the sim measured each layer at the size the browser reports it encodes
            let pid = page["tcn"]["participantId"].as_i64().unwrap();
            let media = fx
                .get(&format!("/sim/spaces/{CODE}/participants/{pid}/media"))
                .await;
            let layers = media.json["media"]["layers"].as_array().unwrap().clone();
            for out in page["stats"]["outbound"].as_array().unwrap() {
                if out["kind"] != "video" {
                    continue;
                }
                let rid = out["rid"].as_str().unwrap();
                let sim = layers
                    .iter()
                    .find(|l| l["rid"] == rid)
                    .unwrap_or_else(|| panic!("{name}: sim saw no {rid}: {layers:?}"));
                assert!(sim["packets"].as_u64().unwrap() > 0, "{name} {rid}");
                assert!(sim["frames"].as_u64().unwrap() > 10, "{name} {rid}: {sim}");
                assert!(out["framesEncoded"].as_u64().unwrap() > 10, "{name} {rid}");
                let browser = (out["frameWidth"].as_u64(), out["frameHeight"].as_u64());
                let measured = (sim["width"].as_u64(), sim["height"].as_u64());
                if browser == (None, None) {
                    // Chrome pauses a layer it has no bandwidth (or CPU) for, and then reports
                    // no frame size for it: the sim's size can only be checked for sense.
                    assert!(
                        matches!(measured, (Some(w), Some(h)) if w > 0 && w * 9 == h * 16),
                        "{name} {rid}: paused in the browser, sim measured {sim}"
                    );
                } else {
                    assert_eq!(
                        measured, browser,
                        "{name} {rid}: sim {sim} vs browser {out}"
                    );
                }
            }
            assert_eq!(layers.len(), 3, "{name}: {layers:?}");
        }
        // the 4th browser: roster, 1+7 assignment, forwarded video decoded at canvas sizes
        let dave = page(&result, "Dave");
        assert_participant_offer(dave, 8);
        assert_eq!(dave["tcn"]["sessionState"], "STATE_JOINED", "{dave}");
        assert!(!received(dave, "participants").is_empty());
        let assignment = received(dave, "video-assignment")
            .into_iter()
            .rev()
            .find_map(|m| m["resources"][0]["videoAssignment"].as_object())
            .expect("a video assignment")
            .clone();
        let shown: Vec<&Value> = assignment["canvases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["ssrc"].as_u64().unwrap_or(0) != 0)
            .collect();
        assert_eq!(shown.len(), 3, "{assignment:?}");
        let inbound: Vec<&Value> = dave["stats"]["inbound"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "video" && s["framesDecoded"].as_u64().unwrap_or(0) > 30)
            .collect();
        assert_eq!(inbound.len(), 3, "{inbound:?}");
        // audio: the 3 virtual audio streams carry the three senders
        let audio = dave["stats"]["inbound"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "audio" && s["packetsReceived"].as_u64().unwrap_or(0) > 50)
            .count();
        assert_eq!(audio, 3, "{}", dave["stats"]["inbound"]);
        let main = shown
            .iter()
            .find(|c| c["canvasId"] == 1)
            .expect("canvas 1 shown");
        // canvas 1 (1280×720) carries a source's top layer, the 320×180 thumbnails its
        // bottom one: q, sent at 320×180, or smaller when Chrome adapts to a busy CPU
        for stream in &inbound {
            let size = (
                stream["frameWidth"].as_u64().unwrap(),
                stream["frameHeight"].as_u64().unwrap(),
            );
            if stream["ssrc"] == main["ssrc"] {
                assert!(size.0 > 320 && size.1 > 180, "canvas 1: {stream}");
            } else {
                assert!(size.0 <= 320 && size.1 <= 180, "a thumbnail: {stream}");
            }
        }
        assert!(fx.events("media_rule_broken").await.is_empty());
    })
    .unwrap_or_default();
}

#[test]
fn a_media_api_client_gets_joined_the_roster_entries_and_an_assignment() {
    if !browser_available() {
        return;
    }
    in_loopback_netns(|| async {
        let fx = Fixture::new().await;
        // a host to consent, and someone to show
        fx.add_person("Host", true).await;
        fx.add_person("Guest", false).await;
        let token = fx
            .post("/sim/oauthTokens", json!({"scopes": [MEDIA_SCOPE]}))
            .await;
        assert_eq!(token.status, 201, "{}", token.json);
        let token = token.json["token"].as_str().unwrap().to_owned();
        let base = fx.sim.url();
        let spec = DriverSpec::new(
            [format!("{base}/media-api/{CODE}?token={token}&video=3")],
            Duration::from_secs(20),
        )
        .until(
            "tcn.sessionState === 'STATE_JOINED' \
             && tcn.messages.some(m => m.channel === 'video-assignment' \
                && m.message.resources && m.message.resources[0].videoAssignment)",
        );
        let result = drive(&spec).await;
        let media = page(&result, "/media-api/");
        assert_eq!(media["pageErrors"], json!([]), "{media}");
        let sdp = media["tcn"]["offer"].as_str().expect("an offer");
        let sections = media_sections(sdp);
        let expected = [
            times(3, "audio recvonly"),
            vec!["application".to_owned()],
            times(3, "video recvonly"),
        ]
        .concat();
        assert_eq!(shape(&sections), expected, "{sdp}");
        assert_common_offer(sdp, &sections);
        assert_eq!(media["tcn"]["error"], Value::Null, "{media}");
        assert_eq!(media["tcn"]["sessionState"], "STATE_JOINED", "{media}");
        assert_eq!(media["stats"]["connectionState"], "connected", "{media}");
        let resources = |channel: &str| -> Vec<Value> {
            received(media, channel)
                .into_iter()
                .flat_map(|m| m["resources"].as_array().cloned().unwrap_or_default())
                .collect()
        };
        let roster = resources("participants");
        assert_eq!(roster.len(), 2, "host and guest: {roster:?}");
        let entries = resources("media-entries");
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert!(
            entries
                .iter()
                .all(|e| e["mediaEntry"]["audioCsrc"].is_u64())
        );
        let assignment = received(media, "video-assignment")
            .into_iter()
            .find_map(|m| m["resources"][0]["videoAssignment"].as_object())
            .unwrap()
            .clone();
        let canvases = assignment["canvases"].as_array().unwrap();
        assert_eq!(canvases.len(), 3, "{assignment:?}");
        let shown: Vec<i64> = canvases
            .iter()
            .filter_map(|c| c["mediaEntryId"].as_i64().filter(|id| *id != 0))
            .collect();
        let entry_ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert_eq!(shown.len(), 2);
        assert!(shown.iter().all(|id| entry_ids.contains(id)));
    })
    .unwrap_or_default();
}

/// The requests the fake Meet peer received from `page` on `channel`.
fn fake_requests<'a>(page: &'a Value, channel: &str) -> Vec<&'a Value> {
    page["fakeMeet"]["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("no fakeMeet requests: {page}"))
        .iter()
        .filter(|r| r["channel"] == channel)
        .map(|r| &r["request"])
        .collect()
}

/// The pages' own logic, end to end, against a browser peer standing in for the media plane:
/// ICE and DTLS on loopback, simulcast sent, every receive stream decoded, JOINED on
/// session-control, the layout request, stats uploads at the configured interval.
#[track_caller]
fn assert_joined_page(page: &Value, canvases: usize, audio_video_sent: bool) {
    let tcn = &page["tcn"];
    assert_eq!(page["pageErrors"], json!([]), "{page}");
    assert_eq!(tcn["error"], Value::Null, "{page}");
    assert_eq!(tcn["sessionState"], "STATE_JOINED");
    assert_eq!(page["stats"]["connectionState"], "connected");
    let first = |channel: &str| {
        tcn["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["channel"] == channel)
            .map(|m| m["message"].clone())
    };
    assert!(first("session-control").is_some());
    assert!(first("media-stats").unwrap()["resources"][0]["configuration"].is_object());

    // Sent: the mic, and the three simulcast layers, each at its size once Chrome turns it
    // on. Chrome starts with q and adds h and f as its bandwidth estimate grows, which on a
    // busy 2-core box can take more than 20 s; so only q must be flowing.
    let outbound = page["stats"]["outbound"].as_array().unwrap();
    if audio_video_sent {
        let video: Vec<&Value> = outbound.iter().filter(|s| s["kind"] == "video").collect();
        let rids: Vec<&str> = video.iter().map(|s| s["rid"].as_str().unwrap()).collect();
        assert_eq!(rids, ["f", "h", "q"]);
        for (layer, size) in video.iter().zip([(1280, 720), (640, 360), (320, 180)]) {
            let sending = layer["packetsSent"].as_u64().unwrap() > 0;
            if sending || layer["rid"] == "q" {
                assert!(layer["framesEncoded"].as_u64().unwrap() > 0, "{layer}");
                let got = (layer["frameWidth"].as_u64(), layer["frameHeight"].as_u64());
                assert_eq!(got, (Some(size.0), Some(size.1)), "{layer}");
            } else {
                eprintln!("note: layer {} not on yet: {}", layer["rid"], layer);
            }
        }
        let mic = outbound.iter().find(|s| s["kind"] == "audio").unwrap();
        assert!(mic["packetsSent"].as_u64().unwrap() > 0);
    } else {
        assert_eq!(outbound, &Vec::<Value>::new());
    }
    // Received: 3 audio streams, and video where the fake sends it.
    let inbound = page["stats"]["inbound"].as_array().unwrap();
    let count = |kind: &str, progress: &str| {
        inbound
            .iter()
            .filter(|s| s["kind"] == kind && s[progress].as_u64().unwrap_or(0) > 0)
            .count()
    };
    assert_eq!(count("audio", "packetsReceived"), 3, "{inbound:?}");
    assert_eq!(
        count("video", "framesDecoded"),
        FAKE_VIDEO_SENT,
        "{inbound:?}"
    );

    // One layout request once JOINED: canvas 1 big, the rest thumbnails.
    let layout = fake_requests(page, "video-assignment");
    assert_eq!(layout.len(), 1, "{layout:?}");
    assert_eq!(layout[0]["requestId"], 1);
    let assignment = &layout[0]["setAssignment"];
    assert_eq!(
        assignment["maxVideoResolution"],
        json!({"height": 720, "width": 1280, "frameRate": 30})
    );
    let sizes: Vec<(u64, u64, u64)> = assignment["layoutModel"]["canvases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["relevant"], json!({}));
            let d = &c["dimensions"];
            (
                c["id"].as_u64().unwrap(),
                d["width"].as_u64().unwrap(),
                d["height"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(u64, u64, u64)> = (1..=canvases as u64)
        .map(|id| match id {
            1 => (1, 1280, 720),
            id => (id, 320, 180),
        })
        .collect();
    assert_eq!(sizes, expected);

    // Stats uploads: request ids 1, 2, … on media-stats; snake_case numbers, allowlist only.
    let uploads = fake_requests(page, "media-stats");
    assert!(uploads.len() >= 2, "{uploads:?}");
    for (n, upload) in uploads.iter().enumerate() {
        assert_eq!(upload["requestId"], json!(n + 1));
        for section in upload["uploadMediaStats"]["sections"].as_array().unwrap() {
            let (kind, values) = section
                .as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| *k != "id")
                .unwrap();
            let allowed: &[&str] = match kind.as_str() {
                "outbound_rtp" => &["ssrc", "packets_sent", "frames_encoded", "frame_width"],
                "inbound_rtp" => &["ssrc", "packets_received", "frames_decoded"],
                other => panic!("unexpected section {other}"),
            };
            for (key, value) in values.as_object().unwrap() {
                assert!(allowed.contains(&key.as_str()), "{key} in {section}");
                assert!(value.is_number(), "{key} in {section}");
            }
        }
    }
    let last = uploads.last().unwrap()["uploadMediaStats"]["sections"].to_string();
    assert!(last.contains("\"frames_decoded\""), "{last}");
    if audio_video_sent {
        assert!(last.contains("\"outbound_rtp\"") && last.contains("\"packets_sent\""));
    }
}

/// Video m-lines the fake Meet peer sends on, per client (tests/browser/fake-meet.js).
const FAKE_VIDEO_SENT: usize = 2;

/// A `pollUntil` for a joined page: two stats uploads answered, the mic and layer q sent,
/// 3 audio and [`FAKE_VIDEO_SENT`] video streams received.
fn all_flowing() -> String {
    format!(
        "tcn.messages.filter(m => m.channel === 'media-stats').length >= 3 \
         && stats.outbound.every(s => s.packetsSent > 0 || s.rid === 'h' || s.rid === 'f') \
         && stats.inbound.filter(s => s.kind === 'audio' && s.packetsReceived > 0).length === 3 \
         && stats.inbound.filter(s => s.kind === 'video' && s.framesDecoded > 0).length === {FAKE_VIDEO_SENT}"
    )
}

#[test]
fn chromium_pages_join_an_in_browser_fake_meet() {
    if !browser_available() {
        return;
    }
    in_loopback_netns(|| async {
        let started = Instant::now();
        let fx = Fixture::new().await; // serves the pages; the joins never reach it
        let base = fx.sim.url();
        let spec = DriverSpec::new(
            [
                format!("{base}/m/{CODE}?name=Alice&video=8"),
                format!("{base}/media-api/{CODE}?token=unused"),
            ],
            Duration::from_secs(20),
        )
        .with_fake_meet(1)
        .until(&all_flowing())
        .page_action(
            0,
            "tcn.sessionState === 'STATE_JOINED'",
            "tcn.request('x-chat', {sendMessage: {text: 'hello from Alice'}})",
        );
        // Read the snapshots as they come (a test could act on the simulator between them).
        let mut run = BrowserRun::start(&spec.polling(Duration::from_secs(1)));
        let mut polls = 0;
        while let Some(poll) = run.next_poll().await {
            assert_eq!(poll["pages"].as_array().unwrap().len(), 2);
            polls += 1;
        }
        let result = run.finish().await;
        assert!(polls >= 2, "{polls} snapshots");
        eprintln!(
            "Chromium {} with the fake Meet peer: pages done after {} ms, {} ms in all\n{}",
            result["browserVersion"],
            result["elapsedMs"],
            started.elapsed().as_millis(),
            summary(&result)
        );
        let alice = page(&result, "Alice");
        // 1000 + the order in which the fake answered the two pages.
        assert!(matches!(
            alice["tcn"]["participantId"].as_u64(),
            Some(1000 | 1001)
        ));
        assert_joined_page(alice, 8, true);
        assert_eq!(
            fake_requests(alice, "x-chat"),
            [&json!({"requestId": 1, "sendMessage": {"text": "hello from Alice"}})]
        );
        assert!(
            alice["actions"][0]["ranAtMs"].is_u64(),
            "{}",
            alice["actions"]
        );
        assert_joined_page(page(&result, "/media-api/"), 3, false);
    })
    .unwrap_or_default();
}
