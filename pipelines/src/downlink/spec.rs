//! What the node asks of one downlink: the video it sends the room system (H.264, H.263 or
//! H.261) and the audio (G.711, G.722 or Opus).
//!
//! Plain values with documented defaults; `node` fills them from the negotiated SDP. The
//! defaults are today's call: 1280×720 H.264 constrained baseline level 3.1, mode 1, and PCMU
//! at 20 ms. [`VideoOut::itu`] gives the settings for an H.263 or H.261 room system.

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

/// The video codec of the composite toward the room system.
///
/// Only [`VideoCodecOut::H264`] reads [`VideoOut::profile`], [`VideoOut::level`] and
/// [`VideoOut::packetization`]; the ITU codecs ignore them. The ITU codecs take only the
/// picture sizes of [`PictureFormat`] (checked by [`DownlinkSpec::validate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VideoCodecOut {
    /// H.264 (RFC 6184, encoding name `H264`): x264, any even size.
    #[default]
    H264,
    /// H.263 in its 1998 RTP format (RFC 4629, encoding name `H263-1998`): `avenc_h263p` with no
    /// optional annexes, `rtph263ppay`. QCIF, CIF or 4CIF.
    H263Plus,
    /// H.263 in the RFC 2190 format (encoding name `H263`, static payload type 34): `avenc_h263`,
    /// `rtph263pay`. QCIF, CIF or 4CIF.
    H263,
    /// H.261 (RFC 4587, encoding name `H261`, static payload type 31): `avenc_h261`,
    /// `rtph261pay`. QCIF or CIF, at most 2 Mb/s.
    H261,
}

impl VideoCodecOut {
    /// The SDP/RTP encoding name (`H264`, `H263-1998`, `H263`, `H261`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::H264 => "H264",
            Self::H263Plus => "H263-1998",
            Self::H263 => "H263",
            Self::H261 => "H261",
        }
    }

    /// The static RTP payload type (RFC 3551): 34 for H.263, 31 for H.261; `None` for the
    /// dynamic ones.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::H263 => Some(34),
            Self::H261 => Some(31),
            Self::H264 | Self::H263Plus => None,
        }
    }

    /// The picture formats this codec is sent at; `None` for H.264 (any even size).
    pub fn formats(self) -> Option<&'static [PictureFormat]> {
        match self {
            Self::H264 => None,
            Self::H263Plus | Self::H263 => Some(&[
                PictureFormat::Qcif,
                PictureFormat::Cif,
                PictureFormat::FourCif,
            ]),
            Self::H261 => Some(&[PictureFormat::Qcif, PictureFormat::Cif]),
        }
    }

    /// The most bits per second this codec is sent at, in kbit/s (H.261: 2048, its `p × 64`
    /// ceiling with p = 32; the others: [`VideoOut::bitrate_kbps`]'s own limit).
    pub fn max_bitrate_kbps(self) -> u32 {
        match self {
            Self::H261 => 2048,
            _ => 20_000,
        }
    }
}

/// The ITU picture formats of H.261 and H.263 (ITU-T H.261 §3.1, H.263 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureFormat {
    /// 176×144.
    Qcif,
    /// 352×288.
    Cif,
    /// 704×576.
    FourCif,
}

impl PictureFormat {
    /// Width and height in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            Self::Qcif => (176, 144),
            Self::Cif => (352, 288),
            Self::FourCif => (704, 576),
        }
    }

    /// The format of a `width × height` picture, if it is one.
    pub fn of_size(width: u32, height: u32) -> Option<Self> {
        [Self::Qcif, Self::Cif, Self::FourCif]
            .into_iter()
            .find(|f| f.size() == (width, height))
    }

    /// A bitrate that looks right for this format on an ITU codec, in kbit/s: QCIF 256, CIF 512,
    /// 4CIF 1536 (H.261 room systems typically run 384–768 kb/s at CIF).
    pub fn default_bitrate_kbps(self) -> u32 {
        match self {
            Self::Qcif => 256,
            Self::Cif => 512,
            Self::FourCif => 1536,
        }
    }
}

/// The video sent to the room system: the 1+7 composite as H.264, H.263 or H.261 RTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoOut {
    /// The codec (default H.264).
    pub codec: VideoCodecOut,
    /// Output width in pixels (even; default 1280). The ITU codecs take the sizes of
    /// [`PictureFormat`] only.
    pub width: u32,
    /// Output height in pixels (even; default 720).
    pub height: u32,
    /// Output frame rate, fixed (default 30; at most 30 for the ITU codecs, whose picture clock
    /// is 29.97 Hz).
    pub fps: u32,
    /// H.264 profile (default constrained baseline; H.264 only).
    pub profile: H264Profile,
    /// H.264 level (default 3.1; H.264 only).
    pub level: H264Level,
    /// Target bitrate in kbit/s (default 1500; see [`PictureFormat::default_bitrate_kbps`] for
    /// the ITU codecs). Rate control is CBR-like: x264 CBR, libavcodec with `maxrate` = bitrate.
    pub bitrate_kbps: u32,
    /// H.264 packetization mode (default 1; H.264 only).
    pub packetization: Packetization,
    /// Largest RTP packet, header included, in bytes (default 1200).
    pub mtu: u32,
    /// RTP payload type (default 96).
    pub payload_type: u8,
    /// RTP SSRC.
    pub ssrc: u32,
    /// IDR policy (for H.263 and H.261: the same policy for their intra pictures).
    pub keyframes: KeyframePolicy,
}

impl Default for VideoOut {
    fn default() -> Self {
        Self {
            codec: VideoCodecOut::H264,
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

impl VideoOut {
    /// The default video with an ITU codec (`H263Plus`, `H263` or `H261`) at `format`: its
    /// size, [`PictureFormat::default_bitrate_kbps`], and the codec's static payload type when it
    /// has one (else 96). H.264 at `format` is `VideoOut { width, height, ..Default }`.
    pub fn itu(codec: VideoCodecOut, format: PictureFormat) -> Self {
        let (width, height) = format.size();
        Self {
            codec,
            width,
            height,
            bitrate_kbps: format.default_bitrate_kbps(),
            payload_type: codec.static_payload_type().unwrap_or(96),
            ..Self::default()
        }
    }
}

/// The audio codec toward the room system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AudioCodecOut {
    /// G.711 µ-law (`PCMU/8000`, static payload type 0).
    #[default]
    Pcmu,
    /// G.711 A-law (`PCMA/8000`, static payload type 8).
    Pcma,
    /// G.722 (`G722/8000`, static payload type 9): 16 kHz audio, but an RTP clock of 8000 Hz
    /// (RFC 3551 §4.5.2), so a 20 ms packet steps the timestamp by 160. 64 kbit/s.
    G722,
    /// Opus (`opus/48000/2`, RFC 7587, a dynamic payload type): mono, 48 kHz clock,
    /// [`OPUS_BITRATE`] bit/s. The packet duration is one Opus frame, so ptime is 10, 20, 40
    /// or 60 ms.
    Opus,
}

/// The bitrate of the Opus sent to the room system (bit/s): wideband speech and music.
pub const OPUS_BITRATE: u32 = 32_000;

impl AudioCodecOut {
    /// The static RTP payload type (0, 8, 9), `None` for Opus.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            Self::Pcmu => Some(0),
            Self::Pcma => Some(8),
            Self::G722 => Some(9),
            Self::Opus => None,
        }
    }

    /// The SDP/RTP encoding name (`PCMU`, `PCMA`, `G722`, `OPUS`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
            Self::G722 => "G722",
            Self::Opus => "OPUS",
        }
    }

    /// The RTP clock rate (8000, but 48000 for Opus; G.722 too is 8000).
    pub fn clock_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma | Self::G722 => 8000,
            Self::Opus => 48_000,
        }
    }

    /// The sample rate of the audio the encoder takes (8000, G.722 16000, Opus 48000): the rate
    /// the mix is made at.
    pub fn sample_rate(self) -> u32 {
        match self {
            Self::Pcmu | Self::Pcma => 8000,
            Self::G722 => 16_000,
            Self::Opus => 48_000,
        }
    }

    /// Whether packets of `ms` milliseconds can be sent: 10..=60 in steps of 10, and for Opus one
    /// of its frame durations 10, 20, 40, 60.
    pub fn supports_ptime(self, ms: u32) -> bool {
        match self {
            Self::Opus => matches!(ms, 10 | 20 | 40 | 60),
            _ => (10..=60).contains(&ms) && ms.is_multiple_of(10),
        }
    }

    /// The packet duration to use when the far end asks for `wanted` ms (`a=ptime`): `wanted`
    /// when supported, else the longest supported duration below it, else 20.
    pub fn ptime_for(self, wanted: u32) -> u32 {
        (10..=wanted.min(60))
            .rev()
            .find(|ms| self.supports_ptime(*ms))
            .unwrap_or(20)
    }
}

/// The audio sent to the room system: the mix of Meet's (up to 3) Opus streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioOut {
    /// The codec (default PCMU).
    pub codec: AudioCodecOut,
    /// RTP payload type (default 0, PCMU; see [`AudioCodecOut::static_payload_type`]).
    pub payload_type: u8,
    /// Packet duration in ms (default 20; see [`AudioCodecOut::supports_ptime`]). Every packet
    /// carries exactly this much audio: its timestamp steps by `ptime × clock rate / 1000`.
    pub ptime_ms: u32,
    /// RTP SSRC.
    pub ssrc: u32,
}

impl Default for AudioOut {
    fn default() -> Self {
        Self {
            codec: AudioCodecOut::Pcmu,
            payload_type: 0,
            ptime_ms: 20,
            ssrc: 0x7c4e_0002,
        }
    }
}

/// Everything one downlink graph needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownlinkSpec {
    /// The composite.
    pub video: VideoOut,
    /// The audio mix.
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
        if !(64..=v.codec.max_bitrate_kbps()).contains(&v.bitrate_kbps) {
            return bad(format!(
                "bitrate {} kb/s not in 64..={} for {}",
                v.bitrate_kbps,
                v.codec.max_bitrate_kbps(),
                v.codec.encoding_name()
            ));
        }
        if let Some(formats) = v.codec.formats() {
            if !PictureFormat::of_size(v.width, v.height).is_some_and(|f| formats.contains(&f)) {
                return bad(format!(
                    "{} is not sent at {}x{} (formats {formats:?})",
                    v.codec.encoding_name(),
                    v.width,
                    v.height
                ));
            }
            if v.fps > 30 {
                return bad(format!("{} above 30 fps", v.codec.encoding_name()));
            }
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
        let (p, codec) = (self.audio.ptime_ms, self.audio.codec);
        if !codec.supports_ptime(p) {
            return bad(format!(
                "ptime {p} ms not supported by {}",
                codec.encoding_name()
            ));
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
    fn itu_codecs_take_their_formats_only() {
        let cif = VideoOut::itu(VideoCodecOut::H261, PictureFormat::Cif);
        assert_eq!((cif.width, cif.height, cif.payload_type), (352, 288, 31));
        let mut s = DownlinkSpec {
            video: cif,
            ..DownlinkSpec::default()
        };
        s.validate().unwrap();
        s.video.bitrate_kbps = 4000;
        assert!(s.validate().is_err(), "H.261 above 2 Mb/s");
        let mut s = DownlinkSpec {
            video: VideoOut::itu(VideoCodecOut::H261, PictureFormat::FourCif),
            ..DownlinkSpec::default()
        };
        assert!(s.validate().is_err(), "H.261 has no 4CIF");
        s.video = VideoOut::itu(VideoCodecOut::H263, PictureFormat::FourCif);
        s.validate().unwrap();
        s.video.width = 640;
        assert!(s.validate().is_err());
    }

    #[test]
    fn opus_ptime_is_a_frame_duration() {
        let mut s = DownlinkSpec::default();
        s.audio.codec = AudioCodecOut::Opus;
        s.audio.ptime_ms = 30;
        assert!(s.validate().is_err());
        assert_eq!(AudioCodecOut::Opus.ptime_for(30), 20);
        assert_eq!(AudioCodecOut::Opus.ptime_for(100), 60);
        assert_eq!(AudioCodecOut::G722.ptime_for(30), 30);
        assert_eq!(AudioCodecOut::Pcma.ptime_for(5), 20);
    }

    #[test]
    fn level_dotted() {
        assert_eq!(H264Level::L3_1.dotted(), "3.1");
        assert_eq!(H264Level::from_idc(40).unwrap().dotted(), "4.0");
        assert!(H264Level::from_idc(9).is_none());
    }
}
