//! A blocking HTTP/1.1 client for meet-sim's JSON API (the demo's peers run on plain threads).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// `POST path` with a JSON body; the status and the JSON answer (`Null` if not JSON).
pub fn post_json(addr: SocketAddr, path: &str, body: &Value) -> Result<(u16, Value), String> {
    request(addr, "POST", path, &body.to_string())
}

/// `GET path`; the status and the JSON answer (`Null` if not JSON).
pub fn get_json(addr: SocketAddr, path: &str) -> Result<(u16, Value), String> {
    request(addr, "GET", path, "")
}

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Result<(u16, Value), String> {
    let fail = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut stream = TcpStream::connect(addr).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(fail)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(fail)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((
        status,
        serde_json::from_slice(&raw[split + 4..]).unwrap_or(Value::Null),
    ))
}
