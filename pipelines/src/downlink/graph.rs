//! The one GStreamer pipeline of a downlink, the state its threads share, and the bus thread that
//! turns bus messages into events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use gst::prelude::*;

use crate::downlink::audio_mix::AudioInputs;
use crate::downlink::decode::VideoInputs;
use crate::downlink::error::DownlinkError;
use crate::downlink::idr::IdrScheduler;
use crate::downlink::spec::DownlinkSpec;
use crate::downlink::stats::Counters;
use crate::downlink::{DownlinkEvent, lock};

/// Prefix of the element names of a per-SSRC video input (`vin-<ssrc>-…`).
pub(crate) const VIDEO_IN: &str = "vin";
/// Prefix of the element names of a per-SSRC audio input (`ain-<ssrc>-…`).
pub(crate) const AUDIO_IN: &str = "ain";

/// What the downlink's threads and GStreamer callbacks share.
pub(crate) struct Shared {
    pub(crate) pipeline: gst::Pipeline,
    pub(crate) stats: Counters,
    pub(crate) idr: Mutex<IdrScheduler>,
    events: Mutex<Sender<DownlinkEvent>>,
    running: AtomicBool,
}

impl Shared {
    pub(crate) fn new(
        spec: &DownlinkSpec,
        events: Sender<DownlinkEvent>,
    ) -> Result<Self, DownlinkError> {
        Ok(Self {
            pipeline: gst::Pipeline::with_name("downlink"),
            stats: Counters::default(),
            idr: Mutex::new(IdrScheduler::new(&spec.video.keyframes)),
            events: Mutex::new(events),
            running: AtomicBool::new(true),
        })
    }

    /// Sets the pipeline playing.
    pub(crate) fn start(&self) -> Result<(), DownlinkError> {
        self.pipeline
            .set_state(gst::State::Playing)
            .map(|_| ())
            .map_err(|e| DownlinkError::build(format!("pipeline would not play: {e}")))
    }

    pub(crate) fn send(&self, event: DownlinkEvent) {
        // The receiver may be gone (the node is tearing the call down): nothing to tell then.
        let _ = lock(&self.events).send(event);
    }

    pub(crate) fn check_running(&self) -> Result<(), DownlinkError> {
        if self.running.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(DownlinkError::Ended)
        }
    }

    /// Ends the graph once: the pipeline goes to NULL and `Stopped` is sent.
    pub(crate) fn stop(&self) {
        if self.running.swap(false, Ordering::AcqRel) {
            let _ = self.pipeline.set_state(gst::State::Null);
            self.send(DownlinkEvent::Stopped);
        }
    }

    /// Ends the graph with an error event first.
    pub(crate) fn fail(&self, error: DownlinkError) {
        if self.check_running().is_ok() {
            self.send(DownlinkEvent::Error(error));
        }
        self.stop();
    }
}

/// Makes element `factory` named `name`.
pub(crate) fn make(factory: &str, name: &str) -> Result<gst::Element, DownlinkError> {
    gst::ElementFactory::make(factory)
        .name(name)
        .build()
        .map_err(|e| DownlinkError::build(format!("element {factory}: {e}")))
}

/// Adds `elements` to `pipeline` and links them in order.
/// The head of one input branch, named `{prefix}-src` and `{prefix}-jb`: a live appsrc of
/// RTP (`media`, `encoding` at `clock_rate`, payload type `pt`) and a jitter buffer of
/// `latency_ms`.
pub(crate) fn rtp_input(
    prefix: &str,
    (media, encoding, clock_rate): (&str, &str, i32),
    pt: u8,
    latency_ms: u32,
) -> Result<(gst_app::AppSrc, gst::Element), DownlinkError> {
    let caps = gst::Caps::builder("application/x-rtp")
        .field("media", media)
        .field("clock-rate", clock_rate)
        .field("encoding-name", encoding)
        .field("payload", i32::from(pt))
        .build();
    let src = gst_app::AppSrc::builder()
        .name(format!("{prefix}-src"))
        .caps(&caps)
        .format(gst::Format::Time)
        .is_live(true)
        .do_timestamp(true)
        .max_buffers(200)
        .build();
    let jitter = make("rtpjitterbuffer", &format!("{prefix}-jb"))?;
    jitter.set_property("latency", latency_ms);
    Ok((src, jitter))
}

pub(crate) fn add_chain(
    pipeline: &gst::Pipeline,
    elements: &[&gst::Element],
) -> Result<(), DownlinkError> {
    pipeline
        .add_many(elements.iter().copied())
        .map_err(DownlinkError::build)?;
    gst::Element::link_many(elements.iter().copied()).map_err(DownlinkError::build)
}

/// The SSRC of a per-input element name `<prefix>-<ssrc>-…`.
fn input_ssrc(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?.strip_prefix('-')?;
    rest.split('-').next()?.parse().ok()
}

/// The bus thread: element errors end one input (per-SSRC elements) or the graph (any other);
/// decoder warnings count as decode errors of their SSRC.
pub(crate) fn spawn_bus(
    shared: Arc<Shared>,
    video: Arc<Mutex<VideoInputs>>,
    audio: Arc<Mutex<AudioInputs>>,
) -> Result<JoinHandle<()>, DownlinkError> {
    let bus = shared.pipeline.bus().expect("a pipeline has a bus");
    std::thread::Builder::new()
        .name("dl-bus".into())
        .spawn(move || {
            while shared.check_running().is_ok() {
                let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
                    continue;
                };
                let name = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
                let video_ssrc = input_ssrc(&name, VIDEO_IN);
                let audio_ssrc = input_ssrc(&name, AUDIO_IN);
                match msg.view() {
                    gst::MessageView::Error(e) => {
                        let message = match e.debug() {
                            Some(d) => format!("{} ({d})", e.error()),
                            None => e.error().to_string(),
                        };
                        if let Some(ssrc) = video_ssrc.or(audio_ssrc) {
                            Counters::bump_ssrc(&shared.stats.decode_errors, ssrc);
                            if video_ssrc.is_some() {
                                lock(&video).remove(ssrc);
                            } else {
                                lock(&audio).remove(ssrc);
                            }
                            shared.send(DownlinkEvent::DecodeError { ssrc, message });
                        } else {
                            shared.fail(DownlinkError::Element {
                                element: name,
                                message,
                            });
                        }
                    }
                    gst::MessageView::Warning(_) => {
                        if let Some(ssrc) = video_ssrc.or(audio_ssrc) {
                            Counters::bump_ssrc(&shared.stats.decode_errors, ssrc);
                        }
                    }
                    gst::MessageView::Eos(_) => {
                        shared.fail(DownlinkError::Element {
                            element: name,
                            message: "unexpected end of stream".into(),
                        });
                    }
                    _ => {}
                }
            }
        })
        .map_err(DownlinkError::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrc_from_element_name() {
        assert_eq!(input_ssrc("vin-1234-dec", VIDEO_IN), Some(1234));
        assert_eq!(input_ssrc("ain-7-src", VIDEO_IN), None);
        assert_eq!(input_ssrc("venc-x264", VIDEO_IN), None);
    }
}
