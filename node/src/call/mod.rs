//! Gateway calls: a room system's call into a Meet conference.
//!
//! - [`ending`]: the one table of endings (SIP final code or BYE `Reason`, licence outcome,
//!   metric label).
//! - [`gateway`]: `GatewayCall`, the sans-IO controller of one call around its `MeetSession`.

pub(crate) mod ending;
pub(crate) mod gateway;
