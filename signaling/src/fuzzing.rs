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

/// Arbitrary message sequences through the dialog layer, session timers and the Reason header.
///
/// The data is split into messages at `\0`. The first request that parses, if it is an INVITE,
/// creates a UAS dialog (answered with [`dialog_response`](crate::sip::dialog::dialog_response)
/// and a status from the input) and is also taken as the INVITE we sent: the first response
/// that [`Dialog::from_uac`](crate::sip::dialog::Dialog::from_uac) accepts creates a UAC
/// dialog. Every later request goes to `check_remote_request` of both dialogs, every response
/// to `handle_response`; after each message each dialog builds a BYE (with a Reason), a
/// re-INVITE (with session timer headers) and an ACK. Every request goes through
/// [`negotiate_uas`](crate::sip::session_timer::negotiate_uas) with the default configuration,
/// every response through `UacSessionTimer::handle_422` and `handle_2xx`, and a
/// [`SessionTimer`](crate::sip::session_timer::SessionTimer) they negotiate is driven with times
/// taken from the data. Every chunk, every line of it, and every Reason header is read as a
/// Reason.
///
/// Invariants: no panic; every message built here prints to bytes that parse back to an equal
/// message (unless the peer's message was so near the parser's limits that ours exceeds them);
/// the local CSeq of a dialog never decreases; after `handle_timeout(now)` the timer's next
/// deadline is later than `now`, and a timer left alone expires within two deadlines; a Reason
/// that parses prints to text that parses back to an equal value.
pub fn dialogs(data: &[u8]) {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use crate::sip::dialog::{Dialog, DialogUpdate, OutgoingInvite, Reason, dialog_response};
    use crate::sip::message::{Host, Message, Method, NameAddr, Request, StatusCode, Via};
    use crate::sip::session_timer::{
        SessionExpires, SessionTimer, SessionTimerConfig, UacSessionTimer, negotiate_uas,
    };

    #[allow(clippy::disallowed_methods)] // the fuzz body needs one base instant
    let start = std::time::Instant::now();
    let mut now = start;
    let config = SessionTimerConfig::default();
    let mut uac_timer = UacSessionTimer::new(config);
    let mut timer: Option<SessionTimer> = None;
    let mut invite: Option<Request> = None;
    let mut seen_request = false;
    let mut uas: Option<Dialog> = None;
    let mut uac: Option<Dialog> = None;
    let mut reason = Reason::q850(16).with_text("fuzz");
    let mut branches = 0u32;
    let mut via = || {
        branches += 1;
        Via::new(
            "UDP",
            Host::Ipv4(Ipv4Addr::new(198, 51, 100, 1)),
            Some(5060),
            format!("z9hG4bKfuzz{branches}"),
        )
    };
    let contact: NameAddr = "<sip:gw@198.51.100.1:5060;transport=udp>"
        .parse()
        .expect("a valid Contact");

    for chunk in data.split(|&b| b == 0) {
        let first = chunk.first().copied().unwrap_or(0);
        let last = chunk.last().copied().unwrap_or(0);
        // Up to 255 * 8 s a step: enough to cross refresh and expiry deadlines of real
        // intervals (90 s to 1800 s and more).
        now += Duration::from_secs(u64::from(first) * 8);
        if let Ok(text) = std::str::from_utf8(chunk) {
            for candidate in std::iter::once(text).chain(text.lines()) {
                if let Ok(parsed) = reason_round_trip(candidate) {
                    reason = parsed;
                }
            }
        }
        let Ok(message) = Message::parse(chunk) else {
            drive_timer(timer.as_mut(), now, last & 1 == 1);
            continue;
        };
        if let Ok(values) = Reason::from_headers(message.headers()) {
            for value in values {
                let printed = value.to_string();
                assert_eq!(reason_round_trip(&printed).ok(), Some(value));
            }
        }
        if let Ok(Some(se)) = SessionExpires::from_headers(message.headers()) {
            let printed = se.to_string();
            assert_eq!(
                printed.parse::<SessionExpires>().ok(),
                Some(se),
                "{printed}"
            );
        }
        match message {
            Message::Request(request) => {
                if let Ok(decision) = negotiate_uas(&config, &request) {
                    let mut response =
                        request.response(decision.rejection().unwrap_or(StatusCode::OK));
                    decision.apply(&mut response);
                    assert_round_trip(&Message::Response(response));
                    if let Some(negotiated) = decision.negotiated() {
                        match timer.as_mut() {
                            Some(timer) => timer.renegotiated(negotiated, now),
                            None => timer = Some(SessionTimer::new(negotiated, now)),
                        }
                    }
                }
                if !seen_request {
                    seen_request = true;
                    if request.method == Method::Invite {
                        let code = 101 + u16::from(last) % 199;
                        let status = StatusCode::new(code).expect("101..=299");
                        let response = dialog_response(&request, status, "fuzz-uas", &contact);
                        assert_round_trip(&Message::Response(response.clone()));
                        uas = Dialog::from_uas(&request, &response, u32::from(first) << 24).ok();
                        if let (Ok(from), Ok(to), Ok(call_id)) =
                            (request.from(), request.to(), request.call_id())
                        {
                            let mut outgoing = OutgoingInvite::new(
                                request.uri.clone(),
                                from,
                                to,
                                contact.clone(),
                                call_id,
                                "fuzz-uac",
                            );
                            if let Ok(cseq) = request.cseq() {
                                outgoing = outgoing.with_cseq(cseq.seq);
                            }
                            let mut built = outgoing.build(via());
                            uac_timer.apply(&mut built);
                            assert_round_trip(&Message::Request(built));
                        }
                        invite = Some(request);
                    }
                } else {
                    for dialog in [uas.as_mut(), uac.as_mut()].into_iter().flatten() {
                        let before = dialog.clone();
                        if dialog.check_remote_request(&request).is_err() {
                            assert_eq!(*dialog, before, "a refused request changed the dialog");
                        }
                        assert_eq!(dialog.local_cseq(), before.local_cseq());
                    }
                }
            }
            Message::Response(response) => {
                // Any response, 422 or not: taken or refused, never a panic.
                let _ = uac_timer.handle_422(&response);
                if let Ok(Some(negotiated)) = uac_timer.handle_2xx(&response) {
                    match timer.as_mut() {
                        Some(timer) => timer.renegotiated(negotiated, now),
                        None => timer = Some(SessionTimer::new(negotiated, now)),
                    }
                }
                if let Some(timer) = timer.as_mut() {
                    let _ = timer.handle_refresh_response(&response, now);
                }
                if uac.is_none() {
                    if let Some(invite) = &invite {
                        uac = Dialog::from_uac(invite, &response).ok();
                    }
                } else if let Some(dialog) = uac.as_mut() {
                    let cseq = dialog.local_cseq();
                    if let Ok(DialogUpdate::Terminated) = dialog.handle_response(&response) {
                        uac = None;
                    } else {
                        assert_eq!(dialog.local_cseq(), cseq);
                    }
                }
                if let Some(dialog) = uas.as_mut() {
                    let cseq = dialog.local_cseq();
                    if let Ok(DialogUpdate::Terminated) = dialog.handle_response(&response) {
                        uas = None;
                    } else {
                        assert_eq!(dialog.local_cseq(), cseq);
                    }
                }
            }
        }
        for dialog in [uas.as_mut(), uac.as_mut()].into_iter().flatten() {
            build_in_dialog(dialog, &mut via, &reason, timer.as_ref(), &uac_timer, last);
        }
        drive_timer(timer.as_mut(), now, last & 1 == 1);
    }

    // Left alone, a timer expires: at most a refresh, then the expiry.
    if let Some(mut timer) = timer {
        let mut actions = 0;
        while let Some(at) = timer.poll_timeout() {
            assert!(timer.handle_timeout(at).is_some(), "a deadline passed idle");
            actions += 1;
            assert!(actions <= 2, "the timer keeps firing");
        }
    }
}

/// Parses `text` as a Reason; one that parses must print to text that parses back to an equal
/// value. Printing is canonical (protocol case, cause without leading zeros, text re-quoted,
/// no whitespace), so it may differ from `text`, but never changes the value: parsed text
/// cannot hold the CR or LF that quoting would turn into spaces.
fn reason_round_trip(text: &str) -> Result<crate::sip::dialog::Reason, ()> {
    use crate::sip::dialog::Reason;

    let reason: Reason = text.parse().map_err(|_| ())?;
    let printed = reason.to_string();
    match printed.parse::<Reason>() {
        Ok(again) => assert_eq!(again, reason, "Reason round trip: {text:?} -> {printed:?}"),
        Err(e) => panic!("printed Reason does not parse: {e}\n{text:?} -> {printed:?}"),
    }
    Ok(reason)
}

/// A message we built prints to bytes that parse back to an equal message. It may exceed the
/// parser's limits when the peer's message it copies from was near them (a full route set, a
/// header line near the longest): the parser must say so, as `TooLarge`.
fn assert_round_trip(message: &Message) {
    use crate::sip::message::ParseErrorKind;

    let printed = message.to_bytes();
    match Message::parse(&printed) {
        Ok(again) => assert_eq!(&again, message, "round trip changed a built message"),
        Err(e) if e.kind == ParseErrorKind::TooLarge => {}
        Err(e) => panic!(
            "a built message does not parse: {e}\n{}",
            String::from_utf8_lossy(&printed)
        ),
    }
}

/// Builds a BYE with `reason`, a re-INVITE with session timer headers and an ACK for the last
/// local CSeq in `dialog`: each round-trips, carries the dialog's CSeq, and the local CSeq
/// never decreases. A dialog is cloned for the BYE so that later messages still reach it.
fn build_in_dialog(
    dialog: &mut crate::sip::dialog::Dialog,
    via: &mut impl FnMut() -> crate::sip::message::Via,
    reason: &crate::sip::dialog::Reason,
    timer: Option<&crate::sip::session_timer::SessionTimer>,
    uac_timer: &crate::sip::session_timer::UacSessionTimer,
    choice: u8,
) {
    use crate::sip::dialog::{Body, Reason};
    use crate::sip::message::{Message, Method};

    let before = dialog.local_cseq();
    let mut reinvite = if choice & 2 == 0 {
        dialog.request(Method::Invite, via())
    } else {
        dialog.request_with_body(Method::Invite, via(), Body::sdp(&b"v=0\r\n"[..]))
    };
    let after = dialog.local_cseq();
    assert!(
        after >= before,
        "local CSeq went from {before:?} to {after:?}"
    );
    assert_eq!(reinvite.cseq().ok().map(|c| c.seq), after);
    match timer {
        Some(timer) => timer.refresh_headers(&mut reinvite),
        None => uac_timer.apply(&mut reinvite),
    }
    assert_round_trip(&Message::Request(reinvite));

    if let Some(seq) = after {
        let ack = dialog.ack_for_2xx(seq, via(), None);
        assert_eq!(dialog.local_cseq(), after, "an ACK moved the local CSeq");
        assert_eq!(ack.cseq().ok().map(|c| c.seq), Some(seq));
        assert_round_trip(&Message::Request(ack));
    }

    let mut ending = dialog.clone();
    let bye = ending.bye(via(), Some(reason));
    let bye_seq = ending.local_cseq();
    assert!(
        bye_seq >= after,
        "local CSeq went from {after:?} to {bye_seq:?}"
    );
    assert_eq!(bye.cseq().ok().map(|c| c.seq), bye_seq);
    assert_eq!(
        Reason::from_headers(&bye.headers).ok(),
        Some(vec![reason.clone()])
    );
    assert_round_trip(&Message::Request(bye));
}

/// Fires what is due at `now`: each action leaves the next deadline after `now` (or none), and
/// at most a refresh and an expiry are due at once. On a refresh, `refresh_succeeds` says
/// whether the refresh went through (the timer starts over at `now`).
fn drive_timer(
    timer: Option<&mut crate::sip::session_timer::SessionTimer>,
    now: std::time::Instant,
    refresh_succeeds: bool,
) {
    use crate::sip::session_timer::TimerAction;

    let Some(timer) = timer else {
        return;
    };
    let mut actions = 0;
    while let Some(action) = timer.handle_timeout(now) {
        actions += 1;
        assert!(
            actions <= 2,
            "the timer fired {actions} times at one instant"
        );
        if let Some(next) = timer.poll_timeout() {
            assert!(
                next > now,
                "after {action:?} the next deadline is not after now"
            );
        }
        if action == TimerAction::Refresh && refresh_succeeds {
            timer.refreshed(now);
            break;
        }
    }
    if let Some(next) = timer.poll_timeout() {
        assert!(
            next > now || timer.interval().is_zero(),
            "a deadline at or before now stayed pending"
        );
    }
}
