//! The fixed RTP header (RFC 3550 §5.1), read without trusting a single length: every field
//! that says how long something is (the CSRC count, the header extension, the padding) is
//! checked against the datagram before it is used.

/// Why a datagram is not an RTP packet we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtpHeaderError {
    /// Shorter than the 12-byte fixed header.
    #[error("shorter than the 12-byte RTP header ({0} bytes)")]
    TooShort(usize),
    /// The version field is not 2.
    #[error("RTP version {0}, not 2")]
    Version(u8),
    /// The CSRC list runs past the end of the datagram.
    #[error("the CSRC list runs past the end")]
    CsrcOverrun,
    /// The header extension runs past the end of the datagram.
    #[error("the header extension runs past the end")]
    ExtensionOverrun,
    /// The padding count is 0 or larger than what follows the header.
    #[error("bad padding count {0}")]
    Padding(u8),
}

/// The fields of an RTP header that the receive statistics and the checks need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpHeader {
    /// The marker bit.
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
    /// Bytes before the payload: fixed header, CSRCs and extension.
    pub header_len: usize,
    /// Bytes of payload, padding excluded.
    pub payload_len: usize,
}

impl RtpHeader {
    /// Reads the header of `packet`, checking every length it declares.
    pub fn parse(packet: &[u8]) -> Result<Self, RtpHeaderError> {
        let Some(fixed) = packet.first_chunk::<12>() else {
            return Err(RtpHeaderError::TooShort(packet.len()));
        };
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(RtpHeaderError::Version(version));
        }
        let padding = fixed[0] & 0x20 != 0;
        let extension = fixed[0] & 0x10 != 0;
        let csrc_count = usize::from(fixed[0] & 0x0f);
        let mut header_len = 12 + 4 * csrc_count;
        if header_len > packet.len() {
            return Err(RtpHeaderError::CsrcOverrun);
        }
        if extension {
            // 16 bits of profile, 16 bits of length in 32-bit words (RFC 3550 §5.3.1).
            let Some(ext) = packet.get(header_len..header_len + 4) else {
                return Err(RtpHeaderError::ExtensionOverrun);
            };
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            header_len += 4 + 4 * words;
            if header_len > packet.len() {
                return Err(RtpHeaderError::ExtensionOverrun);
            }
        }
        let mut payload_len = packet.len() - header_len;
        if padding {
            // The last byte counts the padding, itself included (RFC 3550 §5.1).
            let count = packet[packet.len() - 1];
            if count == 0 || usize::from(count) > payload_len {
                return Err(RtpHeaderError::Padding(count));
            }
            payload_len -= usize::from(count);
        }
        Ok(Self {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7f,
            sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            header_len,
            payload_len,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plain RTP packet: no CSRC, no extension, no padding.
    pub(crate) fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: usize) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p[4..8].copy_from_slice(&ts.to_be_bytes());
        p[8..12].copy_from_slice(&ssrc.to_be_bytes());
        p.resize(12 + payload, 0xab);
        p
    }

    #[test]
    fn a_plain_header_is_read() {
        let mut p = rtp(96, 0x1234, 0xdead_beef, 0x0102_0304, 100);
        p[1] |= 0x80;
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!(
            h,
            RtpHeader {
                marker: true,
                payload_type: 96,
                sequence: 0x1234,
                timestamp: 0xdead_beef,
                ssrc: 0x0102_0304,
                header_len: 12,
                payload_len: 100,
            }
        );
    }

    #[test]
    fn csrcs_extension_and_padding_are_accounted_for() {
        // 2 CSRCs, a one-word extension, 3 bytes of padding after 5 payload bytes.
        let mut p = vec![0xb2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        p.extend_from_slice(&[0; 8]); // CSRCs
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0, 0, 0, 0]); // extension
        p.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 3]);
        let h = RtpHeader::parse(&p).unwrap();
        assert_eq!((h.header_len, h.payload_len), (28, 5));
    }

    #[test]
    fn lying_lengths_are_errors() {
        assert_eq!(
            RtpHeader::parse(&[0x80; 11]),
            Err(RtpHeaderError::TooShort(11))
        );
        let mut v1 = rtp(0, 1, 1, 1, 4);
        v1[0] = 0x40;
        assert_eq!(RtpHeader::parse(&v1), Err(RtpHeaderError::Version(1)));
        let mut csrc = rtp(0, 1, 1, 1, 4);
        csrc[0] |= 0x0f;
        assert_eq!(RtpHeader::parse(&csrc), Err(RtpHeaderError::CsrcOverrun));
        let mut ext = rtp(0, 1, 1, 1, 4);
        ext[0] |= 0x10;
        ext[12..16].copy_from_slice(&[0xbe, 0xde, 0, 9]);
        assert_eq!(
            RtpHeader::parse(&ext),
            Err(RtpHeaderError::ExtensionOverrun)
        );
        let mut ext_short = rtp(0, 1, 1, 1, 2);
        ext_short[0] |= 0x10;
        assert_eq!(
            RtpHeader::parse(&ext_short),
            Err(RtpHeaderError::ExtensionOverrun)
        );
        let mut pad = rtp(0, 1, 1, 1, 4);
        pad[0] |= 0x20;
        *pad.last_mut().unwrap() = 5;
        assert_eq!(RtpHeader::parse(&pad), Err(RtpHeaderError::Padding(5)));
        *pad.last_mut().unwrap() = 0;
        assert_eq!(RtpHeader::parse(&pad), Err(RtpHeaderError::Padding(0)));
    }
}
