//! The operator files in deploy/ only name metrics that a running node exports.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{get, test_config};
use node::Node;

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

    let node = Node::start(test_config()).await.unwrap();
    let addr = node.admin_addr();
    let running = tokio::spawn(node.run_until(std::future::pending()));
    let exported = get(addr, "/metrics").await.unwrap().body;
    running.abort();
    let exported: BTreeSet<String> = exported
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported by the node: {unknown:?}");
}
