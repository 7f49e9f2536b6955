//! The compose thread, which owns the drawing on the persistent 1+7 canvas, and the tick thread,
//! which hands the canvas to the encoder at a fixed rate and never waits for an input.
//!
//! Geometry: [`kernels::layout::Layout::one_plus_seven`] of the output size (module docs of
//! [`kernels::layout`] have the picture: tile 0 `3W/4 × 3H/4` at the top left, 1..=3 the right
//! column, 4..=7 the bottom row, all boundaries even). Each picture is fitted into its tile with
//! its aspect ratio kept and black bars ([`kernels::canvas::Canvas::draw`]); a tile with no
//! source is the canvas background ([`kernels::canvas::DEFAULT_BACKGROUND`]).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gst_video::prelude::*;
use kernels::canvas::Canvas;
use kernels::frame::{I420Frame, I420View};
use kernels::layout::{Layout, TILE_COUNT};

use crate::downlink::encode::Encoder;
use crate::downlink::error::DownlinkError;
use crate::downlink::graph::Shared;
use crate::downlink::lock;
use crate::downlink::spec::DownlinkSpec;
use crate::downlink::stats::Counters;

/// What the compose thread is told.
pub(crate) enum ComposeMsg {
    /// A decoded picture of a Meet SSRC (I420 sample of its decoder).
    Decoded { ssrc: u32, sample: gst::Sample },
    /// An already-decoded picture for a tile.
    Frame { tile: usize, frame: I420Frame },
    /// Which SSRC is in which tile.
    Assign([Option<u32>; TILE_COUNT]),
    /// End the thread.
    Stop,
}

pub(crate) fn new_canvas(spec: &DownlinkSpec) -> Result<Arc<Mutex<Canvas>>, DownlinkError> {
    let layout = Layout::one_plus_seven(spec.video.width, spec.video.height)
        .map_err(|e| DownlinkError::Spec(e.to_string()))?;
    Ok(Arc::new(Mutex::new(Canvas::new(layout))))
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
            let mut tiles: [Option<u32>; TILE_COUNT] = [None; TILE_COUNT];
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
                        for tile in (0..TILE_COUNT).filter(|t| tiles[*t] == Some(ssrc)) {
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
                        let mut c = lock(&canvas);
                        for tile in (0..TILE_COUNT).filter(|t| new[*t] != tiles[*t]) {
                            let redrawn = new[tile]
                                .and_then(|ssrc| last.get(&ssrc))
                                .is_some_and(|s| draw_sample(&mut c, tile, s).is_ok());
                            if !redrawn {
                                let _ = c.clear_tile(tile);
                            }
                        }
                        tiles = new;
                        last.retain(|ssrc, _| tiles.contains(&Some(*ssrc)));
                    }
                }
            }
        })
        .map_err(DownlinkError::build)
}

/// Copies the canvas into a new GStreamer buffer (tightly packed I420, the encoder's caps).
fn canvas_buffer(frame: &I420Frame) -> gst::Buffer {
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
    }
    buffer
}

/// The tick thread: at `start + n × period` (a monotonic deadline, whatever the inputs do) it
/// takes the canvas (a new copy only when a tile changed, else the previous buffer again), asks
/// the IDR scheduler whether this frame must be an IDR, and pushes it to the encoder with PTS
/// `n × period`. A wake-up more than a frame late skips the missed ticks (counted) rather than
/// bunching frames.
pub(crate) fn spawn_tick(
    canvas: Arc<Mutex<Canvas>>,
    encoder: Encoder,
    spec: &DownlinkSpec,
    shared: Arc<Shared>,
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
                    let mut c = lock(&canvas);
                    let damaged = !c.take_damage().is_empty();
                    match (&current, damaged) {
                        (Some(b), false) => b.copy(),
                        _ => {
                            let b = canvas_buffer(c.frame());
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
