//! Media both ways through a gateway call, with headless Chromium as the Meet participants.
//!
//! Two meet-sim participant pages in synthetic mode (`/m/{code}?color=&tone=`: a solid-colour
//! canvas and a 440 Hz oscillator instead of the fake devices, VP8 simulcast and Opus as
//! usual) and a room system (a SIP caller sending SMPTE bars and a 1 kHz tone as H.264 +
//! G.711, and decoding what it gets back). The room system's 1+7 composite shows each page's
//! colour in the tile the gateway's video assignment gives it; a page decodes the gateway's
//! video at 1280×720 and sees the bars; each page hears the room system's 1 kHz (FFT of a
//! received stream in the page) and that stream's `totalAudioEnergy` rises; the room system
//! hears 440 Hz.
//!
//! Runs in a loopback-only network namespace (root; see meet-sim/tests/browser_support.rs),
//! node included; without root, Chromium or the driver's packages it prints a notice and
//! passes, except under `CI`.

mod common;

#[path = "../../meet-sim/tests/browser_support.rs"]
mod browser_support;

use std::io::Write;
use std::time::Duration;

use browser_support::{BrowserRun, DriverSpec, browser_available, in_loopback_netns, summary};
use common::demo::Demo;
use common::eventually;
use kernels::frame::I420Frame;
use kernels::frame::Yuv;
use node::demo::run::{tile_centre, yuv};
use node::demo::vtc::Vtc;
use pipelines::peers::{PROBE_RATE, Pattern, dominant_frequency};
use serde_json::{Value, json};
use tokio::sync::watch;

const RED: u32 = 0xdd_2222;
const BLUE: u32 = 0x22_22dd;

/// Straight to the file descriptor: libtest hides the output of passing tests.
fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "gateway_browser: {text}");
}

fn save(frame: &I420Frame, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gateway-browser");
    std::fs::create_dir_all(&dir).unwrap();
    frame.write_png(dir.join(name)).unwrap();
}

/// `RRGGBB` as `[r, g, b]`.
fn rgb(hex: &str) -> Option<[u8; 3]> {
    let n = u32::from_str_radix(hex, 16).ok()?;
    let [_, r, g, b] = n.to_be_bytes();
    Some([r, g, b])
}

/// Distinct colours (±40 per channel) among `row` (`RRGGBB` strings).
fn distinct(row: &[Value]) -> usize {
    let mut seen: Vec<[u8; 3]> = Vec::new();
    for c in row.iter().filter_map(|v| rgb(v.as_str()?)) {
        let near = |s: &[u8; 3]| s.iter().zip(c).all(|(a, b)| a.abs_diff(b) <= 40);
        if !seen.iter().any(near) {
            seen.push(c);
        }
    }
    seen.len()
}

/// The page's received videos (`stats.probe.videos`).
fn videos(page: &Value) -> Vec<Value> {
    page["stats"]["probe"]["videos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The largest received video of `page` that shows the bars: `(width, height, distinct)`.
fn bars_seen(page: &Value) -> Option<(u64, u64, usize)> {
    videos(page)
        .iter()
        .map(|v| {
            let row = v["row"].as_array().cloned().unwrap_or_default();
            (
                v["width"].as_u64().unwrap_or(0),
                v["height"].as_u64().unwrap_or(0),
                distinct(&row),
            )
        })
        .max_by_key(|&(w, _, d)| (w, d))
}

/// `totalAudioEnergy` and `audioLevel` of `page`'s received audio stream `mid` (0 when absent).
fn audio_energy(page: &Value, mid: &str) -> (f64, f64) {
    page["stats"]["inbound"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["kind"] == "audio" && s["mid"] == mid)
        .map_or((0.0, 0.0), |s| {
            (
                s["totalAudioEnergy"].as_f64().unwrap_or(0.0),
                s["audioLevel"].as_f64().unwrap_or(0.0),
            )
        })
}

/// The mids of `page`'s received audio streams whose spectrum peaks at `hz` (±10 Hz) above
/// -60 dBFS.
fn hears_tone(page: &Value, hz: f64) -> Vec<String> {
    page["stats"]["probe"]["audio"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| {
            a["peakHz"].as_f64().is_some_and(|f| (f - hz).abs() <= 10.0)
                && a["peakDb"].as_f64().is_some_and(|db| db > -60.0)
        })
        .filter_map(|a| a["mid"].as_str().map(str::to_owned))
        .collect()
}

/// Waits up to `limit` for a snapshot of the pages for which `check` holds; the last one.
async fn pages_until(
    polls: &mut watch::Receiver<Value>,
    limit: Duration,
    check: impl Fn(&[Value]) -> bool,
) -> (bool, Value) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let snapshot = polls.borrow_and_update().clone();
        let pages = snapshot["pages"].as_array().cloned().unwrap_or_default();
        if !pages.is_empty() && check(&pages) {
            return (true, snapshot);
        }
        if tokio::time::timeout_at(deadline, polls.changed())
            .await
            .is_err()
        {
            return (false, snapshot);
        }
    }
}

/// Whether `seen` is `want`: luma ±24, chroma ±16. Chromium converts the canvas's RGB with
/// BT.709 weights where `yuv` uses BT.601, which darkens saturated red and blue by 15–20.
fn matches(seen: Yuv, want: Yuv) -> bool {
    let d = |a: u8, b: u8| a.abs_diff(b);
    d(seen.y, want.y) <= 24 && d(seen.u, want.u) <= 16 && d(seen.v, want.v) <= 16
}

/// For each `(pid, colour)`: the tile `tiles` gives it, the colour at that tile's centre in
/// `frame`, and whether it [`matches`] the participant's colour.
fn check_tiles(
    frame: &I420Frame,
    tiles: &[(usize, i64)],
    colours: &[(i64, u32)],
) -> Vec<(Option<usize>, Option<Yuv>, bool)> {
    colours
        .iter()
        .map(|&(pid, colour)| {
            let tile = tiles.iter().find(|(_, s)| *s == pid).map(|(t, _)| *t);
            let seen = tile.and_then(|t| tile_centre(frame, t));
            (tile, seen, seen.is_some_and(|c| matches(c, yuv(colour))))
        })
        .collect()
}

/// The tiles of `gateway`'s composite, from its latest video assignment:
/// `(tile, source participant)`.
async fn tiles(demo: &Demo, gateway: i64) -> Vec<(usize, i64)> {
    demo.events("video_assigned")
        .await
        .iter()
        .rev()
        .find(|e| e["participantId"].as_i64() == Some(gateway))
        .and_then(|e| e["canvases"].as_array().cloned())
        .map(|canvases| {
            canvases
                .iter()
                .filter_map(|c| {
                    let canvas = usize::try_from(c[0].as_i64()?).ok()?;
                    let source = c[1].as_i64().filter(|&s| s != 0)?;
                    Some((canvas.checked_sub(1)?, source))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn chromium_pages_and_a_room_system_exchange_video_and_audio_through_the_gateway() {
    if !browser_available() {
        return;
    }
    in_loopback_netns(|| async { run().await });
}

async fn run() {
    let demo = Demo::start(28_800, "").await;
    let page_url = |name: &str, colour: u32| {
        format!(
            "http://{}/m/{}?name={name}&color={colour:06x}&tone=440",
            demo.sim, demo.meeting_code
        )
    };
    let spec = DriverSpec::new(
        [page_url("Red", RED), page_url("Blue", BLUE)],
        Duration::from_secs(400),
    )
    .polling(Duration::from_secs(1));
    // The driver's snapshots, one a second, read as they come (so its stdout never fills).
    let (tx, mut polls) = watch::channel(Value::Null);
    let mut browser = BrowserRun::start(&spec);
    let reader = tokio::spawn(async move {
        while let Some(poll) = browser.next_poll().await {
            let _ = tx.send(poll);
        }
        browser.finish().await
    });

    // Both pages joined and sending.
    let (joined, snapshot) = pages_until(&mut polls, Duration::from_secs(120), |pages| {
        pages.iter().all(|p| {
            p["tcn"]["sessionState"] == "STATE_JOINED"
                && p["stats"]["outbound"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|s| s["packetsSent"].as_u64() > Some(50)))
        })
    })
    .await;
    assert!(
        joined,
        "the pages did not join and send: {}",
        summary(&snapshot)
    );
    let pids: Vec<i64> = snapshot["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["tcn"]["participantId"]
                .as_i64()
                .expect("a participant id")
        })
        .collect();
    let (red, blue) = (pids[0], pids[1]);
    note(&format!("pages joined: Red {red}, Blue {blue}"));

    let (sip, long_id) = (demo.sip, demo.long_id.clone());
    let vtc = tokio::task::spawn_blocking(move || {
        Vtc::call(
            sip,
            &long_id,
            Pattern::Bars,
            1000.0,
            Duration::from_secs(60),
        )
        .unwrap()
    })
    .await
    .unwrap();
    assert!(
        eventually(Duration::from_secs(30), || async {
            !demo.gateways(Some("STATE_JOINED")).await.is_empty()
        })
        .await,
        "the gateway did not join"
    );
    let gateway = demo.gateways(Some("STATE_JOINED")).await[0]["participantId"]
        .as_i64()
        .unwrap();
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setActiveSpeaker", demo.space),
            json!({"participantId": gateway}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    note(&format!("the room system is in the meeting as {gateway}"));

    // The room system's composite: each page's colour in the tile its assignment gives it,
    // both in the main tile and the first thumbnail.
    let colours = [(red, RED), (blue, BLUE)];
    let composite_ok = eventually(Duration::from_secs(90), || async {
        let assigned = tiles(&demo, gateway).await;
        vtc.video().latest().is_some_and(|f| {
            let checks = check_tiles(&f, &assigned, &colours);
            checks
                .iter()
                .all(|(tile, _, ok)| *ok && matches!(tile, Some(0 | 1)))
        })
    })
    .await;
    let assigned = tiles(&demo, gateway).await;
    let composite = vtc
        .video()
        .latest()
        .expect("the room system decodes the composite");
    save(&composite, "vtc-view.png");
    let checks = check_tiles(&composite, &assigned, &colours);
    note(&format!(
        "room system sees {}x{}; tiles {assigned:?}; (tile, colour, ok) for Red, Blue: {checks:?}; \
         tile centres 0 {:?} 1 {:?}",
        composite.width(),
        composite.height(),
        tile_centre(&composite, 0),
        tile_centre(&composite, 1),
    ));
    assert!(
        composite_ok,
        "the room system's tiles: {checks:?} (assignment {assigned:?})"
    );
    assert_eq!((composite.width(), composite.height()), (1280, 720));

    // The active speaker moves to the page not in the main tile: it takes the main tile.
    let main_pid = tiles(&demo, gateway)
        .await
        .iter()
        .find(|(t, _)| *t == 0)
        .map(|(_, pid)| *pid);
    let (other, other_colour) = if main_pid == Some(red) {
        (blue, BLUE)
    } else {
        (red, RED)
    };
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setActiveSpeaker", demo.space),
            json!({"participantId": other}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    let moved = eventually(Duration::from_secs(60), || async {
        vtc.video()
            .latest()
            .is_some_and(|f| tile_centre(&f, 0).is_some_and(|c| matches(c, yuv(other_colour))))
    })
    .await;
    let after = vtc.video().latest().unwrap();
    save(&after, "vtc-view-speaker-moved.png");
    note(&format!(
        "{other} speaks: main tile {:?}",
        tile_centre(&after, 0)
    ));
    assert!(
        moved,
        "main tile {:?}, want {other_colour:06x}",
        tile_centre(&after, 0)
    );
    let (status, body) = demo
        .sim_post(
            &format!("/sim/spaces/{}:setActiveSpeaker", demo.space),
            json!({"participantId": gateway}),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");

    // A page decodes the gateway's video at 1280×720 and sees the bars.
    let (bars, snapshot) = pages_until(&mut polls, Duration::from_secs(90), |pages| {
        pages
            .iter()
            .any(|p| bars_seen(p).is_some_and(|(w, h, d)| (w, h) == (1280, 720) && d >= 5))
    })
    .await;
    let pages = snapshot["pages"].as_array().cloned().unwrap_or_default();
    let seen: Vec<_> = pages.iter().map(bars_seen).collect();
    note(&format!(
        "pages see (width, height, distinct colours): {seen:?}; videos {:?}",
        pages.iter().map(videos).collect::<Vec<_>>()
    ));
    assert!(bars, "no page sees the bars at 1280x720: {seen:?}");

    // Every page hears the room system's 1 kHz in one of its received audio streams (the
    // other page's 440 Hz is in another), and that stream's energy rises as it plays.
    let (hears, snapshot) = pages_until(&mut polls, Duration::from_secs(60), |now| {
        now.iter().all(|p| !hears_tone(p, 1000.0).is_empty())
    })
    .await;
    let pages = snapshot["pages"].as_array().cloned().unwrap_or_default();
    let heard: Vec<Value> = pages
        .iter()
        .map(|p| p["stats"]["probe"]["audio"].clone())
        .collect();
    note(&format!(
        "pages' received audio (mid, peak Hz, peak dBFS): {heard:?}"
    ));
    assert!(hears, "not every page hears 1 kHz: {heard:?}");
    let mids: Vec<String> = pages
        .iter()
        .map(|p| hears_tone(p, 1000.0)[0].clone())
        .collect();
    let before: Vec<(f64, f64)> = pages
        .iter()
        .zip(&mids)
        .map(|(p, mid)| audio_energy(p, mid))
        .collect();
    let (loud, snapshot) = pages_until(&mut polls, Duration::from_secs(60), |now| {
        now.iter()
            .zip(&mids)
            .zip(&before)
            .all(|((p, mid), (e0, _))| {
                let (energy, level) = audio_energy(p, mid);
                energy > e0 + 0.01 && level > 0.01
            })
    })
    .await;
    let after: Vec<(f64, f64)> = snapshot["pages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .zip(&mids)
        .map(|(p, mid)| audio_energy(p, mid))
        .collect();
    note(&format!(
        "pages' 1 kHz streams {mids:?} (total energy, level): before {before:?}, after {after:?}"
    ));
    assert!(
        loud,
        "the 1 kHz streams {mids:?} gain no energy: {before:?} → {after:?}"
    );

    // The room system hears the pages' 440 Hz.
    let vtc_hears = eventually(Duration::from_secs(60), || async {
        let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
        (freq - 440.0).abs() <= 10.0 && share > 0.5
    })
    .await;
    let (freq, share) = dominant_frequency(&vtc.audio_samples(), PROBE_RATE);
    note(&format!(
        "room system hears {freq:.1} Hz (share {share:.2})"
    ));
    assert!(vtc_hears, "the room system hears {freq} Hz ({share:.2})");

    drop(vtc);
    reader.abort();
}
