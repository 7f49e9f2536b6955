//! Control API, conference side: spaces, conferences, the lobby, host controls, synthetic
//! participants, chat, and the data-channel mailboxes (meet-side.md §5.b "Control API for
//! tests"). `{space}` is a space id, meeting code, long id or short id.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use str0m::media::KeyframeRequestKind;

use super::error::{ApiError, ApiResult, no_such_endpoint, parse_body};
use super::state::{MailboxEntry, Shared};
use crate::model::{
    ParticipantInfo, RpcCode, SimError, SimModel, SpaceInfo, SpaceRequest, SyntheticJoin,
};
use meet::protocol::DataChannel;
use meet::protocol::x_conference::RestrictionType;

fn space_or_404(model: &SimModel, key: &str) -> ApiResult<SpaceInfo> {
    model.space(key).ok_or_else(|| {
        ApiError(SimError::not_found(
            "SPACE_NOT_FOUND",
            format!("no space is named {key:?}"),
        ))
    })
}

fn participant_in(model: &SimModel, key: &str, pid: i64) -> ApiResult<ParticipantInfo> {
    let space = space_or_404(model, key)?;
    model
        .participant(pid)
        .filter(|p| p.space == space.name)
        .ok_or_else(|| {
            ApiError(SimError::not_found(
                "PARTICIPANT_NOT_FOUND",
                format!("no participant {pid} in this space"),
            ))
        })
}

fn parse_pid(text: &str) -> ApiResult<i64> {
    text.parse().map_err(|_| no_such_endpoint())
}

/// `POST /sim/spaces` `{"meetingCode"?,"longId"?,"shortId"?,"ownerOrg","config"?}` → 201.
pub(super) async fn create_space(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SpaceInfo>)> {
    let request: SpaceRequest = parse_body(&body)?;
    let info = shared.run(|model, now| model.create_space(request, now))?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// `GET /sim/spaces` → `{"spaces":[...]}`.
pub(super) async fn list_spaces(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let spaces = shared.lock().model.spaces();
    Json(json!({ "spaces": spaces }))
}

/// `GET /sim/spaces/{space}`.
pub(super) async fn get_space(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> ApiResult<Json<SpaceInfo>> {
    Ok(Json(space_or_404(&shared.lock().model, &key)?))
}

/// The body of `:setLocks`, `:setRecording` and `:setRestrictions`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SpaceControl {
    video: Option<bool>,
    audio: Option<bool>,
    active: Option<bool>,
    chat_restriction: Option<RestrictionType>,
    present_restriction: Option<RestrictionType>,
    participant_id: Option<i64>,
}

/// `POST /sim/spaces/{space}:startConference | :endConference | :setLocks {video?,audio?} |
/// :setRecording {active} | :setRestrictions {chatRestriction?,presentRestriction?} |
/// :setActiveSpeaker {participantId}` → the space.
pub(super) async fn space_verb(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    body: Bytes,
) -> ApiResult<Json<SpaceInfo>> {
    let (key, verb) = segment.rsplit_once(':').ok_or_else(no_such_endpoint)?;
    let body: SpaceControl = parse_body(&body)?;
    shared.run(|model, now| -> ApiResult<()> {
        match verb {
            "startConference" => model.start_conference(key, now).map(drop)?,
            "endConference" => model.end_conference(key, now).map(drop)?,
            "setLocks" => model.set_locks(key, body.video, body.audio, now)?,
            "setRecording" => {
                let active = body
                    .active
                    .ok_or_else(|| SimError::bad_request("active is required"))?;
                model.set_recording(key, active, now)?;
            }
            "setRestrictions" => {
                let (chat, present) = (body.chat_restriction, body.present_restriction);
                model.set_restrictions(key, chat, present, now)?;
            }
            "setActiveSpeaker" => {
                let pid = body
                    .participant_id
                    .ok_or_else(|| SimError::bad_request("participantId is required"))?;
                model.set_active_speaker(key, pid, now)?;
            }
            _ => return Err(no_such_endpoint()),
        }
        Ok(())
    })?;
    Ok(Json(space_or_404(&shared.lock().model, key)?))
}

/// `GET /sim/spaces/{space}/lobby` → `{"lobby":[{"participantId","displayName",
/// "deadlineUnixMs"}]}`.
pub(super) async fn lobby(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let lobby = shared.run(|model, now| {
        model.handle_timeout(now);
        model.lobby(&key)
    })?;
    Ok(Json(json!({ "lobby": lobby })))
}

/// `POST /sim/spaces/{space}/lobby/{pid}:admit | :deny` → the participant.
pub(super) async fn lobby_verb(
    State(shared): State<Arc<Shared>>,
    Path((key, segment)): Path<(String, String)>,
) -> ApiResult<Json<ParticipantInfo>> {
    let (pid, verb) = segment.rsplit_once(':').ok_or_else(no_such_endpoint)?;
    let pid = parse_pid(pid)?;
    shared.run(|model, now| match verb {
        "admit" => model.admit(&key, pid, now).map_err(ApiError),
        "deny" => model.deny(&key, pid, now).map_err(ApiError),
        _ => Err(no_such_endpoint()),
    })?;
    Ok(Json(participant_in(&shared.lock().model, &key, pid)?))
}

/// `GET /sim/spaces/{space}/participants` → `{"participants":[...]}`, gone ones included.
pub(super) async fn list_participants(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let model = &shared.lock().model;
    space_or_404(model, &key)?;
    Ok(Json(json!({ "participants": model.participants(&key) })))
}

/// `POST /sim/spaces/{space}/participants` `{"displayName","host"?,"signedInUser"?}` → 201:
/// a synthetic participant (no media) joins the running conference.
pub(super) async fn add_participant(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ParticipantInfo>)> {
    let join: SyntheticJoin = parse_body(&body)?;
    let pid = shared.run(|model, now| model.add_participant(&key, join, now))?;
    let info = participant_in(&shared.lock().model, &key, pid)?;
    Ok((StatusCode::CREATED, Json(info)))
}

/// `GET /sim/spaces/{space}/participants/{pid}`.
pub(super) async fn get_participant(
    State(shared): State<Arc<Shared>>,
    Path((key, pid)): Path<(String, String)>,
) -> ApiResult<Json<ParticipantInfo>> {
    let pid = parse_pid(&pid)?;
    Ok(Json(participant_in(&shared.lock().model, &key, pid)?))
}

/// The body of a participant verb (`:requestKeyframe {rid, kind?}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ParticipantControl {
    rid: Option<String>,
    kind: Option<String>,
}

/// `POST /sim/spaces/{space}/participants/{pid}:kick | :leave | :requestKeyframe
/// {rid, kind?}` → the participant. `leave` is for synthetic participants; gateways send
/// `leave` on `session-control`. `requestKeyframe` sends the participant a real RTCP PLI
/// (`kind` `"pli"`, the default) or FIR (`"fir"`) for the layer `rid` of the video it sends
/// (412 `NO_SUCH_LAYER` when it has sent nothing on that RID).
pub(super) async fn participant_verb(
    State(shared): State<Arc<Shared>>,
    Path((key, segment)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<ParticipantInfo>> {
    let (pid, verb) = segment.rsplit_once(':').ok_or_else(no_such_endpoint)?;
    let pid = parse_pid(pid)?;
    if verb == "requestKeyframe" {
        let body: ParticipantControl = parse_body(&body)?;
        let rid = body
            .rid
            .ok_or_else(|| SimError::bad_request("rid is required"))?;
        let kind = match body.kind.as_deref() {
            None | Some("pli") => KeyframeRequestKind::Pli,
            Some("fir") => KeyframeRequestKind::Fir,
            Some(other) => {
                let message = format!("kind {other:?} is neither \"pli\" nor \"fir\"");
                return Err(SimError::bad_request(message).into());
            }
        };
        let mut core = shared.lock();
        let info = participant_in(&core.model, &key, pid)?;
        core.media
            .request_layer_keyframe(pid, &rid, kind, std::time::Instant::now())
            .map_err(|message| {
                SimError::new(RpcCode::FailedPrecondition, "NO_SUCH_LAYER", message)
            })?;
        drop(core);
        shared.wake.notify_one();
        return Ok(Json(info));
    }
    shared.run(|model, now| match verb {
        "kick" => model.kick(&key, pid, now).map_err(ApiError),
        "leave" => model.remove_participant(&key, pid, now).map_err(ApiError),
        _ => Err(no_such_endpoint()),
    })?;
    Ok(Json(participant_in(&shared.lock().model, &key, pid)?))
}

/// `GET /sim/spaces/{space}/participants/{pid}/media` → what the media plane measured of
/// the participant (per-RID layers, virtual streams, channels) and its last media-stats
/// upload (TS dialect): `{"participant":…,"media":…|null,"lastMediaStats":[…]}`.
pub(super) async fn media(
    State(shared): State<Arc<Shared>>,
    Path((key, pid)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let pid = parse_pid(&pid)?;
    let mut core = shared.lock();
    let participant = participant_in(&core.model, &key, pid)?;
    let media = core.media.report(pid, std::time::Instant::now());
    let stats = core.model.last_media_stats(pid);
    Ok(Json(
        json!({ "participant": participant, "media": media, "lastMediaStats": stats }),
    ))
}

/// Query of the mailbox.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct MailboxQuery {
    since: u64,
    channel: Option<String>,
}

/// `GET /sim/spaces/{space}/participants/{pid}/messages?since=N&channel=label` →
/// `{"messages":[{"seq","atUnixMs","channel","message"}]}`: the data-channel messages the
/// simulator produced for the participant, with `seq > since`, oldest first.
pub(super) async fn messages(
    State(shared): State<Arc<Shared>>,
    Path((key, pid)): Path<(String, String)>,
    Query(query): Query<MailboxQuery>,
) -> ApiResult<Json<Value>> {
    let pid = parse_pid(&pid)?;
    let mut core = shared.lock();
    let now = core.clock.now();
    core.model.handle_timeout(now);
    core.drain(now);
    participant_in(&core.model, &key, pid)?;
    let messages: Vec<&MailboxEntry> = core
        .mailboxes
        .get(&pid)
        .into_iter()
        .flatten()
        .filter(|m| m.seq > query.since)
        .filter(|m| query.channel.as_deref().is_none_or(|c| c == m.channel))
        .collect();
    Ok(Json(json!({ "messages": messages })))
}

/// `POST /sim/spaces/{space}/participants/{pid}/channels/{label}` with a client → server
/// message as the body: what the participant would send on that data channel. Answers
/// `{"messages":[...]}`, the messages this produced for that participant.
pub(super) async fn channel_message(
    State(shared): State<Arc<Shared>>,
    Path((key, pid, label)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let pid = parse_pid(&pid)?;
    let channel = DataChannel::from_label(&label).ok_or_else(no_such_endpoint)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError(SimError::bad_request("body is not UTF-8")))?;
    let mut core = shared.lock();
    participant_in(&core.model, &key, pid)?;
    let now = core.clock.now();
    let result = core.model.handle_channel_message(pid, channel, text, now);
    let added = core.drain(now);
    result?;
    let mine: Vec<MailboxEntry> = added
        .into_iter()
        .filter(|(to, _)| *to == pid)
        .map(|(_, m)| m)
        .collect();
    Ok(Json(json!({ "messages": mine })))
}

/// `POST /sim/spaces/{space}/chat` `{"fromParticipant","text"}` → `{}`: a participant posts
/// chat (403 `CHAT_RESTRICTED` for a non-host under `HOSTS_ONLY`).
pub(super) async fn chat(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Chat {
        from_participant: i64,
        text: String,
    }
    let request: Chat = parse_body(&body)?;
    shared.run(|model, now| model.send_chat(&key, request.from_participant, &request.text, now))?;
    Ok(Json(json!({})))
}
