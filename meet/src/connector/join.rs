//! What `resolve` finds and what `connect` sends and gets (meet-side.md §5.a, §5.b
//! `connectGateway`).

use std::fmt;

/// A conference to connect to: the space a dial string resolved to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConferenceRef {
    /// The space's resource name, `spaces/{id}`.
    pub space: String,
    /// The space's meeting code (`abc-defg-hij`), when the backend gave it.
    pub meeting_code: Option<String>,
}

impl ConferenceRef {
    /// The `{id}` of `spaces/{id}` ([`ConferenceRef::space`] without the collection); the
    /// whole name when it has no `spaces/` prefix.
    pub fn space_id(&self) -> &str {
        self.space.strip_prefix("spaces/").unwrap_or(&self.space)
    }
}

/// The signalling protocol of the caller, as `connectGateway` spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CallerProtocol {
    /// SIP (`"SIP"`).
    #[default]
    Sip,
    /// H.323 (`"H323"`).
    H323,
}

impl CallerProtocol {
    /// The wire spelling: `SIP` or `H323`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sip => "SIP",
            Self::H323 => "H323",
        }
    }
}

impl fmt::Display for CallerProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who joins: the gateway caller as Meet's participants see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinInfo {
    /// The name others see (`displayName`, and the JWT's `dn`).
    pub display_name: String,
    /// The caller's URI (`callerUri`, and the JWT's `uri`), e.g. `sip:room41@corp.example`.
    pub caller_uri: String,
    /// SIP or H.323.
    pub protocol: CallerProtocol,
    /// The call's id (the SIP Call-ID, or the H.323 call identifier): the JWT's `sub`.
    pub call_id: String,
}

/// A successful `connect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOutcome {
    /// The SDP answer, to apply to the node's WebRTC stack.
    pub answer: String,
    /// The backend's trace id for this connection, for logs and support, when it gave one.
    pub trace_id: Option<String>,
    /// The gateway's participant id in the conference, when the backend gave one
    /// (meet-sim's `connectGateway` does; the Media API does not).
    pub participant_id: Option<i64>,
}
