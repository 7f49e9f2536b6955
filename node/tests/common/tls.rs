//! A self-signed certificate for `127.0.0.1`, written as PEM files for the node's `sip.tls_*`
//! keys, and a rustls client that trusts only it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::ring};

/// The PEM files of one self-signed certificate.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Certificate and key in one file (baresip's `sip_certificate`).
    pub combined: PathBuf,
    pub der: CertificateDer<'static>,
}

/// Writes a fresh self-signed certificate for `127.0.0.1` (and `localhost`) into `dir`.
pub fn self_signed(dir: &Path) -> TlsFiles {
    std::fs::create_dir_all(dir).unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("rcgen makes a certificate");
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        combined: dir.join("combined.pem"),
        der: certified.cert.der().clone(),
    };
    std::fs::write(&files.cert, &cert_pem).unwrap();
    std::fs::write(&files.key, &key_pem).unwrap();
    std::fs::write(&files.combined, format!("{cert_pem}{key_pem}")).unwrap();
    files
}

/// A unique scratch folder under the system temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tcn-{name}-{}-{:x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Connects over TLS to `addr`, trusting only `cert`.
pub async fn connect(
    addr: std::net::SocketAddr,
    cert: &CertificateDer<'static>,
) -> TlsStream<TcpStream> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::IpAddress(addr.ip().into()), tcp)
        .await
        .expect("the TLS handshake succeeds")
}
