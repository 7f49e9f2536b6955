//! Matching messages to transactions, the timer schedule, and the output queue.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::time::Instant;

use super::client::ClientMachine;
use super::server::ServerMachine;
use super::timers::TimerConfig;
use crate::sip::message::{Headers, Method, Request, Response, StatusCode};

/// RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with this.
const MAGIC_COOKIE: &str = "z9hG4bK";

/// Where a message came from or goes to. The node's transport type implements it; the layer
/// only stores and returns it, and asks whether its transport is reliable (TCP, TLS), which
/// switches retransmissions off (§17.1.1.2, §17.2.1).
pub trait Peer: Clone + fmt::Debug + PartialEq {
    /// True for TCP, TLS and other reliable transports.
    fn is_reliable(&self) -> bool;
}

/// A transaction's identity, for the transaction user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(u64);

/// What the layer asks its driver to do.
// Outputs live in a short queue that the driver drains at once; boxing the event would cost
// an allocation per message for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Output<P> {
    /// Send these bytes to `peer`.
    Transmit {
        /// The destination.
        peer: P,
        /// A complete SIP message.
        bytes: Vec<u8>,
    },
    /// Something the transaction user must know.
    Event(TxEvent<P>),
}

/// Events for the transaction user.
#[derive(Debug)]
pub enum TxEvent<P> {
    /// A new request (not a retransmission, not an ACK, not a CANCEL): answer it with
    /// [`TransactionLayer::respond`]. INVITEs have already been answered `100 Trying`.
    Request {
        /// The server transaction.
        tx: TxId,
        /// The request.
        request: Request,
        /// Where it came from.
        peer: P,
    },
    /// A CANCEL for a pending INVITE (§9.2): answer `cancel` (200) and, if it has no final
    /// response yet, `invite` (487).
    Cancel {
        /// The CANCEL's server transaction.
        cancel: TxId,
        /// The INVITE's server transaction.
        invite: TxId,
        /// The CANCEL request.
        request: Request,
    },
    /// An ACK outside any non-2xx INVITE transaction: for a 2xx we sent (`invite` names its
    /// transaction, which stops retransmitting the 2xx), or stray (`invite` is `None`).
    Ack {
        /// The INVITE transaction whose 2xx this ACK confirms.
        invite: Option<TxId>,
        /// The ACK (it may carry an SDP answer).
        request: Request,
        /// Where it came from.
        peer: P,
    },
    /// A response to a request we sent (provisional, final, or a retransmitted 2xx to INVITE).
    Response {
        /// The client transaction.
        tx: TxId,
        /// The response.
        response: Response,
    },
    /// A request we sent got no final response in time (Timer B or F): act as on a 408.
    Timeout {
        /// The client transaction.
        tx: TxId,
    },
    /// A final response to an INVITE was never ACKed (Timer H, or Timer L for a 2xx): the call
    /// controller should tear the call down.
    AckTimeout {
        /// The INVITE server transaction.
        tx: TxId,
    },
}

/// The transaction user asked for something the layer cannot do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// No such transaction (it ended, or never existed).
    #[error("no such transaction")]
    UnknownTransaction,
    /// The transaction already sent its final response.
    #[error("the transaction already sent its final response")]
    AlreadyAnswered,
    /// A request to send has no top Via with an RFC 3261 branch.
    #[error("the request has no Via branch starting with z9hG4bK")]
    MissingBranch,
    /// ACKs are not transactions; send them with [`TransactionLayer::send_stateless`].
    #[error("ACK is not sent in a transaction")]
    AckNotATransaction,
    /// A transaction with the same key is already running.
    #[error("a transaction with this branch is already running")]
    Duplicate,
}

/// §17.2.3 server matching key: branch, sent-by, and method (ACK matches INVITE).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ServerKey {
    branch: String,
    sent_by: String,
    method: Method,
}

/// §17.1.3 client matching key: branch and CSeq method.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ClientKey {
    branch: String,
    method: Method,
}

#[derive(Debug)]
struct ClientTx<P> {
    key: ClientKey,
    peer: P,
    request: Request,
    machine: ClientMachine,
    scheduled: Option<Instant>,
}

#[derive(Debug)]
struct ServerTx<P> {
    key: ServerKey,
    peer: P,
    invite: bool,
    /// Call-ID and CSeq number of an INVITE, to match the ACK for its 2xx.
    dialog_key: Option<(String, u32)>,
    machine: ServerMachine,
    scheduled: Option<Instant>,
}

/// All transactions of one SIP stack.
#[derive(Debug)]
pub struct TransactionLayer<P> {
    timers: TimerConfig,
    next_id: u64,
    clients: HashMap<TxId, ClientTx<P>>,
    client_index: HashMap<ClientKey, TxId>,
    servers: HashMap<TxId, ServerTx<P>>,
    server_index: HashMap<ServerKey, TxId>,
    /// INVITE server transactions that sent a 2xx, by (Call-ID, CSeq): the ACK for a 2xx has
    /// a new branch (§17.1.1.3), so it is matched by dialog instead.
    accepted: HashMap<(String, u32), TxId>,
    schedule: BTreeSet<(Instant, TxId)>,
    outputs: VecDeque<Output<P>>,
    stray_responses: u64,
}

impl<P: Peer> TransactionLayer<P> {
    /// An empty layer with these timer values.
    pub fn new(timers: TimerConfig) -> Self {
        Self {
            timers,
            next_id: 1,
            clients: HashMap::new(),
            client_index: HashMap::new(),
            servers: HashMap::new(),
            server_index: HashMap::new(),
            accepted: HashMap::new(),
            schedule: BTreeSet::new(),
            outputs: VecDeque::new(),
            stray_responses: 0,
        }
    }

    /// A request arrived from `peer`.
    pub fn handle_request(&mut self, request: Request, peer: P, now: Instant) {
        let Some(key) = server_key(&request) else {
            // No usable Via: the message layer refuses such requests before they get here.
            return;
        };
        if let Some(&id) = self.server_index.get(&key) {
            self.on_server_match(id, &request, now);
            // Retransmissions, and the ACK for our non-2xx final (§17.2.1), end here.
            return;
        }
        match request.method {
            Method::Ack => self.on_unmatched_ack(request, peer, now),
            Method::Cancel => self.on_cancel(key, request, peer, now),
            _ => self.on_new_request(key, request, peer, now),
        }
    }

    /// A response arrived.
    pub fn handle_response(&mut self, response: Response, now: Instant) {
        let Some(key) = client_key(&response) else {
            self.stray_responses += 1;
            return;
        };
        let Some(&id) = self.client_index.get(&key) else {
            // §17.1.3 / §18.1.2: a response matching no transaction is dropped here.
            self.stray_responses += 1;
            return;
        };
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let status = response.status.code();
        let step = tx
            .machine
            .on_response(status, now, || ack_for(&tx.request, &response));
        queue_transmit(&mut self.outputs, &tx.peer, step.transmit);
        if step.deliver {
            self.outputs
                .push_back(Output::Event(TxEvent::Response { tx: id, response }));
        }
        self.reschedule_client(id);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.schedule.first() {
            if at > now {
                break;
            }
            self.schedule.pop_first();
            if self.clients.contains_key(&id) {
                self.client_timer(id, now);
            } else if self.servers.contains_key(&id) {
                self.server_timer(id, now);
            }
        }
    }

    /// Sends a request in a new client transaction. Its top Via must carry an RFC 3261 branch.
    pub fn send_request(
        &mut self,
        request: Request,
        peer: P,
        now: Instant,
    ) -> Result<TxId, TxError> {
        if request.method == Method::Ack {
            return Err(TxError::AckNotATransaction);
        }
        let branch = request
            .top_via()
            .ok()
            .and_then(|via| via.branch)
            .filter(|b| b.starts_with(MAGIC_COOKIE))
            .ok_or(TxError::MissingBranch)?;
        let key = ClientKey {
            branch,
            method: request.method.clone(),
        };
        if self.client_index.contains_key(&key) {
            return Err(TxError::Duplicate);
        }
        let id = self.new_id();
        let bytes = request.to_bytes();
        let machine = ClientMachine::new(
            request.method == Method::Invite,
            bytes.clone(),
            peer.is_reliable(),
            self.timers,
            now,
        );
        self.outputs.push_back(Output::Transmit {
            peer: peer.clone(),
            bytes,
        });
        self.client_index.insert(key.clone(), id);
        self.clients.insert(
            id,
            ClientTx {
                key,
                peer,
                request,
                machine,
                scheduled: None,
            },
        );
        self.reschedule_client(id);
        Ok(id)
    }

    /// Sends a message outside any transaction: the ACK for a 2xx (§13.2.2.4), or a response
    /// sent statelessly (e.g. a 400 to a request that could not be parsed).
    pub fn send_stateless(&mut self, bytes: Vec<u8>, peer: P) {
        self.outputs.push_back(Output::Transmit { peer, bytes });
    }

    /// Sends `response` in server transaction `tx`.
    pub fn respond(&mut self, tx: TxId, response: Response, now: Instant) -> Result<(), TxError> {
        let server = self
            .servers
            .get_mut(&tx)
            .ok_or(TxError::UnknownTransaction)?;
        let status = response.status.code();
        let step = server
            .machine
            .on_send(status, response.to_bytes(), now)
            .map_err(|_| TxError::AlreadyAnswered)?;
        if server.invite
            && (200..300).contains(&status)
            && let Some(dialog) = server.dialog_key.clone()
        {
            self.accepted.insert(dialog, tx);
        }
        queue_transmit(&mut self.outputs, &server.peer, step.transmit);
        self.reschedule_server(tx);
        Ok(())
    }

    /// Whether server transaction `tx` has sent a final response.
    pub fn is_answered(&self, tx: TxId) -> Option<bool> {
        self.servers.get(&tx).map(|s| s.machine.answered())
    }

    /// The next output, if any. Drain it after every `handle_*`, `send_*` and `respond` call.
    pub fn poll_output(&mut self) -> Option<Output<P>> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.schedule.first().map(|&(at, _)| at)
    }

    /// Transactions in progress (client and server), for `tcn_sip_transactions_active`.
    pub fn active(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// Responses that matched no transaction, since the start.
    pub fn stray_responses(&self) -> u64 {
        self.stray_responses
    }

    fn new_id(&mut self) -> TxId {
        let id = TxId(self.next_id);
        self.next_id += 1;
        id
    }

    fn on_server_match(&mut self, id: TxId, request: &Request, now: Instant) {
        let Some(server) = self.servers.get_mut(&id) else {
            return;
        };
        let step = if request.method == Method::Ack {
            server.machine.on_ack(now)
        } else {
            server.machine.on_retransmission()
        };
        queue_transmit(&mut self.outputs, &server.peer, step.transmit);
        self.reschedule_server(id);
    }

    fn on_unmatched_ack(&mut self, request: Request, peer: P, now: Instant) {
        let invite = dialog_key(&request).and_then(|key| self.accepted.get(&key).copied());
        if let Some(id) = invite {
            if let Some(server) = self.servers.get_mut(&id) {
                server.machine.on_ack(now);
            }
            self.reschedule_server(id);
        }
        self.outputs.push_back(Output::Event(TxEvent::Ack {
            invite,
            request,
            peer,
        }));
    }

    fn on_cancel(&mut self, key: ServerKey, request: Request, peer: P, now: Instant) {
        let invite_key = ServerKey {
            method: Method::Invite,
            ..key.clone()
        };
        let cancel = self.new_server(key, false, None, peer);
        match self.server_index.get(&invite_key).copied() {
            Some(invite) => self.outputs.push_back(Output::Event(TxEvent::Cancel {
                cancel,
                invite,
                request,
            })),
            None => {
                // §9.2: no matching transaction: 481.
                let response = request.response(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
                // The transaction was just created and has sent nothing, so this cannot fail.
                let _ = self.respond(cancel, response, now);
            }
        }
    }

    fn on_new_request(&mut self, key: ServerKey, request: Request, peer: P, now: Instant) {
        let invite = request.method == Method::Invite;
        let dialog = if invite { dialog_key(&request) } else { None };
        let id = self.new_server(key, invite, dialog, peer.clone());
        if invite {
            // §17.2.1: answer 100 Trying straight away.
            let trying = request.response(StatusCode::TRYING);
            // The transaction was just created and has sent nothing, so this cannot fail.
            let _ = self.respond(id, trying, now);
        }
        self.outputs.push_back(Output::Event(TxEvent::Request {
            tx: id,
            request,
            peer,
        }));
    }

    fn new_server(
        &mut self,
        key: ServerKey,
        invite: bool,
        dialog_key: Option<(String, u32)>,
        peer: P,
    ) -> TxId {
        let id = self.new_id();
        let machine = ServerMachine::new(invite, peer.is_reliable(), self.timers);
        self.server_index.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerTx {
                key,
                peer,
                invite,
                dialog_key,
                machine,
                scheduled: None,
            },
        );
        id
    }

    fn client_timer(&mut self, id: TxId, now: Instant) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        tx.scheduled = None;
        let step = tx.machine.on_timer(now);
        queue_transmit(&mut self.outputs, &tx.peer, step.transmit);
        if step.timed_out {
            self.outputs
                .push_back(Output::Event(TxEvent::Timeout { tx: id }));
        }
        self.reschedule_client(id);
    }

    fn server_timer(&mut self, id: TxId, now: Instant) {
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        tx.scheduled = None;
        let step = tx.machine.on_timer(now);
        queue_transmit(&mut self.outputs, &tx.peer, step.transmit);
        if step.ack_timeout {
            self.outputs
                .push_back(Output::Event(TxEvent::AckTimeout { tx: id }));
        }
        self.reschedule_server(id);
    }

    /// Moves a client transaction's schedule entry to its new deadline, or removes the
    /// transaction once terminated.
    fn reschedule_client(&mut self, id: TxId) {
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        if tx.machine.terminated() {
            move_deadline(&mut self.schedule, &mut tx.scheduled, id, None);
            let key = tx.key.clone();
            self.clients.remove(&id);
            self.client_index.remove(&key);
            return;
        }
        move_deadline(
            &mut self.schedule,
            &mut tx.scheduled,
            id,
            tx.machine.deadline(),
        );
    }

    fn reschedule_server(&mut self, id: TxId) {
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        if tx.machine.terminated() {
            move_deadline(&mut self.schedule, &mut tx.scheduled, id, None);
            let key = tx.key.clone();
            let dialog = tx.dialog_key.clone();
            self.servers.remove(&id);
            self.server_index.remove(&key);
            if let Some(dialog) = dialog
                && self.accepted.get(&dialog) == Some(&id)
            {
                self.accepted.remove(&dialog);
            }
            return;
        }
        move_deadline(
            &mut self.schedule,
            &mut tx.scheduled,
            id,
            tx.machine.deadline(),
        );
    }
}

/// Queues `bytes` for `peer`, when there are any.
fn queue_transmit<P: Clone>(outputs: &mut VecDeque<Output<P>>, peer: &P, bytes: Option<Vec<u8>>) {
    if let Some(bytes) = bytes {
        outputs.push_back(Output::Transmit {
            peer: peer.clone(),
            bytes,
        });
    }
}

/// Moves a transaction's entry in the timer schedule from `scheduled` to `deadline`.
fn move_deadline(
    schedule: &mut BTreeSet<(Instant, TxId)>,
    scheduled: &mut Option<Instant>,
    id: TxId,
    deadline: Option<Instant>,
) {
    if let Some(old) = scheduled.take() {
        schedule.remove(&(old, id));
    }
    if let Some(at) = deadline {
        *scheduled = Some(at);
        schedule.insert((at, id));
    }
}

/// §17.2.3. RFC 2543 requests (no magic cookie) fall back to a key made of the Call-ID,
/// CSeq number, From tag and the whole top Via, which identifies the same transaction.
fn server_key(request: &Request) -> Option<ServerKey> {
    let via = request.top_via().ok()?;
    let sent_by = match via.port {
        Some(port) => format!("{}:{port}", via.host).to_ascii_lowercase(),
        None => via.host.to_string().to_ascii_lowercase(),
    };
    let method = match request.method {
        Method::Ack => Method::Invite,
        ref other => other.clone(),
    };
    let branch = match via.branch {
        Some(branch) if branch.starts_with(MAGIC_COOKIE) => branch,
        _ => {
            let cseq = request.cseq().ok()?.seq;
            let from_tag = request.from().ok().and_then(|f| f.tag().map(str::to_owned));
            format!(
                "rfc2543;{};{cseq};{};{via}",
                request.call_id().ok()?,
                from_tag.unwrap_or_default()
            )
        }
    };
    Some(ServerKey {
        branch,
        sent_by,
        method,
    })
}

/// §17.1.3: the top Via branch and the CSeq method.
fn client_key(response: &Response) -> Option<ClientKey> {
    let branch = response.top_via().ok()?.branch?;
    let method = response.cseq().ok()?.method;
    Some(ClientKey { branch, method })
}

/// (Call-ID, CSeq number) of an INVITE or of the ACK for its 2xx.
fn dialog_key(request: &Request) -> Option<(String, u32)> {
    Some((request.call_id().ok()?.to_owned(), request.cseq().ok()?.seq))
}

/// The ACK for a non-2xx final response (§17.1.1.3): the original Request-URI, top Via,
/// From, Call-ID, CSeq number and Route headers; the To of the response.
fn ack_for(request: &Request, response: &Response) -> Vec<u8> {
    let mut headers = Headers::default();
    if let Some(via) = request.headers.get("Via") {
        headers.push("Via", via);
    }
    for name in ["From", "Call-ID"] {
        if let Some(value) = request.headers.get(name) {
            headers.push(name, value);
        }
    }
    if let Some(to) = response.headers.get("To") {
        headers.push("To", to);
    }
    if let Ok(cseq) = request.cseq() {
        headers.push("CSeq", format!("{} ACK", cseq.seq));
    }
    for route in request.headers.get_all("Route") {
        headers.push("Route", route);
    }
    headers.push("Max-Forwards", "70");
    Request {
        method: Method::Ack,
        uri: request.uri.clone(),
        headers,
        body: Vec::new(),
    }
    .to_bytes()
}
