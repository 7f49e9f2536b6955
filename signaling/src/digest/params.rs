//! The `Digest` auth-param list shared by challenges and credentials (RFC 3261 §25.1,
//! RFC 7235 §2.1, RFC 7616 §3.3–3.4): reading it, and writing quoted strings.
//!
//! ```text
//! value      = LWS "Digest" LWS param *( LWS "," LWS param )
//! param      = token LWS "=" LWS ( token / quoted-string )
//! ```
//!
//! Reading is case-insensitive for the scheme and parameter names, accepts CR and LF as
//! whitespace (folded header lines), skips empty list elements, and unescapes quoted-pairs
//! (`\"`). Control characters other than tab are refused inside quoted strings, so no parsed
//! value can carry a line break. An unquoted value is read up to whitespace or a comma, which
//! also admits the non-token values some equipment sends unquoted.

use std::fmt::{self, Write as _};

use super::error::HeaderError;

/// One parameter: lower-cased name and unescaped value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Param {
    pub(super) name: String,
    pub(super) value: String,
}

/// The parameters of a `Digest` header value, in order, names lower-cased, duplicates refused.
pub(super) fn parse_digest_params(input: &str) -> Result<Vec<Param>, HeaderError> {
    let bytes = input.as_bytes();
    let mut pos = skip_lws(bytes, 0);
    if pos == bytes.len() {
        return Err(HeaderError::Empty);
    }
    let scheme_end = scan_token(bytes, pos);
    let scheme = &input[pos..scheme_end];
    if !scheme.eq_ignore_ascii_case("digest") {
        let shown = input[pos..]
            .split(|c: char| c.is_ascii_whitespace() || c == ',')
            .next()
            .unwrap_or_default();
        return Err(HeaderError::NotDigest(super::error::clip(shown)));
    }
    pos = scheme_end;
    if pos < bytes.len() && !is_lws(bytes[pos]) {
        return Err(HeaderError::Syntax {
            position: pos,
            expected: "whitespace after \"Digest\"",
        });
    }

    let mut params: Vec<Param> = Vec::new();
    loop {
        pos = skip_lws(bytes, pos);
        if pos == bytes.len() {
            break;
        }
        if bytes[pos] == b',' {
            pos += 1; // an empty list element
            continue;
        }
        let name_end = scan_token(bytes, pos);
        if name_end == pos {
            return Err(HeaderError::Syntax {
                position: pos,
                expected: "a parameter name",
            });
        }
        let name = input[pos..name_end].to_ascii_lowercase();
        pos = skip_lws(bytes, name_end);
        if bytes.get(pos) != Some(&b'=') {
            return Err(HeaderError::Syntax {
                position: pos,
                expected: "\"=\" after the parameter name",
            });
        }
        pos = skip_lws(bytes, pos + 1);
        let (value, after_value) = if bytes.get(pos) == Some(&b'"') {
            read_quoted(input, pos)?
        } else {
            read_unquoted(input, pos)?
        };
        if params.iter().any(|param| param.name == name) {
            return Err(HeaderError::DuplicateParameter(super::error::clip(&name)));
        }
        params.push(Param { name, value });
        pos = skip_lws(bytes, after_value);
        match bytes.get(pos) {
            None => break,
            Some(b',') => pos += 1,
            Some(_) => {
                return Err(HeaderError::Syntax {
                    position: pos,
                    expected: "\",\" between parameters",
                });
            }
        }
    }
    Ok(params)
}

fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// RFC 3261 §25.1 `token` characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

fn skip_lws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && is_lws(bytes[pos]) {
        pos += 1;
    }
    pos
}

fn scan_token(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && is_token(bytes[pos]) {
        pos += 1;
    }
    pos
}

/// A quoted string starting at the quote at `start`: its unescaped content and the position
/// after the closing quote.
fn read_quoted(input: &str, start: usize) -> Result<(String, usize), HeaderError> {
    let mut value = String::new();
    let mut chars = input[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        let position = start + 1 + offset;
        match c {
            '"' => return Ok((value, position + 1)),
            '\\' => match chars.next() {
                None => break,
                Some((offset, escaped)) => {
                    if escaped != '\t' && escaped.is_ascii_control() {
                        return Err(HeaderError::ControlCharacter {
                            position: start + 1 + offset,
                        });
                    }
                    value.push(escaped);
                }
            },
            '\t' => value.push(c),
            _ if c.is_ascii_control() => {
                return Err(HeaderError::ControlCharacter { position });
            }
            _ => value.push(c),
        }
    }
    Err(HeaderError::UnterminatedQuotedString { position: start })
}

/// An unquoted value starting at `start`: up to whitespace, a comma or the end.
fn read_unquoted(input: &str, start: usize) -> Result<(String, usize), HeaderError> {
    let bytes = input.as_bytes();
    let mut end = start;
    while end < bytes.len() && !is_lws(bytes[end]) && bytes[end] != b',' {
        if bytes[end] == b'"' || is_ctl(bytes[end]) {
            return Err(HeaderError::Syntax {
                position: end,
                expected: "a token or a quoted string",
            });
        }
        end += 1;
    }
    if end == start {
        return Err(HeaderError::Syntax {
            position: start,
            expected: "a parameter value",
        });
    }
    Ok((input[start..end].to_owned(), end))
}

/// Writes `value` as a quoted string: `"` and `\` escaped, control characters other than tab
/// written as spaces, so the output is always one valid header line.
pub(super) fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                f.write_str("\\")?;
                f.write_char(c)?;
            }
            '\t' => f.write_str("\t")?,
            _ if c.is_ascii_control() => f.write_str(" ")?,
            _ => f.write_char(c)?,
        }
    }
    f.write_str("\"")
}

/// Takes the parameter `name` out of `params`.
pub(super) fn take(params: &mut Vec<Param>, name: &str) -> Option<String> {
    let index = params.iter().position(|param| param.name == name)?;
    Some(params.swap_remove(index).value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_values(input: &str) -> Vec<(String, String)> {
        parse_digest_params(input)
            .unwrap()
            .into_iter()
            .map(|param| (param.name, param.value))
            .collect()
    }

    #[test]
    fn reads_tokens_quoted_strings_and_empty_elements() {
        assert_eq!(
            names_and_values("Digest ,A=1 ,, b = \"x\\\"y\" ,c=\"\",\r\n\td=e/f:g,"),
            [
                ("a".into(), "1".into()),
                ("b".into(), "x\"y".into()),
                ("c".into(), String::new()),
                ("d".into(), "e/f:g".into()),
            ]
        );
        assert!(names_and_values("digest").is_empty());
        assert!(names_and_values("DIGEST \t").is_empty());
    }

    #[test]
    fn positions_point_at_the_problem() {
        assert_eq!(
            parse_digest_params("Digest a=\"x\\"),
            Err(HeaderError::UnterminatedQuotedString { position: 9 })
        );
        assert_eq!(
            parse_digest_params("Digest a=\"x\\\n\""),
            Err(HeaderError::ControlCharacter { position: 12 })
        );
        assert_eq!(
            parse_digest_params("Digest a=b\"c"),
            Err(HeaderError::Syntax {
                position: 10,
                expected: "a token or a quoted string",
            })
        );
        assert_eq!(
            parse_digest_params("Digest =b"),
            Err(HeaderError::Syntax {
                position: 7,
                expected: "a parameter name",
            })
        );
        assert_eq!(
            parse_digest_params("Digest, a=b"),
            Err(HeaderError::Syntax {
                position: 6,
                expected: "whitespace after \"Digest\"",
            })
        );
    }

    #[test]
    fn duplicate_names_differ_only_in_case() {
        assert_eq!(
            parse_digest_params("Digest nonce=a, NONCE=b"),
            Err(HeaderError::DuplicateParameter("nonce".into()))
        );
    }
}
