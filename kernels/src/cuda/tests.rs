//! The GPU path without a GPU: the kernel's logic in the CPU execution harness against the CPU
//! canvas; the CUDA source through NVRTC when it is installed; the real GPU when there is one.

use super::emulate;
use super::plan::{draw_launches, fill_launches};
use super::source::{SCALE_FIT_PLANE, SCALE_FIT_PLANE_SRC};
use super::{GpuCanvas, cuda_libraries_present};
use crate::canvas::Canvas;
use crate::compositor::{CompositeError, Compositor};
use crate::frame::{I420Frame, I420View, Yuv};
use crate::layout::{Layout, TILE_COUNT};
use crate::slate::{Slate, caption_picture, slate_picture};

/// A picture whose every byte differs from its neighbours, in strided buffers.
fn noisy(width: u32, height: u32, seed: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>, [usize; 3]) {
    let strides = [
        width as usize + 6,
        width as usize / 2 + 2,
        width as usize / 2 + 4,
    ];
    let rows = [height as usize, height as usize / 2, height as usize / 2];
    let fill = |plane: usize| -> Vec<u8> {
        (0..strides[plane] * rows[plane])
            .map(|i| ((i as u32 ^ seed).wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect()
    };
    (fill(0), fill(1), fill(2), strides)
}

/// The CPU-harness "GPU canvas": the launch plan and the kernel body, run on host memory.
struct EmulatedCanvas {
    layout: Layout,
    frame: I420Frame,
}

impl EmulatedCanvas {
    fn new(layout: Layout, background: Yuv) -> Self {
        let mut frame = I420Frame::new(layout.width(), layout.height()).unwrap();
        let whole = crate::layout::Rect::new(0, 0, layout.width(), layout.height());
        for launch in fill_launches(whole, background) {
            let stride = frame_stride(&frame, launch.plane);
            emulate::launch(&launch, &[], 0, frame.planes_mut()[launch.plane], stride);
        }
        Self { layout, frame }
    }

    fn draw(&mut self, tile: usize, src: &I420View<'_>) {
        let area = self.layout.tile(tile).unwrap();
        self.draw_into(area, src);
    }

    /// `GpuCanvas::draw_into`: the launches of a scale of `src` into `area`.
    fn draw_into(&mut self, area: crate::layout::Rect, src: &I420View<'_>) {
        for launch in draw_launches(src.width(), src.height(), area) {
            let i = launch.plane;
            let stride = frame_stride(&self.frame, i);
            emulate::launch(
                &launch,
                src.planes()[i],
                src.strides()[i],
                self.frame.planes_mut()[i],
                stride,
            );
        }
    }

    fn clear(&mut self, tile: usize, background: Yuv) {
        for launch in fill_launches(self.layout.tile(tile).unwrap(), background) {
            let stride = frame_stride(&self.frame, launch.plane);
            emulate::launch(
                &launch,
                &[],
                0,
                self.frame.planes_mut()[launch.plane],
                stride,
            );
        }
    }
}

fn frame_stride(frame: &I420Frame, plane: usize) -> usize {
    if plane == 0 {
        frame.width() as usize
    } else {
        frame.width() as usize / 2
    }
}

const SOURCES: [(u32, u32); TILE_COUNT] = [
    (640, 360),
    (320, 240),
    (352, 288),
    (1280, 720),
    (160, 90),
    (320, 180),
    (240, 320),
    (1920, 800),
];

#[test]
fn the_kernel_logic_writes_the_cpu_canvas_bytes() {
    for (w, h) in [(1280, 720), (704, 576), (640, 360)] {
        let layout = Layout::one_plus_seven(w, h).unwrap();
        let mut cpu = Canvas::new(layout);
        let mut gpu = EmulatedCanvas::new(layout, cpu.background());
        assert_eq!(&gpu.frame, cpu.frame(), "{w}x{h}: background");
        for (tile, &(sw, sh)) in SOURCES.iter().enumerate() {
            let (y, u, v, strides) = noisy(sw, sh, tile as u32);
            let view = I420View::new(sw, sh, [&y, &u, &v], strides).unwrap();
            cpu.draw(tile, &view).unwrap();
            gpu.draw(tile, &view);
            assert_eq!(
                &gpu.frame,
                cpu.frame(),
                "{w}x{h}: tile {tile} from {sw}x{sh}"
            );
        }
        cpu.clear_tile(4).unwrap();
        gpu.clear(4, cpu.background());
        assert_eq!(&gpu.frame, cpu.frame(), "{w}x{h}: clear");
    }
}

/// The GPU canvas's captions and slates: rendered on the host and drawn 1:1 through the kernel,
/// they must give the CPU canvas's bytes (drawn in place).
#[test]
fn captions_and_slates_through_the_kernel_give_the_cpu_bytes() {
    let layout = Layout::default();
    let mut cpu = Canvas::new(layout);
    let mut gpu = EmulatedCanvas::new(layout, cpu.background());
    for (tile, &(sw, sh)) in SOURCES.iter().enumerate() {
        let name = format!("Participant número {tile}");
        let area = layout.tile(tile).unwrap();
        if tile == 5 {
            let slate = Slate::participant(&name);
            cpu.draw_slate(tile, &slate).unwrap();
            gpu.draw_into(area, &slate_picture(area, &slate).unwrap().view());
        } else {
            let (y, u, v, strides) = noisy(sw, sh, tile as u32 + 7);
            let view = I420View::new(sw, sh, [&y, &u, &v], strides).unwrap();
            cpu.set_caption(tile, Some(&name)).unwrap();
            cpu.draw(tile, &view).unwrap();
            gpu.draw(tile, &view);
            let (rect, picture) = caption_picture(area, &name).unwrap();
            gpu.draw_into(rect, &picture.view());
        }
        assert_eq!(&gpu.frame, cpu.frame(), "tile {tile}");
    }
}

#[test]
fn the_launch_grid_covers_each_tile_plane() {
    let layout = Layout::default();
    for tile in layout.tiles() {
        for launch in draw_launches(640, 480, *tile) {
            let ((gx, gy, gz), (bx, by, bz)) = launch.dims();
            assert_eq!((gz, bz), (1, 1));
            assert!(gx * bx >= launch.area.width && (gx - 1) * bx < launch.area.width);
            assert!(gy * by >= launch.area.height && (gy - 1) * by < launch.area.height);
        }
    }
}

#[test]
fn nvrtc_compiles_the_kernel_when_installed() {
    // SAFETY: `is_culib_present` only tries to dlopen NVRTC; it has no preconditions.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        println!("NVRTC is absent: the CUDA source was not compiled (install it to check)");
        return;
    }
    let options = cudarc::nvrtc::CompileOptions {
        arch: Some("compute_90"),
        ..Default::default()
    };
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(SCALE_FIT_PLANE_SRC, options)
        .unwrap_or_else(|e| panic!("NVRTC refused the kernel: {e}"));
    let text = ptx.to_src();
    assert!(
        text.contains(&format!(".entry {SCALE_FIT_PLANE}")),
        "{text}"
    );
    println!(
        "NVRTC compiled {SCALE_FIT_PLANE} for compute_90: {} bytes of PTX",
        text.len()
    );
}

#[test]
fn the_gpu_canvas_is_refused_or_matches_the_cpu() {
    let layout = Layout::default();
    let gpu = GpuCanvas::new(layout, 0);
    let probe = crate::gpu::probe();
    let mut gpu = match gpu {
        Err(CompositeError::Gpu(why)) if !cuda_libraries_present() || !probe.present() => {
            println!("no GPU path here ({why}); the harness test covers the kernel's logic");
            return;
        }
        other => other.expect("a GPU and NVRTC are present: the GPU canvas must work"),
    };
    let mut cpu = Canvas::new(layout);
    for (tile, &(sw, sh)) in SOURCES.iter().enumerate() {
        let (y, u, v, strides) = noisy(sw, sh, tile as u32 + 40);
        let view = I420View::new(sw, sh, [&y, &u, &v], strides).unwrap();
        let name = format!("Tile {tile}");
        cpu.set_caption(tile, Some(&name)).unwrap();
        Compositor::set_caption(&mut gpu, tile, Some(&name)).unwrap();
        cpu.draw(tile, &view).unwrap();
        Compositor::draw(&mut gpu, tile, &view).unwrap();
    }
    cpu.clear_tile(6).unwrap();
    gpu.clear_tile(6).unwrap();
    let slate = Slate::participant("Ada");
    cpu.draw_slate(3, &slate).unwrap();
    gpu.draw_slate(3, &slate).unwrap();
    let mut out = I420Frame::new(layout.width(), layout.height()).unwrap();
    gpu.download(&mut out).unwrap();
    assert_eq!(&out, cpu.frame());
    assert_eq!(gpu.take_damage(), cpu.take_damage());
}
