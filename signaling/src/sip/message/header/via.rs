//! Via values (RFC 3261 §20.42, §18.2.1; `rport` RFC 3581; IPv6 RFC 5118 §4.5).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::params::{Params, parse_params, write_params};
use crate::sip::message::error::{ParseError, ParseErrorKind};
use crate::sip::message::grammar::{Cursor, is_token, is_token_char, parse_digits};
use crate::sip::message::uri::{Host, parse_host};

/// One Via value: `SIP/2.0/transport sent-by *( SEMI via-params )`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// The transport, upper case (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`, or any token).
    pub transport: String,
    /// The sent-by host.
    pub host: Host,
    /// The sent-by port, if written.
    pub port: Option<u16>,
    /// `branch` (RFC 3261 §8.1.1.7), a token.
    pub branch: Option<String>,
    /// `received` (RFC 3261 §18.2.1). Accepted with or without brackets around an IPv6
    /// address (RFC 5118 §4.5); printed without, as the RFC 3261 ABNF has it.
    pub received: Option<IpAddr>,
    /// `rport` (RFC 3581 §3): `Some(None)` when present without a value (a request asking for
    /// it), `Some(Some(port))` when filled in.
    pub rport: Option<Option<u16>>,
    /// `maddr` (RFC 3261 §18.1.1), a host as written.
    pub maddr: Option<String>,
    /// `ttl` (RFC 3261 §18.1.1).
    pub ttl: Option<u8>,
    /// Every other parameter, in order, as written.
    pub params: Params,
}

impl Via {
    /// A Via for `transport` (upper-cased) and `host`, with the given branch.
    pub fn new(transport: &str, host: Host, port: Option<u16>, branch: impl Into<String>) -> Self {
        Self {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            branch: Some(branch.into()),
            received: None,
            rport: None,
            maddr: None,
            ttl: None,
            params: Vec::new(),
        }
    }

    /// The sent-by as printed: `host[:port]`.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.to_string(),
        }
    }
}

impl FromStr for Via {
    type Err = ParseError;

    /// Parses one Via value, allowing whitespace around `/`, `:`, `;` and `=` (RFC 3261
    /// §25.1 SLASH, COLON, SEMI, EQUAL).
    fn from_str(s: &str) -> Result<Self, ParseError> {
        parse_via(s).map_err(|detail| ParseError::new(ParseErrorKind::BadVia, detail))
    }
}

fn parse_via(s: &str) -> Result<Via, String> {
    let mut c = Cursor::new(s);
    c.skip_wsp();
    let protocol = c.take_while(is_token_char);
    if !protocol.eq_ignore_ascii_case("SIP") {
        return Err(format!("protocol {protocol:?} is not SIP"));
    }
    c.skip_wsp();
    let version_ok = c.eat(b'/') && {
        c.skip_wsp();
        c.take_while(is_token_char) == "2.0"
    };
    if !version_ok {
        return Err("expected SIP/2.0".into());
    }
    c.skip_wsp();
    if !c.eat(b'/') {
        return Err("expected '/' before the transport".into());
    }
    c.skip_wsp();
    let transport = c.take_while(is_token_char);
    if transport.is_empty() {
        return Err("missing transport".into());
    }
    if c.skip_wsp() == 0 {
        return Err("expected whitespace before sent-by".into());
    }
    let host = if c.peek() == Some(b'[') {
        let inner = c.take_until(|b| b == b']');
        if !c.eat(b']') {
            return Err("unterminated IPv6 reference".into());
        }
        format!("{inner}]")
    } else {
        c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
            .to_owned()
    };
    let host = parse_host(&host)?;
    c.skip_wsp();
    let mut port = None;
    if c.eat(b':') {
        c.skip_wsp();
        let digits = c.take_while(|b| b.is_ascii_digit());
        port = Some(parse_port(digits)?);
    }
    let mut via = Via {
        transport: transport.to_ascii_uppercase(),
        host,
        port,
        branch: None,
        received: None,
        rport: None,
        maddr: None,
        ttl: None,
        params: Vec::new(),
    };
    for (name, value) in parse_params(&mut c)? {
        let lower = name.to_ascii_lowercase();
        let duplicate = match lower.as_str() {
            "branch" => via.branch.is_some(),
            "received" => via.received.is_some(),
            "rport" => via.rport.is_some(),
            "maddr" => via.maddr.is_some(),
            "ttl" => via.ttl.is_some(),
            _ => false,
        };
        if duplicate {
            return Err(format!("duplicate {name} parameter"));
        }
        match (lower.as_str(), value) {
            ("branch", Some(v)) if is_token(&v) => via.branch = Some(v),
            ("received", Some(v)) => {
                let bare = v
                    .strip_prefix('[')
                    .and_then(|v| v.strip_suffix(']'))
                    .unwrap_or(&v);
                via.received = Some(
                    bare.parse()
                        .map_err(|_| format!("received {v:?} is not an IP address"))?,
                );
            }
            ("rport", None) => via.rport = Some(None),
            ("rport", Some(v)) => via.rport = Some(Some(parse_port(&v)?)),
            ("maddr", Some(v)) => {
                parse_host(&v)?;
                via.maddr = Some(v);
            }
            ("ttl", Some(v)) => {
                let ttl = parse_digits(&v)
                    .filter(|_| v.len() <= 3)
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| format!("ttl {v:?} out of range"))?;
                via.ttl = Some(ttl);
            }
            ("branch" | "received" | "maddr" | "ttl", _) => {
                return Err(format!("invalid {name} parameter"));
            }
            (_, value) => via.params.push((name, value)),
        }
    }
    Ok(via)
}

fn parse_port(digits: &str) -> Result<u16, String> {
    parse_digits(digits)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| format!("invalid port {digits:?}"))
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = format!("SIP/2.0/{} {}", self.transport, self.sent_by());
        if let Some(branch) = &self.branch {
            out.push_str(";branch=");
            out.push_str(branch);
        }
        if let Some(received) = self.received {
            out.push_str(";received=");
            out.push_str(&received.to_string());
        }
        match self.rport {
            Some(Some(port)) => out.push_str(&format!(";rport={port}")),
            Some(None) => out.push_str(";rport"),
            None => {}
        }
        if let Some(maddr) = &self.maddr {
            out.push_str(";maddr=");
            out.push_str(maddr);
        }
        if let Some(ttl) = self.ttl {
            out.push_str(&format!(";ttl={ttl}"));
        }
        write_params(&mut out, &self.params);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_via() {
        let v: Via = "SIP/2.0/tcp [2001:db8::9:1]:5061;received=[2001:db8::9:255];rport=7;branch=z9hG4bKx;maddr=239.1.1.1;ttl=16;comp=sigcomp"
            .parse()
            .unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, Host::Ipv6("2001:db8::9:1".parse().unwrap()));
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.received, Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport, Some(Some(7)));
        assert_eq!(v.branch.as_deref(), Some("z9hG4bKx"));
        assert_eq!(v.ttl, Some(16));
        assert_eq!(v.params, vec![("comp".into(), Some("sigcomp".into()))]);
        assert_eq!(v.to_string().parse::<Via>().unwrap(), v);
    }

    #[test]
    fn whitespace_everywhere() {
        let v: Via = "SIP  /   2.0 /UDP 192.0.2.2 : 5060 ; branch = 390skdjuw ; rport"
            .parse()
            .unwrap();
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch.as_deref(), Some("390skdjuw"));
        assert_eq!(v.rport, Some(None));
    }

    #[test]
    fn malformed() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/7.0/UDP host",
            "SIP/2.0/UDP",
            "SIP/2.0/UDPhost",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP host;branch=a;branch=b",
            "SIP/2.0/UDP host;received=host.example.com",
            "SIP/2.0/UDP host;ttl=256",
            "SIP/2.0/UDP host;branch",
            "SIP/2.0/UDP host junk",
        ] {
            assert!(bad.parse::<Via>().is_err(), "{bad}");
        }
    }
}
