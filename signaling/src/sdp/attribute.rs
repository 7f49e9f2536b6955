//! Typed readings of the media-level attributes offer/answer needs: `rtpmap` and `fmtp`
//! (RFC 8866 §6.6, §6.15), `rtcp-fb` (RFC 4585 §4.2), `rtcp` (RFC 3605), `rtcp-mux` (RFC 5761)
//! and `ptime` (RFC 8866 §6.4). Direction attributes are in [`direction`](super::direction)
//! and `crypto` in [`crypto`](super::crypto).
//!
//! A malformed attribute reads as absent: an endpoint's odd `a=` line must not fail a call.

use std::fmt;

use super::session::{Attribute, Connection, MediaDescription};

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (RFC 8866
/// §6.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    /// The RTP payload type.
    pub payload_type: u8,
    /// The encoding name as written, e.g. `H264`, `opus`.
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The encoding parameters; the channel count for audio.
    pub encoding_params: Option<String>,
}

impl RtpMap {
    /// A mapping without encoding parameters.
    pub fn new(payload_type: u8, encoding: impl Into<String>, clock_rate: u32) -> Self {
        Self {
            payload_type,
            encoding: encoding.into(),
            clock_rate,
            encoding_params: None,
        }
    }

    /// Reads the value of an `a=rtpmap` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        let (payload_type, rest) = value.trim().split_once([' ', '\t'])?;
        let payload_type = parse_payload_type(payload_type)?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let clock_rate = parts.next()?.trim().parse().ok()?;
        let encoding_params = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            encoding_params,
        })
    }

    /// The channel count for audio (RFC 8866 §6.6: 1 when not given); 0 if unreadable.
    pub fn channels(&self) -> u8 {
        match &self.encoding_params {
            None => 1,
            Some(params) => params.trim().parse().unwrap_or(0),
        }
    }

    /// Whether the encoding name (case-insensitive, RFC 4855 §3) and clock rate are these.
    pub fn is(&self, encoding: &str, clock_rate: u32) -> bool {
        self.encoding.eq_ignore_ascii_case(encoding) && self.clock_rate == clock_rate
    }

    /// The attribute, `a=rtpmap:...`.
    pub fn to_attribute(&self) -> Attribute {
        Attribute::new("rtpmap", self.to_string())
    }
}

/// The value of the attribute, without `rtpmap:`.
impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(params) = &self.encoding_params {
            write!(f, "/{params}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fmtp {
    /// The format (payload type) it applies to.
    pub format: String,
    /// The parameters as written.
    pub params: String,
}

impl Fmtp {
    /// Reads the value of an `a=fmtp` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (format, params) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        if format.is_empty() {
            return None;
        }
        Some(Self {
            format: format.to_owned(),
            params: params.trim().to_owned(),
        })
    }

    /// The `name[=value]` parameters, separated by `;` (RFC 4855 §3) or, as some endpoints
    /// write H.263 sizes, by spaces.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.params
            .split(|c: char| c == ';' || c.is_ascii_whitespace())
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (p, None),
            })
    }

    /// The value of parameter `name` (case-insensitive, RFC 4855 §3).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.parameters()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.unwrap_or_default())
    }

    /// Whether parameter `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.parameters().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The attribute `a=fmtp:<pt> <params>`.
    pub fn attribute(payload_type: u8, params: &str) -> Attribute {
        Attribute::new("fmtp", format!("{payload_type} {params}"))
    }
}

/// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtcpFb {
    /// The payload type it applies to; `None` for `*` (all formats).
    pub payload_type: Option<u8>,
    /// The feedback type: `nack`, `ccm`, `ack`, `trr-int`, `goog-remb`, ...
    pub kind: String,
    /// The parameter: `pli` for `nack pli`, `fir` for `ccm fir`, ...
    pub param: Option<String>,
}

impl RtcpFb {
    /// Reads the value of an `a=rtcp-fb` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split_ascii_whitespace();
        let payload_type = match fields.next()? {
            "*" => None,
            pt => Some(parse_payload_type(pt)?),
        };
        let kind = fields.next()?.to_owned();
        let rest: Vec<&str> = fields.collect();
        Some(Self {
            payload_type,
            kind,
            param: (!rest.is_empty()).then(|| rest.join(" ")),
        })
    }

    /// Whether it applies to payload type `pt` (its own line or `*`).
    pub fn applies_to(&self, pt: u8) -> bool {
        self.payload_type.is_none_or(|p| p == pt)
    }

    /// The attribute `a=rtcp-fb:...`.
    pub fn to_attribute(&self) -> Attribute {
        Attribute::new("rtcp-fb", self.to_string())
    }
}

/// The value of the attribute, without `rtcp-fb:`.
impl fmt::Display for RtcpFb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.kind)?,
            None => write!(f, "* {}", self.kind)?,
        }
        if let Some(param) = &self.param {
            write!(f, " {param}")?;
        }
        Ok(())
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtcpAttribute {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when it differs from the media's.
    pub connection: Option<Connection>,
}

impl RtcpAttribute {
    /// Reads the value of an `a=rtcp` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        let fields: Vec<&str> = value.split_ascii_whitespace().collect();
        match fields[..] {
            [port] => Some(Self {
                port: port.parse().ok()?,
                connection: None,
            }),
            [port, net_type, addr_type, address] => Some(Self {
                port: port.parse().ok()?,
                connection: Some(Connection {
                    net_type: net_type.to_owned(),
                    addr_type: addr_type.to_owned(),
                    address: address.to_owned(),
                }),
            }),
            _ => None,
        }
    }
}

/// Reads an RTP payload type (0-127, RFC 3550 §5.1) written in plain decimal (no leading
/// zero, so that it prints back as written).
pub(crate) fn parse_payload_type(text: &str) -> Option<u8> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    text.parse().ok().filter(|pt| *pt <= 127)
}

impl MediaDescription {
    /// The formats that are RTP payload types, in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| parse_payload_type(f))
    }

    /// Every readable `a=rtpmap`, in order.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap> + '_ {
        self.attribute_values("rtpmap").filter_map(RtpMap::parse)
    }

    /// The `a=rtpmap` of payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        self.rtpmaps().find(|m| m.payload_type == pt)
    }

    /// The first `a=fmtp` of `format`.
    pub fn fmtp(&self, format: &str) -> Option<Fmtp> {
        self.attribute_values("fmtp")
            .filter_map(Fmtp::parse)
            .find(|f| f.format == format)
    }

    /// Every readable `a=rtcp-fb`, in order.
    pub fn rtcp_fb(&self) -> Vec<RtcpFb> {
        self.attribute_values("rtcp-fb")
            .filter_map(RtcpFb::parse)
            .collect()
    }

    /// The `a=rtcp` attribute (RFC 3605).
    pub fn rtcp(&self) -> Option<RtcpAttribute> {
        self.attribute_values("rtcp").find_map(RtcpAttribute::parse)
    }

    /// Whether `a=rtcp-mux` is present (RFC 5761 §5.1.1).
    pub fn rtcp_mux(&self) -> bool {
        self.has_attribute("rtcp-mux")
    }

    /// `a=ptime` in milliseconds (RFC 8866 §6.4); a fractional value is truncated.
    pub fn ptime(&self) -> Option<u32> {
        let value = self.attribute_values("ptime").next()?.trim();
        let whole = value.split_once('.').map_or(value, |(whole, _)| whole);
        whole.parse().ok().filter(|ms| *ms > 0)
    }
}
