//! The Meet side of tcn.
//!
//! This crate will own the data-channel message types (`session-control`, `participants`,
//! `media-entries`, `video-assignment`, `media-stats`, and the gateway extensions), the
//! `MeetSession` client state machine, the gateway JWT and access tokens, the `MeetConnector`
//! trait through which the node joins a conference, and `meet-sim`: a small conference simulator
//! (an SFU with an independent WebRTC stack) used by tests, the demo and as the embedded default
//! backend of `make run`. See `shared/docs/meet-side.md` for the design.
//!
//! Nothing is implemented yet: the Meet side is tracked by its own issue. Until it lands the node
//! has no conference backend.
