//! CSeq values (RFC 3261 §8.1.1.5, §20.16).

use std::fmt;
use std::str::FromStr;

use crate::sip::message::error::{ParseError, ParseErrorKind};
use crate::sip::message::grammar::parse_digits;
use crate::sip::message::method::Method;

/// `CSeq: 1*DIGIT LWS Method`. The number must fit 32 bits (RFC 3261 §8.1.1.5; larger values
/// make the message malformed, RFC 4475 §3.1.2.4 `scalar02` and §3.1.2.5 `scalarlg`).
/// Requests we originate keep it below 2**31 as §8.1.1.5 asks; that is up to their builder.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CSeq {
    /// The sequence number.
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl FromStr for CSeq {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |detail: String| ParseError::new(ParseErrorKind::BadCSeq, detail);
        let s = s.trim_matches([' ', '\t']);
        let (digits, method) = s
            .split_once([' ', '\t'])
            .ok_or_else(|| err(format!("CSeq {s:?} has no method")))?;
        let seq = parse_digits(digits)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| err(format!("CSeq number {digits:?} is not a 32-bit integer")))?;
        let method = method.trim_start_matches([' ', '\t']);
        let method = method
            .parse::<Method>()
            .map_err(|_| err(format!("CSeq method {method:?} is not a token")))?;
        Ok(Self { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let c: CSeq = "0009   INVITE".parse().unwrap();
        assert_eq!((c.seq, &c.method), (9, &Method::Invite));
        assert_eq!(c.to_string(), "9 INVITE");
        assert_eq!("4294967295 ACK".parse::<CSeq>().unwrap().seq, u32::MAX);
        for bad in [
            "4294967296 ACK",
            "36893488147419103232 REGISTER",
            "1",
            "x INVITE",
            "1 INVITE x",
            "-1 INVITE",
        ] {
            assert!(bad.parse::<CSeq>().is_err(), "{bad}");
        }
    }
}
