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

use super::peer::{SipPeer, Transport};
use super::transport::{Inbound, Listeners, serve_tcp, serve_udp};
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
    let local = (listeners.udp_addr(), listeners.tcp_addr());
    let udp_task = tokio::spawn(serve_udp(
        Arc::clone(&udp),
        tx.clone(),
        shared.metrics.clone(),
    ));
    let tcp_task = tokio::spawn(serve_tcp(listeners.tcp, tx, shared.metrics.clone()));
    let mut ending = shared.calls.ending();

    let mut stack = Stack {
        layer: TransactionLayer::new(TimerConfig::default()),
        udp,
        connections: HashMap::new(),
        uas: Uas::new(Arc::clone(&shared), local),
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
            () = sleep => {
                let now = std::time::Instant::now();
                stack.layer.handle_timeout(now);
                stack.uas.handle_timeout(&mut stack.layer, now);
            }
            Ok(()) = ending.changed() => {
                if *ending.borrow() {
                    stack.uas.end_all(&mut stack.layer, std::time::Instant::now());
                }
            }
            _ = stop.changed() => break,
        }
        stack
            .shared
            .metrics
            .set_sip_transactions(stack.layer.active());
    }
    stack
        .uas
        .end_all(&mut stack.layer, std::time::Instant::now());
    stack.flush().await;
    udp_task.abort();
    tcp_task.abort();
}

struct Stack {
    layer: TransactionLayer<SipPeer>,
    udp: Arc<UdpSocket>,
    connections: HashMap<u64, mpsc::Sender<Vec<u8>>>,
    uas: Uas,
    shared: Arc<Shared>,
}

impl Stack {
    fn on_inbound(&mut self, item: Inbound) {
        let now = std::time::Instant::now();
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
            Inbound::Opened { id, writer } => {
                self.connections.insert(id, writer);
            }
            Inbound::Closed { id } => {
                self.connections.remove(&id);
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
                    self.uas
                        .on_event(event, &mut self.layer, std::time::Instant::now());
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
            Transport::Tcp => {
                let sent = peer
                    .connection
                    .and_then(|id| self.connections.get(&id))
                    .is_some_and(|writer| writer.try_send(bytes.to_vec()).is_ok());
                if !sent {
                    debug!(remote = %peer.remote, "sip tcp: connection gone or full, message dropped");
                }
            }
        }
    }
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
