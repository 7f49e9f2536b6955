//! The Meet leg's DTLS certificate: ECDSA P-256, self-signed, one per leg.
//!
//! webrtcbin 1.22 generates an RSA certificate, which str0m's DTLS (meet-sim) refuses, and
//! browsers use ECDSA P-256 anyway (media.md §8). The certificate is set as `pem` on every
//! `dtlssrtpdec` while it is still in NULL. webrtcbin 1.22 then writes a wrong
//! `a=fingerprint` (it hashes the whole PEM, key included), so the offer's fingerprint lines
//! are rewritten with [`DtlsCertificate::fingerprint`].

use sha2::{Digest, Sha256};

use crate::error::PipelineError;

/// A certificate and its key, and the SDP fingerprint of the certificate.
#[derive(Clone)]
pub struct DtlsCertificate {
    pem: String,
    fingerprint: String,
}

impl std::fmt::Debug for DtlsCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the PEM holds the private key: never print it
        f.debug_struct("DtlsCertificate")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl DtlsCertificate {
    /// A fresh ECDSA P-256 certificate for common name `tcn`.
    pub fn generate() -> Result<Self, PipelineError> {
        let fail = |e: rcgen::Error| PipelineError::Build(format!("DTLS certificate: {e}"));
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let cert = rcgen::CertificateParams::new(vec!["tcn".to_owned()])
            .map_err(fail)?
            .self_signed(&key)
            .map_err(fail)?;
        Ok(Self {
            pem: format!("{}{}", cert.pem(), key.serialize_pem()),
            fingerprint: sha256_fingerprint(cert.der()),
        })
    }

    /// Certificate and PKCS#8 private key, PEM, as `dtlssrtpdec`'s `pem` takes them.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// `AA:BB:…` (32 upper-case hex bytes): the SHA-256 of the certificate's DER.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The SDP form (RFC 8122) of the SHA-256 of `der`.
fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// The SHA-256 fingerprint (RFC 8122 form) of the first certificate in `pem`; `None` when
/// there is none.
pub(crate) fn pem_fingerprint(pem: &str) -> Option<String> {
    use base64::Engine as _;
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Some(sha256_fingerprint(&der))
}

/// The SHA-256 fingerprints an SDP declares (`a=fingerprint:sha-256 …`), upper case.
pub(crate) fn sdp_fingerprints(sdp: &str) -> Vec<String> {
    sdp.lines()
        .filter_map(|line| line.trim_end().strip_prefix("a=fingerprint:"))
        .filter_map(|rest| rest.split_once(' '))
        .filter(|(algorithm, _)| algorithm.eq_ignore_ascii_case("sha-256"))
        .map(|(_, hash)| hash.trim().to_ascii_uppercase())
        .collect()
}

/// Replaces every `a=fingerprint:` line of `sdp` with `a=fingerprint:sha-256 <fingerprint>`.
pub(crate) fn rewrite_fingerprints(sdp: &str, fingerprint: &str) -> String {
    map_lines(sdp, |line| {
        line.starts_with("a=fingerprint:")
            .then(|| vec![format!("a=fingerprint:sha-256 {fingerprint}")])
    })
}

/// Rebuilds `sdp` line by line (CRLF), replacing a line with what `f` returns for it.
pub(crate) fn map_lines(sdp: &str, mut f: impl FnMut(&str) -> Option<Vec<String>>) -> String {
    let mut out = String::with_capacity(sdp.len() + 64);
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        match f(line) {
            Some(replacement) => {
                for l in replacement {
                    out.push_str(&l);
                    out.push_str("\r\n");
                }
            }
            None => {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_has_an_ecdsa_key_and_a_der_fingerprint() {
        let cert = DtlsCertificate::generate().unwrap();
        assert!(cert.pem().contains("-----BEGIN CERTIFICATE-----"));
        assert!(cert.pem().contains("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(cert.fingerprint().len(), 32 * 3 - 1);
        assert!(!format!("{cert:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_pem_certificate_has_the_fingerprint_of_its_der() {
        let cert = DtlsCertificate::generate().unwrap();
        assert_eq!(
            pem_fingerprint(cert.pem()).as_deref(),
            Some(cert.fingerprint())
        );
        assert_eq!(pem_fingerprint("no certificate"), None);
        let sdp = format!(
            "v=0\r\na=fingerprint:sha-256 {}\r\na=fingerprint:sha-1 AA\r\n",
            cert.fingerprint().to_ascii_lowercase()
        );
        assert_eq!(sdp_fingerprints(&sdp), vec![cert.fingerprint().to_owned()]);
    }

    #[test]
    fn every_fingerprint_line_is_rewritten() {
        let sdp = "v=0\r\nm=audio 9 X 111\r\na=fingerprint:sha-256 00:11\r\nm=video 9 X 96\r\n\
                   a=fingerprint:sha-256 22:33\r\na=mid:video1\r\n";
        let out = rewrite_fingerprints(sdp, "AB:CD");
        assert_eq!(out.matches("a=fingerprint:sha-256 AB:CD\r\n").count(), 2);
        assert!(!out.contains("00:11"));
        assert!(out.ends_with("a=mid:video1\r\n"));
    }
}
