//! Meeting codes, numeric meeting ids and the other names the simulator hands out
//! (meet-side.md §1.2, §2.3).

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// The shortest short (legacy, PIN-prefixed) numeric id accepted: 5 digits (§2.3).
pub const MIN_SHORT_ID_LEN: usize = 5;

/// The longest short numeric id accepted.
pub const MAX_SHORT_ID_LEN: usize = 20;

/// Whether `code` is a meeting code `abc-defg-hij`: 3-4-3 lowercase ASCII letters.
pub fn is_meeting_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    parts.len() == 3
        && [3, 4, 3]
            .iter()
            .zip(&parts)
            .all(|(&len, p)| p.len() == len && p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// `text` as a meeting code: lower-cased (codes are case-insensitive, §1.2), with the dashes
/// put back when it is the ten letters without them. `None` when it is not a code.
pub fn normalize_meeting_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if is_meeting_code(&lower) {
        return Some(lower);
    }
    if lower.len() == 10 && lower.bytes().all(|b| b.is_ascii_lowercase()) {
        let dashed = format!("{}-{}-{}", &lower[..3], &lower[3..7], &lower[7..]);
        return Some(dashed);
    }
    None
}

/// Whether `id` is a long numeric meeting id of `len` digits, not starting with 0.
pub fn is_long_id(id: &str, len: usize) -> bool {
    id.len() == len && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
}

/// Whether `id` is a short numeric id (PIN prefix + digits): 5 to 20 digits.
pub fn is_short_id(id: &str) -> bool {
    (MIN_SHORT_ID_LEN..=MAX_SHORT_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_digit())
}

/// The simulator's seeded generator: every random-looking value comes from here, so the same
/// seed and inputs give the same names.
#[derive(Debug)]
pub(super) struct IdGen {
    rng: StdRng,
}

impl IdGen {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + self.rng.random_range(0..26u8)))
            .collect()
    }

    /// A fresh meeting code `abc-defg-hij`.
    pub(super) fn meeting_code(&mut self) -> String {
        format!(
            "{}-{}-{}",
            self.letters(3),
            self.letters(4),
            self.letters(3)
        )
    }

    /// A fresh long numeric id of `len` digits, not starting with 0.
    pub(super) fn long_id(&mut self, len: usize) -> String {
        (0..len)
            .map(|i| {
                let low = if i == 0 { 1 } else { 0 };
                char::from(b'0' + self.rng.random_range(low..10u8))
            })
            .collect()
    }

    /// A fresh space id (the `{space}` of `spaces/{space}`): 12 letters and digits.
    pub(super) fn space_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..12)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect()
    }

    /// A bearer secret with `prefix`: 32 base64url characters (192 bits).
    pub(super) fn secret(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let body: String = (0..32)
            .map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())]))
            .collect();
        format!("{prefix}{body}")
    }

    /// A CSRC: non-zero, not 42 (the loudest-speaker marker of §1.5).
    pub(super) fn csrc(&mut self) -> u32 {
        loop {
            let c: u32 = self.rng.random();
            if c != 0 && c != 42 {
                return c;
            }
        }
    }

    /// A trace id for a connect answer: 16 hex digits.
    pub(super) fn trace_id(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_codes() {
        assert!(is_meeting_code("abc-defg-hij"));
        assert!(!is_meeting_code("ABC-defg-hij"));
        assert!(!is_meeting_code("abc-def-hij"));
        assert!(!is_meeting_code("abc-defg-hij-"));
        assert_eq!(
            normalize_meeting_code("ABC-DEFG-HIJ").as_deref(),
            Some("abc-defg-hij")
        );
        assert_eq!(
            normalize_meeting_code("abcdefghij").as_deref(),
            Some("abc-defg-hij")
        );
        assert_eq!(normalize_meeting_code("abc-defg-hi1"), None);
        let mut ids = IdGen::new(7);
        for _ in 0..100 {
            assert!(is_meeting_code(&ids.meeting_code()));
            assert!(is_long_id(&ids.long_id(13), 13));
        }
    }

    #[test]
    fn numeric_ids() {
        assert!(is_long_id("1234567890123", 13));
        assert!(!is_long_id("0234567890123", 13));
        assert!(!is_long_id("123456789012", 13));
        assert!(is_short_id("12345"));
        assert!(!is_short_id("1234"));
        assert!(!is_short_id("12a45"));
    }
}
