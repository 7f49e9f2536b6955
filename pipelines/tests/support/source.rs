//! A fake room system: real H.264 RTP (x264, zerolatency) and PCMU RTP from live test
//! sources, pushed into the uplink as the node would from its sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gst::prelude::*;
use pipelines::UplinkInput;

/// The running source pipelines and what they sent.
pub struct Source {
    video: gst::Pipeline,
    audio: gst::Pipeline,
    frames: Arc<AtomicU64>,
    audio_packets: Arc<AtomicU64>,
}

impl Source {
    /// 30 fps moving 75 % SMPTE bars at `width`×`height`, and a 440 Hz tone, into `input`.
    ///
    /// Not `pattern=smpte`: its snow block is white noise that no encoder fits into
    /// 1.3 Mb/s at 720p30 (VP8 pinned at the highest quantizer: 1.7 Mb/s), so the layers
    /// would have to drop frames to hold Meet's 2 Mb/s cap.
    pub fn start(width: u32, height: u32, input: &UplinkInput) -> Self {
        gst::init().unwrap();
        let frames = Arc::new(AtomicU64::new(0));
        let audio_packets = Arc::new(AtomicU64::new(0));
        let video = launch(
            &format!(
                "videotestsrc is-live=true pattern=smpte75 horizontal-speed=4 ! \
                 video/x-raw,format=I420,width={width},height={height},framerate=30/1 ! \
                 x264enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate=2000 ! \
                 rtph264pay pt=96 mtu=1200 config-interval=-1 ! appsink name=out sync=false"
            ),
            input.clone(),
            true,
            Arc::clone(&frames),
        );
        let audio = launch(
            "audiotestsrc is-live=true wave=sine freq=440 ! audio/x-raw,rate=8000,channels=1 ! \
             mulawenc ! rtppcmupay pt=0 ! appsink name=out sync=false",
            input.clone(),
            false,
            Arc::clone(&audio_packets),
        );
        Self {
            video,
            audio,
            frames,
            audio_packets,
        }
    }

    /// H.264 frames sent so far (RTP packets with the marker bit).
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::SeqCst)
    }

    /// PCMU packets sent so far.
    pub fn audio_packets(&self) -> u64 {
        self.audio_packets.load(Ordering::SeqCst)
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.video.set_state(gst::State::Null);
        let _ = self.audio.set_state(gst::State::Null);
    }
}

fn launch(
    description: &str,
    input: UplinkInput,
    video: bool,
    count: Arc<AtomicU64>,
) -> gst::Pipeline {
    let pipeline = gst::parse::launch(description)
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
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                let Some(buffer) = sample.buffer() else {
                    return Ok(gst::FlowSuccess::Ok);
                };
                let map = buffer.map_readable().map_err(|_| gst::FlowError::Error)?;
                if video {
                    if map.len() > 1 && map[1] & 0x80 != 0 {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = input.push_video_rtp(&map);
                } else {
                    count.fetch_add(1, Ordering::SeqCst);
                    let _ = input.push_audio_rtp(&map);
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .build(),
    );
    pipeline.set_state(gst::State::Playing).unwrap();
    pipeline
}
