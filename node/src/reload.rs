//! SIGHUP: re-read the configuration file and apply what can change while calls run.
//!
//! A refused file leaves the running configuration untouched; the refusal is logged, counted in
//! `tcn_config_reloads_total{result="rejected"}` and raised as the `config_reload_rejected`
//! alarm until a later reload succeeds. Settings that need new sockets (listeners, port ranges)
//! or a new logger keep their running values and are reported as needing a restart, and so do
//! `meet.backend` and `meet.embedded_sim_listen`. Routing (`[routing]`, the rest of `[meet]`)
//! is swapped whole; calls in progress keep the decision they got.

use tracing::{error, info, warn};

use crate::capacity::Capacity;
use crate::config::Config;
use crate::metrics::ReloadResult;
use crate::state::{Shared, lock};

pub(crate) fn reload(shared: &Shared) {
    let running = shared.config();
    let Some(source) = running.source.clone() else {
        info!("SIGHUP: the node runs on built-in defaults, so there is no file to reload");
        return;
    };
    let mut next = match Config::load(&source) {
        Ok(next) => next,
        Err(e) => {
            error!(file = %source.display(), "configuration reload refused, keeping the running configuration: {e}");
            *lock(&shared.reload_error) = Some(e.to_string());
            shared.metrics.count_reload(ReloadResult::Rejected);
            return;
        }
    };

    let mut restart_needed = Vec::new();
    macro_rules! keep_running {
        ($($section:ident),*) => {$(
            if next.$section != running.$section {
                restart_needed.push(stringify!($section));
                next.$section = running.$section.clone();
            }
        )*};
    }
    keep_running!(admin, log, sip, media, signaling);
    if next.meet.backend != running.meet.backend
        || next.meet.embedded_sim_listen != running.meet.embedded_sim_listen
    {
        restart_needed.push("meet.backend");
        next.meet.backend.clone_from(&running.meet.backend);
        next.meet.embedded_sim_listen = running.meet.embedded_sim_listen;
    }
    if !restart_needed.is_empty() {
        warn!(
            sections = ?restart_needed,
            "configuration reloaded; changes to these sections take effect after a restart"
        );
    }

    // `Config::load` compiled the routing already; compiling again cannot fail on the same text,
    // but a failure is still answered as a refusal rather than a panic.
    let router = match crate::meet_connectors::compile_routing(&next, &shared.meet_backend) {
        Ok(router) => router,
        Err(e) => {
            error!("configuration reload refused: {e}");
            *lock(&shared.reload_error) = Some(e.to_string());
            shared.metrics.count_reload(ReloadResult::Rejected);
            return;
        }
    };
    *shared
        .router
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(router);
    lock(&shared.break_in).set_config(next.routing.break_in.clone());
    // Checked by `Config::load` already; a file that changed since is kept out as a refusal
    // would be, with the running credential left in place.
    match crate::meet_gateway::GatewayCredential::load(&next.meet) {
        Ok(gateway) => {
            *shared
                .gateway
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                gateway.map(std::sync::Arc::new);
        }
        Err(e) => warn!("gateway credential not reloaded: {e}"),
    }

    let capacity = Capacity::for_host(&next.capacity, shared.media_ports.pairs_total());
    shared.calls.set_limits(capacity.limits(&next.capacity));
    let next_licenses = next.capacity.licenses;
    *lock(&shared.capacity) = capacity;
    *shared
        .config
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    *lock(&shared.reload_error) = None;
    shared.metrics.count_reload(ReloadResult::Applied);
    info!(
        file = %source.display(),
        max_calls = capacity.max_calls,
        licenses = next_licenses,
        "configuration reloaded"
    );
}
