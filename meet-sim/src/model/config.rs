//! The simulator's settings. Every number the design marks \[BRIEF\] (meet-side.md) is one of
//! these, with the documented default.

use std::time::Duration;

use meet::jwt::{DEFAULT_LEEWAY, MAX_TOKEN_LIFETIME};

/// The `aud` gateway tokens must carry (meet-side.md §5.b, item 3).
pub const DEFAULT_AUDIENCE: &str = "meet-sim";

/// How long a gateway may wait in the lobby for a host decision: 30 s \[BRIEF\] (§2.4, §5.b).
pub const DEFAULT_LOBBY_TIMEOUT: Duration = Duration::from_secs(30);

/// Digits in a long numeric meeting id: 13 \[BRIEF\] (§2.3).
pub const DEFAULT_LONG_ID_LEN: usize = 13;

/// The longest chat text accepted: 500 characters (§5.b: arbitrary, no public number).
pub const DEFAULT_CHAT_MAX_LEN: usize = 500;

/// How long a certificate the test CA signs for an enrolled CSR is valid: 365 days (§5.b:
/// arbitrary, no public number).
pub const DEFAULT_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Seconds between media-stats uploads asked of a client: 10 (§5.b "Media stats").
pub const DEFAULT_UPLOAD_INTERVAL_S: u32 = 10;

/// What happens to a gateway in the call when a host switches a lock on (§5.b "Host
/// controls": `video_lock_policy = remove | mute`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LockPolicy {
    /// Disconnect the gateway with `x-REASON_VIDEO_LOCKED` (or `x-REASON_AUDIO_LOCKED`).
    #[default]
    Remove,
    /// Keep it in the call; push `x-conference` and drop its media of that kind (the media
    /// plane does the dropping).
    Mute,
}

/// Default most receive-video m-lines of a gateway: 8 (the 1+7 layout).
pub const DEFAULT_VIDEO_RECV_STREAMS_MAX: usize = 8;

/// Default send bitrate limit of a gateway: 2 Mb/s.
pub const DEFAULT_MAX_SEND_BITRATE_BPS: u64 = 2_000_000;

/// Settings of a [`SimModel`](super::SimModel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// The `aud` accepted in gateway tokens; default [`DEFAULT_AUDIENCE`].
    pub audience: String,
    /// Clock-skew allowance for token times; default 30 s.
    pub token_leeway: Duration,
    /// The longest token lifetime accepted; default 300 s.
    pub max_token_lifetime: Duration,
    /// Lobby wait before `x-REASON_ADMISSION_TIMEOUT`; default [`DEFAULT_LOBBY_TIMEOUT`].
    pub lobby_timeout: Duration,
    /// Digits of generated and accepted long meeting ids; default [`DEFAULT_LONG_ID_LEN`].
    pub long_id_len: usize,
    /// Policy for the video lock switched on mid-call; default [`LockPolicy::Remove`].
    pub video_lock_policy: LockPolicy,
    /// Policy for the audio lock switched on mid-call; default [`LockPolicy::Remove`].
    pub audio_lock_policy: LockPolicy,
    /// Whether an `OPEN` space admits an untrusted (or foreign) gateway without the lobby;
    /// default `false` (§5.b `open_admits_untrusted_gateway`).
    pub open_admits_untrusted_gateway: bool,
    /// Whether a connect to a space without a conference starts one instead of answering
    /// `NO_ACTIVE_CONFERENCE`; default `false`.
    pub auto_start_conference: bool,
    /// Whether `connectActiveConference` needs a host (the consenter) in the call; default
    /// `true` (`CONSENTER_ABSENT` otherwise).
    pub require_consenter: bool,
    /// The longest chat text; default [`DEFAULT_CHAT_MAX_LEN`].
    pub chat_max_len: usize,
    /// `uploadIntervalSeconds` pushed on `media-stats`; default
    /// [`DEFAULT_UPLOAD_INTERVAL_S`] (0 turns uploads off).
    pub media_stats_upload_interval_s: u32,
    /// Most receive-video m-lines a gateway (or browser participant) may offer; default 8.
    pub video_recv_streams_max: usize,
    /// Most receive-video m-lines a Media API client may offer; default 3 (§1.3).
    pub media_client_video_max: usize,
    /// Simulcast layers a gateway must send; default 3.
    pub send_video_layers: usize,
    /// The send bitrate a gateway must keep to (all layers together, averaged over 5 s, with
    /// 10 % tolerance); default 2 Mb/s. Above it, `BITRATE_EXCEEDED` is logged.
    pub max_send_bitrate_bps: u64,
    /// Whether a gateway that breaks the media rules (`LAYERS_MISSING`,
    /// `BITRATE_EXCEEDED`) is disconnected; default `false` (only logged).
    pub strict_media: bool,
    /// Validity of the certificates the test CA signs for CSR enrolments, from the
    /// simulator's `now`; default [`DEFAULT_CERTIFICATE_VALIDITY`].
    pub certificate_validity: Duration,
    /// Seed of the generator for meeting codes, ids, CSRCs and token values. The same seed
    /// and the same inputs give the same simulator; the HTTP layer picks a random one unless
    /// told otherwise.
    pub seed: u64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            audience: DEFAULT_AUDIENCE.to_owned(),
            token_leeway: DEFAULT_LEEWAY,
            max_token_lifetime: MAX_TOKEN_LIFETIME,
            lobby_timeout: DEFAULT_LOBBY_TIMEOUT,
            long_id_len: DEFAULT_LONG_ID_LEN,
            video_lock_policy: LockPolicy::Remove,
            audio_lock_policy: LockPolicy::Remove,
            open_admits_untrusted_gateway: false,
            auto_start_conference: false,
            require_consenter: true,
            chat_max_len: DEFAULT_CHAT_MAX_LEN,
            media_stats_upload_interval_s: DEFAULT_UPLOAD_INTERVAL_S,
            video_recv_streams_max: DEFAULT_VIDEO_RECV_STREAMS_MAX,
            media_client_video_max: 3,
            send_video_layers: 3,
            max_send_bitrate_bps: DEFAULT_MAX_SEND_BITRATE_BPS,
            strict_media: false,
            certificate_validity: DEFAULT_CERTIFICATE_VALIDITY,
            seed: 0,
        }
    }
}
