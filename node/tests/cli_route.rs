//! `tcn route`: the dry run an operator uses to check a dial plan, human and JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TCN: &str = env!("CARGO_BIN_EXE_tcn");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/examples/meet-gateway.toml")
}

fn route(args: &[&str]) -> Output {
    let config = example();
    let mut command = Command::new(TCN);
    command.arg("route").args(args).arg("--config").arg(&config);
    command.output().expect("tcn runs")
}

fn json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = route(&all);
    let value = serde_json::from_slice(&out.stdout).expect("JSON output");
    (out.status.code(), value)
}

#[test]
fn human_output_traces_every_rule_up_to_the_match() {
    let out = route(&["sip:1234567890123@example.com", "--source", "198.51.100.4"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = "\
alias sip:1234567890123@example.com over sip from 198.51.100.4 (not registered)
   1. meet-trusted (priority 10): skipped: source 198.51.100.4 is outside the rule's networks
   2. meet-registered (priority 20): skipped: registered devices only, and the caller is not registered
   3. meet-untrusted (priority 30): matched
=> rule \"meet-untrusted\" (priority 30)
   alias:  1234567890123
   meeting: numeric meeting ID 1234567890123
   target: Google Meet with access token \"untrusted\" (untrusted: the caller waits in the lobby)
";
    assert_eq!(text, expected);
}

#[test]
fn human_output_of_a_refused_call() {
    let out = route(&["sip:nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1), "refused calls exit 1");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  ")).count(),
        8,
        "{text}"
    );
    assert!(
        text.contains("   5. legacy-mcu (priority 50): skipped: disabled\n"),
        "{text}"
    );
    assert!(text.contains(
        "   6. h323-digits (priority 60): skipped: protocol sip not in the rule's protocols\n"
    ));
    assert!(
        text.ends_with("=> refused: no routing rule matches this alias (SIP 404 Not Found)\n"),
        "{text}"
    );
}

#[test]
fn json_output_for_each_kind_of_answer() {
    // trusted: office source
    let (code, v) = json(&["sip:1234567890123@example.com", "--source", "10.4.5.6"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["rule"], "meet-trusted");
    assert_eq!(v["alias"], "1234567890123");
    assert_eq!(
        v["target"],
        serde_json::json!({"kind": "meet", "access_token": "trusted", "trusted": true})
    );
    assert_eq!(
        v["meeting"],
        serde_json::json!({"kind": "numeric", "id": "1234567890123"})
    );
    assert_eq!(v["trace"].as_array().unwrap().len(), 1);
    assert_eq!(v["trace"][0]["result"], "matched");
    assert_eq!(v["refusal"], serde_json::Value::Null);

    // registered device outside the office
    let (_, v) = json(&[
        "1234567890123@example.com",
        "--source",
        "198.51.100.1",
        "--registered",
    ]);
    assert_eq!(v["rule"], "meet-registered");
    assert_eq!(v["trace"][0]["result"], "source");
    assert_eq!(v["trace"][0]["source"], "198.51.100.1");

    // H.323 digits
    let (_, v) = json(&["dialedDigits:1234567890123", "--protocol", "h323"]);
    assert_eq!(v["rule"], "meet-untrusted");
    assert_eq!(v["input"]["protocol"], "h323");

    // meeting code with a named group
    let (_, v) = json(&["sip:ABC-DEFG-HIJ@example.com"]);
    assert_eq!(
        (v["rule"].as_str(), v["alias"].as_str()),
        (Some("meet-codes"), Some("abc-defg-hij"))
    );
    assert_eq!(v["meeting"]["kind"], "code");

    // guest join: SIP by DNS, alias unchanged
    let (_, v) = json(&["sip:abc-defg-hij@google.pexip.me"]);
    assert_eq!(v["rule"], "guest-join");
    assert_eq!(
        v["target"],
        serde_json::json!({"kind": "sip", "dns": true, "transport": "udp"})
    );

    // full-URI rule: only TLS matches
    let (_, v) = json(&["sip:boardroom@example.com;transport=tls"]);
    assert_eq!(v["rule"], "boardroom-tls");
    assert_eq!(v["target"]["proxy"], "bridge.example.com:5061");
    assert_eq!(v["target"]["transport"], "tls");
    let (code, v) = json(&["sip:boardroom@example.com;transport=udp"]);
    assert_eq!((code, &v["rule"]), (Some(1), &serde_json::Value::Null));

    // the Virtual Reception's alias
    let (code, v) = json(&["sip:gmeet@example.com"]);
    assert_eq!(
        (code, v["reception"].as_str()),
        (Some(0), Some("gmeet-ivr"))
    );

    // no match: 404 with the whole trace
    let (code, v) = json(&["sip:nobody@example.com"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["refusal"]["sip_status"], 404);
    assert_eq!(v["refusal"]["reason"], "no_match");
    assert_eq!(v["trace"].as_array().unwrap().len(), 8);

    // malformed alias: 400, no trace
    let (code, v) = json(&["sip:bob@exa mple.com"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["refusal"]["sip_status"], 400);
    assert_eq!(v["trace"], serde_json::json!([]));
}

#[test]
fn a_broken_dial_plan_is_a_config_error() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad-config/21-rule-invalid-regex.toml");
    let out = Command::new(TCN)
        .args(["route", "sip:1@example.com", "--config"])
        .arg(fixture)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("routing.rules[broken-regex].match"));
}
