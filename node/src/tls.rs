//! The certificate and key of SIP over TLS, loaded into rustls.
//!
//! Validation (`tcn check-config`) and the listener load them the same way, so a key that does
//! not match its certificate is refused when the config is checked, naming the key.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::config::ConfigError;

/// A rustls server configuration from a PEM certificate chain and its PEM private key.
/// Errors name the config key (`sip.tls_cert` or `sip.tls_key`) and never echo key material.
pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, ConfigError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| {
            ConfigError::invalid(
                "sip.tls_cert",
                format!("cannot load {}: {e}", cert.display()),
            )
        })?;
    if chain.is_empty() {
        return Err(ConfigError::invalid(
            "sip.tls_cert",
            format!("{} holds no certificate", cert.display()),
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        ConfigError::invalid("sip.tls_key", format!("cannot load {}: {e}", key.display()))
    })?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::invalid("sip.tls_cert", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            ConfigError::invalid(
                "sip.tls_key",
                format!("does not fit sip.tls_cert {}: {e}", cert.display()),
            )
        })?;
    Ok(Arc::new(config))
}

/// The system's CA bundle on Debian, trusted for outbound TLS when `sip.tls_ca` is not set.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A rustls client configuration for outbound SIP/TLS: trusts the certificates in `ca`
/// (`sip.tls_ca`), else the system bundle (none when that is missing: every handshake then
/// fails verification, which is the safe outcome).
pub(crate) fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, ConfigError> {
    let mut roots = RootCertStore::empty();
    let bundle = ca.unwrap_or_else(|| Path::new(SYSTEM_CA_BUNDLE));
    if ca.is_some() || bundle.exists() {
        let certs = CertificateDer::pem_file_iter(bundle)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| {
                ConfigError::invalid(
                    "sip.tls_ca",
                    format!("cannot load {}: {e}", bundle.display()),
                )
            })?;
        let (_added, ignored) = roots.add_parsable_certificates(certs);
        if ca.is_some() && ignored > 0 {
            return Err(ConfigError::invalid(
                "sip.tls_ca",
                format!(
                    "{} holds {ignored} unusable certificate(s)",
                    bundle.display()
                ),
            ));
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::invalid("sip.tls_ca", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
