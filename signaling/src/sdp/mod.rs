//! SDP (RFC 8866) and the offer/answer model (RFC 3264) for the SIP side of tcn.
//!
//! - The model: [`SessionDescription`] and [`MediaDescription`] with parse
//!   ([`SessionDescription::parse`]) and print (`Display`, CRLF, RFC 8866 §5 order), such that
//!   parsing a printed description gives it back. Typed readings of the attributes we use:
//!   [`RtpMap`], [`Fmtp`], [`RtcpFb`], [`RtcpAttribute`], [`Direction`], [`CryptoAttribute`],
//!   `a=rtcp-mux`, `a=ptime`.
//! - Negotiation: [`answer`] for an offer from a room system (inbound calls), [`offer`] and
//!   [`accept_answer`] for outbound legs. Both produce a [`NegotiatedMedia`]: one audio and one
//!   video stream at most, each with exactly one codec, the peer's addresses, our direction and
//!   SRTP keys. The codecs: G.711, G.722 and Opus audio (with RFC 4733 telephone events);
//!   H.264 (RFC 6184, asymmetric levels), VP8 (RFC 7741), H.263-1998 (RFC 4629) and H.263
//!   (RFC 2190) video.
//! - Errors: [`SdpError`] for unreadable bodies (400), [`NegotiationError`] for offers we
//!   cannot accept, with [`NegotiationError::sip_status`] (488 or 400).
//!
//! Nothing here is random or reads the clock: SRTP keys and session ids come from the caller.

mod answer;
mod attribute;
mod caps;
mod codec;
mod crypto;
mod direction;
mod error;
pub mod fuzzing;
mod h263;
mod h264;
mod negotiated;
mod offer;
mod params;
mod parse;
mod print;
mod select;
mod session;

pub use answer::answer;
pub use attribute::{Fmtp, RtcpAttribute, RtcpFb, RtpMap};
pub use caps::{CryptoPolicy, Endpoint, LocalCapabilities, RtcpFeedback};
pub use codec::{AudioCodec, VideoCodec, static_rtpmap};
pub use crypto::{CryptoAttribute, CryptoSuite, SRTP_KEY_SALT_LEN, SrtpContext};
pub use direction::Direction;
pub use error::{NegotiationError, SdpError};
pub use h263::{H263Format, H263PictureSize};
pub use h264::{H264Level, H264Profile, ProfileLevelId};
pub use negotiated::{AudioFormat, NegotiatedMedia, NegotiatedStream, VideoFormat};
pub use offer::{PendingOffer, accept_answer, offer};
pub use params::{AnswerParams, OfferParams};
pub use session::{
    Attribute, Bandwidth, Connection, MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, MAX_SDP_LINES,
    MediaDescription, MediaKind, Origin, SessionDescription, Timing,
};
