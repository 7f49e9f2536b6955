//! The admin HTTP API on `admin.listen`: `/metrics`, `/status`, `/healthz`, `/readyz`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;

use crate::state::Shared;
use crate::status::Snapshot;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(shared)
}

/// Prometheus text exposition format 0.0.4.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let body = shared.metrics.render(&Snapshot::take(&shared));
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], body).into_response()
}

async fn status(State(shared): State<Arc<Shared>>) -> Json<Snapshot> {
    Json(Snapshot::take(&shared))
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: 200 while taking calls, 503 while draining (load balancers stop sending calls).
async fn readyz(State(shared): State<Arc<Shared>>) -> (StatusCode, &'static str) {
    if shared.calls.draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n")
    } else {
        (StatusCode::OK, "ready\n")
    }
}
