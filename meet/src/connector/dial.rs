//! `DialString`: what a SIP/H.323 caller dialled to reach a Meet conference (meet-side.md
//! §2.3), parsed sans-IO.
//!
//! | input | result |
//! |---|---|
//! | `abc-defg-hij`, `ABC-Defg-HIJ`, `abcdefghij` | [`DialString::MeetingCode`]`("abc-defg-hij")`: 3-4-3 ASCII letters, case-insensitive, kept lower-case with the dashes |
//! | `1234567890123`, `123 4567 890 123`, `123-4567-890-123` | [`DialString::LongId`]`("1234567890123")`: exactly [`MeetProfile::long_id_len`] digits (13 by default); spaces and dashes between digits are dropped |
//! | `7771234567` with PIN prefix `777` | [`DialString::ShortId`]`{prefix: "777", digits: "1234567"}`: the prefix, then more digits, [`MIN_SHORT_ID_LEN`] to [`MAX_SHORT_ID_LEN`] in all; only when [`MeetProfile::short_id_prefix`] is set |
//! | anything else | a [`DialError`] |
//!
//! A digit string of the long-id length is a long id even when it also starts with the PIN
//! prefix: long ids are the recommended format, short ids the deprecated one (§2.2). The
//! input is the user part alone (no `sip:`, no `@domain`), already percent-decoded; the node
//! strips IVR terminators such as `#`.

use std::fmt;

use super::MeetProfile;
use crate::session::SessionOutcome;

/// The longest dial string read, in bytes (after trimming): anything longer is refused
/// before it is looked at.
pub const MAX_DIAL_LEN: usize = 64;

/// The fewest digits of a short id, PIN prefix included: 5 (§2.3: "5 or more digits long").
pub const MIN_SHORT_ID_LEN: usize = 5;

/// The most digits of a short id, PIN prefix included: 20 (meet-sim's limit too).
pub const MAX_SHORT_ID_LEN: usize = 20;

/// A meeting the caller dialled: the key that `resolve` looks up.
///
/// `Display` prints the id as the backend takes it (and as [`DialString::parse`] takes it
/// back): the code, the long id's digits, or the short id's prefix and digits run together.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DialString {
    /// A meeting code, `abc-defg-hij`: lower-case, with dashes.
    MeetingCode(String),
    /// A long numeric meeting id: [`MeetProfile::long_id_len`] digits.
    LongId(String),
    /// A legacy short numeric id: the organisation's PIN prefix, then the meeting's digits.
    ShortId {
        /// The PIN prefix ([`MeetProfile::short_id_prefix`]).
        prefix: String,
        /// The digits after the prefix (at least one).
        digits: String,
    },
}

/// Why a dial string names no meeting. Every variant is a caller mistake, answered as
/// "not found" ([`DialError::outcome`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// Nothing was dialled (or only spaces).
    #[error("the dial string is empty")]
    Empty,
    /// Longer than [`MAX_DIAL_LEN`] bytes.
    #[error("the dial string is {len} bytes long, over the {max}-byte limit")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// [`MAX_DIAL_LEN`].
        max: usize,
    },
    /// A character that is in no meeting code or id (only ASCII letters, digits, `-` and
    /// spaces are).
    #[error(
        "the dial string has {ch:?} at byte {at}: only letters, digits, '-' and spaces may be dialled"
    )]
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its byte offset in the trimmed input.
        at: usize,
    },
    /// Letters, but not a meeting code.
    #[error("not a meeting code: a code is 3-4-3 letters, like abc-defg-hij")]
    NotAMeetingCode,
    /// Digits, but neither a long id nor a short id.
    #[error(
        "{digits} digits: a long meeting id has {long_id_len}{}",
        short_id_rule(short_id_prefix.as_deref())
    )]
    BadNumericId {
        /// How many digits were dialled.
        digits: usize,
        /// [`MeetProfile::long_id_len`].
        long_id_len: u8,
        /// [`MeetProfile::short_id_prefix`].
        short_id_prefix: Option<String>,
    },
    /// Separators (`-`, spaces) at the start or end, or two in a row.
    #[error("misplaced '-' or space in a numeric meeting id")]
    MisplacedSeparator,
}

fn short_id_rule(prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => format!(
            ", a short id starts with the PIN prefix {prefix} and has \
             {MIN_SHORT_ID_LEN} to {MAX_SHORT_ID_LEN} digits"
        ),
        None => ", and short ids are not accepted (no PIN prefix configured)".to_owned(),
    }
}

impl DialError {
    /// The outcome of a call whose dial string is refused: [`SessionOutcome::NotFound`], as
    /// for an id that resolves to nothing.
    pub fn outcome(&self) -> SessionOutcome {
        SessionOutcome::NotFound
    }
}

impl DialString {
    /// Parses what the caller dialled under `profile`'s rules (see the module docs).
    /// Surrounding whitespace is ignored; nothing else is guessed.
    pub fn parse(text: &str, profile: &MeetProfile) -> Result<Self, DialError> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            return Err(DialError::Empty);
        }
        if text.len() > MAX_DIAL_LEN {
            return Err(DialError::TooLong {
                len: text.len(),
                max: MAX_DIAL_LEN,
            });
        }
        if let Some((at, ch)) = text
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-' || c == ' '))
        {
            return Err(DialError::InvalidCharacter { ch, at });
        }
        if text.bytes().any(|b| b.is_ascii_alphabetic()) {
            meeting_code(text)
                .map(Self::MeetingCode)
                .ok_or(DialError::NotAMeetingCode)
        } else {
            numeric_id(text, profile)
        }
    }

    /// A short name of the kind, for logs and metrics labels: `meeting_code`, `long_id`,
    /// `short_id`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MeetingCode(_) => "meeting_code",
            Self::LongId(_) => "long_id",
            Self::ShortId { .. } => "short_id",
        }
    }
}

impl fmt::Display for DialString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MeetingCode(code) => f.write_str(code),
            Self::LongId(digits) => f.write_str(digits),
            Self::ShortId { prefix, digits } => write!(f, "{prefix}{digits}"),
        }
    }
}

/// `text` (ASCII letters, digits, `-`, spaces) as a lower-case `abc-defg-hij`, from the
/// dashed form or the ten letters alone.
fn meeting_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let letters = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_lowercase());
    let parts: Vec<&str> = lower.split('-').collect();
    match parts.as_slice() {
        [a, b, c] if letters(a, 3) && letters(b, 4) && letters(c, 3) => Some(lower),
        [all] if letters(all, 10) => Some(format!("{}-{}-{}", &all[..3], &all[3..7], &all[7..])),
        _ => None,
    }
}

/// `text` (digits, `-`, spaces) as a long or short id.
fn numeric_id(text: &str, profile: &MeetProfile) -> Result<DialString, DialError> {
    // Separators only between digits, one at a time: "123 456" yes, "-123", "1--2" no.
    let groups: Vec<&str> = text.split(['-', ' ']).collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Err(DialError::MisplacedSeparator);
    }
    let digits: String = groups.concat();
    if digits.len() == usize::from(profile.long_id_len) {
        return Ok(DialString::LongId(digits));
    }
    if let Some(prefix) = profile.short_id_prefix.as_deref()
        && !prefix.is_empty()
        && digits.len() > prefix.len()
        && (MIN_SHORT_ID_LEN..=MAX_SHORT_ID_LEN).contains(&digits.len())
        && let Some(rest) = digits.strip_prefix(prefix)
    {
        return Ok(DialString::ShortId {
            prefix: prefix.to_owned(),
            digits: rest.to_owned(),
        });
    }
    Err(DialError::BadNumericId {
        digits: digits.len(),
        long_id_len: profile.long_id_len,
        short_id_prefix: profile.short_id_prefix.clone(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn parse(text: &str) -> Result<DialString, DialError> {
        DialString::parse(text, &MeetProfile::default())
    }

    fn code(text: &str) -> DialString {
        DialString::MeetingCode(text.to_owned())
    }

    #[test]
    fn meeting_codes_are_case_insensitive_and_normalised() {
        assert_eq!(parse("abc-defg-hij"), Ok(code("abc-defg-hij")));
        assert_eq!(parse("ABC-DeFg-hiJ"), Ok(code("abc-defg-hij")));
        assert_eq!(parse("  abcdefghij\t"), Ok(code("abc-defg-hij")));
        assert_eq!(parse("ABCDEFGHIJ").unwrap().to_string(), "abc-defg-hij");
        assert_eq!(parse("abc-defg-hij").unwrap().kind(), "meeting_code");
    }

    #[test]
    fn long_ids_have_the_profile_length() {
        let long = DialString::LongId("1234567890123".into());
        assert_eq!(parse("1234567890123"), Ok(long.clone()));
        assert_eq!(parse("123 4567 890 123"), Ok(long.clone()));
        assert_eq!(parse("123-4567-890-123"), Ok(long.clone()));
        assert_eq!(long.to_string(), "1234567890123");
        assert_eq!(long.kind(), "long_id");
        // Another length is another profile's long id.
        let ten = MeetProfile {
            long_id_len: 10,
            ..MeetProfile::default()
        };
        assert_eq!(
            DialString::parse("1234567890", &ten),
            Ok(DialString::LongId("1234567890".into()))
        );
        assert!(matches!(
            DialString::parse("1234567890123", &ten),
            Err(DialError::BadNumericId {
                digits: 13,
                long_id_len: 10,
                ..
            })
        ));
    }

    #[test]
    fn short_ids_need_the_configured_prefix() {
        let profile = MeetProfile::default().with_short_id_prefix("777");
        let short = DialString::parse("7771234", &profile).unwrap();
        assert_eq!(
            short,
            DialString::ShortId {
                prefix: "777".into(),
                digits: "1234".into()
            }
        );
        assert_eq!(
            (short.to_string().as_str(), short.kind()),
            ("7771234", "short_id")
        );
        // 13 digits starting with the prefix: a long id wins.
        assert_eq!(
            DialString::parse("7771234567890", &profile),
            Ok(DialString::LongId("7771234567890".into()))
        );
        for bad in ["6661234", "777", "7771", "777123456789012345678"] {
            let err = DialString::parse(bad, &profile).unwrap_err();
            assert!(
                matches!(err, DialError::BadNumericId { .. }),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains("PIN prefix 777"), "{err}");
        }
        // Without a prefix, short ids are off.
        let err = parse("7771234").unwrap_err();
        assert_eq!(
            err.to_string(),
            "7 digits: a long meeting id has 13, and short ids are not accepted \
             (no PIN prefix configured)"
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(parse(""), Err(DialError::Empty));
        assert_eq!(parse(" \t "), Err(DialError::Empty));
        assert_eq!(
            parse(&"1".repeat(65)),
            Err(DialError::TooLong { len: 65, max: 64 })
        );
        assert_eq!(
            parse("abc-defg-hij@meet.example"),
            Err(DialError::InvalidCharacter { ch: '@', at: 12 })
        );
        assert_eq!(
            parse("+1234567890123"),
            Err(DialError::InvalidCharacter { ch: '+', at: 0 })
        );
        assert_eq!(
            parse("abc-défg-hij"),
            Err(DialError::InvalidCharacter { ch: 'é', at: 5 })
        );
        for bad in [
            "abc-defg-hi",
            "abcd-efg-hij",
            "abc-defg-hi1",
            "abc defg hij",
            "ab-cdefghij",
        ] {
            assert_eq!(parse(bad), Err(DialError::NotAMeetingCode), "{bad}");
        }
        for bad in [
            "-1234567890123",
            "1234567890123-",
            "123--4567890123",
            "123  4567890123",
        ] {
            assert_eq!(parse(bad), Err(DialError::MisplacedSeparator), "{bad}");
        }
        assert!(matches!(
            parse("123456789012"),
            Err(DialError::BadNumericId { digits: 12, .. })
        ));
        assert_eq!(parse("nope").unwrap_err().outcome().sip_status(), 404);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let profile = MeetProfile::default().with_short_id_prefix("42");
            if let Ok(dial) = DialString::parse(&text, &profile) {
                // Whatever parses prints a form that parses back to itself.
                prop_assert_eq!(DialString::parse(&dial.to_string(), &profile), Ok(dial));
            }
        }

        #[test]
        fn parse_never_panics_on_near_misses(text in "[a-zA-Z0-9 \\-]{0,20}") {
            let _ = parse(&text);
        }

        #[test]
        fn meeting_codes_round_trip(
            a in "[a-zA-Z]{3}",
            b in "[a-zA-Z]{4}",
            c in "[a-zA-Z]{3}",
            dashes in any::<bool>(),
        ) {
            let text = if dashes { format!("{a}-{b}-{c}") } else { format!("{a}{b}{c}") };
            let expected = format!("{a}-{b}-{c}").to_ascii_lowercase();
            let dial = parse(&text).unwrap();
            prop_assert_eq!(&dial, &code(&expected));
            let printed = dial.to_string();
            prop_assert_eq!(printed.as_str(), expected.as_str());
            prop_assert_eq!(parse(&expected), Ok(dial));
        }

        #[test]
        fn long_ids_round_trip(digits in "[0-9]{13}") {
            let dial = parse(&digits).unwrap();
            prop_assert_eq!(&dial, &DialString::LongId(digits.clone()));
            prop_assert_eq!(dial.to_string(), digits);
        }
    }
}
