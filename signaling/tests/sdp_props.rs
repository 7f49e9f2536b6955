//! Property tests of offer/answer over generated offers: random subsets and orders of codecs
//! (ours and others, static and dynamic payload types), fmtp parameters, `rtcp-fb` and
//! `a=crypto` lines (usable or not), protocols, directions, addresses and extra streams,
//! answered with random capabilities under every SRTP policy.
//!
//! The answer never contains a codec, payload type, `rtcp-fb` line, crypto suite, H.264
//! parameter or direction that was not offered, keeps the number, order, types and
//! protocols of the media sections, and agrees with the negotiated media; and our own offer,
//! answered by `answer()` with other capabilities, is read back by `accept_answer` as the
//! mirror image of what the answerer agreed.

#[path = "sdp_fixtures.rs"]
mod fixtures;

use fixtures::params;
use proptest::prelude::*;
use signaling::sdp::{
    AudioCodec, CryptoPolicy, Direction, LocalCapabilities, MediaDescription, MediaKind,
    NegotiatedMedia, ProfileLevelId, RtcpFeedback, RtpMap, SessionDescription, VideoCodec,
    accept_answer, answer, offer, static_rtpmap,
};

const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

/// One offered format: encoding, clock, channels, static payload type, fmtp choices.
#[derive(Clone, Debug)]
struct Format {
    encoding: &'static str,
    clock: u32,
    channels: Option<&'static str>,
    static_pt: Option<u8>,
    fmtp: Option<String>,
}

fn format(
    encoding: &'static str,
    clock: u32,
    channels: Option<&'static str>,
    static_pt: Option<u8>,
) -> Format {
    Format {
        encoding,
        clock,
        channels,
        static_pt,
        fmtp: None,
    }
}

fn audio_format() -> impl Strategy<Value = Format> {
    let telephone_event =
        prop_oneof![Just(8000), Just(48000), Just(16000)].prop_flat_map(|clock| {
            prop_oneof![
                Just(None),
                Just(Some("0-15")),
                Just(Some("0-16")),
                Just(Some("x"))
            ]
            .prop_map(move |events| Format {
                fmtp: events.map(str::to_owned),
                ..format("telephone-event", clock, None, None)
            })
        });
    prop_oneof![
        3 => telephone_event,
        10 => codec_format(),
    ]
}

fn codec_format() -> impl Strategy<Value = Format> {
    prop_oneof![
        Just(format("PCMU", 8000, None, Some(0))),
        Just(format("PCMA", 8000, None, Some(8))),
        Just(format("G722", 8000, None, Some(9))),
        Just(format("G729", 8000, None, Some(18))),
        Just(format("opus", 48000, Some("2"), None)),
        Just(format("OPUS", 48000, Some("2"), None)),
        Just(format("opus", 48000, None, None)),
        Just(format("iLBC", 8000, None, None)),
        Just(format("G7221", 16000, None, None)),
        Just(format("PCMU", 8000, None, None)),
    ]
}

fn h264_fmtp() -> impl Strategy<Value = Option<String>> {
    let plid = prop_oneof![
        Just(None),
        Just(Some("42e01f")),
        Just(Some("42e01f")),
        Just(Some("42801f")),
        Just(Some("42801f")),
        Just(Some("428016")),
        Just(Some("42e028")),
        Just(Some("42000b")),
        Just(Some("42f00b")),
        Just(Some("4d001f")),
        Just(Some("4d801f")),
        Just(Some("640028")),
        Just(Some("42e0zz")),
    ];
    let mode = prop_oneof![
        1 => Just(None),
        1 => Just(Some("0")),
        3 => Just(Some("1")),
        1 => Just(Some("2"))
    ];
    let extras = proptest::collection::vec(
        prop_oneof![
            Just("level-asymmetry-allowed=1"),
            Just("level-asymmetry-allowed=0"),
            Just("max-mbps=245000"),
            Just("max-fs=8192"),
            Just("max-br=20480"),
            Just("sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA=="),
        ],
        0..4,
    );
    (plid, mode, extras, any::<bool>()).prop_map(|(plid, mode, extras, spaces)| {
        let mut params: Vec<String> = Vec::new();
        params.extend(plid.map(|p| format!("profile-level-id={p}")));
        params.extend(mode.map(|m| format!("packetization-mode={m}")));
        params.extend(extras.into_iter().map(str::to_owned));
        (!params.is_empty()).then(|| params.join(if spaces { "; " } else { ";" }))
    })
}

fn video_format() -> impl Strategy<Value = Format> {
    let sizes = proptest::collection::vec(
        prop_oneof![
            Just("SQCIF=1"),
            Just("QCIF=1"),
            Just("CIF=2"),
            Just("CIF4=2"),
            Just("CIF16=3"),
            Just("F=1"),
            Just("CUSTOM=1024,768,4"),
        ],
        0..4,
    )
    .prop_map(|s| (!s.is_empty()).then(|| s.join(";")));
    prop_oneof![
        4 => h264_fmtp().prop_map(|fmtp| Format {
            fmtp,
            ..format("H264", 90000, None, None)
        }),
        1 => h264_fmtp().prop_map(|fmtp| Format {
            fmtp,
            ..format("h264", 90000, None, None)
        }),
        1 => sizes.clone().prop_map(|fmtp| Format {
            fmtp,
            ..format("H263-1998", 90000, None, None)
        }),
        1 => sizes.prop_map(|fmtp| Format {
            fmtp,
            ..format("H263", 90000, None, Some(34))
        }),
        1 => prop_oneof![Just(None), Just(Some("max-fr=30;max-fs=3600".to_owned()))].prop_map(
            |fmtp| Format {
                fmtp,
                ..format("VP8", 90000, None, None)
            }
        ),
        1 => Just(format("H261", 90000, None, Some(31))),
        1 => Just(format("VP9", 90000, None, None)),
    ]
}

fn feedback() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("nack"),
        Just("nack pli"),
        Just("ccm fir"),
        Just("ccm tmmbr"),
        Just("goog-remb"),
        Just("trr-int 100"),
        Just("NACK PLI"),
    ]
}

fn crypto_line() -> impl Strategy<Value = String> {
    let suite = prop_oneof![
        Just("AES_CM_128_HMAC_SHA1_80"),
        Just("AES_CM_128_HMAC_SHA1_32"),
        Just("AES_256_CM_HMAC_SHA1_80"),
        Just("F8_128_HMAC_SHA1_80"),
    ];
    let key = prop_oneof![
        Just(format!("inline:{KEY}")),
        Just(format!("inline:{KEY}")),
        Just(format!("inline:{KEY}")),
        Just(format!("inline:{KEY}|2^31")),
        Just(format!("inline:{KEY}|2^20")),
        Just(format!("inline:{KEY}|2^20|1:4")),
        Just("inline:c2hvcnQ=".to_owned()),
        Just(format!("inline:{KEY} UNENCRYPTED_SRTCP")),
    ];
    (1u32..20, suite, key).prop_map(|(tag, suite, key)| format!("{tag} {suite} {key}"))
}

/// A generated media section, rendered to SDP lines.
#[derive(Clone, Debug)]
struct Section {
    kind: &'static str,
    port: u16,
    protocol: &'static str,
    formats: Vec<(Format, bool)>,
    dynamic: Vec<u8>,
    feedback: Vec<(Option<usize>, &'static str)>,
    crypto: Vec<String>,
    direction: Option<Direction>,
    connection: Option<&'static str>,
    rtcp_mux: bool,
    rtcp: Option<u16>,
}

fn section() -> impl Strategy<Value = Section> {
    let kind = prop_oneof![4 => Just("audio"), 4 => Just("video"), 1 => Just("application")];
    (
        kind,
        prop_oneof![1 => Just(0u16), 6 => 1024u16..60000],
        prop_oneof![
            4 => Just("RTP/AVP"),
            2 => Just("RTP/AVPF"),
            3 => Just("RTP/SAVP"),
            1 => Just("RTP/SAVPF"),
            1 => Just("UDP/TLS/RTP/SAVPF"),
            1 => Just("rtp/avp"),
        ],
        proptest::collection::vec((audio_format(), any::<bool>()), 0..6),
        proptest::collection::vec((video_format(), any::<bool>()), 0..6),
        Just((96u8..=127).collect::<Vec<_>>()).prop_shuffle(),
        proptest::collection::vec((proptest::option::of(0usize..8), feedback()), 0..5),
        proptest::collection::vec(crypto_line(), 0..4),
        proptest::option::of(proptest::sample::select(Direction::ALL.to_vec())),
        prop_oneof![
            8 => Just(None),
            4 => Just(Some("IN IP4 198.51.100.2")),
            1 => Just(Some("IN IP4 0.0.0.0")),
            1 => Just(Some("IN IP4 host.example.com")),
            1 => Just(Some("IN IP6 2001:db8::2")),
        ],
        any::<bool>(),
        proptest::option::of(1024u16..60000),
    )
        .prop_map(
            |(
                kind,
                port,
                protocol,
                audio,
                video,
                dynamic,
                feedback,
                crypto,
                direction,
                connection,
                rtcp_mux,
                rtcp,
            )| Section {
                kind,
                port,
                protocol: if kind == "application" {
                    "UDP/BFCP"
                } else {
                    protocol
                },
                formats: match kind {
                    "audio" => audio,
                    "video" => video,
                    _ => Vec::new(),
                },
                dynamic,
                feedback,
                crypto,
                direction,
                connection,
                rtcp_mux,
                rtcp,
            },
        )
}

impl Section {
    fn render(&self, out: &mut String) {
        let mut pts = Vec::new();
        let mut lines = Vec::new();
        let mut dynamic = self.dynamic.iter().copied();
        for (format, with_rtpmap) in &self.formats {
            let Some(pt) = format.static_pt.or_else(|| dynamic.next()) else {
                continue;
            };
            if pts.contains(&pt) {
                continue;
            }
            pts.push(pt);
            if *with_rtpmap || format.static_pt.is_none() {
                let channels = format.channels.map(|c| format!("/{c}")).unwrap_or_default();
                lines.push(format!(
                    "a=rtpmap:{pt} {}/{}{channels}",
                    format.encoding, format.clock
                ));
            }
            if let Some(fmtp) = &format.fmtp {
                lines.push(format!("a=fmtp:{pt} {fmtp}"));
            }
        }
        for (target, kind) in &self.feedback {
            let pt = match target {
                None => "*".to_owned(),
                Some(i) => pts.get(*i).map_or_else(|| "77".to_owned(), u8::to_string),
            };
            lines.push(format!("a=rtcp-fb:{pt} {kind}"));
        }
        lines.extend(self.crypto.iter().map(|c| format!("a=crypto:{c}")));
        lines.extend(self.direction.map(|d| format!("a={d}")));
        if self.rtcp_mux {
            lines.push("a=rtcp-mux".to_owned());
        }
        lines.extend(self.rtcp.map(|port| format!("a=rtcp:{port}")));
        let formats = if self.kind == "application" {
            "*".to_owned()
        } else {
            pts.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
        };
        out.push_str(&format!(
            "m={} {} {} {formats}\r\n",
            self.kind, self.port, self.protocol
        ));
        if let Some(connection) = self.connection {
            out.push_str(&format!("c={connection}\r\n"));
        }
        for line in lines {
            out.push_str(&line);
            out.push_str("\r\n");
        }
    }
}

fn offer_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(section(), 0..5),
        proptest::bool::weighted(0.85),
        proptest::option::of(proptest::sample::select(Direction::ALL.to_vec())),
    )
        .prop_map(|(sections, session_connection, direction)| {
            let mut out = "v=0\r\no=- 5 5 IN IP4 198.51.100.1\r\ns=-\r\n".to_owned();
            if session_connection {
                out.push_str("c=IN IP4 198.51.100.1\r\n");
            }
            out.push_str("t=0 0\r\n");
            if let Some(direction) = direction {
                out.push_str(&format!("a={direction}\r\n"));
            }
            for section in &sections {
                section.render(&mut out);
            }
            out
        })
}

fn caps() -> impl Strategy<Value = LocalCapabilities> {
    let video = prop_oneof![
        Just(VideoCodec::h264_default()),
        Just(VideoCodec::H264 {
            profile_level_id: ProfileLevelId::parse("42e028").unwrap(),
            packetization_modes: vec![0],
        }),
        Just(VideoCodec::H264 {
            profile_level_id: ProfileLevelId::parse("640028").unwrap(),
            packetization_modes: vec![1, 0],
        }),
        Just(VideoCodec::Vp8),
        Just(VideoCodec::H263Plus),
        Just(VideoCodec::H263),
    ];
    (
        proptest::sample::subsequence(AudioCodec::ALL.to_vec(), 0..=4).prop_shuffle(),
        proptest::collection::vec(video, 0..5),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::option::of(64u32..8000),
    )
        .prop_map(
            |(audio, video, telephone_event, (nack, pli, fir), max_video_kbps)| LocalCapabilities {
                audio,
                video,
                telephone_event,
                rtcp_fb: RtcpFeedback { nack, pli, fir },
                max_video_kbps,
            },
        )
}

fn policy() -> impl Strategy<Value = CryptoPolicy> {
    prop_oneof![
        Just(CryptoPolicy::On),
        Just(CryptoPolicy::BestEffort),
        Just(CryptoPolicy::Off)
    ]
}

/// The mapping of a payload type in the offered section.
fn offered_map(media: &MediaDescription, pt: u8) -> Option<RtpMap> {
    media.rtpmap(pt).or_else(|| static_rtpmap(pt))
}

/// The events of an RFC 4733 list such as `0-11,15`.
fn events(list: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(low), Ok(high)) = (low.trim().parse::<u8>(), high.trim().parse::<u8>()) {
            out.extend(low..=high);
        }
    }
    out
}

/// Checks one accepted answer section against its offered section.
fn check_accepted(
    offer: &SessionDescription,
    offered: &MediaDescription,
    answered: &MediaDescription,
    policy: CryptoPolicy,
) -> Result<(), TestCaseError> {
    // Formats and their mappings are the offer's.
    for format in &answered.formats {
        prop_assert!(
            offered.formats.contains(format),
            "format {format} not offered"
        );
    }
    for map in answered.rtpmaps() {
        let theirs = offered_map(offered, map.payload_type);
        prop_assert!(
            theirs
                .as_ref()
                .is_some_and(|t| t.encoding.eq_ignore_ascii_case(&map.encoding)
                    && t.clock_rate == map.clock_rate
                    && t.channels() == map.channels()),
            "rtpmap {map} not offered as {theirs:?}"
        );
    }
    prop_assert!(!answered.formats.is_empty() && answered.formats.len() <= 2);
    // rtcp-fb lines are offered ones, verbatim.
    let offered_fb = offered.rtcp_fb();
    for fb in answered.rtcp_fb() {
        prop_assert!(offered_fb.contains(&fb), "rtcp-fb {fb} not offered");
    }
    // One crypto line at most, an offered tag and suite; as the policy says.
    let crypto = answered.crypto();
    prop_assert!(crypto.len() <= 1);
    for line in &crypto {
        prop_assert!(
            offered
                .crypto()
                .iter()
                .any(|o| o.tag == line.tag && o.suite == line.suite),
            "crypto {line} not offered"
        );
    }
    match policy {
        CryptoPolicy::On => prop_assert_eq!(crypto.len(), 1),
        CryptoPolicy::Off => prop_assert!(crypto.is_empty()),
        CryptoPolicy::BestEffort => {}
    }
    if answered.protocol.to_ascii_uppercase().contains("SAVP") {
        prop_assert_eq!(crypto.len(), 1);
    }
    // Exactly one direction, one the offered one permits (RFC 3264 §6.1).
    let directions: Vec<Direction> = answered
        .attributes
        .iter()
        .filter_map(|a| Direction::from_attribute_name(&a.name))
        .collect();
    prop_assert_eq!(directions.len(), 1);
    let offered_direction = offer.media_direction(offered);
    prop_assert!(
        offered_direction.permits_answer(directions[0]),
        "{offered_direction} answered {}",
        directions[0]
    );
    // rtcp-mux only if offered.
    prop_assert!(!answered.rtcp_mux() || offered.rtcp_mux());
    // Fmtp parameters: H.264's are offered ones with the offered profile and mode; H.263
    // sizes are offered ones; telephone events within the offered ones.
    for map in answered.rtpmaps() {
        let pt = map.payload_type.to_string();
        let Some(ours) = answered.fmtp(&pt) else {
            continue;
        };
        let theirs = offered.fmtp(&pt);
        let encoding = map.encoding.to_ascii_uppercase();
        if encoding == "OPUS" {
            continue; // RFC 7587 receiver preferences may be added
        }
        let theirs = theirs.expect("fmtp answered for a format offered without one");
        if encoding == "TELEPHONE-EVENT" {
            let offered_events = events(&theirs.params);
            prop_assert!(
                events(&ours.params)
                    .iter()
                    .all(|e| offered_events.contains(e)),
                "events {} for {}",
                ours.params,
                theirs.params
            );
            continue;
        }
        for (name, value) in ours.parameters() {
            prop_assert!(theirs.has(name), "{encoding} parameter {name} not offered");
            match name {
                "packetization-mode" | "level-asymmetry-allowed" => {
                    prop_assert_eq!(theirs.get(name), value);
                }
                "profile-level-id" => {
                    let ours = ProfileLevelId::parse(value.unwrap_or_default()).unwrap();
                    let theirs = ProfileLevelId::parse(theirs.get(name).unwrap()).unwrap();
                    prop_assert_eq!(ours.profile_idc, theirs.profile_idc);
                    prop_assert_eq!(ours.profile_iop & !0x10, theirs.profile_iop & !0x10);
                }
                _ if encoding.starts_with("H263") => {
                    prop_assert_eq!(theirs.get(name), value);
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Checks a whole answer against its offer and the negotiated media.
fn check_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
    media: &NegotiatedMedia,
    policy: CryptoPolicy,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(answer.media.len(), offer.media.len());
    let mut accepted_audio = Vec::new();
    let mut accepted_video = Vec::new();
    for (index, (offered, answered)) in offer.media.iter().zip(&answer.media).enumerate() {
        prop_assert_eq!(&offered.media, &answered.media);
        prop_assert_eq!(&offered.protocol, &answered.protocol);
        if offered.port == 0 || answered.port == 0 {
            prop_assert_eq!(answered.port, 0);
            prop_assert!(answered.formats.len() <= 1);
            prop_assert!(answered.formats.iter().all(|f| offered.formats.contains(f)));
            prop_assert!(answered.attributes.is_empty());
            continue;
        }
        check_accepted(offer, offered, answered, policy)?;
        match answered.media {
            MediaKind::Audio => accepted_audio.push(index),
            MediaKind::Video => accepted_video.push(index),
            _ => prop_assert!(false, "accepted a {} stream", answered.media),
        }
    }
    prop_assert!(accepted_audio.len() <= 1 && accepted_video.len() <= 1);
    prop_assert_eq!(media.audio.is_some(), !accepted_audio.is_empty());
    prop_assert_eq!(media.video.is_some(), !accepted_video.is_empty());
    if let (Some(stream), Some(index)) = (&media.audio, accepted_audio.first()) {
        let answered = &answer.media[*index];
        prop_assert_eq!(&answered.formats[0], &stream.payload_type.to_string());
        let event = stream.format.telephone_event.map(|pt| pt.to_string());
        prop_assert_eq!(answered.formats.get(1), event.as_ref());
        if let Some(event) = stream.format.telephone_event {
            let map = offered_map(&offer.media[*index], event).unwrap();
            prop_assert_eq!(map.clock_rate, stream.format.clock_rate);
        }
        prop_assert_eq!(stream.srtp.is_some(), !answered.crypto().is_empty());
        prop_assert_eq!(stream.rtcp_fb, RtcpFeedback::NONE);
    }
    if let (Some(stream), Some(index)) = (&media.video, accepted_video.first()) {
        let answered = &answer.media[*index];
        prop_assert_eq!(&answered.formats, &vec![stream.payload_type.to_string()]);
        prop_assert_eq!(stream.srtp.is_some(), !answered.crypto().is_empty());
        if stream.format.h264_send_level.is_some() {
            prop_assert!(stream.format.h264_receive_level.is_some());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn answers_only_contain_what_was_offered(
        text in offer_text(),
        caps in caps(),
        policy in policy(),
    ) {
        let offer = SessionDescription::parse(&text).expect("generated offers parse");
        match answer(&offer, &params(&caps, policy)) {
            Ok((answered, media)) => {
                check_answer(&offer, &answered, &media, policy)?;
                let printed = answered.to_string();
                prop_assert_eq!(SessionDescription::parse(&printed), Ok(answered));
            }
            Err(error) => {
                prop_assert!(matches!(error.sip_status(), 400 | 488));
                // Refused only when something was on offer.
                prop_assert!(offer.media.iter().any(|m| m.port != 0));
            }
        }
    }

    #[test]
    fn our_offer_round_trips_through_another_answerer(
        offerer in caps(),
        answerer in caps(),
        offer_policy in policy(),
        answer_policy in policy(),
    ) {
        let (offered, pending) = offer(&params(&offerer, offer_policy));
        let mut answer_params = params(&answerer, answer_policy);
        answer_params.audio.address = "198.51.100.77".parse().unwrap();
        answer_params.video.address = "198.51.100.78".parse().unwrap();
        answer_params.audio.rtp_port = 50000;
        answer_params.video.rtp_port = 50002;
        answer_params.srtp_key_material = [0x5c; 60];
        let Ok((answered, theirs)) = answer(&offered, &answer_params) else {
            return Ok(());
        };
        check_answer(&offered, &answered, &theirs, answer_policy)?;
        let reparsed = SessionDescription::parse(&answered.to_string()).unwrap();
        let ours = accept_answer(&pending, &reparsed).expect("our own answer is acceptable");
        prop_assert_eq!(ours.audio.is_some(), theirs.audio.is_some());
        prop_assert_eq!(ours.video.is_some(), theirs.video.is_some());
        if let (Some(a), Some(b)) = (&ours.audio, &theirs.audio) {
            prop_assert_eq!(a.format, b.format);
            prop_assert_eq!(a.payload_type, b.payload_type);
            prop_assert_eq!(a.remote_rtp, std::net::SocketAddr::new(b.local.address, b.local.rtp_port));
            prop_assert_eq!(b.remote_rtp, std::net::SocketAddr::new(a.local.address, a.local.rtp_port));
            prop_assert_eq!(a.rtcp_mux, b.rtcp_mux);
            prop_assert_eq!(a.direction, b.direction.reverse());
            prop_assert_eq!(a.srtp.is_some(), b.srtp.is_some());
            if let (Some(ka), Some(kb)) = (&a.srtp, &b.srtp) {
                prop_assert_eq!((ka.suite, ka.tag), (kb.suite, kb.tag));
                prop_assert_eq!(ka.local_key, kb.remote_key);
                prop_assert_eq!(ka.remote_key, kb.local_key);
            }
        }
        if let (Some(a), Some(b)) = (&ours.video, &theirs.video) {
            prop_assert_eq!(&a.format.codec, &b.format.codec);
            prop_assert_eq!(a.payload_type, b.payload_type);
            prop_assert_eq!(a.format.h264_send_level, b.format.h264_receive_level);
            prop_assert_eq!(a.format.h264_receive_level, b.format.h264_send_level);
            prop_assert_eq!(a.rtcp_fb, b.rtcp_fb);
            prop_assert_eq!(a.bandwidth_kbps, answerer.max_video_kbps);
            prop_assert_eq!(b.bandwidth_kbps, offerer.max_video_kbps);
            prop_assert_eq!(a.srtp.is_some(), b.srtp.is_some());
        }
    }
}
