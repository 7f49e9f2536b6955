//! The RFC 4733 §2.3 telephone-event payload: four bytes per event.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! RFC 4733 §2.5.1.5 lets a sender pack several consecutive short events into one packet, one
//! 4-byte block each. Senders of DTMF do not do this in practice; [`TelephoneEvent::parse`] reads
//! the first block and ignores the rest.

use super::event::event_to_digit;

/// One telephone-event block (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (RFC 4733 §3.2 for DTMF: 0–15).
    pub event: u8,
    /// E bit: this is (a retransmission of) the last packet of the event.
    pub end: bool,
    /// Power level as −dBm0, 0..=63 (only the low six bits are written).
    pub volume: u8,
    /// Duration so far, in timestamp units, counted from the packet's RTP timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Size of one block on the wire.
    pub const LEN: usize = 4;

    /// Reads the first block of a telephone-event payload; `None` when it is shorter than four
    /// bytes. The reserved R bit is ignored (RFC 4733 §2.3.3); bytes after the first block are
    /// ignored (RFC 4733 §2.5.1.5 packing is not used for DTMF).
    #[must_use]
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let [event, flags, hi, lo] = *payload.first_chunk::<{ Self::LEN }>()?;
        Some(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([hi, lo]),
        })
    }

    /// The block on the wire. The R bit is written as zero and `volume` is masked to six bits.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let [hi, lo] = self.duration.to_be_bytes();
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3f);
        [self.event, flags, hi, lo]
    }

    /// The DTMF digit this event codes, if it is one (see [`event_to_digit`]).
    #[must_use]
    pub fn digit(&self) -> Option<char> {
        event_to_digit(self.event)
    }
}
