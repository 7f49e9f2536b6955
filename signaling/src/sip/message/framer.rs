//! Cutting a byte stream (TCP, TLS) into SIP messages (RFC 3261 §18.3) and keep-alives
//! (RFC 5626 §3.5.1).

use super::error::{ParseError, ParseErrorKind};
use super::limits::MAX_MESSAGE_SIZE;
use super::parse::{find, parse_message, stream_content_length};
use super::sip_message::Message;

/// One item read from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "keep-alives are rare and a frame is moved once; boxing would tax every message"
)]
pub enum Frame {
    /// A complete message.
    Message(Message),
    /// A keep-alive ping, `CRLF CRLF` (RFC 5626 §3.5.1): answer it with a pong (`CRLF`).
    Ping,
    /// A keep-alive pong, a single `CRLF` (RFC 5626 §3.5.1), or a stray CRLF before a message
    /// (which RFC 3261 §7.5 says to ignore).
    Pong,
}

/// The stream cannot be read any further.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The stream carried something that is not a SIP message, a message without
    /// Content-Length, a header section or message over the [limits](super::limits), or a
    /// malformed message. Answer it if [`ParseError::bad_request_response`] gives bytes, then
    /// close the connection: where the next message starts is unknown.
    #[error("invalid message on the stream: {0}")]
    Invalid(ParseError),
}

/// Splits a stream into [`Frame`]s. Feed it with [`push`](Self::push) and drain it with
/// [`next_frame`](Self::next_frame) (or [`next_message`](Self::next_message)) until `None`
/// (more bytes are needed).
///
/// Every message must carry Content-Length (RFC 3261 §18.3). After an error the framer is
/// spent: it ignores further bytes and only answers `None`; close the connection.
///
/// A pong is a single CRLF, so a ping split between two reads right after its first CRLF
/// is seen as two pongs; clients send the ping's four octets in one write.
#[derive(Clone, Debug, Default)]
pub struct Framer {
    /// Received bytes; those before `start` are consumed.
    buf: Vec<u8>,
    start: usize,
    /// Where to resume looking for the end of the header section.
    scanned: usize,
    /// The total length of the message at the front, once its header section was read.
    pending: Option<usize>,
    failed: bool,
}

impl Framer {
    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the stream (ignored once the framer has failed).
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.failed {
            // Drop consumed bytes once per push, not once per message.
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.extend_from_slice(bytes);
        }
    }

    /// True once an error was returned.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// The number of bytes buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    /// The next complete message, skipping keep-alives; `None` if more bytes are needed.
    /// A server should prefer [`next_frame`](Self::next_frame), which reports pings to answer.
    pub fn next_message(&mut self) -> Option<Result<Message, FrameError>> {
        loop {
            match self.next_frame()? {
                Ok(Frame::Message(message)) => return Some(Ok(message)),
                Ok(Frame::Ping | Frame::Pong) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The next frame; `None` if more bytes are needed (or the framer has failed).
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        if self.failed {
            return None;
        }
        if self.pending.is_none() {
            let data = self.data();
            if data.starts_with(b"\r\n\r\n") {
                self.consume(4);
                return Some(Ok(Frame::Ping));
            }
            if data.starts_with(b"\r\n") {
                match data.get(2) {
                    // Perhaps the start of a ping: wait for its last octet.
                    Some(b'\r') if data.len() < 4 => return None,
                    _ => {
                        self.consume(2);
                        return Some(Ok(Frame::Pong));
                    }
                }
            }
            if data.is_empty() || data == b"\r" {
                return None;
            }
            let from = self.scanned.saturating_sub(3);
            let Some(end) = data.get(from..).and_then(|b| find(b, b"\r\n\r\n")) else {
                let len = data.len();
                self.scanned = len;
                if len > MAX_MESSAGE_SIZE {
                    return Some(Err(self.fail(ParseError::new(
                        ParseErrorKind::TooLarge,
                        format!("no end of the header section within {MAX_MESSAGE_SIZE} octets"),
                    ))));
                }
                return None;
            };
            let head_len = from + end;
            let length = match stream_content_length(data.get(..head_len).unwrap_or_default()) {
                Ok(length) => length,
                Err(e) => return Some(Err(self.fail(e))),
            };
            let total = head_len.saturating_add(4).saturating_add(length);
            if total > MAX_MESSAGE_SIZE {
                return Some(Err(self.fail(ParseError::new(
                    ParseErrorKind::TooLarge,
                    format!("{total} octets, more than {MAX_MESSAGE_SIZE}"),
                ))));
            }
            self.pending = Some(total);
        }
        let total = self.pending?;
        let parsed = parse_message(self.data().get(..total)?);
        self.consume(total);
        Some(match parsed {
            Ok(message) => Ok(Frame::Message(message)),
            Err(e) => Err(self.fail(e)),
        })
    }

    /// The bytes not yet consumed.
    fn data(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.buf.len());
        self.scanned = 0;
        self.pending = None;
    }

    fn fail(&mut self, e: ParseError) -> FrameError {
        self.failed = true;
        self.buf = Vec::new();
        self.start = 0;
        FrameError::Invalid(e)
    }
}
