//! The interface of a 1+7 compositor, which the CPU [`Canvas`](crate::canvas::Canvas) and the
//! GPU `GpuCanvas` (in [`crate::cuda`]) both implement, and what it reports: which tiles changed
//! ([`Damage`]) and what went wrong ([`CompositeError`]).

use crate::frame::{FrameError, I420Frame, I420View};
use crate::layout::{Layout, TILE_COUNT};
use crate::scale::ScaleError;
use crate::slate::Slate;

/// A set of tile indices (`0..TILE_COUNT`): the tiles that changed since the last
/// [`Compositor::take_damage`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Damage(u8);

impl Damage {
    /// No tile.
    pub const NONE: Self = Self(0);
    /// Every tile.
    pub const ALL: Self = Self(u8::MAX);

    /// The set holding exactly `tiles` (indices past the last tile are ignored).
    pub fn of(tiles: impl IntoIterator<Item = usize>) -> Self {
        let mut set = Self::NONE;
        for tile in tiles {
            set.insert(tile);
        }
        set
    }

    /// Adds tile `index` (ignored past the last tile).
    pub fn insert(&mut self, index: usize) {
        if index < TILE_COUNT {
            self.0 |= 1 << index;
        }
    }

    /// True when tile `index` is in the set.
    pub fn contains(&self, index: usize) -> bool {
        index < TILE_COUNT && self.0 & (1 << index) != 0
    }

    /// True when no tile changed: the caller can skip its work (e.g. encode a repeat frame).
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The tile indices in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..TILE_COUNT).filter(|&i| self.contains(i))
    }
}

/// What a compositor refused or failed at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompositeError {
    /// The current layout has no such tile (past `TILE_COUNT`, or past 0 in the full layout).
    #[error("no tile {0} in the current layout")]
    NoSuchTile(usize),
    /// A frame had an unusable size or layout.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A scale could not be done (a bug: tiles are always even and inside the frame).
    #[error(transparent)]
    Scale(#[from] ScaleError),
    /// A frame handed to [`Compositor::download`], or a new layout, is not the canvas's size.
    #[error("the frame is {got:?}, the canvas {want:?}")]
    SizeMismatch {
        /// The canvas's (width, height).
        want: (u32, u32),
        /// The frame's (width, height).
        got: (u32, u32),
    },
    /// The GPU could not be used or failed (no driver library, NVRTC, a CUDA call).
    #[error("GPU: {0}")]
    Gpu(String),
}

/// A persistent composite: one output frame that tiles are drawn into as their sources
/// deliver pictures, read at a fixed rate without waiting for any source.
///
/// Drawing touches only the tile drawn; a source is fitted into its tile with its aspect ratio
/// kept (black bars, see [`crate::scale`]); a source may change size between any two draws.
/// A tile may have a caption (the participant's name, [`crate::slate`]), drawn over each
/// picture of that tile; a tile whose participant sends no video shows a slate instead.
pub trait Compositor {
    /// The current layout.
    fn layout(&self) -> &Layout;

    /// Changes the layout (another [`crate::layout::Arrangement`] of the same output size):
    /// the whole frame is painted the background and every tile is damaged. The caller redraws
    /// the tiles of the new layout before the next read (under the same lock), so a picture
    /// that stays never flashes the background. Refuses another size.
    fn set_layout(&mut self, layout: Layout) -> Result<(), CompositeError>;

    /// Scales `src` into tile `tile` (aspect fit), draws the tile's caption over it (if it has
    /// one) and marks the tile damaged.
    fn draw(&mut self, tile: usize, src: &I420View<'_>) -> Result<(), CompositeError>;

    /// Paints tile `tile` with `slate` (its colour, its text centred) and marks it damaged. No
    /// caption is drawn on a slate (it shows the name already).
    fn draw_slate(&mut self, tile: usize, slate: &Slate) -> Result<(), CompositeError>;

    /// Sets (or with `None` removes) the caption of tile `tile`. It shows from the tile's next
    /// [`draw`](Self::draw): a caller changing a caption redraws the tile's last picture.
    fn set_caption(&mut self, tile: usize, caption: Option<&str>) -> Result<(), CompositeError>;

    /// Paints tile `tile` with the canvas background (a tile with no source) and marks it
    /// damaged.
    fn clear_tile(&mut self, tile: usize) -> Result<(), CompositeError>;

    /// Copies the current composite into `out` (a frame of the layout's size). The CPU canvas
    /// copies memory; the GPU one downloads from the device. Never waits for a source.
    fn download(&mut self, out: &mut I420Frame) -> Result<(), CompositeError>;

    /// The tiles drawn or cleared since the previous call (all tiles on the first call after
    /// creation), and starts a new, empty set.
    fn take_damage(&mut self) -> Damage;
}

/// Checks that `layout` has the same size as `current` (a canvas keeps its size).
pub(crate) fn check_same_size(current: &Layout, layout: &Layout) -> Result<(), CompositeError> {
    let want = (current.width(), current.height());
    let got = (layout.width(), layout.height());
    if want != got {
        return Err(CompositeError::SizeMismatch { want, got });
    }
    Ok(())
}

/// Checks that `tile` is a tile index (`0..TILE_COUNT`; whether the current layout has it is
/// not asked: a caption may be set ahead of a layout change).
pub(crate) fn check_tile_index(tile: usize) -> Result<(), CompositeError> {
    if tile >= TILE_COUNT {
        return Err(CompositeError::NoSuchTile(tile));
    }
    Ok(())
}

/// Checks that `out` has the layout's size.
pub(crate) fn check_download_size(layout: &Layout, out: &I420Frame) -> Result<(), CompositeError> {
    let want = (layout.width(), layout.height());
    let got = (out.width(), out.height());
    if want != got {
        return Err(CompositeError::SizeMismatch { want, got });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_set_operations() {
        let mut damage = Damage::NONE;
        assert!(damage.is_empty());
        damage.insert(3);
        damage.insert(0);
        damage.insert(TILE_COUNT); // ignored
        assert!(damage.contains(3) && damage.contains(0) && !damage.contains(1));
        assert_eq!(damage.iter().collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(damage, Damage::of([3, 0]));
        assert_eq!(Damage::ALL.iter().count(), TILE_COUNT);
    }
}
