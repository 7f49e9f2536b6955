//! Fuzz bodies for the Meet side's parsers of untrusted input, shared by the cargo-fuzz targets
//! (`fuzz/fuzz_targets/meet_*.rs`) and the seed replay in `meet/tests/fuzz_corpus.rs`.
//!
//! - [`offer`]: an SDP offer through meet-sim's offer rules (any client may send one).
//! - [`vp8`]: an RTP payload through the VP8 descriptor reader and the PictureID rewrite (the
//!   sim forwards any participant's packets).
//! - [`channel`]: a data-channel message through the data-channel types, both directions
//!   (clients send requests to the sim; the sim, or Meet, sends resources to the node).

use crate::protocol::media_entries::MediaEntriesToClient;
use crate::protocol::media_stats::{MediaStatsFromClient, MediaStatsToClient};
use crate::protocol::participants::ParticipantsToClient;
use crate::protocol::session_control::{SessionControlFromClient, SessionControlToClient};
use crate::protocol::video_assignment::{VideoAssignmentFromClient, VideoAssignmentToClient};
use crate::protocol::x_chat::{XChatFromClient, XChatToClient};
use crate::protocol::x_conference::XConferenceToClient;
use crate::sim::media::vp8::Vp8Packet;
use crate::sim::model::OfferShape;

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

/// Parses `data` as every data-channel message type; what parses must print and parse again.
pub fn channel(data: &[u8]) {
    fn round_trip<T>(data: &[u8])
    where
        T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
    {
        if let Ok(message) = serde_json::from_slice::<T>(data) {
            let printed = serde_json::to_vec(&message).expect("prints");
            let again: T = serde_json::from_slice(&printed).expect("reparses");
            assert_eq!(again, message);
        }
    }
    round_trip::<SessionControlFromClient>(data);
    round_trip::<MediaStatsFromClient>(data);
    round_trip::<VideoAssignmentFromClient>(data);
    round_trip::<XChatFromClient>(data);
    round_trip::<SessionControlToClient>(data);
    round_trip::<MediaStatsToClient>(data);
    round_trip::<ParticipantsToClient>(data);
    round_trip::<MediaEntriesToClient>(data);
    round_trip::<VideoAssignmentToClient>(data);
    round_trip::<XChatToClient>(data);
    round_trip::<XConferenceToClient>(data);
}
