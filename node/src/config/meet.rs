//! `[meet]`: the Google Meet side: the backend (a URL, or by default meet-sim embedded in the
//! node), the gateway credential (the key that signs each request's JWT, and the gateway
//! token, the certificate issued for it, whose expiry is watched) and the access tokens
//! routing rules name.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

/// `[meet]`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeetConfig {
    /// URL of the Meet backend calls are connected to: `https://host[:port][/path]` (or
    /// `http://`), without credentials, query or fragment. Default: none, which starts
    /// meet-sim, the Meet simulator, inside the node on `embedded_sim_listen` with a demo
    /// meeting whose code, long ID and browser page are printed at start and shown in
    /// `/status`. A change takes effect after a restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Where the embedded simulator listens when `backend` is not set. Default `127.0.0.1:0`
    /// (a free port). Loopback only: its control API has no authentication.
    pub embedded_sim_listen: SocketAddr,
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
    /// What a room system gets while its call waits in the Meet lobby (an untrusted token):
    /// `"ring"`, 180 Ringing until a host admits it (then 200); or `"slate"`, the call
    /// answered at once with a "Waiting to be admitted" slate as its picture. Default `"ring"`.
    pub lobby: LobbyMode,
}

/// `meet.lobby`: how a call waiting in the lobby is presented to the room system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LobbyMode {
    /// 180 Ringing until admitted; the 200 when the conference joins the gateway.
    #[default]
    Ring,
    /// 200 at once; the picture is a "Waiting to be admitted" slate until admitted. A
    /// denial or a timeout then ends the call with a BYE and a `Reason`.
    Slate,
}

impl Default for MeetConfig {
    fn default() -> Self {
        Self {
            backend: None,
            embedded_sim_listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            gateway_key: None,
            gateway_token: None,
            algorithm: GatewayAlgorithm::Es256,
            key_id: "tcn-gateway".to_owned(),
            issuer: "tcn".to_owned(),
            audience: "meet-sim".to_owned(),
            token_expiry_warning: Duration::from_secs(30 * 24 * 60 * 60),
            access_tokens: Vec::new(),
            lobby: LobbyMode::Ring,
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
    /// An `http(s)://` backend URL without credentials, a loopback simulator address, unique
    /// non-empty token names and non-empty tokens.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.backend {
            check_backend_url(url)
                .map_err(|reason| ConfigError::invalid("meet.backend", reason))?;
        }
        if !self.embedded_sim_listen.ip().is_loopback() {
            return Err(ConfigError::invalid(
                "meet.embedded_sim_listen",
                format!(
                    "{} is not a loopback address: the simulator's control API has no \
                     authentication",
                    self.embedded_sim_listen
                ),
            ));
        }
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

    /// Whether the node starts the embedded simulator: no `backend` is configured.
    pub fn embedded_sim(&self) -> bool {
        self.backend.is_none()
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

/// Why `url` cannot be a backend URL. The URL itself is not repeated: it might carry a
/// secret.
fn check_backend_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("must be an http:// or https:// URL".to_owned());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "must be an http:// or https:// URL, not {scheme}://"
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters".to_owned());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "must not carry credentials (user:password@): the URL is shown in /status".to_owned(),
        );
    }
    if url.contains(['?', '#']) {
        return Err("must not have a query or fragment".to_owned());
    }
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[addr]` or `[addr]:port`.
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, after)) => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("host is not a valid [IPv6] literal".to_owned()),
            },
            None => return Err("host is not a valid [IPv6] literal".to_owned()),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("port {port:?} is not a port number (1 to 65535)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{LobbyMode, check_backend_url};
    use crate::config::Config;

    #[test]
    fn the_lobby_setting() {
        assert_eq!(Config::default().meet.lobby, LobbyMode::Ring);
        let slate = Config::from_toml_str("[meet]\nlobby = \"slate\"\n").unwrap();
        assert_eq!(slate.meet.lobby, LobbyMode::Slate);
        let err = Config::from_toml_str("[meet]\nlobby = \"music\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("meet.lobby"), "{err}");
    }

    #[test]
    fn backend_urls() {
        for good in [
            "https://meet.example.com",
            "http://127.0.0.1:8080",
            "https://meet.example.com:443/base/",
            "HTTPS://meet.example.com",
            "http://[::1]:9000",
        ] {
            assert_eq!(check_backend_url(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("ftp://x", "must be an http:// or https:// URL, not ftp://"),
            ("meet.example.com", "must be an http:// or https:// URL"),
            ("https://", "has no host"),
            ("https:///path", "has no host"),
            ("https://u:p@host", "must not carry credentials"),
            ("https://host/?key=1", "must not have a query or fragment"),
            ("https://host:http", "port \"http\" is not a port number"),
            ("https://host:0", "port \"0\" is not a port number"),
            ("https://ho st", "must not contain spaces"),
        ] {
            let got = check_backend_url(bad).unwrap_err();
            assert!(got.starts_with(reason), "{bad}: {got}");
        }
    }
}
