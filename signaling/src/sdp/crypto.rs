//! SDES keying for SRTP: the `a=crypto` attribute (RFC 4568 §4, §9), which offered line we
//! take (§5.2, §7.1.2), and the keys both sides end up with.
//!
//! We support the two AES counter-mode suites of RFC 4568 §6.2 with one inline master key
//! each (16-byte key and 14-byte salt, base64 in the attribute). We take a line only if it has
//! exactly one key, no MKI, a lifetime of at least 2^31 packets or none (we do not re-key; at
//! video rates 2^31 packets outlast any call) and no session parameters (§6.3: an unknown one
//! makes the line unacceptable; we implement none of them).

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::session::{Attribute, MediaDescription};

/// Length of an AES-CM-128 master key and salt together (RFC 4568 §6.2.1: 16 + 14 bytes).
pub const SRTP_KEY_SALT_LEN: usize = 30;

/// The shortest key lifetime we take without re-keying, in packets.
const MIN_LIFETIME: u64 = 1 << 31;

/// Standard base64 (RFC 4568 §6.1, §9.2 `key-salt`), taking the key with or without padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An SRTP crypto suite we support (RFC 4568 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80`: AES-128 counter mode, 80-bit HMAC-SHA1 tag. Preferred.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: as above with a 32-bit tag on SRTP packets.
    AesCm128HmacSha1_32,
}

impl CryptoSuite {
    /// Our preference order.
    pub const PREFERENCE: [Self; 2] = [Self::AesCm128HmacSha1_80, Self::AesCm128HmacSha1_32];

    /// The suite name in SDP.
    pub fn name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The suite of an SDP name (case-sensitive, as registered).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for CryptoSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]` (RFC 4568 §9.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag that names this line in the answer (1 to 9 digits).
    pub tag: u32,
    /// The suite name as written.
    pub suite: String,
    /// The `;`-separated key parameters, e.g. `inline:<key>|2^31|1:1`.
    pub key_params: Vec<String>,
    /// The session parameters (`KDR=`, `UNENCRYPTED_SRTP`, ...).
    pub session_params: Vec<String>,
}

impl CryptoAttribute {
    /// A line with one inline key and nothing else.
    pub fn inline(tag: u32, suite: CryptoSuite, key: &[u8; SRTP_KEY_SALT_LEN]) -> Self {
        Self {
            tag,
            suite: suite.name().to_owned(),
            key_params: vec![format!("inline:{}", BASE64.encode(key))],
            session_params: Vec::new(),
        }
    }

    /// Reads the value of an `a=crypto` attribute.
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split_ascii_whitespace();
        let tag = fields.next()?;
        if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let suite = fields.next()?.to_owned();
        let key_params: Vec<String> = fields.next()?.split(';').map(str::to_owned).collect();
        Some(Self {
            tag: tag.parse().ok()?,
            suite,
            key_params,
            session_params: fields.map(str::to_owned).collect(),
        })
    }

    /// The suite, if we support it.
    pub fn known_suite(&self) -> Option<CryptoSuite> {
        CryptoSuite::from_name(&self.suite)
    }

    /// The master key and salt, if this line is one we accept: one inline key of 30 bytes, no
    /// MKI, no lifetime under 2^31 packets (we do not re-key), no session parameters (RFC
    /// 4568 §5.2, §6.3: a line with a parameter the answerer does not implement is not
    /// acceptable).
    pub fn usable_key(&self) -> Option<[u8; SRTP_KEY_SALT_LEN]> {
        let ([key_param], true) = (&self.key_params[..], self.session_params.is_empty()) else {
            return None;
        };
        let (method, info) = key_param.split_once(':')?;
        if !method.eq_ignore_ascii_case("inline") {
            return None;
        }
        let mut parts = info.split('|');
        let key = BASE64.decode(parts.next()?).ok()?;
        for part in parts {
            if part.contains(':') {
                return None; // MKI (RFC 4568 §9.2 `mki`)
            }
            if parse_lifetime(part)? < MIN_LIFETIME {
                return None;
            }
        }
        key.try_into().ok()
    }

    /// The attribute `a=crypto:...`.
    pub fn to_attribute(&self) -> Attribute {
        Attribute::new("crypto", self.to_string())
    }
}

/// The value of the attribute, without `crypto:`.
impl fmt::Display for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.tag,
            self.suite,
            self.key_params.join(";")
        )?;
        for param in &self.session_params {
            write!(f, " {param}")?;
        }
        Ok(())
    }
}

/// `lifetime = ["2^"] 1*(DIGIT)` (RFC 4568 §9.2), saturating.
fn parse_lifetime(text: &str) -> Option<u64> {
    match text.strip_prefix("2^") {
        Some(exponent) => {
            let exponent: u32 = exponent.parse().ok()?;
            Some(1u64.checked_shl(exponent).unwrap_or(u64::MAX))
        }
        None => text.parse().ok(),
    }
}

impl MediaDescription {
    /// Every readable `a=crypto` line, in order.
    pub fn crypto(&self) -> Vec<CryptoAttribute> {
        self.attribute_values("crypto")
            .filter_map(CryptoAttribute::parse)
            .collect()
    }
}

/// The offered line an answerer takes: the first acceptable line of our most preferred suite
/// (RFC 4568 §5.2: the answerer picks one of the offered lines).
pub(crate) fn choose(
    offered: &[CryptoAttribute],
) -> Option<(&CryptoAttribute, CryptoSuite, [u8; SRTP_KEY_SALT_LEN])> {
    CryptoSuite::PREFERENCE.into_iter().find_map(|suite| {
        offered.iter().find_map(|line| {
            (line.known_suite() == Some(suite))
                .then(|| line.usable_key())
                .flatten()
                .map(|key| (line, suite, key))
        })
    })
}

/// The SRTP keys of one stream, agreed through SDES. `Debug` hides the keys.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpContext {
    /// The suite.
    pub suite: CryptoSuite,
    /// Our master key and salt: we protect what we send with it.
    pub local_key: [u8; SRTP_KEY_SALT_LEN],
    /// The peer's master key and salt: what we receive is protected with it.
    pub remote_key: [u8; SRTP_KEY_SALT_LEN],
    /// The tag of the agreed `a=crypto` line.
    pub tag: u32,
}

impl fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpContext")
            .field("suite", &self.suite)
            .field("local_key", &"<redacted>")
            .field("remote_key", &"<redacted>")
            .field("tag", &self.tag)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    fn line(text: &str) -> CryptoAttribute {
        CryptoAttribute::parse(text).unwrap()
    }

    #[test]
    fn lifetimes() {
        assert_eq!(parse_lifetime("2^31"), Some(1 << 31));
        assert_eq!(parse_lifetime("2^200"), Some(u64::MAX));
        assert_eq!(parse_lifetime("1048576"), Some(1 << 20));
        assert_eq!(parse_lifetime("2^x"), None);
    }

    #[test]
    fn choice_prefers_80_then_offer_order() {
        let offered = [
            line(&format!("1 AES_CM_128_HMAC_SHA1_32 inline:{KEY}")),
            line(&format!("2 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20")),
            line(&format!("3 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^48")),
            line(&format!("4 AES_CM_128_HMAC_SHA1_80 inline:{KEY}")),
        ];
        let (chosen, suite, _) = choose(&offered).unwrap();
        assert_eq!((chosen.tag, suite), (3, CryptoSuite::AesCm128HmacSha1_80));
        let (chosen, suite, _) = choose(&offered[..2]).unwrap();
        assert_eq!((chosen.tag, suite), (1, CryptoSuite::AesCm128HmacSha1_32));
        assert!(choose(&offered[1..2]).is_none());
    }

    #[test]
    fn keys_without_padding_and_round_trip() {
        let key = [0x42; SRTP_KEY_SALT_LEN];
        let ours = CryptoAttribute::inline(1, CryptoSuite::AesCm128HmacSha1_80, &key);
        assert_eq!(line(&ours.to_string()), ours);
        assert_eq!(ours.usable_key(), Some(key));
        assert_eq!(ours.to_attribute().name, "crypto");
        let lower = line(&format!("1 AES_CM_128_HMAC_SHA1_80 INLINE:{KEY}"));
        assert!(
            lower.usable_key().is_some(),
            "the method is case-insensitive"
        );
    }
}
