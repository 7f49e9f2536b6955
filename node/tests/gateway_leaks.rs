//! Nothing is lost (issue 12, point 8): after 10 sequential and 3 concurrent gateway calls,
//! the node holds no ports, licences, media graphs or extra tasks, its thread count is back
//! where it was, and its resident memory is within 10 % of the baseline taken after two
//! warm-up rounds of the same calls (which load GStreamer's plugins, start its shared threads
//! and bring the allocator to its high-water mark).

mod common;

use std::time::{Duration, Instant};

use common::demo::Demo;
use common::{eventually, metric};
use node::demo::vtc::{Vtc, VtcOptions};

/// A room system (the synthetic VTC: real H.264 and G.711 over RTP) in a call to the demo
/// meeting.
struct Call(Vtc);

impl Call {
    async fn dial(demo: &Demo) -> Self {
        let (sip, long_id) = (demo.sip, demo.long_id.clone());
        let options = VtcOptions {
            size: (320, 180, 15),
            ..VtcOptions::default()
        };
        let vtc = tokio::task::spawn_blocking(move || Vtc::call_with(sip, &long_id, &options))
            .await
            .unwrap()
            .expect("the call is answered");
        Self(vtc)
    }

    async fn hang_up(self) {
        let mut vtc = self.0;
        let status = tokio::task::spawn_blocking(move || vtc.hang_up())
            .await
            .unwrap();
        assert_eq!(status, Ok(200), "BYE answered");
    }
}

/// The node's figures that must come back: (ports, calls, media graphs, tasks, threads, RSS).
async fn figures(demo: &Demo) -> [f64; 6] {
    let text = demo.metrics().await;
    let read = |name: &str| metric(&text, name).unwrap_or_else(|| panic!("{name} missing"));
    [
        read("tcn_media_ports_in_use"),
        read("tcn_calls_active"),
        read("tcn_media_graphs_active"),
        read("tcn_runtime_tasks_alive"),
        read("tcn_process_threads"),
        read("tcn_process_resident_bytes"),
    ]
}

async fn idle(demo: &Demo) -> bool {
    eventually(Duration::from_secs(15), || async {
        let [ports, calls, graphs, ..] = figures(demo).await;
        ports == 0.0 && calls == 0.0 && graphs == 0.0
    })
    .await
}

/// Holds `calls` until Meet has received video frames from each of them.
async fn until_media(demo: &Demo, expected: usize) {
    let flowing = eventually(Duration::from_secs(20), || async {
        let gateways = demo.gateways(Some("STATE_JOINED")).await;
        let mut flowing = 0;
        for gateway in &gateways {
            let pid = gateway["participantId"].as_i64().unwrap_or_default();
            if demo.layer_frames(pid, "h").await > 0 {
                flowing += 1;
            }
        }
        flowing == expected
    })
    .await;
    assert!(flowing, "Meet receives the layers of {expected} call(s)");
}

/// The figures once the node has settled: idle, and its thread count unchanged for 3 s
/// (GLib's thread pools let idle threads go after 15 s), within 40 s. The process (node,
/// embedded sim and this test's room systems) hands back the memory its allocator holds free
/// first, so that RSS counts what is still allocated: the room systems' pipelines are freed
/// after the node's last trim.
async fn settled(demo: &Demo) -> [f64; 6] {
    assert!(idle(demo).await, "{:?}", figures(demo).await);
    pipelines::memory::release_free_memory();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut last = figures(demo).await;
    let mut since = Instant::now();
    while Instant::now() < deadline && since.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = figures(demo).await;
        if now[4] != last[4] {
            since = Instant::now();
        }
        last = now;
    }
    last
}

/// 10 sequential calls, then 3 at once.
async fn round(demo: &Demo) {
    for n in 0..10 {
        let call = Call::dial(demo).await;
        until_media(demo, 1).await;
        call.hang_up().await;
        assert!(idle(demo).await, "call {n}: {:?}", figures(demo).await);
    }
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(Call::dial(demo).await);
    }
    until_media(demo, 3).await;
    for call in calls {
        call.hang_up().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirteen_calls_leave_nothing_behind() {
    // Three calls at once: more than this 2-core machine's derived capacity.
    let demo = Demo::start_with(24_700, "", |config| {
        config.capacity.max_calls = 3;
        config.capacity.cpu_cores_per_call = 0.0;
    })
    .await;
    // The warm-up: two rounds of the same calls load every plugin, start GStreamer's shared
    // threads and bring the allocator's heaps to their high-water mark (measured: RSS rises
    // over the first 26 calls, then stays within a few per cent round after round).
    for _ in 0..2 {
        round(&demo).await;
    }
    let [_, _, _, tasks, threads, rss] = settled(&demo).await;
    eprintln!(
        "baseline: {tasks} tasks, {threads} threads, {:.1} MB RSS",
        rss / 1e6
    );

    let started = Instant::now();
    round(&demo).await;
    eprintln!("13 calls in {:?}", started.elapsed());
    let after = settled(&demo).await;
    let [ports, calls_active, graphs, tasks_now, threads_now, rss_now] = after;
    eprintln!(
        "after: {tasks_now} tasks, {threads_now} threads, {:.1} MB RSS ({:+.1} %)",
        rss_now / 1e6,
        (rss_now / rss - 1.0) * 100.0
    );
    assert_eq!((ports, calls_active, graphs), (0.0, 0.0, 0.0));
    assert!(
        tasks_now <= tasks,
        "tasks: {tasks} before, {tasks_now} after"
    );
    assert!(
        threads_now <= threads,
        "threads: {threads} before, {threads_now} after"
    );
    assert!(
        rss_now <= rss * 1.10,
        "RSS: {rss} B before, {rss_now} B after"
    );
}
