//! DTMF carried in SIP INFO request bodies.
//!
//! Two body formats are in use; neither is an RFC, and both predate the INFO-package framework
//! (RFC 6086), so they arrive as "legacy" INFO usage identified by Content-Type alone:
//!
//! - `application/dtmf-relay` (Cisco's format, also sent by Polycom, Yealink, Grandstream and
//!   Asterisk): `key=value` lines, of which `Signal=` (the digit) and `Duration=` (milliseconds)
//!   matter. Keys are matched case-insensitively, lines end in CRLF or LF, and spaces around `=`
//!   are allowed. Other keys are ignored.
//! - `application/dtmf`: the body is the digit alone, possibly surrounded by whitespace.
//!
//! In both, the digit is `0`–`9`, `*`, `#` or `A`–`D` (either case), or the RFC 4733 event
//! codes `10` (`*`) and `11` (`#`) some endpoints send instead. A Content-Type with any other
//! media type answers [`DtmfError::UnsupportedContentType`], which the SIP layer answers with 415
//! (RFC 3261 §21.4.13; see [`DtmfError::sip_status`]).

use std::time::Duration;

use thiserror::Error;

use super::event::{DtmfEvent, DtmfSource, digit_to_event, event_to_digit};

/// The duration given to an INFO digit whose body has no usable `Duration=`.
pub const DEFAULT_INFO_DURATION: Duration = Duration::from_millis(250);

/// The longest body read, in bytes; longer bodies are refused ([`DtmfError::BodyTooLong`]).
pub const MAX_INFO_BODY: usize = 1024;

/// A digit read from an INFO body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InfoDtmf {
    /// `0`–`9`, `*`, `#` or `A`–`D` (upper case).
    pub digit: char,
    /// The `Duration=` of an `application/dtmf-relay` body, if it had a valid one.
    pub duration: Option<Duration>,
}

impl InfoDtmf {
    /// The typed event: source [`DtmfSource::SipInfo`], duration as given or
    /// [`DEFAULT_INFO_DURATION`].
    #[must_use]
    pub fn to_event(&self) -> DtmfEvent {
        DtmfEvent {
            digit: self.digit,
            duration: self.duration.unwrap_or(DEFAULT_INFO_DURATION),
            source: DtmfSource::SipInfo,
        }
    }
}

impl From<InfoDtmf> for DtmfEvent {
    fn from(info: InfoDtmf) -> Self {
        info.to_event()
    }
}

/// Why an INFO body is not a DTMF digit.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DtmfError {
    /// The Content-Type is not a DTMF body type: answer 415 Unsupported Media Type.
    #[error(
        "unsupported content type {0:?} for DTMF (expected application/dtmf-relay or application/dtmf)"
    )]
    UnsupportedContentType(String),
    /// The body is longer than [`MAX_INFO_BODY`].
    #[error("DTMF body of {0} bytes is too long")]
    BodyTooLong(usize),
    /// An `application/dtmf-relay` body without a `Signal=` line.
    #[error("dtmf-relay body has no Signal= line")]
    MissingSignal,
    /// The digit is not `0`–`9`, `*`, `#`, `A`–`D`, `10` or `11`.
    #[error("{0:?} is not a DTMF digit")]
    InvalidDigit(String),
}

impl DtmfError {
    /// The SIP status code to answer the INFO with: 415 for an unsupported Content-Type, 400 for
    /// a malformed body.
    #[must_use]
    pub fn sip_status(&self) -> u16 {
        match self {
            Self::UnsupportedContentType(_) => 415,
            Self::BodyTooLong(_) | Self::MissingSignal | Self::InvalidDigit(_) => 400,
        }
    }
}

/// The body formats [`parse_info`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    DtmfRelay,
    Dtmf,
}

/// Reads a DTMF digit from a SIP INFO request's Content-Type header value and body.
///
/// The media type is matched case-insensitively and its parameters (`;charset=…`) are ignored. A
/// `Duration=` that is not a whole number of milliseconds is ignored (the default applies):
/// the digit is what matters.
///
/// # Errors
///
/// [`DtmfError::UnsupportedContentType`] for another media type (→ 415), otherwise a
/// [`DtmfError`] naming what is wrong with the body (→ 400).
pub fn parse_info(content_type: &str, body: &[u8]) -> Result<InfoDtmf, DtmfError> {
    let kind = body_kind(content_type)?;
    if body.len() > MAX_INFO_BODY {
        return Err(DtmfError::BodyTooLong(body.len()));
    }
    let text = String::from_utf8_lossy(body);
    match kind {
        BodyKind::DtmfRelay => parse_relay(&text),
        BodyKind::Dtmf => {
            let trimmed = text.trim();
            // Some endpoints label a dtmf-relay body application/dtmf.
            if trimmed.contains('=') {
                return parse_relay(&text);
            }
            Ok(InfoDtmf {
                digit: parse_digit(trimmed)?,
                duration: None,
            })
        }
    }
}

fn body_kind(content_type: &str) -> Result<BodyKind, DtmfError> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/dtmf-relay") {
        Ok(BodyKind::DtmfRelay)
    } else if media_type.eq_ignore_ascii_case("application/dtmf") {
        Ok(BodyKind::Dtmf)
    } else {
        Err(DtmfError::UnsupportedContentType(media_type.to_owned()))
    }
}

fn parse_relay(text: &str) -> Result<InfoDtmf, DtmfError> {
    let mut digit = None;
    let mut duration = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        if key.eq_ignore_ascii_case("signal") && digit.is_none() {
            digit = Some(parse_digit(value)?);
        } else if key.eq_ignore_ascii_case("duration") && duration.is_none() {
            duration = value
                .parse::<u32>()
                .ok()
                .map(|ms| Duration::from_millis(ms.into()));
        }
    }
    let digit = digit.ok_or(DtmfError::MissingSignal)?;
    Ok(InfoDtmf { digit, duration })
}

/// One digit: a single character, or the event codes `10` and `11`.
fn parse_digit(value: &str) -> Result<char, DtmfError> {
    let invalid = || DtmfError::InvalidDigit(value.chars().take(32).collect());
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => digit_to_event(c)
            .and_then(event_to_digit)
            .ok_or_else(invalid),
        _ => match value {
            "10" => Ok('*'),
            "11" => Ok('#'),
            _ => Err(invalid()),
        },
    }
}
