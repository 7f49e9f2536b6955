//! meet-sim's test CA: checks a gateway's certificate signing request and signs the
//! certificate that goes with its enrolment (meet-side.md §5.b "Gateway authentication",
//! item 1; the "CSR → signed certificate" flow is \[BRIEF\], §4.3).
//!
//! The CA key is a P-256 key made with rcgen when the simulator first needs it (so it is not
//! derived from the model's seed); its self-signed certificate is valid from then until 4096.
//! Leaf certificates carry the request's common name, `digitalSignature` and `clientAuth`,
//! and are valid from the simulator's `now` for the `certificate_validity` of
//! [`ModelConfig`](super::ModelConfig). Nothing here reads a clock.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use time::OffsetDateTime;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};
use x509_parser::prelude::FromDer;

use meet::jwt::{SigningAlgorithm, VerifyingKey};

/// The CA certificate's common name.
pub const TEST_CA_NAME: &str = "meet-sim test CA";

/// PEM labels a request may carry (RFC 7468 §7; the second is the older Netscape spelling).
const CSR_LABELS: [&str; 2] = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/// A certificate signing request whose self-signature verified, with its public key loaded.
#[derive(Debug)]
pub(super) struct CheckedCsr {
    /// The subject's first common name, if it has one.
    pub(super) common_name: Option<String>,
    /// ES256 for a P-256 key, RS256 for an RSA key.
    pub(super) algorithm: SigningAlgorithm,
    /// The `subjectPublicKey` bits: what the certificate repeats.
    key_bits: Vec<u8>,
    /// The whole SubjectPublicKeyInfo, DER.
    spki: Vec<u8>,
}

impl CheckedCsr {
    /// Parses `pem` (one PKCS#10 request, RFC 2986) and verifies its self-signature. The
    /// error says what is wrong, for a 400 answer.
    pub(super) fn parse(pem: &str) -> Result<Self, String> {
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|_| "csr is not PEM (expected -----BEGIN CERTIFICATE REQUEST-----)")?;
        if !CSR_LABELS.contains(&block.label.as_str()) {
            return Err(format!(
                "csr holds a PEM {:?} block, not a CERTIFICATE REQUEST",
                block.label
            ));
        }
        let (rest, csr) = X509CertificationRequest::from_der(&block.contents)
            .map_err(|e| format!("csr is not a PKCS#10 certification request: {e}"))?;
        if !rest.is_empty() {
            return Err("csr has bytes after the certification request".to_owned());
        }
        csr.verify_signature().map_err(|_| {
            "csr self-signature does not verify: the request was altered or was not signed \
             with the key it carries"
                .to_owned()
        })?;
        let info = &csr.certification_request_info;
        let common_name = match info.subject.iter_common_name().next() {
            Some(cn) => Some(
                cn.as_str()
                    .map_err(|_| "csr subject CN is not a text string")?
                    .to_owned(),
            ),
            None => None,
        };
        let spki = &info.subject_pki;
        let key_type = &spki.algorithm.algorithm;
        let algorithm = if *key_type == OID_PKCS1_RSAENCRYPTION {
            SigningAlgorithm::Rs256
        } else if *key_type == OID_KEY_TYPE_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            if curve.as_ref() != Some(&OID_EC_P256) {
                return Err(
                    "csr key is an EC key on a curve other than P-256: ES256 needs \
                            P-256"
                        .to_owned(),
                );
            }
            SigningAlgorithm::Es256
        } else {
            return Err(format!(
                "csr key type {key_type} is not supported: use a P-256 (ES256) or RSA (RS256) key"
            ));
        };
        Ok(Self {
            common_name,
            algorithm,
            key_bits: spki.subject_public_key.data.to_vec(),
            spki: spki.raw.to_vec(),
        })
    }

    /// The request's public key as a key tokens are verified with, under `kid`.
    pub(super) fn verifying_key(&self, kid: &str) -> Result<VerifyingKey, String> {
        let body = STANDARD.encode(&self.spki);
        let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            // base64 output is ASCII, so every chunk is valid UTF-8.
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        VerifyingKey::from_pem(kid, self.algorithm, &pem).map_err(|e| format!("csr key: {e}"))
    }
}

impl PublicKeyData for CheckedCsr {
    fn der_bytes(&self) -> &[u8] {
        &self.key_bits
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        // The SubjectPublicKeyInfo rcgen writes comes from these: id-ecPublicKey with
        // prime256v1, or rsaEncryption with NULL parameters, as in the request.
        match self.algorithm {
            SigningAlgorithm::Es256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            SigningAlgorithm::Rs256 => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// A certificate the CA issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IssuedCertificate {
    /// The certificate, PEM.
    pub(super) pem: String,
    /// Its serial number.
    pub(super) serial: u64,
}

/// The test CA: its key and self-signed certificate, and the next serial number.
pub(super) struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    next_serial: u64,
}

impl TestCa {
    /// A new CA with a fresh P-256 key, valid from `now`.
    pub(super) fn generate(now: SystemTime) -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, TEST_CA_NAME);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "meet-sim");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = datetime(now)?;
        params.serial_number = Some(SerialNumber::from_slice(&[1]));
        Ok(Self {
            issuer: CertifiedIssuer::self_signed(params, key)?,
            next_serial: 2,
        })
    }

    /// The CA certificate, PEM.
    pub(super) fn certificate_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Signs a certificate for the key of `csr`, for `common_name`, valid from `not_before`
    /// to `not_after`.
    pub(super) fn issue(
        &mut self,
        csr: &CheckedCsr,
        common_name: &str,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<IssuedCertificate, rcgen::Error> {
        let serial = self.next_serial;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.serial_number = Some(SerialNumber::from_slice(&serial.to_be_bytes()));
        params.not_before = datetime(not_before)?;
        params.not_after = datetime(not_after)?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let certificate = params.signed_by(csr, &self.issuer)?;
        self.next_serial += 1;
        Ok(IssuedCertificate {
            pem: certificate.pem(),
            serial,
        })
    }
}

impl fmt::Debug for TestCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCa")
            .field("next_serial", &self.next_serial)
            .finish_non_exhaustive()
    }
}

/// `t` in whole seconds, for a certificate's validity.
fn datetime(t: SystemTime) -> Result<OffsetDateTime, rcgen::Error> {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or(rcgen::Error::Time)
}
