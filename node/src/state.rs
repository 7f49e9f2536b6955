//! The state one node shares between its tasks (admin API, lifecycle, call controller).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use crate::calls::Calls;
use crate::capabilities::Capabilities;
use crate::capacity::Capacity;
use crate::config::Config;
use crate::media_ports::MediaPorts;
use crate::metrics::Metrics;

/// Everything behind the node's `Arc`.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The configuration in force (updated by reloads).
    pub(crate) config: RwLock<Config>,
    pub(crate) started: Instant,
    pub(crate) calls: Calls,
    pub(crate) media_ports: MediaPorts,
    pub(crate) capabilities: Capabilities,
    pub(crate) metrics: Metrics,
    pub(crate) capacity: Mutex<Capacity>,
    /// Why the last reload was refused; `None` after a successful one.
    pub(crate) reload_error: Mutex<Option<String>>,
    /// The compiled routing configuration in force, swapped whole on reload.
    pub(crate) router: RwLock<Arc<routing::router::Router>>,
    /// The bound SIP listeners.
    pub(crate) sip_bound: crate::sip::SipBound,
    /// The Meet gateway credential (`meet.gateway_key` + `meet.gateway_token`), swapped on
    /// reload.
    pub(crate) gateway: RwLock<Option<Arc<crate::meet_gateway::GatewayCredential>>>,
    /// The Meet backend: `meet.backend`, or the embedded simulator (fixed for the node's life).
    pub(crate) meet_backend: crate::meet_backend::MeetBackend,
    /// One Meet connector per access token (fixed for the node's life, like the backend).
    pub(crate) meet_connectors: crate::meet_connectors::MeetConnectors,
    /// Break-in defence; its history outlives reloads.
    pub(crate) break_in: Mutex<routing::break_in::BreakInGuard>,
}

impl Shared {
    /// The gateway credential in force.
    pub(crate) fn gateway(&self) -> Option<Arc<crate::meet_gateway::GatewayCredential>> {
        self.gateway
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn capacity(&self) -> Capacity {
        *lock(&self.capacity)
    }

    pub(crate) fn reload_error(&self) -> Option<String> {
        lock(&self.reload_error).clone()
    }
}

/// Values behind these locks are replaced whole, so a poisoned lock still holds a valid value.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
