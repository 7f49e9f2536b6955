//! Routing an incoming call on a running node: break-in defence, the rules in force, metrics.
//!
//! The router is swapped whole on a configuration reload; a call keeps the [`Lookup`] it got,
//! so a reload never changes a decision already made. The break-in guard's history survives
//! reloads.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use routing::Protocol;
use routing::alias::Alias;
use routing::router::{Lookup, Outcome};
use routing::rules::IncomingCall;
use tracing::{info, warn};

use crate::refusal::CallRefusal;
use crate::state::{Shared, lock};

/// An incoming call to route.
#[derive(Clone, Copy, Debug)]
pub struct RouteRequest<'a> {
    /// The dialled alias as received (Request-URI, H.323 destination alias).
    pub alias: &'a str,
    /// The signalling protocol.
    pub protocol: Protocol,
    /// The signalling source address.
    pub source: IpAddr,
    /// Whether the caller is registered to this node.
    pub registered: bool,
}

/// Routes `request` with the rules in force. A Virtual Reception or a matched rule is `Ok`;
/// everything else is a [`CallRefusal`]. Failed lookups count toward break-in defence.
pub(crate) fn route(
    shared: &Shared,
    request: &RouteRequest<'_>,
    now: Instant,
) -> Result<Lookup, CallRefusal> {
    lookup(shared, request, now, None)
}

/// Routes what a caller entered in a Virtual Reception, trying only `lookup_rules`. A wrong ID
/// counts toward break-in defence like a wrong alias.
pub(crate) fn route_entry(
    shared: &Shared,
    request: &RouteRequest<'_>,
    lookup_rules: &[String],
    now: Instant,
) -> Result<Lookup, CallRefusal> {
    lookup(shared, request, now, Some(lookup_rules))
}

fn lookup(
    shared: &Shared,
    request: &RouteRequest<'_>,
    now: Instant,
    entry: Option<&[String]>,
) -> Result<Lookup, CallRefusal> {
    if let Err(blocked) = lock(&shared.break_in).check(request.source, now) {
        return Err(count(
            shared,
            CallRefusal::Blocked {
                until: blocked.until,
            },
        ));
    }
    let result = decide(&shared.router(), request, entry).and_then(|lookup| {
        gateway_token_valid(shared, &lookup)?;
        Ok(lookup)
    });
    match result {
        Ok(lookup) => {
            shared.metrics.count_lookup(outcome_label(&lookup.outcome));
            Ok(lookup)
        }
        Err(refusal) => {
            if refusal.is_lookup_failure() {
                record_lookup_failure(shared, request.source, now);
            }
            Err(count(shared, refusal))
        }
    }
}

/// Counts a failed lookup from `source` toward break-in defence (a wrong alias, or a meeting
/// ID entered in a Virtual Reception that names no conference), blocking the source when it
/// has failed too often.
pub(crate) fn record_lookup_failure(shared: &Shared, source: IpAddr, now: Instant) {
    if let Some(blocked) = lock(&shared.break_in).record_failure(source, now) {
        shared.metrics.count_break_in_block();
        warn!(
            source = %source,
            block_for = ?blocked.until.saturating_duration_since(now),
            "break-in defence: blocking a source after repeated failed lookups"
        );
    }
}

/// A call routed into Meet needs a gateway token that has not expired.
fn gateway_token_valid(shared: &Shared, lookup: &Lookup) -> Result<(), CallRefusal> {
    let Outcome::Routed { decision, .. } = &lookup.outcome else {
        return Ok(());
    };
    if !matches!(decision.target, routing::rules::Target::Meet { .. }) {
        return Ok(());
    }
    let Some(gateway) = shared.gateway() else {
        return Ok(());
    };
    let left = gateway.seconds_left(std::time::SystemTime::now());
    if left > 0.0 {
        return Ok(());
    }
    let days_ago = (-left / 86_400.0) as u64;
    tracing::error!(
        days_ago,
        subject = %gateway.subject,
        "refusing a call into Meet: the gateway token (meet.gateway_token) has expired; \
         request and install a renewed token"
    );
    Err(CallRefusal::GatewayTokenExpired { days_ago })
}

/// The pure part: parse, look up, turn non-routes into refusals.
pub(crate) fn decide(
    router: &routing::router::Router,
    request: &RouteRequest<'_>,
    entry: Option<&[String]>,
) -> Result<Lookup, CallRefusal> {
    let alias = Alias::parse(request.alias, request.protocol)?;
    let call = IncomingCall {
        alias: &alias,
        protocol: request.protocol,
        source: request.source,
        registered: request.registered,
    };
    let lookup = match entry {
        None => router.route(&call),
        Some(rules) => router.route_entry(&call, rules),
    };
    match &lookup.outcome {
        Outcome::Reception { .. } | Outcome::Routed { .. } => Ok(lookup),
        Outcome::NoMatch => Err(CallRefusal::NoMatch),
        Outcome::NotAMeetingId { decision } => Err(CallRefusal::NotAMeetingId {
            rule: decision.rule.clone(),
            alias: decision.alias.clone(),
        }),
    }
}

fn count(shared: &Shared, refusal: CallRefusal) -> CallRefusal {
    shared.metrics.count_lookup(refusal.label());
    info!(result = refusal.label(), "call refused: {refusal}");
    refusal
}

fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Reception { .. } => "reception",
        Outcome::Routed { .. } => "routed",
        Outcome::NoMatch => "no_match",
        Outcome::NotAMeetingId { .. } => "not_a_meeting_id",
    }
}

impl Shared {
    /// The router in force.
    pub(crate) fn router(&self) -> Arc<routing::router::Router> {
        Arc::clone(
            &self
                .router
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// Every `result` label of `tcn_route_lookups_total`, for pre-creating the series.
pub(crate) const LOOKUP_RESULTS: [&str; 6] = [
    "routed",
    "reception",
    "no_match",
    "not_a_meeting_id",
    "invalid_alias",
    "blocked",
];
