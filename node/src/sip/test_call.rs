//! The test call service's media: one RTP socket (and one RTCP socket unless muxed) per
//! negotiated stream, bound in the media range, counting what arrives and decoding RFC 4733
//! DTMF on the audio stream.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signaling::dtmf::{DtmfDeduplicator, DtmfEvent, DtmfReceiver, parse_rtp};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use crate::calls::{CallDetail, StreamStats};
use crate::metrics::Metrics;

/// The DTMF sources of one call share one de-duplicator (some endpoints send a digit both as
/// RFC 4733 and as INFO).
pub(crate) type SharedDedup = Arc<Mutex<DtmfDeduplicator>>;

/// Receiving tasks of one call; they stop when this is dropped.
#[derive(Debug, Default)]
pub(crate) struct MediaTasks(Vec<JoinHandle<()>>);

impl Drop for MediaTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// One stream to receive.
pub(crate) struct StreamPlan {
    pub(crate) stats: usize,
    pub(crate) rtp_port: u16,
    pub(crate) rtcp_port: Option<u16>,
    /// Telephone-event payload type and clock rate, for the audio stream.
    pub(crate) dtmf: Option<(u8, u32)>,
}

/// Binds every socket first (so a failure leaves nothing running), then starts the receivers.
/// Must run inside the tokio runtime.
pub(crate) fn start(
    address: IpAddr,
    plans: Vec<StreamPlan>,
    detail: Arc<CallDetail>,
    dedup: SharedDedup,
    metrics: Metrics,
) -> std::io::Result<MediaTasks> {
    // std binds are immediate; the sockets then move into the runtime.
    let bind = |port: u16| -> std::io::Result<UdpSocket> {
        let socket = std::net::UdpSocket::bind(SocketAddr::new(address, port))?;
        socket.set_nonblocking(true)?;
        UdpSocket::from_std(socket)
    };
    let mut sockets = Vec::new();
    for plan in &plans {
        let rtp = bind(plan.rtp_port)?;
        let rtcp = plan.rtcp_port.map(bind).transpose()?;
        sockets.push((rtp, rtcp));
    }
    let mut tasks = MediaTasks::default();
    for (plan, (rtp, rtcp)) in plans.into_iter().zip(sockets) {
        tasks.0.push(tokio::spawn(receive_rtp(
            rtp,
            Arc::clone(&detail),
            plan.stats,
            plan.dtmf,
            Arc::clone(&dedup),
            metrics.clone(),
        )));
        if let Some(rtcp) = rtcp {
            // RTCP is read and dropped, so senders get no ICMP port-unreachable.
            tasks.0.push(tokio::spawn(async move {
                let mut buf = vec![0; 2048];
                while rtcp.recv(&mut buf).await.is_ok() {}
            }));
        }
    }
    Ok(tasks)
}

async fn receive_rtp(
    socket: UdpSocket,
    detail: Arc<CallDetail>,
    index: usize,
    dtmf: Option<(u8, u32)>,
    dedup: SharedDedup,
    metrics: Metrics,
) {
    let stats: &StreamStats = &detail.streams[index];
    let mut receiver = dtmf.map(|(pt, rate)| DtmfReceiver::new(pt, rate));
    let mut buf = vec![0; 2048];
    loop {
        // Wake for the DTMF end timeout even when no packet comes.
        let wait = receiver
            .as_ref()
            .and_then(DtmfReceiver::poll_timeout)
            .map(|at| at.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or(Duration::from_secs(3600));
        let received = tokio::time::timeout(wait, socket.recv(&mut buf)).await;
        let now = std::time::Instant::now();
        let event = match received {
            Err(_elapsed) => receiver.as_mut().and_then(|r| r.handle_timeout(now)),
            Ok(Err(_)) => continue,
            Ok(Ok(len)) => {
                let Ok((header, payload)) = parse_rtp(&buf[..len]) else {
                    continue;
                };
                stats.count();
                metrics.count_rtp(stats.media);
                receiver
                    .as_mut()
                    .and_then(|r| r.handle_rtp(&header, payload, now))
            }
        };
        if let Some(event) = event {
            record_dtmf(&detail, &dedup, &event, now);
        }
    }
}

/// Appends a digit to the call's DTMF unless the other source already delivered it.
pub(crate) fn record_dtmf(
    detail: &CallDetail,
    dedup: &SharedDedup,
    event: &DtmfEvent,
    now: std::time::Instant,
) {
    let fresh = dedup
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .accept(event, now);
    if fresh {
        detail
            .dtmf
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.digit);
    }
}
