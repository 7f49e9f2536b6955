//! Participants: gateways (our node), Media API clients and synthetic participants (hosts and
//! users the control API puts in a conference, with no media), and how they look on the
//! `participants` and `media-entries` channels.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::offer::MediaShape;
use super::time::unix_ms;
use meet::protocol::media_entries::{MediaEntry, MediaEntryResource};
use meet::protocol::participants::{
    AnonymousUser, GatewayInfo, GatewayProtocol, Participant as WireParticipant,
    ParticipantResource, SignedInUser,
};
use meet::protocol::session_control::{ConnectionState, DisconnectReason};

/// What kind of participant this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A gateway session (`connectGateway`).
    Gateway {
        trusted: bool,
        protocol: GatewayProtocol,
        caller_uri: Option<String>,
        /// The JWT `sub`.
        call_id: String,
        /// The JWT `iss`.
        issuer: String,
    },
    /// A Media API client (`connectActiveConference`); not on the roster.
    MediaClient { scopes: Vec<String> },
    /// Someone the control API added: no channels, no media.
    Synthetic { signed_in_user: Option<String> },
    /// A browser on the participant page (`/m/{meetingCode}`): a signed-in member of the
    /// owner's organisation, with the channels of a gateway and the same media.
    Browser,
}

/// The kind of a participant, as the control API and the event log spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKindName {
    /// A gateway session.
    Gateway,
    /// A Media API client.
    MediaClient,
    /// A participant added through the control API.
    Synthetic,
    /// A browser on the participant page.
    Browser,
}

impl ParticipantKindName {
    /// `gateway`, `media_client` or `synthetic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::MediaClient => "media_client",
            Self::Synthetic => "synthetic",
            Self::Browser => "browser",
        }
    }
}

/// Where a participant stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum State {
    Waiting {
        deadline: SystemTime,
    },
    Joined,
    Disconnected {
        reason: DisconnectReason,
        x_reason: Option<String>,
    },
}

/// One participant.
#[derive(Clone, Debug)]
pub(super) struct Participant {
    pub(super) id: i64,
    pub(super) space: String,
    /// The conference record it joined.
    pub(super) conference: String,
    pub(super) display_name: String,
    pub(super) host: bool,
    pub(super) kind: Kind,
    pub(super) state: State,
    pub(super) media_entry_id: i64,
    pub(super) audio_csrc: u32,
    pub(super) video_csrc: u32,
    /// Under the `mute` lock policy: the media plane must drop this kind of its media.
    pub(super) video_muted_by_lock: bool,
    pub(super) audio_muted_by_lock: bool,
    /// Sections in the last `uploadMediaStats`.
    pub(super) last_media_stats_sections: Option<usize>,
    /// The sections of the last `uploadMediaStats`, normalised to the TS dialect.
    pub(super) last_media_stats: Vec<meet::protocol::media_stats::MediaStatsSection>,
    /// The media its offer set up (none for synthetic participants).
    pub(super) media: MediaShape,
    /// The virtual SSRCs of its receive-video m-lines, in offer order: made up at connect,
    /// replaced by the media plane's once it has accepted the offer.
    pub(super) video_ssrcs: Vec<u32>,
    /// Its last accepted `setAssignment` layout.
    pub(super) layout: Option<Layout>,
    /// The source participant on each canvas of `layout`, in canvas order.
    pub(super) assigned: Vec<Option<i64>>,
}

/// An accepted layout: the canvases of a `setAssignment`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Layout {
    pub(super) label: String,
    /// `(canvas id, width, height)` in request order; canvas `i` uses virtual stream `i`.
    pub(super) canvases: Vec<(i32, u32, u32)>,
    /// `maxVideoResolution` (width, height), if given.
    pub(super) max_resolution: Option<(u32, u32)>,
}

impl Participant {
    pub(super) fn kind_name(&self) -> ParticipantKindName {
        match self.kind {
            Kind::Gateway { .. } => ParticipantKindName::Gateway,
            Kind::MediaClient { .. } => ParticipantKindName::MediaClient,
            Kind::Synthetic { .. } => ParticipantKindName::Synthetic,
            Kind::Browser => ParticipantKindName::Browser,
        }
    }

    /// Whether it has data channels (gateways and Media API clients do).
    pub(super) fn has_channels(&self) -> bool {
        !matches!(self.kind, Kind::Synthetic { .. })
    }

    /// Whether it opens the `x-` channels (gateways and browsers).
    pub(super) fn has_extensions(&self) -> bool {
        matches!(self.kind, Kind::Gateway { .. } | Kind::Browser)
    }

    /// Whether its video can be put on others' canvases: everyone on the roster (synthetic
    /// participants get canvases too, with no packets behind them).
    pub(super) fn is_video_source(&self) -> bool {
        self.is_joined() && self.on_roster()
    }

    /// Whether others see it on the roster (everyone but Media API clients).
    pub(super) fn on_roster(&self) -> bool {
        !matches!(self.kind, Kind::MediaClient { .. })
    }

    pub(super) fn is_joined(&self) -> bool {
        self.state == State::Joined
    }

    pub(super) fn is_present(&self) -> bool {
        !matches!(self.state, State::Disconnected { .. })
    }

    pub(super) fn lobby_deadline(&self) -> Option<SystemTime> {
        match self.state {
            State::Waiting { deadline } => Some(deadline),
            _ => None,
        }
    }

    fn key(&self) -> String {
        format!("participants/p{}", self.id)
    }

    /// The `participants` resource others see.
    pub(super) fn resource(&self) -> ParticipantResource {
        let mut wire = WireParticipant {
            participant_id: Some(self.id),
            participant_key: Some(self.key()),
            name: Some(format!("{}/{}", self.conference, self.key())),
            ..WireParticipant::default()
        };
        match &self.kind {
            Kind::Gateway {
                trusted, protocol, ..
            } => {
                wire.anonymous_user = Some(AnonymousUser {
                    display_name: self.display_name.clone(),
                });
                wire.x_gateway = Some(GatewayInfo {
                    trusted: *trusted,
                    protocol: Some(protocol.clone()),
                });
            }
            Kind::Synthetic {
                signed_in_user: Some(user),
            } => {
                wire.signed_in_user = Some(SignedInUser {
                    user: user.clone(),
                    display_name: self.display_name.clone(),
                });
            }
            Kind::Browser => {
                wire.signed_in_user = Some(SignedInUser {
                    user: format!("users/browser-{}", self.id),
                    display_name: self.display_name.clone(),
                });
            }
            Kind::Synthetic {
                signed_in_user: None,
            }
            | Kind::MediaClient { .. } => {
                wire.anonymous_user = Some(AnonymousUser {
                    display_name: self.display_name.clone(),
                });
            }
        }
        ParticipantResource {
            id: self.id,
            participant: Some(wire),
        }
    }

    /// The `media-entries` resource of its one session.
    pub(super) fn media_entry(&self) -> MediaEntryResource {
        let session = format!("{}/participantSessions/s{}", self.key(), self.id);
        MediaEntryResource {
            id: self.media_entry_id,
            media_entry: Some(MediaEntry {
                participant: Some(format!("{}/{}", self.conference, self.key())),
                participant_key: Some(self.key()),
                session: Some(format!("{}/{session}", self.conference)),
                session_name: Some(session),
                participant_id: None,
                audio_csrc: self.audio_csrc,
                video_csrcs: vec![self.video_csrc],
                presenter: false,
                screenshare: false,
                audio_muted: self.audio_muted_by_lock,
                video_muted: self.video_muted_by_lock,
            }),
        }
    }

    pub(super) fn info(&self, space_name: String) -> ParticipantInfo {
        let (trusted, protocol, caller_uri, call_id, issuer) = match &self.kind {
            Kind::Gateway {
                trusted,
                protocol,
                caller_uri,
                call_id,
                issuer,
            } => (
                Some(*trusted),
                Some(protocol.as_str().to_owned()),
                caller_uri.clone(),
                Some(call_id.clone()),
                Some(issuer.clone()),
            ),
            _ => (None, None, None, None, None),
        };
        let scopes = match &self.kind {
            Kind::MediaClient { scopes } => Some(scopes.clone()),
            _ => None,
        };
        let (state, disconnect_reason, x_reason, lobby_deadline_unix_ms) = match &self.state {
            State::Waiting { deadline } => (
                ConnectionState::Waiting,
                None,
                None,
                Some(unix_ms(*deadline)),
            ),
            State::Joined => (ConnectionState::Joined, None, None, None),
            State::Disconnected { reason, x_reason } => (
                ConnectionState::Disconnected,
                Some(reason.as_str().to_owned()),
                x_reason.clone(),
                None,
            ),
        };
        ParticipantInfo {
            participant_id: self.id,
            space: space_name,
            display_name: self.display_name.clone(),
            kind: self.kind_name(),
            host: self.host,
            state: state.as_str().to_owned(),
            disconnect_reason,
            x_reason,
            lobby_deadline_unix_ms,
            trusted,
            protocol,
            caller_uri,
            call_id,
            issuer,
            scopes,
            media_entry_id: self.media_entry_id,
            audio_csrc: self.audio_csrc,
            video_csrc: self.video_csrc,
            video_muted_by_lock: self.video_muted_by_lock,
            audio_muted_by_lock: self.audio_muted_by_lock,
            last_media_stats_sections: self.last_media_stats_sections,
        }
    }
}

/// What the control API shows of a participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantInfo {
    /// The id (also its `participants` resource id).
    pub participant_id: i64,
    /// `spaces/{id}`.
    pub space: String,
    /// The display name.
    pub display_name: String,
    /// What kind of participant.
    pub kind: ParticipantKindName,
    /// A host or co-host.
    pub host: bool,
    /// `STATE_WAITING`, `STATE_JOINED` or `STATE_DISCONNECTED`.
    pub state: String,
    /// The reason sent with `STATE_DISCONNECTED`.
    pub disconnect_reason: Option<String>,
    /// The `x-reason` detail sent with it.
    pub x_reason: Option<String>,
    /// While waiting: when the lobby timeout fires.
    pub lobby_deadline_unix_ms: Option<u64>,
    /// Gateways: whether admitted as trusted.
    pub trusted: Option<bool>,
    /// Gateways: `SIP` or `H323`.
    pub protocol: Option<String>,
    /// Gateways: the caller's URI.
    pub caller_uri: Option<String>,
    /// Gateways: the token's `sub`.
    pub call_id: Option<String>,
    /// Gateways: the token's `iss`.
    pub issuer: Option<String>,
    /// Media API clients: the OAuth scopes.
    pub scopes: Option<Vec<String>>,
    /// Its media entry id.
    pub media_entry_id: i64,
    /// Its audio CSRC.
    pub audio_csrc: u32,
    /// Its video CSRC.
    pub video_csrc: u32,
    /// Under the `mute` video-lock policy: its video is to be dropped.
    pub video_muted_by_lock: bool,
    /// Under the `mute` audio-lock policy: its audio is to be dropped.
    pub audio_muted_by_lock: bool,
    /// Sections in its last media-stats upload.
    pub last_media_stats_sections: Option<usize>,
}

/// A lobby entry, as a host sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LobbyEntry {
    /// The waiting participant.
    pub participant_id: i64,
    /// The name it knocks with.
    pub display_name: String,
    /// When the lobby timeout fires.
    pub deadline_unix_ms: u64,
}

/// A synthetic participant for the control API to add: a host or user with no media.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SyntheticJoin {
    /// The display name.
    pub display_name: String,
    /// Whether it is a host (may chat under `HOSTS_ONLY`; is the Media API consenter).
    pub host: bool,
    /// `users/{id}` for a signed-in user; anonymous when absent.
    pub signed_in_user: Option<String>,
}
