//! SIP requests (RFC 3261 §7.1) and the responses built from them (§8.2.6).

use super::accessors::header_accessors;
use super::error::{ParseError, ParseErrorKind};
use super::header_name::HeaderName;
use super::headers::Headers;
use super::method::Method;
use super::parse::parse_message;
use super::print::write_request;
use super::response::Response;
use super::sip_message::Message;
use super::status::StatusCode;
use super::uri::Uri;

/// A SIP request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method of the Request-Line.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// The header fields (without Content-Length; see [`Headers`]).
    pub headers: Headers,
    /// The body, exactly as many octets as Content-Length said.
    pub body: Vec<u8>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, uri: Uri) -> Self {
        Self {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Parses a datagram that must hold a request.
    pub fn parse(datagram: &[u8]) -> Result<Self, ParseError> {
        match parse_message(datagram)? {
            Message::Request(request) => Ok(request),
            Message::Response(_) => Err(ParseError::new(
                ParseErrorKind::BadStartLine,
                "expected a request, got a response",
            )),
        }
    }

    /// The request on the wire (see [`Message::to_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        write_request(self)
    }

    /// A response to this request as RFC 3261 §8.2.6.2 builds it: every Via in order, From,
    /// To (unchanged: add the To tag yourself where one is needed), Call-ID and CSeq copied; no
    /// body; the canonical reason phrase.
    pub fn response(&self, status: StatusCode) -> Response {
        let mut headers = Headers::new();
        for via in self.headers.get_all("Via") {
            headers.push(HeaderName::VIA, via);
        }
        for name in [
            HeaderName::FROM,
            HeaderName::TO,
            HeaderName::CALL_ID,
            HeaderName::CSEQ,
        ] {
            if let Some(value) = self.headers.get(&name) {
                headers.push(name, value);
            }
        }
        Response {
            status,
            reason: status.reason().to_owned(),
            headers,
            body: Vec::new(),
        }
    }
}

header_accessors!(Request);
