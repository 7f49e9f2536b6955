//! How close the gateway's credential (certificate or enrolled key) is to expiring, for the
//! `/status` alarm.

use std::time::{Duration, SystemTime};

/// Warn this long before the credential expires, unless configured otherwise: 30 days.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);

const DAY_S: u64 = 24 * 60 * 60;

/// Where a credential stands relative to its expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialStatus {
    /// More than the warning threshold left.
    Ok,
    /// Not expired, but the threshold or less left: renew it.
    Expiring {
        /// Whole days left, rounded down (0 on the last day).
        days_left: u64,
    },
    /// At or past its expiry.
    Expired,
}

impl CredentialStatus {
    /// `ok`, `expiring` or `expired`, for `/status` and metric labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring { .. } => "expiring",
            Self::Expired => "expired",
        }
    }
}

/// The status of a credential that is valid until `not_after`, at `now`, warning once
/// `warn_before` or less is left ([`DEFAULT_EXPIRY_WARNING`] by default).
pub fn credential_status(
    not_after: SystemTime,
    now: SystemTime,
    warn_before: Duration,
) -> CredentialStatus {
    match not_after.duration_since(now) {
        Ok(left) if left.is_zero() => CredentialStatus::Expired,
        Ok(left) if left <= warn_before => CredentialStatus::Expiring {
            days_left: left.as_secs() / DAY_S,
        },
        Ok(_) => CredentialStatus::Ok,
        Err(_) => CredentialStatus::Expired,
    }
}
