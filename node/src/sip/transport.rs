//! UDP and TCP listeners on the `[sip]` addresses.

use std::net::SocketAddr;
use std::sync::Arc;

use signaling::sip::message::{Frame, FrameError, Message, ParseError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::peer::{SipPeer, Transport};
use crate::config::SipConfig;
use crate::error::StartError;
use crate::metrics::Metrics;

/// What the transports hand to the stack.
// Messages dominate this channel; boxing them would add an allocation to every one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A parsed message.
    Message { message: Message, peer: SipPeer },
    /// A TCP connection opened; `writer` sends bytes on it.
    Opened {
        id: u64,
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// A TCP connection closed.
    Closed { id: u64 },
}

/// Most TCP connections served at once; more are refused at accept.
const MAX_CONNECTIONS: usize = 4096;
/// Bytes queued for one connection before further messages to it are dropped.
const WRITE_QUEUE: usize = 256;

/// The bound SIP sockets.
#[derive(Debug)]
pub(crate) struct Listeners {
    pub(crate) udp: Arc<UdpSocket>,
    pub(crate) tcp: TcpListener,
}

impl Listeners {
    /// Binds `sip.udp` and `sip.tcp`.
    pub(crate) async fn bind(config: &SipConfig) -> Result<Self, StartError> {
        let udp = UdpSocket::bind(config.udp)
            .await
            .map_err(|source| StartError::Bind {
                what: "sip.udp",
                addr: config.udp,
                source,
            })?;
        let tcp = TcpListener::bind(config.tcp)
            .await
            .map_err(|source| StartError::Bind {
                what: "sip.tcp",
                addr: config.tcp,
                source,
            })?;
        Ok(Self {
            udp: Arc::new(udp),
            tcp,
        })
    }

    /// The bound UDP address.
    pub(crate) fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp.local_addr().ok()
    }

    /// The bound TCP address.
    pub(crate) fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp.local_addr().ok()
    }
}

/// Receives datagrams until the stack goes away.
pub(crate) async fn serve_udp(
    socket: Arc<UdpSocket>,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
) {
    let mut buf = vec![0; 65_535];
    loop {
        let (len, from) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // ICMP errors from earlier sends surface here on Linux; keep serving.
                debug!("sip udp receive error: {e}");
                continue;
            }
        };
        let data = &buf[..len];
        // RFC 5626 §3.5.1 keep-alives over UDP are STUN; a bare CRLF is tolerated as well.
        if data.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ')) {
            continue;
        }
        match Message::parse(data) {
            Ok(message) => {
                let peer = SipPeer {
                    transport: Transport::Udp,
                    remote: from,
                    connection: None,
                };
                if inbound
                    .send(Inbound::Message { message, peer })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(error) => {
                reject(&error, &metrics, from);
                if let Some(response) = error.bad_request_response() {
                    let _ = socket.send_to(&response, from).await;
                    metrics.count_sip_response(error.status().code());
                }
            }
        }
    }
}

/// Accepts TCP connections until the stack goes away.
pub(crate) async fn serve_tcp(
    listener: TcpListener,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
) {
    let mut next_id = 1u64;
    let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!("sip tcp accept error: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if inbound.is_closed() {
            return;
        }
        if open.load(std::sync::atomic::Ordering::Relaxed) >= MAX_CONNECTIONS {
            warn!(%remote, "sip tcp: too many connections, refusing one");
            continue;
        }
        let id = next_id;
        next_id += 1;
        let guard = ConnectionGuard::new(Arc::clone(&open));
        tokio::spawn(connection(
            stream,
            remote,
            id,
            inbound.clone(),
            metrics.clone(),
            guard,
        ));
    }
}

struct ConnectionGuard(Arc<std::sync::atomic::AtomicUsize>);

impl ConnectionGuard {
    fn new(open: Arc<std::sync::atomic::AtomicUsize>) -> Self {
        open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(open)
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One TCP connection: frames messages (RFC 3261 §18.3) until EOF or garbage, which closes
/// it after a 400 where one can be built.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    id: u64,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
    _guard: ConnectionGuard,
) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if inbound
        .send(Inbound::Opened {
            id,
            writer: tx.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let write_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let peer = SipPeer {
        transport: Transport::Tcp,
        remote,
        connection: Some(id),
    };
    let mut framer = signaling::sip::message::Framer::new();
    let mut buf = vec![0; 16 * 1024];
    'read: loop {
        let len = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(len) => len,
        };
        framer.push(&buf[..len]);
        while let Some(frame) = framer.next_frame() {
            match frame {
                Ok(Frame::Message(message)) => {
                    let item = Inbound::Message {
                        message,
                        peer: peer.clone(),
                    };
                    if inbound.send(item).await.is_err() {
                        break 'read;
                    }
                }
                // RFC 5626 §3.5.1: answer a double-CRLF ping with a CRLF pong.
                Ok(Frame::Ping) => {
                    let _ = tx.try_send(b"\r\n".to_vec());
                }
                Ok(Frame::Pong) => {}
                Err(frame_error) => {
                    // Every frame error ends the stream; an invalid message is answered first.
                    if let FrameError::Invalid(error) = frame_error {
                        reject(&error, &metrics, remote);
                        if let Some(response) = error.bad_request_response() {
                            let _ = tx.send(response).await;
                            metrics.count_sip_response(error.status().code());
                        }
                    }
                    break 'read;
                }
            }
        }
    }
    // The stack holds a sender to the writer too: it drops it on `Closed`, and then the writer
    // sends what is queued (e.g. the 400) and closes the socket.
    let _ = inbound.send(Inbound::Closed { id }).await;
    drop(tx);
    let _ = write_task.await;
}

fn reject(error: &ParseError, metrics: &Metrics, from: SocketAddr) {
    metrics.count_sip_parse_error();
    debug!(%from, "malformed SIP message: {}", error.reason_phrase());
}
