//! What this host can do: the GStreamer media plan and the GPU, probed once at start-up.

use kernels::gpu::{self, GpuInfo};
use pipelines::capabilities::{self as media, MediaCapabilities};
use serde::Serialize;

use crate::error::StartError;

/// The probe's result, as `/status`, `tcn version` and the metrics report it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capabilities {
    /// GStreamer version and the media plan's elements.
    pub media: MediaCapabilities,
    /// NVIDIA devices found.
    pub gpu: GpuInfo,
    /// The video path calls will use.
    pub video_path: VideoPath,
}

/// Where video decoding and scaling run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoPath {
    /// libav/libvpx decoders and CPU scaling.
    Cpu,
    /// NVDEC decoders (`nvh264dec`, `nvvp8dec`) and CUDA scaling; VP8 encode stays on the CPU.
    Gpu,
}

impl Capabilities {
    /// Probes GStreamer and the GPU. Does not judge: see [`Capabilities::require_media_plan`].
    pub fn probe() -> Result<Self, StartError> {
        let media = media::probe()?;
        let gpu = gpu::probe();
        let video_path = if gpu.present() && media.gpu_decode() {
            VideoPath::Gpu
        } else {
            VideoPath::Cpu
        };
        Ok(Self {
            media,
            gpu,
            video_path,
        })
    }

    /// Fails when an element of the media plan is missing, naming the package to install.
    pub fn require_media_plan(&self) -> Result<(), StartError> {
        match self.media.missing_report() {
            Some(report) => Err(StartError::MissingElements(report)),
            None => Ok(()),
        }
    }

    /// One line that says which video path was chosen and why; logged at start-up.
    pub fn video_path_reason(&self) -> String {
        match (self.video_path, self.gpu.devices.first()) {
            (VideoPath::Gpu, Some(device)) => format!(
                "GPU video path on {} ({})",
                device.name,
                media::gpu_path_elements(&self.media).join(", ")
            ),
            (_, Some(device)) => format!(
                "CPU video path: {} found, but GStreamer registered no NVDEC decoders \
                 (nvh264dec, nvvp8dec)",
                device.name
            ),
            (_, None) if self.gpu.driver_library => format!(
                "CPU video path: the CUDA driver is installed but no GPU is usable ({})",
                self.gpu.error.as_deref().unwrap_or("no devices")
            ),
            (_, None) => "CPU video path: no NVIDIA driver (libcuda.so.1) on this host".to_owned(),
        }
    }
}
