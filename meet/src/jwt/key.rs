//! Keys: the gateway's signing key and the public keys a validator trusts.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use super::JwtError;

/// The longest `kid` we mint or accept, in bytes.
pub const MAX_KID_LEN: usize = 128;

/// The smallest RSA modulus we load, in bits (RFC 7518 §3.3: "2048 bits or larger MUST be
/// used").
pub const MIN_RSA_BITS: usize = 2048;

/// A JWS algorithm a gateway key may sign with (RFC 7518 §3.1).
///
/// Only asymmetric algorithms exist here, so an `HS*` token can never be verified with a
/// public key used as the HMAC secret (RFC 8725 §2.1, §3.1). ES256 is the default: small
/// keys and signatures (meet-side.md §4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// ECDSA with P-256 and SHA-256.
    #[default]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of at least [`MIN_RSA_BITS`].
    Rs256,
}

impl SigningAlgorithm {
    /// Every algorithm, the default allowlist of a [`ValidatorConfig`](super::ValidatorConfig).
    pub const ALL: [Self; 2] = [Self::Es256, Self::Rs256];

    /// The JWS `alg` name (`"ES256"`, `"RS256"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm whose JWS `alg` name is `name`; names are case-sensitive (RFC 7515
    /// §4.1.1), so `"es256"` and `"none"` are `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    pub(super) fn jwt(self) -> Algorithm {
        match self {
            Self::Es256 => Algorithm::ES256,
            Self::Rs256 => Algorithm::RS256,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn check_kid(kid: &str) -> Result<(), JwtError> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN {
        return Err(JwtError::InvalidKey {
            reason: "kid must be 1 to 128 bytes",
        });
    }
    Ok(())
}

/// Checks that the public half in `jwk` fits `alg` (curve, RSA size) and returns it with
/// `kid`, `alg` and `use` filled in.
fn public_jwk(mut jwk: Jwk, kid: &str, alg: SigningAlgorithm) -> Result<Jwk, JwtError> {
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::EllipticCurve(ec), SigningAlgorithm::Es256) => {
            let coordinate_len = |c: &str| URL_SAFE_NO_PAD.decode(c).map(|b| b.len()).ok();
            if ec.curve != EllipticCurve::P256
                || coordinate_len(&ec.x) != Some(32)
                || coordinate_len(&ec.y) != Some(32)
            {
                return Err(JwtError::InvalidKey {
                    reason: "ES256 needs a P-256 key",
                });
            }
        }
        (AlgorithmParameters::RSA(rsa), SigningAlgorithm::Rs256) => {
            let n = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|_| JwtError::InvalidKey {
                    reason: "RSA modulus is not base64url",
                })?;
            let bits = n
                .iter()
                .position(|&b| b != 0)
                .map_or(0, |i| (n.len() - i) * 8 - n[i].leading_zeros() as usize);
            if bits < MIN_RSA_BITS {
                return Err(JwtError::InvalidKey {
                    reason: "RS256 needs an RSA key of at least 2048 bits",
                });
            }
        }
        _ => {
            return Err(JwtError::InvalidKey {
                reason: "key type does not match the algorithm",
            });
        }
    }
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.key_algorithm = Some(match alg {
        SigningAlgorithm::Es256 => KeyAlgorithm::ES256,
        SigningAlgorithm::Rs256 => KeyAlgorithm::RS256,
    });
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(jwk)
}

/// The gateway's private signing key, with the `kid` it is registered under.
///
/// Its `Debug` shows the `kid` and algorithm only; the key never appears in any output.
pub struct GatewayKey {
    pub(super) kid: String,
    pub(super) alg: SigningAlgorithm,
    pub(super) key: EncodingKey,
    public: VerifyingKey,
}

impl GatewayKey {
    /// Loads a private key from PEM: a PKCS#8 `PRIVATE KEY` for ES256 (convert a SEC1 `EC
    /// PRIVATE KEY` with `openssl pkcs8 -topk8 -nocrypt`), PKCS#8 or PKCS#1 `RSA PRIVATE KEY`
    /// for RS256. The key is checked here, so a wrong key fails at load and not at the first
    /// call.
    pub fn from_pem(
        kid: impl Into<String>,
        alg: SigningAlgorithm,
        pem: &str,
    ) -> Result<Self, JwtError> {
        let kid = kid.into();
        check_kid(&kid)?;
        let key = match alg {
            SigningAlgorithm::Es256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            SigningAlgorithm::Rs256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .map_err(|_| JwtError::InvalidKey {
            reason: match alg {
                SigningAlgorithm::Es256 => "not a PKCS#8 EC private key PEM",
                SigningAlgorithm::Rs256 => "not an RSA private key PEM",
            },
        })?;
        // Deriving the public half parses the whole private key (curve included).
        let jwk = Jwk::from_encoding_key(&key, alg.jwt()).map_err(|_| JwtError::InvalidKey {
            reason: "private key does not match the algorithm",
        })?;
        let public = VerifyingKey::from_checked_jwk(public_jwk(jwk, &kid, alg)?)?;
        Ok(Self {
            kid,
            alg,
            key,
            public,
        })
    }

    /// The key id minted into every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The public half, to register with a [`Validator`](super::Validator) or to enrol
    /// (as a JWK, [`VerifyingKey::to_jwk_json`]).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }
}

impl fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A public key a [`Validator`](super::Validator) verifies tokens with: `kid`, algorithm
/// and key.
///
/// Public keys are not secret, but `Debug` still shows only the `kid` and algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    pub(super) kid: String,
    pub(super) alg: SigningAlgorithm,
    pub(super) key: DecodingKey,
    jwk: Jwk,
}

impl VerifyingKey {
    /// Loads a public key from an SPKI `PUBLIC KEY` PEM (`openssl pkey -pubout`); RS256 also
    /// takes a PKCS#1 `RSA PUBLIC KEY`.
    pub fn from_pem(
        kid: impl Into<String>,
        alg: SigningAlgorithm,
        pem: &str,
    ) -> Result<Self, JwtError> {
        let kid = kid.into();
        check_kid(&kid)?;
        let key = match alg {
            SigningAlgorithm::Es256 => DecodingKey::from_ec_pem(pem.as_bytes()),
            SigningAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .map_err(|_| JwtError::InvalidKey {
            reason: match alg {
                SigningAlgorithm::Es256 => "not an EC public key PEM",
                SigningAlgorithm::Rs256 => "not an RSA public key PEM",
            },
        })?;
        let jwk =
            Jwk::from_decoding_key(&key, Some(alg.jwt())).map_err(|_| JwtError::InvalidKey {
                reason: "public key does not match the algorithm",
            })?;
        Self::from_checked_jwk(public_jwk(jwk, &kid, alg)?)
    }

    /// Loads a public key from a JWK (RFC 7517) that names its `kid`. The algorithm is the
    /// JWK's `alg` when present (`ES256` or `RS256`), otherwise ES256 for a P-256 `EC` key and
    /// RS256 for an `RSA` key.
    pub fn from_jwk_json(json: &str) -> Result<Self, JwtError> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|_| JwtError::InvalidKey {
            reason: "not a JWK",
        })?;
        let kid = jwk.common.key_id.clone().ok_or(JwtError::InvalidKey {
            reason: "JWK has no kid",
        })?;
        check_kid(&kid)?;
        let alg = match (jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(KeyAlgorithm::ES256), _) => SigningAlgorithm::Es256,
            (Some(KeyAlgorithm::RS256), _) => SigningAlgorithm::Rs256,
            (Some(_), _) => {
                return Err(JwtError::InvalidKey {
                    reason: "JWK alg is neither ES256 nor RS256",
                });
            }
            (None, AlgorithmParameters::RSA(_)) => SigningAlgorithm::Rs256,
            (None, _) => SigningAlgorithm::Es256,
        };
        if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
            return Err(JwtError::InvalidKey {
                reason: "JWK use is not sig",
            });
        }
        Self::from_checked_jwk(public_jwk(jwk, &kid, alg)?)
    }

    /// Builds the key from a JWK that [`public_jwk`] has checked and filled in.
    fn from_checked_jwk(jwk: Jwk) -> Result<Self, JwtError> {
        let (Some(kid), Some(alg)) = (jwk.common.key_id.clone(), jwk.common.key_algorithm) else {
            return Err(JwtError::InvalidKey {
                reason: "JWK has no kid or alg",
            });
        };
        let alg = match alg {
            KeyAlgorithm::RS256 => SigningAlgorithm::Rs256,
            _ => SigningAlgorithm::Es256,
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| JwtError::InvalidKey {
            reason: "JWK parameters are not base64url",
        })?;
        Ok(Self { kid, alg, key, jwk })
    }

    /// The key id tokens name this key by.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm tokens for this key may use.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The key as a public JWK with `kid`, `alg` and `"use":"sig"`, for enrolment.
    pub fn to_jwk_json(&self) -> String {
        // A Jwk is plain strings and enums: serialising it cannot fail.
        serde_json::to_string(&self.jwk).unwrap_or_default()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}
