//! Fuzz bodies, called by the cargo-fuzz targets in `fuzz/` and replayed over their seed corpus
//! by `routing/tests/fuzz_corpus.rs` on stable Rust.

use crate::Protocol;
use crate::alias::{Alias, MAX_ALIAS_LEN};

/// Alias text of any shape on both protocols: parsing answers `Ok` or an `AliasError`, never
/// panics, and a parsed alias always yields its match key and full URI.
pub fn alias(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for protocol in Protocol::ALL {
        if let Ok(alias) = Alias::parse(text, protocol) {
            assert!(text.len() <= MAX_ALIAS_LEN);
            let key = alias.match_key();
            let full = alias.full_uri();
            // Normalisation never grows an alias beyond what the input could spell out (a
            // percent-escape shrinks, a scheme and tag are added).
            assert!(key.len() <= text.len() + 16, "{text:?} -> {key:?}");
            assert!(!full.is_empty());
        }
    }
}
