//! Requests the node sends itself inside a dialog (BYE, session refreshes): their top Via,
//! and the peer they go to.

use std::net::{IpAddr, SocketAddr};

use signaling::sip::dialog::Dialog;
use signaling::sip::message::{Host, Scheme, Uri, Via};

use super::peer::{SipPeer, Transport};
use super::transport::SipBound;

/// A top Via for a request we send on `transport`: our listener's address (`local_ip` when
/// the listener is bound to every interface), a fresh RFC 3261 branch, and `rport`
/// (RFC 3581) so that responses come back to the port we sent from.
pub(crate) fn our_via(transport: Transport, bound: &SipBound, local_ip: IpAddr) -> Via {
    let listener = bound.of(transport);
    let ip = listener
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(local_ip);
    let branch = format!("z9hG4bK{:016x}", rand::random::<u64>());
    let mut via = Via::new(
        &transport.label().to_ascii_uppercase(),
        Host::from(ip),
        listener.map(|a| a.port()),
        branch,
    );
    via.rport = Some(None);
    via
}

/// Where the dialog's next request goes (RFC 3261 §12.2.1.1, §8.1.2): the first Route when
/// there is a route set, else the remote target. The connection the dialog came in on is
/// reused while it is open. A target that is a host name (no DNS here yet) falls back to the
/// address the dialog came from.
pub(crate) fn dialog_peer(dialog: &Dialog, came_from: &SipPeer) -> SipPeer {
    let next_hop = dialog
        .route_set()
        .first()
        .map_or_else(|| dialog.remote_target(), |route| &route.uri);
    let transport = uri_transport(next_hop).unwrap_or(came_from.transport);
    let ip = match next_hop.host {
        Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        _ => None,
    };
    let Some(ip) = ip.filter(|ip| !ip.is_unspecified()) else {
        return came_from.clone();
    };
    let default_port = if transport == Transport::Tls {
        5061
    } else {
        5060
    };
    SipPeer {
        transport,
        remote: SocketAddr::new(ip, next_hop.port.unwrap_or(default_port)),
        connection: (transport == came_from.transport)
            .then_some(came_from.connection)
            .flatten(),
    }
}

/// The transport a URI asks for: `sips:` is TLS; else its `transport` parameter.
fn uri_transport(uri: &Uri) -> Option<Transport> {
    if uri.scheme == Scheme::Sips {
        return Some(Transport::Tls);
    }
    match uri.param("transport").flatten() {
        Some(t) if t.eq_ignore_ascii_case("udp") => Some(Transport::Udp),
        Some(t) if t.eq_ignore_ascii_case("tcp") => Some(Transport::Tcp),
        Some(t) if t.eq_ignore_ascii_case("tls") => Some(Transport::Tls),
        _ => None,
    }
}
