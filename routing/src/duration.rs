//! `serde` for durations written the human way: `"30s"`, `"1m 30s"`, `"500ms"`. Used with
//! `#[serde(with = "routing::duration")]`, by this crate's configuration and by the node's.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Writes a duration as `"1m 30s"`.
pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_duration(*value))
}

/// Reads a duration written `"30s"`, `"2m"`, `"500ms"`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{text}` is not a duration ({e}); write it like \"30s\", \"2m\" or \"500ms\""
        ))
    })
}
