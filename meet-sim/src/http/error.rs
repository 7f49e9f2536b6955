//! Refusals on the wire: Google's JSON error shape (meet-side.md §5.b).
//!
//! ```json
//! {"error":{"code":412,"message":"...","status":"FAILED_PRECONDITION",
//!   "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",
//!               "reason":"VIDEO_LOCKED","domain":"meet-sim"}]}}
//! ```

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::model::{RpcCode, SimError};

/// The `ErrorInfo.domain` of every refusal.
pub const ERROR_DOMAIN: &str = "meet-sim";

/// A [`SimError`] as an HTTP response.
#[derive(Debug)]
pub(super) struct ApiError(pub(super) SimError);

impl From<SimError> for ApiError {
    fn from(err: SimError) -> Self {
        Self(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status =
            StatusCode::from_u16(err.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let details: Vec<serde_json::Value> = err
            .reason
            .iter()
            .map(|reason| {
                json!({
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": ERROR_DOMAIN,
                })
            })
            .collect();
        let body = json!({
            "error": {
                "code": err.http_status,
                "message": err.message,
                "status": err.status,
                "details": details,
            }
        });
        (status, Json(body)).into_response()
    }
}

/// The result type of handlers.
pub(super) type ApiResult<T> = Result<T, ApiError>;

/// `body` as JSON of type `T`; an empty body reads as `{}`. 400 `BAD_REQUEST` otherwise.
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| ApiError(SimError::bad_request(format!("request body: {e}"))))
}

/// 404 for a path or verb the simulator does not serve.
pub(super) fn no_such_endpoint() -> ApiError {
    ApiError(SimError::new(
        RpcCode::NotFound,
        "NO_SUCH_ENDPOINT",
        "no such endpoint",
    ))
}
