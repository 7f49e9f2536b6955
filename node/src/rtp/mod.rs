//! RTP and RTCP on the room system's leg of a gateway call, as sans-IO cores: bytes and the
//! time they arrived go in, figures and RTCP bytes come out. The sockets, SRTP and the timer
//! are in [`crate::call::vtc_media`].
//!
//! - [`header`]: the RTP header, read without trusting its lengths.
//! - [`receive_stats`]: RFC 3550 appendix A statistics of one source (sequence, loss, jitter).
//! - [`rtcp`]: compound RTCP parsed and written as values (SR, RR, SDES, BYE, PLI, FIR, NACK).
//! - [`feedback`]: keyframe requests to the room system, PLI or FIR, rate-limited.
//! - [`stream`]: the core of one stream, joining the above: SSRC latching and probation,
//!   payload-type checks, loss detection, the RTCP schedule, `/status` figures.
//! - [`fuzzing`]: the bodies of the `rtp_receive` and `rtcp_compound` fuzz targets.

pub mod feedback;
pub mod fuzzing;
pub mod header;
pub mod receive_stats;
pub mod rtcp;
pub mod stream;
#[cfg(test)]
mod stream_tests;

pub use feedback::{KEYFRAME_REQUEST_INTERVAL, KeyframeCounts, KeyframeMessage};
pub use header::{RtpHeader, RtpHeaderError};
pub use rtcp::{RtcpError, RtcpPacket, parse_compound};
pub use stream::{Dropped, MediaKind, RtpStream, StreamConfig, StreamFigures};
