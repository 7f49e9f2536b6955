//! The Meet backend calls are connected to: the URL in `meet.backend`, or by default meet-sim
//! started inside the node on loopback with a demo meeting, so that `make run` has a
//! conference to dial without a Google account.
//!
//! The embedded simulator is set up through its model, as its control API would be: the
//! demo organisation [`DEMO_ORG`] with a trusted interop token, the node's gateway key
//! enrolled for `meet.issuer` (`meet.gateway_key`, or an ephemeral ES256 key whose CSR the
//! simulator's test CA signs), and a demo space with a running conference. Its base URL,
//! meeting code, long ID, browser page and the SIP URI to dial are printed at start and shown
//! in `/status`; the interop token and keys never are.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use meet::jwt::{GatewayKey, InteropToken, SigningAlgorithm};
use meet_sim::model::{SimError, SpaceRequest};
use meet_sim::{Sim, SimConfig};
use serde::Serialize;
use tracing::info;

use crate::config::MeetConfig;
use crate::error::StartError;
use crate::meet_gateway::GatewayCredential;

/// The organisation that owns the demo space and issues the node's interop token.
pub const DEMO_ORG: &str = "tcn.demo";

/// The name of the demo interop token.
const DEMO_TOKEN_NAME: &str = "tcn demo";

/// The backend in `/status` and the start-up banner: where it is, never a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackendStatus {
    /// The backend at `meet.backend`.
    Remote {
        /// `meet.backend`.
        url: String,
    },
    /// meet-sim in this process, with its demo meeting.
    EmbeddedSim {
        /// Its base URL, `http://127.0.0.1:<port>`.
        url: String,
        /// The demo meeting.
        demo: DemoMeeting,
    },
}

/// The demo meeting of the embedded simulator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DemoMeeting {
    /// `spaces/{id}`.
    pub space: String,
    /// The meeting code, `abc-defg-hij`.
    pub meeting_code: String,
    /// The 13-digit long ID a room system dials.
    pub long_id: String,
    /// The SIP URI to dial: `sip:<long ID>@<SIP/UDP address of the node>`.
    pub dial: String,
    /// The simulator's browser page for the meeting, `<url>/m/<meeting code>`.
    pub browser_url: String,
    /// The organisation that owns it.
    pub org: String,
}

/// What the node presents to the embedded simulator: the key it signs with and the demo
/// organisation's interop token. `Debug` shows the `kid` only.
pub(crate) struct EmbeddedCredentials {
    /// The gateway key the simulator enrolled: `meet.gateway_key`, or an ephemeral key.
    pub(crate) key: Arc<GatewayKey>,
    /// The trusted interop token of [`DEMO_ORG`].
    pub(crate) interop_token: InteropToken,
}

impl fmt::Debug for EmbeddedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedCredentials")
            .field("kid", &self.key.kid())
            .finish_non_exhaustive()
    }
}

/// The backend in force for the node's life (a change of `meet.backend` needs a restart).
#[derive(Debug)]
pub(crate) struct MeetBackend {
    /// What `/status` shows.
    pub(crate) status: BackendStatus,
    /// With the embedded simulator: what the node presents to it.
    pub(crate) embedded: Option<EmbeddedCredentials>,
}

impl MeetBackend {
    /// The backend at `url`.
    pub(crate) fn remote(url: &str) -> Self {
        info!(url, "Meet backend configured (meet.backend)");
        Self {
            status: BackendStatus::Remote {
                url: url.to_owned(),
            },
            embedded: None,
        }
    }

    /// Starts meet-sim on `meet.embedded_sim_listen` and sets up the demo meeting; `sip` is
    /// the node's SIP/UDP address, for the URI to dial. The returned [`Sim`] serves until it
    /// is shut down or dropped.
    pub(crate) async fn start_embedded(
        config: &MeetConfig,
        gateway: Option<&GatewayCredential>,
        sip: Option<SocketAddr>,
    ) -> Result<(Sim, Self), StartError> {
        let mut sim_config = SimConfig::default();
        sim_config.model.audience.clone_from(&config.audience);
        let sim = Sim::spawn(config.embedded_sim_listen, sim_config)
            .await
            .map_err(|source| StartError::Bind {
                what: "meet.embedded_sim_listen",
                addr: config.embedded_sim_listen,
                source,
            })?;
        let setup = |e: SimError| StartError::MeetSim(e.to_string());
        let key = match gateway {
            Some(gateway) => {
                let key = Arc::clone(&gateway.key);
                let public = key.verifying_key().clone();
                sim.with_model(|model, now| model.enroll_gateway(&config.issuer, public, now))
                    .map_err(setup)?;
                key
            }
            None => {
                // No meet.gateway_key: a key for this run only, enrolled the way an operator
                // would enrol one made with `tcn meet-csr`. ES256 whatever meet.algorithm says:
                // ring cannot make RSA keys.
                let fail = |e: String| StartError::MeetSim(format!("ephemeral gateway key: {e}"));
                let (key_pem, csr_pem) = crate::meet_gateway::new_key_and_csr(&config.key_id)
                    .map_err(|e| fail(e.to_string()))?;
                sim.with_model(|model, now| {
                    model.enroll_csr(
                        &config.issuer,
                        &csr_pem,
                        Some(&config.key_id),
                        Some(SigningAlgorithm::Es256.name()),
                        now,
                    )
                })
                .map_err(setup)?;
                let key = GatewayKey::from_pem(&config.key_id, SigningAlgorithm::Es256, &key_pem)
                    .map_err(|e| fail(e.to_string()))?;
                Arc::new(key)
            }
        };
        let (token, space) = sim
            .with_model(|model, now| {
                let token =
                    model.issue_interop_token(DEMO_ORG, DEMO_TOKEN_NAME, "GATEWAY", true, now)?;
                let space = model.create_space(
                    SpaceRequest {
                        owner_org: DEMO_ORG.to_owned(),
                        ..SpaceRequest::default()
                    },
                    now,
                )?;
                let space = model.start_conference(&space.name, now)?;
                Ok((token, space))
            })
            .map_err(setup)?;
        let url = sim.url();
        let demo = DemoMeeting {
            dial: format!("sip:{}@{}", space.long_id, dial_address(sip)),
            browser_url: format!("{url}/m/{}", space.meeting_code),
            space: space.name,
            meeting_code: space.meeting_code,
            long_id: space.long_id,
            org: DEMO_ORG.to_owned(),
        };
        info!(
            url,
            meeting_code = demo.meeting_code,
            long_id = demo.long_id,
            dial = demo.dial,
            browser = demo.browser_url,
            kid = key.kid(),
            "no meet.backend configured: meet-sim started in the node with a demo meeting"
        );
        Ok((
            sim,
            Self {
                status: BackendStatus::EmbeddedSim { url, demo },
                embedded: Some(EmbeddedCredentials {
                    key,
                    interop_token: InteropToken::new(token.token),
                }),
            },
        ))
    }
}

/// Where a caller on this host reaches SIP/UDP: the bound address, with 127.0.0.1 for an
/// unspecified one.
fn dial_address(sip: Option<SocketAddr>) -> SocketAddr {
    let mut addr = sip.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 5060)));
    if addr.ip().is_unspecified() {
        addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    addr
}
