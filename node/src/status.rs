//! The `/status` document: a snapshot of the node, also the source of the gauges.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;

use crate::alarms::{Alarm, AlarmKind};
use crate::build_info;
use crate::calls::{AdmissionError, CallSummary};
use crate::capabilities::Capabilities;
use crate::capacity::CapacityLimit;
use crate::config::PortRange;
use crate::live_view::ConferenceView;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// Everything `/status` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// `node.name`.
    pub node: String,
    /// Crate version.
    pub version: &'static str,
    /// Git revision the binary was built from.
    pub revision: &'static str,
    /// Seconds since start-up.
    pub uptime_seconds: f64,
    /// False while draining.
    pub ready: bool,
    /// What the host can do.
    pub capabilities: Capabilities,
    /// Call limit and load.
    pub capacity: CapacityStatus,
    /// Media port usage.
    pub media_ports: PortStatus,
    /// Configured SIP listeners.
    pub sip: SipStatus,
    /// Routing in force.
    pub routing: RoutingStatus,
    /// The Meet side.
    pub meet: MeetStatus,
    /// Active calls, oldest first.
    pub calls: Vec<CallSummary>,
    /// The Meet conferences gateway calls are in, each with its calls (the Live View's
    /// grouping: several room systems in one conference show under it).
    pub conferences: Vec<ConferenceView>,
    /// Raised alarms.
    pub alarms: Vec<Alarm>,
}

/// The Meet side in `/status`.
#[derive(Clone, Debug, Serialize)]
pub struct MeetStatus {
    /// The backend: `meet.backend`, or the embedded simulator and its demo meeting; never a
    /// token or key.
    pub backend: crate::meet_backend::BackendStatus,
    /// The gateway token: status, expiry, subject; never the token or key.
    pub gateway_token: crate::meet_gateway::GatewayTokenStatus,
    /// Seconds until it expires, for the metric.
    #[serde(skip)]
    pub gateway_token_seconds_left: Option<f64>,
}

/// Call limit and load.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CapacityStatus {
    /// Calls in progress.
    pub calls_active: usize,
    /// Limit in force.
    pub max_calls: u32,
    /// What sets the limit.
    pub limited_by: CapacityLimit,
    /// `calls_active / max_calls`.
    pub load_ratio: f64,
    /// The pool of call licences.
    pub licenses: LicenseStatus,
    /// What the CPU carries.
    pub cpu: CpuStatus,
    /// Why a gateway call would be refused now (`draining`, `at_capacity`, `no_license`,
    /// `cpu_full`): then OPTIONS answers 503. `null` while one would be taken.
    pub full: Option<&'static str>,
}

/// The pool of call licences (`capacity.licenses`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LicenseStatus {
    /// The pool; 0 = no limit.
    pub total: u32,
    /// Held by the calls in progress (2 per gateway call, one per leg).
    pub in_use: u32,
}

/// The CPU's share of admission (`capacity.cpu_cores_per_call`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CpuStatus {
    /// Cores one gateway call is counted as using; 0 = not checked.
    pub cores_per_call: f64,
    /// Gateway calls running.
    pub gateway_calls: u32,
    /// Most gateway calls the cores carry; `null` when not checked.
    pub gateway_calls_max: Option<u32>,
}

/// Media port usage.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PortStatus {
    /// `media.port_range`.
    pub range: PortRange,
    /// Ports allocated.
    pub in_use: usize,
    /// Ports usable as RTP/RTCP pairs.
    pub total: usize,
}

/// SIP listeners.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SipStatus {
    /// Where SIP over UDP listens.
    pub udp: Option<SocketAddr>,
    /// Where SIP over TCP listens.
    pub tcp: Option<SocketAddr>,
    /// `sip.tls` when configured. SIP over TLS is not served yet.
    pub tls: Option<SocketAddr>,
}

/// Routing in force.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RoutingStatus {
    /// Call Routing Rules.
    pub rules: usize,
    /// Virtual Receptions.
    pub virtual_receptions: usize,
    /// One-Touch-Join rules.
    pub otj_rules: usize,
    /// Sources blocked by break-in defence now.
    pub blocked_sources: usize,
}

impl Snapshot {
    pub(crate) fn take(shared: &Shared) -> Self {
        let config = shared.config();
        let capacity = shared.capacity();
        let calls = shared.calls.summaries();
        let calls_active = calls.len();
        let usage = shared.calls.usage();
        let media_ports = PortStatus {
            range: shared.media_ports.range(),
            in_use: shared.media_ports.ports_in_use(),
            total: shared.media_ports.ports_total(),
        };
        let mut alarms = Vec::new();
        if let Some(full) = usage.full
            && full != AdmissionError::Draining
        {
            alarms.push(Alarm {
                kind: AlarmKind::CapacityReached,
                detail: format!(
                    "{calls_active} of {} calls in use, {} call licence(s) of {}: {full}",
                    capacity.max_calls,
                    usage.licenses_in_use,
                    match usage.limits.licenses {
                        0 => "no limit".to_owned(),
                        total => total.to_string(),
                    }
                ),
            });
        }
        if media_ports.in_use >= media_ports.total {
            alarms.push(Alarm {
                kind: AlarmKind::MediaPortsExhausted,
                detail: format!(
                    "all {} ports of {} in use",
                    media_ports.total, media_ports.range
                ),
            });
        }
        if let Some(error) = shared.reload_error() {
            alarms.push(Alarm {
                kind: AlarmKind::ConfigReloadRejected,
                detail: error,
            });
        }
        let router = shared.router();
        let routing = RoutingStatus {
            rules: router.rule_count(),
            virtual_receptions: router.reception_count(),
            otj_rules: router.otj().len(),
            blocked_sources: crate::state::lock(&shared.break_in).blocked_sources(Instant::now()),
        };
        let gateway = shared.gateway();
        let now = std::time::SystemTime::now();
        let meet = MeetStatus {
            backend: shared.meet_backend.status.clone(),
            gateway_token: crate::meet_gateway::GatewayTokenStatus::of(
                gateway.as_deref(),
                now,
                config.meet.token_expiry_warning,
            ),
            gateway_token_seconds_left: gateway.as_ref().map(|g| g.seconds_left(now)),
        };
        if let Some(gateway) = &gateway {
            let detail = match gateway.status(now, config.meet.token_expiry_warning) {
                meet::jwt::CredentialStatus::Ok => None,
                meet::jwt::CredentialStatus::Expiring { days_left } => Some(format!(
                    "Google Meet gateway token expiring: {days_left} day(s) left ({})",
                    gateway.subject
                )),
                meet::jwt::CredentialStatus::Expired => Some(format!(
                    "Google Meet gateway token expired ({}): calls into Meet are refused",
                    gateway.subject
                )),
            };
            if let Some(detail) = detail {
                alarms.push(Alarm {
                    kind: AlarmKind::GatewayTokenExpiring,
                    detail,
                });
            }
        }
        let gpu = &shared.capabilities.gpu;
        if gpu.driver_library && !gpu.present() {
            alarms.push(Alarm {
                kind: AlarmKind::GpuUnusable,
                detail: gpu.error.clone().unwrap_or_else(|| "no devices".to_owned()),
            });
        }
        Self {
            node: config.node.name,
            version: build_info::VERSION,
            revision: build_info::REVISION,
            uptime_seconds: shared.started.elapsed().as_secs_f64(),
            ready: !shared.calls.draining(),
            capabilities: shared.capabilities.clone(),
            capacity: CapacityStatus {
                calls_active,
                max_calls: capacity.max_calls,
                limited_by: capacity.limited_by,
                load_ratio: calls_active as f64 / f64::from(capacity.max_calls.max(1)),
                licenses: LicenseStatus {
                    total: usage.limits.licenses,
                    in_use: usage.licenses_in_use,
                },
                cpu: CpuStatus {
                    cores_per_call: config.capacity.cpu_cores_per_call,
                    gateway_calls: usage.cpu_calls_in_use,
                    gateway_calls_max: usage.limits.cpu_calls,
                },
                full: usage
                    .full
                    .map(|refusal| CallRefusal::Admission(refusal).label()),
            },
            media_ports,
            sip: SipStatus {
                udp: shared.sip_bound.udp,
                tcp: shared.sip_bound.tcp,
                tls: shared.sip_bound.tls,
            },
            routing,
            meet,
            conferences: crate::live_view::conferences(&calls),
            calls,
            alarms,
        }
    }
}
