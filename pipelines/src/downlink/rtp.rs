//! Just enough RTP (RFC 3550) and H.264 payload (RFC 6184) reading to check and count what the
//! encoder sends: one packet at a time, no copies.

/// A parsed RTP packet borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit (last packet of a video frame).
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// The payload, after CSRCs, header extension and padding are taken off.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses `bytes` as an RTP version-2 packet; `None` when it is not one.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len() < 12 || bytes[0] >> 6 != 2 {
            return None;
        }
        let csrcs = usize::from(bytes[0] & 0x0f);
        let mut start = 12 + 4 * csrcs;
        if bytes[0] & 0x10 != 0 {
            let ext = bytes.get(start + 2..start + 4)?;
            start += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
        }
        let mut end = bytes.len();
        if bytes[0] & 0x20 != 0 {
            end = end.checked_sub(usize::from(*bytes.last()?))?;
        }
        let payload = bytes.get(start..end)?;
        Some(Self {
            payload_type: bytes[1] & 0x7f,
            marker: bytes[1] & 0x80 != 0,
            sequence: u16::from_be_bytes([bytes[2], bytes[3]]),
            timestamp: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            ssrc: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
            payload,
        })
    }
}

/// NAL unit type of an IDR slice.
pub const NAL_IDR: u8 = 5;
/// RTP payload type STAP-A (aggregate).
pub const NAL_STAP_A: u8 = 24;
/// RTP payload type FU-A (fragment).
pub const NAL_FU_A: u8 = 28;

/// The H.264 NAL unit type of an RTP payload's first byte (1..=23 a single NAL unit, 24 STAP-A,
/// 28 FU-A, …).
pub fn h264_payload_type(payload: &[u8]) -> Option<u8> {
    payload.first().map(|b| b & 0x1f)
}

/// Whether an H.264 RTP payload carries (the start of) an IDR slice, in any packetization.
pub fn h264_starts_idr(payload: &[u8]) -> bool {
    match h264_payload_type(payload) {
        Some(NAL_IDR) => true,
        Some(NAL_FU_A) => payload
            .get(1)
            .is_some_and(|fu| fu & 0x80 != 0 && fu & 0x1f == NAL_IDR),
        Some(NAL_STAP_A) => {
            let mut rest = payload.get(1..).unwrap_or_default();
            while rest.len() > 2 {
                let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                if rest.get(2).is_some_and(|b| b & 0x1f == NAL_IDR) {
                    return true;
                }
                rest = rest.get(2 + len..).unwrap_or_default();
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_payload() {
        let mut p = vec![0x80, 0x80 | 96, 0, 7, 0, 0, 0x0b, 0xb8, 0, 0, 0, 42];
        p.extend_from_slice(&[0x65, 1, 2]);
        let r = RtpPacket::parse(&p).unwrap();
        assert!(r.marker);
        assert_eq!(
            (r.payload_type, r.sequence, r.timestamp, r.ssrc),
            (96, 7, 3000, 42)
        );
        assert_eq!(r.payload, &[0x65, 1, 2]);
        assert!(h264_starts_idr(r.payload));
        assert!(RtpPacket::parse(&p[..11]).is_none());
    }

    #[test]
    fn idr_in_fu_a_and_stap_a() {
        assert!(h264_starts_idr(&[0x7c, 0x85, 0]));
        assert!(!h264_starts_idr(&[0x7c, 0x05, 0]));
        assert!(h264_starts_idr(&[0x78, 0, 1, 0x67, 0, 1, 0x65]));
        assert!(!h264_starts_idr(&[0x78, 0, 1, 0x67, 0, 1, 0x68]));
        assert!(!h264_starts_idr(&[0x41, 0]));
    }
}
