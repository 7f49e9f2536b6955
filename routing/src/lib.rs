//! Call routing for tcn: where an incoming call goes, as pure functions over typed config.
//!
//! This crate will own alias parsing and normalisation (SIP URIs, H.323 aliases, E.164/tel),
//! meeting-identifier recognition (Meet numeric IDs, meeting codes, prefixed short IDs), the
//! operator's Call Routing Rules (priority order, first match wins, regex match and replace),
//! Virtual Reception (the IVR that collects a meeting ID by DTMF), SIP Guest Join and
//! One-Touch-Join processing rules, and break-in defence.
//!
//! It performs no I/O and never reads the clock (time comes in as `now`), and depends on no
//! runtime, no GStreamer and no CUDA; CI checks that with `cargo tree`.
//!
//! Nothing is implemented yet: routing is tracked by its own issue.
