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
//! re-prompt cuts the previous prompt short instead of queuing after it. A thread per prompt
//! pushes it 20 ms at a time in real time, stamped back to back from the running time at which
//! it starts (so the mixer hears one continuous stream, whatever the thread's jitter), then
//! ends the stream; the mixer leaves the ended pad out of the mix afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gst::prelude::*;

use crate::downlink::error::DownlinkError;
use crate::downlink::graph::{Shared, add_chain, make};

/// One prompt's branch into the mixer.
pub(crate) struct PromptInput {
    elements: Vec<gst::Element>,
    mixer_pad: gst::Pad,
    /// Tells the feeder thread to stop (replaced, removed, or the downlink ended).
    stop: Arc<AtomicBool>,
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
        let stop = Arc::new(AtomicBool::new(false));
        feed(
            src,
            samples.to_vec(),
            rate.unsigned_abs(),
            n,
            Arc::clone(&stop),
        )?;
        Ok(Self {
            elements,
            mixer_pad,
            stop,
        })
    }

    /// Stops the branch and gives its pad back to `mixer`.
    pub(crate) fn remove(self, shared: &Shared, mixer: &gst::Element) {
        self.stop.store(true, Ordering::Release);
        for e in &self.elements {
            let _ = e.set_state(gst::State::Null);
        }
        let _ = shared.pipeline.remove_many(&self.elements);
        mixer.release_request_pad(&self.mixer_pad);
    }
}

impl Drop for PromptInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// One packet's worth of prompt: what the feeder pushes at a time.
const CHUNK: Duration = Duration::from_millis(20);

/// Pushes `samples` (mono, `rate` Hz) into `src` from a thread of its own, 20 ms at a time in
/// real time, as a live source would, then ends the stream; stops early when `stop` is set or
/// the branch refuses data. Timestamps run back to back from the branch's running time when it
/// starts; pacing keeps each chunk just ahead of the mixer (which waits 2 ptimes for it), so a
/// late chunk costs 20 ms of the prompt, never the prompt.
fn feed(
    src: gst_app::AppSrc,
    samples: Vec<i16>,
    rate: u32,
    n: u64,
    stop: Arc<AtomicBool>,
) -> Result<(), DownlinkError> {
    let per_chunk = usize::try_from(rate / 50).unwrap_or(160).max(1);
    std::thread::Builder::new()
        .name(format!("dl-prompt-{n}"))
        .spawn(move || {
            // The branch's running time once it plays: the prompt starts there.
            let Some(mut pts) = running_time(&src, &stop) else {
                return;
            };
            let start = Instant::now();
            for (i, piece) in samples.chunks(per_chunk).enumerate() {
                if stop.load(Ordering::Acquire) {
                    return;
                }
                let due = start + CHUNK * u32::try_from(i).unwrap_or(u32::MAX);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let bytes: Vec<u8> = piece.iter().flat_map(|s| s.to_le_bytes()).collect();
                let mut buffer = gst::Buffer::from_mut_slice(bytes);
                let nanos = u64::try_from(piece.len()).unwrap_or(u64::MAX) * 1_000_000_000
                    / u64::from(rate.max(1));
                let duration = gst::ClockTime::from_nseconds(nanos);
                if let Some(buffer) = buffer.get_mut() {
                    buffer.set_pts(pts);
                    buffer.set_duration(duration);
                }
                pts += duration;
                if src.push_buffer(buffer).is_err() {
                    return;
                }
            }
            // Nothing follows: an ended pad is left out of the mix (a live pad without data
            // would hold the mixer back).
            let _ = src.end_of_stream();
        })
        .map(drop)
        .map_err(DownlinkError::build)
}

/// The running time of `src` once it has one (its pipeline plays), waiting up to a second;
/// `None` when it never does or `stop` is set meanwhile.
fn running_time(src: &gst_app::AppSrc, stop: &AtomicBool) -> Option<gst::ClockTime> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if stop.load(Ordering::Acquire) {
            return None;
        }
        if let Some(now) = src.current_running_time() {
            return Some(now);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
