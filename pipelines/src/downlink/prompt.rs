//! Spoken prompts toward the room system (a Virtual Reception asking for the meeting ID): mono
//! 16-bit PCM from the node, mixed into the same audio output as Meet's streams, so a prompt
//! leaves in whatever codec the room system agreed (G.711, G.722, Opus) with the downlink's
//! own SSRC, sequence numbers and timestamps.
//!
//! ```text
//! appsrc (S16LE mono at the prompt's rate) ! audioconvert ! audioresample
//!     ! audio/x-raw,rate=<mix rate>,channels=1 ─► audiomixer (a request pad of its own)
//! ```
//!
//! Each prompt gets a fresh branch: a new one replaces (and removes) the one playing, so a
//! re-prompt cuts the previous prompt short instead of queuing after it. The whole prompt is
//! pushed as one buffer stamped with the running time, then end-of-stream; the mixer takes it
//! a packet at a time and leaves the ended pad out of the mix afterwards.

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{Shared, add_chain, make};

/// One prompt's branch into the mixer.
pub(crate) struct PromptInput {
    elements: Vec<gst::Element>,
    mixer_pad: gst::Pad,
}

/// Mono S16 at `rate`.
fn pcm_caps(rate: i32) -> gst::Caps {
    gst::Caps::builder("audio/x-raw")
        .field("format", "S16LE")
        .field("layout", "interleaved")
        .field("rate", rate)
        .field("channels", 1i32)
        .build()
}

impl PromptInput {
    /// Builds prompt number `n`'s branch into `mixer` (whose inputs are mono at `mix_rate`)
    /// and pushes `samples` (mono, `rate` Hz) into it.
    pub(crate) fn play(
        shared: &Shared,
        mixer: &gst::Element,
        mix_rate: i32,
        n: u64,
        samples: &[i16],
        rate: u32,
    ) -> Result<Self, DownlinkError> {
        let rate = i32::try_from(rate)
            .ok()
            .filter(|r| (8_000..=48_000).contains(r))
            .ok_or_else(|| DownlinkError::Spec(format!("prompt rate {rate} Hz: 8 to 48 kHz")))?;
        let name = |part: &str| format!("prompt-{n}-{part}");
        let src = gst_app::AppSrc::builder()
            .name(name("src"))
            .caps(&pcm_caps(rate))
            .format(gst::Format::Time)
            .is_live(true)
            .do_timestamp(true)
            .build();
        let convert = make("audioconvert", &name("convert"))?;
        let resample = make("audioresample", &name("resample"))?;
        let caps = make("capsfilter", &name("caps"))?;
        caps.set_property("caps", pcm_caps(mix_rate));
        let elements: Vec<gst::Element> = vec![src.clone().upcast(), convert, resample, caps];
        add_chain(&shared.pipeline, &elements.iter().collect::<Vec<_>>())?;
        let mixer_pad = mixer
            .request_pad_simple("sink_%u")
            .ok_or_else(|| DownlinkError::build("audiomixer gave no sink pad"))?;
        let out = elements[elements.len() - 1]
            .static_pad("src")
            .expect("capsfilter has a src pad");
        out.link(&mixer_pad).map_err(DownlinkError::build)?;
        for e in elements.iter().rev() {
            e.sync_state_with_parent().map_err(DownlinkError::build)?;
        }
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut buffer = gst::Buffer::from_mut_slice(bytes);
        let duration = gst::ClockTime::from_nseconds(
            u64::try_from(samples.len()).unwrap_or(u64::MAX) * 1_000_000_000
                / u64::from(rate.unsigned_abs()),
        );
        buffer
            .get_mut()
            .expect("a new buffer is writable")
            .set_duration(duration);
        let _ = src.push_buffer(buffer);
        // Nothing follows: an ended pad is left out of the mix (a live pad with no data would
        // hold the mixer back).
        let _ = src.end_of_stream();
        Ok(Self {
            elements,
            mixer_pad,
        })
    }

    /// Stops the branch and gives its pad back to `mixer`.
    pub(crate) fn remove(self, shared: &Shared, mixer: &gst::Element) {
        for e in &self.elements {
            let _ = e.set_state(gst::State::Null);
        }
        let _ = shared.pipeline.remove_many(&self.elements);
        mixer.release_request_pad(&self.mixer_pad);
    }
}
