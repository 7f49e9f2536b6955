//! The sans-IO RTP/RTCP core of one room-system stream: what arrives is handed in with the
//! time it arrived, what the node sends is reported to it, and it answers with the RTCP to
//! send and the time it next needs to be woken. No socket, no clock, no thread.
//!
//! ```text
//!  receive_rtp(packet, now) ──► accept (forward to the media plane) or a Dropped reason
//!  sent_rtp(packet, now)        (counts for the SR)
//!  receive_rtcp(packet, now) ─► keyframe requests of the room system
//!  request_keyframe(now)        (the media plane's decoder needs one)
//!  handle_timeout(now); poll_rtcp(now) ─► compound RTCP bytes; poll_timeout() ─► next wake
//! ```
//!
//! **Sources.** The first SSRC is latched at once. A different SSRC later must pass the
//! probation of RFC 3550 A.1 (`MIN_SEQUENTIAL` = 2 packets in sequence; until then its
//! packets are dropped and counted); then the statistics restart on it and, on video, a
//! keyframe is asked for. A payload type outside the negotiated set is dropped and counted,
//! but its sequence number still counts as received (it did arrive: it is not a loss).
//!
//! **Loss on video.** A gap in the sequence numbers waits [`REORDER_WINDOW`] (50 ms) for late
//! packets; a hole still open then asks for a keyframe (a gap wider than [`MAX_TRACKED_GAP`]
//! asks at once). Keyframe requests are rate-limited by [`super::feedback`].
//!
//! **RTCP timing.** Regular reports follow RFC 3550 §6.2 for a two-member session, where the
//! minimum interval dominates the computed one: 5 s on audio (the RFC's fixed minimum) and
//! 1 s on video (the "reduced minimum" of §6.2, 360 / kbit/s, is 0.24 s at 1.5 Mbit/s; we
//! keep 1 s, which is what WebRTC stacks send on video), the first report after half the
//! minimum, each interval randomised over [0.5, 1.5] × the minimum (§6.3.1; no timer
//! reconsideration, which matters only when membership changes). Feedback uses RFC 4585's
//! Immediate Feedback mode (§3.5.2, allowed for a two-party session): a keyframe request goes
//! out at once as its own compound packet (SR or RR, SDES, then PLI or FIR) and does not move
//! the regular schedule.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::feedback::{KeyframeCounts, KeyframeMessage, KeyframeRequests};
use super::header::{RtpHeader, RtpHeaderError};
use super::receive_stats::{SequenceOutcome, SourceStats};
use super::rtcp::{ReportBlock, RtcpError, RtcpPacket, SenderInfo, parse_compound};

/// How long a sequence gap on video waits for its late packets before it counts as loss.
pub const REORDER_WINDOW: Duration = Duration::from_millis(50);
/// A gap wider than this many packets asks for a keyframe without waiting.
pub const MAX_TRACKED_GAP: u64 = 64;
/// RFC 3550 A.1 `MIN_SEQUENTIAL`: packets in sequence a new SSRC needs before it is taken.
pub const MIN_SEQUENTIAL: u8 = 2;
/// Seconds from 1900 (NTP) to 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Audio or video: video streams ask for keyframes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// An audio stream.
    Audio,
    /// A video stream.
    Video,
}

/// What the core needs to know about one negotiated stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Audio or video.
    pub kind: MediaKind,
    /// The RTP clock rate of the payload (90000 video, 8000 G.711 and G.722, 48000 Opus).
    pub clock_rate: u32,
    /// The payload types the room system may send (the codec's, and on audio the
    /// telephone-event one if agreed); others are dropped.
    pub payload_types: Vec<u8>,
    /// How to ask for a keyframe; `None` on audio.
    pub keyframes: Option<KeyframeMessage>,
    /// Our SSRC on this stream until the first packet we send says otherwise.
    pub local_ssrc: u32,
    /// Our CNAME (the same on every stream of the call, RFC 3550 §6.5.1).
    pub cname: String,
    /// The minimum regular RTCP interval (default: 5 s audio, 1 s video).
    pub rtcp_interval: Duration,
    /// Seeds the randomisation of the RTCP interval.
    pub seed: u64,
}

impl StreamConfig {
    /// An audio stream with the default 5 s RTCP interval.
    pub fn audio(clock_rate: u32, payload_types: Vec<u8>, local_ssrc: u32, cname: &str) -> Self {
        Self {
            kind: MediaKind::Audio,
            clock_rate,
            payload_types,
            keyframes: None,
            local_ssrc,
            cname: cname.to_owned(),
            rtcp_interval: Duration::from_secs(5),
            seed: u64::from(local_ssrc),
        }
    }

    /// A video stream with the default 1 s RTCP interval, asking for keyframes with
    /// `keyframes`.
    pub fn video(
        clock_rate: u32,
        payload_types: Vec<u8>,
        keyframes: KeyframeMessage,
        local_ssrc: u32,
        cname: &str,
    ) -> Self {
        Self {
            kind: MediaKind::Video,
            keyframes: Some(keyframes),
            rtcp_interval: Duration::from_secs(1),
            ..Self::audio(clock_rate, payload_types, local_ssrc, cname)
        }
    }
}

/// Why a received packet is not passed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Dropped {
    /// Not a readable RTP packet.
    #[error("malformed: {0}")]
    Malformed(RtpHeaderError),
    /// A payload type that was not negotiated.
    #[error("payload type {0} not negotiated")]
    PayloadType(u8),
    /// A new SSRC still on probation.
    #[error("SSRC {0:#010x} on probation")]
    Probation(u32),
    /// A sequence jump not (yet) confirmed by the next packet.
    #[error("sequence number jump")]
    SequenceJump,
}

impl Dropped {
    /// Every metric label of a drop reason.
    pub const LABELS: [&'static str; 4] = [
        "malformed",
        "payload_type",
        "ssrc_probation",
        "sequence_jump",
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::PayloadType(_) => "payload_type",
            Self::Probation(_) => "ssrc_probation",
            Self::SequenceJump => "sequence_jump",
        }
    }
}

/// What a received RTCP packet asked of the node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtcpReceived {
    /// Keyframe requests (PLIs, and FIRs with a new sequence number) for the video encoder.
    pub keyframe_requests: u32,
}

/// Packets dropped on one stream, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    /// Not readable as RTP.
    pub malformed: u64,
    /// Payload type not negotiated.
    pub payload_type: u64,
    /// A new SSRC on probation.
    pub ssrc_probation: u64,
    /// An unconfirmed sequence jump.
    pub sequence_jump: u64,
}

/// What the room system reports about what the node sends it (its RR or SR report block
/// about our SSRC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RemoteReport {
    /// Lost in its last interval, 0 to 1.
    pub fraction_lost: f64,
    /// Lost since the start.
    pub cumulative_lost: i64,
    /// Its interarrival jitter, in milliseconds.
    pub jitter_ms: f64,
}

/// The figures of one stream, for `/status` and the metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StreamFigures {
    /// The room system's SSRC on this stream, once latched.
    pub ssrc_in: Option<u32>,
    /// Our SSRC on this stream.
    pub ssrc_out: u32,
    /// RTP packets passed on to the media plane.
    pub packets_in: u64,
    /// Their bytes (RTP headers included).
    pub bytes_in: u64,
    /// Bit rate in, over the last whole second (RTP headers included).
    pub bitrate_in_bps: u64,
    /// RTP packets sent to the room system.
    pub packets_out: u64,
    /// Their bytes (RTP headers included).
    pub bytes_out: u64,
    /// Bit rate out, over the last whole second.
    pub bitrate_out_bps: u64,
    /// Packets expected since the start of the call (RFC 3550 A.3), over every SSRC the room
    /// system used.
    pub expected: u64,
    /// Packets lost since the start of the call, over every SSRC the room system used
    /// (negative with duplicates).
    pub lost: i64,
    /// Lost in the interval of our last report, 0 to 1.
    pub fraction_lost: f64,
    /// Interarrival jitter of the current source, in milliseconds.
    pub jitter_ms: f64,
    /// Times the room system's SSRC changed (after probation).
    pub ssrc_changes: u64,
    /// Packets dropped, by reason.
    pub dropped: DropCounts,
    /// Keyframe requests both ways.
    pub keyframe_requests: KeyframeCounts,
    /// RTCP packets (compounds) sent.
    pub rtcp_sent: u64,
    /// RTCP compounds received and read.
    pub rtcp_received: u64,
    /// RTCP compounds refused as malformed.
    pub rtcp_errors: u64,
    /// What the room system last reported about what we send.
    pub remote: Option<RemoteReport>,
}

/// Bytes per whole second.
#[derive(Debug)]
struct Rate {
    window_start: Instant,
    bytes: u64,
    last_bps: u64,
}

impl Rate {
    fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            bytes: 0,
            last_bps: 0,
        }
    }

    fn roll(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= Duration::from_secs(2) {
            // A silent second (or more) in between: nothing is flowing now.
            self.last_bps = if elapsed < Duration::from_secs(3) {
                self.bytes * 8 * 1000 / elapsed.as_millis().max(1) as u64
            } else {
                0
            };
            self.window_start = now;
            self.bytes = 0;
        } else if elapsed >= Duration::from_secs(1) {
            self.last_bps = self.bytes * 8 * 1000 / elapsed.as_millis().max(1) as u64;
            self.window_start = now;
            self.bytes = 0;
        }
    }

    fn add(&mut self, bytes: usize, now: Instant) {
        self.roll(now);
        self.bytes += bytes as u64;
    }

    fn bps(&mut self, now: Instant) -> u64 {
        self.roll(now);
        self.last_bps
    }
}

/// The source being followed.
#[derive(Debug)]
struct Source {
    ssrc: u32,
    stats: SourceStats,
}

/// A new SSRC on probation: the sequence number it must send next and how many more.
#[derive(Debug)]
struct Candidate {
    ssrc: u32,
    next: u16,
    remaining: u8,
}

/// What we sent, for the SR.
#[derive(Debug, Default)]
struct Sent {
    ssrc: Option<u32>,
    packets: u64,
    /// Payload octets (the SR's count).
    octets: u64,
    bytes: u64,
    last: Option<(u32, Instant)>,
    since_report: bool,
}

/// The RTP/RTCP core of one stream.
#[derive(Debug)]
pub struct RtpStream {
    config: StreamConfig,
    source: Option<Source>,
    candidate: Option<Candidate>,
    /// Video: extended sequence numbers missing, and when they count as lost.
    missing: BTreeMap<u64, Instant>,
    keyframes: KeyframeRequests,
    sent: Sent,
    /// The room system's last SR: the middle 32 bits of its NTP time, and when it arrived.
    remote_sr: Option<(u32, Instant)>,
    remote: Option<RemoteReport>,
    /// Wallclock reference: an instant and its NTP time.
    clock: (Instant, u64),
    next_report: Instant,
    rng: u64,
    packets_in: u64,
    bytes_in: u64,
    rate_in: Rate,
    rate_out: Rate,
    lost_before: i64,
    expected_before: u64,
    fraction_lost: f64,
    ssrc_changes: u64,
    dropped: DropCounts,
    rtcp_sent: u64,
    rtcp_received: u64,
    rtcp_errors: u64,
    /// When the last datagram came in on the RTP socket (taken or not).
    last_rtp: Option<Instant>,
}

impl RtpStream {
    /// A stream with nothing received or sent yet; `wallclock` is the time of day at `now`
    /// (for the NTP timestamps of SRs).
    pub fn new(config: StreamConfig, now: Instant, wallclock: SystemTime) -> Self {
        let since_unix = wallclock.duration_since(UNIX_EPOCH).unwrap_or_default();
        let ntp = ((since_unix.as_secs() + NTP_UNIX_OFFSET) << 32)
            | ((u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000);
        let keyframes = KeyframeRequests::new(config.keyframes.unwrap_or(KeyframeMessage::Pli));
        let mut stream = Self {
            rng: config.seed | 1,
            source: None,
            candidate: None,
            missing: BTreeMap::new(),
            keyframes,
            sent: Sent::default(),
            remote_sr: None,
            remote: None,
            clock: (now, ntp),
            next_report: now,
            packets_in: 0,
            bytes_in: 0,
            rate_in: Rate::new(now),
            rate_out: Rate::new(now),
            lost_before: 0,
            expected_before: 0,
            fraction_lost: 0.0,
            ssrc_changes: 0,
            dropped: DropCounts::default(),
            rtcp_sent: 0,
            rtcp_received: 0,
            rtcp_errors: 0,
            last_rtp: None,
            config,
        };
        // The first report after half the minimum interval (RFC 3550 §6.2).
        stream.next_report = now + stream.randomised(stream.config.rtcp_interval / 2);
        stream
    }

    /// The configuration the stream was made with.
    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    /// `interval` × a uniform factor in [0.5, 1.5) (xorshift64; no cryptographic need).
    fn randomised(&mut self, interval: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        interval.mul_f64(0.5 + unit)
    }

    /// When the last datagram came in on the RTP socket, whether it was taken or dropped:
    /// the room system is there. `None` before the first.
    pub fn last_rtp(&self) -> Option<Instant> {
        self.last_rtp
    }

    fn is_video(&self) -> bool {
        self.config.kind == MediaKind::Video
    }

    /// A packet from the room system (after SRTP) at `now`: `Ok` to pass it on, or why not.
    pub fn receive_rtp(&mut self, packet: &[u8], now: Instant) -> Result<(), Dropped> {
        self.last_rtp = Some(now);
        let result = self.classify(packet, now);
        match result {
            Ok(()) => {
                self.packets_in += 1;
                self.bytes_in += packet.len() as u64;
                self.rate_in.add(packet.len(), now);
            }
            Err(Dropped::Malformed(_)) => self.dropped.malformed += 1,
            Err(Dropped::PayloadType(_)) => self.dropped.payload_type += 1,
            Err(Dropped::Probation(_)) => self.dropped.ssrc_probation += 1,
            Err(Dropped::SequenceJump) => self.dropped.sequence_jump += 1,
        }
        result
    }

    fn classify(&mut self, packet: &[u8], now: Instant) -> Result<(), Dropped> {
        let header = RtpHeader::parse(packet).map_err(Dropped::Malformed)?;
        let allowed = self.config.payload_types.contains(&header.payload_type);
        let Some(source) = self.source.as_mut().filter(|s| s.ssrc == header.ssrc) else {
            if !allowed {
                return Err(Dropped::PayloadType(header.payload_type));
            }
            return self.new_ssrc(&header, now);
        };
        match source.stats.update(header.sequence, header.timestamp, now) {
            SequenceOutcome::InOrder { missing, .. } => {
                if self.is_video() && !missing.is_empty() {
                    if missing.end - missing.start > MAX_TRACKED_GAP {
                        self.request(now);
                    } else {
                        let deadline = now + REORDER_WINDOW;
                        self.missing.extend(missing.map(|seq| (seq, deadline)));
                    }
                }
            }
            SequenceOutcome::Late { extended } => {
                self.missing.remove(&extended);
            }
            SequenceOutcome::Jump => return Err(Dropped::SequenceJump),
            SequenceOutcome::Restarted => {
                // The source renumbered its packets: a new start, as with a new SSRC.
                self.missing.clear();
                if self.is_video() {
                    self.request(now);
                }
            }
        }
        if allowed {
            Ok(())
        } else {
            Err(Dropped::PayloadType(header.payload_type))
        }
    }

    /// A packet of an SSRC other than the followed one (RFC 3550 A.1 probation).
    fn new_ssrc(&mut self, header: &RtpHeader, now: Instant) -> Result<(), Dropped> {
        let rate = self.config.clock_rate;
        let start = |header: &RtpHeader| Source {
            ssrc: header.ssrc,
            stats: SourceStats::new(header.sequence, header.timestamp, now, rate),
        };
        let Some(old) = &self.source else {
            // The first source is taken at once.
            self.source = Some(start(header));
            return Ok(());
        };
        let confirmed = match &mut self.candidate {
            Some(c) if c.ssrc == header.ssrc && c.next == header.sequence => {
                c.remaining -= 1;
                c.next = c.next.wrapping_add(1);
                c.remaining == 0
            }
            _ => {
                self.candidate = Some(Candidate {
                    ssrc: header.ssrc,
                    next: header.sequence.wrapping_add(1),
                    remaining: MIN_SEQUENTIAL - 1,
                });
                false
            }
        };
        if !confirmed {
            return Err(Dropped::Probation(header.ssrc));
        }
        self.lost_before += old.stats.lost();
        self.expected_before += old.stats.expected();
        self.source = Some(start(header));
        self.candidate = None;
        self.missing.clear();
        self.ssrc_changes += 1;
        if self.is_video() {
            self.request(now);
        }
        Ok(())
    }

    /// A packet the node sent to the room system at `now` (before SRTP), counted for the SR.
    pub fn sent_rtp(&mut self, packet: &[u8], now: Instant) {
        let Ok(header) = RtpHeader::parse(packet) else {
            return;
        };
        let sent = &mut self.sent;
        sent.ssrc = Some(header.ssrc);
        sent.packets += 1;
        sent.octets += header.payload_len as u64;
        sent.bytes += packet.len() as u64;
        sent.last = Some((header.timestamp, now));
        sent.since_report = true;
        self.rate_out.add(packet.len(), now);
    }

    /// Our SSRC on this stream: that of what we send, else the configured one.
    pub fn local_ssrc(&self) -> u32 {
        self.sent.ssrc.unwrap_or(self.config.local_ssrc)
    }

    /// The media plane needs a keyframe from the room system (its decoder lost the picture).
    /// Video only; rate-limited.
    pub fn request_keyframe(&mut self, now: Instant) {
        if self.is_video() {
            self.request(now);
        }
    }

    fn request(&mut self, now: Instant) {
        if self.source.is_none() {
            self.keyframes.refuse();
        } else {
            self.keyframes.request(now);
        }
    }

    /// A compound RTCP packet from the room system (after SRTCP) at `now`.
    pub fn receive_rtcp(&mut self, packet: &[u8], now: Instant) -> Result<RtcpReceived, RtcpError> {
        let packets = match parse_compound(packet) {
            Ok(packets) => packets,
            Err(error) => {
                self.rtcp_errors += 1;
                return Err(error);
            }
        };
        self.rtcp_received += 1;
        let mut received = RtcpReceived::default();
        let ours = self.local_ssrc();
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport { info, reports, .. } => {
                    self.remote_sr = Some(((info.ntp >> 16) as u32, now));
                    self.remote_report(&reports, ours);
                }
                RtcpPacket::ReceiverReport { reports, .. } => self.remote_report(&reports, ours),
                // Whatever media SSRC it names: room systems are not all careful with it, and
                // the node sends one video stream.
                RtcpPacket::Pli { .. } if self.is_video() => {
                    self.keyframes.received_pli();
                    received.keyframe_requests += 1;
                }
                RtcpPacket::Fir { entries, .. } if self.is_video() => {
                    if let Some(entry) = entries
                        .iter()
                        .find(|e| e.ssrc == ours)
                        .or_else(|| entries.first())
                        && self.keyframes.received_fir(entry.sequence)
                    {
                        received.keyframe_requests += 1;
                    }
                }
                _ => {}
            }
        }
        Ok(received)
    }

    fn remote_report(&mut self, reports: &[ReportBlock], ours: u32) {
        if let Some(block) = reports.iter().find(|b| b.ssrc == ours) {
            self.remote = Some(RemoteReport {
                fraction_lost: f64::from(block.fraction_lost) / 256.0,
                cumulative_lost: i64::from(block.cumulative_lost),
                jitter_ms: f64::from(block.jitter) * 1000.0 / f64::from(self.config.clock_rate),
            });
        }
    }

    /// Lets the reorder window run out at `now`: a video hole still open asks for a keyframe.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<u64> = self
            .missing
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(seq, _)| *seq)
            .collect();
        if !expired.is_empty() {
            for seq in expired {
                self.missing.remove(&seq);
            }
            self.request(now);
        }
    }

    /// When the core next needs [`handle_timeout`](Self::handle_timeout) and
    /// [`poll_rtcp`](Self::poll_rtcp): the next regular report, the end of a reorder window,
    /// or, when feedback waits, an instant already past (call at once).
    pub fn poll_timeout(&self) -> Instant {
        let mut at = self.next_report;
        if let Some(deadline) = self.missing.values().min() {
            at = at.min(*deadline);
        }
        if self.keyframes.pending() {
            at = self.clock.0;
        }
        at
    }

    /// The next compound RTCP packet to send at `now`, if one is due: feedback at once, a
    /// regular report on its schedule.
    pub fn poll_rtcp(&mut self, now: Instant) -> Option<Vec<u8>> {
        let feedback = match &self.source {
            Some(source) if self.keyframes.pending() => {
                let (ours, theirs) = (self.local_ssrc(), source.ssrc);
                self.keyframes.take(ours, theirs, now)
            }
            _ => None,
        };
        if feedback.is_none() && now < self.next_report {
            return None;
        }
        let mut packets = vec![self.report(now)];
        packets.push(RtcpPacket::SourceDescription(vec![(
            self.local_ssrc(),
            Some(self.config.cname.as_bytes().to_vec()),
        )]));
        match feedback {
            Some(feedback) => packets.push(feedback),
            None => {
                let interval = self.randomised(self.config.rtcp_interval);
                self.next_report = now + interval;
            }
        }
        self.rtcp_sent += 1;
        Some(super::rtcp::write_compound(&packets))
    }

    /// An SR when we sent since the last report, else an RR; with a report block about the
    /// room system's source once there is one.
    fn report(&mut self, now: Instant) -> RtcpPacket {
        let ssrc = self.local_ssrc();
        let remote_sr = self.remote_sr;
        let reports: Vec<ReportBlock> = self
            .source
            .as_mut()
            .map(|source| {
                let figures = source.stats.report();
                let (last_sr, delay_since_last_sr) = remote_sr.map_or((0, 0), |(lsr, at)| {
                    let delay = now.saturating_duration_since(at);
                    (lsr, (delay.as_micros() * 65_536 / 1_000_000) as u32)
                });
                ReportBlock {
                    ssrc: source.ssrc,
                    fraction_lost: figures.fraction_lost,
                    cumulative_lost: figures.cumulative_lost,
                    extended_highest: figures.extended_highest,
                    jitter: figures.jitter,
                    last_sr,
                    delay_since_last_sr,
                }
            })
            .into_iter()
            .collect();
        if let Some(block) = reports.first() {
            self.fraction_lost = f64::from(block.fraction_lost) / 256.0;
        }
        if !std::mem::take(&mut self.sent.since_report) {
            return RtcpPacket::ReceiverReport { ssrc, reports };
        }
        // The RTP time that goes with the report's wallclock time: the last packet's
        // timestamp, moved on by the time since it was sent (RFC 3550 §6.4.1).
        let rtp_timestamp = self.sent.last.map_or(0, |(ts, at)| {
            let since = now.saturating_duration_since(at).as_nanos();
            ts.wrapping_add((since * u128::from(self.config.clock_rate) / 1_000_000_000) as u32)
        });
        RtcpPacket::SenderReport {
            ssrc,
            info: SenderInfo {
                ntp: self.ntp(now),
                rtp_timestamp,
                packets: self.sent.packets as u32,
                octets: self.sent.octets as u32,
            },
            reports,
        }
    }

    /// The NTP time (32.32) of `now`.
    fn ntp(&self, now: Instant) -> u64 {
        let (base, ntp) = self.clock;
        let since = now.saturating_duration_since(base);
        let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
        ntp.wrapping_add((since.as_secs() << 32) + fraction)
    }

    /// The stream's figures at `now`.
    pub fn figures(&mut self, now: Instant) -> StreamFigures {
        StreamFigures {
            ssrc_in: self.source.as_ref().map(|s| s.ssrc),
            ssrc_out: self.local_ssrc(),
            packets_in: self.packets_in,
            bytes_in: self.bytes_in,
            bitrate_in_bps: self.rate_in.bps(now),
            packets_out: self.sent.packets,
            bytes_out: self.sent.bytes,
            bitrate_out_bps: self.rate_out.bps(now),
            expected: self.expected_before + self.source.as_ref().map_or(0, |s| s.stats.expected()),
            lost: self.lost_before + self.source.as_ref().map_or(0, |s| s.stats.lost()),
            fraction_lost: self.fraction_lost,
            jitter_ms: self
                .source
                .as_ref()
                .map_or(0.0, |s| s.stats.jitter_seconds() * 1000.0),
            ssrc_changes: self.ssrc_changes,
            dropped: self.dropped,
            keyframe_requests: self.keyframes.counts,
            rtcp_sent: self.rtcp_sent,
            rtcp_received: self.rtcp_received,
            rtcp_errors: self.rtcp_errors,
            remote: self.remote,
        }
    }
}
