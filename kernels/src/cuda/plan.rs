//! What each kernel launch of a draw or a clear gets: computed once, in Rust, for both the GPU
//! canvas and the CPU execution harness.

use super::source::BLOCK;
use crate::frame::Yuv;
use crate::layout::Rect;
use crate::scale::fit_rect;

/// The arguments of one `scale_fit_plane` launch other than the two buffers and their strides,
/// in bytes of the plane launched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PlaneLaunch {
    /// 0 = Y, 1 = U, 2 = V.
    pub(crate) plane: usize,
    /// Source plane size (zero for a clear: no source).
    pub(crate) src_w: u32,
    pub(crate) src_h: u32,
    /// The tile's rectangle in this plane.
    pub(crate) area: Rect,
    /// The picture's rectangle in this plane (empty for a clear).
    pub(crate) pic: Rect,
    /// The value outside the picture.
    pub(crate) bar: u8,
}

impl PlaneLaunch {
    /// `(grid, block)` dimensions covering the area, one thread per byte.
    pub(crate) fn dims(&self) -> ((u32, u32, u32), (u32, u32, u32)) {
        (
            (
                self.area.width.div_ceil(BLOCK.0),
                self.area.height.div_ceil(BLOCK.1),
                1,
            ),
            (BLOCK.0, BLOCK.1, 1),
        )
    }
}

fn halve(rect: Rect) -> Rect {
    Rect::new(rect.x / 2, rect.y / 2, rect.width / 2, rect.height / 2)
}

fn planes(src: (u32, u32), area: Rect, pic: Rect, colour: Yuv) -> [PlaneLaunch; 3] {
    let values = [colour.y, colour.u, colour.v];
    std::array::from_fn(|plane| {
        let shift = u32::from(plane != 0);
        PlaneLaunch {
            plane,
            src_w: src.0 >> shift,
            src_h: src.1 >> shift,
            area: if plane == 0 { area } else { halve(area) },
            pic: if plane == 0 { pic } else { halve(pic) },
            bar: values[plane],
        }
    })
}

/// The three launches that scale a `src_w × src_h` picture into luma rectangle `area` (even,
/// checked by the caller) with black bars, as [`crate::scale::scale_fit_into`] does.
pub(crate) fn draw_launches(src_w: u32, src_h: u32, area: Rect) -> [PlaneLaunch; 3] {
    let pic = fit_rect(src_w, src_h, area);
    planes((src_w, src_h), area, pic, Yuv::BLACK)
}

/// The three launches that paint luma rectangle `area` one colour.
pub(crate) fn fill_launches(area: Rect, colour: Yuv) -> [PlaneLaunch; 3] {
    planes((0, 0), area, Rect::default(), colour)
}
