//! The gateway credential: the private key that signs each request's JWT to Meet, and the
//! gateway token (the certificate issued for that key) whose expiry the operator must watch.
//!
//! Loaded when the configuration is checked (so `tcn check-config` refuses a key that does
//! not fit its token, naming `meet.gateway_token`) and kept in the node's shared state. The
//! expiry is turned into `/status`, `tcn_gateway_token_expiry_seconds` and the
//! `gateway_token_expiring` alarm each time they are read; an expired token refuses calls
//! into Meet. Neither the key nor the token ever reaches a log or `/status`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use meet::jwt::{CredentialStatus, GatewayKey, SigningAlgorithm, credential_status};
use rcgen::PublicKeyData;
use serde::Serialize;

use crate::config::{ConfigError, GatewayAlgorithm, MeetConfig};

/// The loaded gateway credential.
pub(crate) struct GatewayCredential {
    /// Signs the JWT of each request (used by the Meet connector).
    pub(crate) key: Arc<GatewayKey>,
    /// When the gateway token expires.
    pub(crate) not_after: SystemTime,
    /// The token's subject, for the operator.
    pub(crate) subject: String,
    /// The token's serial number (hex), for the operator.
    pub(crate) serial: String,
}

impl std::fmt::Debug for GatewayCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayCredential")
            .field("key", &self.key)
            .field("not_after", &self.not_after)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl GatewayCredential {
    /// Loads `meet.gateway_key` and `meet.gateway_token`; `None` when neither is set.
    pub(crate) fn load(config: &MeetConfig) -> Result<Option<Self>, ConfigError> {
        let (key_path, token_path) = match (&config.gateway_key, &config.gateway_token) {
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    "meet.gateway_token",
                    "missing: meet.gateway_key is set, so the gateway token issued for it is required",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    "meet.gateway_key",
                    "missing: meet.gateway_token is set, so the key it was issued for is required",
                ));
            }
            (Some(key), Some(token)) => (key, token),
        };
        let key_pem = read("meet.gateway_key", key_path)?;
        let algorithm = match config.algorithm {
            GatewayAlgorithm::Es256 => SigningAlgorithm::Es256,
            GatewayAlgorithm::Rs256 => SigningAlgorithm::Rs256,
        };
        let key = GatewayKey::from_pem(config.key_id.clone(), algorithm, &key_pem)
            .map_err(|e| ConfigError::invalid("meet.gateway_key", e.to_string()))?;
        let public = rcgen::KeyPair::from_pem(&key_pem)
            .map_err(|e| ConfigError::invalid("meet.gateway_key", e.to_string()))?
            .subject_public_key_info();

        let token_pem = read("meet.gateway_token", token_path)?;
        let (_, pem) = x509_parser::pem::parse_x509_pem(token_pem.as_bytes()).map_err(|_| {
            ConfigError::invalid(
                "meet.gateway_token",
                format!("{} holds no PEM certificate", token_path.display()),
            )
        })?;
        let certificate = pem.parse_x509().map_err(|e| {
            ConfigError::invalid(
                "meet.gateway_token",
                format!("{} is not an X.509 certificate: {e}", token_path.display()),
            )
        })?;
        if certificate.public_key().raw != public.as_slice() {
            return Err(ConfigError::invalid(
                "meet.gateway_token",
                format!(
                    "{} was not issued for meet.gateway_key (the public keys differ)",
                    token_path.display()
                ),
            ));
        }
        let not_after = UNIX_EPOCH
            + Duration::from_secs(
                u64::try_from(certificate.validity().not_after.timestamp()).unwrap_or(0),
            );
        Ok(Some(Self {
            key: Arc::new(key),
            not_after,
            subject: certificate.subject().to_string(),
            serial: certificate.raw_serial_as_string(),
        }))
    }

    /// Where the token stands at `now`.
    pub(crate) fn status(&self, now: SystemTime, warn_before: Duration) -> CredentialStatus {
        credential_status(self.not_after, now, warn_before)
    }

    /// Seconds until the token expires (negative once it has).
    pub(crate) fn seconds_left(&self, now: SystemTime) -> f64 {
        match self.not_after.duration_since(now) {
            Ok(left) => left.as_secs_f64(),
            Err(past) => -past.duration().as_secs_f64(),
        }
    }
}

/// The gateway token in `/status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GatewayTokenStatus {
    /// `missing`, `ok`, `expiring` or `expired`.
    pub status: &'static str,
    /// Expiry, seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_unix: Option<u64>,
    /// Whole days left (0 once expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<u64>,
    /// The token's subject and serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The token's serial number (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The `kid` the key signs under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl GatewayTokenStatus {
    /// The status of `credential` (or `missing`) at `now`.
    pub(crate) fn of(
        credential: Option<&GatewayCredential>,
        now: SystemTime,
        warn_before: Duration,
    ) -> Self {
        let Some(credential) = credential else {
            return Self {
                status: "missing",
                expires_unix: None,
                days_left: None,
                subject: None,
                serial: None,
                key_id: None,
            };
        };
        let left = credential.seconds_left(now);
        Self {
            status: credential.status(now, warn_before).label(),
            expires_unix: credential
                .not_after
                .duration_since(UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs()),
            days_left: Some((left.max(0.0) / 86_400.0) as u64),
            subject: Some(credential.subject.clone()),
            serial: Some(credential.serial.clone()),
            key_id: Some(credential.key.kid().to_owned()),
        }
    }
}

fn read(key: &str, path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConfigError::invalid(key, format!("cannot read {}: {e}", path.display())))
}

/// A new gateway key and the certificate signing request to send for a gateway token
/// (`tcn meet-csr`): returns (key PEM, CSR PEM). ES256 only (ring cannot generate RSA keys).
pub fn new_key_and_csr(common_name: &str) -> Result<(String, String), rcgen::Error> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let csr = params.serialize_request(&key)?;
    Ok((key.serialize_pem(), csr.pem()?))
}
