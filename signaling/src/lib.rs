//! Sans-IO signalling cores for tcn: SIP today's plan, H.323 later.
//!
//! This crate will own RFC 3261 SIP messages (parse and print), the four transaction state
//! machines with their timers, dialogs, the registrar and digest authentication, SDP offer/answer
//! (RFC 3264) producing a negotiated-media value, and RFC 4733 DTMF events; later the H.323
//! cores (H.225.0 RAS/Q.931 over TPKT, H.245, ASN.1 PER).
//!
//! It performs no I/O and never reads the clock: bytes and time (`now`) come in through
//! `handle_*` calls, and "send these bytes / this happened / wake me at T" comes out through
//! `poll_*` calls. It depends on no runtime, no GStreamer and no CUDA, and CI checks that with
//! `cargo tree` (see the Makefile's `sans-io-check`). The node's SIP driver lives in `node`.
//!
//! Nothing is implemented yet: the SIP front end is tracked by its own issue.
