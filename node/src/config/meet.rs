//! `[meet]`: the Google Meet side. Today: the access tokens routing rules name.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

/// `[meet]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeetConfig {
    /// `[[meet.access_tokens]]`: the Workspace interop access tokens. Default none.
    pub access_tokens: Vec<AccessTokenConfig>,
}

/// One access token.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenConfig {
    /// Name that routing rules use in `target = { kind = "meet", access_token = "<name>" }`.
    pub name: String,
    /// The token value from the Google Workspace admin console. Never logged or printed.
    pub token: Secret,
    /// Trusted tokens admit callers straight into the meeting; untrusted callers wait in the
    /// lobby to be admitted. Default false.
    #[serde(default)]
    pub trusted: bool,
}

/// A secret string: its `Debug`, `Display` and serialised forms are `<redacted>`, so it never
/// reaches a log, `/status` or `tcn check-config` output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// What is printed instead of a secret.
    pub const REDACTED: &'static str = "<redacted>";

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

impl MeetConfig {
    /// Unique, non-empty names and non-empty tokens.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (index, token) in self.access_tokens.iter().enumerate() {
            let key = |field: &str| format!("meet.access_tokens[{}].{field}", token.name);
            if token.name.trim().is_empty() {
                return Err(ConfigError::invalid(
                    format!("meet.access_tokens[#{}].name", index + 1),
                    "every access token needs a name",
                ));
            }
            if self.access_tokens[..index]
                .iter()
                .any(|t| t.name == token.name)
            {
                return Err(ConfigError::invalid(key("name"), "duplicate name"));
            }
            let value = token.token.expose();
            if value.trim().is_empty() || value == Secret::REDACTED {
                return Err(ConfigError::invalid(
                    key("token"),
                    "missing: paste the token value",
                ));
            }
        }
        Ok(())
    }

    /// What routing knows of the tokens: names and trust.
    pub fn token_refs(&self) -> Vec<routing::rules::AccessTokenRef> {
        self.access_tokens
            .iter()
            .map(|t| routing::rules::AccessTokenRef {
                name: t.name.clone(),
                trusted: t.trusted,
            })
            .collect()
    }
}
