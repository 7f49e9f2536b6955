//! The header fields of a message: an ordered list of (name, value) with case-insensitive
//! lookup, and typed accessors that parse values on demand.

use super::error::{ParseError, ParseErrorKind};
use super::header::{
    CSeq, ContactValue, NameAddr, Via, check_call_id, parse_delta_seconds, parse_max_forwards,
};
use super::header_name::HeaderName;

/// Header fields in message order. Each entry is one value: the parser splits
/// comma-separated lists (Via, Contact, Route, Supported...) into one entry per element, so a
/// printed message has one line per entry.
///
/// Values are stored trimmed of surrounding whitespace, with line folding undone; CR and LF
/// never appear in them (`push` and `set` turn them into spaces), so a value cannot smuggle in
/// another header. Content-Length is not kept here: the parser consumes it and the printer
/// writes the body's length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(HeaderName, String)>,
}

/// Trims SP/HTAB and replaces CR and LF by SP.
fn clean(value: String) -> String {
    let value = if value.contains(['\r', '\n']) {
        value.replace(['\r', '\n'], " ")
    } else {
        value
    };
    let trimmed = value.trim_matches([' ', '\t']);
    if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_owned()
    }
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first value of `name` (any case, or its compact form).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let key = HeaderName::from(name);
        self.entries
            .iter()
            .filter(move |(n, _)| *n == key)
            .map(|(_, v)| v.as_str())
    }

    /// True if `name` appears.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Appends a value.
    pub fn push(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        self.entries.push((name.into(), clean(value.into())));
    }

    /// Inserts a value before the first existing value of the same name, or at the end if
    /// there is none (a proxy adding its Via, RFC 3261 §16.6 step 8).
    pub fn prepend(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let name = name.into();
        let at = self
            .entries
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (name, clean(value.into())));
    }

    /// Replaces every value of `name` by `value`, at the place of the first one (or at the
    /// end).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let name = name.into();
        let at = self.entries.iter().position(|(n, _)| *n == name);
        self.entries.retain(|(n, _)| *n != name);
        let at = at.unwrap_or(self.entries.len());
        self.entries.insert(at, (name, clean(value.into())));
    }

    /// Removes every value of `name`; returns how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        let key = HeaderName::from(name);
        let before = self.entries.len();
        self.entries.retain(|(n, _)| *n != key);
        before - self.entries.len()
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &str)> {
        self.entries.iter().map(|(n, v)| (n, v.as_str()))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every Via value, parsed, top first.
    pub fn vias(&self) -> Result<Vec<Via>, ParseError> {
        self.get_all("Via").map(str::parse).collect()
    }

    /// The top Via, parsed.
    pub fn top_via(&self) -> Result<Via, ParseError> {
        self.get("Via").ok_or_else(|| missing("Via"))?.parse()
    }

    /// From, parsed.
    pub fn from(&self) -> Result<NameAddr, ParseError> {
        self.name_addr("From")
    }

    /// To, parsed.
    pub fn to(&self) -> Result<NameAddr, ParseError> {
        self.name_addr("To")
    }

    /// Call-ID, checked to be `word [ "@" word ]`.
    pub fn call_id(&self) -> Result<&str, ParseError> {
        let value = self.get("Call-ID").ok_or_else(|| missing("Call-ID"))?;
        check_call_id(value).map_err(|d| bad("Call-ID", d))?;
        Ok(value)
    }

    /// CSeq, parsed.
    pub fn cseq(&self) -> Result<CSeq, ParseError> {
        self.get("CSeq").ok_or_else(|| missing("CSeq"))?.parse()
    }

    /// Max-Forwards, `None` if absent.
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.get("Max-Forwards")
            .map(|v| {
                parse_max_forwards(v)
                    .map_err(|d| ParseError::new(ParseErrorKind::BadMaxForwards, d))
            })
            .transpose()
    }

    /// Every Contact value, parsed. A `*` must be the only one (RFC 3261 §10.2.2).
    pub fn contacts(&self) -> Result<Vec<ContactValue>, ParseError> {
        let contacts = self
            .get_all("Contact")
            .map(str::parse)
            .collect::<Result<Vec<ContactValue>, _>>()?;
        if contacts.len() > 1 && contacts.contains(&ContactValue::Wildcard) {
            return Err(bad("Contact", "'*' mixed with other contacts".into()));
        }
        Ok(contacts)
    }

    /// Every Route value, parsed, in order.
    pub fn routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.name_addrs("Route")
    }

    /// Every Record-Route value, parsed, in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr>, ParseError> {
        self.name_addrs("Record-Route")
    }

    /// Content-Type, as written.
    pub fn content_type(&self) -> Option<&str> {
        self.get("Content-Type")
    }

    /// Expires (RFC 3261 §20.19), `None` if absent.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.get("Expires")
            .map(|v| parse_delta_seconds(v).map_err(|d| bad("Expires", d)))
            .transpose()
    }

    fn name_addr(&self, name: &'static str) -> Result<NameAddr, ParseError> {
        let value = self.get(name).ok_or_else(|| missing(name))?;
        value.parse().map_err(|e: ParseError| bad(name, e.detail))
    }

    fn name_addrs(&self, name: &'static str) -> Result<Vec<NameAddr>, ParseError> {
        self.get_all(name)
            .map(|v| v.parse().map_err(|e: ParseError| bad(name, e.detail)))
            .collect()
    }
}

fn missing(name: &'static str) -> ParseError {
    ParseError::new(
        ParseErrorKind::MissingHeader(name),
        format!("no {name} header"),
    )
}

fn bad(name: &str, detail: String) -> ParseError {
    ParseError::new(ParseErrorKind::BadHeader(name.to_owned()), detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection() {
        let mut h = Headers::new();
        h.push("v", "SIP/2.0/UDP a;branch=z9hG4bK1");
        h.push("To", " <sip:b@c> \r\n");
        h.push("Via", "SIP/2.0/UDP b;branch=z9hG4bK2");
        h.prepend(HeaderName::VIA, "SIP/2.0/UDP z;branch=z9hG4bK0");
        assert_eq!(h.len(), 4);
        assert_eq!(h.get("VIA"), Some("SIP/2.0/UDP z;branch=z9hG4bK0"));
        assert_eq!(h.get("t"), Some("<sip:b@c>"));
        assert_eq!(h.get_all(&HeaderName::VIA).count(), 3);
        assert_eq!(h.vias().unwrap().len(), 3);
        assert_eq!(h.top_via().unwrap().host.to_string(), "z");
        h.set("via", "SIP/2.0/TCP only");
        assert_eq!(
            h.get_all("Via").collect::<Vec<_>>(),
            vec!["SIP/2.0/TCP only"]
        );
        assert_eq!(h.iter().next().map(|(n, _)| n.as_str()), Some("Via"));
        assert_eq!(h.remove("v"), 1);
        assert_eq!(h.remove("v"), 0);
        assert!(!h.contains("Via"));
        assert!(matches!(
            h.top_via().unwrap_err().kind,
            ParseErrorKind::MissingHeader("Via")
        ));
    }

    #[test]
    fn typed() {
        let mut h = Headers::new();
        h.push("Max-Forwards", "300");
        h.push("Expires", "60");
        h.push("Contact", "*");
        h.push("Contact", "<sip:a@b>");
        h.push("i", "a b");
        assert_eq!(
            h.max_forwards().unwrap_err().kind,
            ParseErrorKind::BadMaxForwards
        );
        assert_eq!(h.expires(), Ok(Some(60)));
        assert!(h.contacts().is_err());
        assert_eq!(
            h.call_id().unwrap_err().kind,
            ParseErrorKind::BadHeader("Call-ID".into())
        );
        assert_eq!(
            h.from().unwrap_err().kind,
            ParseErrorKind::MissingHeader("From")
        );
    }
}
