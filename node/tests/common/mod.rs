//! Helpers shared by the node's integration tests: a minimal HTTP/1.1 client over a real
//! loopback socket, and a test configuration.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

pub mod baresip;
pub mod caller;
pub mod demo;
pub mod mangle;
pub mod sip_udp;
pub mod sipp;
pub mod tls;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use node::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A configuration safe for tests: admin API on an ephemeral loopback port.
pub fn test_config() -> Config {
    Config::from_toml_str(
        "[node]\nname = \"test-node\"\ndrain_timeout = \"10s\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\n[capacity]\nmax_calls = 3\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n",
    )
    .expect("test config is valid")
}

/// One HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// `GET path` with `Connection: close`; the body is read to EOF.
pub async fn get(addr: SocketAddr, path: &str) -> std::io::Result<Response> {
    request(addr, "GET", path, "").await
}

/// `POST path` with a JSON `body` and `Connection: close`; the body is read to EOF.
pub async fn post(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<Response> {
    request(addr, "POST", path, body).await
}

async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned());
    Ok(Response {
        status,
        content_type,
        body: body.to_owned(),
    })
}

/// The value of one series in Prometheus text output, e.g.
/// `metric(&text, "tcn_calls_total{outcome=\"rejected\"}")`. A bare name whose family has
/// labels (`tcn_calls_active`) gives the sum over its series, as PromQL's `sum()` would.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    let lines = || text.lines().filter(|l| !l.starts_with('#'));
    let value = |rest: &str| rest.strip_prefix(' ')?.trim().parse::<f64>().ok();
    if let Some(v) = lines().find_map(|l| value(l.strip_prefix(series)?)) {
        return Some(v);
    }
    if series.contains('{') {
        return None;
    }
    let labelled: Vec<f64> = lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix('{'))
        .filter_map(|rest| value(&rest[rest.find('}')? + 1..]))
        .collect();
    (!labelled.is_empty()).then(|| labelled.iter().sum())
}

/// Polls `check` every 20 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
