//! The message type: a request or a response (RFC 3261 §7).

use super::error::ParseError;
use super::headers::Headers;
use super::parse::parse_message;
use super::request::Request;
use super::response::Response;

/// A request or a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Parses one message from a datagram (or from exactly the bytes of one framed stream
    /// message). See the [module docs](super) for what is checked.
    pub fn parse(datagram: &[u8]) -> Result<Self, ParseError> {
        parse_message(datagram)
    }

    /// The message on the wire: start line, headers in order with canonical names, a
    /// Content-Length equal to the body's length, an empty line, the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Request(request) => request.to_bytes(),
            Self::Response(response) => response.to_bytes(),
        }
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(request) => &request.headers,
            Self::Response(response) => &response.headers,
        }
    }

    /// The header fields, mutable.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Self::Request(request) => &mut request.headers,
            Self::Response(response) => &mut response.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        match self {
            Self::Request(request) => &request.body,
            Self::Response(response) => &response.body,
        }
    }
}

impl From<Request> for Message {
    fn from(request: Request) -> Self {
        Self::Request(request)
    }
}

impl From<Response> for Message {
    fn from(response: Response) -> Self {
        Self::Response(response)
    }
}
