//! Real media for the downlink tests: VP8 and Opus RTP made by GStreamer, the downlink's H.264
//! decoded by GStreamer, and the event collector. Waits are on conditions with deadlines.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gst::prelude::*;
use gst_video::prelude::*;
use kernels::frame::{I420Frame, Yuv};
use pipelines::downlink::{Downlink, DownlinkEvent};

/// The heavy tests take the 2-core machine one at a time.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits until `cond` holds, polling; panics with `what` after `secs`.
pub fn wait_until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A live GStreamer source whose RTP packets go into the downlink.
pub struct Source {
    pipeline: gst::Pipeline,
}

impl Source {
    /// `videotestsrc` of one solid colour → VP8 → RTP with `ssrc`.
    pub fn vp8(dl: &Arc<Downlink>, ssrc: u32, rgb: [u8; 3], width: u32, height: u32) -> Self {
        let argb = 0xff00_0000u32
            | (u32::from(rgb[0]) << 16)
            | (u32::from(rgb[1]) << 8)
            | u32::from(rgb[2]);
        let desc = format!(
            "videotestsrc pattern=solid-color foreground-color={argb} is-live=true \
             ! video/x-raw,format=I420,width={width},height={height},framerate=15/1 \
             ! vp8enc deadline=1 cpu-used=16 threads=1 keyframe-max-dist=15 \
             ! rtpvp8pay ssrc={ssrc} pt=96 mtu=1200 ! appsink name=out sync=false"
        );
        let dl = Arc::clone(dl);
        Self::start(&desc, move |packet| {
            let _ = dl.push_vp8_rtp(ssrc, packet);
        })
    }

    /// A 1 kHz tone → Opus → RTP with `ssrc`.
    pub fn opus_tone(dl: &Arc<Downlink>, ssrc: u32, freq: u32) -> Self {
        let desc = format!(
            "audiotestsrc freq={freq} volume=0.5 is-live=true samplesperbuffer=960 \
             ! audio/x-raw,rate=48000,channels=1 ! opusenc ! rtpopuspay ssrc={ssrc} pt=111 \
             ! appsink name=out sync=false"
        );
        let dl = Arc::clone(dl);
        Self::start(&desc, move |packet| {
            let _ = dl.push_opus_rtp(ssrc, packet);
        })
    }

    fn start(desc: &str, push: impl Fn(&[u8]) + Send + Sync + 'static) -> Self {
        gst::init().unwrap();
        let pipeline = gst::parse::launch(desc)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        let sink = pipeline
            .by_name("out")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    let map = sample.buffer().unwrap().map_readable().unwrap();
                    push(&map);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        pipeline.set_state(gst::State::Playing).unwrap();
        Self { pipeline }
    }

    /// Stops sending (the pipeline goes to NULL).
    pub fn stop(&self) {
        self.pipeline.set_state(gst::State::Null).unwrap();
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.pipeline.set_state(gst::State::Null);
    }
}

/// Everything the downlink sent, and its H.264 decoded back by GStreamer.
#[derive(Default)]
pub struct Received {
    pub video: Mutex<Vec<Vec<u8>>>,
    pub audio: Mutex<Vec<Vec<u8>>>,
    pub events: Mutex<Vec<DownlinkEvent>>,
    pub decoded: Mutex<Option<I420Frame>>,
    pub decoded_count: AtomicU64,
}

/// The thread that drains the downlink's events into [`Received`] and feeds a GStreamer H.264
/// decoder (`appsrc ! rtph264depay ! avdec_h264 ! appsink`).
pub struct Collector {
    pub got: Arc<Received>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    decoder: gst::Pipeline,
}

impl Collector {
    pub fn start(events: Receiver<DownlinkEvent>, pt: u8) -> Self {
        let got = Arc::new(Received::default());
        let desc = format!(
            "appsrc name=in is-live=true format=time do-timestamp=true \
             caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload={pt} \
             ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 \
             ! appsink name=out sync=false"
        );
        let decoder = gst::parse::launch(&desc)
            .unwrap()
            .downcast::<gst::Pipeline>()
            .unwrap();
        let sink = decoder
            .by_name("out")
            .unwrap()
            .downcast::<gst_app::AppSink>()
            .unwrap();
        let g = Arc::clone(&got);
        sink.set_callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |s| {
                    let sample = s.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    *g.decoded.lock().unwrap() = Some(to_frame(&sample));
                    g.decoded_count.fetch_add(1, Ordering::Relaxed);
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        );
        decoder.set_state(gst::State::Playing).unwrap();
        let src = decoder
            .by_name("in")
            .unwrap()
            .downcast::<gst_app::AppSrc>()
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (Arc::clone(&got), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match events.recv_timeout(Duration::from_millis(100)) {
                    Ok(DownlinkEvent::VideoRtp(p)) => {
                        let _ = src.push_buffer(gst::Buffer::from_slice(p.clone()));
                        g.video.lock().unwrap().push(p);
                    }
                    Ok(DownlinkEvent::AudioRtp(p)) => g.audio.lock().unwrap().push(p),
                    Ok(other) => g.events.lock().unwrap().push(other),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        });
        Self {
            got,
            stop,
            thread: Some(thread),
            decoder,
        }
    }

    /// The last decoded composite.
    pub fn frame(&self) -> Option<I420Frame> {
        self.got.decoded.lock().unwrap().clone()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = self.decoder.set_state(gst::State::Null);
    }
}

fn to_frame(sample: &gst::Sample) -> I420Frame {
    let info = gst_video::VideoInfo::from_caps(sample.caps().unwrap()).unwrap();
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(sample.buffer().unwrap(), &info)
        .unwrap();
    let (w, h) = (frame.width(), frame.height());
    let mut planes = Vec::new();
    for p in 0..3u32 {
        let (pw, ph) = if p == 0 { (w, h) } else { (w / 2, h / 2) };
        let stride = frame.plane_stride()[p as usize] as usize;
        let data = frame.plane_data(p).unwrap();
        let mut out = Vec::with_capacity((pw * ph) as usize);
        for row in 0..ph as usize {
            out.extend_from_slice(&data[row * stride..row * stride + pw as usize]);
        }
        planes.push(out);
    }
    let v = planes.pop().unwrap();
    let u = planes.pop().unwrap();
    let y = planes.pop().unwrap();
    I420Frame::from_planes(w, h, y, u, v).unwrap()
}

/// Whether two colours are within `tol` on each of Y, U, V.
pub fn near(a: Yuv, b: Yuv, tol: i32) -> bool {
    (i32::from(a.y) - i32::from(b.y)).abs() <= tol
        && (i32::from(a.u) - i32::from(b.u)).abs() <= tol
        && (i32::from(a.v) - i32::from(b.v)).abs() <= tol
}

/// CPU seconds (user + system) of this process's threads whose name starts with one of
/// `prefixes`, and of the whole process.
pub fn thread_cpu(prefixes: &[&str]) -> (f64, f64) {
    let tick = 100.0; // USER_HZ on Linux
    let mut threads = 0.0;
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let cpu = (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / tick;
        total += cpu;
        if prefixes.iter().any(|p| name.starts_with(p)) {
            threads += cpu;
        }
    }
    (threads, total)
}

/// Names of this process's threads (to see which GStreamer streaming threads exist).
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .map(|s| s.trim().to_string())
        .collect()
}

/// One colour per tile of the 1+7 layout (0 the main tile), all told apart by pixels.
pub const TILE_COLOURS: [[u8; 3]; 8] = [
    [220, 40, 40],   // 0 main: red
    [40, 200, 40],   // 1 green
    [40, 60, 220],   // 2 blue
    [230, 220, 40],  // 3 yellow
    [40, 210, 220],  // 4 cyan
    [210, 50, 210],  // 5 magenta
    [240, 140, 30],  // 6 orange
    [180, 180, 180], // 7 grey
];
