//! The built-in test call service (`sip.test_alias`, and `sip.test_ring_alias`, which rings for
//! 2 s first): it answers, opens the negotiated RTP ports and counts what arrives (see
//! [`test_call`](super::test_call)), and keeps a real dialog (RFC 3261 §12) with the caller:
//!
//! - in-dialog requests are checked against the dialog (481 for an unknown one, 500 for a
//!   CSeq out of order): re-INVITE and UPDATE (hold, resume, session refresh), INFO DTMF,
//!   MESSAGE, BYE;
//! - session timers (RFC 4028): negotiated on the INVITE and on every refresh; when the node
//!   is the refresher it re-INVITEs at half the interval, and a session nobody refreshes is
//!   ended with a BYE;
//! - when the node ends a call itself (drain timeout, shutdown, expired session timer, failed
//!   refresh) it sends a BYE with a `Reason` header (RFC 3326).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signaling::dtmf::{DtmfDeduplicator, parse_info};
use signaling::sdp::{
    AnswerParams, CryptoPolicy, Endpoint, LocalCapabilities, NegotiatedMedia, SessionDescription,
    answer,
};
use signaling::sip::dialog::{Body, Dialog, DialogError, Reason, dialog_response};
use signaling::sip::message::{Method, NameAddr, Request, Response};
use signaling::sip::session_timer::{SessionTimer, SessionTimerConfig, TimerAction, negotiate_uas};
use signaling::sip::transaction::{TransactionLayer, TxId};
use tracing::{debug, info, warn};

use super::outgoing::{dialog_peer, our_via};
use super::peer::SipPeer;
use super::test_call::{self, MediaTasks, SharedDedup, StreamPlan};
use super::uas::{ACCEPT, ALLOW, SUPPORTED, refused, respond, sdp_offer, status};
use crate::calls::{CallDetail, CallLicence, CallOutcome, StreamStats};
use crate::config::{MediaEncryption, SipConfig};
use crate::media_ports::PortPair;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// How long `test_ring_alias` rings before it answers.
const RING_TIME: Duration = Duration::from_secs(2);

/// A request-handling outcome that ends in a response.
type Answer = Result<Response, Response>;

/// Why the node ends a call itself: the BYE's Reason and the call's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndCause {
    /// Drain timeout or shutdown.
    NodeShutdown,
    /// The peer was the refresher and no refresh came (RFC 4028 §10).
    SessionExpired,
    /// Our session refresh failed (408 or no answer).
    RefreshFailed,
}

impl EndCause {
    fn reason(self) -> Reason {
        match self {
            // Q.850 16: normal call clearing.
            Self::NodeShutdown => Reason::q850(16).with_text("Node shutting down"),
            Self::SessionExpired => Reason::sip(status(408)).with_text("Session timer expired"),
            Self::RefreshFailed => Reason::sip(status(408)).with_text("Session refresh failed"),
        }
    }

    fn outcome(self) -> CallOutcome {
        match self {
            Self::NodeShutdown => CallOutcome::Completed,
            Self::SessionExpired | Self::RefreshFailed => CallOutcome::Failed,
        }
    }
}

/// A request the node sent inside a test call.
enum Sent {
    Bye,
    /// A session refresh re-INVITE; once answered 2xx, the ACK (resent on a retransmitted 2xx).
    Refresh {
        cseq: u32,
        ack: Option<Box<Request>>,
    },
}

/// One call answered by the test service.
struct TestCall {
    licence: Option<CallLicence>,
    invite: TxId,
    dialog: Dialog,
    /// Where the INVITE came from: its connection is reused for our requests.
    came_from: SipPeer,
    /// Our address in this call (SDP and Via).
    local_ip: IpAddr,
    detail: Arc<CallDetail>,
    dedup: SharedDedup,
    session_id: u64,
    version: u64,
    endpoints: (Endpoint, Endpoint),
    /// Our current SDP (sent again in session refreshes).
    local_sdp: String,
    /// The 200 to send when the ring time is over (ringing alias only).
    pending: Option<(Instant, Response)>,
    timer: Option<SessionTimer>,
    /// The deadline this call is filed under in [`TestService::deadlines`].
    scheduled: Option<Instant>,
    _ports: Vec<PortPair>,
    _media: MediaTasks,
}

impl TestCall {
    fn next_deadline(&self) -> Option<Instant> {
        let ring = self.pending.as_ref().map(|(at, _)| *at);
        let timer = self.timer.as_ref().and_then(SessionTimer::poll_timeout);
        ring.into_iter().chain(timer).min()
    }

    fn finish(&mut self, outcome: CallOutcome) {
        if let Some(licence) = self.licence.take() {
            licence.finish(outcome);
        }
    }
}

/// The test calls of one SIP stack.
pub(crate) struct TestService {
    shared: Arc<Shared>,
    calls: HashMap<String, TestCall>,
    /// Call-ID of each call by its INVITE transaction (ACK, CANCEL and timeouts name it).
    by_invite: HashMap<TxId, String>,
    /// Requests we sent, by client transaction.
    sent: HashMap<TxId, (String, Sent)>,
    /// Ring and session timer deadlines.
    deadlines: BTreeSet<(Instant, String)>,
}

/// What the service needs from the request path to answer a new call.
pub(crate) struct NewCall<'a> {
    pub(crate) tx: TxId,
    pub(crate) request: &'a Request,
    pub(crate) peer: &'a SipPeer,
    pub(crate) call_id: &'a str,
    pub(crate) ringing: bool,
    /// Where our media listens.
    pub(crate) address: IpAddr,
    /// Our Contact.
    pub(crate) contact: NameAddr,
}

impl TestService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            sent: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Whether `call_id` is one of ours (for in-dialog requests).
    pub(crate) fn has(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id)
    }

    /// Answers a new call (or rings, for the ringing alias).
    pub(crate) fn answer(&mut self, new: &NewCall<'_>, now: Instant) -> Answer {
        let NewCall {
            tx,
            request,
            peer,
            call_id,
            ringing,
            address,
            ..
        } = *new;
        let sip = self.shared.config().sip;
        let decision = negotiate_uas(&timer_config(&sip), request)
            .map_err(|e| request.response(e.sip_status()))?;
        if decision.rejection().is_some() {
            let mut too_small = request.response(status(422));
            decision.apply(&mut too_small);
            return Err(too_small);
        }
        let offer = sdp_offer(request)?;
        let ports = &self.shared.media_ports;
        let (Ok(audio), Ok(video)) = (ports.allocate(), ports.allocate()) else {
            return Err(request
                .response(status(503))
                .with_reason("Service Unavailable - no media ports"));
        };
        let endpoints = (endpoint(address, &audio), endpoint(address, &video));
        let session_id = rand::random::<u32>().into();
        let crypto = crypto_policy(sip.media_encryption);
        let (answer_sdp, negotiated) = negotiate(&offer, endpoints, session_id, 1, crypto)
            .map_err(|code| request.response(status(code)))?;
        let (plans, streams) = stream_plans(&negotiated);
        let detail = Arc::new(CallDetail {
            service: "test".to_owned(),
            streams,
            ..CallDetail::default()
        });
        let licence = self
            .shared
            .calls
            .admit_with(Some(Arc::clone(&detail)))
            .map_err(|e| refused(request, &CallRefusal::Admission(e)))?;
        let dedup: SharedDedup = Arc::new(Mutex::new(DtmfDeduplicator::new()));
        let media = test_call::start(
            address,
            plans,
            Arc::clone(&detail),
            Arc::clone(&dedup),
            self.shared.metrics.clone(),
        )
        .map_err(|e| {
            warn!("test call: cannot bind media ports: {e}");
            request
                .response(status(503))
                .with_reason("Service Unavailable - media ports busy")
        })?;

        let local_tag = format!("{:08x}", rand::random::<u32>());
        let local_sdp = answer_sdp.to_string();
        let mut ok = dialog_response(request, status(200), &local_tag, &new.contact);
        decision.apply(&mut ok);
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Supported", SUPPORTED);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = local_sdp.clone().into_bytes();
        let dialog = Dialog::from_uas(request, &ok, rand::random::<u16>().into())
            .map_err(|e| dialog_refused(request, &e))?;
        info!(call = licence.id(), ringing, "test call answered");
        let mut call = TestCall {
            licence: Some(licence),
            invite: tx,
            dialog,
            came_from: peer.clone(),
            local_ip: address,
            detail,
            dedup,
            session_id,
            version: 1,
            endpoints,
            local_sdp,
            pending: None,
            timer: decision
                .negotiated()
                .map(|negotiated| SessionTimer::new(negotiated, now)),
            scheduled: None,
            _ports: vec![audio, video],
            _media: media,
        };
        let response = if ringing {
            call.pending = Some((now + RING_TIME, ok));
            dialog_response(request, status(180), &local_tag, &new.contact)
        } else {
            ok
        };
        self.by_invite.insert(tx, call_id.to_owned());
        self.calls.insert(call_id.to_owned(), call);
        self.reschedule(call_id);
        Ok(response)
    }

    /// An in-dialog request of one of our calls (re-INVITE, UPDATE, BYE, INFO, MESSAGE).
    pub(crate) fn in_dialog(&mut self, request: &Request, now: Instant) -> Answer {
        let sip = self.shared.config().sip;
        let call_id = request
            .call_id()
            .map_err(|_| request.response(status(400)))?
            .to_owned();
        let call = self
            .calls
            .get_mut(&call_id)
            .ok_or_else(|| request.response(status(481)))?;
        let to_tag = request.to().ok().and_then(|to| to.tag().map(str::to_owned));
        if to_tag.as_deref() != Some(call.dialog.local_tag()) {
            return Err(request.response(status(481)));
        }
        call.dialog
            .check_remote_request(request)
            .map_err(|e| dialog_refused(request, &e))?;
        let answer = match request.method {
            Method::Invite | Method::Update => refresh(call, request, &sip, now),
            Method::Bye => {
                let mut call = self.remove(&call_id).expect("present");
                call.finish(CallOutcome::Completed);
                return Ok(request.response(status(200)));
            }
            Method::Info => Ok(info(call, request, now)),
            Method::Message => Ok(message(request)),
            _ => {
                let mut response = request.response(status(405));
                response.headers.push("Allow", ALLOW);
                Err(response)
            }
        };
        self.reschedule(&call_id);
        answer
    }

    /// The ACK for our 2xx: the dialog is confirmed.
    pub(crate) fn on_ack(&mut self, invite: TxId) {
        if let Some(call) = self
            .by_invite
            .get(&invite)
            .and_then(|call_id| self.calls.get_mut(call_id))
        {
            call.dialog.confirm();
        }
    }

    /// A CANCEL for a pending INVITE: ends the call when it was one of ours, and returns our
    /// To tag for the 487.
    pub(crate) fn on_cancel(&mut self, invite: TxId) -> Option<String> {
        let call_id = self.by_invite.get(&invite)?.clone();
        let mut call = self.remove(&call_id)?;
        call.finish(CallOutcome::Cancelled);
        Some(call.dialog.local_tag().to_owned())
    }

    /// Our final response was never ACKed: the call is over.
    pub(crate) fn on_ack_timeout(&mut self, invite: TxId) {
        if let Some(call_id) = self.by_invite.get(&invite).cloned() {
            warn!(call_id, "no ACK for our final response: ending the call");
            if let Some(mut call) = self.remove(&call_id) {
                call.finish(CallOutcome::Failed);
            }
        }
    }

    /// A response to a request we sent; `false` when the transaction is not ours.
    pub(crate) fn on_response(
        &mut self,
        tx: TxId,
        response: &Response,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> bool {
        let Some((call_id, sent)) = self.sent.get_mut(&tx) else {
            return false;
        };
        let call_id = call_id.clone();
        let code = response.status.code();
        let final_response = code >= 200;
        match sent {
            Sent::Bye => {}
            Sent::Refresh { cseq, ack } => {
                let Some(call) = self.calls.get_mut(&call_id) else {
                    return true;
                };
                if (200..300).contains(&code) {
                    // §13.2.2.4: every 2xx (retransmissions too) is ACKed, with one ACK.
                    let peer = dialog_peer(&call.dialog, &call.came_from);
                    let ack = ack.get_or_insert_with(|| {
                        let via = our_via(peer.transport, &self.shared.sip_bound, call.local_ip);
                        Box::new(call.dialog.ack_for_2xx(*cseq, via, None))
                    });
                    layer.send_stateless(ack.to_bytes(), peer);
                    let _ = call.dialog.handle_response(response);
                    if let Some(timer) = &mut call.timer
                        && let Err(e) = timer.handle_refresh_response(response, now)
                    {
                        debug!(call_id, "session refresh answer: {e}");
                    }
                    self.reschedule(&call_id);
                    return true;
                }
                if final_response {
                    debug!(call_id, code, "session refresh refused");
                    // §12.2.1.2 and RFC 4028 §10: 481 and 408 end the dialog.
                    if code == 481 {
                        if let Some(mut call) = self.remove(&call_id) {
                            call.finish(CallOutcome::Failed);
                        }
                    } else if code == 408 {
                        self.end(&call_id, EndCause::RefreshFailed, layer, now);
                    }
                }
            }
        }
        if final_response {
            self.sent.remove(&tx);
        }
        true
    }

    /// A request we sent got no answer (Timer B or F).
    pub(crate) fn on_timeout(
        &mut self,
        tx: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        if let Some((call_id, Sent::Refresh { .. })) = self.sent.remove(&tx) {
            self.end(&call_id, EndCause::RefreshFailed, layer, now);
        }
    }

    /// The next ring or session timer deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Answers calls whose ring time is over, and runs session timers.
    pub(crate) fn handle_timeout(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        while let Some((at, call_id)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(call) = self.calls.get_mut(&call_id) else {
                continue;
            };
            call.scheduled = None;
            if let Some((_, ok)) = call.pending.take_if(|(at, _)| *at <= now) {
                let tx = call.invite;
                respond(&self.shared, layer, tx, ok, now);
            }
            let action = call.timer.as_mut().and_then(|t| t.handle_timeout(now));
            match action {
                Some(TimerAction::Refresh) => self.send_refresh(&call_id, layer, now),
                Some(TimerAction::Expire) => {
                    info!(call_id, "session timer expired: ending the call");
                    self.end(&call_id, EndCause::SessionExpired, layer, now);
                }
                None => {}
            }
            self.reschedule(&call_id);
        }
    }

    /// Ends every call (drain timeout or shutdown): a BYE with a Reason for each answered
    /// call, 480 for one still ringing.
    pub(crate) fn end_all(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        let call_ids: Vec<String> = self.calls.keys().cloned().collect();
        for call_id in call_ids {
            self.end(&call_id, EndCause::NodeShutdown, layer, now);
        }
    }

    /// Ends one call from our side.
    fn end(
        &mut self,
        call_id: &str,
        cause: EndCause,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        let Some(mut call) = self.remove(call_id) else {
            return;
        };
        call.finish(cause.outcome());
        if let Some((_, ok)) = call.pending.take() {
            // Still ringing: the INVITE gets a final answer instead of a BYE.
            let mut unavailable = ok;
            unavailable.status = status(480);
            unavailable.reason = "Temporarily Unavailable".to_owned();
            unavailable.body.clear();
            unavailable.headers.remove("Content-Type");
            unavailable
                .headers
                .push("Reason", cause.reason().to_string());
            respond(&self.shared, layer, call.invite, unavailable, now);
            return;
        }
        let peer = dialog_peer(&call.dialog, &call.came_from);
        let via = our_via(peer.transport, &self.shared.sip_bound, call.local_ip);
        let bye = call.dialog.bye(via, Some(&cause.reason()));
        info!(call_id, ?cause, "ending the call with a BYE");
        match layer.send_request(bye, peer, now) {
            Ok(tx) => {
                self.sent.insert(tx, (call_id.to_owned(), Sent::Bye));
            }
            Err(e) => warn!(call_id, "cannot send BYE: {e}"),
        }
    }

    /// Sends a session refresh: a re-INVITE with our current SDP (RFC 4028 §7.4; the SDP is
    /// unchanged, so its version is too, RFC 3264 §8).
    fn send_refresh(&mut self, call_id: &str, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let peer = dialog_peer(&call.dialog, &call.came_from);
        let via = our_via(peer.transport, &self.shared.sip_bound, call.local_ip);
        let mut reinvite = call.dialog.request_with_body(
            Method::Invite,
            via,
            Body::sdp(call.local_sdp.clone().into_bytes()),
        );
        reinvite.headers.push("Allow", ALLOW);
        if let Some(timer) = &call.timer {
            timer.refresh_headers(&mut reinvite);
        }
        let cseq = call.dialog.local_cseq().unwrap_or(1);
        debug!(call_id, cseq, "sending a session refresh");
        match layer.send_request(reinvite, peer, now) {
            Ok(tx) => {
                self.sent
                    .insert(tx, (call_id.to_owned(), Sent::Refresh { cseq, ack: None }));
            }
            Err(e) => warn!(call_id, "cannot send the session refresh: {e}"),
        }
    }

    fn remove(&mut self, call_id: &str) -> Option<TestCall> {
        let call = self.calls.remove(call_id)?;
        self.by_invite.remove(&call.invite);
        if let Some(at) = call.scheduled {
            self.deadlines.remove(&(at, call_id.to_owned()));
        }
        Some(call)
    }

    /// Files the call under its next deadline.
    fn reschedule(&mut self, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let next = call.next_deadline();
        if next == call.scheduled {
            return;
        }
        if let Some(at) = call.scheduled {
            self.deadlines.remove(&(at, call_id.to_owned()));
        }
        if let Some(at) = next {
            self.deadlines.insert((at, call_id.to_owned()));
        }
        call.scheduled = next;
    }
}

/// A re-INVITE or UPDATE: a new answer on the same ports when it carries an offer (hold,
/// resume), and the session timer negotiated again (a refresh, RFC 4028 §9).
fn refresh(call: &mut TestCall, request: &Request, sip: &SipConfig, now: Instant) -> Answer {
    let decision =
        negotiate_uas(&timer_config(sip), request).map_err(|e| request.response(e.sip_status()))?;
    if decision.rejection().is_some() {
        let mut too_small = request.response(status(422));
        decision.apply(&mut too_small);
        return Err(too_small);
    }
    let mut ok = request.response(status(200));
    if !request.body.is_empty() || request.method == Method::Invite {
        let offer = sdp_offer(request)?;
        call.version += 1;
        let crypto = crypto_policy(sip.media_encryption);
        let (answer_sdp, negotiated) = negotiate(
            &offer,
            call.endpoints,
            call.session_id,
            call.version,
            crypto,
        )
        .map_err(|code| request.response(status(code)))?;
        debug!(?negotiated.audio, "re-offer answered");
        call.local_sdp = answer_sdp.to_string();
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = call.local_sdp.clone().into_bytes();
    }
    if let Some(contact) = call.dialog.local_target() {
        ok.headers.push("Contact", contact.to_string());
    }
    ok.headers.push("Allow", ALLOW);
    ok.headers.push("Supported", SUPPORTED);
    decision.apply(&mut ok);
    match (decision.negotiated(), &mut call.timer) {
        (Some(negotiated), Some(timer)) => timer.renegotiated(negotiated, now),
        (Some(negotiated), None) => call.timer = Some(SessionTimer::new(negotiated, now)),
        (None, timer) => *timer = None,
    }
    Ok(ok)
}

/// INFO with a DTMF body (application/dtmf-relay or application/dtmf).
fn info(call: &TestCall, request: &Request, now: Instant) -> Response {
    let content_type = request.headers.content_type().unwrap_or_default();
    match parse_info(content_type, &request.body) {
        Ok(dtmf) => {
            test_call::record_dtmf(&call.detail, &call.dedup, &dtmf.to_event(), now);
            request.response(status(200))
        }
        Err(error) => {
            let mut response = request.response(status(error.sip_status()));
            if error.sip_status() == 415 {
                response.headers.push("Accept", ACCEPT);
            }
            response
        }
    }
}

/// MESSAGE in a call (RFC 3428): text is accepted (the Meet side will relay it to the
/// meeting's chat); other bodies get 415.
fn message(request: &Request) -> Response {
    let content_type = request.headers.content_type().unwrap_or_default();
    let is_text = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/"));
    if !is_text {
        let mut response = request.response(status(415));
        response.headers.push("Accept", "text/plain");
        return response;
    }
    debug!(bytes = request.body.len(), "MESSAGE in a test call");
    request.response(status(200))
}

fn dialog_refused(request: &Request, error: &DialogError) -> Response {
    request.response(error.sip_status()).with_reason(
        format!("{} - {error}", error.sip_status().reason()).replace(['\r', '\n'], " "),
    )
}

/// Session timer policy from `[sip]`.
fn timer_config(sip: &SipConfig) -> SessionTimerConfig {
    let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
    SessionTimerConfig {
        min_se: secs(sip.min_se),
        interval: secs(sip.session_expires),
        ..SessionTimerConfig::default()
    }
}

fn stream_plans(negotiated: &NegotiatedMedia) -> (Vec<StreamPlan>, Vec<StreamStats>) {
    let mut streams = Vec::new();
    let mut plans = Vec::new();
    if let Some(audio_stream) = &negotiated.audio {
        plans.push(StreamPlan {
            stats: streams.len(),
            rtp_port: audio_stream.local.rtp_port,
            rtcp_port: (!audio_stream.rtcp_mux).then_some(audio_stream.local.rtcp_port),
            dtmf: audio_stream
                .format
                .telephone_event
                .map(|pt| (pt, audio_stream.format.clock_rate)),
            srtp: audio_stream.srtp.clone(),
        });
        streams.push(StreamStats::new("audio", audio_stream.local.rtp_port));
    }
    if let Some(video_stream) = &negotiated.video {
        plans.push(StreamPlan {
            stats: streams.len(),
            rtp_port: video_stream.local.rtp_port,
            rtcp_port: (!video_stream.rtcp_mux).then_some(video_stream.local.rtcp_port),
            dtmf: None,
            srtp: video_stream.srtp.clone(),
        });
        streams.push(StreamStats::new("video", video_stream.local.rtp_port));
    }
    (plans, streams)
}

fn endpoint(address: IpAddr, pair: &PortPair) -> Endpoint {
    Endpoint {
        address,
        rtp_port: pair.rtp(),
        rtcp_port: pair.rtcp(),
    }
}

/// `sip.media_encryption` as the SDP layer's policy.
fn crypto_policy(setting: MediaEncryption) -> CryptoPolicy {
    match setting {
        MediaEncryption::On => CryptoPolicy::On,
        MediaEncryption::BestEffort => CryptoPolicy::BestEffort,
        MediaEncryption::Off => CryptoPolicy::Off,
    }
}

fn negotiate(
    offer: &SessionDescription,
    (audio, video): (Endpoint, Endpoint),
    session_id: u64,
    version: u64,
    crypto: CryptoPolicy,
) -> Result<(SessionDescription, NegotiatedMedia), u16> {
    let caps = LocalCapabilities::default();
    let mut keys = [0u8; 60];
    rand::fill(&mut keys);
    let params = AnswerParams {
        caps: &caps,
        audio,
        video,
        crypto,
        srtp_key_material: keys,
        session_id,
        session_version: version,
        username: "tcn",
    };
    answer(offer, &params).map_err(|e| e.sip_status())
}
