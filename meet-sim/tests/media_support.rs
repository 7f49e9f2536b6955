//! A gateway-shaped WebRTC client for the media-plane tests, on str0m (a stack of its own,
//! independent of the sim's use of it: here str0m is the offerer, ICE-controlling, and speaks
//! to the sim only through UDP on loopback). It offers 3 recvonly audio, N recvonly video,
//! Opus and VP8 simulcast sendonly, and the data channels; it sends synthetic VP8 (valid
//! payload descriptors and key-frame headers, filler bytes) at a chosen bitrate per layer,
//! answers keyframe requests, and records what it receives.
//!
//! Included with `#[path]`; Cargo also builds it as an empty test target.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpWrite, SeqNo};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// The data channels a gateway opens (meet-side.md §5.a step 3).
pub const LABELS: [&str; 7] = [
    "session-control",
    "media-stats",
    "participants",
    "media-entries",
    "video-assignment",
    "x-conference",
    "x-chat",
];

/// One simulcast layer to send: RID, frame size, bit/s.
#[derive(Clone, Debug)]
pub struct Layer {
    pub rid: &'static str,
    pub width: u16,
    pub height: u16,
    pub bps: u32,
}

/// The layers of a well-behaved gateway: q/h/f, 1.95 Mb/s in all.
pub fn good_layers() -> Vec<Layer> {
    vec![
        Layer {
            rid: "q",
            width: 320,
            height: 180,
            bps: 150_000,
        },
        Layer {
            rid: "h",
            width: 640,
            height: 360,
            bps: 500_000,
        },
        Layer {
            rid: "f",
            width: 1280,
            height: 720,
            bps: 1_300_000,
        },
    ]
}

/// One received video packet.
#[derive(Clone, Debug)]
pub struct Received {
    pub ssrc: u32,
    pub csrc: Vec<u32>,
    pub seq: u16,
    pub timestamp: u32,
    pub payload: Vec<u8>,
}

/// The client.
pub struct Client {
    pub rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    video_mid: Mid,
    audio_mid: Mid,
    layers: Vec<Layer>,
    picture_ids: BTreeMap<&'static str, u16>,
    seqs: BTreeMap<&'static str, u64>,
    keyframe_due: BTreeMap<&'static str, bool>,
    /// A key frame on every layer every this many frames (`None`: only on request).
    keyframe_every: Option<u32>,
    /// Keyframe requests to ignore, per layer, before honouring one.
    ignore_requests: usize,
    /// Keyframe requests received, by RID.
    pub keyframe_requests: BTreeMap<String, usize>,
    next_frame: Instant,
    /// Frames sent so far (on every layer at once).
    pub frame_no: u32,
    audio_seq: u64,
    /// Data-channel texts received, by label.
    pub messages: BTreeMap<String, Vec<String>>,
    channels: BTreeMap<String, str0m::channel::ChannelId>,
    /// Video packets received, in order.
    pub video: Vec<Received>,
    /// Audio packets received.
    pub audio: Vec<Received>,
    pub connected: bool,
}

impl Client {
    /// A client offering `recv_video` receive m-lines and sending `layers`.
    pub fn new(recv_video: usize, layers: Vec<Layer>) -> (Self, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(2)))
            .unwrap();
        let local = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let mut api = rtc.sdp_api();
        for _ in 0..3 {
            api.add_media(MediaKind::Audio, Direction::RecvOnly, None, None, None);
        }
        for _ in 0..recv_video {
            api.add_media(MediaKind::Video, Direction::RecvOnly, None, None, None);
        }
        let audio_mid = api.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            Some("gw".into()),
            Some("gw-audio".into()),
            None,
        );
        let mut simulcast = Simulcast::new();
        for layer in &layers {
            simulcast.add_send_layer(SimulcastLayer::new(layer.rid));
        }
        let video_mid = api.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            Some("gw".into()),
            Some("gw-video".into()),
            Some(simulcast),
        );
        for label in LABELS {
            api.add_channel(label.to_owned());
        }
        let (offer, pending) = api.apply().unwrap();
        let client = Self {
            rtc,
            socket,
            local,
            pending: Some(pending),
            video_mid,
            audio_mid,
            keyframe_due: layers.iter().map(|l| (l.rid, true)).collect(),
            keyframe_every: Some(60),
            ignore_requests: 0,
            keyframe_requests: BTreeMap::new(),
            picture_ids: layers.iter().map(|l| (l.rid, 1000)).collect(),
            seqs: layers.iter().map(|l| (l.rid, 1)).collect(),
            layers,
            next_frame: Instant::now(),
            frame_no: 0,
            audio_seq: 1,
            messages: BTreeMap::new(),
            channels: BTreeMap::new(),
            video: Vec::new(),
            audio: Vec::new(),
            connected: false,
        };
        (client, offer.to_sdp_string())
    }

    /// Sends no key frame unless asked, and ignores the first `ignore` requests of each
    /// layer: like an encoder whose first key frame was lost before DTLS was up, and that
    /// misses a request.
    pub fn hold_keyframes(&mut self, ignore: usize) {
        self.keyframe_due.values_mut().for_each(|due| *due = false);
        self.keyframe_every = None;
        self.ignore_requests = ignore;
    }

    /// Stops sending layer `rid` (it stays announced in the offer).
    pub fn drop_layer(&mut self, rid: &str) {
        self.layers.retain(|l| l.rid != rid);
    }

    /// Applies the sim's answer.
    pub fn accept(&mut self, answer: &str) {
        let answer = SdpAnswer::from_sdp_string(answer).unwrap();
        let pending = self.pending.take().unwrap();
        self.rtc.sdp_api().accept_answer(pending, answer).unwrap();
    }

    /// Sends `text` on channel `label` (once open).
    pub fn send_text(&mut self, label: &str, text: &str) -> bool {
        let Some(&id) = self.channels.get(label) else {
            return false;
        };
        self.rtc
            .channel(id)
            .is_some_and(|mut c| c.write(false, text.as_bytes()).unwrap_or(false))
    }

    /// Whether a message containing `needle` arrived on `label`.
    pub fn got(&self, label: &str, needle: &str) -> bool {
        self.messages
            .get(label)
            .is_some_and(|m| m.iter().any(|t| t.contains(needle)))
    }

    /// Runs I/O, timers and sending for `duration`; `send` says whether to send media.
    pub fn run_for(&mut self, duration: Duration, send: bool) {
        let end = Instant::now() + duration;
        let mut buf = vec![0u8; 2048];
        while Instant::now() < end {
            if send && self.connected && Instant::now() >= self.next_frame {
                self.send_frame();
            }
            self.poll();
            match self.socket.recv_from(&mut buf) {
                Ok((n, source)) => {
                    if let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, &buf[..n])
                    {
                        let _ = self
                            .rtc
                            .handle_input(Input::Receive(Instant::now(), receive));
                    }
                }
                Err(_) => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
        self.poll();
    }

    fn poll(&mut self) {
        while let Ok(output) = self.rtc.poll_output() {
            match output {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Output::Event(event) => self.on_event(event),
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected = true,
            Event::ChannelOpen(id, label) => {
                self.channels.insert(label, id);
            }
            Event::ChannelData(data) => {
                let label = self
                    .channels
                    .iter()
                    .find(|(_, id)| **id == data.id)
                    .map(|(l, _)| l.clone())
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&data.data).into_owned();
                self.messages.entry(label).or_default().push(text);
            }
            Event::RtpPacket(packet) => {
                let received = Received {
                    ssrc: *packet.header.ssrc,
                    csrc: packet.header.csrc[..packet.header.csrc_count].to_vec(),
                    seq: packet.header.sequence_number,
                    timestamp: packet.header.timestamp,
                    payload: packet.payload.to_vec(),
                };
                if packet.header.payload_type == self.vp8_pt() {
                    self.video.push(received);
                } else {
                    self.audio.push(received);
                }
            }
            Event::KeyframeRequest(request) => {
                if let Some(rid) = request.rid {
                    let count = self.keyframe_requests.entry(rid.to_string()).or_default();
                    *count += 1;
                    if *count > self.ignore_requests {
                        for layer in &self.layers {
                            if *rid == *layer.rid {
                                self.keyframe_due.insert(layer.rid, true);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn vp8_pt(&self) -> str0m::media::Pt {
        self.rtc
            .codec_config()
            .find(|p| p.spec().codec == str0m::format::Codec::Vp8)
            .unwrap()
            .pt()
    }

    /// One frame on every layer (30 fps), plus one Opus packet with a loud audio level.
    fn send_frame(&mut self) {
        let now = Instant::now();
        self.next_frame = now + Duration::from_millis(33);
        self.frame_no += 1;
        let ts = self.frame_no.wrapping_mul(3000);
        let pt = self.vp8_pt();
        for layer in self.layers.clone() {
            let keyframe = std::mem::replace(self.keyframe_due.get_mut(layer.rid).unwrap(), false)
                || self
                    .keyframe_every
                    .is_some_and(|every| self.frame_no.is_multiple_of(every));
            let picture_id = {
                let id = self.picture_ids.get_mut(layer.rid).unwrap();
                *id = (*id + 1) % 0x8000;
                *id
            };
            let frame_bytes = (layer.bps / 8 / 30) as usize;
            let packets = frame_bytes.div_ceil(1100).max(1);
            for i in 0..packets {
                let first = i == 0;
                let mut payload = vec![
                    0x80 | if first { 0x10 } else { 0 },
                    0x80,
                    0x80 | (picture_id >> 8) as u8,
                    picture_id as u8,
                ];
                if first {
                    payload.push(if keyframe { 0x10 } else { 0x11 });
                    payload.extend([0x02, 0x00, 0x9d, 0x01, 0x2a]);
                    payload.extend(layer.width.to_le_bytes());
                    payload.extend(layer.height.to_le_bytes());
                }
                payload.resize(frame_bytes / packets + 4, 0x55);
                let seq = {
                    let s = self.seqs.get_mut(layer.rid).unwrap();
                    *s += 1;
                    *s
                };
                let ext = ExtensionValues {
                    mid: Some(self.video_mid),
                    rid: Some(layer.rid.into()),
                    ..ExtensionValues::default()
                };
                let mut api = self.rtc.direct_api();
                if let Some(stream) = api.stream_tx_by_mid(self.video_mid, Some(layer.rid.into())) {
                    stream.write_rtp(
                        RtpWrite::new(pt, SeqNo::from(seq), ts, now, payload)
                            .marker(i + 1 == packets)
                            .ext_vals(ext),
                    );
                }
            }
        }
        let opus = self
            .rtc
            .codec_config()
            .find(|p| p.spec().codec == str0m::format::Codec::Opus)
            .unwrap()
            .pt();
        self.audio_seq += 1;
        let ext = ExtensionValues {
            mid: Some(self.audio_mid),
            audio_level: Some(-20),
            voice_activity: Some(true),
            ..ExtensionValues::default()
        };
        let mut api = self.rtc.direct_api();
        if let Some(stream) = api.stream_tx_by_mid(self.audio_mid, None) {
            stream.write_rtp(
                RtpWrite::new(
                    opus,
                    SeqNo::from(self.audio_seq),
                    self.frame_no * 1584,
                    now,
                    vec![0xf8; 40],
                )
                .ext_vals(ext),
            );
        }
    }
}
