//! Property: the rule chosen is always the first enabled, matching rule in (priority, file
//! order), as computed by a naive model written independently of `RuleSet`.

use std::net::IpAddr;

use proptest::prelude::*;
use regex::RegexBuilder;
use routing::Protocol;
use routing::alias::Alias;
use routing::rules::{IncomingCall, Network, RuleConfig, RuleSet, TargetConfig};

const PATTERNS: [&str; 6] = [
    r"\d{13}@example\.com",
    r".*@example\.com",
    r"room-\d+@example\.com",
    r"[a-z]{3}-[a-z]{4}-[a-z]{3}@example\.com",
    r".*",
    r"nobody@nowhere\.example",
];
const ALIASES: [&str; 5] = [
    "1234567890123@example.com",
    "room-7@example.com",
    "abc-defg-hij@example.com",
    "someone@example.org",
    "room-x@example.com",
];
const SOURCES: [&str; 3] = ["10.1.2.3", "192.0.2.10", "2001:db8::5"];
const NETWORKS: [&str; 3] = ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"];

#[derive(Clone, Debug)]
struct ModelRule {
    priority: u32,
    enabled: bool,
    incoming: bool,
    protocols: Vec<Protocol>,
    registered_only: bool,
    networks: Vec<usize>,
    pattern: usize,
}

fn model_rule() -> impl Strategy<Value = ModelRule> {
    (
        1u32..=6, // few priorities: many ties
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.9),
        prop::sample::select(vec![
            vec![Protocol::Sip],
            vec![Protocol::H323],
            Protocol::ALL.to_vec(),
        ]),
        prop::bool::weighted(0.3),
        prop::collection::vec(0usize..NETWORKS.len(), 0..=2),
        0usize..PATTERNS.len(),
    )
        .prop_map(
            |(priority, enabled, incoming, protocols, registered_only, networks, pattern)| {
                ModelRule {
                    priority,
                    enabled,
                    incoming,
                    protocols,
                    registered_only,
                    networks,
                    pattern,
                }
            },
        )
}

fn config(index: usize, rule: &ModelRule) -> RuleConfig {
    RuleConfig {
        name: format!("rule-{index}"),
        priority: rule.priority,
        enabled: rule.enabled,
        match_incoming: rule.incoming,
        protocols: rule.protocols.clone(),
        registered_only: rule.registered_only,
        source: rule
            .networks
            .iter()
            .map(|&n| Network::try_from(NETWORKS[n].to_owned()).unwrap())
            .collect(),
        pattern: PATTERNS[rule.pattern].to_owned(),
        match_full_uri: false,
        replace: String::new(),
        target: TargetConfig::Sip {
            proxy: None,
            dns: true,
            transport: Default::default(),
        },
        treat_as_trusted: false,
        max_callrate_in: None,
        max_callrate_out: None,
        crypto: Default::default(),
        call_type: Default::default(),
    }
}

/// The model: sort indices by priority (stable), take the first whose every filter passes.
fn model_choice(
    rules: &[ModelRule],
    alias: &str,
    protocol: Protocol,
    source: IpAddr,
    registered: bool,
) -> Option<usize> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| rules[i].priority);
    order.into_iter().find(|&i| {
        let r = &rules[i];
        let in_network = r.networks.is_empty()
            || r.networks.iter().any(|&n| {
                let net: ipnet::IpNet = NETWORKS[n].parse().unwrap();
                net.contains(&source)
            });
        let regex = RegexBuilder::new(&format!("^(?:{})$", PATTERNS[r.pattern]))
            .case_insensitive(true)
            .build()
            .unwrap();
        r.enabled
            && r.incoming
            && r.protocols.contains(&protocol)
            && (!r.registered_only || registered)
            && in_network
            && regex.is_match(alias)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chosen_rule_is_the_first_enabled_match_by_priority(
        rules in prop::collection::vec(model_rule(), 0..12),
        alias in 0usize..ALIASES.len(),
        h323 in any::<bool>(),
        source in 0usize..SOURCES.len(),
        registered in any::<bool>(),
    ) {
        let configs: Vec<RuleConfig> = rules.iter().enumerate().map(|(i, r)| config(i, r)).collect();
        let set = RuleSet::new(&configs, &[]).unwrap();
        let protocol = if h323 { Protocol::H323 } else { Protocol::Sip };
        let text = if h323 { format!("email-ID:{}", ALIASES[alias]) } else { format!("sip:{}", ALIASES[alias]) };
        let parsed = Alias::parse(&text, protocol).unwrap();
        let source: IpAddr = SOURCES[source].parse().unwrap();
        let call = IncomingCall { alias: &parsed, protocol, source, registered };
        let routed = set.route(&call, None);

        let expected = model_choice(&rules, ALIASES[alias], protocol, source, registered);
        let got = routed.decision.as_ref().map(|d| d.rule.clone());
        prop_assert_eq!(got, expected.map(|i| format!("rule-{i}")));
        // The trace visits rules in priority order.
        let priorities: Vec<u32> = routed.trace.iter().map(|t| t.priority).collect();
        prop_assert!(priorities.windows(2).all(|w| w[0] <= w[1]));
    }
}
