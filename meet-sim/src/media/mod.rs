//! meet-sim's media plane (meet-side.md §5.b "Shape", "Media rules"): str0m in RTP mode on
//! one UDP port on loopback, ICE-lite with a host candidate, DTLS-SRTP and SCTP data
//! channels. It forwards, never decodes:
//!
//! - **Video**: each receiver's virtual video streams (one per receive m-line) carry the
//!   sources the model's 1+7 assignment put on its canvases ([`MediaUpdate::Video`]). Each
//!   picks the highest simulcast layer whose key-frame height fits the canvas, switches only
//!   on a key frame of the target layer after asking the source for one (PLI), and rewrites
//!   sequence number, timestamp and VP8 PictureID so the splice looks like one stream; the
//!   CSRC is the source's video CSRC ([`forward`], [`vp8`]). While a shown source has a
//!   layer that has sent no key frame yet (so no size to pick it by), the plane asks for
//!   one on each of its packets, at most every 500 ms
//!   ([`layers::FIRST_KEYFRAME_RETRY`]), until it arrives: the request made at assignment
//!   may have gone out before the sender's DTLS was up.
//! - **Audio**: the 3 loudest others (RFC 6464 levels) on the 3 virtual audio streams, with
//!   the source's audio CSRC, plus CSRC 42 on the active speaker.
//! - **Measures** per RID: packets, frames, key frames, resolution, fps, bitrate
//!   ([`layers`]); flags `LAYERS_MISSING` and `BITRATE_EXCEEDED` as [`PlaneEvent`]s.
//! - **Data channels**: model messages go out as text on their label (kept until the client
//!   opens the channel); client messages come back as [`PlaneEvent::Channel`].
//!
//! [`MediaPlane`] is sans-IO like the model; the HTTP layer owns the socket and the timer.
//!
//! [`MediaUpdate::Video`]: crate::model::MediaUpdate::Video

pub mod forward;
pub mod layers;
mod peer;
mod plane;
pub mod vp8;

pub use plane::{
    Datagram, LAYER_DEADLINE, LOUDEST_CSRC, MediaPlane, MediaReport, PlaneEvent, StreamReport,
};
