//! `meet-sim`: the Meet simulator as a process (meet-side.md §5.b).
//!
//! ```text
//! meet-sim --listen 127.0.0.1:0
//! meet-sim listening on http://127.0.0.1:40123
//! ```
//!
//! Serves until interrupted (Ctrl-C / SIGTERM), then exits 0; exits 1 when it cannot listen.
//! Loopback addresses only: the control API has no authentication.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use meet_sim::model::LockPolicy;
use meet_sim::{ClockMode, Sim, SimConfig};

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "meet-sim",
    version,
    about = "Google Meet simulator for tcn tests"
)]
struct Args {
    /// Address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Seed for codes, ids and token values (random when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds a gateway may wait in the lobby.
    #[arg(long, default_value_t = 30)]
    lobby_timeout_secs: u64,
    /// Digits in a long numeric meeting id.
    #[arg(long, default_value_t = 13)]
    long_id_len: usize,
    /// What a video lock switched on mid-call does to a gateway.
    #[arg(long, value_enum, default_value_t = Policy::Remove)]
    video_lock_policy: Policy,
    /// An OPEN space admits untrusted gateways without the lobby.
    #[arg(long)]
    open_admits_untrusted_gateway: bool,
    /// A connect to a space without a conference starts one.
    #[arg(long)]
    auto_start_conference: bool,
    /// Days a certificate signed for a CSR enrolment is valid.
    #[arg(long, default_value_t = 365)]
    certificate_validity_days: u64,
    /// Start the clock at this Unix time (seconds) and move it only through POST /sim/clock.
    #[arg(long)]
    manual_clock_start: Option<u64>,
}

/// `--video-lock-policy`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Policy {
    Remove,
    Mute,
}

fn config(args: &Args) -> SimConfig {
    let mut config = SimConfig::default();
    if let Some(seed) = args.seed {
        config.model.seed = seed;
    }
    config.model.lobby_timeout = Duration::from_secs(args.lobby_timeout_secs);
    config.model.long_id_len = args.long_id_len;
    config.model.video_lock_policy = match args.video_lock_policy {
        Policy::Remove => LockPolicy::Remove,
        Policy::Mute => LockPolicy::Mute,
    };
    config.model.open_admits_untrusted_gateway = args.open_admits_untrusted_gateway;
    config.model.auto_start_conference = args.auto_start_conference;
    config.model.certificate_validity =
        Duration::from_secs(args.certificate_validity_days.saturating_mul(86_400));
    if let Some(start) = args.manual_clock_start {
        config.clock = ClockMode::Manual(std::time::UNIX_EPOCH + Duration::from_secs(start));
    }
    config
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let sim = match Sim::spawn(args.listen, config(&args)).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("meet-sim: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("meet-sim listening on {}", sim.url());
    interrupted().await;
    match sim.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meet-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
