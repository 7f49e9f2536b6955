//! The SDP data model (RFC 8866 §5): a session description with its media descriptions, kept
//! close to the text so that printing a parsed description gives the same description back.
//!
//! Typed readings of attributes (rtpmap, fmtp, direction, ...) live in
//! [`attribute`](super::attribute); parsing in [`parse`](super::parse) and printing in
//! [`print`](super::print).

use std::fmt;
use std::net::IpAddr;

/// The largest SDP body accepted, in bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// The most lines an SDP body may have.
pub const MAX_SDP_LINES: usize = 512;
/// The most media sections (`m=` lines) an SDP body may have.
pub const MAX_MEDIA_SECTIONS: usize = 32;

/// A whole session description (RFC 8866 §5).
///
/// Fields appear in the order RFC 8866 §5 prints them. `v=` is always 0 and not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`: originator and session identifier (RFC 8866 §5.2).
    pub origin: Origin,
    /// `s=`: session name (RFC 8866 §5.3); may be empty, printed as `s= ` then.
    pub session_name: String,
    /// `i=`: session information (RFC 8866 §5.4).
    pub information: Option<String>,
    /// `u=`: URI of description (RFC 8866 §5.5).
    pub uri: Option<String>,
    /// `e=` lines: email addresses (RFC 8866 §5.6).
    pub emails: Vec<String>,
    /// `p=` lines: phone numbers (RFC 8866 §5.6).
    pub phones: Vec<String>,
    /// Session-level `c=` (RFC 8866 §5.7), the default for media without their own.
    pub connection: Option<Connection>,
    /// Session-level `b=` lines (RFC 8866 §5.8).
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines with their `r=` lines (RFC 8866 §5.9, §5.10); at least one when printed.
    pub timing: Vec<Timing>,
    /// `z=`: time zone adjustments (RFC 8866 §5.11), kept as text.
    pub time_zones: Option<String>,
    /// Session-level `k=` (RFC 8866 §5.12, obsolete), kept as text.
    pub key: Option<String>,
    /// Session-level `a=` lines (RFC 8866 §5.13), in order.
    pub attributes: Vec<Attribute>,
    /// The media descriptions, in order (RFC 8866 §5.14).
    pub media: Vec<MediaDescription>,
}

/// The `o=` line (RFC 8866 §5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The user's login, or `-`.
    pub username: String,
    /// The numeric session identifier.
    pub session_id: u64,
    /// The version, increased on every change of the description (RFC 3264 §8).
    pub session_version: u64,
    /// The network type, `IN`.
    pub net_type: String,
    /// The address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// The originating host's address or name.
    pub address: String,
}

/// A `c=` line (RFC 8866 §5.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The network type, `IN`.
    pub net_type: String,
    /// The address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// The address as written, including any `/ttl/count` suffix of a multicast address.
    pub address: String,
}

/// A `b=` line (RFC 8866 §5.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bandwidth {
    /// The bandwidth type: `AS` (kbit/s, RFC 8866 §5.8), `TIAS` (bit/s, RFC 3890), `CT`, ...
    pub kind: String,
    /// The value in the unit of `kind`.
    pub value: u64,
}

/// A `t=` line and the `r=` lines after it (RFC 8866 §5.9, §5.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
    /// `r=` lines, kept as text.
    pub repeats: Vec<String>,
}

/// An `a=` line (RFC 8866 §5.13): `a=name` (a property) or `a=name:value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name, e.g. `rtpmap`.
    pub name: String,
    /// The text after the first `:`; `None` for a property attribute such as `a=sendrecv`.
    pub value: Option<String>,
}

/// The media type of an `m=` line (RFC 8866 §5.14).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`.
    Audio,
    /// `video`.
    Video,
    /// `application` (BFCP, data channels, ...).
    Application,
    /// Any other type (`text`, `message`, `image` for T.38, ...), as written.
    Other(String),
}

/// A media description: an `m=` line and the lines up to the next one (RFC 8866 §5.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription {
    /// The media type.
    pub media: MediaKind,
    /// The transport port; 0 rejects or disables the stream (RFC 3264 §5.1, §6).
    pub port: u16,
    /// The `/<number of ports>` suffix of the port, if written.
    pub port_count: Option<u16>,
    /// The transport protocol, e.g. `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `UDP/TLS/RTP/SAVPF`.
    pub protocol: String,
    /// The media formats: RTP payload type numbers for RTP protocols.
    pub formats: Vec<String>,
    /// `i=`: media title (RFC 8866 §5.4).
    pub title: Option<String>,
    /// Media-level `c=`, overriding the session-level one (RFC 8866 §5.7).
    pub connection: Option<Connection>,
    /// Media-level `b=` lines (RFC 8866 §5.8).
    pub bandwidths: Vec<Bandwidth>,
    /// Media-level `k=` (obsolete), kept as text.
    pub key: Option<String>,
    /// Media-level `a=` lines, in order.
    pub attributes: Vec<Attribute>,
}

impl Attribute {
    /// A property attribute without a value, e.g. `a=rtcp-mux`.
    pub fn property(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }

    /// A value attribute, e.g. `a=ptime:20`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
        }
    }
}

impl Connection {
    /// `IN IP4 <ip>` or `IN IP6 <ip>` for a unicast address.
    pub fn from_ip(ip: IpAddr) -> Self {
        Self {
            net_type: "IN".to_owned(),
            addr_type: addr_type_of(ip).to_owned(),
            address: ip.to_string(),
        }
    }

    /// The address as an IP address, when it is an `IN` literal of the stated type (any
    /// `/ttl/count` suffix removed); `None` for a host name or an unknown type.
    pub fn ip(&self) -> Option<IpAddr> {
        if !self.net_type.eq_ignore_ascii_case("IN") {
            return None;
        }
        let literal = self.address.split('/').next().unwrap_or_default();
        let ip: IpAddr = literal.parse().ok()?;
        let matches = match ip {
            IpAddr::V4(_) => self.addr_type.eq_ignore_ascii_case("IP4"),
            IpAddr::V6(_) => self.addr_type.eq_ignore_ascii_case("IP6"),
        };
        matches.then_some(ip)
    }
}

/// `IP4` or `IP6` for an address (RFC 8866 §5.7).
pub(crate) fn addr_type_of(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

impl MediaKind {
    /// Reads the media field of an `m=` line; the three well-known types match in any case.
    pub fn from_token(token: &str) -> Self {
        if token.eq_ignore_ascii_case("audio") {
            Self::Audio
        } else if token.eq_ignore_ascii_case("video") {
            Self::Video
        } else if token.eq_ignore_ascii_case("application") {
            Self::Application
        } else {
            Self::Other(token.to_owned())
        }
    }

    /// The token as printed in an `m=` line.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl MediaDescription {
    /// A media description with no lines besides the `m=` line.
    pub fn new(media: MediaKind, port: u16, protocol: impl Into<String>) -> Self {
        Self {
            media,
            port,
            port_count: None,
            protocol: protocol.into(),
            formats: Vec::new(),
            title: None,
            connection: None,
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// The values of every attribute called `name` (case-insensitive), in order; property
    /// attributes give `""`.
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        attribute_values(&self.attributes, name)
    }

    /// Whether an attribute called `name` (case-insensitive) is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The value of the first `b=` line of type `kind` (case-insensitive).
    pub fn bandwidth(&self, kind: &str) -> Option<u64> {
        bandwidth(&self.bandwidths, kind)
    }

    /// Whether the stream is disabled or rejected: port 0 (RFC 3264 §5.1, §6).
    pub fn is_rejected(&self) -> bool {
        self.port == 0
    }
}

impl SessionDescription {
    /// A description with the given origin, session name `-`, `t=0 0` and nothing else.
    pub fn new(origin: Origin) -> Self {
        Self {
            origin,
            session_name: "-".to_owned(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            timing: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            time_zones: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// The values of every session-level attribute called `name` (case-insensitive).
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        attribute_values(&self.attributes, name)
    }

    /// The connection that applies to `media`: its own `c=`, else the session's (RFC 8866
    /// §5.7).
    pub fn connection_for<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }
}

fn attribute_values<'a>(
    attributes: &'a [Attribute],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    attributes
        .iter()
        .filter(move |a| a.name.eq_ignore_ascii_case(name))
        .map(|a| a.value.as_deref().unwrap_or_default())
}

pub(crate) fn bandwidth(bandwidths: &[Bandwidth], kind: &str) -> Option<u64> {
    bandwidths
        .iter()
        .find(|b| b.kind.eq_ignore_ascii_case(kind))
        .map(|b| b.value)
}
