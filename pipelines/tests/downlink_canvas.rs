//! The canvas a room system sees, through real media: VP8 sources in, the downlink's H.264
//! decoded back, pixels checked. Names (captions, slates), the recording indicator, the layout
//! by participant count, and the fixed output rate with a stalled input. Decoded frames are
//! saved under `target/downlink-canvas/`.

mod downlink_media;

use std::sync::Arc;
use std::time::{Duration, Instant};

use downlink_media::{Collector, Source, near, serial, wait_until};
use kernels::canvas::DEFAULT_BACKGROUND;
use kernels::frame::{I420Frame, Yuv};
use kernels::layout::{Layout, Rect};
use kernels::overlay::{rec_dot, rec_indicator_rect};
use kernels::slate::{caption_layout, name_colour};
use pipelines::downlink::rtp::RtpPacket;
use pipelines::downlink::{Downlink, DownlinkSpec, TileSource};

const CLOCK: u64 = 90_000;

fn png(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/downlink-canvas");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn save(collector: &Collector, name: &str) -> I420Frame {
    let frame = collector.frame().expect("a decoded frame");
    frame.write_png(png(name)).unwrap();
    frame
}

/// Pixels of `area` for which `pred` holds.
fn count(frame: &I420Frame, area: Rect, pred: impl Fn(Yuv) -> bool) -> usize {
    (area.y..area.bottom())
        .flat_map(|y| (area.x..area.right()).map(move |x| (x, y)))
        .filter(|(x, y)| pred(frame.pixel(*x, *y)))
        .count()
}

fn light(p: Yuv) -> bool {
    p.y > 160
}

fn dark(p: Yuv) -> bool {
    p.y < 60
}

/// The indicator's red: strongly red chroma.
fn red(p: Yuv) -> bool {
    p.v > 180 && p.u < 120
}

/// RTP timestamps (unwrapped from the first) of the video packets with the marker bit: one per
/// encoded frame.
fn frame_times(collector: &Collector) -> Vec<u64> {
    let video = collector.got.video.lock().unwrap();
    let Some(first) = video.first().and_then(|p| RtpPacket::parse(p)) else {
        return Vec::new();
    };
    video
        .iter()
        .filter_map(|p| RtpPacket::parse(p))
        .filter(|r| r.marker)
        .map(|r| u64::from(r.timestamp.wrapping_sub(first.timestamp)))
        .collect()
}

fn last_time(collector: &Collector) -> u64 {
    frame_times(collector).last().copied().unwrap_or(0)
}

fn source(tile: usize, ssrc: Option<u32>, name: &str) -> TileSource {
    TileSource {
        tile,
        ssrc,
        name: name.to_owned(),
    }
}

use downlink_media::TILE_COLOURS as COLOURS;

const NAMES: [&str; 8] = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Margaret Hamilton",
];

/// Caption check: the caption box of `name` in `tile` has light text on dark.
fn caption_ok(frame: &I420Frame, tile: Rect, name: &str) -> (usize, usize) {
    let (rect, _, _) = caption_layout(tile, name).unwrap();
    let inner = Rect::new(rect.x + 2, rect.y + 2, rect.width - 4, rect.height - 4);
    (count(frame, inner, light), count(frame, inner, dark))
}

/// Eight named VP8 sources: every tile has its colour and its caption. Then two participants
/// lose their video: their tiles show slates of different colours with their names. Then one
/// input stalls while the recording indicator is on: the output stays at 30 ± 1 fps and the
/// stalled tile keeps its last picture.
#[test]
fn eight_named_sources_captions_slates_and_a_stalled_input() {
    let _serial = serial();
    let spec = DownlinkSpec::default();
    let (dl, events) = Downlink::start(spec.clone()).unwrap();
    let dl = Arc::new(dl);
    let collector = Collector::start(events, spec.video.payload_type);
    let ssrcs: Vec<u32> = (0..8).map(|i| 2000 + i).collect();
    let all: Vec<TileSource> = (0..8)
        .map(|t| source(t, Some(ssrcs[t]), NAMES[t]))
        .collect();
    dl.assign_sources(&all).unwrap();
    let sources: Vec<Source> = (0..8)
        .map(|i| {
            let (w, h) = if i == 0 { (640, 360) } else { (320, 180) };
            Source::vp8(&dl, ssrcs[i], COLOURS[i], w, h)
        })
        .collect();
    let layout = Layout::default();
    let expected: Vec<Yuv> = COLOURS.iter().map(|c| Yuv::from_rgb(*c)).collect();
    let tiles_right = |f: &I420Frame, skip: &[usize]| {
        layout
            .tiles()
            .iter()
            .enumerate()
            .filter(|(t, _)| !skip.contains(t))
            .all(|(t, rect)| {
                let (x, y) = rect.center();
                near(f.pixel(x, y), expected[t], 10)
            })
    };
    let captions_right = |f: &I420Frame| {
        (0..8).all(|t| {
            let (l, d) = caption_ok(f, layout.tiles()[t], NAMES[t]);
            l > 40 && d > l
        })
    };
    wait_until("every tile with its colour and caption", 90, || {
        collector
            .frame()
            .is_some_and(|f| tiles_right(&f, &[]) && captions_right(&f))
    });
    let frame = save(&collector, "eight-captioned.png");
    for (t, rect) in layout.tiles().iter().enumerate() {
        let (l, d) = caption_ok(&frame, *rect, NAMES[t]);
        let (x, y) = rect.center();
        println!(
            "tile {t}: centre {:?} (want {:?}); caption {l} light, {d} dark pixels",
            frame.pixel(x, y),
            expected[t]
        );
    }

    // Tiles 6 and 7 lose their video: slates with their names.
    let mut some: Vec<TileSource> = all;
    some[6].ssrc = None;
    some[7].ssrc = None;
    dl.assign_sources(&some).unwrap();
    let slate_colours = [name_colour(NAMES[6]), name_colour(NAMES[7])];
    let slate_at = |f: &I420Frame, t: usize| {
        let rect = layout.tiles()[t];
        f.pixel(rect.x + 8, rect.y + 8)
    };
    let band = |t: usize| {
        let rect = layout.tiles()[t];
        let (_, cy) = rect.center();
        Rect::new(rect.x, cy - 16, rect.width, 32)
    };
    wait_until("slates in tiles 6 and 7", 30, || {
        collector.frame().is_some_and(|f| {
            near(slate_at(&f, 6), slate_colours[0], 8) && near(slate_at(&f, 7), slate_colours[1], 8)
        })
    });
    let frame = save(&collector, "two-slates.png");
    let (a, b) = (slate_at(&frame, 6), slate_at(&frame, 7));
    let text = [count(&frame, band(6), light), count(&frame, band(7), light)];
    println!("slates: tile 6 {a:?}, tile 7 {b:?}; text pixels in the centre bands {text:?}");
    assert!(!near(a, b, 10), "two slates of one colour: {a:?} {b:?}");
    assert!(text[0] > 150 && text[1] > 150, "slate text pixels {text:?}");
    assert!(tiles_right(&frame, &[6, 7]), "the other tiles changed");
    // No caption on a slate: the bottom-left corner is the slate's colour.
    let t7 = layout.tiles()[7];
    assert!(near(
        frame.pixel(t7.x + 4, t7.bottom() - 4),
        slate_colours[1],
        10
    ));

    // The main tile's input stalls, with the recording indicator on (the overlay path on every
    // remade frame): 30 ± 1 fps over 4 s, and the stalled tile keeps its last picture.
    dl.set_recording(true);
    sources[0].stop();
    let stalled_at = last_time(&collector);
    // Decoded frames over 4 s of wall-clock time, from 0.5 s after the stall.
    std::thread::sleep(Duration::from_millis(500));
    let decoded = || {
        collector
            .got
            .decoded_count
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let (n0, t0) = (decoded(), Instant::now());
    wait_until("4 s of wall-clock time", 10, || {
        t0.elapsed() >= Duration::from_secs(4)
    });
    let decoded_fps = (decoded() - n0) as f64 / t0.elapsed().as_secs_f64();
    wait_until("5 s of stream after the stall", 60, || {
        last_time(&collector) >= stalled_at + 5 * CLOCK
    });
    let times = frame_times(&collector);
    let from = stalled_at + CLOCK / 2;
    let frames = times
        .iter()
        .filter(|t| **t >= from && **t < from + 4 * CLOCK)
        .count();
    let fps = frames as f64 / 4.0;
    println!(
        "fps over 4 s of stream with the main input stalled: {fps:.2}; {:?}",
        dl.stats()
    );
    assert!((29.0..=31.0).contains(&fps), "output at {fps} fps");
    println!("decoded frames per wall-clock second over 4 s: {decoded_fps:.2}");
    assert!(
        (29.0..=31.0).contains(&decoded_fps),
        "decoded at {decoded_fps} fps"
    );
    let frame = save(&collector, "main-stalled-recording.png");
    assert!(tiles_right(&frame, &[6, 7]), "a tile lost its picture");
    // The indicator over the (red) main tile: its dark box, and the red dot in it.
    let (w, h) = (spec.video.width, spec.video.height);
    let ((cx, cy), _) = rec_dot(w, h);
    let boxed = rec_indicator_rect(w, h);
    let dark_in_box = count(&frame, boxed, dark);
    assert!(
        dark_in_box as u64 > boxed.area() / 3 && red(frame.pixel(cx, cy)),
        "no indicator: {dark_in_box} dark pixels, dot {:?}",
        frame.pixel(cx, cy)
    );
    assert!(captions_right_except(&frame, &layout, &[6, 7]));
    drop(sources);
    dl.stop();
}

fn captions_right_except(frame: &I420Frame, layout: &Layout, skip: &[usize]) -> bool {
    (0..8).filter(|t| !skip.contains(t)).all(|t| {
        let (l, d) = caption_ok(frame, layout.tiles()[t], NAMES[t]);
        l > 40 && d > l
    })
}

/// The recording indicator over a full-frame picture: absent while not recording, red within
/// 1 s of `set_recording(true)`, gone (the picture's own pixels again) within 1 s of `false`.
#[test]
fn the_recording_indicator_comes_and_goes() {
    let _serial = serial();
    let spec = DownlinkSpec::default();
    let (dl, events) = Downlink::start(spec.clone()).unwrap();
    let dl = Arc::new(dl);
    let collector = Collector::start(events, spec.video.payload_type);
    dl.assign_sources(&[source(0, Some(77), "")]).unwrap();
    let blue = Yuv::from_rgb([40, 60, 220]);
    let _src = Source::vp8(&dl, 77, [40, 60, 220], 640, 360);
    let (w, h) = (spec.video.width, spec.video.height);
    let box_rect = rec_indicator_rect(w, h);
    let ((cx, cy), r) = rec_dot(w, h);
    let dot = Rect::new(cx - r / 2, cy - r / 2, r, r);
    let reds = |f: &I420Frame| count(f, box_rect, red);
    let all_blue =
        |f: &I420Frame| count(f, box_rect, |p| near(p, blue, 12)) == box_rect.area() as usize;
    wait_until("the picture under the indicator's place", 60, || {
        collector.frame().is_some_and(|f| all_blue(&f))
    });
    let off = save(&collector, "recording-off.png");
    assert_eq!(reds(&off), 0, "red pixels while not recording");

    dl.set_recording(true);
    let asked = Instant::now();
    wait_until("the indicator to appear", 10, || {
        collector
            .frame()
            .is_some_and(|f| count(&f, dot, red) == dot.area() as usize)
    });
    let appeared = asked.elapsed();
    let on = save(&collector, "recording-on.png");
    println!(
        "indicator shown {appeared:?} after set_recording(true): {} red pixels in its box",
        reds(&on)
    );
    assert!(appeared < Duration::from_secs(1), "took {appeared:?}");

    dl.set_recording(false);
    let asked = Instant::now();
    wait_until("the indicator to go", 10, || {
        collector.frame().is_some_and(|f| all_blue(&f))
    });
    let gone = asked.elapsed();
    let off = save(&collector, "recording-off-again.png");
    println!("indicator gone {gone:?} after set_recording(false)");
    assert!(gone < Duration::from_secs(1), "took {gone:?}");
    assert_eq!(reds(&off), 0);
    dl.stop();
}

/// The layout follows the participant count: the waiting slate with none; one source fills
/// the frame; three sources fill tiles 0..=2 and leave the other slots background; swapping two
/// sources moves their pictures with no stale pixels; and going from 3 back to 1 never shows the
/// background where the remaining source has a picture.
#[test]
fn layouts_by_participant_count() {
    let _serial = serial();
    let spec = DownlinkSpec::default();
    let (w, h) = (spec.video.width, spec.video.height);
    let (dl, events) = Downlink::start(spec.clone()).unwrap();
    let dl = Arc::new(dl);
    let collector = Collector::start(events, spec.video.payload_type);
    let whole = Rect::new(0, 0, w, h);
    let centre_band = Rect::new(0, h / 2 - 24, w, 48);

    // From start, nobody: the waiting slate (text across the centre, background elsewhere).
    wait_until("the waiting slate", 60, || {
        collector
            .frame()
            .is_some_and(|f| count(&f, centre_band, light) > 2000)
    });
    let waiting = save(&collector, "layout-0-waiting.png");
    let top = Rect::new(0, 0, w, h / 3);
    assert!(
        count(&waiting, top, |p| near(p, DEFAULT_BACKGROUND, 6)) > (top.area() * 9 / 10) as usize
    );
    dl.assign_sources(&[]).unwrap();

    let colours = [[220, 40, 40], [40, 200, 40], [40, 60, 220]];
    let yuv: Vec<Yuv> = colours.iter().map(|c| Yuv::from_rgb(*c)).collect();
    let _sources: Vec<Source> = (0..3)
        .map(|i| Source::vp8(&dl, 300 + i as u32, colours[i], 640, 360))
        .collect();

    // One source: it fills the frame.
    dl.assign_sources(&[source(4, Some(300), "Solo")]).unwrap();
    let points = [
        (8, 8),
        (w - 8, 8),
        (w / 2, h / 2),
        (w - 8, h - 8),
        (w / 2, 8),
    ];
    wait_until("one source full-frame", 60, || {
        collector.frame().is_some_and(|f| {
            points
                .iter()
                .all(|(x, y)| near(f.pixel(*x, *y), yuv[0], 10))
        })
    });
    let one = save(&collector, "layout-1-full.png");
    let covered = count(&one, whole, |p| near(p, yuv[0], 12));
    println!(
        "one source: {covered} of {} pixels its colour",
        whole.area()
    );
    assert!(covered as u64 > whole.area() * 95 / 100);
    let (caption, _, _) = caption_layout(whole, "Solo").unwrap();
    assert!(
        count(&one, caption, light) > 40,
        "no caption on the full-frame source"
    );

    // Three sources: tiles 0..=2, the other slots background, no slate text.
    let three = [
        source(0, Some(300), "Red"),
        source(1, Some(301), "Green"),
        source(2, Some(302), "Blue"),
    ];
    dl.assign_sources(&three).unwrap();
    let layout = Layout::default();
    let at = |f: &I420Frame, t: usize| {
        let (x, y) = layout.tiles()[t].center();
        f.pixel(x, y)
    };
    let three_right = |f: &I420Frame, order: [usize; 3]| {
        (0..3).all(|t| near(at(f, t), yuv[order[t]], 10))
            && (3..8).all(|t| near(at(f, t), DEFAULT_BACKGROUND, 6))
    };
    wait_until("three sources in tiles 0..=2", 60, || {
        collector
            .frame()
            .is_some_and(|f| three_right(&f, [0, 1, 2]))
    });
    let frame = save(&collector, "layout-3.png");
    for t in 3..8 {
        let rect = layout.tiles()[t];
        let bg = count(&frame, rect, |p| near(p, DEFAULT_BACKGROUND, 6));
        assert!(
            bg as u64 > rect.area() * 98 / 100,
            "slot {t}: {bg} background pixels"
        );
    }

    // Swap the main tile and tile 2: each shows the other's picture, nothing stale.
    dl.assign_sources(&[
        source(0, Some(302), "Blue"),
        source(1, Some(301), "Green"),
        source(2, Some(300), "Red"),
    ])
    .unwrap();
    wait_until("the swap", 30, || {
        collector
            .frame()
            .is_some_and(|f| three_right(&f, [2, 1, 0]))
    });
    let frame = save(&collector, "layout-3-swapped.png");
    for (t, want) in [(0, yuv[2]), (2, yuv[0])] {
        let rect = layout.tiles()[t];
        let inner = Rect::new(rect.x, rect.y, rect.width, rect.height * 3 / 4);
        let n = count(&frame, inner, |p| near(p, want, 12));
        assert!(
            n as u64 > inner.area() * 97 / 100,
            "tile {t}: {n} pixels of its new source"
        );
    }

    // Back to one source (already showing): from the switch on, every sampled frame shows it
    // at the centre, never the background.
    let before = collector
        .got
        .decoded_count
        .load(std::sync::atomic::Ordering::Relaxed);
    dl.assign_sources(&[source(0, Some(301), "Green")]).unwrap();
    let mut sampled = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Some(f) = collector.frame() {
            sampled.push(f.pixel(w / 2, h / 2));
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    let decoded = collector
        .got
        .decoded_count
        .load(std::sync::atomic::Ordering::Relaxed)
        - before;
    let flashes = sampled
        .iter()
        .filter(|p| near(**p, DEFAULT_BACKGROUND, 6))
        .count();
    println!(
        "3 → 1: {} samples of {decoded} decoded frames, {flashes} showing the background",
        sampled.len()
    );
    assert_eq!(flashes, 0, "the background flashed at the centre");
    let one = save(&collector, "layout-1-again.png");
    assert!(near(one.pixel(w / 2, h / 2), yuv[1], 10));
    assert!(near(one.pixel(w - 8, 8), yuv[1], 10));
    dl.stop();
}
