//! Measurement binaries for tcn.
//!
//! This crate will hold the benchmarks of `shared/docs/performance.md`: calls per core, added
//! latency and SIP transactions per second, each run side by side with a reference pipeline in
//! the same process so that results are reported as medians and ratios on a noisy machine. The
//! per-call CPU cost it measures replaces the planning figure the node uses today to derive
//! `capacity.max_calls` (see `node::capacity`).
//!
//! No benchmark exists yet.
