//! URIs in SIP messages: SIP and SIPS URIs parsed into parts (RFC 3261 §19.1, §25.1), every
//! other absolute URI (`tel:`, `http:`, unknown schemes) kept opaque (RFC 3261 §25.1
//! `absoluteURI`), hosts including IPv6 references (RFC 5118, with the IPv6 grammar as
//! corrected by RFC 5954).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::error::{ParseError, ParseErrorKind};
use super::grammar::{check_escaped, escape_into, is_reserved, is_unreserved, unescape};

/// A URI scheme. Schemes are case-insensitive (RFC 3261 §19.1.4): other schemes are stored in
/// lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip` (RFC 3261 §19.1).
    Sip,
    /// `sips` (RFC 3261 §19.1).
    Sips,
    /// `tel` (RFC 3966); kept opaque.
    Tel,
    /// Any other scheme, lower case; kept opaque.
    Other(String),
}

impl Scheme {
    /// The scheme name as printed (lower case).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sip => "sip",
            Self::Sips => "sips",
            Self::Tel => "tel",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host (RFC 3261 §25.1 `host`): a domain name, an IPv4 address, or an IPv6 reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name, as written.
    Name(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written in brackets in URIs and Via sent-by).
    Ipv6(Ipv6Addr),
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::Ipv4(v4),
            IpAddr::V6(v6) => Self::Ipv6(v6),
        }
    }
}

impl FromStr for Host {
    type Err = ParseError;

    /// Parses `hostname / IPv4address / IPv6reference`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_host(s).map_err(|detail| ParseError::new(ParseErrorKind::BadUri, detail))
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Ipv4(ip) => write!(f, "{ip}"),
            Self::Ipv6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// Parses `hostname / IPv4address / IPv6reference` (RFC 3261 §25.1). Domain labels may also
/// contain `_`, which the grammar forbids but some devices use in host names.
pub(crate) fn parse_host(s: &str) -> Result<Host, String> {
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("unterminated IPv6 reference {s:?}"))?;
        return parse_ipv6(inner)
            .map(Host::Ipv6)
            .ok_or_else(|| format!("invalid IPv6 address {inner:?}"));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return parse_ipv4(s)
            .map(Host::Ipv4)
            .ok_or_else(|| format!("invalid IPv4 address {s:?}"));
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err("missing host".into());
    }
    let mut labels = name.split('.').peekable();
    while let Some(label) = labels.next() {
        let bytes = label.as_bytes();
        let ok = !bytes.is_empty()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-');
        if !ok {
            return Err(format!("invalid host name {s:?}"));
        }
        // toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum
        if labels.peek().is_none() && !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
            return Err(format!("invalid host name {s:?}"));
        }
    }
    Ok(Host::Name(s.to_owned()))
}

/// An IPv6 address as RFC 4291 writes it (RFC 5954 made it the SIP grammar too),
/// plus the three-colon form before an embedded IPv4 address that the RFC 3261 ABNF allowed:
/// RFC 5118 §4.10 asks implementations to tolerate both (`2001:db8:::192.0.2.1` reads as
/// `2001:db8::192.0.2.1`).
fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    let (_, last) = s.rsplit_once(':')?;
    if s.matches(":::").count() == 1 && last.contains('.') {
        return s.replacen(":::", "::", 1).parse().ok();
    }
    None
}

/// `IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`, each at most 255.
fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// A URI.
///
/// For `sip:` and `sips:` the parts are parsed and `%` escapes decoded (user, password,
/// parameter and header names and values hold the decoded text; printing escapes again
/// whatever needs it). For every other scheme the text after the colon is kept in `opaque`
/// as written, and `user`, `password`, `port`, `params` and `headers` are empty and `host`
/// is an empty name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    /// The scheme.
    pub scheme: Scheme,
    /// The user part, decoded; never empty when present.
    pub user: Option<String>,
    /// The password, decoded (RFC 3261 §19.1.1 discourages it; it is kept all the same).
    pub password: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, if written.
    pub port: Option<u16>,
    /// URI parameters (`;name[=value]`), decoded, in order.
    pub params: Vec<(String, Option<String>)>,
    /// Headers (`?name=value&...`), decoded, in order.
    pub headers: Vec<(String, String)>,
    /// The part after `scheme:` of a URI that is not SIP or SIPS, as written.
    pub opaque: Option<String>,
}

impl Uri {
    /// `sip:host`, to be completed through the public fields.
    pub fn sip(host: Host) -> Self {
        Self {
            scheme: Scheme::Sip,
            user: None,
            password: None,
            host,
            port: None,
            params: Vec::new(),
            headers: Vec::new(),
            opaque: None,
        }
    }

    /// True for `sip:` and `sips:` URIs.
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// The first parameter named `name` (case-insensitive): `Some(None)` for a parameter
    /// without a value such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

impl FromStr for Uri {
    type Err = ParseError;

    /// Parses a URI strictly (RFC 3261 §19.1, §25.1): no whitespace, a host in SIP URIs, a
    /// port that fits 16 bits, well-formed `%` escapes.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_uri(s).map_err(|detail| ParseError::new(ParseErrorKind::BadUri, detail))
    }
}

fn parse_uri(s: &str) -> Result<Uri, String> {
    let (scheme, rest) = s
        .split_once(':')
        .ok_or_else(|| format!("no scheme in {s:?}"))?;
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    if !scheme_ok {
        return Err(format!("invalid scheme in {s:?}"));
    }
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "sip" => Scheme::Sip,
        "sips" => Scheme::Sips,
        "tel" => Scheme::Tel,
        other => Scheme::Other(other.to_owned()),
    };
    if matches!(scheme, Scheme::Sip | Scheme::Sips) {
        return parse_sip(scheme, rest);
    }
    // absoluteURI: hier-part / opaque-part, all of it uric (reserved / unreserved / escaped);
    // "[" and "]" are allowed too for IPv6 literals (RFC 2732).
    if rest.is_empty() || !check_escaped(rest, |b| is_uric(b) || b == b'[' || b == b']') {
        return Err(format!("invalid URI {s:?}"));
    }
    Ok(Uri {
        scheme,
        user: None,
        password: None,
        host: Host::Name(String::new()),
        port: None,
        params: Vec::new(),
        headers: Vec::new(),
        opaque: Some(rest.to_owned()),
    })
}

fn is_uric(b: u8) -> bool {
    is_reserved(b) || is_unreserved(b)
}

/// `user` characters besides escapes: unreserved / user-unreserved.
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/".contains(&b)
}

/// `password` characters besides escapes.
fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,".contains(&b)
}

/// `paramchar` besides escapes: param-unreserved / unreserved.
fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$".contains(&b)
}

/// `hname` / `hvalue` characters besides escapes: hnv-unreserved / unreserved.
fn is_header_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$".contains(&b)
}

fn parse_sip(scheme: Scheme, rest: &str) -> Result<Uri, String> {
    // '@' appears nowhere in a SIP URI but after the userinfo.
    let (userinfo, hostpart) = match rest.split_once('@') {
        Some((userinfo, hostpart)) => (Some(userinfo), hostpart),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if user.is_empty() {
                return Err("empty user part".into());
            }
            let user = unescape(user, is_user_char)?;
            let password = password
                .map(|p| unescape(p, is_password_char))
                .transpose()?;
            (Some(user), password)
        }
    };

    // hostport
    let host_end = if hostpart.starts_with('[') {
        hostpart
            .find(']')
            .map(|i| i + 1)
            .ok_or("unterminated IPv6 reference")?
    } else {
        hostpart.find([':', ';', '?']).unwrap_or(hostpart.len())
    };
    let (host, mut rest) = hostpart.split_at(host_end);
    let host = parse_host(host)?;
    let mut port = None;
    if let Some(after) = rest.strip_prefix(':') {
        let end = after.find([';', '?']).unwrap_or(after.len());
        let (digits, after_port) = after.split_at(end);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid port {digits:?}"));
        }
        port = Some(
            digits
                .parse::<u16>()
                .map_err(|_| format!("port {digits:?} out of range"))?,
        );
        rest = after_port;
    }

    // uri-parameters
    let mut params = Vec::new();
    while let Some(after) = rest.strip_prefix(';') {
        let end = after.find([';', '?']).unwrap_or(after.len());
        let (param, after_param) = after.split_at(end);
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (param, None),
        };
        if name.is_empty() || value.is_some_and(str::is_empty) {
            return Err(format!("invalid URI parameter {param:?}"));
        }
        let name = unescape(name, is_param_char)?;
        let value = value.map(|v| unescape(v, is_param_char)).transpose()?;
        params.push((name, value));
        rest = after_param;
    }

    // headers
    let mut headers = Vec::new();
    if let Some(after) = rest.strip_prefix('?') {
        for header in after.split('&') {
            let (name, value) = header
                .split_once('=')
                .ok_or_else(|| format!("invalid URI header {header:?}"))?;
            if name.is_empty() {
                return Err(format!("invalid URI header {header:?}"));
            }
            headers.push((
                unescape(name, is_header_char)?,
                unescape(value, is_header_char)?,
            ));
        }
        rest = "";
    }
    if !rest.is_empty() {
        return Err(format!("unexpected {rest:?} after the host"));
    }
    Ok(Uri {
        scheme,
        user,
        password,
        host,
        port,
        params,
        headers,
        opaque: None,
    })
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        out.push_str(self.scheme.as_str());
        out.push(':');
        if let Some(opaque) = &self.opaque {
            out.push_str(opaque);
            return f.write_str(&out);
        }
        if let Some(user) = &self.user {
            escape_into(&mut out, user, is_user_char);
            if let Some(password) = &self.password {
                out.push(':');
                escape_into(&mut out, password, is_password_char);
            }
            out.push('@');
        }
        out.push_str(&self.host.to_string());
        if let Some(port) = self.port {
            out.push(':');
            out.push_str(&port.to_string());
        }
        for (name, value) in &self.params {
            out.push(';');
            escape_into(&mut out, name, is_param_char);
            if let Some(value) = value {
                out.push('=');
                escape_into(&mut out, value, is_param_char);
            }
        }
        for (i, (name, value)) in self.headers.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            escape_into(&mut out, name, is_header_char);
            out.push('=');
            escape_into(&mut out, value, is_header_char);
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn sip_uri_parts() {
        let u = uri("sip:alice:secret@Example.COM:5070;transport=tcp;lr?subject=hi%20there&x=");
        assert_eq!(u.scheme, Scheme::Sip);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, Host::Name("Example.COM".into()));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("TRANSPORT"), Some(Some("tcp")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(
            u.headers,
            vec![
                ("subject".into(), "hi there".into()),
                ("x".into(), String::new())
            ]
        );
        assert_eq!(uri(&u.to_string()), u);
    }

    #[test]
    fn escapes_are_decoded_and_reprinted() {
        let u = uri("sip:sips%3Auser%40example.com@example.net");
        assert_eq!(u.user.as_deref(), Some("sips:user@example.com"));
        assert_eq!(u.to_string(), "sip:sips%3Auser%40example.com@example.net");
        let u = uri("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u@example.net"));
        assert_eq!(uri(&u.to_string()), u);
    }

    #[test]
    fn ip_hosts() {
        assert_eq!(
            uri("sip:[2001:db8::10]:5070").host,
            Host::Ipv6("2001:db8::10".parse().unwrap())
        );
        assert_eq!(uri("sip:[2001:db8::10:5070]").port, None);
        assert_eq!(
            uri("sips:192.0.2.1").host,
            Host::Ipv4(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!("sip:2001:db8::10".parse::<Uri>().is_err());
        assert_eq!(
            uri("sip:user@[2001:db8:::192.0.2.1]").host,
            Host::Ipv6("2001:db8::192.0.2.1".parse().unwrap())
        );
        assert!("sip:[2001:db8:::1]".parse::<Uri>().is_err());
        assert!("sip:[::::192.0.2.1]".parse::<Uri>().is_err());
        assert!("sip:192.0.2.300".parse::<Uri>().is_err());
    }

    #[test]
    fn strictness() {
        for bad in [
            "sip:",
            "sip:@host",
            "sip:user@",
            "sip:host:",
            "sip:host:99999",
            "sip:host:5x",
            "sip:us er@host",
            "sip:host;",
            "sip:host;a=",
            "sip:host?x",
            "<sip:host>",
            "sip:host name",
            "nocolon",
            "1x:abc",
            "x:",
            "x:a b",
            "sip:user@host%zz",
            "sip:-bad.example.com",
            "sip:host.123",
        ] {
            assert!(bad.parse::<Uri>().is_err(), "{bad}");
        }
    }

    #[test]
    fn opaque_schemes() {
        let u = uri("soap.beep://192.0.2.103:3002");
        assert_eq!(u.scheme, Scheme::Other("soap.beep".into()));
        assert_eq!(u.opaque.as_deref(), Some("//192.0.2.103:3002"));
        assert_eq!(u.to_string(), "soap.beep://192.0.2.103:3002");
        let t = uri("TEL:+1-201-555-0123;phone-context=example.com");
        assert_eq!(t.scheme, Scheme::Tel);
        assert_eq!(
            t.to_string(),
            "tel:+1-201-555-0123;phone-context=example.com"
        );
    }
}
