//! The node's SIP front end: listeners, the transaction layer's driver, and the calls it
//! answers.
//!
//! - [`transport`]: UDP, TCP and TLS listeners. Datagrams and stream messages are parsed here; a
//!   malformed request is answered `400` with a reason that names the problem, straight from
//!   the transport, and the listener keeps serving.
//! - [`stack`]: one task that owns `signaling`'s sans-IO [`TransactionLayer`], feeds it what the
//!   transports receive and the time, and sends what it asks for.
//! - [`uas`]: the transaction user: OPTIONS (for load-balancer probes), REGISTER, INVITE
//!   through admission and routing, CANCEL.
//! - [`leg`]: the one SIP leg of every call the node answers, sans-IO: ringing, the 2xx and
//!   its dialog, in-dialog checks (re-INVITE, UPDATE, INFO DTMF, MESSAGE, BYE), session timers
//!   (RFC 4028) with the cached ACK of our refreshes, the missing ACK, and the BYE with a
//!   Reason when the node ends a call.
//! - [`call_table`]: the calls of the stack, each a leg, a far end and a licence; it routes
//!   transaction events to them and frees each call on every ending path.
//! - far ends: [`test_service`] (the built-in test call service) and [`bridge`] with
//!   [`relay`] (calls routed to a SIP target: the outbound UAC leg and the RTP relay).
//! - [`responses`]: the capability headers and response helpers every part shares.
//! - [`outgoing`]: the Via and the destination of requests the node sends in a dialog.
//! - [`test_call`]: the test service's media: RTP sockets from the media range that count what
//!   they receive per stream and decode RFC 4733 DTMF.
//!
//! [`TransactionLayer`]: signaling::sip::transaction::TransactionLayer

mod bridge;
mod call_table;
mod gateway_media;
mod leg;
mod meet_far_end;
mod outbound;
mod outgoing;
mod peer;
mod relay;
mod responses;
mod sdp_answer;
mod stack;
mod test_call;
mod test_service;
mod tls;
mod transport;
mod uas;

pub(crate) use leg::{LegEnd, LegEvent};
pub(crate) use meet_far_end::dial_user;
pub(crate) use stack::serve;
pub(crate) use test_call::{MediaTasks, is_rtp_version_2, srtp_refused};
pub(crate) use transport::{Listeners, SipBound};
