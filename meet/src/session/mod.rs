//! `MeetSession`: the sans-IO client state machine of one gateway call's Meet leg, over the
//! data channels of meet-side.md §1.4 (flow: §5.a steps 4 to 10).
//!
//! The session never touches a socket or a clock, and has no task or thread of its own. The
//! node feeds it what happened, with the time (`now`), and drains what it has to say:
//!
//! | inputs | outputs |
//! |---|---|
//! | [`MeetSession::channels_open`]: the data channels are up | [`MeetSession::poll_transmit`]: JSON text to send on a channel |
//! | [`MeetSession::handle_message`]: JSON received on a channel | [`MeetSession::poll_event`]: [`SessionEvent`]s for the call controller |
//! | [`MeetSession::handle_timeout`]: the time [`MeetSession::poll_timeout`] asked for has come | [`MeetSession::poll_timeout`]: when to call `handle_timeout` next |
//! | [`MeetSession::leave`], [`MeetSession::send_chat`], [`MeetSession::set_stats`]: the node's actions | [`MeetSession::state`], [`MeetSession::outcome`], roster, assignment, ...: the current view |
//! | [`MeetSession::connect_failed`], [`MeetSession::transport_failed`]: the connector or WebRTC failed | |
//!
//! After every input, drain `poll_transmit` and `poll_event` until they return `None`, then
//! (re)arm one timer at `poll_timeout`.
//!
//! What the session does (meet-side.md §5.a):
//! - **Join** (steps 4 and 5). The join timer starts at [`MeetSession::new`] and fires at
//!   [`SessionSettings::join_timeout`] (lobby 30 s + margin 5 s). `STATE_WAITING` →
//!   [`SessionEvent::Waiting`]; `STATE_JOINED` → [`SessionEvent::Joined`];
//!   `STATE_DISCONNECTED` → [`SessionEvent::Disconnected`] with the [`SessionOutcome`] of its
//!   reason. The join timer in the lobby ends the session as a lobby timeout (408), before any
//!   status as a [`SessionOutcome::JoinTimeout`] (503).
//! - **Layout** (step 6). Once joined with the channels open, one `setAssignment` for the 1+7
//!   layout ([`SessionSettings::video_canvases`] canvases, 8 by default); its answer comes as
//!   [`SessionEvent::AssignmentAccepted`] or [`SessionEvent::AssignmentRefused`], the
//!   server's assignments as [`SessionEvent::Assignment`].
//! - **Stats** (step 7). Every `uploadIntervalSeconds` of the server's configuration (0: never),
//!   counted from the configuration (or from `channels_open`, if later), an
//!   `uploadMediaStats` with the sections last given to [`MeetSession::set_stats`], filtered
//!   by the allowlist, in the TS dialect. Uploads stop when the session leaves or ends.
//! - **Conference** (steps 8 and 9). `x-conference` → [`SessionEvent::ConferenceStateChanged`]
//!   (recording indicator, locks, chat restriction; see [`SessionSettings::leave_on_video_lock`]);
//!   `x-chat` → [`SessionEvent::ChatReceived`]; [`MeetSession::send_chat`] sends unless chat
//!   is restricted to hosts.
//! - **Roster and media** (§1.4). `participants` and `media-entries` are kept as maps and
//!   reported whole on every change ([`SessionEvent::RosterChanged`],
//!   [`SessionEvent::MediaEntriesChanged`]).
//! - **Leave** (step 10). [`MeetSession::leave`] sends `leave`; joined, it waits for
//!   `STATE_DISCONNECTED` or 2 s.
//!
//! Requests carry per-channel ids 1, 2, 3, ...; a response is matched to its request by
//! channel and id, and one matching nothing sent is ignored.
//!
//! How a session ends is a [`SessionOutcome`], which is also where Meet outcomes become SIP
//! codes and `Reason` headers, in one table (see its module docs and
//! [`SessionOutcome::sip_ending`]). Connector failures map through [`ConnectFailure`].
//!
//! ```
//! use std::time::{Duration, Instant};
//!
//! use meet::protocol::DataChannel;
//! use meet::session::{MeetSession, SessionEvent, SessionSettings};
//!
//! let start = Instant::now(); // the node's clock: the session never reads one
//! let mut session = MeetSession::new(SessionSettings::default(), start);
//! session.channels_open(start);
//! session.handle_message(
//!     DataChannel::SessionControl,
//!     r#"{"resources":[{"sessionStatus":{"connectionState":"STATE_JOINED"}}]}"#,
//!     start,
//! )?;
//! // Joined with the channels open: the 1+7 layout request goes out.
//! let (channel, json) = session.poll_transmit().expect("setAssignment");
//! assert_eq!(channel, DataChannel::VideoAssignment);
//! assert!(json.starts_with(r#"{"request":{"requestId":1,"setAssignment":"#));
//! assert_eq!(session.poll_event(), Some(SessionEvent::Joined));
//!
//! // The SIP side hangs up: `leave`, then wait for the server (or 2 s).
//! session.leave(start + Duration::from_secs(60));
//! assert_eq!(
//!     session.poll_transmit(),
//!     Some((DataChannel::SessionControl, r#"{"request":{"requestId":1,"leave":{}}}"#.into()))
//! );
//! assert_eq!(session.poll_timeout(), Some(start + Duration::from_secs(62)));
//! session.handle_timeout(start + Duration::from_secs(62));
//! let Some(SessionEvent::Disconnected { outcome, .. }) = session.poll_event() else {
//!     panic!("expected the end of the session");
//! };
//! assert_eq!(outcome.reason_header(), r#"SIP;cause=200;text="Call completed""#);
//! # Ok::<(), meet::session::MessageError>(())
//! ```

mod event;
mod machine;
mod outcome;
mod settings;
mod stats;

pub use event::{ChatError, MessageError, SessionEvent, SessionState};
pub use machine::MeetSession;
pub use outcome::{ConnectFailure, SessionOutcome, SipEnding};
pub use settings::{LobbyTimeoutStatus, MAX_VIDEO_CANVASES, SessionSettings};
