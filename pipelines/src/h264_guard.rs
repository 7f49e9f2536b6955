//! The gate in front of the uplink's H.264 depayloader: what a room system sends is checked
//! against RFC 6184 before GStreamer sees it, and a packet that could only be wrong is
//! dropped (and counted by the caller) instead of reaching `rtph264depay`.
//!
//! Why: `rtph264depay` 1.22 posts a bus **error** for NAL unit types 25, 26, 27 and 29
//! (STAP-B, MTAP16, MTAP24, FU-B: the interleaved mode, never negotiated here) — "NAL unit type
//! %d not supported yet" — and an error on the bus ends the Meet leg, so one garbage packet
//! from a broken room system would end its call. Everything else that is malformed it only
//! warns about; those packets are dropped here too, since they carry nothing a decoder can use
//! and would each cost a warning.
//!
//! What passes (packetization modes 0 and 1, RFC 6184 §5.2–5.8):
//! - a single NAL unit, types 1..=23, with `forbidden_zero_bit` 0;
//! - STAP-A (24): one or more units, each with a 16-bit size that fits, together filling the
//!   payload exactly, each unit a type 1..=23 NAL with `forbidden_zero_bit` 0;
//! - FU-A (28): an indicator, a header whose start and end bits are not both set and whose
//!   type is 1..=23, and at least one byte of fragment.
//!
//! Sans-IO and allocation-free; the fuzz target `h264_guard` runs it on arbitrary bytes.

use crate::downlink::rtp::RtpPacket;

/// Why a packet was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H264Refusal {
    /// Not an RTP version-2 packet, or its header lengths overrun it.
    NotRtp,
    /// No payload.
    Empty,
    /// `forbidden_zero_bit` set (RFC 6184 §5.3: the NAL unit is damaged).
    ForbiddenBit,
    /// NAL unit type 0, 30 or 31: undefined in RFC 6184 (Table 1).
    Undefined(u8),
    /// STAP-B, MTAP16, MTAP24 or FU-B: interleaved mode (2) only, which is never negotiated.
    Interleaved(u8),
    /// A STAP-A whose units do not fill it exactly, or that holds a unit that is not a NAL.
    BadAggregate,
    /// An FU-A with no fragment, both start and end bits, or a type outside 1..=23.
    BadFragment,
}

impl H264Refusal {
    /// A short label for counters and logs.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotRtp => "not_rtp",
            Self::Empty => "empty",
            Self::ForbiddenBit => "forbidden_bit",
            Self::Undefined(_) => "undefined_type",
            Self::Interleaved(_) => "interleaved_type",
            Self::BadAggregate => "bad_stap_a",
            Self::BadFragment => "bad_fu_a",
        }
    }
}

const FORBIDDEN: u8 = 0x80;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;

/// Checks one H.264 RTP packet (header included, SRTP already removed).
pub fn check_h264_rtp(packet: &[u8]) -> Result<(), H264Refusal> {
    let rtp = RtpPacket::parse(packet).ok_or(H264Refusal::NotRtp)?;
    check_h264_payload(rtp.payload)
}

/// Checks an H.264 RTP payload (RFC 6184 §5.2).
pub fn check_h264_payload(payload: &[u8]) -> Result<(), H264Refusal> {
    let first = *payload.first().ok_or(H264Refusal::Empty)?;
    if first & FORBIDDEN != 0 {
        return Err(H264Refusal::ForbiddenBit);
    }
    match first & 0x1f {
        1..=23 => Ok(()),
        STAP_A => check_stap_a(&payload[1..]),
        FU_A => check_fu_a(&payload[1..]),
        kind @ (25 | 26 | 27 | 29) => Err(H264Refusal::Interleaved(kind)),
        kind => Err(H264Refusal::Undefined(kind)),
    }
}

/// The units of a STAP-A after its NAL header byte.
fn check_stap_a(mut units: &[u8]) -> Result<(), H264Refusal> {
    if units.is_empty() {
        return Err(H264Refusal::BadAggregate);
    }
    while !units.is_empty() {
        let [high, low, rest @ ..] = units else {
            return Err(H264Refusal::BadAggregate);
        };
        let size = usize::from(u16::from_be_bytes([*high, *low]));
        let unit = rest.get(..size).ok_or(H264Refusal::BadAggregate)?;
        let header = *unit.first().ok_or(H264Refusal::BadAggregate)?;
        if header & FORBIDDEN != 0 || !(1..=23).contains(&(header & 0x1f)) {
            return Err(H264Refusal::BadAggregate);
        }
        units = &rest[size..];
    }
    Ok(())
}

/// An FU-A after its indicator byte: the FU header, then the fragment.
fn check_fu_a(fragment: &[u8]) -> Result<(), H264Refusal> {
    let [header, data @ ..] = fragment else {
        return Err(H264Refusal::BadFragment);
    };
    let (start, end) = (header & 0x80 != 0, header & 0x40 != 0);
    if data.is_empty() || (start && end) || !(1..=23).contains(&(header & 0x1f)) {
        return Err(H264Refusal::BadFragment);
    }
    Ok(())
}

/// Fuzzing entry point: any bytes, checked as a packet and as a payload. A packet that passes
/// must have a payload that passes on its own, and a refusal is always one of the labels.
#[doc(hidden)]
pub fn fuzz(data: &[u8]) {
    if check_h264_rtp(data).is_ok() {
        let payload = RtpPacket::parse(data)
            .map(|p| p.payload)
            .unwrap_or_default();
        assert!(check_h264_payload(payload).is_ok());
    }
    if let Err(refusal) = check_h264_payload(data) {
        assert!(!refusal.label().is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtp(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn single_nal_units_stap_a_and_fu_a_pass() {
        assert_eq!(check_h264_rtp(&rtp(&[0x65, 0x88, 0x84])), Ok(()));
        assert_eq!(check_h264_rtp(&rtp(&[0x41, 0x9a])), Ok(()));
        // STAP-A with an SPS (2 bytes) and a PPS (1 byte)
        let stap = [0x78, 0, 2, 0x67, 0x42, 0, 1, 0x68];
        assert_eq!(check_h264_rtp(&rtp(&stap)), Ok(()));
        // FU-A start, middle and end of an IDR slice
        for fu in [0x85, 0x05, 0x45] {
            assert_eq!(check_h264_rtp(&rtp(&[0x7c, fu, 1, 2])), Ok(()));
        }
    }

    #[test]
    fn what_would_error_or_warn_in_the_depayloader_is_refused() {
        for kind in [25u8, 26, 27, 29] {
            assert_eq!(
                check_h264_payload(&[0x60 | kind, 0, 0]),
                Err(H264Refusal::Interleaved(kind))
            );
        }
        for kind in [0u8, 30, 31] {
            assert_eq!(
                check_h264_payload(&[0x60 | kind, 0]),
                Err(H264Refusal::Undefined(kind))
            );
        }
        assert_eq!(
            check_h264_payload(&[0xe5, 0]),
            Err(H264Refusal::ForbiddenBit)
        );
        assert_eq!(check_h264_payload(&[]), Err(H264Refusal::Empty));
        assert_eq!(check_h264_rtp(&[0x80, 96, 0]), Err(H264Refusal::NotRtp));
    }

    #[test]
    fn malformed_aggregates_and_fragments_are_refused() {
        // a unit size past the end; a trailing byte; a zero-size unit; an inner FU-A
        for stap in [
            &[0x78, 0, 9, 0x67][..],
            &[0x78, 0, 1, 0x67, 0][..],
            &[0x78, 0, 0][..],
            &[0x78, 0, 2, 0x7c, 0x85][..],
            &[0x78][..],
        ] {
            assert_eq!(check_h264_payload(stap), Err(H264Refusal::BadAggregate));
        }
        // no fragment data; start and end together; type 0 inside
        for fu in [
            &[0x7c, 0x85][..],
            &[0x7c, 0xc5, 1][..],
            &[0x7c, 0x80, 1][..],
        ] {
            assert_eq!(check_h264_payload(fu), Err(H264Refusal::BadFragment));
        }
    }

    #[test]
    fn the_fuzz_entry_holds_on_simple_inputs() {
        for data in [
            &[][..],
            &[0x80],
            &rtp(&[0x78, 0, 1, 0x67]),
            &rtp(&[0x7c, 0x85, 1]),
        ] {
            fuzz(data);
        }
    }
}
