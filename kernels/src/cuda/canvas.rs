//! [`GpuCanvas`]: the 1+7 canvas kept in GPU memory, drawn by the `scale_fit_plane` kernel.

use std::sync::{Arc, OnceLock};

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use cudarc::nvrtc::{CompileOptions, Ptx, compile_ptx_with_opts};

use super::plan::{PlaneLaunch, draw_launches, fill_launches};
use super::source::{SCALE_FIT_PLANE, SCALE_FIT_PLANE_SRC};
use crate::canvas::DEFAULT_BACKGROUND;
use crate::compositor::{
    CompositeError, Compositor, Damage, check_download_size, check_same_size, check_tile_index,
};
use crate::frame::{I420Frame, I420View, Yuv};
use crate::layout::{Layout, Rect, TILE_COUNT};
use crate::scale::check_rect;
use crate::slate::{Slate, caption_picture, slate_picture};

fn gpu_error(what: &str) -> impl Fn(cudarc::driver::DriverError) -> CompositeError + '_ {
    move |e| CompositeError::Gpu(format!("{what}: {e}"))
}

/// True when both the CUDA driver library and NVRTC can be loaded: without either, `cudarc`
/// panics on first use, so nothing of it is touched before this says yes.
pub fn cuda_libraries_present() -> bool {
    // SAFETY: `is_culib_present` only tries to dlopen the driver library and reports whether
    // that worked; it has no preconditions.
    let driver = unsafe { cudarc::driver::sys::is_culib_present() };
    // SAFETY: the same, for the NVRTC library.
    let nvrtc = unsafe { cudarc::nvrtc::sys::is_culib_present() };
    driver && nvrtc
}

/// Compiles the kernel source to PTX with NVRTC (once per process; the result is kept).
/// Call only after [`cuda_libraries_present`] (or NVRTC's own `is_culib_present`) said yes.
pub(crate) fn compiled_ptx() -> Result<Ptx, CompositeError> {
    static PTX: OnceLock<Result<Ptx, String>> = OnceLock::new();
    PTX.get_or_init(|| {
        let options = CompileOptions {
            name: Some("tcn_scale_fit.cu".to_owned()),
            ..Default::default()
        };
        compile_ptx_with_opts(SCALE_FIT_PLANE_SRC, options).map_err(|e| format!("NVRTC: {e}"))
    })
    .clone()
    .map_err(CompositeError::Gpu)
}

/// The GPU implementation of [`Compositor`]: the canvas's three planes live in device memory
/// (tightly packed, like [`I420Frame`]); a draw uploads the source's planes and runs one kernel
/// launch per plane over the tile only; [`Compositor::download`] copies the canvas back.
/// Bytes are identical to the CPU [`Canvas`](crate::canvas::Canvas)'s.
pub struct GpuCanvas {
    layout: Layout,
    background: Yuv,
    stream: Arc<CudaStream>,
    kernel: CudaFunction,
    /// The canvas: Y, U, V.
    planes: [CudaSlice<u8>; 3],
    /// Upload buffers for a source's Y, U, V, grown when a larger source arrives.
    uploads: [Option<CudaSlice<u8>>; 3],
    /// The source pointer of a fill, which reads none.
    no_source: CudaSlice<u8>,
    /// Each tile's caption, drawn over its pictures.
    captions: [Option<String>; TILE_COUNT],
    damage: Damage,
}

impl std::fmt::Debug for GpuCanvas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuCanvas")
            .field("layout", &self.layout)
            .field("background", &self.background)
            .field("damage", &self.damage)
            .finish_non_exhaustive()
    }
}

impl GpuCanvas {
    /// A canvas on CUDA device `ordinal`, painted [`DEFAULT_BACKGROUND`]. Returns
    /// [`CompositeError::Gpu`] (never panics) when the CUDA driver library or NVRTC is absent,
    /// or when the device, the compile or an allocation fails.
    pub fn new(layout: Layout, ordinal: usize) -> Result<Self, CompositeError> {
        Self::with_background(layout, ordinal, DEFAULT_BACKGROUND)
    }

    /// [`GpuCanvas::new`] with another background colour.
    pub fn with_background(
        layout: Layout,
        ordinal: usize,
        background: Yuv,
    ) -> Result<Self, CompositeError> {
        if !cuda_libraries_present() {
            return Err(CompositeError::Gpu(
                "the CUDA driver library or NVRTC is not installed".to_owned(),
            ));
        }
        let context = CudaContext::new(ordinal).map_err(gpu_error("CUDA context"))?;
        let stream = context.default_stream();
        let module = context
            .load_module(compiled_ptx()?)
            .map_err(gpu_error("loading the PTX"))?;
        let kernel = module
            .load_function(SCALE_FIT_PLANE)
            .map_err(gpu_error("kernel lookup"))?;
        let luma = layout.width() as usize * layout.height() as usize;
        let alloc = |len| {
            stream
                .alloc_zeros::<u8>(len)
                .map_err(gpu_error("allocation"))
        };
        let planes = [alloc(luma)?, alloc(luma / 4)?, alloc(luma / 4)?];
        let no_source = alloc(2)?;
        let mut canvas = Self {
            layout,
            background,
            stream,
            kernel,
            planes,
            uploads: [None, None, None],
            no_source,
            captions: Default::default(),
            damage: Damage::ALL,
        };
        let whole = Rect::new(0, 0, layout.width(), layout.height());
        for launch in fill_launches(whole, background) {
            canvas.launch(&launch, None)?;
        }
        Ok(canvas)
    }

    fn tile(&self, index: usize) -> Result<Rect, CompositeError> {
        self.layout
            .tile(index)
            .ok_or(CompositeError::NoSuchTile(index))
    }

    /// Runs one `scale_fit_plane` launch; `src` is the uploaded source plane and its stride
    /// (`None` for a fill, whose picture rectangle is empty so no thread reads a source).
    fn launch(&mut self, launch: &PlaneLaunch, src: Option<usize>) -> Result<(), CompositeError> {
        let (grid_dim, block_dim) = launch.dims();
        let config = LaunchConfig {
            grid_dim,
            block_dim,
            shared_mem_bytes: 0,
        };
        let to_u32 = |v: usize| {
            u32::try_from(v).map_err(|_| CompositeError::Gpu(format!("stride {v} too large")))
        };
        let src_stride = to_u32(src.unwrap_or(0))?;
        let dst_stride = if launch.plane == 0 {
            self.layout.width()
        } else {
            self.layout.width() / 2
        };
        let (area, pic) = (launch.area, launch.pic);
        let source = match src {
            Some(_) => self.uploads[launch.plane]
                .as_ref()
                .ok_or_else(|| CompositeError::Gpu("source plane not uploaded".to_owned()))?,
            // A fill's picture rectangle is empty: no thread reads the source.
            None => &self.no_source,
        };
        let plane = &mut self.planes[launch.plane];
        let mut args = self.stream.launch_builder(&self.kernel);
        args.arg(source)
            .arg(&src_stride)
            .arg(&launch.src_w)
            .arg(&launch.src_h)
            .arg(plane)
            .arg(&dst_stride)
            .arg(&area.x)
            .arg(&area.y)
            .arg(&area.width)
            .arg(&area.height)
            .arg(&pic.x)
            .arg(&pic.y)
            .arg(&pic.width)
            .arg(&pic.height)
            .arg(&launch.bar);
        // SAFETY: the arguments match `scale_fit_plane`'s parameters in number, order and type
        // (pointers to u8 device memory, `unsigned int` as u32, `unsigned char` as u8). Every
        // write lands inside the tile's rectangle of this plane, which `check_rect` and the
        // layout keep inside the plane's allocation; every read of a draw is inside the
        // uploaded source plane (rows < src_h at `src_stride`, columns < src_w), which holds
        // `stride × (rows − 1) + row` bytes as `I420View` guarantees.
        unsafe { args.launch(config) }.map_err(gpu_error("kernel launch"))?;
        Ok(())
    }

    /// Scales `src` into luma rectangle `area` (even, inside the canvas): upload and one launch
    /// per plane. A source of `area`'s exact size is copied byte for byte (the 1:1 bilinear).
    fn draw_into(&mut self, area: Rect, src: &I420View<'_>) -> Result<(), CompositeError> {
        check_rect(area, self.layout.width(), self.layout.height())?;
        let launches = draw_launches(src.width(), src.height(), area);
        for launch in &launches {
            let i = launch.plane;
            let stride = src.strides()[i];
            // Only the bytes the rows reach: the view's slice may end right after its last row.
            let rows = launch.src_h as usize;
            let len = stride * (rows - 1) + launch.src_w as usize;
            self.upload(i, &src.planes()[i][..len])?;
            self.launch(launch, Some(stride))?;
        }
        Ok(())
    }

    /// Copies one source plane into its upload buffer, growing it when needed.
    fn upload(&mut self, plane: usize, bytes: &[u8]) -> Result<(), CompositeError> {
        let fits = self.uploads[plane]
            .as_ref()
            .is_some_and(|upload| upload.len() >= bytes.len());
        if !fits {
            let buffer = self
                .stream
                .alloc_zeros::<u8>(bytes.len().next_power_of_two())
                .map_err(gpu_error("allocation"))?;
            self.uploads[plane] = Some(buffer);
        }
        let upload = self.uploads[plane].as_mut().expect("allocated above");
        self.stream
            .memcpy_htod(bytes, upload)
            .map_err(gpu_error("upload"))
    }
}

impl Compositor for GpuCanvas {
    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn set_layout(&mut self, layout: Layout) -> Result<(), CompositeError> {
        check_same_size(&self.layout, &layout)?;
        self.layout = layout;
        let whole = Rect::new(0, 0, layout.width(), layout.height());
        for launch in fill_launches(whole, self.background) {
            self.launch(&launch, None)?;
        }
        self.damage = Damage::ALL;
        Ok(())
    }

    fn draw(&mut self, tile: usize, src: &I420View<'_>) -> Result<(), CompositeError> {
        let area = self.tile(tile)?;
        self.draw_into(area, src)?;
        // The caption is rendered on the host (a few thousand bytes) and copied in 1:1: the
        // bytes of the CPU canvas's in-place caption (`slate::caption_picture`).
        if let Some((rect, picture)) = self.captions[tile]
            .as_deref()
            .and_then(|name| caption_picture(area, name))
        {
            self.draw_into(rect, &picture.view())?;
        }
        self.damage.insert(tile);
        Ok(())
    }

    fn draw_slate(&mut self, tile: usize, slate: &Slate) -> Result<(), CompositeError> {
        let area = self.tile(tile)?;
        // Slates change only with the roster: rendered on the host, copied in 1:1.
        let picture = slate_picture(area, slate)
            .ok_or_else(|| CompositeError::Gpu(format!("slate of {area:?}")))?;
        self.draw_into(area, &picture.view())?;
        self.damage.insert(tile);
        Ok(())
    }

    fn set_caption(&mut self, tile: usize, caption: Option<&str>) -> Result<(), CompositeError> {
        check_tile_index(tile)?;
        self.captions[tile] = caption.map(str::to_owned);
        Ok(())
    }

    fn clear_tile(&mut self, tile: usize) -> Result<(), CompositeError> {
        let area = self.tile(tile)?;
        for launch in fill_launches(area, self.background) {
            self.launch(&launch, None)?;
        }
        self.damage.insert(tile);
        Ok(())
    }

    fn download(&mut self, out: &mut I420Frame) -> Result<(), CompositeError> {
        check_download_size(&self.layout, out)?;
        for (plane, host) in self.planes.iter().zip(out.planes_mut()) {
            self.stream
                .memcpy_dtoh(plane, host)
                .map_err(gpu_error("download"))?;
        }
        self.stream.synchronize().map_err(gpu_error("synchronize"))
    }

    fn take_damage(&mut self) -> Damage {
        std::mem::take(&mut self.damage)
    }
}
