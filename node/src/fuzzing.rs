//! Fuzz bodies, called by the cargo-fuzz targets in `fuzz/` and replayed over their seed corpus
//! by `node/tests/fuzz_corpus.rs` on stable Rust.

use crate::config::{Config, ConfigError};

/// Configuration text of any shape: parsing must answer `Ok` or a `ConfigError`, never panic,
/// and an accepted configuration must print to text that parses back to the same value.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_toml_str(text) {
        // Access tokens print as `<redacted>`, so only token-free configurations round-trip.
        Ok(config) if !config.meet.access_tokens.is_empty() => {
            assert!(!config.to_toml().is_empty());
        }
        Ok(config) => {
            let printed = config.to_toml();
            let again = Config::from_toml_str(&printed)
                .unwrap_or_else(|e| panic!("printed config does not parse: {e}\n{printed}"));
            assert_eq!(again, config, "print/parse round trip changed the value");
        }
        Err(ConfigError::Invalid { key, reason }) => {
            assert!(!key.is_empty() && !reason.is_empty());
        }
        Err(_) => {}
    }
}
