//! The VP8 RTP payload descriptor (RFC 7741 §4.2) and the key-frame header (RFC 6386
//! §9.1): what a forwarding SFU needs without decoding: where a frame starts, whether it is a
//! key frame and how large, and the PictureID to rewrite when it splices layers.
//!
//! ```text
//!  X|R|N|S|R| PID     required first byte
//!  I|L|T|K| RSV       if X
//!  M| PictureID      if I (M: 15-bit PictureID, one more byte)
//!  TL0PICIDX         if L
//!  TID|Y| KEYIDX     if T or K
//! ```

/// What the descriptor of one packet says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vp8Packet {
    /// S = 1 and PID = 0: the packet starts a frame.
    pub starts_frame: bool,
    /// The packet starts a key frame (P = 0 in the frame header).
    pub keyframe: bool,
    /// `(width, height)` from the key-frame header, when this packet carries it.
    pub size: Option<(u16, u16)>,
    /// The PictureID, if present.
    pub picture_id: Option<u16>,
    /// Whether the PictureID is 15 bits (else 7).
    pub long_picture_id: bool,
    /// Offset of the PictureID field in the payload.
    picture_id_at: usize,
}

impl Vp8Packet {
    /// Reads the descriptor of the RTP payload `payload`; `None` when it is truncated.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let first = *payload.first()?;
        let mut at = 1;
        let (mut picture_id, mut long_picture_id, mut picture_id_at) = (None, false, 0);
        if first & 0x80 != 0 {
            let ext = *payload.get(at)?;
            at += 1;
            if ext & 0x80 != 0 {
                let b = *payload.get(at)?;
                picture_id_at = at;
                if b & 0x80 != 0 {
                    let low = *payload.get(at + 1)?;
                    picture_id = Some((u16::from(b & 0x7f) << 8) | u16::from(low));
                    long_picture_id = true;
                    at += 2;
                } else {
                    picture_id = Some(u16::from(b));
                    at += 1;
                }
            }
            if ext & 0x40 != 0 {
                at += 1;
            }
            if ext & 0x30 != 0 {
                at += 1;
            }
        }
        let header = payload.get(at..)?;
        let starts_frame = first & 0x10 != 0 && first & 0x0f == 0;
        let keyframe = starts_frame && header.first().is_some_and(|b| b & 0x01 == 0);
        // Key frame: 3-byte frame tag, start code 9d 01 2a, 14-bit width and height (LE).
        let size = match header {
            [_, _, _, 0x9d, 0x01, 0x2a, w0, w1, h0, h1, ..] if keyframe => Some((
                u16::from_le_bytes([*w0, *w1]) & 0x3fff,
                u16::from_le_bytes([*h0, *h1]) & 0x3fff,
            )),
            _ => None,
        };
        Some(Self {
            starts_frame,
            keyframe,
            size,
            picture_id,
            long_picture_id,
            picture_id_at,
        })
    }

    /// `payload` with its PictureID replaced by `picture_id` (wrapped to the field's width).
    /// The payload is returned unchanged when it has no PictureID.
    pub fn with_picture_id(&self, payload: &[u8], picture_id: u16) -> Vec<u8> {
        let mut out = payload.to_vec();
        if self.picture_id.is_some() {
            let at = self.picture_id_at;
            if self.long_picture_id {
                let id = picture_id & 0x7fff;
                out[at] = 0x80 | (id >> 8) as u8;
                out[at + 1] = (id & 0xff) as u8;
            } else {
                out[at] = (picture_id & 0x7f) as u8;
            }
        }
        out
    }

    /// The modulus of the PictureID field.
    pub fn picture_id_modulus(&self) -> u16 {
        if self.long_picture_id { 0x8000 } else { 0x80 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key-frame start with a 15-bit PictureID and a 640×360 frame header.
    fn keyframe(picture_id: u16) -> Vec<u8> {
        let mut p = vec![0x90, 0x80, 0x80 | (picture_id >> 8) as u8, picture_id as u8];
        p.extend([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]);
        p.extend(640u16.to_le_bytes());
        p.extend(360u16.to_le_bytes());
        p.extend([0; 8]);
        p
    }

    #[test]
    fn reads_a_keyframe_and_its_size() {
        let p = Vp8Packet::parse(&keyframe(1234)).unwrap();
        assert!(p.starts_frame && p.keyframe);
        assert_eq!(p.size, Some((640, 360)));
        assert_eq!(p.picture_id, Some(1234));
    }

    #[test]
    fn a_delta_frame_and_a_continuation_are_not_keyframes() {
        let mut delta = keyframe(5);
        delta[4] |= 0x01;
        let p = Vp8Packet::parse(&delta).unwrap();
        assert!(p.starts_frame && !p.keyframe && p.size.is_none());
        let mut middle = keyframe(5);
        middle[0] = 0x80; // S = 0
        assert!(!Vp8Packet::parse(&middle).unwrap().starts_frame);
    }

    #[test]
    fn rewrites_the_picture_id_and_keeps_the_rest() {
        let payload = keyframe(0x7ffe);
        let p = Vp8Packet::parse(&payload).unwrap();
        let out = p.with_picture_id(&payload, 0x8001);
        let q = Vp8Packet::parse(&out).unwrap();
        assert_eq!(q.picture_id, Some(1));
        assert_eq!(out[4..], payload[4..]);
    }

    #[test]
    fn truncated_input_is_none() {
        assert!(Vp8Packet::parse(&[]).is_none());
        assert!(Vp8Packet::parse(&[0x90]).is_none());
        assert!(Vp8Packet::parse(&[0x90, 0x80, 0x80]).is_none());
    }
}
