//! Resource limits of the parser and the framer.
//!
//! RFC 3261 sets no upper bounds; these keep the work and memory spent on one message (and on
//! one hostile peer) small. Exceeding one gives [`ParseErrorKind::TooLarge`], answered with
//! `513 Message Too Large` (RFC 3261 §21.5.7).
//!
//! [`ParseErrorKind::TooLarge`]: super::ParseErrorKind::TooLarge

/// The largest message accepted, header section and body together: 64 KiB, the most a UDP
/// datagram can carry (RFC 3261 §18.1.1 expects messages on UDP to stay far below it; a stream
/// gets the same bound so that one message cannot make the framer buffer without end).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// The most header field values in one message, after comma-separated lists are split.
pub const MAX_HEADERS: usize = 256;

/// The longest header field value (before a comma-separated list is split), after line
/// folding is undone (RFC 3261 §7.3.1) and surrounding whitespace trimmed.
pub const MAX_HEADER_LINE: usize = 8 * 1024;

/// The most Via values in one message. RFC 3261 allows any number, but a request arrives after
/// at most 70 hops with the recommended initial Max-Forwards (§8.1.1.6), each adding one Via.
pub const MAX_VIAS: usize = 70;
