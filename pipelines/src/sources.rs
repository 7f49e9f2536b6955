//! A test aid (like [`crate::peers`]): a room system's RTP encoded ahead of time, and a
//! player that sends it at real-time pace.
//!
//! [`RtpClip`] runs a real GStreamer encoder and payloader (x264, FFmpeg's H.263 and H.261,
//! G.711, G.722, Opus) to the end of a finite test source and keeps the RTP packets in
//! memory. [`RtpClip::play`] then hands them to a callback from a thread of its own, each at
//! the instant its RTP timestamp says. Encoding first keeps the encoder's CPU out of the
//! measured real-time run (on a loaded 2-core machine a live x264 at 1080p would starve the
//! graph under test), and makes each run send the very same packets.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gst::prelude::*;

use crate::error::PipelineError;

/// How an H.264 clip is packetized (RFC 6184).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H264Packetization {
    /// Mode 1 with FU-A fragments: `rtph264pay` with this MTU (bytes, RTP header included),
    /// no aggregation.
    FuA {
        /// The payloader's MTU.
        mtu: u32,
    },
    /// Mode 1 with STAP-A: `rtph264pay aggregate-mode=zero-latency` (SPS, PPS and small
    /// slices of one access unit share a packet), MTU 1200.
    StapA,
    /// Mode 0: one NAL unit per packet; x264 cuts slices at 1100 bytes
    /// (`slice-max-size=1100`) and the payloader's MTU (1400) never fragments them.
    SingleNal,
}

/// Where an H.264 clip carries its SPS and PPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterSets {
    /// In band, before every IDR (x264's byte-stream, payloader `config-interval=-1`).
    InBand,
    /// Only in the payloader's `sprop-parameter-sets` caps ([`RtpClip::sprop_parameter_sets`]):
    /// x264 in `avc` stream format with `repeat-headers=0`, payloader `config-interval=0`.
    SpropOnly,
}

/// What the synthetic camera of a clip shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Motion {
    /// 75 % SMPTE bars (seven bars, full height, no black anywhere: the pillarbox checks rely
    /// on it) moving 4 px a frame, so that the encoders have work to do.
    MovingBars,
    /// The same bars standing still: every decoded picture is the same, for pixel checks.
    StillBars,
}

/// An H.264 clip: picture, profile, packetization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H264Clip {
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Pixel aspect ratio (written into the SPS's VUI): 1/1 by default.
    pub pixel_aspect: (i32, i32),
    /// Frames per second: 30.
    pub fps: u32,
    /// Frames in the clip: 120 (4 s).
    pub frames: u32,
    /// The `profile` of x264's output caps: `constrained-baseline` by default.
    pub profile: &'static str,
    /// x264's `level` (e.g. `"4.1"`), or x264's own choice (the default).
    pub level: Option<&'static str>,
    /// The packetization: FU-A at MTU 1200 by default.
    pub packetization: H264Packetization,
    /// Where the parameter sets travel: in band by default.
    pub parameter_sets: ParameterSets,
    /// Frames between IDRs: 60.
    pub key_interval: u32,
    /// x264's bitrate in kb/s: 2000.
    pub bitrate_kbps: u32,
    /// The camera: moving bars by default.
    pub motion: Motion,
}

impl H264Clip {
    /// A clip of `width`×`height` with the defaults of the fields.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            pixel_aspect: (1, 1),
            fps: 30,
            frames: 120,
            profile: "constrained-baseline",
            level: None,
            packetization: H264Packetization::FuA { mtu: 1200 },
            parameter_sets: ParameterSets::InBand,
            key_interval: 60,
            bitrate_kbps: 2000,
            motion: Motion::MovingBars,
        }
    }
}

/// The codecs older room systems send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegacyVideo {
    /// H.263 (`avenc_h263`) in RFC 2190 packets (`rtph263pay`).
    H263,
    /// H.263+ (`avenc_h263p`) in RFC 4629 packets (`rtph263ppay`).
    H263Plus,
    /// H.261 (`avenc_h261`) in RFC 4587 packets (`rtph261pay`).
    H261,
}

/// The audio codecs of a tone clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToneCodec {
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
    /// G.722 (16 kHz audio, 8 kHz RTP clock).
    G722,
    /// Opus (48 kHz).
    Opus,
}

/// An RTP stream encoded ahead of time, held in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpClip {
    /// The packets, in sending order (header included).
    pub packets: Vec<Vec<u8>>,
    /// The RTP clock rate of their timestamps.
    pub clock_rate: u32,
    /// The `sprop-parameter-sets` of the H.264 payloader's caps, if it announced any.
    pub sprop_parameter_sets: Option<String>,
}

impl RtpClip {
    /// Runs `description` (a `gst-launch` line of a finite source ending in
    /// `appsink name=out`) to its end and keeps the packets.
    pub fn encode(description: &str, clock_rate: u32) -> Result<Self, PipelineError> {
        gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
        let pipeline = gst::parse::launch(description)
            .map_err(|e| PipelineError::Build(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| PipelineError::Build("not a pipeline".to_owned()))?;
        let sink = pipeline
            .by_name("out")
            .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
            .ok_or_else(|| PipelineError::Build("appsink out".to_owned()))?;
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
        let mut packets = Vec::new();
        let mut sprop = None;
        // pull_sample returns an error at EOS; an encoder error ends the stream too
        while let Ok(sample) = sink.pull_sample() {
            if sprop.is_none() {
                sprop = sample
                    .caps()
                    .and_then(|c| c.structure(0))
                    .and_then(|s| s.get::<String>("sprop-parameter-sets").ok());
            }
            if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                packets.push(map.to_vec());
            }
        }
        let error = pipeline.bus().and_then(|bus| {
            bus.pop_filtered(&[gst::MessageType::Error])
                .map(|m| format!("{m:?}"))
        });
        let _ = pipeline.set_state(gst::State::Null);
        if let Some(error) = error {
            return Err(PipelineError::Build(format!("encoding the clip: {error}")));
        }
        if packets.is_empty() {
            return Err(PipelineError::Build("the encoder made no packets".into()));
        }
        Ok(Self {
            packets,
            clock_rate,
            sprop_parameter_sets: sprop,
        })
    }

    /// H.264 RTP of `clip` on payload type `pt`.
    pub fn h264(clip: &H264Clip, pt: u8) -> Result<Self, PipelineError> {
        let (aggregate, mtu, slices) = match clip.packetization {
            H264Packetization::FuA { mtu } => ("none", mtu, ""),
            H264Packetization::StapA => ("zero-latency", 1200, ""),
            H264Packetization::SingleNal => ("none", 1400, "slice-max-size=1100"),
        };
        let level = clip.level.map(|l| format!("level={l}")).unwrap_or_default();
        // x264 repeats SPS and PPS before each IDR even in `avc` (they are in its codec_data
        // as well); only `repeat-headers=0` keeps them out of band
        let (format, config, headers) = match clip.parameter_sets {
            ParameterSets::InBand => ("byte-stream", -1, ""),
            ParameterSets::SpropOnly => ("avc", 0, "repeat-headers=0"),
        };
        let options: Vec<&str> = [slices, level.as_str(), headers]
            .into_iter()
            .filter(|o| !o.is_empty())
            .collect();
        Self::encode(
            &format!(
                "{camera} ! {raw} ! \
                 x264enc tune=zerolatency speed-preset=veryfast key-int-max={gop} \
                 bitrate={kbps} option-string=\"{options}\" ! \
                 video/x-h264,profile={profile},stream-format={format},alignment=au ! \
                 rtph264pay pt={pt} mtu={mtu} config-interval={config} aggregate-mode={aggregate} ! \
                 appsink name=out sync=false",
                camera = camera(clip.motion, clip.frames),
                raw = raw_caps(clip.width, clip.height, clip.fps, clip.pixel_aspect),
                gop = clip.key_interval,
                kbps = clip.bitrate_kbps,
                options = options.join(":"),
                profile = clip.profile,
            ),
            90_000,
        )
    }

    /// H.263, H.263+ or H.261 RTP of moving bars at `width`×`height` (a size the codec
    /// has: CIF 352×288, 4CIF 704×576, ...; 12:11 pixels), `frames` frames at `fps`, an
    /// intra picture every 2 s, 1 Mb/s, on payload type `pt`.
    pub fn legacy(
        codec: LegacyVideo,
        (width, height, fps): (u32, u32, u32),
        frames: u32,
        pt: u8,
    ) -> Result<Self, PipelineError> {
        let (encoder, payloader) = match codec {
            LegacyVideo::H263 => ("avenc_h263", "rtph263pay"),
            LegacyVideo::H263Plus => ("avenc_h263p", "rtph263ppay"),
            LegacyVideo::H261 => ("avenc_h261", "rtph261pay"),
        };
        Self::encode(
            &format!(
                "{camera} ! {raw} ! {encoder} bitrate=1000000 gop-size={gop} ! \
                 {payloader} pt={pt} ! appsink name=out sync=false",
                camera = camera(Motion::MovingBars, frames),
                raw = raw_caps(width, height, fps, (12, 11)),
                gop = fps * 2,
            ),
            90_000,
        )
    }

    /// A sine tone of `frequency` Hz in `codec`, `ptime_ms` per packet, for `seconds`, on
    /// payload type `pt`.
    pub fn tone(
        codec: ToneCodec,
        frequency: f64,
        ptime_ms: u32,
        seconds: u32,
        pt: u8,
    ) -> Result<Self, PipelineError> {
        let (rate, clock_rate, encode) = match codec {
            ToneCodec::Pcmu => (8000, 8000, "mulawenc ! rtppcmupay".to_owned()),
            ToneCodec::Pcma => (8000, 8000, "alawenc ! rtppcmapay".to_owned()),
            ToneCodec::G722 => (16_000, 8000, "avenc_g722 ! rtpg722pay".to_owned()),
            ToneCodec::Opus => (
                48_000,
                48_000,
                format!("opusenc frame-size={ptime_ms} ! rtpopuspay"),
            ),
        };
        let ptime_ns = u64::from(ptime_ms) * 1_000_000;
        let per_packet = rate * ptime_ms / 1000;
        let ptime = if codec == ToneCodec::Opus {
            String::new()
        } else {
            format!("min-ptime={ptime_ns} max-ptime={ptime_ns}")
        };
        Self::encode(
            &format!(
                "audiotestsrc wave=sine freq={frequency} volume=0.4 samplesperbuffer={per_packet} \
                 num-buffers={buffers} ! audio/x-raw,format=S16LE,rate={rate},channels=1 ! \
                 {encode} pt={pt} {ptime} ! appsink name=out sync=false",
                buffers = seconds * 1000 / ptime_ms,
            ),
            clock_rate,
        )
    }

    /// The number of frames (distinct RTP timestamps) in the clip.
    pub fn frames(&self) -> usize {
        let mut count = 0;
        let mut last = None;
        for packet in &self.packets {
            let ts = timestamp(packet);
            if ts != last {
                count += 1;
                last = ts;
            }
        }
        count
    }

    /// The clip's duration by its timestamps, plus one frame.
    pub fn duration(&self) -> Duration {
        let (Some(first), Some(last)) = (
            self.packets.first().and_then(|p| timestamp(p)),
            self.packets.last().and_then(|p| timestamp(p)),
        ) else {
            return Duration::ZERO;
        };
        ticks(
            last.wrapping_sub(first) + self.frame_ticks(),
            self.clock_rate,
        )
    }

    /// The usual timestamp step between frames.
    fn frame_ticks(&self) -> u32 {
        let mut steps: Vec<u32> = self
            .packets
            .windows(2)
            .filter_map(|w| Some(timestamp(&w[1])?.wrapping_sub(timestamp(&w[0])?)))
            .filter(|step| *step > 0 && *step < 1 << 31)
            .collect();
        steps.sort_unstable();
        steps.get(steps.len() / 2).copied().unwrap_or(0)
    }

    /// This clip, then `next` as if the same sender went on: `next` takes this clip's SSRC and
    /// continues its sequence numbers and timestamps (one frame after the last). A room
    /// system that changes its picture size mid-call does exactly this.
    pub fn followed_by(mut self, next: Self) -> Self {
        let (Some(last), Some(ssrc)) = (self.packets.last(), self.packets.first().map(|p| ssrc(p)))
        else {
            return next;
        };
        let mut seq = u16::from_be_bytes([last[2], last[3]]);
        let step = self.frame_ticks();
        let base = timestamp(last).unwrap_or(0).wrapping_add(step);
        let next_first = next.packets.first().and_then(|p| timestamp(p)).unwrap_or(0);
        for mut packet in next.packets {
            if packet.len() < 12 {
                continue;
            }
            seq = seq.wrapping_add(1);
            let ts = base.wrapping_add(timestamp(&packet).unwrap_or(0).wrapping_sub(next_first));
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            packet[4..8].copy_from_slice(&ts.to_be_bytes());
            packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
            self.packets.push(packet);
        }
        self
    }

    /// After every `every`-th packet, one more packet of the same sender that the uplink must
    /// not decode: alternately an RFC 4733 telephone event (digit 5, payload type `event_pt`)
    /// and an RFC 3389 comfort-noise packet (payload type `cn_pt`), both at the timestamp of
    /// the packet before them. Sequence numbers are renumbered, as one sender would number
    /// them. Returns the clip and how many packets were added.
    pub fn with_events(mut self, every: usize, event_pt: u8, cn_pt: u8) -> (Self, usize) {
        let mut packets = Vec::with_capacity(self.packets.len() * (every + 1) / every.max(1));
        let mut added = 0;
        for (index, packet) in self.packets.into_iter().enumerate() {
            let header: Vec<u8> = packet.iter().take(12).copied().collect();
            packets.push(packet);
            if every == 0 || (index + 1) % every != 0 || header.len() < 12 {
                continue;
            }
            let mut extra = header;
            if added % 2 == 0 {
                extra[1] = event_pt;
                // event 5, end bit clear, volume 10 dBm0, duration 160
                extra.extend_from_slice(&[5, 10, 0, 160]);
            } else {
                extra[1] = cn_pt;
                // noise level 40 -dBov
                extra.push(40);
            }
            packets.push(extra);
            added += 1;
        }
        let mut seq = packets
            .first()
            .map_or(0, |p| u16::from_be_bytes([p[2], p[3]]));
        for packet in &mut packets {
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            seq = seq.wrapping_add(1);
        }
        self.packets = packets;
        (self, added)
    }

    /// The H.264 packet kinds in the clip: the NAL unit type of single-NAL packets (1–23),
    /// 24 for STAP-A, 28 for FU-A.
    pub fn h264_packet_kinds(&self) -> BTreeSet<u8> {
        self.packets
            .iter()
            .filter_map(|p| payload(p)?.first().map(|b| b & 0x1f))
            .collect()
    }

    /// The NAL unit types the clip carries in band, looking into STAP-A and FU-A.
    pub fn h264_nal_types(&self) -> BTreeSet<u8> {
        let mut types = BTreeSet::new();
        for nal in self.packets.iter().filter_map(|p| payload(p)) {
            match nal.first().map(|b| b & 0x1f) {
                Some(24) => {
                    let mut rest = &nal[1..];
                    while let [hi, lo, tail @ ..] = rest {
                        let size = usize::from(u16::from_be_bytes([*hi, *lo]));
                        if let Some(first) = tail.first().filter(|_| size > 0) {
                            types.insert(first & 0x1f);
                        }
                        rest = tail.get(size..).unwrap_or_default();
                    }
                }
                Some(28) => {
                    if let Some(header) = nal.get(1) {
                        types.insert(header & 0x1f);
                    }
                }
                Some(kind) => {
                    types.insert(kind);
                }
                None => {}
            }
        }
        types
    }

    /// `(profile_idc, level_idc)` of the clip's SPS, in band or in `sprop-parameter-sets`.
    pub fn h264_profile_level(&self) -> Option<(u8, u8)> {
        let from_sprop = self.sprop_parameter_sets.as_deref().and_then(|sprop| {
            sprop.split(',').find_map(|set| {
                let nal = gst::glib::base64_decode(set);
                (nal.first().map(|b| b & 0x1f) == Some(7) && nal.len() > 3)
                    .then(|| (nal[1], nal[3]))
            })
        });
        from_sprop.or_else(|| {
            self.packets
                .iter()
                .filter_map(|p| payload(p))
                .find_map(|nal| {
                    let sps = match nal.first().map(|b| b & 0x1f) {
                        Some(7) => nal,
                        // an SPS first in a STAP-A, as rtph264pay aggregates it
                        Some(24) if nal.get(3).map(|b| b & 0x1f) == Some(7) => &nal[3..],
                        _ => return None,
                    };
                    (sps.len() > 3).then(|| (sps[1], sps[3]))
                })
        })
    }

    /// Starts sending the clip: `send` gets each packet at the instant its timestamp says
    /// (the first at once), from a thread of its own.
    pub fn play(&self, mut send: impl FnMut(&[u8]) + Send + 'static) -> ClipPlayer {
        let packets = self.packets.clone();
        let clock_rate = self.clock_rate.max(1);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let first = packets.first().and_then(|p| timestamp(p)).unwrap_or(0);
            let mut sent_at = Vec::with_capacity(packets.len());
            for packet in &packets {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let offset = timestamp(packet).unwrap_or(first).wrapping_sub(first);
                let due = start + ticks(offset, clock_rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                sent_at.push(Instant::now());
                send(packet);
            }
            Played { sent_at }
        });
        ClipPlayer {
            stop,
            thread: Some(thread),
        }
    }
}

/// What a finished [`ClipPlayer`] sent.
#[derive(Clone, Debug, Default)]
pub struct Played {
    /// When each packet was sent, by index into the clip's packets.
    pub sent_at: Vec<Instant>,
}

/// A clip being sent ([`RtpClip::play`]).
#[derive(Debug)]
pub struct ClipPlayer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Played>>,
}

impl ClipPlayer {
    /// Waits for the last packet to be sent.
    pub fn wait(mut self) -> Played {
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for ClipPlayer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The RTP timestamp of a packet.
pub fn timestamp(packet: &[u8]) -> Option<u32> {
    packet
        .get(4..8)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn ssrc(packet: &[u8]) -> u32 {
    packet
        .get(8..12)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The payload of an RTP packet (after CSRCs and header extension; padding kept).
fn payload(packet: &[u8]) -> Option<&[u8]> {
    let first = *packet.first()?;
    let mut offset = 12 + 4 * usize::from(first & 0x0f);
    if first & 0x10 != 0 {
        let words = packet.get(offset + 2..offset + 4)?;
        offset += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    packet.get(offset..)
}

fn ticks(ticks: u32, clock_rate: u32) -> Duration {
    Duration::from_nanos(u64::from(ticks) * 1_000_000_000 / u64::from(clock_rate.max(1)))
}

fn camera(motion: Motion, frames: u32) -> String {
    let speed = match motion {
        Motion::MovingBars => "horizontal-speed=4",
        Motion::StillBars => "",
    };
    format!("videotestsrc num-buffers={frames} pattern=smpte75 {speed}")
}

fn raw_caps(width: u32, height: u32, fps: u32, (par_n, par_d): (i32, i32)) -> String {
    format!(
        "video/x-raw,format=I420,width={width},height={height},framerate={fps}/1,\
         pixel-aspect-ratio={par_n}/{par_d}"
    )
}
