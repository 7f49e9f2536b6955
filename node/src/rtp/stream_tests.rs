//! The stream core driven with fake time: loss, probation, payload types, keyframe requests,
//! the RTCP it writes (parsed back) and the RTCP it reads.

use std::time::{Duration, Instant, SystemTime};

use super::feedback::KeyframeMessage;
use super::header::tests::rtp;
use super::rtcp::{FirEntry, ReportBlock, RtcpPacket, SenderInfo, parse_compound, write_compound};
use super::stream::{Dropped, REORDER_WINDOW, RtpStream, StreamConfig};

const THEIRS: u32 = 0x1111_1111;
const OURS: u32 = 0x2222_2222;
const H264: u8 = 96;

fn video(message: KeyframeMessage, t0: Instant) -> RtpStream {
    RtpStream::new(
        StreamConfig::video(90_000, vec![H264], message, OURS, "room@tcn"),
        t0,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    )
}

fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

/// Runs the core's timer at `now` and returns every RTCP packet it sends.
fn drive(stream: &mut RtpStream, now: Instant) -> Vec<RtcpPacket> {
    stream.handle_timeout(now);
    let mut out = Vec::new();
    while let Some(bytes) = stream.poll_rtcp(now) {
        out.extend(parse_compound(&bytes).expect("the core writes valid RTCP"));
    }
    out
}

fn feedback(packets: &[RtcpPacket]) -> Vec<RtcpPacket> {
    packets
        .iter()
        .filter(|p| matches!(p, RtcpPacket::Pli { .. } | RtcpPacket::Fir { .. }))
        .cloned()
        .collect()
}

/// Video packets `seqs` of THEIRS, one every 33 ms from `from_ms`; the RTCP sent meanwhile.
fn send(stream: &mut RtpStream, t0: Instant, from_ms: u64, seqs: &[u16]) -> Vec<RtcpPacket> {
    let mut rtcp = Vec::new();
    for (i, &seq) in seqs.iter().enumerate() {
        let now = at(t0, from_ms + 33 * i as u64);
        rtcp.extend(drive(stream, now));
        let ts = 2970 * u32::from(seq);
        stream
            .receive_rtp(&rtp(H264, seq, ts, THEIRS, 1000), now)
            .unwrap();
        rtcp.extend(drive(stream, now));
    }
    rtcp
}

#[test]
fn a_hole_left_open_for_the_reorder_window_sends_one_pli() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    let seqs: Vec<u16> = (1..=10).chain(12..=13).collect();
    let before = send(&mut s, t0, 0, &seqs);
    assert!(feedback(&before).is_empty(), "{before:?}");
    // Packet 12 arrived at 330 ms: the hole at 11 is loss from 380 ms.
    let gap_seen = at(t0, 330);
    assert!(
        feedback(&drive(
            &mut s,
            gap_seen + REORDER_WINDOW - Duration::from_millis(1)
        ))
        .is_empty()
    );
    let sent = drive(&mut s, gap_seen + REORDER_WINDOW);
    assert_eq!(
        feedback(&sent),
        [RtcpPacket::Pli {
            sender: OURS,
            media: THEIRS
        }]
    );
    // The feedback compound starts with a report and carries our CNAME.
    assert!(matches!(
        sent[0],
        RtcpPacket::ReceiverReport { ssrc: OURS, .. }
    ));
    assert_eq!(
        sent[1],
        RtcpPacket::SourceDescription(vec![(OURS, Some(b"room@tcn".to_vec()))])
    );
    // Nothing more for the same hole.
    assert!(feedback(&drive(&mut s, at(t0, 2000))).is_empty());
    let f = s.figures(at(t0, 2000));
    assert_eq!((f.lost, f.keyframe_requests.sent_pli), (1, 1));
}

#[test]
fn a_hole_filled_in_time_asks_for_nothing() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    let mut rtcp = send(&mut s, t0, 0, &[1, 2, 4, 3, 5]);
    rtcp.extend(drive(&mut s, at(t0, 3000)));
    assert!(feedback(&rtcp).is_empty(), "{rtcp:?}");
    assert_eq!(s.figures(at(t0, 3000)).lost, 0);
}

#[test]
fn only_ccm_fir_gets_numbered_firs() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Fir, t0);
    let mut rtcp = send(&mut s, t0, 0, &[1, 2, 4]);
    rtcp.extend(send(&mut s, t0, 1000, &[5, 7]));
    rtcp.extend(drive(&mut s, at(t0, 2000)));
    let entry = |sequence| RtcpPacket::Fir {
        sender: OURS,
        entries: vec![FirEntry {
            ssrc: THEIRS,
            sequence,
        }],
    };
    assert_eq!(feedback(&rtcp), [entry(0), entry(1)]);
}

#[test]
fn a_new_ssrc_passes_probation_then_restarts_the_figures_and_asks_for_a_keyframe() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    send(&mut s, t0, 0, &[1, 2, 3]);
    let other = 0x3333_3333;
    let now = at(t0, 100);
    let pkt = |seq, ssrc| rtp(H264, seq, 0, ssrc, 100);
    assert_eq!(
        s.receive_rtp(&pkt(500, other), now),
        Err(Dropped::Probation(other))
    );
    // Not in sequence: probation starts again.
    assert_eq!(
        s.receive_rtp(&pkt(502, other), now),
        Err(Dropped::Probation(other))
    );
    // The old source is still the one followed meanwhile.
    assert_eq!(s.receive_rtp(&pkt(4, THEIRS), now), Ok(()));
    assert!(feedback(&drive(&mut s, now)).is_empty());
    assert_eq!(s.receive_rtp(&pkt(503, other), now), Ok(()));
    let f = s.figures(now);
    assert_eq!(
        (f.ssrc_in, f.ssrc_changes, f.dropped.ssrc_probation, f.lost),
        (Some(other), 1, 2, 0)
    );
    assert_eq!(
        feedback(&drive(&mut s, now)),
        [RtcpPacket::Pli {
            sender: OURS,
            media: other
        }]
    );
    // Now the old one is the stranger.
    assert_eq!(
        s.receive_rtp(&pkt(5, THEIRS), now),
        Err(Dropped::Probation(THEIRS))
    );
}

#[test]
fn payload_types_outside_the_set_are_dropped_without_counting_as_loss() {
    let t0 = Instant::now();
    let mut s = RtpStream::new(
        StreamConfig::audio(8000, vec![0, 101], OURS, "c"),
        t0,
        SystemTime::now(),
    );
    assert_eq!(s.receive_rtp(&rtp(0, 1, 0, THEIRS, 160), t0), Ok(()));
    assert_eq!(
        s.receive_rtp(&rtp(8, 2, 160, THEIRS, 160), t0),
        Err(Dropped::PayloadType(8))
    );
    assert_eq!(s.receive_rtp(&rtp(101, 3, 320, THEIRS, 4), t0), Ok(()));
    assert_eq!(s.receive_rtp(&rtp(0, 4, 480, THEIRS, 160), t0), Ok(()));
    // A first packet of a wrong type does not start a source either.
    assert_eq!(
        s.receive_rtp(&rtp(13, 1, 0, 0x4444, 1), t0),
        Err(Dropped::PayloadType(13))
    );
    assert_eq!(
        s.receive_rtp(&[0x80, 0], t0).unwrap_err().label(),
        "malformed"
    );
    let f = s.figures(t0);
    assert_eq!(
        (
            f.packets_in,
            f.lost,
            f.dropped.payload_type,
            f.dropped.malformed
        ),
        (3, 0, 2, 1)
    );
    // Audio never asks for a keyframe.
    s.request_keyframe(t0);
    assert!(feedback(&drive(&mut s, at(t0, 10_000))).is_empty());
}

#[test]
fn a_hundred_decoder_requests_in_a_second_send_at_most_two() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    s.request_keyframe(t0);
    assert!(feedback(&drive(&mut s, t0)).is_empty(), "no source yet");
    send(&mut s, t0, 0, &[1]);
    let mut sent = 0;
    for i in 0..100 {
        let now = at(t0, 10 + 10 * i);
        s.request_keyframe(now);
        sent += feedback(&drive(&mut s, now)).len();
    }
    assert!(sent <= 2, "{sent} sent");
    assert_eq!(sent, 2);
    let k = s.figures(at(t0, 1000)).keyframe_requests;
    assert_eq!((k.sent_pli, k.dropped), (2, 99));
}

#[test]
fn reports_parse_back_rr_then_sr_with_what_was_sent() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    // 1, 2, 4: one lost of four expected.
    send(&mut s, t0, 0, &[1, 2, 4]);
    let now = at(t0, 1000);
    s.handle_timeout(now);
    let rr = loop {
        // Past the first report time, whatever the randomisation gave.
        let report = s.poll_rtcp(now).map(|b| parse_compound(&b).unwrap());
        if let Some(packets) = report
            && let Some(rr @ RtcpPacket::ReceiverReport { .. }) = packets.first()
        {
            break rr.clone();
        }
    };
    let RtcpPacket::ReceiverReport { ssrc, reports } = rr else {
        unreachable!()
    };
    assert_eq!(ssrc, OURS);
    assert_eq!(
        (
            reports[0].ssrc,
            reports[0].fraction_lost,
            reports[0].cumulative_lost
        ),
        (THEIRS, 64, 1)
    );
    assert_eq!(reports[0].extended_highest, 4);

    // We send two packets of our own SSRC; the next report is an SR.
    let ours = 0x5555_5555;
    s.sent_rtp(&rtp(H264, 10, 9000, ours, 1000), at(t0, 1100));
    s.sent_rtp(&rtp(H264, 11, 12_000, ours, 500), at(t0, 1200));
    let later = at(t0, 4000);
    let sr = parse_compound(&s.poll_rtcp(later).expect("a report is due")).unwrap();
    let RtcpPacket::SenderReport {
        ssrc,
        info,
        reports,
    } = &sr[0]
    else {
        panic!("{sr:?}")
    };
    assert_eq!(*ssrc, ours);
    // 2.8 s after the last packet: 12000 + 2.8 × 90000.
    let ntp_secs = (1_700_000_000 + 2_208_988_800 + 4) << 32;
    assert_eq!(
        *info,
        SenderInfo {
            ntp: ntp_secs,
            rtp_timestamp: 12_000 + 252_000,
            packets: 2,
            octets: 1500
        }
    );
    assert_eq!(reports[0].fraction_lost, 0, "no new loss in this interval");
    assert_eq!(
        sr[1],
        RtcpPacket::SourceDescription(vec![(ours, Some(b"room@tcn".to_vec()))])
    );
    let f = s.figures(later);
    assert_eq!((f.packets_out, f.bytes_out, f.ssrc_out), (2, 1524, ours));
}

#[test]
fn the_room_systems_rtcp_is_read() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    let report = RtcpPacket::ReceiverReport {
        ssrc: THEIRS,
        reports: vec![ReportBlock {
            ssrc: OURS,
            fraction_lost: 128,
            cumulative_lost: 7,
            jitter: 900,
            ..ReportBlock::default()
        }],
    };
    let pli = RtcpPacket::Pli {
        sender: THEIRS,
        media: OURS,
    };
    let got = s.receive_rtcp(&write_compound(&[report, pli]), t0).unwrap();
    assert_eq!(got.keyframe_requests, 1);
    let fir = |sequence| {
        write_compound(&[RtcpPacket::Fir {
            sender: THEIRS,
            entries: vec![FirEntry {
                ssrc: OURS,
                sequence,
            }],
        }])
    };
    assert_eq!(s.receive_rtcp(&fir(3), t0).unwrap().keyframe_requests, 1);
    assert_eq!(s.receive_rtcp(&fir(3), t0).unwrap().keyframe_requests, 0);
    assert!(s.receive_rtcp(&[0x81, 206, 0, 9], t0).is_err());
    let f = s.figures(t0);
    let remote = f.remote.unwrap();
    assert_eq!((remote.fraction_lost, remote.cumulative_lost), (0.5, 7));
    assert!((remote.jitter_ms - 10.0).abs() < 1e-9);
    assert_eq!(
        (
            f.keyframe_requests.received_pli,
            f.keyframe_requests.received_fir,
            f.rtcp_received,
            f.rtcp_errors
        ),
        (1, 1, 3, 1)
    );
}

#[test]
fn regular_reports_keep_the_minimum_interval_randomised() {
    let t0 = Instant::now();
    let mut s = video(KeyframeMessage::Pli, t0);
    let mut times = Vec::new();
    let mut now = t0;
    while now < at(t0, 20_000) {
        if s.poll_rtcp(now).is_some() {
            times.push(now.duration_since(t0).as_millis() as u64);
        }
        now += Duration::from_millis(10);
    }
    assert!((250..=760).contains(&times[0]), "{times:?}");
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!((500..=1510).contains(&gap), "{times:?}");
    }
    assert!(times.len() >= 13, "{times:?}");
}
