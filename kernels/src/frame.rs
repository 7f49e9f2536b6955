//! I420 frames: an owned frame ([`I420Frame`]), a borrowed view of someone else's planes
//! ([`I420View`]) and a writable one ([`I420Mut`], what text and overlays draw on), one colour
//! ([`Yuv`]), BT.601 conversion to and from RGB, and a PNG writer.
//!
//! I420 is planar 4:2:0: a full-size luma plane `Y`, then two chroma planes `U` (Cb) and `V` (Cr)
//! of half the width and half the height. Every size here is **even** in both directions, so one
//! chroma sample always covers exactly a 2×2 block of luma and a rectangle with even corners has
//! an exact chroma rectangle. Odd or zero sizes are refused with [`FrameError::BadSize`].
//!
//! Colour is **BT.601, limited ("studio") range**: Y in 16..=235, U and V in 16..=240 with 128 as
//! "no colour". That is what the VTC side's H.264 and Meet's VP8 carry. The RGB conversions use
//! the usual 8-bit integer approximation of the BT.601 matrix:
//!
//! ```text
//! Y = 16  + ((  66 R + 129 G +  25 B + 128) >> 8)
//! U = 128 + (( -38 R -  74 G + 112 B + 128) >> 8)
//! V = 128 + (( 112 R -  94 G -  18 B + 128) >> 8)
//!
//! R = clamp((298 (Y-16)               + 409 (V-128) + 128) >> 8)
//! G = clamp((298 (Y-16) - 100 (U-128) - 208 (V-128) + 128) >> 8)
//! B = clamp((298 (Y-16) + 516 (U-128)               + 128) >> 8)
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Why a frame or a view could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Width and height must both be even and non-zero (4:2:0 chroma covers 2×2 luma).
    #[error("an I420 frame must have an even, non-zero width and height, not {width}x{height}")]
    BadSize {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// A plane's stride is shorter than one row of that plane.
    #[error("the {plane} plane's stride {stride} is shorter than its row of {row} bytes")]
    StrideTooSmall {
        /// `"Y"`, `"U"` or `"V"`.
        plane: &'static str,
        /// The stride given.
        stride: usize,
        /// The row length the plane needs.
        row: usize,
    },
    /// A plane's slice is shorter than its rows and stride need.
    #[error("the {plane} plane holds {got} bytes, {needed} needed")]
    PlaneTooSmall {
        /// `"Y"`, `"U"` or `"V"`.
        plane: &'static str,
        /// Bytes the plane needs: `stride × (rows - 1) + row`.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// An RGB buffer is not `width × height × 3` bytes.
    #[error("an RGB24 buffer of {width}x{height} holds {expected} bytes, not {got}")]
    RgbLength {
        /// The width given.
        width: u32,
        /// The height given.
        height: u32,
        /// `width × height × 3`.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
}

/// Checks that `width × height` is a usable I420 size.
pub(crate) fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(FrameError::BadSize { width, height });
    }
    Ok(())
}

/// One colour as a BT.601 limited-range Y, U, V triple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Yuv {
    /// Luma, 16 (black) ..= 235 (white).
    pub y: u8,
    /// Blue-difference chroma, 128 for grey.
    pub u: u8,
    /// Red-difference chroma, 128 for grey.
    pub v: u8,
}

impl Yuv {
    /// Video black (Y 16): the colour of letterbox and pillarbox bars.
    pub const BLACK: Self = Self::new(16, 128, 128);
    /// Video white (Y 235).
    pub const WHITE: Self = Self::new(235, 128, 128);

    /// A colour from its three components.
    pub const fn new(y: u8, u: u8, v: u8) -> Self {
        Self { y, u, v }
    }

    /// The BT.601 limited-range colour of an 8-bit RGB triple (formula in the module docs).
    pub fn from_rgb([r, g, b]: [u8; 3]) -> Self {
        let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
        Self {
            y: clamp_u8(16 + ((66 * r + 129 * g + 25 * b + 128) >> 8)),
            u: clamp_u8(128 + ((-38 * r - 74 * g + 112 * b + 128) >> 8)),
            v: clamp_u8(128 + ((112 * r - 94 * g - 18 * b + 128) >> 8)),
        }
    }

    /// The 8-bit RGB triple of this colour (formula in the module docs).
    pub fn to_rgb(self) -> [u8; 3] {
        let c = 298 * (i32::from(self.y) - 16);
        let d = i32::from(self.u) - 128;
        let e = i32::from(self.v) - 128;
        [
            clamp_u8((c + 409 * e + 128) >> 8),
            clamp_u8((c - 100 * d - 208 * e + 128) >> 8),
            clamp_u8((c + 516 * d + 128) >> 8),
        ]
    }
}

fn clamp_u8(value: i32) -> u8 {
    // The clamp makes the narrowing exact.
    value.clamp(0, 255) as u8
}

/// One plane seen through a stride: `height` rows of `width` bytes, row `r` starting at
/// `data[r * stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plane<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) stride: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl<'a> Plane<'a> {
    /// Row `r` (exactly `width` bytes).
    #[inline]
    pub(crate) fn row(&self, r: usize) -> &'a [u8] {
        let start = r * self.stride;
        &self.data[start..start + self.width]
    }
}

/// One plane's rectangle, writable, seen through a stride (the destination of a scale).
#[derive(Debug)]
pub(crate) struct PlaneMut<'a> {
    pub(crate) data: &'a mut [u8],
    pub(crate) stride: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl PlaneMut<'_> {
    /// Row `r` (exactly `width` bytes).
    #[inline]
    pub(crate) fn row_mut(&mut self, r: usize) -> &mut [u8] {
        let start = r * self.stride;
        &mut self.data[start..start + self.width]
    }

    /// Fills the whole rectangle with one value.
    pub(crate) fn fill(&mut self, value: u8) {
        for r in 0..self.height {
            self.row_mut(r).fill(value);
        }
    }
}

/// Bytes a plane of `rows` rows of `row` bytes at `stride` needs.
fn plane_len(stride: usize, row: usize, rows: usize) -> usize {
    stride * (rows - 1) + row
}

/// A borrowed I420 picture: three plane slices with their strides, as a GStreamer buffer or a
/// decoder hands them over. Nothing is copied; the constructor checks that every row fits.
#[derive(Clone, Copy, Debug)]
pub struct I420View<'a> {
    width: u32,
    height: u32,
    planes: [&'a [u8]; 3],
    strides: [usize; 3],
}

impl<'a> I420View<'a> {
    /// A view of `width × height` (both even) over `planes` = `[y, u, v]` with `strides` =
    /// `[y_stride, u_stride, v_stride]` in bytes. A plane slice may end right after its last row
    /// (it need not hold a whole last stride).
    pub fn new(
        width: u32,
        height: u32,
        planes: [&'a [u8]; 3],
        strides: [usize; 3],
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let (w, h) = (width as usize, height as usize);
        let dims = [(w, h), (w / 2, h / 2), (w / 2, h / 2)];
        for (i, name) in ["Y", "U", "V"].into_iter().enumerate() {
            let (row, rows) = dims[i];
            if strides[i] < row {
                return Err(FrameError::StrideTooSmall {
                    plane: name,
                    stride: strides[i],
                    row,
                });
            }
            let needed = plane_len(strides[i], row, rows);
            if planes[i].len() < needed {
                return Err(FrameError::PlaneTooSmall {
                    plane: name,
                    needed,
                    got: planes[i].len(),
                });
            }
        }
        Ok(Self {
            width,
            height,
            planes,
            strides,
        })
    }

    /// Width in pixels (even).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (even).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The `[y, u, v]` plane slices as given.
    pub fn planes(&self) -> [&'a [u8]; 3] {
        self.planes
    }

    /// The `[y, u, v]` strides in bytes.
    pub fn strides(&self) -> [usize; 3] {
        self.strides
    }

    /// Plane `i` (0 = Y, 1 = U, 2 = V) with its size.
    pub(crate) fn plane(&self, i: usize) -> Plane<'a> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (width, height) = if i == 0 { (w, h) } else { (w / 2, h / 2) };
        Plane {
            data: self.planes[i],
            stride: self.strides[i],
            width,
            height,
        }
    }

    /// The colour at pixel (`x`, `y`): its luma and the chroma of its 2×2 block.
    ///
    /// # Panics
    /// If the pixel is outside the picture.
    pub fn pixel(&self, x: u32, y: u32) -> Yuv {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside"
        );
        let (x, y) = (x as usize, y as usize);
        Yuv {
            y: self.planes[0][y * self.strides[0] + x],
            u: self.planes[1][y / 2 * self.strides[1] + x / 2],
            v: self.planes[2][y / 2 * self.strides[2] + x / 2],
        }
    }

    /// A tightly packed copy of the picture.
    pub fn to_frame(&self) -> I420Frame {
        let mut frame = I420Frame::new(self.width, self.height)
            .expect("a view's size was checked when it was made");
        for i in 0..3 {
            let src = self.plane(i);
            let mut dst = frame.plane_mut(i);
            for r in 0..src.height {
                dst.row_mut(r).copy_from_slice(src.row(r));
            }
        }
        frame
    }

    /// The picture as packed 8-bit RGB (`width × height × 3` bytes, rows top to bottom), each
    /// pixel converted with its 2×2 block's chroma (no chroma interpolation).
    pub fn to_rgb(&self) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut rgb = Vec::with_capacity(w * h * 3);
        let (y, u, v) = (self.plane(0), self.plane(1), self.plane(2));
        for r in 0..h {
            let (yr, ur, vr) = (y.row(r), u.row(r / 2), v.row(r / 2));
            for x in 0..w {
                rgb.extend_from_slice(&Yuv::new(yr[x], ur[x / 2], vr[x / 2]).to_rgb());
            }
        }
        rgb
    }
}

/// An owned I420 picture with **tightly packed planes**: `y` is `width × height` bytes, `u` and
/// `v` are `width/2 × height/2` bytes each, every stride equal to the plane's width. Width and
/// height are even and non-zero.
#[derive(Clone, PartialEq, Eq)]
pub struct I420Frame {
    width: u32,
    height: u32,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl std::fmt::Debug for I420Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "I420Frame({}x{})", self.width, self.height)
    }
}

impl I420Frame {
    /// A black frame of `width × height` (both even, non-zero).
    pub fn new(width: u32, height: u32) -> Result<Self, FrameError> {
        Self::filled(width, height, Yuv::BLACK)
    }

    /// A frame of `width × height` (both even, non-zero) of one colour.
    pub fn filled(width: u32, height: u32, colour: Yuv) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let luma = width as usize * height as usize;
        Ok(Self {
            width,
            height,
            y: vec![colour.y; luma],
            u: vec![colour.u; luma / 4],
            v: vec![colour.v; luma / 4],
        })
    }

    /// Takes three tightly packed planes (`y`: `width × height` bytes, `u` and `v`:
    /// `width/2 × height/2` bytes each).
    pub fn from_planes(
        width: u32,
        height: u32,
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
    ) -> Result<Self, FrameError> {
        let (w, h) = (width as usize, height as usize);
        // `I420View::new` checks the size and each plane's length (a packed stride is the width).
        I420View::new(width, height, [&y, &u, &v], [w, w / 2, w / 2])?;
        for (plane, got) in [("Y", y.len()), ("U", u.len()), ("V", v.len())] {
            let needed = if plane == "Y" { w * h } else { w * h / 4 };
            if got != needed {
                return Err(FrameError::PlaneTooSmall { plane, needed, got });
            }
        }
        Ok(Self {
            width,
            height,
            y,
            u,
            v,
        })
    }

    /// Converts packed 8-bit RGB (`width × height × 3` bytes, rows top to bottom) to I420,
    /// BT.601 limited range; each chroma sample is the average of its 2×2 block's chroma.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let (w, h) = (width as usize, height as usize);
        if rgb.len() != w * h * 3 {
            return Err(FrameError::RgbLength {
                width,
                height,
                expected: w * h * 3,
                got: rgb.len(),
            });
        }
        let mut frame = Self::new(width, height)?;
        let px = |x: usize, y: usize| {
            let i = (y * w + x) * 3;
            Yuv::from_rgb([rgb[i], rgb[i + 1], rgb[i + 2]])
        };
        for y in 0..h {
            for x in 0..w {
                frame.y[y * w + x] = px(x, y).y;
            }
        }
        for cy in 0..h / 2 {
            for cx in 0..w / 2 {
                let block = [
                    px(2 * cx, 2 * cy),
                    px(2 * cx + 1, 2 * cy),
                    px(2 * cx, 2 * cy + 1),
                    px(2 * cx + 1, 2 * cy + 1),
                ];
                let sum_u: u32 = block.iter().map(|c| u32::from(c.u)).sum();
                let sum_v: u32 = block.iter().map(|c| u32::from(c.v)).sum();
                // The average of four bytes fits a byte.
                frame.u[cy * w / 2 + cx] = ((sum_u + 2) / 4) as u8;
                frame.v[cy * w / 2 + cx] = ((sum_v + 2) / 4) as u8;
            }
        }
        Ok(frame)
    }

    /// Width in pixels (even).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (even).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The luma plane, `width × height` bytes.
    pub fn y(&self) -> &[u8] {
        &self.y
    }

    /// The U (Cb) plane, `width/2 × height/2` bytes.
    pub fn u(&self) -> &[u8] {
        &self.u
    }

    /// The V (Cr) plane, `width/2 × height/2` bytes.
    pub fn v(&self) -> &[u8] {
        &self.v
    }

    /// The three planes, writable (for a decoder or a download filling the frame in place).
    pub fn planes_mut(&mut self) -> [&mut [u8]; 3] {
        [&mut self.y, &mut self.u, &mut self.v]
    }

    /// A borrowed view of the whole frame.
    pub fn view(&self) -> I420View<'_> {
        let w = self.width as usize;
        I420View {
            width: self.width,
            height: self.height,
            planes: [&self.y, &self.u, &self.v],
            strides: [w, w / 2, w / 2],
        }
    }

    /// A writable view of the whole frame, for the text, slate and overlay drawing.
    pub fn view_mut(&mut self) -> I420Mut<'_> {
        let w = self.width as usize;
        I420Mut {
            width: self.width,
            height: self.height,
            planes: [&mut self.y, &mut self.u, &mut self.v],
            strides: [w, w / 2, w / 2],
        }
    }

    /// Plane `i` (0 = Y, 1 = U, 2 = V), writable.
    pub(crate) fn plane_mut(&mut self, i: usize) -> PlaneMut<'_> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (data, width, height) = match i {
            0 => (&mut self.y, w, h),
            1 => (&mut self.u, w / 2, h / 2),
            _ => (&mut self.v, w / 2, h / 2),
        };
        PlaneMut {
            data,
            stride: width,
            width,
            height,
        }
    }

    /// The colour at pixel (`x`, `y`): its luma and the chroma of its 2×2 block.
    ///
    /// # Panics
    /// If the pixel is outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> Yuv {
        self.view().pixel(x, y)
    }

    /// The frame as packed 8-bit RGB; see [`I420View::to_rgb`].
    pub fn to_rgb(&self) -> Vec<u8> {
        self.view().to_rgb()
    }

    /// Writes the frame as an 8-bit RGB PNG to `out`.
    pub fn encode_png<W: Write>(&self, out: W) -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&self.to_rgb())?;
        writer.finish()
    }

    /// Writes the frame as an 8-bit RGB PNG file at `path` (tests save frames to look at them).
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<(), png::EncodingError> {
        let mut file = BufWriter::new(File::create(path)?);
        self.encode_png(&mut file)?;
        file.flush()?;
        Ok(())
    }
}

/// A writable I420 picture seen through strides: an [`I420Frame`] ([`I420Frame::view_mut`]) or
/// someone else's packed buffer ([`I420Mut::packed`], e.g. a mapped GStreamer buffer about to
/// go to the encoder). The text, slate and overlay drawing ([`crate::text`], [`crate::slate`],
/// [`crate::overlay`]) write through it, so they can draw on the canvas and on the tick's output
/// copy alike.
#[derive(Debug)]
pub struct I420Mut<'a> {
    width: u32,
    height: u32,
    planes: [&'a mut [u8]; 3],
    strides: [usize; 3],
}

impl<'a> I420Mut<'a> {
    /// A picture of `width × height` (both even) over one tightly packed I420 buffer (`y`, then
    /// `u`, then `v`, every stride the plane's width), as the encoder's input buffers are.
    pub fn packed(width: u32, height: u32, data: &'a mut [u8]) -> Result<Self, FrameError> {
        check_size(width, height)?;
        let luma = width as usize * height as usize;
        if data.len() < luma + luma / 2 {
            return Err(FrameError::PlaneTooSmall {
                plane: "YUV",
                needed: luma + luma / 2,
                got: data.len(),
            });
        }
        let (y, rest) = data.split_at_mut(luma);
        let (u, rest) = rest.split_at_mut(luma / 4);
        let v = &mut rest[..luma / 4];
        let w = width as usize;
        Ok(Self {
            width,
            height,
            planes: [y, u, v],
            strides: [w, w / 2, w / 2],
        })
    }

    /// Width in pixels (even).
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels (even).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Sets the luma of pixel (`x`, `y`); ignored outside the picture.
    #[inline]
    pub fn set_luma(&mut self, x: u32, y: u32, value: u8) {
        if x < self.width && y < self.height {
            self.planes[0][y as usize * self.strides[0] + x as usize] = value;
        }
    }

    /// Sets the chroma of the 2×2 block holding pixel (`x`, `y`); ignored outside the picture.
    #[inline]
    pub fn set_chroma(&mut self, x: u32, y: u32, u: u8, v: u8) {
        if x < self.width && y < self.height {
            let (cx, cy) = (x as usize / 2, y as usize / 2);
            self.planes[1][cy * self.strides[1] + cx] = u;
            self.planes[2][cy * self.strides[2] + cx] = v;
        }
    }

    /// The colour at pixel (`x`, `y`) (its luma and its 2×2 block's chroma).
    ///
    /// # Panics
    /// If the pixel is outside the picture.
    pub fn pixel(&self, x: u32, y: u32) -> Yuv {
        assert!(
            x < self.width && y < self.height,
            "pixel ({x}, {y}) outside"
        );
        let (x, y) = (x as usize, y as usize);
        Yuv {
            y: self.planes[0][y * self.strides[0] + x],
            u: self.planes[1][y / 2 * self.strides[1] + x / 2],
            v: self.planes[2][y / 2 * self.strides[2] + x / 2],
        }
    }

    /// Paints the part of luma rectangle `rect` inside the picture one colour. Chroma is
    /// written for every 2×2 block whose top-left pixel is inside (exact for even rectangles).
    pub fn fill_rect(&mut self, rect: crate::layout::Rect, colour: Yuv) {
        let right = rect.right().min(self.width);
        let bottom = rect.bottom().min(self.height);
        if rect.x >= right || rect.y >= bottom {
            return;
        }
        let (x0, x1) = (rect.x as usize, right as usize);
        for y in rect.y as usize..bottom as usize {
            let start = y * self.strides[0];
            self.planes[0][start + x0..start + x1].fill(colour.y);
        }
        let (cx0, cx1) = (x0.div_ceil(2), x1.div_ceil(2));
        let (cy0, cy1) = ((rect.y as usize).div_ceil(2), (bottom as usize).div_ceil(2));
        for (plane, value) in [(1, colour.u), (2, colour.v)] {
            for cy in cy0..cy1 {
                let start = cy * self.strides[plane];
                self.planes[plane][start + cx0..start + cx1].fill(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_and_zero_sizes_are_refused() {
        for (w, h) in [(3, 2), (2, 3), (0, 2), (2, 0), (641, 360)] {
            assert_eq!(
                I420Frame::new(w, h),
                Err(FrameError::BadSize {
                    width: w,
                    height: h
                })
            );
        }
        assert!(I420Frame::new(2, 2).is_ok());
    }

    #[test]
    fn view_checks_strides_and_plane_lengths() {
        let y = vec![0u8; 100 * 3 + 8];
        let c = vec![0u8; 60 + 4];
        // 8x4 with padded strides: Y stride 100, chroma stride 60; the last rows need not be full.
        assert!(I420View::new(8, 4, [&y, &c, &c], [100, 60, 60]).is_ok());
        assert!(matches!(
            I420View::new(8, 4, [&y, &c, &c], [7, 4, 4]),
            Err(FrameError::StrideTooSmall { plane: "Y", .. })
        ));
        assert!(matches!(
            I420View::new(8, 4, [&y[..307], &c, &c], [100, 60, 60]),
            Err(FrameError::PlaneTooSmall { plane: "Y", .. })
        ));
        assert!(matches!(
            I420View::new(8, 4, [&y, &c, &c[..63]], [100, 60, 60]),
            Err(FrameError::PlaneTooSmall { plane: "V", .. })
        ));
    }

    #[test]
    fn strided_view_reads_the_right_bytes() {
        // 4x2 picture stored with a Y stride of 6 and chroma strides of 3.
        let y = [1, 2, 3, 4, 0, 0, 5, 6, 7, 8];
        let u = [9, 10];
        let v = [11, 12];
        let view = I420View::new(4, 2, [&y, &u, &v], [6, 3, 3]).unwrap();
        assert_eq!(view.pixel(3, 1), Yuv::new(8, 10, 12));
        let frame = view.to_frame();
        assert_eq!(frame.y(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(frame.u(), &[9, 10]);
        assert_eq!(frame.pixel(0, 1), Yuv::new(5, 9, 11));
    }

    #[test]
    fn bt601_limited_range_known_values() {
        assert_eq!(Yuv::from_rgb([0, 0, 0]), Yuv::BLACK);
        assert_eq!(Yuv::from_rgb([255, 255, 255]), Yuv::new(235, 128, 128));
        // Published BT.601 limited-range primaries (red 81/90/240, green 145/54/34, blue
        // 41/240/110); the 8-bit integer matrix lands within one step of them.
        for (rgb, published) in [
            ([255, 0, 0], [81, 90, 240]),
            ([0, 255, 0], [145, 54, 34]),
            ([0, 0, 255], [41, 240, 110]),
        ] {
            let c = Yuv::from_rgb(rgb);
            for (got, want) in [c.y, c.u, c.v].into_iter().zip(published) {
                assert!(
                    got.abs_diff(want) <= 1,
                    "{rgb:?} -> {c:?}, published {published:?}"
                );
            }
        }
        assert_eq!(Yuv::BLACK.to_rgb(), [0, 0, 0]);
        assert_eq!(Yuv::WHITE.to_rgb(), [255, 255, 255]);
    }

    #[test]
    fn rgb_round_trip_stays_close() {
        let (w, h) = (16u32, 8u32);
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                // Constant colour per 2x2 block so chroma subsampling loses nothing.
                let (bx, by) = (x / 2, y / 2);
                rgb.extend_from_slice(&[(bx * 30) as u8, (by * 60) as u8, 200 - (bx * 20) as u8]);
            }
        }
        let frame = I420Frame::from_rgb(w, h, &rgb).unwrap();
        let back = frame.to_rgb();
        for (a, b) in rgb.iter().zip(&back) {
            assert!(a.abs_diff(*b) <= 3, "{a} vs {b}");
        }
        assert!(matches!(
            I420Frame::from_rgb(w, h, &rgb[1..]),
            Err(FrameError::RgbLength { .. })
        ));
    }

    #[test]
    fn png_encodes() {
        let frame = I420Frame::filled(8, 4, Yuv::from_rgb([255, 0, 0])).unwrap();
        let mut bytes = Vec::new();
        frame.encode_png(&mut bytes).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
