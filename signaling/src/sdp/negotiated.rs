//! The outcome of an offer/answer exchange: per stream, the one format, the addresses, the
//! direction and the keys the media pipeline is built from.

use std::net::SocketAddr;

use super::caps::{Endpoint, RtcpFeedback};
use super::codec::{AudioCodec, VideoCodec};
use super::crypto::SrtpContext;
use super::direction::Direction;
use super::h263::H263PictureSize;
use super::h264::H264Level;

/// The agreed media of a session: at most one audio and one video stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// The audio stream, if one was accepted.
    pub audio: Option<NegotiatedStream<AudioFormat>>,
    /// The video stream, if one was accepted.
    pub video: Option<NegotiatedStream<VideoFormat>>,
}

/// One agreed RTP stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiatedStream<F> {
    /// The one format used.
    pub format: F,
    /// Its payload type, the offerer's number (RFC 3264 §6.1).
    pub payload_type: u8,
    /// Where to send RTP.
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP: `a=rtcp` (RFC 3605), else the RTP port + 1 (RFC 3550 §11), or the
    /// RTP address itself with `rtcp_mux`.
    pub remote_rtcp: SocketAddr,
    /// RTP and RTCP share one port (RFC 5761).
    pub rtcp_mux: bool,
    /// From our side: whether we send and whether we receive. A peer on hold (its
    /// `a=sendonly`, or RFC 2543's `c=0.0.0.0`) gives `RecvOnly` or `Inactive`.
    pub direction: Direction,
    /// The SRTP keys, or `None` for plain RTP.
    pub srtp: Option<SrtpContext>,
    /// The RTCP feedback agreed for the format.
    pub rtcp_fb: RtcpFeedback,
    /// The most we may send, in kbit/s: the peer's `b=TIAS` / 1000 (RFC 3890), else its
    /// `b=AS` (RFC 8866 §5.8), media-level before session-level.
    pub bandwidth_kbps: Option<u32>,
    /// Our endpoint for the stream; with `rtcp_mux` its `rtcp_port` is its `rtp_port`.
    pub local: Endpoint,
}

/// The agreed audio format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudioFormat {
    /// The codec.
    pub codec: AudioCodec,
    /// The RTP clock rate (8000 for G.722, RFC 3551 §4.5.2).
    pub clock_rate: u32,
    /// The channel count of the `rtpmap` (2 for Opus, RFC 7587 §7).
    pub channels: u8,
    /// The RFC 4733 telephone-event payload type at the same clock rate, if agreed.
    pub telephone_event: Option<u8>,
    /// The peer's `a=ptime`: the packet duration it wants to receive (RFC 8866 §6.4).
    pub ptime_ms: Option<u32>,
}

/// The agreed video format and the peer's receive limits, which bound what we send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoFormat {
    /// The codec; for H.264 the agreed `profile-level-id` (that of the answer) and the one
    /// agreed packetization mode.
    pub codec: VideoCodec,
    /// The RTP clock rate, 90 kHz.
    pub clock_rate: u32,
    /// H.264: the highest level the peer receives, which we must not exceed when sending
    /// (RFC 6184 §8.2.2: the peer's own level with `level-asymmetry-allowed=1` on both
    /// sides, else the answer's level).
    pub h264_send_level: Option<H264Level>,
    /// H.264: the highest level we said we receive (our level with
    /// `level-asymmetry-allowed`, else the answer's).
    pub h264_receive_level: Option<H264Level>,
    /// H.264 `max-mbps` of the peer: macroblocks per second it decodes (RFC 6184 §8.1).
    pub max_mbps: Option<u32>,
    /// H.264 / VP8 `max-fs` of the peer: frame size in macroblocks (RFC 6184 §8.1, RFC 7741
    /// §6.1).
    pub max_fs: Option<u32>,
    /// H.264 `max-br` of the peer, in 1000 bit/s (VCL) units (RFC 6184 §8.1).
    pub max_br: Option<u32>,
    /// VP8 `max-fr` of the peer: frames per second (RFC 7741 §6.1).
    pub max_fr: Option<u32>,
    /// H.263 and H.261: the picture sizes the peer decodes (RFC 4629 §8.1.1, RFC 4587 §6.1);
    /// empty when it listed none, which means QCIF.
    pub h263_sizes: Vec<H263PictureSize>,
    /// H.264: the peer's `sprop-parameter-sets` (RFC 6184 §8.1), base64 SPS and PPS separated
    /// by commas, as written. Some room systems send their parameter sets only here, never in
    /// band, so the decoder needs them before the first packet.
    pub sprop_parameter_sets: Option<String>,
}

impl VideoFormat {
    /// A format with no peer limits.
    pub(crate) fn plain(codec: VideoCodec) -> Self {
        Self {
            clock_rate: codec.clock_rate(),
            codec,
            h264_send_level: None,
            h264_receive_level: None,
            max_mbps: None,
            max_fs: None,
            max_br: None,
            max_fr: None,
            h263_sizes: Vec::new(),
            sprop_parameter_sets: None,
        }
    }
}
