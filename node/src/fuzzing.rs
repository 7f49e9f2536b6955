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

/// The master key and salt of both directions of the [`srtp`] fuzz body's session: the bytes
/// 0 to 29. Seeds are packets protected with it.
pub const SRTP_KEY: [u8; signaling::sdp::SRTP_KEY_SALT_LEN] = {
    let mut key = [0u8; signaling::sdp::SRTP_KEY_SALT_LEN];
    let mut i = 0;
    while i < key.len() {
        key[i] = i as u8;
        i += 1;
    }
    key
};

/// Arbitrary packets through an [`SrtpSession`](crate::srtp::SrtpSession) keyed with
/// [`SRTP_KEY`] in both directions: unprotecting answers `Ok` or an `SrtpError`, never panics.
///
/// The first byte picks the suite (bit 0: `_32` instead of `_80`); then come records of a flag
/// byte, a big-endian 16-bit length and that many bytes (fewer at the end of the input). Bit 0
/// of the flags sends the bytes to `unprotect_rtcp` instead of `unprotect_rtp`; bit 1 first
/// protects them (so that packets authenticate and reach the replay windows), bit 2 sends the
/// packet a second time (a replay).
pub fn srtp(data: &[u8]) {
    use signaling::sdp::{CryptoSuite, SrtpContext};

    use crate::srtp::SrtpSession;

    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let suite = if selector & 1 == 0 {
        CryptoSuite::AesCm128HmacSha1_80
    } else {
        CryptoSuite::AesCm128HmacSha1_32
    };
    let mut session = SrtpSession::new(&SrtpContext {
        suite,
        local_key: SRTP_KEY,
        remote_key: SRTP_KEY,
        tag: 1,
    });
    while let Some((&[flags, high, low], tail)) = rest.split_first_chunk::<3>() {
        let len = usize::from(u16::from_be_bytes([high, low])).min(tail.len());
        let (packet, after) = tail.split_at(len);
        rest = after;
        let rtcp = flags & 1 == 1;
        let protected;
        let packet = if flags & 2 == 2 {
            let result = if rtcp {
                session.protect_rtcp(packet)
            } else {
                session.protect_rtp(packet)
            };
            match result {
                Ok(bytes) => {
                    protected = bytes;
                    &protected[..]
                }
                Err(_) => packet,
            }
        } else {
            packet
        };
        let times = if flags & 4 == 4 { 2 } else { 1 };
        for _ in 0..times {
            let _ = if rtcp {
                session.unprotect_rtcp(packet)
            } else {
                session.unprotect_rtp(packet)
            };
        }
    }
}
