//! The server side: issuing challenges with stateless nonces and verifying credentials
//! (RFC 3261 §22.1, §22.4, RFC 7616 §3.3, §3.5).
//!
//! # Nonces
//!
//! A nonce is `base64url(t || HMAC-SHA256(secret, t || realm)[..16])` without padding, where
//! `t` is the issue time in Unix seconds as 8 big-endian bytes: 32 characters. The server keeps
//! no state: a nonce proves by its MAC that this server issued it, for this realm, at `t`. A
//! nonce older than the lifetime is stale: when the response is otherwise correct, the caller
//! re-challenges with `stale=true` (RFC 7616 §3.3) and the client retries without asking its
//! user again. A nonce whose `t` is in the future (the clock stepped back) counts as fresh.
//!
//! Replay: without state, nothing stops a captured request from being replayed with the same
//! nonce and `nc` within the nonce lifetime. Keep the lifetime short (minutes) and run SIP over
//! TLS where that matters; an `nc` table per nonce would close the gap at the cost of state.
//!
//! # Secrets
//!
//! The HMAC secret and the passwords the lookup returns are never printed: [`Authenticator`]'s
//! `Debug` redacts the secret, and no error carries a password.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use super::algorithm::{Algorithm, Qop};
use super::challenge::Challenge;
use super::compute::{AuthQop, response};
use super::credentials::Credentials;

/// The nonce lifetime used by [`Authenticator::new`] callers that have no opinion: 5 minutes.
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// Bytes of HMAC kept in a nonce.
const NONCE_TAG_LEN: usize = 16;
/// Bytes of a decoded nonce: timestamp and tag.
const NONCE_LEN: usize = 8 + NONCE_TAG_LEN;

/// Issues digest challenges and verifies credentials for a set of realms.
#[derive(Clone)]
pub struct Authenticator {
    secret: [u8; 32],
    nonce_lifetime: Duration,
    realms: Vec<String>,
    algorithms: Vec<Algorithm>,
}

/// Who a request was authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// The user name from the credentials.
    pub username: String,
    /// The realm it was verified in.
    pub realm: String,
}

/// Why credentials are refused. Answer every kind the same way on the wire (a new challenge,
/// or 403): the distinctions are for logs and break-in accounting, and telling
/// [`UnknownUser`](Self::UnknownUser) from [`BadResponse`](Self::BadResponse) to the client would
/// reveal which user names exist.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AuthError {
    /// The credentials name a realm this authenticator does not serve.
    #[error("unknown realm {0:?}")]
    UnknownRealm(String),
    /// The lookup knows no such user in the realm.
    #[error("unknown user {username:?} in realm {realm:?}")]
    UnknownUser {
        /// The user name from the credentials.
        username: String,
        /// The realm.
        realm: String,
    },
    /// The nonce was not issued by this authenticator for this realm (forged, tampered with,
    /// from another server or another realm).
    #[error("nonce was not issued here")]
    BadNonce,
    /// The response is right but the nonce is older than the lifetime: re-challenge with
    /// `stale=true` (RFC 7616 §3.3).
    #[error("nonce is stale")]
    StaleNonce,
    /// The response does not match: wrong password (or a different method or URI).
    #[error("digest response does not match")]
    BadResponse,
    /// The algorithm is not one this authenticator accepts.
    #[error("algorithm {0} is not accepted")]
    UnsupportedAlgorithm(Algorithm),
    /// `qop=auth-int`, which is never offered.
    #[error("qop {0} is not supported")]
    UnsupportedQop(Qop),
    /// No `qop`: an RFC 2069-style response to a challenge that offered `qop=auth`.
    #[error("credentials have no qop (RFC 2069 style); qop=auth is required")]
    MissingQop,
    /// `qop` without the `cnonce` or `nc` it requires.
    #[error("credentials have qop but no {0}")]
    MissingParameter(&'static str),
}

impl Authenticator {
    /// An authenticator with the caller's random `secret` (keep it across restarts to keep
    /// issued nonces valid) and nonce lifetime, serving no realm yet and accepting every
    /// supported algorithm.
    #[must_use]
    pub fn new(secret: [u8; 32], nonce_lifetime: Duration) -> Self {
        Self {
            secret,
            nonce_lifetime,
            realms: Vec::new(),
            algorithms: Algorithm::ALL.to_vec(),
        }
    }

    /// Adds a realm served.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.add_realm(realm);
        self
    }

    /// Adds a realm served.
    pub fn add_realm(&mut self, realm: impl Into<String>) {
        let realm = realm.into();
        if !self.serves_realm(&realm) {
            self.realms.push(realm);
        }
    }

    /// Restricts the algorithms accepted (and offered by [`challenges`](Self::challenges)),
    /// in order of preference.
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Whether `realm` (compared exactly) is served.
    #[must_use]
    pub fn serves_realm(&self, realm: &str) -> bool {
        self.realms.iter().any(|served| served == realm)
    }

    /// The nonce lifetime.
    #[must_use]
    pub fn nonce_lifetime(&self) -> Duration {
        self.nonce_lifetime
    }

    /// A fresh nonce for `realm` issued at `now_unix` (seconds since the Unix epoch).
    #[must_use]
    pub fn nonce(&self, realm: &str, now_unix: u64) -> String {
        let timestamp = now_unix.to_be_bytes();
        let tag = self.mac(&timestamp, realm).finalize().into_bytes();
        let mut raw = [0u8; NONCE_LEN];
        raw[..8].copy_from_slice(&timestamp);
        raw[8..].copy_from_slice(&tag[..NONCE_TAG_LEN]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// A challenge for `realm` with a fresh nonce and `qop="auth"`; `stale` after
    /// [`AuthError::StaleNonce`].
    #[must_use]
    pub fn challenge(
        &self,
        realm: &str,
        algorithm: Algorithm,
        now_unix: u64,
        stale: bool,
    ) -> Challenge {
        Challenge {
            realm: realm.to_owned(),
            nonce: self.nonce(realm, now_unix),
            opaque: None,
            algorithm,
            qop: vec![Qop::Auth],
            stale,
        }
    }

    /// One challenge per accepted algorithm, in order of preference: send each as its own
    /// `WWW-Authenticate`/`Proxy-Authenticate` header (RFC 8760 §2.4).
    #[must_use]
    pub fn challenges(&self, realm: &str, now_unix: u64, stale: bool) -> Vec<Challenge> {
        self.algorithms
            .iter()
            .map(|&algorithm| self.challenge(realm, algorithm, now_unix, stale))
            .collect()
    }

    /// Verifies `credentials` sent with a request of `method` at `now_unix`. `lookup` answers
    /// the password of a user in a realm.
    ///
    /// The caller should also check that `credentials.uri` names the Request-URI
    /// (RFC 3261 §22.4); this does not.
    ///
    /// # Errors
    ///
    /// An [`AuthError`]. The checks run in this order: realm, nonce MAC, algorithm, qop, user,
    /// response, nonce age; so [`AuthError::StaleNonce`] means the password was right.
    pub fn verify(
        &self,
        method: &str,
        credentials: &Credentials,
        now_unix: u64,
        lookup: impl Fn(&str, &str) -> Option<String>,
    ) -> Result<AuthenticatedUser, AuthError> {
        let realm = &credentials.realm;
        if !self.serves_realm(realm) {
            return Err(AuthError::UnknownRealm(realm.clone()));
        }
        let issued = self.check_nonce(&credentials.nonce, realm)?;
        if !self.algorithms.contains(&credentials.algorithm) {
            return Err(AuthError::UnsupportedAlgorithm(credentials.algorithm));
        }
        let (cnonce, nc) = match credentials.qop {
            None => return Err(AuthError::MissingQop),
            Some(Qop::AuthInt) => return Err(AuthError::UnsupportedQop(Qop::AuthInt)),
            Some(Qop::Auth) => (
                credentials
                    .cnonce
                    .as_deref()
                    .ok_or(AuthError::MissingParameter("cnonce"))?,
                credentials.nc.ok_or(AuthError::MissingParameter("nc"))?,
            ),
        };
        let password =
            lookup(realm, &credentials.username).ok_or_else(|| AuthError::UnknownUser {
                username: credentials.username.clone(),
                realm: realm.clone(),
            })?;
        let expected = response(
            credentials.algorithm,
            &credentials.username,
            realm,
            &password,
            method,
            &credentials.uri,
            &credentials.nonce,
            Some(AuthQop { cnonce, nc }),
        );
        let received = credentials.response.to_ascii_lowercase();
        if !constant_time_eq(expected.as_bytes(), received.as_bytes()) {
            return Err(AuthError::BadResponse);
        }
        if now_unix.saturating_sub(issued) > self.nonce_lifetime.as_secs() {
            return Err(AuthError::StaleNonce);
        }
        Ok(AuthenticatedUser {
            username: credentials.username.clone(),
            realm: realm.clone(),
        })
    }

    /// The issue time of `nonce` if this authenticator issued it for `realm`.
    fn check_nonce(&self, nonce: &str, realm: &str) -> Result<u64, AuthError> {
        let raw = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| AuthError::BadNonce)?;
        let Ok(raw) = <[u8; NONCE_LEN]>::try_from(raw.as_slice()) else {
            return Err(AuthError::BadNonce);
        };
        let Some((timestamp, tag)) = raw.split_first_chunk::<8>() else {
            return Err(AuthError::BadNonce);
        };
        self.mac(timestamp, realm)
            .verify_truncated_left(tag)
            .map_err(|_| AuthError::BadNonce)?;
        Ok(u64::from_be_bytes(*timestamp))
    }

    fn mac(&self, timestamp: &[u8; 8], realm: &str) -> Hmac<Sha256> {
        // Invariant: HMAC takes keys of any length, so this never fails.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC accepts any key length");
        mac.update(timestamp);
        mac.update(realm.as_bytes());
        mac
    }
}

/// The secret is redacted.
impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("secret", &"<redacted>")
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("realms", &self.realms)
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

/// Compares two byte strings in time independent of where they differ (lengths are public).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)));
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_is_timestamp_then_truncated_mac() {
        let authenticator = Authenticator::new([1; 32], DEFAULT_NONCE_LIFETIME);
        let nonce = authenticator.nonce("realm", 0x0102_0304_0506_0708);
        assert_eq!(nonce.len(), 32);
        let raw = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        assert_eq!(raw[..8], [1, 2, 3, 4, 5, 6, 7, 8]);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[1; 32]).unwrap();
        mac.update(&raw[..8]);
        mac.update(b"realm");
        assert_eq!(raw[8..], mac.finalize().into_bytes()[..16]);
        assert_eq!(
            authenticator.check_nonce(&nonce, "realm"),
            Ok(0x0102_0304_0506_0708)
        );
        assert_eq!(
            authenticator.check_nonce(&nonce, "Realm"),
            Err(AuthError::BadNonce)
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
