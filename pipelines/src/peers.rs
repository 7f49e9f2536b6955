//! Synthetic media peers for tests and the demo: GStreamer-made RTP streams (a solid colour or
//! a test pattern as H.264, a tone as G.711) handed out packet by packet, and decoders that
//! keep the latest picture (H.264 or VP8) or the latest audio samples, so that a test can look
//! at what a peer received by pixels and by spectrum.
//!
//! These stand in for the room system and for Meet participants; they are real encoders and
//! decoders (x264, libvpx, G.711, Opus), only the camera and the screen are missing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gst::prelude::*;
use gst_video::prelude::*;
use kernels::frame::I420Frame;

use crate::error::PipelineError;

/// What a synthetic camera shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One colour, `0xRRGGBB`.
    Solid(u32),
    /// SMPTE colour bars (moving 4 px a frame, so that the encoders have work to do).
    Bars,
}

/// A running source of RTP packets.
pub struct RtpSource {
    pipeline: gst::Pipeline,
}

impl std::fmt::Debug for RtpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpSource")
            .field("pipeline", &self.pipeline.name())
            .finish()
    }
}

/// Where a source's packets go (called from a GStreamer streaming thread).
pub type PacketSink = Box<dyn Fn(&[u8]) + Send + Sync>;

impl RtpSource {
    /// H.264 RTP (x264 zerolatency, packetization mode 1, payload type `pt`) of `pattern` at
    /// `width`×`height` and `fps`, live.
    pub fn h264(
        pattern: Pattern,
        (width, height, fps): (u32, u32, u32),
        pt: u8,
        sink: PacketSink,
    ) -> Result<Self, PipelineError> {
        let source = match pattern {
            Pattern::Solid(rgb) => {
                format!(
                    "videotestsrc is-live=true pattern=solid-color foreground-color={}",
                    0xff00_0000 | rgb
                )
            }
            Pattern::Bars => {
                "videotestsrc is-live=true pattern=smpte75 horizontal-speed=4".to_owned()
            }
        };
        Self::launch(
            &format!(
                "{source} ! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 ! \
                 x264enc tune=zerolatency speed-preset=ultrafast threads=1 key-int-max={gop} bitrate=1500 ! \
                 video/x-h264,profile=constrained-baseline ! \
                 rtph264pay pt={pt} mtu=1200 config-interval=-1 aggregate-mode=zero-latency ! \
                 appsink name=out sync=false",
                gop = fps * 2
            ),
            sink,
        )
    }

    /// G.711 RTP (20 ms packets, payload type `pt`) of a sine tone at `frequency` Hz, live.
    pub fn g711_tone(
        frequency: f64,
        alaw: bool,
        pt: u8,
        sink: PacketSink,
    ) -> Result<Self, PipelineError> {
        let (encoder, payloader) = if alaw {
            ("alawenc", "rtppcmapay")
        } else {
            ("mulawenc", "rtppcmupay")
        };
        Self::launch(
            &format!(
                "audiotestsrc is-live=true wave=sine freq={frequency} volume=0.4 samplesperbuffer=160 ! \
                 audio/x-raw,rate=8000,channels=1,format=S16LE ! {encoder} ! \
                 {payloader} pt={pt} min-ptime=20000000 max-ptime=20000000 ! appsink name=out sync=false"
            ),
            sink,
        )
    }

    fn launch(description: &str, sink: PacketSink) -> Result<Self, PipelineError> {
        gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
        let pipeline = gst::parse::launch(description)
            .map_err(|e| PipelineError::Build(e.to_string()))?
            .downcast::<gst::Pipeline>()
            .map_err(|_| PipelineError::Build("not a pipeline".to_owned()))?;
        let appsink = appsink(&pipeline, "out")?;
        appsink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| {
                    let sample = appsink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                        sink(&map);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
        Ok(Self { pipeline })
    }
}

impl Drop for RtpSource {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// A video decoder for RTP: keeps the latest decoded picture and counts pictures.
pub struct VideoProbe {
    pipeline: gst::Pipeline,
    input: gst_app::AppSrc,
    latest: Arc<Mutex<Option<I420Frame>>>,
    frames: Arc<AtomicU64>,
}

impl std::fmt::Debug for VideoProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoProbe")
            .field("frames", &self.frames())
            .finish_non_exhaustive()
    }
}

impl VideoProbe {
    /// Decodes H.264 RTP of payload type `pt`.
    pub fn h264(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload={pt}"
            ),
            "rtph264depay ! avdec_h264",
        )
    }

    /// Decodes VP8 RTP of payload type `pt`.
    pub fn vp8(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload={pt}"
            ),
            "rtpvp8depay ! vp8dec",
        )
    }

    /// Decodes H.263 RTP in the RFC 4629 format (`H263-1998`) of payload type `pt`.
    pub fn h263plus(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=video,encoding-name=H263-1998,clock-rate=90000,\
                 payload={pt}"
            ),
            "rtph263pdepay ! avdec_h263",
        )
    }

    /// Decodes H.263 RTP in the RFC 2190 format (`H263`) of payload type `pt`.
    pub fn h263(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=video,encoding-name=H263,clock-rate=90000,payload={pt}"
            ),
            "rtph263depay ! avdec_h263",
        )
    }

    /// Decodes H.261 RTP (RFC 4587) of payload type `pt`.
    pub fn h261(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=video,encoding-name=H261,clock-rate=90000,payload={pt}"
            ),
            "rtph261depay ! avdec_h261",
        )
    }

    fn build(caps: &str, decode: &str) -> Result<Self, PipelineError> {
        let (pipeline, input, output) = probe_pipeline(
            caps,
            &format!("{decode} ! videoconvert ! video/x-raw,format=I420"),
        )?;
        let latest = Arc::new(Mutex::new(None));
        let frames = Arc::new(AtomicU64::new(0));
        let (keep, count) = (Arc::clone(&latest), Arc::clone(&frames));
        output.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| {
                    let sample = appsink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(frame) = i420_of(&sample) {
                        *keep
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(frame);
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
        Ok(Self {
            pipeline,
            input,
            latest,
            frames,
        })
    }

    /// One RTP packet.
    pub fn push(&self, packet: &[u8]) {
        let _ = self
            .input
            .push_buffer(gst::Buffer::from_slice(packet.to_vec()));
    }

    /// The latest decoded picture.
    pub fn latest(&self) -> Option<I420Frame> {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Pictures decoded so far.
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }
}

impl Drop for VideoProbe {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// An audio decoder for RTP: keeps the last second of samples (mono, 8 kHz).
pub struct AudioProbe {
    pipeline: gst::Pipeline,
    input: gst_app::AppSrc,
    samples: Arc<Mutex<Vec<i16>>>,
}

impl std::fmt::Debug for AudioProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioProbe").finish_non_exhaustive()
    }
}

/// The sample rate of what [`AudioProbe`] keeps.
pub const PROBE_RATE: u32 = 8000;

impl AudioProbe {
    /// Decodes G.711 (µ-law, or A-law) RTP of payload type `pt`.
    pub fn g711(alaw: bool, pt: u8) -> Result<Self, PipelineError> {
        let (name, depay, decoder) = if alaw {
            ("PCMA", "rtppcmadepay", "alawdec")
        } else {
            ("PCMU", "rtppcmudepay", "mulawdec")
        };
        Self::build(
            &format!(
                "application/x-rtp,media=audio,encoding-name={name},clock-rate=8000,payload={pt}"
            ),
            &format!("{depay} ! {decoder}"),
        )
    }

    /// Decodes Opus RTP of payload type `pt`.
    pub fn opus(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload={pt}"
            ),
            "rtpopusdepay ! opusdec",
        )
    }

    /// Decodes G.722 RTP of payload type `pt` (an 8000 Hz RTP clock, 16 kHz audio).
    pub fn g722(pt: u8) -> Result<Self, PipelineError> {
        Self::build(
            &format!(
                "application/x-rtp,media=audio,encoding-name=G722,clock-rate=8000,payload={pt}"
            ),
            "rtpg722depay ! avdec_g722",
        )
    }

    fn build(caps: &str, decode: &str) -> Result<Self, PipelineError> {
        let (pipeline, input, output) = probe_pipeline(
            caps,
            &format!(
                "{decode} ! audioconvert ! audioresample ! \
                 audio/x-raw,format=S16LE,rate={PROBE_RATE},channels=1"
            ),
        )?;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&samples);
        output.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |appsink| {
                    let sample = appsink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                        let mut kept = keep
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        kept.extend(
                            map.chunks_exact(2)
                                .map(|b| i16::from_le_bytes([b[0], b[1]])),
                        );
                        let excess = kept.len().saturating_sub(PROBE_RATE as usize);
                        kept.drain(..excess);
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
        Ok(Self {
            pipeline,
            input,
            samples,
        })
    }

    /// One RTP packet.
    pub fn push(&self, packet: &[u8]) {
        let _ = self
            .input
            .push_buffer(gst::Buffer::from_slice(packet.to_vec()));
    }

    /// The last second (at most) of decoded samples, at [`PROBE_RATE`].
    pub fn samples(&self) -> Vec<i16> {
        self.samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for AudioProbe {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// The frequency (Hz, in steps of 10 Hz) with the most energy in `samples` (at `rate`), by a
/// direct DFT over 100–3400 Hz, and that energy's share of the band's total (0..=1).
pub fn dominant_frequency(samples: &[i16], rate: u32) -> (f64, f64) {
    let mut best = (0.0, 0.0);
    let mut total = 0.0;
    let n = samples.len().min(rate as usize);
    let samples = &samples[samples.len() - n..];
    let mut freq = 100.0;
    while freq <= 3400.0 {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in samples.iter().enumerate() {
            let phase = w * i as f64;
            re += f64::from(s) * phase.cos();
            im -= f64::from(s) * phase.sin();
        }
        let power = re * re + im * im;
        total += power;
        if power > best.1 {
            best = (freq, power);
        }
        freq += 10.0;
    }
    let share = if total > 0.0 { best.1 / total } else { 0.0 };
    (best.0, share)
}

/// Reads a PNG file (as `I420Frame::write_png` writes them) back as an I420 picture, with
/// GStreamer's PNG decoder, so that a test looks at what a person would open. The RGB is
/// converted by `I420Frame::from_rgb`, the inverse of what `write_png` did.
pub fn read_png(path: &std::path::Path) -> Result<I420Frame, PipelineError> {
    gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
    let pipeline = gst::Pipeline::new();
    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|e| PipelineError::Build(format!("{factory}: {e}")))
    };
    let (source, parse, decode, convert) = (
        make("filesrc")?,
        make("pngparse")?,
        make("pngdec")?,
        make("videoconvert")?,
    );
    source.set_property("location", path.to_string_lossy().as_ref());
    let sink = gst_app::AppSink::builder()
        .caps(
            &gst::Caps::builder("video/x-raw")
                .field("format", "RGB")
                .build(),
        )
        .sync(false)
        .build();
    let elements = [&source, &parse, &decode, &convert, sink.upcast_ref()];
    pipeline
        .add_many(elements)
        .and_then(|()| gst::Element::link_many(elements))
        .map_err(|e| PipelineError::Build(e.to_string()))?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
    let sample = sink.try_pull_sample(gst::ClockTime::from_seconds(10));
    let _ = pipeline.set_state(gst::State::Null);
    sample
        .as_ref()
        .and_then(rgb_of)
        .ok_or_else(|| PipelineError::Build(format!("no picture in {}", path.display())))
}

/// The picture of a decoded RGB sample.
fn rgb_of(sample: &gst::Sample) -> Option<I420Frame> {
    let info = gst_video::VideoInfo::from_caps(sample.caps()?).ok()?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(sample.buffer()?, &info).ok()?;
    let (w, h) = (info.width() as usize, info.height() as usize);
    let data = frame.plane_data(0).ok()?;
    let stride = usize::try_from(frame.plane_stride()[0]).ok()?;
    let mut rgb = Vec::with_capacity(w * h * 3);
    for row in 0..h {
        rgb.extend_from_slice(data.get(row * stride..row * stride + w * 3)?);
    }
    I420Frame::from_rgb(info.width(), info.height(), &rgb).ok()
}

/// A probe's pipeline: RTP of `caps` into an appsrc, a jitter buffer, `decode` (elements that
/// end in raw caps), and an appsink; not started.
fn probe_pipeline(
    caps: &str,
    decode: &str,
) -> Result<(gst::Pipeline, gst_app::AppSrc, gst_app::AppSink), PipelineError> {
    gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=in is-live=true format=time do-timestamp=true caps=\"{caps}\" ! \
         rtpjitterbuffer latency=50 ! {decode} ! appsink name=out sync=false"
    ))
    .map_err(|e| PipelineError::Build(e.to_string()))?
    .downcast::<gst::Pipeline>()
    .map_err(|_| PipelineError::Build("not a pipeline".to_owned()))?;
    let input = pipeline
        .by_name("in")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or_else(|| PipelineError::Build("appsrc".to_owned()))?;
    let output = appsink(&pipeline, "out")?;
    Ok((pipeline, input, output))
}

fn appsink(pipeline: &gst::Pipeline, name: &str) -> Result<gst_app::AppSink, PipelineError> {
    pipeline
        .by_name(name)
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| PipelineError::Build(format!("appsink {name}")))
}

/// The I420 picture of a decoded sample (planes copied out, tightly packed).
fn i420_of(sample: &gst::Sample) -> Option<I420Frame> {
    let caps = sample.caps()?;
    let info = gst_video::VideoInfo::from_caps(caps).ok()?;
    let buffer = sample.buffer()?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).ok()?;
    let (w, h) = (info.width() as usize, info.height() as usize);
    let plane = |index: u32, pw: usize, ph: usize| -> Option<Vec<u8>> {
        let data = frame.plane_data(index).ok()?;
        let stride = usize::try_from(frame.plane_stride()[index as usize]).ok()?;
        let mut out = Vec::with_capacity(pw * ph);
        for row in 0..ph {
            out.extend_from_slice(data.get(row * stride..row * stride + pw)?);
        }
        Some(out)
    };
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    I420Frame::from_planes(
        u32::try_from(w).ok()?,
        u32::try_from(h).ok()?,
        plane(0, w, h)?,
        plane(1, cw, ch)?,
        plane(2, cw, ch)?,
    )
    .ok()
}
