//! SDP offers in the shapes room systems, softphones and phones send, shared by the `sdp_*`
//! tests (included with `#[path]`), and, run on its own, a check that each of them parses,
//! prints with CRLF and parses back to the same description.
//!
//! The offers are written from the shapes these endpoints are known to send (payload type
//! numbers, fmtp parameters, BFCP and content lines, crypto lines); addresses are from the
//! documentation ranges or private ranges, keys are the RFC 4568 example keys.
#![allow(dead_code)] // each including test file uses only some of the fixtures

use std::net::{IpAddr, Ipv4Addr};

use signaling::sdp::{AnswerParams, CryptoPolicy, Endpoint, LocalCapabilities};

/// Polycom RealPresence Group: G.722.1C/G.722.1 (which we lack), G.722, G.728, G.711, G.729,
/// telephone events; H.264 Baseline `428016` in modes 1 and 0, H.263-1998, H.263; BFCP for
/// content and a second (content) video stream.
pub(crate) const POLYCOM_GROUP: &str = "v=0
o=GroupSeries 1289141212 0 IN IP4 192.168.1.50
s=-
c=IN IP4 192.168.1.50
b=AS:2048
t=0 0
m=audio 49170 RTP/AVP 115 102 9 15 0 8 18 101
a=rtpmap:115 G7221/32000
a=fmtp:115 bitrate=48000
a=rtpmap:102 G7221/16000
a=fmtp:102 bitrate=32000
a=rtpmap:9 G722/8000
a=rtpmap:15 G728/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
m=video 49172 RTP/AVP 109 110 96 34
b=TIAS:1920000
a=rtpmap:109 H264/90000
a=fmtp:109 profile-level-id=428016; packetization-mode=1; max-mbps=245000; max-fs=8192; max-br=20480; sar-supported=16
a=rtpmap:110 H264/90000
a=fmtp:110 profile-level-id=428016; max-mbps=245000; max-fs=8192; max-br=20480
a=rtpmap:96 H263-1998/90000
a=fmtp:96 CIF4=2;CIF=1;QCIF=1;SQCIF=1
a=rtpmap:34 H263/90000
a=fmtp:34 CIF4=2;CIF=1;QCIF=1;SQCIF=1
a=rtcp-fb:* ccm fir
a=rtcp-fb:* ccm tmmbr
a=rtcp-fb:* nack pli
a=sendrecv
m=application 49174 UDP/BFCP *
a=floorctrl:c-s
a=setup:actpass
a=connection:new
a=floorid:2 mstrm:3
a=confid:1
a=userid:2
m=video 49176 RTP/AVP 109 96
b=TIAS:1920000
a=rtpmap:109 H264/90000
a=fmtp:109 profile-level-id=428016; packetization-mode=1; max-mbps=245000; max-fs=8192
a=rtpmap:96 H263-1998/90000
a=fmtp:96 CIF4=2;CIF=1;QCIF=1
a=content:slides
a=label:3
a=sendrecv
";

/// Cisco TelePresence / Webex Room (RoomOS): `RTP/SAVP` with two crypto suites per stream
/// (`_80` first), AAC-LD, Opus with telephone events only at 8000 Hz, G.722, G.711; H.264
/// Baseline `428028` modes 1 and 0, H.263-1998, H.263, H.261; `rtcp-fb` on `*`; content labels.
pub(crate) const CISCO_ROOM_SAVP: &str = "v=0
o=tandberg 7 2 IN IP4 10.47.1.20
s=-
c=IN IP4 10.47.1.20
b=AS:6000
t=0 0
m=audio 2326 RTP/SAVP 108 114 9 0 8 101
b=TIAS:128000
a=rtpmap:108 MP4A-LATM/90000
a=fmtp:108 profile-level-id=24;object=23;bitrate=128000
a=rtpmap:114 opus/48000/2
a=fmtp:114 maxplaybackrate=48000;maxaveragebitrate=64000;stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^48
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcZD0rZ3NbUjs7|2^48
a=sendrecv
m=video 2328 RTP/SAVP 97 126 96 34 31
b=TIAS:6000000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=428028;max-mbps=489600;max-fs=36864;max-br=6000;packetization-mode=1
a=rtpmap:126 H264/90000
a=fmtp:126 profile-level-id=428028;max-mbps=489600;max-fs=36864;max-br=6000;packetization-mode=0
a=rtpmap:96 H263-1998/90000
a=fmtp:96 custom=1024,768,4;custom=1280,720,4;CIF4=1;CIF=1;QCIF=1;SQCIF=1
a=rtpmap:34 H263/90000
a=fmtp:34 CIF4=1;CIF=1;QCIF=1;SQCIF=1
a=rtpmap:31 H261/90000
a=rtcp-fb:* nack pli
a=rtcp-fb:* ccm fir
a=rtcp-fb:* ccm tmmbr
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^48
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:SkE5Mkc0bnZDWjVLN0xUejZ0SHlwWVU3Rm4zWjRp|2^48
a=sendrecv
a=content:main
a=label:11
";

/// Lifesize Icon: bandwidth as both `b=AS` and `b=TIAS` (RFC 3890), AAC-LD, G.722.1C, G.722,
/// G.711, telephone events, `a=ptime`; H.264 Baseline `42801f` modes 1 and 0, H.263.
pub(crate) const LIFESIZE: &str = "v=0
o=LifeSize 1490399468 1490399468 IN IP4 172.16.10.20
s=LifeSize SIP Call
c=IN IP4 172.16.10.20
b=AS:1024
t=0 0
m=audio 60000 RTP/AVP 100 101 9 0 8 102
a=rtpmap:100 MP4A-LATM/90000
a=fmtp:100 profile-level-id=24;object=23;bitrate=64000
a=rtpmap:101 G7221/32000
a=fmtp:101 bitrate=48000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:102 telephone-event/8000
a=fmtp:102 0-15
a=ptime:20
a=sendrecv
m=video 60002 RTP/AVP 97 98 34
b=AS:960
b=TIAS:960000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801f;max-mbps=108000;max-fs=3600;packetization-mode=1
a=rtpmap:98 H264/90000
a=fmtp:98 profile-level-id=42801f;max-mbps=108000;max-fs=3600
a=rtpmap:34 H263/90000
a=fmtp:34 CIF=1;QCIF=1
a=sendrecv
";

/// baresip: `RTP/AVP`, Opus and PCMU with telephone events at 48 kHz; H.264 Baseline level 4.2
/// in mode 0 then mode 1, VP8; `rtcp-fb` (including one we lack) and `a=rtcp-rsize`.
pub(crate) const BARESIP: &str = "v=0
o=- 1384170424 1384170425 IN IP4 192.168.1.10
s=-
c=IN IP4 192.168.1.10
t=0 0
m=audio 10000 RTP/AVP 96 0 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/48000
a=fmtp:101 0-15
a=rtcp-rsize
a=sendrecv
a=label:1
m=video 10002 RTP/AVP 100 101 102
a=rtpmap:100 H264/90000
a=fmtp:100 packetization-mode=0;profile-level-id=42002a
a=rtpmap:101 H264/90000
a=fmtp:101 packetization-mode=1;profile-level-id=42002a
a=rtpmap:102 VP8/90000
a=fmtp:102 max-fs=3600;max-fr=30
a=rtcp-fb:* ccm fir
a=rtcp-fb:* nack
a=rtcp-fb:* nack pli
a=rtcp-fb:* goog-remb
a=rtcp-rsize
a=sendrecv
a=label:2
";

/// An audio-only SIP phone with G.711 µ-law only, RTCP on a non-adjacent port (RFC 3605).
pub(crate) const PHONE_PCMU: &str = "v=0
o=user1 53655765 2353687637 IN IP4 10.0.0.20
s=-
c=IN IP4 10.0.0.20
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=rtcp:6011
a=ptime:20
";

/// A Polycom re-INVITE putting the call on hold the RFC 3264 way (`a=sendonly`), session
/// version increased.
pub(crate) const HOLD_SENDONLY: &str = "v=0
o=GroupSeries 1289141212 1 IN IP4 192.168.1.50
s=-
c=IN IP4 192.168.1.50
t=0 0
m=audio 49170 RTP/AVP 9 101
a=rtpmap:9 G722/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendonly
m=video 49172 RTP/AVP 109
a=rtpmap:109 H264/90000
a=fmtp:109 profile-level-id=428016; packetization-mode=1
a=sendonly
";

/// An old endpoint putting the call on hold the RFC 2543 way: connection address 0.0.0.0.
pub(crate) const HOLD_RFC2543: &str = "v=0
o=ccm 1 2 IN IP4 0.0.0.0
s=SIP Call
c=IN IP4 0.0.0.0
t=0 0
m=audio 16384 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
";

/// Only codecs we lack: G.729, G.723.1, iLBC; H.261 and MPEG video.
pub(crate) const NO_COMMON_CODEC: &str = "v=0
o=- 42 42 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 7078 RTP/AVP 18 4 97
a=rtpmap:18 G729/8000
a=rtpmap:4 G723/8000
a=rtpmap:97 iLBC/8000
a=fmtp:97 mode=30
m=video 9078 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
";

/// Plain `RTP/AVP` without keys (a policy-On gateway must refuse it).
pub(crate) const PLAIN_AVP: &str = "v=0
o=- 3 3 IN IP4 203.0.113.9
s=-
c=IN IP4 203.0.113.9
t=0 0
m=audio 20000 RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
";

/// `RTP/AVP` with best-effort SDES keys, as Polycom and Cisco send with "SRTP: best effort".
pub(crate) const AVP_BEST_EFFORT_SRTP: &str = "v=0
o=- 3 3 IN IP4 203.0.113.9
s=-
c=IN IP4 203.0.113.9
t=0 0
m=audio 20000 RTP/AVP 9 0
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
a=sendrecv
";

/// An H.264 offer at level 4.0 allowing level asymmetry (RFC 6184 §8.2.2).
pub(crate) const H264_ASYMMETRIC: &str = "v=0
o=- 9 9 IN IP4 198.51.100.20
s=-
c=IN IP4 198.51.100.20
t=0 0
m=video 5004 RTP/AVPF 126
a=rtpmap:126 H264/90000
a=fmtp:126 profile-level-id=42e028;packetization-mode=1;level-asymmetry-allowed=1
a=rtcp-fb:126 nack
a=rtcp-fb:126 nack pli
a=rtcp-fb:126 ccm fir
a=rtcp-mux
";

/// RFC 3264 §10.1's offer, with the documentation host names replaced by addresses (we
/// resolve no names).
pub(crate) const RFC3264_10_1: &str = "v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
";

/// RFC 3264 §10.2's offer (addresses as above): two audio streams and a video one.
pub(crate) const RFC3264_10_2: &str = "v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=audio 49172 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=sendonly
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
";

/// Every offer above with its name.
pub(crate) const ALL: [(&str, &str); 14] = [
    ("polycom_group", POLYCOM_GROUP),
    ("cisco_room_savp", CISCO_ROOM_SAVP),
    ("lifesize", LIFESIZE),
    ("baresip", BARESIP),
    ("phone_pcmu", PHONE_PCMU),
    ("hold_sendonly", HOLD_SENDONLY),
    ("hold_rfc2543", HOLD_RFC2543),
    ("no_common_codec", NO_COMMON_CODEC),
    ("plain_avp", PLAIN_AVP),
    ("avp_best_effort_srtp", AVP_BEST_EFFORT_SRTP),
    ("h264_asymmetric", H264_ASYMMETRIC),
    ("rfc3264_10_1", RFC3264_10_1),
    ("rfc3264_10_2", RFC3264_10_2),
    (
        "no_media_crlf",
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n",
    ),
];

/// The text with CRLF line ends, as it comes in a SIP body.
pub(crate) fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Our address in the tests.
pub(crate) const OUR_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));

/// Our audio endpoint: RTP 40000, RTCP 40001.
pub(crate) fn audio_endpoint() -> Endpoint {
    Endpoint {
        address: OUR_IP,
        rtp_port: 40000,
        rtcp_port: 40001,
    }
}

/// Our video endpoint: RTP 40002, RTCP 40003.
pub(crate) fn video_endpoint() -> Endpoint {
    Endpoint {
        address: OUR_IP,
        rtp_port: 40002,
        rtcp_port: 40003,
    }
}

/// Key material: 30 bytes of 0xA1 for audio, 30 of 0xB2 for video.
pub(crate) fn key_material() -> [u8; 60] {
    let mut keys = [0xa1; 60];
    keys[30..].fill(0xb2);
    keys
}

/// Answer parameters with our endpoints, `o=tcn 1000 1` and the given caps and policy.
pub(crate) fn params(caps: &LocalCapabilities, crypto: CryptoPolicy) -> AnswerParams<'_> {
    AnswerParams {
        caps,
        audio: audio_endpoint(),
        video: video_endpoint(),
        crypto,
        srtp_key_material: key_material(),
        session_id: 1000,
        session_version: 1,
        username: "tcn",
    }
}

#[test]
fn every_fixture_parses_and_round_trips() {
    use signaling::sdp::SessionDescription;
    for (name, text) in ALL {
        for text in [text.to_owned(), crlf(text)] {
            let parsed = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let printed = parsed.to_string();
            assert!(printed.ends_with("\r\n"), "{name}");
            assert!(
                !printed.replace("\r\n", "").contains('\n'),
                "{name}: bare LF"
            );
            assert_eq!(
                SessionDescription::parse(&printed).as_ref(),
                Ok(&parsed),
                "{name}"
            );
        }
    }
}
