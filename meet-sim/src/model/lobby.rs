//! The lobby: host admit and deny, and the lobby timeout (meet-side.md §5.b "Admission").

use std::time::SystemTime;

use super::SimModel;
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::participant::LobbyEntry;
use super::time::unix_ms;
use meet::protocol::session_control::DisconnectReason;

impl SimModel {
    /// The lobby of the space `key` names, oldest first.
    pub fn lobby(&self, key: &str) -> Result<Vec<LobbyEntry>, SimError> {
        let space_id = self.space_id_or_404(key)?;
        Ok(self
            .participants
            .values()
            .filter(|p| p.space == space_id)
            .filter_map(|p| {
                p.lobby_deadline().map(|deadline| LobbyEntry {
                    participant_id: p.id,
                    display_name: p.display_name.clone(),
                    deadline_unix_ms: unix_ms(deadline),
                })
            })
            .collect())
    }

    /// The id of `pid` if it waits in the lobby of the space `key` names: 404
    /// `PARTICIPANT_NOT_FOUND`, or 412 `NOT_IN_LOBBY` (already admitted, denied or timed out).
    fn waiting(&self, key: &str, pid: i64) -> Result<String, SimError> {
        let space_id = self.space_id_or_404(key)?;
        let p = self
            .participants
            .get(&pid)
            .filter(|p| p.space == space_id)
            .ok_or_else(|| participant_not_found(pid))?;
        if p.lobby_deadline().is_none() {
            return Err(SimError::new(
                RpcCode::FailedPrecondition,
                "NOT_IN_LOBBY",
                format!("participant {pid} is not waiting in the lobby"),
            ));
        }
        Ok(space_id)
    }

    /// A host admits `pid` from the lobby: `STATE_JOINED`.
    pub fn admit(&mut self, key: &str, pid: i64, now: SystemTime) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.waiting(key, pid)?;
        self.events.push(
            now,
            EventKind::ParticipantAdmitted {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
            },
        );
        self.join(pid, now);
        Ok(())
    }

    /// A host denies `pid`: `STATE_DISCONNECTED` with `x-REASON_ADMISSION_DENIED`.
    pub fn deny(&mut self, key: &str, pid: i64, now: SystemTime) -> Result<(), SimError> {
        let now = self.step(now);
        let space_id = self.waiting(key, pid)?;
        self.events.push(
            now,
            EventKind::ParticipantDenied {
                space: format!("spaces/{space_id}"),
                participant_id: pid,
            },
        );
        self.disconnect(pid, DisconnectReason::XAdmissionDenied, None, now);
        Ok(())
    }

    /// Times out everyone whose lobby deadline is at or before `now`.
    pub(super) fn expire_lobby(&mut self, now: SystemTime) {
        let due: Vec<(i64, String)> = self
            .participants
            .values()
            .filter(|p| p.lobby_deadline().is_some_and(|d| d <= now))
            .map(|p| (p.id, p.space.clone()))
            .collect();
        for (pid, space_id) in due {
            self.events.push(
                now,
                EventKind::LobbyTimedOut {
                    space: format!("spaces/{space_id}"),
                    participant_id: pid,
                },
            );
            self.disconnect(pid, DisconnectReason::XAdmissionTimeout, None, now);
        }
    }
}

/// 404 `PARTICIPANT_NOT_FOUND`.
pub(super) fn participant_not_found(pid: i64) -> SimError {
    SimError::not_found(
        "PARTICIPANT_NOT_FOUND",
        format!("no participant {pid} in this space"),
    )
}
