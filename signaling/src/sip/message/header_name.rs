//! Header field names: case-insensitive (RFC 3261 §7.3.1), compact forms expanded (RFC 3261
//! §7.3.3 and the extensions that define one), canonical capitalisation for known names.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::FromStr;

use super::error::{ParseError, ParseErrorKind};
use super::grammar::{is_token, is_token_char};

/// A header field name. Known names (and their compact forms) hold their canonical spelling
/// (`Call-ID`, `CSeq`, `WWW-Authenticate`); unknown names keep the text they were written with.
/// Equality and hashing ignore ASCII case.
#[derive(Clone, Debug)]
pub struct HeaderName(Cow<'static, str>);

/// Declares the name constants and the table of known names from one list.
macro_rules! known_names {
    ($( $(#[$doc:meta])* $konst:ident = $name:literal; )*) => {
        impl HeaderName {
            $(
                $(#[$doc])*
                pub const $konst: Self = Self(Cow::Borrowed($name));
            )*
        }

        /// Every known name, canonically spelled.
        const KNOWN: &[&str] = &[$($name),*];
    };
}

known_names! {
    /// Accept (RFC 3261 §20.1).
    ACCEPT = "Accept";
    /// Accept-Contact (RFC 3841 §9.2; compact `a`).
    ACCEPT_CONTACT = "Accept-Contact";
    /// Accept-Encoding (RFC 3261 §20.2).
    ACCEPT_ENCODING = "Accept-Encoding";
    /// Accept-Language (RFC 3261 §20.3).
    ACCEPT_LANGUAGE = "Accept-Language";
    /// Accept-Resource-Priority (RFC 4412).
    ACCEPT_RESOURCE_PRIORITY = "Accept-Resource-Priority";
    /// Alert-Info (RFC 3261 §20.4).
    ALERT_INFO = "Alert-Info";
    /// Allow (RFC 3261 §20.5).
    ALLOW = "Allow";
    /// Allow-Events (RFC 6665 §8.2.2; compact `u`).
    ALLOW_EVENTS = "Allow-Events";
    /// Authentication-Info (RFC 3261 §20.6).
    AUTHENTICATION_INFO = "Authentication-Info";
    /// Authorization (RFC 3261 §20.7).
    AUTHORIZATION = "Authorization";
    /// Call-ID (RFC 3261 §20.8; compact `i`).
    CALL_ID = "Call-ID";
    /// Call-Info (RFC 3261 §20.9).
    CALL_INFO = "Call-Info";
    /// Contact (RFC 3261 §20.10; compact `m`).
    CONTACT = "Contact";
    /// Content-Disposition (RFC 3261 §20.11).
    CONTENT_DISPOSITION = "Content-Disposition";
    /// Content-Encoding (RFC 3261 §20.12; compact `e`).
    CONTENT_ENCODING = "Content-Encoding";
    /// Content-Language (RFC 3261 §20.13).
    CONTENT_LANGUAGE = "Content-Language";
    /// Content-Length (RFC 3261 §20.14; compact `l`).
    CONTENT_LENGTH = "Content-Length";
    /// Content-Type (RFC 3261 §20.15; compact `c`).
    CONTENT_TYPE = "Content-Type";
    /// CSeq (RFC 3261 §20.16).
    CSEQ = "CSeq";
    /// Date (RFC 3261 §20.17).
    DATE = "Date";
    /// Error-Info (RFC 3261 §20.18).
    ERROR_INFO = "Error-Info";
    /// Event (RFC 6665 §8.2.1; compact `o`).
    EVENT = "Event";
    /// Expires (RFC 3261 §20.19).
    EXPIRES = "Expires";
    /// From (RFC 3261 §20.20; compact `f`).
    FROM = "From";
    /// Identity (RFC 8224; compact `y`).
    IDENTITY = "Identity";
    /// Identity-Info (RFC 4474; compact `n`).
    IDENTITY_INFO = "Identity-Info";
    /// In-Reply-To (RFC 3261 §20.21).
    IN_REPLY_TO = "In-Reply-To";
    /// Max-Forwards (RFC 3261 §20.22).
    MAX_FORWARDS = "Max-Forwards";
    /// MIME-Version (RFC 3261 §20.24).
    MIME_VERSION = "MIME-Version";
    /// Min-Expires (RFC 3261 §20.23).
    MIN_EXPIRES = "Min-Expires";
    /// Min-SE (RFC 4028 §5).
    MIN_SE = "Min-SE";
    /// Organization (RFC 3261 §20.25).
    ORGANIZATION = "Organization";
    /// P-Asserted-Identity (RFC 3325 §9.1).
    P_ASSERTED_IDENTITY = "P-Asserted-Identity";
    /// P-Preferred-Identity (RFC 3325 §9.2).
    P_PREFERRED_IDENTITY = "P-Preferred-Identity";
    /// Path (RFC 3327).
    PATH = "Path";
    /// Priority (RFC 3261 §20.26).
    PRIORITY = "Priority";
    /// Privacy (RFC 3323).
    PRIVACY = "Privacy";
    /// Proxy-Authenticate (RFC 3261 §20.27).
    PROXY_AUTHENTICATE = "Proxy-Authenticate";
    /// Proxy-Authorization (RFC 3261 §20.28).
    PROXY_AUTHORIZATION = "Proxy-Authorization";
    /// Proxy-Require (RFC 3261 §20.29).
    PROXY_REQUIRE = "Proxy-Require";
    /// RAck (RFC 3262 §7.2).
    RACK = "RAck";
    /// Reason (RFC 3326).
    REASON = "Reason";
    /// Record-Route (RFC 3261 §20.30).
    RECORD_ROUTE = "Record-Route";
    /// Refer-To (RFC 3515 §2.1; compact `r`).
    REFER_TO = "Refer-To";
    /// Referred-By (RFC 3892; compact `b`).
    REFERRED_BY = "Referred-By";
    /// Reject-Contact (RFC 3841 §9.3; compact `j`).
    REJECT_CONTACT = "Reject-Contact";
    /// Replaces (RFC 3891).
    REPLACES = "Replaces";
    /// Reply-To (RFC 3261 §20.31).
    REPLY_TO = "Reply-To";
    /// Request-Disposition (RFC 3841 §9.1; compact `d`).
    REQUEST_DISPOSITION = "Request-Disposition";
    /// Require (RFC 3261 §20.32).
    REQUIRE = "Require";
    /// Resource-Priority (RFC 4412).
    RESOURCE_PRIORITY = "Resource-Priority";
    /// Retry-After (RFC 3261 §20.33).
    RETRY_AFTER = "Retry-After";
    /// Route (RFC 3261 §20.34).
    ROUTE = "Route";
    /// RSeq (RFC 3262 §7.1).
    RSEQ = "RSeq";
    /// Security-Client (RFC 3329).
    SECURITY_CLIENT = "Security-Client";
    /// Security-Server (RFC 3329).
    SECURITY_SERVER = "Security-Server";
    /// Security-Verify (RFC 3329).
    SECURITY_VERIFY = "Security-Verify";
    /// Server (RFC 3261 §20.35).
    SERVER = "Server";
    /// Service-Route (RFC 3608).
    SERVICE_ROUTE = "Service-Route";
    /// Session-Expires (RFC 4028 §4; compact `x`).
    SESSION_EXPIRES = "Session-Expires";
    /// SIP-ETag (RFC 3903 §11.3.1).
    SIP_ETAG = "SIP-ETag";
    /// SIP-If-Match (RFC 3903 §11.3.2).
    SIP_IF_MATCH = "SIP-If-Match";
    /// Subject (RFC 3261 §20.36; compact `s`).
    SUBJECT = "Subject";
    /// Subscription-State (RFC 6665 §8.2.3).
    SUBSCRIPTION_STATE = "Subscription-State";
    /// Supported (RFC 3261 §20.37; compact `k`).
    SUPPORTED = "Supported";
    /// Timestamp (RFC 3261 §20.38).
    TIMESTAMP = "Timestamp";
    /// To (RFC 3261 §20.39; compact `t`).
    TO = "To";
    /// Unsupported (RFC 3261 §20.40).
    UNSUPPORTED = "Unsupported";
    /// User-Agent (RFC 3261 §20.41).
    USER_AGENT = "User-Agent";
    /// Via (RFC 3261 §20.42; compact `v`).
    VIA = "Via";
    /// Warning (RFC 3261 §20.43).
    WARNING = "Warning";
    /// WWW-Authenticate (RFC 3261 §20.44).
    WWW_AUTHENTICATE = "WWW-Authenticate";
}

/// Compact forms (RFC 3261 §7.3.3 and the RFCs cited on the constants).
const COMPACT: &[(u8, &str)] = &[
    (b'a', "Accept-Contact"),
    (b'b', "Referred-By"),
    (b'c', "Content-Type"),
    (b'd', "Request-Disposition"),
    (b'e', "Content-Encoding"),
    (b'f', "From"),
    (b'i', "Call-ID"),
    (b'j', "Reject-Contact"),
    (b'k', "Supported"),
    (b'l', "Content-Length"),
    (b'm', "Contact"),
    (b'n', "Identity-Info"),
    (b'o', "Event"),
    (b'r', "Refer-To"),
    (b's', "Subject"),
    (b't', "To"),
    (b'u', "Allow-Events"),
    (b'v', "Via"),
    (b'x', "Session-Expires"),
    (b'y', "Identity"),
];

/// Headers whose grammar is a comma-separated list (`x *(COMMA x)`): the parser splits them
/// into one entry per element (RFC 3261 §7.3.1). Headers whose values contain commas by
/// nature (WWW-Authenticate, Authorization, Date, Retry-After...) are not listed.
const LISTS: &[&str] = &[
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Resource-Priority",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Call-Info",
    "Contact",
    "Content-Encoding",
    "Content-Language",
    "Error-Info",
    "In-Reply-To",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Proxy-Require",
    "Reason",
    "Record-Route",
    "Reject-Contact",
    "Request-Disposition",
    "Require",
    "Resource-Priority",
    "Route",
    "Security-Client",
    "Security-Server",
    "Security-Verify",
    "Service-Route",
    "Supported",
    "Unsupported",
    "Via",
    "Warning",
];

/// Headers that may appear at most once; a second one makes the message malformed (RFC 3261
/// §7.3.1; RFC 4475 §3.3.8 `multi01`, §3.3.9 `mcl01`).
pub(crate) const SINGLE: &[&str] = &[
    "Call-ID",
    "CSeq",
    "From",
    "To",
    "Max-Forwards",
    "Content-Length",
    "Content-Type",
    "Expires",
    "Date",
];

/// The canonical spelling of a known name or compact form.
fn canonical(name: &str) -> Option<&'static str> {
    if let [b] = name.as_bytes() {
        let b = b.to_ascii_lowercase();
        return COMPACT.iter().find(|(c, _)| *c == b).map(|(_, n)| *n);
    }
    KNOWN.iter().copied().find(|k| k.eq_ignore_ascii_case(name))
}

impl HeaderName {
    /// Validates a name (a token, RFC 3261 §25.1 `header-name`), expanding compact forms and
    /// canonicalising known names.
    pub fn new(name: &str) -> Result<Self, ParseError> {
        if !is_token(name) {
            return Err(ParseError::new(
                ParseErrorKind::BadHeader(String::new()),
                format!("header name {name:?} is not a token"),
            ));
        }
        Ok(Self::from(name))
    }

    /// The name as printed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True if this is the header `name` (any case, or its compact form).
    pub fn is(&self, name: &str) -> bool {
        self.0.eq_ignore_ascii_case(canonical(name).unwrap_or(name))
    }

    /// True for headers the parser splits at top-level commas.
    pub(crate) fn is_list(&self) -> bool {
        LISTS.iter().any(|l| self.0.eq_ignore_ascii_case(l))
    }
}

impl From<&str> for HeaderName {
    /// Like [`HeaderName::new`], but infallible: characters outside the token set become `-`
    /// (and an empty name `X`), so that no name can break a printed message.
    fn from(name: &str) -> Self {
        if let Some(known) = canonical(name) {
            return Self(Cow::Borrowed(known));
        }
        if name.is_empty() {
            return Self(Cow::Borrowed("X"));
        }
        Self(Cow::Owned(
            name.bytes()
                .map(|b| if is_token_char(b) { char::from(b) } else { '-' })
                .collect(),
        ))
    }
}

impl From<String> for HeaderName {
    /// See `From<&str>`.
    fn from(name: String) -> Self {
        if canonical(&name).is_none() && is_token(&name) {
            Self(Cow::Owned(name))
        } else {
            Self::from(name.as_str())
        }
    }
}

impl FromStr for HeaderName {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        Self::new(s)
    }
}

impl Deref for HeaderName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for HeaderName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for HeaderName {}

impl Hash for HeaderName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(HeaderName::from("call-id").as_str(), "Call-ID");
        assert_eq!(HeaderName::from("i").as_str(), "Call-ID");
        assert_eq!(HeaderName::from("V").as_str(), "Via");
        assert_eq!(
            HeaderName::from("www-authenticate").as_str(),
            "WWW-Authenticate"
        );
        assert_eq!(HeaderName::from("X-Custom").as_str(), "X-Custom");
        assert_eq!(HeaderName::from("X-Custom"), HeaderName::from("x-custom"));
        assert_eq!(HeaderName::from("bad name:").as_str(), "bad-name-");
        assert!(HeaderName::new("bad name").is_err());
        assert!(HeaderName::VIA.is("v"));
        assert!(HeaderName::CSEQ.is("cseq"));
        assert!(HeaderName::VIA.is_list());
        assert!(!HeaderName::WWW_AUTHENTICATE.is_list());
    }
}
