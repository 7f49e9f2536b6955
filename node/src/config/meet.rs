//! `[meet]`: the Google Meet side: the gateway credential (the key that signs each request's
//! JWT, and the gateway token, the certificate issued for it, whose expiry is watched) and the
//! access tokens routing rules name.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

/// `[meet]`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeetConfig {
    /// The gateway's private key (PEM, PKCS#8: P-256 for ES256, RSA of 2048 bits or more for
    /// RS256). It signs the short-lived JWT of each request to Meet. Default: none. A
    /// relative path is taken relative to the configuration file's folder. `tcn meet-csr`
    /// makes a key and the certificate request to send for a gateway token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_key: Option<PathBuf>,
    /// The gateway token: the PEM certificate issued for `gateway_key`. Its expiry is shown in
    /// `/status` and `tcn_gateway_token_expiry_seconds`, raises the `gateway_token_expiring`
    /// alarm when less than `token_expiry_warning` is left, and once it has expired calls
    /// into Meet are refused. Default: none. Required with `gateway_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_token: Option<PathBuf>,
    /// JWT signing algorithm: `"ES256"` or `"RS256"`. Default `"ES256"`.
    pub algorithm: GatewayAlgorithm,
    /// The `kid` the key is registered under. Default `"tcn-gateway"`.
    pub key_id: String,
    /// The JWT `iss`: the gateway identity registered with the backend. Default `"tcn"`.
    pub issuer: String,
    /// The JWT `aud`: the conference service. Default `"meet-sim"` (the simulator).
    pub audience: String,
    /// Raise the `gateway_token_expiring` alarm when this little is left. Default `30days`.
    #[serde(with = "routing::duration")]
    pub token_expiry_warning: Duration,
    /// `[[meet.access_tokens]]`: the Workspace interop access tokens. Default none.
    pub access_tokens: Vec<AccessTokenConfig>,
}

impl Default for MeetConfig {
    fn default() -> Self {
        Self {
            gateway_key: None,
            gateway_token: None,
            algorithm: GatewayAlgorithm::Es256,
            key_id: "tcn-gateway".to_owned(),
            issuer: "tcn".to_owned(),
            audience: "meet-sim".to_owned(),
            token_expiry_warning: Duration::from_secs(30 * 24 * 60 * 60),
            access_tokens: Vec::new(),
        }
    }
}

/// `meet.algorithm`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum GatewayAlgorithm {
    /// ECDSA P-256 with SHA-256.
    #[default]
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
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
