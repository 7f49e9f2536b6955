//! How many concurrent calls this node takes when `capacity.max_calls = 0`, and how many
//! gateway calls its CPU carries.
//!
//! The limit is the smaller of what the CPU and what the media ports allow. The per-call CPU
//! cost is `capacity.cpu_cores_per_call`, by default the figure measured on this project's
//! 2-core machine kind for a 720p30 gateway call both ways (H.264 decode + 3-layer VP8
//! simulcast up, 8 VP8 decodes + 1+7 composite + x264 ultrafast down, audio both ways),
//! hardest test content: 0.67 core (`shared/docs/platform.md` §0 and §4). The `bench` crate's
//! calls-per-core benchmark is meant to replace this planning figure with one measured on the
//! host. The same cost bounds admission whatever `max_calls` says: a gateway call that the
//! cores cannot carry next to those already running is refused ([`Capacity::cpu_calls`]).

use serde::Serialize;

/// CPU cores one gateway call uses (measured; see the module docs): the default of
/// `capacity.cpu_cores_per_call`.
pub const CPU_CORES_PER_CALL: f64 = 0.67;

/// RTP/RTCP port pairs one gateway call uses: audio and video toward the VTC, plus the bundled
/// ICE transport toward Meet.
pub const PORT_PAIRS_PER_CALL: usize = 3;

/// The call limit in force and where it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Capacity {
    /// Most concurrent calls; always at least 1.
    pub max_calls: u32,
    /// What set it.
    pub limited_by: CapacityLimit,
    /// Most concurrent gateway calls the CPU carries (cores ÷ the per-call cost, at least 1);
    /// `None` when the CPU check is off (`cpu_cores_per_call = 0`).
    pub cpu_calls: Option<u32>,
}

/// What sets the call limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityLimit {
    /// `capacity.max_calls` in the configuration.
    Configured,
    /// CPU cores ÷ `capacity.cpu_cores_per_call`.
    Cpu,
    /// Media port pairs ÷ [`PORT_PAIRS_PER_CALL`].
    MediaPorts,
}

impl Capacity {
    /// The limit for a configured value (`0` = derive) on a host with `cpu_cores` cores and
    /// `port_pairs` media port pairs, a gateway call costing `cores_per_call` (`0` = not
    /// counted: then the CPU sets no limit).
    pub fn derive(
        configured: u32,
        cpu_cores: usize,
        port_pairs: usize,
        cores_per_call: f64,
    ) -> Self {
        // Float-to-int `as` saturates; the quotient of two small positive numbers is in range.
        let cpu_calls = (cores_per_call > 0.0)
            .then(|| ((cpu_cores as f64 / cores_per_call).floor() as u32).max(1));
        if configured > 0 {
            return Self {
                max_calls: configured,
                limited_by: CapacityLimit::Configured,
                cpu_calls,
            };
        }
        let by_cpu = cpu_calls.unwrap_or(u32::MAX);
        let by_ports = u32::try_from(port_pairs / PORT_PAIRS_PER_CALL).unwrap_or(u32::MAX);
        let (max_calls, limited_by) = if by_ports < by_cpu {
            (by_ports, CapacityLimit::MediaPorts)
        } else {
            (by_cpu, CapacityLimit::Cpu)
        };
        Self {
            max_calls: max_calls.max(1),
            limited_by,
            cpu_calls,
        }
    }

    /// What admission enforces: this limit and the CPU's, with the licence pool and the
    /// `Retry-After` of `config`.
    pub fn limits(&self, config: &crate::config::CapacityConfig) -> crate::calls::Limits {
        crate::calls::Limits {
            max_calls: self.max_calls,
            licenses: config.licenses,
            cpu_calls: self.cpu_calls,
            // Validated: whole seconds from 1 to 3600.
            retry_after: u32::try_from(config.retry_after.as_secs()).unwrap_or(3600),
        }
    }

    /// The limit for this host: cores from the OS, pairs from the media pool.
    pub fn for_host(config: &crate::config::CapacityConfig, port_pairs: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::derive(
            config.max_calls,
            cores,
            port_pairs,
            config.cpu_cores_per_call,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_value_wins() {
        let c = Capacity::derive(7, 64, 5_000, CPU_CORES_PER_CALL);
        assert_eq!((c.max_calls, c.limited_by), (7, CapacityLimit::Configured));
        // the CPU still bounds gateway calls
        assert_eq!(c.cpu_calls, Some(95));
        assert_eq!(
            Capacity::derive(7, 2, 5_000, CPU_CORES_PER_CALL).cpu_calls,
            Some(2)
        );
    }

    #[test]
    fn cpu_bound_on_small_hosts() {
        // 2 cores / 0.67 = 2.98 calls
        let c = Capacity::derive(0, 2, 5_000, CPU_CORES_PER_CALL);
        assert_eq!((c.max_calls, c.limited_by), (2, CapacityLimit::Cpu));
        assert_eq!(
            Capacity::derive(0, 16, 5_000, CPU_CORES_PER_CALL).max_calls,
            23
        );
        assert_eq!(
            Capacity::derive(0, 0, 5_000, CPU_CORES_PER_CALL).max_calls,
            1
        );
        // a measured cost of 0.25 core: 8 calls on 2 cores
        assert_eq!(Capacity::derive(0, 2, 5_000, 0.25).max_calls, 8);
        // a call dearer than the host: still one
        assert_eq!(Capacity::derive(0, 2, 5_000, 3.0).cpu_calls, Some(1));
    }

    #[test]
    fn port_bound_on_small_ranges() {
        // 100 ports = 50 pairs = 16 calls, fewer than 64 cores allow
        let c = Capacity::derive(0, 64, 50, CPU_CORES_PER_CALL);
        assert_eq!((c.max_calls, c.limited_by), (16, CapacityLimit::MediaPorts));
        // no CPU check: the ports decide
        let c = Capacity::derive(0, 2, 50, 0.0);
        assert_eq!(
            (c.max_calls, c.limited_by, c.cpu_calls),
            (16, CapacityLimit::MediaPorts, None)
        );
    }
}
