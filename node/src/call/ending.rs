//! The one table of endings of a gateway call: every way a call into Meet can end, and what
//! each means on the SIP leg (a final response while unanswered, a BYE with a `Reason` once
//! answered, or nothing when the caller ended it), for the licence (the call outcome) and for
//! metrics (a closed set of labels).

use meet::session::SessionOutcome;
use routing::reception::DisconnectReason;
use signaling::sip::dialog::Reason;
use signaling::sip::message::StatusCode;

use crate::calls::CallOutcome;

/// How a gateway call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallEnding {
    /// The caller hung up (BYE), and the node left the conference.
    CallerHungUp,
    /// The caller took back its INVITE (CANCEL) before the call was answered.
    CallerCancelled,
    /// The caller never ACKed our 2xx, or its session timer ran out or failed.
    CallerLost,
    /// The room system sent no RTP for `media.rtp_timeout` once answered: it is gone (or
    /// its media path is). The node leaves the conference and says so in a BYE.
    CallerSilent,
    /// The Meet side ended it, or refused it (through `MeetSession`'s one mapping).
    Meet(SessionOutcome),
    /// The media pipelines failed (a GStreamer element error, a panic in a pipeline thread).
    MediaFailed,
    /// The node is shutting down (drain timeout, or stop).
    Shutdown,
    /// The Virtual Reception gave up on the caller (too many wrong or missing meeting IDs).
    Reception(DisconnectReason),
}

/// What the SIP leg is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LegEnding {
    /// Nothing: the caller ended the leg itself.
    None,
    /// While unanswered: this final response, with this `Reason` header (RFC 3326).
    Reject { status: u16, reason: Reason },
    /// Once answered: a BYE with this `Reason` header.
    Bye { reason: Reason },
}

impl CallEnding {
    /// What the SIP leg is told, given whether it was answered.
    pub(crate) fn leg(&self, answered: bool) -> LegEnding {
        let sip = |cause: u16, text: &str| {
            Reason::sip(StatusCode::new(cause).unwrap_or(StatusCode::OK)).with_text(text)
        };
        let (status, reason) = match self {
            Self::CallerHungUp | Self::CallerCancelled | Self::CallerLost => {
                return LegEnding::None;
            }
            // meet-side.md §5.a: the final status while unanswered, and the Reason of the
            // BYE once answered (cause 200 for a normal end), from the session's own table.
            Self::Meet(outcome) => (
                outcome.sip_status(),
                sip(outcome.reason_cause(), outcome.reason_text()),
            ),
            Self::MediaFailed => (503, sip(503, "Media failure")),
            Self::CallerSilent => (408, sip(408, "No media from the room system")),
            // Q.850 16: normal call clearing.
            Self::Shutdown => (480, Reason::q850(16).with_text("Node shutting down")),
            // The reception answered at once, so this is a BYE in practice.
            Self::Reception(DisconnectReason::TooManyAttempts) => {
                (404, sip(404, "Too many failed meeting ID attempts"))
            }
            Self::Reception(_) => (404, sip(404, "Virtual Reception ended the call")),
        };
        if answered {
            LegEnding::Bye { reason }
        } else {
            LegEnding::Reject { status, reason }
        }
    }

    /// The outcome the call's licence records.
    pub(crate) fn outcome(&self, answered: bool) -> CallOutcome {
        match self {
            Self::CallerCancelled => CallOutcome::Cancelled,
            Self::CallerHungUp | Self::Shutdown => CallOutcome::Completed,
            Self::Meet(outcome) if answered && outcome.is_normal_end() => CallOutcome::Completed,
            Self::Meet(_) if !answered => CallOutcome::Rejected,
            Self::Reception(_) => CallOutcome::Rejected,
            Self::Meet(_) | Self::CallerLost | Self::CallerSilent | Self::MediaFailed => {
                CallOutcome::Failed
            }
        }
    }

    /// The metric label: a closed set, one per variant (Meet outcomes by their own label).
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::CallerHungUp => "caller_hung_up",
            Self::CallerCancelled => "caller_cancelled",
            Self::CallerLost => "caller_lost",
            Self::CallerSilent => "caller_silent",
            Self::Meet(outcome) => outcome.label(),
            Self::MediaFailed => "media_failed",
            Self::Shutdown => "shutdown",
            Self::Reception(DisconnectReason::TooManyAttempts) => "reception_too_many_attempts",
            Self::Reception(_) => "reception_ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        let ended = CallEnding::Meet(SessionOutcome::ConferenceEnded);
        let LegEnding::Bye { reason } = ended.leg(true) else {
            panic!("a BYE once answered");
        };
        assert_eq!(
            reason.to_string(),
            SessionOutcome::ConferenceEnded.reason_header()
        );
        assert!(matches!(
            ended.leg(false),
            LegEnding::Reject { status: 404, .. }
        ));
        assert_eq!(ended.outcome(true), CallOutcome::Completed);
        assert_eq!(ended.outcome(false), CallOutcome::Rejected);
        let locked = CallEnding::Meet(SessionOutcome::VideoLocked);
        assert!(matches!(
            locked.leg(false),
            LegEnding::Reject { status: 480, .. }
        ));
        assert_eq!(locked.outcome(true), CallOutcome::Failed);
        assert_eq!(CallEnding::CallerHungUp.leg(true), LegEnding::None);
        assert_eq!(
            CallEnding::CallerCancelled.outcome(false),
            CallOutcome::Cancelled
        );
        assert!(matches!(
            CallEnding::MediaFailed.leg(true),
            LegEnding::Bye { reason } if reason.cause == Some(503)
        ));
        assert!(matches!(
            CallEnding::Shutdown.leg(false),
            LegEnding::Reject { status: 480, reason } if reason.to_string().starts_with("Q.850;cause=16")
        ));
        assert_eq!(CallEnding::MediaFailed.label(), "media_failed");
        assert!(matches!(
            CallEnding::CallerSilent.leg(true),
            LegEnding::Bye { reason } if reason.to_string()
                == "SIP;cause=408;text=\"No media from the room system\""
        ));
        assert_eq!(CallEnding::CallerSilent.outcome(true), CallOutcome::Failed);
        let reception = CallEnding::Reception(DisconnectReason::TooManyAttempts);
        assert!(matches!(
            reception.leg(true),
            LegEnding::Bye { reason } if reason.cause == Some(404)
                && reason.to_string().contains("Too many failed meeting ID attempts")
        ));
        assert_eq!(reception.outcome(true), CallOutcome::Rejected);
        assert_eq!(reception.label(), "reception_too_many_attempts");
    }
}
