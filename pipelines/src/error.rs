//! The crate's error type: building a graph, negotiating, feeding it, or an element failing
//! while it runs.

/// Why a media graph could not be built or stopped working.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// GStreamer could not be initialised.
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),
    /// An element factory is missing on this host.
    #[error("GStreamer element {0} is missing")]
    MissingElement(String),
    /// Building or linking the graph failed.
    #[error("building the media graph failed: {0}")]
    Build(String),
    /// A state change was refused.
    #[error("the pipeline refused to go to {0}")]
    StateChange(String),
    /// Creating the offer or applying the answer failed.
    #[error("negotiation failed: {0}")]
    Negotiation(String),
    /// Something did not happen in time (ICE gathering, a promise).
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The SDP text could not be parsed.
    #[error("bad SDP: {0}")]
    Sdp(String),
    /// No data channel has that label, or it is not open.
    #[error("data channel {0} is not open")]
    ChannelNotOpen(String),
    /// No layer has that RID.
    #[error("no layer has RID {0}")]
    UnknownLayer(String),
    /// A buffer could not be pushed (the pipeline stopped).
    #[error("the pipeline does not accept data: {0}")]
    Flow(String),
    /// An element posted an error while running; the pipeline was stopped.
    #[error("element {element} failed: {message}")]
    Element {
        /// The element's name.
        element: String,
        /// GStreamer's error message.
        message: String,
        /// GStreamer's debug string, if any.
        debug: Option<String>,
    },
}

impl From<gst::glib::BoolError> for PipelineError {
    fn from(e: gst::glib::BoolError) -> Self {
        Self::Build(e.to_string())
    }
}
