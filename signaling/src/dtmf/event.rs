//! The typed DTMF event every source produces, and the RFC 4733 §3.2 event-code table.

use std::time::Duration;

/// Where a DTMF digit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DtmfSource {
    /// An RFC 4733 telephone event in the RTP stream.
    Rfc4733,
    /// A SIP INFO request (`application/dtmf-relay` or `application/dtmf`).
    SipInfo,
}

/// One key press.
///
/// It carries no timestamp: it is produced inside a `handle_*` call, whose `now` is the time
/// the event became known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfEvent {
    /// `0`–`9`, `*`, `#` or `A`–`D` (upper case).
    pub digit: char,
    /// How long the key was held: from the RFC 4733 duration field, or the INFO body's
    /// `Duration=` (a default when absent).
    pub duration: Duration,
    /// Which signalling path carried it.
    pub source: DtmfSource,
}

/// The DTMF digit for an RFC 4733 §3.2 event code: 0–9 are the digits, 10 is `*`, 11 is `#`,
/// 12–15 are `A`–`D`. Other codes (16 is flash, 32+ are tones) are not DTMF digits: `None`.
#[must_use]
pub fn event_to_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + (code - 12))),
        _ => None,
    }
}

/// The RFC 4733 §3.2 event code for a DTMF digit, the inverse of [`event_to_digit`]. `a`–`d` are
/// accepted as `A`–`D`.
#[must_use]
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => u8::try_from(u32::from(digit) - u32::from('0')).ok(),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => u8::try_from(u32::from(digit) - u32::from('A') + 12).ok(),
        'a'..='d' => u8::try_from(u32::from(digit) - u32::from('a') + 12).ok(),
        _ => None,
    }
}
