//! Delivering a digit once when an endpoint sends it both in RTP and in SIP INFO.
//!
//! Some endpoints send every key press both ways. The two copies do not arrive together: the
//! RFC 4733 copy is emitted when the press ends (see [`DtmfReceiver`](super::DtmfReceiver)),
//! while INFO is usually sent when the key goes down. [`DtmfDeduplicator`] therefore compares
//! estimated key-down times: for an RFC 4733 event `now − duration`, for an INFO event `now`. An
//! event is a duplicate when an accepted event with the same digit from the *other* source has a
//! key-down time within the window (200 ms by default). Each accepted event absorbs at most one
//! copy, so a quickly repeated digit from one source is never lost.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::event::{DtmfEvent, DtmfSource};

/// The default de-duplication window.
pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_millis(200);

/// How many accepted events are remembered.
const HISTORY: usize = 16;

/// Drops the second copy of a digit that arrived by both RFC 4733 and SIP INFO.
#[derive(Clone, Debug)]
pub struct DtmfDeduplicator {
    window: Duration,
    accepted: VecDeque<Accepted>,
}

#[derive(Clone, Copy, Debug)]
struct Accepted {
    digit: char,
    source: DtmfSource,
    key_down: Instant,
    /// A copy from the other source has already been dropped against this event.
    absorbed: bool,
}

impl DtmfDeduplicator {
    /// A de-duplicator with the [`DEFAULT_DEDUP_WINDOW`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_window(DEFAULT_DEDUP_WINDOW)
    }

    /// A de-duplicator with another window.
    #[must_use]
    pub fn with_window(window: Duration) -> Self {
        Self {
            window,
            accepted: VecDeque::with_capacity(HISTORY),
        }
    }

    /// Whether to deliver `event`, which became known at `now`: `false` when it is the other
    /// source's copy of a digit already delivered.
    pub fn accept(&mut self, event: &DtmfEvent, now: Instant) -> bool {
        let key_down = match event.source {
            DtmfSource::Rfc4733 => now.checked_sub(event.duration).unwrap_or(now),
            DtmfSource::SipInfo => now,
        };
        let window = self.window;
        let duplicate_of = self.accepted.iter_mut().find(|seen| {
            !seen.absorbed
                && seen.digit == event.digit
                && seen.source != event.source
                && abs_diff(seen.key_down, key_down) <= window
        });
        if let Some(seen) = duplicate_of {
            seen.absorbed = true;
            return false;
        }
        if self.accepted.len() == HISTORY {
            self.accepted.pop_front();
        }
        self.accepted.push_back(Accepted {
            digit: event.digit,
            source: event.source,
            key_down,
            absorbed: false,
        });
        true
    }
}

fn abs_diff(a: Instant, b: Instant) -> Duration {
    a.saturating_duration_since(b)
        .max(b.saturating_duration_since(a))
}
