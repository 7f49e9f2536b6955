//! Ways to break a room system's video RTP, for the bad-media tests: each a
//! [`Mangler`] for [`node::demo::vtc::Vtc::set_video_mangler`], deterministic (a fixed
//! xorshift seed), so every run breaks the same packets the same way.

use node::demo::vtc::Mangler;

/// A tiny deterministic generator (xorshift).
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Three random bits flipped in the payload of one packet in four.
pub fn bit_flips() -> Mangler {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    Box::new(move |packet: &[u8]| {
        let mut p = packet.to_vec();
        if xorshift(&mut rng).is_multiple_of(4) && p.len() > 13 {
            for _ in 0..3 {
                let bit = (xorshift(&mut rng) as usize) % ((p.len() - 12) * 8);
                p[12 + bit / 8] ^= 1 << (bit % 8);
            }
        }
        vec![p]
    })
}

/// Every third packet cut to a third of its payload.
pub fn truncation() -> Mangler {
    let mut n = 0u64;
    Box::new(move |packet: &[u8]| {
        n += 1;
        let keep = if n.is_multiple_of(3) {
            12 + (packet.len() - 12) / 3
        } else {
            packet.len()
        };
        vec![packet[..keep].to_vec()]
    })
}

/// Every payload replaced by random bytes (headers kept).
pub fn garbage() -> Mangler {
    let mut rng = 0x1234_5678_9abc_def1u64;
    Box::new(move |packet: &[u8]| {
        let mut p = packet.to_vec();
        for b in &mut p[12..] {
            *b = xorshift(&mut rng) as u8;
        }
        vec![p]
    })
}

/// Every packet sent with payload type `pt`.
pub fn payload_type(pt: u8) -> Mangler {
    Box::new(move |packet: &[u8]| {
        let mut p = packet.to_vec();
        p[1] = (p[1] & 0x80) | pt;
        vec![p]
    })
}

/// Every packet sent with SSRC `ssrc`.
pub fn ssrc(ssrc: u32) -> Mangler {
    Box::new(move |packet: &[u8]| {
        let mut p = packet.to_vec();
        p[8..12].copy_from_slice(&ssrc.to_be_bytes());
        vec![p]
    })
}
