//! The 12 IPv6 torture test messages of RFC 5118 §4 through the datagram parser, one test
//! each.
//!
//! The messages are read from `shared/corpora/sip/rfc5118/` beside the checkout, or from
//! `$TCN_SIP_CORPUS/rfc5118/`; without either, every test says it was skipped and passes.

use std::net::{IpAddr, Ipv6Addr};

use signaling::sip::message::{ContactValue, Host, Message, Method, ParseErrorKind, Request};

mod common;

/// The bytes of `rfc5118/<name>`, or `None` when the corpus is missing.
fn load(name: &str) -> Option<Vec<u8>> {
    common::load("rfc5118", name)
}

/// Parses a request that must be accepted, and checks that it round-trips.
fn accept(name: &str) -> Option<Request> {
    let bytes = load(name)?;
    let message = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name} must parse: {e}"));
    assert_eq!(
        Message::parse(&message.to_bytes()).as_ref(),
        Ok(&message),
        "{name} round trip"
    );
    match message {
        Message::Request(request) => Some(request),
        Message::Response(_) => panic!("{name} is a request"),
    }
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn contact_host(r: &Request) -> Host {
    match r.contacts().unwrap().as_slice() {
        [ContactValue::Address(contact)] => contact.uri.host.clone(),
        other => panic!("expected one contact, got {other:?}"),
    }
}

/// §4.1 ipv6-good: a REGISTER with IPv6 references in the Request-URI, Via and Contact.
#[test]
fn ipv6_good() {
    let Some(r) = accept("ipv6-good") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::10")));
    assert_eq!(r.uri.port, None);
    assert_eq!(r.top_via().unwrap().host, Host::Ipv6(v6("2001:db8::9:1")));
    assert_eq!(contact_host(&r), Host::Ipv6(v6("2001:db8::1")));
}

/// §4.2 ipv6-bad: an IPv6 address in the Request-URI without the enclosing brackets.
#[test]
fn ipv6_bad() {
    let Some(bytes) = load("ipv6-bad") else {
        return;
    };
    let err = Message::parse(&bytes).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BadUri);
    assert_eq!(err.status().code(), 400);
    assert!(err.bad_request_response().is_some());
}

/// §4.3 port-ambiguous: a port written inside the brackets is part of a valid IPv6 address.
#[test]
fn port_ambiguous() {
    let Some(r) = accept("port-ambiguous") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::10:5070")));
    assert_eq!(r.uri.port, None);
}

/// §4.4 port-unambiguous: an IPv6 reference followed by a port.
#[test]
fn port_unambiguous() {
    let Some(r) = accept("port-unambiguous") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::10")));
    assert_eq!(r.uri.port, Some(5070));
}

/// §4.5 via-received-param-with-delim: `received` with an IPv6 reference in brackets.
#[test]
fn via_received_param_with_delim() {
    let Some(r) = accept("via-received-param-with-delim") else {
        return;
    };
    assert_eq!(r.method, Method::Bye);
    let via = r.top_via().unwrap();
    assert_eq!(via.received, Some(IpAddr::V6(v6("2001:db8::9:255"))));
    assert_eq!(via.branch.as_deref(), Some("z9hG4bKas3-111"));
}

/// §4.5 via-received-param-no-delim: `received` with a bare IPv6 address.
#[test]
fn via_received_param_no_delim() {
    let Some(r) = accept("via-received-param-no-delim") else {
        return;
    };
    let via = r.top_via().unwrap();
    assert_eq!(via.received, Some(IpAddr::V6(v6("2001:db8::9:255"))));
    assert_eq!(via.branch.as_deref(), Some("z9hG4bKas3"));
}

/// §4.6 ipv6-in-sdp: an INVITE whose SDP body carries IPv6 addresses.
#[test]
fn ipv6_in_sdp() {
    let Some(r) = accept("ipv6-in-sdp") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::10")));
    assert_eq!(r.body.len(), 241);
    assert!(String::from_utf8_lossy(&r.body).contains("c=IN IP6 2001:db8::20"));
}

/// §4.7 mult-ip-in-header: IPv6 and IPv4 references mixed in the Via list.
#[test]
fn mult_ip_in_header() {
    let Some(r) = accept("mult-ip-in-header") else {
        return;
    };
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].host, Host::Ipv6(v6("2001:db8::9:1")));
    assert_eq!(vias[0].port, Some(6050));
    assert_eq!(vias[1].host, Host::Ipv4("192.0.2.1".parse().unwrap()));
    assert_eq!(vias[2].host, Host::Ipv6(v6("2001:db8::9:255")));
    assert_eq!(vias[2].received, Some("192.0.2.200".parse().unwrap()));
}

/// §4.8 mult-ip-in-sdp: an SDP body with one stream on IPv4 and one on IPv6.
#[test]
fn mult_ip_in_sdp() {
    let Some(r) = accept("mult-ip-in-sdp") else {
        return;
    };
    assert_eq!(r.body.len(), 181);
    assert_eq!(contact_host(&r), Host::Ipv6(v6("2001:db8::9:1")));
}

/// §4.9 ipv4-mapped-ipv6: IPv4-mapped IPv6 addresses in Via and Contact.
#[test]
fn ipv4_mapped_ipv6() {
    let Some(r) = accept("ipv4-mapped-ipv6") else {
        return;
    };
    let via = r.top_via().unwrap();
    assert_eq!(via.host, Host::Ipv6(v6("::ffff:192.0.2.10")));
    assert_eq!(via.port, Some(19823));
    assert_eq!(contact_host(&r), Host::Ipv6(v6("::ffff:192.0.2.2")));
}

/// §4.10 ipv6-bug-abnf-3-colons: three colons before an embedded IPv4 address, which the RFC
/// 3261 ABNF allowed and RFC 4291 does not; §4.10 asks implementations to tolerate both forms,
/// so this reads as the two-colon address.
#[test]
fn ipv6_bug_abnf_3_colons() {
    let Some(r) = accept("ipv6-bug-abnf-3-colons") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::192.0.2.1")));
    assert_eq!(r.to().unwrap().uri.host, r.uri.host);
}

/// §4.10 ipv6-correct-abnf-2-colons: the correct two-colon form.
#[test]
fn ipv6_correct_abnf_2_colons() {
    let Some(r) = accept("ipv6-correct-abnf-2-colons") else {
        return;
    };
    assert_eq!(r.uri.host, Host::Ipv6(v6("2001:db8::192.0.2.1")));
    assert_eq!(r.method, Method::Options);
}
