//! Fuzz bodies for the digest header parsers, for cargo-fuzz targets and corpus replays on
//! stable Rust.

use super::{Challenge, Credentials};

/// Bytes as a header value, read both as a challenge and as credentials: parsing answers `Ok`
/// or a `HeaderError` and never panics, and whatever parses prints back to a value that parses
/// to the same thing.
pub fn header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(challenge) = Challenge::parse(&text) {
        let printed = challenge.to_string();
        assert_eq!(
            Challenge::parse(&printed).as_ref(),
            Ok(&challenge),
            "{printed}"
        );
    }
    if let Ok(credentials) = Credentials::parse(&text) {
        let printed = credentials.to_string();
        assert_eq!(
            Credentials::parse(&printed).as_ref(),
            Ok(&credentials),
            "{printed}"
        );
    }
}
