//! DTMF for one call: RFC 4733 telephone events in RTP and SIP INFO bodies, as one stream of
//! typed [`DtmfEvent`]s.
//!
//! - [`parse_rtp`]: the RTP fixed header (RFC 3550 §5.1) with CSRCs, header extension and
//!   padding, telling multiplexed RTCP apart (RFC 5761 §4).
//! - [`TelephoneEvent`]: the RFC 4733 §2.3 payload; [`event_to_digit`] is the §3.2 code table.
//! - [`DtmfReceiver`]: one event per key press out of the many packets RFC 4733 senders send
//!   for it (RFC 4733 §2.5).
//! - [`parse_info`]: `application/dtmf-relay` and `application/dtmf` SIP INFO bodies.
//! - [`DtmfDeduplicator`] and [`DtmfStream`]: one delivery per key press when an endpoint sends
//!   it both ways.
//!
//! Sans-IO: the caller passes packets, bodies and `now`, and calls
//! [`DtmfReceiver::handle_timeout`] at [`DtmfReceiver::poll_timeout`].

mod dedup;
mod event;
pub mod fuzzing;
mod info;
mod receiver;
mod rtp;
mod stream;
mod telephone_event;

pub use dedup::{DEFAULT_DEDUP_WINDOW, DtmfDeduplicator};
pub use event::{DtmfEvent, DtmfSource, digit_to_event, event_to_digit};
pub use info::{DEFAULT_INFO_DURATION, DtmfError, InfoDtmf, MAX_INFO_BODY, parse_info};
pub use receiver::{DEFAULT_CLOCK_RATE, DEFAULT_END_TIMEOUT, DtmfReceiver};
pub use rtp::{RTP_FIXED_HEADER_LEN, RTP_VERSION, RtpError, RtpHeader, parse_rtp};
pub use stream::DtmfStream;
pub use telephone_event::TelephoneEvent;
