//! The per-frame pixel work of the tcn media path, on the CPU and (later) the GPU, and the GPU
//! probe.
//!
//! - [`frame`]: I420 frames, owned ([`frame::I420Frame`], tightly packed) or borrowed with
//!   strides ([`frame::I420View`], e.g. a GStreamer buffer's planes, no copy); BT.601
//!   limited-range RGB conversion; a PNG writer for tests to look at frames.
//! - [`scale`]: scaling into a rectangle with the aspect ratio kept (black pillarbox/letterbox
//!   bars), fixed-point bilinear with exact-copy and 2:1 fast paths giving the same bytes. Also
//!   the uplink's "scale once per layer" ([`scale::scale_fit`]).
//! - [`layout`]: the geometry of the composite for any even output size: the full frame (no
//!   other participant, or one) and 1+7 (main tile and seven thumbnails), chosen by count.
//! - [`compositor`]: the [`compositor::Compositor`] trait a 1+7 canvas implements, and its
//!   damage set and errors.
//! - [`canvas`]: the CPU canvas, a persistent frame redrawn one tile at a time.
//! - [`font`] and [`text`]: a 5×8 bitmap font of our own and text drawn with it (measuring,
//!   cutting with "...", integer scale, clipping), for names and indicators.
//! - [`slate`]: a participant's name slate (a tile without video) and caption (a tile with
//!   video), and the "waiting for other participants" slate.
//! - [`overlay`]: the recording indicator, drawn on the output copy of the canvas.
//! - [`cuda`]: the GPU canvas ([`cuda::GpuCanvas`]): the same scale as CUDA C compiled at run
//!   time with NVRTC and launched through `cudarc`, writing the same bytes as the CPU canvas.
//!   Without a GPU its logic is tested in a CPU execution harness, and the source is compiled to
//!   PTX when NVRTC is installed.
//! - [`gpu::probe`]: is there a usable NVIDIA GPU, and what is it called? It checks for the CUDA
//!   driver library with `is_culib_present()` *before* touching any other `cudarc` API, because
//!   `cudarc` panics when the library is absent (see `shared/docs/platform.md` §6).
//!
//! The crate depends on nothing of ours and never decides policy: the node reads the probe's
//! answer and picks the CPU or GPU media path.

pub mod canvas;
pub mod compositor;
pub mod cuda;
pub mod font;
pub mod frame;
pub mod gpu;
pub mod layout;
pub mod overlay;
pub mod scale;
pub mod slate;
pub mod text;
