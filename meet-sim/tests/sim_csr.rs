//! meet-sim CSR enrolment over real loopback HTTP (meet-side.md §5.b "Gateway
//! authentication", item 1): the test CA checks a PKCS#10 request, signs a certificate for
//! its key (the chain verifies against `GET /sim/ca`), and registers the key, whose tokens
//! `connectGateway` then accepts. A tampered request, a wrong `alg` and other bad requests
//! are 400 with a message naming what is wrong.
//!
//! The RSA key below is a fixed test key (ring cannot generate RSA keys); it protects
//! nothing. It is the 2048-bit key of `jwt.rs`.

#[path = "sim_support.rs"]
mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use meet::jwt::{GatewayKey, InteropToken, MintRequest, SigningAlgorithm};
use meet_sim::model::{DEFAULT_CERTIFICATE_VALIDITY, TEST_CA_NAME};
use rcgen::{CertificateParams, DnType, KeyPair};
use serde_json::{Value, json};
use support::{CODE, Fixture, ISS, NOW};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::prelude::FromDer;

/// A 2048-bit RSA test key (PKCS#8): the one test key file of meet's JWT tests, shared.
const RSA_PRIVATE_PEM: &str = include_str!("../../meet/tests/data/rsa_private.pem");

/// A CSR for `key` with subject CN `cn` (none when empty), PEM.
fn csr(key: &KeyPair, cn: &str) -> String {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    if !cn.is_empty() {
        params.distinguished_name.push(DnType::CommonName, cn);
    }
    params.serialize_request(key).unwrap().pem().unwrap()
}

fn p256() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

/// Every PEM block of `text`, in order.
fn pem_blocks(text: &str) -> Vec<Pem> {
    Pem::iter_from_buffer(text.as_bytes())
        .map(Result::unwrap)
        .collect()
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

async fn enroll(fx: &Fixture, body: Value) -> support::Reply {
    fx.post("/sim/gateways", body).await
}

/// A gateway JWT from `key` (issuer [`ISS`]) carrying `itk`, at the simulator's time.
fn jwt(fx: &Fixture, key: &GatewayKey, itk: &str) -> String {
    let request = MintRequest::new(ISS, "meet-sim", "call-csr@10.0.0.1", InteropToken::new(itk));
    key.mint(&request, fx.now()).unwrap().expose().to_owned()
}

#[tokio::test]
async fn csr_is_signed_into_a_chain_that_verifies_and_its_key_joins() {
    let fx = Fixture::new().await;
    let key = p256();
    let reply = enroll(&fx, json!({"issuer": ISS, "csr": csr(&key, "gw-csr-1")})).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["issuer"], ISS);
    assert_eq!(reply.json["kid"], "gw-csr-1", "kid defaults to the CN");
    assert_eq!(reply.json["alg"], "ES256");

    let chain = pem_blocks(reply.json["certificateChainPem"].as_str().unwrap());
    assert_eq!(chain.len(), 2, "leaf + CA");
    let ca_reply = fx.get("/sim/ca").await;
    assert_eq!(ca_reply.status, 200, "{}", ca_reply.json);
    let ca_pem = pem_blocks(ca_reply.json["certificatePem"].as_str().unwrap());
    assert_eq!(ca_pem.len(), 1);
    assert_eq!(
        chain[1].contents, ca_pem[0].contents,
        "the chain ends in /sim/ca"
    );

    let (_, ca) = X509Certificate::from_der(&ca_pem[0].contents).unwrap();
    let (_, leaf) = X509Certificate::from_der(&chain[0].contents).unwrap();
    assert!(ca.is_ca());
    ca.verify_signature(None).expect("the CA is self-signed");
    leaf.verify_signature(Some(ca.public_key()))
        .expect("the leaf is signed by the CA");
    assert_eq!(leaf.issuer(), ca.subject());
    let cn = |c: &X509Certificate<'_>| {
        c.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(cn(&ca), TEST_CA_NAME);
    assert_eq!(cn(&leaf), "gw-csr-1");
    assert!(!leaf.is_ca());
    assert_eq!(
        leaf.public_key().raw,
        rcgen::PublicKeyData::subject_public_key_info(&key).as_slice(),
        "the certificate carries the request's key"
    );
    let validity = leaf.validity();
    assert_eq!(validity.not_before.timestamp(), NOW as i64);
    assert_eq!(
        validity.not_after.timestamp(),
        (NOW + DEFAULT_CERTIFICATE_VALIDITY.as_secs()) as i64,
        "365 days from the simulator's now"
    );

    // A token signed with the request's private key is accepted.
    let gateway =
        GatewayKey::from_pem("gw-csr-1", SigningAlgorithm::Es256, &key.serialize_pem()).unwrap();
    let joined = fx
        .connect_with(CODE, Some(&jwt(&fx, &gateway, &fx.trusted)))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.json);

    let listed = fx.get("/sim/gateways").await;
    assert!(
        listed.json["gateways"]
            .as_array()
            .unwrap()
            .contains(&json!({"issuer": ISS, "kid": "gw-csr-1", "alg": "ES256"}))
    );
    let issued = fx.events("gateway_certificate_issued").await;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["kid"], "gw-csr-1");
    assert_eq!(leaf.serial.to_string(), issued[0]["serial"].to_string());
}

#[tokio::test]
async fn validity_setting_kid_override_and_rsa_keys() {
    let fx = Fixture::with(|c| c.model.certificate_validity = Duration::from_secs(86_400)).await;
    let rsa = KeyPair::from_pem(RSA_PRIVATE_PEM).unwrap();
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&rsa, "gw-rsa"), "kid": "rsa-key-7", "alg": "RS256"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["kid"], "rsa-key-7");
    assert_eq!(reply.json["alg"], "RS256");
    let chain = pem_blocks(reply.json["certificateChainPem"].as_str().unwrap());
    let (_, leaf) = X509Certificate::from_der(&chain[0].contents).unwrap();
    assert_eq!(leaf.validity().not_after.timestamp(), (NOW + 86_400) as i64);

    let gateway =
        GatewayKey::from_pem("rsa-key-7", SigningAlgorithm::Rs256, RSA_PRIVATE_PEM).unwrap();
    let joined = fx
        .connect_with(CODE, Some(&jwt(&fx, &gateway, &fx.trusted)))
        .await;
    assert_eq!(joined.status, 200, "{}", joined.json);

    // The same kid again is a conflict, as for a public key.
    let again = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&p256(), "x"), "kid": "rsa-key-7"}),
    )
    .await;
    again.assert_error(
        409,
        "ALREADY_EXISTS",
        "KID_IN_USE",
        "kid \"rsa-key-7\" is already enrolled",
    );
}

#[tokio::test]
async fn tampered_csr_is_400() {
    let fx = Fixture::new().await;
    let key = p256();
    let good = pem_blocks(&csr(&key, "gw-tampered")).remove(0).contents;
    let at = good
        .windows(11)
        .position(|w| w == b"gw-tampered")
        .expect("the CN is in the request");
    let mut bad = good.clone();
    bad[at] = b'G';
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": pem("CERTIFICATE REQUEST", &bad)}),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_CSR",
        "csr self-signature does not verify: the request was altered or was not signed with \
         the key it carries",
    );
    // Nothing was enrolled or issued.
    let listed = fx.get("/sim/gateways").await;
    assert_eq!(listed.json["gateways"].as_array().unwrap().len(), 1);
    assert!(fx.events("gateway_certificate_issued").await.is_empty());
}

#[tokio::test]
async fn alg_mismatch_is_400() {
    let fx = Fixture::new().await;
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&p256(), "gw-alg"), "alg": "RS256"}),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "ALG_MISMATCH",
        "alg RS256 does not match the csr's key: a P-256 key signs ES256",
    );
    let rsa = KeyPair::from_pem(RSA_PRIVATE_PEM).unwrap();
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&rsa, "gw-alg"), "alg": "ES256"}),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "ALG_MISMATCH",
        "alg ES256 does not match the csr's key: an RSA key signs RS256",
    );
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&p256(), "gw-alg"), "alg": "HS256"}),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "BAD_REQUEST",
        "alg must be ES256 or RS256",
    );
}

#[tokio::test]
async fn malformed_requests_are_400_naming_the_fault() {
    let fx = Fixture::new().await;
    let cases = [
        (
            json!({"issuer": ISS, "csr": "hello"}),
            "INVALID_CSR",
            "csr is not PEM (expected -----BEGIN CERTIFICATE REQUEST-----)",
        ),
        (
            json!({"issuer": ISS, "csr": pem("CERTIFICATE REQUEST", b"\x30\x03\x02\x01\x00")}),
            "INVALID_CSR",
            "",
        ),
        (
            json!({"issuer": ISS, "csr": csr(&p256(), "")}),
            "INVALID_CSR",
            "csr subject has no CN to use as the kid: give kid",
        ),
        (
            json!({"issuer": "", "csr": csr(&p256(), "gw-x")}),
            "BAD_REQUEST",
            "issuer must not be empty",
        ),
        (
            json!({"issuer": ISS, "csr": csr(&p256(), "gw-x"), "publicKeyPem": "x"}),
            "BAD_REQUEST",
            "give exactly one of jwk, publicKeyPem or csr",
        ),
    ];
    for (body, reason, message) in cases {
        let reply = enroll(&fx, body.clone()).await;
        assert_eq!(
            (reply.status, reply.reason()),
            (400, reason),
            "{body}: {}",
            reply.json
        );
        if message.is_empty() {
            assert!(
                reply
                    .message()
                    .starts_with("csr is not a PKCS#10 certification request"),
                "{}",
                reply.json
            );
        } else {
            assert_eq!(reply.message(), message, "{body}");
        }
    }
    // A certificate is not a request.
    let ca = fx.get("/sim/ca").await;
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": ca.json["certificatePem"]}),
    )
    .await;
    reply.assert_error(
        400,
        "INVALID_ARGUMENT",
        "INVALID_CSR",
        "csr holds a PEM \"CERTIFICATE\" block, not a CERTIFICATE REQUEST",
    );
    // Without a CN, an explicit kid works.
    let reply = enroll(
        &fx,
        json!({"issuer": ISS, "csr": csr(&p256(), ""), "kid": "anonymous"}),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
}
