//! `participants`: the conference roster, server → client only (meet-side.md §1.4).
//!
//! ```json
//! {"resources":[{"id":7,"participant":{"participantId":7,"signedInUser":{...}}}],
//!  "deletedResources":[{"id":9,"participant":true}]}
//! ```
//!
//! A participant is exactly one of a signed-in, anonymous or phone user. Gateway
//! participants (SIP/H.323 callers, tcn itself) appear as anonymous users with the tcn
//! extension `"x-gateway"` (§5.b, "Extension data channels").

use serde::{Deserialize, Serialize};

use super::int64;

/// A server → client `participants` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantsToClient {
    /// Participants added or changed, in no particular order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ParticipantResource>,
    /// Participants who left, in no particular order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_resources: Vec<DeletedParticipant>,
}

/// A `participants` resource snapshot: `{"id": 7, "participant": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantResource {
    /// Resource id, unique within the channel; used again in [`DeletedParticipant`].
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<Participant>,
}

/// A deleted participant: `{"id": 9, "participant": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedParticipant {
    /// The resource id of the participant who left.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The resource-type marker; `true` on the wire.
    #[serde(default)]
    pub participant: bool,
}

impl DeletedParticipant {
    /// The deletion of resource `id`, with the `participant: true` marker.
    pub fn new(id: i64) -> Self {
        Self {
            id,
            participant: true,
        }
    }
}

/// One participant of the conference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    /// Numeric participant id (Google: "will eventually be deprecated in favor of `name`";
    /// it is what `x-chat` messages refer to).
    #[serde(
        default,
        with = "int64::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub participant_id: Option<i64>,
    /// `participants/{participant}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_key: Option<String>,
    /// Resource name, `conferenceRecords/{record}/participants/{participant}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Set for a signed-in Google user (one of the three user kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_user: Option<SignedInUser>,
    /// Set for an anonymous user, including gateway callers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_user: Option<AnonymousUser>,
    /// Set for a phone dial-in user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_user: Option<PhoneUser>,
    /// tcn extension `"x-gateway"`: set when the participant joined through a gateway.
    #[serde(rename = "x-gateway", default, skip_serializing_if = "Option::is_none")]
    pub x_gateway: Option<GatewayInfo>,
}

impl Participant {
    /// Which kind of user this is, and their details; `None` when none of the three is set
    /// (a kind this version does not know). Should several be set, the first of signed-in,
    /// anonymous, phone wins.
    pub fn user(&self) -> Option<ParticipantUser<'_>> {
        if let Some(u) = &self.signed_in_user {
            Some(ParticipantUser::SignedIn(u))
        } else if let Some(u) = &self.anonymous_user {
            Some(ParticipantUser::Anonymous(u))
        } else {
            self.phone_user.as_ref().map(ParticipantUser::Phone)
        }
    }

    /// The name to show for this participant (for a phone user, the partly redacted number).
    pub fn display_name(&self) -> Option<&str> {
        self.user().map(|u| match u {
            ParticipantUser::SignedIn(u) => u.display_name.as_str(),
            ParticipantUser::Anonymous(u) => u.display_name.as_str(),
            ParticipantUser::Phone(u) => u.display_name.as_str(),
        })
    }
}

/// The kind of user behind a [`Participant`] (the `oneof` of the wire format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantUser<'a> {
    /// A signed-in Google user.
    SignedIn(&'a SignedInUser),
    /// An anonymous user.
    Anonymous(&'a AnonymousUser),
    /// A phone dial-in user.
    Phone(&'a PhoneUser),
}

/// A signed-in Google user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedInUser {
    /// `users/{user}`.
    #[serde(default)]
    pub user: String,
    /// The user's name (for a room device, its configured name).
    #[serde(default)]
    pub display_name: String,
}

/// An anonymous user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnonymousUser {
    /// The name the user gave when joining.
    #[serde(default)]
    pub display_name: String,
}

/// A phone dial-in user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneUser {
    /// The partly redacted phone number.
    #[serde(default)]
    pub display_name: String,
}

/// tcn extension: how a gateway participant joined (`"x-gateway": {"trusted": true,
/// "protocol": "SIP"}`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayInfo {
    /// Whether the gateway's interop token is trusted (admitted without the lobby).
    #[serde(default)]
    pub trusted: bool,
    /// The caller's signalling protocol; `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<GatewayProtocol>,
}

open_enum! {
    /// The signalling protocol of a gateway caller, spelled as in `connectGateway`.
    pub enum GatewayProtocol {
        /// SIP.
        Sip = "SIP",
        /// H.323.
        H323 = "H323",
    }
}
