//! The public, Meet-shaped endpoints (meet-side.md §1.2, §5.b "Public, Meet-shaped
//! endpoints"). Google puts the method after a colon in the last path segment
//! (`spaces/abc-defg-hij:connectGateway`); the router matches the whole segment and the
//! handlers split it.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::Deserialize;

use super::error::{ApiResult, no_such_endpoint, parse_body};
use super::state::Shared;
use crate::model::{BrowserJoin, GatewayJoin, JoinOutcome, Resolved};

/// `name:verb` → `(name, verb)`; the verb must be `expected`.
pub(super) fn split_verb<'a>(segment: &'a str, expected: &str) -> ApiResult<&'a str> {
    match segment.rsplit_once(':') {
        Some((name, verb)) if verb == expected && !name.is_empty() => Ok(name),
        _ => Err(no_such_endpoint()),
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Waits `delayAnswerMs` when that fault is set.
async fn injected_delay(shared: &Shared) {
    let delay = shared.lock().model.faults().delay_answer_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
}

/// `POST /v1/interop/spaces/{space}:connectGateway`, bearer gateway JWT, body
/// `{"offer","displayName","callerUri","protocol"}` → `{"answer","traceId","participantId"}`.
pub(super) async fn connect_gateway(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<JoinOutcome>> {
    let space = split_verb(&segment, "connectGateway")?;
    let join: GatewayJoin = parse_body(&body)?;
    let offer = join.offer.clone();
    let result = shared.connect(&offer, true, |model, now| {
        model.connect_gateway(space, bearer(&headers), join, now)
    });
    injected_delay(&shared).await;
    Ok(Json(result?))
}

/// The body of `connectActiveConference`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MediaClientOffer {
    offer: String,
}

/// The answer of `connectActiveConference`: `{"answer","traceId"}` (no participant id: Media
/// API clients are not participants).
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MediaClientAnswer {
    answer: String,
    trace_id: String,
}

/// `POST /v2beta/spaces/{space}:connectActiveConference`, bearer OAuth test token, body
/// `{"offer"}` → `{"answer","traceId"}`.
pub(super) async fn connect_active_conference(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MediaClientAnswer>> {
    let space = split_verb(&segment, "connectActiveConference")?;
    let offer: MediaClientOffer = parse_body(&body)?;
    let result = shared.connect(&offer.offer, false, |model, now| {
        model.connect_media_client(space, bearer(&headers), &offer.offer, now)
    });
    injected_delay(&shared).await;
    let outcome = result?;
    Ok(Json(MediaClientAnswer {
        answer: outcome.answer,
        trace_id: outcome.trace_id,
    }))
}

/// `POST /m/{meetingCode}:join`, the participant page's join: body `{"offer","displayName"}`
/// → `{"answer","traceId","participantId"}`.
pub(super) async fn join_browser(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    body: Bytes,
) -> ApiResult<Json<JoinOutcome>> {
    let space = split_verb(&segment, "join")?;
    let join: BrowserJoin = parse_body(&body)?;
    let offer = join.offer.clone();
    let result = shared.connect(&offer, false, |model, now| {
        model.connect_browser(space, join, now)
    });
    injected_delay(&shared).await;
    Ok(Json(result?))
}

/// `GET /v1/interop/meetingIds/{id}:resolve`, bearer gateway JWT →
/// `{"space":"spaces/…","meetingCode":"abc-defg-hij"}`.
pub(super) async fn resolve(
    State(shared): State<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Resolved>> {
    let id = split_verb(&segment, "resolve")?;
    let resolved = shared.run(|model, now| model.resolve(id, bearer(&headers), now))?;
    Ok(Json(resolved))
}
