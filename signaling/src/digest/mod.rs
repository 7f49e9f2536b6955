//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760): MD5, SHA-256 and
//! SHA-512/256 with `qop=auth`.
//!
//! - [`Challenge`]: `WWW-Authenticate` / `Proxy-Authenticate` values, parsed and printed.
//! - [`Credentials`]: `Authorization` / `Proxy-Authorization` values, parsed and printed.
//! - [`response`]: the RFC 7616 §3.4.1 computation; [`authorize`]: the client side, answering
//!   a challenge from a proxy on an outbound leg.
//! - [`Authenticator`]: the server side, with stateless HMAC nonces and a password lookup the
//!   caller provides.
//!
//! Sans-IO: time comes in as Unix seconds (`now_unix`), randomness (the HMAC secret, client
//! nonces) from the caller.

mod algorithm;
mod authenticator;
mod challenge;
mod compute;
mod credentials;
mod error;
pub mod fuzzing;
mod params;

pub use algorithm::{Algorithm, Qop};
pub use authenticator::{AuthError, AuthenticatedUser, Authenticator, DEFAULT_NONCE_LIFETIME};
pub use challenge::Challenge;
pub use compute::{AuthQop, authorize, response};
pub use credentials::Credentials;
pub use error::HeaderError;
