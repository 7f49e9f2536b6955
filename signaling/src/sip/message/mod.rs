//! SIP messages (RFC 3261 §7, §20, §25): a strict parser, a printer, typed header access, and a
//! stream framer for TCP/TLS.
//!
//! - [`Message::parse`] reads one datagram (RFC 3261 §18.3 rules for UDP: a missing
//!   Content-Length means "the rest of the datagram", octets beyond it are ignored) and checks
//!   what every element needs before it may act on a message (§8.2, §16.3): a valid start line,
//!   one well-formed To, From, Call-ID and CSeq (whose method matches the request's), at least
//!   one well-formed Via, sane scalars (Max-Forwards, Content-Length, Expires). It follows the
//!   verdicts of RFC 4475 (torture tests) and RFC 5118 (IPv6 torture tests); see
//!   `tests/rfc4475.rs` for the one chosen where those RFCs leave a choice.
//! - A rejected message yields a [`ParseError`] with the status to answer (400, 505, 513), a
//!   reason phrase that names the problem, and, when the message was a request whose Via, From,
//!   To, Call-ID and CSeq could be read, the bytes of that answer
//!   ([`ParseError::bad_request_response`]).
//! - [`Message::to_bytes`] prints canonical header names and always a correct Content-Length;
//!   printing then parsing gives back an equal message.
//! - Header values are kept as text ([`Headers`]); typed views ([`Via`], [`NameAddr`],
//!   [`CSeq`], [`ContactValue`]) are parsed on demand by the accessors of [`Headers`] (also
//!   offered on [`Request`] and [`Response`]).
//! - [`Framer`] cuts a byte stream into messages (RFC 3261 §18.3, keep-alives of RFC 5626
//!   §3.5.1).
//!
//! The parser never panics and bounds its work and memory by the limits in [`limits`].

mod accessors;
mod error;
mod framer;
mod grammar;
mod header;
mod header_name;
mod headers;
pub mod limits;
mod method;
mod parse;
mod print;
mod request;
mod response;
mod sip_message;
mod status;
mod uri;

pub use error::{ParseError, ParseErrorKind, PartialHead};
pub use framer::{Frame, FrameError, Framer};
pub use header::{CSeq, ContactValue, NameAddr, Via};
pub use header_name::HeaderName;
pub use headers::Headers;
pub use method::Method;
pub use request::Request;
pub use response::Response;
pub use sip_message::Message;
pub use status::StatusCode;
pub use uri::{Host, Scheme, Uri};
