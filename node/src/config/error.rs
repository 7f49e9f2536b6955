//! The one error type of the configuration boundary.

use std::io;
use std::path::PathBuf;

/// Why a configuration was refused. Every variant names what to fix; the process exits with
/// status 2 ([`ConfigError::EXIT_CODE`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The text is not valid TOML.
    #[error("TOML syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// A key is unknown, has the wrong type, or holds a value the node cannot use.
    #[error("{key}: {reason}")]
    Invalid {
        /// Dotted key path, e.g. `media.port_range`.
        key: String,
        /// Why it was refused.
        reason: String,
    },
}

impl ConfigError {
    /// Exit status of `tcn check-config` and `tcn run` for a refused configuration.
    pub const EXIT_CODE: u8 = 2;

    pub(crate) fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The dotted key path at fault, when one key is.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            Self::Read { .. } | Self::Syntax { .. } => None,
        }
    }
}
