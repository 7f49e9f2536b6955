//! Response status codes (RFC 3261 §7.2, §21) and their canonical reason phrases.

use std::fmt;

/// A response status code, always in `100..=699` (RFC 3261 §7.2: the first digit is the class;
/// RFC 4475 §3.1.2.19 `bigcode`: anything longer than three digits is malformed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

impl StatusCode {
    /// The code if it is in `100..=699`.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 100 && code <= 699 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// The numeric code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The class, the first digit: 1 (provisional) to 6 (global failure).
    pub const fn class(self) -> u8 {
        // 100..=699 / 100 is 1..=6, which fits a u8.
        (self.0 / 100) as u8
    }

    /// 1xx (RFC 3261 §21.1).
    pub const fn is_provisional(self) -> bool {
        self.class() == 1
    }

    /// 2xx (RFC 3261 §21.2).
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }

    /// 2xx to 6xx: the response ends the client transaction (RFC 3261 §17.1).
    pub const fn is_final(self) -> bool {
        !self.is_provisional()
    }

    /// The canonical reason phrase, or `"Unknown"` for a code without one.
    pub fn reason(self) -> &'static str {
        canonical_reason(self.0).unwrap_or("Unknown")
    }
}

impl TryFrom<u16> for StatusCode {
    type Error = u16;

    /// Accepts `100..=699`; gives the rejected value back otherwise.
    fn try_from(code: u16) -> Result<Self, u16> {
        Self::new(code).ok_or(code)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Declares the named status codes and the reason-phrase table from one list.
macro_rules! status_codes {
    ($( $(#[$doc:meta])* ($code:literal, $name:ident, $phrase:literal); )*) => {
        impl StatusCode {
            $(
                $(#[$doc])*
                pub const $name: Self = Self($code);
            )*
        }

        fn canonical_reason(code: u16) -> Option<&'static str> {
            match code {
                $( $code => Some($phrase), )*
                _ => None,
            }
        }
    };
}

status_codes! {
    /// 100 Trying (RFC 3261 §21.1.1).
    (100, TRYING, "Trying");
    /// 180 Ringing (RFC 3261 §21.1.2).
    (180, RINGING, "Ringing");
    /// 181 Call Is Being Forwarded (RFC 3261 §21.1.3).
    (181, CALL_IS_BEING_FORWARDED, "Call Is Being Forwarded");
    /// 182 Queued (RFC 3261 §21.1.4).
    (182, QUEUED, "Queued");
    /// 183 Session Progress (RFC 3261 §21.1.5).
    (183, SESSION_PROGRESS, "Session Progress");
    /// 199 Early Dialog Terminated (RFC 6228).
    (199, EARLY_DIALOG_TERMINATED, "Early Dialog Terminated");
    /// 200 OK (RFC 3261 §21.2.1).
    (200, OK, "OK");
    /// 202 Accepted (RFC 3265; deprecated by RFC 6665, still seen in answers to REFER).
    (202, ACCEPTED, "Accepted");
    /// 204 No Notification (RFC 5839).
    (204, NO_NOTIFICATION, "No Notification");
    /// 300 Multiple Choices (RFC 3261 §21.3.1).
    (300, MULTIPLE_CHOICES, "Multiple Choices");
    /// 301 Moved Permanently (RFC 3261 §21.3.2).
    (301, MOVED_PERMANENTLY, "Moved Permanently");
    /// 302 Moved Temporarily (RFC 3261 §21.3.3).
    (302, MOVED_TEMPORARILY, "Moved Temporarily");
    /// 305 Use Proxy (RFC 3261 §21.3.4).
    (305, USE_PROXY, "Use Proxy");
    /// 380 Alternative Service (RFC 3261 §21.3.5).
    (380, ALTERNATIVE_SERVICE, "Alternative Service");
    /// 400 Bad Request (RFC 3261 §21.4.1).
    (400, BAD_REQUEST, "Bad Request");
    /// 401 Unauthorized (RFC 3261 §21.4.2).
    (401, UNAUTHORIZED, "Unauthorized");
    /// 402 Payment Required (RFC 3261 §21.4.3).
    (402, PAYMENT_REQUIRED, "Payment Required");
    /// 403 Forbidden (RFC 3261 §21.4.4).
    (403, FORBIDDEN, "Forbidden");
    /// 404 Not Found (RFC 3261 §21.4.5).
    (404, NOT_FOUND, "Not Found");
    /// 405 Method Not Allowed (RFC 3261 §21.4.6).
    (405, METHOD_NOT_ALLOWED, "Method Not Allowed");
    /// 406 Not Acceptable (RFC 3261 §21.4.7).
    (406, NOT_ACCEPTABLE, "Not Acceptable");
    /// 407 Proxy Authentication Required (RFC 3261 §21.4.8).
    (407, PROXY_AUTHENTICATION_REQUIRED, "Proxy Authentication Required");
    /// 408 Request Timeout (RFC 3261 §21.4.9).
    (408, REQUEST_TIMEOUT, "Request Timeout");
    /// 410 Gone (RFC 3261 §21.4.10).
    (410, GONE, "Gone");
    /// 412 Conditional Request Failed (RFC 3903).
    (412, CONDITIONAL_REQUEST_FAILED, "Conditional Request Failed");
    /// 413 Request Entity Too Large (RFC 3261 §21.4.11).
    (413, REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large");
    /// 414 Request-URI Too Long (RFC 3261 §21.4.12).
    (414, REQUEST_URI_TOO_LONG, "Request-URI Too Long");
    /// 415 Unsupported Media Type (RFC 3261 §21.4.13).
    (415, UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type");
    /// 416 Unsupported URI Scheme (RFC 3261 §21.4.14).
    (416, UNSUPPORTED_URI_SCHEME, "Unsupported URI Scheme");
    /// 420 Bad Extension (RFC 3261 §21.4.15).
    (420, BAD_EXTENSION, "Bad Extension");
    /// 421 Extension Required (RFC 3261 §21.4.16).
    (421, EXTENSION_REQUIRED, "Extension Required");
    /// 422 Session Interval Too Small (RFC 4028 §6).
    (422, SESSION_INTERVAL_TOO_SMALL, "Session Interval Too Small");
    /// 423 Interval Too Brief (RFC 3261 §21.4.17).
    (423, INTERVAL_TOO_BRIEF, "Interval Too Brief");
    /// 480 Temporarily Unavailable (RFC 3261 §21.4.18).
    (480, TEMPORARILY_UNAVAILABLE, "Temporarily Unavailable");
    /// 481 Call/Transaction Does Not Exist (RFC 3261 §21.4.19).
    (481, CALL_TRANSACTION_DOES_NOT_EXIST, "Call/Transaction Does Not Exist");
    /// 482 Loop Detected (RFC 3261 §21.4.20).
    (482, LOOP_DETECTED, "Loop Detected");
    /// 483 Too Many Hops (RFC 3261 §21.4.21).
    (483, TOO_MANY_HOPS, "Too Many Hops");
    /// 484 Address Incomplete (RFC 3261 §21.4.22).
    (484, ADDRESS_INCOMPLETE, "Address Incomplete");
    /// 485 Ambiguous (RFC 3261 §21.4.23).
    (485, AMBIGUOUS, "Ambiguous");
    /// 486 Busy Here (RFC 3261 §21.4.24).
    (486, BUSY_HERE, "Busy Here");
    /// 487 Request Terminated (RFC 3261 §21.4.25).
    (487, REQUEST_TERMINATED, "Request Terminated");
    /// 488 Not Acceptable Here (RFC 3261 §21.4.26).
    (488, NOT_ACCEPTABLE_HERE, "Not Acceptable Here");
    /// 489 Bad Event (RFC 6665).
    (489, BAD_EVENT, "Bad Event");
    /// 491 Request Pending (RFC 3261 §21.4.27).
    (491, REQUEST_PENDING, "Request Pending");
    /// 493 Undecipherable (RFC 3261 §21.4.28).
    (493, UNDECIPHERABLE, "Undecipherable");
    /// 500 Server Internal Error (RFC 3261 §21.5.1).
    (500, SERVER_INTERNAL_ERROR, "Server Internal Error");
    /// 501 Not Implemented (RFC 3261 §21.5.2).
    (501, NOT_IMPLEMENTED, "Not Implemented");
    /// 502 Bad Gateway (RFC 3261 §21.5.3).
    (502, BAD_GATEWAY, "Bad Gateway");
    /// 503 Service Unavailable (RFC 3261 §21.5.4).
    (503, SERVICE_UNAVAILABLE, "Service Unavailable");
    /// 504 Server Time-out (RFC 3261 §21.5.5).
    (504, SERVER_TIMEOUT, "Server Time-out");
    /// 505 Version Not Supported (RFC 3261 §21.5.6).
    (505, VERSION_NOT_SUPPORTED, "Version Not Supported");
    /// 513 Message Too Large (RFC 3261 §21.5.7).
    (513, MESSAGE_TOO_LARGE, "Message Too Large");
    /// 580 Precondition Failure (RFC 3312).
    (580, PRECONDITION_FAILURE, "Precondition Failure");
    /// 600 Busy Everywhere (RFC 3261 §21.6.1).
    (600, BUSY_EVERYWHERE, "Busy Everywhere");
    /// 603 Decline (RFC 3261 §21.6.2).
    (603, DECLINE, "Decline");
    /// 604 Does Not Exist Anywhere (RFC 3261 §21.6.3).
    (604, DOES_NOT_EXIST_ANYWHERE, "Does Not Exist Anywhere");
    /// 606 Not Acceptable (RFC 3261 §21.6.4).
    (606, NOT_ACCEPTABLE_ANYWHERE, "Not Acceptable");
    /// 607 Unwanted (RFC 8197).
    (607, UNWANTED, "Unwanted");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_phrases() {
        assert_eq!(StatusCode::new(99), None);
        assert_eq!(StatusCode::new(700), None);
        let ok = StatusCode::OK;
        assert!(ok.is_success() && ok.is_final() && !ok.is_provisional());
        assert_eq!(ok.class(), 2);
        assert!(StatusCode::TRYING.is_provisional());
        assert_eq!(StatusCode::SESSION_INTERVAL_TOO_SMALL.code(), 422);
        assert_eq!(StatusCode::MESSAGE_TOO_LARGE.reason(), "Message Too Large");
        assert_eq!(
            StatusCode::new(499).map(StatusCode::reason),
            Some("Unknown")
        );
        assert_eq!(StatusCode::try_from(42), Err(42));
    }
}
