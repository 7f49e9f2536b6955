//! A small reader and printer for header values of the shape `head *( SEMI generic-param )`
//! (RFC 3261 §25.1), shared by the Reason header (RFC 3326) and the session timer headers
//! (RFC 4028 §4, §5). The message module keeps its own parameter reader private to itself.

/// Parameters in order: name as written, value as written (a quoted-string value keeps its
/// quotes and escapes).
pub(crate) type Params = Vec<(String, Option<String>)>;

/// `token` characters (RFC 3261 §25.1).
pub(crate) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// A non-empty run of token characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `1*DIGIT` within 32 bits (delta-seconds, RFC 3261 §25.1).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u32, |acc, b| {
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

fn skip_wsp(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    at
}

/// Splits `head *( SEMI generic-param )`, allowing whitespace around `;` and `=` (SEMI and
/// EQUAL include SWS). Returns the head, trimmed, and the parameters; `gen-value = token /
/// host / quoted-string` (a host may be an IPv6 reference, so `[`, `]` and `:` are accepted).
pub(crate) fn split_params(value: &str) -> Result<(&str, Params), String> {
    let bytes = value.as_bytes();
    let head_end = value.find(';').unwrap_or(value.len());
    let head = value
        .get(..head_end)
        .unwrap_or_default()
        .trim_matches([' ', '\t']);
    let mut params = Vec::new();
    let mut at = head_end;
    loop {
        at = skip_wsp(bytes, at);
        if at >= bytes.len() {
            return Ok((head, params));
        }
        if bytes.get(at) != Some(&b';') {
            return Err(format!(
                "unexpected {:?} before parameters",
                value.get(at..).unwrap_or_default()
            ));
        }
        at = skip_wsp(bytes, at + 1);
        let name_start = at;
        while bytes.get(at).is_some_and(|&b| is_token_char(b)) {
            at += 1;
        }
        let name = value.get(name_start..at).unwrap_or_default();
        if name.is_empty() {
            return Err("empty parameter".into());
        }
        at = skip_wsp(bytes, at);
        let mut param_value = None;
        if bytes.get(at) == Some(&b'=') {
            at = skip_wsp(bytes, at + 1);
            let value_start = at;
            if bytes.get(at) == Some(&b'"') {
                at = quoted_end(bytes, at)?;
            } else {
                while bytes
                    .get(at)
                    .is_some_and(|&b| is_token_char(b) || b"[]:".contains(&b))
                {
                    at += 1;
                }
            }
            let raw = value.get(value_start..at).unwrap_or_default();
            if raw.is_empty() {
                return Err(format!("parameter {name} has an empty value"));
            }
            param_value = Some(raw.to_owned());
        }
        params.push((name.to_owned(), param_value));
    }
}

/// The index just past the closing quote of the quoted string starting at `start`.
fn quoted_end(bytes: &[u8], start: usize) -> Result<usize, String> {
    let mut at = start + 1;
    loop {
        match bytes.get(at) {
            None => return Err("unterminated quoted string".into()),
            Some(b'"') => return Ok(at + 1),
            Some(b'\\') => {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                match bytes.get(at + 1) {
                    Some(&q) if q <= 0x7f && q != b'\r' && q != b'\n' => at += 2,
                    _ => return Err("bad quoted-pair in quoted string".into()),
                }
            }
            Some(&b) if b.is_ascii_control() && b != b'\t' => {
                return Err("control character in quoted string".into());
            }
            Some(_) => at += 1,
        }
    }
}

/// The content of a quoted string as written (with its quotes), quoted-pairs resolved.
pub(crate) fn unquote(raw: &str) -> Result<String, String> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or_else(|| format!("{raw:?} is not a quoted string"))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().ok_or("dangling backslash in quoted string")?);
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// `s` as a quoted string (RFC 3261 §25.1): `"` and `\` escaped, other control characters
/// escaped as quoted-pairs, CR and LF (which no quoted-pair can carry) turned into SP.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
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
    out
}

/// Appends `;name[=value]` for each parameter.
pub(crate) fn write_params(out: &mut String, params: &Params) {
    for (name, value) in params {
        out.push(';');
        out.push_str(name);
        if let Some(value) = value {
            out.push('=');
            out.push_str(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split() {
        let (head, params) = split_params(r#"SIP ; cause = 200 ;text="a \"b\"; c";x"#).unwrap();
        assert_eq!(head, "SIP");
        assert_eq!(
            params,
            vec![
                ("cause".into(), Some("200".into())),
                ("text".into(), Some(r#""a \"b\"; c""#.into())),
                ("x".into(), None),
            ]
        );
        assert_eq!(unquote(r#""a \"b\"; c""#).unwrap(), r#"a "b"; c"#);
        assert_eq!(quote(r#"a "b"; c"#), r#""a \"b\"; c""#);
        for bad in ["x;", "x;=1", "x;a=", "x;a=\"open", "x;a=1 b", "x;a=\"\r\""] {
            assert!(split_params(bad).is_err(), "{bad}");
        }
        // The head is the caller's to check.
        assert_eq!(split_params("x junk").unwrap().0, "x junk");
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
    }
}
