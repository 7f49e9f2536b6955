//! Names on the canvas: the **slate** of a tile whose participant sends no video, and the
//! **caption** over a tile that shows a picture.
//!
//! - A slate ([`Slate`], drawn by [`draw_slate`]) fills the whole tile with one colour and
//!   centres one line of text in it. A participant's slate ([`Slate::participant`]) takes its
//!   colour from the name ([`name_colour`]: a hash of the name picks a hue, always the same for
//!   the same name, so two participants' slates differ), with the name in white; the waiting
//!   slate ([`Slate::waiting`]) is the canvas background with "Waiting for other participants".
//!   The text is as large as fits (scale up to `tile height / 60`, at most 6; at least 2 in a
//!   tile 120 pixels tall or more), and cut with "..." when it does not fit at the smallest.
//! - A caption ([`draw_caption`]) is a dark box at the tile's bottom-left corner holding the
//!   name in light grey, drawn *over* the picture each time the tile is drawn (so it costs a
//!   box of about 20 × 120 pixels per tile picture, nothing on the fixed-rate tick). Its scale
//!   is `tile height / 90` (1 to 3: 2 on a 320×180 thumbnail, 3 on the main tile).
//!
//! Both are opaque (no blending with the picture), so the GPU canvas can draw the same bytes by
//! rendering them on the host into a small picture ([`caption_picture`]) and copying that into
//! the tile 1:1.

use crate::canvas::DEFAULT_BACKGROUND;
use crate::frame::{I420Frame, I420Mut, Yuv};
use crate::layout::Rect;
use crate::text::{centred, draw_text, fit_text, text_height, text_width};

/// The text of the slate shown when no other participant is in the conference.
pub const WAITING_TEXT: &str = "Waiting for other participants";

/// The colour of slate text.
pub const SLATE_TEXT: Yuv = Yuv::WHITE;

/// The caption box's colour: near black, darker than the canvas background.
pub const CAPTION_BACKGROUND: Yuv = Yuv::new(24, 128, 128);

/// The caption text's colour: a light grey.
pub const CAPTION_TEXT: Yuv = Yuv::new(225, 128, 128);

/// What a slate shows: a background colour and one line of text centred on it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Slate {
    /// The colour of the whole tile.
    pub background: Yuv,
    /// The line of text (cut with "..." if it does not fit).
    pub text: String,
}

impl Slate {
    /// The slate of a participant without video: their name on [`name_colour`]. An empty name
    /// shows as "?".
    pub fn participant(name: &str) -> Self {
        let name = name.trim();
        Self {
            background: name_colour(name),
            text: if name.is_empty() { "?" } else { name }.to_owned(),
        }
    }

    /// The full-frame slate shown while nobody else is in the conference: [`WAITING_TEXT`] on
    /// the canvas background.
    pub fn waiting() -> Self {
        Self {
            background: DEFAULT_BACKGROUND,
            text: WAITING_TEXT.to_owned(),
        }
    }
}

/// FNV-1a, 32 bits: a small, fixed hash (the standard library's is randomised per process).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Number of slate colours: hues 30° apart, so two colours are either the same or clearly
/// different (a continuous hue gives near-identical colours as often).
pub const SLATE_HUES: u32 = 12;

/// The slate colour of `name` (white space around it ignored): one of [`SLATE_HUES`] hues,
/// picked by a hash of the name, at a fixed saturation and a fixed, dark value (RGB channels
/// between 51 and 128), so white text reads on every one. The same name always gives the same
/// colour; two names share one with a chance of 1 in 12 (their texts still differ).
pub fn name_colour(name: &str) -> Yuv {
    let hue = fnv1a(name.trim().as_bytes()) % SLATE_HUES * (360 / SLATE_HUES);
    let (low, high) = (51u32, 128u32);
    let span = high - low;
    let (sector, within) = (hue / 60, hue % 60);
    let rising = low + span * within / 60;
    let falling = high - span * within / 60;
    let [r, g, b] = match sector {
        0 => [high, rising, low],
        1 => [falling, high, low],
        2 => [low, high, rising],
        3 => [low, falling, high],
        4 => [rising, low, high],
        _ => [high, low, falling],
    };
    // Every channel is between 51 and 128.
    Yuv::from_rgb([r as u8, g as u8, b as u8])
}

/// The text scale of a slate in `area`: the largest from `area.height / 60` (at most 6) down to
/// the floor (2 for a tile 120 pixels tall or more, else 1) at which `text` fits in 90 % of the
/// width; the floor when none does (the text is then cut).
fn slate_scale(text: &str, area: Rect) -> u32 {
    let top = (area.height / 60).clamp(1, 6);
    let floor = if area.height >= 120 { 2 } else { 1 }.min(top);
    let room = area.width / 10 * 9;
    (floor..=top)
        .rev()
        .find(|s| text_width(text, *s) <= room)
        .unwrap_or(floor)
}

/// Paints `area` (even, inside the picture) with `slate`'s background and centres its text.
pub fn draw_slate(target: &mut I420Mut<'_>, area: Rect, slate: &Slate) {
    target.fill_rect(area, slate.background);
    let scale = slate_scale(&slate.text, area);
    let text = fit_text(&slate.text, scale, area.width / 10 * 9);
    let (x, y) = centred(&text, scale, area);
    draw_text(target, x, y, &text, scale, SLATE_TEXT, area);
}

/// Where the caption of `name` goes in `tile`, the text it shows (cut to fit) and its scale;
/// `None` for an empty name or a tile too small for a caption.
pub fn caption_layout(tile: Rect, name: &str) -> Option<(Rect, String, u32)> {
    let scale = (tile.height / 90).clamp(1, 3);
    let pad = 2 * scale;
    let height = (text_height(scale) + 2 * pad + 1) & !1;
    if name.trim().is_empty() || tile.width < 4 * pad || tile.height < 2 * height {
        return None;
    }
    let text = fit_text(name, scale, tile.width - 2 * pad);
    if text.is_empty() {
        return None;
    }
    let width = ((text_width(&text, scale) + 2 * pad + 1) & !1).min(tile.width);
    let rect = Rect::new(tile.x, tile.bottom() - height, width, height);
    Some((rect, text, scale))
}

/// Draws the caption of `name` at the bottom-left of `tile` (see [`caption_layout`]), over what
/// the tile shows. Returns where it went.
pub fn draw_caption(target: &mut I420Mut<'_>, tile: Rect, name: &str) -> Option<Rect> {
    let (rect, text, scale) = caption_layout(tile, name)?;
    paint_caption(target, rect, &text, scale);
    Some(rect)
}

/// The caption box at `rect` with `text` in it, `2 × scale` pixels from its top-left corner.
fn paint_caption(target: &mut I420Mut<'_>, rect: Rect, text: &str, scale: u32) {
    target.fill_rect(rect, CAPTION_BACKGROUND);
    let pad = 2 * scale;
    draw_text(
        target,
        rect.x + pad,
        rect.y + pad,
        text,
        scale,
        CAPTION_TEXT,
        rect,
    );
}

/// The caption of `name` in `tile` as a small picture of its own and where it goes: the bytes
/// [`draw_caption`] writes there (for a canvas that cannot draw in place, the GPU one).
pub fn caption_picture(tile: Rect, name: &str) -> Option<(Rect, I420Frame)> {
    let (rect, text, scale) = caption_layout(tile, name)?;
    let mut picture = I420Frame::new(rect.width, rect.height).ok()?;
    let local = Rect::new(0, 0, rect.width, rect.height);
    paint_caption(&mut picture.view_mut(), local, &text, scale);
    Some((rect, picture))
}

/// A participant's slate as a picture of `area`'s size (for the GPU canvas).
pub fn slate_picture(area: Rect, slate: &Slate) -> Option<I420Frame> {
    let mut picture = I420Frame::new(area.width, area.height).ok()?;
    draw_slate(
        &mut picture.view_mut(),
        Rect::new(0, 0, area.width, area.height),
        slate,
    );
    Some(picture)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(frame: &I420Frame, area: Rect, pred: impl Fn(Yuv) -> bool) -> usize {
        let mut n = 0;
        for y in area.y..area.bottom() {
            for x in area.x..area.right() {
                n += usize::from(pred(frame.pixel(x, y)));
            }
        }
        n
    }

    #[test]
    fn name_colours_are_stable_dark_and_varied() {
        assert_eq!(name_colour("Ada Lovelace"), name_colour(" Ada Lovelace "));
        let names: Vec<String> = (0..40).map(|i| format!("Participant {i}")).collect();
        let colours: std::collections::HashSet<Yuv> =
            names.iter().map(|n| name_colour(n)).collect();
        assert_eq!(
            colours.len(),
            SLATE_HUES as usize,
            "40 names use every colour"
        );
        for c in colours {
            assert!(c.y < 130, "{c:?} too light for white text");
        }
    }

    #[test]
    fn a_slate_fills_its_tile_and_centres_the_name() {
        let tile = Rect::new(320, 540, 320, 180);
        let mut frame = I420Frame::filled(1280, 720, DEFAULT_BACKGROUND).unwrap();
        let slate = Slate::participant("Grace Hopper");
        draw_slate(&mut frame.view_mut(), tile, &slate);
        // Corners are the slate colour; outside the tile nothing changed.
        assert_eq!(frame.pixel(tile.x, tile.y), slate.background);
        assert_eq!(
            frame.pixel(tile.right() - 1, tile.bottom() - 1),
            slate.background
        );
        assert_eq!(frame.pixel(tile.x - 1, tile.y), DEFAULT_BACKGROUND);
        assert_eq!(frame.pixel(tile.right(), tile.y + 5), DEFAULT_BACKGROUND);
        // White text in the centre band, none in the top and bottom quarters.
        let band = Rect::new(tile.x, tile.y + 60, tile.width, 60);
        let white = |p: Yuv| p.y == SLATE_TEXT.y;
        let lit = count(&frame, band, white);
        assert!(lit > 200, "only {lit} text pixels in the centre band");
        assert_eq!(count(&frame, Rect::new(tile.x, tile.y, 320, 40), white), 0);
        assert_eq!(
            count(&frame, Rect::new(tile.x, tile.y + 140, 320, 40), white),
            0
        );
    }

    #[test]
    fn two_names_give_two_different_slates() {
        let tile = Rect::new(0, 0, 320, 180);
        let mut a = I420Frame::new(320, 180).unwrap();
        let mut b = I420Frame::new(320, 180).unwrap();
        draw_slate(&mut a.view_mut(), tile, &Slate::participant("Alice"));
        draw_slate(&mut b.view_mut(), tile, &Slate::participant("Bob"));
        assert_ne!(a.pixel(2, 2), b.pixel(2, 2), "same background");
        let differing = a.y().iter().zip(b.y()).filter(|(x, y)| x != y).count();
        assert!(differing > 320 * 180 / 2, "{differing} luma bytes differ");
    }

    #[test]
    fn the_waiting_slate_fits_a_720p_frame_in_one_line() {
        let whole = Rect::new(0, 0, 1280, 720);
        let mut frame = I420Frame::new(1280, 720).unwrap();
        draw_slate(&mut frame.view_mut(), whole, &Slate::waiting());
        assert_eq!(
            fit_text(WAITING_TEXT, slate_scale(WAITING_TEXT, whole), 1152),
            WAITING_TEXT
        );
        let white = |p: Yuv| p.y == SLATE_TEXT.y;
        assert!(count(&frame, Rect::new(0, 300, 1280, 120), white) > 2000);
        assert_eq!(frame.pixel(4, 4), DEFAULT_BACKGROUND);
    }

    #[test]
    fn captions_sit_bottom_left_and_match_their_picture() {
        let tile = Rect::new(960, 180, 320, 180);
        let colour = Yuv::from_rgb([40, 200, 40]);
        let mut frame = I420Frame::filled(1280, 720, colour).unwrap();
        let rect = draw_caption(&mut frame.view_mut(), tile, "Katherine Johnson").unwrap();
        assert_eq!((rect.x, rect.bottom()), (tile.x, tile.bottom()));
        assert!(rect.is_even() && rect.width <= tile.width && rect.height < tile.height / 3);
        // Dark box with light text inside; the picture around it untouched.
        let light = count(&frame, rect, |p| p.y == CAPTION_TEXT.y);
        let dark = count(&frame, rect, |p| p.y == CAPTION_BACKGROUND.y);
        assert!(light > 100 && dark > light, "light {light}, dark {dark}");
        assert_eq!(frame.pixel(rect.right(), rect.bottom() - 1), colour);
        assert_eq!(frame.pixel(rect.x, rect.y - 1), colour);
        // The GPU canvas's host-rendered picture has the very same bytes.
        let (at, picture) = caption_picture(tile, "Katherine Johnson").unwrap();
        assert_eq!(at, rect);
        for y in 0..rect.height {
            for x in 0..rect.width {
                assert_eq!(picture.pixel(x, y), frame.pixel(rect.x + x, rect.y + y));
            }
        }
        // A long name is cut to the tile; an empty one has no caption.
        let long = "Wolfgang Amadeus Mozart of Salzburg, Composer";
        let (r, text, _) = caption_layout(tile, long).unwrap();
        assert!(text.ends_with("...") && r.width <= tile.width, "{text}");
        assert_eq!(caption_layout(tile, "  "), None);
    }
}
