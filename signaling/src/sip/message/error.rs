//! Parse errors, the status each one is answered with, and the partial head kept so that a
//! malformed request can still be answered (RFC 3261 §8.2: a response needs the request's Via,
//! From, To, Call-ID and CSeq).

use std::fmt;

use sha2::{Digest, Sha256};

use super::header::NameAddr;
use super::status::StatusCode;

/// What was wrong with a message or a header value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Nothing but whitespace and line ends.
    Empty,
    /// Over one of the [`limits`](super::limits): answered `513 Message Too Large`
    /// (RFC 3261 §21.5.7).
    TooLarge,
    /// The header section does not end with an empty line (RFC 3261 §7: the CRLF after the
    /// headers is mandatory).
    Incomplete,
    /// The Request-Line or Status-Line is malformed (RFC 3261 §7.1, §7.2; RFC 4475 §3.1.2.8,
    /// §3.1.2.9, §3.1.2.10, §3.1.2.19).
    BadStartLine,
    /// A SIP version other than 2.0: answered `505 Version Not Supported` (RFC 3261 §21.5.6;
    /// RFC 4475 §3.1.2.16).
    BadVersion,
    /// The method is not a token.
    BadMethod,
    /// The Request-URI is malformed or carries headers (RFC 3261 §19.1.1; RFC 4475 §3.1.2.7,
    /// §3.1.2.11). An unknown scheme is *not* an error here: answer it 416 where it matters.
    BadUri,
    /// A header field is malformed: the field named, or a header line that could not be read
    /// at all (empty name then).
    BadHeader(String),
    /// A header field every request or response needs is missing (RFC 3261 §8.1.1; RFC 4475
    /// §3.3.1).
    MissingHeader(&'static str),
    /// A header field that may appear only once appears twice (RFC 3261 §7.3.1; RFC 4475
    /// §3.3.8, §3.3.9).
    DuplicateHeader(String),
    /// A Via value is malformed (RFC 3261 §20.42; RFC 4475 §3.1.2.1).
    BadVia,
    /// The CSeq is malformed or its number does not fit 32 bits (RFC 3261 §8.1.1.5, §20.16;
    /// RFC 4475 §3.1.2.4, §3.1.2.5).
    BadCSeq,
    /// The CSeq method differs from the Request-Line method (RFC 4475 §3.1.2.17, §3.1.2.18).
    CSeqMethodMismatch,
    /// Max-Forwards is not an integer in `0..=255` (RFC 3261 §20.22; RFC 4475 §3.1.2.4).
    BadMaxForwards,
    /// Content-Length is not a non-negative integer (RFC 3261 §20.14; RFC 4475 §3.1.2.3), or is
    /// missing on a stream (RFC 3261 §18.3).
    BadContentLength,
    /// The body is shorter than Content-Length says (RFC 3261 §18.3; RFC 4475 §3.1.2.2).
    BodyTooShort,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty message"),
            Self::TooLarge => f.write_str("message too large"),
            Self::Incomplete => f.write_str("header section not terminated by an empty line"),
            Self::BadStartLine => f.write_str("malformed start line"),
            Self::BadVersion => f.write_str("unsupported SIP version"),
            Self::BadMethod => f.write_str("invalid method"),
            Self::BadUri => f.write_str("invalid Request-URI"),
            Self::BadHeader(name) if name.is_empty() => f.write_str("malformed header field"),
            Self::BadHeader(name) => write!(f, "invalid {name}"),
            Self::MissingHeader(name) => write!(f, "missing {name}"),
            Self::DuplicateHeader(name) => write!(f, "duplicate {name}"),
            Self::BadVia => f.write_str("invalid Via"),
            Self::BadCSeq => f.write_str("invalid CSeq"),
            Self::CSeqMethodMismatch => f.write_str("CSeq method does not match"),
            Self::BadMaxForwards => f.write_str("invalid Max-Forwards"),
            Self::BadContentLength => f.write_str("invalid Content-Length"),
            Self::BodyTooShort => f.write_str("body shorter than Content-Length"),
        }
    }
}

/// Whatever could be read of a rejected message's head, so that a request can still be
/// answered. The values are the raw header texts (unfolded, trimmed); nothing in them has been
/// validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartialHead {
    /// The start line did not begin with `SIP/`.
    pub is_request: bool,
    /// The first word of a Request-Line, if any.
    pub method: Option<String>,
    /// Every Via value, in order (comma-separated values split).
    pub vias: Vec<String>,
    /// The first From value.
    pub from: Option<String>,
    /// The first To value.
    pub to: Option<String>,
    /// The first Call-ID value.
    pub call_id: Option<String>,
    /// The first CSeq value.
    pub cseq: Option<String>,
}

/// A message or header value that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Details for logs (may quote the input).
    pub detail: String,
    /// The head fields that could be read, when the error came from parsing a whole message
    /// (boxed to keep the error small).
    pub head: Option<Box<PartialHead>>,
}

impl ParseError {
    /// An error without a partial head.
    pub(crate) fn new(kind: ParseErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            head: None,
        }
    }

    /// The status to answer a request with: 505 for a wrong SIP version, 513 for a message
    /// over the limits, 400 for everything else.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            ParseErrorKind::BadVersion => StatusCode::VERSION_NOT_SUPPORTED,
            ParseErrorKind::TooLarge => StatusCode::MESSAGE_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A reason phrase naming the problem, e.g. `Bad Request - missing Call-ID`: printable
    /// ASCII only, fit for a Status-Line.
    pub fn reason_phrase(&self) -> String {
        let status = self.status();
        let phrase = match self.kind {
            ParseErrorKind::BadVersion | ParseErrorKind::TooLarge => status.reason().to_owned(),
            _ => format!("{} - {}", status.reason(), self.kind),
        };
        phrase
            .chars()
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// The bytes of the response answering a rejected request (status [`Self::status`], reason
    /// [`Self::reason_phrase`]), built from the partial head as RFC 3261 §8.2.6.2 asks: all
    /// Via values in order, From, To (with a To tag added when it has none), Call-ID, CSeq, and
    /// `Content-Length: 0`. `None` when the message was a response or an ACK (neither is ever
    /// answered), or when any of those fields could not be read: drop the message then.
    ///
    /// The tag added to To is derived from the request (a hash of its Call-ID, CSeq, From and
    /// top Via), so a retransmission gets the same answer.
    pub fn bad_request_response(&self) -> Option<Vec<u8>> {
        let head = self.head.as_ref()?;
        if !head.is_request {
            return None;
        }
        let top_via = head.vias.first()?;
        let from = head.from.as_deref()?;
        let to = head.to.as_deref()?;
        let call_id = head.call_id.as_deref()?;
        let cseq = head.cseq.as_deref()?;
        let cseq_method = cseq.split_ascii_whitespace().nth(1);
        if head.method.as_deref() == Some("ACK") || cseq_method == Some("ACK") {
            return None;
        }
        let mut to = to.to_owned();
        if to
            .parse::<NameAddr>()
            .is_ok_and(|addr| addr.tag().is_none())
        {
            let mut hash = Sha256::new();
            for part in [call_id, cseq, from, top_via.as_str()] {
                hash.update(part.as_bytes());
                hash.update(b"\n");
            }
            to.push_str(";tag=");
            to.push_str(&hex::encode(&hash.finalize()[..8]));
        }
        let status = self.status();
        let mut out = format!("SIP/2.0 {} {}\r\n", status.code(), self.reason_phrase());
        let mut line = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            // The values come from unfolded lines; make sure no CR or LF slipped through.
            out.extend(
                value
                    .chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
            );
            out.push_str("\r\n");
        };
        for via in &head.vias {
            line("Via", via);
        }
        line("From", from);
        line("To", &to);
        line("Call-ID", call_id);
        line("CSeq", cseq);
        line("Content-Length", "0");
        out.push_str("\r\n");
        Some(out.into_bytes())
    }
}
