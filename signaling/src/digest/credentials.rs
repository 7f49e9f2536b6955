//! Digest credentials: the value of `Authorization` and `Proxy-Authorization`
//! (RFC 3261 §22.2, §22.3, RFC 7616 §3.4).

use std::fmt;
use std::str::FromStr;

use super::algorithm::{Algorithm, Qop};
use super::error::{HeaderError, clip};
use super::params::{parse_digest_params, take, write_quoted};

/// Digest credentials: a response to a [`Challenge`](super::Challenge). It holds no password,
/// only the hash computed from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The realm of the challenge answered.
    pub realm: String,
    /// The nonce of the challenge answered.
    pub nonce: String,
    /// The digest URI: in SIP, the Request-URI of the request (RFC 3261 §22.4).
    pub uri: String,
    /// The response hash, lower-case hex.
    pub response: String,
    /// The algorithm; [`Algorithm::Md5`] when the header has none.
    pub algorithm: Algorithm,
    /// The client nonce; present when `qop` is.
    pub cnonce: Option<String>,
    /// The nonce count; present when `qop` is. Written as eight hex digits.
    pub nc: Option<u32>,
    /// The qop chosen, absent for an RFC 2069-style response.
    pub qop: Option<Qop>,
    /// The challenge's opaque value, echoed.
    pub opaque: Option<String>,
}

impl Credentials {
    /// Parses an `Authorization` or `Proxy-Authorization` value (without the header name).
    /// Unknown parameters (`userhash`, extensions) are ignored.
    ///
    /// # Errors
    ///
    /// A [`HeaderError`] naming what is wrong: another scheme, a syntax error, a missing
    /// parameter (`username`, `realm`, `nonce`, `uri`, `response`; `cnonce` and `nc` when `qop`
    /// is present), an unsupported algorithm, an unknown `qop`, or an `nc` that is not eight hex
    /// digits.
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        let mut params = parse_digest_params(value)?;
        let mut required =
            |name: &'static str| take(&mut params, name).ok_or(HeaderError::MissingParameter(name));
        let username = required("username")?;
        let realm = required("realm")?;
        let nonce = required("nonce")?;
        let uri = required("uri")?;
        let response = required("response")?;
        let algorithm = match take(&mut params, "algorithm") {
            Some(name) => name.parse()?,
            None => Algorithm::Md5,
        };
        let qop = take(&mut params, "qop")
            .map(|name| {
                Qop::from_name(&name).ok_or_else(|| HeaderError::InvalidValue {
                    param: "qop",
                    value: clip(&name),
                })
            })
            .transpose()?;
        let cnonce = take(&mut params, "cnonce");
        let nc = take(&mut params, "nc")
            .map(|value| parse_nc(&value))
            .transpose()?;
        if qop.is_some() {
            if cnonce.is_none() {
                return Err(HeaderError::MissingParameter("cnonce"));
            }
            if nc.is_none() {
                return Err(HeaderError::MissingParameter("nc"));
            }
        }
        let opaque = take(&mut params, "opaque");
        Ok(Self {
            username,
            realm,
            nonce,
            uri,
            response,
            algorithm,
            cnonce,
            nc,
            qop,
            opaque,
        })
    }
}

/// `nc-value = 8LHEX` (RFC 7616 §3.4); upper-case hex digits are accepted too.
fn parse_nc(value: &str) -> Result<u32, HeaderError> {
    let invalid = || HeaderError::InvalidValue {
        param: "nc",
        value: clip(value),
    };
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    u32::from_str_radix(value, 16).map_err(|_| invalid())
}

impl FromStr for Credentials {
    type Err = HeaderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The header value: `Digest username="…", realm="…", nonce="…", uri="…", response="…",
/// algorithm=…[, cnonce="…"][, nc=…][, qop=…][, opaque="…"]`.
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest username=")?;
        write_quoted(f, &self.username)?;
        f.write_str(", realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        write_quoted(f, &self.nonce)?;
        f.write_str(", uri=")?;
        write_quoted(f, &self.uri)?;
        f.write_str(", response=")?;
        write_quoted(f, &self.response)?;
        write!(f, ", algorithm={}", self.algorithm)?;
        if let Some(cnonce) = &self.cnonce {
            f.write_str(", cnonce=")?;
            write_quoted(f, cnonce)?;
        }
        if let Some(nc) = self.nc {
            write!(f, ", nc={nc:08x}")?;
        }
        if let Some(qop) = self.qop {
            write!(f, ", qop={qop}")?;
        }
        if let Some(opaque) = &self.opaque {
            f.write_str(", opaque=")?;
            write_quoted(f, opaque)?;
        }
        Ok(())
    }
}
