//! Fuzz body for SDP, for a cargo-fuzz target in `fuzz/` and for replaying seeds on stable
//! Rust (`signaling/tests/sdp_fuzz.rs`).

use std::net::{IpAddr, Ipv4Addr};

use super::{
    AnswerParams, CryptoPolicy, Endpoint, LocalCapabilities, SessionDescription, accept_answer,
    answer, offer,
};

/// SDP text of any shape: parsing answers `Ok` or an error and never panics; a parsed
/// description prints to text that parses back to it; answering it with default capabilities
/// under every SRTP policy never panics, and an answer it produces is itself a description
/// that parses back and that our offerer side can read without panicking.
pub fn sdp(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(description) = SessionDescription::parse(text) else {
        return;
    };
    let printed = description.to_string();
    let reparsed = SessionDescription::parse(&printed);
    assert_eq!(reparsed.as_ref(), Ok(&description), "{printed:?}");

    let caps = LocalCapabilities::default();
    for crypto in [
        CryptoPolicy::On,
        CryptoPolicy::BestEffort,
        CryptoPolicy::Off,
    ] {
        let params = AnswerParams {
            caps: &caps,
            audio: Endpoint {
                address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                rtp_port: 40000,
                rtcp_port: 40001,
            },
            video: Endpoint {
                address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                rtp_port: 40002,
                rtcp_port: 40003,
            },
            crypto,
            srtp_key_material: [7; 60],
            session_id: 1,
            session_version: 1,
            username: "tcn",
        };
        if let Ok((answered, _)) = answer(&description, &params) {
            assert_eq!(answered.media.len(), description.media.len());
            let text = answered.to_string();
            assert_eq!(SessionDescription::parse(&text).as_ref(), Ok(&answered));
        }
        // The input as an answer to our own offer.
        let (_, pending) = offer(&params);
        let _ = accept_answer(&pending, &description);
    }
}
