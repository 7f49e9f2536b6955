//! The one error type of the JWT module, with its metric label and HTTP status.

/// Why a gateway JWT could not be minted or was refused by a [`Validator`](super::Validator).
///
/// Messages never carry the token, a claim value that could be secret (`itk`) or key
/// material: a token that failed validation is attacker-controlled input, and a key is a
/// secret. [`label`](Self::label) is the stable name for metrics and logs;
/// [`status`](Self::status) and [`rpc_status`](Self::rpc_status) are what the Meet simulator
/// answers (`shared/docs/meet-side.md` §5.b "Gateway authentication").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// `exp` is in the past, beyond the validator's leeway (RFC 7519 §4.1.4).
    #[error("token expired")]
    Expired,
    /// `nbf` (or `iat`) is in the future, beyond the validator's leeway (RFC 7519 §4.1.5).
    #[error("token not yet valid")]
    NotYetValid,
    /// The signature does not verify with the key its `kid` names.
    #[error("bad token signature")]
    BadSignature,
    /// `aud` is not the validator's audience.
    #[error("token audience is not this service")]
    WrongAudience,
    /// `iss` is not the issuer the key named by `kid` is registered for.
    #[error("token issuer is not the key's registered issuer")]
    WrongIssuer,
    /// The header's `alg` is not in the allowlist or not the algorithm of the key its `kid`
    /// names: `none`, any `HS*`, or an RSA algorithm on an EC key (RFC 8725 §3.1).
    #[error("token algorithm not allowed")]
    DisallowedAlgorithm,
    /// The header has no `kid`, or one that is not registered.
    #[error("token key id is not registered")]
    UnknownKid,
    /// A token with this `iss` and `jti` was already accepted and has not expired yet.
    #[error("token id already used")]
    ReplayedJti,
    /// `exp` is more than the allowed lifetime after `iat`: refused when minting and when
    /// validating.
    #[error("token lifetime of {lifetime_s} s is over the {max_s} s limit")]
    LifetimeTooLong {
        /// `exp - iat` in seconds, as minted or received.
        lifetime_s: u64,
        /// The limit in seconds.
        max_s: u64,
    },
    /// Not a well-formed token for this service: not three base64url parts, a header or
    /// claims that are not JSON, a required claim missing or of the wrong type, a `crit`
    /// header, an over-long token. When minting: an empty issuer, audience or subject.
    #[error("malformed token: {reason}")]
    Malformed {
        /// What is wrong, in words; never a value taken from the token.
        reason: &'static str,
    },
    /// A key could not be loaded: not PEM/JWK, not PKCS#8 for a private EC key, not the
    /// curve or size the algorithm needs. A configuration error, never a validation result.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// What is wrong, in words; never key material.
        reason: &'static str,
    },
}

impl JwtError {
    /// A stable snake_case name for metric labels and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BadSignature => "bad_signature",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::UnknownKid => "unknown_kid",
            Self::ReplayedJti => "replayed_jti",
            Self::LifetimeTooLong { .. } => "lifetime_too_long",
            Self::Malformed { .. } => "malformed",
            Self::InvalidKey { .. } => "invalid_key",
        }
    }

    /// The HTTP status a service answers a request carrying a refused token with.
    ///
    /// meet-side.md §5.b: a bad signature, algorithm, `kid`, `exp`, `nbf`, `aud` or `iss`, or
    /// a replayed `jti`, is 401 `UNAUTHENTICATED`; so is a malformed or over-long token. (403
    /// `PERMISSION_DENIED` is for a token that authenticates but whose interop token `itk` is
    /// unknown or revoked: the caller's check after validation, not a `JwtError`.)
    /// [`InvalidKey`](Self::InvalidKey) is our own configuration, hence 500.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidKey { .. } => 500,
            _ => 401,
        }
    }

    /// The google.rpc status name that goes with [`status`](Self::status) in a Google-style
    /// error body (`{"error":{"code":401,"status":"UNAUTHENTICATED",...}}`).
    pub fn rpc_status(&self) -> &'static str {
        match self {
            Self::InvalidKey { .. } => "INTERNAL",
            _ => "UNAUTHENTICATED",
        }
    }
}
