//! The simulator's injectable clock: wall time or a manual clock, either moved forward by
//! `POST /sim/clock` (meet-side.md §5.b: "Every timer ... runs on an injectable clock").

use std::time::{Duration, SystemTime};

/// Where the clock's time comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    /// The system clock, plus whatever `POST /sim/clock` added. Timers fire on their own.
    Wall,
    /// Starts at this time and moves only when `POST /sim/clock` moves it: deterministic
    /// tests. Timers fire when the clock is moved past them.
    Manual(SystemTime),
}

/// The clock.
#[derive(Clone, Debug)]
pub(super) struct SimClock {
    mode: ClockMode,
    /// Added to the base time.
    offset: Duration,
}

impl SimClock {
    pub(super) fn new(mode: ClockMode) -> Self {
        Self {
            mode,
            offset: Duration::ZERO,
        }
    }

    pub(super) fn mode(&self) -> ClockMode {
        self.mode
    }

    pub(super) fn now(&self) -> SystemTime {
        let base = match self.mode {
            ClockMode::Wall => SystemTime::now(),
            ClockMode::Manual(start) => start,
        };
        base + self.offset
    }

    pub(super) fn advance(&mut self, by: Duration) {
        self.offset += by;
    }
}
