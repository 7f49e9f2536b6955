//! Fault injection (meet-side.md §5.b control API: `delayAnswerMs`, `dropChannel`,
//! `failConnect`, `expireTokensNow`).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::SimModel;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::time::unix_ms;

/// `failConnect`: answer connects with this error (§5.b "fault injection").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailConnect {
    /// The google.rpc status name, e.g. `RESOURCE_EXHAUSTED`.
    pub status: String,
    /// The `ErrorInfo.reason`, e.g. `CONNECTIONS_EXHAUSTED`.
    pub reason: String,
    /// How many connects to fail; `None` until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// The faults in force (§5.b: `delayAnswerMs`, `dropChannel`, `failConnect`,
/// `expireTokensNow`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Delay every connect answer by this much; the HTTP layer applies it.
    pub delay_answer_ms: u64,
    /// A data-channel label whose messages never go on the wire (they are still produced and
    /// kept in the mailbox); the HTTP layer applies it when it hands messages to the media
    /// plane.
    pub drop_channel: Option<String>,
    /// Fail connects with this error.
    pub fail_connect: Option<FailConnect>,
    /// Gateway tokens issued (`iat`) at or before this second are refused as expired: set
    /// by `expireTokensNow`.
    pub tokens_expired_up_to_unix_s: Option<u64>,
    /// The media plane neither receives nor sends anything (`blackholeMedia`): to every
    /// peer the simulator is unreachable, as after a crash or a network cut, while its
    /// control API still answers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub blackhole_media: bool,
    /// Answers carry a DTLS fingerprint that is not the simulator's (`badFingerprint`): the
    /// peer's DTLS handshake fails.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bad_fingerprint: bool,
}

/// The media faults of [`Faults`]: `blackholeMedia` and `badFingerprint`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaFaults {
    /// [`Faults::blackhole_media`].
    pub blackhole: bool,
    /// [`Faults::bad_fingerprint`].
    pub bad_fingerprint: bool,
}

impl SimModel {
    /// The faults in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the faults. `expire_tokens_now` sets
    /// [`Faults::tokens_expired_up_to_unix_s`] to `now`.
    pub fn set_faults(
        &mut self,
        delay_answer_ms: u64,
        drop_channel: Option<String>,
        fail_connect: Option<FailConnect>,
        expire_tokens_now: bool,
        media: MediaFaults,
        now: SystemTime,
    ) -> Result<Faults, SimError> {
        let now = self.step(now);
        if let Some(fail) = &fail_connect
            && RpcCode::from_name(&fail.status).is_none()
        {
            return Err(SimError::bad_request(format!(
                "failConnect.status {:?} is not a status the sim answers",
                fail.status
            )));
        }
        let expired_up_to = if expire_tokens_now {
            Some(unix_ms(now) / 1000)
        } else {
            self.faults.tokens_expired_up_to_unix_s
        };
        self.faults = Faults {
            delay_answer_ms,
            drop_channel,
            fail_connect,
            tokens_expired_up_to_unix_s: expired_up_to,
            blackhole_media: media.blackhole,
            bad_fingerprint: media.bad_fingerprint,
        };
        self.log_faults(now);
        Ok(self.faults.clone())
    }

    /// Clears every fault.
    pub fn clear_faults(&mut self, now: SystemTime) {
        let now = self.step(now);
        self.faults = Faults::default();
        self.log_faults(now);
    }

    fn log_faults(&mut self, now: SystemTime) {
        let faults = serde_json::to_value(&self.faults).unwrap_or_default();
        self.events.push(now, EventKind::FaultsChanged { faults });
    }

    /// Fails the request if `failConnect` is in force (counting down `times`).
    pub(super) fn injected_failure(&mut self) -> Result<(), SimError> {
        let Some(fail) = self.faults.fail_connect.as_mut() else {
            return Ok(());
        };
        let code = RpcCode::from_name(&fail.status).unwrap_or(RpcCode::Unavailable);
        let err = SimError::new(code, &fail.reason, "injected failure (failConnect)");
        let used_up = match &mut fail.times {
            Some(n) if *n <= 1 => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        };
        if used_up {
            self.faults.fail_connect = None;
        }
        Err(err)
    }
}
