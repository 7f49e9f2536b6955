//! Computing the digest response (RFC 7616 §3.4.1, RFC 3261 §22.4), and answering a challenge
//! as a client.

use super::algorithm::{Algorithm, Qop};
use super::challenge::Challenge;
use super::credentials::Credentials;

/// The `qop=auth` inputs of a response: the client nonce and the nonce count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthQop<'a> {
    /// The client nonce (`cnonce`).
    pub cnonce: &'a str,
    /// The nonce count (`nc`), written as eight lower-case hex digits.
    pub nc: u32,
}

/// The digest response, lower-case hex (RFC 7616 §3.4.1):
///
/// ```text
/// HA1      = H(username ":" realm ":" password)
/// HA2      = H(method ":" uri)
/// response = H(HA1 ":" nonce ":" nc ":" cnonce ":" "auth" ":" HA2)   with qop=auth
/// response = H(HA1 ":" nonce ":" HA2)                                without qop (RFC 2069)
/// ```
///
/// Only `qop=auth` is computed: `auth-int` needs `H(body)` in HA2 and is neither offered nor
/// accepted here.
#[must_use]
pub fn response(
    algorithm: Algorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<AuthQop<'_>>,
) -> String {
    let ha1 = algorithm.hex_digest(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()]);
    let ha2 = algorithm.hex_digest(&[method.as_bytes(), uri.as_bytes()]);
    match qop {
        Some(AuthQop { cnonce, nc }) => {
            let nc = format!("{nc:08x}");
            algorithm.hex_digest(&[
                ha1.as_bytes(),
                nonce.as_bytes(),
                nc.as_bytes(),
                cnonce.as_bytes(),
                Qop::Auth.as_str().as_bytes(),
                ha2.as_bytes(),
            ])
        }
        None => algorithm.hex_digest(&[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()]),
    }
}

/// Answers `challenge` for a request (client side, RFC 3261 §22.2–22.3): the value for the
/// `Authorization` (after a 401) or `Proxy-Authorization` (after a 407) header.
///
/// Uses `qop=auth` when the challenge offers it, with `cnonce` (random text from the caller:
/// this crate has no randomness) and `nc` (1 for a new nonce, then counting up for each request
/// reusing it). A challenge without `qop` gets an RFC 2069-style response; one offering only
/// `auth-int` also gets one, which the server is likely to refuse.
#[must_use]
pub fn authorize(
    challenge: &Challenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Credentials {
    let auth = challenge.qop.contains(&Qop::Auth);
    let qop = auth.then_some(AuthQop { cnonce, nc });
    let response = response(
        challenge.algorithm,
        username,
        &challenge.realm,
        password,
        method,
        uri,
        &challenge.nonce,
        qop,
    );
    Credentials {
        username: username.to_owned(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_owned(),
        response,
        algorithm: challenge.algorithm,
        cnonce: auth.then(|| cnonce.to_owned()),
        nc: auth.then_some(nc),
        qop: auth.then_some(Qop::Auth),
        opaque: challenge.opaque.clone(),
    }
}
