//! `MeetConnector`: how the node reaches a Meet backend (meet-side.md §5.a).
//!
//! The connector does the two request/answer steps of a call's Meet leg, and nothing else:
//!
//! 1. [`MeetConnector::resolve`]: what the caller dialled ([`DialString`], parsed sans-IO from
//!    the Request-URI user part, the H.323 alias or IVR digits) → the space
//!    ([`ConferenceRef`]). On meet-sim: `GET /v1/interop/meetingIds/{id}:resolve`.
//! 2. [`MeetConnector::connect`]: the SDP offer → the SDP answer ([`ConnectOutcome`]). On
//!    meet-sim: `POST /v1/interop/spaces/{space}:connectGateway`.
//!
//! The node owns the WebRTC stack; the data-channel protocol that follows the answer is
//! [`MeetSession`](crate::session::MeetSession)'s, and the same for every backend. A real-Meet
//! adapter later implements this trait again (TLS, Google's paths) and nothing else changes.
//!
//! The gateway credential (signing key, issuer, audience, interop token `itk`:
//! [`GatewayCredential`]) lives inside the connector, which mints a fresh short-lived JWT for
//! every request (meet-side.md §5.b "Gateway authentication"). [`MeetProfile`] is what the
//! backend expects of our offer (stream counts, codecs, bitrate) and the dial-string rules.
//!
//! Every failure is a [`MeetError`]; [`MeetError::outcome`] turns it into the
//! [`SessionOutcome`](crate::session::SessionOutcome) that decides the SIP code, through
//! [`ConnectFailure`](crate::session::ConnectFailure), the one table of meet-side.md §5.a.
//!
//! `HttpConnector` (cargo feature `http`) is the implementation over plain HTTP/1.1 (meet-sim
//! on loopback).
//!
//! ```no_run
//! # async fn demo(connector: std::sync::Arc<dyn meet::connector::MeetConnector>)
//! #     -> Result<(), meet::connector::MeetError> {
//! use meet::connector::{CallerProtocol, DialString, JoinInfo};
//!
//! let dial = DialString::parse("ABC-defg-hij", connector.profile())
//!     .expect("a meeting code");
//! let conference = connector.resolve(&dial).await?;
//! let join = JoinInfo {
//!     display_name: "Room 4.1".into(),
//!     caller_uri: "sip:room41@corp.example".into(),
//!     protocol: CallerProtocol::Sip,
//!     call_id: "a84b4c76e66710@pc33.corp.example".into(),
//! };
//! let outcome = connector.connect(&conference, "v=0\r\n...", &join).await?;
//! println!("answer: {} bytes", outcome.answer.len());
//! # Ok(()) }
//! ```

mod credential;
mod dial;
mod error;
#[cfg(feature = "http")]
mod http;
mod join;
mod profile;

pub use credential::{DEFAULT_REQUEST_TOKEN_LIFETIME, GatewayCredential};
pub use dial::{DialError, DialString, MAX_DIAL_LEN, MAX_SHORT_ID_LEN, MIN_SHORT_ID_LEN};
pub use error::{MAX_ERROR_MESSAGE_LEN, MeetError};
#[cfg(feature = "http")]
pub use http::{DEFAULT_REQUEST_TIMEOUT, HttpConnector, MAX_ANSWER_BYTES};
pub use join::{CallerProtocol, ConferenceRef, ConnectOutcome, JoinInfo};
pub use profile::{DEFAULT_LONG_ID_LEN, MeetProfile, VideoCodec};

/// One Meet backend (meet-sim, or later the real Meet), shared by every call:
/// `Arc<dyn MeetConnector>`.
///
/// Implementations hold their credential and mint what each request needs; they keep no
/// per-call state, so calls may run `resolve` and `connect` concurrently.
#[async_trait::async_trait]
pub trait MeetConnector: Send + Sync + 'static {
    /// The space that `dial` names: a meeting code, a long numeric id or a short
    /// (PIN-prefixed) id. Fails with [`MeetError`]; an unknown id maps to
    /// [`SessionOutcome::NotFound`](crate::session::SessionOutcome::NotFound).
    async fn resolve(&self, dial: &DialString) -> Result<ConferenceRef, MeetError>;

    /// Joins the conference of `conf` as the gateway caller `join`: sends the SDP `offer` and
    /// returns the answer. A success does not mean joined: the session-control channel says
    /// whether the gateway waits in the lobby or is in (meet-side.md §1.2).
    async fn connect(
        &self,
        conf: &ConferenceRef,
        offer: &str,
        join: &JoinInfo,
    ) -> Result<ConnectOutcome, MeetError>;

    /// What the backend expects of the gateway's offer, and the dial-string rules.
    fn profile(&self) -> &MeetProfile;
}
