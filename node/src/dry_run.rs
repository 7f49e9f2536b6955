//! `tcn route`: where a call to an alias would go, and why, without placing it.

use std::fmt::Write as _;

use routing::router::{Lookup, Outcome, Router};
use routing::rules::Target;
use serde_json::{Value, json};

use crate::call_routing::{RouteRequest, decide};
use crate::refusal::CallRefusal;

/// A dry run's result.
#[derive(Debug)]
pub struct DryRun {
    /// The alias as given.
    pub input: String,
    /// Protocol, source and registration as given.
    pub protocol: routing::Protocol,
    /// Source address.
    pub source: std::net::IpAddr,
    /// Registered flag.
    pub registered: bool,
    /// The lookup (present unless the alias did not parse).
    pub lookup: Option<Lookup>,
    /// Why the call would be refused, if it would.
    pub refusal: Option<CallRefusal>,
}

impl DryRun {
    /// Routes `request` through `router` (break-in defence is not consulted: nothing is called).
    pub fn run(router: &Router, request: &RouteRequest<'_>) -> Self {
        let (lookup, refusal) = match decide(router, request, None) {
            Ok(lookup) => (Some(lookup), None),
            Err(refusal) => {
                // A refused lookup still has a trace worth showing; re-run it to keep it.
                let lookup = routing::alias::Alias::parse(request.alias, request.protocol)
                    .ok()
                    .map(|alias| {
                        router.route(&routing::rules::IncomingCall {
                            alias: &alias,
                            protocol: request.protocol,
                            source: request.source,
                            registered: request.registered,
                        })
                    });
                (lookup, Some(refusal))
            }
        };
        Self {
            input: request.alias.to_owned(),
            protocol: request.protocol,
            source: request.source,
            registered: request.registered,
            lookup,
            refusal,
        }
    }

    /// Exit status: 0 when the call would be taken, 1 when refused.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.refusal.is_some())
    }

    /// The human-readable report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "alias {} over {} from {} ({})",
            self.input,
            self.protocol,
            self.source,
            if self.registered {
                "registered"
            } else {
                "not registered"
            }
        );
        if let Some(lookup) = &self.lookup {
            for (i, entry) in lookup.trace.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {:>2}. {} (priority {}): {}",
                    i + 1,
                    entry.rule,
                    entry.priority,
                    entry.verdict
                );
            }
            match &lookup.outcome {
                Outcome::Reception { name } => {
                    let _ = writeln!(
                        out,
                        "=> Virtual Reception \"{name}\": the caller is asked for a meeting ID"
                    );
                }
                Outcome::Routed { decision, meeting } => {
                    let _ = writeln!(
                        out,
                        "=> rule \"{}\" (priority {})",
                        decision.rule, decision.priority
                    );
                    let _ = writeln!(out, "   alias:  {}", decision.alias);
                    if let Some(meeting) = meeting {
                        let _ = writeln!(out, "   meeting: {}", meeting);
                    }
                    let _ = writeln!(out, "   target: {}", describe(&decision.target));
                }
                Outcome::NoMatch | Outcome::NotAMeetingId { .. } => {}
            }
        }
        if let Some(refusal) = &self.refusal {
            let status = refusal.sip_status();
            let _ = writeln!(
                out,
                "=> refused: {refusal} (SIP {} {})",
                status.code, status.reason
            );
        }
        out
    }

    /// The JSON report: `{"rule", "alias", "target", "trace", …}`.
    pub fn json(&self) -> Value {
        let (rule, alias, target, meeting, reception) =
            match self.lookup.as_ref().map(|l| &l.outcome) {
                Some(Outcome::Routed { decision, meeting }) => (
                    json!(decision.rule),
                    json!(decision.alias),
                    json!(decision.target),
                    json!(meeting),
                    Value::Null,
                ),
                Some(Outcome::Reception { name }) => (
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    json!(name),
                ),
                Some(Outcome::NotAMeetingId { decision }) => (
                    json!(decision.rule),
                    json!(decision.alias),
                    json!(decision.target),
                    Value::Null,
                    Value::Null,
                ),
                Some(Outcome::NoMatch) | None => (
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ),
            };
        let refusal = self.refusal.as_ref().map(|r| {
            let status = r.sip_status();
            json!({"reason": r.label(), "message": r.to_string(), "sip_status": status.code})
        });
        json!({
            "input": {
                "alias": self.input,
                "protocol": self.protocol,
                "source": self.source,
                "registered": self.registered,
            },
            "rule": rule,
            "alias": alias,
            "target": target,
            "meeting": meeting,
            "reception": reception,
            "refusal": refusal,
            "trace": self.lookup.as_ref().map(|l| json!(l.trace)).unwrap_or_else(|| json!([])),
        })
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Meet {
            access_token,
            trusted: true,
        } => {
            format!(
                "Google Meet with access token \"{access_token}\" (trusted: straight into the meeting)"
            )
        }
        Target::Meet {
            access_token,
            trusted: false,
        } => {
            format!(
                "Google Meet with access token \"{access_token}\" (untrusted: the caller waits in the lobby)"
            )
        }
        Target::Sip {
            proxy: Some(proxy),
            transport,
            ..
        } => format!(
            "SIP via proxy {proxy} over {}",
            serde_json::to_value(transport)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        Target::Sip { .. } => "SIP, destination located by DNS".to_owned(),
    }
}
