//! The SDP fuzz body (`signaling::sdp::fuzzing::sdp`) on stable Rust: over the fixture offers
//! and every truncation, line deletion and line duplication of them, over hostile inputs,
//! and over random text assembled from SDP-looking lines.

#[path = "sdp_fixtures.rs"]
mod fixtures;

use proptest::prelude::*;
use signaling::sdp::fuzzing;

#[test]
fn fixtures_and_their_mutations() {
    let mut runs = 0;
    for (_, text) in fixtures::ALL {
        let crlf = fixtures::crlf(text);
        for cut in 0..=crlf.len() {
            fuzzing::sdp(&crlf.as_bytes()[..cut]);
            runs += 1;
        }
        for text in [text.to_owned(), crlf] {
            let lines: Vec<&str> = text.lines().collect();
            for skip in 0..lines.len() {
                let without: Vec<&str> = lines
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, l)| *l)
                    .collect();
                fuzzing::sdp(without.join("\n").as_bytes());
                let mut doubled = lines.clone();
                doubled.insert(skip, lines[skip]);
                fuzzing::sdp(doubled.join("\r\n").as_bytes());
                runs += 2;
            }
        }
    }
    assert!(runs > 5_000, "{runs}");
}

#[test]
fn hostile_inputs() {
    let head = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n";
    let cases = [
        String::new(),
        "\u{0}".to_owned(),
        "v=0".to_owned(),
        "\r\n\r\n\r\n".to_owned(),
        "v=0\r".to_owned(),
        "v=0\no=- 18446744073709551615 18446744073709551615 IN IP4 x\n".to_owned(),
        format!("{head}m=audio 65535 RTP/AVP 0\n"),
        format!("{head}m=audio 65535/65535 RTP/AVP 0 0 0 0\na=rtcp:0\n"),
        format!(
            "{head}m=video 1 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 profile-level-id=42e0ff;packetization-mode=255\n"
        ),
        format!(
            "{head}m=video 1 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 profile-level-id=\n"
        ),
        format!(
            "{head}m=video 1 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 profile-level-id=ééé\n"
        ),
        format!(
            "{head}m=audio 1 RTP/AVP 96\na=rtpmap:96 telephone-event/4294967295\na=fmtp:96 0-255,255-0,-,\n"
        ),
        format!(
            "{head}m=audio 1 RTP/SAVP 0\na=crypto:999999999 AES_CM_128_HMAC_SHA1_80 inline:|2^99999999999|:\n"
        ),
        format!("{head}m=audio 1 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:====\n"),
        format!(
            "{head}m=audio 1 RTP/AVP 0\na=ptime:99999999999999999999.5\na=rtcp:1 IN IP4 224.0.0.1\n"
        ),
        format!("{head}m=audio 1 RTP/AVP 0\nc=IN IP6 ::\na=rtcp-mux\n"),
        format!("{head}m=video 1 RTP/AVP 34\na=fmtp:34 CIF=0;QCIF=999;CIF4\n"),
        format!("{head}{}", "m=audio 1 RTP/AVP 0\n".repeat(40)),
        format!("{head}{}", "a=x\n".repeat(600)),
        format!("{head}a={}\n", "y".repeat(70_000)),
    ];
    for case in &cases {
        fuzzing::sdp(case.as_bytes());
    }
    fuzzing::sdp(&[0xff, 0xfe, b'v', b'=', b'0']);
}

fn line() -> impl Strategy<Value = String> {
    let value = "[ -~]{0,24}";
    prop_oneof![
        Just("v=0".to_owned()),
        Just("o=- 1 1 IN IP4 198.51.100.1".to_owned()),
        Just("c=IN IP4 198.51.100.1".to_owned()),
        Just("c=IN IP4 0.0.0.0".to_owned()),
        Just("t=0 0".to_owned()),
        Just("m=audio 5000 RTP/AVP 0 8 9 96 101".to_owned()),
        Just("m=audio 5000 RTP/SAVP 0 96".to_owned()),
        Just("m=video 5002 RTP/AVP 96 97 34".to_owned()),
        Just("m=video 5002 RTP/SAVPF 96".to_owned()),
        Just("a=rtpmap:96 opus/48000/2".to_owned()),
        Just("a=rtpmap:96 H264/90000".to_owned()),
        Just("a=rtpmap:97 VP8/90000".to_owned()),
        Just("a=rtpmap:101 telephone-event/8000".to_owned()),
        Just(
            "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1"
                .to_owned()
        ),
        Just(
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
                .to_owned()
        ),
        Just("a=rtcp-fb:* nack pli".to_owned()),
        Just("a=rtcp-mux".to_owned()),
        Just("a=sendonly".to_owned()),
        Just("b=TIAS:1000".to_owned()),
        value.prop_map(|v| format!("a=fmtp:96 {v}")),
        value.prop_map(|v| format!("a=crypto:{v}")),
        value.prop_map(|v| format!("a=rtcp:{v}")),
        ("[a-z]", value).prop_map(|(k, v)| format!("{k}={v}")),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_sdp_lines_never_panic(
        lines in proptest::collection::vec(line(), 0..24),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        fuzzing::sdp(text.as_bytes());
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzzing::sdp(&bytes);
    }
}
