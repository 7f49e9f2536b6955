//! [`SessionSettings`]: the numbers a [`super::MeetSession`] runs on, each with its default.
//!
//! meet-side.md asks that every number the vendor reference pages state (tagged \[BRIEF\] there)
//! be a setting with that number as its default (§5, principle 3). The ones that reach the
//! data-channel client are here; the others (send layers, bitrate, dial-string lengths) belong
//! to the connector profile and the media plane.

use std::time::Duration;

use crate::protocol::video_assignment::SMALL_CANVAS_IDS;

/// The most video canvases tcn asks for: the 1+7 layout's eight tiles, which is also the
/// gateway's \[BRIEF\] maximum of received video streams (meet-side.md §2.5, §5.a
/// `video_recv_streams_max`).
pub const MAX_VIDEO_CANVASES: u8 = 1 + SMALL_CANVAS_IDS.len() as u8;

/// The tunable numbers of one Meet session. `SessionSettings::default()` is what tcn runs on
/// unless configured otherwise; every field documents its default and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSettings {
    /// How long a host has to admit the gateway from the lobby. Default **30 s** (\[BRIEF\]:
    /// meet-side.md §2.4 "the 30 s admit timeout"; §5.b `lobby_timeout`).
    ///
    /// The session's own join timer fires at `lobby_timeout + join_timeout_margin` after
    /// [`super::MeetSession::new`] (§5.a step 4, "lobby 30 s + margin"), so that a server
    /// enforcing the same timeout reports `x-REASON_ADMISSION_TIMEOUT` first.
    pub lobby_timeout: Duration,
    /// Added to `lobby_timeout` for the session's own join timer. Default **5 s**: tcn's choice
    /// (§5.a says "+ margin" and gives no number); it covers the time between the server
    /// starting its lobby timer and the session being created, plus data-channel latency.
    pub join_timeout_margin: Duration,
    /// The SIP status for a lobby timeout. Default **408 Request Timeout**; 480 is the
    /// alternative the §5.a table names ("408 Request Timeout (or 480; setting)").
    pub lobby_timeout_status: LobbyTimeoutStatus,
    /// How long [`super::MeetSession::leave`] waits for the server's `STATE_DISCONNECTED`
    /// after sending `leave` from the joined state. Default **2 s** (§5.a step 10, "wait for
    /// DISCONNECTED or 2 s").
    pub leave_timeout: Duration,
    /// How many canvases the `setAssignment` asks for: canvas 1 (1280×720) and then canvases
    /// 2, 3, ... (320×180) of the 1+7 layout. Default **8** ([`MAX_VIDEO_CANVASES`], the
    /// \[BRIEF\] 8 received video streams, §2.5 and §5.a). Set it to the number of video
    /// m-lines actually negotiated: the server refuses more canvases than that (§1.4). Values
    /// outside `1..=8` are clamped to that range.
    pub video_canvases: u8,
    /// What to do when `x-conference` reports `videoLock: true` before the session ends.
    /// Default **false**: stay, and let the node honour the lock by stopping its video on
    /// [`super::SessionEvent::ConferenceStateChanged`]; a server that removes clients instead
    /// sends `x-REASON_VIDEO_LOCKED`, which ends the session with
    /// [`super::SessionOutcome::VideoLocked`] anyway (§5.a step 8: "stop sending video if we
    /// can honour it, else expect removal"). True: leave at once with that outcome, for a
    /// node that cannot honour the lock.
    pub leave_on_video_lock: bool,
    /// The longest chat text [`super::MeetSession::send_chat`] sends, in characters. Default
    /// **500**, meet-sim's `chat_max_len` (§5.b "x-chat", itself an arbitrary number): longer
    /// text would only be refused by the server.
    pub chat_max_chars: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            lobby_timeout: Duration::from_secs(30),
            join_timeout_margin: Duration::from_secs(5),
            lobby_timeout_status: LobbyTimeoutStatus::RequestTimeout,
            leave_timeout: Duration::from_secs(2),
            video_canvases: MAX_VIDEO_CANVASES,
            leave_on_video_lock: false,
            chat_max_chars: 500,
        }
    }
}

impl SessionSettings {
    /// When the session's own join timer fires, measured from its creation:
    /// `lobby_timeout + join_timeout_margin` (35 s by default).
    pub fn join_timeout(&self) -> Duration {
        self.lobby_timeout.saturating_add(self.join_timeout_margin)
    }

    /// [`Self::video_canvases`] clamped to `1..=8`.
    pub fn canvas_count(&self) -> usize {
        usize::from(self.video_canvases.clamp(1, MAX_VIDEO_CANVASES))
    }
}

/// The SIP status a lobby timeout maps to (meet-side.md §5.a table: "408 Request Timeout (or
/// 480; setting)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LobbyTimeoutStatus {
    /// 408 Request Timeout (the default).
    #[default]
    RequestTimeout,
    /// 480 Temporarily Unavailable.
    TemporarilyUnavailable,
}

impl LobbyTimeoutStatus {
    /// The SIP status code: 408 or 480.
    pub fn code(self) -> u16 {
        match self {
            Self::RequestTimeout => 408,
            Self::TemporarilyUnavailable => 480,
        }
    }
}
