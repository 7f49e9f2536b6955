//! The Meet side of tcn.
//!
//! - [`protocol`]: the data-channel messages (`session-control`, `media-stats`,
//!   `participants`, `media-entries`, `video-assignment`, and the extensions `x-conference`
//!   and `x-chat`); an int64 reads as a number or a string.
//! - [`session`]: `MeetSession`, the sans-IO client state machine of one call's Meet leg
//!   (lobby, join, 1+7 assignment, stats uploads, chat, conference state), with the one
//!   mapping of outcomes to SIP codes and `Reason` headers.
//! - [`jwt`]: the gateway token minted per request (ES256 or RS256, at most 300 s), the
//!   validator the simulator uses (pinned algorithms, kid, iss, aud, times, jti replay) and the
//!   credential expiry status.
//! - [`connector`]: the `MeetConnector` trait through which the node resolves what a caller
//!   dialled and exchanges SDP with a Meet backend; `DialString`; `HttpConnector` for
//!   meet-sim (a fresh JWT per request, errors mapped through `SessionOutcome`).
//! - [`sim`]: `meet-sim` (also a binary), the Meet simulator for tests, the demo and the
//!   embedded default backend of `tcn run`: a sans-IO conference model, a str0m media plane
//!   (ICE-lite, DTLS-SRTP, data channels, simulcast forwarding with the 1+7 assignment), an
//!   axum server with the Meet-shaped endpoints, a `/sim` control API and browser pages.
//! - [`fuzzing`]: fuzz bodies for the parsers of untrusted input.
//!
//! See `shared/docs/meet-side.md` for the design. The node does not place calls into Meet
//! through the connector yet (that needs its media pipelines).

pub mod connector;
pub mod fuzzing;
pub mod jwt;
pub mod protocol;
pub mod session;
pub mod sim;
