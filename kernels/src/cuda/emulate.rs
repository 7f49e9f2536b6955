//! The CPU execution harness: runs `scale_fit_plane`'s thread body in Rust, thread by thread
//! over the launch grid, on host buffers. The body is the kernel's, line for line, with `tap()`
//! and `blend()` being the very Rust functions the CPU scaler uses. Tests compare what it
//! writes with the CPU canvas, so the launch plan (rectangles, grid, chroma halving) and the
//! kernel's logic are checked without a GPU.

use super::plan::PlaneLaunch;
use crate::scale::{bilinear_sample, bilinear_tap};

/// One thread of `scale_fit_plane` at (`block`, `thread`) with `block_dim`.
fn thread(
    launch: &PlaneLaunch,
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    (block, thread, block_dim): ((u32, u32), (u32, u32), (u32, u32)),
) {
    let x = block.0 * block_dim.0 + thread.0;
    let y = block.1 * block_dim.1 + thread.1;
    let (area, pic) = (launch.area, launch.pic);
    if x >= area.width || y >= area.height {
        return;
    }
    let (px, py) = (area.x + x, area.y + y);
    let mut value = launch.bar;
    if px >= pic.x && px < pic.x + pic.width && py >= pic.y && py < pic.y + pic.height {
        let (x0, x1, wx) = bilinear_tap(launch.src_w, pic.width, px - pic.x);
        let (y0, y1, wy) = bilinear_tap(launch.src_h, pic.height, py - pic.y);
        let top = &src[y0 as usize * src_stride..];
        let bottom = &src[y1 as usize * src_stride..];
        let (x0, x1) = (x0 as usize, x1 as usize);
        value = bilinear_sample(top[x0], top[x1], bottom[x0], bottom[x1], wx, wy);
    }
    dst[py as usize * dst_stride + px as usize] = value;
}

/// Runs one launch: every thread of every block of [`PlaneLaunch::dims`].
pub(crate) fn launch(
    launch: &PlaneLaunch,
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
) {
    let ((gx, gy, _), (bx, by, _)) = launch.dims();
    for block_y in 0..gy {
        for block_x in 0..gx {
            for thread_y in 0..by {
                for thread_x in 0..bx {
                    let ids = ((block_x, block_y), (thread_x, thread_y), (bx, by));
                    thread(launch, src, src_stride, dst, dst_stride, ids);
                }
            }
        }
    }
}
