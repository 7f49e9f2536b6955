//! One call's DTMF: RFC 4733 events and SIP INFO digits merged into one de-duplicated stream.

use std::time::Instant;

use super::dedup::DtmfDeduplicator;
use super::event::DtmfEvent;
use super::info::{DtmfError, parse_info};
use super::receiver::DtmfReceiver;
use super::rtp::RtpHeader;

/// The DTMF of one call: a [`DtmfReceiver`] for the RTP side and a [`DtmfDeduplicator`] across
/// both sources. Sans-IO, like its parts.
#[derive(Clone, Debug)]
pub struct DtmfStream {
    receiver: DtmfReceiver,
    dedup: DtmfDeduplicator,
}

impl DtmfStream {
    /// A stream over `receiver` and `dedup`.
    #[must_use]
    pub fn new(receiver: DtmfReceiver, dedup: DtmfDeduplicator) -> Self {
        Self { receiver, dedup }
    }

    /// The RTP side, e.g. to change its payload type after a re-INVITE.
    pub fn receiver_mut(&mut self) -> &mut DtmfReceiver {
        &mut self.receiver
    }

    /// Takes one RTP packet; see [`DtmfReceiver::handle_rtp`]. Returns a digit to deliver.
    pub fn handle_rtp(
        &mut self,
        header: &RtpHeader,
        payload: &[u8],
        now: Instant,
    ) -> Option<DtmfEvent> {
        let event = self.receiver.handle_rtp(header, payload, now)?;
        self.filter(event, now)
    }

    /// Takes one SIP INFO body; see [`parse_info`]. Returns the digit, or `None` when it
    /// duplicates one already delivered over RTP.
    ///
    /// # Errors
    ///
    /// As [`parse_info`]: [`DtmfError::sip_status`] gives the response code.
    pub fn handle_info(
        &mut self,
        content_type: &str,
        body: &[u8],
        now: Instant,
    ) -> Result<Option<DtmfEvent>, DtmfError> {
        let event = parse_info(content_type, body)?.to_event();
        Ok(self.filter(event, now))
    }

    /// See [`DtmfReceiver::handle_timeout`]. Returns a digit to deliver.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<DtmfEvent> {
        while let Some(event) = self.receiver.handle_timeout(now) {
            if let Some(event) = self.filter(event, now) {
                return Some(event);
            }
        }
        None
    }

    /// See [`DtmfReceiver::poll_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.receiver.poll_timeout()
    }

    fn filter(&mut self, event: DtmfEvent, now: Instant) -> Option<DtmfEvent> {
        self.dedup.accept(&event, now).then_some(event)
    }
}
