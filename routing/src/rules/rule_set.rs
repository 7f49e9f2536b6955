//! Compiled rules and the routing decision.

use std::collections::HashMap;
use std::net::IpAddr;

use regex::{Regex, RegexBuilder};
use serde::Serialize;

use super::config::{
    AccessTokenRef, Bandwidth, CallType, Crypto, Network, RuleConfig, SipTransport, TargetConfig,
};
use super::replace::Replacement;
use super::trace::{TraceEntry, Verdict};
use super::{MAX_PATTERN_LEN, MAX_PRIORITY, MIN_PRIORITY};
use crate::alias::Alias;
use crate::{ConfigError, Protocol};

/// The rules in force, sorted for lookup.
#[derive(Clone, Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
struct Rule {
    name: String,
    priority: u32,
    enabled: bool,
    match_incoming: bool,
    protocols: Vec<Protocol>,
    registered_only: bool,
    source: Vec<Network>,
    pattern: Regex,
    match_full_uri: bool,
    replacement: Option<Replacement>,
    target: Target,
    settings: CallSettings,
}

/// An incoming call, as routing sees it.
#[derive(Clone, Copy, Debug)]
pub struct IncomingCall<'a> {
    /// What the caller dialled.
    pub alias: &'a Alias,
    /// The protocol it arrived on.
    pub protocol: Protocol,
    /// The signalling source address.
    pub source: IpAddr,
    /// Whether the caller is registered to this node.
    pub registered: bool,
}

/// Where a matched call goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// Into a Meet conference with this access token.
    Meet {
        /// The token's name.
        access_token: String,
        /// Whether the token is trusted (callers skip the lobby).
        trusted: bool,
    },
    /// To a SIP destination.
    Sip {
        /// Outbound proxy `host[:port]`, if one is set.
        #[serde(skip_serializing_if = "Option::is_none")]
        proxy: Option<String>,
        /// Locate the destination by DNS.
        dns: bool,
        /// The outbound leg's transport.
        transport: SipTransport,
    },
}

/// Per-call settings a rule carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CallSettings {
    /// `treat_as_trusted`.
    pub treat_as_trusted: bool,
    /// `max_callrate_in`.
    pub max_callrate_in: Option<Bandwidth>,
    /// `max_callrate_out`.
    pub max_callrate_out: Option<Bandwidth>,
    /// `crypto`.
    pub crypto: Crypto,
    /// `call_type`.
    pub call_type: CallType,
}

/// A matched rule's decision. A call in progress keeps its `Decision` across reloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The rule that matched.
    pub rule: String,
    /// Its priority.
    pub priority: u32,
    /// The alias after `replace`.
    pub alias: String,
    /// Where the call goes.
    pub target: Target,
    /// The rule's call settings.
    pub settings: CallSettings,
}

/// The result of a lookup: the decision, if any rule matched, and the trace of every rule tried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Routed {
    /// The first matching rule's decision; `None` means no rule matched.
    pub decision: Option<Decision>,
    /// Each rule tried, in order, up to and including the match.
    pub trace: Vec<TraceEntry>,
}

impl RuleSet {
    /// Compiles and checks the rules. `tokens` are the access tokens a `meet` target may name.
    /// Errors name the rule: `routing.rules[<name>].<field>: <reason>`.
    pub fn new(configs: &[RuleConfig], tokens: &[AccessTokenRef]) -> Result<Self, ConfigError> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut rules = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let item = format!("routing.rules[{}]", config.name);
            if config.name.trim().is_empty() || config.name.chars().any(char::is_control) {
                return Err(ConfigError::new(
                    format!("routing.rules[#{}]", index + 1),
                    "name",
                    "every rule needs a name",
                ));
            }
            if let Some(first) = seen.insert(&config.name, index) {
                return Err(ConfigError::new(
                    item,
                    "name",
                    format!(
                        "duplicate name: rules #{} and #{} are both called this",
                        first + 1,
                        index + 1
                    ),
                ));
            }
            rules.push(Rule::compile(config, &item, tokens)?);
        }
        // Stable sort: equal priorities keep file order.
        rules.sort_by_key(|rule| rule.priority);
        Ok(Self { rules })
    }

    /// An empty rule set: every call is refused.
    pub fn empty() -> Self {
        Self { rules: Vec::new() }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a rule with this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.rules.iter().any(|rule| rule.name == name)
    }

    /// Routes `call`. With `only`, rules not named in it are skipped (a Virtual Reception's
    /// `lookup_rules`; an empty list means all rules).
    pub fn route(&self, call: &IncomingCall<'_>, only: Option<&[String]>) -> Routed {
        let only = only.filter(|names| !names.is_empty());
        let match_key = call.alias.match_key();
        let full_uri = call.alias.full_uri();
        let mut trace = Vec::new();
        for rule in &self.rules {
            let verdict = rule.verdict(call, only, &match_key, &full_uri);
            let matched = verdict == Verdict::Matched;
            trace.push(TraceEntry {
                rule: rule.name.clone(),
                priority: rule.priority,
                verdict,
            });
            if matched {
                let subject = if rule.match_full_uri {
                    &full_uri
                } else {
                    &match_key
                };
                return Routed {
                    decision: Some(rule.decide(subject)),
                    trace,
                };
            }
        }
        Routed {
            decision: None,
            trace,
        }
    }
}

impl Rule {
    fn compile(
        config: &RuleConfig,
        item: &str,
        tokens: &[AccessTokenRef],
    ) -> Result<Self, ConfigError> {
        let error = |field, reason: String| ConfigError::new(item, field, reason);
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&config.priority) {
            return Err(error(
                "priority",
                format!(
                    "{} is outside {MIN_PRIORITY}..={MAX_PRIORITY}",
                    config.priority
                ),
            ));
        }
        if config.protocols.is_empty() {
            return Err(error(
                "protocols",
                "must name at least one of sip, h323".to_owned(),
            ));
        }
        let length = config.pattern.chars().count();
        if length == 0 || length > MAX_PATTERN_LEN {
            return Err(error(
                "match",
                format!("must be 1 to {MAX_PATTERN_LEN} characters, not {length}"),
            ));
        }
        // Check the pattern as written first, so errors quote the operator's text rather
        // than the anchored form below.
        Regex::new(&config.pattern).map_err(|e| {
            error(
                "match",
                format!("invalid regex: {}", one_line(&e.to_string())),
            )
        })?;
        // Full match: the pattern must cover the whole subject.
        let pattern = RegexBuilder::new(&format!("^(?:{})$", config.pattern))
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                error(
                    "match",
                    format!("invalid regex: {}", one_line(&e.to_string())),
                )
            })?;
        let replacement = if config.replace.is_empty() {
            None
        } else {
            Some(Replacement::compile(&config.replace, &pattern).map_err(|e| error("replace", e))?)
        };
        let target = match &config.target {
            TargetConfig::Meet { access_token } => {
                let token = tokens.iter().find(|t| &t.name == access_token).ok_or_else(|| {
                    let known: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
                    error(
                        "target",
                        format!(
                            "unknown access token `{access_token}` (defined in [[meet.access_tokens]]: {})",
                            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                        ),
                    )
                })?;
                Target::Meet {
                    access_token: token.name.clone(),
                    trusted: token.trusted,
                }
            }
            TargetConfig::Sip {
                proxy,
                dns,
                transport,
            } => match (proxy, dns) {
                (Some(proxy), false) => {
                    check_proxy(proxy).map_err(|e| error("target", e))?;
                    Target::Sip {
                        proxy: Some(proxy.to_ascii_lowercase()),
                        dns: false,
                        transport: *transport,
                    }
                }
                (None, true) => Target::Sip {
                    proxy: None,
                    dns: true,
                    transport: *transport,
                },
                _ => {
                    return Err(error(
                        "target",
                        "a sip target needs exactly one of `proxy = \"host:port\"` or `dns = true`"
                            .to_owned(),
                    ));
                }
            },
        };
        Ok(Self {
            name: config.name.clone(),
            priority: config.priority,
            enabled: config.enabled,
            match_incoming: config.match_incoming,
            protocols: config.protocols.clone(),
            registered_only: config.registered_only,
            source: config.source.clone(),
            pattern,
            match_full_uri: config.match_full_uri,
            replacement,
            target,
            settings: CallSettings {
                treat_as_trusted: config.treat_as_trusted,
                max_callrate_in: config.max_callrate_in,
                max_callrate_out: config.max_callrate_out,
                crypto: config.crypto,
                call_type: config.call_type,
            },
        })
    }

    fn verdict(
        &self,
        call: &IncomingCall<'_>,
        only: Option<&[String]>,
        key: &str,
        full: &str,
    ) -> Verdict {
        if !self.enabled {
            return Verdict::Disabled;
        }
        if only.is_some_and(|names| !names.iter().any(|n| n == &self.name)) {
            return Verdict::NotInLookup;
        }
        if !self.match_incoming {
            return Verdict::NotIncoming;
        }
        if !self.protocols.contains(&call.protocol) {
            return Verdict::Protocol {
                protocol: call.protocol,
            };
        }
        if self.registered_only && !call.registered {
            return Verdict::NotRegistered;
        }
        if !self.source.is_empty() && !self.source.iter().any(|net| net.contains(&call.source)) {
            return Verdict::Source {
                source: call.source,
            };
        }
        let subject = if self.match_full_uri { full } else { key };
        if !self.pattern.is_match(subject) {
            return Verdict::Regex {
                subject: subject.to_owned(),
            };
        }
        Verdict::Matched
    }

    fn decide(&self, subject: &str) -> Decision {
        let alias = match &self.replacement {
            Some(replacement) => replacement.apply(&self.pattern, subject),
            None => subject.to_owned(),
        };
        Decision {
            rule: self.name.clone(),
            priority: self.priority,
            alias,
            target: self.target.clone(),
            settings: self.settings,
        }
    }
}

/// `host[:port]`: a host name or address, and a port from 1 to 65535.
fn check_proxy(proxy: &str) -> Result<(), String> {
    let bad = || format!("proxy `{proxy}` is not host[:port]");
    let (host, port) = match proxy.rsplit_once(':') {
        Some((host, port))
            if !host.ends_with(':') && !host.contains(':') || host.ends_with(']') =>
        {
            (host, Some(port))
        }
        _ => (proxy, None),
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '@' || c == '/')
    {
        return Err(bad());
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

/// `regex` errors draw a caret diagram over several lines; a config message is one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == '~'))
        .collect::<Vec<_>>()
        .join(" ")
}
