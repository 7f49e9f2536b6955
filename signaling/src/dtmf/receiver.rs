//! Turning the RFC 4733 telephone-event packets of an RTP stream into one [`DtmfEvent`] per key
//! press (RFC 4733 §2.5.2, receiver procedures).
//!
//! A sender reports one key press with many packets that share an RTP timestamp (the event's
//! start): a first packet with the marker bit, updates every packetisation interval with a
//! growing duration, and the final packet with the E bit, sent three times (RFC 4733
//! §2.5.1.4). [`DtmfReceiver`] identifies a press by SSRC and RTP timestamp and emits it once:
//!
//! - when the first E-bit packet arrives, with its duration;
//! - when a packet with a newer timestamp (or another SSRC) arrives while a press has not ended:
//!   its end packets were lost, and the last duration seen is used;
//! - when no packet of an unended press has arrived for the end timeout (1 s by default):
//!   [`DtmfReceiver::poll_timeout`] says when, [`DtmfReceiver::handle_timeout`] emits it.
//!
//! Packets of a press already emitted (retransmitted ends, late updates) and packets older than
//! the current press (reordered, compared with serial-number arithmetic so the 32-bit timestamp
//! may wrap) are ignored. The marker bit is informative only: a press whose first packet was lost
//! is still recognised by its new timestamp, and a repeated marker packet adds nothing. A press
//! longer than the 16-bit duration field can hold continues in a new segment whose timestamp is
//! 0xFFFF later (RFC 4733 §2.5.1.3, §2.5.2.3); the segments are joined into one press.
//!
//! Events that are not DTMF digits (flash, tones: RFC 4733 §3.2 codes above 15) take part in
//! this bookkeeping but are never emitted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::event::{DtmfEvent, DtmfSource, event_to_digit};
use super::rtp::RtpHeader;
use super::telephone_event::TelephoneEvent;

/// How long an unended press waits for its next packet before it is emitted anyway.
pub const DEFAULT_END_TIMEOUT: Duration = Duration::from_secs(1);

/// The telephone-event clock rate used when 0 is configured (RFC 4733 §2.1: 8000 Hz is the
/// usual rate).
pub const DEFAULT_CLOCK_RATE: u32 = 8000;

/// Timestamp distance between the segments of a long event (RFC 4733 §2.5.1.3).
const SEGMENT_TICKS: u32 = 0xFFFF;

/// Receives the telephone events of one RTP session and emits one [`DtmfEvent`] per key press.
///
/// Sans-IO: every call takes `now`; the receiver never reads the clock.
#[derive(Clone, Debug)]
pub struct DtmfReceiver {
    payload_type: u8,
    clock_rate: u32,
    end_timeout: Duration,
    /// The latest press seen, ended or not; kept after it is emitted to recognise
    /// retransmissions.
    current: Option<Press>,
    /// Events decided but not yet returned (a single packet can end one press and complete
    /// another), with the time they became ready.
    ready: VecDeque<(DtmfEvent, Instant)>,
}

/// One key press being tracked.
#[derive(Clone, Debug)]
struct Press {
    ssrc: u32,
    /// RTP timestamp of the press's current segment.
    timestamp: u32,
    event: u8,
    /// Duration of the earlier segments of a long press, in clock ticks.
    earlier_ticks: u64,
    /// Largest duration seen in the current segment, in clock ticks.
    duration: u16,
    last_packet: Instant,
    /// Already emitted (or not a digit and finished): later packets for it are ignored.
    done: bool,
}

impl Press {
    fn ticks(&self) -> u64 {
        self.earlier_ticks.saturating_add(self.duration.into())
    }
}

impl DtmfReceiver {
    /// A receiver for telephone events negotiated with payload type `telephone_event_pt` at
    /// `clock_rate` Hz (the SDP `a=rtpmap:<pt> telephone-event/<rate>`). A `clock_rate` of 0 is
    /// read as [`DEFAULT_CLOCK_RATE`].
    #[must_use]
    pub fn new(telephone_event_pt: u8, clock_rate: u32) -> Self {
        Self {
            payload_type: telephone_event_pt,
            clock_rate: if clock_rate == 0 {
                DEFAULT_CLOCK_RATE
            } else {
                clock_rate
            },
            end_timeout: DEFAULT_END_TIMEOUT,
            current: None,
            ready: VecDeque::new(),
        }
    }

    /// Replaces the end timeout ([`DEFAULT_END_TIMEOUT`] by default).
    #[must_use]
    pub fn with_end_timeout(mut self, end_timeout: Duration) -> Self {
        self.end_timeout = end_timeout;
        self
    }

    /// Changes the negotiated payload type and clock rate (after a re-INVITE). A press in
    /// progress is kept.
    pub fn set_payload_type(&mut self, telephone_event_pt: u8, clock_rate: u32) {
        self.payload_type = telephone_event_pt;
        self.clock_rate = if clock_rate == 0 {
            DEFAULT_CLOCK_RATE
        } else {
            clock_rate
        };
    }

    /// The telephone-event payload type this receiver listens to.
    #[must_use]
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Takes one RTP packet (header and payload from [`parse_rtp`](super::parse_rtp)). Packets
    /// of other payload types, and payloads shorter than one telephone-event block, are ignored.
    ///
    /// Returns a finished key press, if this packet finished one. When it finished two (a press
    /// whose end was lost, and a new press made of a single end packet), the second is returned
    /// by the next [`handle_timeout`](Self::handle_timeout) or [`poll_event`](Self::poll_event),
    /// and [`poll_timeout`](Self::poll_timeout) answers `now` until then.
    pub fn handle_rtp(
        &mut self,
        header: &RtpHeader,
        payload: &[u8],
        now: Instant,
    ) -> Option<DtmfEvent> {
        if header.payload_type != self.payload_type {
            return None;
        }
        let event = TelephoneEvent::parse(payload)?;
        self.track(header, event, now);
        self.poll_event()
    }

    /// Emits a press whose end did not arrive within the end timeout, or an event left ready by
    /// [`handle_rtp`](Self::handle_rtp).
    pub fn handle_timeout(&mut self, now: Instant) -> Option<DtmfEvent> {
        if let Some(event) = self.poll_event() {
            return Some(event);
        }
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        self.finish_current(now);
        self.poll_event()
    }

    /// When [`handle_timeout`](Self::handle_timeout) next has something to do: `None` when no
    /// press is in progress and no event is waiting.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if let Some((_, at)) = self.ready.front() {
            return Some(*at);
        }
        self.deadline()
    }

    /// Returns an event already decided and not yet returned, if any. At most one waits:
    /// every [`handle_rtp`](Self::handle_rtp) returns one, and only a packet that follows an
    /// unended press can decide two.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.ready.pop_front().map(|(event, _)| event)
    }

    /// When the unended current press times out; `None` without one (or past the end of time).
    fn deadline(&self) -> Option<Instant> {
        let press = self.current.as_ref().filter(|press| !press.done)?;
        press.last_packet.checked_add(self.end_timeout)
    }

    fn track(&mut self, header: &RtpHeader, event: TelephoneEvent, now: Instant) {
        if let Some(press) = self.current.as_mut()
            && press.ssrc == header.ssrc
        {
            // Serial-number arithmetic (RFC 1982): a positive distance is newer; wraps cleanly.
            let delta = header.timestamp.wrapping_sub(press.timestamp);
            if delta == 0 {
                if press.done {
                    return; // retransmitted end, or a late update of an emitted press
                }
                press.duration = press.duration.max(event.duration);
                press.last_packet = now;
                if event.end {
                    self.finish_current(now);
                }
                return;
            }
            if delta.cast_signed() < 0 {
                return; // older than the current press: reordered or late
            }
            if delta == SEGMENT_TICKS && !press.done && press.event == event.event {
                // The next segment of a long press (RFC 4733 §2.5.2.3).
                press.earlier_ticks = press.earlier_ticks.saturating_add(SEGMENT_TICKS.into());
                press.timestamp = header.timestamp;
                press.duration = event.duration;
                press.last_packet = now;
                if event.end {
                    self.finish_current(now);
                }
                return;
            }
        }
        // A new press: a newer timestamp, another SSRC, or the first packet of the stream. An
        // unended previous press has lost its end packets; it ends here.
        if self.current.as_ref().is_some_and(|press| !press.done) {
            self.finish_current(now);
        }
        self.current = Some(Press {
            ssrc: header.ssrc,
            timestamp: header.timestamp,
            event: event.event,
            earlier_ticks: 0,
            duration: event.duration,
            last_packet: now,
            done: false,
        });
        if event.end {
            self.finish_current(now);
        }
    }

    /// Marks the current press done and queues its event, if it is a digit.
    fn finish_current(&mut self, now: Instant) {
        let Some(press) = self.current.as_mut() else {
            return;
        };
        if press.done {
            return;
        }
        press.done = true;
        if let Some(digit) = event_to_digit(press.event) {
            let duration = ticks_to_duration(press.ticks(), self.clock_rate);
            let event = DtmfEvent {
                digit,
                duration,
                source: DtmfSource::Rfc4733,
            };
            self.ready.push_back((event, now));
        }
    }
}

/// `ticks` of a `clock_rate` Hz clock as a [`Duration`], without overflow.
fn ticks_to_duration(ticks: u64, clock_rate: u32) -> Duration {
    let rate = u64::from(clock_rate.max(1));
    let nanos = (ticks % rate) * 1_000_000_000 / rate;
    Duration::from_secs(ticks / rate) + Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_one_event_waits() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut receiver = DtmfReceiver::new(101, 8000);
        for i in 0..100u32 {
            // A press that never ends, then a lone end packet: two events, one returned.
            for (timestamp, end) in [(i * 2000, false), (i * 2000 + 1000, true)] {
                let header = RtpHeader {
                    version: 2,
                    padding: false,
                    extension: false,
                    marker: false,
                    payload_type: 101,
                    sequence: 0,
                    timestamp,
                    ssrc: 1,
                    csrcs: Vec::new(),
                };
                let block = TelephoneEvent {
                    event: 1,
                    end,
                    volume: 0,
                    duration: 160,
                };
                let _ = receiver.handle_rtp(&header, &block.to_bytes(), now);
                assert!(receiver.ready.len() <= 1);
            }
        }
        assert_eq!(receiver.ready.len(), 1);
    }

    #[test]
    fn ticks_convert_exactly_and_never_overflow() {
        assert_eq!(ticks_to_duration(160, 8000), Duration::from_millis(20));
        assert_eq!(ticks_to_duration(1, 48_000), Duration::from_nanos(20_833));
        assert_eq!(ticks_to_duration(8000, 0), Duration::from_secs(8000));
        let huge = ticks_to_duration(u64::MAX, 8000);
        assert_eq!(huge.as_secs(), u64::MAX / 8000);
    }
}
