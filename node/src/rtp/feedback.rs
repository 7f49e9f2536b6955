//! Keyframe requests toward the room system: which message to send, and how often.
//!
//! **Which message.** PLI (RFC 4585 §6.3.1) when the room system agreed `a=rtcp-fb:* nack pli`;
//! FIR (RFC 5104 §4.3.1) when it agreed only `ccm fir`. When it offered no feedback at all we
//! still send PLI: strictly, RFC 4585 feedback needs the AVPF profile or an `rtcp-fb` line, but
//! the room systems we meet (Polycom, Cisco, Lifesize) decode a PLI whatever their SDP said,
//! and a request that may be ignored costs less than a picture that stays broken.
//!
//! **How often.** At most one request per [`KEYFRAME_REQUEST_INTERVAL`] (500 ms): a keyframe
//! takes the room system a frame or two to make and a few more to arrive, so a second request
//! inside that time would ask again for the picture already on its way. The core cannot see
//! keyframes in what it receives (that needs the H.264 payload), so requests inside the
//! interval are dropped, not deferred, and counted; requests made before the pending one went
//! out are merged into it (also counted as dropped).

use std::time::{Duration, Instant};

use serde::Serialize;
use signaling::sdp::RtcpFeedback;

use super::rtcp::{FirEntry, RtcpPacket};

/// The least time between two keyframe requests sent to the room system.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// The message that asks the room system for a keyframe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyframeMessage {
    /// Picture Loss Indication.
    Pli,
    /// Full Intra Request.
    Fir,
}

impl KeyframeMessage {
    /// PLI when `nack pli` was agreed, FIR when only `ccm fir` was, PLI when nothing was (see
    /// the module's documentation).
    pub fn for_feedback(agreed: RtcpFeedback) -> Self {
        if agreed.fir && !agreed.pli {
            Self::Fir
        } else {
            Self::Pli
        }
    }
}

/// Keyframe requests counted on one stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyframeCounts {
    /// PLIs sent to the room system.
    pub sent_pli: u64,
    /// FIRs sent to the room system.
    pub sent_fir: u64,
    /// Requests not sent: inside the rate limit, merged into a pending one, or made before
    /// the room system's source was known.
    pub dropped: u64,
    /// PLIs received from the room system.
    pub received_pli: u64,
    /// New FIRs received from the room system (a repeated sequence number is a retransmission,
    /// RFC 5104 §4.3.1.2, and not counted again).
    pub received_fir: u64,
}

/// The rate limiter and FIR numbering of one video stream.
#[derive(Debug)]
pub(crate) struct KeyframeRequests {
    message: KeyframeMessage,
    last_sent: Option<Instant>,
    pending: bool,
    /// The next FIR's command sequence number.
    fir_sequence: u8,
    /// The last FIR sequence number received from the room system.
    fir_received: Option<u8>,
    pub(crate) counts: KeyframeCounts,
}

impl KeyframeRequests {
    pub(crate) fn new(message: KeyframeMessage) -> Self {
        Self {
            message,
            last_sent: None,
            pending: false,
            fir_sequence: 0,
            fir_received: None,
            counts: KeyframeCounts::default(),
        }
    }

    /// A reason to ask for a keyframe at `now`; true when a request will go out.
    pub(crate) fn request(&mut self, now: Instant) -> bool {
        let recent = self
            .last_sent
            .is_some_and(|at| now.saturating_duration_since(at) < KEYFRAME_REQUEST_INTERVAL);
        if self.pending || recent {
            self.counts.dropped += 1;
            return false;
        }
        self.pending = true;
        true
    }

    /// A request that cannot be made (no source to address it to).
    pub(crate) fn refuse(&mut self) {
        self.counts.dropped += 1;
    }

    /// Whether a request waits to be sent.
    pub(crate) fn pending(&self) -> bool {
        self.pending
    }

    /// The pending request as an RTCP packet from `sender` about `media`, marking it sent.
    pub(crate) fn take(&mut self, sender: u32, media: u32, now: Instant) -> Option<RtcpPacket> {
        if !std::mem::take(&mut self.pending) {
            return None;
        }
        self.last_sent = Some(now);
        Some(match self.message {
            KeyframeMessage::Pli => {
                self.counts.sent_pli += 1;
                RtcpPacket::Pli { sender, media }
            }
            KeyframeMessage::Fir => {
                self.counts.sent_fir += 1;
                let sequence = self.fir_sequence;
                self.fir_sequence = self.fir_sequence.wrapping_add(1);
                RtcpPacket::Fir {
                    sender,
                    entries: vec![FirEntry {
                        ssrc: media,
                        sequence,
                    }],
                }
            }
        })
    }

    /// A PLI from the room system.
    pub(crate) fn received_pli(&mut self) {
        self.counts.received_pli += 1;
    }

    /// A FIR entry from the room system; true when it is a new request.
    pub(crate) fn received_fir(&mut self, sequence: u8) -> bool {
        if self.fir_received == Some(sequence) {
            return false;
        }
        self.fir_received = Some(sequence);
        self.counts.received_fir += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_follows_the_agreed_feedback() {
        let fb = |pli, fir| RtcpFeedback {
            nack: false,
            pli,
            fir,
        };
        assert_eq!(
            KeyframeMessage::for_feedback(fb(true, true)),
            KeyframeMessage::Pli
        );
        assert_eq!(
            KeyframeMessage::for_feedback(fb(true, false)),
            KeyframeMessage::Pli
        );
        assert_eq!(
            KeyframeMessage::for_feedback(fb(false, true)),
            KeyframeMessage::Fir
        );
        assert_eq!(
            KeyframeMessage::for_feedback(RtcpFeedback::NONE),
            KeyframeMessage::Pli
        );
    }

    #[test]
    fn a_hundred_requests_in_a_second_send_at_most_two() {
        let t0 = Instant::now();
        let mut k = KeyframeRequests::new(KeyframeMessage::Pli);
        let mut sent = 0;
        for i in 0..100 {
            let now = t0 + Duration::from_millis(i * 10);
            k.request(now);
            if k.take(1, 2, now).is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, 2);
        assert_eq!(k.counts.sent_pli, 2);
        assert_eq!(k.counts.dropped, 98);
    }

    #[test]
    fn firs_are_numbered_per_new_request() {
        let t0 = Instant::now();
        let mut k = KeyframeRequests::new(KeyframeMessage::Fir);
        let seq = |p: Option<RtcpPacket>| match p {
            Some(RtcpPacket::Fir { entries, .. }) => entries[0].sequence,
            other => panic!("{other:?}"),
        };
        k.request(t0);
        assert_eq!(seq(k.take(1, 2, t0)), 0);
        let later = t0 + KEYFRAME_REQUEST_INTERVAL;
        k.request(later);
        assert_eq!(seq(k.take(1, 2, later)), 1);
        // Received FIRs: a repeated number is a retransmission.
        assert!(k.received_fir(5));
        assert!(!k.received_fir(5));
        assert!(k.received_fir(6));
        assert_eq!(k.counts.received_fir, 2);
    }
}
