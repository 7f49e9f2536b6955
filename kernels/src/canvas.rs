//! The CPU canvas: one persistent I420 frame, redrawn a tile at a time.
//!
//! The background is painted once, at creation (and again when the layout changes,
//! [`Canvas::set_layout`]). After that a tile is written only when its source delivers a
//! picture ([`Canvas::draw`]), shows a slate ([`Canvas::draw_slate`]) or loses its source
//! ([`Canvas::clear_tile`]), and only inside that tile; [`Canvas::frame`] hands out the current
//! picture at any moment (the encoder's fixed-rate tick never waits for a source), and
//! [`Canvas::take_damage`] says which tiles changed since it was last asked. Why this beats
//! GStreamer's `compositor`, which clears and reblends the whole frame every tick:
//! `shared/docs/media.md` §4.
//!
//! A tile's caption ([`Canvas::set_caption`]) is drawn over every picture of that tile right
//! after it is scaled in, so it costs nothing when no picture arrives. The recording indicator
//! is not drawn here but on the output copy ([`crate::overlay`]).

use crate::compositor::{
    CompositeError, Compositor, Damage, check_download_size, check_same_size, check_tile_index,
};
use crate::frame::I420View;
use crate::frame::{I420Frame, Yuv};
use crate::layout::{Layout, Rect, TILE_COUNT};
use crate::scale::{fill_rect, scale_fit_into};
use crate::slate::{Slate, draw_caption, draw_slate};

/// The default background of a canvas and of a tile with no source: a dark grey (Y 32), told
/// apart from the black ([`Yuv::BLACK`], Y 16) of the bars around a picture of another shape.
pub const DEFAULT_BACKGROUND: Yuv = Yuv::new(32, 128, 128);

/// The CPU implementation of [`Compositor`], and the reference of the GPU one.
#[derive(Debug)]
pub struct Canvas {
    layout: Layout,
    background: Yuv,
    frame: I420Frame,
    captions: [Option<String>; TILE_COUNT],
    damage: Damage,
}

impl Canvas {
    /// A canvas of `layout`'s size painted [`DEFAULT_BACKGROUND`].
    pub fn new(layout: Layout) -> Self {
        Self::with_background(layout, DEFAULT_BACKGROUND)
    }

    /// A canvas of `layout`'s size painted `background` (also used by [`Canvas::clear_tile`]).
    pub fn with_background(layout: Layout, background: Yuv) -> Self {
        let frame = I420Frame::filled(layout.width(), layout.height(), background)
            .expect("a layout's size is a valid frame size");
        Self {
            layout,
            background,
            frame,
            captions: Default::default(),
            damage: Damage::ALL,
        }
    }

    /// The background colour.
    pub fn background(&self) -> Yuv {
        self.background
    }

    /// The current composite. Borrowing it never waits.
    pub fn frame(&self) -> &I420Frame {
        &self.frame
    }

    /// The current layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn tile(&self, index: usize) -> Result<Rect, CompositeError> {
        self.layout
            .tile(index)
            .ok_or(CompositeError::NoSuchTile(index))
    }

    /// Changes the layout (same size): paints the whole frame the background and damages every
    /// tile. See [`Compositor::set_layout`].
    pub fn set_layout(&mut self, layout: Layout) -> Result<(), CompositeError> {
        check_same_size(&self.layout, &layout)?;
        self.layout = layout;
        let whole = Rect::new(0, 0, layout.width(), layout.height());
        fill_rect(&mut self.frame, whole, self.background);
        self.damage = Damage::ALL;
        Ok(())
    }

    /// Scales `src` into tile `tile` (aspect fit, black bars), draws the tile's caption over it
    /// and marks it damaged. Nothing outside the tile is written. Returns where the picture
    /// went inside the tile.
    pub fn draw(&mut self, tile: usize, src: &I420View<'_>) -> Result<Rect, CompositeError> {
        let rect = self.tile(tile)?;
        let inner = scale_fit_into(src, &mut self.frame, rect)?;
        if let Some(name) = &self.captions[tile] {
            draw_caption(&mut self.frame.view_mut(), rect, name);
        }
        self.damage.insert(tile);
        Ok(inner)
    }

    /// Paints tile `tile` with `slate` and marks it damaged.
    pub fn draw_slate(&mut self, tile: usize, slate: &Slate) -> Result<(), CompositeError> {
        let rect = self.tile(tile)?;
        draw_slate(&mut self.frame.view_mut(), rect, slate);
        self.damage.insert(tile);
        Ok(())
    }

    /// Sets or removes the caption of tile `tile`, shown from its next [`Canvas::draw`].
    pub fn set_caption(
        &mut self,
        tile: usize,
        caption: Option<&str>,
    ) -> Result<(), CompositeError> {
        check_tile_index(tile)?;
        self.captions[tile] = caption.map(str::to_owned);
        Ok(())
    }

    /// The caption of tile `tile`, if it has one.
    pub fn caption(&self, tile: usize) -> Option<&str> {
        self.captions.get(tile)?.as_deref()
    }

    /// Paints tile `tile` with the background and marks it damaged.
    pub fn clear_tile(&mut self, tile: usize) -> Result<(), CompositeError> {
        let rect = self.tile(tile)?;
        fill_rect(&mut self.frame, rect, self.background);
        self.damage.insert(tile);
        Ok(())
    }

    /// The tiles drawn or cleared since the previous call (all of them on the first call), and
    /// starts a new, empty set.
    pub fn take_damage(&mut self) -> Damage {
        std::mem::take(&mut self.damage)
    }
}

impl Compositor for Canvas {
    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn set_layout(&mut self, layout: Layout) -> Result<(), CompositeError> {
        Self::set_layout(self, layout)
    }

    fn draw(&mut self, tile: usize, src: &I420View<'_>) -> Result<(), CompositeError> {
        Self::draw(self, tile, src).map(|_| ())
    }

    fn draw_slate(&mut self, tile: usize, slate: &Slate) -> Result<(), CompositeError> {
        Self::draw_slate(self, tile, slate)
    }

    fn set_caption(&mut self, tile: usize, caption: Option<&str>) -> Result<(), CompositeError> {
        Self::set_caption(self, tile, caption)
    }

    fn clear_tile(&mut self, tile: usize) -> Result<(), CompositeError> {
        Self::clear_tile(self, tile)
    }

    fn download(&mut self, out: &mut I420Frame) -> Result<(), CompositeError> {
        check_download_size(&self.layout, out)?;
        out.clone_from(&self.frame);
        Ok(())
    }

    fn take_damage(&mut self) -> Damage {
        Self::take_damage(self)
    }
}
