//! meet-sim's HTTP server: axum on loopback (meet-side.md §5.b).
//!
//! Embed it with [`Sim::spawn`] (tests, the node's `make run` default) or run it on a
//! listener with [`serve`]; the `meet-sim` binary wraps the latter. Errors use Google's
//! JSON shape: `{"error":{"code":<http>,"message","status","details":[{"@type":
//! "type.googleapis.com/google.rpc.ErrorInfo","reason","domain":"meet-sim"}]}}`.
//!
//! | method | path | body → answer |
//! |---|---|---|
//! | POST | `/v1/interop/spaces/{space}:connectGateway` | bearer gateway JWT; `{"offer","displayName","callerUri","protocol"}` → `{"answer","traceId","participantId"}` |
//! | GET | `/v1/interop/meetingIds/{id}:resolve` | bearer gateway JWT → `{"space","meetingCode"}` |
//! | POST | `/v2beta/spaces/{space}:connectActiveConference` | bearer OAuth test token; `{"offer"}` → `{"answer","traceId"}` |
//! | GET | `/m/{meetingCode}` | `?name=&video=` → the browser participant page (HTML) |
//! | GET | `/media-api/{meetingCode}` | `?token=&video=` → the Media-API-style client page (HTML) |
//! | GET | `/m/assets/{file}` | → the pages' scripts and style sheet |
//! | GET | `/favicon.ico` | → 204 |
//! | POST | `/sim/gateways` | `{"issuer","jwk"}` or `{"issuer","publicKeyPem","kid","alg"}` → 201 `{"issuer","kid","alg"}`; `{"issuer","csr","kid"?,"alg"?}` (PEM PKCS#10; `kid` defaults to its CN, `alg` to its key's: P-256 → ES256, RSA → RS256) → 201 `{"issuer","kid","alg","certificateChainPem"}` (leaf + test CA) |
//! | GET | `/sim/gateways` | → `{"gateways":[...]}` |
//! | GET | `/sim/ca` | → `{"certificatePem"}`: the test CA that signs CSR enrolments |
//! | DELETE | `/sim/gateways/{kid}` | → 204 |
//! | POST | `/sim/orgs/{org}:setInterop` | `{"enabled"}` → `{"org","interopEnabled"}` |
//! | POST | `/sim/orgs/{org}/interopTokens` | `{"name","type","trusted"}` → 201 `{"id","org","name","type","trusted","revoked","token"}` |
//! | GET | `/sim/orgs/{org}/interopTokens` | → `{"interopTokens":[...]}` (no values) |
//! | POST | `/sim/orgs/{org}/interopTokens/{id}:revoke` | → the token |
//! | POST | `/sim/orgs/{org}/interopTokens/{id}:setTrusted` | `{"trusted"}` → the token |
//! | POST | `/sim/oauthTokens` | `{"scopes"}` → 201 `{"token","scopes"}` |
//! | POST | `/sim/spaces` | `{"meetingCode"?,"longId"?,"shortId"?,"ownerOrg","config"?:{"accessType","chatRestriction","presentRestriction"}}` → 201 space |
//! | GET | `/sim/spaces`, `/sim/spaces/{space}` | → `{"spaces":[...]}`, the space |
//! | POST | `/sim/spaces/{space}:startConference`, `:endConference` | → the space |
//! | POST | `/sim/spaces/{space}:setLocks` | `{"video"?,"audio"?}` → the space |
//! | POST | `/sim/spaces/{space}:setRecording` | `{"active"}` → the space |
//! | POST | `/sim/spaces/{space}:setRestrictions` | `{"chatRestriction"?,"presentRestriction"?}` → the space |
//! | POST | `/sim/spaces/{space}:setActiveSpeaker` | `{"participantId"}` → the space (the 1+7 assignment follows) |
//! | GET | `/sim/spaces/{space}/lobby` | → `{"lobby":[{"participantId","displayName","deadlineUnixMs"}]}` |
//! | POST | `/sim/spaces/{space}/lobby/{pid}:admit`, `:deny` | → the participant |
//! | GET | `/sim/spaces/{space}/participants` | → `{"participants":[...]}` |
//! | POST | `/sim/spaces/{space}/participants` | `{"displayName","host"?,"signedInUser"?}` → 201 participant (synthetic, no media) |
//! | GET | `/sim/spaces/{space}/participants/{pid}` | → the participant |
//! | POST | `/sim/spaces/{space}/participants/{pid}:kick`, `:leave` | → the participant |
//! | POST | `/sim/spaces/{space}/participants/{pid}:requestKeyframe` | `{"rid","kind"?}` → the participant; a real RTCP PLI (`kind` `"pli"`, the default) or FIR (`"fir"`) goes to it for that layer of the video it sends (412 `NO_SUCH_LAYER` when nothing came on that RID yet) |
//! | GET | `/sim/spaces/{space}/participants/{pid}/media` | → `{"participant","media":{"connected","layers":[{"rid","packets","bytes","frames","keyframes","width","height","fps","bitrateBps"}],"audioPackets","videoStreams":[{"ssrc","source","rid","packets"}],"audioStreams","channels"},"lastMediaStats":[sections]}` |
//! | POST | `/m/{meetingCode}:join` | the participant page: `{"offer","displayName"}` → `{"answer","traceId","participantId"}` |
//! | GET | `/sim/spaces/{space}/participants/{pid}/messages?since=&channel=` | → `{"messages":[{"seq","atUnixMs","channel","message"}]}` |
//! | POST | `/sim/spaces/{space}/participants/{pid}/channels/{label}` | a client message → `{"messages":[...]}` it caused for that participant |
//! | POST | `/sim/spaces/{space}/chat` | `{"fromParticipant","text"}` → `{}` |
//! | GET | `/sim/events?since=` | → `{"events":[...],"next"}` |
//! | GET, POST | `/sim/clock` | `{"advanceMs"}` or `{"setUnixMs"}` → `{"nowUnixMs","mode"}` |
//! | GET, POST, DELETE | `/sim/faults` | `{"delayAnswerMs"?,"dropChannel"?,"failConnect"?:{"status","reason","times"?},"expireTokensNow"?}` → the faults |
//!
//! Data-channel messages go on the participant's data channels (the media plane) and are also
//! kept in per-participant mailboxes (`…/messages`) for tests; client messages arrive on the
//! channels or are injected with `…/channels/{label}`.

mod admin;
mod clock;
mod error;
mod harness;
mod media_io;
mod meet_api;
mod spaces;
mod state;
mod web;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::{get, post};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::ClockMode;
pub use error::ERROR_DOMAIN;
pub use state::MailboxEntry;

use crate::media::MediaPlane;
use crate::model::{ModelConfig, SimModel};
use clock::SimClock;
use state::Shared;

/// How often timers are checked against a wall clock: 100 ms.
pub const DEFAULT_TIMER_TICK: Duration = Duration::from_millis(100);

/// Receive buffer of the media plane's UDP socket: 4 MiB (capped by `net.core.rmem_max`).
const MEDIA_RECV_BUFFER: usize = 4 << 20;

/// Settings of the server.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The model's settings.
    pub model: ModelConfig,
    /// Wall or manual clock.
    pub clock: ClockMode,
    /// How often timers are checked when the clock is [`ClockMode::Wall`].
    pub timer_tick: Duration,
    /// The UDP address of the media plane (loopback; port 0 picks one). Default
    /// `127.0.0.1:0`.
    pub media_listen: SocketAddr,
}

impl Default for SimConfig {
    /// Model defaults with a random seed, wall clock, [`DEFAULT_TIMER_TICK`].
    fn default() -> Self {
        Self {
            model: ModelConfig {
                seed: rand::random(),
                ..ModelConfig::default()
            },
            clock: ClockMode::Wall,
            timer_tick: DEFAULT_TIMER_TICK,
            media_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/interop/spaces/{segment}",
            post(meet_api::connect_gateway),
        )
        .route("/v1/interop/meetingIds/{segment}", get(meet_api::resolve))
        .route(
            "/v2beta/spaces/{segment}",
            post(meet_api::connect_active_conference),
        )
        .route(
            "/sim/gateways",
            post(admin::enroll).get(admin::list_gateways),
        )
        .route("/sim/ca", get(admin::ca))
        .route(
            "/sim/gateways/{kid}",
            axum::routing::delete(admin::remove_gateway),
        )
        .route("/sim/orgs/{segment}", post(admin::org_verb))
        .route(
            "/sim/orgs/{org}/interopTokens",
            post(admin::issue_token).get(admin::list_tokens),
        )
        .route(
            "/sim/orgs/{org}/interopTokens/{segment}",
            post(admin::token_verb),
        )
        .route("/sim/oauthTokens", post(admin::issue_oauth))
        .route(
            "/sim/spaces",
            post(spaces::create_space).get(spaces::list_spaces),
        )
        .route(
            "/sim/spaces/{segment}",
            get(spaces::get_space).post(spaces::space_verb),
        )
        .route("/sim/spaces/{space}/lobby", get(spaces::lobby))
        .route(
            "/sim/spaces/{space}/lobby/{segment}",
            post(spaces::lobby_verb),
        )
        .route(
            "/sim/spaces/{space}/participants",
            get(spaces::list_participants).post(spaces::add_participant),
        )
        .route(
            "/sim/spaces/{space}/participants/{segment}",
            get(spaces::get_participant).post(spaces::participant_verb),
        )
        .route(
            "/sim/spaces/{space}/participants/{pid}/media",
            get(spaces::media),
        )
        .route(
            "/sim/spaces/{space}/participants/{pid}/messages",
            get(spaces::messages),
        )
        .route(
            "/sim/spaces/{space}/participants/{pid}/channels/{label}",
            post(spaces::channel_message),
        )
        .route("/sim/spaces/{space}/chat", post(spaces::chat))
        .route("/sim/events", get(harness::events))
        .route("/sim/clock", get(harness::clock).post(harness::set_clock))
        .route(
            "/sim/faults",
            get(harness::faults)
                .post(harness::set_faults)
                .delete(harness::clear_faults),
        )
        .route(
            "/m/{segment}",
            get(web::participant_page).post(meet_api::join_browser),
        )
        .route("/m/assets/{file}", get(web::asset))
        .route("/media-api/{segment}", get(web::media_api_page))
        .route("/favicon.ico", get(web::favicon))
        .fallback(|| async { error::no_such_endpoint() })
        .with_state(shared)
}

fn loopback_only(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "meet-sim listens on loopback only (its control API has no authentication), not {addr}"
            ),
        ))
    }
}

/// Serves on `listener` until `shutdown` resolves, with the media plane's UDP task and, under
/// a wall clock, a timer task.
async fn run(
    listener: TcpListener,
    udp: UdpSocket,
    shared: Arc<Shared>,
    config_tick: Option<Duration>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    loopback_only(listener.local_addr()?)?;
    let ticker = config_tick.map(|tick| {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                shared.run(|model, now| model.handle_timeout(now));
            }
        })
    });
    let media = tokio::spawn(media_io::run(udp, Arc::clone(&shared)));
    let result = axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    media.abort();
    result
}

/// The shared state, with the media plane on a UDP socket bound to `config.media_listen`.
async fn shared_for(config: &SimConfig) -> io::Result<(Arc<Shared>, UdpSocket, Option<Duration>)> {
    loopback_only(config.media_listen)?;
    let udp = UdpSocket::bind(config.media_listen).await?;
    // Several browsers starting at once send bursts of simulcast: a large receive buffer
    // keeps the first packets of a layer (the ones carrying its RID) from being dropped.
    let _ = socket2::SockRef::from(&udp).set_recv_buffer_size(MEDIA_RECV_BUFFER);
    let mut media = MediaPlane::new(udp.local_addr()?);
    media.set_max_bitrate(config.model.max_send_bitrate_bps);
    let model = SimModel::new(config.model.clone());
    let shared = Arc::new(Shared::new(model, SimClock::new(config.clock), media));
    let tick = matches!(config.clock, ClockMode::Wall).then_some(config.timer_tick);
    Ok((shared, udp, tick))
}

/// Serves meet-sim on `listener` (which must be bound to a loopback address) until the
/// process ends or an I/O error stops it.
pub async fn serve(listener: TcpListener, config: SimConfig) -> io::Result<()> {
    let (shared, udp, tick) = shared_for(&config).await?;
    run(listener, udp, shared, tick, std::future::pending()).await
}

/// A running simulator, embedded in this process. Dropping it stops the server.
#[derive(Debug)]
pub struct Sim {
    addr: SocketAddr,
    media_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Sim {
    /// Binds `listen` (a loopback address; port 0 for any) and serves in a new task.
    pub async fn spawn(listen: SocketAddr, config: SimConfig) -> io::Result<Self> {
        loopback_only(listen)?;
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (shared, udp, tick) = shared_for(&config).await?;
        let media_addr = udp.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, udp, Arc::clone(&shared), tick, async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            media_addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The UDP address of its media plane (the ICE host candidate of every answer).
    pub fn media_addr(&self) -> SocketAddr {
        self.media_addr
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Runs `f` on the model at the simulator's time; deliveries it causes go to the
    /// mailboxes, as they do for HTTP requests.
    pub fn with_model<R>(&self, f: impl FnOnce(&mut SimModel, SystemTime) -> R) -> R {
        self.shared.run(f)
    }

    /// The data-channel messages kept for participant `pid`, oldest first.
    pub fn mailbox(&self, pid: i64) -> Vec<MailboxEntry> {
        self.shared
            .lock()
            .mailboxes
            .get(&pid)
            .cloned()
            .unwrap_or_default()
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
