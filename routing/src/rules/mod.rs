//! Call Routing Rules: the operator's dial plan.
//!
//! Rules are tried in ascending `priority` (ties in file order); the first enabled rule whose
//! filters (incoming, protocol, registration, source) all pass and whose regex matches the
//! whole alias wins. Its `replace` rewrites the alias and its `target` says where the call
//! goes. No match means the call is refused (404 on SIP). Every decision comes with a trace that
//! says, for each rule tried, why it did or did not match: `tcn route` prints it.

mod config;
mod replace;
mod rule_set;
mod trace;

pub use config::{
    AccessTokenRef, Bandwidth, CallType, Crypto, Network, RuleConfig, SipTransport, TargetConfig,
};
pub use rule_set::{CallSettings, Decision, IncomingCall, Routed, RuleSet, Target};
pub use trace::{TraceEntry, Verdict};

/// Lowest rule priority.
pub const MIN_PRIORITY: u32 = 1;
/// Highest rule priority.
pub const MAX_PRIORITY: u32 = 200;
/// Longest `match` pattern, in characters.
pub const MAX_PATTERN_LEN: usize = 250;
