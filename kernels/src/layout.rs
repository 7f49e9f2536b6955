//! The geometry of the Meet→VTC composite: which rectangle of the output each tile is.
//!
//! Two arrangements ([`Arrangement`]), chosen by how many other participants have a tile
//! ([`Layout::for_sources`]):
//!
//! ```text
//!  0 others: Full, the waiting slate     1 other: Full, the one source
//! +--------------------------------+    +--------------------------------+
//! |                                |    |                                |
//! |   Waiting for other            |    |          tile 0: W × H         |
//! |   participants (tile 0)        |    |       (their picture, or       |
//! |                                |    |        their name slate)       |
//! +--------------------------------+    +--------------------------------+
//!
//!  2..=8 others: OnePlusSeven             more than 8: OnePlusSeven, the same 8 tiles
//! +------------------------+-------+     (Meet sends at most 8 video streams; the
//! |                        |   1   |      others are heard in the audio mix, not seen)
//! |           0            +-------+
//! |                        |   2   |     3 others: tiles 0, 1, 2 drawn; slots 3..=7
//! |                        +-------+     stay plain background (no slate).
//! |                        |   3   |
//! +------+-------+---------+-------+
//! |   4  |   5   |    6    |   7   |
//! +------+-------+---------+-------+
//! ```
//!
//! The 1+7 arrangement for an output of `W × H` (both even; 1280×720 by default):
//!
//! ```text
//!  x = 0         W/4        W/2        3W/4         W
//! y=0 +----------------------------------+----------+
//!     |                                  |    1     |
//!     |                                  |          |
//! H/4 |                                  +----------+
//!     |               0                  |    2     |
//!     |         main: 3W/4 × 3H/4        |          |
//! H/2 |                                  +----------+
//!     |                                  |    3     |
//!     |                                  |          |
//!3H/4 +----------+----------+------------+----------+
//!     |    4     |    5     |     6      |    7     |
//!     |          |          |            |          |
//!  H  +----------+----------+------------+----------+
//! ```
//!
//! - Tile 0, the main tile: `x = 0, y = 0`, `3W/4 × 3H/4` (960×540 at 720p).
//! - Tiles 1–3, the right column: `x = 3W/4`, `y = 0, H/4, H/2`, `W/4 × H/4` (320×180 at 720p).
//! - Tiles 4–7, the bottom row: `y = 3H/4`, `x = 0, W/4, W/2, 3W/4`, `W/4 × H/4`.
//!
//! Every boundary (`W/4`, `W/2`, `3W/4`, and the same for `H`) is **rounded down to an even
//! number**, so every corner lands on a chroma sample. A tile spans from its boundary to the
//! next one (the last to the frame's edge), so the eight tiles never overlap and cover the frame
//! exactly for any even size. When `W` and `H` are multiples of 8 (1280×720, 1920×1080,
//! 704×576) this is exactly the quarters above; otherwise (640×360: `H/4` = 90, fine; `W = 1004`:
//! `W/4` = 251 → 250) a tile can be 2 pixels wider or taller than its neighbour.
//!
//! The full arrangement has one tile, tile 0, the whole frame; tiles 1..=7 do not exist in it
//! ([`Layout::tile`] is `None`).

use crate::frame::{FrameError, check_size};

/// A rectangle of pixels: `x .. x + width` by `y .. y + height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge (inclusive).
    pub x: u32,
    /// Top edge (inclusive).
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Rect {
    /// A rectangle from its corner and size.
    pub const fn new(x: u32, y: u32, width: u32, height: u32) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// One past the right edge.
    pub const fn right(&self) -> u32 {
        self.x + self.width
    }

    /// One past the bottom edge.
    pub const fn bottom(&self) -> u32 {
        self.y + self.height
    }

    /// True when the pixel (`x`, `y`) is inside.
    pub const fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.right() && y >= self.y && y < self.bottom()
    }

    /// The centre pixel (rounded down).
    pub const fn center(&self) -> (u32, u32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }

    /// True when the two rectangles share at least one pixel.
    pub const fn overlaps(&self, other: &Self) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// True when every corner and size is even (the rectangle has an exact chroma rectangle).
    pub const fn is_even(&self) -> bool {
        (self.x | self.y | self.width | self.height).is_multiple_of(2)
    }

    /// Number of pixels.
    pub const fn area(&self) -> u64 {
        self.width as u64 * self.height as u64
    }
}

/// Number of tiles in a 1+7 layout.
pub const TILE_COUNT: usize = 8;

/// The index of the main tile; thumbnails are `1..=7`.
pub const MAIN_TILE: usize = 0;

/// How the output is divided (module docs have the pictures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arrangement {
    /// One tile, the whole frame: the waiting slate (no other participant) or the one other
    /// participant.
    Full,
    /// The main tile and seven thumbnails (two or more other participants).
    OnePlusSeven,
}

impl Arrangement {
    /// The arrangement for `sources` other participants with a tile: [`Arrangement::Full`] for
    /// 0 and 1, [`Arrangement::OnePlusSeven`] from 2 on (more than [`TILE_COUNT`] still get 1+7:
    /// only 8 of them are seen).
    pub fn for_sources(sources: usize) -> Self {
        if sources <= 1 {
            Self::Full
        } else {
            Self::OnePlusSeven
        }
    }

    /// Number of tiles: 1 or [`TILE_COUNT`].
    pub fn tile_count(self) -> usize {
        match self {
            Self::Full => 1,
            Self::OnePlusSeven => TILE_COUNT,
        }
    }
}

/// The tiles of one arrangement for one output size (see the module docs for the pictures).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    arrangement: Arrangement,
    width: u32,
    height: u32,
    tiles: [Rect; TILE_COUNT],
}

impl Default for Layout {
    /// The 1280×720 layout.
    fn default() -> Self {
        Self::one_plus_seven(1280, 720).expect("1280x720 is a valid size")
    }
}

/// `value` rounded down to an even number.
const fn even(value: u32) -> u32 {
    value & !1
}

impl Layout {
    /// The 1+7 layout of a `width × height` output (both even and non-zero).
    pub fn one_plus_seven(width: u32, height: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        // Column and row boundaries: 0, W/4, W/2, 3W/4, W (each rounded down to even).
        let xs = [
            0,
            even(width / 4),
            even(width / 2),
            even(width / 4 * 3 + width % 4 * 3 / 4),
            width,
        ];
        let ys = [
            0,
            even(height / 4),
            even(height / 2),
            even(height / 4 * 3 + height % 4 * 3 / 4),
            height,
        ];
        let span = |col: usize, row: usize, cols: usize, rows: usize| {
            Rect::new(
                xs[col],
                ys[row],
                xs[col + cols] - xs[col],
                ys[row + rows] - ys[row],
            )
        };
        let tiles = [
            span(0, 0, 3, 3), // main
            span(3, 0, 1, 1), // right column, top to bottom
            span(3, 1, 1, 1),
            span(3, 2, 1, 1),
            span(0, 3, 1, 1), // bottom row, left to right
            span(1, 3, 1, 1),
            span(2, 3, 1, 1),
            span(3, 3, 1, 1),
        ];
        Ok(Self {
            arrangement: Arrangement::OnePlusSeven,
            width,
            height,
            tiles,
        })
    }

    /// The full layout of a `width × height` output (both even and non-zero): tile 0 is the
    /// whole frame, and the only tile.
    pub fn full(width: u32, height: u32) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let mut tiles = [Rect::default(); TILE_COUNT];
        tiles[MAIN_TILE] = Rect::new(0, 0, width, height);
        Ok(Self {
            arrangement: Arrangement::Full,
            width,
            height,
            tiles,
        })
    }

    /// The layout of `arrangement` at `width × height`.
    pub fn new(arrangement: Arrangement, width: u32, height: u32) -> Result<Self, FrameError> {
        match arrangement {
            Arrangement::Full => Self::full(width, height),
            Arrangement::OnePlusSeven => Self::one_plus_seven(width, height),
        }
    }

    /// The layout for `sources` other participants with a tile ([`Arrangement::for_sources`]).
    pub fn for_sources(width: u32, height: u32, sources: usize) -> Result<Self, FrameError> {
        Self::new(Arrangement::for_sources(sources), width, height)
    }

    /// The same arrangement at another size, or another arrangement at the same size, is a new
    /// layout; this says which arrangement this one is.
    pub fn arrangement(&self) -> Arrangement {
        self.arrangement
    }

    /// Output width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Output height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The tiles that exist: for 1+7 all eight (index 0 the main tile, 1..=7 the thumbnails),
    /// for the full layout only tile 0.
    pub fn tiles(&self) -> &[Rect] {
        &self.tiles[..self.arrangement.tile_count()]
    }

    /// Tile `index`, or `None` when this arrangement has no such tile.
    pub fn tile(&self, index: usize) -> Option<Rect> {
        self.tiles().get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_tiles_at_720p() {
        let layout = Layout::one_plus_seven(1280, 720).unwrap();
        assert_eq!(layout, Layout::default());
        assert_eq!(
            layout.tiles(),
            &[
                Rect::new(0, 0, 960, 540),
                Rect::new(960, 0, 320, 180),
                Rect::new(960, 180, 320, 180),
                Rect::new(960, 360, 320, 180),
                Rect::new(0, 540, 320, 180),
                Rect::new(320, 540, 320, 180),
                Rect::new(640, 540, 320, 180),
                Rect::new(960, 540, 320, 180),
            ]
        );
    }

    #[test]
    fn exact_tiles_at_1080p() {
        let layout = Layout::one_plus_seven(1920, 1080).unwrap();
        assert_eq!(
            layout.tiles(),
            &[
                Rect::new(0, 0, 1440, 810),
                Rect::new(1440, 0, 480, 270),
                Rect::new(1440, 270, 480, 270),
                Rect::new(1440, 540, 480, 270),
                Rect::new(0, 810, 480, 270),
                Rect::new(480, 810, 480, 270),
                Rect::new(960, 810, 480, 270),
                Rect::new(1440, 810, 480, 270),
            ]
        );
    }

    #[test]
    fn tiles_are_even_disjoint_and_cover_the_frame() {
        for (w, h) in [
            (1280, 720),
            (1920, 1080),
            (640, 360),
            (704, 576),
            (352, 288),
            (1004, 566),
            (1002, 562),
            (8, 8),
            (2, 2),
        ] {
            let layout = Layout::one_plus_seven(w, h).unwrap();
            let tiles = layout.tiles();
            let mut area = 0;
            for (i, a) in tiles.iter().enumerate() {
                assert!(a.is_even(), "{w}x{h} tile {i} {a:?}");
                assert!(a.right() <= w && a.bottom() <= h, "{w}x{h} tile {i} {a:?}");
                area += a.area();
                for b in &tiles[i + 1..] {
                    assert!(!a.overlaps(b), "{w}x{h}: {a:?} overlaps {b:?}");
                }
            }
            // Disjoint tiles inside the frame whose areas add up to the frame's cover it.
            assert_eq!(area, u64::from(w) * u64::from(h), "{w}x{h}");
        }
    }

    #[test]
    fn thumbnails_are_a_quarter_when_the_size_allows() {
        let layout = Layout::one_plus_seven(704, 576).unwrap();
        assert_eq!(layout.tile(MAIN_TILE), Some(Rect::new(0, 0, 528, 432)));
        for tile in &layout.tiles()[1..] {
            assert_eq!((tile.width, tile.height), (176, 144));
        }
        assert_eq!(layout.tile(TILE_COUNT), None);
        assert!(Layout::one_plus_seven(1281, 720).is_err());
    }

    #[test]
    fn arrangement_by_number_of_sources() {
        let whole = Rect::new(0, 0, 1280, 720);
        for sources in [0, 1] {
            let layout = Layout::for_sources(1280, 720, sources).unwrap();
            assert_eq!(layout.arrangement(), Arrangement::Full);
            assert_eq!(layout.tiles(), &[whole]);
            assert_eq!(layout.tile(MAIN_TILE), Some(whole));
            assert_eq!(layout.tile(1), None);
        }
        for sources in [2, 3, 8, 9, 40] {
            let layout = Layout::for_sources(1280, 720, sources).unwrap();
            assert_eq!(layout, Layout::default(), "{sources} sources");
            assert_eq!(layout.tiles().len(), TILE_COUNT);
        }
        assert!(Layout::full(0, 720).is_err());
    }
}
