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
pub use meet::{AccessTokenConfig, GatewayAlgorithm, LobbyMode, MeetConfig, Secret};
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
    /// `[capacity]`: how many calls this node accepts.
    pub capacity: CapacityConfig,
    /// `[meet]`: the Google Meet side (access tokens).
    pub meet: MeetConfig,
    /// `[routing]`: Call Routing Rules, Virtual Receptions, One-Touch-Join rules, meeting-ID
    /// formats and break-in defence.
    pub routing: routing::router::RoutingConfig,
    /// The file this configuration was read from, if any; SIGHUP re-reads it.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[node]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Name of this node in `/status`, logs and metrics. Default `"tcn-1"`.
    pub name: String,
    /// How long SIGTERM/SIGINT waits for active calls to end before ending them. Default `30s`.
    #[serde(with = "routing::duration")]
    pub drain_timeout: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            name: "tcn-1".to_owned(),
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// `[admin]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Address of the admin HTTP API. Default `127.0.0.1:8080` (loopback only: the API has no
    /// authentication, so expose it through a proxy or a firewall rule, never directly).
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
        }
    }
}

/// `[log]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `"text"` (human-readable, coloured on a terminal) or `"json"` (one object per line, for
    /// log shippers). Default `"text"`.
    pub format: LogFormat,
    /// A `tracing` filter: a level (`"info"`) or per-target directives
    /// (`"info,node=debug"`). Default `"info"`. The `RUST_LOG` environment variable overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[sip]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// SIP over UDP. Default `0.0.0.0:5060`.
    pub udp: SocketAddr,
    /// SIP over TCP. Default `0.0.0.0:5060`.
    pub tcp: SocketAddr,
    /// SIP over TLS. Default `0.0.0.0:5061`; only listens when `tls_cert` and `tls_key` are set.
    pub tls: SocketAddr,
    /// PEM certificate chain for SIP/TLS. Default: none (TLS off). A relative path is taken
    /// relative to the configuration file's folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`. Default: none. Required when `tls_cert` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// PEM certificates trusted when the node connects out over TLS (outbound SIP legs).
    /// Default: none, which trusts the system bundle `/etc/ssl/certs/ca-certificates.crt`.
    /// The peer's certificate must name the host (or IP address) dialled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
    /// SDES-SRTP (RFC 4568) on SIP calls: `"besteffort"` (SRTP when the caller offers keys,
    /// plain RTP otherwise), `"on"` (SRTP or no call: an offer without keys is answered 488),
    /// `"off"` (plain RTP only: an `RTP/SAVP` offer is answered 488). Default `"besteffort"`.
    pub media_encryption: MediaEncryption,
    /// SIP timer T1 (RFC 3261 §17.1.1.1), the round-trip estimate every retransmission and
    /// transaction timeout derives from (a 2xx nobody ACKs is given up after 64·T1). Default
    /// `500ms`, the RFC's; it may be lowered on a private network with short round trips.
    /// Between `10ms` and `4s` (T2).
    #[serde(with = "routing::duration")]
    pub t1: Duration,
    /// Session timers (RFC 4028): the session interval the node asks for, or shortens a
    /// caller's longer request to. The refresher re-INVITEs at half of it; a call nobody
    /// refreshes is ended with a BYE. Default `30m`; at least `min_se`.
    #[serde(with = "routing::duration")]
    pub session_expires: Duration,
    /// The shortest session interval accepted (RFC 4028 `Min-SE`); a shorter request is
    /// answered 422. Default `90s`, the RFC's floor, which is also the least allowed.
    #[serde(with = "routing::duration")]
    pub min_se: Duration,
    /// Alias of the built-in test call service: a call to it is answered at once, opens the
    /// negotiated RTP ports and counts the packets it receives per stream (shown per call in
    /// `/status`). Default `"test"`; empty turns it off.
    pub test_alias: String,
    /// Like `test_alias`, but rings (180) for 2 s before answering: for testing CANCEL.
    /// Default `"ringing"`; empty turns it off.
    pub test_ring_alias: String,
    /// Digest realm of the registrar. Default `"tcn"`.
    pub realm: String,
    /// Digest algorithms challenged, in order of preference (RFC 8760 §2.4: one challenge
    /// each, preferred first): `"SHA-256"`, `"SHA-512-256"`, `"MD5"`. Default
    /// `["SHA-256", "MD5"]`. Some devices answer only the first challenge: put `"MD5"` first
    /// (or alone) for them.
    pub digest_algorithms: Vec<String>,
    /// `[[sip.credentials]]`: accounts that may REGISTER (digest, RFC 3261 §22). Default none:
    /// the registrar is off and REGISTER is answered 405.
    pub credentials: Vec<SipCredential>,
}

/// `sip.media_encryption`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaEncryption {
    /// SRTP or no call.
    On,
    /// SRTP when offered.
    #[default]
    BestEffort,
    /// Plain RTP only.
    Off,
}

/// One registrar account.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SipCredential {
    /// User name (the digest `username`).
    pub username: String,
    /// Password. Never logged or printed.
    pub password: Secret,
}

impl SipConfig {
    /// True when both TLS files are configured.
    pub fn tls_enabled(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            udp: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5060)),
            tcp: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5060)),
            tls: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5061)),
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
            media_encryption: MediaEncryption::BestEffort,
            t1: Duration::from_millis(500),
            session_expires: Duration::from_secs(1800),
            min_se: Duration::from_secs(90),
            test_alias: "test".to_owned(),
            test_ring_alias: "ringing".to_owned(),
            realm: "tcn".to_owned(),
            digest_algorithms: vec!["SHA-256".to_owned(), "MD5".to_owned()],
            credentials: Vec::new(),
        }
    }
}

/// `[media]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Inclusive UDP port range for RTP/RTCP toward VTCs and ICE toward Meet. Default
    /// `[40000, 49999]`, the range Meet interop firewall rules expect. At least 100 ports.
    pub port_range: PortRange,
    /// A gateway call whose room system sends no RTP on any of its streams for this long is
    /// ended: the node leaves the conference, sends the room system a BYE and frees
    /// everything. Default `30s`; `0s` turns the check off (for endpoints that stop sending
    /// while on hold). At most `1h`.
    #[serde(with = "routing::duration")]
    pub rtp_timeout: Duration,
    /// A gateway call whose Meet transport carries nothing in for this long (no media, no
    /// RTCP, no DTLS: Meet reports several times a second) ends as "Meet unavailable", with
    /// a BYE carrying that `Reason` to the room system. Default `3s`; 1 s to 60 s.
    #[serde(with = "routing::duration")]
    pub meet_timeout: Duration,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            port_range: PortRange::new(40_000, 49_999),
            rtp_timeout: Duration::from_secs(30),
            meet_timeout: Duration::from_secs(3),
        }
    }
}

/// `[signaling]`
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalingConfig {
    /// Inclusive TCP port range for outbound signalling connections (SIP over TCP/TLS toward
    /// peers, H.245). Default `[33000, 39999]`. Must not overlap `media.port_range`.
    pub port_range: PortRange,
}

impl Default for SignalingConfig {
    fn default() -> Self {
        Self {
            port_range: PortRange::new(33_000, 39_999),
        }
    }
}

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
