//! GStreamer media graphs for tcn, in the crate's own vocabulary.
//!
//! This crate will own every media graph of a gateway call: the VTC-leg decode (H.264/H.263),
//! the 3-layer VP8 simulcast encode toward Meet, the Meet-leg decode of up to 8 VP8 streams, the
//! 1+7 composite and audio mix back to the VTC, and the WebRTC leg (`webrtcbin`). It speaks its
//! own types (`IngestSpec`, `EncoderLadder`, `LayoutSpec`, …) and never sees SIP or SDP: `node`
//! translates negotiated media into them. Those graphs arrive with the media issues.
//!
//! What is here today is the single list of GStreamer elements the media plan needs
//! ([`plan::MEDIA_PLAN`]) and the start-up probe that checks them ([`capabilities::probe`]),
//! including which NVIDIA (`nv*`/`cuda*`) elements registered on this host.
//!
//! [`downlink`] is the Meet→VTC graph: up to 8 VP8 streams decoded onto the 1+7 canvas, H.264
//! RTP at a fixed rate, and up to 3 Opus streams mixed into G.711 RTP.

pub mod capabilities;
pub mod downlink;
pub mod plan;
