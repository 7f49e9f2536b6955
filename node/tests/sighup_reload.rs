//! SIGHUP reloads the configuration file: a valid file is applied, a broken one is refused and
//! the running configuration kept. Alone in its test binary because the signal goes to the
//! whole process.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use tokio::sync::oneshot;

const RULE_A: &str = "[[routing.rules]]\nname = \"rule-a\"\npriority = 10\nmatch = 'room@example\\.com'\ntarget = { kind = \"sip\", dns = true }\n";
const RULE_B: &str = "[[routing.rules]]\nname = \"rule-b\"\npriority = 10\nmatch = 'room@.*'\ntarget = { kind = \"sip\", proxy = \"b.example.net\" }\n";

fn rule_of(lookup: &routing::router::Lookup) -> &str {
    match &lookup.outcome {
        routing::router::Outcome::Routed { decision, .. } => &decision.rule,
        other => panic!("not routed: {other:?}"),
    }
}

const BASE: &str = "[node]\nname = \"reloader\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
                    [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n";

fn config_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sighup_reload");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("node.toml")
}

async fn reloads(addr: std::net::SocketAddr, result: &str) -> Option<f64> {
    let text = get(addr, "/metrics").await.ok()?.body;
    metric(
        &text,
        &format!("tcn_config_reloads_total{{result=\"{result}\"}}"),
    )
}

async fn status(addr: std::net::SocketAddr) -> serde_json::Value {
    serde_json::from_str(&get(addr, "/status").await.unwrap().body).unwrap()
}

fn hangup() {
    // SAFETY: getpid has no preconditions; the node installed a SIGHUP handler before its
    // admin API answered (checked by the caller), so the signal does not end the process.
    assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGHUP) }, 0);
}

#[tokio::test]
async fn sighup_applies_a_good_file_and_refuses_a_broken_one() {
    let file = config_file();
    std::fs::write(&file, format!("{BASE}[capacity]\nmax_calls = 4\n")).unwrap();
    let node = Node::start(Config::load(&file).unwrap()).await.unwrap();
    let addr = node.admin_addr();
    let router = node.router();
    let route = |alias: &str| {
        router.route(
            &node::call_routing::RouteRequest {
                alias,
                protocol: routing::Protocol::Sip,
                source: "192.0.2.1".parse().unwrap(),
                registered: false,
            },
            std::time::Instant::now(),
        )
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    assert_eq!(status(addr).await["capacity"]["max_calls"], 4);

    // No rules yet: every call is refused.
    assert!(route("sip:room@example.com").is_err());

    // 1. A valid change is applied, rules included.
    std::fs::write(
        &file,
        format!("{BASE}[capacity]\nmax_calls = 7\nlicenses = 6\n{RULE_A}"),
    )
    .unwrap();
    hangup();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(addr, "applied").await == Some(1.0)
        })
        .await
    );
    assert_eq!(status(addr).await["capacity"]["max_calls"], 7);
    assert_eq!(status(addr).await["capacity"]["licenses"]["total"], 6);
    let held = route("sip:room@example.com").expect("the new rule routes");
    assert_eq!(rule_of(&held), "rule-a");

    // 2. A broken file is refused; the running configuration stays.
    std::fs::write(
        &file,
        format!("{BASE}[capacity]\nmax_calls = 9\n[media]\nport_range = [50000, 40000]\n"),
    )
    .unwrap();
    hangup();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(addr, "rejected").await == Some(1.0)
        })
        .await,
        "rejection not counted"
    );
    let json = status(addr).await;
    assert_eq!(json["capacity"]["max_calls"], 7, "old configuration kept");
    assert_eq!(json["alarms"][0]["kind"], "config_reload_rejected");
    assert_eq!(
        json["alarms"][0]["detail"],
        "media.port_range: start 50000 is greater than end 40000"
    );
    assert_eq!(reloads(addr, "applied").await, Some(1.0));

    // 3. Fixing the file clears the alarm. A port range or Meet backend change needs a
    // restart: not applied.
    std::fs::write(
        &file,
        format!(
            "{BASE}[capacity]\nmax_calls = 5\n[media]\nport_range = [40000, 48999]\n\
             [meet]\nbackend = \"https://meet.example.test\"\n{RULE_B}"
        ),
    )
    .unwrap();
    hangup();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(addr, "applied").await == Some(2.0)
        })
        .await
    );
    let json = status(addr).await;
    assert_eq!(json["capacity"]["max_calls"], 5);
    // The new rules are in force for new calls; a decision taken before stays as it was.
    assert_eq!(json["routing"]["rules"], 1);
    assert_eq!(rule_of(&route("sip:room@example.com").unwrap()), "rule-b");
    assert_eq!(rule_of(&held), "rule-a");
    assert_eq!(json["alarms"].as_array().unwrap().len(), 0);
    assert_eq!(
        json["media_ports"]["range"],
        serde_json::json!([40000, 49999]),
        "port range changes wait for a restart"
    );
    assert_eq!(
        json["meet"]["backend"]["kind"], "embedded_sim",
        "backend changes wait for a restart"
    );

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
