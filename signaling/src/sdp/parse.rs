//! Reading SDP text into a [`SessionDescription`] (RFC 8866 §5, §9).
//!
//! The reader is strict about what each line says and lenient about how it is laid out, since
//! real endpoints are sloppy:
//! - lines may end in CRLF or bare LF, trailing spaces and tabs are dropped, blank lines are
//!   skipped;
//! - session-level lines may come in any order before the first `m=` line (RFC 8866 §5 fixes
//!   one); a missing `s=` reads as `-` and a missing `t=` as `t=0 0`;
//! - `v=0` and `o=` are required; a line of an unknown type, a malformed line, a repeated
//!   single line (`o=`, `s=`, `c=`, ...) or a session-only line inside a media section is an
//!   error that names the line number.
//!
//! Limits: [`MAX_SDP_BYTES`], [`MAX_SDP_LINES`], [`MAX_MEDIA_SECTIONS`].

use std::str::FromStr;

use super::error::SdpError;
use super::session::{
    Attribute, Bandwidth, Connection, MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, MAX_SDP_LINES,
    MediaDescription, MediaKind, Origin, SessionDescription, Timing,
};

impl SessionDescription {
    /// Parses an SDP body (RFC 8866 §5).
    ///
    /// Tolerated: CRLF or bare LF line ends, trailing spaces and tabs, blank lines,
    /// session-level lines in any order before the first `m=`, a missing `s=` (read as `-`)
    /// or `t=` (read as `t=0 0`). Refused with [`SdpError::Line`] naming the line: an unknown
    /// line type, a malformed line, a repeated single line, a session-only line inside a media
    /// section, a control character; with [`SdpError::Missing`]: no `v=0` or `o=`; and bodies
    /// over [`MAX_SDP_BYTES`], [`MAX_SDP_LINES`] or [`MAX_MEDIA_SECTIONS`].
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        if text.len() > MAX_SDP_BYTES {
            return Err(SdpError::TooLarge(text.len()));
        }
        let mut builder = Builder::default();
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            if number > MAX_SDP_LINES {
                return Err(SdpError::TooManyLines);
            }
            let line = raw.trim_end_matches([' ', '\t']);
            if line.is_empty() {
                continue;
            }
            builder.line(line).map_err(|reason| SdpError::Line {
                line: number,
                reason,
            })?;
        }
        builder.finish()
    }
}

impl FromStr for SessionDescription {
    type Err = SdpError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The description as read so far.
#[derive(Default)]
struct Builder {
    version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    information: Option<String>,
    uri: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    connection: Option<Connection>,
    bandwidths: Vec<Bandwidth>,
    timing: Vec<Timing>,
    time_zones: Option<String>,
    key: Option<String>,
    attributes: Vec<Attribute>,
    media: Vec<MediaDescription>,
}

type LineResult = Result<(), String>;

impl Builder {
    fn line(&mut self, line: &str) -> LineResult {
        let (kind, value) = split_line(line)?;
        if value.contains(['\r', '\0']) {
            return Err("control character in line".to_owned());
        }
        if kind == 'm' {
            if self.media.len() >= MAX_MEDIA_SECTIONS {
                return Err(format!("more than {MAX_MEDIA_SECTIONS} media sections"));
            }
            self.media.push(parse_media(value)?);
            return Ok(());
        }
        if let Some(media) = self.media.last_mut() {
            return media_line(media, kind, value);
        }
        self.session_line(kind, value)
    }

    fn session_line(&mut self, kind: char, value: &str) -> LineResult {
        match kind {
            'v' => {
                if self.version {
                    return Err(duplicate('v'));
                }
                if value != "0" {
                    return Err(format!("unsupported SDP version {value:?}"));
                }
                self.version = true;
            }
            'o' => set_once(&mut self.origin, parse_origin(value)?, 'o')?,
            's' => set_once(&mut self.session_name, value.to_owned(), 's')?,
            'i' => set_once(&mut self.information, value.to_owned(), 'i')?,
            'u' => set_once(&mut self.uri, value.to_owned(), 'u')?,
            'e' => self.emails.push(value.to_owned()),
            'p' => self.phones.push(value.to_owned()),
            'c' => set_once(&mut self.connection, parse_connection(value)?, 'c')?,
            'b' => self.bandwidths.push(parse_bandwidth(value)?),
            't' => self.timing.push(parse_timing(value)?),
            'r' => match self.timing.last_mut() {
                Some(timing) => timing.repeats.push(value.to_owned()),
                None => return Err("r= line before any t= line".to_owned()),
            },
            'z' => set_once(&mut self.time_zones, value.to_owned(), 'z')?,
            'k' => set_once(&mut self.key, value.to_owned(), 'k')?,
            'a' => self.attributes.push(parse_attribute(value)?),
            other => return Err(format!("unknown line type {other:?}")),
        }
        Ok(())
    }

    fn finish(self) -> Result<SessionDescription, SdpError> {
        if !self.version {
            return Err(SdpError::Missing('v'));
        }
        let origin = self.origin.ok_or(SdpError::Missing('o'))?;
        let mut timing = self.timing;
        if timing.is_empty() {
            timing.push(Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            });
        }
        Ok(SessionDescription {
            origin,
            session_name: self.session_name.unwrap_or_else(|| "-".to_owned()),
            information: self.information,
            uri: self.uri,
            emails: self.emails,
            phones: self.phones,
            connection: self.connection,
            bandwidths: self.bandwidths,
            timing,
            time_zones: self.time_zones,
            key: self.key,
            attributes: self.attributes,
            media: self.media,
        })
    }
}

fn media_line(media: &mut MediaDescription, kind: char, value: &str) -> LineResult {
    match kind {
        'i' => set_once(&mut media.title, value.to_owned(), 'i'),
        'c' => set_once(&mut media.connection, parse_connection(value)?, 'c'),
        'b' => {
            media.bandwidths.push(parse_bandwidth(value)?);
            Ok(())
        }
        'k' => set_once(&mut media.key, value.to_owned(), 'k'),
        'a' => {
            media.attributes.push(parse_attribute(value)?);
            Ok(())
        }
        'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
            Err(format!("session-level {kind}= line inside a media section"))
        }
        other => Err(format!("unknown line type {other:?}")),
    }
}

/// Splits `x=value` (RFC 8866 §5: `<type>=<value>`, `<type>` one letter).
fn split_line(line: &str) -> Result<(char, &str), String> {
    let mut chars = line.chars();
    match (chars.next(), chars.next()) {
        (Some(kind), Some('=')) if kind.is_ascii_alphabetic() => Ok((kind, chars.as_str())),
        _ => Err("expected <type>=<value>".to_owned()),
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, kind: char) -> LineResult {
    if slot.is_some() {
        return Err(duplicate(kind));
    }
    *slot = Some(value);
    Ok(())
}

fn duplicate(kind: char) -> String {
    format!("more than one {kind}= line")
}

fn parse_number<T: FromStr>(text: &str, what: &str) -> Result<T, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {text:?} is not a number"));
    }
    text.parse()
        .map_err(|_| format!("{what} {text:?} is out of range"))
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2).
fn parse_origin(value: &str) -> Result<Origin, String> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [username, id, version, net_type, addr_type, address] = fields[..] else {
        return Err("o= needs six fields".to_owned());
    };
    Ok(Origin {
        username: username.to_owned(),
        session_id: parse_number(id, "session id")?,
        session_version: parse_number(version, "session version")?,
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

/// `c=<nettype> <addrtype> <connection-address>` (§5.7).
fn parse_connection(value: &str) -> Result<Connection, String> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [net_type, addr_type, address] = fields[..] else {
        return Err("c= needs three fields".to_owned());
    };
    Ok(Connection {
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

/// `b=<bwtype>:<bandwidth>` (§5.8).
fn parse_bandwidth(value: &str) -> Result<Bandwidth, String> {
    let Some((kind, number)) = value.split_once(':') else {
        return Err("b= needs <type>:<value>".to_owned());
    };
    if !is_token(kind) {
        return Err(format!("bandwidth type {kind:?} is not a token"));
    }
    Ok(Bandwidth {
        kind: kind.to_owned(),
        value: parse_number(number.trim(), "bandwidth")?,
    })
}

/// `t=<start-time> <stop-time>` (§5.9).
fn parse_timing(value: &str) -> Result<Timing, String> {
    let fields: Vec<&str> = value.split_ascii_whitespace().collect();
    let [start, stop] = fields[..] else {
        return Err("t= needs two fields".to_owned());
    };
    Ok(Timing {
        start: parse_number(start, "start time")?,
        stop: parse_number(stop, "stop time")?,
        repeats: Vec::new(),
    })
}

/// `a=<attribute-name>[:<attribute-value>]` (§5.13); the name is a token.
fn parse_attribute(value: &str) -> Result<Attribute, String> {
    let (name, value) = match value.split_once(':') {
        Some((name, value)) => (name, Some(value.to_owned())),
        None => (value, None),
    };
    if !is_token(name) {
        return Err(format!("attribute name {name:?} is not a token"));
    }
    Ok(Attribute {
        name: name.to_owned(),
        value,
    })
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (§5.14). An `m=` line without
/// formats is accepted, as some endpoints send one for a rejected stream.
fn parse_media(value: &str) -> Result<MediaDescription, String> {
    let mut fields = value.split_ascii_whitespace();
    let (Some(media), Some(port), Some(protocol)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err("m= needs <media> <port> <proto> <fmt>...".to_owned());
    };
    let (port, port_count) = match port.split_once('/') {
        Some((port, count)) => (port, Some(parse_number(count, "port count")?)),
        None => (port, None),
    };
    let mut description = MediaDescription::new(
        MediaKind::from_token(media),
        parse_number(port, "port")?,
        protocol,
    );
    description.port_count = port_count;
    description.formats = fields.map(str::to_owned).collect();
    Ok(description)
}

/// RFC 8866 §9 `token`: one or more of the visible characters other than separators.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`{|}~".contains(&b))
}
