//! The Meet leg: webrtcbin as the offerer toward Meet (or meet-sim), fed by the uplink graph.
//!
//! Built in the order that works on GStreamer 1.22 (media.md §8), except
//! `bundle-policy=max-bundle` (one ICE port per call; meet-sim takes bundle-only m-lines);
//! the ECDSA certificate set on every `dtlssrtpdec` from `element-added` while in NULL; the
//! ICE agent's port range, `keepalive-conncheck` (RFC 7675 consent for an ICE-lite peer) and
//! local addresses; sink pads for Opus then VP8 simulcast, then the recvonly transceivers;
//! data channels once READY; PLAYING. The offer is read after ICE gathering completes, with
//! its fingerprint rewritten. Keyframe requests from Meet are caught on the internal
//! rtpbin session (`on-feedback-rtcp`), because 1.22's rtpfunnel drops them (media.md §1.1),
//! and forced on the one layer they name, rate-limited ([`crate::keyframes`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gst::glib;
use gst::prelude::*;
use gst_webrtc::{WebRTCDataChannel, WebRTCRTPTransceiverDirection};

use crate::dtls_cert::{
    DtlsCertificate, map_lines, pem_fingerprint, rewrite_fingerprints, sdp_fingerprints,
};
use crate::error::PipelineError;
use crate::events::{ConnectionState, KeyframeCause, KeyframeOutcome, MediaEvent};
use crate::keyframes::{KeyframeLimiter, KeyframeStats};
use crate::spec::{MeetLegSpec, UplinkSpec};
use crate::uplink::{self, EXT_ID_MID, EXT_ID_RID, EXT_MID, EXT_RID, UplinkInput, make};

/// How long ICE gathering may take: 10 s.
const GATHER_TIMEOUT: Duration = Duration::from_secs(10);
/// RTCP payload-specific feedback (RFC 4585).
const RTCP_PSFB: u32 = 206;
/// PSFB format: Picture Loss Indication.
const FMT_PLI: u32 = 1;
/// PSFB format: Full Intra Request (RFC 5104).
const FMT_FIR: u32 = 4;

/// What the signal handlers share with the leg.
struct Shared {
    events: mpsc::Sender<MediaEvent>,
    limiter: Mutex<KeyframeLimiter>,
    encoders: Vec<gst::Element>,
    rids: Vec<String>,
    ssrcs: Vec<u32>,
    channels: Mutex<BTreeMap<String, WebRTCDataChannel>>,
    gathered: (Mutex<bool>, Condvar),
    hooked_sessions: Mutex<HashSet<u32>>,
    candidates: Mutex<Vec<(u32, String)>>,
    /// Where the RTP packets Meet sends go (the downlink), once set.
    receiver: Mutex<Option<RtpReceiver>>,
    /// The sink pads of the appsinks taking Meet's video: where keyframe requests toward Meet
    /// go upstream.
    video_sinks: Mutex<Vec<gst::Pad>>,
    /// Keyframe requests toward Meet, per SSRC.
    meet_requests: Mutex<MeetRequests>,
    /// Bytes out of each layer's encoder (VP8 frames, before RTP), in layer order.
    layer_bytes: Vec<std::sync::atomic::AtomicU64>,
    /// Frames out of each layer's encoder, in layer order.
    layer_frames: Vec<std::sync::atomic::AtomicU64>,
    /// When anything last came from Meet on the ICE transport (DTLS, SRTP, SRTCP: what
    /// libnice hands up), as milliseconds after `created` plus one; 0 while nothing has.
    last_received_ms: std::sync::atomic::AtomicU64,
    created: Instant,
}

/// The least time between two keyframe requests toward Meet for one stream: 500 ms. A
/// request inside it is dropped: the keyframe asked for a moment ago answers it too (loss
/// usually comes in bursts, and each lost packet would otherwise ask again; the peers'
/// lesson in media.md §5).
pub const MEET_KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Keyframe requests toward Meet: when each stream was last asked, and the counts.
#[derive(Debug, Default)]
struct MeetRequests {
    last: HashMap<u32, Instant>,
    sent: u64,
    dropped: u64,
}

/// What the leg asked of Meet: keyframe requests sent (as RTCP PLI) and dropped by the rate
/// limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeetKeyframeRequests {
    /// PLIs asked of webrtcbin's RTP session.
    pub sent: u64,
    /// Requests inside [`MEET_KEYFRAME_REQUEST_INTERVAL`] of the previous one for the stream.
    pub dropped: u64,
}

/// What the Meet leg hands on for every RTP packet Meet sends (after webrtcbin's SRTP and
/// jitter buffer): its media kind and the packet. The SSRC is the packet's own (bytes 8..12);
/// streams are keyed on it and on the `videoAssignment`, never on pad names or transceivers,
/// which webrtcbin 1.22 gets wrong for idle SSRCs (media.md §8).
pub type RtpReceiver = Arc<dyn Fn(ReceivedKind, &[u8]) + Send + Sync>;

/// The kind of a packet Meet sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceivedKind {
    /// VP8 video (one of the ≤ 8 virtual video streams).
    Video,
    /// Opus audio (one of the 3 virtual audio streams).
    Audio,
}

impl Shared {
    fn emit(&self, event: MediaEvent) {
        // the owner may have stopped listening; the graph goes on
        let _ = self.events.send(event);
    }

    /// Sends an upstream force-key-unit event into layer `layer`'s encoder.
    fn force(&self, layer: usize) {
        let Some(pad) = self.encoders.get(layer).and_then(|e| e.static_pad("src")) else {
            return;
        };
        let event = gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(true)
            .build();
        pad.send_event(event);
    }

    fn request(&self, layer: usize, cause: KeyframeCause) {
        let outcome = lock(&self.limiter).request(layer, cause, Instant::now());
        if outcome == KeyframeOutcome::Forced {
            self.force(layer);
        }
        self.emit(MediaEvent::KeyframeRequested {
            rid: self.rids[layer].clone(),
            cause,
            outcome,
        });
    }

    /// RTCP feedback for a local SSRC: a PLI or FIR becomes a keyframe request on that layer.
    fn on_feedback(&self, rtcp_type: u32, fmt: u32, media_ssrc: u32, fci: Option<&gst::Buffer>) {
        if rtcp_type != RTCP_PSFB {
            return;
        }
        let (cause, ssrcs) = match fmt {
            FMT_PLI => (KeyframeCause::Pli, vec![media_ssrc]),
            FMT_FIR => (KeyframeCause::Fir, fir_ssrcs(fci)),
            _ => return,
        };
        for ssrc in ssrcs {
            if let Some(layer) = self.ssrcs.iter().position(|s| *s == ssrc) {
                self.request(layer, cause);
            }
        }
    }

    /// A buffer left layer `layer`'s encoder.
    fn on_encoded(&self, layer: usize, keyframe: bool) -> bool {
        let now = Instant::now();
        let mut limiter = lock(&self.limiter);
        if keyframe {
            limiter.keyframe_sent(layer, now);
        }
        limiter.poll(layer, now)
    }
}

/// The SSRCs named by a FIR's FCI entries (RFC 5104 §4.3.1: SSRC, seq, 3 reserved bytes).
fn fir_ssrcs(fci: Option<&gst::Buffer>) -> Vec<u32> {
    let Some(map) = fci.and_then(|b| b.map_readable().ok()) else {
        return Vec::new();
    };
    map.chunks_exact(8)
        .map(|e| u32::from_be_bytes([e[0], e[1], e[2], e[3]]))
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // a panicking callback must not take the leg down with it
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One call's Meet leg and the uplink graph that feeds it.
pub struct MeetLeg {
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    cert: DtlsCertificate,
    shared: Arc<Shared>,
    input: UplinkInput,
    layer_encoders: Vec<(String, gst::Element)>,
    video_mid_exts: Vec<gst_rtp::RTPHeaderExtension>,
    audio_mid_ext: gst_rtp::RTPHeaderExtension,
    total_bps: u32,
    vp8_payload_type: u8,
    stop: Arc<AtomicBool>,
    bus_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MeetLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeetLeg")
            .field("pipeline", &self.pipeline.name())
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

impl MeetLeg {
    /// Builds the leg and its uplink and starts them (PLAYING, waiting for the offer).
    /// Events come out of the returned receiver.
    pub fn new(
        spec: &MeetLegSpec,
        input: &UplinkSpec,
    ) -> Result<(Self, mpsc::Receiver<MediaEvent>), PipelineError> {
        gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
        let cert = DtlsCertificate::generate()?;
        let pipeline = gst::Pipeline::builder().name("meet-leg").build();

        let webrtc = make("webrtcbin", "webrtc")?;
        // One transport for every m-line: one ICE port per call, taken from the node's media
        // range (meet-sim accepts RFC 8843 bundle-only m-lines, as Meet does).
        webrtc.set_property_from_str("bundle-policy", "max-bundle");
        webrtc.set_property(
            "latency",
            u32::try_from(spec.jitter_latency.as_millis()).unwrap_or(u32::MAX),
        );
        install_certificate(&webrtc, &cert)?;
        configure_ice(&webrtc, spec);
        pipeline.add(&webrtc)?;

        let graph = uplink::build(&pipeline, spec, input)?;

        // send pads first (Opus, then VP8 simulcast), then the recvonly transceivers
        let audio_pad = request_sink(&webrtc)?;
        set_transceiver(
            &audio_pad,
            WebRTCRTPTransceiverDirection::Sendonly,
            &opus_caps(spec.opus_payload_type, true),
        );
        link_to(&graph.audio_out, &audio_pad)?;
        let video_pad = request_sink(&webrtc)?;
        set_transceiver(
            &video_pad,
            WebRTCRTPTransceiverDirection::Sendonly,
            &simulcast_caps(spec),
        );
        link_to(&graph.video_out, &video_pad)?;
        for _ in 0..spec.recv_audio {
            add_recv(&webrtc, &opus_caps(spec.opus_payload_type, false));
        }
        for _ in 0..spec.recv_video {
            add_recv(&webrtc, &vp8_recv_caps(spec.vp8_payload_type));
        }

        let (events, receiver) = mpsc::channel();
        let shared = Arc::new(Shared {
            events,
            limiter: Mutex::new(KeyframeLimiter::new(
                graph.layers.len(),
                spec.keyframe_min_interval,
            )),
            encoders: graph.layers.iter().map(|l| l.encoder.clone()).collect(),
            rids: graph.layers.iter().map(|l| l.spec.rid.clone()).collect(),
            ssrcs: graph.layers.iter().map(|l| l.spec.ssrc).collect(),
            channels: Mutex::new(BTreeMap::new()),
            gathered: (Mutex::new(false), Condvar::new()),
            hooked_sessions: Mutex::new(HashSet::new()),
            candidates: Mutex::new(Vec::new()),
            receiver: Mutex::new(None),
            video_sinks: Mutex::new(Vec::new()),
            meet_requests: Mutex::new(MeetRequests::default()),
            layer_bytes: graph
                .layers
                .iter()
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            layer_frames: graph
                .layers
                .iter()
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            last_received_ms: std::sync::atomic::AtomicU64::new(0),
            created: Instant::now(),
        });
        watch_transport(&webrtc, &shared)?;
        connect_webrtc_signals(&webrtc, &shared);
        for (index, layer) in graph.layers.iter().enumerate() {
            watch_encoder(&layer.encoder, index, &shared);
        }

        let stop = Arc::new(AtomicBool::new(false));
        let bus_thread = spawn_bus_watch(&pipeline, &shared, &stop)?;
        let leg = Self {
            pipeline,
            webrtc,
            cert,
            input: graph.input.clone(),
            layer_encoders: graph
                .layers
                .iter()
                .map(|l| (l.spec.rid.clone(), l.encoder.clone()))
                .collect(),
            video_mid_exts: graph.layers.iter().map(|l| l.mid_ext.clone()).collect(),
            audio_mid_ext: graph.audio_mid_ext.clone(),
            total_bps: spec.layers.total_bps(),
            vp8_payload_type: spec.vp8_payload_type,
            shared,
            stop,
            bus_thread: Some(bus_thread),
        };
        leg.set_state(gst::State::Ready)?;
        for label in &spec.data_channels {
            leg.create_channel(label)?;
        }
        leg.set_state(gst::State::Playing)?;
        Ok((leg, receiver))
    }

    fn set_state(&self, state: gst::State) -> Result<(), PipelineError> {
        self.pipeline
            .set_state(state)
            .map(|_| ())
            .map_err(|_| PipelineError::StateChange(format!("{state:?}")))
    }

    fn create_channel(&self, label: &str) -> Result<(), PipelineError> {
        let channel = self
            .webrtc
            .emit_by_name::<Option<WebRTCDataChannel>>(
                "create-data-channel",
                &[&label, &None::<gst::Structure>],
            )
            .ok_or_else(|| PipelineError::Build(format!("data channel {label}")))?;
        let weak = Arc::downgrade(&self.shared);
        let name = label.to_owned();
        channel.connect("on-open", false, move |_| {
            if let Some(shared) = weak.upgrade() {
                shared.emit(MediaEvent::DataChannelOpen {
                    label: name.clone(),
                });
            }
            None
        });
        let weak = Arc::downgrade(&self.shared);
        let name = label.to_owned();
        channel.connect("on-message-string", false, move |values| {
            let text = values.get(1).and_then(|v| v.get::<Option<String>>().ok());
            if let (Some(shared), Some(Some(text))) = (weak.upgrade(), text) {
                shared.emit(MediaEvent::DataChannelMessage {
                    label: name.clone(),
                    text,
                });
            }
            None
        });
        let weak = Arc::downgrade(&self.shared);
        let name = label.to_owned();
        channel.connect("on-close", false, move |_| {
            if let Some(shared) = weak.upgrade() {
                shared.emit(MediaEvent::DataChannelClosed {
                    label: name.clone(),
                });
            }
            None
        });
        lock(&self.shared.channels).insert(label.to_owned(), channel);
        Ok(())
    }

    /// Where the RTP packets Meet sends go from now on (the downlink graph).
    pub fn on_receive(&self, receiver: RtpReceiver) {
        *lock(&self.shared.receiver) = Some(receiver);
    }

    /// Creates the offer, waits for ICE gathering to complete and returns the SDP with every
    /// candidate, the certificate's real fingerprint and `b=TIAS` on the simulcast m-line.
    pub fn create_offer(&self) -> Result<String, PipelineError> {
        let reply = promise_reply(&self.webrtc, "create-offer", None)?;
        let offer = reply
            .get::<gst_webrtc::WebRTCSessionDescription>("offer")
            .map_err(|e| PipelineError::Negotiation(format!("create-offer: {e}")))?;
        promise_reply(&self.webrtc, "set-local-description", Some(&offer))?;
        self.hook_feedback();
        let text = offer
            .sdp()
            .as_text()
            .map_err(|e| PipelineError::Sdp(e.to_string()))?;
        // the MID extensions carry the mids webrtcbin chose
        let (audio_mid, video_mid) = send_mids(&text);
        if let Some(mid) = video_mid {
            for ext in &self.video_mid_exts {
                ext.set_property("mid", mid.as_str());
            }
        }
        if let Some(mid) = audio_mid {
            self.audio_mid_ext.set_property("mid", mid.as_str());
        }
        self.wait_gathered()?;
        let local = self
            .webrtc
            .property::<Option<gst_webrtc::WebRTCSessionDescription>>("local-description")
            .ok_or_else(|| PipelineError::Negotiation("no local description".into()))?;
        let mut sdp = local
            .sdp()
            .as_text()
            .map_err(|e| PipelineError::Sdp(e.to_string()))?;
        if !sdp.contains("a=candidate:") {
            sdp = insert_candidates(&sdp, &lock(&self.shared.candidates));
        }
        let sdp = rewrite_fingerprints(&sdp, self.cert.fingerprint());
        Ok(add_tias(&sdp, self.total_bps))
    }

    fn wait_gathered(&self) -> Result<(), PipelineError> {
        let (flag, signal) = &self.shared.gathered;
        let guard = lock(flag);
        let (guard, _) = signal
            .wait_timeout_while(guard, GATHER_TIMEOUT, |done| !*done)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *guard {
            Ok(())
        } else {
            Err(PipelineError::Timeout("ICE gathering".into()))
        }
    }

    /// Applies Meet's answer.
    pub fn apply_answer(&self, sdp: &str) -> Result<(), PipelineError> {
        let message = gst_sdp::SDPMessage::parse_buffer(sdp.as_bytes())
            .map_err(|e| PipelineError::Sdp(e.to_string()))?;
        let answer =
            gst_webrtc::WebRTCSessionDescription::new(gst_webrtc::WebRTCSDPType::Answer, message);
        promise_reply(&self.webrtc, "set-remote-description", Some(&answer))?;
        self.hook_feedback();
        self.verify_peer_certificate(sdp)
    }

    /// Checks Meet's DTLS certificate against the fingerprint of its answer (RFC 8842 §5)
    /// once the handshake is done: webrtcbin 1.22 takes any certificate. A mismatch is a
    /// failed transport (someone else answered the handshake): the call ends. An answer
    /// without a SHA-256 fingerprint is refused at once.
    fn verify_peer_certificate(&self, sdp: &str) -> Result<(), PipelineError> {
        let expected = sdp_fingerprints(sdp);
        if expected.is_empty() {
            return Err(PipelineError::Sdp(
                "the answer has no a=fingerprint:sha-256".into(),
            ));
        }
        let transport = self
            .webrtc
            .emit_by_name::<Option<gst_webrtc::WebRTCRTPTransceiver>>("get-transceiver", &[&0i32])
            .and_then(|t| t.property::<Option<gst_webrtc::WebRTCRTPReceiver>>("receiver"))
            .and_then(|r| r.property::<Option<gst_webrtc::WebRTCDTLSTransport>>("transport"))
            .ok_or_else(|| PipelineError::Negotiation("no DTLS transport".into()))?;
        let weak = Arc::downgrade(&self.shared);
        let check = move |transport: &gst_webrtc::WebRTCDTLSTransport| {
            let state = transport.property::<gst_webrtc::WebRTCDTLSTransportState>("state");
            if state != gst_webrtc::WebRTCDTLSTransportState::Connected {
                return;
            }
            let presented = transport
                .property::<Option<String>>("remote-certificate")
                .as_deref()
                .and_then(pem_fingerprint);
            if presented.as_ref().is_some_and(|p| expected.contains(p)) {
                return;
            }
            if let Some(shared) = weak.upgrade() {
                shared.emit(MediaEvent::PeerCertificateMismatch { presented });
            }
        };
        check(&transport);
        transport.connect_notify(Some("state"), move |transport, _| check(transport));
        Ok(())
    }

    /// Connects `on-feedback-rtcp` on every internal RTP session not yet hooked.
    fn hook_feedback(&self) {
        let Some(rtpbin) = self
            .webrtc
            .downcast_ref::<gst::Bin>()
            .and_then(|b| b.by_name("rtpbin"))
        else {
            return;
        };
        let mut hooked = lock(&self.shared.hooked_sessions);
        for id in 0u32..32 {
            if hooked.contains(&id) {
                continue;
            }
            let Some(session) =
                rtpbin.emit_by_name::<Option<glib::Object>>("get-internal-session", &[&id])
            else {
                continue;
            };
            hooked.insert(id);
            let weak = Arc::downgrade(&self.shared);
            session.connect("on-feedback-rtcp", false, move |values| {
                let arg = |i: usize| values.get(i).and_then(|v| v.get::<u32>().ok());
                let fci = values
                    .get(5)
                    .and_then(|v| v.get::<Option<gst::Buffer>>().ok())
                    .flatten();
                if let (Some(shared), Some(ty), Some(fmt), Some(media)) =
                    (weak.upgrade(), arg(1), arg(2), arg(4))
                {
                    shared.on_feedback(ty, fmt, media, fci.as_ref());
                }
                None
            });
        }
    }

    /// Sends `text` on the data channel `label`.
    pub fn send_data(&self, label: &str, text: &str) -> Result<(), PipelineError> {
        let channels = lock(&self.shared.channels);
        let channel = channels
            .get(label)
            .ok_or_else(|| PipelineError::ChannelNotOpen(label.to_owned()))?;
        if channel.ready_state() != gst_webrtc::WebRTCDataChannelState::Open {
            return Err(PipelineError::ChannelNotOpen(label.to_owned()));
        }
        channel.emit_by_name::<()>("send-string", &[&text]);
        Ok(())
    }

    /// Where the node pushes the VTC's RTP.
    pub fn input(&self) -> UplinkInput {
        self.input.clone()
    }

    /// One RTP packet of the VTC's video (see [`UplinkInput::push_video_rtp`]).
    pub fn push_video_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        self.input.push_video_rtp(packet)
    }

    /// One RTP packet of the VTC's audio (see [`UplinkInput::push_audio_rtp`]).
    pub fn push_audio_rtp(&self, packet: &[u8]) -> Result<(), PipelineError> {
        self.input.push_audio_rtp(packet)
    }

    /// Asks Meet for a keyframe of the video stream `ssrc` it sends (loss or a new decoder
    /// on the downlink): an RTCP PLI for that SSRC only, from webrtcbin's RTP session (an
    /// upstream `GstForceKeyUnit` carrying the SSRC and the VP8 payload type, which
    /// `rtpsession` turns into a PLI because the answer has `nack pli`). At most one per
    /// [`MEET_KEYFRAME_REQUEST_INTERVAL`] per stream; returns whether it went out.
    pub fn request_keyframe_from_meet(&self, ssrc: u32) -> bool {
        let now = Instant::now();
        {
            let mut requests = lock(&self.shared.meet_requests);
            let due = requests
                .last
                .get(&ssrc)
                .is_none_or(|at| now.duration_since(*at) >= MEET_KEYFRAME_REQUEST_INTERVAL);
            if !due {
                requests.dropped += 1;
                return false;
            }
            requests.last.insert(ssrc, now);
            requests.sent += 1;
        }
        let Some(pad) = lock(&self.shared.video_sinks).first().cloned() else {
            return false;
        };
        let mut event = gst_video::UpstreamForceKeyUnitEvent::builder()
            .all_headers(false)
            .build();
        let structure = event.make_mut().structure_mut();
        structure.set("ssrc", ssrc);
        structure.set("payload", u32::from(self.vp8_payload_type));
        pad.push_event(event)
    }

    /// The keyframe requests sent toward Meet so far.
    pub fn meet_keyframe_requests(&self) -> MeetKeyframeRequests {
        let requests = lock(&self.shared.meet_requests);
        MeetKeyframeRequests {
            sent: requests.sent,
            dropped: requests.dropped,
        }
    }

    /// The RIDs of the layers sent to Meet, lowest first.
    pub fn rids(&self) -> &[String] {
        &self.shared.rids
    }

    /// Frames encoded so far on layer `rid`.
    pub fn layer_frames(&self, rid: &str) -> Option<u64> {
        let layer = self.shared.rids.iter().position(|r| r == rid)?;
        Some(self.shared.layer_frames[layer].load(Ordering::Relaxed))
    }

    /// Bytes encoded so far on layer `rid` (VP8 frames, before RTP packetisation).
    pub fn layer_bytes(&self, rid: &str) -> Option<u64> {
        let layer = self.shared.rids.iter().position(|r| r == rid)?;
        Some(self.shared.layer_bytes[layer].load(Ordering::Relaxed))
    }

    /// The keyframe counters of layer `rid`.
    pub fn keyframe_stats(&self, rid: &str) -> Option<KeyframeStats> {
        let layer = self.shared.rids.iter().position(|r| r == rid)?;
        Some(lock(&self.shared.limiter).stats(layer))
    }

    /// Calls `tap` with every encoded frame of layer `rid` (the VP8 frame, and whether it is
    /// a keyframe), on the encoder's streaming thread: for measurements and tests.
    pub fn tap_layer(
        &self,
        rid: &str,
        tap: impl Fn(&[u8], bool) + Send + Sync + 'static,
    ) -> Result<(), PipelineError> {
        let (_, encoder) = self
            .layer_encoders
            .iter()
            .find(|(r, _)| r == rid)
            .ok_or_else(|| PipelineError::UnknownLayer(rid.to_owned()))?;
        let pad = encoder
            .static_pad("src")
            .ok_or_else(|| PipelineError::Build("vp8enc without a src pad".into()))?;
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(buffer) = info.buffer()
                && let Ok(map) = buffer.map_readable()
            {
                tap(&map, !buffer.flags().contains(gst::BufferFlags::DELTA_UNIT));
            }
            gst::PadProbeReturn::Ok
        });
        Ok(())
    }

    /// How long since anything last came from Meet on the ICE transport (media, RTCP, DTLS);
    /// `None` while nothing has. Meet sends RTCP receiver reports for the layers it takes
    /// several times a second, so silence here means the far end or the path is gone.
    pub fn idle_for(&self) -> Option<Duration> {
        let last = self.shared.last_received_ms.load(Ordering::Relaxed);
        let at = self
            .shared
            .created
            .checked_add(Duration::from_millis(last.checked_sub(1)?))?;
        Some(Instant::now().saturating_duration_since(at))
    }

    /// Stops the pipeline and releases everything it holds. Also done on drop.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(thread) = self.bus_thread.take() {
            let _ = thread.join();
        }
        // the channels' handlers hold only weak references; drop the strong ones here
        lock(&self.shared.channels).clear();
    }
}

impl Drop for MeetLeg {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sets the certificate on each `dtlssrtpdec` webrtcbin creates, while it is still in NULL.
fn install_certificate(webrtc: &gst::Element, cert: &DtlsCertificate) -> Result<(), PipelineError> {
    let bin = webrtc
        .downcast_ref::<gst::Bin>()
        .ok_or_else(|| PipelineError::Build("webrtcbin is not a bin".into()))?;
    let pem = cert.pem().to_owned();
    bin.connect_element_added(move |_, element| {
        let mut found = Vec::new();
        if is_dtls_decoder(element) {
            found.push(element.clone());
        }
        if let Some(inner) = element.downcast_ref::<gst::Bin>() {
            for child in inner.iterate_recurse().into_iter().flatten() {
                if is_dtls_decoder(&child) {
                    found.push(child);
                }
            }
        }
        for decoder in found {
            decoder.set_property("pem", pem.as_str());
        }
    });
    Ok(())
}

/// Notes the time of every buffer libnice hands up (each `nicesrc` webrtcbin creates, found
/// as it is added): [`MeetLeg::idle_for`].
fn watch_transport(webrtc: &gst::Element, shared: &Arc<Shared>) -> Result<(), PipelineError> {
    let bin = webrtc
        .downcast_ref::<gst::Bin>()
        .ok_or_else(|| PipelineError::Build("webrtcbin is not a bin".into()))?;
    let weak = Arc::downgrade(shared);
    let probe = move |element: &gst::Element| {
        let Some(pad) = element.static_pad("src") else {
            return;
        };
        let weak = weak.clone();
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::BUFFER_LIST,
            move |_, _| {
                if let Some(shared) = weak.upgrade() {
                    let ms =
                        u64::try_from(shared.created.elapsed().as_millis()).unwrap_or(u64::MAX);
                    shared
                        .last_received_ms
                        .store(ms.saturating_add(1), Ordering::Relaxed);
                }
                gst::PadProbeReturn::Ok
            },
        );
    };
    let is_nicesrc = |element: &gst::Element| {
        element
            .factory()
            .is_some_and(|f| f.name().as_str() == "nicesrc")
    };
    // A bin may arrive with its nicesrc already inside it: look through it too.
    bin.connect_deep_element_added(move |_, _, element| {
        if is_nicesrc(element) {
            probe(element);
        } else if let Some(inner) = element.downcast_ref::<gst::Bin>() {
            for child in inner.iterate_recurse().into_iter().flatten() {
                if is_nicesrc(&child) {
                    probe(&child);
                }
            }
        }
    });
    Ok(())
}

fn is_dtls_decoder(element: &gst::Element) -> bool {
    element
        .factory()
        .is_some_and(|f| f.name().as_str() == "dtlssrtpdec")
}

/// Port range, consent keepalives and local addresses of webrtcbin's ICE agent.
fn configure_ice(webrtc: &gst::Element, spec: &MeetLegSpec) {
    let ice = webrtc.property::<glib::Object>("ice-agent");
    ice.set_property("min-rtp-port", u32::from(spec.ice_ports.min));
    ice.set_property("max-rtp-port", u32::from(spec.ice_ports.max));
    if ice.find_property("ice-tcp").is_some() {
        ice.set_property("ice-tcp", false);
    }
    if ice.find_property("agent").is_some() {
        let agent = ice.property::<glib::Object>("agent");
        // str0m's ICE-lite (and Meet) want Binding requests, not indications (RFC 7675)
        agent.set_property("keepalive-conncheck", true);
    }
    for address in &spec.local_addresses {
        ice.emit_by_name::<bool>("add-local-ip-address", &[&address.to_string()]);
    }
}

fn request_sink(webrtc: &gst::Element) -> Result<gst::Pad, PipelineError> {
    webrtc
        .request_pad_simple("sink_%u")
        .ok_or_else(|| PipelineError::Build("webrtcbin refused a sink pad".into()))
}

fn set_transceiver(pad: &gst::Pad, direction: WebRTCRTPTransceiverDirection, caps: &gst::Caps) {
    let transceiver = pad.property::<gst_webrtc::WebRTCRTPTransceiver>("transceiver");
    transceiver.set_property("direction", direction);
    transceiver.set_property("codec-preferences", caps);
}

fn link_to(element: &gst::Element, sink: &gst::Pad) -> Result<(), PipelineError> {
    let src = element
        .static_pad("src")
        .ok_or_else(|| PipelineError::Build(format!("{} has no src pad", element.name())))?;
    src.link(sink)
        .map(|_| ())
        .map_err(|e| PipelineError::Build(format!("{} → webrtcbin: {e:?}", element.name())))
}

fn add_recv(webrtc: &gst::Element, caps: &gst::Caps) {
    webrtc.emit_by_name::<gst_webrtc::WebRTCRTPTransceiver>(
        "add-transceiver",
        &[&WebRTCRTPTransceiverDirection::Recvonly, caps],
    );
}

fn opus_caps(pt: u8, with_mid: bool) -> gst::Caps {
    let mut caps = gst::Caps::builder("application/x-rtp")
        .field("media", "audio")
        .field("encoding-name", "OPUS")
        .field("payload", i32::from(pt))
        .field("clock-rate", 48_000i32)
        .field("encoding-params", "2");
    if with_mid {
        caps = caps.field(format!("extmap-{EXT_ID_MID}"), EXT_MID);
    }
    caps.build()
}

fn vp8_recv_caps(pt: u8) -> gst::Caps {
    gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("encoding-name", "VP8")
        .field("payload", i32::from(pt))
        .field("clock-rate", 90_000i32)
        .field("rtcp-fb-nack-pli", true)
        .field("rtcp-fb-ccm-fir", true)
        .build()
}

/// VP8 with `a=rid:… send` per layer, `a=simulcast:send q;h;f` and the MID and RID
/// extensions (platform.md §5).
fn simulcast_caps(spec: &MeetLegSpec) -> gst::Caps {
    let rids: Vec<&str> = spec.layers.layers.iter().map(|l| l.rid.as_str()).collect();
    let mut caps = gst::Caps::builder("application/x-rtp")
        .field("media", "video")
        .field("encoding-name", "VP8")
        .field("payload", i32::from(spec.vp8_payload_type))
        .field("clock-rate", 90_000i32)
        .field("rtcp-fb-nack-pli", true)
        .field("rtcp-fb-ccm-fir", true)
        .field(format!("extmap-{EXT_ID_MID}"), EXT_MID)
        .field(format!("extmap-{EXT_ID_RID}"), EXT_RID);
    for rid in &rids {
        caps = caps.field(format!("rid-{rid}"), "send");
    }
    caps.field("a-simulcast", format!("send {}", rids.join(";")))
        .build()
}

fn connect_webrtc_signals(webrtc: &gst::Element, shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    webrtc.connect_notify(Some("ice-gathering-state"), move |webrtc, _| {
        let state = webrtc.property::<gst_webrtc::WebRTCICEGatheringState>("ice-gathering-state");
        if let (Some(shared), gst_webrtc::WebRTCICEGatheringState::Complete) =
            (weak.upgrade(), state)
        {
            *lock(&shared.gathered.0) = true;
            shared.gathered.1.notify_all();
        }
    });
    let weak = Arc::downgrade(shared);
    webrtc.connect_notify(Some("connection-state"), move |webrtc, _| {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        use gst_webrtc::WebRTCPeerConnectionState as S;
        let state = match webrtc.property::<S>("connection-state") {
            S::New => ConnectionState::New,
            S::Connecting => ConnectionState::Connecting,
            S::Connected => ConnectionState::Connected,
            S::Disconnected => ConnectionState::Disconnected,
            S::Failed => ConnectionState::Failed,
            _ => ConnectionState::Closed,
        };
        shared.emit(MediaEvent::ConnectionState(state));
        if state == ConnectionState::Connected {
            // sizes read 0 at Meet until a keyframe arrives after DTLS is up (media.md §8)
            for layer in 0..shared.encoders.len() {
                shared.request(layer, KeyframeCause::Connected);
            }
        }
    });
    let weak = Arc::downgrade(shared);
    webrtc.connect("on-ice-candidate", false, move |values| {
        let mline = values.get(1).and_then(|v| v.get::<u32>().ok());
        let candidate = values.get(2).and_then(|v| v.get::<String>().ok());
        if let (Some(shared), Some(mline), Some(candidate)) = (weak.upgrade(), mline, candidate) {
            lock(&shared.candidates).push((mline, candidate));
        }
        None
    });
    // what Meet sends leaves through an appsink per stream, to the receiver set with
    // `MeetLeg::on_receive` (the downlink); without one the packets are dropped
    let weak = Arc::downgrade(shared);
    let weak_pads = Arc::downgrade(shared);
    webrtc.connect_pad_added(move |webrtc, pad| {
        if pad.direction() != gst::PadDirection::Src {
            return;
        }
        let Some(pipeline) = webrtc.parent().and_then(|p| p.downcast::<gst::Bin>().ok()) else {
            return;
        };
        let kind = pad
            .current_caps()
            .and_then(|caps| {
                caps.structure(0)
                    .and_then(|s| s.get::<String>("media").ok())
            })
            .map_or(ReceivedKind::Video, |media| {
                if media == "audio" {
                    ReceivedKind::Audio
                } else {
                    ReceivedKind::Video
                }
            });
        let sink = gst_app::AppSink::builder()
            .sync(false)
            .async_(false)
            .max_buffers(256)
            .drop(true)
            .build();
        let weak = weak.clone();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let receiver = weak
                        .upgrade()
                        .and_then(|shared| lock(&shared.receiver).clone());
                    if let (Some(receiver), Some(buffer)) = (receiver, sample.buffer())
                        && let Ok(map) = buffer.map_readable()
                    {
                        receiver(kind, &map);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        let sink: gst::Element = sink.upcast();
        if pipeline.add(&sink).is_ok() {
            let _ = sink.sync_state_with_parent();
            if let Some(sink_pad) = sink.static_pad("sink")
                && pad.link(&sink_pad).is_ok()
                && kind == ReceivedKind::Video
                && let Some(shared) = weak_pads.upgrade()
            {
                lock(&shared.video_sinks).push(sink_pad);
            }
        }
    });
}

/// Counts keyframes leaving a layer's encoder and forces a waiting request when it is due.
fn watch_encoder(encoder: &gst::Element, layer: usize, shared: &Arc<Shared>) {
    let Some(pad) = encoder.static_pad("src") else {
        return;
    };
    let weak = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let Some(shared) = weak.upgrade() else {
            return gst::PadProbeReturn::Remove;
        };
        let keyframe = info
            .buffer()
            .is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
        if let Some(frames) = shared.layer_frames.get(layer) {
            frames.fetch_add(1, Ordering::Relaxed);
        }
        if let (Some(bytes), Some(buffer)) = (shared.layer_bytes.get(layer), info.buffer()) {
            bytes.fetch_add(buffer.size() as u64, Ordering::Relaxed);
        }
        if keyframe {
            shared.emit(MediaEvent::KeyframeSent {
                rid: shared.rids[layer].clone(),
            });
        }
        if shared.on_encoded(layer, keyframe) {
            // not from inside the encoder's own push: from GStreamer's async thread
            let weak = Arc::downgrade(&shared);
            shared.encoders[layer].call_async(move |_| {
                if let Some(shared) = weak.upgrade() {
                    shared.force(layer);
                }
            });
        }
        gst::PadProbeReturn::Ok
    });
}

/// Turns bus errors into [`MediaEvent::Error`] and stops the pipeline on the first one.
fn spawn_bus_watch(
    pipeline: &gst::Pipeline,
    shared: &Arc<Shared>,
    stop: &Arc<AtomicBool>,
) -> Result<JoinHandle<()>, PipelineError> {
    let bus = pipeline
        .bus()
        .ok_or_else(|| PipelineError::Build("pipeline without a bus".into()))?;
    let weak_pipeline = pipeline.downgrade();
    let weak = Arc::downgrade(shared);
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("meet-leg-bus".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Some(message) = bus.timed_pop_filtered(
                    gst::ClockTime::from_mseconds(100),
                    &[gst::MessageType::Error, gst::MessageType::Warning],
                ) else {
                    continue;
                };
                let element = message
                    .src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_default();
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                match message.view() {
                    gst::MessageView::Error(e) => {
                        shared.emit(MediaEvent::Error(PipelineError::Element {
                            element,
                            message: e.error().to_string(),
                            debug: e.debug().map(|d| d.to_string()),
                        }));
                        if let Some(pipeline) = weak_pipeline.upgrade() {
                            let _ = pipeline.set_state(gst::State::Null);
                        }
                        return;
                    }
                    gst::MessageView::Warning(w) => shared.emit(MediaEvent::Warning {
                        element,
                        message: w.error().to_string(),
                    }),
                    _ => {}
                }
            }
        })
        .map_err(|e| PipelineError::Build(format!("bus thread: {e}")))
}

/// Emits a webrtcbin action signal that replies through a promise and waits for the reply;
/// an `error` field in the reply is an error.
fn promise_reply(
    webrtc: &gst::Element,
    signal: &str,
    description: Option<&gst_webrtc::WebRTCSessionDescription>,
) -> Result<gst::Structure, PipelineError> {
    let promise = gst::Promise::new();
    match description {
        Some(d) => webrtc.emit_by_name::<()>(signal, &[d, &promise]),
        None => webrtc.emit_by_name::<()>(signal, &[&None::<gst::Structure>, &promise]),
    }
    if promise.wait() != gst::PromiseResult::Replied {
        return Err(PipelineError::Negotiation(format!("{signal}: no reply")));
    }
    let reply = promise
        .get_reply()
        .map(|r| r.to_owned())
        .unwrap_or_else(|| gst::Structure::new_empty("empty"));
    if let Ok(error) = reply.get::<glib::Error>("error") {
        return Err(PipelineError::Negotiation(format!("{signal}: {error}")));
    }
    Ok(reply)
}

/// The mids of the sendonly audio and the simulcast video m-lines of an offer.
fn send_mids(sdp: &str) -> (Option<String>, Option<String>) {
    let (mut audio, mut video) = (None, None);
    for section in sdp.split("\nm=").skip(1) {
        let mid = section
            .lines()
            .find_map(|l| l.trim_end().strip_prefix("a=mid:"))
            .map(str::to_owned);
        let sendonly = section.lines().any(|l| l.trim_end() == "a=sendonly");
        if section.starts_with("audio") && sendonly {
            audio = mid;
        } else if section.starts_with("video") && section.contains("a=simulcast:") {
            video = mid;
        }
    }
    (audio, video)
}

/// Adds `a=<candidate>` lines at the end of the m-line each candidate belongs to.
fn insert_candidates(sdp: &str, candidates: &[(u32, String)]) -> String {
    let mut index: Option<u32> = None;
    let mut out = String::new();
    let flush = |out: &mut String, index: Option<u32>| {
        if let Some(i) = index {
            for (_, c) in candidates.iter().filter(|(m, _)| *m == i) {
                out.push_str(&format!("a={c}\r\n"));
            }
        }
    };
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("m=") {
            flush(&mut out, index);
            index = Some(index.map_or(0, |i| i + 1));
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    flush(&mut out, index);
    out
}

/// Adds `b=TIAS:<bps>` after the `c=` line of the simulcast m-line (meet-side.md §5.a).
fn add_tias(sdp: &str, bps: u32) -> String {
    let mut in_simulcast = false;
    let mut sections = sdp.split_inclusive("\nm=");
    let _ = sections.next();
    let simulcast_sections: Vec<bool> = sections.map(|s| s.contains("a=simulcast:")).collect();
    let mut index: Option<usize> = None;
    map_lines(sdp, |line| {
        if line.starts_with("m=") {
            index = Some(index.map_or(0, |i| i + 1));
            in_simulcast = index.and_then(|i| simulcast_sections.get(i)) == Some(&true);
        }
        (in_simulcast && line.starts_with("c="))
            .then(|| vec![line.to_owned(), format!("b=TIAS:{bps}")])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
        a=sendonly\r\na=mid:audio0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n\
        a=sendonly\r\na=mid:video1\r\na=simulcast:send q;h;f\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\na=mid:audio2\r\n";

    #[test]
    fn the_send_mids_are_found() {
        assert_eq!(
            send_mids(OFFER),
            (Some("audio0".into()), Some("video1".into()))
        );
    }

    #[test]
    fn tias_goes_on_the_simulcast_line_only() {
        let out = add_tias(OFFER, 1_950_000);
        assert_eq!(out.matches("b=TIAS:").count(), 1);
        assert!(
            out.contains(
                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=TIAS:1950000\r\n"
            )
        );
    }

    #[test]
    fn candidates_go_to_their_m_line() {
        let out = insert_candidates(
            OFFER,
            &[(1, "candidate:1 1 UDP 1 127.0.0.1 40000 typ host".into())],
        );
        let video = out.split("m=").nth(2).unwrap();
        assert!(video.contains("a=candidate:1 1 UDP 1 127.0.0.1 40000 typ host\r\n"));
        assert_eq!(out.matches("a=candidate").count(), 1);
    }

    #[test]
    fn a_fir_names_its_ssrcs() {
        let fci = gst::Buffer::from_slice([0, 0, 0, 7, 1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0]);
        assert_eq!(fir_ssrcs(Some(&fci)), [7, 256]);
        assert!(fir_ssrcs(None).is_empty());
    }
}
