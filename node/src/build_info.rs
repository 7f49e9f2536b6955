//! What this binary is: version and git revision (from `build.rs`).

/// Crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Short git revision of the source tree, `unknown` when built outside a git checkout.
pub const REVISION: &str = env!("TCN_GIT_REVISION");
