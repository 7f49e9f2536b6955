//! One SIP call leg as the node answers it (the UAS side of an INVITE dialog), written once for
//! every far end: the test call service, the SIP-to-SIP bridge and, later, the Virtual
//! Reception and the Meet gateway call.
//!
//! The leg is sans-IO: requests and responses come in with `now`, and what it wants sent comes
//! out of [`UasLeg::poll_output`] as values. It owns:
//!
//! - **ringing**: 180 with our To tag, and an answer that may wait until a given time;
//! - **the answer**: the 2xx with our SDP, `Allow`, `Supported` and the negotiated session
//!   timer; the dialog it creates (RFC 3261 §12.1.1);
//! - **the dialog**: every in-dialog request is checked against it (481 for another dialog,
//!   500 for a CSeq out of order); BYE, re-INVITE and UPDATE (hold, resume, refresh: the far
//!   end answers a new offer), INFO DTMF and MESSAGE become [`LegEvent`]s;
//! - **the session timer** (RFC 4028): negotiated on the INVITE and on every refresh; when the
//!   node refreshes it sends a re-INVITE with the current SDP and ACKs each 2xx with one cached
//!   ACK; a session nobody refreshes ends with a BYE carrying a `Reason` (RFC 3326);
//! - **the ending**: a caller that never ACKs our 2xx, a CANCEL, a BYE, an expired or failed
//!   session, or the far end's own ending ([`UasLeg::end`]: a final response while unanswered,
//!   a BYE with a `Reason` once answered). Each is reported once, as [`LegEvent::Ended`].
//!
//! The driver ([`call_table`](super::call_table)) sends what comes out, tells the leg the
//! transaction of each request it sent ([`Sent`]), and routes responses back to it.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use signaling::dtmf::{DtmfEvent, parse_info};
use signaling::sdp::SessionDescription;
use signaling::sip::dialog::{Body, Dialog, Reason, dialog_response};
use signaling::sip::message::{Method, NameAddr, Request, Response, StatusCode};
use signaling::sip::session_timer::{
    SessionTimer, SessionTimerConfig, TimerAction, UasDecision, negotiate_uas,
};
use signaling::sip::transaction::TxId;

use super::outgoing::{dialog_peer, our_via};
use super::peer::SipPeer;
use super::responses::{ACCEPT, ALLOW, SUPPORTED, dialog_refused, sdp_offer, status};
use super::transport::SipBound;
use crate::state::Shared;

/// A request-handling outcome that ends in a response.
pub(crate) type Answer = Result<Response, Response>;

/// Why a leg ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegEnd {
    /// The caller hung up (BYE).
    Bye,
    /// The caller took back its INVITE (CANCEL) before we answered.
    Cancelled,
    /// Our 2xx was never ACKed (RFC 3261 §13.3.1.4, Timer H).
    NoAck,
    /// The caller was the refresher and no refresh came (RFC 4028 §10).
    SessionExpired,
    /// Our session refresh failed: 408, no answer, or 481.
    RefreshFailed,
    /// The far end or the node ended the call ([`UasLeg::end`]).
    Local,
}

/// What a leg tells its far end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegEvent {
    /// The caller ACKed our 2xx: the dialog is confirmed.
    Confirmed,
    /// A DTMF digit came in an INFO (application/dtmf-relay or application/dtmf).
    Dtmf(DtmfEvent),
    /// A text MESSAGE came in the call (RFC 3428).
    Message(String),
    /// The leg is over; nothing more comes from it.
    Ended(LegEnd),
}

/// A request the leg sent in its own client transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    Bye,
    /// A text MESSAGE to the caller (RFC 3428): its answer changes nothing.
    Message,
    /// A session refresh (re-INVITE) with this CSeq number.
    Refresh {
        cseq: u32,
    },
}

/// What the leg asks its driver to do.
// Outputs live in a short queue drained at once; boxing the request would cost an
// allocation per message for no gain (as in the transaction layer).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum LegOutput {
    /// Answer the leg's INVITE server transaction (180, the 2xx, or a final refusal).
    Respond(TxId, Response),
    /// Send a request in a new client transaction, then hand its id back with
    /// [`UasLeg::on_response`] / [`UasLeg::on_request_timeout`] as `sent`.
    Send(Request, SipPeer, Sent),
    /// Send bytes outside any transaction (the ACK for a 2xx to our refresh).
    Stateless(Vec<u8>, SipPeer),
    /// Tell the far end.
    Event(LegEvent),
}

/// What the leg needs from the node's configuration and sockets.
#[derive(Clone, Debug)]
pub(crate) struct LegConfig {
    pub(crate) timer: SessionTimerConfig,
    /// Our Contact on this leg.
    pub(crate) contact: NameAddr,
    /// Our address in this call (SDP and Via).
    pub(crate) local_ip: IpAddr,
    /// The listeners, for the Via of requests we send.
    pub(crate) bound: SipBound,
}

impl LegConfig {
    /// The configuration of a leg the node answers with `contact`, its media on `local_ip`:
    /// the session timer policy from `[sip]` (RFC 4028: our preferred interval and our Min-SE)
    /// and the bound listeners.
    pub(crate) fn new(shared: &Shared, contact: NameAddr, local_ip: IpAddr) -> Self {
        let sip = shared.config().sip;
        let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        Self {
            timer: SessionTimerConfig {
                min_se: secs(sip.min_se),
                interval: secs(sip.session_expires),
                ..SessionTimerConfig::default()
            },
            contact,
            local_ip,
            bound: shared.sip_bound,
        }
    }
}

#[derive(Debug)]
enum Stage {
    /// Not answered yet (maybe ringing).
    Early,
    /// Answered; the 2xx waits until its time (a ringing service).
    Ringing {
        at: Instant,
        ok: Response,
    },
    /// Our 2xx went out; the ACK has not come.
    Answered,
    /// ACKed.
    Confirmed,
    Ended,
}

/// One answered (or being answered) INVITE dialog.
#[derive(Debug)]
pub(crate) struct UasLeg {
    invite_tx: TxId,
    invite: Request,
    came_from: SipPeer,
    config: LegConfig,
    local_tag: String,
    decision: UasDecision,
    stage: Stage,
    dialog: Option<Dialog>,
    timer: Option<SessionTimer>,
    /// Our current SDP (sent again in session refreshes).
    local_sdp: Option<String>,
    /// The ACK for the 2xx to our latest refresh, resent when that 2xx is.
    refresh_ack: Option<(u32, Vec<u8>)>,
    outputs: VecDeque<LegOutput>,
}

impl UasLeg {
    /// Takes a new INVITE: negotiates its session timer (RFC 4028 §9). `Err` is the refusal to
    /// send: 422 when the caller's interval is below our Min-SE, 400 for a malformed header.
    pub(crate) fn new(
        invite_tx: TxId,
        invite: &Request,
        came_from: &SipPeer,
        config: LegConfig,
    ) -> Result<Self, Response> {
        let decision = negotiate(&config.timer, invite)?;
        Ok(Self {
            invite_tx,
            invite: invite.clone(),
            came_from: came_from.clone(),
            config,
            local_tag: format!("{:08x}", rand::random::<u32>()),
            decision,
            stage: Stage::Early,
            dialog: None,
            timer: None,
            local_sdp: None,
            refresh_ack: None,
            outputs: VecDeque::new(),
        })
    }

    /// Our To tag.
    pub(crate) fn local_tag(&self) -> &str {
        &self.local_tag
    }

    /// The INVITE server transaction.
    pub(crate) fn invite_tx(&self) -> TxId {
        self.invite_tx
    }

    /// The caller's INVITE.
    pub(crate) fn invite(&self) -> &Request {
        &self.invite
    }

    /// Where the caller's INVITE came from.
    pub(crate) fn came_from(&self) -> &SipPeer {
        &self.came_from
    }

    /// Whether the leg still waits for its answer (no 2xx has gone out).
    pub(crate) fn is_early(&self) -> bool {
        matches!(self.stage, Stage::Early | Stage::Ringing { .. })
    }

    /// Whether the leg is over.
    pub(crate) fn is_ended(&self) -> bool {
        matches!(self.stage, Stage::Ended)
    }

    /// Sends 180 Ringing (with our To tag and Contact) while the leg is unanswered.
    pub(crate) fn ring(&mut self) {
        if matches!(self.stage, Stage::Early) {
            let ringing = dialog_response(
                &self.invite,
                status(180),
                &self.local_tag,
                &self.config.contact,
            );
            self.outputs
                .push_back(LegOutput::Respond(self.invite_tx, ringing));
        }
    }

    /// Answers with `sdp` now: the 2xx goes out and the dialog starts.
    pub(crate) fn accept(&mut self, sdp: String, now: Instant) -> Result<(), Response> {
        let ok = self.answered(sdp, now)?;
        self.stage = Stage::Answered;
        self.outputs
            .push_back(LegOutput::Respond(self.invite_tx, ok));
        Ok(())
    }

    /// Answers with `sdp` at `at` (after ringing until then): 180 now, the 2xx at `at`.
    pub(crate) fn accept_at(
        &mut self,
        sdp: String,
        at: Instant,
        now: Instant,
    ) -> Result<(), Response> {
        self.ring();
        let ok = self.answered(sdp, now)?;
        self.stage = Stage::Ringing { at, ok };
        Ok(())
    }

    /// The 2xx with `sdp`, and the dialog and session timer it starts.
    fn answered(&mut self, sdp: String, now: Instant) -> Result<Response, Response> {
        if !matches!(self.stage, Stage::Early) {
            return Err(self.invite.response(status(500)));
        }
        let mut ok = dialog_response(
            &self.invite,
            status(200),
            &self.local_tag,
            &self.config.contact,
        );
        self.decision.apply(&mut ok);
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Supported", SUPPORTED);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = sdp.clone().into_bytes();
        let dialog = Dialog::from_uas(&self.invite, &ok, rand::random::<u16>().into())
            .map_err(|e| dialog_refused(&self.invite, &e))?;
        self.dialog = Some(dialog);
        self.timer = self
            .decision
            .negotiated()
            .map(|negotiated| SessionTimer::new(negotiated, now));
        self.local_sdp = Some(sdp);
        Ok(ok)
    }

    /// Ends the leg from our side: while unanswered, a final `code` (with `reason` in a
    /// `Reason` header, RFC 3326); once answered, a BYE (with `reason`). Nothing when already
    /// over.
    pub(crate) fn end(&mut self, code: StatusCode, reason: Option<&Reason>) {
        if self.is_early() {
            let mut refusal = self.invite.response(code);
            if let Some(reason) = reason {
                refusal.headers.push("Reason", reason.to_string());
            }
            self.reject(refusal);
            return;
        }
        if matches!(self.stage, Stage::Answered | Stage::Confirmed) {
            self.send_bye(reason);
            self.finish(LegEnd::Local);
        }
    }

    /// Refuses the unanswered INVITE with `refusal` (a final non-2xx the far end built from
    /// [`invite`](Self::invite)); our To tag is added. Nothing once answered.
    pub(crate) fn reject(&mut self, mut refusal: Response) {
        if !self.is_early() {
            return;
        }
        if let Ok(mut to) = refusal.headers.to()
            && to.tag().is_none()
        {
            to.set_tag(&self.local_tag);
            refusal.headers.set("To", to.to_string());
        }
        self.outputs
            .push_back(LegOutput::Respond(self.invite_tx, refusal));
        self.finish(LegEnd::Local);
    }

    /// The ACK for our 2xx.
    pub(crate) fn on_ack(&mut self) {
        if matches!(self.stage, Stage::Answered) {
            if let Some(dialog) = &mut self.dialog {
                dialog.confirm();
            }
            self.stage = Stage::Confirmed;
            self.outputs
                .push_back(LegOutput::Event(LegEvent::Confirmed));
        }
    }

    /// Our 2xx was retransmitted until Timer H and never ACKed: the call is over (no BYE: the
    /// caller never had a confirmed dialog to end).
    pub(crate) fn on_ack_timeout(&mut self) {
        if matches!(self.stage, Stage::Answered) {
            self.finish(LegEnd::NoAck);
        }
    }

    /// A CANCEL for the INVITE. `true` when the leg was still unanswered and is now over (the
    /// driver answers the INVITE 487 with [`local_tag`](Self::local_tag)).
    pub(crate) fn on_cancel(&mut self) -> bool {
        if self.is_early() {
            self.finish(LegEnd::Cancelled);
            return true;
        }
        false
    }

    /// An in-dialog request. A re-INVITE or UPDATE that carries an offer asks `reoffer` for
    /// the answer: `Ok(Some(sdp))` a new local SDP, `Ok(None)` keep the current one, `Err`
    /// the status code of a refusal (e.g. 488).
    pub(crate) fn on_request(
        &mut self,
        request: &Request,
        now: Instant,
        reoffer: impl FnOnce(&SessionDescription) -> Result<Option<String>, u16>,
    ) -> Answer {
        let to_tag = request.to().ok().and_then(|to| to.tag().map(str::to_owned));
        let Some(dialog) = self
            .dialog
            .as_mut()
            .filter(|_| to_tag.as_deref() == Some(self.local_tag.as_str()))
            .filter(|_| !matches!(self.stage, Stage::Ended))
        else {
            return Err(request.response(status(481)));
        };
        dialog
            .check_remote_request(request)
            .map_err(|e| dialog_refused(request, &e))?;
        match request.method {
            Method::Bye => {
                self.finish(LegEnd::Bye);
                Ok(request.response(status(200)))
            }
            Method::Invite | Method::Update => self.refresh(request, now, reoffer),
            Method::Info => {
                let content_type = request.headers.content_type().unwrap_or_default();
                match parse_info(content_type, &request.body) {
                    Ok(dtmf) => {
                        self.outputs
                            .push_back(LegOutput::Event(LegEvent::Dtmf(dtmf.to_event())));
                        Ok(request.response(status(200)))
                    }
                    Err(error) => {
                        let mut response = request.response(status(error.sip_status()));
                        if error.sip_status() == 415 {
                            response.headers.push("Accept", ACCEPT);
                        }
                        Err(response)
                    }
                }
            }
            Method::Message => {
                let content_type = request.headers.content_type().unwrap_or_default();
                let is_text = content_type
                    .split(';')
                    .next()
                    .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/"));
                if !is_text {
                    let mut response = request.response(status(415));
                    response.headers.push("Accept", "text/plain");
                    return Err(response);
                }
                let text = String::from_utf8_lossy(&request.body).into_owned();
                self.outputs
                    .push_back(LegOutput::Event(LegEvent::Message(text)));
                Ok(request.response(status(200)))
            }
            _ => {
                let mut response = request.response(status(405));
                response.headers.push("Allow", ALLOW);
                Err(response)
            }
        }
    }

    /// A re-INVITE or UPDATE: a new answer when it carries an offer (hold, resume), and the
    /// session timer negotiated again (a refresh, RFC 4028 §9).
    fn refresh(
        &mut self,
        request: &Request,
        now: Instant,
        reoffer: impl FnOnce(&SessionDescription) -> Result<Option<String>, u16>,
    ) -> Answer {
        let decision = negotiate(&self.config.timer, request)?;
        let mut ok = request.response(status(200));
        if !request.body.is_empty() || request.method == Method::Invite {
            let offer = sdp_offer(request)?;
            if let Some(sdp) = reoffer(&offer).map_err(|code| request.response(status(code)))? {
                self.local_sdp = Some(sdp);
            }
            if let Some(sdp) = &self.local_sdp {
                ok.headers.push("Content-Type", "application/sdp");
                ok.body = sdp.clone().into_bytes();
            }
        }
        if let Some(contact) = self.dialog.as_ref().and_then(Dialog::local_target) {
            ok.headers.push("Contact", contact.to_string());
        }
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Supported", SUPPORTED);
        decision.apply(&mut ok);
        match (decision.negotiated(), &mut self.timer) {
            (Some(negotiated), Some(timer)) => timer.renegotiated(negotiated, now),
            (Some(negotiated), None) => self.timer = Some(SessionTimer::new(negotiated, now)),
            (None, timer) => *timer = None,
        }
        Ok(ok)
    }

    /// A response to a request the leg sent.
    pub(crate) fn on_response(&mut self, sent: Sent, response: &Response, now: Instant) {
        if sent == Sent::Message && response.status.code() >= 300 {
            tracing::info!(
                status = response.status.code(),
                "the caller refused a chat MESSAGE"
            );
        }
        let Sent::Refresh { cseq } = sent else {
            return;
        };
        if self.is_ended() {
            return;
        }
        let code = response.status.code();
        if (200..300).contains(&code) {
            // RFC 3261 §13.2.2.4: every 2xx (retransmissions too) is ACKed, with one ACK.
            let Some(dialog) = self.dialog.as_mut() else {
                return;
            };
            let peer = dialog_peer(dialog, &self.came_from);
            let ack = match &self.refresh_ack {
                Some((acked, bytes)) if *acked == cseq => bytes.clone(),
                _ => {
                    let via = our_via(peer.transport, &self.config.bound, self.config.local_ip);
                    let bytes = dialog.ack_for_2xx(cseq, via, None).to_bytes();
                    self.refresh_ack = Some((cseq, bytes.clone()));
                    bytes
                }
            };
            self.outputs.push_back(LegOutput::Stateless(ack, peer));
            let _ = dialog.handle_response(response);
            if let Some(timer) = &mut self.timer {
                let _ = timer.handle_refresh_response(response, now);
            }
            return;
        }
        match code {
            // §12.2.1.2: 481 ends the dialog; nobody is left to BYE.
            481 => self.finish(LegEnd::RefreshFailed),
            // RFC 4028 §10: 408 ends the session with a BYE.
            408 => self.end_with_bye(LegEnd::RefreshFailed, &refresh_failed()),
            _ => {}
        }
    }

    /// A request the leg sent got no answer (Timer B or F).
    pub(crate) fn on_request_timeout(&mut self, sent: Sent) {
        if sent == Sent::Message {
            tracing::info!("a chat MESSAGE to the caller got no answer");
        }
        if matches!(sent, Sent::Refresh { .. }) && !self.is_ended() {
            self.end_with_bye(LegEnd::RefreshFailed, &refresh_failed());
        }
    }

    /// When the leg next needs [`handle_timeout`](Self::handle_timeout).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let ring = match &self.stage {
            Stage::Ringing { at, .. } => Some(*at),
            Stage::Ended => return None,
            _ => None,
        };
        let timer = self.timer.as_ref().and_then(SessionTimer::poll_timeout);
        ring.into_iter().chain(timer).min()
    }

    /// Sends a 2xx whose time has come, and runs the session timer.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if matches!(&self.stage, Stage::Ringing { at, .. } if *at <= now)
            && let Stage::Ringing { ok, .. } = std::mem::replace(&mut self.stage, Stage::Answered)
        {
            self.outputs
                .push_back(LegOutput::Respond(self.invite_tx, ok));
        }
        if !matches!(self.stage, Stage::Answered | Stage::Confirmed) {
            return;
        }
        match self.timer.as_mut().and_then(|t| t.handle_timeout(now)) {
            Some(TimerAction::Refresh) => self.send_refresh(),
            Some(TimerAction::Expire) => self.end_with_bye(
                LegEnd::SessionExpired,
                &Reason::sip(status(408)).with_text("Session timer expired"),
            ),
            None => {}
        }
    }

    /// The next thing to send or report.
    pub(crate) fn poll_output(&mut self) -> Option<LegOutput> {
        self.outputs.pop_front()
    }

    /// A session refresh: a re-INVITE with our current SDP (RFC 4028 §7.4; the SDP is
    /// unchanged, so its version is too, RFC 3264 §8).
    fn send_refresh(&mut self) {
        let (Some(dialog), Some(sdp)) = (self.dialog.as_mut(), self.local_sdp.as_ref()) else {
            return;
        };
        let peer = dialog_peer(dialog, &self.came_from);
        let via = our_via(peer.transport, &self.config.bound, self.config.local_ip);
        let mut reinvite =
            dialog.request_with_body(Method::Invite, via, Body::sdp(sdp.clone().into_bytes()));
        reinvite.headers.push("Allow", ALLOW);
        if let Some(timer) = &self.timer {
            timer.refresh_headers(&mut reinvite);
        }
        let cseq = dialog.local_cseq().unwrap_or(1);
        self.outputs
            .push_back(LegOutput::Send(reinvite, peer, Sent::Refresh { cseq }));
    }

    /// Sends `text` to the caller in a MESSAGE inside the dialog (RFC 3428 §4, `text/plain`),
    /// in its own client transaction like a BYE. Nothing while unanswered or once over: the
    /// MESSAGE needs the dialog.
    pub(crate) fn send_message(&mut self, text: &str) {
        if !matches!(self.stage, Stage::Answered | Stage::Confirmed) {
            return;
        }
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let peer = dialog_peer(dialog, &self.came_from);
        let via = our_via(peer.transport, &self.config.bound, self.config.local_ip);
        let message = dialog.request_with_body(
            Method::Message,
            via,
            Body::new("text/plain;charset=UTF-8", text.as_bytes()),
        );
        self.outputs
            .push_back(LegOutput::Send(message, peer, Sent::Message));
    }

    fn send_bye(&mut self, reason: Option<&Reason>) {
        let Some(dialog) = self.dialog.as_mut() else {
            return;
        };
        let peer = dialog_peer(dialog, &self.came_from);
        let via = our_via(peer.transport, &self.config.bound, self.config.local_ip);
        let bye = dialog.bye(via, reason);
        self.outputs
            .push_back(LegOutput::Send(bye, peer, Sent::Bye));
    }

    fn end_with_bye(&mut self, end: LegEnd, reason: &Reason) {
        self.send_bye(Some(reason));
        self.finish(end);
    }

    fn finish(&mut self, end: LegEnd) {
        self.stage = Stage::Ended;
        self.timer = None;
        self.outputs
            .push_back(LegOutput::Event(LegEvent::Ended(end)));
    }
}

fn refresh_failed() -> Reason {
    Reason::sip(status(408)).with_text("Session refresh failed")
}

/// The session timer decision for an INVITE or a refresh; a rejection is the 422 to send.
fn negotiate(config: &SessionTimerConfig, request: &Request) -> Result<UasDecision, Response> {
    let decision = negotiate_uas(config, request).map_err(|e| request.response(e.sip_status()))?;
    if decision.rejection().is_some() {
        let mut too_small = request.response(status(422));
        decision.apply(&mut too_small);
        return Err(too_small);
    }
    Ok(decision)
}

#[cfg(test)]
#[path = "leg_tests.rs"]
mod tests;
