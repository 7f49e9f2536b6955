//! The persistent 1+7 canvas: tile colours, untouched bytes outside a drawn tile, damage,
//! resolution changes, a PNG to look at, and a rough timing.

use std::time::Instant;

use kernels::canvas::{Canvas, DEFAULT_BACKGROUND};
use kernels::compositor::{CompositeError, Compositor, Damage};
use kernels::frame::{I420Frame, Yuv};
use kernels::layout::{Layout, Rect, TILE_COUNT};

const COLOURS: [[u8; 3]; TILE_COUNT] = [
    [200, 40, 40],
    [40, 200, 40],
    [40, 40, 200],
    [220, 220, 40],
    [40, 220, 220],
    [220, 40, 220],
    [240, 140, 20],
    [150, 150, 150],
];

/// Source sizes of every shape a tile meets: 16:9, 4:3, CIF, tall, tiny.
const SIZES: [(u32, u32); TILE_COUNT] = [
    (640, 360),
    (320, 180),
    (640, 480),
    (352, 288),
    (1280, 720),
    (160, 90),
    (240, 320),
    (320, 240),
];

fn assert_close(got: Yuv, want: Yuv, at: &str) {
    let ok =
        got.y.abs_diff(want.y) <= 2 && got.u.abs_diff(want.u) <= 2 && got.v.abs_diff(want.v) <= 2;
    assert!(ok, "{at}: got {got:?}, want {want:?}");
}

fn draw_all(canvas: &mut Canvas) {
    for tile in 0..TILE_COUNT {
        let (w, h) = SIZES[tile];
        let src = I420Frame::filled(w, h, Yuv::from_rgb(COLOURS[tile])).unwrap();
        canvas.draw(tile, &src.view()).unwrap();
    }
}

#[test]
fn eight_colours_land_in_their_tiles() {
    for (w, h) in [(1280, 720), (1920, 1080), (640, 360), (704, 576)] {
        let layout = Layout::one_plus_seven(w, h).unwrap();
        let mut canvas = Canvas::new(layout);
        draw_all(&mut canvas);
        for (tile, rect) in layout.tiles().iter().enumerate() {
            let (cx, cy) = rect.center();
            let want = Yuv::from_rgb(COLOURS[tile]);
            assert_close(
                canvas.frame().pixel(cx, cy),
                want,
                &format!("{w}x{h} tile {tile}"),
            );
        }
    }
}

/// Every Y, U and V byte outside `rect` (luma coordinates, even) is equal in `a` and `b`.
fn assert_same_outside(a: &I420Frame, b: &I420Frame, rect: Rect) {
    let w = a.width() as usize;
    let inside =
        |x: usize, y: usize, shift: u32| rect.contains((x << shift) as u32, (y << shift) as u32);
    for (i, (pa, pb)) in a.y().iter().zip(b.y()).enumerate() {
        if !inside(i % w, i / w, 0) {
            assert_eq!(pa, pb, "Y byte at ({}, {}) changed", i % w, i / w);
        }
    }
    for (plane, (ca, cb)) in [(a.u(), b.u()), (a.v(), b.v())].into_iter().enumerate() {
        for (i, (pa, pb)) in ca.iter().zip(cb).enumerate() {
            let (x, y) = (i % (w / 2), i / (w / 2));
            if !inside(x, y, 1) {
                assert_eq!(pa, pb, "chroma plane {plane} byte at ({x}, {y}) changed");
            }
        }
    }
}

#[test]
fn drawing_a_tile_touches_nothing_else() {
    let layout = Layout::default();
    let mut canvas = Canvas::new(layout);
    draw_all(&mut canvas);
    let before = canvas.frame().clone();
    let tile3 = layout.tile(3).unwrap();
    // A noisy 4:3 picture (bars and a picture both written) into tile 3.
    let rgb: Vec<u8> = (0..400u32 * 300 * 3)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let noise = I420Frame::from_rgb(400, 300, &rgb).unwrap();
    canvas.draw(3, &noise.view()).unwrap();
    assert_ne!(&before, canvas.frame(), "the draw changed nothing");
    assert_same_outside(&before, canvas.frame(), tile3);
    // Clearing a tile is confined the same way.
    let before = canvas.frame().clone();
    canvas.clear_tile(5).unwrap();
    assert_same_outside(&before, canvas.frame(), layout.tile(5).unwrap());
    let (cx, cy) = layout.tile(5).unwrap().center();
    assert_eq!(canvas.frame().pixel(cx, cy), DEFAULT_BACKGROUND);
}

#[test]
fn damage_reports_exactly_what_was_drawn() {
    let mut canvas = Canvas::new(Layout::default());
    assert_eq!(canvas.take_damage(), Damage::ALL, "a new canvas is all new");
    assert!(canvas.take_damage().is_empty());
    let src = I420Frame::filled(320, 180, Yuv::WHITE).unwrap();
    canvas.draw(2, &src.view()).unwrap();
    canvas.draw(5, &src.view()).unwrap();
    canvas.draw(2, &src.view()).unwrap();
    canvas.clear_tile(7).unwrap();
    assert_eq!(canvas.take_damage(), Damage::of([2, 5, 7]));
    assert!(canvas.take_damage().is_empty());
    // A refused draw marks nothing.
    assert_eq!(
        canvas.draw(8, &src.view()),
        Err(CompositeError::NoSuchTile(8))
    );
    assert_eq!(canvas.clear_tile(9), Err(CompositeError::NoSuchTile(9)));
    assert!(canvas.take_damage().is_empty());
}

#[test]
fn a_source_changing_size_mid_stream_still_fills_its_tile() {
    let layout = Layout::default();
    let mut canvas = Canvas::new(layout);
    let tile = layout.tile(0).unwrap();
    let (a, b) = (Yuv::from_rgb([200, 40, 40]), Yuv::from_rgb([40, 40, 200]));
    let wide = I420Frame::filled(640, 360, a).unwrap();
    assert_eq!(canvas.draw(0, &wide.view()).unwrap(), tile);
    assert_eq!(canvas.frame().pixel(60, 270), a);
    // 320x240 (4:3) next: 720x540 in the middle, the old picture gone from the new bars.
    let narrow = I420Frame::filled(320, 240, b).unwrap();
    assert_eq!(
        canvas.draw(0, &narrow.view()).unwrap(),
        Rect::new(120, 0, 720, 540)
    );
    let frame = canvas.frame();
    assert_close(frame.pixel(480, 270), b, "picture centre");
    assert_eq!(frame.pixel(60, 270), Yuv::BLACK, "left bar");
    assert_eq!(frame.pixel(900, 270), Yuv::BLACK, "right bar");
    for y in (0..540).step_by(7) {
        for x in (0..960).step_by(5) {
            let px = frame.pixel(x, y);
            assert!(px == Yuv::BLACK || px == b, "({x}, {y}) is {px:?}");
        }
    }
    // And back to 16:9: the bars are painted over again.
    canvas.draw(0, &wide.view()).unwrap();
    assert_eq!(canvas.frame().pixel(60, 270), a);
}

/// Through the trait, as the pipelines will use it.
fn composite(c: &mut impl Compositor, src: &I420Frame) -> Result<I420Frame, CompositeError> {
    c.draw(1, &src.view())?;
    let mut out = I420Frame::new(c.layout().width(), c.layout().height())?;
    c.download(&mut out)?;
    Ok(out)
}

#[test]
fn the_trait_downloads_the_frame() {
    let mut canvas = Canvas::new(Layout::default());
    let src = I420Frame::filled(320, 180, Yuv::WHITE).unwrap();
    let out = composite(&mut canvas, &src).unwrap();
    assert_eq!(&out, canvas.frame());
    let mut small = I420Frame::new(640, 360).unwrap();
    assert!(matches!(
        Compositor::download(&mut canvas, &mut small),
        Err(CompositeError::SizeMismatch { .. })
    ));
}

/// An RGB test card: a hue sweep left to right, darker downwards, a white frame, a diagonal.
fn test_card(w: u32, h: u32, tint: [u8; 3]) -> I420Frame {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
            let diagonal = (x * h).abs_diff(y * w) < w * 3;
            let px = if border || diagonal {
                [255, 255, 255]
            } else {
                let shade = 255 - y * 160 / h;
                let t = x * 255 / w;
                [
                    (u32::from(tint[0]) * shade / 255) as u8,
                    ((t * shade / 255) as u8).max(tint[1] / 3),
                    (u32::from(tint[2]) * (255 - t) / 255) as u8,
                ]
            };
            rgb.extend_from_slice(&px);
        }
    }
    I420Frame::from_rgb(w, h, &rgb).unwrap()
}

#[test]
fn save_a_composite_to_look_at() {
    let mut canvas = Canvas::new(Layout::default());
    for tile in 0..TILE_COUNT {
        if tile == 6 {
            continue; // left as background: an empty seat
        }
        let (w, h) = SIZES[tile];
        canvas
            .draw(tile, &test_card(w, h, COLOURS[tile]).view())
            .unwrap();
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernels-canvas.png");
    canvas.frame().write_png(&path).unwrap();
    println!("saved {}", path.display());
    assert!(std::fs::metadata(&path).unwrap().len() > 1000);
}

/// Not a timed test: prints how long the two common draws take (the crate is built at
/// opt-level 3 even in dev builds). Run with `--nocapture` to see the numbers.
#[test]
fn measure_draw_times() {
    let mut canvas = Canvas::new(Layout::default());
    let main = test_card(640, 360, COLOURS[0]);
    let thumb = test_card(320, 180, COLOURS[1]);
    let cif = test_card(352, 288, COLOURS[2]);
    let time = |canvas: &mut Canvas, tile: usize, src: &I420Frame| {
        let mut best = f64::MAX;
        for _ in 0..50 {
            let start = Instant::now();
            canvas.draw(tile, &src.view()).unwrap();
            best = best.min(start.elapsed().as_secs_f64() * 1e6);
        }
        best
    };
    println!(
        "640x360 -> 960x540 draw: {:.0} us (best of 50)",
        time(&mut canvas, 0, &main)
    );
    println!(
        "320x180 -> 320x180 copy: {:.1} us (best of 50)",
        time(&mut canvas, 1, &thumb)
    );
    println!(
        "352x288 -> 320x180 fit:  {:.0} us (best of 50)",
        time(&mut canvas, 2, &cif)
    );
}
