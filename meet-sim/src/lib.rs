//! meet-sim: a Meet simulator for tests, the demo and the embedded default backend of
//! `tcn run` (meet-side.md §5.b); also a binary, `meet-sim`.
//!
//! It shares only the data-channel message types (`meet::protocol`) and the JWT validator
//! (`meet::jwt`) with the gateway side's crate `meet`; everything here is the simulator's.
//!
//! Three parts, split the way the rest of tcn splits protocol from I/O:
//!
//! - [`model`]: the conference model, sans-IO. Spaces, conferences, gateway enrolment,
//!   interop tokens, JWT validation, admission and the lobby, host controls, the roster, the
//!   event log, the test CA that signs gateway CSRs; data-channel messages come out as
//!   values.
//! - [`http`]: the axum server on loopback that puts the model on the wire: the Meet-shaped
//!   endpoints (`connectActiveConference`, `connectGateway`, `resolve`) and the `/sim/...`
//!   control API, with an injectable clock and fault injection.
//!
//! The server also serves two browser pages (static files in `src/web/`, compiled in):
//! `GET /m/{meetingCode}?name=&video=`, a participant that publishes the fake camera as VP8
//! simulcast q/h/f plus the microphone and receives 3 audio and up to 8 video streams,
//! joining with `POST /m/{meetingCode}:join`; and `GET /media-api/{meetingCode}?token=&video=`,
//! a receive-only client shaped like Google's Media API reference clients, joining with
//! `connectActiveConference`. Both create the data channels, send a `setAssignment` once
//! JOINED, upload stats as configured, and expose what they saw as `window.tcn`. The tests
//! in `tests/browser_pages.rs` run them in headless Chromium inside a loopback-only network
//! namespace (`tests/browser_support.rs`, driver `tests/browser/driver.mjs`).
//!
//! Between them, [`media`]: every participant's WebRTC connection (str0m in RTP mode on one
//! UDP port, ICE-lite, DTLS-SRTP, SCTP data channels). It answers the offers, carries the
//! model's data-channel messages and brings the clients' back, forwards simulcast video by
//! the model's 1+7 assignment and audio by loudness, and measures each layer.
//!
//! [`fuzzing`]: fuzz bodies for the offer rules and the VP8 reader (untrusted input).

pub mod fuzzing;
pub mod http;
pub mod media;
pub mod model;

pub use http::{ClockMode, Sim, SimConfig, serve};
