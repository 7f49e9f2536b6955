//! SIP (RFC 3261): messages and transactions.

pub mod message;
pub mod registrar;
pub mod transaction;
