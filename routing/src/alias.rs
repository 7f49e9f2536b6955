//! Aliases: what a caller dialled, parsed and normalised for matching.
//!
//! - SIP URIs (RFC 3261 §19.1): `sip:`/`sips:` `[user[:password]@]host[:port][;params][?headers]`,
//!   optionally inside a name-addr (`"Room" <sip:…>`). A bare `user@host` is read as SIP.
//! - tel URIs / E.164 numbers (RFC 3966): `tel:+44 20 7946 0000;phone-context=…`; visual
//!   separators are dropped.
//! - H.323 aliases (H.225.0 `AliasAddress`): `dialedDigits`, `h323-ID`, `url-ID`, `email-ID`,
//!   written `kind:value` (e.g. `h323-ID:Boardroom`), or untagged and recognised by shape.
//!
//! Normalisation for matching is case-folding (scheme, user and host are lowercased; SIP users
//! are case-sensitive on the wire, but dial plans are not) and, unless a rule matches against the
//! full URI, dropping URI parameters, headers, port and password: [`Alias::match_key`] gives
//! `user@host`, [`Alias::full_uri`] the normalised URI with its parameters.

use std::fmt;

use crate::Protocol;

/// Longest alias accepted, in bytes. Longer input is refused before any parsing.
pub const MAX_ALIAS_LEN: usize = 1024;

/// A parsed alias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alias {
    /// A SIP or SIPS URI.
    Sip(SipUri),
    /// A tel URI or E.164 number.
    Tel(TelNumber),
    /// An H.323 alias.
    H323(H323Alias),
}

/// A SIP URI, normalised: scheme, user, host and parameter names lowercased, user
/// percent-decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part, if any.
    pub user: Option<String>,
    /// Host name, IPv4 address or bracketed IPv6 address.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;name=value` or `;name`), in order.
    pub params: Vec<(String, Option<String>)>,
}

/// A telephone number: `+` and digits only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelNumber {
    /// The number without visual separators, e.g. `+442079460000`.
    pub number: String,
    /// tel URI parameters, in order.
    pub params: Vec<(String, Option<String>)>,
}

/// An H.323 alias (H.225.0 `AliasAddress` choices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H323Alias {
    /// `dialedDigits`: `0-9`, `#`, `*`, `,`.
    DialedDigits(String),
    /// `h323-ID`: free text, lowercased.
    H323Id(String),
    /// `url-ID`: a URL such as `h323:room@example.com`.
    UrlId(String),
    /// `email-ID`: `user@domain`.
    EmailId(String),
}

/// Why an alias could not be parsed. A SIP front end answers these with 400 (or 416 for an
/// unsupported scheme).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AliasError {
    /// Nothing was dialled.
    #[error("the alias is empty")]
    Empty,
    /// Longer than [`MAX_ALIAS_LEN`].
    #[error("the alias is longer than {MAX_ALIAS_LEN} bytes")]
    TooLong,
    /// Control characters or whitespace where none may be.
    #[error("the alias contains whitespace or control characters")]
    InvalidCharacter,
    /// A URI scheme this gateway does not route (e.g. `mailto:`).
    #[error("unsupported URI scheme `{0}`")]
    UnsupportedScheme(String),
    /// The host part is missing or malformed.
    #[error("invalid host `{0}`")]
    InvalidHost(String),
    /// The port is not a number from 1 to 65535.
    #[error("invalid port `{0}`")]
    InvalidPort(String),
    /// A `%` escape is not followed by two hex digits.
    #[error("invalid percent-escape in `{0}`")]
    InvalidEscape(String),
    /// A telephone number has no digits or has characters a number cannot have.
    #[error("invalid telephone number `{0}`")]
    InvalidNumber(String),
    /// An H.323 alias of an unknown kind (`kind:value`).
    #[error("unknown H.323 alias kind `{0}` (expected dialedDigits, h323-ID, url-ID or email-ID)")]
    UnknownH323Kind(String),
}

impl Alias {
    /// Parses what a caller dialled on `protocol`.
    pub fn parse(text: &str, protocol: Protocol) -> Result<Self, AliasError> {
        if text.len() > MAX_ALIAS_LEN {
            return Err(AliasError::TooLong);
        }
        let text = strip_name_addr(text.trim());
        if text.is_empty() {
            return Err(AliasError::Empty);
        }
        // An h323-ID is free text and may hold spaces; a URI never does (tel visual
        // separators aside).
        let spaces_allowed = protocol == Protocol::H323 || is_tel(text) || looks_like_number(text);
        if text
            .chars()
            .any(|c| c.is_control() || (c.is_whitespace() && !spaces_allowed))
        {
            return Err(AliasError::InvalidCharacter);
        }
        // H.323 tags first: `dialedDigits:123` would otherwise read as host `dialedDigits`
        // with port 123.
        if protocol == Protocol::H323
            && let Some((tag, value)) = text.split_once(':')
            && H323_TAGS.contains(&tag.to_ascii_lowercase().as_str())
        {
            return H323Alias::parse_tagged(&tag.to_ascii_lowercase(), value).map(Self::H323);
        }
        if let Some((scheme, rest)) = split_scheme(text) {
            return match scheme.as_str() {
                "sip" => SipUri::parse(rest, false).map(Self::Sip),
                "sips" => SipUri::parse(rest, true).map(Self::Sip),
                "tel" => TelNumber::parse(rest).map(Self::Tel),
                "h323" if protocol == Protocol::H323 => Ok(Self::H323(H323Alias::UrlId(format!(
                    "h323:{}",
                    rest.to_lowercase()
                )))),
                _ => match protocol {
                    Protocol::H323 => H323Alias::parse_tagged(&scheme, rest).map(Self::H323),
                    Protocol::Sip => Err(AliasError::UnsupportedScheme(scheme)),
                },
            };
        }
        match protocol {
            Protocol::Sip if looks_like_number(text) && !text.contains('@') => {
                TelNumber::parse(text).map(Self::Tel)
            }
            Protocol::Sip => SipUri::parse(text, false).map(Self::Sip),
            Protocol::H323 => Ok(Self::H323(H323Alias::untagged(text))),
        }
    }

    /// The normalised `user@host` form rules match against by default (no parameters, port or
    /// password). A tel number gives its digits; an H.323 alias its value.
    pub fn match_key(&self) -> String {
        match self {
            Self::Sip(uri) => match &uri.user {
                Some(user) => format!("{user}@{}", uri.host),
                None => uri.host.clone(),
            },
            Self::Tel(tel) => tel.number.clone(),
            Self::H323(alias) => alias.match_key(),
        }
    }

    /// The normalised full URI, with parameters, for rules with `match_full_uri = true`.
    pub fn full_uri(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sip(uri) => {
                f.write_str(if uri.secure { "sips:" } else { "sip:" })?;
                if let Some(user) = &uri.user {
                    write!(f, "{user}@")?;
                }
                f.write_str(&uri.host)?;
                if let Some(port) = uri.port {
                    write!(f, ":{port}")?;
                }
                write_params(f, &uri.params)
            }
            Self::Tel(tel) => {
                write!(f, "tel:{}", tel.number)?;
                write_params(f, &tel.params)
            }
            Self::H323(alias) => match alias {
                H323Alias::DialedDigits(d) => write!(f, "dialedDigits:{d}"),
                H323Alias::H323Id(id) => write!(f, "h323-ID:{id}"),
                H323Alias::UrlId(url) => write!(f, "url-ID:{url}"),
                H323Alias::EmailId(email) => write!(f, "email-ID:{email}"),
            },
        }
    }
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &[(String, Option<String>)]) -> fmt::Result {
    for (name, value) in params {
        match value {
            Some(value) => write!(f, ";{name}={value}")?,
            None => write!(f, ";{name}")?,
        }
    }
    Ok(())
}

impl SipUri {
    /// Parses what follows `sip:` (or a bare `user@host`).
    fn parse(rest: &str, secure: bool) -> Result<Self, AliasError> {
        // Headers (`?…`) never take part in routing.
        let rest = rest.split_once('?').map_or(rest, |(uri, _headers)| uri);
        let (user_host, params) = match rest.split_once(';') {
            Some((user_host, params)) => (user_host, parse_params(params)),
            None => (rest, Vec::new()),
        };
        // The user part may itself contain '@' only escaped, so the last '@' ends it.
        let (user, host_port) = match user_host.rsplit_once('@') {
            Some((user_info, host_port)) => {
                // `user:password`: the password is dropped.
                let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
                if user.is_empty() {
                    (None, host_port)
                } else {
                    (Some(percent_decode(user)?.to_lowercase()), host_port)
                }
            }
            None => (None, user_host),
        };
        let (host, port) = split_host_port(host_port)?;
        Ok(Self {
            secure,
            user,
            host,
            port,
            params,
        })
    }
}

impl TelNumber {
    fn parse(rest: &str) -> Result<Self, AliasError> {
        let (number, params) = match rest.split_once(';') {
            Some((number, params)) => (number, parse_params(params)),
            None => (rest, Vec::new()),
        };
        // RFC 3966 visual separators: "-", ".", "(", ")" (and spaces, which dial strings carry).
        let number: String = number
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
            .collect();
        let digits = number.strip_prefix('+').unwrap_or(&number);
        if digits.is_empty()
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#'))
        {
            return Err(AliasError::InvalidNumber(rest.to_owned()));
        }
        Ok(Self { number, params })
    }
}

impl H323Alias {
    fn parse_tagged(kind: &str, value: &str) -> Result<Self, AliasError> {
        match kind {
            "dialeddigits" | "e164" => Ok(Self::DialedDigits(value.to_owned())),
            "h323-id" => Ok(Self::H323Id(value.to_lowercase())),
            "url-id" => Ok(Self::UrlId(value.to_lowercase())),
            "email-id" => Ok(Self::EmailId(value.to_lowercase())),
            other => Err(AliasError::UnknownH323Kind(other.to_owned())),
        }
    }

    /// An untagged H.323 alias, recognised by its shape.
    fn untagged(value: &str) -> Self {
        if !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '#' | '*' | ','))
        {
            Self::DialedDigits(value.to_owned())
        } else if value.contains('@') {
            Self::EmailId(value.to_lowercase())
        } else {
            Self::H323Id(value.to_lowercase())
        }
    }

    fn match_key(&self) -> String {
        match self {
            Self::DialedDigits(v) | Self::H323Id(v) | Self::EmailId(v) => v.clone(),
            // `h323:user@host` and `sip:user@host` URLs match as `user@host`.
            Self::UrlId(url) => url
                .split_once(':')
                .map_or(url.as_str(), |(_, rest)| rest)
                .split(';')
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// H.323 alias kinds as written before the colon, lowercased (`e164` is an older name of
/// `dialedDigits`).
const H323_TAGS: [&str; 5] = ["dialeddigits", "e164", "h323-id", "url-id", "email-id"];

/// `"Display Name" <sip:…>` → `sip:…`.
fn strip_name_addr(text: &str) -> &str {
    match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].trim(),
        _ => text,
    }
}

/// A URI scheme (letters, digits, `+-.`, starting with a letter) before `:`, lowercased. A
/// `host:port` is not a scheme: what follows a scheme's colon is not all digits.
fn split_scheme(text: &str) -> Option<(String, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let is_port = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit());
    (valid && !is_port && !scheme.contains('@')).then(|| (scheme.to_ascii_lowercase(), rest))
}

fn is_tel(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("tel:"))
}

fn looks_like_number(text: &str) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    !digits.is_empty()
        && digits.chars().any(|c| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '(' | ')' | '*' | '#' | ' '))
}

fn parse_params(params: &str) -> Vec<(String, Option<String>)> {
    params
        .split(';')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((name, value)) => (name.to_ascii_lowercase(), Some(value.to_owned())),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

fn split_host_port(text: &str) -> Result<(String, Option<u16>), AliasError> {
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| AliasError::InvalidHost(text.to_owned()))?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(AliasError::InvalidHost(text.to_owned()));
        }
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| AliasError::InvalidHost(text.to_owned()))?,
            ),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let trimmed = host.strip_suffix('.').unwrap_or(host);
        if host.len() > 253 || !trimmed.split('.').all(valid_label) {
            return Err(AliasError::InvalidHost(host.to_owned()));
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(port) if port > 0 => Ok(port),
            _ => Err(AliasError::InvalidPort(p.to_owned())),
        })
        .transpose()?;
    Ok((host, port))
}

/// RFC 3986 percent-decoding of a SIP user part.
fn percent_decode(text: &str) -> Result<String, AliasError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| AliasError::InvalidEscape(text.to_owned()))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| AliasError::InvalidEscape(text.to_owned()))?;
    if decoded.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AliasError::InvalidCharacter);
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(text: &str) -> Alias {
        Alias::parse(text, Protocol::Sip).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn h323(text: &str) -> Alias {
        Alias::parse(text, Protocol::H323).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn sip_uris_normalise_for_matching() {
        let cases = [
            (
                "sip:1234567890123@Example.COM",
                "1234567890123@example.com",
                "sip:1234567890123@example.com",
            ),
            (
                "SIP:Alice@Example.com:5070;transport=TCP",
                "alice@example.com",
                "sip:alice@example.com:5070;transport=TCP",
            ),
            (
                "sips:room@example.com;user=phone?subject=x",
                "room@example.com",
                "sips:room@example.com;user=phone",
            ),
            (
                "\"Board Room\" <sip:board@example.com>",
                "board@example.com",
                "sip:board@example.com",
            ),
            (
                "sip:alice:secret@example.com",
                "alice@example.com",
                "sip:alice@example.com",
            ),
            (
                "sip:meet%2Droom@example.com",
                "meet-room@example.com",
                "sip:meet-room@example.com",
            ),
            ("sip:example.com", "example.com", "sip:example.com"),
            (
                "sip:bob@[2001:DB8::1]:5060",
                "bob@[2001:db8::1]",
                "sip:bob@[2001:db8::1]:5060",
            ),
            ("sip:bob@192.0.2.4", "bob@192.0.2.4", "sip:bob@192.0.2.4"),
            (
                "abc-defg-hij@meet.example.com",
                "abc-defg-hij@meet.example.com",
                "sip:abc-defg-hij@meet.example.com",
            ),
        ];
        for (input, key, full) in cases {
            let alias = sip(input);
            assert_eq!(alias.match_key(), key, "{input}");
            assert_eq!(alias.full_uri(), full, "{input}");
        }
    }

    #[test]
    fn tel_numbers_drop_separators() {
        let alias = sip("tel:+44-20-7946-0000;phone-context=example.com");
        assert_eq!(alias.match_key(), "+442079460000");
        assert_eq!(
            alias.full_uri(),
            "tel:+442079460000;phone-context=example.com"
        );
        assert_eq!(sip("+1 (555) 010-9999").match_key(), "+15550109999");
        assert_eq!(sip("1234567890123").match_key(), "1234567890123");
        assert!(matches!(
            Alias::parse("tel:+", Protocol::Sip),
            Err(AliasError::InvalidNumber(_))
        ));
    }

    #[test]
    fn h323_aliases_by_tag_and_by_shape() {
        assert_eq!(
            h323("dialedDigits:1234567890123").match_key(),
            "1234567890123"
        );
        assert_eq!(h323("h323-ID:Boardroom-3").match_key(), "boardroom-3");
        assert_eq!(
            h323("url-ID:h323:Room@Example.com").match_key(),
            "room@example.com"
        );
        assert_eq!(
            h323("email-ID:Alice@Example.com").match_key(),
            "alice@example.com"
        );
        assert_eq!(
            h323("h323:Room@Example.com").match_key(),
            "room@example.com"
        );
        assert_eq!(h323("8001#").match_key(), "8001#");
        assert!(matches!(
            h323("8001#"),
            Alias::H323(H323Alias::DialedDigits(_))
        ));
        assert!(matches!(
            h323("room@example.com"),
            Alias::H323(H323Alias::EmailId(_))
        ));
        assert_eq!(h323("h323-ID:Lobby Screen 2").match_key(), "lobby screen 2");
        assert_eq!(h323("Lobby Screen 2").match_key(), "lobby screen 2");
        assert!(matches!(
            h323("LobbyScreen"),
            Alias::H323(H323Alias::H323Id(_))
        ));
        assert_eq!(h323("sip:gw@example.com").match_key(), "gw@example.com");
        assert_eq!(
            Alias::parse("foo-ID:x", Protocol::H323),
            Err(AliasError::UnknownH323Kind("foo-id".into()))
        );
    }

    #[test]
    fn bad_aliases_are_refused_with_a_reason() {
        let refused = [
            ("", AliasError::Empty),
            ("   ", AliasError::Empty),
            (
                "mailto:a@example.com",
                AliasError::UnsupportedScheme("mailto".into()),
            ),
            ("sip:alice@exa mple.com", AliasError::InvalidCharacter),
            ("sip:alice@", AliasError::InvalidHost(String::new())),
            (
                "sip:alice@example..com",
                AliasError::InvalidHost("example..com".into()),
            ),
            (
                "sip:alice@example.com:0",
                AliasError::InvalidPort("0".into()),
            ),
            (
                "sip:alice@example.com:99999",
                AliasError::InvalidPort("99999".into()),
            ),
            (
                "sip:al%2@example.com",
                AliasError::InvalidEscape("al%2".into()),
            ),
            ("sip:al%0Aice@example.com", AliasError::InvalidCharacter),
            ("sip:bob@[::zz]", AliasError::InvalidHost("[::zz]".into())),
        ];
        for (input, expected) in refused {
            assert_eq!(
                Alias::parse(input, Protocol::Sip),
                Err(expected),
                "{input:?}"
            );
        }
        assert_eq!(
            Alias::parse(&"a".repeat(MAX_ALIAS_LEN + 1), Protocol::Sip),
            Err(AliasError::TooLong)
        );
    }
}
