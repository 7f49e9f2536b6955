//! Fuzz bodies for the Meet side's parsers of untrusted input, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/meet_channel.rs`) and the seed replay in `meet/tests/fuzz_corpus.rs`.
//!
//! - [`channel`]: a data-channel message through the data-channel types, both directions
//!   (clients send requests to the sim; the sim, or Meet, sends resources to the node).

use crate::protocol::media_entries::MediaEntriesToClient;
use crate::protocol::media_stats::{MediaStatsFromClient, MediaStatsToClient};
use crate::protocol::participants::ParticipantsToClient;
use crate::protocol::session_control::{SessionControlFromClient, SessionControlToClient};
use crate::protocol::video_assignment::{VideoAssignmentFromClient, VideoAssignmentToClient};
use crate::protocol::x_chat::{XChatFromClient, XChatToClient};
use crate::protocol::x_conference::XConferenceToClient;

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
