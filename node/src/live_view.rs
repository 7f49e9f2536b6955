//! What an operator sees of each live call in `/status` (the reference's "Live View"): the
//! caller's alias and protocol, where the call stands, the leg into Meet as a participant
//! whose alias is the meeting ID, the other Meet participants as `spaces/<id>/devices/<id>`
//! aliases, and the calls grouped by the conference they are in.
//!
//! The call controller fills these in ([`crate::calls::CallDetail`]); `/status` and the
//! metrics read them.

use serde::Serialize;

use crate::calls::CallSummary;

/// The caller's side of a call: the device that placed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallerView {
    /// Its alias: the From URI, e.g. `sip:room@example.com`.
    pub alias: String,
    /// Its display name, when it sent one.
    pub display_name: Option<String>,
    /// Its signalling protocol, the `protocol` label of `tcn_calls_active`: `sip`.
    pub protocol: &'static str,
}

impl Default for CallerView {
    fn default() -> Self {
        Self {
            alias: String::new(),
            display_name: None,
            protocol: "sip",
        }
    }
}

/// Where a call stands: the `state` label of `tcn_calls_active`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// A call to a Virtual Reception, answered, asking the caller for the meeting ID.
    Reception,
    /// A gateway call on its way into the conference (resolving the meeting, connecting).
    Connecting,
    /// A gateway call waiting in the conference's lobby for a host to admit it.
    Lobby,
    /// A gateway call in the conference.
    Joined,
    /// Any other call (test service, SIP-to-SIP) once admitted.
    #[default]
    Connected,
}

impl CallState {
    /// Every state, for pre-creating metric series.
    pub const ALL: [Self; 5] = [
        Self::Reception,
        Self::Connecting,
        Self::Lobby,
        Self::Joined,
        Self::Connected,
    ];

    /// The metric label and `/status` value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Reception => "reception",
            Self::Connecting => "connecting",
            Self::Lobby => "lobby",
            Self::Joined => "joined",
            Self::Connected => "connected",
        }
    }
}

/// A gateway call's leg into Meet, shown as a participant of the call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MeetLegView {
    /// The participant alias of the leg: the meeting ID the caller dialled (after the
    /// routing rule's rewrite).
    pub alias: String,
    /// The conference, `spaces/<id>`, once the meeting ID is resolved.
    pub conference: Option<String>,
    /// The conference's meeting code, when Meet gave it.
    pub meeting_code: Option<String>,
    /// The gateway's own participant, `spaces/<id>/devices/<id>`, when Meet said which it is.
    pub device: Option<String>,
    /// The other participants of the conference, `spaces/<id>/devices/<id>`, in id order.
    pub participants: Vec<String>,
}

/// The alias of participant `id` of the conference `space` (`spaces/<id>`).
pub fn device_alias(space: &str, id: i64) -> String {
    format!("{space}/devices/{id}")
}

/// One Meet conference and the gateway calls in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConferenceView {
    /// `spaces/<id>`.
    pub conference: String,
    /// Its meeting code, when Meet gave it.
    pub meeting_code: Option<String>,
    /// The calls in it (node-local ids), oldest first.
    pub calls: Vec<u64>,
}

/// The calls of `calls` that are in a conference, grouped by conference, in the order of each
/// conference's oldest call.
pub fn conferences(calls: &[CallSummary]) -> Vec<ConferenceView> {
    let mut groups: Vec<ConferenceView> = Vec::new();
    for call in calls {
        let Some(leg) = call.detail.as_ref().and_then(|d| d.meet_leg()) else {
            continue;
        };
        let Some(conference) = leg.conference else {
            continue;
        };
        match groups.iter_mut().find(|g| g.conference == conference) {
            Some(group) => group.calls.push(call.id),
            None => groups.push(ConferenceView {
                conference,
                meeting_code: leg.meeting_code,
                calls: vec![call.id],
            }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::calls::CallDetail;

    fn call(id: u64, conference: Option<&str>) -> CallSummary {
        let detail = CallDetail::default();
        detail.set_meet_leg(MeetLegView {
            alias: "1234567890".into(),
            conference: conference.map(str::to_owned),
            ..MeetLegView::default()
        });
        CallSummary {
            id,
            duration_seconds: 1.0,
            licenses: 2,
            detail: Some(Arc::new(detail)),
        }
    }

    #[test]
    fn calls_into_one_conference_are_grouped() {
        let calls = [
            call(1, Some("spaces/a")),
            call(2, Some("spaces/b")),
            call(3, None),
            call(4, Some("spaces/a")),
        ];
        let groups = conferences(&calls);
        let shape: Vec<(&str, &[u64])> = groups
            .iter()
            .map(|g| (g.conference.as_str(), g.calls.as_slice()))
            .collect();
        assert_eq!(shape, [("spaces/a", &[1, 4][..]), ("spaces/b", &[2][..])]);
        assert_eq!(device_alias("spaces/a", 7), "spaces/a/devices/7");
    }
}
