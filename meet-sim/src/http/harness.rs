//! Control API, test harness: the event log, the injectable clock and fault injection
//! (meet-side.md §5.b "Control API for tests").

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::clock::ClockMode;
use super::error::{ApiError, ApiResult, parse_body};
use super::state::Shared;
use crate::model::{EventKind, FailConnect, Faults, MediaFaults, SimError, unix_ms};

/// Query of the event log.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EventsQuery {
    since: u64,
}

/// `GET /sim/events?since=N` → `{"events":[...],"next":M}`: entries with `seq > N`; pass `M`
/// as the next `since`.
pub(super) async fn events(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<EventsQuery>,
) -> Json<Value> {
    let mut core = shared.lock();
    let now = core.clock.now();
    core.model.handle_timeout(now);
    core.drain(now);
    let events = core.model.events_since(query.since);
    let next = events.last().map_or(query.since, |e| e.seq);
    Json(json!({ "events": events, "next": next }))
}

fn clock_json(now_ms: u64, mode: ClockMode) -> Json<Value> {
    let mode = match mode {
        ClockMode::Wall => "wall",
        ClockMode::Manual(_) => "manual",
    };
    Json(json!({ "nowUnixMs": now_ms, "mode": mode }))
}

/// `GET /sim/clock` → `{"nowUnixMs","mode":"wall"|"manual"}`.
pub(super) async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let core = shared.lock();
    clock_json(unix_ms(core.clock.now()), core.clock.mode())
}

/// `POST /sim/clock` `{"advanceMs":n}` or `{"setUnixMs":t}` (forward only) → the clock.
/// Timers due by the new time fire before the answer.
pub(super) async fn set_clock(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct Move {
        advance_ms: Option<u64>,
        set_unix_ms: Option<u64>,
    }
    let request: Move = parse_body(&body)?;
    let mut core = shared.lock();
    let before = core.clock.now();
    let before_ms = unix_ms(before);
    let by = match (request.advance_ms, request.set_unix_ms) {
        (Some(ms), None) => Duration::from_millis(ms),
        (None, Some(target)) if target >= before_ms => Duration::from_millis(target - before_ms),
        (None, Some(_)) => {
            return Err(ApiError(SimError::bad_request(
                "the clock never runs backwards: setUnixMs is before now",
            )));
        }
        _ => {
            return Err(ApiError(SimError::bad_request(
                "give exactly one of advanceMs or setUnixMs",
            )));
        }
    };
    core.clock.advance(by);
    let now = core.clock.now();
    let event = EventKind::ClockChanged {
        from_unix_ms: before_ms,
        to_unix_ms: unix_ms(now),
    };
    core.model.log(now, event);
    core.model.handle_timeout(now);
    core.drain(now);
    Ok(clock_json(unix_ms(now), core.clock.mode()))
}

/// `GET /sim/faults` → the faults in force.
pub(super) async fn faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.lock().model.faults().clone())
}

/// `POST /sim/faults` `{"delayAnswerMs"?,"dropChannel"?,"failConnect"?:{"status","reason",
/// "times"?},"expireTokensNow"?,"blackholeMedia"?,"badFingerprint"?}` → the faults in force. Replaces the set (absent = off),
/// except that an earlier `expireTokensNow` stays until `DELETE /sim/faults`.
pub(super) async fn set_faults(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> ApiResult<Json<Faults>> {
    #[derive(Default, Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct Set {
        delay_answer_ms: u64,
        drop_channel: Option<String>,
        fail_connect: Option<FailConnect>,
        expire_tokens_now: bool,
        blackhole_media: bool,
        bad_fingerprint: bool,
    }
    let s: Set = parse_body(&body)?;
    let faults = shared.run(|model, now| {
        model.set_faults(
            s.delay_answer_ms,
            s.drop_channel,
            s.fail_connect,
            s.expire_tokens_now,
            MediaFaults {
                blackhole: s.blackhole_media,
                bad_fingerprint: s.bad_fingerprint,
            },
            now,
        )
    })?;
    Ok(Json(faults))
}

/// `DELETE /sim/faults` → 204: every fault off.
pub(super) async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.run(|model, now| model.clear_faults(now));
    StatusCode::NO_CONTENT
}
