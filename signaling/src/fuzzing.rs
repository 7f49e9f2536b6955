//! Fuzz bodies for the SIP message layer, for cargo-fuzz targets (`fuzz/`) and for replaying
//! seed corpora on stable Rust. Each panics only on a broken invariant.

use crate::sip::message::limits::MAX_MESSAGE_SIZE;
use crate::sip::message::{Frame, Framer, Message};

/// Any bytes as a datagram: parsing answers `Ok` or `Err` without panicking, and a parsed
/// message prints to bytes that parse back to an equal message.
///
/// Printing may grow a message (canonical names for compact ones, an added Content-Length),
/// so one printed beyond [`MAX_MESSAGE_SIZE`] is not re-parsed.
pub fn message(data: &[u8]) {
    if let Ok(message) = Message::parse(data) {
        let printed = message.to_bytes();
        if printed.len() > MAX_MESSAGE_SIZE {
            return;
        }
        match Message::parse(&printed) {
            Ok(again) => assert_eq!(again, message, "round trip changed the message"),
            Err(e) => panic!(
                "printed message does not parse: {e}\n{}",
                String::from_utf8_lossy(&printed)
            ),
        }
    }
}

/// Any bytes as a stream, fed to a [`Framer`] in chunks whose sizes come from the data itself
/// and drained after each chunk: no panic, every message it yields round-trips, and after an
/// error it yields nothing more.
pub fn framer(data: &[u8]) {
    let Some((&seed, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(seed % 32) + 1;
    let mut framer = Framer::new();
    let mut failed = false;
    for piece in data.chunks(chunk) {
        framer.push(piece);
        while let Some(item) = framer.next_frame() {
            assert!(!failed, "framer yielded an item after an error");
            match item {
                Ok(Frame::Message(message)) => {
                    let printed = message.to_bytes();
                    if printed.len() <= MAX_MESSAGE_SIZE {
                        assert_eq!(Message::parse(&printed).ok(), Some(message));
                    }
                }
                Ok(Frame::Ping | Frame::Pong) => {}
                Err(_) => failed = true,
            }
        }
    }
    assert_eq!(framer.is_failed(), failed);
}

/// Arbitrary message sequences through a [`TransactionLayer`]: the data is split into messages
/// at `\0`; each one that parses is fed in (requests from one of two peers, responses), time
/// advances with the data, timers fire, and every new server transaction is answered with a
/// status taken from the input, and then an hour of timers runs. The layer must never panic.
pub fn transactions(data: &[u8]) {
    use std::time::Duration;

    use crate::sip::message::{Message, StatusCode};
    use crate::sip::transaction::{Output, Peer, TimerConfig, TransactionLayer, TxEvent};

    #[derive(Clone, Debug, PartialEq)]
    struct FuzzPeer(bool);
    impl Peer for FuzzPeer {
        fn is_reliable(&self) -> bool {
            self.0
        }
    }

    #[allow(clippy::disallowed_methods)] // the fuzz body needs one base instant
    let start = std::time::Instant::now();
    let mut now = start;
    let mut layer = TransactionLayer::new(TimerConfig::default());
    for (i, chunk) in data.split(|&b| b == 0).enumerate() {
        now += Duration::from_millis(u64::from(chunk.first().copied().unwrap_or(0)) * 20);
        layer.handle_timeout(now);
        match Message::parse(chunk) {
            Ok(Message::Request(request)) => {
                layer.handle_request(request, FuzzPeer(i % 2 == 0), now);
            }
            Ok(Message::Response(response)) => layer.handle_response(response, now),
            Err(_) => {}
        }
        while let Some(output) = layer.poll_output() {
            let Output::Event(TxEvent::Request { tx, request, .. }) = output else {
                continue;
            };
            let code = 100 + u16::from(chunk.last().copied().unwrap_or(0)) % 600;
            if let Some(status) = StatusCode::new(code) {
                let _ = layer.respond(tx, request.response(status), now);
            }
        }
    }
    let end = now + Duration::from_secs(3600);
    while let Some(at) = layer.poll_timeout().filter(|&at| at <= end) {
        layer.handle_timeout(at);
        while layer.poll_output().is_some() {}
    }
}
