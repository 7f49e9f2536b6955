//! Signalling protocols a call can arrive on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The protocol of an incoming call, as rules filter on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// SIP (RFC 3261).
    Sip,
    /// H.323.
    H323,
}

impl Protocol {
    /// Both protocols, the default of a rule's `protocols`.
    pub const ALL: [Self; 2] = [Self::Sip, Self::H323];

    /// The name used in configuration and output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sip => "sip",
            Self::H323 => "h323",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sip" => Ok(Self::Sip),
            "h323" | "h.323" => Ok(Self::H323),
            other => Err(format!("unknown protocol `{other}` (expected sip or h323)")),
        }
    }
}
