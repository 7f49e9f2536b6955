//! What the media plane reports about a participant's connection: broken media rules, a
//! connection that died, an offer the WebRTC stack refused.

use std::time::SystemTime;

use super::SimModel;
use super::events::EventKind;
use super::participant::Kind;
use meet::protocol::session_control::DisconnectReason;

impl SimModel {
    /// A participant broke a media rule (`LAYERS_MISSING`, `BITRATE_EXCEEDED`). The rules are
    /// the gateway's (§5.b "Gateway offer"): for a gateway it is logged, and with
    /// `strict_media` the gateway is also disconnected (`REASON_SESSION_UNHEALTHY`, x-reason
    /// the flag). Browsers ramp their layers up with their bandwidth estimate, so theirs are
    /// not flagged.
    pub fn media_rule_broken(&mut self, pid: i64, flag: &str, detail: String, now: SystemTime) {
        let now = self.step(now);
        let Some(p) = self.participants.get(&pid) else {
            return;
        };
        if !matches!(p.kind, Kind::Gateway { .. }) {
            return;
        }
        let strict = self.config.strict_media;
        self.events.push(
            now,
            EventKind::MediaRuleBroken {
                participant_id: pid,
                flag: flag.to_owned(),
                detail,
            },
        );
        if strict {
            self.disconnect(pid, DisconnectReason::SessionUnhealthy, Some(flag), now);
        }
    }

    /// `pid`'s connection died (ICE timed out, DTLS closed) or never came up: it leaves with
    /// `REASON_SESSION_UNHEALTHY`.
    pub fn connection_lost(&mut self, pid: i64, now: SystemTime) {
        let now = self.step(now);
        self.disconnect(
            pid,
            DisconnectReason::SessionUnhealthy,
            Some("CONNECTION_LOST"),
            now,
        );
    }
}
