//! Connections the node opens itself (TCP and TLS toward peers): their source ports come from
//! `signaling.port_range`, so firewalls can be set to the node's documented ranges.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::config::PortRange;

/// How long a connection (and its TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens outbound TCP and TLS connections from the signalling port range.
#[derive(Clone)]
pub(crate) struct Connector {
    range: PortRange,
    /// Offset of the next port to try, so that consecutive connections spread over the range.
    next: Arc<AtomicU32>,
    tls: TlsConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub(crate) fn new(range: PortRange, tls: Arc<ClientConfig>) -> Self {
        Self {
            range,
            next: Arc::new(AtomicU32::new(rand::random::<u32>() % range.len().max(1))),
            tls: TlsConnector::from(tls),
        }
    }

    /// A TCP connection to `remote` from a port in the range: ports in use are skipped; the
    /// error of the last attempt is returned when every port failed.
    pub(crate) async fn tcp(&self, local: IpAddr, remote: SocketAddr) -> io::Result<TcpStream> {
        let len = self.range.len();
        let mut last = io::Error::new(io::ErrorKind::AddrInUse, "empty signalling port range");
        // A few dozen tries: a range with so many busy ports is a configuration problem.
        for _ in 0..len.min(64) {
            let offset = self.next.fetch_add(1, Ordering::Relaxed) % len;
            let port = self.range.start() + offset as u16;
            let socket = if remote.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            if let Err(e) = socket.bind(SocketAddr::new(local, port)) {
                last = e;
                continue;
            }
            match tokio::time::timeout(CONNECT_TIMEOUT, socket.connect(remote)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(stream);
                }
                // The port is bound but the 4-tuple is taken (a connection in TIME_WAIT).
                Ok(Err(e)) if e.kind() == io::ErrorKind::AddrNotAvailable => last = e,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
            }
        }
        Err(last)
    }

    /// A TLS connection to `remote`; the certificate must name `server_name` (the host of the
    /// URI dialled, or the IP address).
    pub(crate) async fn tls(
        &self,
        local: IpAddr,
        remote: SocketAddr,
        server_name: ServerName<'static>,
    ) -> io::Result<TlsStream<TcpStream>> {
        let tcp = self.tcp(local, remote).await?;
        tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connect(server_name, tcp))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
    }
}

/// The local address to bind for `remote`: loopback for a loopback peer (tests, and a node
/// behind a local proxy), else unspecified and the OS picks the interface.
pub(crate) fn local_for(remote: SocketAddr) -> IpAddr {
    match remote.ip() {
        IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(v4),
        IpAddr::V6(v6) if v6.is_loopback() => IpAddr::V6(v6),
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}
