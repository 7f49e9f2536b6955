//! The media plan's element list: every GStreamer element a gateway call uses, in one place.
//!
//! Each entry names the Debian 12 package that provides it (found with `dpkg -S` on the
//! plugin file), so a missing element can be reported as "install X".

/// One element the media plan needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementNeed {
    /// GStreamer factory name.
    pub name: &'static str,
    /// Debian package that ships it.
    pub package: &'static str,
    /// What the call uses it for.
    pub purpose: &'static str,
}

const fn need(name: &'static str, package: &'static str, purpose: &'static str) -> ElementNeed {
    ElementNeed {
        name,
        package,
        purpose,
    }
}

const CORE: &str = "libgstreamer1.0-0";
const BASE: &str = "gstreamer1.0-plugins-base";
const GOOD: &str = "gstreamer1.0-plugins-good";
const BAD: &str = "gstreamer1.0-plugins-bad";
const UGLY: &str = "gstreamer1.0-plugins-ugly";
const LIBAV: &str = "gstreamer1.0-libav";
const NICE: &str = "gstreamer1.0-nice";

/// Minimum GStreamer version: the webrtcbin simulcast recipe was verified on 1.22.
pub const MIN_GSTREAMER: (u32, u32) = (1, 22);

/// Every element a CPU-only gateway call needs. Start-up fails if any is missing.
pub const MEDIA_PLAN: &[ElementNeed] = &[
    // glue between Rust-owned RTP sockets and the graphs
    need(
        "appsrc",
        BASE,
        "encoded media in from the node's RTP sockets",
    ),
    need(
        "appsink",
        BASE,
        "encoded media out to the node's RTP sockets",
    ),
    need("tee", CORE, "fan one decoded picture out to three encoders"),
    need("queue", CORE, "thread boundary per encoder and per input"),
    need("capsfilter", CORE, "pin resolutions and formats"),
    // VTC leg, toward Meet
    need("rtph264depay", GOOD, "H.264 from the VTC"),
    need("h264parse", BAD, "H.264 stream parsing"),
    need("avdec_h264", LIBAV, "H.264 decode (CPU)"),
    need("rtph263depay", GOOD, "H.263 (RFC 2190) from the VTC"),
    need("rtph263pdepay", GOOD, "H.263+ (RFC 4629) from the VTC"),
    need("avdec_h263", LIBAV, "H.263 decode"),
    need("rtph261depay", GOOD, "H.261 (RFC 4587) from the VTC"),
    need("avdec_h261", LIBAV, "H.261 decode"),
    need(
        "capssetter",
        GOOD,
        "H.261's 12:11 pixels (FFmpeg reports square ones)",
    ),
    need("avenc_h263", LIBAV, "H.263 encode toward the VTC"),
    need("avenc_h263p", LIBAV, "H.263+ encode toward the VTC"),
    need("rtph263pay", GOOD, "H.263 (RFC 2190) RTP packetisation"),
    need("rtph263ppay", GOOD, "H.263+ (RFC 4629) RTP packetisation"),
    need("avenc_h261", LIBAV, "H.261 encode toward the VTC"),
    need("rtph261pay", GOOD, "H.261 RTP packetisation"),
    need("videoconvert", BASE, "pixel format conversion"),
    need("videoscale", BASE, "scale to the three simulcast layers"),
    need("videorate", BASE, "steady frame rate toward the encoders"),
    need(
        "vp8enc",
        GOOD,
        "VP8 simulcast encode (libvpx; no GPU encodes VP8)",
    ),
    need("rtpvp8pay", GOOD, "VP8 RTP packetisation"),
    need(
        "rtpfunnel",
        GOOD,
        "bundle the simulcast layers on one m-line",
    ),
    need("rtphdrextmid", GOOD, "RTP MID header extension"),
    need("rtphdrextstreamid", GOOD, "RTP RID header extension"),
    // Meet leg, toward the VTC
    need("rtpvp8depay", GOOD, "VP8 from Meet"),
    need("vp8dec", GOOD, "VP8 decode (CPU)"),
    need("compositor", BASE, "the 1+7 layout"),
    need("x264enc", UGLY, "H.264 encode toward the VTC (CPU)"),
    need("rtph264pay", GOOD, "H.264 RTP packetisation"),
    // audio, both ways
    need("opusenc", BASE, "Opus toward Meet"),
    need("opusdec", BASE, "Opus from Meet"),
    need("rtpopuspay", GOOD, "Opus RTP packetisation"),
    need("rtpopusdepay", GOOD, "Opus RTP depacketisation"),
    need("alawenc", GOOD, "G.711 A-law toward the VTC"),
    need("alawdec", GOOD, "G.711 A-law from the VTC"),
    need("mulawenc", GOOD, "G.711 mu-law toward the VTC"),
    need("mulawdec", GOOD, "G.711 mu-law from the VTC"),
    need("rtppcmapay", GOOD, "G.711 A-law RTP packetisation"),
    need("rtppcmadepay", GOOD, "G.711 A-law RTP depacketisation"),
    need("rtppcmupay", GOOD, "G.711 mu-law RTP packetisation"),
    need("rtppcmudepay", GOOD, "G.711 mu-law RTP depacketisation"),
    need("avenc_g722", LIBAV, "G.722 toward the VTC"),
    need("avdec_g722", LIBAV, "G.722 from the VTC"),
    need("rtpg722pay", GOOD, "G.722 RTP packetisation"),
    need("rtpg722depay", GOOD, "G.722 RTP depacketisation"),
    need("audioconvert", BASE, "sample format conversion"),
    need("audioresample", BASE, "8/16/48 kHz conversion"),
    need(
        "audiomixer",
        BASE,
        "mix of the Meet participants toward the VTC",
    ),
    // WebRTC leg
    need("webrtcbin", BAD, "the Meet leg: ICE, DTLS-SRTP, simulcast"),
    need("rtpbin", GOOD, "RTP sessions inside webrtcbin"),
    need("rtpjitterbuffer", GOOD, "jitter buffering inside webrtcbin"),
    need("dtlssrtpenc", BAD, "DTLS-SRTP inside webrtcbin"),
    need("dtlssrtpdec", BAD, "DTLS-SRTP inside webrtcbin"),
    need("srtpenc", BAD, "SRTP inside webrtcbin"),
    need("srtpdec", BAD, "SRTP inside webrtcbin"),
    need("nicesrc", NICE, "ICE transport inside webrtcbin"),
    need("nicesink", NICE, "ICE transport inside webrtcbin"),
];

/// NVIDIA elements the GPU path uses where they registered (Debian's `nvcodec` plugin in
/// gstreamer1.0-plugins-bad registers them only when the NVIDIA driver is present).
pub const GPU_ELEMENTS: &[&str] = &[
    "nvh264dec",
    "nvvp8dec",
    "nvh264enc",
    "cudaupload",
    "cudadownload",
    "cudaconvertscale",
];

/// The GStreamer plugin whose features are the NVIDIA elements.
pub const NVCODEC_PLUGIN: &str = "nvcodec";

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn plan_names_each_element_once() {
        let mut seen = HashSet::new();
        for need in MEDIA_PLAN {
            assert!(seen.insert(need.name), "{} listed twice", need.name);
            assert!(need.package.starts_with("gstreamer1.0-") || need.package == CORE);
        }
    }
}
