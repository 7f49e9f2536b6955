//! The transaction layer with real SIP messages and fake time: matching, retransmission,
//! absorption, CANCEL, the ACK for a 2xx, timeouts.

use std::time::{Duration, Instant};

use signaling::sip::message::{Message, Method, Request, Response, StatusCode};
use signaling::sip::transaction::{Output, Peer, TimerConfig, TransactionLayer, TxEvent, TxId};

#[derive(Clone, Debug, PartialEq)]
struct TestPeer {
    name: &'static str,
    reliable: bool,
}

impl Peer for TestPeer {
    fn is_reliable(&self) -> bool {
        self.reliable
    }
}

const UDP: TestPeer = TestPeer {
    name: "vtc",
    reliable: false,
};
const TCP: TestPeer = TestPeer {
    name: "vtc",
    reliable: true,
};

#[allow(clippy::disallowed_methods)] // one real instant; everything else is fake time
fn t0() -> Instant {
    Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn request(method: &str, branch: &str, cseq: u32) -> Request {
    let text = format!(
        "{method} sip:1234567890123@gw.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:room@example.com>;tag=abc\r\n\
         To: <sip:1234567890123@gw.example.com>\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: {cseq} {method}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    Request::parse(text.as_bytes()).unwrap()
}

fn response_to(request: &Request, status: StatusCode) -> Response {
    let mut response = request.response(status);
    if status.code() > 100 {
        let to = response.headers.get("To").unwrap().to_owned();
        response.headers.set("To", format!("{to};tag=gw1"));
    }
    response
}

/// Everything the layer wants to send (parsed) and every event, in order.
fn drain(layer: &mut TransactionLayer<TestPeer>) -> (Vec<Message>, Vec<TxEvent<TestPeer>>) {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    while let Some(output) = layer.poll_output() {
        match output {
            Output::Transmit { bytes, .. } => sent.push(Message::parse(&bytes).unwrap()),
            Output::Event(event) => events.push(event),
        }
    }
    (sent, events)
}

fn status_of(message: &Message) -> u16 {
    match message {
        Message::Response(r) => r.status.code(),
        Message::Request(_) => 0,
    }
}

/// Fires every timer up to `end`; returns (time in ms, statuses sent) for each transmission.
fn run_timers(
    layer: &mut TransactionLayer<TestPeer>,
    t0: Instant,
    end: Duration,
) -> (Vec<(u128, u16)>, Vec<TxEvent<TestPeer>>) {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    while let Some(at) = layer.poll_timeout() {
        if at > t0 + end {
            break;
        }
        layer.handle_timeout(at);
        let (out, ev) = drain(layer);
        sent.extend(out.iter().map(|m| ((at - t0).as_millis(), status_of(m))));
        events.extend(ev);
    }
    (sent, events)
}

fn new_request_tx(events: &[TxEvent<TestPeer>]) -> TxId {
    events
        .iter()
        .find_map(|e| match e {
            TxEvent::Request { tx, .. } => Some(*tx),
            _ => None,
        })
        .expect("a Request event")
}

#[test]
fn invite_is_answered_trying_and_retransmissions_replay_the_last_provisional() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-1", 1);
    layer.handle_request(invite.clone(), UDP, t0);
    let (sent, events) = drain(&mut layer);
    assert_eq!(sent.iter().map(status_of).collect::<Vec<_>>(), [100]);
    let tx = new_request_tx(&events);
    layer
        .respond(tx, response_to(&invite, StatusCode::RINGING), t0)
        .unwrap();
    assert_eq!(
        drain(&mut layer)
            .0
            .iter()
            .map(status_of)
            .collect::<Vec<_>>(),
        [180]
    );
    // The INVITE again: the 180 again, and no new transaction.
    layer.handle_request(invite, UDP, t0 + ms(500));
    let (sent, events) = drain(&mut layer);
    assert_eq!(sent.iter().map(status_of).collect::<Vec<_>>(), [180]);
    assert!(events.is_empty());
    assert_eq!(layer.active(), 1);
}

#[test]
fn non_2xx_is_retransmitted_until_the_ack_then_absorbed() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-2", 1);
    layer.handle_request(invite.clone(), UDP, t0);
    let tx = new_request_tx(&drain(&mut layer).1);
    layer
        .respond(tx, response_to(&invite, StatusCode::BUSY_HERE), t0)
        .unwrap();
    drain(&mut layer);
    let (sent, _) = run_timers(&mut layer, t0, ms(2000));
    assert_eq!(sent, [(500, 486), (1500, 486)]);
    // The ACK for the 486 carries the INVITE's branch: it matches the transaction and is absorbed.
    let ack = request("ACK", "z9hG4bK-2", 1);
    layer.handle_request(ack, UDP, t0 + ms(2000));
    let (sent, events) = drain(&mut layer);
    assert!(sent.is_empty() && events.is_empty());
    let (sent, events) = run_timers(&mut layer, t0, Duration::from_secs(60));
    assert!(sent.is_empty(), "no retransmission after the ACK: {sent:?}");
    assert!(events.is_empty());
    assert_eq!(layer.active(), 0, "Timer I ended it");
}

#[test]
fn two_hundred_is_retransmitted_until_the_ack_with_a_new_branch() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-3", 7);
    layer.handle_request(invite.clone(), UDP, t0);
    let tx = new_request_tx(&drain(&mut layer).1);
    layer
        .respond(tx, response_to(&invite, StatusCode::OK), t0)
        .unwrap();
    drain(&mut layer);
    let (sent, _) = run_timers(&mut layer, t0, ms(1600));
    assert_eq!(sent, [(500, 200), (1500, 200)]);
    // RFC 3261 §17.1.1.3: the ACK for a 2xx is its own transaction, with a new branch.
    layer.handle_request(request("ACK", "z9hG4bK-ack", 7), UDP, t0 + ms(1600));
    let (sent, events) = drain(&mut layer);
    assert!(sent.is_empty());
    assert!(matches!(events.as_slice(), [TxEvent::Ack { invite: Some(id), .. }] if *id == tx));
    let (sent, events) = run_timers(&mut layer, t0, Duration::from_secs(60));
    assert!(sent.is_empty());
    assert!(events.is_empty(), "no AckTimeout: {events:?}");
    assert_eq!(layer.active(), 0, "Timer L ended it");
}

#[test]
fn an_unacknowledged_final_is_reported() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-4", 1);
    layer.handle_request(invite.clone(), TCP, t0);
    let tx = new_request_tx(&drain(&mut layer).1);
    layer
        .respond(tx, response_to(&invite, StatusCode::OK), t0)
        .unwrap();
    drain(&mut layer);
    let (sent, events) = run_timers(&mut layer, t0, Duration::from_secs(60));
    assert!(sent.is_empty(), "TCP: no retransmissions");
    assert!(matches!(events.as_slice(), [TxEvent::AckTimeout { tx: id }] if *id == tx));
}

#[test]
fn cancel_finds_its_invite_and_a_stray_cancel_gets_481() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-5", 1);
    layer.handle_request(invite.clone(), UDP, t0);
    let invite_tx = new_request_tx(&drain(&mut layer).1);
    let cancel = request("CANCEL", "z9hG4bK-5", 1);
    layer.handle_request(cancel.clone(), UDP, t0 + ms(100));
    let (_, events) = drain(&mut layer);
    let cancel_tx = match events.as_slice() {
        [TxEvent::Cancel { cancel, invite, .. }] => {
            assert_eq!(*invite, invite_tx);
            *cancel
        }
        other => panic!("expected Cancel, got {other:?}"),
    };
    layer
        .respond(cancel_tx, response_to(&cancel, StatusCode::OK), t0)
        .unwrap();
    layer
        .respond(
            invite_tx,
            response_to(&invite, StatusCode::REQUEST_TERMINATED),
            t0,
        )
        .unwrap();
    let statuses: Vec<u16> = drain(&mut layer).0.iter().map(status_of).collect();
    assert_eq!(statuses, [200, 487]);

    layer.handle_request(request("CANCEL", "z9hG4bK-none", 1), UDP, t0);
    let (sent, events) = drain(&mut layer);
    assert_eq!(sent.iter().map(status_of).collect::<Vec<_>>(), [481]);
    assert!(events.is_empty());
}

#[test]
fn client_non_invite_retransmits_and_absorbs_duplicate_responses() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let options = request("OPTIONS", "z9hG4bK-out1", 1);
    let tx = layer.send_request(options.clone(), UDP, t0).unwrap();
    assert_eq!(drain(&mut layer).0.len(), 1);
    let (sent, _) = run_timers(&mut layer, t0, ms(4000));
    assert_eq!(
        sent.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [500, 1500, 3500]
    );
    let ok = response_to(&options, StatusCode::OK);
    layer.handle_response(ok.clone(), t0 + ms(4000));
    let (_, events) = drain(&mut layer);
    assert!(
        matches!(events.as_slice(), [TxEvent::Response { tx: id, response }] if *id == tx && response.status == StatusCode::OK)
    );
    layer.handle_response(ok, t0 + ms(4100));
    assert!(
        drain(&mut layer).1.is_empty(),
        "a retransmitted 200 is absorbed"
    );
}

#[test]
fn client_invite_acks_a_failure_itself() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bK-out2", 3);
    layer.send_request(invite.clone(), UDP, t0).unwrap();
    drain(&mut layer);
    layer.handle_response(response_to(&invite, StatusCode::NOT_FOUND), t0 + ms(50));
    let (sent, events) = drain(&mut layer);
    let [Message::Request(ack)] = sent.as_slice() else {
        panic!("an ACK, got {sent:?}");
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.cseq().unwrap().seq, 3);
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
    assert_eq!(
        ack.top_via().unwrap().branch.as_deref(),
        Some("z9hG4bK-out2")
    );
    assert_eq!(ack.to().unwrap().tag(), Some("gw1"), "To from the response");
    assert_eq!(events.len(), 1);
}

#[test]
fn client_timeout_is_reported_after_64_t1() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let tx = layer
        .send_request(request("INVITE", "z9hG4bK-out3", 1), UDP, t0)
        .unwrap();
    drain(&mut layer);
    let (sent, events) = run_timers(&mut layer, t0, Duration::from_secs(40));
    assert_eq!(sent.len(), 6, "Timer A retransmissions");
    assert!(matches!(events.as_slice(), [TxEvent::Timeout { tx: id }] if *id == tx));
    assert_eq!(layer.active(), 0);
}

#[test]
fn requests_without_a_branch_or_acks_are_refused_for_sending() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    assert!(
        layer
            .send_request(request("OPTIONS", "2543-style", 1), UDP, t0)
            .is_err()
    );
    assert!(
        layer
            .send_request(request("ACK", "z9hG4bK-a", 1), UDP, t0)
            .is_err()
    );
    let stray = response_to(&request("OPTIONS", "z9hG4bK-never", 1), StatusCode::OK);
    layer.handle_response(stray, t0);
    assert_eq!(layer.stray_responses(), 1);
}

#[test]
fn rfc_2543_retransmissions_are_matched_without_a_magic_cookie() {
    let t0 = t0();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let old = request("OPTIONS", "2543branch", 1);
    layer.handle_request(old.clone(), UDP, t0);
    let tx = new_request_tx(&drain(&mut layer).1);
    layer.handle_request(old.clone(), UDP, t0 + ms(500));
    assert!(
        drain(&mut layer).1.is_empty(),
        "recognised as a retransmission"
    );
    layer
        .respond(tx, response_to(&old, StatusCode::OK), t0)
        .unwrap();
    drain(&mut layer);
    layer.handle_request(old, UDP, t0 + ms(900));
    assert_eq!(
        drain(&mut layer)
            .0
            .iter()
            .map(status_of)
            .collect::<Vec<_>>(),
        [200]
    );
}
