//! The start-up probe: GStreamer version, the media plan's elements, and NVIDIA elements.

use gst::prelude::*;
use serde::Serialize;

use crate::plan::{ElementNeed, GPU_ELEMENTS, MEDIA_PLAN, MIN_GSTREAMER, NVCODEC_PLUGIN};

/// What GStreamer on this host can do for the media plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaCapabilities {
    /// Runtime GStreamer version, e.g. `GStreamer 1.22.0`.
    pub gstreamer_version: String,
    /// Every element of [`MEDIA_PLAN`] and whether its factory was found.
    pub elements: Vec<ElementStatus>,
    /// NVIDIA (`nv*`/`cuda*`) element factories that registered, sorted. Empty without a GPU.
    pub gpu_elements: Vec<String>,
}

/// One element of the media plan and whether this host has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ElementStatus {
    /// GStreamer factory name.
    pub name: &'static str,
    /// Debian package that provides it.
    pub package: &'static str,
    /// Whether `gst::ElementFactory::find` found it.
    pub available: bool,
}

/// Why the probe could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// `gst::init` failed (no usable GStreamer installation).
    #[error("GStreamer could not be initialised: {0}")]
    Init(#[from] gst::glib::Error),
    /// The installed GStreamer is older than the media plan was verified on.
    #[error("GStreamer {found} is too old: tcn needs {}.{} or newer", MIN_GSTREAMER.0, MIN_GSTREAMER.1)]
    TooOld {
        /// The version string found.
        found: String,
    },
}

impl MediaCapabilities {
    /// Builds the element table with `lookup` deciding whether a factory exists.
    pub fn from_lookup(
        gstreamer_version: String,
        lookup: impl Fn(&str) -> bool,
        gpu_elements: Vec<String>,
    ) -> Self {
        let elements = MEDIA_PLAN
            .iter()
            .map(|&ElementNeed { name, package, .. }| ElementStatus {
                name,
                package,
                available: lookup(name),
            })
            .collect();
        Self {
            gstreamer_version,
            elements,
            gpu_elements,
        }
    }

    /// The elements of the plan that are missing.
    pub fn missing(&self) -> impl Iterator<Item = &ElementStatus> {
        self.elements.iter().filter(|e| !e.available)
    }

    /// A one-line instruction naming each missing element and its package, or `None` when
    /// nothing is missing. E.g. `missing GStreamer elements: vp8enc (apt-get install
    /// gstreamer1.0-plugins-good)`.
    pub fn missing_report(&self) -> Option<String> {
        let parts: Vec<String> = self
            .missing()
            .map(|e| format!("{} (apt-get install {})", e.name, e.package))
            .collect();
        (!parts.is_empty()).then(|| format!("missing GStreamer elements: {}", parts.join(", ")))
    }

    /// True when the GPU decoders registered, i.e. the GPU media path can be used.
    pub fn gpu_decode(&self) -> bool {
        ["nvh264dec", "nvvp8dec"]
            .iter()
            .all(|name| self.gpu_elements.iter().any(|e| e == name))
    }
}

/// Initialises GStreamer (idempotent) and checks the version and every element of the plan.
pub fn probe() -> Result<MediaCapabilities, ProbeError> {
    gst::init()?;
    let (major, minor, _, _) = gst::version();
    if (major, minor) < MIN_GSTREAMER {
        return Err(ProbeError::TooOld {
            found: gst::version_string().to_string(),
        });
    }
    let registry = gst::Registry::get();
    let mut gpu_elements: Vec<String> = registry
        .features_by_plugin(NVCODEC_PLUGIN)
        .into_iter()
        .map(|feature| feature.name().to_string())
        .filter(|name| name.starts_with("nv") || name.starts_with("cuda"))
        .collect();
    gpu_elements.sort();
    Ok(MediaCapabilities::from_lookup(
        gst::version_string().to_string(),
        |name| gst::ElementFactory::find(name).is_some(),
        gpu_elements,
    ))
}

/// The NVIDIA elements of [`GPU_ELEMENTS`] that registered, in that order.
pub fn gpu_path_elements(caps: &MediaCapabilities) -> Vec<&'static str> {
    GPU_ELEMENTS
        .iter()
        .copied()
        .filter(|name| caps.gpu_elements.iter().any(|e| e == name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_elements_name_their_package() {
        let caps = MediaCapabilities::from_lookup(
            "GStreamer 1.22.0".into(),
            |name| name != "vp8enc" && name != "webrtcbin",
            Vec::new(),
        );
        let report = caps.missing_report().expect("two are missing");
        assert_eq!(
            report,
            "missing GStreamer elements: vp8enc (apt-get install gstreamer1.0-plugins-good), \
             webrtcbin (apt-get install gstreamer1.0-plugins-bad)"
        );
        assert!(!caps.gpu_decode());
    }

    #[test]
    fn gpu_decode_needs_both_decoders() {
        let caps = MediaCapabilities::from_lookup(
            "GStreamer 1.22.0".into(),
            |_| true,
            vec!["cudaupload".into(), "nvh264dec".into()],
        );
        assert!(caps.missing_report().is_none());
        assert!(!caps.gpu_decode());
        assert_eq!(gpu_path_elements(&caps), ["nvh264dec", "cudaupload"]);
    }

    /// The real probe on this host. CI installs every package of the plan (Makefile `deps`),
    /// so a missing element here means the install list and the plan disagree.
    #[test]
    fn this_host_has_the_whole_media_plan() {
        let caps = probe().expect("GStreamer initialises");
        assert!(caps.gstreamer_version.starts_with("GStreamer 1."));
        assert_eq!(caps.missing_report(), None);
        assert_eq!(caps.elements.len(), MEDIA_PLAN.len());
    }
}
