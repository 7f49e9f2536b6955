//! The SIP leg driven by hand: requests in with a fake `now`, outputs checked as values.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use signaling::sip::message::{Message, Request, Response};
use signaling::sip::session_timer::SessionTimerConfig;
use signaling::sip::transaction::{Output, TimerConfig, TransactionLayer, TxEvent, TxId};

use super::*;
use crate::sip::peer::Transport;

const CALLER: &str = "127.0.0.1:5070";

fn peer() -> SipPeer {
    SipPeer {
        transport: Transport::Udp,
        remote: CALLER.parse().unwrap(),
        connection: None,
    }
}

fn config() -> LegConfig {
    LegConfig {
        timer: SessionTimerConfig {
            min_se: 90,
            interval: 1800,
            ..SessionTimerConfig::default()
        },
        contact: "<sip:tcn@127.0.0.1:5060;transport=udp>".parse().unwrap(),
        local_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        bound: SipBound {
            udp: Some(SocketAddr::from(([127, 0, 0, 1], 5060))),
            tcp: None,
            tls: None,
        },
    }
}

const SDP: &str = "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

fn request(text: &str) -> Request {
    match Message::parse(text.as_bytes()).unwrap() {
        Message::Request(request) => request,
        Message::Response(_) => panic!("not a request"),
    }
}

/// An INVITE (with `extra` headers) and the server transaction a real layer gives it.
fn invite(extra: &str) -> (Request, TxId) {
    let text = format!(
        "INVITE sip:test@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-inv1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:room@127.0.0.1>;tag=caller1\r\nTo: <sip:test@127.0.0.1>\r\n\
         Call-ID: leg-1\r\nCSeq: 1 INVITE\r\nContact: <sip:room@{CALLER}>\r\n{extra}\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    let invite = request(&text);
    let mut layer = TransactionLayer::new(TimerConfig::default());
    layer.handle_request(invite.clone(), peer(), Instant::now());
    let tx = std::iter::from_fn(|| layer.poll_output())
        .find_map(|output| match output {
            Output::Event(TxEvent::Request { tx, .. }) => Some(tx),
            _ => None,
        })
        .expect("the layer reports the INVITE");
    (invite, tx)
}

fn in_dialog(method: &str, cseq: u32, leg: &UasLeg, extra: &str, body: &str) -> Request {
    request(&format!(
        "{method} sip:tcn@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-{method}{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:room@127.0.0.1>;tag=caller1\r\nTo: <sip:test@127.0.0.1>;tag={tag}\r\n\
         Call-ID: leg-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:room@{CALLER}>\r\n{extra}\
         Content-Length: {}\r\n\r\n{body}",
        body.len(),
        tag = leg.local_tag()
    ))
}

fn outputs(leg: &mut UasLeg) -> Vec<LegOutput> {
    std::iter::from_fn(|| leg.poll_output()).collect()
}

fn responses(outputs: &[LegOutput]) -> Vec<u16> {
    outputs
        .iter()
        .filter_map(|o| match o {
            LegOutput::Respond(_, response) => Some(response.status.code()),
            _ => None,
        })
        .collect()
}

fn events(outputs: &[LegOutput]) -> Vec<LegEvent> {
    outputs
        .iter()
        .filter_map(|o| match o {
            LegOutput::Event(event) => Some(event.clone()),
            _ => None,
        })
        .collect()
}

fn sent(outputs: &[LegOutput]) -> Vec<(String, Sent)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            LegOutput::Send(request, _, sent) => Some((request.method.as_str().to_owned(), *sent)),
            _ => None,
        })
        .collect()
}

fn answered(extra: &str, now: Instant) -> UasLeg {
    let (invite, tx) = invite(extra);
    let mut leg = UasLeg::new(tx, &invite, &peer(), config()).unwrap();
    leg.accept("v=0 answer".to_owned(), now).unwrap();
    leg
}

#[test]
fn the_answer_carries_our_tag_sdp_and_capabilities_and_the_ack_confirms() {
    let now = Instant::now();
    let mut leg = answered("", now);
    let out = outputs(&mut leg);
    let [LegOutput::Respond(_, ok)] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(ok.status.code(), 200);
    assert_eq!(ok.to().unwrap().tag(), Some(leg.local_tag()));
    assert_eq!(ok.body, b"v=0 answer");
    assert!(ok.headers.get("Allow").unwrap().contains("UPDATE"));
    assert_eq!(ok.headers.get("Supported"), Some("timer"));
    assert!(!leg.is_early());
    leg.on_ack();
    assert_eq!(events(&outputs(&mut leg)), [LegEvent::Confirmed]);
    // A second ACK (a retransmission) says nothing more.
    leg.on_ack();
    assert!(outputs(&mut leg).is_empty());
}

#[test]
fn a_2xx_nobody_acks_ends_the_leg_once_without_a_bye() {
    let now = Instant::now();
    let mut leg = answered("", now);
    outputs(&mut leg);
    leg.on_ack_timeout();
    let out = outputs(&mut leg);
    assert_eq!(events(&out), [LegEvent::Ended(LegEnd::NoAck)]);
    assert!(sent(&out).is_empty(), "no confirmed dialog: no BYE");
    assert!(leg.is_ended());
    leg.on_ack_timeout();
    assert!(outputs(&mut leg).is_empty(), "the ending is reported once");
}

#[test]
fn an_acked_leg_ignores_a_late_ack_timeout() {
    let now = Instant::now();
    let mut leg = answered("", now);
    leg.on_ack();
    outputs(&mut leg);
    leg.on_ack_timeout();
    assert!(outputs(&mut leg).is_empty());
    assert!(!leg.is_ended());
}

#[test]
fn ringing_answers_at_its_time_and_a_cancel_before_it_ends_the_leg() {
    let now = Instant::now();
    let (first, tx) = invite("");
    let mut leg = UasLeg::new(tx, &first, &peer(), config()).unwrap();
    leg.accept_at("v=0 answer".to_owned(), now + Duration::from_secs(2), now)
        .unwrap();
    assert_eq!(responses(&outputs(&mut leg)), [180]);
    assert_eq!(leg.poll_timeout(), Some(now + Duration::from_secs(2)));
    leg.handle_timeout(now + Duration::from_secs(1));
    assert!(outputs(&mut leg).is_empty(), "not yet");
    leg.handle_timeout(now + Duration::from_secs(2));
    assert_eq!(responses(&outputs(&mut leg)), [200]);
    assert!(!leg.on_cancel(), "too late to cancel an answered call");

    let (second, tx) = invite("");
    let mut leg = UasLeg::new(tx, &second, &peer(), config()).unwrap();
    leg.accept_at("v=0".to_owned(), now + Duration::from_secs(2), now)
        .unwrap();
    outputs(&mut leg);
    assert!(leg.on_cancel());
    assert_eq!(
        events(&outputs(&mut leg)),
        [LegEvent::Ended(LegEnd::Cancelled)]
    );
    assert_eq!(leg.poll_timeout(), None);
}

#[test]
fn ending_an_unanswered_leg_is_a_final_response_with_our_tag_and_a_reason() {
    let (invite, tx) = invite("");
    let mut leg = UasLeg::new(tx, &invite, &peer(), config()).unwrap();
    leg.ring();
    let reason = Reason::q850(16).with_text("Node shutting down");
    leg.end(status(480), Some(&reason));
    let out = outputs(&mut leg);
    assert_eq!(responses(&out), [180, 480]);
    let LegOutput::Respond(_, refusal) = &out[1] else {
        panic!("{out:?}");
    };
    assert_eq!(refusal.to().unwrap().tag(), Some(leg.local_tag()));
    assert!(refusal.headers.get("Reason").unwrap().contains("cause=16"));
    assert_eq!(events(&out), [LegEvent::Ended(LegEnd::Local)]);
}

#[test]
fn ending_an_answered_leg_sends_a_bye_with_the_reason() {
    let now = Instant::now();
    let mut leg = answered("", now);
    leg.on_ack();
    outputs(&mut leg);
    leg.end(status(480), Some(&Reason::q850(16)));
    let out = outputs(&mut leg);
    let bye = out
        .iter()
        .find_map(|o| match o {
            LegOutput::Send(request, peer, Sent::Bye) => Some((request, peer)),
            _ => None,
        })
        .expect("a BYE");
    assert_eq!(bye.0.uri.to_string(), format!("sip:room@{CALLER}"));
    assert_eq!(bye.1.remote, CALLER.parse::<SocketAddr>().unwrap());
    assert!(bye.0.headers.get("Reason").unwrap().contains("Q.850"));
    assert_eq!(events(&out), [LegEvent::Ended(LegEnd::Local)]);
    leg.end(status(480), None);
    assert!(outputs(&mut leg).is_empty(), "ended once");
}

#[test]
fn in_dialog_requests_are_checked_and_become_events() {
    let now = Instant::now();
    let mut leg = answered("", now);
    leg.on_ack();
    outputs(&mut leg);
    let keep = |_: &SessionDescription| Ok(None);

    let info = in_dialog(
        "INFO",
        2,
        &leg,
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=5\r\nDuration=160\r\n",
    );
    assert_eq!(leg.on_request(&info, now, keep).unwrap().status.code(), 200);
    assert!(matches!(
        events(&outputs(&mut leg)).as_slice(),
        [LegEvent::Dtmf(_)]
    ));

    // A CSeq that goes back is refused (RFC 3261 §12.2.2), and says nothing.
    let stale = in_dialog("MESSAGE", 1, &leg, "Content-Type: text/plain\r\n", "hi");
    assert_eq!(
        leg.on_request(&stale, now, keep).unwrap_err().status.code(),
        500
    );
    let message = in_dialog("MESSAGE", 3, &leg, "Content-Type: text/plain\r\n", "hello");
    assert_eq!(
        leg.on_request(&message, now, keep).unwrap().status.code(),
        200
    );
    assert_eq!(
        events(&outputs(&mut leg)),
        [LegEvent::Message("hello".to_owned())]
    );
    let binary = in_dialog("MESSAGE", 4, &leg, "Content-Type: image/png\r\n", "x");
    assert_eq!(
        leg.on_request(&binary, now, keep)
            .unwrap_err()
            .status
            .code(),
        415
    );

    // Another dialog's request (a wrong To tag) is 481.
    let mut other = in_dialog("BYE", 5, &leg, "", "");
    other.headers.set("To", "<sip:test@127.0.0.1>;tag=nope");
    assert_eq!(
        leg.on_request(&other, now, keep).unwrap_err().status.code(),
        481
    );

    let bye = in_dialog("BYE", 6, &leg, "", "");
    assert_eq!(leg.on_request(&bye, now, keep).unwrap().status.code(), 200);
    assert_eq!(events(&outputs(&mut leg)), [LegEvent::Ended(LegEnd::Bye)]);
    let again = in_dialog("BYE", 7, &leg, "", "");
    assert_eq!(
        leg.on_request(&again, now, keep).unwrap_err().status.code(),
        481,
        "the dialog is gone"
    );
}

#[test]
fn a_reoffer_is_answered_by_the_far_end_or_with_the_current_sdp() {
    let now = Instant::now();
    let mut leg = answered("", now);
    leg.on_ack();
    let sdp_type = "Content-Type: application/sdp\r\n";
    let reinvite = in_dialog("INVITE", 2, &leg, sdp_type, SDP);
    let ok = leg
        .on_request(&reinvite, now, |_| Ok(Some("v=0 held".to_owned())))
        .unwrap();
    assert_eq!(ok.body, b"v=0 held");
    let reinvite = in_dialog("INVITE", 3, &leg, sdp_type, SDP);
    let ok = leg.on_request(&reinvite, now, |_| Ok(None)).unwrap();
    assert_eq!(ok.body, b"v=0 held", "the current SDP again");
    let reinvite = in_dialog("INVITE", 4, &leg, sdp_type, SDP);
    let refused = leg.on_request(&reinvite, now, |_| Err(488)).unwrap_err();
    assert_eq!(refused.status.code(), 488);
}

#[test]
fn the_refresher_re_invites_at_half_time_and_acks_each_2xx_with_one_ack() {
    let now = Instant::now();
    // We refresh (refresher=uas), every 45 s of a 90 s session.
    let mut leg = answered(
        "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n",
        now,
    );
    leg.on_ack();
    outputs(&mut leg);
    let due = leg.poll_timeout().expect("a refresh is scheduled");
    assert_eq!(due, now + Duration::from_secs(45));
    leg.handle_timeout(due);
    let out = outputs(&mut leg);
    let requests = sent(&out);
    let [(method, Sent::Refresh { cseq })] = requests.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(method, "INVITE");
    let LegOutput::Send(reinvite, ..) = &out[0] else {
        panic!()
    };
    assert_eq!(reinvite.body, b"v=0 answer", "the current SDP");
    let cseq = *cseq;

    let mut ok: Response = reinvite.response(status(200));
    ok.headers.set("To", "<sip:room@127.0.0.1>;tag=caller1");
    ok.headers.push("Contact", format!("<sip:room@{CALLER}>"));
    ok.headers.push("Session-Expires", "90;refresher=uac");
    leg.on_response(Sent::Refresh { cseq }, &ok, due);
    let first = outputs(&mut leg);
    leg.on_response(Sent::Refresh { cseq }, &ok, due);
    let second = outputs(&mut leg);
    let ack = |out: &[LegOutput]| match out {
        [LegOutput::Stateless(bytes, _)] => bytes.clone(),
        other => panic!("{other:?}"),
    };
    assert!(String::from_utf8_lossy(&ack(&first)).starts_with("ACK "));
    assert_eq!(
        ack(&first),
        ack(&second),
        "one ACK for every copy of the 2xx"
    );
    assert!(
        leg.poll_timeout().unwrap() > due,
        "the next refresh is scheduled"
    );
}

#[test]
fn a_failed_refresh_ends_the_call_with_a_bye_and_an_unrefreshed_session_expires() {
    let now = Instant::now();
    let mut leg = answered(
        "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n",
        now,
    );
    leg.on_ack();
    outputs(&mut leg);
    leg.handle_timeout(now + Duration::from_secs(45));
    outputs(&mut leg);
    leg.on_request_timeout(Sent::Refresh { cseq: 1 });
    let out = outputs(&mut leg);
    assert_eq!(sent(&out), [("BYE".to_owned(), Sent::Bye)]);
    assert_eq!(events(&out), [LegEvent::Ended(LegEnd::RefreshFailed)]);

    // The caller refreshes (refresher=uac) and never does: BYE at expiry.
    let mut leg = answered(
        "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n",
        now,
    );
    leg.on_ack();
    outputs(&mut leg);
    let expiry = leg.poll_timeout().expect("an expiry");
    leg.handle_timeout(expiry);
    let out = outputs(&mut leg);
    assert_eq!(sent(&out), [("BYE".to_owned(), Sent::Bye)]);
    assert_eq!(events(&out), [LegEvent::Ended(LegEnd::SessionExpired)]);
    assert_eq!(leg.poll_timeout(), None);
}

#[test]
fn a_session_interval_below_min_se_is_refused_with_422() {
    let (invite, tx) = invite("Supported: timer\r\nSession-Expires: 30\r\n");
    let refusal = UasLeg::new(tx, &invite, &peer(), config()).unwrap_err();
    assert_eq!(refusal.status.code(), 422);
    assert_eq!(refusal.headers.get("Min-SE"), Some("90"));
}

#[test]
fn a_message_to_the_caller_goes_in_the_dialog_once_answered() {
    let now = Instant::now();
    let (invite, tx) = invite("");
    let mut leg = UasLeg::new(tx, &invite, &peer(), config()).unwrap();
    leg.send_message("too early");
    assert!(sent(&outputs(&mut leg)).is_empty(), "no dialog yet");
    leg.accept("v=0 answer".to_owned(), now).unwrap();
    leg.on_ack();
    outputs(&mut leg);
    leg.send_message("Alice: hello");
    let out = outputs(&mut leg);
    let [LegOutput::Send(message, to, Sent::Message)] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(message.method.as_str(), "MESSAGE");
    assert_eq!(message.uri.to_string(), format!("sip:room@{CALLER}"));
    assert_eq!(message.to().unwrap().tag(), Some("caller1"));
    assert_eq!(message.from().unwrap().tag(), Some(leg.local_tag()));
    assert_eq!(
        message.headers.content_type(),
        Some("text/plain;charset=UTF-8")
    );
    assert_eq!(message.body, b"Alice: hello");
    assert_eq!(to.remote, CALLER.parse().unwrap());
    // Its answer, whatever it is, changes nothing.
    leg.on_response(Sent::Message, &message.response(status(404)), now);
    leg.on_request_timeout(Sent::Message);
    assert!(outputs(&mut leg).is_empty());
    assert!(!leg.is_ended());
}
