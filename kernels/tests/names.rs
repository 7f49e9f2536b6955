//! Names and indicators on the canvas, by pixels: the font's sheet, a 1+7 canvas with
//! captions and slates, a layout change that keeps pictures, and the recording indicator on
//! the output copy. PNGs go to `target/kernels-names/` to be looked at.

use kernels::canvas::{Canvas, DEFAULT_BACKGROUND};
use kernels::compositor::Compositor;
use kernels::frame::{I420Frame, Yuv};
use kernels::layout::{Layout, Rect, TILE_COUNT};
use kernels::overlay::{Overlays, rec_dot, rec_indicator_rect};
use kernels::slate::{CAPTION_BACKGROUND, CAPTION_TEXT, SLATE_TEXT, Slate, caption_layout};
use kernels::text::draw_text;

fn png(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/kernels-names");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn count(frame: &I420Frame, area: Rect, pred: impl Fn(Yuv) -> bool) -> usize {
    (area.y..area.bottom())
        .flat_map(|y| (area.x..area.right()).map(move |x| (x, y)))
        .filter(|(x, y)| pred(frame.pixel(*x, *y)))
        .count()
}

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

#[test]
fn the_font_sheet() {
    let mut frame = I420Frame::filled(640, 200, DEFAULT_BACKGROUND).unwrap();
    let ascii: String = (0x20u8..=0x7e).map(char::from).collect();
    let whole = Rect::new(0, 0, 640, 200);
    let mut view = frame.view_mut();
    for (line, chunk) in ascii.as_bytes().chunks(32).enumerate() {
        let text = std::str::from_utf8(chunk).unwrap();
        draw_text(
            &mut view,
            10,
            10 + 30 * line as u32,
            text,
            3,
            Yuv::WHITE,
            whole,
        );
    }
    draw_text(
        &mut view,
        10,
        110,
        "Zoë Ørsted, Łukasz, 中文",
        3,
        Yuv::WHITE,
        whole,
    );
    draw_text(
        &mut view,
        10,
        150,
        "scale 1: The quick brown fox jumps",
        1,
        Yuv::WHITE,
        whole,
    );
    draw_text(
        &mut view,
        10,
        170,
        "scale 2: gjpqy_",
        2,
        Yuv::from_rgb([255, 200, 0]),
        whole,
    );
    frame.write_png(png("font-sheet.png")).unwrap();
    let lit = count(&frame, whole, |p| p.y == Yuv::WHITE.y);
    assert!(lit > 5000, "{lit} white pixels on the sheet");
}

/// Six pictures with captions and two slates: each tile keeps its colour at the centre, each
/// picture tile has a dark caption box with light text at its bottom-left, the slates are
/// different colours with white text in the centre band.
#[test]
fn captions_and_slates_on_a_one_plus_seven_canvas() {
    let layout = Layout::default();
    let mut canvas = Canvas::new(layout);
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
        "Katherine Johnson",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Donald Knuth",
        "Margaret Hamilton",
    ];
    let slates = [3, 6];
    for tile in 0..TILE_COUNT {
        if slates.contains(&tile) {
            canvas
                .draw_slate(tile, &Slate::participant(names[tile]))
                .unwrap();
        } else {
            canvas.set_caption(tile, Some(names[tile])).unwrap();
            let src = I420Frame::filled(640, 360, Yuv::from_rgb(COLOURS[tile])).unwrap();
            canvas.draw(tile, &src.view()).unwrap();
        }
    }
    let frame = canvas.frame().clone();
    frame.write_png(png("captions-and-slates.png")).unwrap();
    for (tile, rect) in layout.tiles().iter().enumerate() {
        let (cx, cy) = rect.center();
        if slates.contains(&tile) {
            let slate = Slate::participant(names[tile]);
            assert_eq!(frame.pixel(rect.x + 2, rect.y + 2), slate.background);
            let band = Rect::new(rect.x, cy - 20, rect.width, 40);
            let lit = count(&frame, band, |p| p.y == SLATE_TEXT.y);
            assert!(lit > 200, "tile {tile}: {lit} slate text pixels");
        } else {
            assert_eq!(
                frame.pixel(cx, cy),
                Yuv::from_rgb(COLOURS[tile]),
                "tile {tile}"
            );
            let (caption, _, _) = caption_layout(*rect, names[tile]).unwrap();
            let light = count(&frame, caption, |p| p.y == CAPTION_TEXT.y);
            let dark = count(&frame, caption, |p| p.y == CAPTION_BACKGROUND.y);
            assert!(
                light > 80 && dark > light,
                "tile {tile}: {light} light, {dark} dark"
            );
        }
    }
    let (a, b) = (
        frame.pixel(layout.tiles()[3].x + 2, layout.tiles()[3].y + 2),
        frame.pixel(layout.tiles()[6].x + 2, layout.tiles()[6].y + 2),
    );
    assert_ne!(a, b, "two slates of the same colour");
}

/// Full → 1+7 → full: the layout change paints the background, and redrawing the pictures
/// under the same borrow leaves no background where a picture is (what the downlink does).
#[test]
fn layout_changes_repaint_and_redraw() {
    let full = Layout::for_sources(1280, 720, 1).unwrap();
    let mut canvas = Canvas::new(Layout::for_sources(1280, 720, 0).unwrap());
    canvas.draw_slate(0, &Slate::waiting()).unwrap();
    canvas.frame().write_png(png("layout-waiting.png")).unwrap();
    canvas.set_layout(full).unwrap();
    let red = I420Frame::filled(640, 360, Yuv::from_rgb(COLOURS[0])).unwrap();
    canvas.draw(0, &red.view()).unwrap();
    assert_eq!(canvas.frame().pixel(8, 8), Yuv::from_rgb(COLOURS[0]));
    assert_eq!(canvas.frame().pixel(1270, 710), Yuv::from_rgb(COLOURS[0]));
    canvas.frame().write_png(png("layout-one.png")).unwrap();
    assert!(
        canvas.draw(1, &red.view()).is_err(),
        "tile 1 in the full layout"
    );

    canvas.set_layout(Layout::default()).unwrap();
    for tile in 0..3 {
        canvas.draw(tile, &red.view()).unwrap();
    }
    let frame = canvas.frame();
    frame.write_png(png("layout-three.png")).unwrap();
    for (tile, rect) in Layout::default().tiles().iter().enumerate() {
        let (x, y) = rect.center();
        let want = if tile < 3 {
            Yuv::from_rgb(COLOURS[0])
        } else {
            DEFAULT_BACKGROUND
        };
        assert_eq!(frame.pixel(x, y), want, "tile {tile}");
    }
    assert!(canvas.set_layout(Layout::full(640, 360).unwrap()).is_err());
}

/// The recording indicator is drawn on a copy: the canvas keeps its pixels, and the copy made
/// after recording stops has the tile's pixels where the indicator was.
#[test]
fn the_recording_indicator_is_on_the_output_copy_only() {
    let layout = Layout::default();
    let mut canvas = Canvas::new(layout);
    let blue = Yuv::from_rgb(COLOURS[2]);
    canvas
        .draw(0, &I420Frame::filled(640, 360, blue).unwrap().view())
        .unwrap();
    let mut out = I420Frame::new(1280, 720).unwrap();
    canvas.download(&mut out).unwrap();
    Overlays { recording: true }.draw(&mut out.view_mut());
    out.write_png(png("recording.png")).unwrap();
    let ((cx, cy), _) = rec_dot(1280, 720);
    assert_eq!(out.pixel(cx, cy), kernels::overlay::REC_RED);
    assert_eq!(canvas.frame().pixel(cx, cy), blue);
    canvas.download(&mut out).unwrap();
    Overlays::default().draw(&mut out.view_mut());
    let rect = rec_indicator_rect(1280, 720);
    assert_eq!(count(&out, rect, |p| p != blue), 0);
}
