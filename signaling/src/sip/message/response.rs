//! SIP responses (RFC 3261 §7.2).

use super::accessors::header_accessors;
use super::error::{ParseError, ParseErrorKind};
use super::headers::Headers;
use super::parse::parse_message;
use super::print::write_response;
use super::sip_message::Message;
use super::status::StatusCode;

/// A SIP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase as received (possibly empty, possibly UTF-8, RFC 3261 §7.2).
    pub reason: String,
    /// The header fields (without Content-Length; see [`Headers`]).
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with the canonical reason phrase, without headers or body.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            reason: status.reason().to_owned(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Parses a datagram that must hold a response.
    pub fn parse(datagram: &[u8]) -> Result<Self, ParseError> {
        match parse_message(datagram)? {
            Message::Response(response) => Ok(response),
            Message::Request(_) => Err(ParseError::new(
                ParseErrorKind::BadStartLine,
                "expected a response, got a request",
            )),
        }
    }

    /// The response on the wire (see [`Message::to_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        write_response(self)
    }

    /// Replaces the reason phrase.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }
}

header_accessors!(Response);
