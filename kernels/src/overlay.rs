//! Overlays on the **output**, not on the canvas: the recording indicator.
//!
//! When the Meet conference is recorded, the gateway's participants must be told so in the
//! video they receive (Pexip: "streaming enabled" indicators are included in the video stream
//! sent to gatewayed participants). While [`Overlays::recording`] is set, a dark box with
//! rounded corners holding a red dot and the word "REC" is drawn at the **top-left corner of
//! the output** ([`rec_indicator_rect`]: `8s` pixels in from the top and left edges, `s =
//! height / 360` clamped to 1..=4, so 16 pixels and a 74×32 box at 720p). The top-left corner
//! lies on the main tile in the 1+7 layout (the biggest tile, so the smallest share of a
//! picture is covered) and on the single picture or the waiting slate in the full layout.
//!
//! **Why on the output.** The canvas stays clean: the overlay is drawn by the fixed-rate tick
//! onto its own copy of the canvas (the buffer handed to the encoder), and only when that copy
//! is remade, i.e. when a tile changed or the overlays changed. Turning recording off therefore
//! needs no repair of the pixels underneath (the next copy simply has none) and the canvas's
//! damage tracking is untouched; the cost is one box of about 2,400 pixels per remade frame
//! (measured by a test in this module: a few microseconds, against a 33 ms tick).

use crate::frame::{I420Mut, Yuv};
use crate::layout::Rect;
use crate::text::draw_text;

/// The indicator's box colour: near black.
pub const REC_BACKGROUND: Yuv = Yuv::new(20, 128, 128);
/// The indicator's dot: a bright red (RGB 235, 30, 30).
pub const REC_RED: Yuv = Yuv::new(95, 98, 218);
/// The indicator's word.
pub const REC_TEXT: &str = "REC";

/// What is drawn over the output. `Default` is nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Overlays {
    /// The conference is being recorded: draw the recording indicator.
    pub recording: bool,
}

impl Overlays {
    /// True when nothing is to be drawn.
    pub fn is_empty(&self) -> bool {
        !self.recording
    }

    /// Draws the overlays that are on onto `target` (the output copy of the canvas).
    pub fn draw(&self, target: &mut I420Mut<'_>) {
        if self.recording {
            draw_rec_indicator(target);
        }
    }
}

/// The indicator's scale on an output `height` pixels tall.
fn rec_scale(height: u32) -> u32 {
    (height / 360).clamp(1, 4)
}

/// Where the recording indicator's box goes on a `width × height` output (even corners and
/// sizes; see the module docs).
pub fn rec_indicator_rect(width: u32, height: u32) -> Rect {
    let s = rec_scale(height);
    let margin = 8 * s;
    // pad 4s, dot 8s, gap 4s, "REC" 17s, pad 4s.
    let w = (37 * s + 1) & !1;
    let h = 16 * s;
    Rect::new(
        margin.min(width.saturating_sub(w)) & !1,
        margin.min(height.saturating_sub(h)) & !1,
        w.min(width),
        h.min(height),
    )
}

/// The centre of the red dot and its radius, on a `width × height` output.
pub fn rec_dot(width: u32, height: u32) -> ((u32, u32), u32) {
    let s = rec_scale(height);
    let rect = rec_indicator_rect(width, height);
    ((rect.x + 8 * s, rect.y + 8 * s), 4 * s)
}

/// Draws the recording indicator (box, dot, "REC") at [`rec_indicator_rect`].
pub fn draw_rec_indicator(target: &mut I420Mut<'_>) {
    let (width, height) = (target.width(), target.height());
    let s = rec_scale(height);
    let rect = rec_indicator_rect(width, height);
    let corner = 2 * s;
    // The box, its corners cut on the diagonal.
    paint_where(target, rect, REC_BACKGROUND, |x, y| {
        let dx = (x - rect.x).min(rect.right() - 1 - x);
        let dy = (y - rect.y).min(rect.bottom() - 1 - y);
        dx + dy >= corner
    });
    // The dot: pixels whose centre is within the radius.
    let ((cx, cy), r) = rec_dot(width, height);
    let dot = Rect::new(cx - r, cy - r, 2 * r, 2 * r);
    paint_where(target, dot, REC_RED, |x, y| {
        let dx = i64::from(2 * x + 1) - i64::from(2 * cx);
        let dy = i64::from(2 * y + 1) - i64::from(2 * cy);
        dx * dx + dy * dy <= i64::from(2 * r) * i64::from(2 * r)
    });
    draw_text(
        target,
        rect.x + 16 * s,
        rect.y + 4 * s,
        REC_TEXT,
        s,
        Yuv::WHITE,
        rect,
    );
}

/// Paints the pixels of `area` for which `inside(x, y)` holds; chroma at even pixels.
fn paint_where(
    target: &mut I420Mut<'_>,
    area: Rect,
    colour: Yuv,
    inside: impl Fn(u32, u32) -> bool,
) {
    for y in area.y..area.bottom().min(target.height()) {
        for x in area.x..area.right().min(target.width()) {
            if inside(x, y) {
                target.set_luma(x, y, colour.y);
                if x.is_multiple_of(2) && y.is_multiple_of(2) {
                    target.set_chroma(x, y, colour.u, colour.v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::I420Frame;

    fn is_red(p: Yuv) -> bool {
        p.v > 180 && p.u < 120
    }

    #[test]
    fn rec_red_is_the_rgb_red() {
        assert_eq!(REC_RED, Yuv::from_rgb([235, 30, 30]));
    }

    #[test]
    fn the_indicator_is_drawn_only_when_recording_and_only_in_its_box() {
        let base = Yuv::from_rgb([40, 60, 220]);
        let mut frame = I420Frame::filled(1280, 720, base).unwrap();
        Overlays::default().draw(&mut frame.view_mut());
        assert!(frame.y().iter().all(|y| *y == base.y));
        let on = Overlays { recording: true };
        on.draw(&mut frame.view_mut());
        let rect = rec_indicator_rect(1280, 720);
        assert_eq!(rect, Rect::new(16, 16, 74, 32));
        let ((cx, cy), r) = rec_dot(1280, 720);
        assert!(is_red(frame.pixel(cx, cy)), "{:?}", frame.pixel(cx, cy));
        assert!(is_red(frame.pixel(cx - r + 2, cy)));
        // "REC" in white right of the dot, the box dark, corners cut.
        let text = Rect::new(rect.x + 32, rect.y + 8, 34, 16);
        let white = (text.y..text.bottom())
            .flat_map(|y| (text.x..text.right()).map(move |x| (x, y)))
            .filter(|(x, y)| frame.pixel(*x, *y).y == Yuv::WHITE.y)
            .count();
        assert!(white > 100, "{white} white pixels of REC");
        assert_eq!(
            frame.pixel(rect.x + 4, rect.bottom() - 4).y,
            REC_BACKGROUND.y
        );
        assert_eq!(frame.pixel(rect.x, rect.y), base);
        // Nothing outside the box.
        for y in 0..720 {
            for x in 0..1280 {
                if !rect.contains(x, y) {
                    assert_eq!(frame.pixel(x, y).y, base.y, "({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn the_indicator_fits_small_and_large_outputs() {
        for (w, h) in [(352, 288), (640, 360), (1920, 1080), (64, 32)] {
            let rect = rec_indicator_rect(w, h);
            assert!(
                rect.is_even() && rect.right() <= w && rect.bottom() <= h,
                "{w}x{h} {rect:?}"
            );
            let mut frame = I420Frame::new(w, h).unwrap();
            draw_rec_indicator(&mut frame.view_mut());
        }
    }

    /// The per-frame cost of the overlay path (printed; bounded far below a 33 ms tick).
    #[test]
    fn drawing_the_indicator_costs_microseconds() {
        let mut frame = I420Frame::new(1280, 720).unwrap();
        let on = Overlays { recording: true };
        let rounds = 2000;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            on.draw(&mut frame.view_mut());
        }
        let each = start.elapsed() / rounds;
        println!("recording indicator at 720p: {each:?} per frame");
        assert!(
            each < std::time::Duration::from_millis(2),
            "{each:?} per frame"
        );
    }
}
