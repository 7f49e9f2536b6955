//! A node on its defaults with meet-sim embedded (the demo meeting, its trusted token and
//! rule), and the simulator's control API as the tests use it.

use std::net::SocketAddr;

use node::Node;
use node::config::Config;
use serde_json::Value;

use super::{get, post};

/// A running node and its embedded demo meeting.
pub struct Demo {
    pub admin: SocketAddr,
    pub sip: SocketAddr,
    pub sim: SocketAddr,
    /// The space id (without `spaces/`).
    pub space: String,
    pub long_id: String,
    pub meeting_code: String,
    /// Stops the node (as SIGTERM does: drain, then end what is left).
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<Result<(), node::error::StartError>>>>,
}

impl Demo {
    /// Starts a node with `media_base..=media_base + 99` as its media range and `extra` TOML
    /// appended (e.g. a `[sip]` key), with meet-sim embedded.
    pub async fn start(media_base: u16, sip_extra: &str) -> Self {
        Self::start_with(media_base, sip_extra, |_| {}).await
    }

    /// [`Demo::start`], with `tweak` applied to the configuration before the node starts
    /// (for settings outside `[sip]`).
    pub async fn start_with(
        media_base: u16,
        sip_extra: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "off".into()))
            .with_test_writer()
            .try_init();
        let mut config = Config::from_toml_str(&format!(
            "[admin]\nlisten = \"127.0.0.1:0\"\n\
             [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n{sip_extra}\n\
             [media]\nport_range = [{media_base}, {}]\n",
            media_base + 99
        ))
        .unwrap();
        tweak(&mut config);
        let node = Node::start(config).await.expect("node starts");
        let admin = node.admin_addr();
        let sip = node.sip_udp_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(node.run_until(async {
            let _ = stopped.await;
        }));
        let status: Value =
            serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap();
        let backend = &status["meet"]["backend"];
        assert_eq!(backend["kind"], "embedded_sim", "{status:#}");
        let url = backend["url"].as_str().unwrap();
        Self {
            admin,
            sip,
            sim: url.trim_start_matches("http://").parse().unwrap(),
            space: backend["demo"]["space"]
                .as_str()
                .unwrap()
                .trim_start_matches("spaces/")
                .to_owned(),
            long_id: backend["demo"]["long_id"].as_str().unwrap().to_owned(),
            meeting_code: backend["demo"]["meeting_code"].as_str().unwrap().to_owned(),
            stop: std::sync::Mutex::new(Some(stop)),
            running: std::sync::Mutex::new(Some(running)),
        }
    }

    /// Asks the node to stop (the drain begins) and returns at once.
    pub fn begin_stop(&self) {
        if let Some(stop) = self.stop.lock().unwrap().take() {
            let _ = stop.send(());
        }
    }

    /// Waits up to `limit` for the node to have stopped; whether it did.
    pub async fn stopped_within(&self, limit: std::time::Duration) -> bool {
        let Some(running) = self.running.lock().unwrap().take() else {
            return true;
        };
        matches!(tokio::time::timeout(limit, running).await, Ok(Ok(Ok(()))))
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        let response = get(self.sim, path).await.unwrap();
        serde_json::from_str(&response.body).unwrap_or(Value::Null)
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = post(self.sim, path, &body.to_string()).await.unwrap();
        (
            response.status,
            serde_json::from_str(&response.body).unwrap_or(Value::Null),
        )
    }

    /// The gateway participants of the demo meeting, in `state` or (`None`) any state but
    /// disconnected.
    pub async fn gateways(&self, state: Option<&str>) -> Vec<Value> {
        let list = self
            .sim_get(&format!("/sim/spaces/{}/participants", self.space))
            .await;
        list["participants"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p["kind"] == "gateway")
            .filter(|p| match state {
                Some(state) => p["state"] == state,
                None => p["state"] != "STATE_DISCONNECTED",
            })
            .collect()
    }

    /// The sim's media report of participant `pid`.
    pub async fn media(&self, pid: i64) -> Value {
        self.sim_get(&format!(
            "/sim/spaces/{}/participants/{pid}/media",
            self.space
        ))
        .await["media"]
            .clone()
    }

    /// Frames Meet has received on layer `rid` from gateway participant `pid` (0 before any).
    pub async fn layer_frames(&self, pid: i64, rid: &str) -> u64 {
        self.media(pid).await["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rid"] == rid)
            .and_then(|l| l["frames"].as_u64())
            .unwrap_or(0)
    }

    /// The sim's events of type `kind`.
    pub async fn events(&self, kind: &str) -> Vec<Value> {
        self.sim_get("/sim/events").await["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }

    /// The node's metrics text.
    pub async fn metrics(&self) -> String {
        get(self.admin, "/metrics").await.unwrap().body
    }
}
