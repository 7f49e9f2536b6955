//! Validation: the service side (the Meet simulator), with a replay cache.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode};
use serde_json::{Map, Value};

use super::claims::unix_secs;
use super::key::MAX_KID_LEN;
use super::{Claims, JwtError, MAX_TOKEN_LIFETIME, SigningAlgorithm, VerifyingKey};

/// The longest token accepted, in bytes; anything longer is refused before it is decoded.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The longest `jti` accepted, in bytes (ours are 22).
pub const MAX_JTI_LEN: usize = 128;

/// The default clock-skew allowance for `exp`, `nbf` and `iat`: 30 s (meet-side.md §5.b).
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// What a [`Validator`] accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorConfig {
    /// The one `aud` accepted: this service's name (`"meet-sim"` for the simulator).
    pub audience: String,
    /// The `alg` allowlist (RFC 8725 §3.1); default [`SigningAlgorithm::ALL`]. A token must
    /// also use exactly the algorithm of the key its `kid` names.
    pub algorithms: Vec<SigningAlgorithm>,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`; default [`DEFAULT_LEEWAY`].
    pub leeway: Duration,
    /// The longest `exp - iat` accepted; default [`MAX_TOKEN_LIFETIME`].
    pub max_lifetime: Duration,
}

impl ValidatorConfig {
    /// The defaults for `audience`.
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            algorithms: SigningAlgorithm::ALL.to_vec(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: MAX_TOKEN_LIFETIME,
        }
    }
}

/// A registered key and the issuer it belongs to.
#[derive(Clone, Debug)]
struct TrustedKey {
    issuer: String,
    key: VerifyingKey,
}

/// Checks gateway JWTs: signature by a registered key, pinned algorithm, claims, and that
/// no `jti` is used twice. Sans-IO: every call takes `now`, and nothing here reads a clock.
///
/// Each key is registered for one issuer, so a token must carry the `iss` its `kid` was
/// registered under. Checks run in this order, and the first failure is returned:
///
/// 1. size, three base64url parts, a JSON header without `crit`, `typ` absent or `JWT`
///    ([`JwtError::Malformed`]);
/// 2. header `alg` in the allowlist ([`JwtError::DisallowedAlgorithm`]: `none`, `HS*`,
///    anything else), `kid` registered ([`JwtError::UnknownKid`]), `alg` equal to the key's
///    algorithm ([`JwtError::DisallowedAlgorithm`]);
/// 3. the signature ([`JwtError::BadSignature`]), done before any claim is looked at;
/// 4. claims present and typed ([`JwtError::Malformed`]), `iss`
///    ([`JwtError::WrongIssuer`]), `aud` ([`JwtError::WrongAudience`]);
/// 5. `exp - iat` ([`JwtError::LifetimeTooLong`]), `exp` ([`JwtError::Expired`]), `nbf` and
///    `iat` ([`JwtError::NotYetValid`]), each with the leeway;
/// 6. the replay cache ([`JwtError::ReplayedJti`]).
///
/// Only a token that passes every check enters the replay cache, and it stays there until
/// `exp + leeway`, after which it would be refused as expired anyway. The cache therefore
/// holds at most the tokens legitimately minted in the last `max_lifetime + leeway`.
///
/// Time never runs backwards for a validator: a `now` earlier than one already seen is
/// treated as the latest seen, so a clock step back cannot revive a forgotten `jti`.
#[derive(Debug)]
pub struct Validator {
    config: ValidatorConfig,
    keys: HashMap<String, TrustedKey>,
    /// `(iss, jti)` of accepted tokens not yet forgotten.
    seen: HashSet<(String, String)>,
    /// `(forget_at, iss, jti)`, ordered by when each entry may be forgotten.
    forget: BTreeSet<(u64, String, String)>,
    latest_now: u64,
}

impl Validator {
    /// A validator with no keys yet.
    pub fn new(config: ValidatorConfig) -> Self {
        Self {
            config,
            keys: HashMap::new(),
            seen: HashSet::new(),
            forget: BTreeSet::new(),
            latest_now: 0,
        }
    }

    /// Registers `key` for tokens issued by `issuer`, replacing (and returning) any key with
    /// the same `kid`.
    pub fn insert_key(
        &mut self,
        issuer: impl Into<String>,
        key: VerifyingKey,
    ) -> Option<VerifyingKey> {
        let trusted = TrustedKey {
            issuer: issuer.into(),
            key,
        };
        self.keys
            .insert(trusted.key.kid.clone(), trusted)
            .map(|old| old.key)
    }

    /// Builder form of [`insert_key`](Self::insert_key).
    pub fn with_key(mut self, issuer: impl Into<String>, key: VerifyingKey) -> Self {
        self.insert_key(issuer, key);
        self
    }

    /// Unregisters the key named `kid` (a revoked gateway key); returns whether it was there.
    pub fn remove_key(&mut self, kid: &str) -> bool {
        self.keys.remove(kid).is_some()
    }

    /// What this validator accepts.
    pub fn config(&self) -> &ValidatorConfig {
        &self.config
    }

    /// How many `jti`s the replay cache holds now.
    pub fn replay_cache_len(&self) -> usize {
        self.seen.len()
    }

    /// Forgets `jti`s whose tokens expired (with leeway) by `now`. [`validate`](Self::validate)
    /// does this itself; call it from a timer to shrink the cache when no tokens arrive.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let now = self.advance(now);
        self.prune(now);
    }

    /// Checks `token` at `now`; see the type's documentation for the order of checks. On
    /// success the token's `(iss, jti)` is remembered until `exp + leeway`, and its claims
    /// are returned: the caller still checks `itk` against its interop tokens (403 when
    /// unknown or revoked).
    pub fn validate(&mut self, token: &str, now: SystemTime) -> Result<Claims, JwtError> {
        let now = self.advance(now);
        let trusted = self.check_header(token)?;

        let mut validation = Validation::new(trusted.key.alg.jwt());
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&trusted.issuer]);
        // jsonwebtoken reads the system clock for exp/nbf; we check time ourselves with `now`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = decode::<Claims>(token, &trusted.key.key, &validation)
            .map_err(|e| map_error(e.kind()))?
            .claims;

        self.check_claims(&claims, now)?;

        self.prune(now);
        let id = (claims.iss.clone(), claims.jti.clone());
        if self.seen.contains(&id) {
            return Err(JwtError::ReplayedJti);
        }
        let forget_at = claims.exp.saturating_add(self.config.leeway.as_secs());
        self.forget.insert((forget_at, id.0.clone(), id.1.clone()));
        self.seen.insert(id);
        Ok(claims)
    }

    /// `now` in seconds, never earlier than a `now` already seen.
    fn advance(&mut self, now: SystemTime) -> u64 {
        self.latest_now = self.latest_now.max(unix_secs(now));
        self.latest_now
    }

    fn prune(&mut self, now: u64) {
        while let Some(first) = self.forget.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, iss, jti)) = self.forget.pop_first() {
                self.seen.remove(&(iss, jti));
            }
        }
    }

    /// Steps 1 and 2: the header, before any cryptography, and the key it names.
    fn check_header(&self, token: &str) -> Result<&TrustedKey, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed {
                reason: "token longer than 8 KiB",
            });
        }
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed {
                reason: "not three dot-separated parts",
            });
        };
        let header = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
            .ok_or(JwtError::Malformed {
                reason: "header is not a base64url JSON object",
            })?;
        // RFC 7515 §4.1.11: a `crit` we do not understand must be refused; we understand none.
        if header.contains_key("crit") {
            return Err(JwtError::Malformed {
                reason: "crit header parameter not supported",
            });
        }
        // RFC 8725 §3.1: the algorithm is pinned before the key is used. `none`, `HS256` (a
        // public key as the HMAC secret) and every other name outside the allowlist stop here.
        let alg = match header.get("alg") {
            Some(Value::String(name)) => SigningAlgorithm::from_name(name)
                .filter(|alg| self.config.algorithms.contains(alg))
                .ok_or(JwtError::DisallowedAlgorithm)?,
            _ => {
                return Err(JwtError::Malformed {
                    reason: "header has no alg string",
                });
            }
        };
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if typ.eq_ignore_ascii_case("JWT") => {}
            Some(_) => {
                return Err(JwtError::Malformed {
                    reason: "header typ is not JWT",
                });
            }
        }
        let trusted = match header.get("kid") {
            Some(Value::String(kid)) if kid.len() <= MAX_KID_LEN => self.keys.get(kid.as_str()),
            _ => None,
        }
        .ok_or(JwtError::UnknownKid)?;
        if trusted.key.alg != alg {
            return Err(JwtError::DisallowedAlgorithm);
        }
        Ok(trusted)
    }

    /// Step 5 and the claims jsonwebtoken does not check (`iat`, `jti`, `itk`).
    fn check_claims(&self, claims: &Claims, now: u64) -> Result<(), JwtError> {
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
            return Err(JwtError::Malformed {
                reason: "jti empty or longer than 128 bytes",
            });
        }
        if claims.sub.is_empty() || claims.itk.expose().is_empty() {
            return Err(JwtError::Malformed {
                reason: "sub or itk empty",
            });
        }
        if claims.exp <= claims.iat || claims.nbf >= claims.exp {
            return Err(JwtError::Malformed {
                reason: "exp not after iat and nbf",
            });
        }
        let lifetime_s = claims.exp - claims.iat;
        let max_s = self.config.max_lifetime.as_secs();
        if lifetime_s > max_s {
            return Err(JwtError::LifetimeTooLong { lifetime_s, max_s });
        }
        let leeway = self.config.leeway.as_secs();
        // RFC 7519 §4.1.4: the current time must be before exp.
        if now >= claims.exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        // RFC 7519 §4.1.5: the current time must be at or after nbf. A token issued in the
        // future is not valid yet either.
        if claims.nbf > now.saturating_add(leeway) || claims.iat > now.saturating_add(leeway) {
            return Err(JwtError::NotYetValid);
        }
        Ok(())
    }
}

/// The jsonwebtoken errors reachable from [`Validator::validate`], as ours.
fn map_error(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => JwtError::BadSignature,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => JwtError::DisallowedAlgorithm,
        // Not reached: validate_exp and validate_nbf are off.
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::MissingRequiredClaim(_) => JwtError::Malformed {
            reason: "a required claim is missing",
        },
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => JwtError::Malformed {
            reason: "claims are not the expected JSON",
        },
        _ => JwtError::Malformed {
            reason: "not a valid JWS",
        },
    }
}
