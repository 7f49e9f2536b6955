//! Call routing for tcn: where an incoming call goes, as pure functions over typed config.
//!
//! - [`alias`]: SIP URIs, H.323 aliases and tel/E.164 numbers, parsed and normalised.
//! - [`meeting_id`]: Meet numeric IDs, meeting codes and prefixed short IDs.
//! - [`rules`]: the operator's Call Routing Rules (priority order, first match wins, regex match
//!   and replace) with a trace that explains every decision.
//! - [`reception`]: Virtual Reception, the IVR that collects a meeting ID by DTMF.
//! - [`otj`]: One-Touch-Join meeting processing rules (SIP Guest Join and custom templates).
//! - [`break_in`]: blocking sources that keep failing alias lookups.
//!
//! The crate performs no I/O and never reads the clock: time comes in as `now`. It depends on
//! no runtime, no GStreamer and no CUDA; CI checks that with `cargo tree`
//! (`.ci/sans-io-check`), and `clippy.toml` forbids `Instant::now`.

#![forbid(unsafe_code)]

pub mod alias;
pub mod break_in;
pub mod duration;
mod error;
pub mod fuzzing;
pub mod meeting_id;
pub mod otj;
mod protocol;
pub mod reception;
pub mod router;
pub mod rules;

pub use error::ConfigError;
pub use protocol::Protocol;
