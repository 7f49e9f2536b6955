//! The Meet→VTC downlink: up to 8 VP8 streams decoded onto the persistent 1+7 canvas, sent at a
//! fixed rate as H.264, H.263 or H.261 RTP, and up to 3 Opus streams mixed into G.711, G.722 or
//! Opus RTP ([`spec::VideoCodecOut`], [`spec::AudioCodecOut`]).
//!
//! ```text
//! push_vp8_rtp(ssrc) → appsrc ! rtpjitterbuffer ! rtpvp8depay ! vp8dec ! appsink ─┐ (per SSRC)
//! push_frame(tile)   ───────────────────────────────────────────────────────────────┤
//!                                                   compose thread: kernels Canvas ◄┘
//!                        tick thread (fixed fps, monotonic deadline, never waits) ──┐
//!     appsrc ! x264enc ! video/x-h264 ! rtph264pay ! appsink → DownlinkEvent::VideoRtp
//!            | avenc_h263p ! rtph263ppay | avenc_h263 ! rtph263pay | avenc_h261 ! rtph261pay
//!
//! push_opus_rtp(ssrc) → appsrc ! rtpjitterbuffer ! rtpopusdepay ! opusdec ! audioconvert
//!     ! audioresample ─┐ (≤ 3)        live silence ─┤
//!     audiomixer ! mono at the codec's rate ! mulawenc|alawenc|avenc_g722|opusenc
//!     ! rtppcmupay|rtppcmapay|rtpg722pay|rtpopuspay ! appsink → DownlinkEvent::AudioRtp
//! ```
//!
//! The canvas is made at the output size, whatever the codec: 1280×720 for H.264 by default,
//! CIF (352×288), 4CIF (704×576) or QCIF (176×144) for H.263 and H.261.
//!
//! The canvas geometry is [`kernels::layout`]'s (pictures there), chosen by how many other
//! participants [`Downlink::assign_sources`] names:
//!
//! - **0**: the full frame shows the slate "Waiting for other participants" (also the picture
//!   from start until the first assignment);
//! - **1**: that participant fills the whole frame (their picture, or their name slate);
//! - **2..=8**: the 1+7 layout (tile 0 the main tile, `3W/4 × 3H/4` at the top left; 1..=3 the
//!   right column; 4..=7 the bottom row; each `W/4 × H/4`), only the named tiles drawn, the
//!   other slots plain background (no slate);
//! - **more than 8**: still 1+7. Meet sends at most 8 video streams (Pexip: "If there are more
//!   than 8 other participants then only an audio stream is received for those extra
//!   participants"), so the extra participants are heard in the mix, not seen; the caller
//!   names at most 8 tiles.
//!
//! Each picture is fitted into its tile with black bars ([`kernels::canvas::Canvas::draw`]) and
//! carries its participant's name as a caption at the tile's bottom-left; a participant without
//! video (`ssrc: None`) gets a slate, a colour derived from the name with the name centred
//! ([`kernels::slate`]). A tile whose SSRC stops sending keeps its last picture. While the
//! conference is recorded ([`Downlink::set_recording`]) a red-dot "REC" indicator is drawn at
//! the top-left corner of the output ([`kernels::overlay`]). [`Downlink::assign`] is the older,
//! name-less form: SSRCs into 1+7 tiles, no captions, the rest background.
//!
//! Everything leaves on one `std::sync::mpsc` channel of [`DownlinkEvent`]s. A bus error in a
//! per-SSRC input ends that input only (a [`DownlinkEvent::DecodeError`]); any other element
//! error ends the whole graph with [`DownlinkEvent::Error`] then [`DownlinkEvent::Stopped`].

mod audio_mix;
mod audio_out;
mod compose;
mod decode;
mod encode;
pub mod error;
mod graph;
mod idr;
pub mod keyframe;
mod prompt;
mod receive;
pub mod rtp;
pub mod spec;
mod stats;

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use kernels::frame::I420View;
use kernels::layout::TILE_COUNT;

pub use error::DownlinkError;
pub use receive::ReceivedFigures;
pub use spec::{
    AudioCodecOut, AudioOut, DownlinkSpec, H264Level, H264Profile, KeyframePolicy, OPUS_BITRATE,
    Packetization, PictureFormat, VideoCodecOut, VideoOut,
};
pub use stats::DownlinkStats;

use compose::{ComposeMsg, OverlayState, Plan, TileContent};
use graph::Shared;
use idr::Request;

/// What the downlink reports, in order, on its channel.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownlinkEvent {
    /// One video RTP packet for the room system (H.264, H.263 or H.261, as the spec says).
    VideoRtp(Vec<u8>),
    /// One audio RTP packet for the room system (G.711, G.722 or Opus, as the spec says).
    AudioRtp(Vec<u8>),
    /// An input needs a keyframe from Meet (a new decoder, or loss seen by its depayloader):
    /// the node should send a PLI for this SSRC.
    KeyframeWanted {
        /// The Meet SSRC.
        ssrc: u32,
    },
    /// One input failed and was removed; a later packet of that SSRC starts it again.
    DecodeError {
        /// The Meet SSRC.
        ssrc: u32,
        /// GStreamer's message.
        message: String,
    },
    /// The graph failed and has ended; [`DownlinkEvent::Stopped`] follows.
    Error(DownlinkError),
    /// The graph has ended (after an error, or [`Downlink::stop`]).
    Stopped,
}

/// One participant's place on the canvas, for [`Downlink::assign_sources`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TileSource {
    /// The canvas tile: 0 the main tile, 1..=7 the thumbnails (Meet's canvas id minus one).
    /// With a single source the tile is ignored: that source fills the frame.
    pub tile: usize,
    /// The Meet SSRC whose pictures show there, or `None` for a participant without video
    /// (their name slate shows instead).
    pub ssrc: Option<u32>,
    /// The participant's display name (UTF-8; the caption, or the slate's text). Empty: no
    /// caption (a slate then shows "?").
    pub name: String,
}

/// One running downlink graph. Every method takes `&self` and may be called from any thread.
/// Dropping it stops the graph.
pub struct Downlink {
    shared: Arc<Shared>,
    video_in: Arc<Mutex<decode::VideoInputs>>,
    audio_in: Arc<Mutex<audio_mix::AudioInputs>>,
    compose_tx: mpsc::Sender<ComposeMsg>,
    overlays: Arc<OverlayState>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Downlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downlink")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Downlink {
    /// Builds and starts the graph. Output starts at once (the background, then tiles as they
    /// arrive) at the spec's fixed rate.
    pub fn start(spec: DownlinkSpec) -> Result<(Self, Receiver<DownlinkEvent>), DownlinkError> {
        spec.validate()?;
        gst::init().map_err(|e| DownlinkError::Init(e.to_string()))?;
        let (events_tx, events) = mpsc::channel();
        let shared = Arc::new(Shared::new(&spec, events_tx)?);
        let encoder = encode::Encoder::build(&shared, &spec)?;
        let audio_in = audio_mix::AudioInputs::build(&shared, &spec)?;
        let (compose_tx, compose_rx) = mpsc::channel();
        let video_in = decode::VideoInputs::new(&shared, &spec, compose_tx.clone());
        let video_in = Arc::new(Mutex::new(video_in));
        let audio_in = Arc::new(Mutex::new(audio_in));
        shared.start()?;
        let canvas = compose::new_canvas(&spec)?;
        let overlays = Arc::new(OverlayState::default());
        let threads = vec![
            compose::spawn_compose(Arc::clone(&canvas), compose_rx, Arc::clone(&shared))?,
            compose::spawn_tick(
                canvas,
                encoder,
                &spec,
                Arc::clone(&shared),
                Arc::clone(&overlays),
            )?,
            graph::spawn_bus(
                Arc::clone(&shared),
                Arc::clone(&video_in),
                Arc::clone(&audio_in),
            )?,
        ];
        let downlink = Self {
            shared,
            video_in,
            audio_in,
            compose_tx,
            overlays,
            threads: Mutex::new(threads),
        };
        Ok((downlink, events))
    }

    /// One VP8 RTP packet from Meet. The first packet of an SSRC starts its decoder (and a
    /// [`DownlinkEvent::KeyframeWanted`]). Once [`assign`](Self::assign) has been called, packets
    /// of SSRCs not in the latest assignment are dropped (counted); before it, every SSRC is
    /// taken. Fails only when the graph has ended.
    pub fn push_vp8_rtp(&self, ssrc: u32, packet: &[u8]) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        self.shared.stats.received(ssrc, true, packet);
        lock(&self.video_in).push(ssrc, packet)
    }

    /// One Opus RTP packet from Meet (up to 3 SSRCs are mixed; more are dropped and counted).
    pub fn push_opus_rtp(&self, ssrc: u32, packet: &[u8]) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        self.shared.stats.received(ssrc, false, packet);
        lock(&self.audio_in).push(ssrc, packet)
    }

    /// Plays a spoken prompt to the room system: `samples` are mono 16-bit PCM at `rate` Hz
    /// (8 to 48 kHz), resampled and mixed into the audio output, so they leave in the room
    /// system's codec. A new prompt replaces the one playing. Fails only when the graph has
    /// ended (or for a rate outside 8 to 48 kHz).
    pub fn play_prompt(&self, samples: &[i16], rate: u32) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        lock(&self.audio_in).play_prompt(samples, rate)
    }

    /// Shows `text` as a full-frame slate on the canvas background (a Virtual Reception's
    /// "Enter the meeting ID"), in place of whatever was shown; the next
    /// [`assign_sources`](Self::assign_sources) replaces it. One line, cut with "..." when it
    /// does not fit.
    pub fn show_message(&self, text: &str) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        let mut plan = Plan::waiting();
        plan.tiles[kernels::layout::MAIN_TILE] = TileContent::Slate(kernels::slate::Slate {
            background: kernels::canvas::DEFAULT_BACKGROUND,
            text: text.trim().to_owned(),
        });
        lock(&self.video_in).assign(&plan.ssrcs());
        self.compose_tx
            .send(ComposeMsg::Assign(Box::new(plan)))
            .map_err(|_| DownlinkError::Ended)
    }

    /// An already-decoded picture for tile `tile` (0 main, 1..=7 thumbnails), drawn like a
    /// decoded frame (it is copied; the view is not kept).
    pub fn push_frame(&self, tile: usize, frame: &I420View<'_>) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        if tile >= TILE_COUNT {
            return Err(DownlinkError::Spec(format!("no tile {tile}")));
        }
        self.compose_tx
            .send(ComposeMsg::Frame {
                tile,
                frame: frame.to_frame(),
            })
            .map_err(|_| DownlinkError::Ended)
    }

    /// Which SSRC shows in which tile: `(canvas index, ssrc)` pairs, index 0 the main tile and
    /// 1..=7 the thumbnails. Tiles not named show the background; decoders of SSRCs not named
    /// are removed. An SSRC moved to another tile is redrawn there at once from its last frame.
    pub fn assign(&self, tiles: &[(usize, u32)]) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        let mut map = [None; TILE_COUNT];
        for &(tile, ssrc) in tiles {
            let slot = map
                .get_mut(tile)
                .ok_or_else(|| DownlinkError::Spec(format!("no tile {tile}")))?;
            *slot = Some(ssrc);
        }
        lock(&self.video_in).assign(&map);
        self.compose_tx
            .send(ComposeMsg::Assign(Box::new(Plan::from_ssrcs(&map))))
            .map_err(|_| DownlinkError::Ended)
    }

    /// The conference's participants other than the room system, as they should be seen: each
    /// with its tile, its SSRC (`None`: no video, a name slate) and its name (the caption). The
    /// layout follows the count (module docs): none → the waiting slate; one → that participant
    /// full-frame (its `tile` is ignored); 2..=8 → 1+7 with only their tiles drawn. At most 8
    /// (Meet sends at most 8 video streams; the others are heard only), each in its own tile.
    /// Decoders of SSRCs not named are removed; a source moved to another tile is redrawn there
    /// at once from its last picture, and a tile whose content changed is redrawn in the same
    /// tick, so there is neither a stale picture nor a background flash.
    pub fn assign_sources(&self, sources: &[TileSource]) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        let plan = plan_of(sources)?;
        lock(&self.video_in).assign(&plan.ssrcs());
        self.compose_tx
            .send(ComposeMsg::Assign(Box::new(plan)))
            .map_err(|_| DownlinkError::Ended)
    }

    /// Shows `text` on a full-frame slate (the canvas background, the text centred, as the
    /// waiting slate) instead of the conference: what the room system sees while it waits
    /// in the lobby, for example. Decoders are removed; the next
    /// [`assign_sources`](Self::assign_sources) replaces the slate.
    pub fn show_slate(&self, text: &str) -> Result<(), DownlinkError> {
        self.shared.check_running()?;
        let mut plan = Plan::waiting();
        plan.tiles[kernels::layout::MAIN_TILE] = TileContent::Slate(kernels::slate::Slate {
            background: kernels::canvas::DEFAULT_BACKGROUND,
            text: text.to_owned(),
        });
        lock(&self.video_in).assign(&plan.ssrcs());
        self.compose_tx
            .send(ComposeMsg::Assign(Box::new(plan)))
            .map_err(|_| DownlinkError::Ended)
    }

    /// Whether the Meet conference is being recorded (or streamed): while it is, a red-dot
    /// "REC" indicator is drawn at the top-left corner of the video sent to the room system
    /// ([`kernels::overlay`]); it shows from the next output frame and is gone from the first
    /// frame after `false`.
    pub fn set_recording(&self, recording: bool) {
        self.overlays
            .recording
            .store(recording, std::sync::atomic::Ordering::Relaxed);
    }

    /// A keyframe request from the room system (PLI/FIR). Coalesced and rate-limited: at most
    /// one IDR per `min_interval`; a request while one is pending is dropped (counted).
    pub fn request_keyframe(&self) {
        let stats = &self.shared.stats;
        stats.bump(&stats.keyframe_requests);
        let outcome = lock(&self.shared.idr).request(std::time::Instant::now());
        if outcome == Request::Dropped {
            stats.bump(&stats.keyframe_requests_dropped);
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> DownlinkStats {
        self.shared.stats.snapshot()
    }

    /// Whether the graph is still running (it ends on [`stop`](Self::stop) or an error).
    pub fn is_running(&self) -> bool {
        self.shared.check_running().is_ok()
    }

    /// Stops the graph and its threads; [`DownlinkEvent::Stopped`] is the last event.
    pub fn stop(&self) {
        self.shared.stop();
        let _ = self.compose_tx.send(ComposeMsg::Stop);
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Downlink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The plan of [`Downlink::assign_sources`] (see there), or why the sources are refused.
fn plan_of(sources: &[TileSource]) -> Result<Plan, DownlinkError> {
    if sources.len() > TILE_COUNT {
        return Err(DownlinkError::Spec(format!(
            "{} sources: at most {TILE_COUNT} tiles (Meet sends at most 8 video streams)",
            sources.len()
        )));
    }
    let content = |s: &TileSource| {
        let name = s.name.trim();
        match s.ssrc {
            Some(ssrc) => TileContent::Video {
                ssrc,
                caption: (!name.is_empty()).then(|| name.to_owned()),
            },
            None => TileContent::Slate(kernels::slate::Slate::participant(name)),
        }
    };
    let mut plan = Plan::waiting();
    plan.arrangement = kernels::layout::Arrangement::for_sources(sources.len());
    match sources {
        [] => {}
        [only] => plan.tiles[kernels::layout::MAIN_TILE] = content(only),
        many => {
            plan.tiles = Default::default();
            for s in many {
                let slot = plan
                    .tiles
                    .get_mut(s.tile)
                    .ok_or_else(|| DownlinkError::Spec(format!("no tile {}", s.tile)))?;
                if *slot != TileContent::Empty {
                    return Err(DownlinkError::Spec(format!("tile {} named twice", s.tile)));
                }
                *slot = content(s);
            }
        }
    }
    Ok(plan)
}

/// Locks a mutex, taking the data even if a thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use kernels::layout::Arrangement;

    use super::*;

    fn source(tile: usize, ssrc: Option<u32>, name: &str) -> TileSource {
        TileSource {
            tile,
            ssrc,
            name: name.to_owned(),
        }
    }

    #[test]
    fn the_plan_follows_the_number_of_sources() {
        let none = plan_of(&[]).unwrap();
        assert_eq!(none, Plan::waiting());
        // One source fills the frame, whatever tile it was given.
        let one = plan_of(&[source(5, Some(9), " Ada ")]).unwrap();
        assert_eq!(one.arrangement, Arrangement::Full);
        assert_eq!(
            one.tiles[0],
            TileContent::Video {
                ssrc: 9,
                caption: Some("Ada".to_owned())
            }
        );
        assert_eq!(one.ssrcs()[0], Some(9));
        let three = plan_of(&[
            source(0, Some(1), "A"),
            source(1, None, "B"),
            source(2, Some(3), ""),
        ])
        .unwrap();
        assert_eq!(three.arrangement, Arrangement::OnePlusSeven);
        assert_eq!(
            three.tiles[1],
            TileContent::Slate(kernels::slate::Slate::participant("B"))
        );
        assert_eq!(
            three.tiles[2],
            TileContent::Video {
                ssrc: 3,
                caption: None
            }
        );
        assert!(three.tiles[3..].iter().all(|t| *t == TileContent::Empty));
        assert_eq!(three.ssrcs()[..3], [Some(1), None, Some(3)]);
    }

    #[test]
    fn impossible_sources_are_refused() {
        let nine: Vec<TileSource> = (0..9).map(|t| source(t % 8, Some(1), "x")).collect();
        assert!(matches!(plan_of(&nine), Err(DownlinkError::Spec(_))));
        let twice = [source(2, Some(1), "a"), source(2, Some(2), "b")];
        assert!(matches!(plan_of(&twice), Err(DownlinkError::Spec(_))));
        let outside = [source(0, Some(1), "a"), source(8, Some(2), "b")];
        assert!(matches!(plan_of(&outside), Err(DownlinkError::Spec(_))));
    }
}
