//! Printing and parsing SIP messages: corpus round trips, responses built from requests, the
//! stream framer, typed headers, limits, and property tests (junk never panics, generated
//! requests round-trip).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use signaling::fuzzing;
use signaling::sip::message::limits::{MAX_HEADERS, MAX_MESSAGE_SIZE, MAX_VIAS};
use signaling::sip::message::{
    CSeq, ContactValue, Frame, FrameError, Framer, HeaderName, Headers, Host, Message, Method,
    NameAddr, ParseErrorKind, Request, Response, StatusCode, Uri, Via,
};

mod common;

/// Every corpus message (`rfc4475/*.dat`, `rfc5118/*`), or `None` when the corpus is missing
/// (see `common::corpus_dir`).
fn corpus() -> Option<Vec<(String, Vec<u8>)>> {
    let dir = common::corpus_dir()?;
    let mut files = Vec::new();
    for sub in ["rfc4475", "rfc5118"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            files.push((name, std::fs::read(&path).unwrap()));
        }
    }
    files.sort();
    Some(files)
}

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKa1;received=192.0.2.7;rport=5062\r\n\
Max-Forwards: 69\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: \"Alice \\\"A\\\" Smith\" <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.example.com>\r\n\
Record-Route: <sip:proxy.example.com;lr>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 5\r\n\
\r\n\
v=0\r\n";

fn invite() -> Request {
    Request::parse(INVITE.as_bytes()).unwrap()
}

// ---- round trips ----

#[test]
fn corpus_messages_round_trip() {
    let Some(files) = corpus() else {
        return;
    };
    let mut parsed = 0;
    for (name, bytes) in &files {
        fuzzing::message(bytes);
        fuzzing::framer(bytes);
        let Ok(message) = Message::parse(bytes) else {
            continue;
        };
        parsed += 1;
        let printed = message.to_bytes();
        assert_eq!(Message::parse(&printed).as_ref(), Ok(&message), "{name}");
        // Printing is canonical: a second round prints the same bytes.
        assert_eq!(
            Message::parse(&printed).unwrap().to_bytes(),
            printed,
            "{name}"
        );
        // Printed messages frame on a stream, too.
        let mut framer = Framer::new();
        framer.push(&printed);
        assert_eq!(framer.next_message(), Some(Ok(message)), "{name}");
    }
    assert_eq!(
        parsed,
        27 + 11,
        "accepted corpus messages (RFC 4475 + RFC 5118)"
    );
}

#[test]
fn printing_uses_canonical_names_and_one_content_length() {
    let text = "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nf: <sip:c@d>;tag=1\r\n\
t: <sip:a@b>\r\ni: x@y\r\nCSEQ: 1 OPTIONS\r\nm: <sip:c@h>\r\nk: timer, 100rel\r\nc: text/plain\r\n\
l: 5\r\nwww-authenticate: Digest realm=\"a\", nonce=\"b\"\r\n\r\nhello";
    let mut request = Request::parse(text.as_bytes()).unwrap();
    assert_eq!(request.headers.get_all("Supported").count(), 2);
    assert_eq!(
        request.headers.get("WWW-Authenticate"),
        Some("Digest realm=\"a\", nonce=\"b\"")
    );
    assert_eq!(request.headers.get("Content-Length"), None);
    request.headers.push("Content-Length", "999");
    let printed = String::from_utf8(request.to_bytes()).unwrap();
    for line in [
        "\r\nVia: ",
        "\r\nFrom: ",
        "\r\nTo: ",
        "\r\nCall-ID: ",
        "\r\nCSeq: ",
        "\r\nContact: ",
        "\r\nSupported: timer\r\nSupported: 100rel\r\n",
        "\r\nContent-Type: ",
        "\r\nWWW-Authenticate: ",
    ] {
        assert!(printed.contains(line), "{line:?} in {printed}");
    }
    assert_eq!(printed.matches("Content-Length").count(), 1);
    assert!(printed.ends_with("\r\nContent-Length: 5\r\n\r\nhello"));
}

// ---- responses ----

#[test]
fn response_copies_the_transaction_headers() {
    let request = invite();
    let response = request.response(StatusCode::RINGING);
    assert_eq!(response.status, StatusCode::RINGING);
    assert_eq!(response.reason, "Ringing");
    assert!(response.body.is_empty());
    let names: Vec<_> = response.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Via", "Via", "From", "To", "Call-ID", "CSeq"]);
    let vias: Vec<_> = response.headers.get_all("Via").collect();
    let request_vias: Vec<_> = request.headers.get_all("Via").collect();
    assert_eq!(vias, request_vias);
    for name in ["From", "To", "Call-ID", "CSeq"] {
        assert_eq!(response.headers.get(name), request.headers.get(name));
    }
    let bytes = response.clone().with_reason("Ringing Loudly").to_bytes();
    assert!(bytes.starts_with(b"SIP/2.0 180 Ringing Loudly\r\n"));
    assert!(bytes.ends_with(b"\r\nContent-Length: 0\r\n\r\n"));
    assert_eq!(Response::parse(&response.to_bytes()), Ok(response));
}

#[test]
fn malformed_requests_get_a_400_with_the_partial_head() {
    let text = INVITE.replace("Max-Forwards: 69", "Max-Forwards: 256");
    let err = Message::parse(text.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BadMaxForwards);
    assert_eq!(err.reason_phrase(), "Bad Request - invalid Max-Forwards");
    let answer = Response::parse(&err.bad_request_response().unwrap()).unwrap();
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.reason, "Bad Request - invalid Max-Forwards");
    assert_eq!(answer.vias().unwrap().len(), 2);
    assert_eq!(answer.call_id(), Ok("a84b4c76e66710@pc33.example.com"));
    let tag = answer.to().unwrap().tag().unwrap().to_owned();
    // The same request gets the same tag (a retransmission gets the same answer).
    let again = Message::parse(text.as_bytes()).unwrap_err();
    let again = Response::parse(&again.bad_request_response().unwrap()).unwrap();
    assert_eq!(again.to().unwrap().tag(), Some(tag.as_str()));

    // ACKs and responses are never answered.
    let ack = text.replace("INVITE", "ACK");
    let err = Message::parse(ack.as_bytes()).unwrap_err();
    assert!(err.head.is_some());
    assert_eq!(err.bad_request_response(), None);
    let response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n";
    let err = Message::parse(response.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::MissingHeader("To"));
    assert_eq!(err.bad_request_response(), None);
}

// ---- errors and limits ----

#[test]
fn structural_errors() {
    let cases: &[(&[u8], ParseErrorKind)] = &[
        (b"", ParseErrorKind::Empty),
        (b"\r\n\r\n", ParseErrorKind::Empty),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n",
            ParseErrorKind::Incomplete,
        ),
        (
            b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n",
            ParseErrorKind::BadStartLine,
        ),
        (
            b"OPTIONS sip:a@b SIP/3.0\r\n\r\n",
            ParseErrorKind::BadVersion,
        ),
        (
            b"OPT<IONS sip:a@b SIP/2.0\r\n\r\n",
            ParseErrorKind::BadMethod,
        ),
        (
            b"OPTIONS sip:a@b:port SIP/2.0\r\n\r\n",
            ParseErrorKind::BadUri,
        ),
        (b"SIP/2.0 99 Low\r\n\r\n", ParseErrorKind::BadStartLine),
        (b"SIP/2.0 700 High\r\n\r\n", ParseErrorKind::BadStartLine),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\n no header before\r\n\r\n",
            ParseErrorKind::BadHeader(String::new()),
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nNo colon here\r\n\r\n",
            ParseErrorKind::BadHeader(String::new()),
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n",
            ParseErrorKind::BadHeader(String::new()),
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nSubject: \xff\r\n\r\n",
            ParseErrorKind::BadHeader("Subject".into()),
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nAllow: INVITE,,ACK\r\n\r\n",
            ParseErrorKind::BadHeader("Allow".into()),
        ),
    ];
    for (bytes, kind) in cases {
        let err = Message::parse(bytes).unwrap_err();
        assert_eq!(&err.kind, kind, "{:?}", String::from_utf8_lossy(bytes));
    }
    // Each mandatory header, removed in turn.
    for (line, name) in [
        ("To: Bob <sip:bob@example.com>\r\n", "To"),
        ("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "Call-ID"),
        ("CSeq: 314159 INVITE\r\n", "CSeq"),
    ] {
        let err = Message::parse(INVITE.replace(line, "").as_bytes()).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::MissingHeader(name));
        assert_eq!(err.reason_phrase(), format!("Bad Request - missing {name}"));
    }
    let no_via: String = INVITE
        .lines()
        .filter(|l| !l.starts_with("Via"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let err = Message::parse(no_via.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::MissingHeader("Via"));
    assert_eq!(err.bad_request_response(), None);
    // Expires must fit 32 bits.
    let text = INVITE.replace("Max-Forwards: 69", "Expires: 4294967296");
    let err = Message::parse(text.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BadHeader("Expires".into()));
}

#[test]
fn limits() {
    let big = format!("{INVITE}{}", "x".repeat(MAX_MESSAGE_SIZE));
    let err = Message::parse(big.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooLarge);
    assert_eq!(err.status(), StatusCode::MESSAGE_TOO_LARGE);
    assert_eq!(err.reason_phrase(), "Message Too Large");

    let many = INVITE.replace(
        "Max-Forwards: 69\r\n",
        &"X-Filler: 1\r\n".repeat(MAX_HEADERS),
    );
    assert_eq!(
        Message::parse(many.as_bytes()).unwrap_err().kind,
        ParseErrorKind::TooLarge
    );

    let vias = INVITE.replace(
        "Max-Forwards: 69\r\n",
        &"Via: SIP/2.0/UDP h;branch=z9hG4bKv\r\n".repeat(MAX_VIAS),
    );
    assert_eq!(
        Message::parse(vias.as_bytes()).unwrap_err().kind,
        ParseErrorKind::TooLarge
    );

    let long = INVITE.replace("Max-Forwards: 69", &format!("X-Long: {}", "y".repeat(9000)));
    let err = Message::parse(long.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooLarge);
    // The partial head survives, so even this one can be answered (513).
    let answer = Response::parse(&err.bad_request_response().unwrap()).unwrap();
    assert_eq!(answer.status, StatusCode::MESSAGE_TOO_LARGE);
}

// ---- framer ----

fn options(n: u32, body: &str) -> Vec<u8> {
    let mut request = Request::new(Method::Options, "sip:bob@example.com".parse().unwrap());
    let h = &mut request.headers;
    h.push(
        "Via",
        format!("SIP/2.0/TCP client.example.com;branch=z9hG4bK{n}"),
    );
    h.push("From", "<sip:alice@example.com>;tag=a");
    h.push("To", "<sip:bob@example.com>");
    h.push("Call-ID", format!("call{n}@example.com"));
    h.push("CSeq", format!("{n} OPTIONS"));
    request.body = body.as_bytes().to_vec();
    request.to_bytes()
}

fn seq_of(message: &Message) -> u32 {
    message.headers().cseq().unwrap().seq
}

#[test]
fn framer_two_messages_in_one_push() {
    let mut framer = Framer::new();
    let mut bytes = options(1, "first body");
    bytes.extend(options(2, ""));
    framer.push(&bytes);
    let first = framer.next_message().unwrap().unwrap();
    assert_eq!(seq_of(&first), 1);
    assert_eq!(first.body(), b"first body");
    assert_eq!(seq_of(&framer.next_message().unwrap().unwrap()), 2);
    assert_eq!(framer.next_message(), None);
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn framer_byte_by_byte() {
    let bytes = options(7, "some body");
    let mut framer = Framer::new();
    let mut messages = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        framer.push(std::slice::from_ref(b));
        if let Some(item) = framer.next_frame() {
            assert_eq!(i, bytes.len() - 1, "complete only at the last byte");
            messages.push(item.unwrap());
        }
    }
    let [Frame::Message(message)] = messages.as_slice() else {
        panic!("one message, got {messages:?}");
    };
    assert_eq!(seq_of(message), 7);
    assert_eq!(message.body(), b"some body");
}

#[test]
fn framer_keepalives() {
    let mut framer = Framer::new();
    let mut bytes = b"\r\n\r\n".to_vec();
    bytes.extend(options(1, ""));
    bytes.extend(b"\r\n");
    bytes.extend(options(2, ""));
    framer.push(&bytes);
    assert_eq!(framer.next_frame(), Some(Ok(Frame::Ping)));
    assert!(matches!(framer.next_frame(), Some(Ok(Frame::Message(_)))));
    assert_eq!(framer.next_frame(), Some(Ok(Frame::Pong)));
    assert!(matches!(framer.next_frame(), Some(Ok(Frame::Message(_)))));
    assert_eq!(framer.next_frame(), None);

    // A ping split after its third octet waits for the fourth.
    framer.push(b"\r\n\r");
    assert_eq!(framer.next_frame(), None);
    framer.push(b"\n");
    assert_eq!(framer.next_frame(), Some(Ok(Frame::Ping)));

    // next_message skips keep-alives.
    let mut bytes = b"\r\n\r\n\r\n".to_vec();
    bytes.extend(options(3, ""));
    framer.push(&bytes);
    assert_eq!(seq_of(&framer.next_message().unwrap().unwrap()), 3);
}

#[test]
fn framer_requires_content_length() {
    let mut framer = Framer::new();
    framer.push(
        b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP c;branch=z9hG4bK1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\n\r\n",
    );
    let Some(Err(FrameError::Invalid(err))) = framer.next_frame() else {
        panic!("missing Content-Length must fail");
    };
    assert_eq!(err.kind, ParseErrorKind::MissingHeader("Content-Length"));
    // The partial head still allows a 400 before closing.
    assert!(err.bad_request_response().is_some());
    assert!(framer.is_failed());
    // The framer is spent.
    framer.push(&options(1, ""));
    assert_eq!(framer.next_frame(), None);
    assert_eq!(framer.buffered(), 0);
}

#[test]
fn framer_limits() {
    let mut framer = Framer::new();
    framer.push(b"OPTIONS sip:bob@example.com SIP/2.0\r\n");
    let filler = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut result = None;
    for _ in 0..(MAX_MESSAGE_SIZE / filler.len() + 2) {
        framer.push(filler);
        if let Some(item) = framer.next_frame() {
            result = Some(item);
            break;
        }
    }
    let Some(Err(FrameError::Invalid(err))) = result else {
        panic!("an endless header section must fail, got {result:?}");
    };
    assert_eq!(err.kind, ParseErrorKind::TooLarge);

    let mut framer = Framer::new();
    let huge = String::from_utf8(options(1, ""))
        .unwrap()
        .replace("Content-Length: 0", "Content-Length: 1000000");
    framer.push(huge.as_bytes());
    let Some(Err(FrameError::Invalid(err))) = framer.next_frame() else {
        panic!("an oversize body must fail");
    };
    assert_eq!(err.kind, ParseErrorKind::TooLarge);

    // A well-framed but malformed message fails too, with its partial head.
    let mut framer = Framer::new();
    let bad = String::from_utf8(options(1, ""))
        .unwrap()
        .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    framer.push(bad.as_bytes());
    let Some(Err(FrameError::Invalid(err))) = framer.next_frame() else {
        panic!("a CSeq mismatch must fail");
    };
    assert_eq!(err.kind, ParseErrorKind::CSeqMethodMismatch);
    assert!(err.bad_request_response().is_some());
}

// ---- typed headers ----

#[test]
fn typed_via() {
    let request = invite();
    let vias = request.vias().unwrap();
    assert_eq!(vias.len(), 2);
    let via = &vias[1];
    assert_eq!(via.transport, "TCP");
    assert_eq!(
        via.host,
        Host::Ipv6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    );
    assert_eq!(via.port, Some(5061));
    assert_eq!(via.branch.as_deref(), Some("z9hG4bKa1"));
    assert_eq!(via.received, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))));
    assert_eq!(via.rport, Some(Some(5062)));
    assert_eq!(via.sent_by(), "[2001:db8::1]:5061");
    assert_eq!(via.to_string().parse::<Via>().unwrap(), *via);

    let mut built = Via::new(
        "udp",
        Host::Ipv4(Ipv4Addr::new(10, 0, 0, 1)),
        None,
        "z9hG4bKxyz",
    );
    built.rport = Some(None);
    assert_eq!(
        built.to_string(),
        "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKxyz;rport"
    );
    assert_eq!(
        request.top_via().unwrap().host.to_string(),
        "proxy.example.com"
    );
}

#[test]
fn typed_name_addr() {
    let request = invite();
    let from = request.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some("Alice \"A\" Smith"));
    assert_eq!(from.tag(), Some("1928301774"));
    assert_eq!(from.uri.user.as_deref(), Some("alice"));
    assert_eq!(
        from.to_string(),
        r#""Alice \"A\" Smith" <sip:alice@example.com>;tag=1928301774"#
    );
    assert_eq!(from.to_string().parse::<NameAddr>().unwrap(), from);

    let mut to = request.to().unwrap();
    assert_eq!(to.display_name.as_deref(), Some("Bob"));
    assert_eq!(to.tag(), None);
    to.set_tag("314");
    assert_eq!(to.to_string(), "Bob <sip:bob@example.com>;tag=314");

    let routes = request.record_routes().unwrap();
    assert_eq!(routes[0].uri.param("lr"), Some(None));
    assert_eq!(
        request.contacts().unwrap(),
        vec![ContactValue::Address(NameAddr::new(
            "sip:alice@pc33.example.com".parse::<Uri>().unwrap()
        ))]
    );
}

#[test]
fn typed_cseq_and_scalars() {
    let request = invite();
    assert_eq!(
        request.cseq().unwrap(),
        CSeq {
            seq: 314_159,
            method: Method::Invite
        }
    );
    assert_eq!(request.max_forwards(), Ok(Some(69)));
    assert_eq!(request.expires(), Ok(None));
    assert_eq!(request.content_type(), Some("application/sdp"));
    assert_eq!(request.body, b"v=0\r\n");
}

#[test]
fn compact_forms_are_expanded() {
    let text = "REGISTER sip:example.com SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
f: <sip:a@example.com>;tag=1\r\nt: <sip:a@example.com>\r\ni: reg@h\r\nCSeq: 1 REGISTER\r\n\
m: <sip:a@h>;expires=60, <sip:a@h2>\r\nk: path\r\no: presence\r\nx: 1800\r\nu: dialog\r\n\
l: 0\r\n\r\n";
    let request = Request::parse(text.as_bytes()).unwrap();
    let names: Vec<_> = request.headers.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        names,
        [
            "Via",
            "From",
            "To",
            "Call-ID",
            "CSeq",
            "Contact",
            "Contact",
            "Supported",
            "Event",
            "Session-Expires",
            "Allow-Events"
        ]
    );
    assert_eq!(request.contacts().unwrap().len(), 2);
    assert_eq!(request.call_id(), Ok("reg@h"));
    assert!(HeaderName::from("m").is("Contact"));
    let mut headers = Headers::new();
    headers.push(HeaderName::CALL_ID, "x@y");
    assert_eq!(headers.get("i"), Some("x@y"));
}

// ---- properties ----

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        "[a-z]([a-z0-9-]{0,6}[a-z0-9])?(\\.[a-z]([a-z0-9-]{0,6}[a-z0-9])?){0,2}"
            .prop_map(Host::Name),
        any::<[u8; 4]>().prop_map(|o| Host::Ipv4(o.into())),
        any::<[u16; 8]>().prop_map(|s| Host::Ipv6(s.into())),
    ]
}

fn uri(with_headers: bool) -> impl Strategy<Value = Uri> {
    let headers = if with_headers { 0..3usize } else { 0..1usize };
    (
        prop_oneof![Just(false), Just(true)],
        proptest::option::of("\\PC{1,8}"),
        proptest::option::of("\\PC{0,6}"),
        host(),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(("\\PC{1,6}", proptest::option::of("\\PC{1,6}")), 0..3),
        proptest::collection::vec(("\\PC{1,6}", "\\PC{0,6}"), headers),
    )
        .prop_map(move |(sips, user, password, host, port, params, headers)| {
            let mut uri = Uri::sip(host);
            if sips {
                uri.scheme = signaling::sip::message::Scheme::Sips;
            }
            uri.password = user.as_ref().and(password);
            uri.user = user;
            uri.port = port;
            uri.params = params;
            if with_headers {
                uri.headers = headers;
            }
            uri
        })
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        proptest::option::of("\\PC{0,12}"),
        uri(true),
        "[A-Za-z0-9.~-]{1,10}",
    )
        .prop_map(|(display_name, uri, tag)| {
            let mut addr = NameAddr::new(uri);
            addr.display_name = display_name;
            addr.set_tag(tag);
            addr
        })
}

fn via() -> impl Strategy<Value = Via> {
    (
        prop_oneof![Just("UDP"), Just("TCP"), Just("TLS"), Just("WS")],
        host(),
        proptest::option::of(any::<u16>()),
        "[A-Za-z0-9]{1,12}",
        proptest::option::of(any::<[u8; 4]>()),
        proptest::option::of(proptest::option::of(any::<u16>())),
    )
        .prop_map(|(transport, host, port, branch, received, rport)| {
            let mut via = Via::new(transport, host, port, format!("z9hG4bK{branch}"));
            via.received = received.map(|o| IpAddr::V4(o.into()));
            via.rport = rport;
            via
        })
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just("INVITE".to_owned()),
            Just("ACK".to_owned()),
            Just("BYE".to_owned()),
            "[A-Za-z!%*_+`'~.-]{1,12}"
        ],
        uri(false),
        proptest::collection::vec(via(), 1..4),
        name_addr(),
        name_addr(),
        "[A-Za-z0-9.!%*_+`'~-]{1,16}(@[a-z0-9.]{1,10})?",
        any::<u32>(),
        proptest::option::of(any::<u8>()),
        proptest::collection::vec(("X-[A-Za-z0-9-]{1,8}", "[ -~]{0,30}"), 0..4),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(method, uri, vias, from, to, call_id, seq, max_forwards, extra, body)| {
                let method: Method = method.parse().unwrap();
                let mut request = Request::new(method.clone(), uri);
                let h = &mut request.headers;
                for via in vias {
                    h.push(HeaderName::VIA, via.to_string());
                }
                h.push(HeaderName::FROM, from.to_string());
                h.push(HeaderName::TO, to.to_string());
                h.push(HeaderName::CALL_ID, call_id);
                h.push(HeaderName::CSEQ, CSeq { seq, method }.to_string());
                if let Some(mf) = max_forwards {
                    h.push(HeaderName::MAX_FORWARDS, mf.to_string());
                }
                for (name, value) in extra {
                    h.push(name, value);
                }
                request.body = body;
                request
            },
        )
}

proptest! {
    #[test]
    fn junk_never_panics(text in "\\PC{0,300}") {
        let _ = Message::parse(text.as_bytes());
        fuzzing::message(text.as_bytes());
    }

    #[test]
    fn junk_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::message(&bytes);
        fuzzing::framer(&bytes);
    }

    #[test]
    fn junk_header_lines_never_panic(
        lines in proptest::collection::vec("[ -~\t]{0,60}", 0..12),
        body in "[ -~\r\n]{0,40}",
    ) {
        let text = format!("INVITE sip:a@b SIP/2.0\r\n{}\r\n\r\n{body}", lines.join("\r\n"));
        fuzzing::message(text.as_bytes());
        let mut framer_input = vec![3u8];
        framer_input.extend_from_slice(text.as_bytes());
        fuzzing::framer(&framer_input);
    }

    #[test]
    fn generated_requests_round_trip(request in request()) {
        let bytes = request.to_bytes();
        let parsed = Request::parse(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&request), "{}", String::from_utf8_lossy(&bytes));
        // And through the framer, split at an arbitrary point.
        let mut framer = Framer::new();
        let (a, b) = bytes.split_at(bytes.len() / 3);
        framer.push(a);
        prop_assert_eq!(framer.next_message(), None);
        framer.push(b);
        prop_assert_eq!(framer.next_message(), Some(Ok(Message::Request(request))));
    }

    #[test]
    fn typed_values_round_trip(via in via(), addr in name_addr(), uri in uri(true)) {
        prop_assert_eq!(via.to_string().parse::<Via>().unwrap(), via);
        prop_assert_eq!(addr.to_string().parse::<NameAddr>().unwrap(), addr);
        prop_assert_eq!(uri.to_string().parse::<Uri>().unwrap(), uri);
    }
}
