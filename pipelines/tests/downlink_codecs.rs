//! The downlink in every codec a room system may take, with real media: H.263 (RFC 4629 and
//! RFC 2190) and H.261 composites decoded back by GStreamer and checked by pixels, rate, MTU
//! (also with noise frames 20× the MTU) and forced intra pictures (a decoder joined mid-stream
//! recovers; H.263's picture header says I); the SPS of each H.264 profile at levels 3.1 and
//! 4.0; and the 1 kHz tone through PCMU, PCMA, G.722 and Opus at two packet durations each, with
//! exact RTP timestamp steps. Decoded composites are saved under `target/downlink-codecs/`.

mod downlink_media;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use downlink_media::{Source, near, serial, thread_cpu, wait_until};
use kernels::frame::{I420Frame, Yuv};
use kernels::layout::Layout;
use pipelines::downlink::keyframe::{PictureType, h263_rfc2190_picture, h263plus_picture};
use pipelines::downlink::rtp::{NAL_FU_A, NAL_STAP_A, RtpPacket, h264_payload_type};
use pipelines::downlink::{
    AudioCodecOut, AudioOut, Downlink, DownlinkEvent, DownlinkSpec, H264Level, H264Profile,
    PictureFormat, VideoCodecOut, VideoOut,
};
use pipelines::peers::{AudioProbe, PROBE_RATE, VideoProbe, dominant_frequency};

const CLOCK: u64 = 90_000;

use downlink_media::TILE_COLOURS as COLOURS;

fn png_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/downlink-codecs");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A decoder probe for `codec`'s RTP.
fn probe(codec: VideoCodecOut, pt: u8) -> VideoProbe {
    match codec {
        VideoCodecOut::H264 => VideoProbe::h264(pt),
        VideoCodecOut::H263Plus => VideoProbe::h263plus(pt),
        VideoCodecOut::H263 => VideoProbe::h263(pt),
        VideoCodecOut::H261 => VideoProbe::h261(pt),
    }
    .unwrap()
}

/// What the drain thread shares with the test.
#[derive(Default)]
struct Got {
    video: Mutex<Vec<Vec<u8>>>,
    audio: Mutex<Vec<Vec<u8>>>,
    events: Mutex<Vec<DownlinkEvent>>,
    /// A decoder joined mid-stream: it gets packets from the first frame start after it is set.
    late: Mutex<Option<Arc<VideoProbe>>>,
    /// RTP timestamps (first, last) of what the late decoder got.
    late_span: Mutex<Option<(u32, u32)>>,
}

/// Drains the downlink's events: keeps every packet, feeds the video to `video` (and to the late
/// decoder once set) and the audio to `audio`.
struct Drain {
    got: Arc<Got>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drain {
    fn start(
        events: Receiver<DownlinkEvent>,
        video: Option<Arc<VideoProbe>>,
        audio: Option<Arc<AudioProbe>>,
    ) -> Self {
        let got = Arc::new(Got::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (g, s) = (Arc::clone(&got), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut previous_ts = None;
            while !s.load(Ordering::Relaxed) {
                match events.recv_timeout(Duration::from_millis(100)) {
                    Ok(DownlinkEvent::VideoRtp(p)) => {
                        if let Some(v) = &video {
                            v.push(&p);
                        }
                        let ts = RtpPacket::parse(&p).map(|r| r.timestamp);
                        let new_frame = previous_ts.is_some() && ts != previous_ts;
                        previous_ts = ts;
                        if let (Some(late), Some(ts)) = (g.late.lock().unwrap().as_ref(), ts) {
                            let mut span = g.late_span.lock().unwrap();
                            if span.is_some() || new_frame {
                                late.push(&p);
                                let first = span.map_or(ts, |(first, _)| first);
                                *span = Some((first, ts));
                            }
                        }
                        g.video.lock().unwrap().push(p);
                    }
                    Ok(DownlinkEvent::AudioRtp(p)) => {
                        if let Some(a) = &audio {
                            a.push(&p);
                        }
                        g.audio.lock().unwrap().push(p);
                    }
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
        }
    }

    /// Every video packet so far as `(timestamp unwrapped from the first, marker, payload)`.
    fn video_log(&self) -> Vec<(u64, bool, Vec<u8>)> {
        let video = self.got.video.lock().unwrap();
        let Some(first) = video.first().and_then(|p| RtpPacket::parse(p)) else {
            return Vec::new();
        };
        video
            .iter()
            .filter_map(|p| RtpPacket::parse(p))
            .map(|r| {
                let ts = u64::from(r.timestamp.wrapping_sub(first.timestamp));
                (ts, r.marker, r.payload.to_vec())
            })
            .collect()
    }

    fn last_ts(&self) -> u64 {
        self.video_log().last().map_or(0, |e| e.0)
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Whether every tile centre of `f` shows its colour of [`COLOURS`].
fn tiles_right(f: &I420Frame, layout: &Layout, tol: i32) -> bool {
    layout.tiles().iter().zip(COLOURS).all(|(rect, rgb)| {
        let (x, y) = rect.center();
        near(f.pixel(x, y), Yuv::from_rgb(rgb), tol)
    })
}

/// The picture type of an H.263 payload that starts a picture (`None` for H.261 and others).
fn picture_type(codec: VideoCodecOut, payload: &[u8]) -> Option<PictureType> {
    match codec {
        VideoCodecOut::H263Plus => h263plus_picture(payload),
        VideoCodecOut::H263 => h263_rfc2190_picture(payload),
        _ => None,
    }
}

/// An H.263 or H.261 composite end to end: the tiles by pixels at the configured size, the
/// output rate, every packet within the MTU, every frame decoded, and a keyframe request that a
/// decoder joined mid-stream recovers from within 1 s of stream time (for H.263 the picture
/// header says I; for all, the frame is a burst of bits).
fn itu_composite(codec: VideoCodecOut, format: PictureFormat, name: &str) {
    let _serial = serial();
    let spec = DownlinkSpec {
        video: VideoOut {
            mtu: 1200,
            ..VideoOut::itu(codec, format)
        },
        ..DownlinkSpec::default()
    };
    let pt = spec.video.payload_type;
    let (w, h) = format.size();
    let (dl, events) = Downlink::start(spec).unwrap();
    let decoder = Arc::new(probe(codec, pt));
    let drain = Drain::start(events, Some(Arc::clone(&decoder)), None);
    // The 1+7 layout (the output starts on the full-frame waiting slate).
    dl.assign(&[]).unwrap();
    let layout = Layout::one_plus_seven(w, h).unwrap();
    for (t, rgb) in COLOURS.iter().enumerate() {
        let r = layout.tile(t).unwrap();
        let f = I420Frame::filled(r.width, r.height, Yuv::from_rgb(*rgb)).unwrap();
        dl.push_frame(t, &f.view()).unwrap();
    }
    wait_until("every tile centre in its colour", 60, || {
        decoder
            .latest()
            .is_some_and(|f| (f.width(), f.height()) == (w, h) && tiles_right(&f, &layout, 10))
    });
    let frame = decoder.latest().unwrap();
    frame.write_png(png_path(&format!("{name}.png"))).unwrap();
    for (i, rect) in layout.tiles().iter().enumerate() {
        let (x, y) = rect.center();
        println!(
            "{name} tile {i} centre ({x}, {y}): {:?}, want {:?}",
            frame.pixel(x, y),
            Yuv::from_rgb(COLOURS[i])
        );
    }

    // The fixed rate, measured from 1 s in (past the start-up on a loaded machine); and the
    // encoder's CPU (its chain runs on the appsrc's streaming thread) per frame meanwhile.
    let (cpu0, _) = thread_cpu(&["venc-src"]);
    let composed0 = dl.stats().frames_composed;
    wait_until("4.5 s of stream", 60, || drain.last_ts() >= 9 * CLOCK / 2);
    let (cpu1, _) = thread_cpu(&["venc-src"]);
    println!(
        "{name}: encoder thread {:.2} ms CPU a frame (still canvas)",
        (cpu1 - cpu0) * 1000.0 / (dl.stats().frames_composed - composed0) as f64
    );
    let log = drain.video_log();
    let frames = log
        .iter()
        .filter(|(ts, m, _)| *m && *ts >= CLOCK && *ts < 4 * CLOCK)
        .count();
    let fps = frames as f64 / 3.0;
    println!("{name}: {fps:.2} fps over 3 s of stream time");
    assert!((29.0..=31.0).contains(&fps), "output at {fps} fps");
    if codec != VideoCodecOut::H261 {
        let starts: Vec<u64> = log
            .iter()
            .filter(|(_, _, p)| picture_type(codec, p) == Some(PictureType::Intra))
            .map(|(ts, _, _)| *ts)
            .collect();
        println!("{name}: I-pictures at {starts:?} (90 kHz)");
        assert!(
            starts.iter().filter(|ts| **ts < 3 * CLOCK).count() >= 2,
            "fewer than 2 I-pictures in the first 3 s: {starts:?}"
        );
    }

    // A decoder joins mid-stream: with only P-pictures of a still canvas it cannot show the
    // tiles (no intra picture has come since 2 s, the last start IDR).
    let late = Arc::new(probe(codec, pt));
    *drain.got.late.lock().unwrap() = Some(Arc::clone(&late));
    wait_until("1 s of stream for the late decoder", 30, || {
        drain
            .got
            .late_span
            .lock()
            .unwrap()
            .is_some_and(|(a, b)| u64::from(b.wrapping_sub(a)) >= CLOCK)
    });
    std::thread::sleep(Duration::from_millis(200)); // its jitter buffer's 50 ms, and decoding
    let before = late.latest();
    println!(
        "{name}: late decoder before the request: {} pictures, tiles right: {:?}",
        late.frames(),
        before.as_ref().map(|f| tiles_right(f, &layout, 10))
    );
    assert!(
        !before.is_some_and(|f| tiles_right(&f, &layout, 10)),
        "the late decoder showed the tiles without an intra picture"
    );

    let asked_at = drain.last_ts();
    let keyframes_before = dl.stats().keyframes_sent;
    dl.request_keyframe();
    wait_until("1.5 s of stream after the request", 30, || {
        drain.last_ts() >= asked_at + 3 * CLOCK / 2
    });
    let log = drain.video_log();
    let mut sizes = BTreeMap::<u64, usize>::new();
    for (ts, _, p) in &log {
        *sizes.entry(*ts).or_default() += p.len();
    }
    let mut quiet: Vec<usize> = sizes
        .range(asked_at.saturating_sub(CLOCK)..=asked_at)
        .map(|(_, n)| *n)
        .collect();
    quiet.sort_unstable();
    let median = quiet[quiet.len() / 2];
    let burst = sizes
        .range(asked_at + 1..)
        .find(|(_, n)| **n > 8 * median.max(100))
        .map(|(ts, n)| (*ts, *n));
    println!(
        "{name}: frames of {median} bytes (median) before the request at {asked_at}, \
         then {burst:?}"
    );
    if codec == VideoCodecOut::H261 {
        // H.261's picture header has no I/P flag: the intra picture shows as a burst.
        let after: Vec<usize> = sizes
            .range(asked_at + 1..)
            .map(|(_, n)| *n)
            .take(12)
            .collect();
        let (burst_ts, _) =
            burst.unwrap_or_else(|| panic!("no intra burst after the request: {after:?}"));
        assert!(
            burst_ts - asked_at <= CLOCK,
            "the burst came {} ms after the request",
            (burst_ts - asked_at) / 90
        );
    } else {
        // H.263 says so in its picture header (PTYPE / PLUSPTYPE). A burst is not asked for:
        // an I-picture of flat tiles can be small next to the P-pictures of a busy encoder.
        let intra = log
            .iter()
            .find(|(ts, _, p)| *ts > asked_at && picture_type(codec, p) == Some(PictureType::Intra))
            .map(|(ts, _, _)| *ts)
            .expect("no I-picture after the request");
        println!(
            "{name}: I-picture {} ms after the request",
            (intra - asked_at) / 90
        );
        assert!(intra - asked_at <= CLOCK);
    }
    wait_until("the late decoder to show the tiles", 10, || {
        late.latest().is_some_and(|f| tiles_right(&f, &layout, 10))
    });
    late.latest()
        .unwrap()
        .write_png(png_path(&format!("{name}-late-decoder.png")))
        .unwrap();
    assert!(dl.stats().keyframes_sent > keyframes_before);

    // Noise in the main tile for 1 s (new noise every frame, and an intra picture asked for
    // every frame): frames far larger than the MTU, cut by the payloader.
    let noise_from = drain.last_ts();
    let main = layout.tile(0).unwrap();
    let mut seed = 0x1234_5678u32;
    let mut noise = |n: u32| {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect::<Vec<u8>>()
    };
    let (mw, mh) = (main.width, main.height);
    for _ in 0..30 {
        let f = I420Frame::from_planes(
            mw,
            mh,
            noise(mw * mh),
            noise(mw * mh / 4),
            noise(mw * mh / 4),
        )
        .unwrap();
        dl.push_frame(0, &f.view()).unwrap();
        dl.request_keyframe();
        std::thread::sleep(Duration::from_millis(33));
    }
    wait_until("1 s of stream after the noise", 30, || {
        drain.last_ts() >= noise_from + 2 * CLOCK
    });
    let mut noisy = BTreeMap::<u64, usize>::new();
    for (ts, _, p) in drain.video_log().iter().filter(|e| e.0 > noise_from) {
        *noisy.entry(*ts).or_default() += p.len();
    }
    let biggest = noisy.values().max().copied().unwrap_or(0);
    println!("{name}: largest frame with noise {biggest} bytes");
    assert!(
        biggest > 2 * 1200,
        "noise frames of {biggest} bytes at most"
    );
    assert!(dl.is_running());

    // Every packet within the MTU, of the payload type; every frame decoded.
    let video = drain.got.video.lock().unwrap().clone();
    let largest = video.iter().map(Vec::len).max().unwrap();
    println!("{name}: {} packets, largest {largest} bytes", video.len());
    for p in &video {
        assert!(p.len() <= 1200, "a packet of {} bytes", p.len());
        assert_eq!(RtpPacket::parse(p).unwrap().payload_type, pt);
    }
    let sent = video
        .iter()
        .filter(|p| RtpPacket::parse(p).unwrap().marker)
        .count() as u64;
    wait_until("95 % of the frames sent decoded", 10, || {
        decoder.frames() * 100 >= sent * 95
    });
    let stats = dl.stats();
    println!(
        "{name}: {sent} frames sent, {} decoded; {stats:?}",
        decoder.frames()
    );
    assert_eq!(stats.oversize_nals_dropped, 0);
    dl.stop();
}

#[test]
fn h263plus_cif() {
    itu_composite(VideoCodecOut::H263Plus, PictureFormat::Cif, "h263plus-cif");
}

#[test]
fn h263plus_4cif() {
    itu_composite(
        VideoCodecOut::H263Plus,
        PictureFormat::FourCif,
        "h263plus-4cif",
    );
}

#[test]
fn h263_rfc2190_cif() {
    itu_composite(VideoCodecOut::H263, PictureFormat::Cif, "h263-rfc2190-cif");
}

#[test]
fn h263_rfc2190_4cif() {
    itu_composite(
        VideoCodecOut::H263,
        PictureFormat::FourCif,
        "h263-rfc2190-4cif",
    );
}

#[test]
fn h261_cif() {
    itu_composite(VideoCodecOut::H261, PictureFormat::Cif, "h261-cif");
}

#[test]
fn h261_qcif() {
    itu_composite(VideoCodecOut::H261, PictureFormat::Qcif, "h261-qcif");
}

/// The first SPS in H.264 RTP payloads: its `(profile_idc, constraint flags, level_idc)`.
fn first_sps(payloads: &[Vec<u8>]) -> Option<[u8; 3]> {
    let sps = |nal: &[u8]| (nal.first()? & 0x1f == 7).then(|| nal.get(1..4)?.try_into().ok())?;
    payloads.iter().find_map(|p| match h264_payload_type(p)? {
        NAL_STAP_A => {
            let mut rest = p.get(1..)?;
            while rest.len() > 2 {
                let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                if let Some(found) = rest.get(2..2 + len).and_then(sps) {
                    return Some(found);
                }
                rest = rest.get(2 + len..)?;
            }
            None
        }
        NAL_FU_A => None,
        _ => sps(p),
    })
}

/// One H.264 profile at levels 3.1 and 4.0: the SPS carries its `profile_idc` (and constraint
/// flags) and the level, and the stream decodes at 1280×720.
fn h264_profile(profile: H264Profile, profile_idc: u8, constraints: Option<u8>) {
    let _serial = serial();
    for level in [31, 40] {
        let mut spec = DownlinkSpec::default();
        spec.video.profile = profile;
        spec.video.level = H264Level::from_idc(level).unwrap();
        let pt = spec.video.payload_type;
        let (dl, events) = Downlink::start(spec.clone()).unwrap();
        let decoder = Arc::new(probe(VideoCodecOut::H264, pt));
        let drain = Drain::start(events, Some(Arc::clone(&decoder)), None);
        wait_until("30 frames decoded", 60, || decoder.frames() >= 30);
        let payloads: Vec<Vec<u8>> = drain.video_log().into_iter().map(|e| e.2).collect();
        let [idc, flags, level_idc] = first_sps(&payloads).expect("no SPS sent");
        println!(
            "{profile:?} level {level}: SPS profile_idc {idc}, constraints {flags:#04x}, level_idc {level_idc}"
        );
        assert_eq!(idc, profile_idc, "profile_idc");
        assert_eq!(level_idc, level, "level_idc");
        if let Some(want) = constraints {
            assert_eq!(flags & want, want, "constraint flags {flags:#04x}");
        }
        let f = decoder.latest().unwrap();
        assert_eq!((f.width(), f.height()), (1280, 720));
        dl.stop();
    }
}

#[test]
fn h264_constrained_baseline_sps() {
    // profile_idc 66 with constraint_set1 (0x40): constrained baseline.
    h264_profile(H264Profile::ConstrainedBaseline, 66, Some(0x40));
}

#[test]
fn h264_baseline_sps() {
    h264_profile(H264Profile::Baseline, 66, None);
}

#[test]
fn h264_main_sps() {
    h264_profile(H264Profile::Main, 77, None);
}

#[test]
fn h264_high_sps() {
    h264_profile(H264Profile::High, 100, None);
}

/// The 1 kHz Opus tone through `codec` at each of `ptimes`: decoded back, its dominant frequency
/// is 1000 ± 20 Hz; every packet steps the RTP timestamp by exactly `ptime × clock`.
fn audio_codec(codec: AudioCodecOut, pt: u8, ptimes: [u32; 2]) {
    let _serial = serial();
    for ptime in ptimes {
        let mut spec = DownlinkSpec::default();
        // A small composite: this test is about the audio.
        spec.video.width = 320;
        spec.video.height = 180;
        spec.video.bitrate_kbps = 200;
        spec.audio = AudioOut {
            codec,
            payload_type: pt,
            ptime_ms: ptime,
            ..AudioOut::default()
        };
        let (dl, events) = Downlink::start(spec.clone()).unwrap();
        let dl = Arc::new(dl);
        let decoder = Arc::new(
            match codec {
                AudioCodecOut::Pcmu => AudioProbe::g711(false, pt),
                AudioCodecOut::Pcma => AudioProbe::g711(true, pt),
                AudioCodecOut::G722 => AudioProbe::g722(pt),
                AudioCodecOut::Opus => AudioProbe::opus(pt),
            }
            .unwrap(),
        );
        let drain = Drain::start(events, None, Some(Arc::clone(&decoder)));
        let tone = Source::opus_tone(&dl, 4242, 1000);
        // The last second decoded, loud in every 100 ms of it (RMS above 1000).
        let loud = |s: &[i16]| {
            s.len() >= PROBE_RATE as usize
                && s.chunks(PROBE_RATE as usize / 10).all(|c| {
                    c.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / c.len() as f64
                        > 1000.0f64.powi(2)
                })
        };
        wait_until("1 s of loud decoded audio", 60, || loud(&decoder.samples()));
        wait_until("2 s of packets", 30, || {
            drain.got.audio.lock().unwrap().len() >= 2000 / ptime as usize
        });
        let (freq, share) = dominant_frequency(&decoder.samples(), PROBE_RATE);
        tone.stop();
        let audio = drain.got.audio.lock().unwrap().clone();
        let step = ptime * codec.clock_rate() / 1000;
        let mut steps = BTreeMap::<u32, usize>::new();
        let mut sizes = BTreeMap::<usize, usize>::new();
        for pair in audio.windows(2) {
            let (a, b) = (
                RtpPacket::parse(&pair[0]).unwrap(),
                RtpPacket::parse(&pair[1]).unwrap(),
            );
            assert_eq!(b.sequence, a.sequence.wrapping_add(1), "a gap in sequence");
            *steps
                .entry(b.timestamp.wrapping_sub(a.timestamp))
                .or_default() += 1;
            *sizes.entry(b.payload.len()).or_default() += 1;
        }
        println!(
            "{codec:?} ptime {ptime}: {} packets, timestamp steps {steps:?}, payload sizes \
             {sizes:?}; dominant {freq} Hz ({:.0} % of the band)",
            audio.len(),
            share * 100.0
        );
        assert!(
            audio
                .iter()
                .all(|p| RtpPacket::parse(p).unwrap().payload_type == pt)
        );
        assert_eq!(
            steps.keys().copied().collect::<Vec<_>>(),
            vec![step],
            "every packet {ptime} ms"
        );
        if codec != AudioCodecOut::Opus {
            // 8 bits a sample at 8 kHz (G.711), 4 bits a sample at 16 kHz (G.722).
            let bytes = 8 * ptime as usize;
            assert_eq!(sizes.keys().copied().collect::<Vec<_>>(), vec![bytes]);
        }
        assert!(
            (freq - 1000.0).abs() <= 20.0,
            "dominant frequency {freq} Hz"
        );
        assert!(share > 0.5, "the tone has {share} of the band");
        dl.stop();
    }
}

#[test]
fn pcmu_tone_at_20_and_30_ms() {
    audio_codec(AudioCodecOut::Pcmu, 0, [20, 30]);
}

#[test]
fn pcma_tone_at_20_and_10_ms() {
    audio_codec(AudioCodecOut::Pcma, 8, [20, 10]);
}

#[test]
fn g722_tone_at_20_and_40_ms() {
    audio_codec(AudioCodecOut::G722, 9, [20, 40]);
}

#[test]
fn opus_tone_at_20_and_60_ms() {
    audio_codec(AudioCodecOut::Opus, 111, [20, 60]);
}
