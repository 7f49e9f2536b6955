//! The compose thread, which owns the drawing on the persistent canvas, and the tick thread,
//! which hands the canvas to the encoder at a fixed rate and never waits for an input.
//!
//! **What is drawn where.** The compose thread keeps a [`Plan`]: the arrangement
//! ([`kernels::layout::Arrangement`]: the full frame for 0 or 1 other participants, 1+7 from
//! 2 on; pictures in [`kernels::layout`]'s module docs) and what each tile shows
//! ([`TileContent`]): nothing (the background), a Meet SSRC's pictures with an optional name
//! caption, or a slate (a participant without video, or "Waiting for other participants").
//! [`Downlink::assign`](super::Downlink::assign) makes a 1+7 plan of SSRCs without names;
//! [`Downlink::assign_sources`](super::Downlink::assign_sources) makes the plan from the roster.
//!
//! **Changes without stale pixels or flashes.** A new plan is applied under one lock of the
//! canvas: on an arrangement change the canvas is repainted with the background
//! ([`Canvas::set_layout`]) and every tile of the new plan redrawn; otherwise only the tiles
//! whose content changed are. A tile with an SSRC is redrawn at once from that SSRC's last
//! decoded picture (kept per SSRC), so a moved source shows in its new tile in the same tick and
//! its old tile is repainted (background, another source or a slate) in that same tick; the tick
//! thread never sees a half-applied plan. An SSRC with no picture yet shows its name's slate
//! until its first picture (or the background when it has no name).
//!
//! **Captions** are drawn by the canvas over each picture of the tile ([`Canvas::draw`]), so
//! they cost nothing on the tick. **The recording indicator** is drawn by the tick thread on its
//! own copy of the canvas (the buffer handed to the encoder), only when that copy is remade (a
//! tile changed, or the overlays did): the canvas stays clean and turning it off needs no repair
//! (see [`kernels::overlay`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gst_video::prelude::*;
use kernels::canvas::Canvas;
use kernels::frame::{I420Frame, I420Mut, I420View};
use kernels::layout::{Arrangement, Layout, MAIN_TILE, TILE_COUNT};
use kernels::overlay::Overlays;
use kernels::slate::Slate;

use crate::downlink::encode::Encoder;
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::Shared;
use crate::downlink::lock;
use crate::downlink::spec::DownlinkSpec;
use crate::downlink::stats::Counters;

/// What one tile shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum TileContent {
    /// The canvas background (an unused slot).
    #[default]
    Empty,
    /// The pictures of a Meet SSRC, with the participant's name as a caption if known.
    Video { ssrc: u32, caption: Option<String> },
    /// A slate: a participant without video, or the waiting slate.
    Slate(Slate),
}

/// The arrangement and every tile's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) arrangement: Arrangement,
    pub(crate) tiles: [TileContent; TILE_COUNT],
}

impl Plan {
    /// Nobody else in the conference: the full-frame waiting slate (the plan at start).
    pub(crate) fn waiting() -> Self {
        let mut tiles: [TileContent; TILE_COUNT] = Default::default();
        tiles[MAIN_TILE] = TileContent::Slate(Slate::waiting());
        Self {
            arrangement: Arrangement::Full,
            tiles,
        }
    }

    /// The 1+7 plan of [`Downlink::assign`](super::Downlink::assign): SSRCs, no names.
    pub(crate) fn from_ssrcs(map: &[Option<u32>; TILE_COUNT]) -> Self {
        Self {
            arrangement: Arrangement::OnePlusSeven,
            tiles: map.map(|ssrc| match ssrc {
                Some(ssrc) => TileContent::Video {
                    ssrc,
                    caption: None,
                },
                None => TileContent::Empty,
            }),
        }
    }

    /// The SSRC each tile shows (what the decoders need to know).
    pub(crate) fn ssrcs(&self) -> [Option<u32>; TILE_COUNT] {
        std::array::from_fn(|t| match self.tiles[t] {
            TileContent::Video { ssrc, .. } => Some(ssrc),
            _ => None,
        })
    }
}

/// The overlays the tick thread draws on its output copy, set from any thread.
#[derive(Debug, Default)]
pub(crate) struct OverlayState {
    pub(crate) recording: AtomicBool,
}

impl OverlayState {
    fn current(&self) -> Overlays {
        Overlays {
            recording: self.recording.load(Ordering::Relaxed),
        }
    }
}

/// What the compose thread is told.
pub(crate) enum ComposeMsg {
    /// A decoded picture of a Meet SSRC (I420 sample of its decoder).
    Decoded { ssrc: u32, sample: gst::Sample },
    /// An already-decoded picture for a tile.
    Frame { tile: usize, frame: I420Frame },
    /// What each tile shows, in which arrangement.
    Assign(Box<Plan>),
    /// End the thread.
    Stop,
}

/// The canvas, showing the waiting slate ([`Plan::waiting`]) from the first tick.
pub(crate) fn new_canvas(spec: &DownlinkSpec) -> Result<Arc<Mutex<Canvas>>, DownlinkError> {
    let layout = Layout::full(spec.video.width, spec.video.height)
        .map_err(|e| DownlinkError::Spec(e.to_string()))?;
    let mut canvas = Canvas::new(layout);
    if let TileContent::Slate(slate) = &Plan::waiting().tiles[MAIN_TILE] {
        canvas
            .draw_slate(MAIN_TILE, slate)
            .map_err(|e| DownlinkError::Spec(e.to_string()))?;
    }
    Ok(Arc::new(Mutex::new(canvas)))
}

/// Draws `content` into `tile` (which the current layout has): the SSRC's last picture (or its
/// slate until there is one), the slate, or the background.
fn draw_content(
    canvas: &mut Canvas,
    tile: usize,
    content: &TileContent,
    last: &HashMap<u32, gst::Sample>,
) {
    match content {
        TileContent::Empty => {
            let _ = canvas.set_caption(tile, None);
            let _ = canvas.clear_tile(tile);
        }
        TileContent::Video { ssrc, caption } => {
            let _ = canvas.set_caption(tile, caption.as_deref());
            let drawn = last
                .get(ssrc)
                .is_some_and(|s| draw_sample(canvas, tile, s).is_ok());
            if !drawn {
                let _ = match caption {
                    Some(name) => canvas.draw_slate(tile, &Slate::participant(name)),
                    None => canvas.clear_tile(tile),
                };
            }
        }
        TileContent::Slate(slate) => {
            let _ = canvas.set_caption(tile, None);
            let _ = canvas.draw_slate(tile, slate);
        }
    }
}

/// Moves the canvas from plan `old` to plan `new`: a new layout when the arrangement changes
/// (then every tile is drawn), else only the tiles whose content changed.
fn apply_plan(
    canvas: &mut Canvas,
    old: &Plan,
    new: &Plan,
    last: &HashMap<u32, gst::Sample>,
) -> Result<(), String> {
    let relayout = old.arrangement != new.arrangement;
    if relayout {
        let (w, h) = (canvas.layout().width(), canvas.layout().height());
        let layout = Layout::new(new.arrangement, w, h).map_err(|e| e.to_string())?;
        canvas.set_layout(layout).map_err(|e| e.to_string())?;
    }
    for tile in 0..new.arrangement.tile_count() {
        if relayout || old.tiles[tile] != new.tiles[tile] {
            draw_content(canvas, tile, &new.tiles[tile], last);
        }
    }
    Ok(())
}

/// Draws `sample` (an I420 picture) into `tile`. Odd sizes lose their last column or row.
fn draw_sample(canvas: &mut Canvas, tile: usize, sample: &gst::Sample) -> Result<(), String> {
    let caps = sample.caps().ok_or("a sample without caps")?;
    let info = gst_video::VideoInfo::from_caps(caps).map_err(|e| e.to_string())?;
    let buffer = sample.buffer().ok_or("a sample without a buffer")?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info)
        .map_err(|e| e.to_string())?;
    let planes = [0, 1, 2].map(|p| frame.plane_data(p).unwrap_or_default());
    let strides = frame
        .plane_stride()
        .get(..3)
        .ok_or("not a 3-plane frame")?
        .iter()
        .map(|s| usize::try_from(*s).unwrap_or(0))
        .collect::<Vec<_>>();
    let view = I420View::new(
        frame.width() & !1,
        frame.height() & !1,
        planes,
        [strides[0], strides[1], strides[2]],
    )
    .map_err(|e| e.to_string())?;
    canvas
        .draw(tile, &view)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The compose thread: draws each picture into the tiles showing its SSRC as it arrives; keeps
/// each SSRC's last picture so that an SSRC moved to another tile is redrawn there at once.
pub(crate) fn spawn_compose(
    canvas: Arc<Mutex<Canvas>>,
    rx: Receiver<ComposeMsg>,
    shared: Arc<Shared>,
) -> Result<JoinHandle<()>, DownlinkError> {
    std::thread::Builder::new()
        .name("dl-compose".into())
        .spawn(move || {
            let mut plan = Plan::waiting();
            let mut last: HashMap<u32, gst::Sample> = HashMap::new();
            let stats = &shared.stats;
            loop {
                let msg = match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) if shared.check_running().is_ok() => continue,
                    Err(_) => break,
                };
                match msg {
                    ComposeMsg::Stop => break,
                    ComposeMsg::Decoded { ssrc, sample } => {
                        let mut c = lock(&canvas);
                        let shown = (0..plan.arrangement.tile_count()).filter(|t| {
                            matches!(plan.tiles[*t], TileContent::Video { ssrc: s, .. } if s == ssrc)
                        });
                        for tile in shown {
                            match draw_sample(&mut c, tile, &sample) {
                                Ok(()) => stats.bump(&stats.tiles_drawn),
                                Err(_) => Counters::bump_ssrc(&stats.decode_errors, ssrc),
                            }
                        }
                        drop(c);
                        last.insert(ssrc, sample);
                    }
                    ComposeMsg::Frame { tile, frame } => {
                        if lock(&canvas).draw(tile, &frame.view()).is_ok() {
                            stats.bump(&stats.tiles_drawn);
                        }
                    }
                    ComposeMsg::Assign(new) => {
                        // A plan that cannot be laid out (a bug) leaves the old one in place.
                        if apply_plan(&mut lock(&canvas), &plan, &new, &last).is_ok() {
                            plan = *new;
                            let ssrcs = plan.ssrcs();
                            last.retain(|ssrc, _| ssrcs.contains(&Some(*ssrc)));
                        }
                    }
                }
            }
        })
        .map_err(DownlinkError::build)
}

/// Copies the canvas into a new GStreamer buffer (tightly packed I420, the encoder's caps) and
/// draws the overlays that are on over the copy.
fn canvas_buffer(frame: &I420Frame, overlays: &Overlays) -> gst::Buffer {
    let size = frame.y().len() + frame.u().len() + frame.v().len();
    let mut buffer = gst::Buffer::with_size(size).expect("allocating a frame buffer");
    {
        let buf = buffer.get_mut().expect("a new buffer is writable");
        let mut map = buf.map_writable().expect("a new buffer maps");
        let (y, rest) = map.split_at_mut(frame.y().len());
        let (u, v) = rest.split_at_mut(frame.u().len());
        y.copy_from_slice(frame.y());
        u.copy_from_slice(frame.u());
        v.copy_from_slice(frame.v());
        let out = I420Mut::packed(frame.width(), frame.height(), &mut map);
        if let (false, Ok(mut out)) = (overlays.is_empty(), out) {
            overlays.draw(&mut out);
        }
    }
    buffer
}

/// The tick thread: at `start + n × period` (a monotonic deadline, whatever the inputs do) it
/// takes the canvas (a new copy, with the overlays drawn on it, only when a tile or the
/// overlays changed, else the previous buffer again), asks
/// the IDR scheduler whether this frame must be an IDR, and pushes it to the encoder with PTS
/// `n × period`. A wake-up more than a frame late skips the missed ticks (counted) rather than
/// bunching frames.
pub(crate) fn spawn_tick(
    canvas: Arc<Mutex<Canvas>>,
    encoder: Encoder,
    spec: &DownlinkSpec,
    shared: Arc<Shared>,
    overlay_state: Arc<OverlayState>,
) -> Result<JoinHandle<()>, DownlinkError> {
    let fps = u64::from(spec.video.fps);
    std::thread::Builder::new()
        .name("dl-tick".into())
        .spawn(move || {
            let period = Duration::from_nanos(1_000_000_000 / fps);
            let pts = |n: u64| gst::ClockTime::from_nseconds(n * 1_000_000_000 / fps);
            let stats = &shared.stats;
            let start = Instant::now();
            let mut n: u64 = 0;
            let mut current: Option<gst::Buffer> = None;
            let mut applied = Overlays::default();
            while shared.check_running().is_ok() {
                let deadline = start + period * u32::try_from(n).unwrap_or(u32::MAX);
                let now = Instant::now();
                if deadline > now {
                    std::thread::sleep(deadline - now);
                    continue;
                }
                let due = u64::try_from((now - start).as_nanos() * u128::from(fps) / 1_000_000_000)
                    .unwrap_or(n);
                if due > n {
                    stats.add(&stats.ticks_skipped, due - n);
                    n = due;
                }
                let buffer = {
                    let overlays = overlay_state.current();
                    let mut c = lock(&canvas);
                    let damaged = !c.take_damage().is_empty() || overlays != applied;
                    match (&current, damaged) {
                        (Some(b), false) => b.copy(),
                        _ => {
                            let b = canvas_buffer(c.frame(), &overlays);
                            applied = overlays;
                            current = Some(b.clone());
                            b.copy()
                        }
                    }
                };
                let mut buffer = buffer;
                {
                    let b = buffer.make_mut();
                    b.set_pts(pts(n));
                    b.set_duration(pts(n + 1) - pts(n));
                }
                if lock(&shared.idr).poll(now) {
                    encoder.force_idr();
                }
                if encoder.push(buffer).is_err() {
                    break;
                }
                stats.bump(&stats.frames_composed);
                n += 1;
            }
        })
        .map_err(DownlinkError::build)
}
