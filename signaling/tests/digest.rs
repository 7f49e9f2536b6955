//! Digest authentication: RFC test vectors, challenges and credentials in the shapes real SIP
//! servers send, the server's stateless nonces and every refusal, and property tests.
//!
//! Test vectors: RFC 7616 §3.9.1 (MD5 and SHA-256), RFC 7616 §3.9.2 with the corrected response
//! of RFC Errata ID 4897 (SHA-512-256; the RFC's printed response does not match its inputs),
//! and RFC 2617 §3.5 (MD5). Each was recomputed independently with Python's `hashlib`, and the
//! RFC 2069-style (no qop) value below was computed that way only.

use std::time::Duration;

use proptest::prelude::*;
use signaling::digest::{
    Algorithm, AuthError, AuthQop, AuthenticatedUser, Authenticator, Challenge, Credentials,
    DEFAULT_NONCE_LIFETIME, HeaderError, Qop, authorize, fuzzing, response,
};

// ---------------------------------------------------------------------------------------------
// RFC test vectors

const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const RFC7616_OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

fn rfc7616_challenge(algorithm: &str) -> Challenge {
    // RFC 7616 §3.9.1, as printed (folded over several lines).
    Challenge::parse(&format!(
        "Digest\r\n    realm=\"http-auth@example.org\",\r\n    qop=\"auth, auth-int\",\r\n    \
         algorithm={algorithm},\r\n    nonce=\"{RFC7616_NONCE}\",\r\n    \
         opaque=\"{RFC7616_OPAQUE}\""
    ))
    .unwrap()
}

#[test]
fn rfc7616_md5_vector() {
    let challenge = rfc7616_challenge("MD5");
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    assert_eq!(challenge.qop, [Qop::Auth, Qop::AuthInt]);
    let credentials = authorize(
        &challenge,
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle of Life",
        RFC7616_CNONCE,
        1,
    );
    assert_eq!(credentials.response, "8ca523f5e9506fed4657c9700eebdbec");
    assert_eq!(credentials.qop, Some(Qop::Auth));
    assert_eq!(credentials.opaque.as_deref(), Some(RFC7616_OPAQUE));

    // The RFC's Authorization header parses to the same credentials.
    let rfc = Credentials::parse(&format!(
        "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n \
         uri=\"/dir/index.html\",\r\n algorithm=MD5,\r\n nonce=\"{RFC7616_NONCE}\",\r\n \
         nc=00000001,\r\n cnonce=\"{RFC7616_CNONCE}\",\r\n qop=auth,\r\n \
         response=\"8ca523f5e9506fed4657c9700eebdbec\",\r\n opaque=\"{RFC7616_OPAQUE}\""
    ))
    .unwrap();
    assert_eq!(rfc, credentials);
}

#[test]
fn rfc7616_sha256_vector() {
    let challenge = rfc7616_challenge("SHA-256");
    assert_eq!(challenge.algorithm, Algorithm::Sha256);
    let credentials = authorize(
        &challenge,
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle of Life",
        RFC7616_CNONCE,
        1,
    );
    assert_eq!(
        credentials.response,
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    let printed = credentials.to_string();
    assert!(printed.contains("algorithm=SHA-256"), "{printed}");
    assert!(printed.contains("nc=00000001"), "{printed}");
    assert!(printed.contains("qop=auth,"), "{printed}");
}

#[test]
fn rfc7616_sha512_256_vector_with_erratum_4897() {
    // RFC 7616 §3.9.2, without userhash; response as corrected by Errata ID 4897.
    let value = response(
        Algorithm::Sha512_256,
        "J\u{e4}s\u{f8}n Doe",
        "api@example.org",
        "Secret, or not?",
        "GET",
        "/doe.json",
        "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        Some(AuthQop {
            cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
            nc: 1,
        }),
    );
    assert_eq!(
        value,
        "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
    );
}

#[test]
fn rfc2617_md5_vector() {
    // RFC 2617 §3.5: password "Circle Of Life" (capital O).
    let value = response(
        Algorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
        "GET",
        "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        Some(AuthQop {
            cnonce: "0a4f113b",
            nc: 1,
        }),
    );
    assert_eq!(value, "6629fae49393a05397450978507c4ef1");
}

#[test]
fn rfc2069_style_response_without_qop() {
    let challenge = Challenge::parse(
        r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#,
    )
    .unwrap();
    assert!(challenge.qop.is_empty());
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    let credentials = authorize(
        &challenge,
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle Of Life",
        "unused",
        1,
    );
    assert_eq!(credentials.response, "670fd8c2df070c60b045671b8b24ff02");
    assert_eq!(credentials.qop, None);
    assert_eq!(credentials.cnonce, None);
    assert_eq!(credentials.nc, None);
    assert!(!credentials.to_string().contains("qop"));
}

#[test]
fn auth_int_only_challenge_gets_a_response_without_qop() {
    let challenge = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
    assert_eq!(challenge.qop, [Qop::AuthInt]);
    let credentials = authorize(&challenge, "INVITE", "sip:a@b", "u", "p", "c", 1);
    assert_eq!(credentials.qop, None);
}

// ---------------------------------------------------------------------------------------------
// Challenges as servers send them

#[test]
fn asterisk_style_challenge() {
    let challenge = Challenge::parse(
        r#"Digest realm="asterisk",nonce="1700000000/6b1a5c3c8e4b1e0f1d2c3b4a59687766",opaque="5b2e6e4b2f7c7e1a",algorithm=md5,qop="auth""#,
    )
    .unwrap();
    assert_eq!(challenge.realm, "asterisk");
    assert_eq!(
        challenge.nonce,
        "1700000000/6b1a5c3c8e4b1e0f1d2c3b4a59687766"
    );
    assert_eq!(challenge.opaque.as_deref(), Some("5b2e6e4b2f7c7e1a"));
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    assert_eq!(challenge.qop, [Qop::Auth]);
    assert!(!challenge.stale);
}

#[test]
fn kamailio_style_challenges() {
    // Kamailio's auth module: qop first, nonce before realm, SHA-256 on a second header.
    let md5 = Challenge::parse(
        r#"Digest realm="sip.example.com", nonce="ZVx0AWVcctXOzt3HZH1tZ0NHFQ8JZ2aU", qop="auth""#,
    )
    .unwrap();
    assert_eq!(md5.algorithm, Algorithm::Md5);
    let sha = Challenge::parse(
        r#"Digest qop="auth", nonce="ZVx0AWVcctXOzt3HZH1tZ0NHFQ8JZ2aU", realm="sip.example.com", algorithm=SHA-256"#,
    )
    .unwrap();
    assert_eq!(sha.algorithm, Algorithm::Sha256);
    assert_eq!(sha.realm, md5.realm);
    assert_eq!(sha.nonce, md5.nonce);
    // A stale re-challenge.
    let stale = Challenge::parse(
        r#"Digest realm="sip.example.com", nonce="ZVx0BBB", stale=true, qop="auth""#,
    )
    .unwrap();
    assert!(stale.stale);
}

#[test]
fn cisco_style_challenge() {
    // Unusual spacing, upper-case scheme and names, unquoted qop and algorithm, quoted stale, an
    // unknown parameter, a trailing comma.
    let challenge = Challenge::parse(
        "DIGEST   REALM = \"cucm.example.net\" ,NONCE=\"c2VjcmV0\" , Algorithm = \"MD5\", \
         QOP=auth, Stale=\"FALSE\", domain=\"sip:cucm.example.net\", x-ext=1,",
    )
    .unwrap();
    assert_eq!(challenge.realm, "cucm.example.net");
    assert_eq!(challenge.nonce, "c2VjcmV0");
    assert_eq!(challenge.algorithm, Algorithm::Md5);
    assert_eq!(challenge.qop, [Qop::Auth]);
    assert!(!challenge.stale);
}

#[test]
fn quoted_strings_unescape() {
    let challenge =
        Challenge::parse(r#"Digest realm="a \"quoted\" realm \\ here", nonce="n,o=n ce""#).unwrap();
    assert_eq!(challenge.realm, r#"a "quoted" realm \ here"#);
    assert_eq!(challenge.nonce, "n,o=n ce");
    let printed = challenge.to_string();
    assert!(
        printed.starts_with(r#"Digest realm="a \"quoted\" realm \\ here", nonce="n,o=n ce""#),
        "{printed}"
    );
    assert_eq!(Challenge::parse(&printed).unwrap(), challenge);
    // UTF-8 inside quotes.
    let utf8 = Challenge::parse("Digest realm=\"räksmörgås\", nonce=\"ü\"").unwrap();
    assert_eq!(utf8.realm, "räksmörgås");
}

#[test]
fn unknown_qop_options_are_dropped() {
    let challenge =
        Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-conf, , auth,token""#).unwrap();
    assert_eq!(challenge.qop, [Qop::Auth]);
}

#[test]
fn challenge_display_is_a_valid_header_value() {
    let challenge = Challenge {
        realm: "sip.example.com".into(),
        nonce: "abc".into(),
        opaque: Some("xyz".into()),
        algorithm: Algorithm::Sha256,
        qop: vec![Qop::Auth],
        stale: true,
    };
    assert_eq!(
        challenge.to_string(),
        r#"Digest realm="sip.example.com", nonce="abc", opaque="xyz", algorithm=SHA-256, qop="auth", stale=TRUE"#
    );
    // Control characters cannot break the header line.
    let hostile = Challenge {
        realm: "evil\r\nVia: injected".into(),
        ..challenge
    };
    let printed = hostile.to_string();
    assert!(!printed.contains('\r') && !printed.contains('\n'));
    assert_eq!(
        Challenge::parse(&printed).unwrap().realm,
        "evil  Via: injected"
    );
}

#[test]
fn challenge_errors_name_the_problem() {
    let cases: [(&str, HeaderError); 12] = [
        ("", HeaderError::Empty),
        ("   ", HeaderError::Empty),
        (r#"Basic realm="x""#, HeaderError::NotDigest("Basic".into())),
        (
            r#"Digest nonce="n""#,
            HeaderError::MissingParameter("realm"),
        ),
        (
            r#"Digest realm="r""#,
            HeaderError::MissingParameter("nonce"),
        ),
        (
            r#"Digest realm="r", nonce="n", algorithm=MD5-sess"#,
            HeaderError::UnsupportedAlgorithm("MD5-sess".into()),
        ),
        (
            r#"Digest realm="r", nonce="n", stale=maybe"#,
            HeaderError::InvalidValue {
                param: "stale",
                value: "maybe".into(),
            },
        ),
        (
            r#"Digest realm="r", realm="s", nonce="n""#,
            HeaderError::DuplicateParameter("realm".into()),
        ),
        (
            // The realm's closing quote is missing: `r, nonce=` is the realm.
            r#"Digest realm="r, nonce="n""#,
            HeaderError::Syntax {
                position: 24,
                expected: "\",\" between parameters",
            },
        ),
        (
            r#"Digest realm="r", nonce="n"#,
            HeaderError::UnterminatedQuotedString { position: 24 },
        ),
        (
            "Digest realm=\"a\u{1}b\", nonce=\"n\"",
            HeaderError::ControlCharacter { position: 15 },
        ),
        (
            r#"Digest realm "r""#,
            HeaderError::Syntax {
                position: 13,
                expected: "\"=\" after the parameter name",
            },
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(Challenge::parse(value), Err(expected), "{value:?}");
    }
    assert!(matches!(
        Challenge::parse(r#"Digestrealm="r""#),
        Err(HeaderError::NotDigest(_))
    ));
    assert!(matches!(
        Challenge::parse(r#"Digest realm="r" nonce="n""#),
        Err(HeaderError::Syntax { .. })
    ));
    assert!(matches!(
        Challenge::parse(r#"Digest realm=, nonce="n""#),
        Err(HeaderError::Syntax { .. })
    ));
    // Error messages say what is wrong.
    let message = Challenge::parse(r#"Digest realm="r", nonce="n", algorithm=SHA-1"#)
        .unwrap_err()
        .to_string();
    assert!(message.contains("SHA-1"), "{message}");
}

#[test]
fn algorithm_names() {
    for algorithm in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(algorithm.as_str()), Some(algorithm));
        assert_eq!(algorithm.to_string().parse::<Algorithm>(), Ok(algorithm));
    }
    assert_eq!(Algorithm::from_name("sha-256"), Some(Algorithm::Sha256));
    assert_eq!(
        Algorithm::from_name("sha-512-256"),
        Some(Algorithm::Sha512_256)
    );
    assert_eq!(Algorithm::from_name("SHA-256-sess"), None);
    assert_eq!(Qop::from_name("AUTH"), Some(Qop::Auth));
    assert_eq!(Qop::AuthInt.to_string(), "auth-int");
}

// ---------------------------------------------------------------------------------------------
// Credentials

#[test]
fn credentials_from_a_polycom_style_register() {
    let credentials = Credentials::parse(
        r#"Digest username="1001", realm="sip.example.com", nonce="ZVx0AWVc", uri="sip:sip.example.com;transport=tls", response="a5f2b9e7b1c3d4e5f60718293a4b5c6d", cnonce="5d8f1e2a", qop=auth, nc=0000000A, algorithm=MD5"#,
    )
    .unwrap();
    assert_eq!(credentials.username, "1001");
    assert_eq!(credentials.uri, "sip:sip.example.com;transport=tls");
    assert_eq!(credentials.nc, Some(10));
    assert_eq!(credentials.qop, Some(Qop::Auth));
    // Printed back: nc in lower-case, eight digits.
    assert!(credentials.to_string().contains("nc=0000000a"));
}

#[test]
fn credentials_with_quoted_qop_and_no_algorithm() {
    // Some clients quote qop; algorithm absent means MD5.
    let credentials = Credentials::parse(
        r#"digest USERNAME="bob",realm="r",nonce="n",uri="sip:r",response="00",qop="auth",cnonce="c",nc=00000001"#,
    )
    .unwrap();
    assert_eq!(credentials.qop, Some(Qop::Auth));
    assert_eq!(credentials.algorithm, Algorithm::Md5);
}

#[test]
fn credentials_errors_name_the_problem() {
    let base = r#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="00""#;
    assert!(Credentials::parse(base).is_ok());
    for missing in ["username", "realm", "nonce", "uri", "response"] {
        let value = base
            .split(", ")
            .filter(|part| !part.contains(&format!("{missing}=")))
            .collect::<Vec<_>>()
            .join(", ");
        let value = if value.starts_with("Digest") {
            value
        } else {
            format!("Digest {value}")
        };
        assert_eq!(
            Credentials::parse(&value),
            Err(HeaderError::MissingParameter(missing)),
            "{value}"
        );
    }
    assert_eq!(
        Credentials::parse(&format!("{base}, qop=auth, nc=00000001")),
        Err(HeaderError::MissingParameter("cnonce"))
    );
    assert_eq!(
        Credentials::parse(&format!("{base}, qop=auth, cnonce=\"c\"")),
        Err(HeaderError::MissingParameter("nc"))
    );
    assert_eq!(
        Credentials::parse(&format!("{base}, qop=auth-conf, cnonce=\"c\", nc=00000001")),
        Err(HeaderError::InvalidValue {
            param: "qop",
            value: "auth-conf".into()
        })
    );
    for nc in ["1", "000000001", "0000000g", "+0000001"] {
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth, cnonce=\"c\", nc={nc}")),
            Err(HeaderError::InvalidValue {
                param: "nc",
                value: nc.into()
            }),
            "{nc}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Server: round trips and refusals

const SECRET: [u8; 32] = [7; 32];
const NOW: u64 = 1_700_000_000;

fn server() -> Authenticator {
    Authenticator::new(SECRET, Duration::from_secs(300))
        .with_realm("tcn.example.com")
        .with_realm("other.example.com")
}

fn passwords(realm: &str, user: &str) -> Option<String> {
    match (realm, user) {
        ("tcn.example.com", "room-101") => Some("s3cret!".to_owned()),
        ("other.example.com", "room-101") => Some("different".to_owned()),
        _ => None,
    }
}

/// Challenge → header text → client → header text → verify.
fn round_trip(
    server: &Authenticator,
    algorithm: Algorithm,
    issued_at: u64,
    password: &str,
    verified_at: u64,
) -> Result<AuthenticatedUser, AuthError> {
    let challenge = server.challenge("tcn.example.com", algorithm, issued_at, false);
    let received = Challenge::parse(&challenge.to_string()).unwrap();
    assert_eq!(received, challenge);
    let credentials = authorize(
        &received,
        "INVITE",
        "sip:meet@tcn.example.com",
        "room-101",
        password,
        "0a4f113b",
        1,
    );
    let header = Credentials::parse(&credentials.to_string()).unwrap();
    server.verify("INVITE", &header, verified_at, passwords)
}

#[test]
fn round_trip_every_algorithm() {
    let server = server();
    for algorithm in Algorithm::ALL {
        assert_eq!(
            round_trip(&server, algorithm, NOW, "s3cret!", NOW + 10),
            Ok(AuthenticatedUser {
                username: "room-101".into(),
                realm: "tcn.example.com".into()
            }),
            "{algorithm}"
        );
    }
}

#[test]
fn challenges_follow_the_configured_algorithms() {
    let server = server().with_algorithms(&[Algorithm::Sha256, Algorithm::Md5]);
    let challenges = server.challenges("tcn.example.com", NOW, false);
    let algorithms: Vec<Algorithm> = challenges.iter().map(|c| c.algorithm).collect();
    assert_eq!(algorithms, [Algorithm::Sha256, Algorithm::Md5]);
    for challenge in &challenges {
        assert_eq!(challenge.qop, [Qop::Auth]);
        assert!(!challenge.stale);
        assert_eq!(challenge.nonce.len(), 32);
    }
    assert_eq!(
        round_trip(&server, Algorithm::Sha512_256, NOW, "s3cret!", NOW),
        Err(AuthError::UnsupportedAlgorithm(Algorithm::Sha512_256))
    );
}

#[test]
fn wrong_password_is_bad_response() {
    assert_eq!(
        round_trip(&server(), Algorithm::Sha256, NOW, "guess", NOW),
        Err(AuthError::BadResponse)
    );
}

#[test]
fn expired_nonce_is_stale_and_re_challenged_with_stale() {
    let server = server();
    // Exactly at the lifetime: still fresh; one second later: stale.
    assert!(round_trip(&server, Algorithm::Md5, NOW, "s3cret!", NOW + 300).is_ok());
    assert_eq!(
        round_trip(&server, Algorithm::Md5, NOW, "s3cret!", NOW + 301),
        Err(AuthError::StaleNonce)
    );
    // A stale nonce with a wrong password is a bad response, not stale (RFC 7616 §3.3).
    assert_eq!(
        round_trip(&server, Algorithm::Md5, NOW, "guess", NOW + 301),
        Err(AuthError::BadResponse)
    );
    let rechallenge = server.challenge("tcn.example.com", Algorithm::Md5, NOW + 301, true);
    assert!(rechallenge.stale);
    assert!(rechallenge.to_string().ends_with(", stale=TRUE"));
    assert!(Challenge::parse(&rechallenge.to_string()).unwrap().stale);
    // A nonce from the future (the clock stepped back) is fresh.
    assert!(round_trip(&server, Algorithm::Md5, NOW + 60, "s3cret!", NOW).is_ok());
}

/// Credentials answering a fresh challenge correctly.
fn good_credentials(server: &Authenticator) -> Credentials {
    let challenge = server.challenge("tcn.example.com", Algorithm::Sha256, NOW, false);
    authorize(
        &challenge,
        "REGISTER",
        "sip:tcn.example.com",
        "room-101",
        "s3cret!",
        "abcdef",
        3,
    )
}

#[test]
fn tampered_nonce_is_bad_nonce() {
    let server = server();
    let good = good_credentials(&server);
    assert!(server.verify("REGISTER", &good, NOW, passwords).is_ok());

    // Change one character of the nonce: the MAC no longer matches. Recompute the response
    // for the tampered nonce, as an attacker knowing the password for another nonce would.
    let mut nonce: Vec<char> = good.nonce.chars().collect();
    nonce[3] = if nonce[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = nonce.into_iter().collect();
    let mut challenge = server.challenge("tcn.example.com", Algorithm::Sha256, NOW, false);
    challenge.nonce = tampered;
    let forged = authorize(
        &challenge,
        "REGISTER",
        "sip:tcn.example.com",
        "room-101",
        "s3cret!",
        "abcdef",
        3,
    );
    assert_eq!(
        server.verify("REGISTER", &forged, NOW, passwords),
        Err(AuthError::BadNonce)
    );
    // Another server's secret, garbage, wrong length, and an extended timestamp.
    let foreign = Authenticator::new([9; 32], DEFAULT_NONCE_LIFETIME).with_realm("tcn.example.com");
    for nonce in [
        foreign.nonce("tcn.example.com", NOW),
        "not base64!".to_owned(),
        String::new(),
        "AAAA".to_owned(),
        format!("{}AA", good.nonce),
    ] {
        let credentials = Credentials {
            nonce: nonce.clone(),
            ..good.clone()
        };
        assert_eq!(
            server.verify("REGISTER", &credentials, NOW, passwords),
            Err(AuthError::BadNonce),
            "{nonce}"
        );
    }
}

#[test]
fn nonces_are_bound_to_their_realm() {
    let server = server();
    let challenge = server.challenge("tcn.example.com", Algorithm::Md5, NOW, false);
    // The nonce of one realm presented in another.
    let mut other = challenge;
    other.realm = "other.example.com".into();
    let credentials = authorize(&other, "INVITE", "sip:x", "room-101", "different", "c", 1);
    assert_eq!(
        server.verify("INVITE", &credentials, NOW, passwords),
        Err(AuthError::BadNonce)
    );
}

#[test]
fn other_realm_is_unknown_realm() {
    let server = server();
    let credentials = Credentials {
        realm: "evil.example.org".into(),
        ..good_credentials(&server)
    };
    assert_eq!(
        server.verify("REGISTER", &credentials, NOW, passwords),
        Err(AuthError::UnknownRealm("evil.example.org".into()))
    );
}

#[test]
fn unknown_user_and_other_refusals() {
    let server = server();
    let good = good_credentials(&server);
    let nobody = Credentials {
        username: "nobody".into(),
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &nobody, NOW, passwords),
        Err(AuthError::UnknownUser {
            username: "nobody".into(),
            realm: "tcn.example.com".into()
        })
    );
    // Another method than the one signed.
    assert_eq!(
        server.verify("INVITE", &good, NOW, passwords),
        Err(AuthError::BadResponse)
    );
    // Another nonce count than the one signed.
    let replayed_nc = Credentials {
        nc: Some(4),
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &replayed_nc, NOW, passwords),
        Err(AuthError::BadResponse)
    );
    // Upper-case hex in the response is accepted.
    let upper = Credentials {
        response: good.response.to_ascii_uppercase(),
        ..good.clone()
    };
    assert!(server.verify("REGISTER", &upper, NOW, passwords).is_ok());
    let truncated = Credentials {
        response: good.response[..10].to_owned(),
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &truncated, NOW, passwords),
        Err(AuthError::BadResponse)
    );
    let no_qop = Credentials {
        qop: None,
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &no_qop, NOW, passwords),
        Err(AuthError::MissingQop)
    );
    let auth_int = Credentials {
        qop: Some(Qop::AuthInt),
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &auth_int, NOW, passwords),
        Err(AuthError::UnsupportedQop(Qop::AuthInt))
    );
    let no_cnonce = Credentials {
        cnonce: None,
        ..good.clone()
    };
    assert_eq!(
        server.verify("REGISTER", &no_cnonce, NOW, passwords),
        Err(AuthError::MissingParameter("cnonce"))
    );
    let no_nc = Credentials { nc: None, ..good };
    assert_eq!(
        server.verify("REGISTER", &no_nc, NOW, passwords),
        Err(AuthError::MissingParameter("nc"))
    );
}

#[test]
fn realms_and_settings() {
    let mut server = Authenticator::new(SECRET, DEFAULT_NONCE_LIFETIME);
    assert!(!server.serves_realm("a"));
    server.add_realm("a");
    server.add_realm("a");
    assert!(server.serves_realm("a"));
    assert!(!server.serves_realm("A"));
    assert_eq!(server.nonce_lifetime(), Duration::from_secs(300));
    // Deterministic for a given secret, realm and time; different otherwise.
    assert_eq!(server.nonce("a", NOW), server.nonce("a", NOW));
    assert_ne!(server.nonce("a", NOW), server.nonce("a", NOW + 1));
    assert_ne!(server.nonce("a", NOW), server.nonce("b", NOW));
}

#[test]
fn debug_never_shows_the_secret() {
    let server = Authenticator::new([0xab; 32], DEFAULT_NONCE_LIFETIME).with_realm("r");
    let debug = format!("{server:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(!debug.contains("171"), "{debug}"); // 0xab
    assert!(!debug.to_lowercase().contains("abab"), "{debug}");
}

// ---------------------------------------------------------------------------------------------
// Fuzz body

#[test]
fn fuzz_body_takes_real_headers() {
    for value in [
        r#"Digest realm="asterisk",nonce="1/2",algorithm=md5,qop="auth""#,
        r#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, cnonce="c", nc=00000001"#,
        "",
        "Digest",
        "Digest ,,,",
        "Digest realm=\"\\",
    ] {
        fuzzing::header(value.as_bytes());
    }
    fuzzing::header(&[0xff, 0xfe, b'"']);
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Text a parsed value can hold: printable ASCII including `"` and `\`, tab, and some UTF-8.
fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~\téü€]{0,24}").unwrap()
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Md5),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512_256)
    ]
}

fn qop() -> impl Strategy<Value = Qop> {
    prop_oneof![Just(Qop::Auth), Just(Qop::AuthInt)]
}

fn challenge() -> impl Strategy<Value = Challenge> {
    (
        text(),
        text(),
        proptest::option::of(text()),
        algorithm(),
        proptest::collection::vec(qop(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(realm, nonce, opaque, algorithm, qop, stale)| Challenge {
            realm,
            nonce,
            opaque,
            algorithm,
            qop,
            stale,
        })
}

fn credentials() -> impl Strategy<Value = Credentials> {
    (
        (text(), text(), text(), text(), text()),
        algorithm(),
        proptest::option::of((qop(), text(), any::<u32>())),
        proptest::option::of(text()),
    )
        .prop_map(
            |((username, realm, nonce, uri, response), algorithm, qop, opaque)| Credentials {
                username,
                realm,
                nonce,
                uri,
                response,
                algorithm,
                cnonce: qop.as_ref().map(|(_, cnonce, _)| cnonce.clone()),
                nc: qop.as_ref().map(|(_, _, nc)| *nc),
                qop: qop.map(|(qop, _, _)| qop),
                opaque,
            },
        )
}

proptest! {
    #[test]
    fn random_strings_never_panic_the_parsers(value in any::<String>()) {
        let _ = Challenge::parse(&value);
        let _ = Credentials::parse(&value);
        fuzzing::header(value.as_bytes());
    }

    #[test]
    fn digest_shaped_strings_never_panic_the_parsers(
        value in proptest::string::string_regex(
            r#"[Dd]igest[ \t\r\n]{0,2}([a-z]{1,8}[ ]?=[ ]?("([^"\\]|\\.){0,8}"?|[a-zA-Z0-9\-]{0,8})[ ,]{0,3}){0,8}"#,
        ).unwrap(),
    ) {
        let _ = Challenge::parse(&value);
        let _ = Credentials::parse(&value);
        fuzzing::header(value.as_bytes());
    }

    #[test]
    fn challenges_round_trip(challenge in challenge()) {
        let printed = challenge.to_string();
        prop_assert_eq!(Challenge::parse(&printed), Ok(challenge));
    }

    #[test]
    fn credentials_round_trip(credentials in credentials()) {
        let printed = credentials.to_string();
        prop_assert_eq!(Credentials::parse(&printed), Ok(credentials));
    }

    #[test]
    fn authorize_then_verify_accepts_exactly_the_right_password(
        password in text(),
        guess in text(),
        algorithm in algorithm(),
        cnonce in "[A-Za-z0-9+/]{1,32}",
        nc in 1u32..,
        age in 0u64..600,
    ) {
        let server = Authenticator::new(SECRET, Duration::from_secs(300)).with_realm("r");
        let challenge = server.challenge("r", algorithm, NOW, false);
        let credentials = authorize(&challenge, "INVITE", "sip:r", "u", &guess, &cnonce, nc);
        let result = server.verify("INVITE", &credentials, NOW + age, |_, _| Some(password.clone()));
        let expected = if guess != password {
            Err(AuthError::BadResponse)
        } else if age > 300 {
            Err(AuthError::StaleNonce)
        } else {
            Ok(AuthenticatedUser { username: "u".into(), realm: "r".into() })
        };
        prop_assert_eq!(result, expected);
    }
}
