//! Why a digest header value does not parse.

use thiserror::Error;

/// The longest piece of input echoed in an error, in characters.
const ECHO_LIMIT: usize = 64;

/// Why a `WWW-Authenticate`, `Proxy-Authenticate`, `Authorization` or `Proxy-Authorization`
/// value is not a usable digest header.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// The value is empty or only whitespace.
    #[error("empty header value")]
    Empty,
    /// The authentication scheme is not `Digest`.
    #[error("authentication scheme {0:?} is not Digest")]
    NotDigest(String),
    /// The parameter list does not follow the grammar (RFC 3261 §25.1, RFC 7235 §2.1).
    #[error("syntax error at byte {position}: expected {expected}")]
    Syntax {
        /// Byte offset into the header value.
        position: usize,
        /// What the grammar allows there.
        expected: &'static str,
    },
    /// A quoted string has no closing quote.
    #[error("quoted string starting at byte {position} is not terminated")]
    UnterminatedQuotedString {
        /// Byte offset of the opening quote.
        position: usize,
    },
    /// A control character (other than a tab) inside a quoted string.
    #[error("control character at byte {position} inside a quoted string")]
    ControlCharacter {
        /// Byte offset of the character.
        position: usize,
    },
    /// A parameter appears twice (RFC 7616 §3.3, §3.4: each at most once).
    #[error("parameter {0:?} appears more than once")]
    DuplicateParameter(String),
    /// A required parameter is absent.
    #[error("required parameter {0:?} is missing")]
    MissingParameter(&'static str),
    /// The `algorithm` parameter names an algorithm this crate does not implement.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A parameter's value is not valid for it.
    #[error("invalid value {value:?} for parameter {param:?}")]
    InvalidValue {
        /// The parameter name.
        param: &'static str,
        /// The value received (clipped to 64 characters).
        value: String,
    },
}

/// `s`, clipped to [`ECHO_LIMIT`] characters for an error message.
pub(super) fn clip(s: &str) -> String {
    s.chars().take(ECHO_LIMIT).collect()
}
