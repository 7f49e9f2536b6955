//! `MeetProfile`: what a Meet backend expects of the gateway (meet-side.md §5.a, §2.5).

use std::fmt;

/// Digits of a long numeric meeting id: 13 \[BRIEF\] (meet-side.md §2.3: "length not stated
/// in anything I could read"); meet-sim's `DEFAULT_LONG_ID_LEN` is the same number.
pub const DEFAULT_LONG_ID_LEN: u8 = 13;

/// A video codec, as SDP names it (RFC 7741 VP8, RFC 9628 VP9, AV1 RTP spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// VP8: what the gateway sends (3 simulcast layers) and can always decode.
    Vp8,
    /// VP9.
    Vp9,
    /// AV1.
    Av1,
}

impl VideoCodec {
    /// The SDP `a=rtpmap` encoding name: `VP8`, `VP9`, `AV1`.
    pub fn sdp_name(self) -> &'static str {
        match self {
            Self::Vp8 => "VP8",
            Self::Vp9 => "VP9",
            Self::Av1 => "AV1",
        }
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdp_name())
    }
}

/// The limits and choices that shape the gateway's offer, and the dial-string rules of the
/// backend. Every number is a setting; the defaults are the documented profile (meet-side.md
/// §2.5, §5.a): receive 3 audio and up to 8 video streams (the 1+7 layout), send one Opus
/// audio and 3 VP8 simulcast layers at 2 Mb/s in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetProfile {
    /// Receive-only audio m-lines: 3, Meet's virtual audio streams (§1.3).
    pub audio_recv_streams: u8,
    /// Most receive-only video m-lines: 8 for a gateway \[BRIEF\] (the Media API allows 3).
    pub video_recv_streams_max: u8,
    /// Simulcast layers the gateway sends (`a=simulcast:send q;h;f`): 3 \[BRIEF\].
    pub send_video_layers: u8,
    /// The codec the gateway sends: VP8 \[BRIEF\].
    pub send_video_codec: VideoCodec,
    /// The gateway's whole send bitrate (`b=TIAS`), bits per second: 2 000 000 \[BRIEF\].
    pub max_send_bitrate_bps: u32,
    /// Codecs offered for receiving, in order of preference: VP8 only. The Media API asks for
    /// AV1, VP9 and VP8; a gateway may keep to VP8 to avoid an AV1/VP9 decode path (§5.a).
    pub recv_video_codecs: Vec<VideoCodec>,
    /// Digits of a long numeric meeting id: [`DEFAULT_LONG_ID_LEN`].
    pub long_id_len: u8,
    /// The PIN prefix of legacy short numeric ids (§2.2: "requires a PIN prefix given to
    /// Pexip"): digits a short id starts with. `None` (the default): short ids are not
    /// accepted.
    pub short_id_prefix: Option<String>,
}

impl MeetProfile {
    /// Audio m-lines received: [`MeetProfile::audio_recv_streams`]'s default.
    pub const DEFAULT_AUDIO_RECV_STREAMS: u8 = 3;
    /// [`MeetProfile::video_recv_streams_max`]'s default.
    pub const DEFAULT_VIDEO_RECV_STREAMS_MAX: u8 = 8;
    /// [`MeetProfile::send_video_layers`]'s default.
    pub const DEFAULT_SEND_VIDEO_LAYERS: u8 = 3;
    /// [`MeetProfile::send_video_codec`]'s default.
    pub const DEFAULT_SEND_VIDEO_CODEC: VideoCodec = VideoCodec::Vp8;
    /// [`MeetProfile::max_send_bitrate_bps`]'s default.
    pub const DEFAULT_MAX_SEND_BITRATE_BPS: u32 = 2_000_000;

    /// The profile with a short-id PIN prefix: short ids are accepted when they start with
    /// `prefix`.
    pub fn with_short_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.short_id_prefix = Some(prefix.into());
        self
    }
}

impl Default for MeetProfile {
    /// The documented gateway profile (see the type's docs).
    fn default() -> Self {
        Self {
            audio_recv_streams: Self::DEFAULT_AUDIO_RECV_STREAMS,
            video_recv_streams_max: Self::DEFAULT_VIDEO_RECV_STREAMS_MAX,
            send_video_layers: Self::DEFAULT_SEND_VIDEO_LAYERS,
            send_video_codec: Self::DEFAULT_SEND_VIDEO_CODEC,
            max_send_bitrate_bps: Self::DEFAULT_MAX_SEND_BITRATE_BPS,
            recv_video_codecs: vec![VideoCodec::Vp8],
            long_id_len: DEFAULT_LONG_ID_LEN,
            short_id_prefix: None,
        }
    }
}
