//! `tcn`: the command line over the `node` library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use node::capabilities::Capabilities;
use node::config::{Config, ConfigError};

/// tcn, the Transcoding Conferencing Node: a SIP/H.323 to Google Meet video gateway.
#[derive(Debug, Parser)]
#[command(name = "tcn", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the node (built-in defaults without --config).
    Run {
        /// Configuration file (TOML); see deploy/examples/node.toml.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Validate a configuration file and print the effective configuration (exit 2 if invalid).
    CheckConfig {
        /// Configuration file (TOML).
        file: PathBuf,
    },
    /// Show where a call to ALIAS would be routed, and why; places no call.
    Route {
        /// The dialled alias, e.g. sip:1234567890123@example.com or dialedDigits:8001.
        alias: String,
        /// Incoming protocol.
        #[arg(long, default_value = "sip")]
        protocol: routing::Protocol,
        /// Source address of the call.
        #[arg(long, default_value = "127.0.0.1")]
        source: std::net::IpAddr,
        /// The caller is registered to this node.
        #[arg(long)]
        registered: bool,
        /// Configuration file (built-in defaults without it: no rules).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a new Meet gateway key (ES256) and the certificate request to send for a gateway
    /// token; then set meet.gateway_key and, once issued, meet.gateway_token.
    MeetCsr {
        /// Where to write the private key (PEM, PKCS#8); an existing file is not overwritten.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the certificate signing request (PEM, PKCS#10).
        #[arg(long)]
        csr: PathBuf,
        /// The request's common name: the gateway's name.
        #[arg(long, default_value = "tcn-gateway")]
        name: String,
    },
    /// Run one whole gateway call on this machine and print what it did: a node with its
    /// embedded meet-sim, synthetic Meet participants and a synthetic room system (H.264 +
    /// G.711). Writes vtc-view.png and meet-view.png; exits 1 if the call did not work.
    Demo {
        /// Seconds of media to measure, once the picture has settled.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Where the pictures (and the node's configuration and log) go.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
        /// Meet participants (1 to 7), each sending a colour of its own.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u8).range(1..=7))]
        participants: u8,
    },
    /// Print version, git revision, GStreamer version and the capability probe.
    Version {
        /// Print the capability probe as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { config } => run(config),
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(config) => {
                print!("{}", config.to_toml());
                ExitCode::SUCCESS
            }
            Err(e) => refuse(&e),
        },
        Command::Version { json } => version(json),
        Command::Demo {
            seconds,
            out,
            participants,
        } => demo(seconds, out, participants),
        Command::MeetCsr { key, csr, name } => meet_csr(&key, &csr, &name),
        Command::Route {
            alias,
            protocol,
            source,
            registered,
            config,
            json,
        } => route(&alias, protocol, source, registered, config, json),
    }
}

/// `tcn meet-csr`: the key is created with mode 0600 and never overwritten.
fn meet_csr(key_path: &std::path::Path, csr_path: &std::path::Path, name: &str) -> ExitCode {
    use std::os::unix::fs::OpenOptionsExt;

    let (key, csr) = match node::meet_gateway::new_key_and_csr(name) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("tcn: cannot make a key: {e}");
            return ExitCode::FAILURE;
        }
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(key_path)
        .and_then(|mut file| file.write_all(key.as_bytes()))
        .and_then(|()| std::fs::write(csr_path, csr));
    match written {
        Ok(()) => {
            println!(
                "wrote the key to {} and the request to {}: send the request for a gateway token, \
                 then set meet.gateway_key and meet.gateway_token",
                key_path.display(),
                csr_path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcn: cannot write the key or the request: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `tcn demo`: the node is this same binary, started as a child process.
fn demo(seconds: u64, out: PathBuf, participants: u8) -> ExitCode {
    let binary = match std::env::current_exe() {
        Ok(binary) => binary,
        Err(e) => {
            eprintln!("tcn: cannot find this binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options =
        node::demo::run::DemoOptions::new(binary, seconds, out, usize::from(participants));
    match node::demo::run::run(&options) {
        Ok(summary) => {
            print!("{}", summary.render());
            if summary.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("tcn demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn refuse(error: &ConfigError) -> ExitCode {
    eprintln!("tcn: invalid configuration: {error}");
    ExitCode::from(ConfigError::EXIT_CODE)
}

fn route(
    alias: &str,
    protocol: routing::Protocol,
    source: std::net::IpAddr,
    registered: bool,
    path: Option<PathBuf>,
    json: bool,
) -> ExitCode {
    let config = match path.as_deref().map(Config::load) {
        None => Config::default(),
        Some(Ok(config)) => config,
        Some(Err(e)) => return refuse(&e),
    };
    let router = match node::config::compile_routing(&config) {
        Ok(router) => router,
        Err(e) => return refuse(&e),
    };
    let request = node::call_routing::RouteRequest {
        alias,
        protocol,
        source,
        registered,
    };
    let run = node::dry_run::DryRun::run(&router, &request);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&run.json()).unwrap_or_default()
        );
    } else {
        print!("{}", run.text());
    }
    ExitCode::from(run.exit_code())
}

fn version(json: bool) -> ExitCode {
    match Capabilities::probe() {
        Ok(caps) if json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&caps).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(caps) => {
            print!("{}", node::version::report(&caps));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcn: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(path: Option<PathBuf>) -> ExitCode {
    let config = match path.as_deref().map(Config::load) {
        None => Config::default(),
        Some(Ok(config)) => config,
        Some(Err(e)) => return refuse(&e),
    };
    node::logging::init(&config.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tcn: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = node::signals::terminate().map_err(node::StartError::Signals)?;
        let node = node::Node::start(config).await?;
        announce(&node);
        node.run_until(shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcn: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The banner's Meet lines: the backend, and with the embedded simulator its demo meeting.
fn backend_lines(backend: &node::meet_backend::BackendStatus) -> String {
    use node::meet_backend::BackendStatus;
    let lines = match backend {
        BackendStatus::Remote { url } => vec![("Meet", format!("{url} (meet.backend)"))],
        BackendStatus::EmbeddedSim { url, demo } => vec![
            (
                "Meet",
                format!("meet-sim inside this node at {url} (no meet.backend configured)"),
            ),
            (
                "demo",
                format!(
                    "meeting code {}  long ID {}",
                    demo.meeting_code, demo.long_id
                ),
            ),
            ("  dial", demo.dial.clone()),
            ("  browser", demo.browser_url.clone()),
        ],
    };
    let mut text: String = lines
        .iter()
        .map(|(label, value)| format!("  {label:<12}{value}\n"))
        .collect();
    text.push_str("  calls routed to Meet are answered 480 until the node has its Meet leg (media pipelines)\n");
    text
}

/// Tells the person who ran `make run` where things are. Write errors are ignored: a closed
/// stdout (a supervisor that stopped reading) must not bring the node down.
fn announce(node: &node::Node) {
    let config = node.config();
    let show =
        |addr: Option<std::net::SocketAddr>| addr.map_or_else(|| "-".to_owned(), |a| a.to_string());
    let text = format!(
        "tcn node '{name}' is up\n\
         \x20 admin API   http://{admin}/status  /metrics  /healthz  /readyz\n\
         \x20 SIP         udp {udp}  tcp {tcp}  tls {tls}\n\
         \x20 test call   sip:{test}@<this host>  answers, counts RTP and DTMF (see /status)\n\
         \x20 media ports {media}  signalling ports {signaling}\n\
         {backend}\
         \x20 stop with Ctrl-C (SIGINT) or SIGTERM; reload the config with SIGHUP\n",
        name = config.node.name,
        admin = node.admin_addr(),
        udp = show(node.sip_udp_addr()),
        tcp = show(node.sip_tcp_addr()),
        tls = node.sip_tls_addr().map_or_else(
            || "off (set sip.tls_cert and sip.tls_key)".to_owned(),
            |a| a.to_string()
        ),
        test = config.sip.test_alias,
        media = config.media.port_range,
        signaling = config.signaling.port_range,
        backend = backend_lines(node.meet_backend()),
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
