//! The admin API of a node started in-process, over real loopback HTTP.

mod common;

use common::{get, metric, test_config};
use node::Node;
use tokio::sync::oneshot;

const REQUIRED_METRICS: [&str; 9] = [
    "tcn_build_info",
    "tcn_up",
    "tcn_calls_active",
    "tcn_calls_total",
    "tcn_media_ports_in_use",
    "tcn_media_ports_total",
    "tcn_load_ratio",
    "tcn_gpu_present",
    "tcn_config_reloads_total",
];

#[tokio::test]
async fn endpoints_answer_and_follow_the_node_state() {
    let node = Node::start(test_config()).await.unwrap();
    let addr = node.admin_addr();
    assert_ne!(addr.port(), 0);
    let calls = node.calls();
    let ports = node.media_ports();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));

    let health = get(addr, "/healthz").await.unwrap();
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    assert_eq!(get(addr, "/readyz").await.unwrap().status, 200);
    assert_eq!(get(addr, "/nope").await.unwrap().status, 404);

    let metrics = get(addr, "/metrics").await.unwrap();
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.unwrap().starts_with("text/plain"));
    for name in REQUIRED_METRICS {
        assert!(
            metrics.body.lines().any(|l| l.starts_with(name)),
            "{name} missing from /metrics"
        );
    }
    let text = &metrics.body;
    assert_eq!(metric(text, "tcn_up"), Some(1.0));
    assert_eq!(metric(text, "tcn_calls_active"), Some(0.0));
    assert_eq!(metric(text, "tcn_media_ports_total"), Some(10_000.0));
    assert_eq!(
        metric(text, "tcn_config_reloads_total{result=\"rejected\"}"),
        Some(0.0)
    );
    assert_eq!(metric(text, "tcn_gpu_present"), Some(0.0)); // no GPU on CI or dev machines

    // One admitted call with a media port pair shows up everywhere.
    let licence = calls.admit().unwrap();
    let pair = ports.allocate().unwrap();
    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(metric(&text, "tcn_calls_active"), Some(1.0));
    assert_eq!(metric(&text, "tcn_media_ports_in_use"), Some(2.0));
    let load = metric(&text, "tcn_load_ratio").unwrap();
    assert!((load - 1.0 / 3.0).abs() < 1e-9, "load {load}");

    let status = get(addr, "/status").await.unwrap();
    assert_eq!(status.status, 200);
    assert_eq!(status.content_type.as_deref(), Some("application/json"));
    let json: serde_json::Value = serde_json::from_str(&status.body).expect("valid JSON");
    assert_eq!(json["node"], "test-node");
    assert_eq!(json["ready"], true);
    assert_eq!(json["capacity"]["max_calls"], 3);
    assert_eq!(json["capacity"]["limited_by"], "configured");
    assert_eq!(json["calls"].as_array().unwrap().len(), 1);
    assert_eq!(json["calls"][0]["id"], licence.id());
    assert_eq!(json["media_ports"]["in_use"], 2);
    assert_eq!(json["alarms"].as_array().unwrap().len(), 0);
    let caps = &json["capabilities"];
    assert!(
        caps["media"]["gstreamer_version"]
            .as_str()
            .unwrap()
            .starts_with("GStreamer 1.")
    );
    let elements = caps["media"]["elements"].as_array().unwrap();
    assert!(
        elements
            .iter()
            .any(|e| e["name"] == "webrtcbin" && e["available"] == true)
    );
    assert_eq!(caps["video_path"], "cpu");
    assert_eq!(caps["gpu"]["devices"].as_array().unwrap().len(), 0);

    // Filling every slot raises the capacity alarm; a refused call is counted.
    let _second = calls.admit().unwrap();
    let _third = calls.admit().unwrap();
    assert!(calls.admit().is_err());
    let json: serde_json::Value =
        serde_json::from_str(&get(addr, "/status").await.unwrap().body).unwrap();
    assert_eq!(json["alarms"][0]["kind"], "capacity_reached");
    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_alarm_active{alarm=\"capacity_reached\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"rejected\"}"),
        Some(1.0)
    );

    licence.finish(node::calls::CallOutcome::Completed);
    drop(pair);
    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(metric(&text, "tcn_calls_active"), Some(2.0));
    assert_eq!(metric(&text, "tcn_media_ports_in_use"), Some(0.0));
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"completed\"}"),
        Some(1.0)
    );

    stop.send(()).unwrap();
    drop((_second, _third));
    running.await.unwrap().unwrap();
    assert!(
        get(addr, "/healthz").await.is_err(),
        "admin API closed after stop"
    );
}

#[tokio::test]
async fn a_busy_admin_port_is_a_clear_start_error() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = test_config();
    config.admin.listen = holder.local_addr().unwrap();
    let err = Node::start(config).await.unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string().starts_with("cannot listen on 127.0.0.1:"),
        "{err}"
    );
    assert!(err.to_string().contains("admin.listen"), "{err}");
}
