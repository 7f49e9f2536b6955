//! How many concurrent calls this node takes when `capacity.max_calls = 0`.
//!
//! The limit is the smaller of what the CPU and what the media ports allow. The per-call CPU
//! cost is the figure measured on this project's 2-core machine kind for a 720p30 gateway call
//! both ways (H.264 decode + 3-layer VP8 simulcast up, 8 VP8 decodes + 1+7 composite + x264
//! ultrafast down, audio both ways), hardest test content: 0.67 core
//! (`shared/docs/platform.md` §0 and §4). The `bench` crate's calls-per-core benchmark is meant
//! to replace this planning figure with one measured on the host.

use serde::Serialize;

/// CPU cores one gateway call uses (measured; see the module docs).
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
}

/// What sets the call limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityLimit {
    /// `capacity.max_calls` in the configuration.
    Configured,
    /// CPU cores ÷ [`CPU_CORES_PER_CALL`].
    Cpu,
    /// Media port pairs ÷ [`PORT_PAIRS_PER_CALL`].
    MediaPorts,
}

impl Capacity {
    /// The limit for a configured value (`0` = derive) on a host with `cpu_cores` cores and
    /// `port_pairs` media port pairs.
    pub fn derive(configured: u32, cpu_cores: usize, port_pairs: usize) -> Self {
        if configured > 0 {
            return Self {
                max_calls: configured,
                limited_by: CapacityLimit::Configured,
            };
        }
        // Float-to-int `as` saturates; the quotient of two small positive numbers is in range.
        let by_cpu = (cpu_cores as f64 / CPU_CORES_PER_CALL).floor() as u32;
        let by_ports = u32::try_from(port_pairs / PORT_PAIRS_PER_CALL).unwrap_or(u32::MAX);
        let (max_calls, limited_by) = if by_ports < by_cpu {
            (by_ports, CapacityLimit::MediaPorts)
        } else {
            (by_cpu, CapacityLimit::Cpu)
        };
        Self {
            max_calls: max_calls.max(1),
            limited_by,
        }
    }

    /// The limit for this host: cores from the OS, pairs from the media pool.
    pub fn for_host(configured: u32, port_pairs: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::derive(configured, cores, port_pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_value_wins() {
        let c = Capacity::derive(7, 64, 5_000);
        assert_eq!((c.max_calls, c.limited_by), (7, CapacityLimit::Configured));
    }

    #[test]
    fn cpu_bound_on_small_hosts() {
        // 2 cores / 0.67 = 2.98 calls
        let c = Capacity::derive(0, 2, 5_000);
        assert_eq!((c.max_calls, c.limited_by), (2, CapacityLimit::Cpu));
        assert_eq!(Capacity::derive(0, 16, 5_000).max_calls, 23);
        assert_eq!(Capacity::derive(0, 0, 5_000).max_calls, 1);
    }

    #[test]
    fn port_bound_on_small_ranges() {
        // 100 ports = 50 pairs = 16 calls, fewer than 64 cores allow
        let c = Capacity::derive(0, 64, 50);
        assert_eq!((c.max_calls, c.limited_by), (16, CapacityLimit::MediaPorts));
    }
}
