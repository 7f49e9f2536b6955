//! The RTP fixed header (RFC 3550 §5.1), its CSRC list, header extension (RFC 3550 §5.3.1,
//! RFC 8285) and padding, and telling RTCP apart on a multiplexed port (RFC 5761 §4).
//!
//! Only what DTMF needs is parsed: the header fields and where the payload is. Extension contents
//! are skipped, not interpreted.

use thiserror::Error;

/// Length of the RTP fixed header, before any CSRC: 12 bytes (RFC 3550 §5.1).
pub const RTP_FIXED_HEADER_LEN: usize = 12;

/// The only RTP version in use (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;

/// A parsed RTP header (RFC 3550 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpHeader {
    /// Version (V): always [`RTP_VERSION`] once parsed.
    pub version: u8,
    /// Padding (P): the payload was followed by padding, already removed by [`parse_rtp`].
    pub padding: bool,
    /// Extension (X): a header extension followed the CSRC list, already skipped by
    /// [`parse_rtp`].
    pub extension: bool,
    /// Marker (M). For telephone events, set on the first packet of an event (RFC 4733 §2.5.1.3).
    pub marker: bool,
    /// Payload type (PT), 0..=127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp, in the payload format's clock.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: Vec<u32>,
}

/// Why bytes are not an RTP packet.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Fewer bytes than the 12-byte fixed header.
    #[error("RTP packet too short: {len} bytes, the fixed header needs 12")]
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The second byte is an RTCP packet type (192..=223): this is RTCP multiplexed on the RTP
    /// port (RFC 5761 §4), to be handed to the RTCP code instead.
    #[error("packet type {packet_type} is RTCP, not RTP (RFC 5761 §4)")]
    LooksLikeRtcp {
        /// The RTCP packet type (the whole second byte), e.g. 200 for a sender report.
        packet_type: u8,
    },
    /// The CSRC count promises more bytes than the packet has.
    #[error("RTP CSRC list truncated: {count} CSRCs announced")]
    TruncatedCsrcs {
        /// The CSRC count (CC).
        count: u8,
    },
    /// The header extension is cut short or its length runs past the packet.
    #[error("RTP header extension truncated")]
    TruncatedExtension,
    /// The padding count is zero or larger than the payload it would remove.
    #[error("RTP padding count {count} is inconsistent with a {available}-byte payload")]
    BadPadding {
        /// The last byte of the packet.
        count: u8,
        /// Bytes after the header, padding included.
        available: usize,
    },
}

/// Parses an RTP packet and returns its header and its payload, with padding removed.
///
/// RTCP multiplexed on the same port (RFC 5761 §4) is recognised by its second byte: with the
/// marker bit set, RTP payload types 64..=95 collide with RTCP packet types 192..=223, which RFC
/// 5761 §4 reserves for RTCP. Such a packet answers [`RtpError::LooksLikeRtcp`], even when it is
/// shorter than an RTP header (an empty receiver report is 8 bytes).
///
/// # Errors
///
/// An [`RtpError`] naming what is wrong.
pub fn parse_rtp(packet: &[u8]) -> Result<(RtpHeader, &[u8]), RtpError> {
    let (first, second) = match packet {
        [first, second, ..] => (*first, *second),
        _ => return Err(RtpError::TooShort { len: packet.len() }),
    };
    let version = first >> 6;
    if version != RTP_VERSION {
        return Err(RtpError::BadVersion(version));
    }
    if (192..=223).contains(&second) {
        return Err(RtpError::LooksLikeRtcp {
            packet_type: second,
        });
    }
    let Some(fixed) = packet.first_chunk::<RTP_FIXED_HEADER_LEN>() else {
        return Err(RtpError::TooShort { len: packet.len() });
    };
    let padding = first & 0x20 != 0;
    let extension = first & 0x10 != 0;
    let csrc_count = first & 0x0f;
    let marker = second & 0x80 != 0;
    let payload_type = second & 0x7f;
    let sequence = u16::from_be_bytes([fixed[2], fixed[3]]);
    let timestamp = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let ssrc = u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);

    let mut rest = &packet[RTP_FIXED_HEADER_LEN..];
    let csrc_len = usize::from(csrc_count) * 4;
    let Some((csrc_bytes, after_csrcs)) = rest.split_at_checked(csrc_len) else {
        return Err(RtpError::TruncatedCsrcs { count: csrc_count });
    };
    let csrcs = csrc_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    rest = after_csrcs;

    if extension {
        // RFC 3550 §5.3.1: 16-bit profile-defined field, 16-bit length in 32-bit words (not
        // counting this 4-byte preamble); RFC 8285 one- and two-byte forms share the layout.
        let Some((preamble, after)) = rest.split_first_chunk::<4>() else {
            return Err(RtpError::TruncatedExtension);
        };
        let words = usize::from(u16::from_be_bytes([preamble[2], preamble[3]]));
        let Some((_, after_extension)) = after.split_at_checked(words * 4) else {
            return Err(RtpError::TruncatedExtension);
        };
        rest = after_extension;
    }

    if padding {
        // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
        let available = rest.len();
        let count = rest.last().copied().unwrap_or(0);
        if count == 0 || usize::from(count) > available {
            return Err(RtpError::BadPadding { count, available });
        }
        rest = &rest[..available - usize::from(count)];
    }

    let header = RtpHeader {
        version,
        padding,
        extension,
        marker,
        payload_type,
        sequence,
        timestamp,
        ssrc,
        csrcs,
    };
    Ok((header, rest))
}
