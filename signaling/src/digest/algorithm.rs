//! Digest algorithms (RFC 7616 §3.2; RFC 8760 for SIP) and quality-of-protection values
//! (RFC 7616 §3.3).

use std::fmt;
use std::str::FromStr;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

use super::error::HeaderError;

/// A digest algorithm. The `-sess` variants (RFC 7616 §3.4.2) are not supported: SIP
/// deployments do not use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`: the RFC 3261 default, still what most SIP equipment speaks. The default when a
    /// header has no `algorithm` parameter (RFC 7616 §3.3).
    Md5,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-512-256`: SHA-512/256 (RFC 7616, RFC 8760).
    Sha512_256,
}

impl Algorithm {
    /// Every supported algorithm, strongest first (the order RFC 8760 §2.4 asks a server to
    /// offer challenges in).
    pub const ALL: [Self; 3] = [Self::Sha512_256, Self::Sha256, Self::Md5];

    /// The name in the `algorithm` parameter.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
            Self::Sha512_256 => "SHA-512-256",
        }
    }

    /// The algorithm named `name`, case-insensitively; `None` for an unsupported one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str().eq_ignore_ascii_case(name))
    }

    /// `H(parts joined by ':')` in lower-case hex (RFC 7616 §3.4.1).
    pub(super) fn hex_digest(self, parts: &[&[u8]]) -> String {
        match self {
            Self::Md5 => digest_parts::<Md5>(parts),
            Self::Sha256 => digest_parts::<Sha256>(parts),
            Self::Sha512_256 => digest_parts::<Sha512_256>(parts),
        }
    }
}

fn digest_parts<D: Digest>(parts: &[&[u8]]) -> String {
    let mut hasher = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = HeaderError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| HeaderError::UnsupportedAlgorithm(super::error::clip(s)))
    }
}

/// A quality-of-protection value (RFC 7616 §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication of the request line.
    Auth,
    /// `auth-int`: authentication with integrity of the body. Parsed, never offered and never
    /// accepted: it would need the request body, and SIP equipment does not use it.
    AuthInt,
}

impl Qop {
    /// The token on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::AuthInt => "auth-int",
        }
    }

    /// The qop named `name`, case-insensitively; `None` for an unknown one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Auth, Self::AuthInt]
            .into_iter()
            .find(|qop| qop.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
