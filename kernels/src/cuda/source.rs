//! The CUDA C source of the scale-into-rectangle kernel, compiled at run time with NVRTC.
//!
//! One launch handles one plane (Y, U or V) of one tile: one thread per destination byte of the
//! tile's rectangle. A thread inside the picture rectangle ([`crate::scale::fit_rect`]) samples
//! the source bilinearly; a thread outside it writes the bar value (black, or the background
//! when a tile is cleared: the picture rectangle is then empty). `tap()` and `blend()` are
//! [`crate::scale`]'s `bilinear_tap` and `bilinear_sample` written in C, line for line, so the
//! GPU writes the bytes the CPU writes; the CPU execution harness (`cuda/emulate.rs`, tests)
//! runs this kernel's thread body in Rust against the CPU scaler.

/// The kernel's entry point in [`SCALE_FIT_PLANE_SRC`].
pub const SCALE_FIT_PLANE: &str = "scale_fit_plane";

/// Threads per block of a launch: `(x, y)`, one thread per destination byte.
pub const BLOCK: (u32, u32) = (32, 8);

/// CUDA C: `scale_fit_plane(src, src_stride, src_w, src_h, dst, dst_stride, area_x, area_y,
/// area_w, area_h, pic_x, pic_y, pic_w, pic_h, bar)`, all sizes in bytes of the plane launched
/// (chroma rectangles are the luma ones halved). Launch with a grid covering `area_w × area_h`
/// in blocks of [`BLOCK`].
pub const SCALE_FIT_PLANE_SRC: &str = r#"
// tcn kernels: aspect-fit bilinear scale of one I420 plane into a rectangle (see scale.rs).

#define COORD_FRAC_BITS 16
#define WEIGHT_BITS 8
#define WEIGHT_ONE (1u << WEIGHT_BITS)

// Destination index d of src_len -> dst_len: the two source indices and the second's weight.
__device__ __forceinline__ void tap(unsigned int src_len, unsigned int dst_len, unsigned int d,
                                    unsigned int* i0, unsigned int* i1, unsigned int* w)
{
    long long step = ((long long)src_len << COORD_FRAC_BITS) / (long long)dst_len;
    long long half = 1ll << (COORD_FRAC_BITS - 1);
    long long pos = (long long)d * step + step / 2 - half;
    if (pos < 0) pos = 0;
    long long first = pos >> COORD_FRAC_BITS;
    long long last = (long long)src_len - 1;
    if (first >= last) {
        *i0 = (unsigned int)last;
        *i1 = (unsigned int)last;
        *w = 0;
        return;
    }
    *i0 = (unsigned int)first;
    *i1 = (unsigned int)first + 1;
    *w = (unsigned int)((pos >> (COORD_FRAC_BITS - WEIGHT_BITS)) & (long long)(WEIGHT_ONE - 1));
}

// a b / c d: top-left, top-right, bottom-left, bottom-right; exact sum, one rounding.
__device__ __forceinline__ unsigned char blend(unsigned int a, unsigned int b, unsigned int c,
                                               unsigned int d, unsigned int wx, unsigned int wy)
{
    unsigned int left = a * (WEIGHT_ONE - wy) + c * wy;
    unsigned int right = b * (WEIGHT_ONE - wy) + d * wy;
    return (unsigned char)((left * (WEIGHT_ONE - wx) + right * wx + (1u << (2 * WEIGHT_BITS - 1)))
                           >> (2 * WEIGHT_BITS));
}

extern "C" __global__ void scale_fit_plane(
    const unsigned char* __restrict__ src, unsigned int src_stride,
    unsigned int src_w, unsigned int src_h,
    unsigned char* __restrict__ dst, unsigned int dst_stride,
    unsigned int area_x, unsigned int area_y, unsigned int area_w, unsigned int area_h,
    unsigned int pic_x, unsigned int pic_y, unsigned int pic_w, unsigned int pic_h,
    unsigned char bar)
{
    unsigned int x = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= area_w || y >= area_h) return;
    unsigned int px = area_x + x;
    unsigned int py = area_y + y;
    unsigned char value = bar;
    if (px >= pic_x && px < pic_x + pic_w && py >= pic_y && py < pic_y + pic_h) {
        unsigned int x0, x1, wx, y0, y1, wy;
        tap(src_w, pic_w, px - pic_x, &x0, &x1, &wx);
        tap(src_h, pic_h, py - pic_y, &y0, &y1, &wy);
        const unsigned char* top = src + (size_t)y0 * src_stride;
        const unsigned char* bottom = src + (size_t)y1 * src_stride;
        value = blend(top[x0], top[x1], bottom[x0], bottom[x1], wx, wy);
    }
    dst[(size_t)py * dst_stride + px] = value;
}
"#;
