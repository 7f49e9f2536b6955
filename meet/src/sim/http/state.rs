//! What the server shares between requests: the model, the clock and the mailboxes, behind
//! one lock (held only while the model runs; never across an await).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use serde::Serialize;

use super::clock::SimClock;
use crate::sim::model::{SimModel, unix_ms};

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
    /// Messages per participant id: where deliveries go until the media plane carries them.
    pub(super) mailboxes: BTreeMap<i64, Vec<MailboxEntry>>,
    next_seq: u64,
}

impl Core {
    /// Moves every pending delivery into the mailboxes; returns the entries added.
    pub(super) fn drain(&mut self, now: SystemTime) -> Vec<(i64, MailboxEntry)> {
        let mut added = Vec::new();
        while let Some(delivery) = self.model.poll_delivery() {
            self.next_seq += 1;
            let entry = MailboxEntry {
                seq: self.next_seq,
                at_unix_ms: unix_ms(now),
                channel: delivery.message.channel().label(),
                message: delivery.message.to_json(),
            };
            self.mailboxes
                .entry(delivery.participant_id)
                .or_default()
                .push(entry.clone());
            added.push((delivery.participant_id, entry));
        }
        added
    }
}

/// Shared state.
#[derive(Debug)]
pub(super) struct Shared {
    core: Mutex<Core>,
}

impl Shared {
    pub(super) fn new(model: SimModel, clock: SimClock) -> Self {
        Self {
            core: Mutex::new(Core {
                model,
                clock,
                mailboxes: BTreeMap::new(),
                next_seq: 0,
            }),
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
        result
    }
}
