//! The Reason header (RFC 3326): why a BYE or CANCEL was sent.
//!
//! ```text
//! Reason            =  "Reason" HCOLON reason-value *(COMMA reason-value)
//! reason-value      =  protocol *(SEMI reason-params)
//! protocol          =  "SIP" / "Q.850" / token
//! reason-params     =  protocol-cause / reason-text / reason-extension
//! protocol-cause    =  "cause" EQUAL cause
//! cause             =  1*DIGIT
//! reason-text       =  "text" EQUAL quoted-string
//! reason-extension  =  generic-param
//! ```
//!
//! The message parser splits a Reason header at top-level commas, so each [`Headers`] entry is
//! one `reason-value`: read them all with [`Reason::from_headers`].

use std::fmt;
use std::str::FromStr;

use super::params::{Params, is_token, quote, split_params, unquote, write_params};
use crate::sip::message::{HeaderName, Headers, ParseError, ParseErrorKind, StatusCode};

/// The protocol a Reason's cause belongs to (RFC 3326 §2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReasonProtocol {
    /// `SIP`: the cause is a SIP status code.
    Sip,
    /// `Q.850`: the cause is an ITU-T Q.850 cause value (16 = normal call clearing).
    Q850,
    /// Any other protocol token, as written.
    Other(String),
}

impl ReasonProtocol {
    /// The protocol as printed.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sip => "SIP",
            Self::Q850 => "Q.850",
            Self::Other(token) => token,
        }
    }
}

impl fmt::Display for ReasonProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Reason header value (RFC 3326 §2), e.g.
/// `SIP;cause=200;text="Call completed by the node"` or `Q.850;cause=16`.
///
/// Parsing accepts whitespace around `;` and `=` and any case in `SIP`, `Q.850`, `cause` and
/// `text`; printing is canonical (`SIP;cause=200;text="..."`), so `parse(print(r)) == r`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The protocol.
    pub protocol: ReasonProtocol,
    /// The `cause` parameter. RFC 3326 always sends one; a value without it is still
    /// accepted.
    pub cause: Option<u16>,
    /// The `text` parameter, decoded (quotes removed, quoted-pairs resolved).
    pub text: Option<String>,
    /// Every other parameter (`reason-extension`), as written.
    pub params: Vec<(String, Option<String>)>,
}

impl Reason {
    /// `SIP;cause=<status>`: the SIP status that explains the request (RFC 3326 §2, e.g. 200
    /// for a call completed normally).
    pub fn sip(status: StatusCode) -> Self {
        Self::new(ReasonProtocol::Sip, status.code())
    }

    /// `Q.850;cause=<cause>` (RFC 3326 §2; 16 is normal call clearing, 31 normal unspecified).
    pub fn q850(cause: u16) -> Self {
        Self::new(ReasonProtocol::Q850, cause)
    }

    /// A reason with a protocol and cause, no text.
    pub fn new(protocol: ReasonProtocol, cause: u16) -> Self {
        Self {
            protocol,
            cause: Some(cause),
            text: None,
            params: Vec::new(),
        }
    }

    /// Adds or replaces the `text` parameter.
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Every Reason value of a message, in order.
    pub fn from_headers(headers: &Headers) -> Result<Vec<Self>, ParseError> {
        headers
            .get_all(&HeaderName::REASON)
            .map(str::parse)
            .collect()
    }
}

fn bad(detail: String) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeader("Reason".into()), detail)
}

impl FromStr for Reason {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let (protocol, params) = split_params(s).map_err(bad)?;
        if !is_token(protocol) {
            return Err(bad(format!("protocol {protocol:?} is not a token")));
        }
        let protocol = if protocol.eq_ignore_ascii_case("SIP") {
            ReasonProtocol::Sip
        } else if protocol.eq_ignore_ascii_case("Q.850") {
            ReasonProtocol::Q850
        } else {
            ReasonProtocol::Other(protocol.to_owned())
        };
        let mut reason = Self {
            protocol,
            cause: None,
            text: None,
            params: Params::new(),
        };
        for (name, value) in params {
            if name.eq_ignore_ascii_case("cause") {
                if reason.cause.is_some() {
                    return Err(bad("two cause parameters".into()));
                }
                let cause = value
                    .as_deref()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u16>().ok())
                    .ok_or_else(|| bad(format!("cause {value:?} is not a number")))?;
                reason.cause = Some(cause);
            } else if name.eq_ignore_ascii_case("text") {
                if reason.text.is_some() {
                    return Err(bad("two text parameters".into()));
                }
                let raw = value.ok_or_else(|| bad("text without a value".into()))?;
                reason.text = Some(unquote(&raw).map_err(bad)?);
            } else {
                reason.params.push((name, value));
            }
        }
        Ok(reason)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.protocol.as_str().to_owned();
        if let Some(cause) = self.cause {
            out.push_str(&format!(";cause={cause}"));
        }
        if let Some(text) = &self.text {
            out.push_str(";text=");
            out.push_str(&quote(text));
        }
        write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}
