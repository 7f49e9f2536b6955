//! Minting: the gateway side.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use rand::RngCore as _;

use super::claims::unix_secs;
use super::{Claims, GatewayKey, GatewayToken, JwtError, MAX_TOKEN_LIFETIME, MintRequest};

/// Random bytes in a `jti`: 128 bits, so ids never collide in practice (RFC 7519 §4.1.7).
const JTI_BYTES: usize = 16;

impl GatewayKey {
    /// Mints a signed token for `request` at `now`.
    ///
    /// Header `{"typ":"JWT","alg":<key's>,"kid":<key's>}`; claims `iss`, `sub`, `aud`,
    /// `iat = nbf = now`, `exp = now + lifetime`, a random `jti`, `itk`, and `dn`/`uri` when
    /// given. Refuses a lifetime over [`MAX_TOKEN_LIFETIME`] ([`JwtError::LifetimeTooLong`])
    /// or under one second, and an empty issuer, audience, subject or interop token
    /// ([`JwtError::Malformed`]).
    pub fn mint(&self, request: &MintRequest, now: SystemTime) -> Result<GatewayToken, JwtError> {
        if request.lifetime > MAX_TOKEN_LIFETIME {
            let whole = request.lifetime.as_secs();
            return Err(JwtError::LifetimeTooLong {
                lifetime_s: whole + u64::from(request.lifetime.subsec_nanos() > 0),
                max_s: MAX_TOKEN_LIFETIME.as_secs(),
            });
        }
        let lifetime_s = request.lifetime.as_secs();
        if lifetime_s == 0 {
            return Err(JwtError::Malformed {
                reason: "lifetime under one second",
            });
        }
        if request.issuer.is_empty()
            || request.audience.is_empty()
            || request.subject.is_empty()
            || request.interop_token.expose().is_empty()
        {
            return Err(JwtError::Malformed {
                reason: "issuer, audience, subject and interop token must not be empty",
            });
        }

        let iat = unix_secs(now);
        let mut jti = [0u8; JTI_BYTES];
        rand::rng().fill_bytes(&mut jti);
        let claims = Claims {
            iss: request.issuer.clone(),
            sub: request.subject.clone(),
            aud: request.audience.clone(),
            iat,
            nbf: iat,
            exp: iat.saturating_add(lifetime_s),
            jti: URL_SAFE_NO_PAD.encode(jti),
            itk: request.interop_token.clone(),
            dn: request.display_name.clone(),
            uri: request.caller_uri.clone(),
        };

        let mut header = Header::new(self.alg.jwt());
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        // The key was parsed and matched to its algorithm at load; signing can only fail on
        // a broken crypto backend.
        let token = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| {
            JwtError::InvalidKey {
                reason: "signing failed",
            }
        })?;
        Ok(GatewayToken {
            token,
            jti: claims.jti,
            exp: claims.exp,
        })
    }
}
