//! Gateway enrolment, organisations, interop tokens and OAuth test tokens (meet-side.md §5.b
//! "Gateway authentication", items 1 and 2; §2.2).
//!
//! Enrolment registers a public key for a gateway issuer: given as a JWK or PEM with its `kid`
//! ([`SimModel::enroll_gateway`]), or as a PKCS#10 certificate signing request, which the
//! simulator's test CA checks and signs ([`SimModel::enroll_csr`], see [`ca`](super::ca)).

use std::time::SystemTime;

use serde::Serialize;

use super::SimModel;
use super::ca::{CheckedCsr, TestCa};
use super::error::{RpcCode, SimError};
use super::events::EventKind;
use super::time::unix_ms;
use meet::jwt::{SigningAlgorithm, VerifyingKey};

/// The OAuth scopes `connectActiveConference` accepts, one of them required (§1.2).
pub const MEDIA_SCOPES: [&str; 3] = [
    "https://www.googleapis.com/auth/meetings.conference.media.readonly",
    "https://www.googleapis.com/auth/meetings.conference.media.audio.readonly",
    "https://www.googleapis.com/auth/meetings.conference.media.video.readonly",
];

/// The interop token types of the Admin console, plus the sim's generic `GATEWAY` (§2.2).
const TOKEN_TYPES: [&str; 4] = ["GATEWAY", "PEXIP", "ZOOM", "WEBEX"];

/// A registered gateway key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledKey {
    /// The `iss` tokens signed by this key must carry.
    pub issuer: String,
    /// The key id.
    pub kid: String,
    /// `ES256` or `RS256`: the only `alg` accepted for this key.
    pub alg: String,
}

/// A gateway enrolled with a CSR: its key as registered, and the certificate chain the test
/// CA issued for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrolledCertificate {
    /// The registered key.
    #[serde(flatten)]
    pub key: EnrolledKey,
    /// The certificate issued for the key, then the CA certificate, PEM.
    pub certificate_chain_pem: String,
}

/// An organisation (a Workspace customer).
#[derive(Clone, Debug)]
pub(super) struct Org {
    /// "Allow interoperability with other systems" (§2.2); on by default.
    pub(super) interop_enabled: bool,
}

impl Default for Org {
    fn default() -> Self {
        Self {
            interop_enabled: true,
        }
    }
}

/// What the control API shows of an interop token: everything but its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InteropTokenInfo {
    /// The token's id, for revoking and flipping it.
    pub id: u64,
    /// The issuing organisation.
    pub org: String,
    /// The admin's name for it.
    pub name: String,
    /// `GATEWAY`, `PEXIP`, `ZOOM` or `WEBEX`.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Trusted devices join without knocking.
    pub trusted: bool,
    /// Revoked tokens are refused with 403.
    pub revoked: bool,
}

/// A freshly issued token: the only time its value is shown (§2.2: "shown once").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedInteropToken {
    /// The token's details.
    #[serde(flatten)]
    pub info: InteropTokenInfo,
    /// The opaque value the gateway puts in the `itk` claim.
    pub token: String,
}

#[derive(Clone, Debug)]
pub(super) struct TokenRecord {
    pub(super) info: InteropTokenInfo,
    pub(super) value: String,
}

impl SimModel {
    /// Registers `key` for tokens issued by `issuer`. A `kid` already registered is refused
    /// (409 `ALREADY_EXISTS`, reason `KID_IN_USE`): remove it first.
    pub fn enroll_gateway(
        &mut self,
        issuer: &str,
        key: VerifyingKey,
        now: SystemTime,
    ) -> Result<EnrolledKey, SimError> {
        let now = self.step(now);
        self.check_enrollable(issuer, key.kid())?;
        Ok(self.register_key(issuer, key, now))
    }

    /// Enrols the key of a PKCS#10 request (`csr_pem`) for `issuer` and returns the
    /// certificate the test CA signs for it, valid from `now` for
    /// [`certificate_validity`](super::ModelConfig::certificate_validity).
    ///
    /// The request's self-signature must verify. Its key decides the algorithm: P-256 is
    /// ES256, RSA (2048 bits or more) is RS256; an `alg` that names the other one, or neither,
    /// is refused. `kid` defaults to the request's subject CN. Refusals are 400
    /// `INVALID_ARGUMENT` with reason `INVALID_CSR` (the request), `ALG_MISMATCH` or
    /// `BAD_REQUEST`, and 409 `KID_IN_USE` as for [`enroll_gateway`](Self::enroll_gateway).
    pub fn enroll_csr(
        &mut self,
        issuer: &str,
        csr_pem: &str,
        kid: Option<&str>,
        alg: Option<&str>,
        now: SystemTime,
    ) -> Result<EnrolledCertificate, SimError> {
        let now = self.step(now);
        let invalid =
            |message: String| SimError::new(RpcCode::InvalidArgument, "INVALID_CSR", message);
        let csr = CheckedCsr::parse(csr_pem).map_err(invalid)?;
        if let Some(name) = alg {
            let wanted = SigningAlgorithm::from_name(name)
                .ok_or_else(|| SimError::bad_request("alg must be ES256 or RS256"))?;
            if wanted != csr.algorithm {
                let key_type = match csr.algorithm {
                    SigningAlgorithm::Es256 => "a P-256",
                    SigningAlgorithm::Rs256 => "an RSA",
                };
                return Err(SimError::new(
                    RpcCode::InvalidArgument,
                    "ALG_MISMATCH",
                    format!(
                        "alg {wanted} does not match the csr's key: {key_type} key signs {}",
                        csr.algorithm
                    ),
                ));
            }
        }
        let kid = match (kid, &csr.common_name) {
            (Some(kid), _) => kid.to_owned(),
            (None, Some(cn)) => cn.clone(),
            (None, None) => {
                return Err(invalid(
                    "csr subject has no CN to use as the kid: give kid".to_owned(),
                ));
            }
        };
        let key = csr.verifying_key(&kid).map_err(invalid)?;
        self.check_enrollable(issuer, &kid)?;
        let common_name = csr.common_name.clone().unwrap_or_else(|| kid.clone());
        let ca_failed = |reason: String| {
            SimError::new(
                RpcCode::Internal,
                "CA_FAILED",
                format!("the test CA cannot sign: {reason}"),
            )
        };
        let not_after = now
            .checked_add(self.config.certificate_validity)
            .ok_or_else(|| ca_failed("certificate_validity is too long".to_owned()))?;
        let ca = self.test_ca(now)?;
        let issued = ca
            .issue(&csr, &common_name, now, not_after)
            .map_err(|e| ca_failed(e.to_string()))?;
        let chain = format!("{}{}", issued.pem, ca.certificate_pem());
        let enrolled = self.register_key(issuer, key, now);
        self.events.push(
            now,
            EventKind::GatewayCertificateIssued {
                issuer: enrolled.issuer.clone(),
                kid: enrolled.kid.clone(),
                serial: issued.serial,
                not_after_unix_ms: unix_ms(not_after),
            },
        );
        Ok(EnrolledCertificate {
            key: enrolled,
            certificate_chain_pem: chain,
        })
    }

    /// The test CA's certificate, PEM: what certificates from [`enroll_csr`](Self::enroll_csr)
    /// chain to.
    pub fn ca_certificate_pem(&mut self, now: SystemTime) -> Result<String, SimError> {
        let now = self.step(now);
        Ok(self.test_ca(now)?.certificate_pem())
    }

    /// The test CA, made on first use.
    fn test_ca(&mut self, now: SystemTime) -> Result<&mut TestCa, SimError> {
        let ca = match self.ca.take() {
            Some(ca) => ca,
            None => TestCa::generate(now).map_err(|e| {
                SimError::new(
                    RpcCode::Internal,
                    "CA_FAILED",
                    format!("cannot make the test CA: {e}"),
                )
            })?,
        };
        Ok(self.ca.insert(ca))
    }

    /// Refuses an empty issuer (400) and a `kid` already enrolled (409 `KID_IN_USE`).
    fn check_enrollable(&self, issuer: &str, kid: &str) -> Result<(), SimError> {
        if issuer.is_empty() {
            return Err(SimError::bad_request("issuer must not be empty"));
        }
        if self.keys.contains_key(kid) {
            return Err(SimError::new(
                RpcCode::AlreadyExists,
                "KID_IN_USE",
                format!("kid {kid:?} is already enrolled"),
            ));
        }
        Ok(())
    }

    /// Registers `key` for `issuer` (checked by [`check_enrollable`](Self::check_enrollable)).
    fn register_key(&mut self, issuer: &str, key: VerifyingKey, now: SystemTime) -> EnrolledKey {
        let enrolled = EnrolledKey {
            issuer: issuer.to_owned(),
            kid: key.kid().to_owned(),
            alg: key.algorithm().name().to_owned(),
        };
        self.validator.insert_key(issuer, key);
        self.keys.insert(enrolled.kid.clone(), enrolled.clone());
        self.events.push(
            now,
            EventKind::GatewayEnrolled {
                issuer: enrolled.issuer.clone(),
                kid: enrolled.kid.clone(),
                alg: enrolled.alg.clone(),
            },
        );
        enrolled
    }

    /// Removes the key `kid`; tokens naming it are then refused (`TOKEN_UNKNOWN_KID`).
    pub fn remove_gateway_key(&mut self, kid: &str, now: SystemTime) -> Result<(), SimError> {
        let now = self.step(now);
        if self.keys.remove(kid).is_none() {
            return Err(SimError::not_found(
                "KID_NOT_FOUND",
                format!("kid {kid:?} is not enrolled"),
            ));
        }
        self.validator.remove_key(kid);
        self.events.push(
            now,
            EventKind::GatewayKeyRemoved {
                kid: kid.to_owned(),
            },
        );
        Ok(())
    }

    /// Every enrolled key.
    pub fn gateway_keys(&self) -> Vec<EnrolledKey> {
        self.keys.values().cloned().collect()
    }

    /// Turns an organisation's interoperability on or off (created on first use, on).
    pub fn set_org_interop(&mut self, org: &str, enabled: bool, now: SystemTime) {
        let now = self.step(now);
        self.orgs.entry(org.to_owned()).or_default().interop_enabled = enabled;
        self.events.push(
            now,
            EventKind::OrgInteropChanged {
                org: org.to_owned(),
                enabled,
            },
        );
    }

    /// Whether `org` allows interoperability (an organisation never mentioned does).
    pub fn org_interop_enabled(&self, org: &str) -> bool {
        self.orgs.get(org).is_none_or(|o| o.interop_enabled)
    }

    /// Issues an interop token for `org` (Admin console → Interoperability tokens → Add).
    pub fn issue_interop_token(
        &mut self,
        org: &str,
        name: &str,
        token_type: &str,
        trusted: bool,
        now: SystemTime,
    ) -> Result<IssuedInteropToken, SimError> {
        let now = self.step(now);
        if org.is_empty() || name.is_empty() {
            return Err(SimError::bad_request("org and name must not be empty"));
        }
        if !TOKEN_TYPES.contains(&token_type) {
            return Err(SimError::bad_request(format!(
                "type must be one of {}",
                TOKEN_TYPES.join(", ")
            )));
        }
        self.orgs.entry(org.to_owned()).or_default();
        let id = self.next_token_id;
        self.next_token_id += 1;
        let info = InteropTokenInfo {
            id,
            org: org.to_owned(),
            name: name.to_owned(),
            token_type: token_type.to_owned(),
            trusted,
            revoked: false,
        };
        let value = self.ids.secret("itk-");
        self.tokens.insert(
            id,
            TokenRecord {
                info: info.clone(),
                value: value.clone(),
            },
        );
        self.events.push(
            now,
            EventKind::InteropTokenIssued {
                org: org.to_owned(),
                token_id: id,
                name: name.to_owned(),
                token_type: token_type.to_owned(),
                trusted,
            },
        );
        Ok(IssuedInteropToken { info, token: value })
    }

    fn token_mut(&mut self, org: &str, id: u64) -> Result<&mut TokenRecord, SimError> {
        self.tokens
            .get_mut(&id)
            .filter(|t| t.info.org == org)
            .ok_or_else(|| {
                SimError::not_found(
                    "INTEROP_TOKEN_NOT_FOUND",
                    format!("org {org:?} has no interop token {id}"),
                )
            })
    }

    /// Revokes token `id` of `org`: later requests carrying it get 403. Calls already in the
    /// conference stay.
    pub fn revoke_interop_token(
        &mut self,
        org: &str,
        id: u64,
        now: SystemTime,
    ) -> Result<InteropTokenInfo, SimError> {
        let now = self.step(now);
        let token = self.token_mut(org, id)?;
        token.info.revoked = true;
        let info = token.info.clone();
        self.events.push(
            now,
            EventKind::InteropTokenRevoked {
                org: org.to_owned(),
                token_id: id,
            },
        );
        Ok(info)
    }

    /// Flips token `id` of `org` trusted or untrusted.
    pub fn set_interop_token_trusted(
        &mut self,
        org: &str,
        id: u64,
        trusted: bool,
        now: SystemTime,
    ) -> Result<InteropTokenInfo, SimError> {
        let now = self.step(now);
        let token = self.token_mut(org, id)?;
        token.info.trusted = trusted;
        let info = token.info.clone();
        self.events.push(
            now,
            EventKind::InteropTokenTrustChanged {
                org: org.to_owned(),
                token_id: id,
                trusted,
            },
        );
        Ok(info)
    }

    /// The interop tokens of `org`, without their values.
    pub fn interop_tokens(&self, org: &str) -> Vec<InteropTokenInfo> {
        self.tokens
            .values()
            .filter(|t| t.info.org == org)
            .map(|t| t.info.clone())
            .collect()
    }

    /// Issues an opaque OAuth test token with `scopes`, for `connectActiveConference`.
    pub fn issue_oauth_token(&mut self, scopes: Vec<String>, now: SystemTime) -> String {
        let now = self.step(now);
        let value = self.ids.secret("ya29.sim-");
        self.oauth.insert(value.clone(), scopes.clone());
        self.events
            .push(now, EventKind::OauthTokenIssued { scopes });
        value
    }

    /// The record of the interop token whose value is `value`.
    pub(super) fn token_by_value(&self, value: &str) -> Option<&TokenRecord> {
        self.tokens.values().find(|t| t.value == value)
    }
}
