//! The operator files in deploy/ only name metrics that a running node exports, and cover
//! the Live View's series (calls by state, licences, call setup time, per-stream figures).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use common::{get, test_config};
use node::Node;
use node::calls::{CallDetail, CallKind, StreamStats};

fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("tcn_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[tokio::test]
async fn dashboard_and_alerts_use_exported_metrics() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let dashboard = std::fs::read_to_string(deploy.join("grafana/tcn-dashboard.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&dashboard).expect("valid JSON");
    let exprs: Vec<String> = json["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    let alerts = std::fs::read_to_string(deploy.join("prometheus/tcn-alerts.yml")).unwrap();
    let mut used = metric_names(&exprs.join("\n"));
    used.extend(metric_names(&alerts));
    assert!(used.len() >= 8, "{used:?}");
    for live in [
        "tcn_calls_active",
        "tcn_licenses_in_use",
        "tcn_licenses_total",
        "tcn_full",
        "tcn_call_setup_seconds_bucket",
        "tcn_stream_bitrate_bps",
        "tcn_stream_loss_ratio",
        "tcn_stream_jitter_seconds",
    ] {
        assert!(used.contains(live), "deploy/ does not use {live}");
    }

    let node = Node::start(test_config()).await.unwrap();
    let addr = node.admin_addr();
    // A call with a stream, so that the per-call series exist.
    let detail = Arc::new(CallDetail {
        streams: vec![StreamStats::new("video", 40_000)],
        ..CallDetail::default()
    });
    detail.streams[0].set_rtp(node::rtp::StreamFigures::default());
    let call = node
        .calls()
        .admit_with(CallKind::Gateway, Some(detail))
        .unwrap();
    let running = tokio::spawn(node.run_until(std::future::pending()));
    let exported = get(addr, "/metrics").await.unwrap().body;
    running.abort();
    drop(call);
    let families: Vec<(String, String)> = exported
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.to_owned()))
        .collect();
    // A histogram's series are its name with `_bucket`, `_sum` and `_count`.
    let mut exported = BTreeSet::new();
    for (name, kind) in families {
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                exported.insert(format!("{name}{suffix}"));
            }
        }
        exported.insert(name);
    }
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported by the node: {unknown:?}");
}
