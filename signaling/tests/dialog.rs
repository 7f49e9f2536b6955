//! Dialogs (RFC 3261 §12) on both sides of a call, from literal SIP messages: creation, the
//! requests we build inside them (printed, then parsed back), the checks on the peer's
//! requests and responses, and the RFC 3326 Reason header.

use std::net::Ipv4Addr;

use signaling::sip::dialog::{
    Body, Dialog, DialogError, DialogId, DialogRole, DialogState, DialogUpdate, OutgoingInvite,
    Reason, ReasonProtocol, dialog_response,
};
use signaling::sip::message::{Host, Method, NameAddr, Request, Response, StatusCode, Uri, Via};

fn parse_request(text: &str) -> Request {
    Request::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn parse_response(text: &str) -> Response {
    Response::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The request as printed, after checking that it parses back to itself.
fn printed(request: &Request) -> String {
    let bytes = request.to_bytes();
    assert_eq!(&Request::parse(&bytes).unwrap(), request, "round trip");
    String::from_utf8(bytes).unwrap()
}

fn via(branch: &str) -> Via {
    Via::new(
        "UDP",
        Host::Ipv4(Ipv4Addr::new(198, 51, 100, 1)),
        Some(5060),
        branch,
    )
}

fn addr(text: &str) -> NameAddr {
    text.parse().unwrap()
}

/// A room system calling the gateway through two record-routing proxies.
const INVITE_VIA_PROXIES: &str = "INVITE sip:meet@gw.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bKp2\r\n\
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKvtc1\r\n\
Record-Route: <sip:p2.example.com;lr>\r\n\
Record-Route: <sip:p1.example.com;lr>;x=1\r\n\
Max-Forwards: 68\r\n\
From: \"Room 1\" <sip:room1@example.com>;tag=vtc-tag\r\n\
To: <sip:meet@gw.example.com>\r\n\
Call-ID: call-1@192.0.2.10\r\n\
CSeq: 314 INVITE\r\n\
Contact: <sip:room1@192.0.2.10:5060;transport=udp>\r\n\
Content-Length: 0\r\n\r\n";

fn our_contact() -> NameAddr {
    addr("<sip:gw@198.51.100.1:5060;transport=udp>;isfocus")
}

/// The UAS dialog of [`INVITE_VIA_PROXIES`], answered 200 with tag `gw-tag`.
fn uas_dialog() -> (Request, Dialog) {
    let invite = parse_request(INVITE_VIA_PROXIES);
    let ok = dialog_response(&invite, StatusCode::OK, "gw-tag", &our_contact());
    let dialog = Dialog::from_uas(&invite, &ok, 1).unwrap();
    (invite, dialog)
}

/// An in-dialog request from the room system to the gateway.
fn from_vtc(method: &str, cseq: u32, to_tag: &str, extra: &str) -> Request {
    parse_request(&format!(
        "{method} sip:gw@198.51.100.1:5060;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKvtc{cseq}\r\n\
         Route: <sip:p1.example.com;lr>\r\n\
         Max-Forwards: 70\r\n\
         From: \"Room 1\" <sip:room1@example.com>;tag=vtc-tag\r\n\
         To: <sip:meet@gw.example.com>;tag={to_tag}\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: {cseq} {method}\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    ))
}

#[test]
fn uas_response_copies_record_route_and_sets_tag_and_contact() {
    let invite = parse_request(INVITE_VIA_PROXIES);
    let ok = dialog_response(&invite, StatusCode::OK, "gw-tag", &our_contact());
    assert_eq!(
        ok.headers.get_all("Record-Route").collect::<Vec<_>>(),
        vec!["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>;x=1"]
    );
    assert_eq!(
        ok.headers.get("To"),
        Some("<sip:meet@gw.example.com>;tag=gw-tag")
    );
    assert_eq!(
        ok.headers.get("Contact"),
        Some("<sip:gw@198.51.100.1:5060;transport=udp>;isfocus")
    );
    assert_eq!(ok.headers.get_all("Via").count(), 3);
    assert_eq!(Response::parse(&ok.to_bytes()).unwrap(), ok);
}

#[test]
fn uas_dialog_from_invite_with_record_route() {
    let (_, dialog) = uas_dialog();
    assert_eq!(dialog.role(), DialogRole::Uas);
    assert_eq!(dialog.state(), DialogState::Confirmed);
    assert_eq!(dialog.call_id(), "call-1@192.0.2.10");
    assert_eq!(dialog.local_tag(), "gw-tag");
    assert_eq!(dialog.remote_tag(), Some("vtc-tag"));
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room1@192.0.2.10:5060;transport=udp"
    );
    let routes: Vec<String> = dialog.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        routes,
        vec!["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>;x=1"]
    );
    assert_eq!(dialog.remote_cseq(), Some(314));
    assert_eq!(dialog.local_cseq(), None);
    assert_eq!(dialog.local_uri().to_string(), "<sip:meet@gw.example.com>");
    assert_eq!(
        dialog.remote_uri().to_string(),
        "Room 1 <sip:room1@example.com>"
    );
    assert_eq!(
        dialog.local_target().map(ToString::to_string).as_deref(),
        Some("<sip:gw@198.51.100.1:5060;transport=udp>;isfocus")
    );
    assert!(!dialog.is_secure());
    assert_eq!(
        dialog.id(),
        &DialogId {
            call_id: "call-1@192.0.2.10".into(),
            local_tag: "gw-tag".into(),
            remote_tag: Some("vtc-tag".into()),
        }
    );
}

#[test]
fn uas_bye_has_route_set_swapped_tags_next_cseq_and_reason() {
    let (_, mut dialog) = uas_dialog();
    let reason = Reason::sip(StatusCode::OK).with_text("Call completed by the node");
    let bye = dialog.bye(via("z9hG4bKbye1"), Some(&reason));
    assert_eq!(
        printed(&bye),
        "BYE sip:room1@192.0.2.10:5060;transport=udp SIP/2.0\r\n\
         Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbye1\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:p2.example.com;lr>\r\n\
         Route: <sip:p1.example.com;lr>;x=1\r\n\
         From: <sip:meet@gw.example.com>;tag=gw-tag\r\n\
         To: Room 1 <sip:room1@example.com>;tag=vtc-tag\r\n\
         Call-ID: call-1@192.0.2.10\r\n\
         CSeq: 1 BYE\r\n\
         Reason: SIP;cause=200;text=\"Call completed by the node\"\r\n\
         Content-Length: 0\r\n\r\n"
    );
    assert_eq!(dialog.local_cseq(), Some(1));
    assert_eq!(
        Reason::from_headers(&bye.headers).unwrap(),
        vec![reason.clone()]
    );

    // The next request takes the next number; ACK and CANCEL take none.
    let info = dialog.request(Method::Info, via("z9hG4bKinfo"));
    assert_eq!(info.headers.get("CSeq"), Some("2 INFO"));
    let cancel = dialog.request(Method::Cancel, via("z9hG4bKinfo"));
    assert_eq!(cancel.headers.get("CSeq"), Some("2 CANCEL"));
    let options = dialog.request(Method::Options, via("z9hG4bKopt"));
    assert_eq!(options.headers.get("CSeq"), Some("3 OPTIONS"));
    assert_eq!(dialog.local_cseq(), Some(3));
    // Only target refresh requests carry our Contact.
    assert_eq!(options.headers.get("Contact"), None);
}

#[test]
fn uas_first_local_cseq_is_a_parameter_kept_below_2_pow_31() {
    let invite = parse_request(INVITE_VIA_PROXIES);
    let ok = dialog_response(&invite, StatusCode::OK, "gw-tag", &our_contact());
    let mut dialog = Dialog::from_uas(&invite, &ok, 0x8000_0007).unwrap();
    let bye = dialog.bye(via("z9hG4bKb"), None);
    assert_eq!(bye.headers.get("CSeq"), Some("7 BYE"));
    assert_eq!(bye.headers.get("Reason"), None);
}

#[test]
fn uas_reinvite_carries_contact_and_body() {
    let (_, mut dialog) = uas_dialog();
    let sdp = "v=0\r\no=- 1 2 IN IP4 198.51.100.1\r\ns=-\r\nt=0 0\r\n";
    let reinvite =
        dialog.request_with_body(Method::Invite, via("z9hG4bKre"), Body::sdp(sdp.as_bytes()));
    let text = printed(&reinvite);
    assert!(text.starts_with("INVITE sip:room1@192.0.2.10:5060;transport=udp SIP/2.0\r\n"));
    assert_eq!(reinvite.headers.get("CSeq"), Some("1 INVITE"));
    assert_eq!(
        reinvite.headers.get("Contact"),
        Some("<sip:gw@198.51.100.1:5060;transport=udp>;isfocus")
    );
    assert_eq!(
        reinvite.headers.get("Content-Type"),
        Some("application/sdp")
    );
    assert_eq!(reinvite.body, sdp.as_bytes());
    assert!(text.ends_with(&format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len())));
}

#[test]
fn message_inside_the_dialog() {
    let (_, mut dialog) = uas_dialog();
    let message = dialog.request_with_body(
        Method::Message,
        via("z9hG4bKmsg"),
        Body::new("text/plain;charset=UTF-8", "Welcome to the meeting"),
    );
    let text = printed(&message);
    assert!(text.starts_with("MESSAGE sip:room1@192.0.2.10:5060;transport=udp SIP/2.0\r\n"));
    assert_eq!(message.headers.get("CSeq"), Some("1 MESSAGE"));
    assert_eq!(
        message.headers.get("Content-Type"),
        Some("text/plain;charset=UTF-8")
    );
    assert_eq!(message.headers.get("Contact"), None);
    assert_eq!(message.body, b"Welcome to the meeting");
}

#[test]
fn lower_cseq_is_rejected_500_and_changes_nothing() {
    let (_, mut dialog) = uas_dialog();
    let stale = from_vtc("INFO", 313, "gw-tag", "");
    let err = dialog.check_remote_request(&stale).unwrap_err();
    assert_eq!(
        err,
        DialogError::OutOfOrder {
            received: 313,
            remote: 314
        }
    );
    assert_eq!(err.sip_status(), StatusCode::SERVER_INTERNAL_ERROR);
    assert_eq!(dialog.remote_cseq(), Some(314));

    dialog
        .check_remote_request(&from_vtc("INFO", 320, "gw-tag", ""))
        .unwrap();
    assert_eq!(dialog.remote_cseq(), Some(320));
    // The ACK for the 2xx carries the INVITE's number and is not ordered.
    dialog
        .check_remote_request(&from_vtc("ACK", 314, "gw-tag", ""))
        .unwrap();
    assert_eq!(dialog.remote_cseq(), Some(320));
    assert_eq!(
        dialog
            .check_remote_request(&from_vtc("BYE", 319, "gw-tag", ""))
            .unwrap_err()
            .sip_status()
            .code(),
        500
    );
}

#[test]
fn wrong_tag_or_call_id_is_481() {
    let (_, mut dialog) = uas_dialog();
    let err = dialog
        .check_remote_request(&from_vtc("BYE", 315, "other-tag", ""))
        .unwrap_err();
    assert_eq!(err, DialogError::NoSuchDialog);
    assert_eq!(
        err.sip_status(),
        StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST
    );

    let mut wrong_from = from_vtc("BYE", 315, "gw-tag", "");
    wrong_from.headers.set(
        "From",
        "\"Room 1\" <sip:room1@example.com>;tag=someone-else",
    );
    assert_eq!(
        dialog.check_remote_request(&wrong_from),
        Err(DialogError::NoSuchDialog)
    );
    let mut wrong_call = from_vtc("BYE", 315, "gw-tag", "");
    wrong_call.headers.set("Call-ID", "call-2@192.0.2.10");
    assert_eq!(
        dialog.check_remote_request(&wrong_call),
        Err(DialogError::NoSuchDialog)
    );
    assert_eq!(dialog.remote_cseq(), Some(314));

    // The right one passes, and DialogId finds the dialog.
    let bye = from_vtc("BYE", 315, "gw-tag", "");
    assert_eq!(DialogId::of_request(&bye).as_ref(), Some(dialog.id()));
    dialog.check_remote_request(&bye).unwrap();
}

#[test]
fn reinvite_updates_remote_target() {
    let (_, mut dialog) = uas_dialog();
    let reinvite = from_vtc(
        "INVITE",
        315,
        "gw-tag",
        "Contact: <sip:room1@192.0.2.99:5070;transport=tcp>\r\n",
    );
    dialog.check_remote_request(&reinvite).unwrap();
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room1@192.0.2.99:5070;transport=tcp"
    );
    let bye = dialog.bye(via("z9hG4bKb2"), None);
    assert_eq!(
        bye.uri.to_string(),
        "sip:room1@192.0.2.99:5070;transport=tcp"
    );

    // A non-target-refresh request does not move the target.
    dialog
        .check_remote_request(&from_vtc(
            "INFO",
            316,
            "gw-tag",
            "Contact: <sip:elsewhere@192.0.2.200>\r\n",
        ))
        .unwrap();
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room1@192.0.2.99:5070;transport=tcp"
    );

    // Two Contacts in a target refresh: 400, nothing changes.
    let err = dialog
        .check_remote_request(&from_vtc(
            "UPDATE",
            317,
            "gw-tag",
            "Contact: <sip:a@192.0.2.1>, <sip:b@192.0.2.2>\r\n",
        ))
        .unwrap_err();
    assert_eq!(err.sip_status(), StatusCode::BAD_REQUEST);
    assert_eq!(dialog.remote_cseq(), Some(316));
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room1@192.0.2.99:5070;transport=tcp"
    );
}

#[test]
fn invite_without_contact_makes_no_dialog() {
    let invite = parse_request(
        &INVITE_VIA_PROXIES.replace("Contact: <sip:room1@192.0.2.10:5060;transport=udp>\r\n", ""),
    );
    let ok = dialog_response(&invite, StatusCode::OK, "gw-tag", &our_contact());
    let err = Dialog::from_uas(&invite, &ok, 1).unwrap_err();
    assert_eq!(err, DialogError::MissingHeader("Contact"));
    assert_eq!(err.sip_status(), StatusCode::BAD_REQUEST);

    let invite = parse_request(INVITE_VIA_PROXIES);
    let trying = invite.response(StatusCode::TRYING);
    assert_eq!(
        Dialog::from_uas(&invite, &trying, 1),
        Err(DialogError::NotDialogCreating(StatusCode::TRYING))
    );
}

#[test]
fn uas_early_dialog_is_confirmed_by_the_2xx() {
    let invite = parse_request(INVITE_VIA_PROXIES);
    let ringing = dialog_response(&invite, StatusCode::RINGING, "gw-tag", &our_contact());
    let mut dialog = Dialog::from_uas(&invite, &ringing, 1).unwrap();
    assert_eq!(dialog.state(), DialogState::Early);
    dialog.confirm();
    assert_eq!(dialog.state(), DialogState::Confirmed);
}

fn outgoing_invite() -> OutgoingInvite {
    OutgoingInvite::new(
        "sip:room2@vtc.example.net".parse::<Uri>().unwrap(),
        addr("\"Meet gateway\" <sip:meet@gw.example.com>"),
        addr("<sip:room2@vtc.example.net>"),
        addr("<sip:gw@198.51.100.1:5060>"),
        "out-1@gw.example.com",
        "gw-out",
    )
    .with_route(addr("<sip:outbound.example.com;lr>"))
    .with_body(Body::sdp("v=0\r\n"))
}

#[test]
fn outgoing_invite_is_built_as_rfc3261_asks() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    assert_eq!(
        printed(&invite),
        "INVITE sip:room2@vtc.example.net SIP/2.0\r\n\
         Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKinv1\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:outbound.example.com;lr>\r\n\
         From: Meet gateway <sip:meet@gw.example.com>;tag=gw-out\r\n\
         To: <sip:room2@vtc.example.net>\r\n\
         Call-ID: out-1@gw.example.com\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:gw@198.51.100.1:5060>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: 5\r\n\r\n\
         v=0\r\n"
    );
    let retry = outgoing_invite().with_cseq(2).build(via("z9hG4bKinv2"));
    assert_eq!(retry.headers.get("CSeq"), Some("2 INVITE"));
}

/// The callee's answer: the proxies record-routed; p2 is next to the callee.
fn ok_from_callee(invite: &Request, status: &str, record_route: &str) -> Response {
    parse_response(&format!(
        "SIP/2.0 {status}\r\n\
         Via: {via}\r\n\
         Record-Route: {record_route}\r\n\
         From: {from}\r\n\
         To: <sip:room2@vtc.example.net>;tag=callee-tag\r\n\
         Call-ID: out-1@gw.example.com\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:room2@203.0.113.7:5060>\r\n\
         Content-Length: 0\r\n\r\n",
        via = invite.headers.get("Via").unwrap(),
        from = invite.headers.get("From").unwrap(),
    ))
}

#[test]
fn uac_dialog_reverses_the_record_route() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    let ok = ok_from_callee(
        &invite,
        "200 OK",
        "<sip:p2.example.net;lr>, <sip:p1.example.net;lr>",
    );
    let mut dialog = Dialog::from_uac(&invite, &ok).unwrap();
    assert_eq!(dialog.role(), DialogRole::Uac);
    assert_eq!(dialog.state(), DialogState::Confirmed);
    assert_eq!(dialog.local_tag(), "gw-out");
    assert_eq!(dialog.remote_tag(), Some("callee-tag"));
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room2@203.0.113.7:5060"
    );
    let routes: Vec<String> = dialog.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        routes,
        vec!["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"]
    );
    assert_eq!(dialog.local_cseq(), Some(1));
    assert_eq!(dialog.remote_cseq(), None);
    assert_eq!(DialogId::of_response(&ok).as_ref(), Some(dialog.id()));

    // The ACK for the 2xx: the INVITE's number, method ACK, no Contact, the SDP answer.
    let ack = dialog.ack_for_2xx(1, via("z9hG4bKack1"), Some(Body::sdp("v=0\r\n")));
    assert_eq!(
        printed(&ack),
        "ACK sip:room2@203.0.113.7:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKack1\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:p1.example.net;lr>\r\n\
         Route: <sip:p2.example.net;lr>\r\n\
         From: Meet gateway <sip:meet@gw.example.com>;tag=gw-out\r\n\
         To: <sip:room2@vtc.example.net>;tag=callee-tag\r\n\
         Call-ID: out-1@gw.example.com\r\n\
         CSeq: 1 ACK\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: 5\r\n\r\n\
         v=0\r\n"
    );

    let bye = dialog.bye(via("z9hG4bKbye"), Some(&Reason::q850(16)));
    assert_eq!(bye.headers.get("CSeq"), Some("2 BYE"));
    assert_eq!(bye.headers.get("Reason"), Some("Q.850;cause=16"));
    assert_eq!(
        bye.headers.get("From"),
        Some("Meet gateway <sip:meet@gw.example.com>;tag=gw-out")
    );
    assert_eq!(
        bye.headers.get("To"),
        Some("<sip:room2@vtc.example.net>;tag=callee-tag")
    );
    printed(&bye);
}

#[test]
fn uac_early_dialog_confirmed_then_terminated() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    let ringing = ok_from_callee(&invite, "180 Ringing", "<sip:p1.example.net;lr>");
    let mut dialog = Dialog::from_uac(&invite, &ringing).unwrap();
    assert_eq!(dialog.state(), DialogState::Early);
    let routes: Vec<String> = dialog.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(routes, vec!["<sip:p1.example.net;lr>"]);

    // The 2xx recomputes the route set (§13.2.2.4).
    let ok = ok_from_callee(
        &invite,
        "200 OK",
        "<sip:p2.example.net;lr>, <sip:p1.example.net;lr>",
    );
    assert_eq!(dialog.handle_response(&ok), Ok(DialogUpdate::Confirmed));
    assert_eq!(dialog.state(), DialogState::Confirmed);
    let routes: Vec<String> = dialog.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        routes,
        vec!["<sip:p1.example.net;lr>", "<sip:p2.example.net;lr>"]
    );
    // A retransmitted 2xx changes nothing.
    assert_eq!(dialog.handle_response(&ok), Ok(DialogUpdate::Unchanged));

    // A 2xx from another fork is another dialog.
    let mut forked = ok.clone();
    forked
        .headers
        .set("To", "<sip:room2@vtc.example.net>;tag=other-fork");
    assert_eq!(
        dialog.handle_response(&forked),
        Err(DialogError::NoSuchDialog)
    );

    // A 2xx to our re-INVITE with a new Contact refreshes the target.
    let reinvite = dialog.request(Method::Invite, via("z9hG4bKre"));
    assert_eq!(reinvite.headers.get("CSeq"), Some("2 INVITE"));
    assert_eq!(
        reinvite.headers.get("Contact"),
        Some("<sip:gw@198.51.100.1:5060>")
    );
    let mut reinvite_ok = reinvite.response(StatusCode::OK);
    reinvite_ok
        .headers
        .push("Contact", "<sip:room2@203.0.113.8:5062>");
    assert_eq!(
        dialog.handle_response(&reinvite_ok),
        Ok(DialogUpdate::TargetRefreshed)
    );
    assert_eq!(
        dialog.remote_target().to_string(),
        "sip:room2@203.0.113.8:5062"
    );

    // A 481 to a request inside the dialog ends it (§12.2.1.2).
    let info = dialog.request(Method::Info, via("z9hG4bKi"));
    let gone = info.response(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
    assert_eq!(dialog.handle_response(&gone), Ok(DialogUpdate::Terminated));
}

#[test]
fn uac_early_dialog_ends_with_a_final_failure() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    let ringing = ok_from_callee(&invite, "180 Ringing", "<sip:p1.example.net;lr>");
    let mut dialog = Dialog::from_uac(&invite, &ringing).unwrap();
    let busy = ok_from_callee(&invite, "486 Busy Here", "<sip:p1.example.net;lr>");
    assert_eq!(dialog.handle_response(&busy), Ok(DialogUpdate::Terminated));
}

#[test]
fn uac_response_from_another_call_is_refused() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    let mut ok = ok_from_callee(&invite, "200 OK", "<sip:p1.example.net;lr>");
    ok.headers.set("Call-ID", "another@gw.example.com");
    assert_eq!(
        Dialog::from_uac(&invite, &ok),
        Err(DialogError::NoSuchDialog)
    );
    let mut untagged = ok_from_callee(&invite, "200 OK", "<sip:p1.example.net;lr>");
    untagged.headers.set("To", "<sip:room2@vtc.example.net>");
    assert_eq!(
        Dialog::from_uac(&invite, &untagged),
        Err(DialogError::MissingTag("To"))
    );
}

#[test]
fn strict_router_first_gets_the_rfc3261_rewrite() {
    let invite = outgoing_invite().build(via("z9hG4bKinv1"));
    let ok = ok_from_callee(
        &invite,
        "200 OK",
        "<sip:p2.example.net;lr>, <sip:strict.example.net;method=INVITE>",
    );
    let mut dialog = Dialog::from_uac(&invite, &ok).unwrap();
    let bye = dialog.bye(via("z9hG4bKb"), None);
    assert_eq!(bye.uri.to_string(), "sip:strict.example.net");
    assert_eq!(
        bye.headers.get_all("Route").collect::<Vec<_>>(),
        vec!["<sip:p2.example.net;lr>", "<sip:room2@203.0.113.7:5060>"]
    );
    printed(&bye);
}

#[test]
fn sips_invite_makes_a_secure_dialog() {
    let invite = parse_request(
        &INVITE_VIA_PROXIES
            .replace("INVITE sip:meet@", "INVITE sips:meet@")
            .replace(
                "<sip:room1@192.0.2.10:5060;transport=udp>",
                "<sips:room1@192.0.2.10:5061>",
            ),
    );
    let ok = dialog_response(&invite, StatusCode::OK, "gw-tag", &our_contact());
    let dialog = Dialog::from_uas(&invite, &ok, 1).unwrap();
    assert!(dialog.is_secure());
}

#[test]
fn reason_round_trip() {
    let reason: Reason = "SIP ;cause=200 ;text=\"Call completed by the node\""
        .parse()
        .unwrap();
    assert_eq!(reason.protocol, ReasonProtocol::Sip);
    assert_eq!(reason.cause, Some(200));
    assert_eq!(reason.text.as_deref(), Some("Call completed by the node"));
    assert_eq!(
        reason.to_string(),
        "SIP;cause=200;text=\"Call completed by the node\""
    );
    assert_eq!(reason.to_string().parse::<Reason>().unwrap(), reason);

    let q850: Reason = "q.850;cause=16".parse().unwrap();
    assert_eq!(q850, Reason::q850(16));
    assert_eq!(q850.to_string(), "Q.850;cause=16");

    let odd = Reason::new(ReasonProtocol::Other("X-Gw".into()), 7)
        .with_text("a \"quoted\" \\ text, with a comma");
    assert_eq!(
        odd.to_string(),
        "X-Gw;cause=7;text=\"a \\\"quoted\\\" \\\\ text, with a comma\""
    );
    assert_eq!(odd.to_string().parse::<Reason>().unwrap(), odd);

    for bad in [
        "",
        "SIP;cause=abc",
        "SIP;cause=99999",
        "SIP;text=unquoted",
        "SIP;cause=1;cause=2",
        "S I P;cause=1",
        "SIP;text=\"open",
    ] {
        assert!(bad.parse::<Reason>().is_err(), "{bad:?}");
    }
}

#[test]
fn reasons_of_a_received_bye() {
    let (_, mut dialog) = uas_dialog();
    let bye = from_vtc(
        "BYE",
        315,
        "gw-tag",
        "Reason: SIP;cause=480;text=\"Gone, sorry\", Q.850 ;cause=16\r\n",
    );
    dialog.check_remote_request(&bye).unwrap();
    assert_eq!(
        Reason::from_headers(&bye.headers).unwrap(),
        vec![
            Reason::sip(StatusCode::TEMPORARILY_UNAVAILABLE).with_text("Gone, sorry"),
            Reason::q850(16),
        ]
    );
}
