//! The tcn node process: runtime, configuration, admin API, lifecycle.
//!
//! `node` is the only crate that owns a runtime, sockets, files, environment variables, metric
//! registries and the process lifecycle. It is a library so that tests and benchmarks can start
//! a node in-process on loopback; the `tcn` binary (`src/main.rs`) is a thin command line over
//! it.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let config = node::config::Config::default();
//! node::run(config, node::signals::terminate()?).await?;
//! # Ok(())
//! # }
//! ```
//!
//! What a running node does today: probes GStreamer and the GPU ([`capabilities`]), derives its
//! call limit ([`capacity`]), serves the admin API (`/metrics`, `/status`, `/healthz`,
//! `/readyz`), admits calls through [`calls::Calls`] and hands out media ports from
//! [`media_ports::MediaPorts`], reloads its configuration on SIGHUP and drains on SIGTERM or
//! SIGINT. With no `meet.backend` configured it runs meet-sim, the Meet simulator, in-process
//! with a demo meeting ([`meet_backend`]); the Meet connector arrives with the Meet issues.

#![forbid(unsafe_code)]

mod admin;
pub mod alarms;
pub mod build_info;
mod call;
pub mod call_routing;
pub mod calls;
pub mod capabilities;
pub mod capacity;
pub mod config;
pub mod demo;
pub mod dry_run;
pub mod error;
pub mod fuzzing;
pub mod live_view;
pub mod logging;
pub mod media_ports;
pub mod meet_backend;
pub mod meet_connectors;
pub mod meet_gateway;
pub mod metrics;
mod node;
pub mod refusal;
mod reload;
pub mod rtp;
pub mod signals;
mod sip;
pub mod srtp;
mod state;
pub mod status;
mod tls;
pub mod version;

pub use error::StartError;
pub use node::{Node, NodeRouter, run};
