//! What the node says in its responses, written once for every part of the front end: the
//! capability headers, the status helper, the refusal mapping, the 487 after a CANCEL and the
//! reading of an SDP offer.

use signaling::sdp::SessionDescription;
use signaling::sip::dialog::DialogError;
use signaling::sip::message::{Request, Response, StatusCode};
use signaling::sip::transaction::{TransactionLayer, TxId};

use super::peer::SipPeer;
use crate::refusal::CallRefusal;
use crate::state::Shared;
use std::time::Instant;

/// Methods this node answers (RFC 3261 §20.5 Allow).
pub(crate) const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, MESSAGE, REGISTER";
/// Bodies this node understands (§20.1 Accept).
pub(crate) const ACCEPT: &str =
    "application/sdp, application/dtmf-relay, application/dtmf, text/plain";
/// Extensions this node supports (§20.37): session timers (RFC 4028).
pub(crate) const SUPPORTED: &str = "timer";

/// Sends `response` in server transaction `tx` and counts it.
pub(crate) fn respond(
    shared: &Shared,
    layer: &mut TransactionLayer<SipPeer>,
    tx: TxId,
    response: Response,
    now: Instant,
) {
    let code = response.status.code();
    if layer.respond(tx, response, now).is_ok() {
        shared.metrics.count_sip_response(code);
    }
}

/// A status code from a literal.
pub(crate) fn status(code: u16) -> StatusCode {
    // Only called with literal codes in 100..=699.
    StatusCode::new(code).unwrap_or(StatusCode::OK)
}

/// The response that refuses a call, through the one mapping of `crate::refusal`: with a
/// `Retry-After` when the node is full.
pub(crate) fn refused(request: &Request, refusal: &CallRefusal) -> Response {
    let sip = refusal.sip_status();
    let mut response = request.response(status(sip.code)).with_reason(format!(
        "{} - {}",
        sip.reason,
        refusal.label().replace('_', " ")
    ));
    if let Some(seconds) = refusal.retry_after() {
        response.headers.push("Retry-After", seconds.to_string());
    }
    response
}

/// A dialog error as the response to the request that caused it, its text as the reason.
pub(crate) fn dialog_refused(request: &Request, error: &DialogError) -> Response {
    request.response(error.sip_status()).with_reason(
        format!("{} - {error}", error.sip_status().reason()).replace(['\r', '\n'], " "),
    )
}

/// The 487 that ends an INVITE taken back by `cancel` (RFC 3261 §9.2): the CANCEL's Via,
/// From, To, Call-ID and CSeq number with INVITE as the CSeq method, and our To tag when the
/// call had one.
pub(crate) fn cancelled_invite_response(cancel: &Request, local_tag: Option<&str>) -> Response {
    let mut terminated = cancel.response(status(487));
    if let Ok(cseq) = cancel.cseq() {
        terminated
            .headers
            .set("CSeq", format!("{} INVITE", cseq.seq));
    }
    if let Some(tag) = local_tag
        && let Ok(mut to) = terminated.headers.to()
        && to.tag().is_none()
    {
        to.set_tag(tag);
        terminated.headers.set("To", to.to_string());
    }
    terminated
}

/// The SDP offer in an INVITE: 488 without one (late offers are not served yet), 415 for
/// another body type, 400 naming the problem for SDP that does not parse.
pub(crate) fn sdp_offer(request: &Request) -> Result<SessionDescription, Response> {
    if request.body.is_empty() {
        return Err(request
            .response(status(488))
            .with_reason("Not Acceptable Here - an SDP offer is required"));
    }
    let content_type = request.headers.content_type().unwrap_or_default();
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
    {
        let mut response = request.response(status(415));
        response.headers.push("Accept", "application/sdp");
        return Err(response);
    }
    let text = std::str::from_utf8(&request.body).map_err(|_| request.response(status(400)))?;
    SessionDescription::parse(text).map_err(|e| {
        request
            .response(status(400))
            .with_reason(format!("Bad Request - SDP: {e}").replace(['\r', '\n'], " "))
    })
}
