//! DTMF: RTP header parsing on annotated packets, RFC 4733 telephone events, the receiver's one
//! event per key press (retransmissions, lost packets, timeouts, wrap-around), SIP INFO bodies,
//! de-duplication across sources, and property tests.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use signaling::dtmf::{
    DEFAULT_INFO_DURATION, DtmfDeduplicator, DtmfError, DtmfEvent, DtmfReceiver, DtmfSource,
    DtmfStream, InfoDtmf, RtpError, RtpHeader, TelephoneEvent, digit_to_event, event_to_digit,
    fuzzing, parse_info, parse_rtp,
};

#[allow(clippy::disallowed_methods)]
fn t0() -> Instant {
    Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const PT: u8 = 101;
const SSRC: u32 = 0x1234_5678;

/// An RTP packet with a fixed 12-byte header and no CSRC, extension or padding.
fn rtp(marker: bool, sequence: u16, timestamp: u32, ssrc: u32, pt: u8, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![0x80, (u8::from(marker) << 7) | pt];
    packet.extend_from_slice(&sequence.to_be_bytes());
    packet.extend_from_slice(&timestamp.to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

/// A telephone-event packet of PT 101 from [`SSRC`].
fn te(marker: bool, sequence: u16, timestamp: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
    let block = TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    };
    rtp(marker, sequence, timestamp, SSRC, PT, &block.to_bytes())
}

/// Feeds one packet to the receiver.
fn feed(receiver: &mut DtmfReceiver, packet: &[u8], now: Instant) -> Option<DtmfEvent> {
    let (header, payload) = parse_rtp(packet).expect("valid RTP");
    receiver.handle_rtp(&header, payload, now)
}

/// Feeds one packet to a stream.
fn feed_stream(stream: &mut DtmfStream, packet: &[u8], now: Instant) -> Option<DtmfEvent> {
    let (header, payload) = parse_rtp(packet).expect("valid RTP");
    stream.handle_rtp(&header, payload, now)
}

fn rfc4733(digit: char, duration: Duration) -> DtmfEvent {
    DtmfEvent {
        digit,
        duration,
        source: DtmfSource::Rfc4733,
    }
}

// ---------------------------------------------------------------------------------------------
// Annotated packets

/// The first packet of a press of `5`, PT 101, 8 kHz: marker set, 20 ms in.
const KEY_5_START: [u8; 16] = [
    0x80, // V=2, P=0, X=0, CC=0
    0xe5, // M=1, PT=101
    0x1f, 0x40, // sequence number 8000
    0x00, 0x01, 0x38, 0x80, // timestamp 80000
    0x12, 0x34, 0x56, 0x78, // SSRC 0x12345678
    // RFC 4733 §2.3 payload
    0x05, // event 5
    0x0a, // E=0, R=0, volume 10 (-10 dBm0)
    0x00, 0xa0, // duration 160 (20 ms)
];

/// The final packet of the same press: E bit, 100 ms; sent three times (RFC 4733 §2.5.1.4).
const KEY_5_END: [u8; 16] = [
    0x80, // V=2, P=0, X=0, CC=0
    0x65, // M=0, PT=101
    0x1f, 0x44, // sequence number 8004
    0x00, 0x01, 0x38, 0x80, // timestamp 80000: the event's start, unchanged
    0x12, 0x34, 0x56, 0x78, // SSRC 0x12345678
    0x05, // event 5
    0x8a, // E=1, R=0, volume 10
    0x03, 0x20, // duration 800 (100 ms)
];

/// A packet using every optional header part: two CSRCs, an RFC 8285 one-byte header
/// extension, and padding.
const FULL_HEADER: [u8; 40] = [
    0xb2, // V=2, P=1, X=1, CC=2
    0x65, // M=0, PT=101
    0xff, 0xff, // sequence number 65535
    0xff, 0xff, 0xff, 0xf0, // timestamp 4294967280
    0xde, 0xad, 0xbe, 0xef, // SSRC
    0x00, 0x00, 0x00, 0x01, // CSRC 1
    0x00, 0x00, 0x00, 0x02, // CSRC 2
    0xbe, 0xde, // extension profile 0xBEDE (RFC 8285 one-byte form)
    0x00, 0x02, // extension length: 2 words
    0x10, 0xaa, 0x21, 0xbb, // element id 1 len 1, element id 2 len 2 ...
    0xcc, 0x00, 0x00, 0x00, // ... and padding to the word boundary
    0x0b, // event 11 (#)
    0x80, // E=1, volume 0
    0x01, 0x40, // duration 320 (40 ms)
    0x00, 0x00, 0x00, 0x04, // 4 bytes of RTP padding, the last one counting them
];

/// An RTCP sender report (PT 200) arriving on the RTP port (RFC 5761).
const RTCP_SR: [u8; 28] = [
    0x80, // V=2, P=0, RC=0
    0xc8, // PT=200 (SR): as RTP, M=1 and PT=72
    0x00, 0x06, // length 6 words
    0x12, 0x34, 0x56, 0x78, // SSRC of sender
    0xe8, 0x00, 0x00, 0x00, // NTP timestamp, most significant word
    0x00, 0x00, 0x00, 0x00, // NTP timestamp, least significant word
    0x00, 0x01, 0x38, 0x80, // RTP timestamp
    0x00, 0x00, 0x00, 0x10, // sender's packet count
    0x00, 0x00, 0x0a, 0x00, // sender's octet count
];

// ---------------------------------------------------------------------------------------------
// RTP header

#[test]
fn parses_the_start_packet_of_a_key_press() {
    let (header, payload) = parse_rtp(&KEY_5_START).unwrap();
    assert_eq!(
        header,
        RtpHeader {
            version: 2,
            padding: false,
            extension: false,
            marker: true,
            payload_type: 101,
            sequence: 8000,
            timestamp: 80000,
            ssrc: 0x1234_5678,
            csrcs: vec![],
        }
    );
    assert_eq!(
        TelephoneEvent::parse(payload),
        Some(TelephoneEvent {
            event: 5,
            end: false,
            volume: 10,
            duration: 160
        })
    );
}

#[test]
fn parses_the_end_packet_of_a_key_press() {
    let (header, payload) = parse_rtp(&KEY_5_END).unwrap();
    assert!(!header.marker);
    assert_eq!(header.sequence, 8004);
    let event = TelephoneEvent::parse(payload).unwrap();
    assert!(event.end);
    assert_eq!(event.duration, 800);
    assert_eq!(event.digit(), Some('5'));
}

#[test]
fn parses_csrcs_extension_and_padding() {
    let (header, payload) = parse_rtp(&FULL_HEADER).unwrap();
    assert!(header.padding);
    assert!(header.extension);
    assert_eq!(header.csrcs, [1, 2]);
    assert_eq!(header.sequence, 65535);
    assert_eq!(header.timestamp, 0xffff_fff0);
    assert_eq!(header.ssrc, 0xdead_beef);
    assert_eq!(payload, [0x0b, 0x80, 0x01, 0x40]);
    assert_eq!(TelephoneEvent::parse(payload).unwrap().digit(), Some('#'));
}

#[test]
fn empty_extension_and_padding_only_payload() {
    // X=1 with a zero-length extension, P=1 with the padding byte being the whole payload.
    let packet = [
        0xb0, 0x65, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, // header, X=1, P=1
        0xbe, 0xde, 0x00, 0x00, // extension of 0 words
        0x01, // padding count 1
    ];
    let (header, payload) = parse_rtp(&packet).unwrap();
    assert!(header.extension && header.padding);
    assert!(payload.is_empty());
}

#[test]
fn recognises_multiplexed_rtcp() {
    assert_eq!(
        parse_rtp(&RTCP_SR),
        Err(RtpError::LooksLikeRtcp { packet_type: 200 })
    );
    // An empty receiver report is 8 bytes: still RTCP, not "too short".
    let rr = [0x80, 0xc9, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78];
    assert_eq!(
        parse_rtp(&rr),
        Err(RtpError::LooksLikeRtcp { packet_type: 201 })
    );
    for packet_type in [192u8, 200, 201, 202, 203, 204, 205, 206, 207, 223] {
        let mut packet = RTCP_SR;
        packet[1] = packet_type;
        assert_eq!(
            parse_rtp(&packet),
            Err(RtpError::LooksLikeRtcp { packet_type }),
            "{packet_type}"
        );
    }
    // PT 72 without the marker bit (second byte 72) is not in the RTCP range.
    let mut packet = RTCP_SR;
    packet[1] = 72;
    assert!(parse_rtp(&packet).is_ok());
    // Second byte 191 or 224 (M=1 with PT 63 or 96) is RTP.
    for second in [191u8, 224] {
        let mut packet = RTCP_SR;
        packet[1] = second;
        assert!(parse_rtp(&packet).is_ok(), "{second}");
    }
}

#[test]
fn refuses_truncated_and_malformed_packets() {
    assert_eq!(parse_rtp(&[]), Err(RtpError::TooShort { len: 0 }));
    assert_eq!(parse_rtp(&[0x80]), Err(RtpError::TooShort { len: 1 }));
    assert_eq!(
        parse_rtp(&KEY_5_START[..11]),
        Err(RtpError::TooShort { len: 11 })
    );
    // A 12-byte header alone is a valid packet with an empty payload.
    let (_, payload) = parse_rtp(&KEY_5_START[..12]).unwrap();
    assert!(payload.is_empty());

    for version in [0u8, 1, 3] {
        let mut packet = KEY_5_START;
        packet[0] = (version << 6) | (packet[0] & 0x3f);
        assert_eq!(parse_rtp(&packet), Err(RtpError::BadVersion(version)));
    }

    // CC=2 but only one CSRC present.
    assert_eq!(
        parse_rtp(&FULL_HEADER[..16]),
        Err(RtpError::TruncatedCsrcs { count: 2 })
    );
    // Extension preamble cut short, then extension body cut short.
    assert_eq!(
        parse_rtp(&FULL_HEADER[..22]),
        Err(RtpError::TruncatedExtension)
    );
    assert_eq!(
        parse_rtp(&FULL_HEADER[..28]),
        Err(RtpError::TruncatedExtension)
    );

    // Padding count 0, and padding count larger than what follows the header.
    let mut zero = FULL_HEADER;
    zero[39] = 0;
    assert_eq!(
        parse_rtp(&zero),
        Err(RtpError::BadPadding {
            count: 0,
            available: 8
        })
    );
    let mut large = FULL_HEADER;
    large[39] = 9;
    assert_eq!(
        parse_rtp(&large),
        Err(RtpError::BadPadding {
            count: 9,
            available: 8
        })
    );
    // P=1 with nothing after the header.
    let mut bare = [0u8; 12];
    bare.copy_from_slice(&KEY_5_START[..12]);
    bare[0] |= 0x20;
    assert_eq!(
        parse_rtp(&bare),
        Err(RtpError::BadPadding {
            count: 0,
            available: 0
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Telephone-event payload

#[test]
fn every_event_code_maps_to_its_digit() {
    let digits = "0123456789*#ABCD";
    for (code, digit) in digits.chars().enumerate() {
        let code = u8::try_from(code).unwrap();
        assert_eq!(event_to_digit(code), Some(digit));
        assert_eq!(digit_to_event(digit), Some(code));
        let block = TelephoneEvent {
            event: code,
            end: false,
            volume: 0,
            duration: 0,
        };
        assert_eq!(block.digit(), Some(digit));
    }
    for digit in ['a', 'b', 'c', 'd'] {
        assert_eq!(
            digit_to_event(digit).and_then(event_to_digit),
            Some(digit.to_ascii_uppercase())
        );
    }
    // 16 is flash, 32+ tones: not DTMF digits.
    for code in 16..=255u8 {
        assert_eq!(event_to_digit(code), None, "{code}");
    }
    for c in ['E', 'e', 'x', ' ', '+', 'Ω'] {
        assert_eq!(digit_to_event(c), None);
    }
}

#[test]
fn telephone_event_round_trips_and_ignores_the_reserved_bit() {
    let event = TelephoneEvent {
        event: 11,
        end: true,
        volume: 63,
        duration: 0xffff,
    };
    assert_eq!(event.to_bytes(), [11, 0xbf, 0xff, 0xff]);
    assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Some(event));
    // R bit set on the wire: ignored.
    assert_eq!(
        TelephoneEvent::parse(&[3, 0x40 | 7, 0, 80]),
        Some(TelephoneEvent {
            event: 3,
            end: false,
            volume: 7,
            duration: 80
        })
    );
    // Volume is six bits on the wire.
    let loud = TelephoneEvent {
        event: 1,
        end: false,
        volume: 0xff,
        duration: 1,
    };
    assert_eq!(loud.to_bytes()[1], 0x3f);
    // Too short; longer payloads: the first block counts.
    assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    assert_eq!(
        TelephoneEvent::parse(&[7, 0x80, 0, 160, 8, 0, 0, 160]).map(|e| e.event),
        Some(7)
    );
}

// ---------------------------------------------------------------------------------------------
// Receiver

#[test]
fn a_full_key_press_yields_exactly_one_event() {
    let start = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    let ts = 80_000;
    // Start, five updates every 20 ms, then the end packet three times.
    let mut now = start;
    assert_eq!(
        feed(&mut receiver, &te(true, 1, ts, 5, false, 160), now),
        None
    );
    assert_eq!(receiver.poll_timeout(), Some(now + Duration::from_secs(1)));
    for (i, duration) in [320u16, 480, 640, 800, 960].into_iter().enumerate() {
        now += ms(20);
        let seq = 2 + u16::try_from(i).unwrap();
        assert_eq!(
            feed(&mut receiver, &te(false, seq, ts, 5, false, duration), now),
            None
        );
    }
    now += ms(20);
    assert_eq!(
        feed(&mut receiver, &te(false, 7, ts, 5, true, 1120), now),
        Some(rfc4733('5', ms(140)))
    );
    for seq in [8, 9] {
        now += ms(20);
        assert_eq!(
            feed(&mut receiver, &te(false, seq, ts, 5, true, 1120), now),
            None
        );
    }
    assert_eq!(receiver.poll_timeout(), None);
    assert_eq!(receiver.handle_timeout(now + Duration::from_secs(10)), None);
}

#[test]
fn annotated_start_and_end_packets_give_one_event() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    assert_eq!(feed(&mut receiver, &KEY_5_START, now), None);
    assert_eq!(
        feed(&mut receiver, &KEY_5_END, now + ms(80)),
        Some(rfc4733('5', ms(100)))
    );
    assert_eq!(feed(&mut receiver, &KEY_5_END, now + ms(100)), None);
}

#[test]
fn the_same_digit_twice_is_two_events() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    let mut events = Vec::new();
    let mut seq = 0;
    for (i, ts) in [1000u32, 4000].into_iter().enumerate() {
        let at = now + ms(400) * u32::try_from(i).unwrap();
        for (duration, end) in [
            (160, false),
            (320, false),
            (480, true),
            (480, true),
            (480, true),
        ] {
            seq += 1;
            events.extend(feed(
                &mut receiver,
                &te(duration == 160, seq, ts, 1, end, duration),
                at,
            ));
        }
    }
    assert_eq!(events, [rfc4733('1', ms(60)), rfc4733('1', ms(60))]);
}

#[test]
fn a_lost_end_is_emitted_at_the_timeout() {
    let start = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    feed(&mut receiver, &te(true, 10, 500, 9, false, 160), start);
    let last = start + ms(20);
    feed(&mut receiver, &te(false, 11, 500, 9, false, 320), last);
    let deadline = last + Duration::from_secs(1);
    assert_eq!(receiver.poll_timeout(), Some(deadline));
    assert_eq!(receiver.handle_timeout(deadline - ms(1)), None);
    assert_eq!(
        receiver.handle_timeout(deadline),
        Some(rfc4733('9', ms(40)))
    );
    assert_eq!(receiver.poll_timeout(), None);
    // The end packets arriving later are retransmissions of an emitted press.
    assert_eq!(
        feed(
            &mut receiver,
            &te(false, 12, 500, 9, true, 480),
            deadline + ms(5)
        ),
        None
    );
}

#[test]
fn the_end_timeout_is_configurable() {
    let start = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000).with_end_timeout(ms(300));
    feed(&mut receiver, &te(true, 1, 0, 0, false, 160), start);
    assert_eq!(receiver.poll_timeout(), Some(start + ms(300)));
    assert_eq!(
        receiver.handle_timeout(start + ms(300)),
        Some(rfc4733('0', ms(20)))
    );
}

#[test]
fn a_new_timestamp_ends_an_unended_press() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    feed(&mut receiver, &te(true, 1, 1000, 2, false, 160), now);
    feed(
        &mut receiver,
        &te(false, 2, 1000, 2, false, 320),
        now + ms(20),
    );
    // The end of `2` is lost; `3` starts.
    assert_eq!(
        feed(
            &mut receiver,
            &te(true, 3, 2000, 3, false, 160),
            now + ms(200)
        ),
        Some(rfc4733('2', ms(40)))
    );
    assert_eq!(
        feed(
            &mut receiver,
            &te(false, 4, 2000, 3, true, 320),
            now + ms(220)
        ),
        Some(rfc4733('3', ms(40)))
    );
}

#[test]
fn one_packet_can_finish_two_presses() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    feed(&mut receiver, &te(true, 1, 1000, 4, false, 160), now);
    // Everything of the next press but one end packet is lost.
    let at = now + ms(300);
    assert_eq!(
        feed(&mut receiver, &te(false, 9, 3000, 6, true, 640), at),
        Some(rfc4733('4', ms(20)))
    );
    assert_eq!(receiver.poll_timeout(), Some(at));
    assert_eq!(receiver.handle_timeout(at), Some(rfc4733('6', ms(80))));
    assert_eq!(receiver.poll_timeout(), None);
}

#[test]
fn marker_bit_is_informative_only() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    // The first packet (with M) is lost: the press is still recognised by its timestamp.
    assert_eq!(
        feed(&mut receiver, &te(false, 2, 100, 7, false, 320), now),
        None
    );
    // A late, duplicated start packet with M and a smaller duration adds nothing.
    assert_eq!(
        feed(&mut receiver, &te(true, 1, 100, 7, false, 160), now),
        None
    );
    assert_eq!(
        feed(&mut receiver, &te(true, 1, 100, 7, false, 160), now),
        None
    );
    assert_eq!(
        feed(
            &mut receiver,
            &te(false, 3, 100, 7, true, 480),
            now + ms(40)
        ),
        Some(rfc4733('7', ms(60)))
    );
    // A marked packet for the finished press (same timestamp) is not a new press.
    assert_eq!(
        feed(
            &mut receiver,
            &te(true, 4, 100, 7, false, 160),
            now + ms(60)
        ),
        None
    );
    assert_eq!(receiver.poll_timeout(), None);
}

#[test]
fn late_packets_of_an_earlier_press_are_ignored() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    feed(&mut receiver, &te(true, 1, 1000, 1, false, 160), now);
    assert_eq!(
        feed(
            &mut receiver,
            &te(true, 5, 2000, 2, false, 160),
            now + ms(100)
        ),
        Some(rfc4733('1', ms(20)))
    );
    // `1`'s end packet, reordered behind `2`'s start.
    assert_eq!(
        feed(
            &mut receiver,
            &te(false, 4, 1000, 1, true, 480),
            now + ms(101)
        ),
        None
    );
    assert_eq!(
        feed(
            &mut receiver,
            &te(false, 6, 2000, 2, true, 320),
            now + ms(120)
        ),
        Some(rfc4733('2', ms(40)))
    );
}

#[test]
fn timestamps_and_sequence_numbers_wrap() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    let first = 0xffff_ff00;
    let second = 0x0000_0100; // after the 32-bit wrap: newer, not older
    let mut events = Vec::new();
    events.extend(feed(
        &mut receiver,
        &te(true, 0xfffe, first, 8, false, 160),
        now,
    ));
    events.extend(feed(
        &mut receiver,
        &te(false, 0xffff, first, 8, true, 320),
        now,
    ));
    events.extend(feed(
        &mut receiver,
        &te(false, 0x0000, first, 8, true, 320),
        now,
    ));
    events.extend(feed(
        &mut receiver,
        &te(true, 0x0001, second, 8, false, 160),
        now,
    ));
    events.extend(feed(
        &mut receiver,
        &te(false, 0x0002, second, 8, true, 320),
        now,
    ));
    // A packet of the first press after the wrap is older: ignored.
    events.extend(feed(
        &mut receiver,
        &te(false, 0x0003, first, 8, true, 320),
        now,
    ));
    assert_eq!(events, [rfc4733('8', ms(40)), rfc4733('8', ms(40))]);
}

#[test]
fn a_new_ssrc_is_a_new_stream() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    feed(&mut receiver, &te(true, 1, 5000, 1, false, 160), now);
    // Another SSRC (a re-INVITE to another device) with an *older* timestamp.
    let other = rtp(
        true,
        1,
        10,
        0xabcd,
        PT,
        &TelephoneEvent {
            event: 2,
            end: true,
            volume: 0,
            duration: 400,
        }
        .to_bytes(),
    );
    assert_eq!(
        feed(&mut receiver, &other, now + ms(50)),
        Some(rfc4733('1', ms(20)))
    );
    assert_eq!(
        receiver.handle_timeout(now + ms(50)),
        Some(rfc4733('2', ms(50)))
    );
}

#[test]
fn other_payload_types_and_short_payloads_are_ignored() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    // PCMU audio (PT 0) whose first bytes look like an end packet.
    let audio = rtp(false, 1, 0, SSRC, 0, &[5, 0x80, 0, 160, 0xff, 0xff]);
    assert_eq!(feed(&mut receiver, &audio, now), None);
    assert_eq!(receiver.poll_timeout(), None);
    // Right PT, three bytes of payload.
    let short = rtp(false, 2, 0, SSRC, PT, &[5, 0x80, 0]);
    assert_eq!(feed(&mut receiver, &short, now), None);
    assert_eq!(receiver.poll_timeout(), None);
}

#[test]
fn payload_type_can_change() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(96, 8000);
    assert_eq!(receiver.payload_type(), 96);
    receiver.set_payload_type(PT, 16000);
    assert_eq!(
        feed(&mut receiver, &te(true, 1, 0, 3, true, 1600), now),
        Some(rfc4733('3', ms(100)))
    );
}

#[test]
fn non_digit_events_are_not_emitted() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    // Flash (16), then a tone (70).
    assert_eq!(
        feed(&mut receiver, &te(true, 1, 0, 16, false, 160), now),
        None
    );
    assert_eq!(
        feed(&mut receiver, &te(false, 2, 0, 16, true, 800), now),
        None
    );
    assert_eq!(
        feed(&mut receiver, &te(true, 3, 900, 70, false, 160), now),
        None
    );
    assert_eq!(receiver.handle_timeout(now + Duration::from_secs(2)), None);
    assert_eq!(receiver.poll_timeout(), None);
}

#[test]
fn long_presses_join_their_segments() {
    // RFC 4733 §2.5.1.3: past 0xFFFF ticks the sender starts a new segment 0xFFFF later.
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 8000);
    let ts = 1_000;
    assert_eq!(
        feed(&mut receiver, &te(true, 1, ts, 0, false, 160), now),
        None
    );
    assert_eq!(
        feed(&mut receiver, &te(false, 2, ts, 0, false, 0xffff), now),
        None
    );
    let next = ts + 0xffff;
    assert_eq!(
        feed(&mut receiver, &te(false, 3, next, 0, false, 800), now),
        None
    );
    let total = Duration::from_nanos((0xffff_u64 + 8000) * 125_000);
    assert_eq!(
        feed(&mut receiver, &te(false, 4, next, 0, true, 8000), now),
        Some(rfc4733('0', total))
    );
}

#[test]
fn a_clock_rate_of_zero_means_8000() {
    let now = t0();
    let mut receiver = DtmfReceiver::new(PT, 0);
    assert_eq!(
        feed(&mut receiver, &te(true, 1, 0, 5, true, 8000), now),
        Some(rfc4733('5', Duration::from_secs(1)))
    );
}

// ---------------------------------------------------------------------------------------------
// SIP INFO

fn info(digit: char, duration_ms: Option<u64>) -> InfoDtmf {
    InfoDtmf {
        digit,
        duration: duration_ms.map(ms),
    }
}

#[test]
fn dtmf_relay_bodies() {
    let relay = "application/dtmf-relay";
    // Cisco style: CRLF lines.
    assert_eq!(
        parse_info(relay, b"Signal=5\r\nDuration=160\r\n"),
        Ok(info('5', Some(160)))
    );
    // Polycom style: spaces after `=`.
    assert_eq!(
        parse_info(relay, b"Signal= 1\r\nDuration= 250\r\n"),
        Ok(info('1', Some(250)))
    );
    // Yealink style: LF only, no trailing newline.
    assert_eq!(
        parse_info(relay, b"Signal=#\nDuration=100"),
        Ok(info('#', Some(100)))
    );
    // Lower-case keys, spaces on both sides, Duration first, an extra key.
    assert_eq!(
        parse_info(relay, b"duration = 120\nsignal = *\nVolume=10\n"),
        Ok(info('*', Some(120)))
    );
    // Numeric forms of * and #, letters in either case.
    assert_eq!(parse_info(relay, b"Signal=10\r\n"), Ok(info('*', None)));
    assert_eq!(parse_info(relay, b"Signal=11\r\n"), Ok(info('#', None)));
    assert_eq!(parse_info(relay, b"Signal=a\r\n"), Ok(info('A', None)));
    assert_eq!(parse_info(relay, b"Signal=D\r\n"), Ok(info('D', None)));
    // An unusable Duration falls back to the default.
    assert_eq!(
        parse_info(relay, b"Signal=2\r\nDuration=long\r\n"),
        Ok(info('2', None))
    );
}

#[test]
fn dtmf_bodies() {
    let dtmf = "application/dtmf";
    assert_eq!(parse_info(dtmf, b"5"), Ok(info('5', None)));
    assert_eq!(parse_info(dtmf, b"9\r\n"), Ok(info('9', None)));
    assert_eq!(parse_info(dtmf, b"  #  \n"), Ok(info('#', None)));
    assert_eq!(parse_info(dtmf, b"10"), Ok(info('*', None)));
    assert_eq!(parse_info(dtmf, b"11\r\n"), Ok(info('#', None)));
    assert_eq!(parse_info(dtmf, b"b"), Ok(info('B', None)));
    // A dtmf-relay body mislabelled application/dtmf.
    assert_eq!(
        parse_info(dtmf, b"Signal=3\r\nDuration=200\r\n"),
        Ok(info('3', Some(200)))
    );
}

#[test]
fn content_type_is_case_insensitive_and_parameters_are_ignored() {
    for content_type in [
        "Application/DTMF-Relay",
        "application/dtmf-relay; charset=utf-8",
        "  APPLICATION/DTMF-RELAY ;x=y",
    ] {
        assert_eq!(
            parse_info(content_type, b"Signal=4\r\nDuration=160\r\n"),
            Ok(info('4', Some(160))),
            "{content_type}"
        );
    }
    assert_eq!(
        parse_info("APPLICATION/dtmf;charset=us-ascii", b"7"),
        Ok(info('7', None))
    );
}

#[test]
fn unknown_content_type_is_415() {
    for content_type in [
        "text/plain",
        "application/sdp",
        "",
        "application/dtmf-relayx",
    ] {
        let error = parse_info(content_type, b"Signal=5\r\n").unwrap_err();
        assert!(
            matches!(error, DtmfError::UnsupportedContentType(_)),
            "{content_type}"
        );
        assert_eq!(error.sip_status(), 415);
    }
}

#[test]
fn malformed_bodies_are_400() {
    let relay = "application/dtmf-relay";
    let cases: [(&str, &[u8], DtmfError); 6] = [
        (relay, b"Duration=160\r\n", DtmfError::MissingSignal),
        (relay, b"", DtmfError::MissingSignal),
        (relay, b"Signal=E\r\n", DtmfError::InvalidDigit("E".into())),
        (
            relay,
            b"Signal=12\r\n",
            DtmfError::InvalidDigit("12".into()),
        ),
        (
            "application/dtmf",
            b"",
            DtmfError::InvalidDigit(String::new()),
        ),
        (
            "application/dtmf",
            b"55",
            DtmfError::InvalidDigit("55".into()),
        ),
    ];
    for (content_type, body, expected) in cases {
        let error = parse_info(content_type, body).unwrap_err();
        assert_eq!(error, expected);
        assert_eq!(error.sip_status(), 400);
    }
    let long = vec![b' '; 2000];
    assert_eq!(
        parse_info("application/dtmf", &long),
        Err(DtmfError::BodyTooLong(2000))
    );
}

#[test]
fn info_becomes_an_event() {
    let event: DtmfEvent = info('5', Some(160)).into();
    assert_eq!(
        event,
        DtmfEvent {
            digit: '5',
            duration: ms(160),
            source: DtmfSource::SipInfo
        }
    );
    assert_eq!(info('#', None).to_event().duration, DEFAULT_INFO_DURATION);
    assert_eq!(DEFAULT_INFO_DURATION, ms(250));
}

// ---------------------------------------------------------------------------------------------
// De-duplication across sources

fn sip_info(digit: char) -> DtmfEvent {
    DtmfEvent {
        digit,
        duration: ms(250),
        source: DtmfSource::SipInfo,
    }
}

#[test]
fn a_digit_sent_both_ways_is_delivered_once() {
    let now = t0();
    // INFO at key-down, the RFC 4733 event when the key is released 100 ms later.
    let mut dedup = DtmfDeduplicator::new();
    assert!(dedup.accept(&sip_info('5'), now));
    assert!(!dedup.accept(&rfc4733('5', ms(100)), now + ms(150)));

    // RTP first, INFO shortly after.
    let mut dedup = DtmfDeduplicator::new();
    assert!(dedup.accept(&rfc4733('5', ms(100)), now + ms(100)));
    assert!(!dedup.accept(&sip_info('5'), now + ms(180)));
}

#[test]
fn dedup_keeps_real_repeats_and_other_digits() {
    let now = t0();
    let mut dedup = DtmfDeduplicator::new();
    // Same source twice in quick succession: two presses.
    assert!(dedup.accept(&sip_info('1'), now));
    assert!(dedup.accept(&sip_info('1'), now + ms(50)));
    // Another digit from the other source.
    assert!(dedup.accept(&rfc4733('2', ms(50)), now + ms(100)));
    // Same digit, other source, outside the window.
    assert!(dedup.accept(&rfc4733('1', ms(50)), now + ms(800)));
}

#[test]
fn each_event_absorbs_one_copy() {
    let now = t0();
    let mut dedup = DtmfDeduplicator::with_window(ms(200));
    // Two presses of 3, each sent both ways.
    assert!(dedup.accept(&sip_info('3'), now));
    assert!(dedup.accept(&sip_info('3'), now + ms(10)));
    assert!(!dedup.accept(&rfc4733('3', ms(40)), now + ms(50)));
    assert!(!dedup.accept(&rfc4733('3', ms(40)), now + ms(60)));
    // A third RFC 4733 copy finds nothing left to match.
    assert!(dedup.accept(&rfc4733('3', ms(40)), now + ms(70)));
}

#[test]
fn stream_merges_both_sources() {
    let now = t0();
    let mut stream = DtmfStream::new(DtmfReceiver::new(PT, 8000), DtmfDeduplicator::new());
    // `5` by INFO and RTP, `6` by RTP only, `7` by INFO only.
    let mut delivered = Vec::new();
    delivered.extend(
        stream
            .handle_info(
                "application/dtmf-relay",
                b"Signal=5\r\nDuration=100\r\n",
                now,
            )
            .unwrap(),
    );
    delivered.extend(feed_stream(
        &mut stream,
        &te(true, 1, 800, 5, false, 160),
        now + ms(20),
    ));
    delivered.extend(feed_stream(
        &mut stream,
        &te(false, 2, 800, 5, true, 800),
        now + ms(100),
    ));
    delivered.extend(feed_stream(
        &mut stream,
        &te(true, 3, 8800, 6, false, 160),
        now + ms(1000),
    ));
    assert_eq!(stream.poll_timeout(), Some(now + ms(2000)));
    delivered.extend(stream.handle_timeout(now + ms(2000)));
    delivered.extend(
        stream
            .handle_info("application/dtmf", b"7", now + ms(3000))
            .unwrap(),
    );
    let digits: String = delivered.iter().map(|event| event.digit).collect();
    assert_eq!(digits, "567");
    assert_eq!(
        stream
            .handle_info("text/plain", b"7", now)
            .unwrap_err()
            .sip_status(),
        415
    );
    stream.receiver_mut().set_payload_type(100, 8000);
    assert_eq!(stream.receiver_mut().payload_type(), 100);
}

// ---------------------------------------------------------------------------------------------
// Fuzz body

#[test]
fn fuzz_bodies_accept_the_annotated_packets() {
    for packet in [&KEY_5_START[..], &KEY_5_END, &FULL_HEADER, &RTCP_SR, &[]] {
        fuzzing::rtp(packet);
        fuzzing::rtp_at(packet, t0());
    }
    // As a packet sequence: [len][bytes]...
    let mut sequence = vec![16];
    sequence.extend_from_slice(&KEY_5_START);
    sequence.push(16);
    sequence.extend_from_slice(&KEY_5_END);
    fuzzing::rtp(&sequence);
    for body in [
        &b"\x00Signal=5\r\n"[..],
        b"\x015",
        b"\x02x",
        b"\x03\xff\xfe",
        b"",
    ] {
        fuzzing::info(body);
    }
}

// ---------------------------------------------------------------------------------------------
// Properties

/// How one key press reaches the receiver.
#[derive(Clone, Debug)]
struct Press {
    digit: u8,
    /// Timestamp gap from the previous press's timestamp, in ticks.
    gap: u32,
    updates: u16,
    ends: u8,
    lose_start: bool,
}

fn press() -> impl Strategy<Value = Press> {
    (0u8..16, 1_000u32..60_000, 0u16..6, 0u8..=3, any::<bool>()).prop_map(
        |(digit, gap, updates, ends, lose_start)| Press {
            digit,
            gap,
            updates,
            ends,
            lose_start,
        },
    )
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_rtp(&data);
        fuzzing::rtp_at(&data, t0());
        fuzzing::info(&data);
    }

    #[test]
    fn random_rtp_headers_never_panic(
        first in any::<u8>(),
        marker in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        seq in any::<u16>(),
        ts in any::<u32>(),
    ) {
        let mut packet = rtp(marker, seq, ts, SSRC, PT, &payload);
        packet[0] = 0x80 | (first & 0x3f);
        if let Ok((header, payload)) = parse_rtp(&packet) {
            let mut receiver = DtmfReceiver::new(PT, 8000);
            let _ = receiver.handle_rtp(&header, payload, t0());
        }
    }

    #[test]
    fn pressed_digits_come_out_in_order(
        presses in proptest::collection::vec(press(), 1..12),
        first_ts in any::<u32>(),
        first_seq in any::<u16>(),
    ) {
        let start = t0();
        let mut receiver = DtmfReceiver::new(PT, 8000);
        let mut now = start;
        let mut seq = first_seq;
        let mut ts = first_ts;
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for press in &presses {
            ts = ts.wrapping_add(press.gap);
            let mut packets = Vec::new();
            let mut duration = 160u16;
            packets.push((true, false, duration));
            for _ in 0..press.updates {
                duration += 160;
                packets.push((false, false, duration));
            }
            for _ in 0..press.ends {
                packets.push((false, true, duration + 160));
            }
            if press.lose_start && packets.len() > 1 {
                packets.remove(0);
            }
            let final_ticks = u64::from(packets.last().map_or(160, |p| p.2));
            expected.push((
                event_to_digit(press.digit).unwrap(),
                Duration::from_nanos(final_ticks * 125_000),
            ));
            for (marker, end, duration) in packets {
                seq = seq.wrapping_add(1);
                now += ms(20);
                let packet = te(marker, seq, ts, press.digit, end, duration);
                got.extend(feed(&mut receiver, &packet, now));
                while let Some(event) = receiver.poll_event() {
                    got.push(event);
                }
            }
            // A pause between presses, sometimes longer than the end timeout.
            now += ms(u64::from(press.gap % 1500));
            if receiver.poll_timeout().is_some_and(|deadline| deadline <= now) {
                got.extend(receiver.handle_timeout(now));
            }
        }
        got.extend(receiver.handle_timeout(now + Duration::from_secs(5)));
        prop_assert_eq!(receiver.poll_timeout(), None);
        let got: Vec<(char, Duration)> = got
            .iter()
            .map(|event| {
                assert_eq!(event.source, DtmfSource::Rfc4733);
                (event.digit, event.duration)
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}
