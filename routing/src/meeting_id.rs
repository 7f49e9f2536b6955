//! Meeting identifiers: what in an alias names a Google Meet conference.
//!
//! - Meet long numeric IDs: 13 digits by default (`1234567890123`), the length configurable.
//! - Meet meeting codes: three groups of lowercase letters, `abc-defg-hij`; also recognised
//!   without hyphens (`abcdefghij`) or in capitals, and normalised to the hyphenated form.
//! - Short IDs: a configured prefix followed by a configured number of digits (e.g. prefix `88`
//!   and 6 digits: `88123456`), for dial plans that hand out shorter numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// `[routing.meeting_ids]`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MeetingIdConfig {
    /// Digits in a Meet numeric meeting ID. Default 13.
    pub numeric_length: usize,
    /// Prefix of short IDs; none by default (short IDs off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_prefix: Option<String>,
    /// Digits after `short_prefix` in a short ID. Default 6.
    pub short_length: usize,
}

impl Default for MeetingIdConfig {
    fn default() -> Self {
        Self {
            numeric_length: 13,
            short_prefix: None,
            short_length: 6,
        }
    }
}

impl MeetingIdConfig {
    /// Checks the lengths and the prefix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        const ITEM: &str = "routing.meeting_ids";
        if !(6..=20).contains(&self.numeric_length) {
            return Err(ConfigError::new(
                ITEM,
                "numeric_length",
                "must be from 6 to 20 digits",
            ));
        }
        if !(1..=15).contains(&self.short_length) {
            return Err(ConfigError::new(
                ITEM,
                "short_length",
                "must be from 1 to 15 digits",
            ));
        }
        if let Some(prefix) = &self.short_prefix {
            if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit()) {
                return Err(ConfigError::new(
                    ITEM,
                    "short_prefix",
                    "must be one or more digits",
                ));
            }
            if prefix.len() + self.short_length == self.numeric_length {
                return Err(ConfigError::new(
                    ITEM,
                    "short_prefix",
                    "short IDs would be as long as numeric IDs, so the two could not be told apart",
                ));
            }
        }
        Ok(())
    }
}

/// A recognised meeting identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum MeetingId {
    /// A Meet numeric ID.
    Numeric(String),
    /// A Meet meeting code, hyphenated and lowercase.
    Code(String),
    /// A short ID: the digits after the prefix.
    Short(String),
}

impl MeetingId {
    /// Recognises the meeting identifier in an alias or its user part (`id@domain` looks at
    /// `id`). Returns `None` when the text is not one.
    pub fn recognise(text: &str, config: &MeetingIdConfig) -> Option<Self> {
        let user = text.split_once('@').map_or(text, |(user, _)| user);
        let all_digits = !user.is_empty() && user.chars().all(|c| c.is_ascii_digit());
        if all_digits && user.len() == config.numeric_length {
            return Some(Self::Numeric(user.to_owned()));
        }
        if all_digits
            && let Some(short) = config
                .short_prefix
                .as_deref()
                .and_then(|prefix| user.strip_prefix(prefix))
                .filter(|rest| rest.len() == config.short_length)
        {
            return Some(Self::Short(short.to_owned()));
        }
        meeting_code(user).map(Self::Code)
    }
}

impl fmt::Display for MeetingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Numeric(id) => write!(f, "numeric meeting ID {id}"),
            Self::Code(code) => write!(f, "meeting code {code}"),
            Self::Short(id) => write!(f, "short meeting ID {id}"),
        }
    }
}

/// `abc-defg-hij`, `abcdefghij`, any case → `abc-defg-hij`.
fn meeting_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let letters: String = match lower.len() {
        10 => lower,
        12 if lower.as_bytes()[3] == b'-' && lower.as_bytes()[8] == b'-' => lower.replace('-', ""),
        _ => return None,
    };
    if letters.len() != 10 || !letters.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}",
        &letters[..3],
        &letters[3..7],
        &letters[7..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_kind() {
        let short = MeetingIdConfig {
            short_prefix: Some("88".into()),
            ..MeetingIdConfig::default()
        };
        let cases = [
            (
                "1234567890123",
                Some(MeetingId::Numeric("1234567890123".into())),
            ),
            (
                "1234567890123@example.com",
                Some(MeetingId::Numeric("1234567890123".into())),
            ),
            ("123456789012", None),
            ("abc-defg-hij", Some(MeetingId::Code("abc-defg-hij".into()))),
            (
                "ABCDEFGHIJ@meet.example.com",
                Some(MeetingId::Code("abc-defg-hij".into())),
            ),
            ("abc-defghij-", None),
            ("abc-defg-hi1", None),
            ("88123456", Some(MeetingId::Short("123456".into()))),
            ("881234567", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(MeetingId::recognise(text, &short), expected, "{text}");
        }
        // without a prefix configured, short IDs are not recognised
        assert_eq!(
            MeetingId::recognise("88123456", &MeetingIdConfig::default()),
            None
        );
        let ten = MeetingIdConfig {
            numeric_length: 10,
            ..MeetingIdConfig::default()
        };
        assert_eq!(
            MeetingId::recognise("1234567890", &ten),
            Some(MeetingId::Numeric("1234567890".into()))
        );
    }

    #[test]
    fn config_checks() {
        assert!(MeetingIdConfig::default().validate().is_ok());
        let bad = MeetingIdConfig {
            short_prefix: Some("8a".into()),
            ..MeetingIdConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "routing.meeting_ids.short_prefix: must be one or more digits"
        );
        let ambiguous = MeetingIdConfig {
            short_prefix: Some("1234567".into()),
            ..MeetingIdConfig::default()
        };
        assert!(ambiguous.validate().is_err());
    }
}
