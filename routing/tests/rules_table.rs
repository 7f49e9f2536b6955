//! Call Routing Rules, table-driven: one dial plan, many calls, the expected rule and result.

use std::net::IpAddr;

use routing::Protocol;
use routing::alias::Alias;
use routing::rules::{AccessTokenRef, IncomingCall, RuleConfig, RuleSet, Target, Verdict};

const DIAL_PLAN: &str = r#"
[[rules]]
name = "disabled-catch-all"
priority = 1
enabled = false
match = '.*'
target = { kind = "sip", dns = true }

[[rules]]
name = "h323-only"
priority = 5
protocols = ["h323"]
match = '(\d{13})@h323\.example\.com'
replace = '\1'
target = { kind = "meet", access_token = "untrusted" }

[[rules]]
name = "registered-trusted"
priority = 10
registered_only = true
match = '(\d{13})@example\.com'
replace = '\1'
target = { kind = "meet", access_token = "trusted" }
treat_as_trusted = true

[[rules]]
name = "office-trusted"
priority = 20
source = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]
match = '(\d{13})@example\.com'
replace = '\1'
target = { kind = "meet", access_token = "trusted" }

[[rules]]
name = "everyone-untrusted"
priority = 30
match = '(\d{13})@example\.com'
replace = '$1'
target = { kind = "meet", access_token = "untrusted" }
max_callrate_in = "4128kbps"
max_callrate_out = "2000kbps"
crypto = "on"
call_type = "auto"

[[rules]]
name = "codes"
priority = 40
match = '(?P<code>[a-z]{3}-?[a-z]{4}-?[a-z]{3})@example\.com'
replace = '\g<code>'
target = { kind = "meet", access_token = "untrusted" }

[[rules]]
name = "tie-a"
priority = 50
match = 'tie@example\.com'
target = { kind = "sip", proxy = "a.example.net:5070" }

[[rules]]
name = "tie-b"
priority = 50
match = 'tie(-b)?@example\.com'
target = { kind = "sip", proxy = "b.example.net" }

[[rules]]
name = "full-uri-tls"
priority = 60
match_full_uri = true
match = 'sips?:secure@example\.com;transport=tls'
target = { kind = "sip", dns = true }

[[rules]]
name = "user-host-secure"
priority = 61
match = 'secure@example\.com'
replace = 'plain-secure'
target = { kind = "sip", dns = true }

[[rules]]
name = "not-incoming"
priority = 70
match_incoming = false
match = '.*@out\.example\.com'
target = { kind = "sip", dns = true }

[[rules]]
name = "guest-join"
priority = 80
match = '[a-z\-]{10,12}@google\.pexip\.me'
target = { kind = "sip", dns = true }

[[rules]]
name = "uk-pstn"
priority = 90
protocols = ["sip"]
match = '\+44(\d+)'
replace = '0\1@pstn.example.com'
target = { kind = "sip", proxy = "pstn-gw.example.com:5060" }

[[rules]]
name = "rooms"
priority = 100
match = '(?P<room>[a-z]+)\.(\d+)@rooms\.example\.com'
replace = '${room}-\2@\g<room>.example.com'
target = { kind = "sip", dns = true }

[[rules]]
name = "h323-digits"
priority = 110
protocols = ["h323"]
match = '8(\d{13})'
replace = '\1'
target = { kind = "meet", access_token = "trusted" }
"#;

#[derive(serde::Deserialize)]
struct Plan {
    rules: Vec<RuleConfig>,
}

fn rule_set() -> RuleSet {
    let plan: Plan = toml::from_str(DIAL_PLAN).unwrap_or_else(|e| panic!("dial plan: {e}"));
    let tokens = [
        AccessTokenRef {
            name: "trusted".into(),
            trusted: true,
        },
        AccessTokenRef {
            name: "untrusted".into(),
            trusted: false,
        },
    ];
    RuleSet::new(&plan.rules, &tokens).expect("dial plan is valid")
}

/// (alias, protocol, source, registered) → (rule, rewritten alias). `None` = no match (404).
type Case = (
    &'static str,
    Protocol,
    &'static str,
    bool,
    Option<(&'static str, &'static str)>,
);

const SIP: Protocol = Protocol::Sip;
const H323: Protocol = Protocol::H323;
const OUT: &str = "198.51.100.9"; // an address outside every source filter

const CASES: &[Case] = &[
    // priority order: registered beats office beats everyone
    (
        "sip:1234567890123@example.com",
        SIP,
        OUT,
        true,
        Some(("registered-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "10.1.2.3",
        true,
        Some(("registered-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "10.1.2.3",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    // CIDR source filter: v4 network edges, a single address, v6
    (
        "sip:1234567890123@example.com",
        SIP,
        "10.0.0.0",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "10.255.255.255",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "11.0.0.0",
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "9.255.255.255",
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "192.0.2.7",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "192.0.2.8",
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "2001:db8::42",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com",
        SIP,
        "2001:db9::42",
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    // normalisation: case, parameters, port, display name, angle brackets
    (
        "SIP:1234567890123@EXAMPLE.COM",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com;transport=tcp",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "sip:1234567890123@example.com:5061",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "\"Room 4\" <sip:1234567890123@example.com>",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "1234567890123@example.com",
        SIP,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    // full match: neither a prefix nor a suffix of the alias is enough
    ("sip:12345678901234@example.com", SIP, OUT, false, None),
    ("sip:123456789012@example.com", SIP, OUT, false, None),
    (
        "sip:1234567890123@example.com.evil.net",
        SIP,
        OUT,
        false,
        None,
    ),
    ("sip:x1234567890123@example.com", SIP, OUT, false, None),
    // protocol filters
    (
        "dialedDigits:81234567890123",
        H323,
        OUT,
        false,
        Some(("h323-digits", "1234567890123")),
    ),
    (
        "81234567890123",
        H323,
        OUT,
        false,
        Some(("h323-digits", "1234567890123")),
    ),
    ("sip:81234567890123@example.com", SIP, OUT, false, None),
    (
        "h323:1234567890123@h323.example.com",
        H323,
        OUT,
        false,
        Some(("h323-only", "1234567890123")),
    ),
    (
        "email-ID:1234567890123@h323.example.com",
        H323,
        OUT,
        false,
        Some(("h323-only", "1234567890123")),
    ),
    ("sip:1234567890123@h323.example.com", SIP, OUT, false, None),
    (
        "url-ID:h323:1234567890123@example.com",
        H323,
        OUT,
        false,
        Some(("everyone-untrusted", "1234567890123")),
    ),
    (
        "email-ID:1234567890123@example.com",
        H323,
        "10.9.9.9",
        false,
        Some(("office-trusted", "1234567890123")),
    ),
    (
        "email-ID:1234567890123@example.com",
        H323,
        OUT,
        true,
        Some(("registered-trusted", "1234567890123")),
    ),
    (
        "tel:+442079460000",
        SIP,
        OUT,
        false,
        Some(("uk-pstn", "02079460000@pstn.example.com")),
    ),
    (
        "+44 20 7946 0000",
        SIP,
        OUT,
        false,
        Some(("uk-pstn", "02079460000@pstn.example.com")),
    ),
    ("dialedDigits:+442079460000", H323, OUT, false, None),
    // named groups, with and without hyphens, any case
    (
        "sip:abc-defg-hij@example.com",
        SIP,
        OUT,
        false,
        Some(("codes", "abc-defg-hij")),
    ),
    (
        "sip:ABC-DEFG-HIJ@example.com",
        SIP,
        OUT,
        false,
        Some(("codes", "abc-defg-hij")),
    ),
    (
        "sip:abcdefghij@example.com",
        SIP,
        OUT,
        false,
        Some(("codes", "abcdefghij")),
    ),
    ("sip:abc-defg-hi@example.com", SIP, OUT, false, None),
    (
        "h323-ID:abc-defg-hij@example.com",
        H323,
        OUT,
        false,
        Some(("codes", "abc-defg-hij")),
    ),
    // numbered and named groups mixed in one replacement
    (
        "sip:board.42@rooms.example.com",
        SIP,
        OUT,
        false,
        Some(("rooms", "board-42@board.example.com")),
    ),
    (
        "sip:Board.42@Rooms.Example.com",
        SIP,
        OUT,
        false,
        Some(("rooms", "board-42@board.example.com")),
    ),
    ("sip:board42@rooms.example.com", SIP, OUT, false, None),
    // ties: equal priority keeps file order
    (
        "sip:tie@example.com",
        SIP,
        OUT,
        false,
        Some(("tie-a", "tie@example.com")),
    ),
    (
        "sip:tie-b@example.com",
        SIP,
        OUT,
        false,
        Some(("tie-b", "tie-b@example.com")),
    ),
    // full URI versus user@host
    (
        "sips:secure@example.com;transport=tls",
        SIP,
        OUT,
        false,
        Some(("full-uri-tls", "sips:secure@example.com;transport=tls")),
    ),
    (
        "sip:secure@example.com;transport=TLS",
        SIP,
        OUT,
        false,
        Some(("full-uri-tls", "sip:secure@example.com;transport=TLS")),
    ),
    (
        "sip:secure@example.com;transport=udp",
        SIP,
        OUT,
        false,
        Some(("user-host-secure", "plain-secure")),
    ),
    (
        "sip:secure@example.com",
        SIP,
        OUT,
        false,
        Some(("user-host-secure", "plain-secure")),
    ),
    (
        "sip:secure@example.com:5061;transport=tls",
        SIP,
        OUT,
        false,
        Some(("user-host-secure", "plain-secure")),
    ),
    // match_incoming = false never matches an incoming call
    ("sip:anyone@out.example.com", SIP, OUT, false, None),
    ("sip:anyone@out.example.com", SIP, "10.0.0.1", true, None),
    // guest join, no replace: alias unchanged
    (
        "sip:abc-defg-hij@google.pexip.me",
        SIP,
        OUT,
        false,
        Some(("guest-join", "abc-defg-hij@google.pexip.me")),
    ),
    (
        "sip:abc-defg-hij@GOOGLE.pexip.me",
        SIP,
        OUT,
        false,
        Some(("guest-join", "abc-defg-hij@google.pexip.me")),
    ),
    ("sip:abc@google.pexip.me", SIP, OUT, false, None),
    (
        "h323:abc-defg-hij@google.pexip.me",
        H323,
        OUT,
        false,
        Some(("guest-join", "abc-defg-hij@google.pexip.me")),
    ),
    // no match at all: 404
    ("sip:nobody@example.org", SIP, OUT, false, None),
    ("sip:example.com", SIP, OUT, false, None),
    ("h323-ID:reception", H323, OUT, false, None),
    ("dialedDigits:1234", H323, "10.0.0.1", true, None),
    ("tel:+15550100", SIP, OUT, false, None),
    // a disabled catch-all (priority 1) must never match
    ("sip:anything@anywhere.example", SIP, "10.0.0.1", true, None),
];

#[test]
fn every_case_routes_as_expected() {
    let rules = rule_set();
    assert!(CASES.len() >= 60, "{} cases", CASES.len());
    for &(alias_text, protocol, source, registered, expected) in CASES {
        let alias =
            Alias::parse(alias_text, protocol).unwrap_or_else(|e| panic!("{alias_text}: {e}"));
        let call = IncomingCall {
            alias: &alias,
            protocol,
            source: source.parse::<IpAddr>().unwrap(),
            registered,
        };
        let routed = rules.route(&call, None);
        let got = routed
            .decision
            .as_ref()
            .map(|d| (d.rule.as_str(), d.alias.as_str()));
        assert_eq!(
            got, expected,
            "{alias_text} ({protocol}, {source}, registered {registered})"
        );
        // The trace ends at the match, or covers every rule when nothing matched.
        match &routed.decision {
            Some(decision) => {
                let last = routed.trace.last().unwrap();
                assert_eq!(
                    (last.rule.as_str(), &last.verdict),
                    (decision.rule.as_str(), &Verdict::Matched)
                );
            }
            None => assert_eq!(routed.trace.len(), rules.len()),
        }
        assert_eq!(
            routed.trace[0].verdict,
            Verdict::Disabled,
            "the disabled rule is tried first"
        );
    }
}

#[test]
fn targets_and_settings_come_from_the_rule() {
    let rules = rule_set();
    let route = |text: &str, source: &str, registered: bool| {
        let alias = Alias::parse(text, SIP).unwrap();
        let call = IncomingCall {
            alias: &alias,
            protocol: SIP,
            source: source.parse().unwrap(),
            registered,
        };
        rules.route(&call, None).decision.unwrap()
    };
    let trusted = route("sip:1234567890123@example.com", OUT, true);
    assert_eq!(
        trusted.target,
        Target::Meet {
            access_token: "trusted".into(),
            trusted: true
        }
    );
    assert!(trusted.settings.treat_as_trusted);
    let untrusted = route("sip:1234567890123@example.com", OUT, false);
    assert_eq!(
        untrusted.target,
        Target::Meet {
            access_token: "untrusted".into(),
            trusted: false
        }
    );
    assert_eq!(untrusted.settings.max_callrate_in.unwrap().kbps(), 4128);
    assert_eq!(untrusted.settings.max_callrate_out.unwrap().kbps(), 2000);
    assert_eq!(untrusted.settings.crypto, routing::rules::Crypto::On);
    assert_eq!(untrusted.settings.call_type, routing::rules::CallType::Auto);
    assert!(!untrusted.settings.treat_as_trusted);
    assert_eq!(
        route("sip:tie@example.com", OUT, false).target,
        Target::Sip {
            proxy: Some("a.example.net:5070".into()),
            dns: false,
            transport: routing::rules::SipTransport::Udp,
        }
    );
    assert_eq!(
        route("sip:abc-defg-hij@google.pexip.me", OUT, false).target,
        Target::Sip {
            proxy: None,
            dns: true,
            transport: routing::rules::SipTransport::Udp,
        }
    );
    // defaults: besteffort crypto, video, no rate limits
    let defaults = route("sip:tie@example.com", OUT, false).settings;
    assert_eq!(defaults.crypto, routing::rules::Crypto::BestEffort);
    assert_eq!(defaults.call_type, routing::rules::CallType::Video);
    assert_eq!(defaults.max_callrate_in, None);
}

#[test]
fn trace_explains_every_skipped_rule() {
    let rules = rule_set();
    let alias = Alias::parse("sip:1234567890123@example.com", SIP).unwrap();
    let call = IncomingCall {
        alias: &alias,
        protocol: SIP,
        source: OUT.parse().unwrap(),
        registered: false,
    };
    let verdicts: Vec<(String, String)> = rules
        .route(&call, None)
        .trace
        .into_iter()
        .map(|t| (t.rule, t.verdict.to_string()))
        .collect();
    let expected = [
        ("disabled-catch-all", "skipped: disabled"),
        (
            "h323-only",
            "skipped: protocol sip not in the rule's protocols",
        ),
        (
            "registered-trusted",
            "skipped: registered devices only, and the caller is not registered",
        ),
        (
            "office-trusted",
            "skipped: source 198.51.100.9 is outside the rule's networks",
        ),
        ("everyone-untrusted", "matched"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(verdicts, expected);
}

#[test]
fn lookup_restricted_to_named_rules() {
    let rules = rule_set();
    let alias = Alias::parse("1234567890123@example.com", SIP).unwrap();
    let call = IncomingCall {
        alias: &alias,
        protocol: SIP,
        source: "10.0.0.1".parse().unwrap(),
        registered: true,
    };
    let only = ["everyone-untrusted".to_owned()];
    let routed = rules.route(&call, Some(&only));
    assert_eq!(routed.decision.unwrap().rule, "everyone-untrusted");
    assert!(
        routed
            .trace
            .iter()
            .any(|t| t.verdict == Verdict::NotInLookup)
    );
    // an empty list means all rules
    assert_eq!(
        rules.route(&call, Some(&[])).decision.unwrap().rule,
        "registered-trusted"
    );
}
