//! Gateway JWT: minting, validation and the meet-side.md §5.b test-matrix rows for the JWT
//! (expired, not yet valid, forged, wrong audience, wrong issuer, `alg: none`, HS256 keyed
//! with the public key, replayed `jti`), ES256 and RS256, and the credential-expiry alarm.
//!
//! ES256 keys are generated per test with rcgen; the RSA keys below are fixed test keys
//! (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`, then `openssl pkey
//! -pubout`), embedded because RSA generation is slow and rcgen's ring backend cannot do it.
//! They protect nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use meet::jwt::{
    Claims, CredentialStatus, DEFAULT_EXPIRY_WARNING, GatewayKey, InteropToken, JwtError,
    MAX_TOKEN_LIFETIME, MintRequest, SigningAlgorithm, Validator, ValidatorConfig, VerifyingKey,
    credential_status,
};
use serde_json::json;

/// A 2048-bit RSA test key (PKCS#8), shared by the JWT and CSR tests.
const RSA_PRIVATE_PEM: &str = include_str!("data/rsa_private.pem");

const RSA_PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjIZAW86niME2tQRPOMH9
tGar3vaVNMtUj8sDSTziKV8jE2Tz4VceTCCzkp/NgU3AXluQ7KE+M4BuKuZyDxcn
3/yogZa52mKGkwJqvPTsnbIiAzUVXt3xiA6LAkYa9CDycz7cbSt3ezydIP6nOhY9
1VaaY8UWi3llwtJL+7r9dgLGtijmQtrz+eI/SbmcSU3NcOoUET4iQdSp/cXXU+25
NuoHQJhH3qI6bvqFeYQPdu2Fd8chJLk6IF8ISvHWRSGz3GPJMYr7K9Q+DNrUZuym
Py392UDPPfA7PTmTMue/WnqfXATDrHjMWjHLNqqQTS80EPmcah4K6C8r/+ZQ5AYw
1wIDAQAB
-----END PUBLIC KEY-----
";

/// Too small for RS256 (1024 bits).
const RSA_1024_PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBALi9bo6BudA35P0B
5X3OCvFwycA5Cd5tPbT9XlciCBB0uhf/QoYxe7LSqRUHaV+/otWysiBeEqaF6bZT
E6wgEb64z8dTLT62+kn5EuUxiz92SFyVK90FQZX+5cInHV+gOAtzOigqEGZPL1W4
h+tznmW8jz1CWPRUqEwUHjhniwb3AgMBAAECgYBRgqNpFSvbBw5t44xSObryVIVv
3rrP/PshBDm/0DAmspn5RJMhimu9tt0Lfj2sFW3PRAz74wXvm15HJ9iiNXQeJbQ2
WNa6sG8VXfphZRA0TUoSq8UBGimQ/2SwtJmy4LSEzPG7uuqzMOsXanMG7uttl7Q4
p6Ra6mgsY3gV6jMngQJBAO+xtP19Fwmtq05fE2FXhD+CuPgD/cqRGG5F+8lnG4kz
KFAuuPreEIHv1hDWNHUDXcrS4g2VHi0YbhDu2hmNWpECQQDFTrFvh66km4D7O8+N
Qet38jlt/RXg9wFK4ZI6ELcW/TB3O/Gs2wYOI8Ry3zVLkocDdiopEd0tYLU4TNrn
CT0HAkEA7W0036dJ669Ysc/hrZl4CUUenaWufjnNXmX6K5zznKrM8uflGbJf3aXJ
gHH+Ei5ceKz9eADOnFLHrAQ8i/UF0QJBAMLm4zuKyidsPNLv2Cxva4yGx9gwYsZg
+PPhMzMMg++/l3qQykC38plRF6Npfhny2k+/EBKVxOgoWZsNwEbsx00CQCDSN4da
XezfxK/pA13mAb9aFb11E4aiShId5q14kmEieq+sldihIc6Q3rH/KON98XFRUCiv
+z2/9KFc6RaEex8=
-----END PRIVATE KEY-----
";

const ISS: &str = "gw.tcn.example";
const AUD: &str = "meet-sim";
const KID: &str = "gw-key-1";
const ITK: &str = "itk-secret-value-0123456789";
/// 2027-01-15T08:00:00Z: an arbitrary fixed time; no test reads the clock.
const NOW: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A fresh P-256 key pair: (PKCS#8 private PEM, SPKI public PEM).
fn p256_pems() -> (String, String) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    (pair.serialize_pem(), pair.public_key_pem())
}

fn es256_key(kid: &str) -> (GatewayKey, String, String) {
    let (private, public) = p256_pems();
    let key = GatewayKey::from_pem(kid, SigningAlgorithm::Es256, &private).unwrap();
    (key, private, public)
}

fn rs256_key(kid: &str) -> GatewayKey {
    GatewayKey::from_pem(kid, SigningAlgorithm::Rs256, RSA_PRIVATE_PEM).unwrap()
}

fn request() -> MintRequest {
    MintRequest::new(ISS, AUD, "call-1@10.0.0.1", InteropToken::new(ITK))
}

fn validator_for(key: &GatewayKey) -> Validator {
    Validator::new(ValidatorConfig::new(AUD)).with_key(ISS, key.verifying_key().clone())
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Claims as the gateway would mint them at `iat`, for hand-built tokens.
fn claims_json(iat: u64, lifetime: u64) -> serde_json::Value {
    json!({
        "iss": ISS, "sub": "call-1", "aud": AUD,
        "iat": iat, "nbf": iat, "exp": iat + lifetime,
        "jti": "hand-made-jti", "itk": ITK,
    })
}

fn decoded_header(token: &str) -> serde_json::Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}

// --- valid tokens --------------------------------------------------------------------------

#[test]
fn es256_token_is_accepted_with_every_claim() {
    let (key, _, _) = es256_key(KID);
    let req = request()
        .with_lifetime(Duration::from_secs(120))
        .with_display_name("Room 4.1")
        .with_caller_uri("sip:room41@corp.example");
    let token = key.mint(&req, at(NOW)).unwrap();

    let header = decoded_header(token.expose());
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], KID);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(token.expires_at(), at(NOW + 120));

    let claims = validator_for(&key)
        .validate(token.expose(), at(NOW + 1))
        .unwrap();
    assert_eq!(
        claims,
        Claims {
            iss: ISS.into(),
            sub: "call-1@10.0.0.1".into(),
            aud: AUD.into(),
            iat: NOW,
            nbf: NOW,
            exp: NOW + 120,
            jti: token.jti().into(),
            itk: InteropToken::new(ITK),
            dn: Some("Room 4.1".into()),
            uri: Some("sip:room41@corp.example".into()),
        }
    );
    assert_eq!(claims.itk.expose(), ITK);
    assert_eq!(claims.expires_at(), at(NOW + 120));
}

#[test]
fn rs256_token_is_accepted() {
    let key = rs256_key("gw-rsa");
    assert_eq!(key.algorithm(), SigningAlgorithm::Rs256);
    let token = key.mint(&request(), at(NOW)).unwrap();
    assert_eq!(decoded_header(token.expose())["alg"], "RS256");

    // Verified with the public key loaded from its own PEM, not derived from the private key.
    let public = VerifyingKey::from_pem("gw-rsa", SigningAlgorithm::Rs256, RSA_PUBLIC_PEM).unwrap();
    let mut validator = Validator::new(ValidatorConfig::new(AUD)).with_key(ISS, public);
    let claims = validator.validate(token.expose(), at(NOW)).unwrap();
    assert_eq!(claims.jti, token.jti());
}

#[test]
fn es256_public_key_from_pem_and_jwk_verify() {
    let (key, _, public_pem) = es256_key(KID);
    assert_eq!(key.algorithm(), SigningAlgorithm::Es256);
    let from_pem = VerifyingKey::from_pem(KID, SigningAlgorithm::Es256, &public_pem).unwrap();
    let jwk = key.verifying_key().to_jwk_json();
    let from_jwk = VerifyingKey::from_jwk_json(&jwk).unwrap();
    assert_eq!(from_jwk.kid(), KID);
    assert_eq!(from_jwk.algorithm(), SigningAlgorithm::Es256);
    let jwk: serde_json::Value = serde_json::from_str(&jwk).unwrap();
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["alg"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"))
    );
    assert_eq!(jwk["use"], "sig");
    assert!(
        jwk.get("d").is_none(),
        "a public JWK carries no private part"
    );

    for public in [from_pem, from_jwk] {
        let mut validator = Validator::new(ValidatorConfig::new(AUD)).with_key(ISS, public);
        let token = key.mint(&request(), at(NOW)).unwrap();
        validator.validate(token.expose(), at(NOW)).unwrap();
    }
}

#[test]
fn rs256_public_jwk_round_trips() {
    let key = rs256_key("gw-rsa");
    let public = VerifyingKey::from_jwk_json(&key.verifying_key().to_jwk_json()).unwrap();
    assert_eq!(public.algorithm(), SigningAlgorithm::Rs256);
    let mut validator = Validator::new(ValidatorConfig::new(AUD)).with_key(ISS, public);
    let token = key.mint(&request(), at(NOW)).unwrap();
    validator.validate(token.expose(), at(NOW)).unwrap();
}

#[test]
fn each_mint_has_a_fresh_jti() {
    let (key, _, _) = es256_key(KID);
    let mut validator = validator_for(&key);
    let mut jtis = std::collections::HashSet::new();
    for _ in 0..50 {
        let token = key.mint(&request(), at(NOW)).unwrap();
        assert_eq!(token.jti().len(), 22, "128 random bits, base64url");
        assert!(jtis.insert(token.jti().to_owned()));
        validator.validate(token.expose(), at(NOW)).unwrap();
    }
}

// --- minting limits ------------------------------------------------------------------------

#[test]
fn minting_refuses_a_lifetime_over_300_s() {
    let (key, _, _) = es256_key(KID);
    assert_eq!(MAX_TOKEN_LIFETIME, Duration::from_secs(300));
    let err = key
        .mint(&request().with_lifetime(Duration::from_secs(301)), at(NOW))
        .unwrap_err();
    assert_eq!(
        err,
        JwtError::LifetimeTooLong {
            lifetime_s: 301,
            max_s: 300
        }
    );
    assert_eq!(err.label(), "lifetime_too_long");
    let err = key
        .mint(
            &request().with_lifetime(Duration::from_millis(300_001)),
            at(NOW),
        )
        .unwrap_err();
    assert!(matches!(err, JwtError::LifetimeTooLong { .. }));

    let token = key
        .mint(&request().with_lifetime(Duration::from_secs(300)), at(NOW))
        .unwrap();
    assert_eq!(token.expires_at(), at(NOW + 300));
}

#[test]
fn minting_refuses_empty_fields_and_zero_lifetime() {
    let (key, _, _) = es256_key(KID);
    let zero = request().with_lifetime(Duration::ZERO);
    assert!(matches!(
        key.mint(&zero, at(NOW)),
        Err(JwtError::Malformed { .. })
    ));
    let no_sub = MintRequest::new(ISS, AUD, "", InteropToken::new(ITK));
    assert!(matches!(
        key.mint(&no_sub, at(NOW)),
        Err(JwtError::Malformed { .. })
    ));
    let no_itk = MintRequest::new(ISS, AUD, "call", InteropToken::new(""));
    assert!(matches!(
        key.mint(&no_itk, at(NOW)),
        Err(JwtError::Malformed { .. })
    ));
}

// --- the test-matrix rows ------------------------------------------------------------------

#[test]
fn expired_token_is_refused_after_the_leeway() {
    let (key, _, _) = es256_key(KID);
    let token = key.mint(&request(), at(NOW)).unwrap();
    // exp = NOW + 300, leeway 30 s: valid up to the second before exp + 30.
    validator_for(&key)
        .validate(token.expose(), at(NOW + 329))
        .unwrap();
    let err = validator_for(&key)
        .validate(token.expose(), at(NOW + 330))
        .unwrap_err();
    assert_eq!(err, JwtError::Expired);
    assert_eq!(
        (err.label(), err.status(), err.rpc_status()),
        ("expired", 401, "UNAUTHENTICATED")
    );
}

#[test]
fn token_from_the_future_is_not_yet_valid() {
    let (key, _, _) = es256_key(KID);
    let early = key.mint(&request(), at(NOW + 31)).unwrap();
    let err = validator_for(&key)
        .validate(early.expose(), at(NOW))
        .unwrap_err();
    assert_eq!(err, JwtError::NotYetValid);
    assert_eq!((err.label(), err.status()), ("not_yet_valid", 401));

    // Within the leeway, a gateway clock slightly ahead is tolerated.
    let skewed = key.mint(&request(), at(NOW + 30)).unwrap();
    validator_for(&key)
        .validate(skewed.expose(), at(NOW))
        .unwrap();

    // nbf later than iat, past the leeway.
    let (_, private, _) = es256_key(KID);
    let key = GatewayKey::from_pem(KID, SigningAlgorithm::Es256, &private).unwrap();
    let mut claims = claims_json(NOW, 300);
    claims["nbf"] = json!(NOW + 100);
    let token = sign_es256(&private, KID, &claims);
    let err = validator_for(&key).validate(&token, at(NOW)).unwrap_err();
    assert_eq!(err, JwtError::NotYetValid);
}

fn sign_es256(private_pem: &str, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[test]
fn forged_signature_is_refused() {
    let (key, _, _) = es256_key(KID);
    let mut validator = validator_for(&key);

    // Signed by another key that claims the registered kid.
    let (forger, _, _) = es256_key(KID);
    let forged = forger.mint(&request(), at(NOW)).unwrap();
    let err = validator.validate(forged.expose(), at(NOW)).unwrap_err();
    assert_eq!(err, JwtError::BadSignature);
    assert_eq!((err.label(), err.status()), ("bad_signature", 401));

    // A genuine token whose claims were edited (another subject) after signing.
    let genuine = key.mint(&request(), at(NOW)).unwrap();
    let parts: Vec<&str> = genuine.expose().split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("someone-else");
    let edited = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert_eq!(
        validator.validate(&edited, at(NOW)),
        Err(JwtError::BadSignature)
    );

    // A truncated signature.
    let truncated = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
    assert!(validator.validate(&truncated, at(NOW)).is_err());

    // The refused tokens did not poison the replay cache: the genuine one still passes.
    assert_eq!(validator.replay_cache_len(), 0);
    validator.validate(genuine.expose(), at(NOW)).unwrap();
}

#[test]
fn wrong_audience_is_refused() {
    let (key, _, _) = es256_key(KID);
    let mut req = request();
    req.audience = "meet.google.com".into();
    let token = key.mint(&req, at(NOW)).unwrap();
    let err = validator_for(&key)
        .validate(token.expose(), at(NOW))
        .unwrap_err();
    assert_eq!(err, JwtError::WrongAudience);
    assert_eq!((err.label(), err.status()), ("wrong_audience", 401));
}

#[test]
fn wrong_issuer_is_refused() {
    let (key, _, _) = es256_key(KID);
    let mut req = request();
    req.issuer = "other-gateway.example".into();
    let token = key.mint(&req, at(NOW)).unwrap();
    let err = validator_for(&key)
        .validate(token.expose(), at(NOW))
        .unwrap_err();
    assert_eq!(err, JwtError::WrongIssuer);
    assert_eq!((err.label(), err.status()), ("wrong_issuer", 401));

    // The kid is pinned to its issuer: a second gateway's valid iss does not help.
    let (other, _, _) = es256_key("other-kid");
    let mut validator =
        validator_for(&key).with_key("other-gateway.example", other.verifying_key().clone());
    assert_eq!(
        validator.validate(token.expose(), at(NOW)),
        Err(JwtError::WrongIssuer)
    );
}

#[test]
fn alg_none_is_refused() {
    let (key, _, _) = es256_key(KID);
    let mut validator = validator_for(&key);
    let claims = b64(&claims_json(NOW, 300));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT", "kid": KID}));
        for token in [
            format!("{header}.{claims}."),
            format!("{header}.{claims}.c2ln"),
        ] {
            let err = validator.validate(&token, at(NOW)).unwrap_err();
            assert_eq!(err, JwtError::DisallowedAlgorithm, "alg {alg}");
            assert_eq!((err.label(), err.status()), ("disallowed_algorithm", 401));
        }
    }
}

#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    let (key, _, public_pem) = es256_key(KID);
    let mut validator = validator_for(&key);
    let claims = claims_json(NOW, 300);
    let der = {
        let body: String = public_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    };
    let jwk = key.verifying_key().to_jwk_json();
    // The classic confusion attack: the public key, in every form a verifier might hold it,
    // used as the HMAC secret.
    for secret in [public_pem.as_bytes(), &der, jwk.as_bytes()] {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.kid = Some(KID.into());
            let token =
                jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
            assert_eq!(
                validator.validate(&token, at(NOW)),
                Err(JwtError::DisallowedAlgorithm),
                "{alg:?}"
            );
        }
    }

    // Same for the RSA key's PEM.
    let rsa = rs256_key("gw-rsa");
    let mut validator = validator_for(&rsa);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("gw-rsa".into());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(RSA_PUBLIC_PEM.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        validator.validate(&token, at(NOW)),
        Err(JwtError::DisallowedAlgorithm)
    );
}

#[test]
fn algorithm_must_match_the_kid_and_the_allowlist() {
    // An RS256 token that names an ES256 key.
    let (es, _, _) = es256_key(KID);
    let rsa_claiming_es_kid = rs256_key(KID);
    let token = rsa_claiming_es_kid.mint(&request(), at(NOW)).unwrap();
    assert_eq!(
        validator_for(&es).validate(token.expose(), at(NOW)),
        Err(JwtError::DisallowedAlgorithm)
    );

    // RS256 taken off the allowlist: a good RS256 token is refused.
    let rsa = rs256_key("gw-rsa");
    let mut config = ValidatorConfig::new(AUD);
    config.algorithms = vec![SigningAlgorithm::Es256];
    let mut validator = Validator::new(config).with_key(ISS, rsa.verifying_key().clone());
    let token = rsa.mint(&request(), at(NOW)).unwrap();
    assert_eq!(
        validator.validate(token.expose(), at(NOW)),
        Err(JwtError::DisallowedAlgorithm)
    );

    // Algorithms jsonwebtoken knows but we do not allow.
    let claims = b64(&claims_json(NOW, 300));
    for alg in ["ES384", "PS256", "EdDSA", "es256", ""] {
        let header = b64(&json!({"alg": alg, "kid": KID}));
        let token = format!("{header}.{claims}.c2ln");
        assert_eq!(
            validator_for(&es).validate(&token, at(NOW)),
            Err(JwtError::DisallowedAlgorithm),
            "{alg}"
        );
    }
}

#[test]
fn replayed_jti_is_refused_until_it_expires() {
    let (key, _, _) = es256_key(KID);
    let mut validator = validator_for(&key);
    let token = key.mint(&request(), at(NOW)).unwrap();
    validator.validate(token.expose(), at(NOW)).unwrap();
    let err = validator
        .validate(token.expose(), at(NOW + 10))
        .unwrap_err();
    assert_eq!(err, JwtError::ReplayedJti);
    assert_eq!((err.label(), err.status()), ("replayed_jti", 401));
    assert_eq!(validator.replay_cache_len(), 1);

    // A fresh token for the same call is fine.
    let again = key.mint(&request(), at(NOW + 10)).unwrap();
    validator.validate(again.expose(), at(NOW + 10)).unwrap();
    assert_eq!(validator.replay_cache_len(), 2);

    // Still remembered at the last second it could be accepted, forgotten after.
    assert_eq!(
        validator.validate(token.expose(), at(NOW + 329)),
        Err(JwtError::ReplayedJti)
    );
    validator.handle_timeout(at(NOW + 330));
    assert_eq!(
        validator.replay_cache_len(),
        1,
        "first token forgotten at exp + leeway"
    );
    assert_eq!(
        validator.validate(token.expose(), at(NOW + 330)),
        Err(JwtError::Expired)
    );
    validator.handle_timeout(at(NOW + 340));
    assert_eq!(validator.replay_cache_len(), 0);
}

#[test]
fn a_clock_stepping_back_does_not_revive_a_jti() {
    let (key, _, _) = es256_key(KID);
    let mut validator = validator_for(&key);
    let token = key.mint(&request(), at(NOW)).unwrap();
    validator.validate(token.expose(), at(NOW)).unwrap();
    validator.handle_timeout(at(NOW + 1000));
    assert_eq!(validator.replay_cache_len(), 0);
    // The clock jumps back: the validator keeps its latest time, so the token is expired.
    assert_eq!(
        validator.validate(token.expose(), at(NOW + 5)),
        Err(JwtError::Expired)
    );
}

#[test]
fn replay_is_per_issuer() {
    // Two gateways that happen to send the same jti do not block each other.
    let (a_private, _) = p256_pems();
    let (b_private, _) = p256_pems();
    let a = GatewayKey::from_pem("a", SigningAlgorithm::Es256, &a_private).unwrap();
    let b = GatewayKey::from_pem("b", SigningAlgorithm::Es256, &b_private).unwrap();
    let mut validator = Validator::new(ValidatorConfig::new(AUD))
        .with_key("gw-a", a.verifying_key().clone())
        .with_key("gw-b", b.verifying_key().clone());
    let mut claims = claims_json(NOW, 300);
    claims["iss"] = json!("gw-a");
    validator
        .validate(&sign_es256(&a_private, "a", &claims), at(NOW))
        .unwrap();
    claims["iss"] = json!("gw-b");
    validator
        .validate(&sign_es256(&b_private, "b", &claims), at(NOW))
        .unwrap();
    assert_eq!(
        validator.validate(&sign_es256(&b_private, "b", &claims), at(NOW)),
        Err(JwtError::ReplayedJti)
    );
}

// --- other refusals ------------------------------------------------------------------------

#[test]
fn unknown_or_missing_kid_is_refused() {
    let (key, _, _) = es256_key(KID);
    let (stranger, _, _) = es256_key("not-registered");
    let token = stranger.mint(&request(), at(NOW)).unwrap();
    let err = validator_for(&key)
        .validate(token.expose(), at(NOW))
        .unwrap_err();
    assert_eq!(err, JwtError::UnknownKid);
    assert_eq!((err.label(), err.status()), ("unknown_kid", 401));

    let (_, private, _) = es256_key(KID);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = None;
    let no_kid = jsonwebtoken::encode(
        &header,
        &claims_json(NOW, 300),
        &EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        validator_for(&key).validate(&no_kid, at(NOW)),
        Err(JwtError::UnknownKid)
    );

    // A revoked key.
    let mut validator = validator_for(&key);
    assert!(validator.remove_key(KID));
    let token = key.mint(&request(), at(NOW)).unwrap();
    assert_eq!(
        validator.validate(token.expose(), at(NOW)),
        Err(JwtError::UnknownKid)
    );
}

#[test]
fn overlong_lifetime_is_refused_by_the_validator() {
    let (_, private, _) = es256_key(KID);
    let key = GatewayKey::from_pem(KID, SigningAlgorithm::Es256, &private).unwrap();
    let token = sign_es256(&private, KID, &claims_json(NOW, 3600));
    assert_eq!(
        validator_for(&key).validate(&token, at(NOW)),
        Err(JwtError::LifetimeTooLong {
            lifetime_s: 3600,
            max_s: 300
        })
    );
}

#[test]
fn malformed_tokens_are_refused() {
    let (_, private, _) = es256_key(KID);
    let key = GatewayKey::from_pem(KID, SigningAlgorithm::Es256, &private).unwrap();
    let mut validator = validator_for(&key);
    let good = key.mint(&request(), at(NOW)).unwrap();
    let parts: Vec<&str> = good.expose().split('.').collect();

    let mut cases = vec![
        String::new(),
        "not-a-jwt".into(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}", good.expose(), "extra"),
        format!("!!!.{}.{}", parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            b64(&json!(["alg", "ES256"])),
            parts[1],
            parts[2]
        ),
        format!("{}.{}.{}", b64(&json!({"kid": KID})), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            b64(&json!({"alg": "ES256", "kid": KID, "crit": ["exp"]})),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            b64(&json!({"alg": "ES256", "kid": KID, "typ": "at+jwt"})),
            parts[1],
            parts[2]
        ),
        "a".repeat(9000),
    ];
    // Validly signed, but claims missing or of the wrong type.
    for remove in ["jti", "itk", "iat", "sub", "exp", "nbf", "aud", "iss"] {
        let mut claims = claims_json(NOW, 300);
        claims.as_object_mut().unwrap().remove(remove);
        cases.push(sign_es256(&private, KID, &claims));
    }
    let mut claims = claims_json(NOW, 300);
    claims["exp"] = json!("tomorrow");
    cases.push(sign_es256(&private, KID, &claims));
    let mut claims = claims_json(NOW, 300);
    claims["jti"] = json!("");
    cases.push(sign_es256(&private, KID, &claims));

    for token in &cases {
        let err = validator.validate(token, at(NOW)).unwrap_err();
        assert!(
            matches!(err, JwtError::Malformed { .. }),
            "{err:?} for case {}",
            &token[..token.len().min(60)]
        );
        assert_eq!((err.label(), err.status()), ("malformed", 401));
    }
    assert_eq!(validator.replay_cache_len(), 0);
}

// --- keys ----------------------------------------------------------------------------------

#[test]
fn unusable_keys_are_refused_at_load() {
    let invalid = |r: Result<GatewayKey, JwtError>| matches!(r, Err(JwtError::InvalidKey { .. }));
    let (es_private, es_public) = p256_pems();
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        "not a pem"
    )));
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        RSA_PRIVATE_PEM
    )));
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Rs256,
        &es_private
    )));
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        &es_public
    )));
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Rs256,
        RSA_1024_PRIVATE_PEM
    )));
    assert!(invalid(GatewayKey::from_pem(
        "",
        SigningAlgorithm::Es256,
        &es_private
    )));
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    assert!(invalid(GatewayKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        &p384.serialize_pem()
    )));

    let invalid = |r: Result<VerifyingKey, JwtError>| matches!(r, Err(JwtError::InvalidKey { .. }));
    assert!(invalid(VerifyingKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        RSA_PUBLIC_PEM
    )));
    assert!(invalid(VerifyingKey::from_pem(
        KID,
        SigningAlgorithm::Rs256,
        &es_public
    )));
    assert!(invalid(VerifyingKey::from_pem(
        KID,
        SigningAlgorithm::Es256,
        &p384.public_key_pem()
    )));
    assert!(invalid(VerifyingKey::from_jwk_json("{}")));
    assert!(invalid(VerifyingKey::from_jwk_json(
        r#"{"kty":"oct","k":"c2VjcmV0","kid":"x"}"#
    )));
    assert!(invalid(VerifyingKey::from_jwk_json(
        r#"{"kty":"oct","k":"c2VjcmV0","kid":"x","alg":"HS256"}"#
    )));
    let err = VerifyingKey::from_jwk_json("{}").unwrap_err();
    assert_eq!(
        (err.label(), err.status(), err.rpc_status()),
        ("invalid_key", 500, "INTERNAL")
    );
}

// --- secrets stay out of output ------------------------------------------------------------

#[test]
fn debug_and_display_never_show_secrets() {
    let (key, private, _) = es256_key(KID);
    let private_body: Vec<&str> = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let rsa = rs256_key("gw-rsa");
    let token = key
        .mint(&request().with_display_name("Room"), at(NOW))
        .unwrap();
    let claims = validator_for(&key)
        .validate(token.expose(), at(NOW))
        .unwrap();
    let sig = token.expose().rsplit('.').next().unwrap().to_owned();

    let outputs = [
        format!("{key:?}"),
        format!("{key:#?}"),
        format!("{rsa:?}"),
        format!("{:?}", key.verifying_key()),
        format!("{token:?}"),
        format!("{token:#?}"),
        format!("{claims:?}"),
        format!("{:?}", request()),
        format!("{:?}", InteropToken::new(ITK)),
        format!("{:?}", validator_for(&key)),
    ];
    for out in &outputs {
        assert!(!out.contains(ITK), "interop token in {out}");
        assert!(!out.contains(token.expose()), "token in {out}");
        assert!(!out.contains(&sig), "signature in {out}");
        for line in private_body
            .iter()
            .copied()
            .chain(RSA_PRIVATE_PEM.lines().filter(|l| !l.starts_with("-----")))
        {
            assert!(!out.contains(line), "private key material in {out}");
        }
    }
    assert!(
        format!("{key:?}").contains(KID),
        "the kid is shown: {key:?}"
    );
    assert!(
        format!("{token:?}").contains(token.jti()),
        "the jti is shown: {token:?}"
    );

    // Error messages carry no token content either.
    let (forger, _, _) = es256_key(KID);
    let forged = forger.mint(&request(), at(NOW)).unwrap();
    let err = validator_for(&key)
        .validate(forged.expose(), at(NOW))
        .unwrap_err();
    for out in [format!("{err}"), format!("{err:?}")] {
        assert!(!out.contains(ITK) && !out.contains(forged.expose()));
    }
}

#[test]
fn error_labels_are_distinct_and_statuses_follow_the_doc() {
    let all = [
        JwtError::Expired,
        JwtError::NotYetValid,
        JwtError::BadSignature,
        JwtError::WrongAudience,
        JwtError::WrongIssuer,
        JwtError::DisallowedAlgorithm,
        JwtError::UnknownKid,
        JwtError::ReplayedJti,
        JwtError::LifetimeTooLong {
            lifetime_s: 301,
            max_s: 300,
        },
        JwtError::Malformed { reason: "x" },
        JwtError::InvalidKey { reason: "x" },
    ];
    let labels: std::collections::HashSet<_> = all.iter().map(JwtError::label).collect();
    assert_eq!(labels.len(), all.len());
    for err in &all[..10] {
        assert_eq!(
            (err.status(), err.rpc_status()),
            (401, "UNAUTHENTICATED"),
            "{err:?}"
        );
    }
}

// --- credential expiry ---------------------------------------------------------------------

#[test]
fn credential_expiry_status() {
    const DAY: u64 = 86_400;
    let now = at(NOW);
    assert_eq!(DEFAULT_EXPIRY_WARNING, Duration::from_secs(30 * DAY));
    let status = |left: u64| credential_status(at(NOW + left), now, DEFAULT_EXPIRY_WARNING);
    assert_eq!(status(31 * DAY), CredentialStatus::Ok);
    assert_eq!(status(30 * DAY + 1), CredentialStatus::Ok);
    assert_eq!(
        status(30 * DAY),
        CredentialStatus::Expiring { days_left: 30 }
    );
    assert_eq!(
        status(29 * DAY),
        CredentialStatus::Expiring { days_left: 29 }
    );
    assert_eq!(
        status(29 * DAY + 3600),
        CredentialStatus::Expiring { days_left: 29 }
    );
    assert_eq!(status(3600), CredentialStatus::Expiring { days_left: 0 });
    assert_eq!(status(0), CredentialStatus::Expired);
    assert_eq!(
        credential_status(at(NOW - DAY), now, DEFAULT_EXPIRY_WARNING),
        CredentialStatus::Expired
    );
    assert_eq!(
        credential_status(at(NOW + 10 * DAY), now, Duration::from_secs(7 * DAY)),
        CredentialStatus::Ok
    );
    assert_eq!(
        [
            status(31 * DAY).label(),
            status(DAY).label(),
            status(0).label()
        ],
        ["ok", "expiring", "expired"]
    );
}
