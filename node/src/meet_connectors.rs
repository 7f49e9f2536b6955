//! The Meet connectors of a node, one per interop access token, and the demo route of the
//! embedded simulator.
//!
//! A routing rule names its access token (`target = { kind = "meet", access_token = "<name>" }`);
//! the call uses that token's connector, which mints each request's gateway JWT with the
//! node's key and carries the token. With the embedded simulator (no `meet.backend`), the node
//! adds the demo meeting's trusted token, [`DEMO_TOKEN`], and, when no rule is configured (the
//! built-in defaults), a rule [`DEMO_RULE`] that routes the demo's long ID to it: that is how the
//! ID printed by `tcn run` reaches the demo meeting with no configuration at all. A
//! configuration with rules of its own routes only by them.

use std::collections::HashMap;
use std::sync::Arc;

use meet::connector::{GatewayCredential, HttpConnector, MeetConnector};
use meet::jwt::{GatewayKey, InteropToken};
use routing::rules::{AccessTokenRef, RuleConfig};
use tracing::warn;

use crate::config::{Config, ConfigError};
use crate::meet_backend::{BackendStatus, MeetBackend};

/// The name of the embedded demo meeting's trusted access token.
pub const DEMO_TOKEN: &str = "tcn-demo";

/// The name of the rule that routes the demo meeting's long ID.
pub const DEMO_RULE: &str = "tcn-demo";

/// The connectors by access-token name.
#[derive(Default)]
pub(crate) struct MeetConnectors {
    by_token: HashMap<String, Arc<dyn MeetConnector>>,
}

impl std::fmt::Debug for MeetConnectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.by_token.keys().collect();
        names.sort();
        f.debug_struct("MeetConnectors")
            .field("tokens", &names)
            .finish()
    }
}

impl MeetConnectors {
    /// One connector per configured access token (and the demo token with the embedded
    /// simulator), signing with `key`. Without a key there is nothing to sign with: no
    /// connector, and calls into Meet are refused.
    pub(crate) fn build(
        config: &Config,
        backend: &MeetBackend,
        key: Option<Arc<GatewayKey>>,
    ) -> Self {
        let meet = &config.meet;
        let (url, key) = match (&backend.status, &backend.embedded) {
            (BackendStatus::EmbeddedSim { url, .. }, Some(embedded)) => {
                (url.clone(), Arc::clone(&embedded.key))
            }
            (BackendStatus::Remote { url }, _) => match key {
                Some(key) => (url.clone(), key),
                None => {
                    warn!("no meet.gateway_key: calls into Meet will be refused");
                    return Self::default();
                }
            },
            (BackendStatus::EmbeddedSim { .. }, None) => return Self::default(),
        };
        let mut tokens: Vec<(String, InteropToken)> = meet
            .access_tokens
            .iter()
            .map(|t| (t.name.clone(), InteropToken::new(t.token.expose())))
            .collect();
        if let Some(embedded) = &backend.embedded {
            tokens.push((DEMO_TOKEN.to_owned(), embedded.interop_token.clone()));
        }
        let mut by_token = HashMap::new();
        for (name, token) in tokens {
            let credential = GatewayCredential::new(
                Arc::clone(&key),
                meet.issuer.clone(),
                meet.audience.clone(),
                token,
            );
            match HttpConnector::new(&url, credential) {
                Ok(connector) => {
                    by_token.insert(name, Arc::new(connector) as Arc<dyn MeetConnector>);
                }
                Err(e) => warn!(token = name, "no Meet connector for this access token: {e}"),
            }
        }
        Self { by_token }
    }

    /// The connector of access token `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn MeetConnector>> {
        self.by_token.get(name).cloned()
    }
}

/// The routing in force: the configured rules; or, on built-in defaults (no rules) with the
/// embedded simulator, the demo rule alone.
pub(crate) fn compile_routing(
    config: &Config,
    backend: &MeetBackend,
) -> Result<routing::router::Router, ConfigError> {
    let BackendStatus::EmbeddedSim { demo, .. } = &backend.status else {
        return crate::config::compile_routing(config);
    };
    if !config.routing.rules.is_empty() {
        return crate::config::compile_routing(config);
    }
    let mut routing = config.routing.clone();
    let mut tokens = config.meet.token_refs();
    tokens.push(AccessTokenRef {
        name: DEMO_TOKEN.to_owned(),
        trusted: true,
    });
    let rule: RuleConfig = toml::from_str(&format!(
        "name = \"{DEMO_RULE}\"\npriority = 200\nmatch = '{}@.*'\n\
         target = {{ kind = \"meet\", access_token = \"{DEMO_TOKEN}\" }}\n",
        demo.long_id
    ))
    .map_err(|e| ConfigError::invalid("routing.rules", format!("demo rule: {e}")))?;
    routing.rules.push(rule);
    routing::router::Router::new(&routing, &tokens)
        .map_err(|e| ConfigError::invalid(format!("{}.{}", e.item, e.field), e.reason))
}
