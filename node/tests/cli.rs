//! The `tcn` binary as an operator runs it: check-config, version, run + SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use node::config::Config;

const TCN: &str = env!("CARGO_BIN_EXE_tcn");

fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn tcn(args: &[&str]) -> Output {
    Command::new(TCN).args(args).output().expect("tcn runs")
}

#[test]
fn the_reference_example_is_valid_and_equals_the_defaults() {
    let example = repo_file("deploy/examples/node.toml");
    let out = tcn(&["check-config", example.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed,
        Config::default().to_toml(),
        "example and defaults disagree"
    );
}

/// Every key of the effective configuration appears in the reference example, so the
/// documentation cannot fall behind the code.
#[test]
fn the_reference_example_documents_every_key() {
    let text = std::fs::read_to_string(repo_file("deploy/examples/node.toml")).unwrap();
    let example: toml::Table = text.parse().unwrap();
    let defaults: toml::Table = Config::default().to_toml().parse().unwrap();
    for (section, keys) in &defaults {
        let keys = keys.as_table().unwrap();
        let documented = example[section].as_table().expect("section present");
        for key in keys.keys() {
            assert!(
                documented.contains_key(key),
                "{section}.{key} is not in the example"
            );
        }
    }
    // Keys without a default are shown commented out.
    for optional in ["tls_cert", "tls_key", "short_prefix"] {
        assert!(
            text.contains(&format!("# {optional} = ")),
            "{optional} is not documented"
        );
    }
    // Arrays of tables are documented as commented blocks: every key the working example
    // (meet-gateway.toml) uses must appear there as `#   key = `.
    let gateway = std::fs::read_to_string(repo_file("deploy/examples/meet-gateway.toml")).unwrap();
    let gateway: toml::Table = gateway.parse().unwrap();
    for (section, array) in [
        ("meet", "access_tokens"),
        ("routing", "rules"),
        ("routing", "virtual_receptions"),
        ("routing", "otj_rules"),
    ] {
        let items = gateway[section][array]
            .as_array()
            .expect("the example uses every array");
        for item in items {
            for key in item.as_table().unwrap().keys() {
                assert!(
                    text.contains(&format!("#   {key} = ")),
                    "{section}.{array}: `{key}` is not documented in node.toml"
                );
            }
        }
    }
}

#[test]
fn the_gateway_example_is_valid_and_keeps_tokens_out_of_the_output() {
    let example = repo_file("deploy/examples/meet-gateway.toml");
    let out = tcn(&["check-config", example.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("token = \"<redacted>\""));
    assert!(
        !printed.contains("REPLACE-WITH"),
        "a token value was printed"
    );
    assert_eq!(printed.matches("[[routing.rules]]").count(), 8);
}

#[test]
fn each_broken_config_is_refused_with_exit_2_and_names_the_key() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-config");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 10, "at least ten broken configurations");
    for fixture in fixtures {
        let text = std::fs::read_to_string(&fixture).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", fixture.display()));
        let out = tcn(&["check-config", fixture.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {stderr}",
            fixture.display()
        );
        assert!(
            stderr.starts_with("tcn: invalid configuration: ") && matches(&stderr, expected),
            "{}:\n  expected: {expected}\n  got: {stderr}",
            fixture.display()
        );
        assert!(
            out.stdout.is_empty(),
            "nothing printed on stdout for a refused file"
        );
    }
}

/// `expected` must appear in `text`; a `*` in it stands for any run of characters.
fn matches(text: &str, expected: &str) -> bool {
    let mut rest = text;
    for part in expected.split('*') {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn run_refuses_a_broken_config_and_a_missing_file() {
    let fixture = repo_file("node/tests/fixtures/bad-config/01-port-range-reversed.toml");
    let out = tcn(&["run", "--config", fixture.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = tcn(&["run", "--config", "/nonexistent/node.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read configuration file"));
}

#[test]
fn version_reports_gstreamer_and_the_probe() {
    let out = tcn(&["version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("tcn {} (revision ", env!("CARGO_PKG_VERSION"))));
    assert!(text.contains("\nGStreamer 1."), "{text}");
    let n = pipelines::plan::MEDIA_PLAN.len();
    assert!(
        text.contains(&format!("media plan: {n}/{n} elements present")),
        "{text}"
    );
    assert!(text.contains("video path: "), "{text}");

    let out = tcn(&["version", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["media"]["elements"].as_array().unwrap().len() >= 50);
    assert!(json["gpu"]["driver_library"].is_boolean());
}

/// `tcn run` comes up, says where its admin API is, drains on SIGTERM and exits 0.
#[test]
fn run_serves_then_exits_0_on_sigterm() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_run");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("node.toml");
    std::fs::write(
        &file,
        "[admin]\nlisten = \"127.0.0.1:0\"\n[log]\nformat = \"json\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let mut child = Command::new(TCN)
        .args(["run", "--config", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep reading stdout to the end: the node must never see its stdout closed here.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let admin: SocketAddr = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.trim().strip_prefix("admin API")?.trim();
            rest.strip_prefix("http://")?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
        .expect("tcn run prints its admin address");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ready = runtime.block_on(common::get(admin, "/readyz")).unwrap();
    assert_eq!(ready.status, 200);

    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "tcn did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = stdout.map_while(Result::ok).collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("media ports [40000, 49999]")),
        "{rest:?}"
    );
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    let first: serde_json::Value =
        serde_json::from_str(log.lines().next().expect("some log")).expect("JSON log lines");
    assert_eq!(first["level"], "INFO");
    assert!(
        log.contains("SIGTERM received") && log.contains("node stopped"),
        "{log}"
    );
}

/// The example's One-Touch-Join rules turn real-looking invites into URIs the dial plan takes.
#[test]
fn the_gateway_example_otj_rules_turn_invites_into_uris() {
    let config = Config::load(&repo_file("deploy/examples/meet-gateway.toml")).unwrap();
    let router = node::config::compile_routing(&config).unwrap();
    let event = |body: &str| routing::otj::CalendarEvent {
        subject: "Weekly sync".into(),
        body: body.into(),
    };
    // Our own meeting (custom rule, priority 5) wins over guest join.
    let own = router
        .otj()
        .process(&event(
            "Join by video system: 1234567890123@example.com\n\
             Or in the browser: https://meet.google.com/abc-defg-hij",
        ))
        .unwrap();
    assert_eq!(
        (own.rule.as_str(), own.uri.as_str()),
        ("own-meetings", "1234567890123@example.com")
    );
    // Someone else's Meet meeting: SIP Guest Join.
    let guest = router
        .otj()
        .process(&event(
            "<p>Join with Google Meet: <a href=\"https://meet.google.com/xyz-abcd-efg?authuser=0&amp;hs=122\">meet.google.com/xyz-abcd-efg</a></p>",
        ))
        .unwrap();
    assert_eq!(
        (guest.rule.as_str(), guest.uri.as_str()),
        ("meet-guest-join", "xyz-abcd-efg@google.pexip.me")
    );
    assert!(router.otj().process(&event("Lunch, no video")).is_none());

    // The guest-join URI is taken by the guest-join rule: SIP by DNS.
    let request = node::call_routing::RouteRequest {
        alias: &guest.uri,
        protocol: routing::Protocol::Sip,
        source: "192.0.2.1".parse().unwrap(),
        registered: false,
    };
    let run = node::dry_run::DryRun::run(&router, &request);
    assert_eq!(run.json()["rule"], "guest-join");
    assert_eq!(run.json()["target"]["dns"], true);
}
