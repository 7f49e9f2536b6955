//! Character classes and small lexical pieces of the SIP grammar (RFC 3261 §25.1): tokens,
//! words, `%` escapes, quoted strings, whitespace, and a byte cursor over header values.

/// RFC 3261 §25.1 `token` character: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
/// "'" / "~".
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// True if `s` is a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// RFC 3261 §25.1 `word` character (Call-ID): the token characters plus "(" / ")" / "<" / ">" /
/// ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}".
pub(crate) fn is_word_char(b: u8) -> bool {
    is_token_char(b) || b"()<>:\\\"/[]?{}".contains(&b)
}

/// RFC 3261 §25.1 `unreserved`: alphanum / mark.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// RFC 3261 §25.1 `reserved`.
pub(crate) fn is_reserved(b: u8) -> bool {
    b";/?:@&=+$,".contains(&b)
}

/// SP or HTAB.
pub(crate) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims SP and HTAB (not other whitespace) from both ends.
pub(crate) fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Decodes `%HH` escapes (RFC 3261 §25.1 `escaped`) in text whose other characters have been
/// checked by `allowed`. Fails on a character outside `allowed`, a broken escape, or escapes
/// that decode to bytes which are not UTF-8.
pub(crate) fn unescape(s: &str, allowed: fn(u8) -> bool) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                _ => return Err(format!("broken % escape in {s:?}")),
            }
            i += 3;
        } else if allowed(b) {
            out.push(b);
            i += 1;
        } else {
            return Err(format!(
                "character {:?} not allowed in {s:?}",
                char::from(b)
            ));
        }
    }
    String::from_utf8(out).map_err(|_| format!("escapes in {s:?} do not decode to UTF-8"))
}

/// Checks that every character of `s` is in `allowed` or part of a well-formed `%HH` escape,
/// without decoding.
pub(crate) fn check_escaped(s: &str, allowed: fn(u8) -> bool) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return false;
            }
            i += 3;
        } else if allowed(b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Appends `s` to `out`, escaping every byte outside `allowed` (and `%` itself) as `%HH`.
pub(crate) fn escape_into(out: &mut String, s: &str, allowed: fn(u8) -> bool) {
    for &b in s.as_bytes() {
        if b != b'%' && allowed(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        }
    }
}

const HEX_UPPER: [u8; 16] = *b"0123456789ABCDEF";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a non-empty run of ASCII digits into a `u64`, failing on anything else or on
/// overflow. Leading zeros are allowed (`1*DIGIT`).
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// Prints `s` as a quoted string (RFC 3261 §25.1), escaping `"` and `\` and the control
/// characters a quoted-pair can carry. CR and LF cannot be carried at all and become SP.
pub(crate) fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push(c),
            c if c.is_ascii_control() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A cursor over one header value (already unfolded, so whitespace is SP or HTAB only).
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `s`.
    pub(crate) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// The next byte, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// True at the end.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The text not yet consumed.
    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// The current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves back to an offset returned by [`Self::pos`].
    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Skips SP and HTAB (SWS); returns how many were skipped.
    pub(crate) fn skip_wsp(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(is_wsp) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the longest run of ASCII bytes matching `f` and returns it.
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii() && f(b)) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Consumes everything up to (not including) the first byte matching `f`, or to the end.
    pub(crate) fn take_until(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let len = self.s.as_bytes()[start.min(self.s.len())..]
            .iter()
            .position(|&b| f(b))
            .unwrap_or_else(|| self.s.len().saturating_sub(start));
        self.pos = start + len;
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Parses a quoted string at the cursor (which must be at its opening DQUOTE). Returns the
    /// raw text including both quotes and the decoded content (quoted-pairs resolved).
    pub(crate) fn quoted_string(&mut self) -> Result<(&'a str, String), String> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Err("expected a quoted string".into());
        }
        let bytes = self.s.as_bytes();
        let mut content = Vec::new();
        loop {
            let Some(&b) = bytes.get(self.pos) else {
                return Err("unterminated quoted string".into());
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                    match bytes.get(self.pos) {
                        Some(&q) if q <= 0x7f && q != b'\n' && q != b'\r' => {
                            content.push(q);
                            self.pos += 1;
                        }
                        _ => return Err("bad quoted-pair in quoted string".into()),
                    }
                }
                // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
                b' ' | b'\t' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80.. => content.push(b),
                _ => return Err("control character in quoted string".into()),
            }
        }
        let raw = self.s.get(start..self.pos).unwrap_or("");
        // Only ASCII backslashes were dropped from valid UTF-8, so this cannot fail; map the
        // impossible error instead of panicking.
        let content =
            String::from_utf8(content).map_err(|_| "quoted string is not UTF-8".to_owned())?;
        Ok((raw, content))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let mut out = String::new();
        escape_into(&mut out, "a b%c\u{0}", is_unreserved);
        assert_eq!(out, "a%20b%25c%00");
        assert_eq!(unescape(&out, is_unreserved).unwrap(), "a b%c\u{0}");
        assert!(unescape("%zz", is_unreserved).is_err());
        assert!(unescape("%ff", is_unreserved).is_err());
        assert!(unescape("a b", is_unreserved).is_err());
    }

    #[test]
    fn digits() {
        assert_eq!(parse_digits("0068"), Some(68));
        assert_eq!(parse_digits(""), None);
        assert_eq!(parse_digits("-1"), None);
        assert_eq!(parse_digits("99999999999999999999999"), None);
    }

    #[test]
    fn quoted_strings() {
        let mut c = Cursor::new(r#""J Rosenberg \\\"" rest"#);
        let (raw, content) = c.quoted_string().unwrap();
        assert_eq!(raw, r#""J Rosenberg \\\"""#);
        assert_eq!(content, r#"J Rosenberg \""#);
        assert_eq!(c.rest(), " rest");
        let mut out = String::new();
        quote_into(&mut out, &content);
        assert_eq!(out, raw);
        assert!(Cursor::new("\"open").quoted_string().is_err());
    }
}
