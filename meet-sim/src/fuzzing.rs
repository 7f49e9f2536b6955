//! Fuzz bodies for meet-sim's parsers of untrusted input, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/meet_offer.rs`, `meet_vp8.rs`) and the seed replay in
//! `meet-sim/tests/fuzz_corpus.rs`. The data-channel messages are `meet`'s
//! (`meet::fuzzing::channel`).
//!
//! - [`offer`]: an SDP offer through the offer rules (any client may send one).
//! - [`vp8`]: an RTP payload through the VP8 descriptor reader and the PictureID rewrite (the
//!   sim forwards any participant's packets).

use crate::media::vp8::Vp8Packet;
use crate::model::OfferShape;

/// Parses `data` as an offer and applies every rule set; must not panic, and an accepted
/// offer's shape must agree with its m-lines.
pub fn offer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(shape) = OfferShape::parse(text) else {
        return;
    };
    if let Ok(media) = shape.check_sender(8, 3) {
        assert!(media.recv_video <= 8 && media.recv_audio == 3);
        assert_eq!(media.send_rids.len(), 3);
    }
    for (audio, video) in [(true, true), (true, false), (false, true)] {
        if let Ok(media) = shape.check_media_client(3, audio, video) {
            assert!(media.recv_video <= 3);
            assert!(media.recv_audio == 0 || media.recv_audio == 3);
        }
    }
}

/// Reads `data` as a VP8 RTP payload; a rewritten PictureID reads back as written.
pub fn vp8(data: &[u8]) {
    let Some(packet) = Vp8Packet::parse(data) else {
        return;
    };
    let id = data.len() as u16 ^ 0x1234;
    let rewritten = packet.with_picture_id(data, id);
    assert_eq!(rewritten.len(), data.len());
    let again = Vp8Packet::parse(&rewritten).expect("same layout");
    if packet.picture_id.is_some() {
        assert_eq!(again.picture_id, Some(id % packet.picture_id_modulus()));
    }
    assert_eq!(again.keyframe, packet.keyframe);
}
