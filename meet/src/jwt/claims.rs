//! What a gateway token says: the claims, the minting request, and the secret wrappers.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The longest lifetime (`exp - iat`) a gateway token may have: 300 s (meet-side.md §5.b;
/// RFC 8725 and §4.1 "keep lifetimes short (≤5 min)").
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The interop token (`itk`) the Workspace admin issued to this gateway: a bearer secret.
///
/// `Debug` prints `InteropToken(<redacted>)`; the value is reachable only through
/// [`expose`](Self::expose). It serialises as a plain JSON string.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InteropToken(String);

impl InteropToken {
    /// Wraps the opaque token as issued.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself, for the one place that must compare or send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InteropToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InteropToken(<redacted>)")
    }
}

/// The claims of a gateway JWT (meet-side.md §5.b, item 3), as minted and as returned by a
/// successful [`Validator::validate`](super::Validator::validate).
///
/// Times are NumericDate: whole seconds since the Unix epoch (RFC 7519 §2). `Debug` hides
/// the interop token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The gateway's registered identity (RFC 7519 §4.1.1).
    pub iss: String,
    /// The call the token speaks for, e.g. the SIP Call-ID (§4.1.2).
    pub sub: String,
    /// The conference service, `"meet-sim"` for the simulator (§4.1.3).
    pub aud: String,
    /// When the token was minted (§4.1.6).
    pub iat: u64,
    /// Not valid before this (§4.1.5); minted equal to `iat`.
    pub nbf: u64,
    /// Not valid at or after this (§4.1.4); at most [`MAX_TOKEN_LIFETIME`] after `iat`.
    pub exp: u64,
    /// A random unique id for replay protection (§4.1.7).
    pub jti: String,
    /// The interop token the Workspace admin issued to this gateway.
    pub itk: InteropToken,
    /// The caller's display name, when known (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dn: Option<String>,
    /// The caller's URI, when known (extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

impl Claims {
    /// `exp` as a time.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }
}

/// What the gateway asks to be minted; [`GatewayKey::mint`](super::GatewayKey::mint) adds
/// the times, the `jti` and the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintRequest {
    /// `iss`: the gateway identity registered with the service.
    pub issuer: String,
    /// `aud`: the conference service.
    pub audience: String,
    /// `sub`: the call the token is for.
    pub subject: String,
    /// `itk`: the interop token.
    pub interop_token: InteropToken,
    /// `exp - iat`; at most [`MAX_TOKEN_LIFETIME`] (the default), at least one second.
    pub lifetime: Duration,
    /// `dn`: the caller's display name, if any.
    pub display_name: Option<String>,
    /// `uri`: the caller's URI, if any.
    pub caller_uri: Option<String>,
}

impl MintRequest {
    /// A request with the longest allowed lifetime and no caller details.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        subject: impl Into<String>,
        interop_token: InteropToken,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            subject: subject.into(),
            interop_token,
            lifetime: MAX_TOKEN_LIFETIME,
            display_name: None,
            caller_uri: None,
        }
    }

    /// Sets the lifetime.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets the caller's display name (`dn`).
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets the caller's URI (`uri`).
    pub fn with_caller_uri(mut self, uri: impl Into<String>) -> Self {
        self.caller_uri = Some(uri.into());
        self
    }
}

/// A minted, signed gateway JWT: a bearer credential.
///
/// `Debug` shows the `jti` and expiry, never the token; the compact serialisation is
/// reachable only through [`expose`](Self::expose), for the `Authorization: Bearer` header.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayToken {
    pub(super) token: String,
    pub(super) jti: String,
    pub(super) exp: u64,
}

impl GatewayToken {
    /// The compact JWS (`header.claims.signature`), to send as a bearer token.
    pub fn expose(&self) -> &str {
        &self.token
    }

    /// The token's `jti`, safe to log.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The token's `exp`: mint a fresh one before this.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.exp)
    }
}

impl fmt::Debug for GatewayToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayToken")
            .field("jti", &self.jti)
            .field("exp", &self.exp)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Whole seconds since the Unix epoch; a time before the epoch counts as 0.
pub(super) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
