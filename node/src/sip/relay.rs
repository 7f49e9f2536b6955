//! The media of a SIP-to-SIP call: an RTP/RTCP relay between the caller's leg and the
//! callee's. The node offered the callee what the caller offered, payload types included, so
//! packets pass unchanged (SRTP too: its keys are the two ends' own). Each side's packets are
//! counted in the call's `/status` streams.
//!
//! Each side's remote address starts as the one its SDP named and then follows where its
//! packets really come from (symmetric RTP, RFC 4961), so a caller behind NAT is reached.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use super::test_call::{MediaTasks, is_rtp_version_2};
use crate::calls::CallDetail;
use crate::metrics::Metrics;

/// One side of one relayed stream.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Side {
    /// Our RTP port on this side.
    pub(crate) rtp_port: u16,
    /// Our RTCP port, unless RTCP is muxed.
    pub(crate) rtcp_port: Option<u16>,
    /// Where this side's peer receives RTP.
    pub(crate) remote_rtp: SocketAddr,
    /// Where it receives RTCP.
    pub(crate) remote_rtcp: SocketAddr,
    /// Index of this side's stream in the call's `/status` streams.
    pub(crate) stats: usize,
}

/// One relayed stream: the caller's side and the callee's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Relay {
    pub(crate) caller: Side,
    pub(crate) callee: Side,
}

/// Binds every socket first (so that a failure leaves nothing running), then starts one
/// forwarding task per socket. Must run inside the tokio runtime.
pub(crate) fn start(
    address: IpAddr,
    relays: &[Relay],
    detail: &Arc<CallDetail>,
    metrics: &Metrics,
) -> std::io::Result<MediaTasks> {
    let bind = |port: u16| -> std::io::Result<Arc<UdpSocket>> {
        let socket = std::net::UdpSocket::bind(SocketAddr::new(address, port))?;
        socket.set_nonblocking(true)?;
        UdpSocket::from_std(socket).map(Arc::new)
    };
    let mut pipes = Vec::new();
    for relay in relays {
        let (caller, callee) = (relay.caller, relay.callee);
        let (a, b) = (bind(caller.rtp_port)?, bind(callee.rtp_port)?);
        pipes.push(Pipe::pair(&a, &b, caller, callee, true));
        if let (Some(a_port), Some(b_port)) = (caller.rtcp_port, callee.rtcp_port) {
            let (a, b) = (bind(a_port)?, bind(b_port)?);
            let (mut from_caller, mut from_callee) = Pipe::pair(&a, &b, caller, callee, false);
            from_caller.counts = None;
            from_callee.counts = None;
            pipes.push((from_caller, from_callee));
        }
    }
    let mut tasks = MediaTasks::default();
    for (from_caller, from_callee) in pipes {
        for pipe in [from_caller, from_callee] {
            tasks
                .0
                .push(tokio::spawn(pipe.run(Arc::clone(detail), metrics.clone())));
        }
    }
    Ok(tasks)
}

/// Packets received on `input` go out of `output` to the other side's latest address.
struct Pipe {
    input: Arc<UdpSocket>,
    output: Arc<UdpSocket>,
    /// Where the input side's peer is (latched from what arrives).
    input_peer: Arc<Mutex<SocketAddr>>,
    /// Where the output side's peer is.
    output_peer: Arc<Mutex<SocketAddr>>,
    /// The `/status` stream counting what arrives on `input` (RTP only).
    counts: Option<usize>,
}

impl Pipe {
    /// The two directions between sockets `a` (caller side) and `b` (callee side).
    fn pair(
        a: &Arc<UdpSocket>,
        b: &Arc<UdpSocket>,
        caller: Side,
        callee: Side,
        rtp: bool,
    ) -> (Self, Self) {
        let (caller_peer, callee_peer) = if rtp {
            (caller.remote_rtp, callee.remote_rtp)
        } else {
            (caller.remote_rtcp, callee.remote_rtcp)
        };
        let caller_peer = Arc::new(Mutex::new(caller_peer));
        let callee_peer = Arc::new(Mutex::new(callee_peer));
        (
            Self {
                input: Arc::clone(a),
                output: Arc::clone(b),
                input_peer: Arc::clone(&caller_peer),
                output_peer: Arc::clone(&callee_peer),
                counts: Some(caller.stats),
            },
            Self {
                input: Arc::clone(b),
                output: Arc::clone(a),
                input_peer: callee_peer,
                output_peer: caller_peer,
                counts: Some(callee.stats),
            },
        )
    }

    async fn run(self, detail: Arc<CallDetail>, metrics: Metrics) {
        let mut buf = vec![0; 2048];
        loop {
            let Ok((len, from)) = self.input.recv_from(&mut buf).await else {
                continue;
            };
            // Symmetric RTP: answer where the packets come from.
            *lock(&self.input_peer) = from;
            // RTP only: version 2, at least a header, and not muxed RTCP (RFC 5761 §4: PT
            // byte 192-223).
            let packet = &buf[..len];
            if let Some(index) = self.counts
                && len >= 12
                && is_rtp_version_2(packet)
                && !(192..=223).contains(&packet[1])
            {
                let stats = &detail.streams[index];
                stats.count();
                metrics.count_rtp(stats.media);
            }
            let to = *lock(&self.output_peer);
            let _ = self.output.send_to(&buf[..len], to).await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
