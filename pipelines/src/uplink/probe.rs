//! A test aid (like [`crate::peers`]): the uplink graph on its own, without webrtcbin.
//!
//! [`UplinkProbe`] builds the very graph [`crate::MeetLeg`] builds (the same
//! [`super::build`]) into a pipeline of its own, and hands what it would send to Meet (each
//! VP8 layer's RTP and the Opus RTP) to a callback, so that a test can push a room system's
//! RTP in and decode what comes out without ICE, DTLS or a Meet peer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gst::prelude::*;

use crate::error::PipelineError;
use crate::spec::{MeetLegSpec, UplinkSpec};
use crate::uplink::UplinkInput;

/// Which stream a sent RTP packet belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentStream<'a> {
    /// The VP8 simulcast layer with this RID.
    Layer(&'a str),
    /// The Opus stream.
    Audio,
}

/// The uplink graph in a pipeline of its own, its output to a callback.
pub struct UplinkProbe {
    pipeline: gst::Pipeline,
    input: UplinkInput,
    errors: Arc<Mutex<Vec<PipelineError>>>,
    stop: Arc<AtomicBool>,
    bus_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for UplinkProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UplinkProbe")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl UplinkProbe {
    /// Builds the uplink for `uplink` (what the room system sends) and `leg` (the layers and
    /// payload types sent to Meet; ICE settings unused) and starts it. `sent` gets every RTP
    /// packet the uplink would send to Meet, on a streaming thread.
    pub fn start(
        uplink: &UplinkSpec,
        leg: &MeetLegSpec,
        sent: impl Fn(SentStream<'_>, &[u8]) + Send + Sync + 'static,
    ) -> Result<Self, PipelineError> {
        gst::init().map_err(|e| PipelineError::Init(e.to_string()))?;
        let pipeline = gst::Pipeline::builder().name("uplink-probe").build();
        let graph = super::build(&pipeline, leg, uplink)?;
        let sent = Arc::new(sent);
        let rids: Vec<(u32, String)> = leg
            .layers
            .layers
            .iter()
            .map(|l| (l.ssrc, l.rid.clone()))
            .collect();
        let to_sent = Arc::clone(&sent);
        let video_sink = sink(move |packet| {
            let ssrc = packet
                .get(8..12)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            if let Some((_, rid)) = rids.iter().find(|(s, _)| Some(*s) == ssrc) {
                to_sent(SentStream::Layer(rid), packet);
            }
        });
        let audio_sink = sink(move |packet| sent(SentStream::Audio, packet));
        pipeline.add_many([
            video_sink.upcast_ref::<gst::Element>(),
            audio_sink.upcast_ref(),
        ])?;
        graph.video_out.link(&video_sink)?;
        graph.audio_out.link(&audio_sink)?;

        let errors = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let bus_thread = watch_bus(&pipeline, &errors, &stop)?;
        let probe = Self {
            pipeline,
            input: graph.input,
            errors,
            stop,
            bus_thread: Some(bus_thread),
        };
        probe
            .pipeline
            .set_state(gst::State::Playing)
            .map_err(|_| PipelineError::StateChange("PLAYING".to_owned()))?;
        Ok(probe)
    }

    /// Where the room system's RTP goes in.
    pub fn input(&self) -> UplinkInput {
        self.input.clone()
    }

    /// The errors elements posted so far (a healthy uplink posts none).
    pub fn errors(&self) -> Vec<PipelineError> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the pipeline is still playing.
    pub fn is_playing(&self) -> bool {
        self.pipeline.current_state() == gst::State::Playing
    }
}

impl Drop for UplinkProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.pipeline.set_state(gst::State::Null);
        if let Some(thread) = self.bus_thread.take() {
            let _ = thread.join();
        }
    }
}

/// An appsink that hands each buffer to `each`.
fn sink(each: impl Fn(&[u8]) + Send + Sync + 'static) -> gst_app::AppSink {
    let sink = gst_app::AppSink::builder()
        .sync(false)
        .async_(false)
        .build();
    sink.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if let Some(map) = sample.buffer().and_then(|b| b.map_readable().ok()) {
                    each(&map);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    sink
}

/// Keeps the error messages of the pipeline's bus (and drops everything else).
fn watch_bus(
    pipeline: &gst::Pipeline,
    errors: &Arc<Mutex<Vec<PipelineError>>>,
    stop: &Arc<AtomicBool>,
) -> Result<JoinHandle<()>, PipelineError> {
    let bus = pipeline
        .bus()
        .ok_or_else(|| PipelineError::Build("pipeline without a bus".into()))?;
    let errors = Arc::clone(errors);
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("uplink-probe-bus".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Some(message) = bus.timed_pop_filtered(
                    gst::ClockTime::from_mseconds(100),
                    &[gst::MessageType::Error],
                ) else {
                    continue;
                };
                if let gst::MessageView::Error(e) = message.view() {
                    errors
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(PipelineError::Element {
                            element: message
                                .src()
                                .map(|s| s.path_string().to_string())
                                .unwrap_or_default(),
                            message: e.error().to_string(),
                            debug: e.debug().map(|d| d.to_string()),
                        });
                }
            }
        })
        .map_err(|e| PipelineError::Build(format!("bus thread: {e}")))
}
