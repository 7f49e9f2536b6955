//! The media plane: every participant's connection on one UDP port, and the forwarding
//! between them. Sans-IO: datagrams and time come in, datagrams and [`PlaneEvent`]s come out.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use str0m::crypto::CryptoProvider;
use str0m::media::KeyframeRequestKind;
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo};
use str0m::{Event, IceConnectionState, Input, Output};

use super::forward::Decision;
use super::layers::LayerSnapshot;
use super::peer::Peer;
use super::vp8::Vp8Packet;
use crate::model::{MediaUpdate, OfferShape};

/// How often (real time) the media rules are checked when the simulator's clock stands.
const RULE_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// After joining, every announced RID must have sent within this time (§5.b), on the
/// simulator's clock.
pub const LAYER_DEADLINE: Duration = Duration::from_secs(5);
/// A left participant's connection stays open this long, so its last messages get out.
const CLOSE_DELAY: Duration = Duration::from_secs(2);
/// How often the active speaker is re-evaluated.
const SPEAKER_INTERVAL: Duration = Duration::from_millis(500);
/// A challenger must be this much louder (dB) than the active speaker to take over.
const SPEAKER_HYSTERESIS_DB: f64 = 6.0;
/// Audio quieter than this (dBov below full scale) is silence.
const SILENCE_LEVEL: f64 = 70.0;
/// The CSRC that marks the loudest speaker among the audio streams (§1.5).
pub const LOUDEST_CSRC: u32 = 42;

/// What the media plane tells the conference model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaneEvent {
    /// A data-channel message from a client.
    Channel {
        /// The participant.
        pid: i64,
        /// The channel label.
        label: String,
        /// The text.
        text: String,
    },
    /// The loudest participant of a conference changed.
    ActiveSpeaker {
        /// The new speaker.
        pid: i64,
    },
    /// A virtual stream switched layer (or source) on a key frame.
    LayerSwitched {
        /// The receiver.
        receiver: i64,
        /// The source.
        source: i64,
        /// The virtual SSRC.
        ssrc: u32,
        /// The RID before (empty when the stream starts).
        from_rid: String,
        /// The RID now.
        to_rid: String,
    },
    /// A media rule was broken (`LAYERS_MISSING`, `BITRATE_EXCEEDED`).
    RuleBroken {
        /// The participant.
        pid: i64,
        /// The flag.
        flag: String,
        /// What was measured.
        detail: String,
    },
    /// A connection died (ICE timed out, DTLS closed) without a leave.
    Gone {
        /// The participant.
        pid: i64,
    },
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Where to.
    pub destination: SocketAddr,
    /// The bytes.
    pub contents: Vec<u8>,
}

/// What the control API shows of one participant's media.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaReport {
    /// ICE and DTLS are up.
    pub connected: bool,
    /// Per RID of the video it sends, in RID order.
    pub layers: Vec<LayerSnapshot>,
    /// Audio packets received from it.
    pub audio_packets: u64,
    /// Its virtual video streams: what each carries.
    pub video_streams: Vec<StreamReport>,
    /// Its virtual audio streams.
    pub audio_streams: Vec<StreamReport>,
    /// Data channels it opened.
    pub channels: Vec<String>,
}

/// One virtual stream toward a participant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamReport {
    /// The virtual SSRC.
    pub ssrc: u32,
    /// The source participant, if any.
    pub source: Option<i64>,
    /// The RID carried (video).
    pub rid: Option<String>,
    /// Packets sent.
    pub packets: u64,
    /// Keyframe requests (RTCP PLI or FIR) the participant sent about this stream; each is
    /// passed on to the source as a PLI on the layer it sends here.
    pub keyframe_requests: u64,
}

/// `answer` with `b=TIAS:<bps>` in the m-section of `mid` (after its `c=` line): the limit
/// on what the client sends there (RFC 3890), which the sim's answer carries (§5.b).
fn with_tias(answer: &str, mid: &str, bps: u64) -> String {
    let mut sections: Vec<String> =
        answer
            .split_inclusive("\r\n")
            .fold(Vec::new(), |mut sections, line| {
                if line.starts_with("m=") || sections.is_empty() {
                    sections.push(String::new());
                }
                sections.last_mut().expect("pushed").push_str(line);
                sections
            });
    let mid_line = format!("a=mid:{mid}\r\n");
    if let Some(section) = sections
        .iter_mut()
        .find(|s| s.starts_with("m=") && s.contains(&mid_line))
        && let Some(at) = section.find("\r\nc=").map(|i| i + 2)
    {
        let end = section[at..]
            .find("\r\n")
            .map_or(section.len(), |e| at + e + 2);
        section.insert_str(end, &format!("b=TIAS:{bps}\r\n"));
    }
    sections.concat()
}

/// All connections. See the module docs.
pub struct MediaPlane {
    local: SocketAddr,
    crypto: Arc<CryptoProvider>,
    peers: BTreeMap<i64, Peer>,
    out: VecDeque<Datagram>,
    events: VecDeque<PlaneEvent>,
    /// Active speaker per space.
    speakers: BTreeMap<String, i64>,
    next_speaker_check: Option<Instant>,
    max_bitrate_bps: u64,
    /// The simulator's clock, as last told.
    sim_now: SystemTime,
    next_rule_check: Instant,
}

impl std::fmt::Debug for MediaPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaPlane")
            .field("local", &self.local)
            .field("peers", &self.peers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl MediaPlane {
    /// A plane whose connections all use the UDP address `local` (ICE host candidate).
    pub fn new(local: SocketAddr) -> Self {
        Self {
            local,
            crypto: Arc::new(str0m::crypto::from_feature_flags()),
            peers: BTreeMap::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            speakers: BTreeMap::new(),
            next_speaker_check: None,
            max_bitrate_bps: crate::model::DEFAULT_MAX_SEND_BITRATE_BPS,
            sim_now: SystemTime::UNIX_EPOCH,
            next_rule_check: Instant::now(),
        }
    }

    /// The UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Accepts participant `pid`'s offer: returns the SDP answer and the virtual SSRCs of
    /// its receive-video m-lines, or why str0m refused it. With `limit_send`, the answer caps
    /// the client's simulcast m-line at the gateway send bitrate (`b=TIAS`, §5.b); browsers
    /// get no cap, as on Meet.
    pub fn accept(
        &mut self,
        pid: i64,
        offer: &str,
        limit_send: bool,
        now: Instant,
    ) -> Result<(String, Vec<u32>), String> {
        let shape = OfferShape::parse(offer).map_err(|e| e.0)?;
        let (peer, answer) = Peer::accept(offer, &shape, self.local, &self.crypto, now)?;
        let answer = match &peer.video_in {
            Some((mid, _)) if limit_send => {
                with_tias(&answer, &mid.to_string(), self.max_bitrate_bps)
            }
            _ => answer,
        };
        let ssrcs = peer.video_ssrcs();
        self.peers.insert(pid, peer);
        self.drive(now);
        Ok((answer, ssrcs))
    }

    /// A change from the conference model.
    pub fn apply(&mut self, update: MediaUpdate, now: Instant) {
        match update {
            MediaUpdate::Joined {
                pid,
                space,
                audio_csrc,
                video_csrc,
            } => {
                if let Some(peer) = self.peers.get_mut(&pid) {
                    peer.space = Some(space);
                    peer.audio_csrc = audio_csrc;
                    peer.video_csrc = video_csrc;
                    // the layer deadline runs from the join (media flows only then)
                    peer.joined_at = Some(self.sim_now);
                }
            }
            MediaUpdate::Video { receiver, slots } => {
                let mut requests = Vec::new();
                if let Some(peer) = self.peers.get_mut(&receiver) {
                    for (out, slot) in peer.video_out.iter_mut().zip(slots) {
                        let source = slot.map(|s| s.source);
                        let changed = out.slot.source != source;
                        out.slot.set_source(source);
                        out.target_height = slot.map_or(0, |s| s.height);
                        out.csrc = slot.map_or(0, |s| s.csrc);
                        if changed && let Some(source) = source {
                            requests.push(source);
                        }
                    }
                }
                for source in requests {
                    self.request_keyframes(source);
                }
            }
            MediaUpdate::Muted { pid, video, audio } => {
                if let Some(peer) = self.peers.get_mut(&pid) {
                    peer.video_muted = video;
                    peer.audio_muted = audio;
                }
            }
            MediaUpdate::Left { pid } => {
                if let Some(peer) = self.peers.get_mut(&pid) {
                    peer.space = None;
                    peer.close_at = Some(now + CLOSE_DELAY);
                }
                for peer in self.peers.values_mut() {
                    for out in &mut peer.video_out {
                        if out.slot.source == Some(pid) {
                            out.slot.set_source(None);
                        }
                    }
                    for out in &mut peer.audio_out {
                        if out.slot.source == Some(pid) {
                            out.slot.set_source(None);
                        }
                    }
                }
            }
        }
        self.drive(now);
    }

    /// Sends `text` to `pid` on channel `label` (kept until the client opens it).
    pub fn send_text(&mut self, pid: i64, label: &str, text: String, now: Instant) {
        if let Some(peer) = self.peers.get_mut(&pid) {
            peer.send_text(label, text);
        }
        self.drive(now);
    }

    /// A datagram arrived on the UDP port.
    pub fn handle_datagram(&mut self, source: SocketAddr, contents: &[u8], now: Instant) {
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, contents) else {
            return;
        };
        let input = Input::Receive(now, receive);
        if let Some(peer) = self.peers.values_mut().find(|p| p.rtc.accepts(&input)) {
            let _ = peer.rtc.handle_input(input);
        }
        self.drive(now);
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        for peer in self.peers.values_mut() {
            let _ = peer.rtc.handle_input(Input::Timeout(now));
        }
        self.check_speakers(now);
        self.close_due(now);
        self.drive(now);
    }

    /// The next datagram to send.
    pub fn poll_datagram(&mut self) -> Option<Datagram> {
        self.out.pop_front()
    }

    /// The next event for the model.
    pub fn poll_event(&mut self) -> Option<PlaneEvent> {
        self.events.pop_front()
    }

    /// Asks participant `pid` for a key frame of the layer `rid` it sends: a real RTCP PLI
    /// (or FIR, per `kind`) for that layer's SSRC, sent at once (the control API's
    /// `:requestKeyframe`, so tests can ask for exactly one layer). `Err` with why when `pid`
    /// has no connection or sends no such RID (str0m knows a RID's stream from its first
    /// packet on).
    pub fn request_layer_keyframe(
        &mut self,
        pid: i64,
        rid: &str,
        kind: KeyframeRequestKind,
        now: Instant,
    ) -> Result<(), String> {
        let peer = self
            .peers
            .get_mut(&pid)
            .ok_or_else(|| format!("participant {pid} has no media connection"))?;
        let (mid, rids) = peer
            .video_in
            .clone()
            .ok_or_else(|| format!("participant {pid} sends no video"))?;
        if !rids.iter().any(|r| r == rid) {
            return Err(format!("participant {pid} announced no RID {rid:?}"));
        }
        let mut api = peer.rtc.direct_api();
        let stream = api
            .stream_rx_by_mid(mid, Some(rid.into()))
            .ok_or_else(|| format!("participant {pid} has sent nothing on RID {rid:?} yet"))?;
        stream.request_keyframe(kind);
        // str0m writes pending feedback on its next timeout: make that now
        let _ = peer.rtc.handle_input(Input::Timeout(now));
        self.drive(now);
        Ok(())
    }

    /// What the control API shows of `pid`'s media; `None` without a connection.
    pub fn report(&mut self, pid: i64, now: Instant) -> Option<MediaReport> {
        let peer = self.peers.get_mut(&pid)?;
        let layers = peer
            .layers
            .iter_mut()
            .map(|(rid, l)| l.snapshot(rid, now))
            .collect();
        Some(MediaReport {
            connected: peer.rtc.is_connected(),
            layers,
            audio_packets: peer.audio_packets,
            video_streams: peer
                .video_out
                .iter()
                .map(|o| StreamReport {
                    ssrc: *o.ssrc,
                    source: o.slot.source,
                    rid: o.slot.current_rid.clone(),
                    packets: o.slot.packets,
                    keyframe_requests: o.keyframe_requests,
                })
                .collect(),
            audio_streams: peer
                .audio_out
                .iter()
                .map(|o| StreamReport {
                    ssrc: *o.ssrc,
                    source: o.slot.source,
                    rid: None,
                    packets: o.slot.packets,
                    keyframe_requests: o.keyframe_requests,
                })
                .collect(),
            channels: peer.channels.keys().cloned().collect(),
        })
    }

    /// Polls every connection until each has only a timeout left; handles what came out.
    /// An event of one connection can make another send (forwarding), so this repeats while
    /// events come (a few rounds at most).
    fn drive(&mut self, now: Instant) {
        for _ in 0..4 {
            let mut events = 0;
            let pids: Vec<i64> = self.peers.keys().copied().collect();
            for pid in pids {
                while let Some(output) = self
                    .peers
                    .get_mut(&pid)
                    .filter(|p| p.rtc.is_alive())
                    .and_then(|p| p.rtc.poll_output().ok())
                {
                    match output {
                        Output::Timeout(at) => {
                            if let Some(peer) = self.peers.get_mut(&pid) {
                                peer.next_timeout = Some(at);
                            }
                            break;
                        }
                        Output::Transmit(t) => self.out.push_back(Datagram {
                            destination: t.destination,
                            contents: t.contents.to_vec(),
                        }),
                        Output::Event(event) => {
                            events += 1;
                            self.on_event(pid, event, now);
                        }
                    }
                }
            }
            if events == 0 {
                break;
            }
        }
        self.reap();
    }

    /// The earliest time any connection needs [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self, now: Instant) -> Instant {
        self.peers
            .values()
            .filter_map(|p| p.next_timeout)
            .fold(now + Duration::from_millis(100), Instant::min)
            .max(now)
    }

    fn reap(&mut self) {
        let dead: Vec<i64> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.rtc.is_alive())
            .map(|(pid, _)| *pid)
            .collect();
        for pid in dead {
            if let Some(peer) = self.peers.remove(&pid)
                && peer.close_at.is_none()
            {
                self.events.push_back(PlaneEvent::Gone { pid });
            }
        }
    }

    fn close_due(&mut self, now: Instant) {
        let due: Vec<i64> = self
            .peers
            .iter()
            .filter(|(_, p)| p.close_at.is_some_and(|at| at <= now))
            .map(|(pid, _)| *pid)
            .collect();
        for pid in due {
            if let Some(mut peer) = self.peers.remove(&pid) {
                peer.rtc.disconnect();
            }
        }
    }

    fn on_event(&mut self, pid: i64, event: Event, now: Instant) {
        let Some(peer) = self.peers.get_mut(&pid) else {
            return;
        };
        match event {
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                peer.rtc.disconnect();
            }
            Event::ChannelOpen(id, label) => {
                peer.channels.insert(label.clone(), id);
                peer.flush(&label);
            }
            Event::ChannelData(data) => {
                let label = peer
                    .channels
                    .iter()
                    .find(|(_, id)| **id == data.id)
                    .map(|(label, _)| label.clone());
                if let (Some(label), Ok(text)) = (label, String::from_utf8(data.data)) {
                    self.events
                        .push_back(PlaneEvent::Channel { pid, label, text });
                }
            }
            Event::ChannelClose(id) => peer.channels.retain(|_, c| *c != id),
            Event::RtpPacket(packet) => self.on_rtp(pid, packet, now),
            Event::KeyframeRequest(request) => {
                let slot = peer
                    .video_out
                    .iter_mut()
                    .find(|o| o.mid == request.mid)
                    .and_then(|o| {
                        o.keyframe_requests += 1;
                        Some((o.slot.source?, o.slot.current_rid.clone()?))
                    });
                if let Some((source, rid)) = slot {
                    self.request_keyframe(source, &rid);
                }
            }
            _ => {}
        }
    }

    fn request_keyframes(&mut self, source: i64) {
        let rids = self
            .peers
            .get(&source)
            .and_then(|p| p.video_in.as_ref())
            .map(|(_, rids)| rids.clone())
            .unwrap_or_default();
        for rid in rids {
            self.request_keyframe(source, &rid);
        }
    }

    fn request_keyframe(&mut self, source: i64, rid: &str) {
        let Some(peer) = self.peers.get_mut(&source) else {
            return;
        };
        let Some((mid, _)) = peer.video_in.clone() else {
            return;
        };
        if let Some(stream) = peer
            .rtc
            .direct_api()
            .stream_rx_by_mid(mid, Some(rid.into()))
        {
            stream.request_keyframe(KeyframeRequestKind::Pli);
        }
    }

    fn on_rtp(&mut self, pid: i64, packet: RtpPacket, now: Instant) {
        let Some(peer) = self.peers.get_mut(&pid) else {
            return;
        };
        let ssrc = packet.header.ssrc;
        let Some((mid, rid)) = peer
            .rtc
            .direct_api()
            .stream_rx(&ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return;
        };
        if peer.video_in.as_ref().is_some_and(|(m, _)| *m == mid) {
            let Some(rid) = rid.map(|r| r.to_string()) else {
                return;
            };
            let vp8 = Vp8Packet::parse(&packet.payload);
            peer.layers.entry(rid.clone()).or_default().record(
                now,
                packet.payload.len(),
                vp8.as_ref(),
            );
            if peer.space.is_none() || peer.video_muted {
                return;
            }
            if let Some(vp8) = vp8 {
                self.forward_video(pid, &rid, &packet, &vp8, now);
            }
        } else if peer.audio_in == Some(mid) {
            peer.audio_packets += 1;
            if let Some(level) = packet.header.ext_vals.audio_level {
                let level = f64::from(level.unsigned_abs());
                peer.audio_level = 0.9 * peer.audio_level + 0.1 * level;
            }
            if peer.space.is_none() || peer.audio_muted {
                return;
            }
            self.forward_audio(pid, &packet, now);
        }
    }

    fn forward_video(
        &mut self,
        source: i64,
        rid: &str,
        packet: &RtpPacket,
        vp8: &Vp8Packet,
        now: Instant,
    ) {
        let Some(space) = self.peers.get(&source).map(|p| p.space.clone()) else {
            return;
        };
        // A layer that has sent no key frame has no size, so no slot can pick it (and before
        // the first key frame of any layer, no slot picks anything): while someone shows this
        // source, keep asking for that layer's key frame until it comes. The request made when
        // the slot was assigned may have gone out before the sender's DTLS was up, or been
        // ignored.
        let shown = self.peers.iter().any(|(pid, p)| {
            *pid != source
                && p.space == space
                && p.video_out.iter().any(|o| o.slot.source == Some(source))
        });
        let first_keyframe = shown
            && self
                .peers
                .get_mut(&source)
                .and_then(|p| p.layers.get_mut(rid))
                .is_some_and(|l| l.first_keyframe_due(now));
        let Some(source_peer) = self.peers.get(&source) else {
            return;
        };
        // the target layer of every slot showing this source, by its canvas height
        let targets: Vec<(i64, usize, String)> = self
            .peers
            .iter()
            .filter(|(pid, p)| **pid != source && p.space == space)
            .flat_map(|(pid, p)| {
                p.video_out
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.slot.source == Some(source))
                    .filter_map(|(i, o)| {
                        source_peer
                            .layer_for(o.target_height, now)
                            .map(|rid| (*pid, i, rid))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut requests = Vec::new();
        for (receiver, index, target) in targets {
            let Some(peer) = self.peers.get_mut(&receiver) else {
                continue;
            };
            let Some(pt) = peer.vp8_pt else {
                continue;
            };
            let out = &mut peer.video_out[index];
            match out
                .slot
                .on_packet(now, rid, &target, packet.header.timestamp, vp8)
            {
                Decision::Drop => {}
                Decision::RequestKeyframe(rid) => requests.push(rid),
                Decision::Forward(rewrite) => {
                    let payload = match rewrite.picture_id {
                        Some(id) => vp8.with_picture_id(&packet.payload, id),
                        None => packet.payload.to_vec(),
                    };
                    let ext = ExtensionValues {
                        mid: Some(out.mid),
                        ..ExtensionValues::default()
                    };
                    let write = RtpWrite::new(
                        pt,
                        SeqNo::from(rewrite.seq + 1),
                        rewrite.timestamp,
                        packet.timestamp,
                        payload,
                    )
                    .marker(packet.header.marker)
                    .ext_vals(ext)
                    .csrc(&[out.csrc]);
                    let ssrc = out.ssrc;
                    if let Some(from) = rewrite.switched_from {
                        self.events.push_back(PlaneEvent::LayerSwitched {
                            receiver,
                            source,
                            ssrc: *ssrc,
                            from_rid: from.unwrap_or_default(),
                            to_rid: rid.to_owned(),
                        });
                    }
                    if let Some(stream) = peer.rtc.direct_api().stream_tx(&ssrc) {
                        stream.write_rtp(write);
                    }
                }
            }
        }
        if first_keyframe && !requests.iter().any(|r| r == rid) {
            requests.push(rid.to_owned());
        }
        for rid in requests {
            self.request_keyframe(source, &rid);
        }
    }

    fn forward_audio(&mut self, source: i64, packet: &RtpPacket, _now: Instant) {
        let Some(space) = self.peers.get(&source).and_then(|p| p.space.clone()) else {
            return;
        };
        let csrc = self.peers[&source].audio_csrc;
        let loudest = self.speakers.get(&space) == Some(&source);
        // the 3 loudest others of each receiver's conference
        let mut senders: Vec<(f64, i64)> = self
            .peers
            .iter()
            .filter(|(_, p)| p.space.as_ref() == Some(&space) && p.audio_in.is_some())
            .map(|(pid, p)| (p.audio_level, *pid))
            .collect();
        senders.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (receiver, peer) in self.peers.iter_mut() {
            if *receiver == source
                || peer.space.as_ref() != Some(&space)
                || peer.audio_out.is_empty()
            {
                continue;
            }
            let Some(pt) = peer.opus_pt else {
                continue;
            };
            let chosen: Vec<i64> = senders
                .iter()
                .map(|s| s.1)
                .filter(|s| s != receiver)
                .take(peer.audio_out.len())
                .collect();
            if !chosen.contains(&source) {
                continue;
            }
            // keep a source on its slot; else take a slot whose source is not chosen
            let index = peer
                .audio_out
                .iter()
                .position(|o| o.slot.source == Some(source))
                .or_else(|| {
                    peer.audio_out
                        .iter()
                        .position(|o| o.slot.source.is_none_or(|s| !chosen.contains(&s)))
                });
            let Some(index) = index else {
                continue;
            };
            let out = &mut peer.audio_out[index];
            let first = out.slot.source != Some(source);
            out.slot.set_source(Some(source));
            let (seq, ts) = out.slot.forward(packet.header.timestamp, first);
            let csrcs: &[u32] = if loudest {
                &[csrc, LOUDEST_CSRC]
            } else {
                &[csrc]
            };
            let ext = ExtensionValues {
                mid: Some(out.mid),
                audio_level: packet.header.ext_vals.audio_level,
                ..ExtensionValues::default()
            };
            let write = RtpWrite::new(
                pt,
                SeqNo::from(seq + 1),
                ts,
                packet.timestamp,
                packet.payload.clone(),
            )
            .marker(packet.header.marker)
            .ext_vals(ext)
            .csrc(csrcs);
            let ssrc = out.ssrc;
            if let Some(stream) = peer.rtc.direct_api().stream_tx(&ssrc) {
                stream.write_rtp(write);
            }
        }
    }

    /// The simulator's clock reads `sim_now` (it is injectable: tests move it by hand). Checks
    /// the media rules when it moved, or every 250 ms of real time:
    /// `LAYERS_MISSING` once, [`LAYER_DEADLINE`] after joining on the simulator's clock;
    /// `BITRATE_EXCEEDED` (a real-time rate over 5 s) on each rise above the limit, after that
    /// deadline too.
    pub fn advance_sim_time(&mut self, sim_now: SystemTime, now: Instant) {
        let moved = sim_now > self.sim_now;
        self.sim_now = self.sim_now.max(sim_now);
        if moved || now >= self.next_rule_check {
            self.next_rule_check = now + RULE_CHECK_INTERVAL;
            self.check_rules(now);
        }
    }

    fn check_rules(&mut self, now: Instant) {
        let sim_now = self.sim_now;
        for (pid, peer) in self.peers.iter_mut() {
            let (Some(since), Some((_, rids))) = (peer.joined_at, peer.video_in.as_ref()) else {
                continue;
            };
            let due = sim_now
                .duration_since(since)
                .is_ok_and(|d| d >= LAYER_DEADLINE);
            if peer.space.is_none() || !due {
                continue;
            }
            if !peer.layers_checked {
                peer.layers_checked = true;
                let missing: Vec<&String> = rids
                    .iter()
                    .filter(|r| peer.layers.get(*r).is_none_or(|l| l.packets() == 0))
                    .collect();
                if !missing.is_empty() {
                    self.events.push_back(PlaneEvent::RuleBroken {
                        pid: *pid,
                        flag: "LAYERS_MISSING".to_owned(),
                        detail: format!(
                            "no RTP within {} s on RID {}",
                            LAYER_DEADLINE.as_secs(),
                            missing
                                .iter()
                                .map(|r| r.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
            let total: u64 = peer.layers.values_mut().map(|l| l.bitrate_bps(now)).sum();
            let limit = self.max_bitrate_bps + self.max_bitrate_bps / 10;
            if total > limit && !peer.bitrate_flagged {
                peer.bitrate_flagged = true;
                self.events.push_back(PlaneEvent::RuleBroken {
                    pid: *pid,
                    flag: "BITRATE_EXCEEDED".to_owned(),
                    detail: format!(
                        "{total} bit/s over 5 s, above {} bit/s + 10 %",
                        self.max_bitrate_bps
                    ),
                });
            } else if total <= limit {
                peer.bitrate_flagged = false;
            }
        }
    }

    fn check_speakers(&mut self, now: Instant) {
        if self.next_speaker_check.is_some_and(|at| now < at) {
            return;
        }
        self.next_speaker_check = Some(now + SPEAKER_INTERVAL);
        let mut loudest: BTreeMap<String, (f64, i64)> = BTreeMap::new();
        for (pid, peer) in &self.peers {
            let Some(space) = &peer.space else { continue };
            if peer.audio_level >= SILENCE_LEVEL || peer.audio_muted {
                continue;
            }
            let entry = loudest.entry(space.clone()).or_insert((f64::MAX, *pid));
            if peer.audio_level < entry.0 {
                *entry = (peer.audio_level, *pid);
            }
        }
        for (space, (level, pid)) in loudest {
            let current = self.speakers.get(&space).copied();
            if current == Some(pid) {
                continue;
            }
            let current_level = current
                .and_then(|c| self.peers.get(&c))
                .filter(|p| p.space.as_ref() == Some(&space))
                .map_or(f64::MAX, |p| p.audio_level);
            if current_level < SILENCE_LEVEL && current_level - level < SPEAKER_HYSTERESIS_DB {
                continue;
            }
            self.speakers.insert(space, pid);
            self.events.push_back(PlaneEvent::ActiveSpeaker { pid });
        }
    }

    /// The send bitrate limit the `BITRATE_EXCEEDED` rule checks.
    pub fn set_max_bitrate(&mut self, bps: u64) {
        self.max_bitrate_bps = bps;
    }
}
