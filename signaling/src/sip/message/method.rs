//! SIP request methods (RFC 3261 §7.1, §25.1 `Method`).

use std::fmt;
use std::str::FromStr;

use super::error::{ParseError, ParseErrorKind};
use super::grammar::is_token;

/// A request method. Methods are case-sensitive tokens (RFC 3261 §7.1): `invite` is an
/// extension method, not [`Method::Invite`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE (RFC 3261 §13).
    Invite,
    /// ACK (RFC 3261 §13.2.2.4, §17.1.1.3).
    Ack,
    /// BYE (RFC 3261 §15).
    Bye,
    /// CANCEL (RFC 3261 §9).
    Cancel,
    /// OPTIONS (RFC 3261 §11).
    Options,
    /// REGISTER (RFC 3261 §10).
    Register,
    /// INFO (RFC 6086).
    Info,
    /// MESSAGE (RFC 3428).
    Message,
    /// UPDATE (RFC 3311).
    Update,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// REFER (RFC 3515).
    Refer,
    /// PUBLISH (RFC 3903).
    Publish,
    /// Any other method token (RFC 3261 §25.1 `extension-method`). Build it with
    /// [`str::parse`] so that a standard name never lands here.
    Extension(String),
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Invite => "INVITE",
            Self::Ack => "ACK",
            Self::Bye => "BYE",
            Self::Cancel => "CANCEL",
            Self::Options => "OPTIONS",
            Self::Register => "REGISTER",
            Self::Info => "INFO",
            Self::Message => "MESSAGE",
            Self::Update => "UPDATE",
            Self::Prack => "PRACK",
            Self::Subscribe => "SUBSCRIBE",
            Self::Notify => "NOTIFY",
            Self::Refer => "REFER",
            Self::Publish => "PUBLISH",
            Self::Extension(name) => name,
        }
    }
}

impl FromStr for Method {
    type Err = ParseError;

    /// Parses a method token; any valid token other than the standard names becomes
    /// [`Method::Extension`].
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Ok(match s {
            "INVITE" => Self::Invite,
            "ACK" => Self::Ack,
            "BYE" => Self::Bye,
            "CANCEL" => Self::Cancel,
            "OPTIONS" => Self::Options,
            "REGISTER" => Self::Register,
            "INFO" => Self::Info,
            "MESSAGE" => Self::Message,
            "UPDATE" => Self::Update,
            "PRACK" => Self::Prack,
            "SUBSCRIBE" => Self::Subscribe,
            "NOTIFY" => Self::Notify,
            "REFER" => Self::Refer,
            "PUBLISH" => Self::Publish,
            other if is_token(other) => Self::Extension(other.to_owned()),
            other => {
                return Err(ParseError::new(
                    ParseErrorKind::BadMethod,
                    format!("method {other:?} is not a token"),
                ));
            }
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!("INVITE".parse::<Method>().unwrap(), Method::Invite);
        assert_eq!(
            "invite".parse::<Method>().unwrap(),
            Method::Extension("invite".into())
        );
        assert_eq!(
            "RE%47IST%45R".parse::<Method>().unwrap().as_str(),
            "RE%47IST%45R"
        );
        assert!("IN VITE".parse::<Method>().is_err());
        assert!("".parse::<Method>().is_err());
        assert_eq!(Method::Prack.to_string(), "PRACK");
    }
}
