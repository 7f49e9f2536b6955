//! Text on an I420 picture with the [`crate::font`] 5×8 font: measuring, cutting to a width
//! with "...", and drawing at an integer scale in one colour, clipped to a rectangle.
//!
//! At scale `s` every glyph pixel is an `s × s` block of luma, so a character takes
//! `6s × 9s` (the 5×8 glyph and its spacing) and a line of `n` characters is [`text_width`]
//! `= 6sn − s` wide (no spacing after the last) and [`text_height`] `= 8s` tall.
//!
//! Chroma (4:2:0, one sample per 2×2 block) is written for every block whose top-left luma
//! pixel is lit. Drawn at an even position with an even scale, a glyph covers whole blocks and
//! the text colour is exact; at scale 1 a stroke one pixel wide colours about half the blocks it
//! touches, which is invisible for white or grey text (the usual case: names, captions).
//!
//! Nothing outside the clip rectangle (and the picture) is written, so a name drawn in a tile
//! never bleeds into its neighbour.

use crate::font::{CELL_WIDTH, GLYPH_HEIGHT, GLYPH_WIDTH, glyph_for};
use crate::frame::{I420Mut, Yuv};
use crate::layout::Rect;

/// What is appended to a name cut to fit.
pub const ELLIPSIS: &str = "...";

/// Width in pixels of `text` on one line at `scale` (0 for no text): `6 × scale × chars −
/// scale`. Every `char` takes one cell (see [`crate::font::glyph_for`]).
pub fn text_width(text: &str, scale: u32) -> u32 {
    chars_width(text.chars().count(), scale)
}

/// Width of `n` characters at `scale`.
fn chars_width(n: usize, scale: u32) -> u32 {
    let n = u32::try_from(n).unwrap_or(u32::MAX / CELL_WIDTH);
    (n.saturating_mul(CELL_WIDTH).saturating_sub(1)).saturating_mul(scale)
}

/// Height in pixels of one line at `scale` (the glyph, descender included).
pub fn text_height(scale: u32) -> u32 {
    GLYPH_HEIGHT * scale
}

/// `text` as it fits in `max_width` pixels at `scale`: itself when it fits, else the longest
/// start of it followed by [`ELLIPSIS`] that fits, else as much of the ellipsis as fits (empty
/// when not even one dot does). Leading and trailing white space is dropped first.
pub fn fit_text(text: &str, scale: u32, max_width: u32) -> String {
    let text = text.trim();
    if text_width(text, scale) <= max_width {
        return text.to_owned();
    }
    let room = (0..)
        .take_while(|n| chars_width(*n + 1, scale) <= max_width)
        .count();
    let dots = ELLIPSIS.len();
    if room <= dots {
        return ELLIPSIS[..room].to_owned();
    }
    let kept: String = text.chars().take(room - dots).collect();
    format!("{}{ELLIPSIS}", kept.trim_end())
}

/// Draws `text` with its top-left corner at (`x`, `y`), each glyph pixel a `scale × scale`
/// block of `colour`, writing only inside `clip` (and the picture). Returns the width drawn
/// ([`text_width`]). Unlit glyph pixels are left as they are (the text has no background).
pub fn draw_text(
    target: &mut I420Mut<'_>,
    x: u32,
    y: u32,
    text: &str,
    scale: u32,
    colour: Yuv,
    clip: Rect,
) -> u32 {
    let clip = Rect::new(
        clip.x,
        clip.y,
        clip.right().min(target.width()).saturating_sub(clip.x),
        clip.bottom().min(target.height()).saturating_sub(clip.y),
    );
    let mut left = x;
    for c in text.chars() {
        if left >= clip.right() {
            break;
        }
        let glyph = glyph_for(c);
        for (row, bits) in (0u32..).zip(glyph.iter()) {
            for col in 0..GLYPH_WIDTH {
                if bits & (1 << (GLYPH_WIDTH - 1 - col)) != 0 {
                    let block = Rect::new(left + col * scale, y + row * scale, scale, scale);
                    paint_block(target, block, clip, colour);
                }
            }
        }
        left = left.saturating_add(CELL_WIDTH * scale);
    }
    text_width(text, scale)
}

/// Paints the part of `block` inside `clip`: luma everywhere, chroma at even pixels.
fn paint_block(target: &mut I420Mut<'_>, block: Rect, clip: Rect, colour: Yuv) {
    let (x0, x1) = (block.x.max(clip.x), block.right().min(clip.right()));
    let (y0, y1) = (block.y.max(clip.y), block.bottom().min(clip.bottom()));
    for py in y0..y1 {
        for px in x0..x1 {
            target.set_luma(px, py, colour.y);
            if px.is_multiple_of(2) && py.is_multiple_of(2) {
                target.set_chroma(px, py, colour.u, colour.v);
            }
        }
    }
}

/// The top-left corner at which `text` at `scale` is centred in `area` (rounded down to even
/// coordinates, so an even scale gives exact chroma; never left of or above `area`).
pub fn centred(text: &str, scale: u32, area: Rect) -> (u32, u32) {
    let w = text_width(text, scale);
    let h = text_height(scale);
    let x = area.x + ((area.width.saturating_sub(w) / 2) & !1);
    let y = area.y + ((area.height.saturating_sub(h) / 2) & !1);
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::I420Frame;

    const BG: Yuv = Yuv::new(40, 128, 128);

    /// The lit luma pixels of `frame` (those equal to `colour.y`) as a set of coordinates.
    fn lit(frame: &I420Frame, colour: Yuv) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for y in 0..frame.height() {
            for x in 0..frame.width() {
                if frame.pixel(x, y).y == colour.y {
                    out.push((x, y));
                }
            }
        }
        out
    }

    #[test]
    fn widths_and_heights() {
        assert_eq!(text_width("", 1), 0);
        assert_eq!(text_width("A", 1), 5);
        assert_eq!(text_width("AB", 1), 11);
        assert_eq!(text_width("REC", 2), 34);
        // One cell per char, whatever its UTF-8 length.
        assert_eq!(text_width("Zoë", 3), text_width("Zoe", 3));
        assert_eq!(text_height(3), 24);
    }

    #[test]
    fn a_glyph_lands_pixel_for_pixel() {
        let mut frame = I420Frame::filled(16, 12, BG).unwrap();
        let white = Yuv::WHITE;
        let whole = Rect::new(0, 0, 16, 12);
        draw_text(&mut frame.view_mut(), 2, 2, "L", 1, white, whole);
        // 'L': column 0 rows 0..=6 and row 6 columns 0..=4, at (2, 2).
        let mut want: Vec<(u32, u32)> = (0..7).map(|r| (2, 2 + r)).collect();
        want.extend((1..5).map(|c| (2 + c, 8)));
        want.sort_by_key(|(x, y)| (*y, *x));
        assert_eq!(lit(&frame, white), want);
        // Chroma at the blocks of lit even pixels only: (2, 2) lit, (4, 4) not.
        assert_eq!(frame.pixel(2, 2), white);
        assert_eq!((frame.pixel(4, 4).u, frame.pixel(4, 4).v), (BG.u, BG.v));
    }

    #[test]
    fn scale_two_makes_two_by_two_blocks_of_exact_colour() {
        let red = Yuv::from_rgb([230, 30, 30]);
        let mut one = I420Frame::filled(20, 20, BG).unwrap();
        let mut two = I420Frame::filled(40, 40, BG).unwrap();
        draw_text(
            &mut one.view_mut(),
            0,
            0,
            "R",
            1,
            red,
            Rect::new(0, 0, 20, 20),
        );
        draw_text(
            &mut two.view_mut(),
            0,
            0,
            "R",
            2,
            red,
            Rect::new(0, 0, 40, 40),
        );
        let small = lit(&one, red);
        assert_eq!(lit(&two, red).len(), 4 * small.len());
        for (x, y) in small {
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                assert_eq!(two.pixel(2 * x + dx, 2 * y + dy), red, "({x}, {y})");
            }
        }
    }

    #[test]
    fn nothing_is_written_outside_the_clip() {
        let mut frame = I420Frame::filled(64, 32, BG).unwrap();
        let clip = Rect::new(10, 4, 20, 8);
        draw_text(&mut frame.view_mut(), 6, 2, "WWWWWW", 2, Yuv::WHITE, clip);
        let mut inside = 0;
        for y in 0..32 {
            for x in 0..64 {
                let p = frame.pixel(x, y);
                if clip.contains(x, y) {
                    inside += usize::from(p.y == Yuv::WHITE.y);
                } else {
                    assert_eq!(p.y, BG.y, "luma written outside the clip at ({x}, {y})");
                }
            }
        }
        assert!(inside > 20, "only {inside} pixels drawn inside the clip");
        // Chroma blocks outside the clip are untouched.
        assert_eq!(frame.pixel(4, 2), BG);
        assert_eq!(frame.pixel(40, 10), BG);
    }

    #[test]
    fn long_names_are_cut_with_an_ellipsis() {
        assert_eq!(fit_text("  Ada  ", 1, 100), "Ada");
        // 10 characters at scale 1 = 59 pixels; 9 fit in 53.
        let name = "Alexandrina";
        assert_eq!(fit_text(name, 1, 65), name);
        assert_eq!(fit_text(name, 1, 53), "Alexan...");
        assert!(text_width(&fit_text(name, 1, 53), 1) <= 53);
        // A space before the cut is not kept before the dots.
        assert_eq!(fit_text("Ana Maria Silva", 1, 53), "Ana Ma...");
        assert_eq!(fit_text("Ana Maria", 2, 70), "Ana...");
        assert_eq!(fit_text("Ana Maria", 1, 11), "..");
        assert_eq!(fit_text("Ana Maria", 1, 4), "");
        assert_eq!(fit_text("Zoë Ångström-Øberg", 1, 41), "Zoë...");
    }

    #[test]
    fn centred_is_even_and_inside() {
        let area = Rect::new(100, 50, 320, 180);
        let (x, y) = centred("Hello", 2, area);
        assert_eq!((x % 2, y % 2), (0, 0));
        let w = text_width("Hello", 2);
        assert!(x >= area.x && x + w <= area.right());
        assert!((i64::from(x - area.x) - i64::from(area.right() - x - w)).abs() <= 2);
        // Too wide: starts at the area's left edge.
        assert_eq!(
            centred("a very long line of text indeed", 4, area).0,
            area.x
        );
    }
}
