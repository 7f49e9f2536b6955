//! SIP over TLS (rustls) on loopback: the node serves `sip.tls` with the certificate from
//! its config, answers over the same connection, puts `transport=tls` in its Contact, closes
//! a stream carrying garbage, survives a client that does not speak TLS, and refuses a key
//! that does not match its certificate at config check, naming the key.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::tls::{self, TlsFiles};
use common::{get, metric};
use node::Node;
use node::config::Config;
use signaling::sip::message::{Frame, Framer, Message, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(files: &TlsFiles) -> Config {
    Config::from_toml_str(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\ntls = \"127.0.0.1:0\"\n\
         tls_cert = {:?}\ntls_key = {:?}\n\
         [media]\nport_range = [22400, 22599]\n",
        files.cert, files.key
    ))
    .unwrap()
}

fn request(method: &str, uri: &str, port: u16, call_id: &str, extra: &str, body: &str) -> String {
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/TLS 127.0.0.1:{port};branch=z9hG4bK-{call_id}-{method}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:room@127.0.0.1>;tag=room1\r\n\
         To: <{uri}>{extra}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:room@127.0.0.1:{port};transport=tls>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const OFFER: &str = "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
m=video 30002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n";

/// The next final response on a stream, skipping 100 Trying.
async fn response<S: AsyncRead + Unpin>(stream: &mut S, framer: &mut Framer) -> Response {
    let mut buf = vec![0; 8192];
    loop {
        while let Some(frame) = framer.next_frame() {
            if let Ok(Frame::Message(Message::Response(response))) = frame
                && response.status.code() != 100
            {
                return response;
            }
        }
        let len = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response within 5 s")
            .unwrap();
        assert!(len > 0, "the node closed the connection");
        framer.push(&buf[..len]);
    }
}

async fn start(files: &TlsFiles) -> (SocketAddr, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let node = Node::start(config(files)).await.unwrap();
    let addrs = (node.admin_addr(), node.sip_tls_addr().expect("TLS listens"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    (addrs.0, addrs.1, stop)
}

#[tokio::test]
async fn options_and_a_test_call_over_tls() {
    let files = tls::self_signed(&tls::scratch_dir("sip-tls"));
    let (admin, addr, _stop) = start(&files).await;

    // A client that does not speak TLS is dropped at the handshake; the listener goes on.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    let port = plain.local_addr().unwrap().port();
    plain
        .write_all(request("OPTIONS", "sip:127.0.0.1", port, "p1", "", "").as_bytes())
        .await
        .unwrap();
    let mut junk = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut junk)).await;
    assert!(
        !String::from_utf8_lossy(&junk).contains("SIP/2.0 200"),
        "no SIP answer without TLS"
    );

    let mut stream = tls::connect(addr, &files.der).await;
    let port = stream.get_ref().0.local_addr().unwrap().port();
    let mut framer = Framer::new();
    stream
        .write_all(request("OPTIONS", "sip:127.0.0.1", port, "o1", "", "").as_bytes())
        .await
        .unwrap();
    let ok = response(&mut stream, &mut framer).await;
    assert_eq!(ok.status.code(), 200);
    assert_eq!(ok.top_via().unwrap().transport.to_ascii_uppercase(), "TLS");

    // A test call: answered over the same connection, Contact says transport=tls.
    stream
        .write_all(request("INVITE", "sip:test@127.0.0.1", port, "c1", "", OFFER).as_bytes())
        .await
        .unwrap();
    let answered = response(&mut stream, &mut framer).await;
    assert_eq!(answered.status.code(), 200, "{answered:?}");
    let contact = answered.headers.get("Contact").unwrap();
    assert!(contact.contains("transport=tls"), "{contact}");
    assert!(
        contact.contains(&format!(":{}", addr.port())),
        "Contact names the TLS listener: {contact}"
    );
    let tag = answered.to().unwrap().tag().unwrap().to_owned();
    let status = get(admin, "/status").await.unwrap().body;
    assert!(status.contains("\"tls\":\"127.0.0.1:"), "{status}");
    let ack = request(
        "ACK",
        "sip:test@127.0.0.1",
        port,
        "c1",
        &format!(";tag={tag}"),
        "",
    )
    .replace("branch=z9hG4bK-c1-ACK", "branch=z9hG4bK-c1-ACK2");
    let bye = request(
        "BYE",
        "sip:test@127.0.0.1",
        port,
        "c1",
        &format!(";tag={tag}"),
        "",
    )
    .replace("CSeq: 1 BYE", "CSeq: 2 BYE");
    stream
        .write_all(format!("{ack}{bye}").as_bytes())
        .await
        .unwrap();
    assert_eq!(response(&mut stream, &mut framer).await.status.code(), 200);

    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(
            &text,
            "tcn_sip_requests_total{method=\"INVITE\",transport=\"tls\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"completed\"}"),
        Some(1.0)
    );

    // Garbage on the TLS stream: the node closes it.
    stream.write_all(b"\x01\x02 not sip\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the node closes a stream carrying garbage");
}

#[test]
fn a_key_that_does_not_match_its_certificate_is_refused() {
    let dir = tls::scratch_dir("sip-tls-mismatch");
    let one = tls::self_signed(&dir.join("one"));
    let two = tls::self_signed(&dir.join("two"));
    let text = format!(
        "[sip]\ntls_cert = {:?}\ntls_key = {:?}\n",
        one.cert, two.key
    );
    let error = Config::from_toml_str(&text).unwrap_err().to_string();
    assert!(error.starts_with("sip.tls_key: "), "{error}");
    assert!(error.contains("does not fit"), "{error}");
    assert!(
        !error.contains("PRIVATE KEY"),
        "no key material in the message: {error}"
    );
}

#[tokio::test]
async fn the_node_sends_its_bye_over_the_callers_tls_connection() {
    let files = tls::self_signed(&tls::scratch_dir("sip-tls-bye"));
    let text = config(&files)
        .to_toml()
        .replace("drain_timeout = \"30s\"", "drain_timeout = \"100ms\"")
        .replace("22400, 22599", "22500, 22599");
    assert!(text.contains("100ms"), "{text}");
    let node = Node::start(Config::from_toml_str(&text).unwrap())
        .await
        .unwrap();
    let addr = node.sip_tls_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    let mut stream = tls::connect(addr, &files.der).await;
    let port = stream.get_ref().0.local_addr().unwrap().port();
    let mut framer = Framer::new();
    stream
        .write_all(request("INVITE", "sip:test@127.0.0.1", port, "b1", "", OFFER).as_bytes())
        .await
        .unwrap();
    let answered = response(&mut stream, &mut framer).await;
    assert_eq!(answered.status.code(), 200);
    let tag = answered.to().unwrap().tag().unwrap().to_owned();
    let ack = request(
        "ACK",
        "sip:test@127.0.0.1",
        port,
        "b1",
        &format!(";tag={tag}"),
        "",
    );
    stream.write_all(ack.as_bytes()).await.unwrap();
    let _ = stop.send(());
    // The Contact names a port nobody listens on: the BYE must come over this connection.
    let mut buf = vec![0; 8192];
    let bye = loop {
        if let Some(Ok(Frame::Message(Message::Request(bye)))) = framer.next_frame() {
            break bye;
        }
        let len = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a BYE within 5 s")
            .unwrap();
        assert!(len > 0, "closed before the BYE");
        framer.push(&buf[..len]);
    };
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(bye.top_via().unwrap().transport.to_ascii_uppercase(), "TLS");
    assert!(bye.headers.get("Reason").is_some());
    let ok = bye.response(signaling::sip::message::StatusCode::OK);
    stream.write_all(&ok.to_bytes()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
}
