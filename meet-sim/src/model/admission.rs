//! The public, Meet-shaped requests: gateway authentication, `resolve`, `connectGateway` and
//! `connectActiveConference`, the lobby, and fault injection (meet-side.md §1.2, §5.b
//! "Gateway authentication", "Admission").

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::SimModel;
use super::enrollment::MEDIA_SCOPES;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::offer::{MediaShape, OfferShape};
use super::participant::{Kind, Participant, State};
use super::time::unix_ms;
use meet::jwt::{Claims, JwtError};
use meet::protocol::participants::GatewayProtocol;
use meet::protocol::session_control::{SessionControlToClient, SessionStatus};

/// Which offer rules a connect applies.
#[derive(Clone, Copy, Debug)]
enum OfferRule {
    /// A gateway or browser participant: sends simulcast, receives up to 8 videos.
    Sender,
    /// A Media API client: receive only, what its scopes allow.
    MediaClient { audio: bool, video: bool },
}

/// The body of `connectGateway` (§5.b): `{"offer","displayName","callerUri","protocol"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayJoin {
    /// The SDP offer.
    pub offer: String,
    /// The name others see; the token's `dn`, then `"Gateway caller"`, when empty.
    pub display_name: String,
    /// The caller's URI; the token's `uri` when absent.
    pub caller_uri: Option<String>,
    /// `SIP` or `H323`; `SIP` when absent.
    pub protocol: Option<GatewayProtocol>,
}

/// The body of the participant page's join (`POST /m/{meetingCode}:join`):
/// `{"offer","displayName"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrowserJoin {
    /// The SDP offer.
    pub offer: String,
    /// The name others see; `"Browser"` when empty.
    pub display_name: String,
}

/// A successful connect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinOutcome {
    /// The SDP answer: empty from the model; the media plane, which accepts the offer,
    /// fills it in.
    pub answer: String,
    /// A trace id, as Meet returns.
    pub trace_id: String,
    /// The new participant.
    pub participant_id: i64,
    /// `STATE_JOINED` or `STATE_WAITING`; the client learns it on `session-control`, not here
    /// (a 200 does not mean joined, §1.2). Not part of the HTTP answer.
    #[serde(skip)]
    pub state: String,
    /// What the offer sets up. Not part of the HTTP answer.
    #[serde(skip)]
    pub media: MediaShape,
}

/// The answer to `resolve`: `{"space":"spaces/…","meetingCode":"abc-defg-hij"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    /// `spaces/{id}`.
    pub space: String,
    /// The space's meeting code.
    pub meeting_code: String,
}

impl SimModel {
    /// `result`, with a refusal logged as [`refuse`](Self::refuse) does.
    fn logged<T>(
        &mut self,
        endpoint: &str,
        result: Result<T, SimError>,
        now: SystemTime,
    ) -> Result<T, SimError> {
        result.map_err(|err| self.refuse(endpoint, err, now))
    }

    fn refuse(&mut self, endpoint: &str, err: SimError, now: SystemTime) -> SimError {
        self.events.push(
            now,
            EventKind::RequestRefused {
                endpoint: endpoint.to_owned(),
                http_status: err.http_status,
                status: err.status.to_owned(),
                reason: err.reason.clone(),
                message: err.message.clone(),
            },
        );
        err
    }

    /// Checks a gateway's bearer JWT and the interop token in it: 401 for a missing or bad
    /// token ([`JwtError::status`]), 403 for an unknown or revoked interop token or an
    /// organisation with interop off. Returns the claims and whether the token is trusted for
    /// an organisation.
    fn authenticate_gateway(
        &mut self,
        bearer: Option<&str>,
        now: SystemTime,
    ) -> Result<(Claims, u64), SimError> {
        let token = bearer.ok_or_else(|| {
            SimError::new(
                RpcCode::Unauthenticated,
                "CREDENTIALS_MISSING",
                "missing Authorization: Bearer <gateway JWT>",
            )
        })?;
        let claims = self.validator.validate(token, now)?;
        if let Some(cutoff) = self.faults.tokens_expired_up_to_unix_s
            && claims.iat <= cutoff
        {
            return Err(JwtError::Expired.into());
        }
        let record = self.token_by_value(claims.itk.expose()).ok_or_else(|| {
            SimError::new(
                RpcCode::PermissionDenied,
                "INTEROP_TOKEN_UNKNOWN",
                "the interop token is not known",
            )
        })?;
        if record.info.revoked {
            return Err(SimError::new(
                RpcCode::PermissionDenied,
                "INTEROP_TOKEN_REVOKED",
                "the interop token was revoked",
            ));
        }
        if !self.org_interop_enabled(&record.info.org) {
            return Err(SimError::new(
                RpcCode::PermissionDenied,
                "INTEROP_DISABLED",
                "the token's organisation does not allow interoperability",
            ));
        }
        Ok((claims, record.info.id))
    }

    /// `GET /v1/interop/meetingIds/{id}:resolve`: the space a meeting code, long id or short
    /// id names. 404 `MEETING_ID_NOT_FOUND` when none.
    pub fn resolve(
        &mut self,
        id: &str,
        bearer: Option<&str>,
        now: SystemTime,
    ) -> Result<Resolved, SimError> {
        let now = self.step(now);
        let result = self.authenticate_gateway(bearer, now).and_then(|_| {
            let space_id = self.find_space(id).ok_or_else(|| {
                SimError::not_found(
                    "MEETING_ID_NOT_FOUND",
                    format!("no meeting has the id {id:?}"),
                )
            })?;
            let space = &self.spaces[&space_id];
            Ok(Resolved {
                space: space.name(),
                meeting_code: space.meeting_code.clone(),
            })
        });
        match result {
            Ok(resolved) => {
                self.events.push(
                    now,
                    EventKind::MeetingIdResolved {
                        id: id.to_owned(),
                        space: resolved.space.clone(),
                    },
                );
                Ok(resolved)
            }
            Err(err) => Err(self.refuse("resolve", err, now)),
        }
    }

    /// The checks every connect makes after authentication, in order: injected failure, the
    /// space (404 `SPACE_NOT_FOUND`), a running conference (404 `NO_ACTIVE_CONFERENCE`, or one
    /// is started with `auto_start_conference`), an offer (400 `INVALID_OFFER`). Returns the
    /// space id.
    fn common_connect_checks(
        &mut self,
        space_key: &str,
        offer: &str,
        rule: OfferRule,
        now: SystemTime,
    ) -> Result<(String, MediaShape), SimError> {
        self.injected_failure()?;
        let space_id = self.space_id_or_404(space_key)?;
        if self.spaces[&space_id].conference.is_none() {
            if !self.config.auto_start_conference {
                return Err(SimError::not_found(
                    "NO_ACTIVE_CONFERENCE",
                    "no conference is running in this space",
                ));
            }
            self.open_conference(&space_id, now);
        }
        let shape = OfferShape::parse(offer).and_then(|shape| match rule {
            OfferRule::Sender => shape.check_sender(
                self.config.video_recv_streams_max,
                self.config.send_video_layers,
            ),
            OfferRule::MediaClient { audio, video } => {
                shape.check_media_client(self.config.media_client_video_max, audio, video)
            }
        });
        let media =
            shape.map_err(|e| SimError::new(RpcCode::InvalidArgument, "INVALID_OFFER", e.0))?;
        Ok((space_id, media))
    }

    pub(super) fn new_participant(
        &mut self,
        space_id: &str,
        display_name: String,
        host: bool,
        kind: Kind,
        state: State,
        media: MediaShape,
    ) -> i64 {
        let id = self.next_participant_id;
        self.next_participant_id += 1;
        let media_entry_id = self.next_media_entry_id;
        self.next_media_entry_id += 1;
        let conference = self.spaces[space_id]
            .conference
            .as_ref()
            .map(|c| c.record.clone())
            .unwrap_or_default();
        let (audio_csrc, video_csrc) = (self.ids.csrc(), self.ids.csrc());
        self.participants.insert(
            id,
            Participant {
                id,
                space: space_id.to_owned(),
                conference,
                display_name,
                host,
                kind,
                state,
                media_entry_id,
                audio_csrc,
                video_csrc,
                video_muted_by_lock: false,
                audio_muted_by_lock: false,
                last_media_stats_sections: None,
                last_media_stats: Vec::new(),
                video_ssrcs: (0..media.recv_video as u32)
                    .map(|i| 0x5000_0000 + (id as u32) * 16 + i)
                    .collect(),
                media,
                layout: None,
                assigned: Vec::new(),
            },
        );
        id
    }

    /// `POST /v1/interop/spaces/{space}:connectGateway` (§5.b).
    ///
    /// Order: the JWT and interop token (401/403), injected failure, space, conference, offer
    /// (see `common_connect_checks`), then the locks (412 `VIDEO_LOCKED`, `AUDIO_LOCKED`).
    /// Then admission: a trusted token of the space owner's organisation joins at once
    /// (`STATE_JOINED`); otherwise, unless the space is `OPEN` and
    /// `open_admits_untrusted_gateway` is set, the gateway waits in the lobby
    /// (`STATE_WAITING`) until a host admits or denies it or `lobby_timeout` passes.
    pub fn connect_gateway(
        &mut self,
        space_key: &str,
        bearer: Option<&str>,
        join: GatewayJoin,
        now: SystemTime,
    ) -> Result<JoinOutcome, SimError> {
        let now = self.step(now);
        let result = self.try_connect_gateway(space_key, bearer, join, now);
        self.logged("connectGateway", result, now)
    }

    fn try_connect_gateway(
        &mut self,
        space_key: &str,
        bearer: Option<&str>,
        join: GatewayJoin,
        now: SystemTime,
    ) -> Result<JoinOutcome, SimError> {
        let (claims, token_id) = self.authenticate_gateway(bearer, now)?;
        let (space_id, media) =
            self.common_connect_checks(space_key, &join.offer, OfferRule::Sender, now)?;
        let space = &self.spaces[&space_id];
        if space.state.video_lock {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "VIDEO_LOCKED",
                "a host locked video: gateways cannot join until it is unlocked",
            ));
        }
        if space.state.audio_lock {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "AUDIO_LOCKED",
                "a host locked audio: gateways cannot join until it is unlocked",
            ));
        }
        let record = &self.tokens[&token_id];
        let trusted = record.info.trusted && record.info.org == space.owner_org;
        let admit_now = trusted
            || (space.config.access_type == super::AccessType::Open
                && self.config.open_admits_untrusted_gateway);
        let display_name = [Some(join.display_name), claims.dn.clone()]
            .into_iter()
            .flatten()
            .find(|n| !n.is_empty())
            .unwrap_or_else(|| "Gateway caller".to_owned());
        let kind = Kind::Gateway {
            trusted,
            protocol: join.protocol.unwrap_or(GatewayProtocol::Sip),
            caller_uri: join.caller_uri.or(claims.uri),
            call_id: claims.sub,
            issuer: claims.iss,
        };
        let deadline = now + self.config.lobby_timeout;
        let pid = self.new_participant(
            &space_id,
            display_name.clone(),
            false,
            kind,
            State::Waiting { deadline },
            media,
        );
        let state = if admit_now {
            self.join(pid, now);
            "STATE_JOINED"
        } else {
            self.events.push(
                now,
                EventKind::ParticipantWaiting {
                    space: format!("spaces/{space_id}"),
                    participant_id: pid,
                    display_name,
                    deadline_unix_ms: unix_ms(deadline),
                },
            );
            self.send_status(pid, SessionStatus::waiting());
            "STATE_WAITING"
        };
        Ok(self.outcome(pid, state))
    }

    /// `POST /v2beta/spaces/{space}:connectActiveConference` (§1.2, §5.b): a Media API
    /// client with a sim-issued OAuth token. Order: the token (401 `ACCESS_TOKEN_INVALID`),
    /// a media scope (403 `ACCESS_TOKEN_SCOPE_INSUFFICIENT`), the common checks, one client
    /// per conference (429 `CONNECTIONS_EXHAUSTED`), a host present to consent (412
    /// `CONSENTER_ABSENT`, setting `require_consenter`). Joins at once.
    pub fn connect_media_client(
        &mut self,
        space_key: &str,
        bearer: Option<&str>,
        offer: &str,
        now: SystemTime,
    ) -> Result<JoinOutcome, SimError> {
        let now = self.step(now);
        let result = self.try_connect_media_client(space_key, bearer, offer, now);
        self.logged("connectActiveConference", result, now)
    }

    fn try_connect_media_client(
        &mut self,
        space_key: &str,
        bearer: Option<&str>,
        offer: &str,
        now: SystemTime,
    ) -> Result<JoinOutcome, SimError> {
        let token = bearer.ok_or_else(|| {
            SimError::new(
                RpcCode::Unauthenticated,
                "CREDENTIALS_MISSING",
                "missing Authorization: Bearer <OAuth token>",
            )
        })?;
        let scopes = self.oauth.get(token).cloned().ok_or_else(|| {
            SimError::new(
                RpcCode::Unauthenticated,
                "ACCESS_TOKEN_INVALID",
                "the OAuth token is not known",
            )
        })?;
        if !scopes.iter().any(|s| MEDIA_SCOPES.contains(&s.as_str())) {
            return Err(SimError::new(
                RpcCode::PermissionDenied,
                "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "the OAuth token has no meetings.conference.media scope",
            ));
        }
        let has = |scope: &str| scopes.iter().any(|s| s.ends_with(scope));
        let rule = OfferRule::MediaClient {
            audio: has("media.readonly") || has("media.audio.readonly"),
            video: has("media.readonly") || has("media.video.readonly"),
        };
        let (space_id, media) = self.common_connect_checks(space_key, offer, rule, now)?;
        let present = self.present_in(&space_id);
        let others = || present.iter().map(|pid| &self.participants[pid]);
        if others().any(|p| matches!(p.kind, Kind::MediaClient { .. })) {
            return Err(SimError::new(
                RpcCode::ResourceExhausted,
                "CONNECTIONS_EXHAUSTED",
                "another Media API client is connected to this conference",
            ));
        }
        if self.config.require_consenter && !others().any(|p| p.host && p.is_joined()) {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "CONSENTER_ABSENT",
                "no host is in the conference to consent",
            ));
        }
        let pid = self.new_participant(
            &space_id,
            "Media API client".to_owned(),
            false,
            Kind::MediaClient { scopes },
            State::Joined,
            media,
        );
        self.join(pid, now);
        Ok(self.outcome(pid, "STATE_JOINED"))
    }

    /// The participant page joins (`POST /m/{meetingCode}:join`, §5.b): a signed-in host of
    /// the owner's organisation, so it joins at once. No authentication: the page is a
    /// loopback test tool. The offer follows the gateway rules (it sends and receives like
    /// one). Order: injected failure, space, conference, offer.
    pub fn connect_browser(
        &mut self,
        space_key: &str,
        join: BrowserJoin,
        now: SystemTime,
    ) -> Result<JoinOutcome, SimError> {
        let now = self.step(now);
        let checked = self.common_connect_checks(space_key, &join.offer, OfferRule::Sender, now);
        let (space_id, media) = self.logged("joinBrowser", checked, now)?;
        let name = if join.display_name.trim().is_empty() {
            "Browser".to_owned()
        } else {
            join.display_name
        };
        let pid = self.new_participant(&space_id, name, true, Kind::Browser, State::Joined, media);
        self.join(pid, now);
        Ok(self.outcome(pid, "STATE_JOINED"))
    }

    /// The outcome of a connect that created `pid` (the media plane adds the answer).
    fn outcome(&mut self, pid: i64, state: &str) -> JoinOutcome {
        JoinOutcome {
            answer: String::new(),
            trace_id: self.ids.trace_id(),
            participant_id: pid,
            state: state.to_owned(),
            media: self.participants[&pid].media.clone(),
        }
    }

    pub(super) fn send_status(&mut self, pid: i64, status: SessionStatus) {
        self.send(
            pid,
            super::ChannelMessage::SessionControl(SessionControlToClient::status(status)),
        );
    }
}
