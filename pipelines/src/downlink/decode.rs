//! The per-SSRC VP8 inputs: `appsrc ! rtpjitterbuffer ! rtpvp8depay ! vp8dec ! appsink`, made
//! on an SSRC's first packet and removed when an assignment leaves the SSRC out. Decoded
//! pictures go to the compose thread as GStreamer samples (no copy).

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Weak};

use gst::prelude::*;
use kernels::layout::TILE_COUNT;

use crate::downlink::DownlinkEvent;
use crate::downlink::compose::ComposeMsg;
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{Shared, VIDEO_IN, add_chain, make, rtp_input};
use crate::downlink::rtp::RtpPacket;
use crate::downlink::spec::DownlinkSpec;

/// The most decoders alive at once: one per tile, and a few for SSRCs on their way in or out.
const MAX_INPUTS: usize = TILE_COUNT + 4;

/// Consecutive undecodable frames after which a decoder fails (a bus error: its input is removed
/// and counted, and the next packet starts a fresh one). With vp8dec's default of -1 the errors
/// never reach the bus at all (`GstVideoDecoder` only logs them), so they could not be counted.
const MAX_DECODE_ERRORS: i32 = 10;

struct Input {
    src: gst_app::AppSrc,
    elements: Vec<gst::Element>,
}

/// The video inputs of one downlink.
pub(crate) struct VideoInputs {
    shared: Weak<Shared>,
    latency_ms: u32,
    compose: Sender<ComposeMsg>,
    inputs: HashMap<u32, Input>,
    /// The SSRCs of the last assignment: packets of any other SSRC are dropped (counted). Before
    /// the first assignment (`None`) every SSRC is taken: media may come before
    /// `videoAssignment`.
    assigned: Option<HashSet<u32>>,
}

impl VideoInputs {
    pub(crate) fn new(
        shared: &Arc<Shared>,
        spec: &DownlinkSpec,
        compose: Sender<ComposeMsg>,
    ) -> Self {
        Self {
            shared: Arc::downgrade(shared),
            latency_ms: u32::try_from(spec.jitter_latency.as_millis()).unwrap_or(u32::MAX),
            compose,
            inputs: HashMap::new(),
            assigned: None,
        }
    }

    pub(crate) fn push(&mut self, ssrc: u32, packet: &[u8]) -> Result<(), DownlinkError> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(DownlinkError::Ended);
        };
        let Some(rtp) = RtpPacket::parse(packet) else {
            shared.stats.bump(&shared.stats.video_packets_dropped);
            return Ok(());
        };
        if !self.inputs.contains_key(&ssrc) {
            let refused = self.assigned.as_ref().is_some_and(|a| !a.contains(&ssrc));
            if refused || self.inputs.len() >= MAX_INPUTS {
                shared.stats.bump(&shared.stats.video_packets_dropped);
                return Ok(());
            }
            let input = self.build(&shared, ssrc, rtp.payload_type)?;
            self.inputs.insert(ssrc, input);
            shared.send(DownlinkEvent::KeyframeWanted { ssrc });
        }
        let input = &self.inputs[&ssrc];
        // An input in error is removed by the bus thread; a push into one that is going away
        // (flushing) is not the caller's failure.
        let _ = input
            .src
            .push_buffer(gst::Buffer::from_slice(packet.to_vec()));
        Ok(())
    }

    /// Takes a new assignment: inputs of SSRCs not in it are removed, and only SSRCs in it are
    /// taken from now on.
    pub(crate) fn assign(&mut self, tiles: &[Option<u32>; TILE_COUNT]) {
        let keep: HashSet<u32> = tiles.iter().flatten().copied().collect();
        let gone: Vec<u32> = self
            .inputs
            .keys()
            .filter(|s| !keep.contains(s))
            .copied()
            .collect();
        self.assigned = Some(keep);
        for ssrc in gone {
            self.remove(ssrc);
        }
    }

    /// Stops and removes the input of `ssrc` (if any).
    pub(crate) fn remove(&mut self, ssrc: u32) {
        let Some(input) = self.inputs.remove(&ssrc) else {
            return;
        };
        for e in &input.elements {
            let _ = e.set_state(gst::State::Null);
        }
        if let Some(shared) = self.shared.upgrade() {
            let _ = shared.pipeline.remove_many(&input.elements);
        }
    }

    fn build(&self, shared: &Arc<Shared>, ssrc: u32, pt: u8) -> Result<Input, DownlinkError> {
        let name = |part: &str| format!("{VIDEO_IN}-{ssrc}-{part}");
        let (src, jitter) = rtp_input(
            &format!("{VIDEO_IN}-{ssrc}"),
            ("video", "VP8", 90_000),
            pt,
            self.latency_ms,
        )?;
        let depay = make("rtpvp8depay", &name("depay"))?;
        depay.set_property("wait-for-keyframe", true);
        depay.set_property("request-keyframe", true);
        let dec = make("vp8dec", &name("dec"))?;
        dec.set_property("threads", 1u32);
        dec.set_property("max-errors", MAX_DECODE_ERRORS);
        let sink = gst_app::AppSink::builder()
            .name(name("sink"))
            .caps(
                &gst::Caps::builder("video/x-raw")
                    .field("format", "I420")
                    .build(),
            )
            .sync(false)
            .async_(false)
            .max_buffers(2)
            .drop(true)
            .build();
        let compose = self.compose.clone();
        let weak = Arc::downgrade(shared);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    if let Some(shared) = weak.upgrade() {
                        let size = sample.caps().and_then(|c| c.structure(0)).and_then(|s| {
                            let width = s.get::<i32>("width").ok()?;
                            let height = s.get::<i32>("height").ok()?;
                            Some((width.unsigned_abs(), height.unsigned_abs()))
                        });
                        shared.stats.decoded(ssrc, size);
                    }
                    compose
                        .send(ComposeMsg::Decoded { ssrc, sample })
                        .map_err(|_| gst::FlowError::Flushing)?;
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        // The depayloader asks for a keyframe upstream on loss; the appsrc cannot answer, so
        // the request goes to the node (a PLI toward Meet).
        let weak = Arc::downgrade(shared);
        src.static_pad("src")
            .expect("appsrc has a src pad")
            .add_probe(gst::PadProbeType::EVENT_UPSTREAM, move |_, info| {
                let is_fku = info
                    .event()
                    .is_some_and(|e| gst_video::ForceKeyUnitEvent::is(e));
                if let (true, Some(shared)) = (is_fku, weak.upgrade()) {
                    shared.send(DownlinkEvent::KeyframeWanted { ssrc });
                }
                gst::PadProbeReturn::Ok
            });
        let elements: Vec<gst::Element> =
            vec![src.clone().upcast(), jitter, depay, dec, sink.upcast()];
        add_chain(&shared.pipeline, &elements.iter().collect::<Vec<_>>())?;
        // Downstream first, and the appsink with `async=false`: an input added to the playing
        // pipeline must not make it lose its state (an async sink) or start pushing before its
        // jitter buffer plays; either way the appsrc's serialized start-up query into
        // rtpjitterbuffer could wait forever and the input never decoded.
        for e in elements.iter().rev() {
            e.sync_state_with_parent().map_err(DownlinkError::build)?;
        }
        Ok(Input { src, elements })
    }
}
