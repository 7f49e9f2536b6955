//! `GatewayCredential`: what a connector signs its requests with (meet-side.md §4, §5.b
//! "Gateway authentication").

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::jwt::{
    GatewayKey, GatewayToken, InteropToken, JwtError, MAX_TOKEN_LIFETIME, MintRequest,
};

/// The lifetime of each request's JWT: 60 s. A token is used once, right away, so it only
/// needs to outlive the request and the clock skew the backend allows (meet-sim: 30 s).
pub const DEFAULT_REQUEST_TOKEN_LIFETIME: Duration = Duration::from_secs(60);

/// The gateway's credential: its signing key (with the registered `kid`), issuer, the
/// backend's audience, and the interop token (`itk`) the Workspace admin issued.
///
/// `Debug` shows the issuer, audience, `kid` and algorithm; the key and the interop token
/// never appear in any output.
pub struct GatewayCredential {
    key: std::sync::Arc<GatewayKey>,
    issuer: String,
    audience: String,
    interop_token: InteropToken,
    token_lifetime: Duration,
}

impl GatewayCredential {
    /// A credential that mints tokens of [`DEFAULT_REQUEST_TOKEN_LIFETIME`]. The `kid` in
    /// every token's header is `key`'s ([`GatewayKey::kid`]). The key may be shared
    /// (`Arc<GatewayKey>`) by the credentials of several interop tokens.
    pub fn new(
        key: impl Into<std::sync::Arc<GatewayKey>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        interop_token: InteropToken,
    ) -> Self {
        Self {
            key: key.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            interop_token,
            token_lifetime: DEFAULT_REQUEST_TOKEN_LIFETIME,
        }
    }

    /// Sets the lifetime of each request's token, kept between one second and
    /// [`MAX_TOKEN_LIFETIME`] (300 s).
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime.clamp(Duration::from_secs(1), MAX_TOKEN_LIFETIME);
        self
    }

    /// The `iss` of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of every token.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The key id of every token.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// The lifetime of each request's token.
    pub fn token_lifetime(&self) -> Duration {
        self.token_lifetime
    }

    /// A fresh token for one request at `now`: `sub` = `subject`, and `dn`/`uri` when given.
    pub fn mint(
        &self,
        subject: &str,
        display_name: Option<&str>,
        caller_uri: Option<&str>,
        now: SystemTime,
    ) -> Result<GatewayToken, JwtError> {
        let mut request = MintRequest::new(
            self.issuer.as_str(),
            self.audience.as_str(),
            subject,
            self.interop_token.clone(),
        )
        .with_lifetime(self.token_lifetime);
        request.display_name = display_name.map(str::to_owned);
        request.caller_uri = caller_uri.map(str::to_owned);
        self.key.mint(&request, now)
    }
}

impl fmt::Debug for GatewayCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayCredential")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("kid", &self.key.kid())
            .field("alg", &self.key.algorithm())
            .field("token_lifetime", &self.token_lifetime)
            .finish_non_exhaustive()
    }
}
