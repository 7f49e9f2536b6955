//! name-addr values (RFC 3261 §20.10, §20.20, §20.39, §25.1): From, To, Contact, Route,
//! Record-Route, Refer-To.

use std::fmt;
use std::str::FromStr;

use super::params::{Params, find_param, parse_params, write_params};
use crate::sip::message::error::{ParseError, ParseErrorKind};
use crate::sip::message::grammar::{Cursor, is_token, is_token_char, quote_into};
use crate::sip::message::uri::Uri;

/// An address with optional display name and header parameters:
/// `( name-addr / addr-spec ) *( SEMI generic-param )`.
///
/// Parsing accepts both forms; in the bare addr-spec form every `;` after the URI starts a
/// header parameter, and a URI containing `?` or `,` is rejected since it must be enclosed in
/// `<>` (RFC 3261 §20.10; RFC 4475 §3.1.2.13 `regbadct`). Printing always uses `<>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, decoded (quotes and quoted-pairs resolved; the words of an unquoted
    /// name joined by single spaces). `Some("")` for an empty quoted name.
    pub display_name: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, `lr`...), as written; quoted values keep their
    /// quotes.
    pub params: Params,
}

impl NameAddr {
    /// An address without display name or parameters.
    pub fn new(uri: Uri) -> Self {
        Self {
            display_name: None,
            uri,
            params: Vec::new(),
        }
    }

    /// The `tag` parameter (RFC 3261 §19.3), if any.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    /// Sets the `tag` parameter, replacing any existing one.
    pub fn set_tag(&mut self, tag: impl Into<String>) {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        self.params.push(("tag".to_owned(), Some(tag.into())));
    }

    /// The first parameter called `name` (case-insensitive); `Some(None)` for one without a
    /// value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

impl FromStr for NameAddr {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_name_addr(s).map_err(|detail| {
            ParseError::new(ParseErrorKind::BadHeader("name-addr".into()), detail)
        })
    }
}

/// Parses a name-addr or addr-spec with parameters.
pub(crate) fn parse_name_addr(s: &str) -> Result<NameAddr, String> {
    let mut c = Cursor::new(s);
    c.skip_wsp();
    let mut display_name = None;
    let uri = match c.peek() {
        Some(b'"') => {
            let (_, name) = c.quoted_string()?;
            display_name = Some(name);
            c.skip_wsp();
            if !c.eat(b'<') {
                return Err("expected '<' after the display name".into());
            }
            bracketed_uri(&mut c)?
        }
        Some(b'<') => {
            c.eat(b'<');
            bracketed_uri(&mut c)?
        }
        _ => {
            // `*(token LWS) "<"` is a display name; otherwise this is an addr-spec.
            let start = c.pos();
            let mut words = Vec::new();
            loop {
                let word = c.take_while(is_token_char);
                if word.is_empty() {
                    break;
                }
                words.push(word);
                let spaces = c.skip_wsp();
                if spaces == 0 || c.peek() == Some(b'<') {
                    break;
                }
            }
            if !words.is_empty() && c.eat(b'<') {
                display_name = Some(words.join(" "));
                bracketed_uri(&mut c)?
            } else {
                c.reset(start);
                let spec = c.take_until(|b| b == b';');
                let spec = spec.trim_end_matches([' ', '\t']);
                if spec.contains(['?', ',']) {
                    return Err(format!("URI {spec:?} must be enclosed in <>"));
                }
                spec.parse::<Uri>().map_err(|e| e.detail)?
            }
        }
    };
    let params = parse_params(&mut c)?;
    Ok(NameAddr {
        display_name,
        uri,
        params,
    })
}

/// The URI between `<` (consumed) and `>`: no whitespace inside (RFC 4475 §3.1.2.14
/// `badaspec`).
fn bracketed_uri(c: &mut Cursor<'_>) -> Result<Uri, String> {
    let inner = c.take_until(|b| b == b'>');
    if !c.eat(b'>') {
        return Err("missing '>'".into());
    }
    if inner.contains([' ', '\t']) {
        return Err(format!("whitespace inside <{inner}>"));
    }
    inner.parse::<Uri>().map_err(|e| e.detail)
}

/// True if `name` can be printed without quotes: tokens separated by single spaces.
fn is_plain_display_name(name: &str) -> bool {
    !name.is_empty() && name.split(' ').all(is_token)
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if let Some(name) = &self.display_name {
            if is_plain_display_name(name) {
                out.push_str(name);
            } else {
                quote_into(&mut out, name);
            }
            out.push(' ');
        }
        out.push('<');
        out.push_str(&self.uri.to_string());
        out.push('>');
        write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}

/// One Contact value (RFC 3261 §20.10): an address, or `*` (only in a REGISTER removing all
/// bindings, §10.2.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "the wildcard is rare; boxing would tax every address"
)]
pub enum ContactValue {
    /// `*`.
    Wildcard,
    /// An address with its contact parameters (`expires`, `q`...).
    Address(NameAddr),
}

impl FromStr for ContactValue {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        if s.trim_matches([' ', '\t']) == "*" {
            return Ok(Self::Wildcard);
        }
        parse_name_addr(s)
            .map(Self::Address)
            .map_err(|detail| ParseError::new(ParseErrorKind::BadHeader("Contact".into()), detail))
    }
}

impl fmt::Display for ContactValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wildcard => f.write_str("*"),
            Self::Address(addr) => addr.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> NameAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forms() {
        let a = parse(r#""Bob \"B\"" <sip:bob@example.com>;tag=abc;x"#);
        assert_eq!(a.display_name.as_deref(), Some(r#"Bob "B""#));
        assert_eq!(a.tag(), Some("abc"));
        assert_eq!(a.param("X"), Some(None));
        assert_eq!(parse(&a.to_string()), a);

        let b = parse("sip:alice@example.com;tag=1");
        assert_eq!(b.display_name, None);
        assert!(b.uri.params.is_empty());
        assert_eq!(b.tag(), Some("1"));
        assert_eq!(b.to_string(), "<sip:alice@example.com>;tag=1");

        let c = parse("caller<sip:caller@example.com>;tag=323");
        assert_eq!(c.display_name.as_deref(), Some("caller"));
        let d = parse("A  B <sip:x@y>");
        assert_eq!(d.display_name.as_deref(), Some("A B"));
        assert_eq!(d.to_string(), "A B <sip:x@y>");
    }

    #[test]
    fn malformed() {
        for bad in [
            r#""open <sip:x@y>"#,
            "Bell, Alexander <sip:a@b>",
            "< sip:a@b >",
            "<sip:a@b",
            "sip:user@example.com?Route=%3Csip:x%3E",
            "<sip:a@b>;;",
            "<sip:a@b>;tag=",
            "<sip:a@b> junk",
            "",
        ] {
            assert!(bad.parse::<NameAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn contacts() {
        assert_eq!(
            " * ".parse::<ContactValue>().unwrap(),
            ContactValue::Wildcard
        );
        let c: ContactValue = "<sip:a@b>;expires=60".parse().unwrap();
        assert_eq!(c.to_string(), "<sip:a@b>;expires=60");
    }
}
