//! What the node asks of one downlink: the H.264 it sends the room system and the G.711 audio.
//!
//! Plain values with documented defaults; `node` fills them from the negotiated SDP.

use std::time::Duration;

use crate::downlink::error::DownlinkError;

/// H.264 profile of the encoded composite (the `profile` field of x264enc's output caps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum H264Profile {
    /// Constrained Baseline (`profile-level-id` 42e0xx / 42c0xx): what room systems take best.
    #[default]
    ConstrainedBaseline,
    /// Baseline (42xx).
    Baseline,
    /// Main (4dxx).
    Main,
    /// High (64xx).
    High,
}

impl H264Profile {
    /// The name GStreamer's H.264 caps use.
    pub fn caps_name(self) -> &'static str {
        match self {
            Self::ConstrainedBaseline => "constrained-baseline",
            Self::Baseline => "baseline",
            Self::Main => "main",
            Self::High => "high",
        }
    }
}

/// H.264 level as `level_idc` (31 for level 3.1); handed to x264 as `level=3.1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H264Level(u8);

impl H264Level {
    /// Level 3.1 (1280×720 at 30 fps), what FreeSWITCH and most room systems use.
    pub const L3_1: Self = Self(31);

    /// A level from its `level_idc` (10..=52, e.g. 31 for 3.1; 9 for 1b is refused).
    pub fn from_idc(idc: u8) -> Option<Self> {
        (10..=52).contains(&idc).then_some(Self(idc))
    }

    /// The `level_idc` (31 for 3.1).
    pub fn idc(self) -> u8 {
        self.0
    }

    /// The dotted form, e.g. `3.1`.
    pub fn dotted(self) -> String {
        format!("{}.{}", self.0 / 10, self.0 % 10)
    }
}

impl Default for H264Level {
    fn default() -> Self {
        Self::L3_1
    }
}

/// RFC 6184 packetization mode of the H.264 RTP toward the room system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Packetization {
    /// Mode 0: every RTP payload is one whole NAL unit. x264 cuts slices by size so every NAL
    /// fits the MTU; a NAL that still does not fit is dropped and counted.
    SingleNal,
    /// Mode 1: NAL units, STAP-A for the parameter sets and FU-A for NALs larger than the MTU.
    #[default]
    NonInterleaved,
}

/// When the encoder sends IDRs on its own and how often it honours requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyframePolicy {
    /// At most one requested IDR per this interval (default 1 s); a request inside it waits for
    /// its end, and requests arriving while one waits are dropped (counted).
    pub min_interval: Duration,
    /// IDRs forced at these offsets from the first output frame (default 0, 1 and 2 s), the
    /// cure for room systems that miss the first keyframe (`shared/docs/media.md` §3).
    pub start_idrs: Vec<Duration>,
    /// The longest GOP in frames (x264 `key-int-max`; default 10 s at 30 fps).
    pub max_gop_frames: u32,
}

impl Default for KeyframePolicy {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            start_idrs: vec![
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2),
            ],
            max_gop_frames: 300,
        }
    }
}

/// The video sent to the room system: the 1+7 composite as H.264 RTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoOut {
    /// Output width in pixels (even; default 1280).
    pub width: u32,
    /// Output height in pixels (even; default 720).
    pub height: u32,
    /// Output frame rate, fixed (default 30).
    pub fps: u32,
    /// H.264 profile (default constrained baseline).
    pub profile: H264Profile,
    /// H.264 level (default 3.1).
    pub level: H264Level,
    /// Target bitrate in kbit/s (default 1500).
    pub bitrate_kbps: u32,
    /// Packetization mode (default 1).
    pub packetization: Packetization,
    /// Largest RTP packet, header included, in bytes (default 1200).
    pub mtu: u32,
    /// RTP payload type (default 96).
    pub payload_type: u8,
    /// RTP SSRC.
    pub ssrc: u32,
    /// IDR policy.
    pub keyframes: KeyframePolicy,
}

impl Default for VideoOut {
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 30,
            profile: H264Profile::default(),
            level: H264Level::default(),
            bitrate_kbps: 1500,
            packetization: Packetization::default(),
            mtu: 1200,
            payload_type: 96,
            ssrc: 0x7c4e_0001,
            keyframes: KeyframePolicy::default(),
        }
    }
}

/// G.711 companding law.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum G711Law {
    /// µ-law (PCMU, static payload type 0).
    #[default]
    MuLaw,
    /// A-law (PCMA, static payload type 8).
    ALaw,
}

impl G711Law {
    /// The static RTP payload type of this law (0 or 8).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Self::MuLaw => 0,
            Self::ALaw => 8,
        }
    }
}

/// The audio sent to the room system: the mix of Meet's (up to 3) Opus streams as G.711.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioOut {
    /// Companding law (default µ-law).
    pub law: G711Law,
    /// RTP payload type (default 0, PCMU).
    pub payload_type: u8,
    /// Packet duration in ms (default 20; 10..=60 in steps of 10).
    pub ptime_ms: u32,
    /// RTP SSRC.
    pub ssrc: u32,
}

impl Default for AudioOut {
    fn default() -> Self {
        Self {
            law: G711Law::MuLaw,
            payload_type: 0,
            ptime_ms: 20,
            ssrc: 0x7c4e_0002,
        }
    }
}

/// Everything one downlink graph needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownlinkSpec {
    /// The H.264 composite.
    pub video: VideoOut,
    /// The G.711 mix.
    pub audio: AudioOut,
    /// Jitter-buffer latency of every Meet input, video and audio (default 60 ms).
    pub jitter_latency: Duration,
}

impl Default for DownlinkSpec {
    fn default() -> Self {
        Self {
            video: VideoOut::default(),
            audio: AudioOut::default(),
            jitter_latency: Duration::from_millis(60),
        }
    }
}

impl DownlinkSpec {
    /// Refuses values the graph cannot honour.
    pub fn validate(&self) -> Result<(), DownlinkError> {
        let v = &self.video;
        let bad = |why: String| Err(DownlinkError::Spec(why));
        if v.width < 16
            || v.height < 16
            || !v.width.is_multiple_of(2)
            || !v.height.is_multiple_of(2)
        {
            return bad(format!(
                "output size {}x{} must be even, >= 16",
                v.width, v.height
            ));
        }
        if !(1..=60).contains(&v.fps) {
            return bad(format!("fps {} not in 1..=60", v.fps));
        }
        if !(64..=20_000).contains(&v.bitrate_kbps) {
            return bad(format!("bitrate {} kb/s not in 64..=20000", v.bitrate_kbps));
        }
        if !(400..=9000).contains(&v.mtu) {
            return bad(format!("MTU {} not in 400..=9000", v.mtu));
        }
        if v.payload_type > 127 || self.audio.payload_type > 127 {
            return bad("RTP payload types are 0..=127".into());
        }
        if v.keyframes.max_gop_frames == 0 {
            return bad("max_gop_frames must be > 0".into());
        }
        let p = self.audio.ptime_ms;
        if !(10..=60).contains(&p) || !p.is_multiple_of(10) {
            return bad(format!("ptime {p} ms not 10..=60 in steps of 10"));
        }
        if self.jitter_latency > Duration::from_secs(2) {
            return bad("jitter latency above 2 s".into());
        }
        Ok(())
    }

    /// The largest slice x264 may write in mode 0: the MTU less the RTP header (12 bytes) and a
    /// margin for x264's estimate of emulation-prevention bytes.
    pub fn slice_max_size(&self) -> u32 {
        self.video.mtu - 12 - 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        DownlinkSpec::default().validate().unwrap();
        assert_eq!(DownlinkSpec::default().slice_max_size(), 1128);
    }

    #[test]
    fn odd_size_and_bad_ptime_refused() {
        let mut s = DownlinkSpec::default();
        s.video.width = 1279;
        assert!(s.validate().is_err());
        let mut s = DownlinkSpec::default();
        s.audio.ptime_ms = 25;
        assert!(s.validate().is_err());
    }

    #[test]
    fn level_dotted() {
        assert_eq!(H264Level::L3_1.dotted(), "3.1");
        assert_eq!(H264Level::from_idc(40).unwrap().dotted(), "4.0");
        assert!(H264Level::from_idc(9).is_none());
    }
}
