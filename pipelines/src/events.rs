//! What the graphs tell their owner, over a `std::sync::mpsc` channel.

use crate::error::PipelineError;

/// The WebRTC connection state of the Meet leg (webrtcbin's `connection-state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// Nothing started yet.
    New,
    /// ICE or DTLS under way.
    Connecting,
    /// ICE and DTLS are up: media flows.
    Connected,
    /// Connectivity was lost (may come back).
    Disconnected,
    /// ICE or DTLS failed: the leg is dead.
    Failed,
    /// Closed by us.
    Closed,
}

/// Which RTCP feedback asked for a keyframe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyframeCause {
    /// Picture Loss Indication (RTCP PSFB, PT 206, FMT 1).
    Pli,
    /// Full Intra Request (RTCP PSFB, PT 206, FMT 4).
    Fir,
    /// The connection came up: every layer starts on a keyframe.
    Connected,
}

/// What became of a keyframe request (the rate limit of [`crate::keyframes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyframeOutcome {
    /// A keyframe was forced on the layer's encoder now.
    Forced,
    /// Too soon after the last forced keyframe: forced when the interval has passed, unless
    /// a keyframe answers it before.
    Deferred,
    /// Already pending: merged with the earlier request.
    Merged,
}

/// One event of a call's media graphs.
#[derive(Clone, Debug, PartialEq)]
pub enum MediaEvent {
    /// The Meet leg's connection state changed.
    ConnectionState(ConnectionState),
    /// Meet's DTLS certificate is not the one its answer named (RFC 8842 §5): someone else
    /// answered the handshake. The transport is not to be used: the call ends.
    PeerCertificateMismatch {
        /// The SHA-256 fingerprint of the certificate presented, if there was one.
        presented: Option<String>,
    },
    /// A data channel opened.
    DataChannelOpen {
        /// Its label.
        label: String,
    },
    /// A text message arrived on a data channel.
    DataChannelMessage {
        /// The channel's label.
        label: String,
        /// The text (JSON for every Meet channel).
        text: String,
    },
    /// A data channel closed.
    DataChannelClosed {
        /// Its label.
        label: String,
    },
    /// Meet asked for a keyframe on one layer.
    KeyframeRequested {
        /// The layer's RID.
        rid: String,
        /// PLI, FIR, or the connection coming up.
        cause: KeyframeCause,
        /// Forced now, deferred or merged.
        outcome: KeyframeOutcome,
    },
    /// A keyframe left a layer's encoder.
    KeyframeSent {
        /// The layer's RID.
        rid: String,
    },
    /// An element failed; the call's pipeline has been stopped.
    Error(PipelineError),
    /// An element warned; the pipeline goes on.
    Warning {
        /// The element that warned.
        element: String,
        /// GStreamer's message.
        message: String,
    },
}
