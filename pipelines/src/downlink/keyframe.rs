//! Which H.263 RTP payloads start an intra picture: the picture coding type read from the picture
//! header on the wire, for both H.263 RTP formats (RFC 2190 and RFC 4629). H.264 is in
//! [`crate::downlink::rtp`].
//!
//! H.261 has no such bit: its picture header (ITU-T H.261 §4.2.1: PSC, TR, PTYPE of split
//! screen, document camera, freeze release and source format) does not say whether a picture is
//! intra-coded, and RFC 4587's `I` flag describes the whole stream, not one picture. The
//! downlink counts H.261 intra pictures from the encoder's own sync-point flag instead.
//!
//! H.263 picture header (ITU-T H.263 §5.1), bit offsets from the picture start code:
//!
//! ```text
//! 0      PSC   22 bits  0000 0000 0000 0000 1000 00
//! 22     TR     8 bits
//! 30     PTYPE: 1, 0, split screen, document camera, freeze release, source format (3 bits)
//! 38       source format != 111: picture coding type (1 bit: 0 INTRA, 1 INTER), …
//! 38       source format == 111 (PLUSPTYPE): UFEP (3 bits); OPPTYPE (18 bits) when UFEP = 001;
//!          then MPPTYPE, whose first 3 bits are the picture type (000 I, 001 P, 010 improved
//!          PB, 011 B, 100 EI, 101 EP)
//! ```

/// The coding type of one H.263 picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureType {
    /// An intra picture (I, or EI in a scalable stream): decodable on its own.
    Intra,
    /// Any predicted picture (P, PB, B, EP).
    Inter,
}

/// Reads `count` bits (at most 32) at bit offset `at` of `data`, most significant first.
fn bits(data: &[u8], at: usize, count: usize) -> Option<u32> {
    let mut value = 0u32;
    for i in at..at + count {
        let byte = data.get(i / 8)?;
        value = (value << 1) | u32::from((byte >> (7 - i % 8)) & 1);
    }
    Some(value)
}

/// The picture type of an H.263 bitstream that starts with a picture start code; `None` when it
/// does not start with one or is cut short.
pub fn h263_picture_type(bitstream: &[u8]) -> Option<PictureType> {
    // 0000 0000 0000 0000 1000 00: the 22-bit picture start code.
    if bits(bitstream, 0, 22)? != 0b10_0000 {
        return None;
    }
    let source_format = bits(bitstream, 35, 3)?;
    let intra = if source_format == 0b111 {
        let ufep = bits(bitstream, 38, 3)?;
        let mpptype = if ufep == 1 { 38 + 3 + 18 } else { 38 + 3 };
        matches!(bits(bitstream, mpptype, 3)?, 0b000 | 0b100)
    } else {
        bits(bitstream, 38, 1)? == 0
    };
    Some(if intra {
        PictureType::Intra
    } else {
        PictureType::Inter
    })
}

/// The picture type of an RFC 4629 (`H263-1998`/`H263-2000`) RTP payload that starts a picture;
/// `None` for any other payload (a GOB, a slice, a fragment).
///
/// Payload header: `RR:5 P:1 V:1 PLEN:6 PEBIT:3`, then a VRC byte when `V`, then `PLEN` bytes of
/// redundant picture header. With `P` set the payload starts at a picture, GOB or slice start
/// code whose first two (zero) bytes are left out.
pub fn h263plus_picture(payload: &[u8]) -> Option<PictureType> {
    let header = u16::from_be_bytes([*payload.first()?, *payload.get(1)?]);
    let p = header & 0x0400 != 0;
    let v = header & 0x0200 != 0;
    let plen = usize::from((header >> 3) & 0x3f);
    if !p {
        return None;
    }
    let start = 2 + usize::from(v) + plen;
    let rest = payload.get(start..)?;
    let mut bitstream = Vec::with_capacity(8);
    bitstream.extend_from_slice(&[0, 0]);
    bitstream.extend_from_slice(rest.get(..rest.len().min(8))?);
    h263_picture_type(&bitstream)
}

/// The picture type of an RFC 2190 (`H263`) RTP payload that starts a picture; `None` for any
/// other payload.
///
/// The payload header is 4 bytes in mode A (`F` = 0), 8 in mode B (`F` = 1, `P` = 0), 12 in
/// mode C (`F` = 1, `P` = 1); a picture starts at a byte boundary (`SBIT` = 0) in mode A.
pub fn h263_rfc2190_picture(payload: &[u8]) -> Option<PictureType> {
    let first = *payload.first()?;
    let header = match (first & 0x80 != 0, first & 0x40 != 0) {
        (false, _) => 4,
        (true, false) => 8,
        (true, true) => 12,
    };
    let rest = payload.get(header..)?;
    h263_picture_type(rest.get(..rest.len().min(8))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PSC, TR = 5, PTYPE `1 0 0 0 0 011(CIF)` then the coding type bit.
    fn cif_picture(inter: bool) -> Vec<u8> {
        // bits: 0000 0000 0000 0000 1000 00 | 0000 0101 | 10 000 011 | t ...
        let mut acc: u64 = 0b10_0000;
        acc = (acc << 8) | 5;
        acc = (acc << 8) | 0b1000_0011;
        acc = (acc << 1) | u64::from(inter);
        let used = 22 + 8 + 8 + 1;
        acc <<= 64 - used;
        acc.to_be_bytes().to_vec()
    }

    #[test]
    fn baseline_picture_type_bit() {
        assert_eq!(
            h263_picture_type(&cif_picture(false)),
            Some(PictureType::Intra)
        );
        assert_eq!(
            h263_picture_type(&cif_picture(true)),
            Some(PictureType::Inter)
        );
        assert_eq!(h263_picture_type(&[0, 0, 0x84, 0, 0]), None, "a GOB");
    }

    #[test]
    fn rfc2190_mode_a_and_rfc4629_headers() {
        let mut a = vec![0, 0x60, 0, 0];
        a.extend(cif_picture(false));
        assert_eq!(h263_rfc2190_picture(&a), Some(PictureType::Intra));
        let mut plus = vec![0x04, 0x00];
        plus.extend(&cif_picture(true)[2..]);
        assert_eq!(h263plus_picture(&plus), Some(PictureType::Inter));
        plus[0] = 0;
        assert_eq!(h263plus_picture(&plus), None, "P bit clear: no start code");
    }

    #[test]
    fn plusptype_picture_type_code() {
        // PSC, TR 0, PTYPE 10 000 111, UFEP 001, OPPTYPE 18 bits, MPPTYPE starting 001 (P).
        let mut acc: u128 = 0b10_0000;
        acc <<= 8; // TR 0
        acc = (acc << 8) | 0b1000_0111;
        acc = (acc << 3) | 1;
        acc = (acc << 18) | 0b011_0000_0000_0000_1000;
        acc = (acc << 3) | 0b001;
        let used = 22 + 8 + 8 + 3 + 18 + 3;
        acc <<= 128 - used;
        let p = acc.to_be_bytes();
        assert_eq!(h263_picture_type(&p), Some(PictureType::Inter));
        let i = (acc & !(0b111u128 << (128 - used))).to_be_bytes();
        assert_eq!(h263_picture_type(&i), Some(PictureType::Intra));
    }
}
