//! Answering offers (RFC 3264 §6) from room systems, softphones and phones: the exact answer
//! lines that matter and the negotiated media; SRTP policy, codec, H.264 level, feedback,
//! bandwidth, direction and hold rules; errors and their SIP status.

#[path = "sdp_fixtures.rs"]
mod fixtures;

use std::net::{IpAddr, SocketAddr};

use fixtures::{OUR_IP, crlf, params};
use signaling::sdp::{
    AudioCodec, CryptoPolicy, CryptoSuite, Direction, H263Format, H263PictureSize, H264Level,
    LocalCapabilities, MediaDescription, NegotiatedMedia, NegotiationError, ProfileLevelId,
    RtcpFeedback, SessionDescription, VideoCodec, answer,
};

/// Answers `offer` with `caps` under `policy`; the answer as LF text and the media.
fn answer_with(
    offer: &str,
    caps: &LocalCapabilities,
    policy: CryptoPolicy,
) -> Result<(String, SessionDescription, NegotiatedMedia), NegotiationError> {
    let offer = SessionDescription::parse(offer).expect("offer parses");
    let (answer, media) = answer(&offer, &params(caps, policy))?;
    let text = answer.to_string();
    assert_eq!(SessionDescription::parse(&text).as_ref(), Ok(&answer));
    assert_eq!(
        answer.media.len(),
        offer.media.len(),
        "RFC 3264 §6: one m= per m="
    );
    Ok((text.replace("\r\n", "\n"), answer, media))
}

fn answer_default(offer: &str) -> (String, SessionDescription, NegotiatedMedia) {
    answer_with(
        offer,
        &LocalCapabilities::default(),
        CryptoPolicy::BestEffort,
    )
    .expect("offer is answerable")
}

fn refusal(offer: &str, policy: CryptoPolicy) -> NegotiationError {
    answer_with(offer, &LocalCapabilities::default(), policy).expect_err("offer is refused")
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

fn media_text(media: &MediaDescription) -> String {
    media.to_string().replace("\r\n", "\n")
}

/// The bytes of a base64 key, for comparing SRTP contexts.
fn key(text: &str) -> [u8; 30] {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
        .try_into()
        .expect("30 bytes")
}

// ---------------------------------------------------------------------------------------------
// Room systems

#[test]
fn polycom_group_gets_g722_h264_mode1_and_bfcp_and_content_rejected() {
    let (text, _, media) = answer_default(&crlf(fixtures::POLYCOM_GROUP));
    assert_eq!(
        text,
        "v=0
o=tcn 1000 1 IN IP4 192.0.2.100
s=-
c=IN IP4 192.0.2.100
t=0 0
m=audio 40000 RTP/AVP 9 101
a=rtpmap:9 G722/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
m=video 40002 RTP/AVP 109
a=rtpmap:109 H264/90000
a=fmtp:109 profile-level-id=428016;packetization-mode=1
a=rtcp-fb:* ccm fir
a=rtcp-fb:* nack pli
a=sendrecv
m=application 0 UDP/BFCP *
m=video 0 RTP/AVP 109
"
    );
    let audio = media.audio.expect("audio");
    assert_eq!(audio.format.codec, AudioCodec::G722);
    assert_eq!(audio.format.clock_rate, 8000, "RFC 3551 §4.5.2");
    assert_eq!(audio.format.telephone_event, Some(101));
    assert_eq!(audio.payload_type, 9);
    assert_eq!(audio.remote_rtp, addr("192.168.1.50:49170"));
    assert_eq!(audio.remote_rtcp, addr("192.168.1.50:49171"));
    assert_eq!(audio.direction, Direction::SendRecv);
    assert_eq!(audio.srtp, None);
    assert_eq!(audio.bandwidth_kbps, Some(2048), "session-level b=AS");
    assert_eq!(audio.local, fixtures::audio_endpoint());

    let video = media.video.expect("video");
    assert_eq!(video.payload_type, 109);
    assert_eq!(
        video.format.codec,
        VideoCodec::H264 {
            profile_level_id: ProfileLevelId::parse("428016").unwrap(),
            packetization_modes: vec![1],
        }
    );
    // No level-asymmetry-allowed: min(our 3.1, their 2.2) both ways.
    assert_eq!(video.format.h264_send_level, Some(H264Level::L2_2));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L2_2));
    assert_eq!(video.format.max_mbps, Some(245_000));
    assert_eq!(video.format.max_fs, Some(8192));
    assert_eq!(video.format.max_br, Some(20480));
    assert_eq!(video.bandwidth_kbps, Some(1920), "b=TIAS:1920000 / 1000");
    assert_eq!(
        video.rtcp_fb,
        RtcpFeedback {
            nack: false,
            pli: true,
            fir: true
        },
        "rtcp-fb on RTP/AVP is honoured; tmmbr is not ours"
    );
    assert_eq!(video.remote_rtp, addr("192.168.1.50:49172"));
}

#[test]
fn cisco_room_savp_gets_srtp_with_the_offered_tag_and_our_keys() {
    let (text, answer, media) = answer_default(fixtures::CISCO_ROOM_SAVP);
    assert!(text.contains(
        "m=audio 40000 RTP/SAVP 9 101
a=rtpmap:9 G722/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGh
a=sendrecv
"
    ));
    assert!(text.contains(
        "m=video 40002 RTP/SAVP 97
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801f;packetization-mode=1
a=rtcp-fb:* nack pli
a=rtcp-fb:* ccm fir
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:srKysrKysrKysrKysrKysrKysrKysrKysrKysrKy
a=sendrecv
"
    ));
    assert_eq!(answer.media.len(), 2);

    let audio = media.audio.expect("audio");
    // Opus is offered but its telephone events are not: G.722 keeps DTMF (see choose_audio).
    assert_eq!(audio.format.codec, AudioCodec::G722);
    assert_eq!(audio.format.telephone_event, Some(101));
    assert_eq!(audio.bandwidth_kbps, Some(128));
    let srtp = audio.srtp.expect("SRTP");
    assert_eq!(srtp.suite, CryptoSuite::AesCm128HmacSha1_80);
    assert_eq!(srtp.tag, 1);
    assert_eq!(srtp.local_key, [0xa1; 30]);
    assert_eq!(
        srtp.remote_key,
        key("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
    );

    let video = media.video.expect("video");
    let srtp = video.srtp.expect("SRTP");
    assert_eq!(srtp.local_key, [0xb2; 30]);
    assert_eq!(
        srtp.remote_key,
        key("d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj")
    );
    // Their level 4.0 without asymmetry: the answer's 3.1 both ways.
    assert_eq!(video.format.h264_send_level, Some(H264Level::L3_1));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L3_1));
    assert_eq!(video.bandwidth_kbps, Some(6000));
}

#[test]
fn lifesize_bandwidth_ptime_and_our_receive_limit() {
    let caps = LocalCapabilities {
        max_video_kbps: Some(1500),
        ..LocalCapabilities::default()
    };
    let (text, _, media) =
        answer_with(fixtures::LIFESIZE, &caps, CryptoPolicy::BestEffort).unwrap();
    assert!(text.contains(
        "m=audio 40000 RTP/AVP 9 102
a=rtpmap:9 G722/8000
a=rtpmap:102 telephone-event/8000
a=fmtp:102 0-15
a=ptime:20
a=sendrecv
"
    ));
    assert!(text.contains(
        "m=video 40002 RTP/AVP 97
b=AS:1500
b=TIAS:1500000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801f;packetization-mode=1
a=sendrecv
"
    ));
    let audio = media.audio.unwrap();
    assert_eq!(audio.format.ptime_ms, Some(20));
    assert_eq!(audio.bandwidth_kbps, Some(1024));
    let video = media.video.unwrap();
    assert_eq!(video.bandwidth_kbps, Some(960), "TIAS before AS (RFC 3890)");
    assert_eq!(video.format.max_mbps, Some(108_000));
    assert_eq!(video.format.max_fs, Some(3600));
    assert_eq!(video.format.h264_send_level, Some(H264Level::L3_1));
    assert_eq!(video.rtcp_fb, RtcpFeedback::NONE);
}

#[test]
fn baresip_gets_opus_h264_mode1_and_its_feedback() {
    let (text, _, media) = answer_default(fixtures::BARESIP);
    assert!(text.contains(
        "m=audio 40000 RTP/AVP 96 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 minptime=10;useinbandfec=1
a=rtpmap:101 telephone-event/48000
a=fmtp:101 0-15
a=sendrecv
"
    ));
    // Mode 1 (PT 101) beats mode 0 (PT 100) although offered second; Baseline 4.2 is
    // answered at our 3.1 under its own profile.
    assert!(text.contains(
        "m=video 40002 RTP/AVP 101
a=rtpmap:101 H264/90000
a=fmtp:101 profile-level-id=42001f;packetization-mode=1
a=rtcp-fb:* ccm fir
a=rtcp-fb:* nack
a=rtcp-fb:* nack pli
a=sendrecv
"
    ));
    assert!(!text.contains("goog-remb"));
    let audio = media.audio.unwrap();
    assert_eq!(audio.format.codec, AudioCodec::Opus);
    assert_eq!((audio.format.clock_rate, audio.format.channels), (48000, 2));
    assert_eq!(audio.format.telephone_event, Some(101));
    let video = media.video.unwrap();
    assert_eq!(video.payload_type, 101);
    assert_eq!(video.rtcp_fb, RtcpFeedback::ALL);
    assert_eq!(video.format.h264_send_level, Some(H264Level::L3_1));
}

#[test]
fn baresip_vp8_when_h264_is_not_ours() {
    let caps = LocalCapabilities {
        video: vec![VideoCodec::Vp8, VideoCodec::h264_default()],
        ..LocalCapabilities::default()
    };
    let (text, _, media) = answer_with(fixtures::BARESIP, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("m=video 40002 RTP/AVP 102\na=rtpmap:102 VP8/90000\na=rtcp-fb:*"));
    let video = media.video.unwrap();
    assert_eq!(video.format.codec, VideoCodec::Vp8);
    assert_eq!(video.format.max_fs, Some(3600));
    assert_eq!(video.format.max_fr, Some(30));
    assert_eq!(video.format.h264_send_level, None);
}

#[test]
fn audio_only_phone_with_rtcp_attribute() {
    let (text, answer, media) = answer_default(fixtures::PHONE_PCMU);
    assert_eq!(answer.media.len(), 1);
    assert!(
        text.ends_with("m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=ptime:20\na=sendrecv\n")
    );
    let audio = media.audio.unwrap();
    assert_eq!(audio.format.codec, AudioCodec::Pcmu);
    assert_eq!(audio.format.telephone_event, None);
    assert_eq!(audio.remote_rtcp, addr("10.0.0.20:6011"), "RFC 3605");
    assert!(media.video.is_none());
}

#[test]
fn hold_with_sendonly_is_answered_recvonly() {
    let (text, _, media) = answer_default(fixtures::HOLD_SENDONLY);
    assert_eq!(text.matches("a=recvonly\n").count(), 2);
    assert!(!text.contains("sendrecv"));
    assert_eq!(media.audio.unwrap().direction, Direction::RecvOnly);
    assert_eq!(media.video.unwrap().direction, Direction::RecvOnly);
}

#[test]
fn rfc2543_hold_with_zero_address_stops_our_sending() {
    let (text, _, media) = answer_default(fixtures::HOLD_RFC2543);
    assert!(text.contains("m=audio 40000 RTP/AVP 8 101\n"));
    assert!(text.contains("a=recvonly\n"));
    assert!(
        text.contains("c=IN IP4 192.0.2.100\n"),
        "our own address, not theirs"
    );
    let audio = media.audio.unwrap();
    assert_eq!(audio.direction, Direction::RecvOnly);
    assert_eq!(audio.remote_rtp, addr("0.0.0.0:16384"));
}

#[test]
fn asymmetric_h264_level_we_receive_31_and_send_40() {
    let (text, _, media) = answer_default(fixtures::H264_ASYMMETRIC);
    assert_eq!(
        text.split("m=video").nth(1).unwrap(),
        " 40002 RTP/AVPF 126
a=rtpmap:126 H264/90000
a=fmtp:126 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1
a=rtcp-fb:126 nack
a=rtcp-fb:126 nack pli
a=rtcp-fb:126 ccm fir
a=rtcp-mux
a=sendrecv
"
    );
    let video = media.video.unwrap();
    assert_eq!(video.format.h264_send_level, Some(H264Level::L4));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L3_1));
    assert!(video.rtcp_mux);
    assert_eq!(video.remote_rtcp, video.remote_rtp, "RFC 5761");
    assert_eq!(video.local.rtcp_port, video.local.rtp_port);
    assert!(media.audio.is_none());
}

#[test]
fn h264_below_our_level_without_asymmetry_keeps_theirs() {
    let offer = fixtures::H264_ASYMMETRIC.replace(
        "profile-level-id=42e028;packetization-mode=1;level-asymmetry-allowed=1",
        "profile-level-id=42e016;packetization-mode=1",
    );
    let (text, _, media) = answer_default(&offer);
    assert!(text.contains("a=fmtp:126 profile-level-id=42e016;packetization-mode=1\n"));
    let video = media.video.unwrap();
    assert_eq!(video.format.h264_send_level, Some(H264Level::L2_2));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L2_2));
}

// ---------------------------------------------------------------------------------------------
// RFC 3264 §10 examples

#[test]
fn rfc3264_10_1_basic_exchange() {
    let (text, _, media) = answer_default(fixtures::RFC3264_10_1);
    // Bob takes PCMU; we have neither H.261 nor MPV, so video is refused with port 0.
    assert!(text.contains("m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=sendrecv\n"));
    assert!(text.ends_with("m=video 0 RTP/AVP 31\n"));
    assert_eq!(media.audio.unwrap().remote_rtp, addr("192.0.2.10:49170"));
    assert!(media.video.is_none());
}

#[test]
fn rfc3264_10_1_with_host_names_needs_a_resolver() {
    let offer =
        fixtures::RFC3264_10_1.replace("IN IP4 192.0.2.10", "IN IP4 host.atlanta.example.com");
    let error = refusal(&offer, CryptoPolicy::BestEffort);
    assert_eq!(
        error,
        NegotiationError::UnsupportedAddress {
            index: 0,
            address: "host.atlanta.example.com".to_owned()
        }
    );
    assert_eq!(error.sip_status(), 488);
}

#[test]
fn rfc3264_10_2_second_audio_stream_is_rejected() {
    let (text, answer, media) = answer_default(fixtures::RFC3264_10_2);
    assert_eq!(answer.media.len(), 3);
    assert!(text.contains("m=audio 0 RTP/AVP 98\nm=video 0 RTP/AVP 31\n"));
    assert_eq!(media.audio.unwrap().format.codec, AudioCodec::Pcmu);
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn no_common_codec_is_488() {
    let error = refusal(fixtures::NO_COMMON_CODEC, CryptoPolicy::BestEffort);
    assert_eq!(error, NegotiationError::NoCommonCodec);
    assert_eq!(error.sip_status(), 488);
}

#[test]
fn savp_offer_under_policy_off_is_488() {
    let error = refusal(fixtures::CISCO_ROOM_SAVP, CryptoPolicy::Off);
    assert_eq!(error, NegotiationError::EncryptionRefused);
    assert_eq!(error.sip_status(), 488);
}

#[test]
fn avp_offer_under_policy_on_is_488() {
    let error = refusal(fixtures::PLAIN_AVP, CryptoPolicy::On);
    assert_eq!(error, NegotiationError::EncryptionRequired);
    assert_eq!(error.sip_status(), 488);
    // The Polycom offer (no keys) too.
    assert_eq!(
        refusal(fixtures::POLYCOM_GROUP, CryptoPolicy::On),
        NegotiationError::EncryptionRequired
    );
}

#[test]
fn missing_connection_is_400() {
    let offer = fixtures::PHONE_PCMU.replace("c=IN IP4 10.0.0.20\n", "");
    let error = refusal(&offer, CryptoPolicy::BestEffort);
    assert_eq!(error, NegotiationError::NoConnectionAddress { index: 0 });
    assert_eq!(error.sip_status(), 400);
}

#[test]
fn multicast_connection_is_refused() {
    let offer = fixtures::PHONE_PCMU.replace("c=IN IP4 10.0.0.20", "c=IN IP4 224.2.1.1/127");
    assert!(matches!(
        refusal(&offer, CryptoPolicy::BestEffort),
        NegotiationError::UnsupportedAddress { index: 0, .. }
    ));
}

#[test]
fn dtls_srtp_only_offer_has_no_common_crypto() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\n\
                 a=fingerprint:sha-256 AB:CD\na=setup:actpass\n";
    let error = refusal(offer, CryptoPolicy::BestEffort);
    assert_eq!(error, NegotiationError::NoCommonCryptoSuite);
    assert_eq!(error.sip_status(), 488);
}

#[test]
fn savp_with_only_unusable_crypto_lines_is_refused() {
    let base = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                m=audio 5000 RTP/SAVP 0\n";
    let key = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
    for line in [
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^20|1:4"), // MKI
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^20"),     // short lifetime
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key} KDR=1"),    // session param
        format!("a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{key}{key}"),     // suite
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=".to_owned(),     // key length
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key};inline:{key}"), // two keys
    ] {
        let offer = format!("{base}{line}\n");
        assert_eq!(
            refusal(&offer, CryptoPolicy::BestEffort),
            NegotiationError::NoCommonCryptoSuite,
            "{line}"
        );
    }
    // Without any a=crypto at all, too.
    assert_eq!(
        refusal(base, CryptoPolicy::On),
        NegotiationError::NoCommonCryptoSuite
    );
}

#[test]
fn refusal_reasons_rank_a_broken_offer_first() {
    // Audio lacks a connection (400), video has no codec of ours (488): 400 wins.
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nt=0 0\n\
                 m=audio 5000 RTP/AVP 0\n\
                 m=video 5002 RTP/AVP 31\nc=IN IP4 198.51.100.1\n";
    assert_eq!(
        refusal(offer, CryptoPolicy::BestEffort),
        NegotiationError::NoConnectionAddress { index: 0 }
    );
}

// ---------------------------------------------------------------------------------------------
// SRTP policy and suites

#[test]
fn crypto_prefers_80_over_32_whatever_the_order() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 5000 RTP/SAVP 0\n\
                 a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcZD0rZ3NbUjs7\n\
                 a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\n";
    let (text, _, media) = answer_default(offer);
    assert!(text.contains(
        "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGh\n"
    ));
    assert_eq!(text.matches("a=crypto").count(), 1);
    let srtp = media.audio.unwrap().srtp.unwrap();
    assert_eq!(
        (srtp.tag, srtp.suite),
        (7, CryptoSuite::AesCm128HmacSha1_80)
    );
}

#[test]
fn crypto_falls_back_to_32() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 5000 RTP/SAVP 0\n\
                 a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\n\
                 a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcZD0rZ3NbUjs7\n";
    let (text, _, media) = answer_default(offer);
    assert!(text.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
    assert_eq!(
        media.audio.unwrap().srtp.unwrap().suite,
        CryptoSuite::AesCm128HmacSha1_32
    );
}

#[test]
fn best_effort_srtp_on_avp_by_policy() {
    let caps = LocalCapabilities::default();
    // Off: answered as plain RTP/AVP without keys.
    let (text, _, media) =
        answer_with(fixtures::AVP_BEST_EFFORT_SRTP, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("m=audio 40000 RTP/AVP 9\n"));
    assert!(!text.contains("crypto"));
    assert_eq!(media.audio.unwrap().srtp, None);
    // BestEffort and On: SRTP on RTP/AVP, keys answered.
    for policy in [CryptoPolicy::BestEffort, CryptoPolicy::On] {
        let (text, _, media) = answer_with(fixtures::AVP_BEST_EFFORT_SRTP, &caps, policy).unwrap();
        assert!(text.contains("m=audio 40000 RTP/AVP 9\n"));
        assert!(text.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
        assert!(media.audio.unwrap().srtp.is_some());
    }
    // BestEffort with a plain offer: plain.
    let (_, _, media) = answer_with(fixtures::PLAIN_AVP, &caps, CryptoPolicy::BestEffort).unwrap();
    assert_eq!(media.audio.unwrap().srtp, None);
}

#[test]
fn duplicate_savp_and_avp_streams_take_the_acceptable_one() {
    // Offerers without capability negotiation offer the same audio twice (SAVP then AVP).
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 5000 RTP/SAVP 0\n\
                 a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\n\
                 m=audio 5002 RTP/AVP 0\n";
    let caps = LocalCapabilities::default();
    let (text, _, media) = answer_with(offer, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("m=audio 0 RTP/SAVP 0\nm=audio 40000 RTP/AVP 0\n"));
    assert_eq!(media.audio.unwrap().remote_rtp, addr("198.51.100.1:5002"));
    // With SRTP allowed, the first one wins and the second is rejected.
    let (text, _, _) = answer_with(offer, &caps, CryptoPolicy::BestEffort).unwrap();
    assert!(text.contains("m=audio 40000 RTP/SAVP 0\n"));
    assert!(text.ends_with("m=audio 0 RTP/AVP 0\n"));
}

// ---------------------------------------------------------------------------------------------
// Codecs

#[test]
fn telephone_events_steer_the_audio_codec() {
    // Opus is preferred, but its telephone events are only offered at 8 kHz: PCMU keeps
    // DTMF working for the IVR.
    let offer = fixtures::BARESIP.replace("telephone-event/48000", "telephone-event/8000");
    let (text, _, media) = answer_default(&offer);
    assert!(text.contains("m=audio 40000 RTP/AVP 0 101\n"));
    let audio = media.audio.unwrap();
    assert_eq!(audio.format.codec, AudioCodec::Pcmu);
    assert_eq!(audio.format.telephone_event, Some(101));
    // Without telephone events in our capabilities, plain preference: Opus, no events.
    let caps = LocalCapabilities {
        telephone_event: false,
        ..LocalCapabilities::default()
    };
    let (text, _, media) = answer_with(&offer, &caps, CryptoPolicy::BestEffort).unwrap();
    assert!(text.contains("m=audio 40000 RTP/AVP 96\n"));
    assert!(!text.contains("telephone-event"));
    assert_eq!(media.audio.unwrap().format.telephone_event, None);
}

#[test]
fn telephone_event_list_is_cut_to_dtmf() {
    for (offered, answered) in [
        ("0-16", Some("0-15")),
        ("0-11", Some("0-11")),
        ("0-9,11,13-15,32", Some("0-9,11,13-15")),
        ("nonsense", None),
    ] {
        let offer = fixtures::PHONE_PCMU.replace(
            "m=audio 6000 RTP/AVP 0\n",
            &format!("m=audio 6000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\na=fmtp:101 {offered}\n"),
        );
        let (text, _, _) = answer_default(&offer);
        match answered {
            Some(events) => assert!(text.contains(&format!("a=fmtp:101 {events}\n")), "{text}"),
            None => assert!(!text.contains("a=fmtp:101"), "{text}"),
        }
    }
}

#[test]
fn audio_preference_order_is_ours_and_pt_is_theirs() {
    let caps = LocalCapabilities {
        audio: vec![AudioCodec::Pcma, AudioCodec::Pcmu],
        ..LocalCapabilities::default()
    };
    let (_, _, media) = answer_with(fixtures::POLYCOM_GROUP, &caps, CryptoPolicy::Off).unwrap();
    assert_eq!(media.audio.unwrap().format.codec, AudioCodec::Pcma);
    // Opus on an odd dynamic number.
    let offer = fixtures::BARESIP.replace("96", "119");
    let (text, _, media) = answer_default(&offer);
    assert!(text.contains("m=audio 40000 RTP/AVP 119 101\na=rtpmap:119 opus/48000/2\n"));
    assert_eq!(media.audio.unwrap().payload_type, 119);
}

#[test]
fn opus_must_be_stereo_mapped_and_g722_at_8000() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 5000 RTP/AVP 96 97 8\na=rtpmap:96 opus/48000\n\
                 a=rtpmap:97 G722/16000\n";
    let (_, _, media) = answer_default(offer);
    assert_eq!(media.audio.unwrap().format.codec, AudioCodec::Pcma);
}

#[test]
fn h264_packetization_mode_preference_follows_capabilities() {
    let caps = LocalCapabilities {
        video: vec![VideoCodec::H264 {
            profile_level_id: ProfileLevelId::CONSTRAINED_BASELINE_3_1,
            packetization_modes: vec![0, 1],
        }],
        ..LocalCapabilities::default()
    };
    let (text, _, media) = answer_with(fixtures::BARESIP, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("a=fmtp:100 profile-level-id=42001f;packetization-mode=0\n"));
    assert_eq!(media.video.unwrap().payload_type, 100);
    // Only mode 0 supported and only mode 1 offered: no H.264, and nothing else offered.
    let caps = LocalCapabilities {
        video: vec![VideoCodec::H264 {
            profile_level_id: ProfileLevelId::CONSTRAINED_BASELINE_3_1,
            packetization_modes: vec![0],
        }],
        ..LocalCapabilities::default()
    };
    assert_eq!(
        answer_with(fixtures::H264_ASYMMETRIC, &caps, CryptoPolicy::Off).unwrap_err(),
        NegotiationError::NoCommonCodec
    );
}

#[test]
fn h264_without_parameters_is_mode_0_baseline_level_1() {
    let offer = fixtures::H264_ASYMMETRIC.replace(
        "a=fmtp:126 profile-level-id=42e028;packetization-mode=1;level-asymmetry-allowed=1\n",
        "",
    );
    let (text, _, media) = answer_default(&offer);
    // RFC 6184 §8.1 defaults; the answer adds no parameter the offer lacked.
    assert!(!text.contains("a=fmtp"));
    let video = media.video.unwrap();
    assert_eq!(
        video.format.codec,
        VideoCodec::H264 {
            profile_level_id: ProfileLevelId::DEFAULT,
            packetization_modes: vec![0],
        }
    );
    assert_eq!(video.format.h264_send_level, Some(H264Level::L1));
}

#[test]
fn h264_high_profile_only_falls_back_to_another_codec() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=video 5000 RTP/AVP 100 34\na=rtpmap:100 H264/90000\n\
                 a=fmtp:100 profile-level-id=640028;packetization-mode=1\n";
    let (text, _, media) = answer_default(offer);
    assert!(text.contains("m=video 40002 RTP/AVP 34\na=rtpmap:34 H263/90000\na=sendrecv\n"));
    assert_eq!(media.video.unwrap().format.codec, VideoCodec::H263);
    // Main profile with constraint_set0 is Constrained Baseline (RFC 6184 Table 5).
    let offer = offer.replace("640028", "4d801f");
    let (_, _, media) = answer_default(&offer);
    assert!(matches!(
        media.video.unwrap().format.codec,
        VideoCodec::H264 { .. }
    ));
}

#[test]
fn h263_1998_sizes_are_cut_to_what_we_decode() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=video 5000 RTP/AVP 96\na=rtpmap:96 H263-1998/90000\n\
                 a=fmtp:96 CIF16=2;CIF4=2;CIF=1;QCIF=1;F=1;I=1;J=1;T=1\n";
    let (text, _, media) = answer_default(offer);
    assert!(text.contains("a=fmtp:96 CIF4=2;CIF=1;QCIF=1\n"));
    let video = media.video.unwrap();
    assert_eq!(video.format.codec, VideoCodec::H263Plus);
    assert_eq!(
        video.format.h263_sizes,
        vec![
            H263PictureSize {
                format: H263Format::Cif4,
                mpi: 2
            },
            H263PictureSize {
                format: H263Format::Cif,
                mpi: 1
            },
            H263PictureSize {
                format: H263Format::Qcif,
                mpi: 1
            },
        ]
    );
}

#[test]
fn h263_static_payload_type_needs_no_rtpmap() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=video 5000 RTP/AVP 34\na=fmtp:34 QCIF=1 CIF=2\n";
    let (text, _, media) = answer_default(offer);
    assert!(
        text.contains("m=video 40002 RTP/AVP 34\na=rtpmap:34 H263/90000\na=fmtp:34 QCIF=1;CIF=2\n")
    );
    assert_eq!(media.video.unwrap().format.h263_sizes.len(), 2);
}

#[test]
fn h261_static_payload_type_is_answered_with_qcif_and_cif_only() {
    let offer = "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=video 5000 RTP/AVP 31\na=fmtp:31 CIF4=1;CIF=2;QCIF=1\n";
    let caps = LocalCapabilities {
        video: vec![VideoCodec::h264_default(), VideoCodec::H261],
        ..LocalCapabilities::default()
    };
    let (text, _, media) = answer_with(offer, &caps, CryptoPolicy::BestEffort).unwrap();
    assert!(
        text.contains("m=video 40002 RTP/AVP 31\na=rtpmap:31 H261/90000\na=fmtp:31 CIF=2;QCIF=1\n"),
        "{text}"
    );
    let video = media.video.unwrap();
    assert_eq!(video.format.codec, VideoCodec::H261);
    assert_eq!(video.payload_type, 31);
    assert_eq!(video.format.h263_sizes.len(), 2);
    // Without H.261 in our capabilities the same offer has no common codec.
    let refused = answer_with(
        offer,
        &LocalCapabilities::default(),
        CryptoPolicy::BestEffort,
    );
    assert_eq!(refused.unwrap_err(), NegotiationError::NoCommonCodec);
}

#[test]
fn h264_sprop_parameter_sets_reach_the_negotiated_format() {
    let sprop = "Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==";
    let offer = format!(
        "v=0\no=- 1 1 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
         m=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\n\
         a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;sprop-parameter-sets={sprop}\n"
    );
    let (text, _, media) = answer_default(&offer);
    assert_eq!(
        media.video.unwrap().format.sprop_parameter_sets.as_deref(),
        Some(sprop)
    );
    // They describe the offerer's stream; the answer does not echo them.
    assert!(!text.contains("sprop"));
    // Not base64: ignored rather than handed to a decoder.
    let (_, _, media) = answer_default(&offer.replace(sprop, "<bad>"));
    assert_eq!(media.video.unwrap().format.sprop_parameter_sets, None);
}

// ---------------------------------------------------------------------------------------------
// Feedback, transport, bandwidth

#[test]
fn rtcp_fb_for_other_payload_types_is_not_answered() {
    let offer = fixtures::BARESIP.replace(
        "a=rtcp-fb:* ccm fir\na=rtcp-fb:* nack\na=rtcp-fb:* nack pli\n",
        "a=rtcp-fb:100 ccm fir\na=rtcp-fb:101 nack\na=rtcp-fb:101 trr-int 100\n",
    );
    let (text, _, media) = answer_default(&offer);
    assert!(text.contains("a=rtcp-fb:101 nack\n"));
    assert_eq!(text.matches("rtcp-fb").count(), 1);
    assert_eq!(
        media.video.unwrap().rtcp_fb,
        RtcpFeedback {
            nack: true,
            pli: false,
            fir: false
        }
    );
    // Feedback we switched off is not answered.
    let caps = LocalCapabilities {
        rtcp_fb: RtcpFeedback {
            nack: false,
            pli: true,
            fir: false,
        },
        ..LocalCapabilities::default()
    };
    let (text, _, _) = answer_with(fixtures::BARESIP, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("a=rtcp-fb:* nack pli\n"));
    assert_eq!(text.matches("rtcp-fb").count(), 1);
}

#[test]
fn rtcp_address_and_our_non_adjacent_rtcp_port() {
    let offer = fixtures::PHONE_PCMU.replace("a=rtcp:6011", "a=rtcp:53020 IN IP4 126.16.64.4");
    let caps = LocalCapabilities::default();
    let mut caps_params = params(&caps, CryptoPolicy::Off);
    caps_params.audio.rtcp_port = 41000;
    caps_params.video.address = IpAddr::from([192, 0, 2, 200]);
    let offer = SessionDescription::parse(&offer).unwrap();
    let (answered, media) = answer(&offer, &caps_params).unwrap();
    let audio = media.audio.unwrap();
    assert_eq!(
        audio.remote_rtcp,
        addr("126.16.64.4:53020"),
        "RFC 3605 §2.1"
    );
    assert_eq!(audio.local.rtcp_port, 41000);
    assert_eq!(
        media_text(&answered.media[0]),
        "m=audio 40000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\na=ptime:20\na=rtcp:41000\na=sendrecv\n"
    );
    // A video stream on another address gets its own c= line.
    let (answered, _) = answer(
        &SessionDescription::parse(fixtures::H264_ASYMMETRIC).unwrap(),
        &caps_params,
    )
    .unwrap();
    assert_eq!(
        answered.media[0].connection.as_ref().and_then(|c| c.ip()),
        Some(IpAddr::from([192, 0, 2, 200]))
    );
    assert_eq!(
        answered.connection.as_ref().and_then(|c| c.ip()),
        Some(OUR_IP)
    );
}

#[test]
fn ipv6_offer() {
    let offer = fixtures::PHONE_PCMU.replace("IN IP4 10.0.0.20", "IN IP6 2001:db8::20");
    let (_, _, media) = answer_default(&offer);
    assert_eq!(media.audio.unwrap().remote_rtp, addr("[2001:db8::20]:6000"));
}

#[test]
fn baresip_without_tias_gets_only_b_as() {
    let caps = LocalCapabilities {
        max_video_kbps: Some(2000),
        ..LocalCapabilities::default()
    };
    let (text, _, _) = answer_with(fixtures::BARESIP, &caps, CryptoPolicy::Off).unwrap();
    assert!(text.contains("m=video 40002 RTP/AVP 101\nb=AS:2000\na=rtpmap"));
    assert!(!text.contains("TIAS"));
}

// ---------------------------------------------------------------------------------------------
// Direction

#[test]
fn directions_are_mirrored() {
    for (offered, answered, ours) in [
        ("sendrecv", "sendrecv", Direction::SendRecv),
        ("sendonly", "recvonly", Direction::RecvOnly),
        ("recvonly", "sendonly", Direction::SendOnly),
        ("inactive", "inactive", Direction::Inactive),
    ] {
        // Session-level attribute, inherited by the media (RFC 8866 §6.7).
        let offer = fixtures::PHONE_PCMU.replace("t=0 0\n", &format!("t=0 0\na={offered}\n"));
        let (text, _, media) = answer_default(&offer);
        assert!(
            text.ends_with(&format!("a={answered}\n")),
            "{offered}: {text}"
        );
        assert_eq!(media.audio.unwrap().direction, ours, "{offered}");
    }
    // Media level wins over session level.
    let offer = fixtures::PHONE_PCMU.replace("t=0 0\n", "t=0 0\na=inactive\n") + "a=sendrecv\n";
    let (_, _, media) = answer_default(&offer);
    assert_eq!(media.audio.unwrap().direction, Direction::SendRecv);
    // RFC 2543 hold on top of sendonly: inactive.
    let offer = fixtures::HOLD_RFC2543.to_owned() + "a=sendonly\n";
    let (text, _, media) = answer_default(&offer);
    assert!(text.ends_with("a=recvonly\n"));
    assert_eq!(media.audio.unwrap().direction, Direction::RecvOnly);
    let offer = fixtures::HOLD_RFC2543.to_owned() + "a=recvonly\n";
    let (_, _, media) = answer_default(&offer);
    assert_eq!(media.audio.unwrap().direction, Direction::Inactive);
}

// ---------------------------------------------------------------------------------------------
// Structure

#[test]
fn offered_zero_ports_are_answered_with_zero_ports() {
    let offer = fixtures::POLYCOM_GROUP.replace("m=video 49172 ", "m=video 0 ");
    let (text, _, media) = answer_default(&offer);
    assert!(text.contains("m=video 0 RTP/AVP 109\nm=application 0 UDP/BFCP *\n"));
    // The second video stream is not taken either: it is content, but we take the first
    // acceptable one, which is now it.
    assert!(media.video.is_some());
    assert!(text.ends_with("a=sendrecv\n"));

    // Nothing active at all: an answer in kind, nothing agreed.
    let offer = "v=0\no=- 1 2 IN IP4 198.51.100.1\ns=-\nc=IN IP4 198.51.100.1\nt=0 0\n\
                 m=audio 0 RTP/AVP 0\nm=video 0 RTP/AVP 31\n";
    let (text, _, media) = answer_default(offer);
    assert!(text.ends_with("m=audio 0 RTP/AVP 0\nm=video 0 RTP/AVP 31\n"));
    assert_eq!(
        media,
        NegotiatedMedia {
            audio: None,
            video: None
        }
    );
}

#[test]
fn origin_is_ours() {
    let caps = LocalCapabilities::default();
    let mut answer_params = params(&caps, CryptoPolicy::Off);
    answer_params.session_id = 123_456_789;
    answer_params.session_version = 42;
    answer_params.username = "gateway";
    let offer = SessionDescription::parse(fixtures::PHONE_PCMU).unwrap();
    let (answered, _) = answer(&offer, &answer_params).unwrap();
    assert!(answered.to_string().starts_with("v=0\r\no=gateway 123456789 42 IN IP4 192.0.2.100\r\ns=-\r\nc=IN IP4 192.0.2.100\r\nt=0 0\r\n"));
}

#[test]
fn keys_are_hidden_from_debug_output() {
    let (_, _, media) = answer_default(fixtures::CISCO_ROOM_SAVP);
    let debug = format!("{media:?}");
    assert!(debug.contains("<redacted>"));
    assert!(!debug.contains("161, 161"), "0xa1 bytes leak: {debug}");
    let caps = LocalCapabilities::default();
    assert!(!format!("{:?}", params(&caps, CryptoPolicy::On)).contains("161"));
}
