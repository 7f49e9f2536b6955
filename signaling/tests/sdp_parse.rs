//! SDP parsing and printing (RFC 8866): the model of real offers, what is tolerated (LF line
//! ends, trailing whitespace, session lines out of order, missing `s=`/`t=`), what is refused
//! (with the line number), the size limits, CRLF printing in RFC order, typed attribute
//! readings, and a property test that parse(print(x)) == x.

#[path = "sdp_fixtures.rs"]
mod fixtures;

use proptest::prelude::*;
use signaling::sdp::{
    Attribute, Bandwidth, Connection, CryptoAttribute, CryptoSuite, Direction, Fmtp,
    MAX_MEDIA_SECTIONS, MAX_SDP_BYTES, MAX_SDP_LINES, MediaDescription, MediaKind, Origin,
    RtcpAttribute, RtcpFb, RtpMap, SdpError, SessionDescription, Timing,
};

fn parse(text: &str) -> SessionDescription {
    SessionDescription::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn line_error(text: &str) -> usize {
    match SessionDescription::parse(text) {
        Err(SdpError::Line { line, .. }) => line,
        other => panic!("expected a line error, got {other:?}"),
    }
}

const MINIMAL: &str = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";

// ---------------------------------------------------------------------------------------------
// The model

#[test]
fn polycom_offer_model() {
    let sdp = parse(&fixtures::crlf(fixtures::POLYCOM_GROUP));
    assert_eq!(
        sdp.origin,
        Origin {
            username: "GroupSeries".to_owned(),
            session_id: 1_289_141_212,
            session_version: 0,
            net_type: "IN".to_owned(),
            addr_type: "IP4".to_owned(),
            address: "192.168.1.50".to_owned(),
        }
    );
    assert_eq!(sdp.session_name, "-");
    assert_eq!(
        sdp.connection,
        Some(Connection::from_ip("192.168.1.50".parse().unwrap()))
    );
    assert_eq!(
        sdp.bandwidths,
        vec![Bandwidth {
            kind: "AS".to_owned(),
            value: 2048
        }]
    );
    assert_eq!(
        sdp.timing,
        vec![Timing {
            start: 0,
            stop: 0,
            repeats: vec![]
        }]
    );
    assert_eq!(sdp.media.len(), 4);
    let kinds: Vec<&MediaKind> = sdp.media.iter().map(|m| &m.media).collect();
    assert_eq!(
        kinds,
        [
            &MediaKind::Audio,
            &MediaKind::Video,
            &MediaKind::Application,
            &MediaKind::Video
        ]
    );
    let audio = &sdp.media[0];
    assert_eq!((audio.port, audio.port_count), (49170, None));
    assert_eq!(audio.protocol, "RTP/AVP");
    assert_eq!(
        audio.formats,
        ["115", "102", "9", "15", "0", "8", "18", "101"]
    );
    assert_eq!(audio.rtpmaps().count(), 8);
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    let bfcp = &sdp.media[2];
    assert_eq!(bfcp.protocol, "UDP/BFCP");
    assert_eq!(bfcp.formats, ["*"]);
    assert_eq!(
        bfcp.attributes[3],
        Attribute::new("floorid", "2 mstrm:3"),
        "only the first colon splits"
    );
    let video = &sdp.media[1];
    assert_eq!(video.bandwidth("TIAS"), Some(1_920_000));
    let fmtp = video.fmtp("109").unwrap();
    assert_eq!(fmtp.get("profile-level-id"), Some("428016"));
    assert_eq!(fmtp.get("PACKETIZATION-MODE"), Some("1"));
    assert_eq!(fmtp.get("max-br"), Some("20480"));
    assert_eq!(fmtp.get("absent"), None);
}

#[test]
fn typed_attributes() {
    let sdp = parse(fixtures::CISCO_ROOM_SAVP);
    let audio = &sdp.media[0];
    assert_eq!(
        audio.rtpmap(114),
        Some(RtpMap {
            payload_type: 114,
            encoding: "opus".to_owned(),
            clock_rate: 48000,
            encoding_params: Some("2".to_owned()),
        })
    );
    assert_eq!(audio.rtpmap(114).unwrap().channels(), 2);
    assert_eq!(audio.rtpmap(9).unwrap().channels(), 1);
    assert_eq!(audio.rtpmap(77), None);
    let crypto = audio.crypto();
    assert_eq!(crypto.len(), 2);
    assert_eq!(crypto[0].tag, 1);
    assert_eq!(
        crypto[0].known_suite(),
        Some(CryptoSuite::AesCm128HmacSha1_80)
    );
    assert_eq!(
        crypto[1].known_suite(),
        Some(CryptoSuite::AesCm128HmacSha1_32)
    );
    assert!(crypto[0].usable_key().is_some(), "lifetime 2^48 is fine");
    let video = &sdp.media[1];
    assert_eq!(
        video.rtcp_fb()[0],
        RtcpFb {
            payload_type: None,
            kind: "nack".to_owned(),
            param: Some("pli".to_owned()),
        }
    );
    assert_eq!(
        video.payload_types().collect::<Vec<_>>(),
        [97, 126, 96, 34, 31]
    );

    let phone = parse(fixtures::PHONE_PCMU);
    assert_eq!(
        phone.media[0].rtcp(),
        Some(RtcpAttribute {
            port: 6011,
            connection: None
        })
    );
    assert_eq!(phone.media[0].ptime(), Some(20));
    assert!(!phone.media[0].rtcp_mux());
    assert!(parse(fixtures::H264_ASYMMETRIC).media[0].rtcp_mux());
}

#[test]
fn attribute_value_readers() {
    assert_eq!(
        RtcpAttribute::parse("53020 IN IP4 126.16.64.4"),
        Some(RtcpAttribute {
            port: 53020,
            connection: Some(Connection {
                net_type: "IN".to_owned(),
                addr_type: "IP4".to_owned(),
                address: "126.16.64.4".to_owned(),
            }),
        })
    );
    assert_eq!(RtcpAttribute::parse("70000"), None);
    assert_eq!(RtpMap::parse("96 opus/48000/2/9"), None);
    assert_eq!(
        RtpMap::parse("200 PCMU/8000"),
        None,
        "payload types end at 127"
    );
    assert_eq!(RtpMap::parse("96 /8000"), None);
    assert_eq!(
        RtpMap::parse("0 PCMU/8000").unwrap().to_string(),
        "0 PCMU/8000"
    );
    assert_eq!(RtcpFb::parse("* ccm fir").unwrap().to_string(), "* ccm fir");
    assert_eq!(
        RtcpFb::parse("96 trr-int 100").unwrap().param.as_deref(),
        Some("100")
    );
    assert_eq!(RtcpFb::parse("x nack"), None);
    let fmtp = Fmtp::parse("34 CIF=1 QCIF=2;SQCIF=3").unwrap();
    assert_eq!(
        fmtp.parameters().collect::<Vec<_>>(),
        [
            ("CIF", Some("1")),
            ("QCIF", Some("2")),
            ("SQCIF", Some("3"))
        ]
    );
    assert_eq!(Fmtp::parse("101 0-15").unwrap().params, "0-15");
    let crypto = CryptoAttribute::parse(
        "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP",
    )
    .unwrap();
    assert_eq!(crypto.session_params, ["FEC_ORDER=FEC_SRTP"]);
    assert_eq!(crypto.usable_key(), None);
    assert_eq!(
        CryptoAttribute::parse("1234567890 AES_CM_128_HMAC_SHA1_80 inline:x"),
        None
    );
    let ours = CryptoAttribute::inline(5, CryptoSuite::AesCm128HmacSha1_32, &[0; 30]);
    assert_eq!(
        ours.to_string(),
        "5 AES_CM_128_HMAC_SHA1_32 inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    );
    assert_eq!(ours.usable_key(), Some([0; 30]));
}

#[test]
fn session_direction_default_and_override() {
    let sdp = parse(&format!(
        "{MINIMAL}a=recvonly\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\na=inactive\r\n"
    ));
    assert_eq!(sdp.direction(), Direction::RecvOnly);
    assert_eq!(sdp.media_direction(&sdp.media[0]), Direction::RecvOnly);
    assert_eq!(sdp.media_direction(&sdp.media[1]), Direction::Inactive);
    assert_eq!(parse(MINIMAL).direction(), Direction::SendRecv);
}

// ---------------------------------------------------------------------------------------------
// Tolerance

#[test]
fn lf_line_ends_trailing_whitespace_and_blank_lines() {
    let sloppy = "v=0 \no=- 1 2 IN IP4 192.0.2.1\t\n\ns=-\r\nt=0 0  \r\n\na=sendonly \n\n";
    let sdp = parse(sloppy);
    assert_eq!(sdp, parse(&format!("{MINIMAL}a=sendonly\r\n")));
}

#[test]
fn session_lines_out_of_order_and_defaults() {
    // c= and a= before s=, t= missing: tolerated and printed in RFC order.
    let sdp = parse("v=0\nc=IN IP4 192.0.2.1\na=tool:x\no=- 1 2 IN IP4 192.0.2.1\nb=AS:64\n");
    assert_eq!(sdp.session_name, "-");
    assert_eq!(sdp.timing.len(), 1);
    assert_eq!(
        sdp.to_string(),
        "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nb=AS:64\r\nt=0 0\r\na=tool:x\r\n"
    );
}

#[test]
fn empty_session_name_prints_as_a_space() {
    let sdp = parse("v=0\no=- 1 2 IN IP4 192.0.2.1\ns=\nt=0 0\n");
    assert_eq!(sdp.session_name, "");
    assert!(sdp.to_string().contains("\r\ns= \r\n"), "RFC 8866 §5.3");
    assert_eq!(parse(&sdp.to_string()), sdp);
}

#[test]
fn every_line_type_round_trips_in_rfc_order() {
    let text = "v=0\r\n\
        o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n\
        s=Call to John Smith\r\n\
        i=A Seminar on the session description protocol\r\n\
        u=http://www.example.com/seminars/sdp.pdf\r\n\
        e=j.doe@example.com (Jane Doe)\r\n\
        p=+1 617 555-6011\r\n\
        c=IN IP4 198.51.100.1\r\n\
        b=CT:128\r\n\
        t=3724394400 3724398000\r\n\
        r=604800 3600 0 90000\r\n\
        z=2882844526 -1h 2898848070 0\r\n\
        k=prompt\r\n\
        a=recvonly\r\n\
        m=audio 49170/2 RTP/AVP 0\r\n\
        i=voice\r\n\
        c=IN IP6 2001:db8::2\r\n\
        b=AS:64\r\n\
        k=prompt\r\n\
        a=ptime:20\r\n\
        m=video 51372 RTP/AVP 99\r\n\
        c=IN IP4 233.252.0.1/127/2\r\n\
        a=rtpmap:99 h263-1998/90000\r\n";
    let sdp = parse(text);
    assert_eq!(sdp.to_string(), text);
    assert_eq!(sdp.media[0].port_count, Some(2));
    assert_eq!(sdp.media[0].title.as_deref(), Some("voice"));
    assert_eq!(sdp.timing[0].repeats, ["604800 3600 0 90000"]);
    assert_eq!(
        sdp.media[1].connection.as_ref().unwrap().ip(),
        Some("233.252.0.1".parse().unwrap())
    );
}

#[test]
fn every_fixture_round_trips() {
    for (name, text) in fixtures::ALL {
        let sdp = parse(text);
        let printed = sdp.to_string();
        assert_eq!(parse(&printed), sdp, "{name}");
        // CRLF, no bare LF, and printing the reparsed value is stable.
        assert_eq!(
            printed.matches('\n').count(),
            printed.matches("\r\n").count(),
            "{name}"
        );
        assert_eq!(parse(&printed).to_string(), printed, "{name}");
    }
}

#[test]
fn media_kinds_and_connections() {
    assert_eq!(MediaKind::from_token("AUDIO"), MediaKind::Audio);
    assert_eq!(
        MediaKind::from_token("image"),
        MediaKind::Other("image".to_owned())
    );
    assert_eq!(MediaKind::Other("text".to_owned()).to_string(), "text");
    let host = Connection {
        net_type: "IN".to_owned(),
        addr_type: "IP4".to_owned(),
        address: "host.example.com".to_owned(),
    };
    assert_eq!(host.ip(), None);
    let mismatch = Connection {
        addr_type: "IP6".to_owned(),
        address: "192.0.2.1".to_owned(),
        ..host
    };
    assert_eq!(mismatch.ip(), None, "IP6 with an IPv4 literal");
    let v6 = Connection::from_ip("2001:db8::1".parse().unwrap());
    assert_eq!(v6.to_string(), "IN IP6 2001:db8::1");
}

#[test]
fn building_a_description_by_hand() {
    let mut sdp = SessionDescription::new(Origin {
        username: "-".to_owned(),
        session_id: 1,
        session_version: 1,
        net_type: "IN".to_owned(),
        addr_type: "IP4".to_owned(),
        address: "192.0.2.1".to_owned(),
    });
    let mut media = MediaDescription::new(MediaKind::Audio, 5000, "RTP/AVP");
    media.formats.push("0".to_owned());
    media.attributes.push(Attribute::property("rtcp-mux"));
    sdp.media.push(media);
    assert_eq!(
        sdp.to_string(),
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=rtcp-mux\r\n"
    );
    assert_eq!(parse(&sdp.to_string()), sdp);
    assert!(sdp.media[0].has_attribute("RTCP-MUX"));
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn missing_version_or_origin() {
    assert_eq!(
        SessionDescription::parse("o=- 1 2 IN IP4 192.0.2.1\ns=-\nt=0 0\n"),
        Err(SdpError::Missing('v'))
    );
    assert_eq!(
        SessionDescription::parse("v=0\ns=-\nt=0 0\n"),
        Err(SdpError::Missing('o'))
    );
    assert_eq!(SessionDescription::parse(""), Err(SdpError::Missing('v')));
    assert_eq!(SdpError::Missing('v').sip_status(), 400);
}

#[test]
fn bad_lines_are_named_by_number() {
    assert_eq!(
        line_error("v=0\no=- 1 2 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio x RTP/AVP 0\n"),
        5
    );
    assert_eq!(line_error("v=1\n"), 1);
    assert_eq!(line_error("v=0\nhello\n"), 2);
    assert_eq!(line_error("v=0\n=x\n"), 2);
    assert_eq!(
        line_error("v=0\no=- 1 IN IP4 192.0.2.1\n"),
        2,
        "five fields"
    );
    assert_eq!(
        line_error("v=0\no=- x 2 IN IP4 192.0.2.1\n"),
        2,
        "session id"
    );
    assert_eq!(
        line_error("v=0\no=- 99999999999999999999 2 IN IP4 a\n"),
        2,
        "u64"
    );
    assert_eq!(line_error(&format!("{MINIMAL}x=unknown\n")), 5);
    assert_eq!(line_error(&format!("{MINIMAL}c=IN IP4\n")), 5);
    assert_eq!(line_error(&format!("{MINIMAL}b=AS\n")), 5);
    assert_eq!(line_error(&format!("{MINIMAL}b=AS:fast\n")), 5);
    assert_eq!(line_error(&format!("{MINIMAL}t=0\n")), 5);
    assert_eq!(
        line_error(&format!("{MINIMAL}a=\n")),
        5,
        "empty attribute name"
    );
    assert_eq!(line_error(&format!("{MINIMAL}a=bad name:1\n")), 5);
    assert_eq!(
        line_error(&format!("{MINIMAL}m=audio 70000 RTP/AVP 0\n")),
        5
    );
    assert_eq!(line_error(&format!("{MINIMAL}m=audio 5000\n")), 5);
    assert_eq!(
        line_error(&format!("{MINIMAL}a=x:1\ra=y:2\n")),
        5,
        "lone CR"
    );
    assert_eq!(line_error(&format!("{MINIMAL}a=x:\0\n")), 5);
    assert_eq!(line_error("v=0\nr=1 2\n"), 2, "r= before t=");
}

#[test]
fn duplicates_and_misplaced_lines() {
    assert_eq!(
        line_error(&format!("{MINIMAL}o=- 1 2 IN IP4 192.0.2.1\n")),
        5
    );
    assert_eq!(
        line_error(&format!(
            "{MINIMAL}c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\n"
        )),
        6
    );
    assert_eq!(line_error("v=0\nv=0\n"), 2);
    assert_eq!(
        line_error(&format!(
            "{MINIMAL}m=audio 1 RTP/AVP 0\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\n"
        )),
        7
    );
    assert_eq!(
        line_error(&format!("{MINIMAL}m=audio 1 RTP/AVP 0\ns=late\n")),
        6
    );
    assert_eq!(
        line_error(&format!("{MINIMAL}m=audio 1 RTP/AVP 0\nt=0 0\n")),
        6
    );
    let message = SessionDescription::parse(&format!("{MINIMAL}m=audio 1 RTP/AVP 0\nt=0 0\n"))
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("SDP line 6:"), "{message}");
}

#[test]
fn size_limits() {
    let big = format!("{MINIMAL}a=x:{}\r\n", "y".repeat(MAX_SDP_BYTES));
    assert_eq!(
        SessionDescription::parse(&big),
        Err(SdpError::TooLarge(big.len()))
    );

    let lines = format!("{MINIMAL}{}", "a=x\r\n".repeat(MAX_SDP_LINES - 4));
    assert!(
        SessionDescription::parse(&lines).is_ok(),
        "exactly 512 lines"
    );
    let lines = format!("{lines}a=x\r\n");
    assert_eq!(
        SessionDescription::parse(&lines),
        Err(SdpError::TooManyLines)
    );

    let media = format!(
        "{MINIMAL}{}",
        "m=audio 1 RTP/AVP 0\r\n".repeat(MAX_MEDIA_SECTIONS)
    );
    assert_eq!(parse(&media).media.len(), 32);
    let media = format!("{media}m=audio 1 RTP/AVP 0\r\n");
    assert!(matches!(
        SessionDescription::parse(&media),
        Err(SdpError::Line { line: 37, .. })
    ));
}

#[test]
fn from_str_is_parse() {
    let sdp: SessionDescription = MINIMAL.parse().unwrap();
    assert_eq!(sdp, parse(MINIMAL));
}

// ---------------------------------------------------------------------------------------------
// Property: parse(print(x)) == x

/// Text a value field may hold: visible ASCII and spaces, no leading/trailing whitespace.
fn text() -> impl Strategy<Value = String> {
    "[!-~]([ -~]{0,14}[!-~])?"
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,12}"
}

fn word() -> impl Strategy<Value = String> {
    "[!-~]{1,12}"
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (
        token(),
        proptest::option::of(prop_oneof![Just(String::new()), text()]),
    )
        .prop_map(|(name, value)| Attribute { name, value })
}

fn connection() -> impl Strategy<Value = Connection> {
    (word(), word(), word()).prop_map(|(net_type, addr_type, address)| Connection {
        net_type,
        addr_type,
        address,
    })
}

fn bandwidth() -> impl Strategy<Value = Bandwidth> {
    (token(), any::<u64>()).prop_map(|(kind, value)| Bandwidth { kind, value })
}

fn media() -> impl Strategy<Value = MediaDescription> {
    (
        (
            prop_oneof![
                Just(MediaKind::Audio),
                Just(MediaKind::Video),
                Just(MediaKind::Application),
                "[a-z]{1,8}"
                    .prop_filter("not a known kind", |k| !matches!(
                        k.as_str(),
                        "audio" | "video" | "application"
                    ))
                    .prop_map(MediaKind::Other),
            ],
            any::<u16>(),
            proptest::option::of(any::<u16>()),
            word(),
            proptest::collection::vec(word(), 0..5),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(connection()),
            proptest::collection::vec(bandwidth(), 0..3),
            proptest::option::of(text()),
            proptest::collection::vec(attribute(), 0..6),
        ),
    )
        .prop_map(
            |((kind, port, port_count, protocol, formats), (title, conn, bws, key, attrs))| {
                let mut media = MediaDescription::new(kind, port, protocol);
                media.port_count = port_count;
                media.formats = formats;
                media.title = title;
                media.connection = conn;
                media.bandwidths = bws;
                media.key = key;
                media.attributes = attrs;
                media
            },
        )
}

fn description() -> impl Strategy<Value = SessionDescription> {
    (
        (
            word(),
            any::<u64>(),
            any::<u64>(),
            word(),
            word(),
            word(),
            prop_oneof![Just(String::new()), text()],
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..2),
            proptest::collection::vec(text(), 0..2),
            proptest::option::of(connection()),
            proptest::collection::vec(bandwidth(), 0..3),
        ),
        (
            proptest::collection::vec(
                (
                    any::<u64>(),
                    any::<u64>(),
                    proptest::collection::vec(text(), 0..2),
                ),
                1..3,
            ),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::collection::vec(attribute(), 0..6),
            proptest::collection::vec(media(), 0..5),
        ),
    )
        .prop_map(
            |(
                (username, session_id, session_version, net_type, addr_type, address, name),
                (information, uri, emails, phones, connection, bandwidths),
                (timing, time_zones, key, attributes, media),
            )| {
                let mut sdp = SessionDescription::new(Origin {
                    username,
                    session_id,
                    session_version,
                    net_type,
                    addr_type,
                    address,
                });
                sdp.session_name = name;
                sdp.information = information;
                sdp.uri = uri;
                sdp.emails = emails;
                sdp.phones = phones;
                sdp.connection = connection;
                sdp.bandwidths = bandwidths;
                sdp.timing = timing
                    .into_iter()
                    .map(|(start, stop, repeats)| Timing {
                        start,
                        stop,
                        repeats,
                    })
                    .collect();
                sdp.time_zones = time_zones;
                sdp.key = key;
                sdp.attributes = attributes;
                sdp.media = media;
                sdp
            },
        )
}

proptest! {
    #[test]
    fn parse_of_print_is_identity(sdp in description()) {
        let printed = sdp.to_string();
        prop_assert_eq!(SessionDescription::parse(&printed), Ok(sdp), "{}", printed);
    }

    #[test]
    fn lf_and_crlf_parse_alike(sdp in description()) {
        let printed = sdp.to_string();
        prop_assert_eq!(
            SessionDescription::parse(&printed.replace("\r\n", "\n")),
            SessionDescription::parse(&printed)
        );
    }
}
