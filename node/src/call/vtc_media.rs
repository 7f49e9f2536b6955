//! The room system's side of a gateway call's media: the node's own RTP (and RTCP) sockets
//! from the media range, one pair per negotiated stream, each with its RTP/RTCP core
//! ([`crate::rtp::RtpStream`]).
//!
//! - **In**: each datagram that is RTP version 2 is unprotected when SDES-SRTP was agreed
//!   (only authenticated packets pass), then judged by the stream's core (SSRC probation,
//!   payload type, sequence; receive statistics); what it accepts is counted and handed to the
//!   media plane. RTCP (on its own socket, or muxed, RFC 5761 §4) goes to the core, which
//!   reads the room system's reports and keyframe requests (PLI, FIR); those go to the video
//!   encoder toward the room system.
//! - **Out**: [`VtcSender`] sends what the media plane produces, protected when SRTP was agreed,
//!   to the address the SDP gave, or, once the room system's RTP has arrived from elsewhere (a
//!   NAT), to where it comes from (symmetric RTP, RFC 4961). It can be called from any thread
//!   (the GStreamer streaming threads); the core counts what it sends for the SR.
//! - **RTCP out**: one task per stream runs the core's timer: regular RR/SR + SDES, and the
//!   keyframe requests (PLI or FIR) the core decides on, SRTCP-protected when SRTP was agreed,
//!   sent from the RTCP socket (the RTP socket with rtcp-mux) to the room system's RTCP address
//!   ([`RtcpTarget`]). The same task publishes the core's figures to `/status` and the metrics.
//!
//! Sockets are bound first, so a failure leaves nothing running; the tasks stop when
//! [`VtcMedia`] is dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use signaling::sdp::RtcpFeedback;
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tracing::debug;

use super::stream_keys::{KeyedSrtp, StreamKeys};
use crate::calls::CallDetail;
use crate::metrics::Metrics;
use crate::rtp::{KeyframeMessage, RtpStream, StreamConfig, StreamFigures};
use crate::sip::{MediaTasks, is_rtp_version_2, srtp_refused};

/// Where one stream's packets go once received.
pub(crate) type PacketSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// How often a stream's figures reach `/status` and the metrics, at the least.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(250);

/// One negotiated stream of the room system's leg.
pub(crate) struct VtcStreamPlan {
    /// `audio` or `video` (for `/status` and metrics).
    pub(crate) media: &'static str,
    pub(crate) rtp_port: u16,
    /// `None` with rtcp-mux.
    pub(crate) rtcp_port: Option<u16>,
    pub(crate) remote_rtp: SocketAddr,
    /// Where the SDP says RTCP goes (`a=rtcp`, else the RTP port + 1, or the RTP address with
    /// rtcp-mux).
    pub(crate) remote_rtcp: SocketAddr,
    /// The SDES keys (none for plain RTP), replaced when a re-INVITE re-keys the stream.
    pub(crate) keys: Arc<StreamKeys>,
    /// The RTP clock rate of the negotiated payload.
    pub(crate) clock_rate: u32,
    /// The payload types the room system may send on this stream (the codec's, and the
    /// telephone-event one on audio if agreed).
    pub(crate) payload_types: Vec<u8>,
    /// The RTCP feedback agreed on video (chooses PLI or FIR).
    pub(crate) rtcp_fb: RtcpFeedback,
    /// The SSRC the media plane sends with on this stream (for RTCP before the first packet).
    pub(crate) local_ssrc: u32,
    /// What receives this stream's RTP.
    pub(crate) sink: PacketSink,
    /// Called for every keyframe request (PLI or new FIR) the room system sends on this stream.
    pub(crate) on_keyframe_request: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl VtcStreamPlan {
    fn core_config(&self, cname: &str) -> StreamConfig {
        if self.media == "video" {
            StreamConfig::video(
                self.clock_rate,
                self.payload_types.clone(),
                KeyframeMessage::for_feedback(self.rtcp_fb),
                self.local_ssrc,
                cname,
            )
        } else {
            StreamConfig::audio(
                self.clock_rate,
                self.payload_types.clone(),
                self.local_ssrc,
                cname,
            )
        }
    }
}

/// Where RTCP for the room system goes: where its RTCP comes from once it has arrived
/// (symmetric RTCP, RFC 4961); else, once its RTP has come from an address other than the
/// SDP's, that address (rtcp-mux) or its port + 1; else the SDP's RTCP address.
#[derive(Debug)]
struct RtcpTarget {
    sdp_rtp: SocketAddr,
    sdp_rtcp: SocketAddr,
    mux: bool,
    rtp_from: Option<SocketAddr>,
    rtcp_from: Option<SocketAddr>,
}

impl RtcpTarget {
    fn address(&self) -> SocketAddr {
        if let Some(from) = self.rtcp_from {
            return from;
        }
        match self.rtp_from {
            Some(from) if from != self.sdp_rtp => {
                if self.mux {
                    from
                } else {
                    SocketAddr::new(from.ip(), from.port().wrapping_add(1))
                }
            }
            _ => self.sdp_rtcp,
        }
    }
}

/// One stream's core and what its RTCP needs, shared by the receive tasks, the RTCP task,
/// the sender (GStreamer threads) and the media plane's keyframe requests.
struct Stream {
    media: &'static str,
    core: Mutex<RtpStream>,
    /// Wakes the RTCP task early (feedback to send).
    wake: Notify,
    rtcp_socket: Arc<std::net::UdpSocket>,
    /// Protects our RTCP: the only session that does, so SRTCP indexes never repeat.
    rtcp_srtp: Mutex<KeyedSrtp>,
    target: Mutex<RtcpTarget>,
    published: Mutex<Published>,
}

/// What was last shown of a stream.
struct Published {
    detail: Arc<CallDetail>,
    index: usize,
    metrics: Metrics,
    last: StreamFigures,
}

impl Stream {
    /// Runs the core's timer at `now`, sends what RTCP is due, and publishes the figures.
    fn tick(&self) {
        let now = Instant::now();
        let (out, figures) = {
            let mut core = lock(&self.core);
            core.handle_timeout(now);
            let mut out = Vec::new();
            while let Some(packet) = core.poll_rtcp(now) {
                out.push(packet);
            }
            (out, core.figures(now))
        };
        for packet in out {
            self.send_rtcp(&packet);
        }
        self.publish(figures);
    }

    fn send_rtcp(&self, packet: &[u8]) {
        let protected;
        let bytes = match lock(&self.rtcp_srtp).protect_rtcp(packet) {
            Ok(Some(out)) => {
                protected = out;
                &protected[..]
            }
            Ok(None) => packet,
            Err(error) => {
                debug!(media = self.media, "RTCP not protected: {error}");
                return;
            }
        };
        let to = lock(&self.target).address();
        if let Err(e) = self.rtcp_socket.send_to(bytes, to) {
            debug!(%to, "RTCP to the room system not sent: {e}");
        }
    }

    fn publish(&self, figures: StreamFigures) {
        let mut published = lock(&self.published);
        published
            .metrics
            .count_vtc_stream(self.media, &published.last, &figures);
        published.detail.streams[published.index].set_rtp(figures.clone());
        published.last = figures;
    }

    /// Wakes the RTCP task when the core needs it soon (a reorder window runs, feedback
    /// waits), so that it does not sleep through the deadline on an older timeout.
    fn wake_if_soon(&self, now: Instant) {
        if lock(&self.core).poll_timeout() <= now + crate::rtp::stream::REORDER_WINDOW {
            self.wake.notify_one();
        }
    }
}

/// The sending half of one stream.
#[derive(Clone)]
pub(crate) struct VtcSender {
    socket: Arc<std::net::UdpSocket>,
    remote: Arc<Mutex<SocketAddr>>,
    srtp: Arc<Mutex<KeyedSrtp>>,
    stream: Arc<Stream>,
}

impl VtcSender {
    /// Sends one RTP packet to the room system (protected when SRTP was agreed). Errors are
    /// dropped: RTP is best effort, and the receive side reports a vanished peer.
    pub(crate) fn send_rtp(&self, packet: &[u8]) {
        lock(&self.stream.core).sent_rtp(packet, Instant::now());
        let protected;
        let bytes = match lock(&self.srtp).protect_rtp(packet) {
            Ok(Some(out)) => {
                protected = out;
                &protected[..]
            }
            Ok(None) => packet,
            Err(_) => return,
        };
        let to = *lock(&self.remote);
        if let Err(e) = self.socket.send_to(bytes, to) {
            debug!(%to, "RTP to the room system not sent: {e}");
        }
    }
}

/// A handle on one stream for the media plane: asks the room system for a keyframe.
#[derive(Clone)]
pub(crate) struct VtcStreamHandle {
    stream: Arc<Stream>,
}

impl VtcStreamHandle {
    /// The media plane needs a keyframe from the room system (its decoder lost the picture):
    /// a PLI or FIR goes out at once, unless one went out less than 500 ms ago. Does nothing
    /// on audio.
    pub(crate) fn request_keyframe(&self) {
        lock(&self.stream.core).request_keyframe(Instant::now());
        self.stream.wake.notify_one();
    }
}

/// The media sockets of one gateway call's room-system leg.
pub(crate) struct VtcMedia {
    /// One sender per stream, in plan order.
    pub(crate) senders: Vec<VtcSender>,
    /// One handle per stream, in plan order.
    pub(crate) handles: Vec<VtcStreamHandle>,
    streams: Vec<Arc<Stream>>,
    started: Instant,
    _tasks: MediaTasks,
}

impl Drop for VtcMedia {
    /// The last figures reach `/status` and the metrics.
    fn drop(&mut self) {
        for stream in &self.streams {
            let figures = lock(&stream.core).figures(Instant::now());
            stream.publish(figures);
        }
    }
}

impl VtcMedia {
    /// Binds every socket of `plans` on `address`, then starts the receivers and the RTCP
    /// tasks; stream `i` is shown in `detail.streams[i]`. Must run inside the tokio runtime.
    pub(crate) fn start(
        address: IpAddr,
        plans: Vec<VtcStreamPlan>,
        detail: Arc<CallDetail>,
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
        // One CNAME for every stream of the call (RFC 3550 §6.5.1: it binds them together).
        let cname = format!("{:016x}@tcn", rand::random::<u64>());
        let mut tasks = MediaTasks::default();
        let mut senders = Vec::new();
        let mut streams = Vec::new();
        for (index, (plan, (rtp, rtcp))) in plans.into_iter().zip(bound).enumerate() {
            if plan.keys.is_srtp() {
                detail.streams[index].set_srtp();
            }
            // A clone shares the non-blocking flag with the receiving socket (one open file
            // description): a full send buffer drops the packet, as a network would.
            let send_socket = Arc::new(rtp.try_clone()?);
            let rtcp_socket = match &rtcp {
                Some(rtcp) => Arc::new(rtcp.try_clone()?),
                None => Arc::clone(&send_socket),
            };
            let remote = Arc::new(Mutex::new(plan.remote_rtp));
            let stream = Arc::new(Stream {
                media: plan.media,
                core: Mutex::new(RtpStream::new(
                    plan.core_config(&cname),
                    Instant::now(),
                    SystemTime::now(),
                )),
                wake: Notify::new(),
                rtcp_socket,
                rtcp_srtp: Mutex::new(KeyedSrtp::new(Arc::clone(&plan.keys))),
                target: Mutex::new(RtcpTarget {
                    sdp_rtp: plan.remote_rtp,
                    sdp_rtcp: plan.remote_rtcp,
                    mux: plan.rtcp_port.is_none(),
                    rtp_from: None,
                    rtcp_from: None,
                }),
                published: Mutex::new(Published {
                    detail: Arc::clone(&detail),
                    index,
                    metrics: metrics.clone(),
                    last: StreamFigures::default(),
                }),
            });
            // One SRTP session per direction and socket: the keys are the same, the replay
            // windows and rollover counters are not.
            let srtp_out = Arc::new(Mutex::new(KeyedSrtp::new(Arc::clone(&plan.keys))));
            senders.push(VtcSender {
                socket: send_socket,
                remote: Arc::clone(&remote),
                srtp: srtp_out,
                stream: Arc::clone(&stream),
            });
            let receiver = || Receiver {
                srtp: KeyedSrtp::new(Arc::clone(&plan.keys)),
                detail: Arc::clone(&detail),
                index,
                metrics: metrics.clone(),
                sink: Arc::clone(&plan.sink),
                on_keyframe_request: plan.on_keyframe_request.clone(),
                remote: Arc::clone(&remote),
                stream: Arc::clone(&stream),
            };
            let rtp = UdpSocket::from_std(rtp)?;
            tasks.0.push(tokio::spawn(receiver().rtp(rtp)));
            if let Some(rtcp) = rtcp {
                let rtcp = UdpSocket::from_std(rtcp)?;
                tasks.0.push(tokio::spawn(receiver().rtcp(rtcp)));
            }
            tasks.0.push(tokio::spawn(rtcp_timer(Arc::clone(&stream))));
            streams.push(stream);
        }
        Ok(Self {
            senders,
            handles: streams
                .iter()
                .map(|stream| VtcStreamHandle {
                    stream: Arc::clone(stream),
                })
                .collect(),
            streams,
            started: Instant::now(),
            _tasks: tasks,
        })
    }

    /// How long the room system has sent nothing on any RTP socket of the call (since the
    /// sockets were bound, when it never has): the call's media timeout reads it.
    pub(crate) fn rtp_idle_for(&self, now: Instant) -> Duration {
        self.streams
            .iter()
            .map(|stream| {
                let last = lock(&stream.core).last_rtp().unwrap_or(self.started);
                now.saturating_duration_since(last)
            })
            .min()
            .unwrap_or_default()
    }
}

/// Runs one stream's core timer: wakes when the core asks (or when woken for feedback),
/// at least every [`PUBLISH_INTERVAL`].
async fn rtcp_timer(stream: Arc<Stream>) {
    loop {
        let next = lock(&stream.core)
            .poll_timeout()
            .min(Instant::now() + PUBLISH_INTERVAL);
        tokio::select! {
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(next)) => {}
            () = stream.wake.notified() => {}
        }
        stream.tick();
    }
}

/// The receiving half of one stream (one per socket: each owns its SRTP replay window).
struct Receiver {
    srtp: KeyedSrtp,
    detail: Arc<CallDetail>,
    index: usize,
    metrics: Metrics,
    sink: PacketSink,
    on_keyframe_request: Option<Arc<dyn Fn() + Send + Sync>>,
    remote: Arc<Mutex<SocketAddr>>,
    stream: Arc<Stream>,
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
                let packet = packet.to_vec();
                self.on_rtcp(&packet, from);
                continue;
            }
            let stats = &self.detail.streams[self.index];
            let clear = match self.srtp.unprotect_rtp(packet) {
                Ok(None) => packet.to_vec(),
                Ok(Some(clear)) => clear,
                Err(error) => {
                    srtp_refused(stats, &self.metrics, error);
                    continue;
                }
            };
            let now = Instant::now();
            // The guard must be gone before wake_if_soon locks the core again (a guard in an
            // `if let` scrutinee lives through its block: that deadlocked on the first drop).
            let received = lock(&self.stream.core).receive_rtp(&clear, now);
            if let Err(dropped) = received {
                debug!(
                    media = stats.media,
                    "RTP from the room system dropped: {dropped}"
                );
                self.stream.wake_if_soon(now);
                continue;
            }
            self.stream.wake_if_soon(now);
            stats.count();
            self.metrics.count_rtp(stats.media);
            // Symmetric RTP (RFC 4961): answer where accepted, authenticated media comes from.
            {
                let mut remote = lock(&self.remote);
                if *remote != from {
                    debug!(%from, was = %*remote, "room system's RTP latched");
                    *remote = from;
                    lock(&self.stream.target).rtp_from = Some(from);
                }
            }
            (self.sink)(&clear);
        }
    }

    /// RTCP on its own socket.
    async fn rtcp(mut self, socket: UdpSocket) {
        let mut buf = vec![0; 2048];
        while let Ok((len, from)) = socket.recv_from(&mut buf).await {
            if is_rtp_version_2(&buf[..len]) {
                let packet = buf[..len].to_vec();
                self.on_rtcp(&packet, from);
            }
        }
    }

    fn on_rtcp(&mut self, packet: &[u8], from: SocketAddr) {
        let clear = match self.srtp.unprotect_rtcp(packet) {
            Ok(None) => packet.to_vec(),
            Ok(Some(clear)) => clear,
            Err(error) => {
                srtp_refused(&self.detail.streams[self.index], &self.metrics, error);
                return;
            }
        };
        let received = lock(&self.stream.core).receive_rtcp(&clear, Instant::now());
        match received {
            Ok(received) => {
                lock(&self.stream.target).rtcp_from = Some(from);
                if let Some(request) = &self.on_keyframe_request {
                    for _ in 0..received.keyframe_requests {
                        request();
                    }
                }
            }
            Err(error) => debug!(%from, "RTCP from the room system refused: {error}"),
        }
    }
}

/// Whether a datagram on an RTP port is RTCP (RFC 5761 §4: payload types 64–95 are RTCP's
/// 192–223 with the marker bit).
fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && (192..=223).contains(&packet[1])
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtcp_goes_where_the_room_systems_packets_come_from() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let mut target = RtcpTarget {
            sdp_rtp: addr("10.0.0.1:5000"),
            sdp_rtcp: addr("10.0.0.1:5005"),
            mux: false,
            rtp_from: None,
            rtcp_from: None,
        };
        assert_eq!(target.address(), addr("10.0.0.1:5005"));
        // RTP from where the SDP said: the SDP's `a=rtcp` still holds.
        target.rtp_from = Some(addr("10.0.0.1:5000"));
        assert_eq!(target.address(), addr("10.0.0.1:5005"));
        // RTP from behind a NAT: its port + 1, or the same address with rtcp-mux.
        target.rtp_from = Some(addr("192.0.2.7:40000"));
        assert_eq!(target.address(), addr("192.0.2.7:40001"));
        target.mux = true;
        assert_eq!(target.address(), addr("192.0.2.7:40000"));
        // Its own RTCP's source wins.
        target.rtcp_from = Some(addr("192.0.2.7:40123"));
        assert_eq!(target.address(), addr("192.0.2.7:40123"));
    }

    #[test]
    fn rtcp_is_told_from_rtp_on_a_muxed_port() {
        assert!(is_rtcp(&[0x81, 206]));
        assert!(is_rtcp(&[0x80, 200]));
        assert!(!is_rtcp(&[0x80, 96]));
        assert!(!is_rtcp(&[0x80, 0xe0 - 0x80]));
    }
}
