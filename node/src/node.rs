//! One node's life: start (probe, bind), serve, reload on SIGHUP, drain on shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::calls::Calls;
use crate::capabilities::Capabilities;
use crate::capacity::Capacity;
use crate::config::Config;
use crate::error::StartError;
use crate::media_ports::MediaPorts;
use crate::meet_backend::{BackendStatus, MeetBackend};
use crate::metrics::Metrics;
use crate::state::Shared;
use crate::{admin, build_info, reload, signals};

/// How often the node drops expired break-in defence entries.
const HOUSEKEEPING_PERIOD: Duration = Duration::from_secs(60);

/// How long calls get to wind down after the drain timeout orders them to end.
const END_ALL_GRACE: Duration = Duration::from_secs(2);

/// A started node: probed, its admin API bound, not yet serving.
#[derive(Debug)]
pub struct Node {
    shared: Arc<Shared>,
    admin: TcpListener,
    admin_addr: SocketAddr,
    sip: crate::sip::Listeners,
    /// The embedded Meet simulator, when no `meet.backend` is configured.
    sim: Option<meet_sim::Sim>,
}

impl Node {
    /// Probes the host, refuses to start without the media plan's elements, and binds the admin
    /// listener. Nothing is served until [`Node::run_until`].
    pub async fn start(config: Config) -> Result<Self, StartError> {
        pipelines::memory::cap_arenas(
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        );
        let capabilities = Capabilities::probe()?;
        capabilities.require_media_plan()?;
        info!(
            gstreamer = %capabilities.media.gstreamer_version,
            elements = capabilities.media.elements.len(),
            "media plan complete"
        );
        info!("{}", capabilities.video_path_reason());

        let admin = TcpListener::bind(config.admin.listen)
            .await
            .map_err(|source| StartError::Bind {
                what: "admin.listen",
                addr: config.admin.listen,
                source,
            })?;
        let admin_addr = admin.local_addr().map_err(|source| StartError::Bind {
            what: "admin.listen",
            addr: config.admin.listen,
            source,
        })?;

        let gateway = crate::meet_gateway::GatewayCredential::load(&config.meet)?.map(Arc::new);
        if let Some(gateway) = &gateway {
            info!(subject = %gateway.subject, kid = gateway.key.kid(), "Meet gateway token loaded");
        }
        let break_in = routing::break_in::BreakInGuard::new(config.routing.break_in.clone());
        let sip = crate::sip::Listeners::bind(&config.sip).await?;
        let bound = sip.bound();
        info!(udp = ?bound.udp, tcp = ?bound.tcp, tls = ?bound.tls, "SIP listening");
        let (sim, meet_backend) = match &config.meet.backend {
            Some(url) => (None, MeetBackend::remote(url)),
            None => {
                let (sim, backend) =
                    MeetBackend::start_embedded(&config.meet, gateway.as_deref(), bound.udp)
                        .await?;
                (Some(sim), backend)
            }
        };
        let router = crate::meet_connectors::compile_routing(&config, &meet_backend)?;
        info!(
            rules = router.rule_count(),
            virtual_receptions = router.reception_count(),
            otj_rules = router.otj().len(),
            "routing loaded"
        );
        let meet_connectors = crate::meet_connectors::MeetConnectors::build(
            &config,
            &meet_backend,
            gateway.as_ref().map(|g| Arc::clone(&g.key)),
        );
        let media_ports = MediaPorts::new(config.media.port_range);
        let capacity = Capacity::for_host(&config.capacity, media_ports.pairs_total());
        info!(
            max_calls = capacity.max_calls,
            limited_by = ?capacity.limited_by,
            licenses = config.capacity.licenses,
            cpu_gateway_calls = ?capacity.cpu_calls,
            media_ports = media_ports.ports_total(),
            "capacity"
        );
        let metrics = Metrics::new(
            build_info::VERSION,
            build_info::REVISION,
            &capabilities.media.gstreamer_version,
        );
        let calls = Calls::new(
            capacity.limits(&config.capacity),
            metrics.calls_total.clone(),
        );
        let shared = Arc::new(Shared {
            config: RwLock::new(config),
            started: Instant::now(),
            calls,
            media_ports,
            capabilities,
            metrics,
            capacity: Mutex::new(capacity),
            reload_error: Mutex::new(None),
            router: RwLock::new(Arc::new(router)),
            sip_bound: bound,
            gateway: RwLock::new(gateway),
            meet_backend,
            meet_connectors,
            break_in: Mutex::new(break_in),
        });
        Ok(Self {
            shared,
            admin,
            admin_addr,
            sip,
            sim,
        })
    }

    /// Where the admin API listens (the real port when `admin.listen` asked for port 0).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Where SIP over UDP listens (the real port when `sip.udp` asked for port 0).
    pub fn sip_udp_addr(&self) -> Option<SocketAddr> {
        self.sip.bound().udp
    }

    /// Where SIP over TCP listens.
    pub fn sip_tcp_addr(&self) -> Option<SocketAddr> {
        self.sip.bound().tcp
    }

    /// Where SIP over TLS listens, when a certificate is configured.
    pub fn sip_tls_addr(&self) -> Option<SocketAddr> {
        self.sip.bound().tls
    }

    /// The Meet backend: `meet.backend`, or the embedded simulator and its demo meeting.
    pub fn meet_backend(&self) -> &BackendStatus {
        &self.shared.meet_backend.status
    }

    /// The call registry, for the call controller.
    pub fn calls(&self) -> Calls {
        self.shared.calls.clone()
    }

    /// The media port pool, for the call controller.
    pub fn media_ports(&self) -> MediaPorts {
        self.shared.media_ports.clone()
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        self.shared.config()
    }

    /// A handle for the call controller: routing with break-in defence and metrics.
    pub fn router(&self) -> NodeRouter {
        NodeRouter {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Serves until `shutdown` resolves, reloading the configuration on every SIGHUP; then
    /// drains: `/readyz` answers 503, new calls are refused, and active calls get up to
    /// `node.drain_timeout` to end before they are ordered to; then the embedded simulator, if
    /// any, stops. Returns when the node is down.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
        let Self {
            shared,
            admin,
            admin_addr,
            sip,
            sim,
        } = self;
        let (stop_sip, sip_stopped) = tokio::sync::watch::channel(false);
        let sip_task = tokio::spawn(crate::sip::serve(Arc::clone(&shared), sip, sip_stopped));
        let mut hangup = signals::hangup().map_err(StartError::Signals)?;
        let (stop_admin, admin_stopped) = oneshot::channel::<()>();
        let server =
            axum::serve(admin, admin::router(Arc::clone(&shared))).with_graceful_shutdown(async {
                let _ = admin_stopped.await;
            });
        let server = tokio::spawn(async move { server.await });
        info!(admin = %admin_addr, "node running");

        tokio::pin!(shutdown);
        let mut housekeeping = tokio::time::interval(HOUSEKEEPING_PERIOD);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = housekeeping.tick() => {
                    crate::state::lock(&shared.break_in).purge(Instant::now());
                }
                Some(()) = hangup.recv() => {
                    info!("SIGHUP received: reloading the configuration");
                    reload::reload(&shared);
                }
            }
        }

        drain(&shared).await;
        let _ = stop_sip.send(true);
        let _ = sip_task.await;
        let _ = stop_admin.send(());
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!("admin API ended with an error: {e}"),
            Err(e) => warn!("admin API task failed: {e}"),
        }
        if let Some(sim) = sim
            && let Err(e) = sim.shutdown().await
        {
            warn!("the embedded Meet simulator ended with an error: {e}");
        }
        info!("node stopped");
        Ok(())
    }
}

async fn drain(shared: &Shared) {
    let calls = &shared.calls;
    calls.start_draining();
    let timeout = shared.config().node.drain_timeout;
    let active = calls.active();
    if active > 0 {
        info!(
            active,
            timeout = %humantime::format_duration(timeout),
            "draining: waiting for active calls to end"
        );
    }
    if !calls.wait_idle(timeout).await {
        warn!(
            active = calls.active(),
            "drain timeout reached: ending the remaining calls"
        );
        calls.end_all();
        if !calls.wait_idle(END_ALL_GRACE).await {
            warn!(active = calls.active(), "calls still active at exit");
        }
    }
}

/// Routes incoming calls with the rules in force (see [`crate::call_routing`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct NodeRouter {
    shared: Arc<Shared>,
}

impl NodeRouter {
    /// Routes an incoming call. `now` drives break-in defence.
    pub fn route(
        &self,
        request: &crate::call_routing::RouteRequest<'_>,
        now: Instant,
    ) -> Result<routing::router::Lookup, crate::refusal::CallRefusal> {
        crate::call_routing::route(&self.shared, request, now)
    }

    /// Routes what a caller entered in a Virtual Reception, trying only `lookup_rules`.
    pub fn route_entry(
        &self,
        request: &crate::call_routing::RouteRequest<'_>,
        lookup_rules: &[String],
        now: Instant,
    ) -> Result<routing::router::Lookup, crate::refusal::CallRefusal> {
        crate::call_routing::route_entry(&self.shared, request, lookup_rules, now)
    }
}

/// Starts a node on `config` and runs it until `shutdown` resolves (see [`Node::run_until`]).
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
    Node::start(config).await?.run_until(shutdown).await
}
