//! What can go wrong in a downlink graph.

/// A downlink error: returned when the graph cannot be built, or sent as
/// [`DownlinkEvent::Error`](crate::downlink::DownlinkEvent::Error) when it fails while running.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownlinkError {
    /// The spec asks for something the graph cannot do.
    #[error("invalid downlink spec: {0}")]
    Spec(String),
    /// GStreamer could not be initialised.
    #[error("GStreamer init: {0}")]
    Init(String),
    /// An element is missing or refused a setting or a link while the graph was built.
    #[error("building the graph: {0}")]
    Build(String),
    /// An element posted an error on the bus; the graph has ended.
    #[error("element {element}: {message}")]
    Element {
        /// The element's name.
        element: String,
        /// GStreamer's message and debug text.
        message: String,
    },
    /// The graph has ended; nothing more can be pushed.
    #[error("the downlink graph has ended")]
    Ended,
}

impl DownlinkError {
    pub(crate) fn build(what: impl std::fmt::Display) -> Self {
        Self::Build(what.to_string())
    }
}
