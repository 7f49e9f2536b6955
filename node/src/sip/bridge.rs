//! Calls routed to a SIP target (`target = { kind = "sip", proxy = "host:port" }`): the node is
//! a back-to-back user agent. It places an outbound leg (a UAC dialog) to the rewritten alias
//! through the proxy, relays the callee's progress and answer to the caller, and relays the
//! media between the two legs (see [`relay`](super::relay)).
//!
//! The callee is offered what the caller offered, on the node's own ports (payload types,
//! codecs and SDES keys unchanged), and the caller gets the callee's answer on the node's
//! ports; transcoding between the legs comes with the media pipelines. CANCEL and BYE cross
//! from one leg to the other; a final refusal of the callee goes back to the caller with its
//! code (401/407 become 502: the node holds no credentials for the target). In-dialog
//! re-INVITE, UPDATE and INFO are answered by the node on each leg.
//!
//! Not yet: DNS (RFC 3263) targets and proxies given by name (answered 480), early media.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use routing::rules::SipTransport;
use signaling::sdp::{Connection, MediaDescription, MediaKind, SessionDescription};
use signaling::sip::dialog::{Body, Dialog, OutgoingInvite, Reason, dialog_response};
use signaling::sip::message::{Method, NameAddr, Request, Response, Uri};
use signaling::sip::transaction::{TransactionLayer, TxId};
use tracing::{debug, info, warn};

use super::outgoing::{dialog_peer, our_via};
use super::peer::{SipPeer, Transport};
use super::relay::{self, Relay, Side};
use super::test_call::MediaTasks;
use super::uas::{ALLOW, refused, respond, sdp_offer, status};
use crate::calls::{CallDetail, CallLicence, CallOutcome, StreamStats};
use crate::media_ports::PortPair;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// A request-handling outcome that ends in a response.
type Answer = Result<Response, Response>;

/// Where a bridged call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Our INVITE is out; the caller has had 100 (and maybe 180).
    Calling,
    /// The caller cancelled; our CANCEL is out.
    Cancelling,
    /// Both legs answered.
    Connected,
}

/// One bridged call.
struct Bridge {
    licence: Option<CallLicence>,
    stage: Stage,
    /// The caller's leg.
    caller_tx: TxId,
    caller_invite: Request,
    caller_peer: SipPeer,
    caller_tag: String,
    caller_contact: NameAddr,
    caller_dialog: Option<Dialog>,
    /// The SDP we answered the caller with.
    caller_answer: Option<String>,
    /// The callee's leg.
    callee_tx: TxId,
    callee_invite: Request,
    callee_peer: SipPeer,
    callee_dialog: Option<Dialog>,
    /// The ACK for the callee's 2xx, resent when the 2xx is.
    callee_ack: Option<Request>,
    callee_call_id: String,
    /// The caller's offer, and the ports on each side, per m-line.
    caller_offer: SessionDescription,
    caller_ports: Vec<PortPair>,
    callee_ports: Vec<PortPair>,
    local_ip: IpAddr,
    detail: Arc<CallDetail>,
    media: Option<MediaTasks>,
}

impl Bridge {
    fn finish(&mut self, outcome: CallOutcome) {
        if let Some(licence) = self.licence.take() {
            licence.finish(outcome);
        }
    }
}

/// Everything needed to place the outbound leg of a routed call.
pub(crate) struct NewBridge<'a> {
    pub(crate) tx: TxId,
    pub(crate) request: &'a Request,
    pub(crate) peer: &'a SipPeer,
    /// The alias after the rule's `replace`.
    pub(crate) alias: &'a str,
    /// The rule's proxy, `host[:port]`.
    pub(crate) proxy: &'a str,
    pub(crate) transport: SipTransport,
    /// Our media address.
    pub(crate) address: IpAddr,
    /// Our Contact toward the caller, and toward the callee.
    pub(crate) caller_contact: NameAddr,
    pub(crate) callee_contact: NameAddr,
}

/// The bridged calls of one SIP stack.
pub(crate) struct Bridges {
    shared: Arc<Shared>,
    /// By the caller's Call-ID.
    calls: HashMap<String, Bridge>,
    /// The caller's Call-ID by our INVITE transaction, by the caller's INVITE transaction and
    /// by the callee leg's Call-ID.
    by_callee_tx: HashMap<TxId, String>,
    by_caller_tx: HashMap<TxId, String>,
    by_callee_call: HashMap<String, String>,
}

impl Bridges {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            calls: HashMap::new(),
            by_callee_tx: HashMap::new(),
            by_caller_tx: HashMap::new(),
            by_callee_call: HashMap::new(),
        }
    }

    /// Whether a request with this Call-ID belongs to a bridged call (either leg).
    pub(crate) fn has(&self, call_id: &str) -> bool {
        self.calls.contains_key(call_id) || self.by_callee_call.contains_key(call_id)
    }

    /// Places the outbound leg. `Ok(None)`: the caller waits (it had 100 Trying).
    pub(crate) fn start(
        &mut self,
        new: &NewBridge<'_>,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Result<(), Response> {
        let request = new.request;
        let proxy: SocketAddr = parse_proxy(new.proxy, new.transport).ok_or_else(|| {
            request
                .response(status(480))
                .with_reason("Temporarily Unavailable - proxy names need DNS, not served yet")
        })?;
        let offer = sdp_offer(request)?;
        let caller_call_id = request
            .call_id()
            .map_err(|_| request.response(status(400)))?
            .to_owned();

        let transport = transport_of(new.transport);
        let request_uri = target_uri(new.alias, new.proxy).ok_or_else(|| {
            request
                .response(status(404))
                .with_reason("Not Found - the rewritten alias is not a SIP URI")
        })?;
        let from = request
            .from()
            .map(|mut from| {
                from.params.clear();
                from
            })
            .map_err(|_| request.response(status(400)))?;
        let streams: Vec<usize> = offer
            .media
            .iter()
            .enumerate()
            .filter(|(_, m)| is_relayed(m))
            .map(|(i, _)| i)
            .collect();
        let mut caller_ports = Vec::new();
        let mut callee_ports = Vec::new();
        for _ in &streams {
            match (
                self.shared.media_ports.allocate(),
                self.shared.media_ports.allocate(),
            ) {
                (Ok(a), Ok(b)) => {
                    caller_ports.push(a);
                    callee_ports.push(b);
                }
                _ => {
                    return Err(request
                        .response(status(503))
                        .with_reason("Service Unavailable - no media ports"));
                }
            }
        }
        let mut detail_streams = Vec::new();
        for (i, &index) in streams.iter().enumerate() {
            let kind = media_label(&offer.media[index].media);
            detail_streams.push(StreamStats::new(kind, caller_ports[i].rtp()));
            detail_streams.push(StreamStats::new(kind, callee_ports[i].rtp()));
        }
        let detail = Arc::new(CallDetail {
            service: "sip".to_owned(),
            streams: detail_streams,
            ..CallDetail::default()
        });
        let licence = self
            .shared
            .calls
            .admit_with(Some(Arc::clone(&detail)))
            .map_err(|e| refused(request, &CallRefusal::Admission(e)))?;
        let callee_offer = rewrite(&offer, new.address, &callee_ports);
        let callee_call_id = format!("{:032x}", rand::random::<u128>());
        let route: NameAddr = format!(
            "<sip:{}:{};lr;transport={}>",
            host_text(proxy.ip()),
            proxy.port(),
            transport.label()
        )
        .parse()
        .unwrap_or_else(|_| unreachable!("a Route we print parses"));
        let invite = OutgoingInvite::new(
            request_uri.clone(),
            from,
            NameAddr::new(request_uri),
            new.callee_contact.clone(),
            callee_call_id.clone(),
            format!("{:08x}", rand::random::<u32>()),
        )
        .with_route(route)
        .with_body(Body::sdp(callee_offer.to_string().into_bytes()))
        .build(our_via(transport, &self.shared.sip_bound, new.address));
        let mut invite = invite;
        invite.headers.push("Allow", ALLOW);
        let callee_peer = SipPeer {
            transport,
            remote: proxy,
            connection: None,
        };
        let callee_tx = match layer.send_request(invite.clone(), callee_peer.clone(), now) {
            Ok(tx) => tx,
            Err(e) => {
                warn!("cannot send the outbound INVITE: {e}");
                licence.finish(CallOutcome::Failed);
                return Err(request.response(status(500)));
            }
        };
        info!(call = licence.id(), target = %new.alias, %proxy, "placing the outbound SIP leg");
        self.by_callee_tx.insert(callee_tx, caller_call_id.clone());
        self.by_caller_tx.insert(new.tx, caller_call_id.clone());
        self.by_callee_call
            .insert(callee_call_id.clone(), caller_call_id.clone());
        self.calls.insert(
            caller_call_id,
            Bridge {
                licence: Some(licence),
                stage: Stage::Calling,
                caller_tx: new.tx,
                caller_invite: request.clone(),
                caller_peer: new.peer.clone(),
                caller_tag: format!("{:08x}", rand::random::<u32>()),
                caller_contact: new.caller_contact.clone(),
                caller_dialog: None,
                caller_answer: None,
                callee_tx,
                callee_invite: invite,
                callee_peer,
                callee_dialog: None,
                callee_ack: None,
                callee_call_id,
                caller_offer: offer,
                caller_ports,
                callee_ports,
                local_ip: new.address,
                detail,
                media: None,
            },
        );
        Ok(())
    }

    /// A response on the outbound leg; `false` when the transaction is not ours.
    pub(crate) fn on_response(
        &mut self,
        tx: TxId,
        response: &Response,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> bool {
        let Some(call_id) = self.by_callee_tx.get(&tx).cloned() else {
            return false;
        };
        let code = response.status.code();
        let Some(bridge) = self.calls.get_mut(&call_id) else {
            return true;
        };
        match code {
            100 => {}
            101..=199 => {
                if bridge.stage == Stage::Calling {
                    let ringing = dialog_response(
                        &bridge.caller_invite,
                        status(180),
                        &bridge.caller_tag,
                        &bridge.caller_contact,
                    );
                    respond(&self.shared, layer, bridge.caller_tx, ringing, now);
                }
            }
            200..=299 => self.answered(&call_id, response, layer, now),
            _ => {
                // The INVITE transaction ACKs the refusal itself.
                let mut bridge = self.remove(&call_id).expect("present");
                let cancelled = bridge.stage == Stage::Cancelling;
                bridge.finish(if cancelled {
                    CallOutcome::Cancelled
                } else {
                    CallOutcome::Rejected
                });
                if !cancelled {
                    let mapped = if matches!(code, 401 | 407) { 502 } else { code };
                    let mut refusal = bridge.caller_invite.response(status(mapped));
                    if mapped == code {
                        refusal.reason = response.reason.clone();
                    }
                    info!(call_id, code, "the callee refused the call");
                    respond(&self.shared, layer, bridge.caller_tx, refusal, now);
                }
            }
        }
        true
    }

    /// The callee answered: ACK it, answer the caller, start the relay.
    fn answered(
        &mut self,
        call_id: &str,
        response: &Response,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        let Some(bridge) = self.calls.get_mut(call_id) else {
            return;
        };
        if bridge.callee_dialog.is_none() {
            match Dialog::from_uac(&bridge.callee_invite, response) {
                Ok(dialog) => bridge.callee_dialog = Some(dialog),
                Err(e) => {
                    warn!(call_id, "callee's 2xx does not make a dialog: {e}");
                    return;
                }
            }
        }
        let Some(dialog) = bridge.callee_dialog.as_ref() else {
            return;
        };
        let peer = dialog_peer(dialog, &bridge.callee_peer);
        // §13.2.2.4: every 2xx is ACKed, a retransmitted one with the same ACK.
        let ack = bridge.callee_ack.get_or_insert_with(|| {
            let via = our_via(peer.transport, &self.shared.sip_bound, bridge.local_ip);
            dialog.ack_for_2xx(1, via, None)
        });
        layer.send_stateless(ack.to_bytes(), peer);
        match bridge.stage {
            Stage::Connected => return,
            Stage::Cancelling => {
                // The answer crossed our CANCEL: end the callee's leg at once.
                let mut bridge = self.remove(call_id).expect("present");
                bridge.finish(CallOutcome::Cancelled);
                send_bye(&self.shared, &mut bridge, Leg::Callee, None, layer, now);
                return;
            }
            Stage::Calling => {}
        }
        let answer = std::str::from_utf8(&response.body)
            .ok()
            .and_then(|text| SessionDescription::parse(text).ok());
        let Some(answer) = answer else {
            warn!(call_id, "the callee answered without usable SDP");
            let mut bridge = self.remove(call_id).expect("present");
            bridge.finish(CallOutcome::Failed);
            let refusal = bridge
                .caller_invite
                .response(status(488))
                .with_reason("Not Acceptable Here - the callee's answer has no usable SDP");
            respond(&self.shared, layer, bridge.caller_tx, refusal, now);
            send_bye(&self.shared, &mut bridge, Leg::Callee, None, layer, now);
            return;
        };
        let caller_answer = rewrite(&answer, bridge.local_ip, &bridge.caller_ports).to_string();
        let relays = relays(
            &bridge.caller_offer,
            &answer,
            &bridge.caller_ports,
            &bridge.callee_ports,
        );
        match relay::start(
            bridge.local_ip,
            &relays,
            &bridge.detail,
            &self.shared.metrics,
        ) {
            Ok(tasks) => bridge.media = Some(tasks),
            Err(e) => warn!(call_id, "cannot bind the relay's ports: {e}"),
        }
        let mut ok = dialog_response(
            &bridge.caller_invite,
            status(200),
            &bridge.caller_tag,
            &bridge.caller_contact,
        );
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = caller_answer.clone().into_bytes();
        match Dialog::from_uas(&bridge.caller_invite, &ok, rand::random::<u16>().into()) {
            Ok(dialog) => bridge.caller_dialog = Some(dialog),
            Err(e) => warn!(call_id, "caller dialog: {e}"),
        }
        bridge.caller_answer = Some(caller_answer);
        bridge.stage = Stage::Connected;
        info!(call_id, "bridged call connected");
        respond(&self.shared, layer, bridge.caller_tx, ok, now);
    }

    /// Our outbound INVITE got no answer in time.
    pub(crate) fn on_timeout(
        &mut self,
        tx: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> bool {
        let Some(call_id) = self.by_callee_tx.get(&tx).cloned() else {
            return false;
        };
        if let Some(mut bridge) = self.remove(&call_id) {
            bridge.finish(CallOutcome::Failed);
            let timeout = bridge
                .caller_invite
                .response(status(408))
                .with_reason("Request Timeout - the callee did not answer");
            respond(&self.shared, layer, bridge.caller_tx, timeout, now);
        }
        true
    }

    /// The caller cancelled: CANCEL to the callee; returns our To tag for the caller's 487.
    /// `None` if not ours.
    pub(crate) fn on_cancel(
        &mut self,
        invite: TxId,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Option<String> {
        let call_id = self.by_caller_tx.get(&invite)?.clone();
        let bridge = self.calls.get_mut(&call_id)?;
        if bridge.stage != Stage::Calling {
            return None;
        }
        bridge.stage = Stage::Cancelling;
        let ours = cancel_for(&bridge.callee_invite);
        if let Err(e) = layer.send_request(ours, bridge.callee_peer.clone(), now) {
            warn!(call_id, "cannot send CANCEL: {e}");
        }
        Some(bridge.caller_tag.clone())
    }

    /// An in-dialog request on either leg.
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
        let (caller_call_id, leg) = match self.by_callee_call.get(&call_id) {
            Some(caller) => (caller.clone(), Leg::Callee),
            None => (call_id, Leg::Caller),
        };
        let bridge = self
            .calls
            .get_mut(&caller_call_id)
            .ok_or_else(|| request.response(status(481)))?;
        let dialog = match leg {
            Leg::Caller => bridge.caller_dialog.as_mut(),
            Leg::Callee => bridge.callee_dialog.as_mut(),
        }
        .ok_or_else(|| request.response(status(481)))?;
        dialog.check_remote_request(request).map_err(|e| {
            request
                .response(e.sip_status())
                .with_reason(e.to_string().replace(['\r', '\n'], " "))
        })?;
        match request.method {
            Method::Bye => {
                let mut bridge = self.remove(&caller_call_id).expect("present");
                bridge.finish(CallOutcome::Completed);
                let other = leg.other();
                debug!(
                    call_id = caller_call_id,
                    ?leg,
                    "BYE crosses to the other leg"
                );
                send_bye(&self.shared, &mut bridge, other, None, layer, now);
                Ok(request.response(status(200)))
            }
            // Hold, resume and refreshes stay on their leg: the media relay is unchanged.
            Method::Invite | Method::Update => {
                let mut ok = request.response(status(200));
                let sdp = match leg {
                    Leg::Caller => bridge.caller_answer.clone(),
                    Leg::Callee => Some(
                        rewrite(&bridge.caller_offer, bridge.local_ip, &bridge.callee_ports)
                            .to_string(),
                    ),
                };
                if let Some(sdp) =
                    sdp.filter(|_| request.method == Method::Invite || !request.body.is_empty())
                {
                    ok.headers.push("Content-Type", "application/sdp");
                    ok.body = sdp.into_bytes();
                }
                Ok(ok)
            }
            Method::Info | Method::Message => Ok(request.response(status(200))),
            _ => {
                let mut response = request.response(status(405));
                response.headers.push("Allow", ALLOW);
                Err(response)
            }
        }
    }

    /// Ends every bridged call (drain timeout or shutdown).
    pub(crate) fn end_all(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        let reason = Reason::q850(16).with_text("Node shutting down");
        let call_ids: Vec<String> = self.calls.keys().cloned().collect();
        for call_id in call_ids {
            let Some(mut bridge) = self.remove(&call_id) else {
                continue;
            };
            bridge.finish(CallOutcome::Completed);
            if bridge.stage == Stage::Connected {
                send_bye(
                    &self.shared,
                    &mut bridge,
                    Leg::Caller,
                    Some(&reason),
                    layer,
                    now,
                );
                send_bye(
                    &self.shared,
                    &mut bridge,
                    Leg::Callee,
                    Some(&reason),
                    layer,
                    now,
                );
            } else {
                let ours = cancel_for(&bridge.callee_invite);
                let _ = layer.send_request(ours, bridge.callee_peer.clone(), now);
                let mut unavailable = bridge.caller_invite.response(status(480));
                unavailable.headers.push("Reason", reason.to_string());
                respond(&self.shared, layer, bridge.caller_tx, unavailable, now);
            }
        }
    }

    fn remove(&mut self, call_id: &str) -> Option<Bridge> {
        let bridge = self.calls.remove(call_id)?;
        self.by_callee_tx.remove(&bridge.callee_tx);
        self.by_caller_tx.remove(&bridge.caller_tx);
        self.by_callee_call.remove(&bridge.callee_call_id);
        Some(bridge)
    }
}

/// The two legs of a bridged call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leg {
    Caller,
    Callee,
}

impl Leg {
    fn other(self) -> Self {
        match self {
            Self::Caller => Self::Callee,
            Self::Callee => Self::Caller,
        }
    }
}

/// Sends a BYE on one leg (fire and forget: its transaction runs to its end on its own).
fn send_bye(
    shared: &Shared,
    bridge: &mut Bridge,
    leg: Leg,
    reason: Option<&Reason>,
    layer: &mut TransactionLayer<SipPeer>,
    now: Instant,
) {
    let (dialog, came_from) = match leg {
        Leg::Caller => (bridge.caller_dialog.as_mut(), &bridge.caller_peer),
        Leg::Callee => (bridge.callee_dialog.as_mut(), &bridge.callee_peer),
    };
    let Some(dialog) = dialog else {
        return;
    };
    let peer = dialog_peer(dialog, came_from);
    let via = our_via(peer.transport, &shared.sip_bound, bridge.local_ip);
    let bye = dialog.bye(via, reason);
    if let Err(e) = layer.send_request(bye, peer, now) {
        warn!("cannot send BYE: {e}");
    }
}

/// A CANCEL for our INVITE (RFC 3261 §9.1): same Request-URI, top Via, Route, From, To,
/// Call-ID and CSeq number.
fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    for name in ["Via", "Max-Forwards", "Route", "From", "To", "Call-ID"] {
        let values: Vec<String> = invite.headers.get_all(name).map(str::to_owned).collect();
        let values = if name == "Via" {
            values.into_iter().take(1).collect()
        } else {
            values
        };
        for value in values {
            cancel.headers.push(name, value);
        }
    }
    let seq = invite.cseq().map_or(1, |c| c.seq);
    cancel.headers.push("CSeq", format!("{seq} CANCEL"));
    cancel
}

/// `sdp` with our address and, per audio/video m-line with a port, our ports in order; other
/// m-lines are disabled (port 0). Our origin, and no `a=rtcp` (our RTCP port is RTP + 1).
fn rewrite(sdp: &SessionDescription, address: IpAddr, ports: &[PortPair]) -> SessionDescription {
    let mut out = sdp.clone();
    out.origin.username = "tcn".to_owned();
    out.origin.address = address.to_string();
    out.origin.addr_type = Connection::from_ip(address).addr_type;
    out.connection = Some(Connection::from_ip(address));
    let mut ports = ports.iter();
    for media in &mut out.media {
        media.connection = None;
        media.attributes.retain(|a| a.name != "rtcp");
        let relayed = is_relayed(media);
        media.port = match ports.next().filter(|_| relayed) {
            Some(pair) => pair.rtp(),
            None => 0,
        };
    }
    out
}

/// The relays between the caller's offer and the callee's answer, per relayed m-line.
fn relays(
    offer: &SessionDescription,
    answer: &SessionDescription,
    caller_ports: &[PortPair],
    callee_ports: &[PortPair],
) -> Vec<Relay> {
    let relayed = offer
        .media
        .iter()
        .enumerate()
        .filter(|(_, m)| is_relayed(m));
    let mut out = Vec::new();
    for (n, (index, caller_media)) in relayed.enumerate() {
        let Some(callee_media) = answer.media.get(index).filter(|m| m.port != 0) else {
            continue;
        };
        let side =
            |sdp: &SessionDescription, media: &MediaDescription, pair: &PortPair, stats: usize| {
                let ip = sdp
                    .connection_for(media)
                    .and_then(Connection::ip)
                    .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
                let mux = media.has_attribute("rtcp-mux");
                Side {
                    rtp_port: pair.rtp(),
                    rtcp_port: (!mux).then_some(pair.rtcp()),
                    remote_rtp: SocketAddr::new(ip, media.port),
                    remote_rtcp: SocketAddr::new(
                        ip,
                        if mux {
                            media.port
                        } else {
                            media.port.saturating_add(1)
                        },
                    ),
                    stats,
                }
            };
        out.push(Relay {
            caller: side(offer, caller_media, &caller_ports[n], 2 * n),
            callee: side(answer, callee_media, &callee_ports[n], 2 * n + 1),
        });
    }
    out
}

/// The m-lines the bridge relays: audio and video that are not disabled (port 0).
fn is_relayed(media: &MediaDescription) -> bool {
    matches!(media.media, MediaKind::Audio | MediaKind::Video) && media.port != 0
}

fn media_label(kind: &MediaKind) -> &'static str {
    match kind {
        MediaKind::Video => "video",
        _ => "audio",
    }
}

fn transport_of(transport: SipTransport) -> Transport {
    match transport {
        SipTransport::Udp => Transport::Udp,
        SipTransport::Tcp => Transport::Tcp,
        SipTransport::Tls => Transport::Tls,
    }
}

/// The proxy as an address: IP literals only (names need DNS, which is not served yet).
fn parse_proxy(proxy: &str, transport: SipTransport) -> Option<SocketAddr> {
    let default_port = if transport == SipTransport::Tls {
        5061
    } else {
        5060
    };
    if let Ok(addr) = proxy.parse::<SocketAddr>() {
        return Some(addr);
    }
    let host = proxy.trim_start_matches('[').trim_end_matches(']');
    host.parse::<IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, default_port))
}

/// The Request-URI for the rewritten alias: as written when it is a SIP URI, else
/// `sip:<alias>`, with the proxy as host when the alias has none.
fn target_uri(alias: &str, proxy: &str) -> Option<Uri> {
    let text = if alias.starts_with("sip:") || alias.starts_with("sips:") {
        alias.to_owned()
    } else if alias.contains('@') {
        format!("sip:{alias}")
    } else {
        format!("sip:{alias}@{proxy}")
    };
    text.parse().ok()
}

fn host_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}
