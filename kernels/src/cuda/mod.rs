//! The GPU implementation of the 1+7 canvas: CUDA C compiled at run time with NVRTC and
//! launched through `cudarc`, behind the same [`Compositor`](crate::compositor::Compositor)
//! trait as the CPU canvas, writing the same bytes.
//!
//! - [`source`]: the CUDA C of `scale_fit_plane` (aspect-fit bilinear scale of one plane into a
//!   rectangle, bars included), a `&str` for NVRTC.
//! - [`GpuCanvas`]: the canvas in device memory. Made only after [`cuda_libraries_present`]
//!   says both the driver library and NVRTC load (`cudarc` panics without them); otherwise its
//!   constructor returns an error and the caller keeps the CPU canvas.
//! - Slates and captions ([`crate::slate`]) are rendered on the host (a tile's slate when the
//!   roster changes; a caption box of a few thousand bytes per picture) and copied into the
//!   canvas with the same kernel at 1:1, which is an exact copy: the bytes of the CPU canvas,
//!   which draws them in place. The recording indicator is drawn on the downloaded output copy,
//!   as on the CPU path ([`crate::overlay`]).
//!
//! Without a GPU (CI, the dev machines) the kernel's thread body is run by a CPU execution
//! harness (`emulate.rs`, tests only) against the CPU canvas, and the source is compiled to PTX
//! when NVRTC is installed (`pip install nvidia-cuda-nvrtc-cu12`, `shared/docs/platform.md` §6).

mod canvas;
#[cfg(test)]
mod emulate;
mod plan;
pub mod source;

pub use canvas::{GpuCanvas, cuda_libraries_present};

#[cfg(test)]
mod tests;
