//! The uplink takes every room system's codecs: one test per row of the codec matrix.
//!
//! Each row encodes a clip ahead of time with a real encoder and payloader
//! (`pipelines::sources`), sends it at real-time pace into the uplink graph running alone
//! (`UplinkProbe`: the same graph the Meet leg builds, without webrtcbin), and decodes what the
//! uplink would send to Meet: the three VP8 layers with `vp8dec`, the Opus with `opusdec`.
//!
//! Video rows check each layer's exact size, that each layer decoded ≥ 95 % of the frames
//! sent (every clip starts on a keyframe, so no leading frame is excused), and the picture by
//! pixels: a 16:9 picture fills the layer, a 4:3 one (CIF's 12:11 pixels included) is
//! pillarboxed with black bars of exactly an eighth of the width on each side. The f layer's
//! last picture of each row is saved under `target/uplink-matrix/`.
//!
//! The camera is 75 % SMPTE bars, moving: content every layer encodes within its bitrate.
//! `vp8enc` drops frames (`dropframe-threshold=30`) when its rate buffer runs dry, and noise
//! (`pattern=snow`, or SMPTE's snow block) would drop frames for a reason that has nothing to
//! do with the input codec.
//!
//! The rows run one at a time (`SERIAL`): each is a real-time decode and three VP8 encodes,
//! and two at once would starve a 2-core machine.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kernels::frame::{I420Frame, Yuv};
use pipelines::peers::{AudioProbe, PROBE_RATE, VideoProbe, dominant_frequency};
use pipelines::sources::{
    H264Clip, H264Packetization, LegacyVideo, Motion, ParameterSets, Played, RtpClip, ToneCodec,
};
use pipelines::uplink::{SentStream, UplinkProbe, UplinkStats};
use pipelines::{AudioIn, MeetLegSpec, PortRange, UplinkSpec, VideoIn};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The default ladder: (rid, width, height).
const LAYERS: [(&str, u32, u32); 3] = [("q", 320, 180), ("h", 640, 360), ("f", 1280, 720)];

/// The payload types the uplink sends with (the Meet leg's defaults).
const VP8_PT: u8 = 96;
const OPUS_PT: u8 = 111;

fn leg() -> MeetLegSpec {
    // the ICE ports are not used: the probe has no webrtcbin
    MeetLegSpec::new(PortRange {
        min: 40000,
        max: 40001,
    })
}

/// One layer as the test receives it.
struct LayerOut {
    rid: &'static str,
    decoder: VideoProbe,
    /// When each VP8 frame's last packet (marker bit) left the uplink.
    frame_ends: Mutex<Vec<Instant>>,
}

/// What the uplink sent, decoded.
struct Outputs {
    layers: Vec<LayerOut>,
    audio: AudioProbe,
    packets: AtomicU64,
    /// Calls of the uplink's keyframe-request hook.
    keyframe_hook: AtomicU64,
}

impl Outputs {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            layers: LAYERS
                .iter()
                .map(|(rid, _, _)| LayerOut {
                    rid,
                    decoder: VideoProbe::vp8(VP8_PT).expect("vp8dec"),
                    frame_ends: Mutex::new(Vec::new()),
                })
                .collect(),
            audio: AudioProbe::opus(OPUS_PT).expect("opusdec"),
            packets: AtomicU64::new(0),
            keyframe_hook: AtomicU64::new(0),
        })
    }

    fn take(&self, stream: SentStream<'_>, packet: &[u8]) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        match stream {
            SentStream::Layer(rid) => {
                if let Some(layer) = self.layers.iter().find(|l| l.rid == rid) {
                    layer.decoder.push(packet);
                    if packet.get(1).is_some_and(|b| b & 0x80 != 0) {
                        layer.frame_ends.lock().unwrap().push(Instant::now());
                    }
                }
            }
            SentStream::Audio => self.audio.push(packet),
        }
    }

    /// Everything that shows progress: packets sent and pictures decoded.
    fn progress(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
            + self.layers.iter().map(|l| l.decoder.frames()).sum::<u64>()
    }

    fn layer(&self, rid: &str) -> &LayerOut {
        self.layers.iter().find(|l| l.rid == rid).expect("layer")
    }
}

/// A finished run of a row.
struct Run {
    outputs: Arc<Outputs>,
    stats: UplinkStats,
    video_played: Played,
}

/// Sends `video` and `audio` (either may be absent) through an uplink built for `spec`,
/// waits until the output has stopped moving, and returns what came out.
fn run(spec: &UplinkSpec, video: Option<&RtpClip>, audio: Option<&RtpClip>) -> Run {
    let outputs = Outputs::new();
    let sink = Arc::clone(&outputs);
    let probe = UplinkProbe::start(spec, &leg(), move |stream, packet| {
        sink.take(stream, packet);
    })
    .expect("the uplink builds");
    let input = probe.input();
    let hook = Arc::clone(&outputs);
    input.on_keyframe_request(move || {
        hook.keyframe_hook.fetch_add(1, Ordering::Relaxed);
    });
    let video_player = video.map(|clip| {
        let input = input.clone();
        clip.play(move |packet| {
            input
                .push_video_rtp(packet)
                .expect("the uplink takes video");
        })
    });
    let audio_player = audio.map(|clip| {
        let input = input.clone();
        clip.play(move |packet| {
            input
                .push_audio_rtp(packet)
                .expect("the uplink takes audio");
        })
    });
    let video_played = video_player.map(|p| p.wait()).unwrap_or_default();
    if let Some(player) = audio_player {
        player.wait();
    }
    wait_quiet(|| outputs.progress());
    assert!(
        probe.errors().is_empty(),
        "the uplink posted errors: {:?}",
        probe.errors()
    );
    assert!(probe.is_playing(), "the uplink stopped");
    let stats = input.stats();
    drop(probe);
    assert_eq!(
        outputs.keyframe_hook.load(Ordering::Relaxed),
        stats.keyframe_requests,
        "the hook hears of every keyframe request"
    );
    Run {
        outputs,
        stats,
        video_played,
    }
}

/// Waits until `progress` has not moved for 800 ms (the graph and the decoders have drained),
/// at most 20 s.
fn wait_quiet(progress: impl Fn() -> u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = (progress(), Instant::now());
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let now = progress();
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= Duration::from_millis(800) {
            return;
        }
    }
    panic!("the uplink's output never settled");
}

/// How the picture should sit in each layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// 16:9: the picture fills the layer.
    Wide,
    /// 4:3: black bars of an eighth of the layer's width left and right.
    FourThree,
}

fn is_black(p: Yuv) -> bool {
    p.y <= 32 && p.u.abs_diff(128) <= 12 && p.v.abs_diff(128) <= 12
}

/// Checks the bars and the picture of `frame` by pixels: the 75 % bars hold no black
/// anywhere, so every picture pixel is not black and every bar pixel is.
fn check_shape(name: &str, rid: &str, frame: &I420Frame, shape: Shape) {
    let (w, h) = (frame.width(), frame.height());
    let bar = match shape {
        Shape::Wide => 0,
        Shape::FourThree => w / 8,
    };
    // 8 px off each edge: VP8 rings a little around the bars' edges at low bitrates
    let margin = 8.min(bar);
    for y in [h / 10, h / 3, h / 2, h * 9 / 10] {
        for x in [bar + margin, w - bar - margin - 1, w / 2] {
            let p = frame.pixel(x, y);
            assert!(
                !is_black(p),
                "{name}/{rid}: picture pixel ({x}, {y}) is black ({p:?}); bars of {bar} px expected"
            );
        }
        if bar > 0 {
            for x in [0, bar - margin, w - bar + margin - 1, w - 1] {
                let p = frame.pixel(x, y);
                assert!(
                    is_black(p),
                    "{name}/{rid}: bar pixel ({x}, {y}) is not black ({p:?}); bars of {bar} px expected"
                );
            }
        }
    }
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/uplink-matrix");
    std::fs::create_dir_all(&dir).expect("target/uplink-matrix");
    dir
}

/// The checks of every video row: layer sizes, ≥ 95 % of the `frames_in` due decoded per layer, the
/// shape by pixels; the f layer's last picture saved as `name.png`.
fn check_layers(name: &str, run: &Run, frames_in: usize, shape: Shape) {
    for (rid, width, height) in LAYERS {
        let layer = run.outputs.layer(rid);
        let frame = layer
            .decoder
            .latest()
            .unwrap_or_else(|| panic!("{name}: layer {rid} decoded nothing"));
        assert_eq!(
            (frame.width(), frame.height()),
            (width, height),
            "{name}: layer {rid}'s size"
        );
        let frames = layer.decoder.frames();
        eprintln!("{name}: layer {rid}: {frames} frames decoded, {frames_in} due");
        assert!(
            frames * 100 >= frames_in as u64 * 95,
            "{name}: layer {rid} decoded {frames} frames of {frames_in} due (< 95 %)"
        );
        if rid == "f" {
            frame
                .write_png(out_dir().join(format!("{name}.png")))
                .expect("png");
        }
        check_shape(name, rid, &frame, shape);
    }
}

fn h264_spec(pt: u8, clip: &RtpClip, use_sprop: bool) -> UplinkSpec {
    UplinkSpec {
        video: VideoIn::H264 {
            payload_type: pt,
            sprop_parameter_sets: if use_sprop {
                clip.sprop_parameter_sets.clone()
            } else {
                None
            },
        },
        ..UplinkSpec::default()
    }
}

/// An H.264 row: encode `clip`, send it, check the layers.
fn h264_row(name: &str, clip: &H264Clip, shape: Shape, check: impl FnOnce(&RtpClip)) -> Run {
    let _serial = serial();
    let rtp = RtpClip::h264(clip, 96).expect("x264 encodes the clip");
    check(&rtp);
    let run = run(
        &h264_spec(96, &rtp, clip.parameter_sets == ParameterSets::SpropOnly),
        Some(&rtp),
        None,
    );
    let frames = rtp.frames();
    assert_eq!(frames, clip.frames as usize, "{name}: frames in the clip");
    check_layers(name, &run, frames, shape);
    assert_eq!(run.stats.video.wrong_payload_type, 0);
    assert!(
        run.stats.video.decoded >= frames as u64 * 95 / 100,
        "{name}: the uplink decoded {} of {frames}",
        run.stats.video.decoded
    );
    run
}

#[test]
fn h264_constrained_baseline_720p_mode1_fu_a() {
    let mut clip = H264Clip::new(1280, 720);
    clip.packetization = H264Packetization::FuA { mtu: 500 };
    h264_row("h264_cb_720p_fu_a", &clip, Shape::Wide, |rtp| {
        assert!(rtp.h264_packet_kinds().contains(&28), "FU-A packets");
        assert!(!rtp.h264_packet_kinds().contains(&24), "no STAP-A");
        assert_eq!(rtp.h264_profile_level().map(|p| p.0), Some(66));
    });
}

#[test]
fn h264_mode1_stap_a() {
    let mut clip = H264Clip::new(1280, 720);
    clip.packetization = H264Packetization::StapA;
    h264_row("h264_stap_a", &clip, Shape::Wide, |rtp| {
        assert!(rtp.h264_packet_kinds().contains(&24), "STAP-A packets");
    });
}

#[test]
fn h264_mode0_single_nal() {
    let mut clip = H264Clip::new(1280, 720);
    clip.packetization = H264Packetization::SingleNal;
    h264_row("h264_single_nal", &clip, Shape::Wide, |rtp| {
        let kinds = rtp.h264_packet_kinds();
        assert!(
            kinds.iter().all(|k| (1..=23).contains(k)),
            "single NAL units only: {kinds:?}"
        );
    });
}

#[test]
fn h264_baseline() {
    let mut clip = H264Clip::new(1280, 720);
    clip.profile = "baseline";
    h264_row("h264_baseline", &clip, Shape::Wide, |rtp| {
        assert_eq!(rtp.h264_profile_level().map(|p| p.0), Some(66));
    });
}

#[test]
fn h264_main() {
    let mut clip = H264Clip::new(1280, 720);
    clip.profile = "main";
    h264_row("h264_main", &clip, Shape::Wide, |rtp| {
        assert_eq!(rtp.h264_profile_level().map(|p| p.0), Some(77));
    });
}

#[test]
fn h264_high_level_4_1_1080p30() {
    let mut clip = H264Clip::new(1920, 1080);
    clip.profile = "high";
    clip.level = Some("4.1");
    clip.bitrate_kbps = 4000;
    h264_row("h264_high_1080p", &clip, Shape::Wide, |rtp| {
        assert_eq!(rtp.h264_profile_level(), Some((100, 41)));
    });
}

#[test]
fn h264_parameter_sets_only_in_sprop() {
    let mut clip = H264Clip::new(1280, 720);
    clip.parameter_sets = ParameterSets::SpropOnly;
    h264_row("h264_sprop_only", &clip, Shape::Wide, |rtp| {
        let types = rtp.h264_nal_types();
        assert!(
            !types.contains(&7) && !types.contains(&8),
            "no SPS or PPS in band: {types:?}"
        );
        assert!(rtp.sprop_parameter_sets.is_some(), "sprop-parameter-sets");
    });
}

#[test]
fn h264_parameter_sets_only_in_band() {
    let clip = H264Clip::new(1280, 720);
    h264_row("h264_in_band_only", &clip, Shape::Wide, |rtp| {
        let types = rtp.h264_nal_types();
        assert!(
            types.contains(&7) && types.contains(&8),
            "SPS and PPS in band: {types:?}"
        );
    });
}

#[test]
fn h264_4_3_640x480() {
    let clip = H264Clip::new(640, 480);
    h264_row("h264_640x480", &clip, Shape::FourThree, |_| {});
}

#[test]
fn h264_4_3_704x576_12_11_pixels() {
    let mut clip = H264Clip::new(704, 576);
    clip.pixel_aspect = (12, 11);
    h264_row("h264_704x576", &clip, Shape::FourThree, |_| {});
}

/// An H.263 / H.263+ / H.261 row.
fn legacy_row(name: &str, codec: LegacyVideo, (width, height): (u32, u32), video: VideoIn) {
    let _serial = serial();
    let pt = video.payload_type();
    let rtp = RtpClip::legacy(codec, (width, height, 30), 120, pt).expect("the encoder runs");
    let spec = UplinkSpec {
        video,
        ..UplinkSpec::default()
    };
    let run = run(&spec, Some(&rtp), None);
    let frames = rtp.frames();
    assert!(frames >= 118, "{name}: {frames} frames in the clip");
    check_layers(name, &run, frames, Shape::FourThree);
}

#[test]
fn h263_rfc2190_cif() {
    legacy_row(
        "h263_cif",
        LegacyVideo::H263,
        (352, 288),
        VideoIn::H263 { payload_type: 34 },
    );
}

#[test]
fn h263_plus_rfc4629_cif() {
    legacy_row(
        "h263p_cif",
        LegacyVideo::H263Plus,
        (352, 288),
        VideoIn::H263Plus { payload_type: 98 },
    );
}

#[test]
fn h263_plus_rfc4629_4cif() {
    legacy_row(
        "h263p_4cif",
        LegacyVideo::H263Plus,
        (704, 576),
        VideoIn::H263Plus { payload_type: 98 },
    );
}

#[test]
fn h261_cif() {
    legacy_row(
        "h261_cif",
        LegacyVideo::H261,
        (352, 288),
        VideoIn::H261 { payload_type: 31 },
    );
}

/// The largest gap between consecutive frames of `frame_ends` from `from` on.
fn largest_gap(frame_ends: &[Instant], from: Instant) -> Duration {
    frame_ends
        .windows(2)
        .filter(|w| w[1] >= from)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(Duration::MAX)
}

/// The index of the first packet of each frame (a new RTP timestamp).
fn frame_starts(clip: &RtpClip) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut last = None;
    for (index, packet) in clip.packets.iter().enumerate() {
        let ts = pipelines::sources::timestamp(packet);
        if ts != last {
            starts.push(index);
            last = ts;
        }
    }
    starts
}

#[test]
fn h264_resolution_change_mid_call() {
    let _serial = serial();
    let mut wide = H264Clip::new(1280, 720);
    wide.frames = 90;
    let mut narrow = H264Clip::new(640, 480);
    narrow.frames = 90;
    let first = RtpClip::h264(&wide, 96).expect("x264");
    let switch = first.packets.len();
    // the same sender goes on: new SPS and IDR at 640×480, sequence and timestamps continued
    let clip = first.followed_by(RtpClip::h264(&narrow, 96).expect("x264"));
    assert_eq!(clip.frames(), 180);
    let run = run(&h264_spec(96, &clip, false), Some(&clip), None);
    // the last picture is the 4:3 one, pillarboxed, in every layer at its exact size
    check_layers("h264_resolution_change", &run, 180, Shape::FourThree);
    let switch_at = run.video_played.sent_at[switch];
    for (rid, _, _) in LAYERS {
        let ends = run.outputs.layer(rid).frame_ends.lock().unwrap().clone();
        let gap = largest_gap(&ends, switch_at);
        let after = ends.iter().filter(|t| **t >= switch_at).count();
        eprintln!(
            "resolution change: layer {rid}: largest gap from the switch on {gap:?}, \
             {after} frames after it"
        );
        assert!(
            gap < Duration::from_secs(1),
            "layer {rid} stalled {gap:?} at the resolution change"
        );
        assert!(
            after >= 90 * 95 / 100,
            "layer {rid}: {after} frames after the switch"
        );
    }
}

#[test]
fn h264_packet_loss_asks_for_a_keyframe() {
    let _serial = serial();
    let clip = H264Clip::new(1280, 720);
    let mut rtp = RtpClip::h264(&clip, 96).expect("x264");
    let starts = frame_starts(&rtp);
    // two packets of frame 40 are lost; the next IDR is frame 60
    let lost = starts[40] + 1..starts[40] + 3;
    assert!(
        lost.end < starts[41],
        "frame 40 spans more than two packets"
    );
    rtp.packets.drain(lost);
    let run = run(&h264_spec(96, &rtp, false), Some(&rtp), None);
    eprintln!(
        "packet loss: {:?}, {} keyframe requests",
        run.stats.video, run.stats.keyframe_requests
    );
    assert!(
        run.stats.keyframe_requests >= 1,
        "the depayloader's request reached the node"
    );
    // frames 40..60 may be dropped waiting for the IDR; all others come out
    check_layers("h264_packet_loss", &run, 120 - 20, Shape::Wide);
}

/// The colours of the seven 75 % bars, left to right.
const BARS_75: [[u8; 3]; 7] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
];

/// The BT.709 limited-range colour of `rgb`: videotestsrc writes a 1280×720 I420 picture in
/// BT.709 (GStreamer's default colorimetry for HD), and the uplink passes the values on.
fn bt709([r, g, b]: [u8; 3]) -> Yuv {
    let (r, g, b) = (
        f64::from(r) / 255.0,
        f64::from(g) / 255.0,
        f64::from(b) / 255.0,
    );
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let to_u8 = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    Yuv::new(
        to_u8(16.0 + 219.0 * y),
        to_u8(128.0 + 224.0 * (b - y) / 1.8556),
        to_u8(128.0 + 224.0 * (r - y) / 1.5748),
    )
}

#[test]
fn h264_corrupt_packets_then_a_clean_keyframe() {
    let _serial = serial();
    let mut clip = H264Clip::new(1280, 720);
    clip.frames = 150;
    clip.key_interval = 30;
    // still bars: every clean picture is the same, so the last one can be checked bar by bar
    clip.motion = Motion::StillBars;
    let mut rtp = RtpClip::h264(&clip, 96).expect("x264");
    let starts = frame_starts(&rtp);
    assert_eq!(starts.len(), 150);
    // frames 40..75 (the IDR at 60 among them) arrive damaged: every other packet has bytes
    // flipped all through its payload (FU-A headers included), every fourth is cut in half;
    // the IDR at 90 and what follows arrive clean
    let (bad_from, bad_to, clean_idr) = (starts[40], starts[75], starts[90]);
    for (n, packet) in rtp.packets[bad_from..bad_to].iter_mut().enumerate() {
        if n % 4 == 0 {
            let keep = (packet.len() / 2).max(13);
            packet.truncate(keep);
        } else if n % 2 == 1 {
            for byte in packet.iter_mut().skip(12).step_by(7) {
                *byte ^= 0x5a;
            }
        }
    }
    let run = run(&h264_spec(96, &rtp, false), Some(&rtp), None);
    eprintln!("corrupt stream: {:?}", run.stats.video);
    eprintln!(
        "corrupt stream: {} keyframe requests",
        run.stats.keyframe_requests
    );
    // the damage reached the depayloader and the decoder, was counted, and asked for keyframes
    // What is broken is either refused before the depayloader (`malformed`: the H.264 gate)
    // or counted by the decoder.
    assert!(
        run.stats.video.decode_errors + run.stats.video.malformed > 0,
        "{:?}",
        run.stats.video
    );
    assert!(run.stats.keyframe_requests > 0);
    // the frames from the first damaged one to the clean IDR are excused; the rest must
    // come out of every layer
    check_layers("h264_corrupt_then_clean", &run, 150 - 50, Shape::Wide);
    let idr_at = run.video_played.sent_at[clean_idr];
    for (rid, _, _) in LAYERS {
        let ends = run.outputs.layer(rid).frame_ends.lock().unwrap().clone();
        let after = ends.iter().filter(|t| **t >= idr_at).count();
        eprintln!("corrupt stream: layer {rid}: {after} frames after the clean IDR");
        assert!(
            after >= 60 * 95 / 100,
            "layer {rid} resumed with {after} frames of 60"
        );
    }
    // the last picture is the clean one: each bar in its colour
    let last = run.outputs.layer("f").decoder.latest().expect("a picture");
    for (k, rgb) in BARS_75.iter().enumerate() {
        let x = (2 * k as u32 + 1) * last.width() / 14;
        let (seen, want) = (last.pixel(x, last.height() / 2), bt709(*rgb));
        assert!(
            seen.y.abs_diff(want.y) <= 16
                && seen.u.abs_diff(want.u) <= 16
                && seen.v.abs_diff(want.v) <= 16,
            "bar {k}: {seen:?}, expected {want:?}"
        );
    }
}

/// An audio row: a 1 kHz tone in `codec` at `ptime_ms`, every `events`-th packet followed
/// by a telephone event or comfort noise (0: none).
fn audio_row(name: &str, codec: ToneCodec, ptime_ms: u32, audio: AudioIn, events: usize) {
    let _serial = serial();
    let clip = RtpClip::tone(codec, 1000.0, ptime_ms, 3, audio.payload_type()).expect("encoder");
    let sent = clip.packets.len();
    let (clip, added) = clip.with_events(events, 101, 13);
    let spec = UplinkSpec {
        audio,
        ..UplinkSpec::default()
    };
    let run = run(&spec, None, Some(&clip));
    let samples = run.outputs.audio.samples();
    let (frequency, share) = dominant_frequency(&samples, PROBE_RATE);
    eprintln!(
        "{name}: {sent} packets + {added} events; {frequency} Hz ({:.0} % of the energy) over \
         {} samples; {:?}",
        share * 100.0,
        samples.len(),
        run.stats.audio
    );
    assert!(
        samples.len() >= PROBE_RATE as usize * 9 / 10,
        "{name}: {} samples of Opus decoded",
        samples.len()
    );
    assert!(
        (frequency - 1000.0).abs() <= 20.0,
        "{name}: the Opus sent holds {frequency} Hz"
    );
    assert_eq!(run.stats.audio.wrong_payload_type, added as u64, "{name}");
    assert_eq!(run.stats.audio.received, (sent + added) as u64, "{name}");
}

#[test]
fn pcmu_ptime_20() {
    audio_row(
        "pcmu_20",
        ToneCodec::Pcmu,
        20,
        AudioIn::Pcmu { payload_type: 0 },
        0,
    );
}

#[test]
fn pcmu_ptime_30() {
    audio_row(
        "pcmu_30",
        ToneCodec::Pcmu,
        30,
        AudioIn::Pcmu { payload_type: 0 },
        0,
    );
}

#[test]
fn pcma_ptime_20() {
    audio_row(
        "pcma_20",
        ToneCodec::Pcma,
        20,
        AudioIn::Pcma { payload_type: 8 },
        0,
    );
}

#[test]
fn pcma_ptime_40() {
    audio_row(
        "pcma_40",
        ToneCodec::Pcma,
        40,
        AudioIn::Pcma { payload_type: 8 },
        0,
    );
}

#[test]
fn g722_ptime_20() {
    audio_row(
        "g722_20",
        ToneCodec::G722,
        20,
        AudioIn::G722 { payload_type: 9 },
        0,
    );
}

#[test]
fn g722_ptime_30() {
    audio_row(
        "g722_30",
        ToneCodec::G722,
        30,
        AudioIn::G722 { payload_type: 9 },
        0,
    );
}

#[test]
fn opus_ptime_20() {
    audio_row(
        "opus_20",
        ToneCodec::Opus,
        20,
        AudioIn::Opus { payload_type: 109 },
        0,
    );
}

#[test]
fn opus_ptime_40() {
    audio_row(
        "opus_40",
        ToneCodec::Opus,
        40,
        AudioIn::Opus { payload_type: 109 },
        0,
    );
}

#[test]
fn pcmu_with_telephone_events_and_comfort_noise() {
    audio_row(
        "pcmu_events",
        ToneCodec::Pcmu,
        20,
        AudioIn::Pcmu { payload_type: 0 },
        5,
    );
}
