//! The room system's side of a gateway call's media: the node's own RTP (and RTCP) sockets
//! from the media range, one pair per negotiated stream.
//!
//! - **In**: each datagram that is RTP version 2 is unprotected when SDES-SRTP was agreed
//!   (only authenticated packets pass), counted in `/status`, and handed to the media plane.
//!   RTCP (on its own socket, or muxed, RFC 5761 §4) is read for keyframe requests (PLI, FIR,
//!   RFC 4585 §6.3.1 and RFC 5104 §4.3.1), which go to the video encoder toward the room
//!   system.
//! - **Out**: [`VtcSender`] sends what the media plane produces, protected when SRTP was agreed,
//!   to the address the SDP gave, or, once the room system's RTP has arrived from elsewhere (a
//!   NAT), to where it comes from (symmetric RTP, RFC 4961). It can be called from any thread
//!   (the GStreamer streaming threads).
//!
//! Sockets are bound first, so a failure leaves nothing running; the receive tasks stop when
//! [`VtcMedia`] is dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use signaling::sdp::SrtpContext;
use tokio::net::UdpSocket;
use tracing::debug;

use crate::metrics::Metrics;
use crate::sip::{MediaTasks, is_rtp_version_2, srtp_refused};
use crate::srtp::SrtpSession;

/// Where one stream's packets go once received.
pub(crate) type PacketSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// One negotiated stream of the room system's leg.
pub(crate) struct VtcStreamPlan {
    /// `audio` or `video` (for `/status` and metrics).
    pub(crate) media: &'static str,
    pub(crate) rtp_port: u16,
    /// `None` with rtcp-mux.
    pub(crate) rtcp_port: Option<u16>,
    pub(crate) remote_rtp: SocketAddr,
    pub(crate) srtp: Option<SrtpContext>,
    /// What receives this stream's RTP.
    pub(crate) sink: PacketSink,
    /// Called for every keyframe request (PLI or FIR) the room system sends on this stream.
    pub(crate) on_keyframe_request: Option<Arc<dyn Fn() + Send + Sync>>,
}

/// The sending half of one stream.
#[derive(Clone)]
pub(crate) struct VtcSender {
    socket: Arc<std::net::UdpSocket>,
    remote: Arc<Mutex<SocketAddr>>,
    srtp: Option<Arc<Mutex<SrtpSession>>>,
}

impl VtcSender {
    /// Sends one RTP packet to the room system (protected when SRTP was agreed). Errors are
    /// dropped: RTP is best effort, and the receive side reports a vanished peer.
    pub(crate) fn send_rtp(&self, packet: &[u8]) {
        let protected;
        let bytes = match &self.srtp {
            Some(srtp) => {
                let Ok(out) = lock(srtp).protect_rtp(packet) else {
                    return;
                };
                protected = out;
                &protected[..]
            }
            None => packet,
        };
        let to = *lock(&self.remote);
        if let Err(e) = self.socket.send_to(bytes, to) {
            debug!(%to, "RTP to the room system not sent: {e}");
        }
    }
}

/// The media sockets of one gateway call's room-system leg.
pub(crate) struct VtcMedia {
    /// One sender per stream, in plan order.
    pub(crate) senders: Vec<VtcSender>,
    _tasks: MediaTasks,
}

impl VtcMedia {
    /// Binds every socket of `plans` on `address`, then starts the receivers; stream `i` is
    /// counted in `detail.streams[i]`. Must run inside the tokio runtime.
    pub(crate) fn start(
        address: IpAddr,
        plans: Vec<VtcStreamPlan>,
        detail: Arc<crate::calls::CallDetail>,
        metrics: Metrics,
    ) -> std::io::Result<Self> {
        let bind = |port: u16| -> std::io::Result<std::net::UdpSocket> {
            let socket = std::net::UdpSocket::bind(SocketAddr::new(address, port))?;
            socket.set_nonblocking(true)?;
            Ok(socket)
        };
        let mut bound = Vec::new();
        for plan in &plans {
            let rtp = bind(plan.rtp_port)?;
            let rtcp = plan.rtcp_port.map(bind).transpose()?;
            bound.push((rtp, rtcp));
        }
        let mut tasks = MediaTasks::default();
        let mut senders = Vec::new();
        for (index, (plan, (rtp, rtcp))) in plans.into_iter().zip(bound).enumerate() {
            if plan.srtp.is_some() {
                detail.streams[index].set_srtp();
            }
            // A clone shares the non-blocking flag with the receiving socket (one open file
            // description): a full send buffer drops the packet, as a network would.
            let send_socket = Arc::new(rtp.try_clone()?);
            let remote = Arc::new(Mutex::new(plan.remote_rtp));
            // One SRTP session per direction and socket: the keys are the same, the replay
            // windows and rollover counters are not.
            let srtp_out = plan
                .srtp
                .as_ref()
                .map(|keys| Arc::new(Mutex::new(SrtpSession::new(keys))));
            senders.push(VtcSender {
                socket: send_socket,
                remote: Arc::clone(&remote),
                srtp: srtp_out,
            });
            let receiver = || Receiver {
                srtp: plan.srtp.as_ref().map(SrtpSession::new),
                detail: Arc::clone(&detail),
                index,
                metrics: metrics.clone(),
                sink: Arc::clone(&plan.sink),
                on_keyframe_request: plan.on_keyframe_request.clone(),
                remote: Arc::clone(&remote),
            };
            let rtp = UdpSocket::from_std(rtp)?;
            tasks.0.push(tokio::spawn(receiver().rtp(rtp)));
            if let Some(rtcp) = rtcp {
                let rtcp = UdpSocket::from_std(rtcp)?;
                tasks.0.push(tokio::spawn(receiver().rtcp(rtcp)));
            }
        }
        Ok(Self {
            senders,
            _tasks: tasks,
        })
    }
}

/// The receiving half of one stream (one per socket: each owns its SRTP replay window).
struct Receiver {
    srtp: Option<SrtpSession>,
    detail: Arc<crate::calls::CallDetail>,
    index: usize,
    metrics: Metrics,
    sink: PacketSink,
    on_keyframe_request: Option<Arc<dyn Fn() + Send + Sync>>,
    remote: Arc<Mutex<SocketAddr>>,
}

impl Receiver {
    /// RTP (and muxed RTCP) from the room system.
    async fn rtp(mut self, socket: UdpSocket) {
        let mut buf = vec![0; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            let packet = &buf[..len];
            if !is_rtp_version_2(packet) {
                continue;
            }
            if is_rtcp(packet) {
                self.on_rtcp(packet);
                continue;
            }
            let stats = &self.detail.streams[self.index];
            let clear = match self.srtp.as_mut().map(|s| s.unprotect_rtp(packet)) {
                None => packet.to_vec(),
                Some(Ok(clear)) => clear,
                Some(Err(error)) => {
                    srtp_refused(stats, &self.metrics, error);
                    continue;
                }
            };
            stats.count();
            self.metrics.count_rtp(stats.media);
            // Symmetric RTP (RFC 4961): answer where authenticated media comes from.
            {
                let mut remote = lock(&self.remote);
                if *remote != from {
                    debug!(%from, was = %*remote, "room system's RTP latched");
                    *remote = from;
                }
            }
            (self.sink)(&clear);
        }
    }

    /// RTCP on its own socket.
    async fn rtcp(mut self, socket: UdpSocket) {
        let mut buf = vec![0; 2048];
        while let Ok(len) = socket.recv(&mut buf).await {
            if is_rtp_version_2(&buf[..len]) {
                let packet = buf[..len].to_vec();
                self.on_rtcp(&packet);
            }
        }
    }

    fn on_rtcp(&mut self, packet: &[u8]) {
        let clear = match self.srtp.as_mut().map(|s| s.unprotect_rtcp(packet)) {
            None => packet.to_vec(),
            Some(Ok(clear)) => clear,
            Some(Err(error)) => {
                srtp_refused(&self.detail.streams[self.index], &self.metrics, error);
                return;
            }
        };
        if keyframe_requested(&clear)
            && let Some(request) = &self.on_keyframe_request
        {
            request();
        }
    }
}

/// Whether a datagram on an RTP port is RTCP (RFC 5761 §4: payload types 64–95 are RTCP's
/// 192–223 with the marker bit).
fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && (192..=223).contains(&packet[1])
}

/// Whether a compound RTCP packet carries a PLI (PSFB, FMT 1) or a FIR (PSFB, FMT 4).
pub(crate) fn keyframe_requested(mut packet: &[u8]) -> bool {
    while packet.len() >= 4 {
        let fmt = packet[0] & 0x1f;
        let pt = packet[1];
        let words = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
        let len = (words + 1) * 4;
        if pt == 206 && (fmt == 1 || fmt == 4) {
            return true;
        }
        if len > packet.len() {
            return false;
        }
        packet = &packet[len..];
    }
    false
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plis_and_firs_are_found_in_compound_rtcp() {
        // RR (empty) + PLI
        let rr = [0x80, 201, 0, 1, 0, 0, 0, 1];
        let pli = [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        let fir = [
            0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0,
        ];
        let nack = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 0];
        assert!(keyframe_requested(&[&rr[..], &pli[..]].concat()));
        assert!(keyframe_requested(&fir));
        assert!(!keyframe_requested(&[&rr[..], &nack[..]].concat()));
        assert!(!keyframe_requested(&rr[..5]));
        // A length that overruns the datagram stops the walk.
        assert!(!keyframe_requested(&[0x80, 201, 0xff, 0xff, 0, 0, 0, 1]));
    }

    #[test]
    fn rtcp_is_told_from_rtp_on_a_muxed_port() {
        assert!(is_rtcp(&[0x81, 206]));
        assert!(is_rtcp(&[0x80, 200]));
        assert!(!is_rtcp(&[0x80, 96]));
        assert!(!is_rtcp(&[0x80, 0xe0 - 0x80]));
    }
}
