//! The test call service's media: one RTP socket (and one RTCP socket unless muxed) per
//! negotiated stream, bound in the media range, counting what arrives and decoding RFC 4733
//! DTMF on the audio stream.
//!
//! A stream with SDES keys is SRTP: every packet is unprotected first, and only authenticated
//! RTP is counted and read for DTMF; what fails (wrong key, altered, replayed, too short) is
//! counted as `srtp_errors`. SRTCP, on its own socket or muxed with RTP (RFC 5761 §4), is
//! authenticated the same way and then dropped.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signaling::dtmf::{DtmfDeduplicator, DtmfEvent, DtmfReceiver, parse_rtp};
use signaling::sdp::SrtpContext;
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tracing::info;

use crate::calls::{CallDetail, StreamStats};
use crate::metrics::Metrics;
use crate::srtp::{SrtpError, SrtpSession};

/// The DTMF sources of one call share one de-duplicator (some endpoints send a digit both as
/// RFC 4733 and as INFO).
pub(crate) type SharedDedup = Arc<Mutex<DtmfDeduplicator>>;

/// Receiving tasks of one call; they stop when this is dropped.
#[derive(Debug, Default)]
pub(crate) struct MediaTasks(pub(crate) Vec<JoinHandle<()>>);

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
    /// The SDES keys agreed for the stream; `None` for plain RTP.
    pub(crate) srtp: Option<SrtpContext>,
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
        if plan.srtp.is_some() {
            detail.streams[plan.stats].set_srtp();
        }
        // One SRTP session per socket: each task owns its own (the keys are the same).
        let session = || plan.srtp.as_ref().map(SrtpSession::new);
        tasks.0.push(tokio::spawn(receive_rtp(
            rtp,
            session(),
            Arc::clone(&detail),
            plan.stats,
            plan.dtmf,
            Arc::clone(&dedup),
            metrics.clone(),
        )));
        if let Some(rtcp) = rtcp {
            tasks.0.push(tokio::spawn(receive_rtcp(
                rtcp,
                session(),
                Arc::clone(&detail),
                plan.stats,
                metrics.clone(),
            )));
        }
    }
    Ok(tasks)
}

/// Reads the RTCP socket so that senders get no ICMP port-unreachable; RTCP is dropped, SRTCP
/// after it was authenticated (failures count as the stream's SRTP errors).
async fn receive_rtcp(
    socket: UdpSocket,
    mut srtp: Option<SrtpSession>,
    detail: Arc<CallDetail>,
    index: usize,
    metrics: Metrics,
) {
    let stats: &StreamStats = &detail.streams[index];
    let mut buf = vec![0; 2048];
    while let Ok(len) = socket.recv(&mut buf).await {
        if !is_rtp_version_2(&buf[..len]) {
            continue;
        }
        if let Some(Err(error)) = srtp.as_mut().map(|s| s.unprotect_rtcp(&buf[..len])) {
            srtp_refused(stats, &metrics, error);
        }
    }
}

async fn receive_rtp(
    socket: UdpSocket,
    mut srtp: Option<SrtpSession>,
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
            Ok(Ok(len)) if !is_rtp_version_2(&buf[..len]) => continue,
            Ok(Ok(len)) => {
                let packet = match srtp.as_mut().map(|s| unprotect_muxed(s, &buf[..len])) {
                    None => Cow::Borrowed(&buf[..len]),
                    Some(Ok(Some(rtp))) => Cow::Owned(rtp),
                    Some(Ok(None)) => continue, // authenticated SRTCP, muxed
                    Some(Err(error)) => {
                        srtp_refused(stats, &metrics, error);
                        continue;
                    }
                };
                let Ok((header, payload)) = parse_rtp(&packet) else {
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

/// Whether a datagram can be RTP or RTCP at all: version 2 and at least an RTCP header
/// (RFC 3550 §5.1, §6.4). Anything else (zero-length keep-alives, which baresip sends when a
/// call starts, RFC 6263 §4.1; STUN; stray bytes) is not media and is ignored, not counted
/// as an SRTP error.
pub(crate) fn is_rtp_version_2(packet: &[u8]) -> bool {
    packet.len() >= 8 && packet[0] >> 6 == 2
}

/// Unprotects one datagram from a stream's RTP port: SRTCP when it looks like RTCP (RFC 5761
/// §4: the second byte, marker bit included, is 192 to 223), SRTP otherwise. `Ok(None)` for
/// authenticated SRTCP.
fn unprotect_muxed(session: &mut SrtpSession, packet: &[u8]) -> Result<Option<Vec<u8>>, SrtpError> {
    match packet.get(1) {
        Some(192..=223) => session.unprotect_rtcp(packet).map(|_| None),
        _ => session.unprotect_rtp(packet).map(Some),
    }
}

/// Counts a packet that SRTP refused; the first one of a stream is logged (the reason only,
/// never packet bytes or keys).
pub(crate) fn srtp_refused(stats: &StreamStats, metrics: &Metrics, error: SrtpError) {
    if stats.count_srtp_error() == 1 {
        info!(
            media = stats.media,
            port = stats.local_port,
            reason = error.label(),
            "SRTP packet refused; further ones are counted in /status"
        );
    }
    metrics.count_srtp_error(error);
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

#[cfg(test)]
mod tests {
    use signaling::sdp::{CryptoSuite, SRTP_KEY_SALT_LEN};

    use super::*;

    #[test]
    fn muxed_srtcp_is_told_from_srtp() {
        let keys = SrtpContext {
            suite: CryptoSuite::AesCm128HmacSha1_80,
            local_key: [1; SRTP_KEY_SALT_LEN],
            remote_key: [1; SRTP_KEY_SALT_LEN],
            tag: 1,
        };
        let mut session = SrtpSession::new(&keys);
        let mut rtp = vec![0x80, 0xe0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9]; // marker + PT 96
        rtp.extend_from_slice(&[0x42; 20]);
        let report = [0x80, 201, 0, 1, 0, 0, 0, 9]; // an empty receiver report
        let srtp = session.protect_rtp(&rtp).unwrap();
        let srtcp = session.protect_rtcp(&report).unwrap();
        assert_eq!(unprotect_muxed(&mut session, &srtp), Ok(Some(rtp)));
        assert_eq!(unprotect_muxed(&mut session, &srtcp), Ok(None));
        assert_eq!(
            unprotect_muxed(&mut session, &srtcp),
            Err(SrtpError::Replay),
            "an SRTCP replay, not an SRTP failure"
        );
    }
}
