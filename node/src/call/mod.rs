//! Gateway calls: a room system's call into a Meet conference.
//!
//! - [`chat`]: the chat gate between the SIP leg (MESSAGE) and the conference (`x-chat`).
//! - [`ending`]: the one table of endings (SIP final code or BYE `Reason`, licence outcome,
//!   metric label).
//! - [`gateway`]: `GatewayCall`, the sans-IO controller of one call around its `MeetSession`.
//! - [`task`]: the tokio task of one call, which carries out what `GatewayCall` decides.
//! - [`vtc_media`]: the room system's RTP sockets for a gateway call.
//! - [`reception`]: the Virtual Reception stage of a call (prompt, slate, DTMF, routing);
//!   [`prompts`]: its shipped spoken prompts.

pub(crate) mod chat;
pub(crate) mod ending;
pub(crate) mod figures;
pub(crate) mod gateway;
pub(crate) mod prompts;
pub(crate) mod reception;
pub(crate) mod stream_keys;
pub(crate) mod task;
pub(crate) mod vtc_media;
