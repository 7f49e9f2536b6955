//! The audio mix toward the room system: up to 3 Meet Opus streams, each
//! `appsrc ! rtpjitterbuffer ! rtpopusdepay ! opusdec ! audioconvert ! audioresample`, into one
//! `audiomixer` with a live silence source, then mono audio at the codec's rate into its encoder
//! and payloader ([`crate::downlink::audio_out`]: G.711, G.722 or Opus):
//! `audiomixer ! audio/x-raw,rate=R,channels=1 ! <encoder> ! <payloader> ! appsink`, where R
//! is 8 kHz for G.711, 16 kHz for G.722 and 48 kHz for Opus.
//!
//! Why the silence source: `audiomixer` (a `GstAggregator`) with no input pads produces nothing,
//! and with only Meet inputs it would stop when Meet stops sending. A live `audiotestsrc
//! wave=silence` pad keeps the aggregator on the clock, so a stalled or absent stream is simply
//! left out of the mix after the aggregator's latency.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use gst::prelude::*;

use crate::downlink::DownlinkEvent;
use crate::downlink::audio_out;
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{AUDIO_IN, Shared, add_chain, make, rtp_input};
use crate::downlink::prompt::PromptInput;
use crate::downlink::rtp::RtpPacket;
use crate::downlink::spec::DownlinkSpec;

/// Meet sends at most 3 audio streams (the loudest speakers).
const MAX_INPUTS: usize = 3;

struct Input {
    src: gst_app::AppSrc,
    elements: Vec<gst::Element>,
    mixer_pad: gst::Pad,
}

/// The audio inputs and the mixer of one downlink.
pub(crate) struct AudioInputs {
    shared: Weak<Shared>,
    latency_ms: u32,
    /// The mix's sample rate (the output codec's).
    rate: i32,
    mixer: gst::Element,
    inputs: HashMap<u32, Input>,
    /// The prompt playing (or played last), and how many were started.
    prompt: Option<PromptInput>,
    prompts: u64,
}

/// Mono S16 at `rate`: what every input is converted to and the encoder takes.
fn mix_caps(rate: i32) -> gst::Caps {
    gst::Caps::builder("audio/x-raw")
        .field("format", "S16LE")
        .field("layout", "interleaved")
        .field("rate", rate)
        .field("channels", 1i32)
        .build()
}

impl AudioInputs {
    /// Builds the mixer and the encoded output.
    pub(crate) fn build(shared: &Arc<Shared>, spec: &DownlinkSpec) -> Result<Self, DownlinkError> {
        let a = &spec.audio;
        let rate = i32::try_from(a.codec.sample_rate()).map_err(DownlinkError::build)?;
        let ptime_ns = u64::from(a.ptime_ms) * 1_000_000;
        let silence = make("audiotestsrc", "aout-silence")?;
        silence.set_property_from_str("wave", "silence");
        silence.set_property("is-live", true);
        silence.set_property("samplesperbuffer", rate / 100);
        let silence_caps = make("capsfilter", "aout-silence-caps")?;
        silence_caps.set_property("caps", mix_caps(rate));
        let mixer = make("audiomixer", "aout-mix")?;
        // Wait at most this long for a late input before mixing without it.
        mixer.set_property("latency", 2 * ptime_ns);
        let caps = make("capsfilter", "aout-caps")?;
        caps.set_property("caps", mix_caps(rate));
        let [enc, pay] = audio_out::chain(a)?;
        let sink = gst_app::AppSink::builder()
            .name("aout-sink")
            .sync(false)
            .async_(false)
            .build();
        let weak = Arc::downgrade(shared);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let (Some(buffer), Some(shared)) = (sample.buffer(), weak.upgrade()) else {
                        return Ok(gst::FlowSuccess::Ok);
                    };
                    let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                    shared.stats.bump(&shared.stats.audio_packets);
                    shared.send(DownlinkEvent::AudioRtp(map.to_vec()));
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        add_chain(&shared.pipeline, &[&silence, &silence_caps, &mixer])?;
        let sink = sink.upcast();
        let chain = [&mixer, &caps, &enc, &pay, &sink];
        shared
            .pipeline
            .add_many(&chain[1..])
            .map_err(DownlinkError::build)?;
        gst::Element::link_many(chain).map_err(DownlinkError::build)?;
        Ok(Self {
            shared: Arc::downgrade(shared),
            latency_ms: u32::try_from(spec.jitter_latency.as_millis()).unwrap_or(u32::MAX),
            rate,
            mixer,
            inputs: HashMap::new(),
            prompt: None,
            prompts: 0,
        })
    }

    pub(crate) fn push(&mut self, ssrc: u32, packet: &[u8]) -> Result<(), DownlinkError> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(DownlinkError::Ended);
        };
        let Some(rtp) = RtpPacket::parse(packet) else {
            shared.stats.bump(&shared.stats.audio_packets_dropped);
            return Ok(());
        };
        if !self.inputs.contains_key(&ssrc) {
            if self.inputs.len() >= MAX_INPUTS {
                shared.stats.bump(&shared.stats.audio_packets_dropped);
                return Ok(());
            }
            let input = self.build_input(&shared, ssrc, rtp.payload_type)?;
            self.inputs.insert(ssrc, input);
        }
        let _ = self.inputs[&ssrc]
            .src
            .push_buffer(gst::Buffer::from_slice(packet.to_vec()));
        Ok(())
    }

    /// Plays `samples` (mono PCM at `rate` Hz) into the mix, replacing the prompt playing
    /// ([`crate::downlink::prompt`]).
    pub(crate) fn play_prompt(&mut self, samples: &[i16], rate: u32) -> Result<(), DownlinkError> {
        let Some(shared) = self.shared.upgrade() else {
            return Err(DownlinkError::Ended);
        };
        if let Some(old) = self.prompt.take() {
            old.remove(&shared, &self.mixer);
        }
        self.prompts += 1;
        let prompt =
            PromptInput::play(&shared, &self.mixer, self.rate, self.prompts, samples, rate)?;
        self.prompt = Some(prompt);
        Ok(())
    }

    /// Stops and removes the input of `ssrc` (if any), releasing its mixer pad.
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
        self.mixer.release_request_pad(&input.mixer_pad);
    }

    fn build_input(&self, shared: &Shared, ssrc: u32, pt: u8) -> Result<Input, DownlinkError> {
        let name = |part: &str| format!("{AUDIO_IN}-{ssrc}-{part}");
        let (src, jitter) = rtp_input(
            &format!("{AUDIO_IN}-{ssrc}"),
            ("audio", "OPUS", 48_000),
            pt,
            self.latency_ms,
        )?;
        let depay = make("rtpopusdepay", &name("depay"))?;
        let dec = make("opusdec", &name("dec"))?;
        let convert = make("audioconvert", &name("convert"))?;
        let resample = make("audioresample", &name("resample"))?;
        let caps = make("capsfilter", &name("caps"))?;
        caps.set_property("caps", mix_caps(self.rate));
        let elements: Vec<gst::Element> = vec![
            src.clone().upcast(),
            jitter,
            depay,
            dec,
            convert,
            resample,
            caps,
        ];
        add_chain(&shared.pipeline, &elements.iter().collect::<Vec<_>>())?;
        let mixer_pad = self
            .mixer
            .request_pad_simple("sink_%u")
            .ok_or_else(|| DownlinkError::build("audiomixer gave no sink pad"))?;
        let out = elements[elements.len() - 1]
            .static_pad("src")
            .expect("capsfilter has a src pad");
        out.link(&mixer_pad).map_err(DownlinkError::build)?;
        // Downstream first: the appsrc must not push before its jitter buffer plays (see
        // decode.rs).
        for e in elements.iter().rev() {
            e.sync_state_with_parent().map_err(DownlinkError::build)?;
        }
        Ok(Input {
            src,
            elements,
            mixer_pad,
        })
    }
}
