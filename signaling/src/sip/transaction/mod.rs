//! SIP transactions (RFC 3261 §17), sans-IO.
//!
//! [`TransactionLayer`] matches requests and responses to transactions (§17.1.3, §17.2.3),
//! runs the four state machines and their timers, retransmits over unreliable transports, and
//! absorbs retransmissions. It reports to the transaction user (the node's call controller)
//! through [`TxEvent`]s. It never touches a socket or reads the clock: drive it like this:
//!
//! ```text
//! loop {
//!     while let Some(output) = layer.poll_output() { send or handle it }
//!     wait for: a datagram / stream message (handle_request, handle_response),
//!               the deadline poll_timeout() (handle_timeout),
//!               a decision of the call controller (send_request, respond)
//! }
//! ```
//!
//! Departures, each allowed by the RFCs: INVITE server transactions send `100 Trying` at once
//! (§17.2.1 permits it), and retransmit their own 2xx until the ACK (RFC 6026 §8.1; see
//! [`server`]).

mod client;
mod layer;
mod server;
mod timers;

pub use layer::{Output, Peer, TransactionLayer, TxError, TxEvent, TxId};
pub use timers::TimerConfig;
