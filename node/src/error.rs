//! Errors of the node's start-up and run boundary, and their exit codes.

use std::io;
use std::net::SocketAddr;

use crate::config::ConfigError;

/// Why the node could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// GStreamer could not be probed.
    #[error(transparent)]
    Media(#[from] pipelines::capabilities::ProbeError),
    /// Elements of the media plan are missing; the message names the packages.
    #[error("{0}")]
    MissingElements(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// The configured address.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The embedded Meet simulator could not be set up (its listener is [`Self::Bind`]).
    #[error("cannot set up the embedded Meet simulator: {0}")]
    MeetSim(String),
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(io::Error),
}

impl StartError {
    /// Process exit status: 2 for a refused configuration, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) => ConfigError::EXIT_CODE,
            Self::Media(_)
            | Self::MissingElements(_)
            | Self::Bind { .. }
            | Self::MeetSim(_)
            | Self::Signals(_) => 1,
        }
    }
}
