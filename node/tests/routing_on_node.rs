//! Routing on a running node: rules, break-in defence (403 + metrics), and a Virtual Reception
//! session driven by DTMF into a routed call.

mod common;

use std::net::IpAddr;
use std::time::Instant;

use common::{get, metric};
use node::Node;
use node::call_routing::RouteRequest;
use node::config::Config;
use node::refusal::CallRefusal;
use routing::Protocol;
use routing::reception::{ReceptionCall, ReceptionOutput, ReceptionState};
use routing::router::Outcome;

const CONFIG: &str = r#"
[admin]
listen = "127.0.0.1:0"

[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"

[[meet.access_tokens]]
name = "untrusted"
token = "secret-untrusted"

[[routing.rules]]
name = "meet"
priority = 10
match = '(\d{13})(@example\.com)?'
replace = '\1'
target = { kind = "meet", access_token = "untrusted" }

[[routing.virtual_receptions]]
name = "ivr"
alias = "gmeet@example.com"
max_attempts = 3
lookup_rules = ["meet"]

[routing.break_in]
max_failures = 3
window = "10m"
block_for = "10m"
"#;

fn request(alias: &str, source: &str) -> (String, IpAddr) {
    (alias.to_owned(), source.parse().unwrap())
}

#[tokio::test]
async fn rules_break_in_and_virtual_reception() {
    let node = Node::start(Config::from_toml_str(CONFIG).unwrap())
        .await
        .unwrap();
    let addr = node.admin_addr();
    let router = node.router();
    let running = tokio::spawn(node.run_until(std::future::pending()));
    let route = |alias: &str, source: &str| {
        let (alias, source) = request(alias, source);
        router.route(
            &RouteRequest {
                alias: &alias,
                protocol: Protocol::Sip,
                source,
                registered: false,
            },
            Instant::now(),
        )
    };

    // A good alias routes to Meet with the meeting ID.
    let lookup = route("sip:1234567890123@example.com", "192.0.2.1").unwrap();
    let Outcome::Routed { decision, meeting } = lookup.outcome else {
        panic!("routed expected");
    };
    assert_eq!(
        (decision.rule.as_str(), decision.alias.as_str()),
        ("meet", "1234567890123")
    );
    assert_eq!(
        meeting.unwrap().to_string(),
        "numeric meeting ID 1234567890123"
    );

    // Three wrong aliases are answered 404; the fourth failure blocks the source.
    for _ in 0..3 {
        let refusal = route("sip:guess@example.com", "192.0.2.66").unwrap_err();
        assert_eq!(refusal.sip_status().code, 404);
    }
    assert_eq!(
        route("sip:guess@example.com", "192.0.2.66")
            .unwrap_err()
            .sip_status()
            .code,
        404
    );
    // Blocked now, even for a good alias: 403.
    let refusal = route("sip:1234567890123@example.com", "192.0.2.66").unwrap_err();
    assert!(matches!(refusal, CallRefusal::Blocked { .. }));
    assert_eq!(refusal.sip_status().code, 403);
    // Other sources are unaffected.
    assert!(route("sip:1234567890123@example.com", "192.0.2.67").is_ok());

    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(metric(&text, "tcn_break_in_blocks_total"), Some(1.0));
    assert_eq!(metric(&text, "tcn_break_in_blocked_sources"), Some(1.0));
    assert_eq!(
        metric(&text, "tcn_route_lookups_total{result=\"no_match\"}"),
        Some(4.0)
    );
    assert_eq!(
        metric(&text, "tcn_route_lookups_total{result=\"blocked\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_route_lookups_total{result=\"routed\"}"),
        Some(2.0)
    );
    assert_eq!(metric(&text, "tcn_routing_rules"), Some(1.0));
    let status: serde_json::Value =
        serde_json::from_str(&get(addr, "/status").await.unwrap().body).unwrap();
    assert_eq!(status["routing"]["blocked_sources"], 1);
    assert_eq!(status["routing"]["virtual_receptions"], 1);
    assert!(
        !get(addr, "/status")
            .await
            .unwrap()
            .body
            .contains("secret-untrusted")
    );

    // Virtual Reception: the alias starts the IVR; a wrong ID re-prompts, the right one routes.
    let caller = "192.0.2.80";
    let lookup = route("sip:gmeet@example.com", caller).unwrap();
    assert_eq!(lookup.outcome, Outcome::Reception { name: "ivr".into() });
    let config = Config::from_toml_str(CONFIG)
        .unwrap()
        .routing
        .virtual_receptions[0]
        .clone();
    let t0 = Instant::now();
    let mut ivr = ReceptionCall::new(&config, t0);
    assert_eq!(
        ivr.poll_output(),
        Some(ReceptionOutput::Play {
            prompt: "enter_meeting_id".into()
        })
    );
    let drive = |ivr: &mut ReceptionCall, digits: &str| -> Result<(), CallRefusal> {
        for digit in digits.chars() {
            ivr.handle_dtmf(digit, t0);
        }
        let Some(ReceptionOutput::Route { alias, rules }) = ivr.poll_output() else {
            panic!("the IVR asks to route the digits");
        };
        let (alias, source) = request(&alias, caller);
        let result = router.route_entry(
            &RouteRequest {
                alias: &alias,
                protocol: Protocol::Sip,
                source,
                registered: false,
            },
            &rules,
            Instant::now(),
        );
        ivr.handle_lookup(result.is_ok(), t0);
        result.map(drop)
    };
    assert_eq!(drive(&mut ivr, "999#").unwrap_err().sip_status().code, 404);
    assert_eq!(
        ivr.poll_output(),
        Some(ReceptionOutput::Play {
            prompt: "invalid_meeting_id".into()
        })
    );
    assert_eq!(ivr.attempts(), 1);
    drive(&mut ivr, "1234567890123#").unwrap();
    assert_eq!(ivr.state(), ReceptionState::Routed);
    // The wrong ID counted toward break-in defence for the caller's address.
    let text = get(addr, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_route_lookups_total{result=\"no_match\"}"),
        Some(5.0)
    );
    assert_eq!(
        metric(&text, "tcn_route_lookups_total{result=\"reception\"}"),
        Some(1.0)
    );

    running.abort();
}
