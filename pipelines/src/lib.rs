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
//! The Meet leg is here: [`MeetLeg`] builds webrtcbin as the offerer toward Meet and the
//! uplink graph that feeds it (the VTC's H.264, H.263, H.263+ or H.261 and PCMU, PCMA, G.722
//! or Opus RTP in, three VP8 simulcast layers and Opus out), from plain specs ([`spec`]).
//! [`uplink::UplinkProbe`] runs the uplink alone for tests, fed from [`sources`]. SDP crosses as `String`; what happens comes
//! out as [`MediaEvent`]s on a `std::sync::mpsc` channel. A failing element posts a
//! [`MediaEvent::Error`] and stops that call's pipeline, never the process.
//!
//! [`downlink`] is the Meet→VTC graph: up to 8 VP8 streams decoded onto the 1+7 canvas, H.264
//! RTP at a fixed rate, and up to 3 Opus streams mixed into G.711 RTP.

pub mod capabilities;
pub mod downlink;
pub mod dtls_cert;
pub mod error;
pub mod events;
pub mod h264_guard;
pub mod keyframes;
pub mod meet_leg;
pub mod memory;
pub mod peers;
pub mod plan;
pub mod sources;
pub mod spec;
pub mod uplink;

pub use error::PipelineError;
pub use events::{ConnectionState, KeyframeCause, KeyframeOutcome, MediaEvent};
pub use keyframes::KeyframeStats;
pub use meet_leg::{
    MEET_KEYFRAME_REQUEST_INTERVAL, MeetKeyframeRequests, MeetLeg, ReceivedKind, RtpReceiver,
};
pub use spec::{AudioIn, LayerSpec, LayerTable, MeetLegSpec, PortRange, UplinkSpec, VideoIn};
pub use uplink::{MediaInStats, UplinkInput, UplinkProbe, UplinkStats};
