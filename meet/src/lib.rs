//! The Meet side of tcn.
//!
//! - [`protocol`]: the data-channel messages (`session-control`, `media-stats`,
//!   `participants`, `media-entries`, `video-assignment`, and the extensions `x-conference`
//!   and `x-chat`); an int64 reads as a number or a string.
//! - [`session`]: `MeetSession`, the sans-IO client state machine of one call's Meet leg
//!   (lobby, join, 1+7 assignment, stats uploads, chat, conference state), with the one
//!   mapping of outcomes to SIP codes and `Reason` headers.
//! - [`jwt`]: the gateway token minted per request (ES256 or RS256, at most 300 s), the
//!   validator meet-sim uses (pinned algorithms, kid, iss, aud, times, jti replay) and the
//!   credential expiry status.
//! - [`connector`]: the `MeetConnector` trait through which the node resolves what a caller
//!   dialled and exchanges SDP with a Meet backend; `DialString`; with the cargo feature
//!   `http`, `HttpConnector` for meet-sim (a fresh JWT per request, errors mapped through
//!   `SessionOutcome`).
//! - [`fuzzing`]: fuzz bodies for the data-channel parsers.
//!
//! The crate is sans-IO with its default features: no runtime, no sockets, and no clock
//! (`clippy.toml` forbids reading one; time comes in as `now`). `.ci/sans-io-check` keeps
//! tokio, hyper, axum and str0m out of its dependency tree. The feature `http` adds the one
//! piece of I/O, `HttpConnector` (hyper on tokio); the node turns it on.
//!
//! meet-sim, the Meet simulator, is the crate `meet-sim` (`meet_sim`): it shares the message
//! types of [`protocol`] and the JWT validator of [`jwt`] with this crate, nothing else.
//!
//! See `shared/docs/meet-side.md` for the design. The node does not place calls into Meet
//! through the connector yet (that needs its media pipelines).

pub mod connector;
pub mod fuzzing;
pub mod jwt;
pub mod protocol;
pub mod session;
