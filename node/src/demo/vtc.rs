//! A synthetic room system: a SIP caller on a UDP socket of its own that places an H.264 +
//! G.711 (µ-law) call, sends a GStreamer-made picture (bars or a colour) and a tone on its own
//! RTP sockets, and decodes what the node sends back (the 1+7 composite and the audio mix).

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pipelines::peers::{AudioProbe, Pattern, RtpSource, VideoProbe};
use pipelines::sources::{ClipPlayer, LegacyVideo, RtpClip, ToneCodec};
use signaling::sdp::{
    CryptoAttribute, CryptoSuite, MediaKind, SRTP_KEY_SALT_LEN, SessionDescription, SrtpContext,
};

use crate::call::stream_keys::{KeyedSrtp, StreamKeys};
use signaling::sip::message::{Message, Response};

/// H.264 payload type the synthetic room system offers.
pub const VTC_H264_PT: u8 = 96;

/// Rewrites each video RTP packet before it leaves, for tests of broken room systems: the
/// packets to send instead (none drops it, several add some).
pub type Mangler = Box<dyn FnMut(&[u8]) -> Vec<Vec<u8>> + Send>;

/// The video codec the synthetic room system offers (only that one) and sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VtcVideo {
    /// H.264 Constrained Baseline 3.1, mode 1, on payload type 96, live at `size`.
    #[default]
    H264,
    /// H.263 in RFC 4629 (`H263-1998`, payload type 96), CIF, from a 30 s clip.
    H263Plus,
    /// H.263 in RFC 2190 (static payload type 34), CIF, from a 30 s clip.
    H263,
    /// H.261 (static payload type 31), CIF, from a 30 s clip.
    H261,
}

/// The audio codec the synthetic room system offers (only that one) and sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VtcAudio {
    /// G.711 µ-law, payload type 0.
    #[default]
    Pcmu,
    /// G.711 A-law, payload type 8.
    Pcma,
    /// G.722, payload type 9 (from a 30 s clip).
    G722,
    /// Opus, payload type 111 (from a 30 s clip).
    Opus,
}

/// What the synthetic room system sends.
#[derive(Clone, Copy, Debug)]
pub struct VtcOptions {
    /// The picture.
    pub pattern: Pattern,
    /// The tone, in Hz.
    pub tone_hz: f64,
    /// Width, height and frame rate of its H.264 (default 1280×720 at 30 fps).
    pub size: (u32, u32, u32),
    /// How long to wait for the 200.
    pub answer_within: Duration,
    /// Offer SDES-SRTP (`RTP/SAVP` with `a=crypto`), and protect and check everything.
    pub srtp: bool,
    /// The one video codec offered.
    pub video: VtcVideo,
    /// The one audio codec offered.
    pub audio: VtcAudio,
}

impl Default for VtcOptions {
    fn default() -> Self {
        Self {
            pattern: Pattern::Bars,
            tone_hz: 1000.0,
            size: (1280, 720, 30),
            answer_within: Duration::from_secs(20),
            srtp: false,
            video: VtcVideo::H264,
            audio: VtcAudio::Pcmu,
        }
    }
}

/// Where one stream's packets go.
type Sender = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// One call from the synthetic room system.
pub struct Vtc {
    sip: UdpSocket,
    node: SocketAddr,
    call_id: String,
    user: String,
    to_tag: String,
    /// How long from the INVITE to the 200.
    pub setup_time: Duration,
    video: Arc<VideoProbe>,
    audio: Arc<AudioProbe>,
    video_rtp: Arc<Mutex<RtpCount>>,
    audio_rtp: Arc<Mutex<RtpCount>>,
    stop: Arc<AtomicBool>,
    receivers: Vec<JoinHandle<()>>,
    /// Sends on the video socket to the node, bypassing the mangler.
    video_out: Option<Sender>,
    /// Our RTP ports (audio, video), for a re-INVITE.
    ports: (u16, u16),
    /// The SRTP keys of (audio, video), when SRTP was offered and answered.
    keys: Option<[Arc<StreamKeys>; 2]>,
    /// Packets from the node refused by SRTP (authentication, replay).
    srtp_refused: Arc<AtomicU64>,
    /// Packets from the node only the keys before the last re-key unprotected.
    srtp_previous: Arc<AtomicU64>,
    /// The CSeq of the next in-dialog request.
    cseq: u32,
    mangler: Arc<Mutex<Option<Mangler>>>,
    _sources: Vec<RtpSource>,
    /// The codecs offered: (video, audio).
    codecs: (VtcVideo, VtcAudio),
    /// Clips being sent (the codecs with no live source here).
    _clips: Vec<ClipPlayer>,
}

impl std::fmt::Debug for Vtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vtc")
            .field("call_id", &self.call_id)
            .finish_non_exhaustive()
    }
}

impl Vtc {
    /// Calls `user@node` and waits (up to `answer_within`) for the 200; then ACKs and starts
    /// the media: `pattern` at 1280×720 and 30 fps, and a tone at `tone_hz`.
    pub fn call(
        node: SocketAddr,
        user: &str,
        pattern: Pattern,
        tone_hz: f64,
        answer_within: Duration,
    ) -> Result<Self, String> {
        let options = VtcOptions {
            pattern,
            tone_hz,
            answer_within,
            ..VtcOptions::default()
        };
        Self::call_with(node, user, &options)
    }

    /// Calls `user@node` as [`Vtc::call`] does, with everything it sends chosen by `options`.
    pub fn call_with(node: SocketAddr, user: &str, options: &VtcOptions) -> Result<Self, String> {
        let VtcOptions {
            pattern,
            tone_hz,
            size,
            answer_within,
            srtp,
            video: video_codec,
            audio: audio_codec,
        } = *options;
        let io = |e: std::io::Error| e.to_string();
        let sip = UdpSocket::bind("127.0.0.1:0").map_err(io)?;
        let audio_rtp = UdpSocket::bind("127.0.0.1:0").map_err(io)?;
        let video_rtp = UdpSocket::bind("127.0.0.1:0").map_err(io)?;
        let port = |s: &UdpSocket| s.local_addr().map(|a| a.port()).unwrap_or(0);
        let call_id = format!("{:016x}@vtc", rand::random::<u64>());
        let ports = (port(&audio_rtp), port(&video_rtp));
        let our_keys = srtp.then(new_keys);
        let codecs = (video_codec, audio_codec);
        let body = offer_sdp(ports, 1, our_keys.as_ref(), codecs);
        let invite = format!(
            "INVITE sip:{user}@{node} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-{b:08x}\r\n\
             Max-Forwards: 70\r\nFrom: \"Demo room\" <sip:room@127.0.0.1>;tag=vtc\r\n\
             To: <sip:{user}@{node}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:room@127.0.0.1:{p}>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len(),
            p = port(&sip),
            b = rand::random::<u32>(),
        );
        let started = Instant::now();
        sip.send_to(invite.as_bytes(), node).map_err(io)?;
        let ok = loop {
            let left = answer_within.saturating_sub(started.elapsed());
            let response = response(&sip, left)?;
            match response.status.code() {
                100..=199 => {}
                200 => break response,
                code => return Err(format!("the call was refused: {code} {}", response.reason)),
            }
        };
        let setup_time = started.elapsed();
        let to_tag = ok
            .to()
            .ok()
            .and_then(|to| to.tag().map(str::to_owned))
            .ok_or("a 200 without a To tag")?;
        let answer = SessionDescription::parse(&String::from_utf8_lossy(&ok.body))
            .map_err(|e| format!("the node's SDP: {e}"))?;
        let media_port = |kind: MediaKind| {
            answer
                .media
                .iter()
                .find(|m| m.media == kind)
                .map(|m| SocketAddr::new(node.ip(), m.port))
        };
        let (audio_to, video_to) = (
            media_port(MediaKind::Audio).ok_or("no audio in the answer")?,
            media_port(MediaKind::Video).ok_or("no video in the answer")?,
        );
        let keys = match &our_keys {
            Some(ours) => {
                Some(answered_keys(&answer, ours)?.map(|k| Arc::new(StreamKeys::new(Some(k)))))
            }
            None => None,
        };
        let mut vtc = Self {
            sip,
            node,
            call_id,
            user: user.to_owned(),
            to_tag,
            setup_time,
            video: Arc::new(video_probe(video_codec).map_err(|e| e.to_string())?),
            audio: Arc::new(audio_probe(audio_codec).map_err(|e| e.to_string())?),
            codecs,
            _clips: Vec::new(),
            video_rtp: Arc::default(),
            audio_rtp: Arc::default(),
            stop: Arc::new(AtomicBool::new(false)),
            receivers: Vec::new(),
            video_out: None,
            ports,
            keys,
            srtp_refused: Arc::default(),
            srtp_previous: Arc::default(),
            cseq: 2,
            mangler: Arc::default(),
            _sources: Vec::new(),
        };
        vtc.send_in_dialog("ACK", 1, None)?;
        let send = |socket: &UdpSocket, to: SocketAddr, keys: Option<&Arc<StreamKeys>>| {
            let socket = socket.try_clone().map_err(io)?;
            let srtp = keys.map(|k| Mutex::new(KeyedSrtp::new(Arc::clone(k))));
            Ok::<Sender, String>(Arc::new(move |packet: &[u8]| {
                let protected = srtp.as_ref().map(|s| {
                    s.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .protect_rtp(packet)
                });
                match protected {
                    None => drop(socket.send_to(packet, to)),
                    Some(Ok(Some(bytes))) => drop(socket.send_to(&bytes, to)),
                    Some(_) => {}
                }
            }))
        };
        let stream_keys = |i: usize| vtc.keys.as_ref().map(|k| &k[i]);
        let video_out = send(&video_rtp, video_to, stream_keys(1))?;
        let audio_out = send(&audio_rtp, audio_to, stream_keys(0))?;
        vtc.video_out = Some(Arc::clone(&video_out));
        let mangler = Arc::clone(&vtc.mangler);
        let video_sink = move |packet: &[u8]| {
            let mut mangler = mangler
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match mangler.as_mut() {
                Some(mangle) => mangle(packet).iter().for_each(|p| video_out(p)),
                None => video_out(packet),
            }
        };
        let err = |e: pipelines::PipelineError| e.to_string();
        const CLIP_SECONDS: u32 = 30;
        let legacy = |codec: LegacyVideo| {
            RtpClip::legacy(
                codec,
                (352, 288, 30),
                30 * CLIP_SECONDS,
                video_pt(video_codec),
            )
        };
        match video_codec {
            VtcVideo::H264 => vtc._sources.push(
                RtpSource::h264(pattern, size, VTC_H264_PT, Box::new(video_sink)).map_err(err)?,
            ),
            VtcVideo::H263Plus => vtc
                ._clips
                .push(legacy(LegacyVideo::H263Plus).map_err(err)?.play(video_sink)),
            VtcVideo::H263 => vtc
                ._clips
                .push(legacy(LegacyVideo::H263).map_err(err)?.play(video_sink)),
            VtcVideo::H261 => vtc
                ._clips
                .push(legacy(LegacyVideo::H261).map_err(err)?.play(video_sink)),
        }
        let apt = audio_pt(audio_codec);
        let audio_sink = move |p: &[u8]| audio_out(p);
        match audio_codec {
            VtcAudio::Pcmu | VtcAudio::Pcma => vtc._sources.push(
                RtpSource::g711_tone(
                    tone_hz,
                    audio_codec == VtcAudio::Pcma,
                    apt,
                    Box::new(audio_sink),
                )
                .map_err(err)?,
            ),
            VtcAudio::G722 => vtc._clips.push(
                RtpClip::tone(ToneCodec::G722, tone_hz, 20, CLIP_SECONDS, apt)
                    .map_err(err)?
                    .play(audio_sink),
            ),
            VtcAudio::Opus => vtc._clips.push(
                RtpClip::tone(ToneCodec::Opus, tone_hz, 20, CLIP_SECONDS, apt)
                    .map_err(err)?
                    .play(audio_sink),
            ),
        }
        let video = Arc::clone(&vtc.video);
        let audio = Arc::clone(&vtc.audio);
        let srtp = |i: usize| vtc.keys.as_ref().map(|k| KeyedSrtp::new(Arc::clone(&k[i])));
        vtc.receivers = vec![
            receive(
                video_rtp,
                (
                    Arc::clone(&vtc.video_rtp),
                    srtp(1),
                    [
                        Arc::clone(&vtc.srtp_refused),
                        Arc::clone(&vtc.srtp_previous),
                    ],
                ),
                Arc::clone(&vtc.stop),
                move |p| video.push(p),
            ),
            receive(
                audio_rtp,
                (
                    Arc::clone(&vtc.audio_rtp),
                    srtp(0),
                    [
                        Arc::clone(&vtc.srtp_refused),
                        Arc::clone(&vtc.srtp_previous),
                    ],
                ),
                Arc::clone(&vtc.stop),
                move |p| audio.push(p),
            ),
        ];
        Ok(vtc)
    }

    /// From now on every video RTP packet goes through `mangler` (`None`: sent as made).
    pub fn set_video_mangler(&self, mangler: Option<Mangler>) {
        *self
            .mangler
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = mangler;
    }

    /// Sends `packet` on the video socket to the node as it is (alongside the stream).
    pub fn send_video_raw(&self, packet: &[u8]) {
        if let Some(out) = &self.video_out {
            out(packet);
        }
    }

    /// What the room system decodes from the node's H.264.
    pub fn video(&self) -> &VideoProbe {
        &self.video
    }

    /// The node's video RTP received so far.
    pub fn video_rtp(&self) -> RtpCount {
        *self
            .video_rtp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The node's audio RTP received so far.
    pub fn audio_rtp(&self) -> RtpCount {
        *self
            .audio_rtp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The last second of the node's audio, decoded (8 kHz).
    pub fn audio_samples(&self) -> Vec<i16> {
        self.audio.samples()
    }

    /// Packets from the node that SRTP refused so far (0 without SRTP).
    pub fn srtp_refused(&self) -> u64 {
        self.srtp_refused.load(Ordering::Relaxed)
    }

    /// Packets from the node that only the keys before the last [`rekey`](Self::rekey)
    /// unprotected: they stop growing once the node sends with its new keys.
    pub fn srtp_previous_keys(&self) -> u64 {
        self.srtp_previous.load(Ordering::Relaxed)
    }

    /// A re-INVITE with new SDES keys for both streams (RFC 4568 §7.1.4): once the node's 200
    /// comes, with its own new keys, both directions switch. Returns the 200's status.
    pub fn rekey(&mut self) -> Result<u16, String> {
        let keys = self.keys.clone().ok_or("a call without SRTP")?;
        let ours = new_keys();
        let cseq = self.cseq;
        self.cseq += 1;
        let body = offer_sdp(self.ports, 2, Some(&ours), self.codecs);
        self.send_in_dialog("INVITE", cseq, Some(&body))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let ok = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = response(&self.sip, left)?;
            match r.status.code() {
                100..=199 => {}
                200 => break r,
                code => return Err(format!("the re-INVITE was refused: {code}")),
            }
        };
        self.send_in_dialog("ACK", cseq, None)?;
        let answer = SessionDescription::parse(&String::from_utf8_lossy(&ok.body))
            .map_err(|e| format!("the node's SDP: {e}"))?;
        let [audio, video] = answered_keys(&answer, &ours)?;
        keys[0].replace(Some(audio));
        keys[1].replace(Some(video));
        Ok(200)
    }

    /// Hangs up (BYE) and returns the status of the answer.
    pub fn hang_up(&mut self) -> Result<u16, String> {
        let cseq = self.cseq;
        self.cseq += 1;
        self.send_in_dialog("BYE", cseq, None)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = response(&self.sip, left)?;
            if r.cseq().is_ok_and(|c| c.method.as_str() == "BYE") {
                return Ok(r.status.code());
            }
        }
    }

    fn send_in_dialog(&self, method: &str, cseq: u32, sdp: Option<&str>) -> Result<(), String> {
        let port = self.sip.local_addr().map(|a| a.port()).unwrap_or(0);
        let body = sdp.unwrap_or_default();
        let content_type = if sdp.is_some() {
            format!("Contact: <sip:room@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n")
        } else {
            String::new()
        };
        let request = format!(
            "{method} sip:{user}@{node} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{method}{b:08x}\r\n\
             Max-Forwards: 70\r\nFrom: \"Demo room\" <sip:room@127.0.0.1>;tag=vtc\r\n\
             To: <sip:{user}@{node}>;tag={tag}\r\nCall-ID: {id}\r\nCSeq: {cseq} {method}\r\n\
             {content_type}Content-Length: {len}\r\n\r\n{body}",
            user = self.user,
            node = self.node,
            tag = self.to_tag,
            id = self.call_id,
            len = body.len(),
            b = rand::random::<u32>(),
        );
        self.sip
            .send_to(request.as_bytes(), self.node)
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Vtc {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for receiver in self.receivers.drain(..) {
            let _ = receiver.join();
        }
    }
}

/// The next SIP response on `socket` within `limit` (requests are skipped).
fn response(socket: &UdpSocket, limit: Duration) -> Result<Response, String> {
    let deadline = Instant::now() + limit;
    let mut buf = vec![0; 65_535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no SIP answer in time".to_owned());
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let Ok(len) = socket.recv(&mut buf) else {
            continue;
        };
        if let Ok(Message::Response(response)) = Message::parse(&buf[..len]) {
            return Ok(response);
        }
    }
}

/// What arrived on one RTP socket: packets, bytes, and the packets missing from the
/// sequence numbers (one SSRC assumed; reordered packets count as lost until they arrive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtpCount {
    /// RTP packets received.
    pub packets: u64,
    /// Their bytes (RTP headers included).
    pub bytes: u64,
    /// Packets expected from the sequence numbers (first to highest).
    pub expected: u64,
    /// The highest sequence number seen, extended with wrap-arounds.
    highest: Option<u64>,
}

impl RtpCount {
    /// Packets expected but not received (never negative).
    pub fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.packets)
    }

    /// What arrived after `before` (an earlier count of the same stream).
    pub fn since(&self, before: &Self) -> Self {
        Self {
            packets: self.packets - before.packets,
            bytes: self.bytes - before.bytes,
            expected: self.expected - before.expected,
            highest: self.highest,
        }
    }

    fn count(&mut self, packet: &[u8]) {
        let seq = u64::from(u16::from_be_bytes([packet[2], packet[3]]));
        self.packets += 1;
        self.bytes += packet.len() as u64;
        match self.highest {
            None => {
                self.highest = Some(seq);
                self.expected = 1;
            }
            Some(highest) => {
                // The candidate nearest to the highest seen, in the cycles around it.
                let cycle = highest & !0xffff;
                let extended = [cycle.wrapping_sub(0x1_0000), cycle, cycle + 0x1_0000]
                    .into_iter()
                    .map(|c| c.wrapping_add(seq))
                    .min_by_key(|e| e.abs_diff(highest))
                    .unwrap_or(seq);
                if extended > highest {
                    self.expected += extended - highest;
                    self.highest = Some(extended);
                }
            }
        }
    }
}

/// Reads RTP from `socket` into `sink` until `stop`, counting it in `count` (unprotected
/// first with SRTP, refusals counted in `refused`).
fn receive(
    socket: UdpSocket,
    (count, mut srtp, [refused, previous]): (
        Arc<Mutex<RtpCount>>,
        Option<KeyedSrtp>,
        [Arc<AtomicU64>; 2],
    ),
    stop: Arc<AtomicBool>,
    sink: impl Fn(&[u8]) + Send + 'static,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = vec![0; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok(len) = socket.recv(&mut buf) else {
                continue;
            };
            if len < 12 || (192..=223).contains(&buf[1]) {
                continue;
            }
            let before = srtp.as_ref().map_or(0, KeyedSrtp::previous_hits);
            let clear = match srtp.as_mut().map(|s| s.unprotect_rtp(&buf[..len])) {
                None | Some(Ok(None)) => buf[..len].to_vec(),
                Some(Ok(Some(clear))) => clear,
                Some(Err(_)) => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let after = srtp.as_ref().map_or(0, KeyedSrtp::previous_hits);
            previous.fetch_add(after - before, Ordering::Relaxed);
            count
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .count(&clear);
            sink(&clear);
        }
    })
}

/// Fresh SDES key material (key and salt) for (audio, video).
fn new_keys() -> [[u8; SRTP_KEY_SALT_LEN]; 2] {
    let mut keys = [[0u8; SRTP_KEY_SALT_LEN]; 2];
    for key in &mut keys {
        rand::fill(key);
    }
    keys
}

/// The room system's offer: PCMU and H.264 on `(audio, video)` ports, with `a=crypto` lines
/// when `keys` are given (`RTP/SAVP`).
fn offer_sdp(
    (audio, video): (u16, u16),
    version: u32,
    keys: Option<&[[u8; SRTP_KEY_SALT_LEN]; 2]>,
    (video_codec, audio_codec): (VtcVideo, VtcAudio),
) -> String {
    let profile = if keys.is_some() {
        "RTP/SAVP"
    } else {
        "RTP/AVP"
    };
    let crypto = |i: usize| {
        keys.map(|k| {
            format!(
                "a=crypto:{}\r\n",
                CryptoAttribute::inline(1, CryptoSuite::AesCm128HmacSha1_80, &k[i])
            )
        })
        .unwrap_or_default()
    };
    let (apt, vpt) = (audio_pt(audio_codec), video_pt(video_codec));
    let audio_map = match audio_codec {
        VtcAudio::Pcmu => "PCMU/8000",
        VtcAudio::Pcma => "PCMA/8000",
        VtcAudio::G722 => "G722/8000",
        VtcAudio::Opus => "opus/48000/2",
    };
    let video_format = match video_codec {
        VtcVideo::H264 => format!(
            "a=rtpmap:{vpt} H264/90000\r\n\
             a=fmtp:{vpt} profile-level-id=42e01f;packetization-mode=1\r\n"
        ),
        VtcVideo::H263Plus => format!("a=rtpmap:{vpt} H263-1998/90000\r\na=fmtp:{vpt} CIF=1\r\n"),
        VtcVideo::H263 => format!("a=rtpmap:{vpt} H263/90000\r\na=fmtp:{vpt} CIF=1\r\n"),
        VtcVideo::H261 => format!("a=rtpmap:{vpt} H261/90000\r\na=fmtp:{vpt} CIF=1\r\n"),
    };
    format!(
        "v=0\r\no=vtc 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {audio} {profile} {apt}\r\na=rtpmap:{apt} {audio_map}\r\na=ptime:20\r\n{}\
         m=video {video} {profile} {vpt}\r\n{video_format}a=rtcp-fb:{vpt} nack pli\r\n{}",
        crypto(0),
        crypto(1),
    )
}

/// The payload type of the room system's video codec.
fn video_pt(codec: VtcVideo) -> u8 {
    match codec {
        VtcVideo::H264 | VtcVideo::H263Plus => VTC_H264_PT,
        VtcVideo::H263 => 34,
        VtcVideo::H261 => 31,
    }
}

/// The payload type of the room system's audio codec.
fn audio_pt(codec: VtcAudio) -> u8 {
    match codec {
        VtcAudio::Pcmu => 0,
        VtcAudio::Pcma => 8,
        VtcAudio::G722 => 9,
        VtcAudio::Opus => 111,
    }
}

/// The decoder of what the node sends in `codec`.
fn video_probe(codec: VtcVideo) -> Result<VideoProbe, pipelines::PipelineError> {
    let pt = video_pt(codec);
    match codec {
        VtcVideo::H264 => VideoProbe::h264(pt),
        VtcVideo::H263Plus => VideoProbe::h263plus(pt),
        VtcVideo::H263 => VideoProbe::h263(pt),
        VtcVideo::H261 => VideoProbe::h261(pt),
    }
}

/// The decoder of the node's audio mix in `codec`.
fn audio_probe(codec: VtcAudio) -> Result<AudioProbe, pipelines::PipelineError> {
    let pt = audio_pt(codec);
    match codec {
        VtcAudio::Pcmu => AudioProbe::g711(false, pt),
        VtcAudio::Pcma => AudioProbe::g711(true, pt),
        VtcAudio::G722 => AudioProbe::g722(pt),
        VtcAudio::Opus => AudioProbe::opus(pt),
    }
}

/// The SRTP contexts of (audio, video) from the node's answer to `ours`.
fn answered_keys(
    answer: &SessionDescription,
    ours: &[[u8; SRTP_KEY_SALT_LEN]; 2],
) -> Result<[SrtpContext; 2], String> {
    let context = |kind: MediaKind, local: [u8; SRTP_KEY_SALT_LEN]| {
        let media = answer
            .media
            .iter()
            .find(|m| m.media == kind)
            .ok_or("a stream missing from the answer")?;
        let line = media
            .crypto()
            .into_iter()
            .next()
            .ok_or("no a=crypto in the answer")?;
        Ok::<_, String>(SrtpContext {
            suite: line.known_suite().ok_or("an unknown crypto suite")?,
            local_key: local,
            remote_key: line.usable_key().ok_or("an unusable key")?,
            tag: line.tag,
        })
    };
    Ok([
        context(MediaKind::Audio, ours[0])?,
        context(MediaKind::Video, ours[1])?,
    ])
}
