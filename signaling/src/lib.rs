//! Sans-IO signalling cores for tcn: SIP messages and transactions, SDP offer/answer, DTMF,
//! digest authentication.
//!
//! - [`sip::message`]: SIP messages (RFC 3261 §7, §20, §25): parse, print, typed headers, and a
//!   stream framer for TCP/TLS.
//! - [`sip::transaction`]: the four RFC 3261 §17 transaction state machines (with RFC 6026's
//!   Accepted state) and their timers.
//! - [`sdp`]: SDP (RFC 8866) and offer/answer (RFC 3264) producing a typed negotiated-media
//!   value.
//! - [`dtmf`]: RFC 4733 telephone events from RTP, and SIP INFO DTMF bodies.
//! - [`digest`]: HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616; MD5, SHA-256).
//!
//! The crate performs no I/O and never reads the clock: bytes and time (`now`) come in through
//! `handle_*` calls, and "send these bytes / this happened / wake me at T" comes out through
//! `poll_*` calls. It depends on no runtime, no GStreamer and no CUDA; CI checks that with
//! `cargo tree` (`.ci/sans-io-check`), and `clippy.toml` forbids reading the clock.

#![forbid(unsafe_code)]

pub mod digest;
pub mod dtmf;
pub mod fuzzing;
pub mod sdp;
pub mod sip;
