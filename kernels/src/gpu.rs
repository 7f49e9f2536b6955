//! The GPU probe: which NVIDIA devices this process can use, found without ever panicking.

use std::panic::{self, AssertUnwindSafe};

use cudarc::driver::{CudaContext, sys};
use serde::Serialize;

/// What the probe found. `Default` is "no CUDA driver library at all".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GpuInfo {
    /// Whether the CUDA driver library (`libcuda.so.1`) could be loaded.
    pub driver_library: bool,
    /// Devices that answered, in ordinal order. Empty on a CPU-only host.
    pub devices: Vec<GpuDevice>,
    /// Why the driver library was present but no device could be used, if that happened.
    pub error: Option<String>,
}

/// One CUDA device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GpuDevice {
    /// CUDA device ordinal.
    pub ordinal: usize,
    /// Marketing name reported by the driver, e.g. `NVIDIA H100 80GB HBM3`.
    pub name: String,
}

impl GpuInfo {
    /// True when at least one device can be used.
    pub fn present(&self) -> bool {
        !self.devices.is_empty()
    }
}

/// Looks for NVIDIA GPUs. Never panics, whatever the host has installed.
pub fn probe() -> GpuInfo {
    // SAFETY: `is_culib_present` only attempts to dlopen the driver library and reports whether
    // that worked; it has no preconditions. Every other cudarc driver call panics without it.
    if !unsafe { sys::is_culib_present() } {
        return GpuInfo::default();
    }
    // With the library present, cudarc reports failures as `Err`; the unwind guard is a second
    // line of defence against a broken driver install (a panic must not stop a CPU-capable node).
    match panic::catch_unwind(AssertUnwindSafe(enumerate_devices)) {
        Ok(Ok(devices)) => GpuInfo {
            driver_library: true,
            devices,
            error: None,
        },
        Ok(Err(error)) => GpuInfo {
            driver_library: true,
            devices: Vec::new(),
            error: Some(error),
        },
        Err(_) => GpuInfo {
            driver_library: true,
            devices: Vec::new(),
            error: Some("the CUDA driver library panicked while being queried".to_owned()),
        },
    }
}

fn enumerate_devices() -> Result<Vec<GpuDevice>, String> {
    let count = CudaContext::device_count().map_err(|e| format!("cuDeviceGetCount: {e}"))?;
    let count = usize::try_from(count).unwrap_or(0);
    if count == 0 {
        return Err("the CUDA driver reports no devices".to_owned());
    }
    (0..count)
        .map(|ordinal| {
            let context =
                CudaContext::new(ordinal).map_err(|e| format!("device {ordinal}: {e}"))?;
            let name = context
                .name()
                .map_err(|e| format!("device {ordinal} name: {e}"))?;
            Ok(GpuDevice { ordinal, name })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe must answer on any host. Where the driver library is absent (CI, the dev
    /// machines) the answer must be "no GPU" with no error; where it is present the device list
    /// and the error are mutually exclusive.
    #[test]
    fn probe_answers_without_panicking() {
        let info = probe();
        if info.driver_library {
            assert!(info.present() != info.error.is_some(), "{info:?}");
        } else {
            assert_eq!(info, GpuInfo::default());
            assert!(!info.present());
        }
    }
}
