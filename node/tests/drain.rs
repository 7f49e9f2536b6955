//! Draining with a programmatic shutdown: the drain timeout ends calls that outlive it.

mod common;

use std::time::{Duration, Instant};

use common::{get, test_config};
use node::Node;
use node::calls::CallOutcome;
use tokio::sync::oneshot;

#[tokio::test]
async fn drain_timeout_orders_remaining_calls_to_end() {
    let mut config = test_config();
    config.node.drain_timeout = Duration::from_millis(300);
    let node = Node::start(config).await.unwrap();
    let addr = node.admin_addr();
    let calls = node.calls();
    let mut licence = calls.admit().unwrap();
    // A call task that ignores everything but the node's order to end.
    let call = tokio::spawn(async move {
        licence.end_requested().await;
        licence.finish(CallOutcome::Completed);
        Instant::now()
    });

    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    assert_eq!(get(addr, "/readyz").await.unwrap().status, 200);
    let asked = Instant::now();
    stop.send(()).unwrap();

    let ended_at = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call was told to end")
        .unwrap();
    let waited = ended_at - asked;
    assert!(
        waited >= Duration::from_millis(300),
        "ended after {waited:?}, before the timeout"
    );
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("node stopped")
        .unwrap()
        .unwrap();
    assert_eq!(calls.active(), 0);
}

#[tokio::test]
async fn an_idle_node_stops_at_once() {
    let node = Node::start(test_config()).await.unwrap(); // drain_timeout 10s
    let running = tokio::spawn(node.run_until(async {}));
    tokio::time::timeout(Duration::from_secs(3), running)
        .await
        .expect("no calls: no waiting for the drain timeout")
        .unwrap()
        .unwrap();
}
