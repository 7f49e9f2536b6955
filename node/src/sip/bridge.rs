//! Calls routed to a SIP target (`target = { kind = "sip", proxy = "host:port" }`): the node is
//! a back-to-back user agent. The caller's side is the node's one [`UasLeg`]; this module is
//! its far end: an outbound leg (a UAC dialog) to the rewritten alias through the proxy. It
//! relays the callee's progress and answer to the caller's leg, and the media between the two
//! legs (see [`relay`](super::relay)).
//!
//! The callee is offered what the caller offered, on the node's own ports (payload types,
//! codecs and SDES keys unchanged), and the caller gets the callee's answer on the node's
//! ports; transcoding between the legs comes with the media pipelines. CANCEL and BYE cross
//! from one leg to the other; a final refusal of the callee goes back to the caller with its
//! code (401/407 become 502: the node holds no credentials for the target). In-dialog
//! re-INVITE, UPDATE and INFO are answered by the node on each leg; the caller's leg runs its
//! session timer and ends the call when the caller never ACKs.
//!
//! Not yet: DNS (RFC 3263) targets and proxies given by name (answered 480), early media.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use routing::rules::SipTransport;
use signaling::sdp::{Connection, MediaDescription, MediaKind, SessionDescription};
use signaling::sip::dialog::{Body, Dialog, OutgoingInvite, Reason};
use signaling::sip::message::{Method, NameAddr, Request, Response, Uri};
use signaling::sip::transaction::TxId;
use tracing::{debug, info, warn};

use super::call_table::{FarEnd, FarOutput, SipCall};
use super::leg::{Answer, LegConfig, LegEvent, UasLeg};
use super::outgoing::{dialog_peer, our_via};
use super::peer::{SipPeer, Transport};
use super::relay::{self, Relay, Side};
use super::responses::{ALLOW, dialog_refused, refused, sdp_offer, status};
use super::test_call::MediaTasks;
use crate::calls::{CallDetail, CallKind, CallOutcome, StreamStats};
use crate::media_ports::PortPair;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// Where the outbound leg stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Our INVITE is out.
    Calling,
    /// The caller went away before the callee answered; our CANCEL is out.
    Cancelling,
    /// The callee answered.
    Connected,
    /// Nothing more to do on the outbound leg.
    Over,
}

/// A request the outbound leg sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CalleeSent {
    Invite,
    Cancel,
    Bye,
}

/// The outbound leg of one bridged call, and the media between the legs.
pub(crate) struct BridgeCall {
    stage: Stage,
    callee_invite: Request,
    callee_peer: SipPeer,
    callee_dialog: Option<Dialog>,
    /// The ACK for the callee's 2xx, resent when the 2xx is.
    callee_ack: Option<Vec<u8>>,
    callee_call_id: String,
    /// The caller's offer, and the ports on each side, per m-line.
    caller_offer: SessionDescription,
    caller_ports: Vec<PortPair>,
    callee_ports: Vec<PortPair>,
    local_ip: IpAddr,
    bound: super::transport::SipBound,
    detail: Arc<CallDetail>,
    media: Option<MediaTasks>,
    /// How the call ended when the callee ended it (refusal, timeout, BYE).
    ended_by_callee: Option<CallOutcome>,
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

/// Places the outbound leg: the call to file (its caller's leg unanswered) and the INVITE to
/// send; or the refusal for the caller.
pub(crate) fn start(
    shared: &Shared,
    new: NewBridge<'_>,
) -> Result<(SipCall, Vec<FarOutput>), Response> {
    let request = new.request;
    let leg = UasLeg::new(
        new.tx,
        request,
        new.peer,
        LegConfig::new(shared, new.caller_contact.clone(), new.address),
    )?;
    let proxy: SocketAddr = parse_proxy(new.proxy, new.transport).ok_or_else(|| {
        request
            .response(status(480))
            .with_reason("Temporarily Unavailable - proxy names need DNS, not served yet")
    })?;
    let offer = sdp_offer(request)?;
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
        match (shared.media_ports.allocate(), shared.media_ports.allocate()) {
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
        caller: super::peer::caller_view(request),
        streams: detail_streams,
        ..CallDetail::default()
    });
    let licence = shared
        .calls
        .admit_with(CallKind::Sip, Some(Arc::clone(&detail)))
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
    let mut invite = OutgoingInvite::new(
        request_uri.clone(),
        from,
        NameAddr::new(request_uri),
        new.callee_contact.clone(),
        callee_call_id.clone(),
        format!("{:08x}", rand::random::<u32>()),
    )
    .with_route(route)
    .with_body(Body::sdp(callee_offer.to_string().into_bytes()))
    .build(our_via(transport, &shared.sip_bound, new.address));
    invite.headers.push("Allow", ALLOW);
    let callee_peer = SipPeer {
        transport,
        remote: proxy,
        connection: None,
    };
    info!(call = licence.id(), target = %new.alias, %proxy, "placing the outbound SIP leg");
    let first = vec![FarOutput::Send(
        invite.clone(),
        callee_peer.clone(),
        CalleeSent::Invite,
    )];
    let bridge = BridgeCall {
        stage: Stage::Calling,
        callee_invite: invite,
        callee_peer,
        callee_dialog: None,
        callee_ack: None,
        callee_call_id,
        caller_offer: offer,
        caller_ports,
        callee_ports,
        local_ip: new.address,
        bound: shared.sip_bound,
        detail,
        media: None,
        ended_by_callee: None,
    };
    let call = SipCall {
        leg,
        far: FarEnd::Bridge(Box::new(bridge)),
        licence: Some(licence),
        local_outcome: CallOutcome::Completed,
    };
    Ok((call, first))
}

impl BridgeCall {
    /// The outbound leg's Call-ID (its in-dialog requests name it).
    pub(crate) fn callee_call_id(&self) -> &str {
        &self.callee_call_id
    }

    /// Whether the outbound leg has nothing left to wait for.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Connected | Stage::Over)
    }

    /// How the call ended, when the callee's side ended it.
    pub(crate) fn ended_by_callee(&self) -> Option<CallOutcome> {
        self.ended_by_callee
    }

    /// A response on the outbound leg.
    pub(crate) fn on_callee_response(
        &mut self,
        sent: CalleeSent,
        response: &Response,
        leg: &mut UasLeg,
        shared: &Shared,
        out: &mut Vec<FarOutput>,
        now: Instant,
    ) {
        if sent != CalleeSent::Invite {
            return;
        }
        let code = response.status.code();
        match code {
            100 => {}
            101..=199 => {
                if self.stage == Stage::Calling {
                    leg.ring();
                }
            }
            200..=299 => self.answered(response, leg, shared, out, now),
            _ => {
                // The INVITE transaction ACKs the refusal itself.
                let cancelled = self.stage == Stage::Cancelling;
                self.stage = Stage::Over;
                if !cancelled {
                    let mapped = if matches!(code, 401 | 407) { 502 } else { code };
                    let mut refusal = leg.invite().response(status(mapped));
                    if mapped == code {
                        refusal.reason = response.reason.clone();
                    }
                    info!(code, "the callee refused the call");
                    self.ended_by_callee = Some(CallOutcome::Rejected);
                    leg.reject(refusal);
                }
            }
        }
    }

    /// The callee answered: ACK it, answer the caller, start the relay.
    fn answered(
        &mut self,
        response: &Response,
        leg: &mut UasLeg,
        shared: &Shared,
        out: &mut Vec<FarOutput>,
        now: Instant,
    ) {
        if self.callee_dialog.is_none() {
            match Dialog::from_uac(&self.callee_invite, response) {
                Ok(dialog) => self.callee_dialog = Some(dialog),
                Err(e) => {
                    warn!("callee's 2xx does not make a dialog: {e}");
                    return;
                }
            }
        }
        let Some(dialog) = self.callee_dialog.as_ref() else {
            return;
        };
        let peer = dialog_peer(dialog, &self.callee_peer);
        // RFC 3261 §13.2.2.4: every 2xx is ACKed, a retransmitted one with the same ACK.
        let ack = self.callee_ack.get_or_insert_with(|| {
            let via = our_via(peer.transport, &self.bound, self.local_ip);
            dialog.ack_for_2xx(1, via, None).to_bytes()
        });
        out.push(FarOutput::Stateless(ack.clone(), peer));
        match self.stage {
            Stage::Connected | Stage::Over => return,
            Stage::Cancelling => {
                // The answer crossed our CANCEL: end the callee's leg at once.
                self.send_bye(None, out);
                return;
            }
            Stage::Calling => {}
        }
        let answer = std::str::from_utf8(&response.body)
            .ok()
            .and_then(|text| SessionDescription::parse(text).ok());
        let Some(answer) = answer else {
            warn!("the callee answered without usable SDP");
            self.send_bye(None, out);
            self.ended_by_callee = Some(CallOutcome::Failed);
            leg.reject(
                leg.invite()
                    .response(status(488))
                    .with_reason("Not Acceptable Here - the callee's answer has no usable SDP"),
            );
            return;
        };
        let caller_answer = rewrite(&answer, self.local_ip, &self.caller_ports).to_string();
        let relays = relays(
            &self.caller_offer,
            &answer,
            &self.caller_ports,
            &self.callee_ports,
        );
        match relay::start(self.local_ip, &relays, &self.detail, &shared.metrics) {
            Ok(tasks) => self.media = Some(tasks),
            Err(e) => warn!("cannot bind the relay's ports: {e}"),
        }
        self.stage = Stage::Connected;
        if let Err(refusal) = leg.accept(caller_answer, now) {
            leg.reject(refusal);
        }
        info!("bridged call connected");
    }

    /// Our outbound INVITE got no answer in time.
    pub(crate) fn on_callee_timeout(&mut self, sent: CalleeSent, leg: &mut UasLeg) {
        if sent != CalleeSent::Invite || !matches!(self.stage, Stage::Calling | Stage::Cancelling) {
            return;
        }
        self.stage = Stage::Over;
        self.ended_by_callee = Some(CallOutcome::Failed);
        leg.reject(
            leg.invite()
                .response(status(408))
                .with_reason("Request Timeout - the callee did not answer"),
        );
    }

    /// What the caller's leg reports: when it ends, the outbound leg ends too (CANCEL while
    /// calling, BYE once connected).
    pub(crate) fn on_leg_event(&mut self, event: &LegEvent, out: &mut Vec<FarOutput>) {
        if let LegEvent::Ended(end) = event {
            debug!(?end, "the caller's leg ended: ending the outbound leg");
            self.hang_up(None, out);
        }
    }

    /// Ends the outbound leg: CANCEL while it is calling, BYE (with `reason`) once connected.
    pub(crate) fn hang_up(&mut self, reason: Option<&Reason>, out: &mut Vec<FarOutput>) {
        match self.stage {
            Stage::Calling => {
                self.stage = Stage::Cancelling;
                out.push(FarOutput::Send(
                    cancel_for(&self.callee_invite),
                    self.callee_peer.clone(),
                    CalleeSent::Cancel,
                ));
            }
            Stage::Connected => self.send_bye(reason, out),
            Stage::Cancelling | Stage::Over => {}
        }
    }

    /// An in-dialog request from the callee.
    pub(crate) fn on_callee_request(&mut self, request: &Request, leg: &mut UasLeg) -> Answer {
        let dialog = self
            .callee_dialog
            .as_mut()
            .filter(|_| self.stage == Stage::Connected)
            .ok_or_else(|| request.response(status(481)))?;
        dialog
            .check_remote_request(request)
            .map_err(|e| dialog_refused(request, &e))?;
        match request.method {
            Method::Bye => {
                debug!("the callee hung up: BYE crosses to the caller");
                self.stage = Stage::Over;
                self.ended_by_callee = Some(CallOutcome::Completed);
                leg.end(status(480), None);
                Ok(request.response(status(200)))
            }
            // Hold, resume and refreshes stay on their leg: the media relay is unchanged.
            Method::Invite | Method::Update => {
                let mut ok = request.response(status(200));
                if request.method == Method::Invite || !request.body.is_empty() {
                    let sdp = rewrite(&self.caller_offer, self.local_ip, &self.callee_ports);
                    ok.headers.push("Content-Type", "application/sdp");
                    ok.body = sdp.to_string().into_bytes();
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

    /// A BYE on the outbound leg (fire and forget: its transaction runs to its end on its own).
    fn send_bye(&mut self, reason: Option<&Reason>, out: &mut Vec<FarOutput>) {
        self.stage = Stage::Over;
        let Some(dialog) = self.callee_dialog.as_mut() else {
            return;
        };
        let peer = dialog_peer(dialog, &self.callee_peer);
        let via = our_via(peer.transport, &self.bound, self.local_ip);
        let bye = dialog.bye(via, reason);
        out.push(FarOutput::Send(bye, peer, CalleeSent::Bye));
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
