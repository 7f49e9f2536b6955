//! Scaling an I420 picture into a rectangle of a frame, **keeping its aspect ratio**.
//!
//! [`scale_fit_into`] fits the source inside the rectangle (as large as possible, centred; see
//! [`fit_rect`]) and paints the rest of the rectangle video black ([`Yuv::BLACK`]): pillarbox
//! bars left and right for a 4:3 source in a 16:9 rectangle, letterbox bars above and below the
//! other way. A picture is never stretched. Every corner and size is even, so chroma stays
//! aligned with luma. [`scale_fit`] does the same into a whole frame (the uplink's "scale once
//! per layer": 1280×720 or 4:3 into 1280×720, 640×360, 320×180).
//!
//! Each plane is resampled on its own with one arithmetic, **fixed-point bilinear** (pixel
//! centres aligned, edge pixels repeated; the exact formula is `bilinear_tap` and
//! `bilinear_sample`). Two cases take a faster route to the *same bytes*:
//!
//! - same size: a row copy (bilinear at 1:1 samples every source pixel with weight 0);
//! - exactly 2:1 in both directions: a 2×2 box average `(a + b + c + d + 2) >> 2` (bilinear at
//!   2:1 samples between four pixels with weights ½, which is that average, rounding included).
//!
//! The GPU kernel ([`crate::cuda`]) evaluates the same formula per pixel, so both paths give
//! identical bytes, and the CPU one is its reference.
//!
//! Downscales by more than 2:1 sample only the two nearest pixels per axis, so fine detail can
//! alias (a 1280→320 thumbnail): good enough for moving video; an area filter would be better.

use crate::frame::{I420Frame, I420View, Plane, PlaneMut, Yuv};
use crate::layout::Rect;

/// Why a scale could not be done.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    /// The destination rectangle has an odd corner or size, or is empty.
    #[error("destination rectangle {0:?} must have even, non-zero sizes and even corners")]
    OddRect(Rect),
    /// The destination rectangle does not fit in the destination frame.
    #[error("destination rectangle {rect:?} is outside the {width}x{height} frame")]
    RectOutside {
        /// The rectangle asked for.
        rect: Rect,
        /// The frame's width.
        width: u32,
        /// The frame's height.
        height: u32,
    },
}

/// Bits of fraction in a source coordinate (16.16 fixed point).
pub(crate) const COORD_FRAC_BITS: u32 = 16;
/// Bits of a bilinear weight: weights run `0 ..= 1 << WEIGHT_BITS`.
pub(crate) const WEIGHT_BITS: u32 = 8;
const WEIGHT_ONE: u32 = 1 << WEIGHT_BITS;

/// `num / den` rounded to the nearest even integer (`den > 0`).
fn round_even(num: u64, den: u64) -> u64 {
    (num + den) / (2 * den) * 2
}

/// Where a `src_width × src_height` picture goes inside `area`: the largest rectangle of the
/// source's aspect ratio that fits, centred, with even corners and sizes (at least 2×2). `area`
/// must be even itself; the source's pixels are taken as square.
pub fn fit_rect(src_width: u32, src_height: u32, area: Rect) -> Rect {
    let (sw, sh) = (u64::from(src_width.max(1)), u64::from(src_height.max(1)));
    let (aw, ah) = (u64::from(area.width), u64::from(area.height));
    let (w, h) = if sw * ah >= sh * aw {
        // The source is at least as wide as the area: full width, letterboxed.
        (aw, round_even(aw * sh, sw).clamp(2, ah.max(2)))
    } else {
        // The source is narrower: full height, pillarboxed.
        (round_even(ah * sw, sh).clamp(2, aw.max(2)), ah)
    };
    // w <= area.width and h <= area.height, so both fit in u32.
    let (w, h) = (w as u32, h as u32);
    Rect::new(
        area.x + (((area.width - w) / 2) & !1),
        area.y + (((area.height - h) / 2) & !1),
        w,
        h,
    )
}

/// The bilinear sampling of destination index `d` along one axis of `src_len → dst_len`
/// (both non-zero): the two source indices to blend and the weight of the second, in
/// `0 .. 1 << WEIGHT_BITS`. Destination pixel centres map onto source pixel centres
/// (`s = (d + ½) · src_len / dst_len − ½`); positions before the first or past the last source
/// pixel repeat the edge.
///
/// The CUDA kernel (`cuda/source.rs`, `tap()`) is this function written in C, line for line.
#[inline]
pub(crate) fn bilinear_tap(src_len: u32, dst_len: u32, d: u32) -> (u32, u32, u32) {
    let step = (i64::from(src_len) << COORD_FRAC_BITS) / i64::from(dst_len);
    let half = 1i64 << (COORD_FRAC_BITS - 1);
    let pos = (i64::from(d) * step + step / 2 - half).max(0);
    let i0 = pos >> COORD_FRAC_BITS;
    let last = i64::from(src_len) - 1;
    if i0 >= last {
        // `last` is below src_len, a u32.
        return (last as u32, last as u32, 0);
    }
    let weight = (pos >> (COORD_FRAC_BITS - WEIGHT_BITS)) & i64::from(WEIGHT_ONE - 1);
    // 0 <= i0 < last and weight < 256: both fit in u32.
    (i0 as u32, i0 as u32 + 1, weight as u32)
}

/// The bilinear blend of four source pixels: `a` top-left, `b` top-right, `c` bottom-left,
/// `d` bottom-right, with horizontal weight `wx` (of `b`, `d`) and vertical weight `wy` (of `c`,
/// `d`), both from [`bilinear_tap`]. Exact integer arithmetic, one rounding at the end.
///
/// The CUDA kernel's `blend()` is this function written in C; the CPU scaler computes the same
/// sum split in two passes, and the CPU execution harness of the kernel calls this.
#[cfg(test)]
pub(crate) fn bilinear_sample(a: u8, b: u8, c: u8, d: u8, wx: u32, wy: u32) -> u8 {
    let left = u32::from(a) * (WEIGHT_ONE - wy) + u32::from(c) * wy;
    let right = u32::from(b) * (WEIGHT_ONE - wy) + u32::from(d) * wy;
    blend_columns(left, right, WEIGHT_ONE - wx, wx)
}

/// `(first * w_first + second * w_second + ½) >> 16`: the last step of [`bilinear_sample`], on
/// two partial sums already weighted along the other axis (`w_first + w_second = 256`).
#[inline(always)]
fn blend_columns(first: u32, second: u32, w_first: u32, w_second: u32) -> u8 {
    let value =
        (first * w_first + second * w_second + (1 << (2 * WEIGHT_BITS - 1))) >> (2 * WEIGHT_BITS);
    // A convex blend of bytes is at most 255.
    value as u8
}

/// Resamples all of `src` onto all of `dst`, picking the fast path when one applies.
pub(crate) fn scale_plane(src: &Plane<'_>, dst: &mut PlaneMut<'_>) {
    if src.width == dst.width && src.height == dst.height {
        for r in 0..dst.height {
            dst.row_mut(r).copy_from_slice(src.row(r));
        }
    } else if src.width == 2 * dst.width && src.height == 2 * dst.height {
        halve_plane(src, dst);
    } else {
        bilinear_plane(src, dst);
    }
}

/// Exact 2:1 in both directions: a 2×2 box average with rounding.
fn halve_plane(src: &Plane<'_>, dst: &mut PlaneMut<'_>) {
    for r in 0..dst.height {
        let (top, bottom) = (src.row(2 * r), src.row(2 * r + 1));
        let out = dst.row_mut(r);
        for (x, px) in out.iter_mut().enumerate() {
            let sum = u16::from(top[2 * x])
                + u16::from(top[2 * x + 1])
                + u16::from(bottom[2 * x])
                + u16::from(bottom[2 * x + 1]);
            // The average of four bytes fits a byte.
            *px = ((sum + 2) >> 2) as u8;
        }
    }
}

/// The general case: separable bilinear with the taps of [`bilinear_tap`]. Each source row
/// that is needed is first blended horizontally into a row of 16-bit sums (once, kept while the
/// next output row may use it), then each output row blends two such rows vertically (this loop
/// vectorises). The sum is the one of [`bilinear_sample`] taken in the other order, so the bytes
/// are the same.
pub(crate) fn bilinear_plane(src: &Plane<'_>, dst: &mut PlaneMut<'_>) {
    let (sw, sh) = (src.width as u32, src.height as u32);
    let (dw, dh) = (dst.width as u32, dst.height as u32);
    // Per output column: the two source columns and their weights (each weight <= 256).
    let columns: Vec<(usize, usize, u16, u16)> = (0..dw)
        .map(|x| {
            let (x0, x1, w) = bilinear_tap(sw, dw, x);
            (x0 as usize, x1 as usize, (WEIGHT_ONE - w) as u16, w as u16)
        })
        .collect();
    let blend_row = |r: u32, out: &mut [u16]| {
        let row = src.row(r as usize);
        for (px, &(x0, x1, w0, w1)) in out.iter_mut().zip(&columns) {
            // w0 + w1 = 256, so the sum is at most 255 * 256 and fits u16.
            *px = u16::from(row[x0]) * w0 + u16::from(row[x1]) * w1;
        }
    };
    // Two horizontally blended source rows, and which source rows they hold.
    let mut rows = [vec![0u16; dst.width], vec![0u16; dst.width]];
    let mut held = [u32::MAX; 2];
    for r in 0..dh {
        let (y0, y1, wy) = bilinear_tap(sh, dh, r);
        // Moving down, the old bottom row is often the new top row.
        if held[0] != y0 && held[1] == y0 {
            rows.swap(0, 1);
            held.swap(0, 1);
        }
        if held[0] != y0 {
            blend_row(y0, &mut rows[0]);
            held[0] = y0;
        }
        if held[1] != y1 {
            blend_row(y1, &mut rows[1]);
            held[1] = y1;
        }
        let (wt, wb) = (WEIGHT_ONE - wy, wy);
        let out = dst.row_mut(r as usize);
        for ((px, &t), &b) in out.iter_mut().zip(&rows[0]).zip(&rows[1]) {
            *px = blend_columns(u32::from(t), u32::from(b), wt, wb);
        }
    }
}

/// Checks that `rect` is even, non-empty and inside a `width × height` frame.
pub(crate) fn check_rect(rect: Rect, width: u32, height: u32) -> Result<(), ScaleError> {
    if !rect.is_even() || rect.width == 0 || rect.height == 0 {
        return Err(ScaleError::OddRect(rect));
    }
    if rect.right() > width || rect.bottom() > height {
        return Err(ScaleError::RectOutside {
            rect,
            width,
            height,
        });
    }
    Ok(())
}

/// The part of plane `plane` (0 = Y, 1 = U, 2 = V) of `frame` under the luma rectangle `rect`
/// (even, inside the frame).
pub(crate) fn plane_rect(frame: &mut I420Frame, plane: usize, rect: Rect) -> PlaneMut<'_> {
    let shift = usize::from(plane != 0);
    let full = frame.plane_mut(plane);
    let (x, y) = (rect.x as usize >> shift, rect.y as usize >> shift);
    let (width, height) = (rect.width as usize >> shift, rect.height as usize >> shift);
    let stride = full.stride;
    PlaneMut {
        data: &mut full.data[y * stride + x..],
        stride,
        width,
        height,
    }
}

/// Paints luma rectangle `rect` of `frame` (even, inside the frame) one colour.
pub(crate) fn fill_rect(frame: &mut I420Frame, rect: Rect, colour: Yuv) {
    if rect.width == 0 || rect.height == 0 {
        return;
    }
    for (plane, value) in [colour.y, colour.u, colour.v].into_iter().enumerate() {
        plane_rect(frame, plane, rect).fill(value);
    }
}

/// Scales `src` into rectangle `area` of `dst`, aspect ratio kept: the picture goes into
/// [`fit_rect`]`(src, area)` and the rest of `area` is painted [`Yuv::BLACK`]. Nothing outside
/// `area` is written. Returns where the picture went.
///
/// `area` must have even corners and sizes and lie inside `dst`.
pub fn scale_fit_into(
    src: &I420View<'_>,
    dst: &mut I420Frame,
    area: Rect,
) -> Result<Rect, ScaleError> {
    check_rect(area, dst.width(), dst.height())?;
    let inner = fit_rect(src.width(), src.height(), area);
    // The bars: full-width strips above and below the picture, then beside it.
    for bar in [
        Rect::new(area.x, area.y, area.width, inner.y - area.y),
        Rect::new(
            area.x,
            inner.bottom(),
            area.width,
            area.bottom() - inner.bottom(),
        ),
        Rect::new(area.x, inner.y, inner.x - area.x, inner.height),
        Rect::new(
            inner.right(),
            inner.y,
            area.right() - inner.right(),
            inner.height,
        ),
    ] {
        fill_rect(dst, bar, Yuv::BLACK);
    }
    for plane in 0..3 {
        scale_plane(&src.plane(plane), &mut plane_rect(dst, plane, inner));
    }
    Ok(inner)
}

/// Scales `src` into the whole of `dst`, aspect ratio kept (black bars where the shapes
/// differ). Returns where the picture went.
pub fn scale_fit(src: &I420View<'_>, dst: &mut I420Frame) -> Rect {
    let whole = Rect::new(0, 0, dst.width(), dst.height());
    scale_fit_into(src, dst, whole).expect("a whole frame is an even rectangle inside itself")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_rect_pillarboxes_and_letterboxes() {
        let area = Rect::new(0, 0, 960, 540);
        assert_eq!(fit_rect(640, 480, area), Rect::new(120, 0, 720, 540));
        assert_eq!(fit_rect(640, 360, area), area);
        assert_eq!(fit_rect(1280, 720, area), area);
        // 2.39:1 into 16:9: letterbox.
        assert_eq!(fit_rect(1920, 804, area), Rect::new(0, 68, 960, 402));
        // Offsets stay even even when the bars are odd in total.
        let thumb = Rect::new(960, 180, 320, 180);
        assert_eq!(fit_rect(352, 288, thumb), Rect::new(1010, 180, 220, 180));
        let r = fit_rect(4, 3, Rect::new(2, 2, 10, 10));
        assert!(r.is_even(), "{r:?}");
        // A degenerate source still yields a usable rectangle.
        assert_eq!(fit_rect(2, 1000, Rect::new(0, 0, 320, 180)).width, 2);
    }

    #[test]
    fn taps_are_identity_at_one_to_one_and_pairs_at_two_to_one() {
        for d in 0..10 {
            assert_eq!(bilinear_tap(10, 10, d), (d, (d + 1).min(9), 0));
            assert_eq!(bilinear_tap(20, 10, d), (2 * d, 2 * d + 1, 128));
        }
        // Upscale 2x: the edges repeat, the inside alternates quarter weights.
        assert_eq!(bilinear_tap(2, 4, 0), (0, 1, 0));
        assert_eq!(bilinear_tap(2, 4, 1), (0, 1, 64));
        assert_eq!(bilinear_tap(2, 4, 2), (0, 1, 192));
        assert_eq!(bilinear_tap(2, 4, 3), (1, 1, 0));
    }

    fn pattern(width: usize, height: usize, seed: u32) -> Vec<u8> {
        (0..width * height)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 24) as u8)
            .collect()
    }

    #[test]
    fn fast_paths_give_the_bilinear_bytes() {
        for (sw, sh, dw, dh) in [(64, 48, 64, 48), (64, 48, 32, 24)] {
            let data = pattern(sw, sh, 7);
            let src = Plane {
                data: &data,
                stride: sw,
                width: sw,
                height: sh,
            };
            let (mut fast, mut slow) = (vec![0; dw * dh], vec![0; dw * dh]);
            let plane = |data| PlaneMut {
                data,
                stride: dw,
                width: dw,
                height: dh,
            };
            scale_plane(&src, &mut plane(&mut fast));
            bilinear_plane(&src, &mut plane(&mut slow));
            assert_eq!(fast, slow, "{sw}x{sh} -> {dw}x{dh}");
        }
    }
}
