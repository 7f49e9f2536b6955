//! The Meet side of tcn.
//!
//! This crate will own the data-channel message types (`session-control`, `participants`,
//! `media-entries`, `video-assignment`, `media-stats`, and the gateway extensions), the
//! `MeetSession` client state machine, the gateway JWT and access tokens, the `MeetConnector`
//! trait through which the node joins a conference, and `meet-sim`: a small conference simulator
//! (an SFU with an independent WebRTC stack) used by tests, the demo and as the embedded default
//! backend of `make run`. See `shared/docs/meet-side.md` for the design.
//!
//! Built so far (issue 5, in progress): [`protocol`], the data-channel messages (int64 as a
//! number or a string on input), with the 1+7 video assignment; and [`jwt`], the gateway
//! token minted per request (ES256 or RS256, at most 300 s), its validator for the simulator
//! (pinned algorithms, kid, iss, aud, times, jti replay) and the credential expiry status.
//! [`session`] is `MeetSession`, the sans-IO client state machine of one call's Meet leg
//! (lobby, join, 1+7 assignment, stats uploads, chat, conference state) with the one mapping
//! of outcomes to SIP codes. [`sim`] is the signalling and control core of `meet-sim` (binary
//! `meet-sim`): a sans-IO conference model (enrolment, interop tokens, JWT checks, lobby, host
//! controls, roster, event log) behind an axum server on loopback with the Meet-shaped
//! endpoints and a `/sim` control API (injectable clock, faults). [`connector`] is the
//! `MeetConnector` trait through which the node resolves a dial string and exchanges SDP with a
//! Meet backend, its sans-IO `DialString` parser, and `HttpConnector`, its HTTP/1.1
//! implementation for meet-sim (a fresh gateway JWT per request; errors mapped to SIP codes
//! through `SessionOutcome`). The sim's media plane (str0m) and the browser page are still to
//! come, and the node does not use the connector yet.

pub mod connector;
pub mod fuzzing;
pub mod jwt;
pub mod protocol;
pub mod session;
pub mod sim;
