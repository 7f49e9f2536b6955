//! Gateway credentials and JWTs (meet-side.md §4, §5.b "Gateway authentication").
//!
//! The gateway proves who it is to the Meet side with a short-lived signed JWT on every
//! request: [`GatewayKey::mint`] makes one, [`Validator::validate`] (used by `meet-sim`)
//! checks one. Both are sans-IO: time comes in as a `now` argument and nothing here reads a
//! clock, a file or the network. [`credential_status`] says how close the gateway's
//! long-lived credential is to expiring, for the `/status` alarm.
//!
//! ```text
//! header  {"typ":"JWT","alg":"ES256"|"RS256","kid":"<registered key id>"}
//! claims  {"iss":"<gateway>","sub":"<call id>","aud":"meet-sim",
//!          "iat":T,"nbf":T,"exp":T+≤300,"jti":"<random>","itk":"<interop token>",
//!          "dn":"<display name>"?,"uri":"<caller uri>"?}
//! ```
//!
//! Security rules (RFC 8725): only ES256 and RS256 exist here, the allowlist is checked on
//! the raw header before jsonwebtoken sees the token, and each `kid` is pinned to one
//! algorithm, so `alg: none`, `HS256` keyed with a public key and algorithm swaps are
//! refused; lifetimes are at most 300 s; `jti`s are remembered until they expire. Keys,
//! tokens and interop tokens never appear in `Debug` or `Display` output.
//!
//! Signing and verification use jsonwebtoken 11 with its `rust_crypto` backend (no
//! aws-lc). jsonwebtoken's own `exp`/`nbf` checks read the system clock, so they are off
//! and [`Validator`] checks time itself; it also checks `iat`, `jti` and `itk`, which
//! jsonwebtoken does not.

mod claims;
mod error;
mod expiry;
mod key;
mod mint;
mod validate;

pub use claims::{Claims, GatewayToken, InteropToken, MAX_TOKEN_LIFETIME, MintRequest};
pub use error::JwtError;
pub use expiry::{CredentialStatus, DEFAULT_EXPIRY_WARNING, credential_status};
pub use key::{GatewayKey, MAX_KID_LEN, MIN_RSA_BITS, SigningAlgorithm, VerifyingKey};
pub use validate::{DEFAULT_LEEWAY, MAX_JTI_LEN, MAX_TOKEN_LEN, Validator, ValidatorConfig};
