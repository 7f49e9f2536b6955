//! SIGTERM drains the node: /readyz turns 503, new calls are refused, the node waits for the
//! active call and then stops cleanly. Alone in its test binary because the signal goes to the
//! whole process.

mod common;

use std::time::Duration;

use common::{eventually, get, metric, test_config};
use node::Node;
use node::calls::{AdmissionError, CallOutcome};

#[tokio::test]
async fn sigterm_drains_then_exits_cleanly() {
    let shutdown = node::signals::terminate().unwrap();
    let node = Node::start(test_config()).await.unwrap();
    let addr = node.admin_addr();
    let calls = node.calls();
    let licence = calls.admit().unwrap();
    let running = tokio::spawn(node.run_until(shutdown));
    assert_eq!(get(addr, "/readyz").await.unwrap().status, 200);

    assert_eq!(unsafe_kill(libc::SIGTERM), 0);

    assert!(
        eventually(Duration::from_secs(5), || async {
            get(addr, "/readyz").await.is_ok_and(|r| r.status == 503)
        })
        .await,
        "readyz never turned 503"
    );
    let readyz = get(addr, "/readyz").await.unwrap();
    assert_eq!(readyz.body, "draining\n");
    assert_eq!(
        get(addr, "/healthz").await.unwrap().status,
        200,
        "alive while draining"
    );
    assert_eq!(calls.admit().unwrap_err(), AdmissionError::Draining);
    let status: serde_json::Value =
        serde_json::from_str(&get(addr, "/status").await.unwrap().body).unwrap();
    assert_eq!(status["ready"], false);
    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"rejected\"}"),
        Some(1.0)
    );
    assert_eq!(metric(&text, "tcn_ready"), Some(0.0));

    // The node is still waiting for the call (drain_timeout is 10 s).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!running.is_finished());

    licence.finish(CallOutcome::Completed);
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("node stops once the last call ends")
        .unwrap()
        .expect("clean exit");
    assert!(get(addr, "/healthz").await.is_err(), "admin API closed");
}

fn unsafe_kill(signal: i32) -> i32 {
    // SAFETY: getpid has no preconditions; kill with our own pid delivers a signal for which
    // tokio has installed a handler (terminate() above), so the process is not terminated.
    unsafe { libc::kill(libc::getpid(), signal) }
}
