//! Alarms: conditions an operator should act on, shown in `/status` and `tcn_alarm_active`.
//!
//! Alarms are derived from the node's state each time they are read, so one cannot outlive
//! its cause.

use serde::Serialize;

/// The kinds of alarm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Every call slot is in use; new calls are refused.
    CapacityReached,
    /// Every media port pair is in use.
    MediaPortsExhausted,
    /// The last SIGHUP reload was refused; the node runs on the previous configuration.
    ConfigReloadRejected,
    /// The CUDA driver is installed but no GPU could be used; calls run on the CPU.
    GpuUnusable,
    /// The Google Meet gateway token expires soon (`meet.token_expiry_warning`) or has
    /// expired (then calls into Meet are refused).
    GatewayTokenExpiring,
}

impl AlarmKind {
    /// Every kind, for pre-creating metric series.
    pub const ALL: [Self; 5] = [
        Self::CapacityReached,
        Self::MediaPortsExhausted,
        Self::ConfigReloadRejected,
        Self::GpuUnusable,
        Self::GatewayTokenExpiring,
    ];

    /// The `alarm` label and `/status` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::CapacityReached => "capacity_reached",
            Self::MediaPortsExhausted => "media_ports_exhausted",
            Self::ConfigReloadRejected => "config_reload_rejected",
            Self::GpuUnusable => "gpu_unusable",
            Self::GatewayTokenExpiring => "gateway_token_expiring",
        }
    }
}

/// One raised alarm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alarm {
    /// What is wrong.
    pub kind: AlarmKind,
    /// Details for the operator.
    pub detail: String,
}
