//! The 49 torture test messages of RFC 4475 §3 through the datagram parser, one test each.
//!
//! The messages are read from `shared/corpora/sip/rfc4475/` beside the checkout, or from
//! `$TCN_SIP_CORPUS/rfc4475/`; without either, every test says it was skipped and passes.
//!
//! Where RFC 4475 leaves the choice to the implementation, the test says which verdict was
//! chosen and why. Verdicts the RFC gives to layers above the parser (416 for an unknown
//! scheme, 420 for an unsupported extension, 415 for an unknown body type, 483 for
//! Max-Forwards 0) are parse successes here: the message is well-formed.

use std::net::Ipv4Addr;

use signaling::sip::message::{
    ContactValue, Host, Message, Method, NameAddr, ParseError, ParseErrorKind, Request, Response,
    Scheme, StatusCode,
};

mod common;

/// The bytes of `rfc4475/<name>.dat`, or `None` when the corpus is missing.
fn load(name: &str) -> Option<Vec<u8>> {
    common::load("rfc4475", &format!("{name}.dat"))
}

/// Parses a message that must be accepted, and checks that it round-trips.
fn accept(name: &str) -> Option<Message> {
    let bytes = load(name)?;
    let message = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name} must parse: {e}"));
    assert_eq!(
        Message::parse(&message.to_bytes()).as_ref(),
        Ok(&message),
        "{name} round trip"
    );
    Some(message)
}

fn accept_request(name: &str) -> Option<Request> {
    match accept(name)? {
        Message::Request(request) => Some(request),
        Message::Response(_) => panic!("{name} is a request"),
    }
}

fn accept_response(name: &str) -> Option<Response> {
    match accept(name)? {
        Message::Response(response) => Some(response),
        Message::Request(_) => panic!("{name} is a response"),
    }
}

/// Parses a message that must be rejected with `kind` (and a 4xx/5xx status).
fn reject(name: &str, kind: ParseErrorKind) -> Option<ParseError> {
    let bytes = load(name)?;
    let err = Message::parse(&bytes).expect_err(name);
    assert_eq!(err.kind, kind, "{name}: {err}");
    assert!(matches!(err.status().class(), 4 | 5), "{name}");
    Some(err)
}

/// The one Contact address of a request.
fn only_contact(r: &Request) -> NameAddr {
    match r.contacts().unwrap().as_slice() {
        [ContactValue::Address(contact)] => contact.clone(),
        other => panic!("expected one contact address, got {other:?}"),
    }
}

/// A rejected request must be answerable: the answer has the error's status and reason,
/// echoes every Via as received (malformed or not, RFC 3261 §8.2.6.2), and adds a To tag.
fn assert_answered(err: &ParseError) {
    let bytes = err.bad_request_response().expect("answerable");
    let text = String::from_utf8(bytes).expect("the answer is text");
    let status_line = format!(
        "SIP/2.0 {} {}\r\n",
        err.status().code(),
        err.reason_phrase()
    );
    assert!(text.starts_with(&status_line), "{text}");
    let head = err.head.as_deref().expect("partial head");
    assert!(head.is_request);
    for via in &head.vias {
        assert!(text.contains(&format!("\r\nVia: {via}\r\n")), "{text}");
    }
    let to = text
        .lines()
        .find_map(|l| l.strip_prefix("To: "))
        .expect("To");
    assert!(to.contains(";tag="), "{to}");
    assert!(text.ends_with("\r\nContent-Length: 0\r\n\r\n"), "{text}");
}

// ---- §3.1.1 Valid messages ----

/// §3.1.1.1 wsinv: a short tortuous INVITE (LWS, folding, odd case, compact forms).
#[test]
fn wsinv() {
    let Some(r) = accept_request("wsinv") else {
        return;
    };
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user.as_deref(), Some("vivekg"));
    assert_eq!(r.uri.param("unknownparam"), Some(None));
    assert_eq!(r.to().unwrap().tag(), Some("1918181833n"));
    let from = r.from().unwrap();
    assert_eq!(from.display_name.as_deref(), Some(r#"J Rosenberg \""#));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(r.max_forwards(), Ok(Some(68)));
    let cseq = r.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let vias = r.vias().unwrap();
    let summary: Vec<_> = vias
        .iter()
        .map(|v| {
            (
                v.transport.as_str(),
                v.host.to_string(),
                v.branch.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("UDP", "192.0.2.2".into(), Some("390skdjuw")),
            ("TCP", "spindle.example.com".into(), Some("z9hG4bK9ikj8")),
            ("UDP", "192.168.255.111".into(), Some("z9hG4bK30239")),
        ]
    );
    assert_eq!(r.headers.get("Subject"), Some(""));
    assert_eq!(
        r.headers.get("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(
        r.headers.get("UnknownHeaderWithUnusualValue"),
        Some(";;,,;;,;")
    );
    let contact = only_contact(&r);
    assert_eq!(contact.display_name.as_deref(), Some(r#"Quoted string """#));
    assert_eq!(contact.param("newparam"), Some(Some("newvalue")));
    assert_eq!(contact.param("secondparam"), Some(None));
    assert_eq!(contact.param("q"), Some(Some("0.33")));
    assert_eq!(r.routes().unwrap()[0].uri.param("lr"), Some(None));
    assert_eq!(r.body.len(), 150);
}

/// §3.1.1.2 intmeth: a wide range of valid characters (odd method, URI, tokens, UTF-8).
#[test]
fn intmeth() {
    let Some(r) = accept_request("intmeth") else {
        return;
    };
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(r.method, Method::Extension(method.into()));
    assert_eq!(r.cseq().unwrap().method.as_str(), method);
    assert_eq!(
        r.uri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        r.uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(
        r.to().unwrap().display_name.as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    let from = r.from().unwrap();
    assert_eq!(
        from.display_name.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        from.param("fromParam''~+*_!.-%"),
        Some(Some("\"работающий\""))
    );
    assert_eq!(
        r.call_id(),
        Ok("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
    assert_eq!(r.max_forwards(), Ok(Some(255)));
    assert_eq!(
        r.headers.get("extensionHeader-!.%*+_`'~"),
        Some("\u{feff}大停電")
    );
}

/// §3.1.1.3 esc01: valid use of the % escaping mechanism.
#[test]
fn esc01() {
    let Some(r) = accept_request("esc01") else {
        return;
    };
    assert_eq!(r.uri.user.as_deref(), Some("sips:user@example.com"));
    assert_eq!(r.uri.host, Host::Name("example.net".into()));
    assert_eq!(r.to().unwrap().uri.user.as_deref(), Some("user"));
    assert_eq!(r.from().unwrap().uri.user.as_deref(), Some("I have spaces"));
    let contact = only_contact(&r);
    assert_eq!(contact.uri.user.as_deref(), Some("caller"));
    assert_eq!(
        contact.uri.params,
        vec![
            ("lr".to_owned(), None),
            ("name".to_owned(), Some("value%41".to_owned()))
        ]
    );
}

/// §3.1.1.4 escnull: escaped NULs in URIs.
#[test]
fn escnull() {
    let Some(r) = accept_request("escnull") else {
        return;
    };
    assert_eq!(r.to().unwrap().uri.user.as_deref(), Some("null-\0-null"));
    let users: Vec<_> = r
        .contacts()
        .unwrap()
        .into_iter()
        .map(|c| match c {
            ContactValue::Address(a) => a.uri.user,
            ContactValue::Wildcard => None,
        })
        .collect();
    assert_eq!(users, vec![Some("\0".into()), Some("\0\0".into())]);
    assert!(r.body.is_empty());
}

/// §3.1.1.5 esc02: use of % when it is not an escape (method, display name, branch, header
/// name).
#[test]
fn esc02() {
    let Some(r) = accept_request("esc02") else {
        return;
    };
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    assert_eq!(r.to().unwrap().display_name.as_deref(), Some("%Z%45"));
    assert_eq!(
        r.top_via().unwrap().branch.as_deref(),
        Some("z9hG4bK209%fzsnel234")
    );
    // C%6Fntact is an extension header, not a third Contact.
    assert_eq!(r.contacts().unwrap().len(), 2);
    assert_eq!(
        r.headers.get("C%6Fntact"),
        Some("<sip:alias2@host2.example.com>")
    );
}

/// §3.1.1.6 lwsdisp: no LWS between the display name and `<`.
#[test]
fn lwsdisp() {
    let Some(r) = accept_request("lwsdisp") else {
        return;
    };
    assert_eq!(r.from().unwrap().display_name.as_deref(), Some("caller"));
}

/// §3.1.1.7 longreq: long values in header fields.
#[test]
fn longreq() {
    let Some(r) = accept_request("longreq") else {
        return;
    };
    let to = r.to().unwrap();
    assert!(
        to.display_name
            .as_deref()
            .unwrap()
            .starts_with("I have a user name of extremeextreme")
    );
    assert_eq!(to.uri.port, Some(6000));
    assert!(to.uri.params.len() >= 2);
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 34);
    assert!(vias[33].branch.as_deref().unwrap().len() > 100);
    assert_eq!(vias[33].received, Some(Ipv4Addr::new(192, 0, 2, 5).into()));
    assert!(r.call_id().unwrap().len() > 100);
    assert!(r.from().unwrap().tag().unwrap().len() > 100);
    assert_eq!(r.body.len(), 150);
}

/// §3.1.1.8 dblreq: extra trailing octets in a UDP datagram (a second request, ignored).
#[test]
fn dblreq() {
    let Some(r) = accept_request("dblreq") else {
        return;
    };
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
    assert_eq!(r.call_id(), Ok("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
}

/// §3.1.1.9 semiuri: semicolon-separated parameters in the URI user part.
#[test]
fn semiuri() {
    let Some(r) = accept_request("semiuri") else {
        return;
    };
    assert_eq!(r.uri.user.as_deref(), Some("user;par=u@example.net"));
    assert_eq!(r.uri.host, Host::Name("example.com".into()));
    assert!(r.uri.params.is_empty());
    assert_eq!(r.headers.get_all("Accept").count(), 6);
}

/// §3.1.1.10 transports: varied and unknown transport types.
#[test]
fn transports() {
    let Some(r) = accept_request("transports") else {
        return;
    };
    let transports: Vec<_> = r.vias().unwrap().into_iter().map(|v| v.transport).collect();
    assert_eq!(transports, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

/// §3.1.1.11 mpart01: a multipart MIME body with binary parts (just bytes here).
#[test]
fn mpart01() {
    let Some(r) = accept_request("mpart01") else {
        return;
    };
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.body.len(), 553);
    assert!(r.body.starts_with(b"--7a9cbec02ceef655\r\n"));
    assert!(
        r.content_type()
            .unwrap()
            .starts_with("multipart/mixed;boundary=")
    );
    assert_eq!(r.top_via().unwrap().rport, Some(None));
}

/// §3.1.1.12 unreason: an unusual (UTF-8) reason phrase.
#[test]
fn unreason() {
    let Some(r) = accept_response("unreason") else {
        return;
    };
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    assert_eq!(r.body.len(), 154);
}

/// §3.1.1.13 noreason: an empty reason phrase.
#[test]
fn noreason() {
    let Some(r) = accept_response("noreason") else {
        return;
    };
    assert_eq!(r.status, StatusCode::TRYING);
    assert_eq!(r.reason, "");
}

// ---- §3.1.2 Invalid messages ----

/// §3.1.2.1 badinv01: extraneous header field separators (`;;,;,,` in Via, `;;;;` in
/// Contact).
#[test]
fn badinv01() {
    let Some(err) = reject("badinv01", ParseErrorKind::BadVia) else {
        return;
    };
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert_answered(&err);
}

/// §3.1.2.2 clerr: Content-Length larger than the message (on UDP: reject with 400).
#[test]
fn clerr() {
    let Some(err) = reject("clerr", ParseErrorKind::BodyTooShort) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.3 ncl: negative Content-Length.
#[test]
fn ncl() {
    let Some(err) = reject("ncl", ParseErrorKind::BadContentLength) else {
        return;
    };
    assert_eq!(err.reason_phrase(), "Bad Request - invalid Content-Length");
    assert_answered(&err);
}

/// §3.1.2.4 scalar02: request scalar fields with overlarge values (CSeq, Max-Forwards,
/// Expires); the CSeq alone makes it a 400.
#[test]
fn scalar02() {
    let Some(err) = reject("scalar02", ParseErrorKind::BadCSeq) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.5 scalarlg: response scalar fields with overlarge values; the response is
/// discarded.
#[test]
fn scalarlg() {
    let Some(err) = reject("scalarlg", ParseErrorKind::BadCSeq) else {
        return;
    };
    assert!(
        err.bad_request_response().is_none(),
        "responses are not answered"
    );
}

/// §3.1.2.6 quotbal: unterminated quoted string in the display name.
#[test]
fn quotbal() {
    let Some(err) = reject("quotbal", ParseErrorKind::BadHeader("To".into())) else {
        return;
    };
    assert_eq!(err.reason_phrase(), "Bad Request - invalid To");
}

/// §3.1.2.7 ltgtruri: `<>` enclosing the Request-URI.
#[test]
fn ltgtruri() {
    let Some(err) = reject("ltgtruri", ParseErrorKind::BadUri) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.8 lwsruri: malformed Request-URI with embedded LWS.
#[test]
fn lwsruri() {
    let Some(err) = reject("lwsruri", ParseErrorKind::BadStartLine) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.9 lwsstart: multiple SP separating Request-Line elements.
#[test]
fn lwsstart() {
    reject("lwsstart", ParseErrorKind::BadStartLine);
}

/// §3.1.2.10 trws: SP characters at the end of the Request-Line.
///
/// Left open by the RFC ("reasonable to reject", or ignore the SPs). Rejected: the
/// Request-Line grammar (RFC 3261 §25.1) has exactly one SP between elements and none before
/// CRLF, and this parser applies it uniformly, as for lwsstart.
#[test]
fn trws() {
    let Some(err) = reject("trws", ParseErrorKind::BadStartLine) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.11 escruri: escaped headers in the SIP Request-URI.
///
/// Left open by the RFC (reject with 400, or ignore the headers). Rejected: RFC 3261 §19.1.1
/// Table 1 does not allow headers in a Request-URI, and a gateway has no use for them.
#[test]
fn escruri() {
    let Some(err) = reject("escruri", ParseErrorKind::BadUri) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.12 baddate: a Date header with a time zone other than GMT.
#[test]
fn baddate() {
    let Some(err) = reject("baddate", ParseErrorKind::BadHeader("Date".into())) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.13 regbadct: a Contact URI with an escaped header not enclosed in `<>`.
///
/// Left open by the RFC (400, or infer the brackets). Rejected: RFC 3261 §20.10 requires
/// `<>` around a URI containing `?`, and inferring them is not possible in general.
#[test]
fn regbadct() {
    let Some(err) = reject("regbadct", ParseErrorKind::BadHeader("Contact".into())) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.14 badaspec: spaces within the addr-spec (`< sip:... >`).
#[test]
fn badaspec() {
    reject("badaspec", ParseErrorKind::BadHeader("To".into()));
}

/// §3.1.2.15 baddn: non-token characters in an unquoted display name.
#[test]
fn baddn() {
    reject("baddn", ParseErrorKind::BadHeader("From".into()));
}

/// §3.1.2.16 badvers: unknown protocol version (answer 505).
#[test]
fn badvers() {
    let Some(err) = reject("badvers", ParseErrorKind::BadVersion) else {
        return;
    };
    assert_eq!(err.status(), StatusCode::VERSION_NOT_SUPPORTED);
    assert_answered(&err);
}

/// §3.1.2.17 mismatch01: Request-Line and CSeq methods differ.
#[test]
fn mismatch01() {
    let Some(err) = reject("mismatch01", ParseErrorKind::CSeqMethodMismatch) else {
        return;
    };
    assert_answered(&err);
}

/// §3.1.2.18 mismatch02: unknown method with a CSeq method mismatch (400, not 501).
#[test]
fn mismatch02() {
    let Some(err) = reject("mismatch02", ParseErrorKind::CSeqMethodMismatch) else {
        return;
    };
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

/// §3.1.2.19 bigcode: an overlarge response code.
#[test]
fn bigcode() {
    let Some(err) = reject("bigcode", ParseErrorKind::BadStartLine) else {
        return;
    };
    assert!(err.bad_request_response().is_none());
}

// ---- §3.2 Transaction layer semantics ----

/// §3.2.1 badbranch: the z9hG4bK magic cookie with no transaction identifier.
///
/// Left open by the RFC (400, or fall back to RFC 2543 matching). Accepted: `z9hG4bK` is a
/// syntactically valid branch token, so the parser takes it; matching is the transaction
/// layer's business.
#[test]
fn badbranch() {
    let Some(r) = accept_request("badbranch") else {
        return;
    };
    assert_eq!(r.top_via().unwrap().branch.as_deref(), Some("z9hG4bK"));
}

// ---- §3.3 Application layer semantics ----

/// §3.3.1 insuf: missing required header fields (To, From, Call-ID, Max-Forwards).
#[test]
fn insuf() {
    let Some(err) = reject("insuf", ParseErrorKind::MissingHeader("To")) else {
        return;
    };
    assert_eq!(err.reason_phrase(), "Bad Request - missing To");
    // Without To, From and Call-ID no valid answer can be built: drop it.
    assert!(err.bad_request_response().is_none());
}

/// §3.3.2 unkscm: Request-URI with an unknown scheme (416 at the application layer).
#[test]
fn unkscm() {
    let Some(r) = accept_request("unkscm") else {
        return;
    };
    assert_eq!(r.uri.scheme, Scheme::Other("nobodyknowsthisscheme".into()));
    assert_eq!(r.uri.opaque.as_deref(), Some("totallyopaquecontent"));
}

/// §3.3.3 novelsc: Request-URI with a known but atypical scheme.
#[test]
fn novelsc() {
    let Some(r) = accept_request("novelsc") else {
        return;
    };
    assert_eq!(r.uri.scheme, Scheme::Other("soap.beep".into()));
    assert!(!r.uri.is_sip());
}

/// §3.3.4 unksm2: unknown URI schemes in header fields.
#[test]
fn unksm2() {
    let Some(r) = accept_request("unksm2") else {
        return;
    };
    assert_eq!(r.to().unwrap().uri.scheme, Scheme::Other("isbn".into()));
    assert_eq!(r.from().unwrap().uri.scheme, Scheme::Other("http".into()));
    let contact = only_contact(&r);
    assert_eq!(contact.uri.to_string(), "name:John_Smith");
}

/// §3.3.5 bext01: unknown option tags in Require and Proxy-Require (420 at the UAS).
#[test]
fn bext01() {
    let Some(r) = accept_request("bext01") else {
        return;
    };
    let require: Vec<_> = r.headers.get_all("Require").collect();
    assert_eq!(
        require,
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    assert_eq!(r.headers.get_all("Proxy-Require").count(), 2);
}

/// §3.3.6 invut: an unknown Content-Type (415 at the UAS).
#[test]
fn invut() {
    let Some(r) = accept_request("invut") else {
        return;
    };
    assert_eq!(r.content_type(), Some("application/unknownformat"));
    assert_eq!(r.body.len(), 40);
}

/// §3.3.7 regaut01: an Authorization header with an unknown scheme.
///
/// Left open by the corpus README; RFC 4475 calls the request well-formed (a
/// registrar answers 401/403), so it is accepted, the Authorization value kept whole.
#[test]
fn regaut01() {
    let Some(r) = accept_request("regaut01") else {
        return;
    };
    assert_eq!(
        r.headers.get("Authorization"),
        Some("NoOneKnowsThisScheme opaque-data=here")
    );
}

/// §3.3.8 multi01: multiple values in single-value header fields (To, From, Call-ID, CSeq,
/// Max-Forwards).
#[test]
fn multi01() {
    let Some(err) = reject("multi01", ParseErrorKind::DuplicateHeader("Call-ID".into())) else {
        return;
    };
    assert_answered(&err);
}

/// §3.3.9 mcl01: multiple Content-Length values.
#[test]
fn mcl01() {
    let Some(err) = reject(
        "mcl01",
        ParseErrorKind::DuplicateHeader("Content-Length".into()),
    ) else {
        return;
    };
    assert_answered(&err);
}

/// §3.3.10 bcast: a 200 OK with a broadcast address in its second Via.
///
/// Left open by the corpus README; RFC 4475 says the message is well-formed
/// and parsers must not fail on it (a proxy drops it because the top Via is not its own), so
/// it is accepted.
#[test]
fn bcast() {
    let Some(r) = accept_response("bcast") else {
        return;
    };
    let vias = r.vias().unwrap();
    assert_eq!(vias[1].host, Host::Ipv4(Ipv4Addr::BROADCAST));
}

/// §3.3.11 zeromf: Max-Forwards of zero, a legal request (a proxy answers 483).
#[test]
fn zeromf() {
    let Some(r) = accept_request("zeromf") else {
        return;
    };
    assert_eq!(r.max_forwards(), Ok(Some(0)));
}

/// §3.3.12 cparam01: Contact with an unknown contact parameter (addr-spec form).
#[test]
fn cparam01() {
    let Some(r) = accept_request("cparam01") else {
        return;
    };
    let contact = only_contact(&r);
    assert!(contact.uri.params.is_empty());
    assert_eq!(contact.param("unknownparam"), Some(None));
}

/// §3.3.13 cparam02: Contact with an unknown URI parameter (name-addr form).
#[test]
fn cparam02() {
    let Some(r) = accept_request("cparam02") else {
        return;
    };
    let contact = only_contact(&r);
    assert_eq!(contact.uri.param("unknownparam"), Some(None));
    assert!(contact.params.is_empty());
}

/// §3.3.14 regescrt: a REGISTER with an escaped Route header in a Contact URI.
#[test]
fn regescrt() {
    let Some(r) = accept_request("regescrt") else {
        return;
    };
    let contact = only_contact(&r);
    assert_eq!(
        contact.uri.headers,
        vec![("Route".to_owned(), "<sip:sip.example.com>".to_owned())]
    );
}

/// §3.3.15 sdp01: an Accept the UAS cannot satisfy (415 at the UAS).
#[test]
fn sdp01() {
    let Some(r) = accept_request("sdp01") else {
        return;
    };
    assert_eq!(r.headers.get("Accept"), Some("text/nobodyKnowsThis"));
    assert_eq!(r.content_type(), Some("application/sdp"));
}

// ---- §3.4 Backward compatibility ----

/// §3.4.1 inv2543: an INVITE in RFC 2543 style (no branch, no From tag, no Content-Length, no
/// Max-Forwards).
#[test]
fn inv2543() {
    let Some(r) = accept_request("inv2543") else {
        return;
    };
    assert_eq!(r.top_via().unwrap().branch, None);
    assert_eq!(r.from().unwrap().tag(), None);
    assert_eq!(r.max_forwards(), Ok(None));
    // No Content-Length on a datagram: the body is the rest of it.
    assert_eq!(r.body.len(), 105);
    assert!(r.body.starts_with(b"v=0\r\n"));
}
