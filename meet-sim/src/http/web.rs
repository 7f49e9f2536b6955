//! The browser pages (meet-side.md §5.b): static files from `src/web/`, compiled in.
//!
//! - `GET /m/{meetingCode}?name=&video=`: the browser participant page. It publishes the
//!   fake camera (VP8 simulcast q/h/f) and microphone, receives like a Meet web client and
//!   joins with `POST /m/{meetingCode}:join`.
//! - `GET /media-api/{meetingCode}?token=&video=`: a receive-only client shaped like
//!   Google's Media API reference clients, joining with `connectActiveConference`.
//! - `GET /m/assets/{file}`: their scripts and style sheet.
//! - `GET /favicon.ico`: 204, so browsers log no 404 for it.
//!
//! The pages read the meeting code from their own path, so one file serves every meeting.
//! They load nothing from elsewhere; the `Content-Security-Policy` header keeps it so.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::error::{ApiResult, no_such_endpoint};

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Same-origin only; the pages have no inline scripts or styles.
const POLICY: &str = "default-src 'self'";

/// `(name, content type, body)` of every file under `/m/assets/`.
const ASSETS: [(&str, &str, &str); 4] = [
    ("client.js", JS, include_str!("../web/client.js")),
    ("participant.js", JS, include_str!("../web/participant.js")),
    ("media-api.js", JS, include_str!("../web/media-api.js")),
    ("page.css", CSS, include_str!("../web/page.css")),
];

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-store"),
            (CONTENT_SECURITY_POLICY, POLICY),
        ],
        body,
    )
        .into_response()
}

/// A meeting code as the last path segment: not empty, no `:verb`.
fn meeting_code(segment: &str) -> ApiResult<()> {
    if segment.is_empty() || segment.contains(':') {
        Err(no_such_endpoint())
    } else {
        Ok(())
    }
}

/// `GET /m/{meetingCode}`: the browser participant page.
pub(super) async fn participant_page(Path(segment): Path<String>) -> ApiResult<Response> {
    meeting_code(&segment)?;
    Ok(file(HTML, include_str!("../web/participant.html")))
}

/// `GET /media-api/{meetingCode}`: the Media-API-style client page.
pub(super) async fn media_api_page(Path(segment): Path<String>) -> ApiResult<Response> {
    meeting_code(&segment)?;
    Ok(file(HTML, include_str!("../web/media-api.html")))
}

/// `GET /m/assets/{file}`.
pub(super) async fn asset(Path(name): Path<String>) -> ApiResult<Response> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, content_type, body)| file(content_type, body))
        .ok_or_else(no_such_endpoint)
}

/// `GET /favicon.ico`: no icon.
pub(super) async fn favicon() -> StatusCode {
    StatusCode::NO_CONTENT
}
