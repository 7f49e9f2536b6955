//! The transaction user: what the node answers to each request.
//!
//! OPTIONS (load-balancer probes), REGISTER (the registrar, with digest), and INVITE through
//! admission and routing; a target the node cannot serve yet (a SIP target by DNS name) is
//! answered 480. Calls to the test aliases, to SIP targets, into Meet and to a Virtual
//! Reception (a call into Meet that asks for the meeting ID first), and their in-dialog
//! requests, go to the [`CallTable`], and so does a MESSAGE outside any dialog (pager mode)
//! from a caller in a call into Meet: its chat. Refusals use the one mapping in
//! `crate::refusal`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use signaling::digest::{Algorithm, AuthError, Authenticator, Credentials, DEFAULT_NONCE_LIFETIME};
use signaling::sip::message::{Host, Method, NameAddr, Request, Response, Scheme};
use signaling::sip::registrar::{Registrar, RegistrarConfig};
use signaling::sip::transaction::{TransactionLayer, TxEvent, TxId};
use tracing::{debug, info, warn};

use super::bridge::{self, NewBridge};
use super::call_table::CallTable;
use super::meet_far_end::{self, Dialled, NewMeetCall};
use super::peer::{SipPeer, Transport};
use super::responses::{
    ACCEPT, ALLOW, SUPPORTED, cancelled_invite_response, refused, respond, status,
};
use super::test_service::{self, NewCall};
use super::transport::SipBound;
use crate::call::gateway::LegCommand;
use crate::call::task::LegCommands;
use crate::call_routing::RouteRequest;
use crate::state::Shared;
use routing::router::Outcome;
use routing::rules::{SipTransport, Target};

/// Extensions a request may require of us (RFC 3261 §8.2.2.3).
const UNDERSTOOD: [&str; 1] = ["timer"];

/// A request-handling outcome that ends in a response.
type Answer = Result<Response, Response>;

/// The node's SIP transaction user.
pub(crate) struct Uas {
    shared: Arc<Shared>,
    /// Bound listener addresses, for Contact headers and the SDP address.
    local: SipBound,
    calls: CallTable,
    /// Handed to each gateway call's task, for its leg's commands.
    commands: LegCommands,
    registrar: Registrar,
    authenticator: Authenticator,
}

impl Uas {
    pub(crate) fn new(shared: Arc<Shared>, local: SipBound, commands: LegCommands) -> Self {
        let sip = shared.config().sip;
        // Validated at load: every name is known.
        let algorithms: Vec<Algorithm> = sip
            .digest_algorithms
            .iter()
            .filter_map(|name| Algorithm::from_name(name))
            .collect();
        Self {
            calls: CallTable::new(Arc::clone(&shared)),
            commands,
            shared,
            local,
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
                // `None`: a new call, answered through its leg (now, or when its far end answers).
                if let Some(Ok(response) | Err(response)) =
                    self.on_request(tx, &request, &peer, layer, now)
                {
                    respond(&self.shared, layer, tx, response, now);
                }
            }
            TxEvent::Cancel {
                cancel,
                invite,
                request,
            } => {
                respond(
                    &self.shared,
                    layer,
                    cancel,
                    request.response(status(200)),
                    now,
                );
                if layer.is_answered(invite) == Some(false) {
                    // §9.2: the pending INVITE is answered 487.
                    let local_tag = self.calls.on_cancel(invite, layer, now);
                    let terminated = cancelled_invite_response(&request, local_tag.as_deref());
                    respond(&self.shared, layer, invite, terminated, now);
                }
            }
            TxEvent::Ack { invite, .. } => {
                if let Some(invite) = invite {
                    self.calls.on_ack(invite, layer, now);
                }
            }
            TxEvent::AckTimeout { tx } => self.calls.on_ack_timeout(tx, layer, now),
            TxEvent::Response { tx, response } => {
                if !self.calls.on_response(tx, &response, layer, now) {
                    debug!(
                        status = response.status.code(),
                        "response to no request of ours"
                    );
                }
            }
            TxEvent::Timeout { tx } => {
                self.calls.on_timeout(tx, layer, now);
            }
        }
    }

    /// A command from a gateway call's task for its leg.
    pub(crate) fn command(
        &mut self,
        call_id: &str,
        command: LegCommand,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) {
        self.calls.command(call_id, command, layer, now);
    }

    /// When the next ring or session timer is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.calls.poll_timeout()
    }

    /// Runs what is due.
    pub(crate) fn handle_timeout(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        self.calls.handle_timeout(layer, now);
    }

    /// Ends every call (drain timeout or shutdown), each with a BYE carrying a Reason.
    pub(crate) fn end_all(&mut self, layer: &mut TransactionLayer<SipPeer>, now: Instant) {
        self.calls.end_all(layer, now);
    }

    fn on_request(
        &mut self,
        tx: TxId,
        request: &Request,
        peer: &SipPeer,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Option<Answer> {
        // RFC 3261 §8.2.2.3: extensions we do not support are refused with 420 + Unsupported.
        let unsupported: Vec<&str> = request
            .headers
            .get_all("Require")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .filter(|tag| !UNDERSTOOD.iter().any(|u| u.eq_ignore_ascii_case(tag)))
            .collect();
        if !unsupported.is_empty() {
            let mut response = request.response(status(420));
            response.headers.push("Unsupported", unsupported.join(", "));
            return Some(Err(response));
        }
        let call_id = request.call_id().unwrap_or_default();
        let tagged = has_to_tag(request);
        let answer = match request.method {
            Method::Options => Ok(self.options(request)),
            Method::Register => self.register(request, now),
            _ if tagged && self.calls.has(call_id) => self.calls.in_dialog(request, layer, now),
            // §12.2.2: an in-dialog request for a dialog we do not have.
            _ if tagged => Err(request.response(status(481))),
            Method::Invite => return self.invite(tx, request, peer, layer, now),
            Method::Bye | Method::Info | Method::Update => Err(request.response(status(481))),
            // RFC 3428 pager mode: chat from a caller in a call into Meet (baresip sends it
            // outside the dialog); nobody else here receives messages.
            Method::Message => match self.calls.message_outside(request, peer, layer, now) {
                Some(answer) => answer,
                None => Err(request
                    .response(status(404))
                    .with_reason("Not Found - MESSAGE is taken inside calls only")),
            },
            Method::Prack
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
        };
        Some(answer)
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

    /// OPTIONS: the load balancer's probe (RFC 3261 §11). 503 while draining or full: while
    /// a gateway call would be refused (`max_calls`, the licence pool, the CPU), with the
    /// `Retry-After` such a call would get.
    fn options(&self, request: &Request) -> Response {
        let full = self.shared.calls.usage().full;
        let mut response = request.response(status(if full.is_some() { 503 } else { 200 }));
        if let Some(seconds) = full.and_then(|refusal| refusal.retry_after()) {
            response.headers.push("Retry-After", seconds.to_string());
        }
        response.headers.push("Allow", ALLOW);
        response.headers.push("Accept", ACCEPT);
        response.headers.push("Supported", SUPPORTED);
        response
    }

    /// A new INVITE: the test services, else routing. `None` when the call is bridged to a
    /// SIP target and its answer comes later.
    fn invite(
        &mut self,
        tx: TxId,
        request: &Request,
        peer: &SipPeer,
        layer: &mut TransactionLayer<SipPeer>,
        now: Instant,
    ) -> Option<Answer> {
        // §8.2.2.1: a Request-URI scheme we do not route.
        if !matches!(request.uri.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) {
            return Some(Err(request.response(status(416))));
        }
        let Ok(call_id) = request.call_id().map(str::to_owned) else {
            return Some(Err(request.response(status(400))));
        };
        let user = request.uri.user.clone().unwrap_or_default();
        let sip = self.shared.config().sip;
        let ringing = !sip.test_ring_alias.is_empty() && user == sip.test_ring_alias;
        if (!sip.test_alias.is_empty() && user == sip.test_alias) || ringing {
            let Some(address) = self.media_address(request, peer) else {
                warn!("no address to offer media on: set the sip listeners to a specific address");
                return Some(Err(request.response(status(500))));
            };
            let new = NewCall {
                tx,
                request,
                peer,
                ringing,
                address,
                contact: self.contact(address, peer.transport),
            };
            return match test_service::answer(&self.shared, new, now) {
                Ok(call) => {
                    self.calls.insert(call_id, call, Vec::new(), layer, now);
                    None
                }
                Err(response) => Some(Err(response)),
            };
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
        let lookup = match crate::call_routing::route(&self.shared, &route, now) {
            Err(refusal) => return Some(Err(refused(request, &refusal))),
            Ok(lookup) => lookup,
        };
        if let Outcome::Routed { decision, .. } = &lookup.outcome
            && let Target::Sip {
                proxy: Some(proxy),
                transport,
                ..
            } = &decision.target
        {
            let Some(address) = self.media_address(request, peer) else {
                return Some(Err(request.response(status(500))));
            };
            let callee_transport = match transport {
                SipTransport::Udp => Transport::Udp,
                SipTransport::Tcp => Transport::Tcp,
                SipTransport::Tls => Transport::Tls,
            };
            let new = NewBridge {
                tx,
                request,
                peer,
                alias: &decision.alias,
                proxy,
                transport: *transport,
                address,
                caller_contact: self.contact(address, peer.transport),
                callee_contact: self.contact(address, callee_transport),
            };
            return match bridge::start(&self.shared, new) {
                Ok((call, first)) => {
                    self.calls.insert(call_id, call, first, layer, now);
                    None
                }
                Err(response) => Some(Err(response)),
            };
        }
        if let Outcome::Routed { decision, .. } = &lookup.outcome
            && let Target::Meet { access_token, .. } = &decision.target
        {
            let Some(address) = self.media_address(request, peer) else {
                return Some(Err(request.response(status(500))));
            };
            let new = NewMeetCall {
                tx,
                request,
                peer,
                address,
                contact: self.contact(address, peer.transport),
                target: Dialled::Meet {
                    alias: &decision.alias,
                    access_token,
                },
            };
            return match meet_far_end::start(&self.shared, new, &self.commands) {
                Ok(call) => {
                    self.calls.insert(call_id, call, Vec::new(), layer, now);
                    None
                }
                Err(response) => Some(Err(response)),
            };
        }
        if let Outcome::Reception { name } = &lookup.outcome
            && let Some(config) = self.shared.router().reception(name).cloned()
        {
            // Answered at once on the gateway call's media; the meeting ID comes by DTMF.
            let Some(address) = self.media_address(request, peer) else {
                return Some(Err(request.response(status(500))));
            };
            let new = NewMeetCall {
                tx,
                request,
                peer,
                address,
                contact: self.contact(address, peer.transport),
                target: Dialled::Reception {
                    config,
                    registered: route.registered,
                },
            };
            return match meet_far_end::start(&self.shared, new, &self.commands) {
                Ok(call) => {
                    self.calls.insert(call_id, call, Vec::new(), layer, now);
                    None
                }
                Err(response) => Some(Err(response)),
            };
        }
        info!(?lookup.outcome, "call routed, but its target cannot be served yet");
        Some(Err(request.response(status(480)).with_reason(
            "Temporarily Unavailable - target not served yet",
        )))
    }

    /// The address media is offered on: the listener's own address when it is specific; else
    /// the Request-URI's host when that is an address; else loopback for a loopback peer.
    fn media_address(&self, request: &Request, peer: &SipPeer) -> Option<IpAddr> {
        let listener = self.local.of(peer.transport)?;
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

    fn contact(&self, address: IpAddr, transport: Transport) -> NameAddr {
        let port = self.local.of(transport).map_or(5060, |a| a.port());
        let host = match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let text = format!("<sip:tcn@{host}:{port};transport={}>", transport.label());
        text.parse()
            .unwrap_or_else(|_| unreachable!("a Contact we print parses: {text}"))
    }
}

fn has_to_tag(request: &Request) -> bool {
    request.to().is_ok_and(|to| to.tag().is_some())
}
