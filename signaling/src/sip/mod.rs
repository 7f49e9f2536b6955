//! SIP (RFC 3261): messages, transactions, dialogs, session timers.

pub mod dialog;
pub mod message;
pub mod registrar;
pub mod session_timer;
pub mod transaction;
