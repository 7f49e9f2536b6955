//! What the server shares between requests: the model, the clock and the mailboxes, behind
//! one lock (held only while the model runs; never across an await).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use std::time::{Instant, SystemTime};
use tokio::sync::Notify;

use serde::Serialize;

use super::clock::SimClock;
use crate::media::{MediaPlane, PlaneEvent};
use crate::model::{EventKind, JoinOutcome, RpcCode, SimError, SimModel, unix_ms};
use meet::protocol::DataChannel;

/// One data-channel message kept for a participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxEntry {
    /// Position among every message the simulator produced, from 1.
    pub seq: u64,
    /// When it was produced, on the simulator's clock.
    pub at_unix_ms: u64,
    /// The channel label.
    pub channel: &'static str,
    /// The message, as it goes on the channel.
    pub message: serde_json::Value,
}

/// The locked part.
#[derive(Debug)]
pub(super) struct Core {
    pub(super) model: SimModel,
    pub(super) clock: SimClock,
    /// Every participant's WebRTC connection.
    pub(super) media: MediaPlane,
    /// Messages per participant id: where deliveries go until the media plane carries them.
    pub(super) mailboxes: BTreeMap<i64, Vec<MailboxEntry>>,
    next_seq: u64,
}

impl Core {
    /// Moves what the model produced to where it goes, and what the media plane produced
    /// back into the model, until both are quiet: data-channel messages into the mailboxes
    /// and onto the channels, media updates into the media plane, client messages and
    /// media events into the model. Returns the mailbox entries added.
    pub(super) fn drain(&mut self, now: SystemTime) -> Vec<(i64, MailboxEntry)> {
        let mut added = Vec::new();
        let instant = Instant::now();
        self.media.advance_sim_time(now, instant);
        loop {
            let mut busy = false;
            while let Some(delivery) = self.model.poll_delivery() {
                busy = true;
                self.next_seq += 1;
                let entry = MailboxEntry {
                    seq: self.next_seq,
                    at_unix_ms: unix_ms(now),
                    channel: delivery.message.channel().label(),
                    message: delivery.message.to_json(),
                };
                // the `dropChannel` fault: the message is produced (and kept in the
                // mailbox) but never goes on the wire
                let dropped = self.model.faults().drop_channel.as_deref() == Some(entry.channel);
                if !dropped {
                    let text = entry.message.to_string();
                    self.media
                        .send_text(delivery.participant_id, entry.channel, text, instant);
                }
                self.mailboxes
                    .entry(delivery.participant_id)
                    .or_default()
                    .push(entry.clone());
                added.push((delivery.participant_id, entry));
            }
            while let Some(update) = self.model.poll_media_update() {
                busy = true;
                self.media.apply(update, instant);
            }
            while let Some(event) = self.media.poll_event() {
                busy = true;
                self.media_event(event, now);
            }
            if !busy {
                return added;
            }
        }
    }

    fn media_event(&mut self, event: PlaneEvent, now: SystemTime) {
        match event {
            PlaneEvent::Channel { pid, label, text } => {
                let Some(channel) = DataChannel::from_label(&label) else {
                    return;
                };
                if let Err(err) = self.model.handle_channel_message(pid, channel, &text, now) {
                    tracing::debug!(pid, %label, error = %err.message, "client message refused");
                }
            }
            PlaneEvent::ActiveSpeaker { pid } => self.model.detected_active_speaker(pid, now),
            PlaneEvent::LayerSwitched {
                receiver,
                source,
                ssrc,
                from_rid,
                to_rid,
            } => self.model.log(
                now,
                EventKind::LayerSwitched {
                    participant_id: receiver,
                    source,
                    ssrc,
                    from_rid,
                    to_rid,
                },
            ),
            PlaneEvent::RuleBroken { pid, flag, detail } => {
                self.model.media_rule_broken(pid, &flag, detail, now);
            }
            PlaneEvent::Gone { pid } => self.model.connection_lost(pid, now),
        }
    }
}

/// Shared state.
#[derive(Debug)]
pub(super) struct Shared {
    core: Mutex<Core>,
    /// Wakes the media task when a request left datagrams to send.
    pub(super) wake: Notify,
}

impl Shared {
    pub(super) fn new(model: SimModel, clock: SimClock, media: MediaPlane) -> Self {
        Self {
            core: Mutex::new(Core {
                model,
                clock,
                media,
                mailboxes: BTreeMap::new(),
                next_seq: 0,
            }),
            wake: Notify::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Core> {
        // A handler that panicked mid-call leaves the model as it was at the panic; the
        // simulator keeps serving rather than failing every later request.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the model at the clock's time, then drains deliveries into the mailboxes.
    pub(super) fn run<R>(&self, f: impl FnOnce(&mut SimModel, SystemTime) -> R) -> R {
        let mut core = self.lock();
        let now = core.clock.now();
        let result = f(&mut core.model, now);
        core.drain(now);
        drop(core);
        self.wake.notify_one();
        result
    }

    /// A connect: runs `join` on the model; when it admits a participant, the media plane
    /// accepts `offer` (capping a gateway's send bitrate when `gateway`) and the answer goes
    /// into the outcome. An offer the WebRTC stack refuses takes the participant out again:
    /// 400 `INVALID_OFFER`.
    pub(super) fn connect(
        &self,
        offer: &str,
        gateway: bool,
        join: impl FnOnce(&mut SimModel, SystemTime) -> Result<JoinOutcome, SimError>,
    ) -> Result<JoinOutcome, SimError> {
        let mut core = self.lock();
        let now = core.clock.now();
        let result = join(&mut core.model, now).and_then(|mut outcome| {
            let pid = outcome.participant_id;
            match core.media.accept(pid, offer, gateway, Instant::now()) {
                Ok((answer, ssrcs)) => {
                    outcome.answer = if core.model.faults().bad_fingerprint {
                        wrong_fingerprint(&answer)
                    } else {
                        answer
                    };
                    core.model.set_video_ssrcs(pid, ssrcs);
                    Ok(outcome)
                }
                Err(message) => {
                    core.model.connection_lost(pid, now);
                    Err(SimError::new(
                        RpcCode::InvalidArgument,
                        "INVALID_OFFER",
                        message,
                    ))
                }
            }
        });
        core.drain(now);
        drop(core);
        self.wake.notify_one();
        result
    }
}

/// `answer` with every `a=fingerprint:` value changed (each hex digit of the hash moved on
/// by one): the `badFingerprint` fault.
fn wrong_fingerprint(answer: &str) -> String {
    answer
        .split_inclusive('\n')
        .map(|line| {
            let Some((algorithm, hash)) = line
                .strip_prefix("a=fingerprint:")
                .and_then(|rest| rest.split_once(' '))
            else {
                return line.to_owned();
            };
            let shifted: String = hash
                .chars()
                .map(|c| {
                    c.to_digit(16)
                        .and_then(|d| std::char::from_digit((d + 1) % 16, 16))
                        .map_or(c, |h| h.to_ascii_uppercase())
                })
                .collect();
            format!("a=fingerprint:{algorithm} {shifted}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wrong_fingerprint_differs_in_every_hex_digit() {
        let answer = "v=0\r\na=fingerprint:sha-256 0A:F9\r\na=setup:passive\r\n";
        assert_eq!(
            super::wrong_fingerprint(answer),
            "v=0\r\na=fingerprint:sha-256 1B:0A\r\na=setup:passive\r\n"
        );
    }
}
