//! The calls of one SIP stack: each is one [`UasLeg`] (the caller's side, written once) and
//! one far end (the test call service, or the outbound leg of a bridged call), plus its
//! licence. The table routes what the transaction layer reports to the right call, sends what
//! the legs and far ends ask for, keeps their deadlines, and frees a call on every ending
//! path: the licence is finished with the call's outcome when the leg ends, and the far end
//! (its ports, RTP tasks and relay) is dropped once it has nothing left to wait for.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use signaling::sip::dialog::Reason;
use signaling::sip::message::{Method, Request, Response};
use signaling::sip::transaction::{TransactionLayer, TxId};
use tracing::{debug, info, warn};

use super::bridge::{BridgeCall, CalleeSent};
use super::leg::{Answer, LegEnd, LegEvent, LegOutput, Sent, UasLeg};
use super::meet_far_end::MeetFarEnd;
use super::peer::SipPeer;
use super::responses::{respond, status};
use super::test_service::TestCall;
use crate::call::ending::LegEnding;
use crate::call::gateway::LegCommand;
use crate::calls::{CallLicence, CallOutcome};
use crate::state::Shared;

/// What is on the other side of a caller's leg.
pub(crate) enum FarEnd {
    /// The built-in test call service.
    Test(TestCall),
    /// A SIP target reached through an outbound leg.
    Bridge(Box<BridgeCall>),
    /// A Meet conference, through the call's own task.
    Meet(MeetFarEnd),
}

/// A request a far end wants sent in a new client transaction, or bytes outside one.
// Drained at once, like the leg's outputs: not worth a box per request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum FarOutput {
    Send(Request, SipPeer, CalleeSent),
    Stateless(Vec<u8>, SipPeer),
}

/// One call.
pub(crate) struct SipCall {
    pub(crate) leg: UasLeg,
    pub(crate) far: FarEnd,
    pub(crate) licence: Option<CallLicence>,
    /// How the call ends when the leg ends by our hand ([`LegEnd::Local`]).
    pub(crate) local_outcome: CallOutcome,
}

/// A client transaction of ours, and whose it is.
enum Pending {
    Leg(Sent),
    Far(CalleeSent),
}

/// The calls of one SIP stack, by the caller's Call-ID.
pub(crate) struct CallTable {
    shared: Arc<Shared>,
    calls: HashMap<String, SipCall>,
    /// The call of each INVITE server transaction (ACK, CANCEL and Timer H name it).
    by_invite: HashMap<TxId, String>,
    /// The call of each other Call-ID a far end uses (a bridge's outbound leg).
    by_far_call: HashMap<String, String>,
    /// Requests we sent, by client transaction.
    sent: HashMap<TxId, (String, Pending)>,
    /// Each call's next deadline, as filed in `deadlines`.
    scheduled: HashMap<String, Instant>,
    deadlines: BTreeSet<(Instant, String)>,
}

impl CallTable {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            by_far_call: HashMap::new(),
            sent: HashMap::new(),
            scheduled: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// Whether a request with this Call-ID belongs to one of our calls (either leg).
    pub(crate) fn has(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id) || self.by_far_call.contains_key(call_id)
    }

    /// Files a new call and sends what it has to say (180, 200, an outbound INVITE).
    pub(crate) fn insert(
        &mut self,
        call_id: String,
        call: SipCall,
        first: Vec<FarOutput>,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        self.by_invite.insert(call.leg.invite_tx(), call_id.clone());
        if let FarEnd::Bridge(bridge) = &call.far {
            self.by_far_call
                .insert(bridge.callee_call_id().to_owned(), call_id.clone());
        }
        self.calls.insert(call_id.clone(), call);
        self.far_outputs(&call_id, first, layer, now);
        self.settle(&call_id, layer, now);
    }

    /// An in-dialog request on either leg of a call.
    pub(crate) fn in_dialog(
        &mut self,
        request: &Request,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Answer {
        let call_id = request
            .call_id()
            .map_err(|_| request.response(status(400)))?
            .to_owned();
        if let Some(owner) = self.by_far_call.get(&call_id).cloned() {
            let call = self
                .calls
                .get_mut(&owner)
                .ok_or_else(|| request.response(status(481)))?;
            let FarEnd::Bridge(bridge) = &mut call.far else {
                return Err(request.response(status(481)));
            };
            let answer = bridge.on_callee_request(request, &mut call.leg);
            if let Some(outcome) = bridge.ended_by_callee() {
                call.local_outcome = outcome;
            }
            self.settle(&owner, layer, now);
            return answer;
        }
        let call = self
            .calls
            .get_mut(&call_id)
            .ok_or_else(|| request.response(status(481)))?;
        let crypto = self.shared.config().sip.media_encryption;
        let SipCall { leg, far, .. } = call;
        // A MESSAGE the conference would refuse (not joined, chat for hosts only) is refused
        // here, with why, rather than taken and lost.
        if request.method == Method::Message
            && let FarEnd::Meet(meet) = &*far
        {
            meet.check_message(request)?;
        }
        let answer = leg.on_request(request, now, |offer| match far {
            FarEnd::Test(test) => test.reoffer(offer, crypto),
            FarEnd::Meet(meet) => meet.reoffer(offer),
            // The media plane keeps its streams: the same answer again.
            FarEnd::Bridge(_) => Ok(None),
        });
        self.settle(&call_id, layer, now);
        answer
    }

    /// A MESSAGE outside any dialog (RFC 3428 pager mode, as baresip sends chat): taken as
    /// chat in the caller's answered call into Meet, found by its From URI (user, host and
    /// port, as in the INVITE) and its source address. `None` when no such call exists.
    pub(crate) fn message_outside(
        &mut self,
        request: &Request,
        peer: &SipPeer,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Option<Answer> {
        let from = request.from().ok()?;
        let aor =
            |uri: &signaling::sip::message::Uri| (uri.user.clone(), uri.host.clone(), uri.port);
        let caller = aor(&from.uri);
        let call_id = self.calls.iter().find_map(|(call_id, call)| {
            let FarEnd::Meet(_) = &call.far else {
                return None;
            };
            let same_caller = call
                .leg
                .invite()
                .from()
                .is_ok_and(|f| aor(&f.uri) == caller)
                && call.leg.came_from().remote.ip() == peer.remote.ip();
            (same_caller && !call.leg.is_early() && !call.leg.is_ended()).then(|| call_id.clone())
        })?;
        let call = self.calls.get_mut(&call_id)?;
        let FarEnd::Meet(meet) = &call.far else {
            return None;
        };
        let content_type = request.headers.content_type().unwrap_or_default();
        let is_text = content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/"));
        if !is_text {
            let mut response = request.response(status(415));
            response.headers.push("Accept", "text/plain");
            return Some(Err(response));
        }
        if let Err(refusal) = meet.check_message(request) {
            return Some(Err(refusal));
        }
        let text = String::from_utf8_lossy(&request.body).into_owned();
        debug!(
            call_id,
            "a MESSAGE outside the dialog, taken as the caller's chat"
        );
        meet.on_leg_event(&LegEvent::Message(text));
        self.settle(&call_id, layer, now);
        Some(Ok(request.response(status(200))))
    }

    /// The ACK for a 2xx we sent on an INVITE.
    pub(crate) fn on_ack(
        &mut self,
        invite: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        if let Some(call_id) = self.by_invite.get(&invite).cloned() {
            if let Some(call) = self.calls.get_mut(&call_id) {
                call.leg.on_ack();
            }
            self.settle(&call_id, layer, now);
        }
    }

    /// Our 2xx to an INVITE was never ACKed: that call is over.
    pub(crate) fn on_ack_timeout(
        &mut self,
        invite: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        if let Some(call_id) = self.by_invite.get(&invite).cloned() {
            if let Some(call) = self.calls.get_mut(&call_id) {
                warn!(call_id, "no ACK for our 2xx: ending the call");
                call.leg.on_ack_timeout();
            }
            self.settle(&call_id, layer, now);
        }
    }

    /// A CANCEL for a pending INVITE: ends that call, and returns our To tag for the 487.
    pub(crate) fn on_cancel(
        &mut self,
        invite: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Option<String> {
        let call_id = self.by_invite.get(&invite)?.clone();
        let call = self.calls.get_mut(&call_id)?;
        if !call.leg.on_cancel() {
            return None;
        }
        let tag = call.leg.local_tag().to_owned();
        self.settle(&call_id, layer, now);
        Some(tag)
    }

    /// A response to a request we sent; `false` when the transaction is not ours.
    pub(crate) fn on_response(
        &mut self,
        tx: TxId,
        response: &Response,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> bool {
        let Some((call_id, pending)) = self.sent.get(&tx) else {
            return false;
        };
        let call_id = call_id.clone();
        let final_response = response.status.code() >= 200;
        let mut out = Vec::new();
        if let Some(call) = self.calls.get_mut(&call_id) {
            match pending {
                Pending::Leg(sent) => call.leg.on_response(*sent, response, now),
                Pending::Far(sent) => {
                    if let FarEnd::Bridge(bridge) = &mut call.far {
                        bridge.on_callee_response(
                            *sent,
                            response,
                            &mut call.leg,
                            &self.shared,
                            &mut out,
                            now,
                        );
                        if let Some(outcome) = bridge.ended_by_callee() {
                            call.local_outcome = outcome;
                        }
                    }
                }
            }
        }
        // A 2xx to an INVITE may be retransmitted: keep the entry so that it is ACKed again.
        if final_response
            && !matches!(
                self.sent.get(&tx),
                Some((_, Pending::Far(CalleeSent::Invite)))
            )
        {
            self.sent.remove(&tx);
        }
        self.far_outputs(&call_id, out, layer, now);
        self.settle(&call_id, layer, now);
        true
    }

    /// A request we sent got no answer (Timer B or F); `false` when it is not ours.
    pub(crate) fn on_timeout(
        &mut self,
        tx: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> bool {
        let Some((call_id, pending)) = self.sent.remove(&tx) else {
            return false;
        };
        if let Some(call) = self.calls.get_mut(&call_id) {
            match pending {
                Pending::Leg(sent) => call.leg.on_request_timeout(sent),
                Pending::Far(sent) => {
                    if let FarEnd::Bridge(bridge) = &mut call.far {
                        bridge.on_callee_timeout(sent, &mut call.leg);
                        if let Some(outcome) = bridge.ended_by_callee() {
                            call.local_outcome = outcome;
                        }
                    }
                }
            }
        }
        self.settle(&call_id, layer, now);
        true
    }

    /// A command from a call's own task (a gateway call) for its leg.
    pub(crate) fn command(
        &mut self,
        call_id: &str,
        command: LegCommand,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        match command {
            LegCommand::Ring => call.leg.ring(),
            LegCommand::Message(text) => call.leg.send_message(&text),
            LegCommand::Accept => {
                if let FarEnd::Meet(meet) = &call.far {
                    let sdp = meet.answer_sdp().to_owned();
                    if let Err(refusal) = call.leg.accept(sdp, now) {
                        call.leg.reject(refusal);
                    }
                }
            }
            LegCommand::End(LegEnding::None) => {}
            LegCommand::End(LegEnding::Reject {
                status: code,
                reason,
            }) => {
                call.leg.end(status(code), Some(&reason));
            }
            LegCommand::End(LegEnding::Bye { reason }) => {
                call.leg.end(status(480), Some(&reason));
            }
        }
        self.settle(call_id, layer, now);
    }

    /// The next ring or session timer deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Runs what is due: delayed answers and session timers.
    pub(crate) fn handle_timeout(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        while let Some((at, call_id)) = self.deadlines.first().cloned() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            self.scheduled.remove(&call_id);
            if let Some(call) = self.calls.get_mut(&call_id) {
                call.leg.handle_timeout(now);
            }
            self.settle(&call_id, layer, now);
        }
    }

    /// Ends every call (drain timeout or shutdown): a BYE with a Reason on each answered leg,
    /// 480 with that Reason on each unanswered one; the far ends are ended the same way.
    pub(crate) fn end_all(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        let reason = Reason::q850(16).with_text("Node shutting down");
        let call_ids: Vec<String> = self.calls.keys().cloned().collect();
        for call_id in call_ids {
            let mut out = Vec::new();
            if let Some(call) = self.calls.get_mut(&call_id) {
                call.local_outcome = CallOutcome::Completed;
                if let FarEnd::Bridge(bridge) = &mut call.far {
                    bridge.hang_up(Some(&reason), &mut out);
                }
                call.leg.end(status(480), Some(&reason));
            }
            self.far_outputs(&call_id, out, layer, now);
            self.settle(&call_id, layer, now);
        }
    }

    /// Sends what a far end asked for.
    fn far_outputs(
        &mut self,
        call_id: &str,
        out: Vec<FarOutput>,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        for output in out {
            match output {
                FarOutput::Send(request, peer, sent) => {
                    match layer.send_request(request, peer, now) {
                        Ok(tx) => {
                            self.sent
                                .insert(tx, (call_id.to_owned(), Pending::Far(sent)));
                        }
                        Err(e) => warn!(call_id, "cannot send {sent:?}: {e}"),
                    }
                }
                FarOutput::Stateless(bytes, peer) => layer.send_stateless(bytes, peer),
            }
        }
    }

    /// Sends what the call's leg asked for, hands its events to the far end, finishes the
    /// licence when the leg ended, drops the call once nothing is left to wait for, and files
    /// its next deadline.
    fn settle(&mut self, call_id: &str, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let mut far_out = Vec::new();
        let mut sends = Vec::new();
        while let Some(output) = call.leg.poll_output() {
            match output {
                LegOutput::Respond(tx, response) => {
                    respond(&self.shared, layer, tx, response, now);
                }
                LegOutput::Send(request, peer, sent) => sends.push((request, peer, sent)),
                LegOutput::Stateless(bytes, peer) => layer.send_stateless(bytes, peer),
                LegOutput::Event(event) => {
                    if let LegEvent::Ended(end) = &event {
                        let outcome = match end {
                            LegEnd::Bye => CallOutcome::Completed,
                            LegEnd::Cancelled => CallOutcome::Cancelled,
                            LegEnd::NoAck | LegEnd::SessionExpired | LegEnd::RefreshFailed => {
                                CallOutcome::Failed
                            }
                            LegEnd::Local => call.local_outcome,
                        };
                        info!(call_id, ?end, ?outcome, "call leg ended");
                        if let Some(licence) = call.licence.take() {
                            licence.finish(outcome);
                        }
                    }
                    match &mut call.far {
                        FarEnd::Test(test) => test.on_leg_event(&event, now),
                        FarEnd::Bridge(bridge) => bridge.on_leg_event(&event, &mut far_out),
                        FarEnd::Meet(meet) => meet.on_leg_event(&event),
                    }
                }
            }
        }
        let done = call.leg.is_ended()
            && match &call.far {
                FarEnd::Test(_) | FarEnd::Meet(_) => true,
                FarEnd::Bridge(bridge) => bridge.is_done(),
            };
        let next = (!done).then(|| call.leg.poll_timeout()).flatten();
        for (request, peer, sent) in sends {
            match layer.send_request(request, peer, now) {
                Ok(tx) => {
                    self.sent
                        .insert(tx, (call_id.to_owned(), Pending::Leg(sent)));
                }
                Err(e) => warn!(call_id, "cannot send {sent:?}: {e}"),
            }
        }
        self.far_outputs(call_id, far_out, layer, now);
        if done {
            self.remove(call_id);
        } else {
            self.reschedule(call_id, next);
        }
    }

    fn remove(&mut self, call_id: &str) {
        let Some(call) = self.calls.remove(call_id) else {
            return;
        };
        debug!(call_id, "call freed");
        self.by_invite.remove(&call.leg.invite_tx());
        if let FarEnd::Bridge(bridge) = &call.far {
            self.by_far_call.remove(bridge.callee_call_id());
        }
        self.sent.retain(|_, (owner, _)| owner != call_id);
        self.reschedule(call_id, None);
    }

    /// Files the call under its next deadline.
    fn reschedule(&mut self, call_id: &str, next: Option<Instant>) {
        let current = self.scheduled.get(call_id).copied();
        if next == current {
            return;
        }
        if let Some(at) = current {
            self.deadlines.remove(&(at, call_id.to_owned()));
            self.scheduled.remove(call_id);
        }
        if let Some(at) = next {
            self.deadlines.insert((at, call_id.to_owned()));
            self.scheduled.insert(call_id.to_owned(), at);
        }
    }
}
