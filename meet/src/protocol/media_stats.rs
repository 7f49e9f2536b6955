//! `media-stats`: the server's upload configuration and the client's stats uploads
//! (meet-side.md §1.4).
//!
//! On open the server sends one configuration (interval and allowlist of `RTCStats` types and
//! keys); the client then uploads `sections` every `uploadIntervalSeconds` (0: never).
//!
//! Sections come in two dialects that a server must both understand: Google's TS client
//! sends underscored types with snake_case keys and number values
//! (`"inbound_rtp":{"packets_lost":0}`), its C++ client the raw `RTCStatsType` with camelCase
//! keys and string values (`"inbound-rtp":{"packetsLost":"0"}`). [`MediaStatsSection`] keeps
//! whatever arrived; [`MediaStatsSection::to_ts_style`] converts to the TS dialect, which is
//! also what tcn sends (§5.a step 7).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{ClientMessage, Empty, Response, int64};

/// A client → server `media-stats` message.
pub type MediaStatsFromClient = ClientMessage<MediaStatsRequestPayload>;

impl MediaStatsFromClient {
    /// An `uploadMediaStats` request carrying `sections`.
    pub fn upload(request_id: i64, sections: Vec<MediaStatsSection>) -> Self {
        Self::new(
            request_id,
            MediaStatsRequestPayload {
                upload_media_stats: Some(UploadMediaStats { sections }),
            },
        )
    }
}

/// The request kinds of `media-stats` (a `oneof`; none set for an unknown kind).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatsRequestPayload {
    /// `uploadMediaStats`: one round of statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_media_stats: Option<UploadMediaStats>,
}

/// The body of `uploadMediaStats`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UploadMediaStats {
    /// The entries of the `RTCStatsReport`, filtered by the allowlist.
    #[serde(default)]
    pub sections: Vec<MediaStatsSection>,
}

/// One `RTCStats` dictionary: `{"id": "IT01V123", "<type>": {<key>: <value>, ...}}`.
///
/// The type is the name of the one object-valued member besides `id`. On input, other
/// non-object members are ignored (forward compatibility); two object-valued members are an
/// error, since the type would be ambiguous. A section with no object member reads with an
/// empty `section_type` and no values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaStatsSection {
    /// The WebRTC-generated id of the stats object.
    pub id: String,
    /// The stats type: `inbound_rtp` (TS dialect) or `inbound-rtp` (C++ dialect), ...
    pub section_type: String,
    /// The stats values: numbers (TS dialect) or strings (C++ dialect).
    pub values: BTreeMap<String, Value>,
}

impl MediaStatsSection {
    /// This section in the TS dialect: `-` in the type becomes `_`, camelCase keys become
    /// snake_case, and strings holding a plain decimal number become numbers. Idempotent; a
    /// section already in the TS dialect comes back unchanged.
    pub fn to_ts_style(&self) -> Self {
        Self {
            id: self.id.clone(),
            section_type: ts_type_name(&self.section_type),
            values: self
                .values
                .iter()
                .map(|(k, v)| (snake_case(k), numeric_value(v)))
                .collect(),
        }
    }
}

impl Serialize for MediaStatsSection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let typed = !self.section_type.is_empty();
        let mut map = serializer.serialize_map(Some(1 + usize::from(typed)))?;
        map.serialize_entry("id", &self.id)?;
        if typed {
            map.serialize_entry(&self.section_type, &self.values)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MediaStatsSection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SectionVisitor)
    }
}

struct SectionVisitor;

impl<'de> Visitor<'de> for SectionVisitor {
    type Value = MediaStatsSection;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a media stats section {"id": "...", "<type>": {...}}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MediaStatsSection, A::Error> {
        let mut section = MediaStatsSection::default();
        let mut typed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "id" {
                section.id = map.next_value()?;
                continue;
            }
            match map.next_value::<Value>()? {
                Value::Object(_) if typed => {
                    return Err(de::Error::custom(format_args!(
                        "media stats section has two types: {:?} and {key:?}",
                        section.section_type
                    )));
                }
                Value::Object(_) if key.is_empty() => {
                    return Err(de::Error::custom("media stats section type is empty"));
                }
                Value::Object(values) => {
                    typed = true;
                    section.section_type = key;
                    section.values = values.into_iter().collect();
                }
                _ => {} // an unknown scalar member: ignored
            }
        }
        Ok(section)
    }
}

/// `inbound-rtp` → `inbound_rtp`.
fn ts_type_name(section_type: &str) -> String {
    section_type.replace('-', "_")
}

/// `packetsLost` → `packets_lost`; snake_case stays as it is.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `"123"` → `123`, `"0.5"` → `0.5`; other values unchanged. Only plain decimal spellings
/// are converted (`"0x1"`, `"inf"`, `"1 "` stay strings), and an integer only when it reads
/// back the same (so `"007"` stays a string).
fn numeric_value(value: &Value) -> Value {
    let Value::String(s) = value else {
        return value.clone();
    };
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return value.clone();
    }
    if let Ok(i) = s.parse::<i64>()
        && i.to_string() == *s
    {
        return Value::from(i);
    }
    if let Ok(u) = s.parse::<u64>()
        && u.to_string() == *s
    {
        return Value::from(u);
    }
    if s.contains(['.', 'e', 'E'])
        && let Ok(f) = s.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    value.clone()
}

/// The echo of the request kind in a `media-stats` response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatsResponsePayload {
    /// Set in the answer to an `uploadMediaStats`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_media_stats: Option<Empty>,
}

/// A server → client `media-stats` message. Never empty on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatsToClient {
    /// The answer to an upload, if this message carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Response<MediaStatsResponsePayload>>,
    /// The configuration snapshot: exactly one, once, when the channel opens (Google's C++
    /// client refuses any other count; this type accepts any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<MediaStatsResource>,
}

impl MediaStatsToClient {
    /// The message a server sends when the channel opens: the one configuration resource.
    pub fn configuration(configuration: MediaStatsConfiguration) -> Self {
        Self {
            response: None,
            resources: vec![MediaStatsResource {
                id: 0,
                configuration: Some(configuration),
            }],
        }
    }
}

/// A `media-stats` resource snapshot: `{"id": 0, "configuration": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatsResource {
    /// Resource id; always 0 (singleton). Absent reads as 0.
    #[serde(default, with = "int64")]
    pub id: i64,
    /// The upload configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<MediaStatsConfiguration>,
}

/// How and what to upload. Both fields are always written (Google's C++ client requires them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatsConfiguration {
    /// Seconds between uploads; 0 means do not upload.
    #[serde(default, with = "int64")]
    pub upload_interval_seconds: u32,
    /// Per `RTCStatsType` name (`"inbound-rtp"`), the keys the server wants.
    #[serde(default)]
    pub allowlist: BTreeMap<String, StatsAllowlistEntry>,
}

impl MediaStatsConfiguration {
    /// The upload interval, or `None` when uploads are off.
    pub fn upload_interval(&self) -> Option<Duration> {
        (self.upload_interval_seconds > 0)
            .then(|| Duration::from_secs(u64::from(self.upload_interval_seconds)))
    }

    /// Whether `key` of stats type `section_type` is allowlisted. Both are compared in the TS
    /// dialect, so `allows("inbound_rtp", "packets_lost")` and
    /// `allows("inbound-rtp", "packetsLost")` agree.
    pub fn allows(&self, section_type: &str, key: &str) -> bool {
        let section_type = ts_type_name(section_type);
        let key = snake_case(key);
        self.allowlist.iter().any(|(t, entry)| {
            ts_type_name(t) == section_type && entry.keys.iter().any(|k| snake_case(k) == key)
        })
    }
}

/// The allowlisted keys of one stats type: `{"keys": [...]}`. (Google's TS typings name the
/// member `key` but read `keys`; the C++ client requires `keys`. tcn uses `keys`.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatsAllowlistEntry {
    /// `RTCStats` member names, e.g. `"packetsLost"`.
    #[serde(default)]
    pub keys: Vec<String>,
}
