//! `[[routing.rules]]` as the operator writes it.

use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::Protocol;

/// One Call Routing Rule, as written in the configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// Unique name, used in traces, metrics and errors. Required.
    pub name: String,
    /// 1 to 200; rules are tried in ascending priority, the first match wins. Rules with equal
    /// priority are tried in file order. Required.
    pub priority: u32,
    /// A disabled rule is skipped. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The rule applies to incoming gateway calls. Default true; a rule with `false` never
    /// matches an incoming call (outgoing calls from conferences are not routed by tcn).
    #[serde(default = "yes")]
    pub match_incoming: bool,
    /// Incoming protocols the rule applies to. Default both, `["sip", "h323"]`.
    #[serde(default = "all_protocols")]
    pub protocols: Vec<Protocol>,
    /// Only calls from devices registered to this node. Default false.
    #[serde(default)]
    pub registered_only: bool,
    /// Source address filter, CIDR list (`"10.0.0.0/8"`, `"2001:db8::/32"`, or a single
    /// address). Default empty: any source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<Network>,
    /// Regular expression (Rust `regex` syntax, case-insensitive) that must match the whole
    /// alias: `user@host`, or the full URI with `match_full_uri`. At most 250 characters.
    /// Required.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Match against the full alias URI (scheme, port, parameters) instead of `user@host`.
    /// Default false.
    #[serde(default)]
    pub match_full_uri: bool,
    /// Rewrite of the alias: `\1` or `$1` for numbered groups, `\g<name>` or `${name}` for
    /// named ones, `$$` for a literal `$`. Default empty: the alias is unchanged.
    #[serde(default)]
    pub replace: String,
    /// Where matching calls go. Required.
    pub target: TargetConfig,
    /// Treat the caller as trusted on the far side. Default false.
    #[serde(default)]
    pub treat_as_trusted: bool,
    /// Most bandwidth accepted from the caller, e.g. `"4128kbps"`. Default: no limit of the
    /// rule's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_callrate_in: Option<Bandwidth>,
    /// Most bandwidth sent to the caller, e.g. `"2000kbps"`. Default: no limit of the rule's
    /// own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_callrate_out: Option<Bandwidth>,
    /// Media encryption toward the caller: `on`, `besteffort` or `off`. Default `besteffort`.
    #[serde(default)]
    pub crypto: Crypto,
    /// `audio`, `video` or `auto` (as the caller offers). Default `video`.
    #[serde(default)]
    pub call_type: CallType,
}

fn yes() -> bool {
    true
}

fn all_protocols() -> Vec<Protocol> {
    Protocol::ALL.to_vec()
}

/// Where a rule sends a call.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetConfig {
    /// Into a Google Meet conference, joined with the named access token
    /// (`[[meet.access_tokens]]`).
    Meet {
        /// Name of the access token.
        access_token: String,
    },
    /// To a SIP destination: through `proxy` (`host[:port]`), or located by DNS from the
    /// rewritten alias's domain (`dns = true`). Exactly one of the two.
    Sip {
        /// Outbound proxy, `host[:port]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proxy: Option<String>,
        /// Use DNS (RFC 3263) on the alias's domain.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dns: bool,
        /// The transport of the outbound leg: `udp`, `tcp` or `tls`. Default `udp`.
        #[serde(default)]
        transport: SipTransport,
    },
}

/// The transport of an outbound SIP leg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SipTransport {
    /// SIP over UDP.
    #[default]
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS.
    Tls,
}

/// A source network: CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address (`192.0.2.7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Network(IpNet);

impl Network {
    /// Whether `address` lies in the network.
    pub fn contains(&self, address: &std::net::IpAddr) -> bool {
        self.0.contains(address)
    }
}

impl TryFrom<String> for Network {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            // `10.1.2.3/8` has host bits set; keep the network the operator meant.
            return Ok(Self(net.trunc()));
        }
        text.parse::<std::net::IpAddr>()
            .map(|addr| Self(IpNet::from(addr)))
            .map_err(|_| format!("`{text}` is not an address or a CIDR network"))
    }
}

impl From<Network> for String {
    fn from(net: Network) -> Self {
        net.0.to_string()
    }
}

/// Media encryption policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Crypto {
    /// Encryption required; a caller that cannot encrypt is refused.
    On,
    /// Encrypt when the caller offers it.
    #[default]
    BestEffort,
    /// Never encrypt.
    Off,
}

/// Which media a call carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    /// Audio only.
    Audio,
    /// Audio and video.
    #[default]
    Video,
    /// Whatever the caller offers.
    Auto,
}

/// A bandwidth in kbit/s, written `"4128kbps"`, `"2mbps"` or a plain number of kbit/s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(try_from = "BandwidthText", into = "String")]
pub struct Bandwidth {
    kbps: u32,
}

/// The file form of a [`Bandwidth`]: a string or a bare number.
#[derive(Deserialize)]
#[serde(untagged)]
enum BandwidthText {
    Text(String),
    Number(u32),
}

impl Bandwidth {
    /// Lowest accepted value: below this no video call works.
    pub const MIN_KBPS: u32 = 64;
    /// Highest accepted value.
    pub const MAX_KBPS: u32 = 100_000;

    /// kbit/s.
    pub fn kbps(self) -> u32 {
        self.kbps
    }
}

impl TryFrom<BandwidthText> for Bandwidth {
    type Error = String;

    fn try_from(text: BandwidthText) -> Result<Self, Self::Error> {
        let kbps = match text {
            BandwidthText::Number(n) => n,
            BandwidthText::Text(text) => {
                let lower = text.trim().to_ascii_lowercase();
                let (number, scale) = if let Some(n) = lower.strip_suffix("kbps") {
                    (n, 1)
                } else if let Some(n) = lower.strip_suffix("mbps") {
                    (n, 1000)
                } else {
                    (lower.as_str(), 1)
                };
                number
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(|n| n.checked_mul(scale))
                    .ok_or_else(|| {
                        format!(
                            "`{text}` is not a bandwidth; write it like \"2000kbps\" or \"2mbps\""
                        )
                    })?
            }
        };
        if !(Self::MIN_KBPS..=Self::MAX_KBPS).contains(&kbps) {
            return Err(format!(
                "{kbps}kbps is outside {}..={}kbps",
                Self::MIN_KBPS,
                Self::MAX_KBPS
            ));
        }
        Ok(Self { kbps })
    }
}

impl From<Bandwidth> for String {
    fn from(b: Bandwidth) -> Self {
        b.to_string()
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}kbps", self.kbps)
    }
}

/// What routing knows of an access token: its name and whether it is trusted. The token value
/// itself stays with the Meet side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenRef {
    /// `[[meet.access_tokens]] name`.
    pub name: String,
    /// Trusted tokens admit callers straight into the meeting; untrusted ones wait in the lobby.
    pub trusted: bool,
}
