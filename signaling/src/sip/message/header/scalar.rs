//! Checks of scalar and single-word header values: Call-ID, Max-Forwards, Content-Length,
//! delta-seconds (Expires).

use crate::sip::message::grammar::{is_word_char, parse_digits};

/// `callid = word [ "@" word ]` (RFC 3261 §25.1).
pub(crate) fn check_call_id(value: &str) -> Result<(), String> {
    let (left, right) = match value.split_once('@') {
        Some((left, right)) => (left, Some(right)),
        None => (value, None),
    };
    let is_word = |w: &str| !w.is_empty() && w.bytes().all(is_word_char);
    if is_word(left) && right.is_none_or(is_word) {
        Ok(())
    } else {
        Err(format!("Call-ID {value:?} is not word[@word]"))
    }
}

/// `Max-Forwards: 1*DIGIT`, 0 to 255 (RFC 3261 §20.22, §25.1).
pub(crate) fn parse_max_forwards(value: &str) -> Result<u8, String> {
    parse_digits(value)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| format!("Max-Forwards {value:?} is not an integer in 0..=255"))
}

/// `Content-Length: 1*DIGIT` (RFC 3261 §20.14).
pub(crate) fn parse_content_length(value: &str) -> Result<usize, String> {
    parse_digits(value)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("Content-Length {value:?} is not a non-negative integer"))
}

/// `delta-seconds = 1*DIGIT` within 32 bits (RFC 3261 §20.19: "between 0 and (2**32)-1").
pub(crate) fn parse_delta_seconds(value: &str) -> Result<u32, String> {
    parse_digits(value)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("{value:?} is not a 32-bit number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert!(check_call_id("a@b").is_ok());
        assert!(check_call_id("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{").is_ok());
        assert!(check_call_id("a b").is_err());
        assert!(check_call_id("a@b@c").is_err());
        assert!(check_call_id("@b").is_err());
        assert_eq!(parse_max_forwards("0068"), Ok(68));
        assert!(parse_max_forwards("300").is_err());
        assert!(parse_content_length("-999").is_err());
        assert_eq!(parse_delta_seconds("3600"), Ok(3600));
        assert!(parse_delta_seconds("10000000000").is_err());
    }
}
