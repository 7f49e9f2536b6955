//! Parsing one message from bytes (RFC 3261 §7, §18.3, §25): splitting the header section
//! into lines and undoing line folding, the start line, header fields (compact forms expanded,
//! comma-separated lists split), the checks every message must pass, and the body.

use std::borrow::Cow;

use super::error::{ParseError, ParseErrorKind, PartialHead};
use super::grammar::{is_token, is_wsp, trim_wsp};
use super::header::{check_date, parse_content_length};
use super::header_name::{HeaderName, SINGLE};
use super::headers::Headers;
use super::limits::{MAX_HEADER_LINE, MAX_HEADERS, MAX_MESSAGE_SIZE, MAX_VIAS};
use super::method::Method;
use super::request::Request;
use super::response::Response;
use super::sip_message::Message;
use super::status::StatusCode;
use super::uri::Uri;

/// The header section of a message: its start line and its header fields, one logical line
/// each (folding undone: CRLF and the following whitespace become one SP, RFC 3261 §7.3.1).
pub(crate) struct Head<'a> {
    start_line: &'a [u8],
    lines: Vec<Cow<'a, [u8]>>,
    /// The first problem met while splitting, reported after the start line is checked.
    defect: Option<ParseError>,
}

/// Position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a header section (without its final empty line) into start line and logical lines.
pub(crate) fn split_head(head: &[u8]) -> Head<'_> {
    let mut rest = Some(head);
    let mut physical = std::iter::from_fn(move || {
        let r = rest?;
        match find(r, b"\r\n") {
            Some(i) => {
                rest = r.get(i + 2..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    });
    let start_line = physical.next().unwrap_or_default();
    let mut lines: Vec<Cow<'_, [u8]>> = Vec::new();
    let mut defect = None;
    let mut note = |e: ParseError| {
        if defect.is_none() {
            defect = Some(e);
        }
    };
    for line in physical {
        if line.contains(&b'\r') || line.contains(&b'\n') {
            note(ParseError::new(
                ParseErrorKind::BadHeader(String::new()),
                "bare CR or LF in the header section",
            ));
        }
        if line.first().copied().is_some_and(is_wsp) {
            let Some(previous) = lines.last_mut() else {
                note(ParseError::new(
                    ParseErrorKind::BadHeader(String::new()),
                    "continuation line before any header field",
                ));
                continue;
            };
            let start = line.iter().position(|&b| !is_wsp(b)).unwrap_or(line.len());
            let previous = previous.to_mut();
            previous.push(b' ');
            previous.extend_from_slice(line.get(start..).unwrap_or_default());
        } else {
            lines.push(Cow::Borrowed(line));
        }
    }
    Head {
        start_line,
        lines,
        defect,
    }
}

/// Splits a list value at top-level commas (not inside quotes or `<>`), trimming each
/// element.
pub(crate) fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_quotes, mut escaped, mut angle) = (0, false, false, 0u32);
    for (i, b) in value.bytes().enumerate() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quotes = false;
            }
            continue;
        }
        match b {
            b'"' => in_quotes = true,
            b'<' => angle += 1,
            b'>' => angle = angle.saturating_sub(1),
            b',' if angle == 0 => {
                parts.push(trim_wsp(value.get(start..i).unwrap_or_default()));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(trim_wsp(value.get(start..).unwrap_or_default()));
    parts
}

/// A header line's name and value, if it has the shape `token *WSP ":" value`.
fn split_field(line: &[u8]) -> Option<(&str, &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(line.get(..colon)?).ok()?;
    let name = name.trim_end_matches([' ', '\t']);
    is_token(name).then_some((name, line.get(colon + 1..)?))
}

/// Reads what it can of Via, From, To, Call-ID and CSeq, without validating anything.
fn partial_head(head: &Head<'_>) -> PartialHead {
    let is_request = !head
        .start_line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
    let method = head
        .start_line
        .split(|&b| b == b' ')
        .next()
        .and_then(|m| std::str::from_utf8(m).ok())
        .filter(|m| is_request && is_token(m))
        .map(str::to_owned);
    let mut partial = PartialHead {
        is_request,
        method,
        ..PartialHead::default()
    };
    for line in &head.lines {
        let Some((name, value)) = split_field(line) else {
            continue;
        };
        let name = HeaderName::from(name);
        let value = String::from_utf8_lossy(value);
        let value = trim_wsp(&value);
        let slot = if name.is("Via") {
            let vias = split_list(value).into_iter().filter(|v| !v.is_empty());
            partial.vias.extend(vias.map(str::to_owned));
            continue;
        } else if name.is("From") {
            &mut partial.from
        } else if name.is("To") {
            &mut partial.to
        } else if name.is("Call-ID") {
            &mut partial.call_id
        } else if name.is("CSeq") {
            &mut partial.cseq
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(value.to_owned());
        }
    }
    partial
}

/// Parses a datagram (or exactly one framed stream message).
pub(crate) fn parse_message(data: &[u8]) -> Result<Message, ParseError> {
    if data.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge,
            format!("{} octets, more than {MAX_MESSAGE_SIZE}", data.len()),
        ));
    }
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let mut data = data;
    while let Some(rest) = data.strip_prefix(b"\r\n") {
        data = rest;
    }
    if data.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::new(ParseErrorKind::Empty, "no message"));
    }
    let (head_bytes, body) = match find(data, b"\r\n\r\n") {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            Some(data.get(i + 4..).unwrap_or_default()),
        ),
        None => (data, None),
    };
    let head = split_head(head_bytes);
    let result = match body {
        Some(body) => parse_parts(&head, body),
        None => Err(ParseError::new(
            ParseErrorKind::Incomplete,
            "no empty line after the header fields",
        )),
    };
    result.map_err(|mut e| {
        e.head = Some(Box::new(partial_head(&head)));
        e
    })
}

/// The Content-Length of a stream message's header section, which RFC 3261 §18.3 makes
/// mandatory on streams. Errors carry the partial head.
pub(crate) fn stream_content_length(head_bytes: &[u8]) -> Result<usize, ParseError> {
    let head = split_head(head_bytes);
    let mut found = None;
    let mut result = Ok(());
    for line in &head.lines {
        let Some((name, value)) = split_field(line) else {
            continue;
        };
        if !HeaderName::from(name).is("Content-Length") {
            continue;
        }
        if found.is_some() {
            result = Err(ParseError::new(
                ParseErrorKind::DuplicateHeader("Content-Length".into()),
                "two Content-Length fields",
            ));
            break;
        }
        let value = std::str::from_utf8(value).unwrap_or_default();
        match parse_content_length(trim_wsp(value)) {
            Ok(n) => found = Some(n),
            Err(detail) => {
                result = Err(ParseError::new(ParseErrorKind::BadContentLength, detail));
                break;
            }
        }
    }
    let result = result.and_then(|()| {
        found.ok_or_else(|| {
            ParseError::new(
                ParseErrorKind::MissingHeader("Content-Length"),
                "Content-Length is mandatory on streams (RFC 3261 §18.3)",
            )
        })
    });
    result.map_err(|mut e| {
        e.head = Some(Box::new(partial_head(&head)));
        e
    })
}

enum StartLine {
    Request(Method, Uri),
    Response(StatusCode, String),
}

fn start_line_error(kind: ParseErrorKind, detail: impl Into<String>) -> ParseError {
    ParseError::new(kind, detail)
}

/// `SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT`; only 2.0 is supported (505 otherwise).
fn check_version(version: &str) -> Result<(), ParseError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let numbers = version
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| version.get(4..))
        .and_then(|n| n.split_once('.'));
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match numbers {
        Some((major, minor)) if is_digits(major) && is_digits(minor) => Err(start_line_error(
            ParseErrorKind::BadVersion,
            format!("{version} is not SIP/2.0"),
        )),
        _ => Err(start_line_error(
            ParseErrorKind::BadStartLine,
            format!("{version:?} is not a SIP version"),
        )),
    }
}

/// `Request-Line = Method SP Request-URI SP SIP-Version CRLF` with exactly one SP between
/// the elements and none at the end (RFC 4475 §3.1.2.8, §3.1.2.9, §3.1.2.10), or
/// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF`.
fn parse_start_line(line: &[u8]) -> Result<StartLine, ParseError> {
    let line = std::str::from_utf8(line)
        .map_err(|_| start_line_error(ParseErrorKind::BadStartLine, "start line is not UTF-8"))?;
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let (version, rest) = line
            .split_once(' ')
            .ok_or_else(|| start_line_error(ParseErrorKind::BadStartLine, "no status code"))?;
        check_version(version)?;
        // A missing SP before an empty reason phrase is tolerated.
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = Some(code)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse().ok())
            .and_then(StatusCode::new)
            .ok_or_else(|| {
                start_line_error(
                    ParseErrorKind::BadStartLine,
                    format!("status code {code:?} is not three digits in 100..=699"),
                )
            })?;
        if reason.chars().any(|c| c.is_control() && c != '\t') {
            return Err(start_line_error(
                ParseErrorKind::BadStartLine,
                "control character in the reason phrase",
            ));
        }
        return Ok(StartLine::Response(status, reason.to_owned()));
    }
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(start_line_error(
            ParseErrorKind::BadStartLine,
            format!("Request-Line {line:?} is not Method SP Request-URI SP SIP-Version"),
        ));
    };
    check_version(version)?;
    let method: Method = method.parse()?;
    let uri: Uri = uri.parse()?;
    if uri.is_sip() && !uri.headers.is_empty() {
        // RFC 3261 §19.1.1 Table 1: headers are not allowed in a Request-URI; RFC 4475
        // §3.1.2.11 `escruri` allows rejecting it.
        return Err(start_line_error(
            ParseErrorKind::BadUri,
            "headers are not allowed in the Request-URI",
        ));
    }
    Ok(StartLine::Request(method, uri))
}

/// Parses one logical header line into `headers`.
fn parse_field(line: &[u8], headers: &mut Headers) -> Result<(), ParseError> {
    let (name, value) = split_field(line).ok_or_else(|| {
        ParseError::new(
            ParseErrorKind::BadHeader(String::new()),
            format!(
                "malformed header line {:?}",
                String::from_utf8_lossy(line.get(..line.len().min(80)).unwrap_or_default())
            ),
        )
    })?;
    let name = HeaderName::from(name);
    let bad = |name: &HeaderName, detail: String| {
        let kind = if name.is("Via") {
            ParseErrorKind::BadVia
        } else {
            ParseErrorKind::BadHeader(name.to_string())
        };
        ParseError::new(kind, detail)
    };
    let value =
        std::str::from_utf8(value).map_err(|_| bad(&name, format!("{name} value is not UTF-8")))?;
    let value = trim_wsp(value);
    if value.len() > MAX_HEADER_LINE {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge,
            format!("a {name} value is longer than {MAX_HEADER_LINE} octets"),
        ));
    }
    if name.is_list() {
        let parts = split_list(value);
        if parts.len() > 1 && parts.iter().any(|p| p.is_empty()) {
            return Err(bad(
                &name,
                format!("empty element in {name} list {value:?}"),
            ));
        }
        for part in parts {
            headers.push(name.clone(), part);
        }
    } else {
        headers.push(name, value);
    }
    if headers.len() > MAX_HEADERS {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge,
            format!("more than {MAX_HEADERS} header values"),
        ));
    }
    Ok(())
}

/// Everything after locating the empty line: start line, fields, checks, body.
fn parse_parts(head: &Head<'_>, body: &[u8]) -> Result<Message, ParseError> {
    let start = parse_start_line(head.start_line)?;
    if let Some(defect) = &head.defect {
        return Err(defect.clone());
    }
    let mut headers = Headers::new();
    for line in &head.lines {
        parse_field(line, &mut headers)?;
    }
    check_fields(&start, &headers)?;

    // RFC 3261 §18.3: on a datagram, no Content-Length means the rest of the datagram, and
    // octets beyond Content-Length are ignored (RFC 4475 §3.1.1.8 `dblreq`).
    let body = match headers.get("Content-Length") {
        None => body,
        Some(value) => {
            let length = parse_content_length(value)
                .map_err(|d| ParseError::new(ParseErrorKind::BadContentLength, d))?;
            body.get(..length).ok_or_else(|| {
                ParseError::new(
                    ParseErrorKind::BodyTooShort,
                    format!("Content-Length {length} but {} octets of body", body.len()),
                )
            })?
        }
    };
    headers.remove("Content-Length");
    let body = body.to_vec();
    Ok(match start {
        StartLine::Request(method, uri) => Message::Request(Request {
            method,
            uri,
            headers,
            body,
        }),
        StartLine::Response(status, reason) => Message::Response(Response {
            status,
            reason,
            headers,
            body,
        }),
    })
}

/// The checks every message must pass (RFC 3261 §8.1.1, §8.2, §16.3 step 1; RFC 4475 §3.1.2,
/// §3.3.1, §3.3.8, §3.3.9).
fn check_fields(start: &StartLine, headers: &Headers) -> Result<(), ParseError> {
    for name in SINGLE {
        if headers.get_all(name).nth(1).is_some() {
            return Err(ParseError::new(
                ParseErrorKind::DuplicateHeader((*name).to_owned()),
                format!("more than one {name}"),
            ));
        }
    }
    for name in ["To", "From", "Call-ID", "CSeq", "Via"] {
        if !headers.contains(name) {
            return Err(ParseError::new(
                ParseErrorKind::MissingHeader(name),
                format!("no {name} header"),
            ));
        }
    }
    headers.call_id()?;
    let cseq = headers.cseq()?;
    if let StartLine::Request(method, _) = start
        && cseq.method != *method
    {
        return Err(ParseError::new(
            ParseErrorKind::CSeqMethodMismatch,
            format!(
                "CSeq method {} but Request-Line method {method}",
                cseq.method
            ),
        ));
    }
    headers.from()?;
    headers.to()?;
    let vias = headers.get_all("Via").count();
    if vias > MAX_VIAS {
        return Err(ParseError::new(
            ParseErrorKind::TooLarge,
            format!("{vias} Via values, more than {MAX_VIAS}"),
        ));
    }
    headers.vias()?;
    headers.max_forwards()?;
    headers.contacts()?;
    headers.routes()?;
    headers.record_routes()?;
    headers.expires()?;
    if let Some(date) = headers.get("Date") {
        check_date(date)
            .map_err(|d| ParseError::new(ParseErrorKind::BadHeader("Date".into()), d))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_at_top_level_commas() {
        assert_eq!(
            split_list(r#""a, b" <sip:x@y;p=1,2>;q=1 , <sip:z>"#),
            vec![r#""a, b" <sip:x@y;p=1,2>;q=1"#, "<sip:z>"]
        );
        assert_eq!(split_list(""), vec![""]);
        assert_eq!(split_list(r#""\"," , b"#), vec![r#""\",""#, "b"]);
    }

    #[test]
    fn folding_is_undone() {
        let head = split_head(b"OPTIONS sip:x SIP/2.0\r\nSubject: a\r\n   b\r\n\tc\r\nTo: d");
        assert_eq!(head.lines.len(), 2);
        assert_eq!(&*head.lines[0], b"Subject: a b c");
        assert!(head.defect.is_none());
        let head = split_head(b"OPTIONS sip:x SIP/2.0\r\n cont\r\nTo: d");
        assert!(head.defect.is_some());
    }

    #[test]
    fn versions() {
        assert!(check_version("sip/2.0").is_ok());
        assert_eq!(
            check_version("SIP/7.0").unwrap_err().kind,
            ParseErrorKind::BadVersion
        );
        assert_eq!(
            check_version("HTTP/1.1").unwrap_err().kind,
            ParseErrorKind::BadStartLine
        );
    }
}
