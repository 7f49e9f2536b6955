//! Checks that need more than one field, or knowledge the types do not carry.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use super::{Config, ConfigError};

/// Fewest media ports a node accepts: a gateway call uses several RTP/RTCP pairs, and fewer
/// than 100 ports would cap a node at a handful of calls whatever its CPU.
pub const MIN_MEDIA_PORTS: u32 = 100;
/// Fewest signalling ports a node accepts.
pub const MIN_SIGNALING_PORTS: u32 = 10;
/// Longest drain a node accepts; longer would stall rolling upgrades for hours.
pub const MAX_DRAIN_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
const MAX_NAME_LEN: usize = 63;
/// Most CPU cores one call may be counted as using.
const MAX_CPU_CORES_PER_CALL: f64 = 64.0;

pub(super) fn check(config: &Config) -> Result<(), ConfigError> {
    check_node(config)?;
    if let Err(e) = EnvFilter::try_new(&config.log.level) {
        return Err(ConfigError::invalid(
            "log.level",
            format!("`{}` is not a log filter: {e}", config.log.level),
        ));
    }
    check_ranges(config)?;
    check_media_timeouts(config)?;
    check_listeners(config)?;
    check_tls(config)?;
    check_session_timers(config)?;
    check_capacity(config)?;
    config.meet.validate()?;
    crate::meet_gateway::GatewayCredential::load(&config.meet)?;
    check_credentials(config)?;
    check_reception_prompts(config)?;
    compile_routing(config).map(drop)
}

/// A Virtual Reception's `prompt` must name a prompt the node ships (`node/assets/prompts/`).
fn check_reception_prompts(config: &Config) -> Result<(), ConfigError> {
    for reception in &config.routing.virtual_receptions {
        if crate::call::prompts::get(&reception.prompt).is_none() {
            let known: Vec<&str> = crate::call::prompts::names().collect();
            return Err(ConfigError::invalid(
                format!("routing.virtual_receptions[{}].prompt", reception.name),
                format!(
                    "`{}` is not a prompt the node ships; write one of {}",
                    reception.prompt,
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Compiles `[routing]` against the configured access tokens. Routing's errors name the rule
/// (`routing.rules[<name>].<field>`), which becomes the key path.
pub fn compile_routing(config: &Config) -> Result<routing::router::Router, ConfigError> {
    routing::router::Router::new(&config.routing, &config.meet.token_refs())
        .map_err(|e| ConfigError::invalid(format!("{}.{}", e.item, e.field), e.reason))
}

fn check_node(config: &Config) -> Result<(), ConfigError> {
    let name = &config.node.name;
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.chars().all(valid_char) {
        return Err(ConfigError::invalid(
            "node.name",
            format!(
                "`{name}` must be 1 to {MAX_NAME_LEN} letters, digits, '.', '_' or '-' \
                 (it appears in metrics and SIP headers)"
            ),
        ));
    }
    if config.node.drain_timeout > MAX_DRAIN_TIMEOUT {
        return Err(ConfigError::invalid(
            "node.drain_timeout",
            format!(
                "{} is longer than the maximum of {}",
                humantime::format_duration(config.node.drain_timeout),
                humantime::format_duration(MAX_DRAIN_TIMEOUT)
            ),
        ));
    }
    Ok(())
}

fn check_media_timeouts(config: &Config) -> Result<(), ConfigError> {
    let media = &config.media;
    let show = humantime::format_duration;
    if media.rtp_timeout > Duration::from_secs(3600) {
        return Err(ConfigError::invalid(
            "media.rtp_timeout",
            format!(
                "{} is longer than the maximum of 1h",
                show(media.rtp_timeout)
            ),
        ));
    }
    if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&media.meet_timeout) {
        return Err(ConfigError::invalid(
            "media.meet_timeout",
            format!("{} is outside 1s to 60s", show(media.meet_timeout)),
        ));
    }
    Ok(())
}

fn check_ranges(config: &Config) -> Result<(), ConfigError> {
    let media = config.media.port_range;
    let signaling = config.signaling.port_range;
    if media.len() < MIN_MEDIA_PORTS {
        return Err(ConfigError::invalid(
            "media.port_range",
            format!(
                "{media} holds {} ports; at least {MIN_MEDIA_PORTS} are needed",
                media.len()
            ),
        ));
    }
    if signaling.len() < MIN_SIGNALING_PORTS {
        return Err(ConfigError::invalid(
            "signaling.port_range",
            format!(
                "{signaling} holds {} ports; at least {MIN_SIGNALING_PORTS} are needed",
                signaling.len()
            ),
        ));
    }
    if media.overlaps(signaling) {
        return Err(ConfigError::invalid(
            "signaling.port_range",
            format!("{signaling} overlaps media.port_range {media}"),
        ));
    }
    Ok(())
}

fn check_listeners(config: &Config) -> Result<(), ConfigError> {
    let sip = &config.sip;
    let mut listeners = vec![("sip.udp", sip.udp), ("sip.tcp", sip.tcp)];
    if sip.tls_enabled() {
        listeners.push(("sip.tls", sip.tls));
    }
    listeners.push(("admin.listen", config.admin.listen));
    if config.meet.embedded_sim() {
        listeners.push(("meet.embedded_sim_listen", config.meet.embedded_sim_listen));
    }

    let ranges = [
        ("media.port_range", config.media.port_range),
        ("signaling.port_range", config.signaling.port_range),
    ];
    for &(key, addr) in &listeners {
        for &(range_key, range) in &ranges {
            if addr.port() != 0 && range.contains(addr.port()) {
                return Err(ConfigError::invalid(
                    key,
                    format!("port {} lies inside {range_key} {range}", addr.port()),
                ));
            }
        }
    }
    // TCP listeners (everything but sip.udp) must not ask for the same port on the same address.
    let tcp: Vec<_> = listeners.iter().filter(|(k, _)| *k != "sip.udp").collect();
    for (i, &&(key, addr)) in tcp.iter().enumerate() {
        if let Some((other, _)) = tcp[..i].iter().find(|(_, a)| tcp_clash(*a, addr)) {
            return Err(ConfigError::invalid(
                key,
                format!("{addr} is the same TCP port as {other}"),
            ));
        }
    }
    Ok(())
}

fn check_credentials(config: &Config) -> Result<(), ConfigError> {
    let sip = &config.sip;
    if sip.realm.is_empty() || sip.realm.contains(['"', '\\']) {
        return Err(ConfigError::invalid(
            "sip.realm",
            "must be non-empty, without quotes or backslashes",
        ));
    }
    if sip.digest_algorithms.is_empty() {
        return Err(ConfigError::invalid(
            "sip.digest_algorithms",
            "must name at least one algorithm",
        ));
    }
    for name in &sip.digest_algorithms {
        if signaling::digest::Algorithm::from_name(name).is_none() {
            return Err(ConfigError::invalid(
                "sip.digest_algorithms",
                format!("unknown algorithm `{name}` (expected SHA-256, SHA-512-256 or MD5)"),
            ));
        }
    }
    for (index, credential) in sip.credentials.iter().enumerate() {
        let key = |field: &str| format!("sip.credentials[{}].{field}", credential.username);
        if credential.username.is_empty() || credential.username.contains(['"', '\\', ':']) {
            return Err(ConfigError::invalid(
                format!("sip.credentials[#{}].username", index + 1),
                "must be non-empty, without quotes, backslashes or colons",
            ));
        }
        if sip.credentials[..index]
            .iter()
            .any(|c| c.username == credential.username)
        {
            return Err(ConfigError::invalid(key("username"), "duplicate user name"));
        }
        let password = credential.password.expose();
        if password.is_empty() || password == super::Secret::REDACTED {
            return Err(ConfigError::invalid(key("password"), "missing"));
        }
    }
    Ok(())
}

fn tcp_clash(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// RFC 4028 §4: Min-SE is at least 90 s, and the interval we ask for is at least Min-SE.
fn check_session_timers(config: &Config) -> Result<(), ConfigError> {
    let sip = &config.sip;
    if sip.t1 < Duration::from_millis(10) || sip.t1 > Duration::from_secs(4) {
        return Err(ConfigError::invalid(
            "sip.t1",
            format!(
                "{} is outside 10ms..4s (T2)",
                humantime::format_duration(sip.t1)
            ),
        ));
    }
    if sip.min_se < Duration::from_secs(90) {
        return Err(ConfigError::invalid(
            "sip.min_se",
            format!(
                "{} is below 90s, the least RFC 4028 allows",
                humantime::format_duration(sip.min_se)
            ),
        ));
    }
    if sip.session_expires < sip.min_se {
        return Err(ConfigError::invalid(
            "sip.session_expires",
            format!(
                "{} is below sip.min_se ({})",
                humantime::format_duration(sip.session_expires),
                humantime::format_duration(sip.min_se)
            ),
        ));
    }
    if sip.session_expires.as_secs() > u64::from(u32::MAX) {
        return Err(ConfigError::invalid("sip.session_expires", "too long"));
    }
    Ok(())
}

/// Licences, the CPU cost of a call and the `Retry-After` of a full node.
fn check_capacity(config: &Config) -> Result<(), ConfigError> {
    let capacity = &config.capacity;
    if capacity.licenses == 1 {
        return Err(ConfigError::invalid(
            "capacity.licenses",
            "1 licence can never carry a gateway call (it holds 2, one per leg): use 0 (no \
             limit) or at least 2",
        ));
    }
    let cost = capacity.cpu_cores_per_call;
    if !cost.is_finite() || !(0.0..=MAX_CPU_CORES_PER_CALL).contains(&cost) {
        return Err(ConfigError::invalid(
            "capacity.cpu_cores_per_call",
            format!("{cost} is outside 0 (no CPU check) ..= {MAX_CPU_CORES_PER_CALL} cores"),
        ));
    }
    let retry = capacity.retry_after;
    if retry.subsec_nanos() != 0 || retry < Duration::from_secs(1) || retry.as_secs() > 3600 {
        return Err(ConfigError::invalid(
            "capacity.retry_after",
            format!(
                "{} is not a whole number of seconds from 1s to 1h",
                humantime::format_duration(retry)
            ),
        ));
    }
    Ok(())
}

fn check_tls(config: &Config) -> Result<(), ConfigError> {
    if let Some(ca) = &config.sip.tls_ca {
        check_pem("sip.tls_ca", ca, "CERTIFICATE-----")?;
        crate::tls::client_config(Some(ca)).map(drop)?;
    }
    match (&config.sip.tls_cert, &config.sip.tls_key) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(ConfigError::invalid(
            "sip.tls_key",
            "missing: sip.tls_cert is set, so the matching private key is required",
        )),
        (None, Some(_)) => Err(ConfigError::invalid(
            "sip.tls_cert",
            "missing: sip.tls_key is set, so the matching certificate is required",
        )),
        (Some(cert), Some(key)) => {
            check_pem("sip.tls_cert", cert, "CERTIFICATE-----")?;
            check_pem("sip.tls_key", key, "PRIVATE KEY-----")?;
            // The pair must load into rustls: a key that does not match is refused here.
            crate::tls::server_config(cert, key).map(drop)
        }
    }
}

/// Reads a PEM file and checks that it holds the expected kind of block. The contents are
/// never echoed: a key must not reach a terminal or a log.
fn check_pem(key: &str, path: &Path, marker: &str) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::invalid(key, format!("cannot read {}: {e}", path.display())))?;
    if !text
        .lines()
        .any(|l| l.starts_with("-----BEGIN ") && l.ends_with(marker))
    {
        return Err(ConfigError::invalid(
            key,
            format!(
                "{} holds no PEM `{}` block",
                path.display(),
                marker.trim_end_matches('-')
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        Config::from_toml_str(text).unwrap_err().to_string()
    }

    #[test]
    fn defaults_pass() {
        check(&Config::default()).unwrap();
    }

    #[test]
    fn small_and_overlapping_ranges() {
        assert_eq!(
            refused("[media]\nport_range = [40000, 40049]"),
            "media.port_range: [40000, 40049] holds 50 ports; at least 100 are needed"
        );
        assert_eq!(
            refused("[signaling]\nport_range = [39000, 40100]"),
            "signaling.port_range: [39000, 40100] overlaps media.port_range [40000, 49999]"
        );
    }

    #[test]
    fn listeners_stay_out_of_the_ranges() {
        assert_eq!(
            refused("[sip]\nudp = \"0.0.0.0:45000\""),
            "sip.udp: port 45000 lies inside media.port_range [40000, 49999]"
        );
        assert_eq!(
            refused("[admin]\nlisten = \"127.0.0.1:5060\""),
            "admin.listen: 127.0.0.1:5060 is the same TCP port as sip.tcp"
        );
        // port 0 (ephemeral) never clashes: tests rely on it
        Config::from_toml_str("[admin]\nlisten = \"127.0.0.1:0\"\n[sip]\ntcp = \"127.0.0.1:0\"")
            .unwrap();
    }

    #[test]
    fn capacity_settings_are_checked() {
        assert_eq!(
            refused("[capacity]\nlicenses = 1"),
            "capacity.licenses: 1 licence can never carry a gateway call (it holds 2, one per \
             leg): use 0 (no limit) or at least 2"
        );
        assert_eq!(
            refused("[capacity]\ncpu_cores_per_call = -0.5"),
            "capacity.cpu_cores_per_call: -0.5 is outside 0 (no CPU check) ..= 64 cores"
        );
        assert!(
            refused("[capacity]\ncpu_cores_per_call = nan")
                .starts_with("capacity.cpu_cores_per_call: ")
        );
        assert!(
            refused("[capacity]\nretry_after = \"1500ms\"").starts_with("capacity.retry_after: ")
        );
        assert!(refused("[capacity]\nretry_after = \"2h\"").starts_with("capacity.retry_after: "));
        assert!(refused("[capacity]\nlicenses = -4").starts_with("capacity.licenses"));
        let ok = Config::from_toml_str(
            "[capacity]\nlicenses = 4\ncpu_cores_per_call = 0\nretry_after = \"5s\"",
        )
        .unwrap();
        assert_eq!(ok.capacity.licenses, 4);
    }

    #[test]
    fn names_and_filters() {
        assert!(refused("[node]\nname = \"\"").starts_with("node.name: "));
        assert!(refused("[node]\nname = \"a b\"").starts_with("node.name: "));
        assert!(refused("[log]\nlevel = \"info,=[\"").starts_with("log.level: "));
        assert!(refused("[node]\ndrain_timeout = \"3days\"").starts_with("node.drain_timeout: "));
    }
}
