//! Where a SIP message came from, and where its answer goes.

use std::net::SocketAddr;

use signaling::sip::transaction::Peer;

/// A SIP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Transport {
    /// SIP over UDP.
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (RFC 3261 §26.2; `transport=tls` in Contact and Via).
    Tls,
}

impl Transport {
    /// The metric label and `transport=` parameter value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// A peer: the transport, the remote address, and for streams the connection.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SipPeer {
    pub(crate) transport: Transport,
    pub(crate) remote: SocketAddr,
    pub(crate) connection: Option<u64>,
}

impl Peer for SipPeer {
    fn is_reliable(&self) -> bool {
        self.transport != Transport::Udp
    }
}

/// The caller of `request` as the Live View shows it: its From URI as the alias, its display
/// name, SIP as the protocol.
pub(crate) fn caller_view(
    request: &signaling::sip::message::Request,
) -> crate::live_view::CallerView {
    let from = request.from().ok();
    crate::live_view::CallerView {
        alias: from.as_ref().map(|f| f.uri.to_string()).unwrap_or_default(),
        display_name: from.and_then(|f| f.display_name),
        protocol: "sip",
    }
}
