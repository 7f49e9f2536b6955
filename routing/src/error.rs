//! The error of the routing configuration boundary.

/// A routing configuration item that cannot be used. `item` names it the way the operator
/// wrote it, e.g. `routing.rules[meet-trusted]`, and `field` the key inside it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{item}.{field}: {reason}")]
pub struct ConfigError {
    /// The rule, reception or OTJ rule, e.g. `routing.rules[meet-trusted]`.
    pub item: String,
    /// The key inside it, e.g. `match`.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(
        item: impl Into<String>,
        field: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            item: item.into(),
            field,
            reason: reason.into(),
        }
    }
}
