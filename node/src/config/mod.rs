//! The node's configuration: one TOML file, typed, with every field's default documented here
//! and in `deploy/examples/node.toml` (the complete, commented reference).
//!
//! Loading is "parse, don't validate": [`Config::load`] and [`Config::from_toml_str`] are the
//! only ways to build a `Config` from text, and they return either a value that passed every
//! check in [`validate`] or a [`ConfigError`] naming the key path and the reason. Running with
//! no file uses [`Config::default`].

mod error;
mod load;
mod meet;
mod port_range;
mod validate;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use meet::{AccessTokenConfig, GatewayAlgorithm, MeetConfig, Secret};
pub use port_range::PortRange;
pub use validate::compile_routing;
pub use validate::{MAX_DRAIN_TIMEOUT, MIN_MEDIA_PORTS, MIN_SIGNALING_PORTS};

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[node]`: identity and lifecycle.
    pub node: NodeConfig,
    /// `[admin]`: the admin HTTP API (metrics, status, health).
    pub admin: AdminConfig,
    /// `[log]`: log format and verbosity.
    pub log: LogConfig,
    /// `[sip]`: SIP listeners.
    pub sip: SipConfig,
    /// `[media]`: RTP/RTCP and ICE ports.
    pub media: MediaConfig,
    /// `[signaling]`: ports for outbound signalling connections.
    pub signaling: SignalingConfig,
    /// `[capacity]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CapacityConfig {
    /// Most concurrent calls. Default `0`: derived from the CPU cores and media ports of this
    /// host and `cpu_cores_per_call` (see `node::capacity`). A call beyond it is refused
    /// (503 with `Retry-After`) and the node reports itself full to load balancers.
    pub max_calls: u32,
    /// The pool of call licences. A gateway call into Meet holds 2 while it runs, one per leg
    /// (the room system's and Meet's); a SIP-to-SIP call 2; a test call 1. A call the pool
    /// cannot cover is refused with 503 and `Retry-After`, counted as
    /// `tcn_calls_total{outcome="no_license"}`. Default `0`: no licence limit (the node is
    /// bounded by `max_calls` and its CPU only). 1 is refused: it could never carry a call
    /// into Meet.
    pub licenses: u32,
    /// CPU cores one gateway call into Meet is counted as using. A gateway call is refused
    /// when the gateway calls already running plus this one would need more cores than the
    /// host has (at least one call is always allowed). Default `0.67`, the planning figure
    /// for a 720p30 call both ways on the CPU path (`node::capacity`), until the `bench`
    /// crate measures the host; `0` turns the CPU check off. At most 64.
    pub cpu_cores_per_call: f64,
    /// The `Retry-After` of a 503 sent while the node is full (licences, CPU or
    /// `max_calls`), in calls and in answers to OPTIONS. Default `30s`; whole seconds from
    /// `1s` to `1h`.
    #[serde(with = "routing::duration")]
    pub retry_after: Duration,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            max_calls: 0,
            licenses: 0,
            cpu_cores_per_call: crate::capacity::CPU_CORES_PER_CALL,
            retry_after: Duration::from_secs(30),
        }
    }
}
