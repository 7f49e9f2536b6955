//! The TLS acceptor of the `sip.tls` listener.

use std::path::Path;

use tokio_rustls::TlsAcceptor;

use crate::error::StartError;

/// The acceptor for `sip.tls`, from the configured certificate and key.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, StartError> {
    Ok(TlsAcceptor::from(crate::tls::server_config(cert, key)?))
}
