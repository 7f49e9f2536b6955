//! The transaction user: what the node answers to each request.
//!
//! Calls today: the built-in test service (`sip.test_alias`, and `sip.test_ring_alias`, which
//! rings for 2 s first); every other INVITE goes through admission and routing, and a target the
//! node cannot serve yet (Meet, outbound SIP, Virtual Reception) is answered 480. Refusals use
//! the one mapping in `crate::refusal`.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use signaling::digest::{Algorithm, AuthError, Authenticator, Credentials, DEFAULT_NONCE_LIFETIME};
use signaling::dtmf::{DtmfDeduplicator, parse_info};
use signaling::sdp::{
    AnswerParams, CryptoPolicy, Endpoint, LocalCapabilities, SessionDescription, answer,
};
use signaling::sip::message::{Host, Method, Request, Response, Scheme, StatusCode};
use signaling::sip::registrar::{Registrar, RegistrarConfig};
use signaling::sip::transaction::{TransactionLayer, TxEvent, TxId};
use tracing::{debug, info, warn};

use super::peer::{SipPeer, Transport};
use super::test_call::{self, MediaTasks, SharedDedup, StreamPlan};
use crate::call_routing::RouteRequest;
use crate::calls::{CallDetail, CallLicence, CallOutcome, StreamStats};
use crate::media_ports::PortPair;
use crate::refusal::CallRefusal;
use crate::state::Shared;

/// Methods this node answers (RFC 3261 §20.5 Allow).
const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER";
/// Bodies this node understands (§20.1 Accept).
const ACCEPT: &str = "application/sdp, application/dtmf-relay, application/dtmf";
/// How long `test_ring_alias` rings before it answers.
const RING_TIME: Duration = Duration::from_secs(2);

/// A request-handling outcome that ends in a response.
type Answer = Result<Response, Response>;

/// One call answered by the test service.
struct TestCall {
    licence: Option<CallLicence>,
    invite: TxId,
    local_tag: String,
    detail: Arc<CallDetail>,
    dedup: SharedDedup,
    session_id: u64,
    version: u64,
    endpoints: (Endpoint, Endpoint),
    /// The 200 to send when the ring time is over (ringing alias only).
    pending: Option<(Instant, Response)>,
    confirmed: bool,
    _ports: Vec<PortPair>,
    _media: MediaTasks,
}

/// The node's SIP transaction user.
pub(crate) struct Uas {
    shared: Arc<Shared>,
    /// Bound UDP and TCP addresses, for Contact headers and the SDP address.
    local: (Option<SocketAddr>, Option<SocketAddr>),
    calls: HashMap<String, TestCall>,
    /// Call-ID of each test call by its INVITE transaction (ACK, CANCEL and timeouts name
    /// the transaction).
    by_invite: HashMap<TxId, String>,
    ring_deadlines: BTreeSet<(Instant, String)>,
    registrar: Registrar,
    authenticator: Authenticator,
}

impl Uas {
    pub(crate) fn new(
        shared: Arc<Shared>,
        local: (Option<SocketAddr>, Option<SocketAddr>),
    ) -> Self {
        let sip = shared.config().sip;
        // Validated at load: every name is known.
        let algorithms: Vec<Algorithm> = sip
            .digest_algorithms
            .iter()
            .filter_map(|name| Algorithm::from_name(name))
            .collect();
        Self {
            shared,
            local,
            calls: HashMap::new(),
            by_invite: HashMap::new(),
            ring_deadlines: BTreeSet::new(),
            registrar: Registrar::new(RegistrarConfig::default()),
            authenticator: Authenticator::new(rand::random(), DEFAULT_NONCE_LIFETIME)
                .with_realm(sip.realm)
                .with_algorithms(&algorithms),
        }
    }

    pub(crate) fn on_event(
        &mut self,
        event: TxEvent<SipPeer>,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        match event {
            TxEvent::Request { tx, request, peer } => {
                let response = match self.on_request(tx, &request, &peer, now) {
                    Ok(response) | Err(response) => response,
                };
                self.respond(layer, tx, response, now);
            }
            TxEvent::Cancel {
                cancel,
                invite,
                request,
            } => {
                self.respond(layer, cancel, request.response(status(200)), now);
                if layer.is_answered(invite) == Some(false) {
                    // §9.2: the pending INVITE is answered 487.
                    if let Some(call_id) = self.call_of(invite) {
                        if let Some(mut call) = self.remove_call(&call_id) {
                            finish(&mut call, CallOutcome::Cancelled);
                            let mut terminated = response_from_invite(&request, status(487));
                            set_to_tag(&mut terminated, &call.local_tag);
                            self.respond(layer, invite, terminated, now);
                        }
                    } else {
                        self.respond(
                            layer,
                            invite,
                            response_from_invite(&request, status(487)),
                            now,
                        );
                    }
                }
            }
            TxEvent::Ack { invite, .. } => {
                if let Some(call_id) = invite.and_then(|tx| self.call_of(tx))
                    && let Some(call) = self.calls.get_mut(&call_id)
                {
                    call.confirmed = true;
                }
            }
            TxEvent::AckTimeout { tx } => {
                if let Some(call_id) = self.call_of(tx) {
                    warn!(call_id, "no ACK for our final response: ending the call");
                    if let Some(mut call) = self.remove_call(&call_id) {
                        finish(&mut call, CallOutcome::Failed);
                    }
                }
            }
            // No client transactions yet (outbound legs come with SIP targets).
            TxEvent::Response { .. } | TxEvent::Timeout { .. } => {}
        }
    }

    /// When the next ringing call is to be answered.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.ring_deadlines.first().map(|(at, _)| *at)
    }

    /// Answers ringing calls whose ring time is over.
    pub(crate) fn handle_timeout(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        while let Some((at, call_id)) = self.ring_deadlines.first().cloned() {
            if at > now {
                break;
            }
            self.ring_deadlines.pop_first();
            let Some(call) = self.calls.get_mut(&call_id) else {
                continue;
            };
            if let Some((_, response)) = call.pending.take() {
                let tx = call.invite;
                self.respond(layer, tx, response, now);
            }
        }
    }

    /// Ends every call (drain timeout or shutdown). The caller is not told: a BYE needs the
    /// outbound request path, which comes with SIP targets.
    pub(crate) fn end_all(&mut self, _layer: &mut TransactionLayer<SipPeer>, _now: Instant) {
        self.by_invite.clear();
        for (_, mut call) in self.calls.drain() {
            finish(&mut call, CallOutcome::Completed);
        }
        self.ring_deadlines.clear();
    }

    fn respond(
        &self,
        layer: &mut TransactionLayer<SipPeer>,
        tx: TxId,
        response: Response,
        now: Instant,
    ) {
        let code = response.status.code();
        if layer.respond(tx, response, now).is_ok() {
            self.shared.metrics.count_sip_response(code);
        }
    }

    fn call_of(&self, tx: TxId) -> Option<String> {
        self.by_invite.get(&tx).cloned()
    }

    fn remove_call(&mut self, call_id: &str) -> Option<TestCall> {
        let call = self.calls.remove(call_id)?;
        self.by_invite.remove(&call.invite);
        Some(call)
    }

    fn on_request(&mut self, tx: TxId, request: &Request, peer: &SipPeer, now: Instant) -> Answer {
        // RFC 3261 §8.2.2.3: extensions we do not support are refused with 420 + Unsupported.
        let required: Vec<&str> = request
            .headers
            .get_all("Require")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if !required.is_empty() {
            let mut response = request.response(status(420));
            response.headers.push("Unsupported", required.join(", "));
            return Err(response);
        }
        match request.method {
            Method::Options => Ok(self.options(request)),
            Method::Invite if has_to_tag(request) => self.reinvite(request),
            Method::Invite => self.invite(tx, request, peer, now),
            Method::Bye => Ok(self.bye(request)),
            Method::Info => Ok(self.info(request, now)),
            Method::Register => self.register(request, now),
            Method::Message
            | Method::Update
            | Method::Prack
            | Method::Subscribe
            | Method::Notify
            | Method::Refer
            | Method::Publish => {
                // §8.2.1: a known method we do not serve: 405 with Allow.
                let mut response = request.response(status(405));
                response.headers.push("Allow", ALLOW);
                Err(response)
            }
            _ => {
                let mut response = request.response(status(501));
                response.headers.push("Allow", ALLOW);
                Err(response)
            }
        }
    }

    /// REGISTER (RFC 3261 §10.3), authenticated with digest (§22.4; RFC 8760: SHA-256 is
    /// offered first, MD5 for older devices). Off (405) when no credentials are configured.
    fn register(&mut self, request: &Request, now: Instant) -> Answer {
        let sip = self.shared.config().sip;
        if sip.credentials.is_empty() {
            let mut response = request.response(status(405));
            response.headers.push("Allow", ALLOW);
            return Err(response);
        }
        let now_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let credentials = request
            .headers
            .get("Authorization")
            .and_then(|value| Credentials::parse(value).ok());
        let challenge = |stale: bool| {
            let mut response = request.response(status(401));
            for challenge in self.authenticator.challenges(&sip.realm, now_unix, stale) {
                response
                    .headers
                    .push("WWW-Authenticate", challenge.to_string());
            }
            response
        };
        let Some(credentials) = credentials else {
            return Err(challenge(false));
        };
        let lookup = |realm: &str, user: &str| {
            (realm == sip.realm)
                .then(|| sip.credentials.iter().find(|c| c.username == user))
                .flatten()
                .map(|c| c.password.expose().to_owned())
        };
        match self
            .authenticator
            .verify("REGISTER", &credentials, now_unix, lookup)
        {
            Ok(user) => {
                let response = self.registrar.handle_register(request, now);
                info!(user = %user.username, status = response.status.code(), "REGISTER");
                self.shared
                    .metrics
                    .set_registrations(self.registrar.active());
                Ok(response)
            }
            Err(AuthError::StaleNonce) => Err(challenge(true)),
            Err(error) => {
                debug!("REGISTER refused: {error}");
                Err(request.response(status(403)))
            }
        }
    }

    /// OPTIONS: the load balancer's probe (RFC 3261 §11). 503 while draining or full.
    fn options(&self, request: &Request) -> Response {
        let calls = &self.shared.calls;
        let full = calls.active() >= calls.max_calls() as usize;
        let mut response =
            request.response(status(if calls.draining() || full { 503 } else { 200 }));
        response.headers.push("Allow", ALLOW);
        response.headers.push("Accept", ACCEPT);
        response
    }

    fn invite(&mut self, tx: TxId, request: &Request, peer: &SipPeer, now: Instant) -> Answer {
        // §8.2.2.1: a Request-URI scheme we do not route.
        if !matches!(request.uri.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) {
            return Err(request.response(status(416)));
        }
        let call_id = request
            .call_id()
            .map_err(|_| request.response(status(400)))?
            .to_owned();
        let user = request.uri.user.clone().unwrap_or_default();
        let sip = self.shared.config().sip;
        let ringing = !sip.test_ring_alias.is_empty() && user == sip.test_ring_alias;
        if (!sip.test_alias.is_empty() && user == sip.test_alias) || ringing {
            return self.test_call(tx, request, peer, &call_id, ringing, now);
        }
        let alias = request.uri.to_string();
        let route = RouteRequest {
            alias: &alias,
            protocol: routing::Protocol::Sip,
            source: peer.remote.ip(),
            registered: self
                .registrar
                .is_registered_contact(&peer.remote.ip().to_string(), now),
        };
        match crate::call_routing::route(&self.shared, &route, now) {
            Err(refusal) => Err(refused(request, &refusal)),
            Ok(lookup) => {
                info!(?lookup.outcome, "call routed, but its target cannot be served yet");
                Err(request
                    .response(status(480))
                    .with_reason("Temporarily Unavailable - target not served yet"))
            }
        }
    }

    fn test_call(
        &mut self,
        tx: TxId,
        request: &Request,
        peer: &SipPeer,
        call_id: &str,
        ringing: bool,
        now: Instant,
    ) -> Answer {
        let offer = sdp_offer(request)?;
        let address = self.media_address(request, peer).ok_or_else(|| {
            warn!("no address to offer media on: set sip.udp/sip.tcp to a specific address");
            request.response(status(500))
        })?;
        let ports = &self.shared.media_ports;
        let (Ok(audio), Ok(video)) = (ports.allocate(), ports.allocate()) else {
            return Err(request
                .response(status(503))
                .with_reason("Service Unavailable - no media ports"));
        };
        let endpoints = (endpoint(address, &audio), endpoint(address, &video));
        let session_id = rand::random::<u32>().into();
        let (answer_sdp, negotiated) = negotiate(&offer, endpoints, session_id, 1)
            .map_err(|code| request.response(status(code)))?;

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
            });
            streams.push(StreamStats::new("audio", audio_stream.local.rtp_port));
        }
        if let Some(video_stream) = &negotiated.video {
            plans.push(StreamPlan {
                stats: streams.len(),
                rtp_port: video_stream.local.rtp_port,
                rtcp_port: (!video_stream.rtcp_mux).then_some(video_stream.local.rtcp_port),
                dtmf: None,
            });
            streams.push(StreamStats::new("video", video_stream.local.rtp_port));
        }
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
        let mut ok = request.response(status(200));
        set_to_tag(&mut ok, &local_tag);
        ok.headers
            .push("Contact", self.contact(address, peer.transport));
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer_sdp.to_string().into_bytes();
        info!(call = licence.id(), ringing, "test call answered");
        let mut call = TestCall {
            licence: Some(licence),
            invite: tx,
            local_tag: local_tag.clone(),
            detail,
            dedup,
            session_id,
            version: 1,
            endpoints,
            pending: None,
            confirmed: false,
            _ports: vec![audio, video],
            _media: media,
        };
        let response = if ringing {
            let at = now + RING_TIME;
            call.pending = Some((at, ok));
            self.ring_deadlines.insert((at, call_id.to_owned()));
            let mut ring = request.response(status(180));
            set_to_tag(&mut ring, &local_tag);
            ring.headers
                .push("Contact", self.contact(address, peer.transport));
            ring
        } else {
            ok
        };
        self.by_invite.insert(tx, call_id.to_owned());
        self.calls.insert(call_id.to_owned(), call);
        Ok(response)
    }

    /// A re-INVITE in a test call: a new answer on the same ports (hold, resume, refresh).
    fn reinvite(&mut self, request: &Request) -> Answer {
        let call = self
            .dialog(request)
            .ok_or_else(|| request.response(status(481)))?;
        let offer = sdp_offer(request)?;
        call.version += 1;
        let (answer_sdp, negotiated) =
            negotiate(&offer, call.endpoints, call.session_id, call.version)
                .map_err(|code| request.response(status(code)))?;
        debug!(?negotiated.audio, "re-INVITE answered");
        let mut ok = request.response(status(200));
        ok.headers.push("Allow", ALLOW);
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer_sdp.to_string().into_bytes();
        Ok(ok)
    }

    fn bye(&mut self, request: &Request) -> Response {
        let Some(call_id) = self
            .dialog(request)
            .map(|_| request.call_id().unwrap_or_default().to_owned())
        else {
            return request.response(status(481));
        };
        if let Some(mut call) = self.remove_call(&call_id) {
            finish(&mut call, CallOutcome::Completed);
        }
        request.response(status(200))
    }

    /// INFO with a DTMF body in a test call (application/dtmf-relay or application/dtmf).
    fn info(&mut self, request: &Request, now: Instant) -> Response {
        let Some(call) = self.dialog(request) else {
            return request.response(status(481));
        };
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

    /// The test call a request belongs to: same Call-ID, and our tag in To.
    fn dialog(&mut self, request: &Request) -> Option<&mut TestCall> {
        let call_id = request.call_id().ok()?;
        let to_tag = request.to().ok()?.tag().map(str::to_owned);
        self.calls
            .get_mut(call_id)
            .filter(|call| to_tag.as_deref() == Some(call.local_tag.as_str()))
    }

    /// The address media is offered on: the listener's own address when it is specific; else
    /// the Request-URI's host when that is an address; else loopback for a loopback peer.
    fn media_address(&self, request: &Request, peer: &SipPeer) -> Option<IpAddr> {
        let listener = match peer.transport {
            Transport::Udp => self.local.0,
            Transport::Tcp => self.local.1,
        }?;
        if !listener.ip().is_unspecified() {
            return Some(listener.ip());
        }
        match request.uri.host {
            Host::Ipv4(ip) if !ip.is_unspecified() => return Some(ip.into()),
            Host::Ipv6(ip) if !ip.is_unspecified() => return Some(ip.into()),
            _ => {}
        }
        peer.remote
            .ip()
            .is_loopback()
            .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    fn contact(&self, address: IpAddr, transport: Transport) -> String {
        let port = match transport {
            Transport::Udp => self.local.0,
            Transport::Tcp => self.local.1,
        }
        .map_or(5060, |a| a.port());
        let host = match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        format!("<sip:tcn@{host}:{port};transport={}>", transport.label())
    }
}

fn finish(call: &mut TestCall, outcome: CallOutcome) {
    if let Some(licence) = call.licence.take() {
        licence.finish(outcome);
    }
}

fn status(code: u16) -> StatusCode {
    // Only called with literal codes in 100..=699.
    StatusCode::new(code).unwrap_or(StatusCode::OK)
}

fn refused(request: &Request, refusal: &CallRefusal) -> Response {
    let sip = refusal.sip_status();
    request.response(status(sip.code)).with_reason(format!(
        "{} - {}",
        sip.reason,
        refusal.label().replace('_', " ")
    ))
}

fn has_to_tag(request: &Request) -> bool {
    request.to().is_ok_and(|to| to.tag().is_some())
}

fn set_to_tag(response: &mut Response, tag: &str) {
    if let Ok(mut to) = response.headers.to()
        && to.tag().is_none()
    {
        to.set_tag(tag);
        response.headers.set("To", to.to_string());
    }
}

/// The response to an INVITE built from its CANCEL (same Via, From, To, Call-ID and CSeq
/// number, §9.2), with the INVITE method in CSeq.
fn response_from_invite(cancel: &Request, status: StatusCode) -> Response {
    let mut response = cancel.response(status);
    if let Ok(cseq) = cancel.cseq() {
        response.headers.set("CSeq", format!("{} INVITE", cseq.seq));
    }
    response
}

fn sdp_offer(request: &Request) -> Result<SessionDescription, Response> {
    if request.body.is_empty() {
        // A late offer (no SDP in the INVITE) needs an offer in our 200 and the answer in the
        // ACK; the test service does not do that yet.
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

fn endpoint(address: IpAddr, pair: &PortPair) -> Endpoint {
    Endpoint {
        address,
        rtp_port: pair.rtp(),
        rtcp_port: pair.rtcp(),
    }
}

fn negotiate(
    offer: &SessionDescription,
    (audio, video): (Endpoint, Endpoint),
    session_id: u64,
    version: u64,
) -> Result<(SessionDescription, signaling::sdp::NegotiatedMedia), u16> {
    let caps = LocalCapabilities::default();
    let mut keys = [0u8; 60];
    rand::fill(&mut keys);
    let params = AnswerParams {
        caps: &caps,
        audio,
        video,
        crypto: CryptoPolicy::BestEffort,
        srtp_key_material: keys,
        session_id,
        session_version: version,
        username: "tcn",
    };
    answer(offer, &params).map_err(|e| e.sip_status())
}
