//! Our offers for outbound legs (RFC 3264 §5) and reading their answers (RFC 3264 §7): the
//! offer's lines under each SRTP policy, answers in room-system shapes, the H.264 levels of
//! the offerer, mismatching answers, and offer → `answer()` → `accept_answer` round trips.

#[path = "sdp_fixtures.rs"]
mod fixtures;

use std::net::SocketAddr;

use fixtures::params;
use signaling::sdp::{
    AudioCodec, CryptoPolicy, CryptoSuite, Direction, H264Level, LocalCapabilities,
    NegotiatedMedia, NegotiationError, ProfileLevelId, RtcpFeedback, SessionDescription,
    VideoCodec, accept_answer, answer, offer,
};

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("socket address")
}

/// Our default offer under `policy`, as LF text.
fn offer_text(caps: &LocalCapabilities, policy: CryptoPolicy) -> String {
    let (sdp, pending) = offer(&params(caps, policy));
    assert_eq!(pending.description(), &sdp);
    let text = sdp.to_string();
    assert_eq!(SessionDescription::parse(&text).as_ref(), Ok(&sdp));
    text.replace("\r\n", "\n")
}

/// Reads `answer_text` as the answer to our default offer under `policy`.
fn accept(answer_text: &str, policy: CryptoPolicy) -> Result<NegotiatedMedia, NegotiationError> {
    let caps = LocalCapabilities::default();
    let (_, pending) = offer(&params(&caps, policy));
    accept_answer(
        &pending,
        &SessionDescription::parse(answer_text).expect("answer parses"),
    )
}

#[test]
fn default_offer() {
    let text = offer_text(&LocalCapabilities::default(), CryptoPolicy::Off);
    assert_eq!(
        text,
        "v=0
o=tcn 1000 1 IN IP4 192.0.2.100
s=-
c=IN IP4 192.0.2.100
t=0 0
m=audio 40000 RTP/AVP 96 9 0 8 97 98
a=rtpmap:96 opus/48000/2
a=fmtp:96 minptime=10;useinbandfec=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 telephone-event/48000
a=fmtp:97 0-15
a=rtpmap:98 telephone-event/8000
a=fmtp:98 0-15
a=rtcp-mux
a=sendrecv
m=video 40002 RTP/AVP 99 100 101 102 34
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1
a=rtpmap:100 H264/90000
a=fmtp:100 profile-level-id=42e01f;packetization-mode=0;level-asymmetry-allowed=1
a=rtpmap:101 VP8/90000
a=rtpmap:102 H263-1998/90000
a=fmtp:102 CIF4=1;CIF=1;QCIF=1;SQCIF=1
a=rtpmap:34 H263/90000
a=fmtp:34 CIF4=1;CIF=1;QCIF=1;SQCIF=1
a=rtcp-fb:99 nack
a=rtcp-fb:99 nack pli
a=rtcp-fb:99 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=rtcp-fb:100 ccm fir
a=rtcp-fb:101 nack
a=rtcp-fb:101 nack pli
a=rtcp-fb:101 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=rtcp-fb:102 ccm fir
a=rtcp-fb:34 nack
a=rtcp-fb:34 nack pli
a=rtcp-fb:34 ccm fir
a=rtcp-mux
a=sendrecv
"
    );
}

#[test]
fn offer_under_each_policy() {
    let caps = LocalCapabilities::default();
    let on = offer_text(&caps, CryptoPolicy::On);
    assert!(on.contains("m=audio 40000 RTP/SAVP "));
    assert!(on.contains("m=video 40002 RTP/SAVP "));
    assert!(on.contains(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGh\n\
         a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:oaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGh\n"
    ));
    assert!(on.contains(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:srKysrKysrKysrKysrKysrKysrKysrKysrKysrKy\n"
    ));
    let best_effort = offer_text(&caps, CryptoPolicy::BestEffort);
    assert!(best_effort.contains("m=audio 40000 RTP/AVP "));
    assert_eq!(best_effort.matches("a=crypto:").count(), 4);
    assert!(!offer_text(&caps, CryptoPolicy::Off).contains("crypto"));
}

#[test]
fn offer_with_limits_and_an_odd_rtcp_port() {
    let caps = LocalCapabilities {
        audio: vec![AudioCodec::Pcma],
        video: vec![VideoCodec::Vp8],
        telephone_event: false,
        rtcp_fb: RtcpFeedback::NONE,
        max_video_kbps: Some(1024),
    };
    let mut offer_params = params(&caps, CryptoPolicy::Off);
    offer_params.audio.rtcp_port = 50001;
    let text = offer(&offer_params).0.to_string().replace("\r\n", "\n");
    assert!(text.ends_with(
        "m=audio 40000 RTP/AVP 8
a=rtpmap:8 PCMA/8000
a=rtcp:50001
a=rtcp-mux
a=sendrecv
m=video 40002 RTP/AVP 96
b=AS:1024
b=TIAS:1024000
a=rtpmap:96 VP8/90000
a=rtcp-mux
a=sendrecv
"
    ));
    // No video codecs, no video stream.
    let audio_only = LocalCapabilities {
        video: vec![],
        ..LocalCapabilities::default()
    };
    let (sdp, _) = offer(&params(&audio_only, CryptoPolicy::Off));
    assert_eq!(sdp.media.len(), 1);
}

#[test]
fn polycom_style_answer_to_our_offer() {
    let answer = "v=0
o=GroupSeries 99 1 IN IP4 192.168.1.50
s=-
c=IN IP4 192.168.1.50
t=0 0
m=audio 49170 RTP/AVP 9 98
a=rtpmap:9 G722/8000
a=rtpmap:98 telephone-event/8000
a=fmtp:98 0-15
a=sendrecv
m=video 49172 RTP/AVP 99
b=TIAS:1920000
a=rtpmap:99 H264/90000
a=fmtp:99 profile-level-id=428016;packetization-mode=1;max-mbps=245000;max-fs=8192
a=rtcp-fb:* nack pli
a=sendrecv
";
    let media = accept(answer, CryptoPolicy::Off).unwrap();
    let audio = media.audio.unwrap();
    assert_eq!(audio.format.codec, AudioCodec::G722);
    assert_eq!(audio.format.telephone_event, Some(98));
    assert_eq!(audio.remote_rtp, addr("192.168.1.50:49170"));
    assert_eq!(audio.remote_rtcp, addr("192.168.1.50:49171"));
    assert!(!audio.rtcp_mux, "not answered with a=rtcp-mux");
    assert_eq!(audio.local, fixtures::audio_endpoint());
    let video = media.video.unwrap();
    assert_eq!(video.payload_type, 99);
    assert_eq!(
        video.format.codec,
        VideoCodec::H264 {
            profile_level_id: ProfileLevelId::parse("428016").unwrap(),
            packetization_modes: vec![1],
        }
    );
    // No level asymmetry in the answer: its level both ways.
    assert_eq!(video.format.h264_send_level, Some(H264Level::L2_2));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L2_2));
    assert_eq!(video.format.max_mbps, Some(245_000));
    assert_eq!(video.bandwidth_kbps, Some(1920));
    assert_eq!(
        video.rtcp_fb,
        RtcpFeedback {
            nack: false,
            pli: true,
            fir: false
        }
    );
}

#[test]
fn asymmetric_answer_we_receive_at_our_level() {
    let answer = "v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\n\
                  m=audio 0 RTP/AVP 0\n\
                  m=video 6000 RTP/AVP 99\na=rtpmap:99 H264/90000\n\
                  a=fmtp:99 profile-level-id=42e028;packetization-mode=1;level-asymmetry-allowed=1\n\
                  a=rtcp-mux\na=recvonly\n";
    let media = accept(answer, CryptoPolicy::Off).unwrap();
    assert!(media.audio.is_none());
    let video = media.video.unwrap();
    assert_eq!(video.format.h264_send_level, Some(H264Level::L4));
    assert_eq!(video.format.h264_receive_level, Some(H264Level::L3_1));
    assert!(video.rtcp_mux);
    assert_eq!(video.remote_rtcp, addr("198.51.100.5:6000"));
    assert_eq!(video.local.rtcp_port, video.local.rtp_port);
    assert_eq!(video.direction, Direction::SendOnly, "they only receive");
}

#[test]
fn srtp_answer_gives_both_keys() {
    let answer = "v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\n\
                  m=audio 5000 RTP/SAVP 0\n\
                  a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcZD0rZ3NbUjs7\n\
                  m=video 0 RTP/SAVP 99\n";
    let media = accept(answer, CryptoPolicy::On).unwrap();
    let srtp = media.audio.unwrap().srtp.unwrap();
    assert_eq!(
        (srtp.tag, srtp.suite),
        (2, CryptoSuite::AesCm128HmacSha1_32)
    );
    assert_eq!(srtp.local_key, [0xa1; 30]);
    assert_ne!(srtp.remote_key, [0xa1; 30]);
}

#[test]
fn broken_answers() {
    let head = "v=0\no=- 1 1 IN IP4 198.51.100.5\ns=-\nc=IN IP4 198.51.100.5\nt=0 0\n";
    // One m= line for our two.
    assert!(matches!(
        accept(
            &format!("{head}m=audio 5000 RTP/AVP 0\n"),
            CryptoPolicy::Off
        ),
        Err(NegotiationError::AnswerMismatch(_))
    ));
    // Types swapped.
    assert!(matches!(
        accept(
            &format!("{head}m=video 5000 RTP/AVP 99\nm=audio 5002 RTP/AVP 0\n"),
            CryptoPolicy::Off
        ),
        Err(NegotiationError::AnswerMismatch(_))
    ));
    // Everything rejected.
    assert_eq!(
        accept(
            &format!("{head}m=audio 0 RTP/AVP 0\nm=video 0 RTP/AVP 99\n"),
            CryptoPolicy::Off
        ),
        Err(NegotiationError::NoCommonCodec)
    );
    // A codec we did not offer.
    assert_eq!(
        accept(
            &format!("{head}m=audio 5000 RTP/AVP 18\nm=video 0 RTP/AVP 99\n"),
            CryptoPolicy::Off
        ),
        Err(NegotiationError::NoCommonCodec)
    );
    // SAVP answered without keys, or with a tag we did not offer.
    assert_eq!(
        accept(
            &format!("{head}m=audio 5000 RTP/SAVP 0\nm=video 0 RTP/SAVP 99\n"),
            CryptoPolicy::On
        ),
        Err(NegotiationError::NoCommonCryptoSuite)
    );
    assert!(matches!(
        accept(
            &format!(
                "{head}m=audio 5000 RTP/SAVP 0\n\
                 a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcZD0rZ3NbUjs7\n\
                 m=video 0 RTP/SAVP 99\n"
            ),
            CryptoPolicy::On
        ),
        Err(NegotiationError::AnswerMismatch(_))
    ));
    // Another protocol.
    assert!(matches!(
        accept(
            &format!("{head}m=audio 5000 RTP/SAVP 0\nm=video 0 RTP/AVP 99\n"),
            CryptoPolicy::Off
        ),
        Err(NegotiationError::AnswerMismatch(_))
    ));
    // Best-effort keys may go unanswered: plain RTP.
    let media = accept(
        &format!("{head}m=audio 5000 RTP/AVP 0\nm=video 0 RTP/AVP 99\n"),
        CryptoPolicy::BestEffort,
    )
    .unwrap();
    assert_eq!(media.audio.unwrap().srtp, None);
}

#[test]
fn answer_with_hold_address() {
    let answer = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\n\
                  m=audio 5000 RTP/AVP 8\nm=video 0 RTP/AVP 99\n";
    let audio = accept(answer, CryptoPolicy::Off).unwrap().audio.unwrap();
    assert_eq!(audio.format.codec, AudioCodec::Pcma);
    assert_eq!(audio.direction, Direction::RecvOnly);
}

/// Our offer with `offerer`, answered by `answer()` with `answerer`, read back.
fn exchange(
    offerer: &LocalCapabilities,
    offer_policy: CryptoPolicy,
    answerer: &LocalCapabilities,
    answer_policy: CryptoPolicy,
) -> Result<(NegotiatedMedia, NegotiatedMedia), NegotiationError> {
    let offer_params = params(offerer, offer_policy);
    let (sdp, pending) = offer(&offer_params);
    let mut answer_params = params(answerer, answer_policy);
    answer_params.audio.address = "198.51.100.77".parse().unwrap();
    answer_params.video.address = "198.51.100.77".parse().unwrap();
    answer_params.srtp_key_material = [0x5c; 60];
    let offered = SessionDescription::parse(&sdp.to_string()).unwrap();
    let (answer_sdp, answered) = answer(&offered, &answer_params)?;
    let answer_sdp = SessionDescription::parse(&answer_sdp.to_string()).unwrap();
    let accepted = accept_answer(&pending, &answer_sdp).expect("our own answer is acceptable");
    Ok((accepted, answered))
}

#[test]
fn offer_answer_round_trip_with_srtp() {
    let offerer = LocalCapabilities::default();
    let answerer = LocalCapabilities {
        audio: vec![AudioCodec::Pcmu, AudioCodec::G722],
        video: vec![VideoCodec::H264 {
            profile_level_id: ProfileLevelId::parse("42e028").unwrap(),
            packetization_modes: vec![0],
        }],
        ..LocalCapabilities::default()
    };
    let (ours, theirs) = exchange(
        &offerer,
        CryptoPolicy::On,
        &answerer,
        CryptoPolicy::BestEffort,
    )
    .unwrap();
    let (a, b) = (ours.audio.unwrap(), theirs.audio.unwrap());
    assert_eq!(a.format, b.format);
    assert_eq!(a.format.codec, AudioCodec::Pcmu);
    assert_eq!(a.format.telephone_event, Some(98));
    assert_eq!(a.remote_rtp, addr("198.51.100.77:40000"));
    assert_eq!(b.remote_rtp, addr("192.0.2.100:40000"));
    assert!(a.rtcp_mux && b.rtcp_mux);
    let (ka, kb) = (a.srtp.unwrap(), b.srtp.unwrap());
    assert_eq!((ka.local_key, ka.remote_key), (kb.remote_key, kb.local_key));
    assert_eq!((ka.suite, ka.tag), (CryptoSuite::AesCm128HmacSha1_80, 1));

    let (a, b) = (ours.video.unwrap(), theirs.video.unwrap());
    assert_eq!(a.payload_type, 100, "mode 0 is our second H.264 format");
    assert_eq!(a.format.codec, b.format.codec);
    // Both sides allow asymmetry: each sends at the other's level.
    assert_eq!(a.format.h264_send_level, Some(H264Level::L4));
    assert_eq!(a.format.h264_receive_level, Some(H264Level::L3_1));
    assert_eq!(b.format.h264_send_level, Some(H264Level::L3_1));
    assert_eq!(b.format.h264_receive_level, Some(H264Level::L4));
    assert_eq!(a.rtcp_fb, RtcpFeedback::ALL);
    assert_eq!(b.rtcp_fb, RtcpFeedback::ALL);
}

#[test]
fn offer_answer_policy_combinations() {
    let caps = LocalCapabilities::default();
    use CryptoPolicy::{BestEffort, Off, On};
    for (offer_policy, answer_policy, outcome) in [
        (On, On, Ok(true)),
        (On, BestEffort, Ok(true)),
        (On, Off, Err(NegotiationError::EncryptionRefused)),
        (BestEffort, On, Ok(true)),
        (BestEffort, BestEffort, Ok(true)),
        (BestEffort, Off, Ok(false)),
        (Off, On, Err(NegotiationError::EncryptionRequired)),
        (Off, BestEffort, Ok(false)),
        (Off, Off, Ok(false)),
    ] {
        let result = exchange(&caps, offer_policy, &caps, answer_policy).map(|(ours, theirs)| {
            let srtp = ours.audio.as_ref().unwrap().srtp.is_some();
            assert_eq!(srtp, theirs.audio.as_ref().unwrap().srtp.is_some());
            assert_eq!(srtp, ours.video.as_ref().unwrap().srtp.is_some());
            srtp
        });
        assert_eq!(result, outcome, "{offer_policy:?} -> {answer_policy:?}");
    }
}
