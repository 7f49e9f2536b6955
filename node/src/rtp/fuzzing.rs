//! Fuzz bodies of the RTP/RTCP cores, called by `fuzz/fuzz_targets/{rtp_receive,rtcp_compound}.rs`
//! and replayed over their seed corpora by `node/tests/fuzz_corpus.rs`-style tests
//! (`node/tests/rtp_fuzz_corpus.rs`).

use std::time::{Duration, Instant, SystemTime};

use super::feedback::{KEYFRAME_REQUEST_INTERVAL, KeyframeMessage};
use super::rtcp::{RtcpPacket, parse_compound, write_compound};
use super::stream::{RtpStream, StreamConfig};

/// A sequence of datagrams with fuzzed arrival times through one stream's core.
///
/// Layout: byte 0 picks the stream (bit 0: video, else audio; bit 1: FIR instead of PLI),
/// byte 1 is the negotiated payload type (byte 1 + 1 is also allowed, as a telephone-event
/// type would be). Then records of a flag byte, a delay byte (milliseconds since the previous
/// record), a big-endian 16-bit length and that many bytes (fewer at the end). Flags: bit 0
/// hands the bytes to `receive_rtcp`, bit 1 to `sent_rtp`, else `receive_rtp`; bit 2 also asks
/// for a keyframe; bit 3 multiplies the delay by 100.
///
/// Checked after every record: nothing panics; every RTCP the core writes parses and names
/// the followed source; the loss never exceeds what was expected; the fraction lost is within
/// [0, 1]; the jitter is finite; every packet is either passed on or counted as dropped; and
/// no more keyframe requests went out than the 500 ms limit allows.
pub fn rtp_receive(data: &[u8]) {
    let Some((&[kind, pt], mut rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let t0 = Instant::now();
    let pts = vec![pt & 0x7f, pt.wrapping_add(1) & 0x7f];
    let config = if kind & 1 == 1 {
        let message = if kind & 2 == 2 {
            KeyframeMessage::Fir
        } else {
            KeyframeMessage::Pli
        };
        StreamConfig::video(90_000, pts, message, 0x1234_5678, "fuzz@tcn")
    } else {
        StreamConfig::audio(8000, pts, 0x1234_5678, "fuzz@tcn")
    };
    let mut stream = RtpStream::new(config, t0, SystemTime::UNIX_EPOCH);
    let mut now = t0;
    let mut fed = 0u64;
    while let Some((&[flags, delay, high, low], tail)) = rest.split_first_chunk::<4>() {
        let len = usize::from(u16::from_be_bytes([high, low])).min(tail.len());
        let (bytes, after) = tail.split_at(len);
        rest = after;
        let scale = if flags & 8 == 8 { 100 } else { 1 };
        now += Duration::from_millis(u64::from(delay) * scale);
        if flags & 1 == 1 {
            let _ = stream.receive_rtcp(bytes, now);
        } else if flags & 2 == 2 {
            stream.sent_rtp(bytes, now);
        } else {
            fed += 1;
            let _ = stream.receive_rtp(bytes, now);
        }
        if flags & 4 == 4 {
            stream.request_keyframe(now);
        }
        stream.handle_timeout(now);
        let ssrc_in = stream.figures(now).ssrc_in;
        for _ in 0..4 {
            let Some(out) = stream.poll_rtcp(now) else {
                break;
            };
            let packets = parse_compound(&out).expect("the core writes valid RTCP");
            for packet in packets {
                if let RtcpPacket::ReceiverReport { reports, .. }
                | RtcpPacket::SenderReport { reports, .. } = packet
                {
                    assert!(reports.len() <= 1);
                    if let Some(block) = reports.first() {
                        assert_eq!(Some(block.ssrc), ssrc_in);
                    }
                }
            }
        }
        let f = stream.figures(now);
        assert!(f.lost <= f.expected as i64, "{f:?}");
        assert!((0.0..=1.0).contains(&f.fraction_lost), "{f:?}");
        assert!(f.jitter_ms.is_finite() && f.jitter_ms >= 0.0, "{f:?}");
        let d = f.dropped;
        assert_eq!(
            f.packets_in + d.malformed + d.payload_type + d.ssrc_probation + d.sequence_jump,
            fed
        );
        let k = f.keyframe_requests;
        let elapsed = now.duration_since(t0).as_millis() as u64;
        let allowed = 1 + elapsed / KEYFRAME_REQUEST_INTERVAL.as_millis() as u64;
        assert!(k.sent_pli + k.sent_fir <= allowed, "{k:?} in {elapsed} ms");
    }
}

/// Compound RTCP of any shape: the parser answers packets or an error, never panics; what it
/// reads writes back to bytes that read back the same; and the stream core takes it.
pub fn rtcp_compound(data: &[u8]) {
    let t0 = Instant::now();
    let mut stream = RtpStream::new(
        StreamConfig::video(90_000, vec![96], KeyframeMessage::Pli, 1, "fuzz@tcn"),
        t0,
        SystemTime::UNIX_EPOCH,
    );
    let _ = stream.receive_rtcp(data, t0);
    if let Ok(packets) = parse_compound(data) {
        let written = write_compound(&packets);
        let again = parse_compound(&written)
            .unwrap_or_else(|e| panic!("written RTCP does not parse: {e}: {written:02x?}"));
        assert_eq!(again, packets, "write/parse round trip changed the packets");
    }
}
