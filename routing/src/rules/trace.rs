//! Why each rule did or did not match a call.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::Protocol;

/// One rule's verdict on one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// The rule's name.
    pub rule: String,
    /// The rule's priority.
    pub priority: u32,
    /// What happened.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A rule's verdict, in the order the filters are checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    /// `enabled = false`.
    Disabled,
    /// The caller restricted the lookup to other rules (a Virtual Reception's `lookup_rules`).
    NotInLookup,
    /// `match_incoming = false`.
    NotIncoming,
    /// The call's protocol is not in `protocols`.
    Protocol {
        /// The call's protocol.
        protocol: Protocol,
    },
    /// `registered_only` and the caller is not registered.
    NotRegistered,
    /// The source address is outside every `source` network.
    Source {
        /// The call's source address.
        source: IpAddr,
    },
    /// The regex did not match the whole subject.
    Regex {
        /// What the regex was matched against.
        subject: String,
    },
    /// The rule matched.
    Matched,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str("skipped: disabled"),
            Self::NotInLookup => f.write_str("skipped: not in this lookup's rules"),
            Self::NotIncoming => {
                f.write_str("skipped: not for incoming calls (match_incoming = false)")
            }
            Self::Protocol { protocol } => write!(
                f,
                "skipped: protocol {protocol} not in the rule's protocols"
            ),
            Self::NotRegistered => {
                f.write_str("skipped: registered devices only, and the caller is not registered")
            }
            Self::Source { source } => {
                write!(f, "skipped: source {source} is outside the rule's networks")
            }
            Self::Regex { subject } => {
                write!(f, "no match: the pattern does not match `{subject}`")
            }
            Self::Matched => f.write_str("matched"),
        }
    }
}
