//! A synthetic Meet participant: the node's own Meet leg (webrtcbin) joined to meet-sim through
//! its participant endpoint (`POST /m/{code}:join`, as the browser page does), sending a solid
//! colour (or bars) and a tone, and decoding what the conference sends on its main canvas.
//! The data channels are driven by a `MeetSession`, so it asks for its layout as a gateway
//! does.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meet::protocol::DataChannel;
use meet::session::{MeetSession, SessionSettings, SessionState};
use pipelines::peers::{AudioProbe, Pattern, RtpSource, VideoProbe};
use pipelines::{
    LayerTable, MediaEvent, MeetLeg, MeetLegSpec, PortRange, ReceivedKind, UplinkSpec,
};
use serde_json::json;

use super::http::post_json;

/// How a participant joins: its name, its camera and microphone, its ICE ports, how many
/// canvases it asks for, the simulcast ladder it sends, and whether it decodes what it gets.
#[derive(Clone, Debug)]
pub struct JoinSpec {
    /// Its display name.
    pub name: String,
    /// What its camera shows.
    pub pattern: Pattern,
    /// The camera's size (30 fps).
    pub size: (u32, u32),
    /// The frequency of its microphone's tone.
    pub tone_hz: f64,
    /// Its ICE ports (loopback only).
    pub ice: PortRange,
    /// How many canvases it asks for (1 to 8).
    pub canvases: u8,
    /// The VP8 simulcast ladder it sends (meet-sim wants three layers; their sizes are free).
    pub layers: LayerTable,
    /// Whether it decodes the video and audio it receives ([`Participant::video`],
    /// [`Participant::audio_samples`]); without, it only counts the video packets.
    pub decode: bool,
}

/// A participant in the conference.
pub struct Participant {
    /// Its participant id in the sim.
    pub participant_id: i64,
    leg: Arc<MeetLeg>,
    video: Arc<VideoProbe>,
    audio: Arc<Mutex<HashMap<u32, AudioProbe>>>,
    received: Arc<AtomicU64>,
    joined: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    session: Option<JoinHandle<()>>,
    _sources: Vec<RtpSource>,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("participant_id", &self.participant_id)
            .finish_non_exhaustive()
    }
}

impl Participant {
    /// Joins meeting `code` on the sim at `sim` as `name`, sending `pattern` at
    /// `width`×`height` (30 fps) and a tone at `tone_hz`, with ICE on `ice` (loopback only).
    /// It asks for `canvases` canvases (1 to 8). Blocks until the offer/answer is done.
    pub fn join(
        sim: SocketAddr,
        code: &str,
        name: &str,
        (pattern, width, height): (Pattern, u32, u32),
        tone_hz: f64,
        ice: PortRange,
        canvases: u8,
    ) -> Result<Self, String> {
        Self::join_with(
            sim,
            code,
            &JoinSpec {
                name: name.to_owned(),
                pattern,
                size: (width, height),
                tone_hz,
                ice,
                canvases,
                layers: LayerTable::default(),
                decode: true,
            },
        )
    }

    /// Joins meeting `code` on the sim at `sim` as `spec` says. Blocks until the offer/answer
    /// is done.
    pub fn join_with(sim: SocketAddr, code: &str, spec: &JoinSpec) -> Result<Self, String> {
        let JoinSpec {
            ref name,
            pattern,
            size: (width, height),
            tone_hz,
            ice,
            canvases,
            ref layers,
            decode,
        } = *spec;
        let mut spec = MeetLegSpec::new(ice);
        spec.local_addresses = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        spec.layers = layers.clone();
        let uplink = UplinkSpec::default();
        let (leg, events) = MeetLeg::new(&spec, &uplink).map_err(|e| e.to_string())?;
        let leg = Arc::new(leg);
        let video = Arc::new(VideoProbe::vp8(spec.vp8_payload_type).map_err(|e| e.to_string())?);
        let audio: Arc<Mutex<HashMap<u32, AudioProbe>>> = Arc::default();
        let received = Arc::new(AtomicU64::new(0));
        let (to_video, to_audio, opus_pt, count) = (
            Arc::clone(&video),
            Arc::clone(&audio),
            spec.opus_payload_type,
            Arc::clone(&received),
        );
        leg.on_receive(Arc::new(move |kind, packet| match kind {
            ReceivedKind::Video => {
                count.fetch_add(1, Ordering::Relaxed);
                if decode {
                    to_video.push(packet);
                }
            }
            ReceivedKind::Audio if !decode => {}
            ReceivedKind::Audio => {
                let Some(ssrc) = packet
                    .get(8..12)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                else {
                    return;
                };
                let mut probes = to_audio
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !probes.contains_key(&ssrc)
                    && let Ok(probe) = AudioProbe::opus(opus_pt)
                {
                    probes.insert(ssrc, probe);
                }
                if let Some(probe) = probes.get(&ssrc) {
                    probe.push(packet);
                }
            }
        }));
        let input = leg.input();
        let video_in = input.clone();
        let camera = RtpSource::h264(
            pattern,
            (width, height, 30),
            uplink.video.payload_type(),
            Box::new(move |packet| {
                let _ = video_in.push_video_rtp(packet);
            }),
        )
        .map_err(|e| e.to_string())?;
        let microphone = RtpSource::g711_tone(
            tone_hz,
            false,
            uplink.audio.payload_type(),
            Box::new(move |packet| {
                let _ = input.push_audio_rtp(packet);
            }),
        )
        .map_err(|e| e.to_string())?;
        let offer = leg.create_offer().map_err(|e| e.to_string())?;
        let (status, reply) = post_json(
            sim,
            &format!("/m/{code}:join"),
            &json!({"offer": offer, "displayName": name.as_str()}),
        )?;
        if status != 200 {
            return Err(format!("join refused: {status} {reply}"));
        }
        let answer = reply["answer"].as_str().ok_or("no answer")?;
        let participant_id = reply["participantId"].as_i64().ok_or("no participant id")?;
        leg.apply_answer(answer).map_err(|e| e.to_string())?;
        let joined = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let settings = SessionSettings {
            video_canvases: canvases,
            ..SessionSettings::default()
        };
        let session = spawn_session(
            Arc::clone(&leg),
            events,
            settings,
            Arc::clone(&joined),
            Arc::clone(&stop),
        );
        Ok(Self {
            participant_id,
            leg,
            video,
            audio,
            received,
            joined,
            stop,
            session: Some(session),
            _sources: vec![camera, microphone],
        })
    }

    /// Video RTP packets received so far (decoded or not).
    pub fn video_packets(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Whether the session reached `STATE_JOINED`.
    pub fn is_joined(&self) -> bool {
        self.joined.load(Ordering::Relaxed)
    }

    /// What the participant decodes on its main canvas.
    pub fn video(&self) -> &VideoProbe {
        &self.video
    }

    /// The decoded samples of each audio stream it receives (8 kHz mono, the last second).
    pub fn audio_samples(&self) -> Vec<Vec<i16>> {
        self.audio
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(AudioProbe::samples)
            .collect()
    }

    /// The layers this participant's leg sends, by RID, with their keyframe counters.
    pub fn leg(&self) -> &MeetLeg {
        &self.leg
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(session) = self.session.take() {
            let _ = session.join();
        }
    }
}

/// Drives the participant's `MeetSession` from its leg's events, on a thread of its own.
fn spawn_session(
    leg: Arc<MeetLeg>,
    events: std::sync::mpsc::Receiver<MediaEvent>,
    settings: SessionSettings,
    joined: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut session = MeetSession::new(settings, Instant::now());
        let mut open = 0;
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            match events.recv_timeout(Duration::from_millis(50)) {
                Ok(MediaEvent::DataChannelOpen { .. }) => {
                    open += 1;
                    if open == DataChannel::ALL.len() {
                        session.channels_open(now);
                    }
                }
                Ok(MediaEvent::DataChannelMessage { label, text }) => {
                    if let Some(channel) = DataChannel::from_label(&label) {
                        let _ = session.handle_message(channel, text, now);
                    }
                }
                Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
            session.handle_timeout(Instant::now());
            while let Some((channel, text)) = session.poll_transmit() {
                let _ = leg.send_data(channel.label(), &text);
            }
            while session.poll_event().is_some() {}
            joined.store(
                matches!(session.state(), SessionState::Joined),
                Ordering::Relaxed,
            );
        }
        session.leave(Instant::now());
        while let Some((channel, text)) = session.poll_transmit() {
            let _ = leg.send_data(channel.label(), &text);
        }
    })
}
