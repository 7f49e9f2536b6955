//! The router: everything routing needs, compiled from `[routing]`, behind one lookup.
//!
//! A lookup first checks whether the alias is a Virtual Reception's (the caller then talks to
//! the IVR), then tries the Call Routing Rules. A rule that sends a call to Meet must leave a
//! meeting ID in the rewritten alias ([`MeetingId`]); otherwise the call is refused, as it would
//! be by Meet, but with a reason the operator can read.

use serde::{Deserialize, Serialize};

use crate::alias::Alias;
use crate::break_in::BreakInConfig;
use crate::meeting_id::{MeetingId, MeetingIdConfig};
use crate::otj::{OtjRuleConfig, OtjRules};
use crate::reception::VirtualReceptionConfig;
use crate::rules::{
    AccessTokenRef, Decision, IncomingCall, RuleConfig, RuleSet, Target, TraceEntry,
};
use crate::{ConfigError, Protocol};

/// `[routing]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// `[routing.meeting_ids]`: what a meeting identifier looks like.
    pub meeting_ids: MeetingIdConfig,
    /// `[routing.break_in]`: blocking sources that keep dialling wrong aliases.
    pub break_in: BreakInConfig,
    /// `[[routing.rules]]`: Call Routing Rules. Default none: every call is refused (404).
    pub rules: Vec<RuleConfig>,
    /// `[[routing.virtual_receptions]]`: IVRs that ask for a meeting ID. Default none.
    pub virtual_receptions: Vec<VirtualReceptionConfig>,
    /// `[[routing.otj_rules]]`: One-Touch-Join meeting processing rules. Default none.
    pub otj_rules: Vec<OtjRuleConfig>,
}

/// The compiled routing configuration. Cheap to share behind an `Arc`; replaced whole on reload.
#[derive(Debug)]
pub struct Router {
    rules: RuleSet,
    receptions: Vec<(String, VirtualReceptionConfig)>,
    otj: OtjRules,
    meeting_ids: MeetingIdConfig,
}

/// What a lookup decided, with the trace of the rules tried.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lookup {
    /// The decision.
    pub outcome: Outcome,
    /// Every rule tried, in order.
    pub trace: Vec<TraceEntry>,
}

/// A lookup's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The alias belongs to this Virtual Reception: run its IVR.
    Reception {
        /// The reception's name.
        name: String,
    },
    /// A rule matched.
    Routed {
        /// The rule's decision.
        decision: Decision,
        /// The meeting identified by the rewritten alias (always present for Meet targets).
        meeting: Option<MeetingId>,
    },
    /// No rule matched.
    NoMatch,
    /// A rule sent the call to Meet, but its rewritten alias holds no meeting ID.
    NotAMeetingId {
        /// The rule's decision.
        decision: Decision,
    },
}

impl Router {
    /// Compiles and checks `[routing]`. `tokens` are the configured access tokens.
    pub fn new(config: &RoutingConfig, tokens: &[AccessTokenRef]) -> Result<Self, ConfigError> {
        config.meeting_ids.validate()?;
        config.break_in.validate()?;
        let rules = RuleSet::new(&config.rules, tokens)?;
        let mut receptions: Vec<(String, VirtualReceptionConfig)> = Vec::new();
        for reception in &config.virtual_receptions {
            reception.validate()?;
            let item = format!("routing.virtual_receptions[{}]", reception.name);
            if receptions.iter().any(|(_, r)| r.name == reception.name) {
                return Err(ConfigError::new(item, "name", "duplicate name"));
            }
            let key = Alias::parse(&reception.alias, Protocol::Sip)
                .map_err(|e| ConfigError::new(&item, "alias", e.to_string()))?
                .match_key();
            if let Some((_, other)) = receptions.iter().find(|(k, _)| *k == key) {
                return Err(ConfigError::new(
                    item,
                    "alias",
                    format!(
                        "`{}` is already the alias of {}",
                        reception.alias, other.name
                    ),
                ));
            }
            if let Some(unknown) = reception.lookup_rules.iter().find(|n| !rules.contains(n)) {
                return Err(ConfigError::new(
                    item,
                    "lookup_rules",
                    format!("no rule is called `{unknown}`"),
                ));
            }
            receptions.push((key, reception.clone()));
        }
        let otj = OtjRules::new(&config.otj_rules)?;
        Ok(Self {
            rules,
            receptions,
            otj,
            meeting_ids: config.meeting_ids.clone(),
        })
    }

    /// Routes an incoming call: its Virtual Reception, else the rules.
    pub fn route(&self, call: &IncomingCall<'_>) -> Lookup {
        let key = call.alias.match_key();
        if let Some((_, reception)) = self.receptions.iter().find(|(k, _)| *k == key) {
            return Lookup {
                outcome: Outcome::Reception {
                    name: reception.name.clone(),
                },
                trace: Vec::new(),
            };
        }
        self.route_rules(call, None)
    }

    /// Routes what a caller entered in a Virtual Reception as a new incoming call, trying only
    /// `lookup_rules` (empty = all). Receptions are not consulted, so an IVR cannot loop into
    /// itself.
    pub fn route_entry(&self, call: &IncomingCall<'_>, lookup_rules: &[String]) -> Lookup {
        self.route_rules(call, Some(lookup_rules))
    }

    /// The Virtual Reception called `name`.
    pub fn reception(&self, name: &str) -> Option<&VirtualReceptionConfig> {
        self.receptions
            .iter()
            .map(|(_, r)| r)
            .find(|r| r.name == name)
    }

    /// The One-Touch-Join rules.
    pub fn otj(&self) -> &OtjRules {
        &self.otj
    }

    /// Number of Call Routing Rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Number of Virtual Receptions.
    pub fn reception_count(&self) -> usize {
        self.receptions.len()
    }

    fn route_rules(&self, call: &IncomingCall<'_>, only: Option<&[String]>) -> Lookup {
        let routed = self.rules.route(call, only);
        let outcome = match routed.decision {
            None => Outcome::NoMatch,
            Some(decision) => {
                let meeting = MeetingId::recognise(&decision.alias, &self.meeting_ids);
                match (&decision.target, meeting) {
                    (Target::Meet { .. }, None) => Outcome::NotAMeetingId { decision },
                    (_, meeting) => Outcome::Routed { decision, meeting },
                }
            }
        };
        Lookup {
            outcome,
            trace: routed.trace,
        }
    }
}
