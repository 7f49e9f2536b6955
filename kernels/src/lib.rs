//! GPU kernels for the tcn media path, and the GPU probe.
//!
//! This crate will own the CUDA C kernels (compiled at run time with NVRTC through `cudarc`)
//! that scale, colour-convert, composite (the 1+7 layout) and overlay video frames on an NVIDIA
//! GPU, each with a CPU reference implementation it is tested against. Those kernels arrive with
//! the media issues; what is here today is the part every node needs at start-up:
//!
//! - [`gpu::probe`]: is there a usable NVIDIA GPU, and what is it called? It checks for the CUDA
//!   driver library with `is_culib_present()` *before* touching any other `cudarc` API, because
//!   `cudarc` panics when the library is absent (see `shared/docs/platform.md` §6).
//!
//! The crate depends on nothing of ours and never decides policy: the node reads the probe's
//! answer and picks the CPU or GPU media path.

pub mod gpu;
