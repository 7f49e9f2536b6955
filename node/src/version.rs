//! `tcn version`: what this binary is and what the host can do.

use std::fmt::Write as _;

use crate::build_info;
use crate::capabilities::{Capabilities, VideoPath};

/// A human-readable report: version, revision, GStreamer, media plan, GPU.
pub fn report(capabilities: &Capabilities) -> String {
    let media = &capabilities.media;
    let available = media.elements.iter().filter(|e| e.available).count();
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "tcn {} (revision {})",
        build_info::VERSION,
        build_info::REVISION
    );
    let _ = writeln!(out, "{}", media.gstreamer_version);
    let _ = writeln!(
        out,
        "media plan: {available}/{} elements present",
        media.elements.len()
    );
    if let Some(missing) = media.missing_report() {
        let _ = writeln!(out, "  {missing}");
    }
    let gpu = match capabilities.gpu.devices.as_slice() {
        [] => "none".to_owned(),
        devices => devices
            .iter()
            .map(|d| format!("{}: {}", d.ordinal, d.name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let _ = writeln!(out, "GPU: {gpu}");
    let nv = if media.gpu_elements.is_empty() {
        "none registered".to_owned()
    } else {
        media.gpu_elements.join(", ")
    };
    let _ = writeln!(out, "NVIDIA GStreamer elements: {nv}");
    let path = match capabilities.video_path {
        VideoPath::Cpu => "cpu",
        VideoPath::Gpu => "gpu",
    };
    let _ = writeln!(
        out,
        "video path: {path} ({})",
        capabilities.video_path_reason()
    );
    out
}
