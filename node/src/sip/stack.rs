//! The driver of the sans-IO transaction layer: one task, one loop.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use signaling::sip::message::{Host, Message, Request};
use signaling::sip::transaction::{Output, TimerConfig, TransactionLayer};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant as TokioInstant;
use tracing::debug;

use super::outbound::Connector;
use super::peer::{SipPeer, Transport};
use super::transport::{Connections, Inbound, Listeners, serve_stream, serve_udp, spawn_outbound};
use super::uas::Uas;
use crate::state::Shared;

/// Inbound messages queued between the transports and the stack.
const INBOUND_QUEUE: usize = 4096;

/// Serves SIP on `listeners` until `stop` turns true; then ends the remaining calls.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listeners: Listeners,
    mut stop: watch::Receiver<bool>,
) {
    let (tx, mut inbound) = mpsc::channel(INBOUND_QUEUE);
    let udp = Arc::clone(&listeners.udp);
    let local = listeners.bound();
    let connections = Connections::default();
    let mut tasks = vec![
        tokio::spawn(serve_udp(
            Arc::clone(&udp),
            tx.clone(),
            shared.metrics.clone(),
        )),
        tokio::spawn(serve_stream(
            listeners.tcp,
            None,
            connections.clone(),
            tx.clone(),
            shared.metrics.clone(),
        )),
    ];
    if let Some((listener, acceptor)) = listeners.tls {
        tasks.push(tokio::spawn(serve_stream(
            listener,
            Some(acceptor),
            connections.clone(),
            tx.clone(),
            shared.metrics.clone(),
        )));
    }
    let config = shared.config();
    // Validated at load; a bundle that vanished since gives a connector that trusts nothing.
    let tls_client = crate::tls::client_config(config.sip.tls_ca.as_deref())
        .or_else(|_| crate::tls::client_config(Some(std::path::Path::new("/dev/null"))))
        .unwrap_or_else(|_| unreachable!("an empty trust store always builds"));
    let mut ending = shared.calls.ending();
    // Gateway calls run in their own tasks and send their legs' commands here.
    let (leg_commands, mut commands) = mpsc::unbounded_channel();

    let mut stack = Stack {
        layer: TransactionLayer::new(TimerConfig {
            t1: config.sip.t1,
            ..TimerConfig::default()
        }),
        udp,
        streams: Streams {
            writers: HashMap::new(),
            by_remote: HashMap::new(),
            connecting: HashMap::new(),
            connector: Connector::new(config.signaling.port_range, tls_client),
            connections,
            inbound: tx,
        },
        uas: Uas::new(Arc::clone(&shared), local, leg_commands),
        shared,
    };
    loop {
        stack.flush().await;
        let deadline = [stack.layer.poll_timeout(), stack.uas.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(TokioInstant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            item = inbound.recv() => match item {
                Some(item) => stack.on_inbound(item),
                None => break,
            },
            Some((call_id, command)) = commands.recv() => {
                stack.uas.command(&call_id, command, &mut stack.layer, now());
            }
            () = sleep => {
                let now = now();
                stack.layer.handle_timeout(now);
                stack.uas.handle_timeout(&mut stack.layer, now);
            }
            Ok(()) = ending.changed() => {
                if *ending.borrow() {
                    stack.uas.end_all(&mut stack.layer, now());
                }
            }
            _ = stop.changed() => break,
        }
        stack
            .shared
            .metrics
            .set_sip_transactions(stack.layer.active());
    }
    stack.uas.end_all(&mut stack.layer, now());
    stack.flush().await;
    for task in tasks {
        task.abort();
    }
}

struct Stack {
    layer: TransactionLayer<SipPeer>,
    udp: Arc<UdpSocket>,
    streams: Streams,
    uas: Uas,
    shared: Arc<Shared>,
}

/// The TCP and TLS connections, accepted or opened by the node, and the ones being opened.
struct Streams {
    writers: HashMap<u64, mpsc::Sender<Vec<u8>>>,
    /// The open connection to each remote address, for reuse (RFC 3261 §18.1.1: a request
    /// goes over an existing connection to the destination when there is one).
    by_remote: HashMap<(Transport, SocketAddr), u64>,
    /// Messages waiting for a connection being opened.
    connecting: HashMap<(Transport, SocketAddr), Vec<Vec<u8>>>,
    connector: Connector,
    connections: Connections,
    /// For the connections the node opens.
    inbound: mpsc::Sender<Inbound>,
}

/// Messages queued for one connection being opened; more are dropped.
const CONNECTING_QUEUE: usize = 64;

impl Stack {
    fn on_inbound(&mut self, item: Inbound) {
        let now = now();
        match item {
            Inbound::Message {
                message: Message::Request(mut request),
                peer,
            } => {
                self.shared
                    .metrics
                    .count_sip_request(request.method.as_str(), peer.transport.label());
                let reply = stamp_via(&mut request, &peer);
                self.layer.handle_request(request, reply, now);
            }
            Inbound::Message {
                message: Message::Response(response),
                ..
            } => self.layer.handle_response(response, now),
            Inbound::Opened { peer, writer } => self.streams.opened(&peer, writer),
            Inbound::Closed { peer } => self.streams.closed(&peer),
            Inbound::ConnectFailed { transport, remote } => {
                if let Some(queued) = self.streams.connecting.remove(&(transport, remote)) {
                    debug!(%remote, dropped = queued.len(), "sip: messages for a failed connection dropped");
                }
            }
        }
    }

    /// Sends what the layer asks for and hands its events to the transaction user, until both
    /// are quiet (handling an event may produce more output).
    async fn flush(&mut self) {
        while let Some(output) = self.layer.poll_output() {
            match output {
                Output::Transmit { peer, bytes } => self.transmit(&peer, &bytes).await,
                Output::Event(event) => {
                    self.uas.on_event(event, &mut self.layer, now());
                }
            }
        }
    }

    async fn transmit(&mut self, peer: &SipPeer, bytes: &[u8]) {
        match peer.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.send_to(bytes, peer.remote).await {
                    debug!(remote = %peer.remote, "sip udp send failed: {e}");
                }
            }
            Transport::Tcp | Transport::Tls => {
                self.streams
                    .send(peer, bytes.to_vec(), &self.shared.metrics);
            }
        }
    }
}

impl Streams {
    fn opened(&mut self, peer: &SipPeer, writer: mpsc::Sender<Vec<u8>>) {
        let Some(id) = peer.connection else {
            return;
        };
        let key = (peer.transport, peer.remote);
        for bytes in self.connecting.remove(&key).into_iter().flatten() {
            let _ = writer.try_send(bytes);
        }
        self.by_remote.insert(key, id);
        self.writers.insert(id, writer);
    }

    fn closed(&mut self, peer: &SipPeer) {
        if let Some(id) = peer.connection {
            self.writers.remove(&id);
            let key = (peer.transport, peer.remote);
            if self.by_remote.get(&key) == Some(&id) {
                self.by_remote.remove(&key);
            }
        }
    }

    /// Sends on the peer's connection; else on any open connection to its address; else opens
    /// one (RFC 3261 §18.2.2: a response whose connection is gone goes to a new one).
    fn send(&mut self, peer: &SipPeer, bytes: Vec<u8>, metrics: &crate::metrics::Metrics) {
        let key = (peer.transport, peer.remote);
        let writer = peer
            .connection
            .and_then(|id| self.writers.get(&id))
            .or_else(|| self.by_remote.get(&key).and_then(|id| self.writers.get(id)));
        if let Some(writer) = writer {
            if writer.try_send(bytes).is_err() {
                debug!(remote = %peer.remote, transport = peer.transport.label(), "sip connection full, message dropped");
            }
            return;
        }
        if let Some(queue) = self.connecting.get_mut(&key) {
            if queue.len() < CONNECTING_QUEUE {
                queue.push(bytes);
            }
            return;
        }
        self.connecting.insert(key, vec![bytes]);
        spawn_outbound(
            self.connector.clone(),
            self.connections.clone(),
            peer.transport,
            peer.remote,
            self.inbound.clone(),
            metrics.clone(),
        );
    }
}

/// The stack's clock: tokio's, so that tests can run session timers on a paused clock; the
/// same instant as `std::time::Instant::now()` otherwise.
fn now() -> std::time::Instant {
    TokioInstant::now().into_std()
}

/// RFC 3261 §18.2.1 and RFC 3581: records in the top Via where the request really came from,
/// so that responses (which copy the Via) can be routed back, and returns where to send them
/// (§18.2.2: over UDP to the source address, and to the source port when `rport` was asked
/// for, else to the Via port).
fn stamp_via(request: &mut Request, peer: &SipPeer) -> SipPeer {
    let Ok(mut vias) = request.headers.vias() else {
        return peer.clone();
    };
    let Some(top) = vias.first_mut() else {
        return peer.clone();
    };
    let source: IpAddr = peer.remote.ip();
    if top.host != Host::from(source) {
        top.received = Some(source);
    }
    let rport = top.rport.is_some();
    if rport {
        top.rport = Some(Some(peer.remote.port()));
        top.received = Some(source);
    }
    let port = if rport || peer.transport != Transport::Udp {
        peer.remote.port()
    } else {
        top.port.unwrap_or(5060)
    };
    request.headers.remove("Via");
    for via in vias.iter().rev() {
        request.headers.prepend("Via", via.to_string());
    }
    SipPeer {
        remote: SocketAddr::new(source, port),
        ..peer.clone()
    }
}
