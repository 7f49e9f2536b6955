//! RTCP packets as values: the compound parser (RFC 3550 §6.1) and the writer of what the node
//! sends. Understood: SR and RR with their report blocks (§6.4), SDES CNAME (§6.5.1), BYE
//! (§6.6), PLI (RFC 4585 §6.3.1), FIR (RFC 5104 §4.3.1) and generic NACK (RFC 4585 §6.2.1,
//! read and ignored); anything else is kept as [`RtcpPacket::Other`].
//!
//! The parser trusts no length: a packet whose length runs past the datagram, whose padding
//! does not fit, or whose body is shorter than its report count or format needs makes the
//! whole compound an [`RtcpError`]. It does not insist that a compound starts with SR or RR,
//! since some room systems send reduced-size feedback alone (RFC 5506).

/// RTCP packet types.
const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
const RTPFB: u8 = 205;
const PSFB: u8 = 206;
/// SDES item type of the CNAME.
const CNAME: u8 = 1;

/// Why a datagram is not a compound RTCP packet we can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RtcpError {
    /// Empty, or a packet shorter than the 4-byte common header.
    #[error("shorter than an RTCP header")]
    TooShort,
    /// A packet's version field is not 2.
    #[error("RTCP version {0}, not 2")]
    Version(u8),
    /// A packet's length field runs past the datagram.
    #[error("packet type {0}: length runs past the datagram")]
    LengthOverrun(u8),
    /// A padding count of 0 or one larger than the packet's body.
    #[error("packet type {0}: bad padding")]
    Padding(u8),
    /// The body is shorter than its header says (report count, SDES items, FIR entries).
    #[error("packet type {0}: body too short for its contents")]
    Truncated(u8),
}

/// One report block (RFC 3550 §6.4.1): what the reporter received from `ssrc`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source the block is about.
    pub ssrc: u32,
    /// Lost since the previous report, as a fraction of 256.
    pub fraction_lost: u8,
    /// Lost since the start (24-bit signed).
    pub cumulative_lost: i32,
    /// The extended highest sequence number received.
    pub extended_highest: u32,
    /// The interarrival jitter in the source's clock units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP time of the source's last SR (0: none yet).
    pub last_sr: u32,
    /// The delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderInfo {
    /// The wallclock time of the report, NTP format (32.32 fixed point).
    pub ntp: u64,
    /// The same time in the stream's RTP clock.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the start.
    pub packets: u32,
    /// Payload octets sent since the start.
    pub octets: u32,
}

/// One entry of a FIR: the source asked for a keyframe and the request's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirEntry {
    /// The media source that should send a keyframe.
    pub ssrc: u32,
    /// The command sequence number: a new request has a new one (RFC 5104 §4.3.1.1).
    pub sequence: u8,
}

/// One packet of a compound RTCP datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtcpPacket {
    /// A sender report.
    SenderReport {
        /// The sender.
        ssrc: u32,
        /// What it sent.
        info: SenderInfo,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// A receiver report.
    ReceiverReport {
        /// The reporter.
        ssrc: u32,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// Source descriptions: per chunk, the source and its CNAME if the chunk has one.
    SourceDescription(Vec<(u32, Option<Vec<u8>>)>),
    /// The sources are leaving.
    Goodbye(Vec<u32>),
    /// Picture Loss Indication: `sender` asks `media` for a keyframe.
    Pli {
        /// Who asks.
        sender: u32,
        /// Who should send the keyframe.
        media: u32,
    },
    /// Full Intra Request.
    Fir {
        /// Who asks.
        sender: u32,
        /// The sources asked, with the request numbers.
        entries: Vec<FirEntry>,
    },
    /// A generic NACK (its lost-packet list is not kept: the node does not retransmit).
    Nack {
        /// Who asks.
        sender: u32,
        /// Whose packets it misses.
        media: u32,
    },
    /// A packet type or feedback format the node does not use.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The count / format field.
        format: u8,
    },
}

/// Reads a compound RTCP datagram.
pub fn parse_compound(mut data: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if data.is_empty() {
        return Err(RtcpError::TooShort);
    }
    let mut packets = Vec::new();
    while !data.is_empty() {
        let Some(header) = data.first_chunk::<4>() else {
            return Err(RtcpError::TooShort);
        };
        let version = header[0] >> 6;
        if version != 2 {
            return Err(RtcpError::Version(version));
        }
        let count = header[0] & 0x1f;
        let packet_type = header[1];
        let len = (usize::from(u16::from_be_bytes([header[2], header[3]])) + 1) * 4;
        if len > data.len() {
            return Err(RtcpError::LengthOverrun(packet_type));
        }
        let mut body = &data[4..len];
        if header[0] & 0x20 != 0 {
            let padding = usize::from(body.last().copied().unwrap_or(0));
            if padding == 0 || padding > body.len() {
                return Err(RtcpError::Padding(packet_type));
            }
            body = &body[..body.len() - padding];
        }
        packets.push(parse_one(packet_type, count, body)?);
        data = &data[len..];
    }
    Ok(packets)
}

fn u32_at(body: &[u8], at: usize) -> Option<u32> {
    body.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_one(packet_type: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, RtcpError> {
    let truncated = RtcpError::Truncated(packet_type);
    let blocks = |from: usize| -> Result<Vec<ReportBlock>, RtcpError> {
        (0..usize::from(count))
            .map(|i| read_block(body.get(from + 24 * i..from + 24 * (i + 1))?))
            .collect::<Option<_>>()
            .ok_or(truncated)
    };
    Ok(match packet_type {
        SR => {
            let (Some(ssrc), Some(high), Some(low), Some(ts), Some(packets), Some(octets)) = (
                u32_at(body, 0),
                u32_at(body, 4),
                u32_at(body, 8),
                u32_at(body, 12),
                u32_at(body, 16),
                u32_at(body, 20),
            ) else {
                return Err(truncated);
            };
            RtcpPacket::SenderReport {
                ssrc,
                info: SenderInfo {
                    ntp: (u64::from(high) << 32) | u64::from(low),
                    rtp_timestamp: ts,
                    packets,
                    octets,
                },
                reports: blocks(24)?,
            }
        }
        RR => RtcpPacket::ReceiverReport {
            ssrc: u32_at(body, 0).ok_or(truncated)?,
            reports: blocks(4)?,
        },
        SDES => RtcpPacket::SourceDescription(parse_sdes(count, body).ok_or(truncated)?),
        BYE => RtcpPacket::Goodbye(
            (0..usize::from(count))
                .map(|i| u32_at(body, 4 * i))
                .collect::<Option<_>>()
                .ok_or(truncated)?,
        ),
        RTPFB | PSFB => {
            let (Some(sender), Some(media)) = (u32_at(body, 0), u32_at(body, 4)) else {
                return Err(truncated);
            };
            match (packet_type, count) {
                (RTPFB, 1) => RtcpPacket::Nack { sender, media },
                (PSFB, 1) => RtcpPacket::Pli { sender, media },
                (PSFB, 4) => {
                    let fci = &body[8..];
                    if fci.is_empty() || !fci.len().is_multiple_of(8) {
                        return Err(truncated);
                    }
                    RtcpPacket::Fir {
                        sender,
                        entries: fci
                            .chunks_exact(8)
                            .map(|e| FirEntry {
                                ssrc: u32::from_be_bytes([e[0], e[1], e[2], e[3]]),
                                sequence: e[4],
                            })
                            .collect(),
                    }
                }
                _ => RtcpPacket::Other {
                    packet_type,
                    format: count,
                },
            }
        }
        _ => RtcpPacket::Other {
            packet_type,
            format: count,
        },
    })
}

fn read_block(b: &[u8]) -> Option<ReportBlock> {
    let word = |i: usize| u32_at(b, i);
    let lost = word(4)?;
    // The 24-bit signed cumulative count, sign-extended.
    let cumulative_lost = ((lost << 8) as i32) >> 8;
    Some(ReportBlock {
        ssrc: word(0)?,
        fraction_lost: (lost >> 24) as u8,
        cumulative_lost,
        extended_highest: word(8)?,
        jitter: word(12)?,
        last_sr: word(16)?,
        delay_since_last_sr: word(20)?,
    })
}

/// SDES chunks: an SSRC, items (type, length, text) up to a null type, padding to 32 bits.
fn parse_sdes(count: u8, body: &[u8]) -> Option<Vec<(u32, Option<Vec<u8>>)>> {
    let mut chunks = Vec::new();
    let mut at = 0;
    for _ in 0..count {
        let ssrc = u32_at(body, at)?;
        at += 4;
        let mut cname = None;
        loop {
            let kind = *body.get(at)?;
            if kind == 0 {
                // The null item and padding up to the next 32-bit boundary.
                at = (at + 4) & !3;
                break;
            }
            let len = usize::from(*body.get(at + 1)?);
            let text = body.get(at + 2..at + 2 + len)?;
            if kind == CNAME && cname.is_none() {
                cname = Some(text.to_vec());
            }
            at += 2 + len;
        }
        chunks.push((ssrc, cname));
    }
    Some(chunks)
}

impl RtcpPacket {
    /// Appends the packet's bytes to `out`. Counts above 31 (report blocks, SDES chunks, BYE
    /// sources) and CNAMEs above 255 bytes are cut to what the fields can say.
    pub fn write(&self, out: &mut Vec<u8>) {
        let start = out.len();
        // The common header; its length is filled in at the end.
        let header = |out: &mut Vec<u8>, count: usize, packet_type: u8| {
            out.extend_from_slice(&[0x80 | count.min(31) as u8, packet_type, 0, 0]);
        };
        let put = |out: &mut Vec<u8>, word: u32| out.extend_from_slice(&word.to_be_bytes());
        match self {
            Self::SenderReport {
                ssrc,
                info,
                reports,
            } => {
                header(out, reports.len(), SR);
                put(out, *ssrc);
                put(out, (info.ntp >> 32) as u32);
                put(out, info.ntp as u32);
                put(out, info.rtp_timestamp);
                put(out, info.packets);
                put(out, info.octets);
                reports.iter().take(31).for_each(|b| write_block(out, b));
            }
            Self::ReceiverReport { ssrc, reports } => {
                header(out, reports.len(), RR);
                put(out, *ssrc);
                reports.iter().take(31).for_each(|b| write_block(out, b));
            }
            Self::SourceDescription(chunks) => {
                header(out, chunks.len(), SDES);
                for (ssrc, cname) in chunks.iter().take(31) {
                    put(out, *ssrc);
                    if let Some(cname) = cname {
                        let text = &cname[..cname.len().min(255)];
                        out.extend_from_slice(&[CNAME, text.len() as u8]);
                        out.extend_from_slice(text);
                    }
                    // The null item, then padding to 32 bits (at least one null octet).
                    out.push(0);
                    while !(out.len() - start).is_multiple_of(4) {
                        out.push(0);
                    }
                }
            }
            Self::Goodbye(ssrcs) => {
                header(out, ssrcs.len(), BYE);
                ssrcs.iter().take(31).for_each(|s| put(out, *s));
            }
            Self::Pli { sender, media } => {
                header(out, 1, PSFB);
                put(out, *sender);
                put(out, *media);
            }
            Self::Fir { sender, entries } => {
                header(out, 4, PSFB);
                put(out, *sender);
                // The media source field of a FIR is 0 (RFC 5104 §4.3.1.2).
                put(out, 0);
                for entry in entries {
                    put(out, entry.ssrc);
                    out.extend_from_slice(&[entry.sequence, 0, 0, 0]);
                }
            }
            Self::Nack { sender, media } => {
                header(out, 1, RTPFB);
                put(out, *sender);
                put(out, *media);
            }
            Self::Other {
                packet_type,
                format,
            } => {
                header(out, usize::from(*format), *packet_type);
                // A feedback message of an unused format: its two (zero) SSRCs, so that it
                // reads back as itself.
                if matches!(*packet_type, RTPFB | PSFB) {
                    out.extend_from_slice(&[0; 8]);
                }
            }
        }
        let words = ((out.len() - start) / 4 - 1) as u16;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
    }
}

fn write_block(out: &mut Vec<u8>, b: &ReportBlock) {
    let lost = (u32::from(b.fraction_lost) << 24) | (b.cumulative_lost as u32 & 0x00ff_ffff);
    for word in [
        b.ssrc,
        lost,
        b.extended_highest,
        b.jitter,
        b.last_sr,
        b.delay_since_last_sr,
    ] {
        out.extend_from_slice(&word.to_be_bytes());
    }
}

/// The bytes of a compound made of `packets`, in order.
pub fn write_compound(packets: &[RtcpPacket]) -> Vec<u8> {
    let mut out = Vec::new();
    for packet in packets {
        packet.write(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rr_with_sdes_is_written_byte_for_byte() {
        let block = ReportBlock {
            ssrc: 0x1122_3344,
            fraction_lost: 39,
            cumulative_lost: 2,
            extended_highest: 0x0001_0005,
            jitter: 56,
            last_sr: 0xaabb_ccdd,
            delay_since_last_sr: 0x0001_8000,
        };
        let bytes = write_compound(&[
            RtcpPacket::ReceiverReport {
                ssrc: 0xcafe_f00d,
                reports: vec![block],
            },
            RtcpPacket::SourceDescription(vec![(0xcafe_f00d, Some(b"tcn".to_vec()))]),
        ]);
        #[rustfmt::skip]
        let want = [
            0x81, 201, 0, 7, 0xca, 0xfe, 0xf0, 0x0d,
            0x11, 0x22, 0x33, 0x44, 39, 0, 0, 2, 0, 1, 0, 5, 0, 0, 0, 56,
            0xaa, 0xbb, 0xcc, 0xdd, 0, 1, 0x80, 0,
            // SDES: chunk = SSRC, CNAME "tcn", null, pad: 4 + 2 + 3 + 1 = 10 -> 12.
            0x81, 202, 0, 3, 0xca, 0xfe, 0xf0, 0x0d, 1, 3, b't', b'c', b'n', 0, 0, 0,
        ];
        assert_eq!(bytes, want);
        let parsed = parse_compound(&bytes).unwrap();
        assert_eq!(
            parsed[0],
            RtcpPacket::ReceiverReport {
                ssrc: 0xcafe_f00d,
                reports: vec![block]
            }
        );
        assert_eq!(
            parsed[1],
            RtcpPacket::SourceDescription(vec![(0xcafe_f00d, Some(b"tcn".to_vec()))])
        );
    }

    #[test]
    fn pli_and_fir_are_written_as_the_rfcs_draw_them() {
        let pli = write_compound(&[RtcpPacket::Pli {
            sender: 1,
            media: 2,
        }]);
        assert_eq!(pli, [0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
        let fir = write_compound(&[RtcpPacket::Fir {
            sender: 1,
            entries: vec![FirEntry {
                ssrc: 2,
                sequence: 7,
            }],
        }]);
        assert_eq!(
            fir,
            [
                0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 7, 0, 0, 0
            ]
        );
    }

    #[test]
    fn every_kind_round_trips() {
        let packets = vec![
            RtcpPacket::SenderReport {
                ssrc: 9,
                info: SenderInfo {
                    ntp: 0x0102_0304_0506_0708,
                    rtp_timestamp: 90_000,
                    packets: 10,
                    octets: 12_000,
                },
                reports: vec![ReportBlock {
                    ssrc: 3,
                    cumulative_lost: -5,
                    ..ReportBlock::default()
                }],
            },
            RtcpPacket::SourceDescription(vec![(9, Some(b"x@y".to_vec())), (10, None)]),
            RtcpPacket::Goodbye(vec![9, 10]),
            RtcpPacket::Nack {
                sender: 9,
                media: 3,
            },
            RtcpPacket::Other {
                packet_type: 204,
                format: 0,
            },
        ];
        assert_eq!(parse_compound(&write_compound(&packets)).unwrap(), packets);
    }

    #[test]
    fn malformed_compounds_are_errors() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::TooShort));
        assert_eq!(parse_compound(&[0x80, 201]), Err(RtcpError::TooShort));
        assert_eq!(
            parse_compound(&[0x40, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Version(1))
        );
        assert_eq!(
            parse_compound(&[0x80, 201, 0xff, 0xff, 0, 0, 0, 1]),
            Err(RtcpError::LengthOverrun(201))
        );
        // An RR that claims one report block but has none.
        assert_eq!(
            parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Truncated(201))
        );
        // Padding larger than the body.
        assert_eq!(
            parse_compound(&[0xa0, 201, 0, 1, 0, 0, 0, 9]),
            Err(RtcpError::Padding(201))
        );
        // A FIR without an entry, a PLI without its media source.
        assert_eq!(
            parse_compound(&[0x84, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]),
            Err(RtcpError::Truncated(206))
        );
        assert_eq!(
            parse_compound(&[0x81, 206, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Truncated(206))
        );
        // A good RR followed by garbage.
        assert!(parse_compound(&[0x80, 201, 0, 1, 0, 0, 0, 1, 0x80]).is_err());
    }
}
