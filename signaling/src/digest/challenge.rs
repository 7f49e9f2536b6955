//! Digest challenges: the value of `WWW-Authenticate` and `Proxy-Authenticate`
//! (RFC 3261 §22.1, RFC 7616 §3.3, RFC 8760).

use std::fmt;
use std::str::FromStr;

use super::algorithm::{Algorithm, Qop};
use super::error::{HeaderError, clip};
use super::params::{parse_digest_params, take, write_quoted};

/// A digest challenge.
///
/// ```
/// use signaling::digest::{Algorithm, Challenge, Qop};
///
/// let challenge: Challenge =
///     r#"Digest realm="sip.example.com", nonce="abc", algorithm=SHA-256, qop="auth""#
///         .parse()
///         .unwrap();
/// assert_eq!(challenge.algorithm, Algorithm::Sha256);
/// assert_eq!(challenge.qop, [Qop::Auth]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space, shown to users and part of HA1.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Opaque data to echo back unchanged.
    pub opaque: Option<String>,
    /// The algorithm; [`Algorithm::Md5`] when the header has none.
    pub algorithm: Algorithm,
    /// The qop options offered, in the server's order; unknown options are dropped. Empty when
    /// the header has no `qop` (RFC 2069 compatibility).
    pub qop: Vec<Qop>,
    /// The previous request's nonce was stale: retry with this nonce without asking for the
    /// password again (RFC 7616 §3.3).
    pub stale: bool,
}

impl Challenge {
    /// Parses a `WWW-Authenticate` or `Proxy-Authenticate` value (without the header name).
    /// Unknown parameters (`domain`, `userhash`, extensions) are ignored.
    ///
    /// # Errors
    ///
    /// A [`HeaderError`] naming what is wrong: another scheme, a syntax error, a missing
    /// `realm` or `nonce`, an unsupported algorithm, or an invalid `stale`.
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        let mut params = parse_digest_params(value)?;
        let realm = take(&mut params, "realm").ok_or(HeaderError::MissingParameter("realm"))?;
        let nonce = take(&mut params, "nonce").ok_or(HeaderError::MissingParameter("nonce"))?;
        let opaque = take(&mut params, "opaque");
        let algorithm = match take(&mut params, "algorithm") {
            Some(name) => name.parse()?,
            None => Algorithm::Md5,
        };
        let qop = take(&mut params, "qop")
            .map(|list| {
                list.split(',')
                    .filter_map(|q| Qop::from_name(q.trim()))
                    .collect()
            })
            .unwrap_or_default();
        let stale = match take(&mut params, "stale") {
            None => false,
            Some(flag) if flag.eq_ignore_ascii_case("true") => true,
            Some(flag) if flag.eq_ignore_ascii_case("false") => false,
            Some(flag) => {
                return Err(HeaderError::InvalidValue {
                    param: "stale",
                    value: clip(&flag),
                });
            }
        };
        Ok(Self {
            realm,
            nonce,
            opaque,
            algorithm,
            qop,
            stale,
        })
    }
}

impl FromStr for Challenge {
    type Err = HeaderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The header value: `Digest realm="…", nonce="…"[, opaque="…"], algorithm=…[, qop="…"]
/// [, stale=TRUE]`.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digest realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(", nonce=")?;
        write_quoted(f, &self.nonce)?;
        if let Some(opaque) = &self.opaque {
            f.write_str(", opaque=")?;
            write_quoted(f, opaque)?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if !self.qop.is_empty() {
            f.write_str(", qop=\"")?;
            for (i, qop) in self.qop.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                f.write_str(qop.as_str())?;
            }
            f.write_str("\"")?;
        }
        if self.stale {
            f.write_str(", stale=TRUE")?;
        }
        Ok(())
    }
}
