//! UDP, TCP and TLS listeners on the `[sip]` addresses.
//!
//! TCP and TLS connections share one reader ([`connection`]): a TLS connection is a TCP one
//! with a rustls session in between, set up with the certificate from `sip.tls_cert`.

use std::net::SocketAddr;
use std::sync::Arc;

use signaling::sip::message::{Frame, FrameError, Message, ParseError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::ServerName;
use tracing::{debug, warn};

use super::outbound::{self, Connector};
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
    /// A TCP or TLS connection opened (accepted, or opened by the node); `writer` sends
    /// bytes on it.
    Opened {
        peer: SipPeer,
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// A connection closed.
    Closed { peer: SipPeer },
    /// A connection the node tried to open failed.
    ConnectFailed {
        transport: Transport,
        remote: SocketAddr,
    },
}

/// Most TCP connections served at once; more are refused at accept.
const MAX_CONNECTIONS: usize = 4096;
/// Messages queued for one connection before further messages to it are dropped.
const WRITE_QUEUE: usize = 256;
/// How long a TLS client has to finish its handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The bound SIP sockets.
pub(crate) struct Listeners {
    pub(crate) udp: Arc<UdpSocket>,
    pub(crate) tcp: TcpListener,
    /// SIP over TLS, when a certificate is configured.
    pub(crate) tls: Option<(TcpListener, TlsAcceptor)>,
}

/// Where the SIP listeners are bound (the real ports when the config asked for port 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SipBound {
    pub(crate) udp: Option<SocketAddr>,
    pub(crate) tcp: Option<SocketAddr>,
    pub(crate) tls: Option<SocketAddr>,
}

impl SipBound {
    /// The listener a transport is served on.
    pub(crate) fn of(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp,
            Transport::Tcp => self.tcp,
            Transport::Tls => self.tls,
        }
    }
}

impl Listeners {
    /// Binds `sip.udp`, `sip.tcp`, and `sip.tls` when a certificate is configured.
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
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => {
                let acceptor = super::tls::acceptor(cert, key)?;
                let listener =
                    TcpListener::bind(config.tls)
                        .await
                        .map_err(|source| StartError::Bind {
                            what: "sip.tls",
                            addr: config.tls,
                            source,
                        })?;
                Some((listener, acceptor))
            }
            _ => None,
        };
        Ok(Self {
            udp: Arc::new(udp),
            tcp,
            tls,
        })
    }

    /// The bound addresses.
    pub(crate) fn bound(&self) -> SipBound {
        SipBound {
            udp: self.udp.local_addr().ok(),
            tcp: self.tcp.local_addr().ok(),
            tls: self
                .tls
                .as_ref()
                .and_then(|(listener, _)| listener.local_addr().ok()),
        }
    }
}

impl std::fmt::Debug for Listeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listeners")
            .field("bound", &self.bound())
            .finish_non_exhaustive()
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

/// Connection ids, shared by the TCP and TLS listeners so that they never collide.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connections {
    next_id: Arc<std::sync::atomic::AtomicU64>,
    open: Arc<std::sync::atomic::AtomicUsize>,
}

impl Connections {
    fn next_id(&self) -> u64 {
        self.next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }
}

/// Accepts TCP connections (TLS ones when `tls` is given) until the stack goes away.
pub(crate) async fn serve_stream(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    connections: Connections,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
) {
    let transport = if tls.is_some() {
        Transport::Tls
    } else {
        Transport::Tcp
    };
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!("sip {} accept error: {e}", transport.label());
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        if inbound.is_closed() {
            return;
        }
        if connections.open.load(std::sync::atomic::Ordering::Relaxed) >= MAX_CONNECTIONS {
            warn!(%remote, "sip {}: too many connections, refusing one", transport.label());
            continue;
        }
        let _ = stream.set_nodelay(true);
        let guard = ConnectionGuard::new(Arc::clone(&connections.open));
        let peer = SipPeer {
            transport,
            remote,
            connection: Some(connections.next_id()),
        };
        let inbound = inbound.clone();
        let metrics = metrics.clone();
        match tls.clone() {
            None => {
                tokio::spawn(connection(stream, peer, inbound, metrics, guard));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    match handshake {
                        Ok(Ok(stream)) => connection(stream, peer, inbound, metrics, guard).await,
                        Ok(Err(e)) => debug!(%remote, "sip tls handshake failed: {e}"),
                        Err(_) => debug!(%remote, "sip tls handshake timed out"),
                    }
                });
            }
        }
    }
}

/// Opens a connection to `remote` from the signalling range and serves it like an accepted
/// one; a failure is reported as [`Inbound::ConnectFailed`].
pub(crate) fn spawn_outbound(
    connector: Connector,
    connections: Connections,
    transport: Transport,
    remote: SocketAddr,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
) {
    tokio::spawn(async move {
        let local = outbound::local_for(remote);
        let peer = SipPeer {
            transport,
            remote,
            connection: Some(connections.next_id()),
        };
        let opened = match transport {
            Transport::Udp => return,
            Transport::Tcp => connector.tcp(local, remote).await.map(|stream| {
                let guard = ConnectionGuard::new(Arc::clone(&connections.open));
                tokio::spawn(connection(stream, peer, inbound.clone(), metrics, guard));
            }),
            Transport::Tls => {
                let name = ServerName::IpAddress(remote.ip().into());
                connector.tls(local, remote, name).await.map(|stream| {
                    let guard = ConnectionGuard::new(Arc::clone(&connections.open));
                    tokio::spawn(connection(stream, peer, inbound.clone(), metrics, guard));
                })
            }
        };
        if let Err(e) = opened {
            warn!(%remote, transport = transport.label(), "sip: cannot connect: {e}");
            let _ = inbound
                .send(Inbound::ConnectFailed { transport, remote })
                .await;
        }
    });
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

/// One TCP or TLS connection: frames messages (RFC 3261 §18.3) until EOF or garbage, which
/// closes it after a 400 where one can be built.
async fn connection<S>(
    stream: S,
    peer: SipPeer,
    inbound: mpsc::Sender<Inbound>,
    metrics: Metrics,
    _guard: ConnectionGuard,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let remote = peer.remote;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    if inbound
        .send(Inbound::Opened {
            peer: peer.clone(),
            writer: tx.clone(),
        })
        .await
        .is_err()
    {
        return;
    }
    let write_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
        // A TLS close_notify, then FIN.
        let _ = writer.shutdown().await;
    });
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
    let _ = inbound.send(Inbound::Closed { peer }).await;
    drop(tx);
    let _ = write_task.await;
}

fn reject(error: &ParseError, metrics: &Metrics, from: SocketAddr) {
    metrics.count_sip_parse_error();
    debug!(%from, "malformed SIP message: {}", error.reason_phrase());
}
