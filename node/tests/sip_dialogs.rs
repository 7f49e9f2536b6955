//! Dialogs of the test call service on real loopback sockets: session timers (RFC 4028)
//! negotiated, refreshed by the node and expired, on tokio's paused clock so that minutes of
//! session time pass at once; a BYE with a `Reason` (RFC 3326) when the node ends a call;
//! UPDATE and MESSAGE in a call; CSeq order and unknown dialogs.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{get, metric};
use node::Node;
use node::config::Config;
use signaling::sip::message::{Message, Request, Response};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

const CONFIG: &str = r#"
[node]
drain_timeout = "200ms"
[admin]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
[media]
port_range = [{first}, {last}]
"#;

const OFFER: &str = "v=0\r\no=room 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

struct Peer {
    socket: UdpSocket,
    node: SocketAddr,
    call_id: String,
    cseq: u32,
    to_tag: Option<String>,
}

impl Peer {
    async fn new(node: SocketAddr, call_id: &str) -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            node,
            call_id: call_id.to_owned(),
            cseq: 0,
            to_tag: None,
        }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    /// A request in this call, with the next CSeq.
    fn request(&mut self, method: &str, extra: &str, body: &str) -> String {
        self.cseq += 1;
        let port = self.port();
        let to_tag = self
            .to_tag
            .as_ref()
            .map(|t| format!(";tag={t}"))
            .unwrap_or_default();
        let content_type = if body.is_empty() {
            String::new()
        } else if method == "MESSAGE" {
            "Content-Type: text/plain\r\n".to_owned()
        } else {
            "Content-Type: application/sdp\r\n".to_owned()
        };
        format!(
            "{method} sip:test@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{}-{}-{method};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:room@127.0.0.1>;tag=room1\r\n\
             To: <sip:test@127.0.0.1>{to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} {method}\r\n\
             Contact: <sip:room@127.0.0.1:{port}>\r\n\
             {extra}{content_type}Content-Length: {}\r\n\r\n{body}",
            self.call_id,
            self.cseq,
            self.call_id,
            self.cseq,
            body.len()
        )
    }

    async fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.node)
            .await
            .unwrap();
    }

    async fn message(&self) -> Message {
        let mut buf = vec![0; 65_535];
        let (len, _) =
            tokio::time::timeout(Duration::from_secs(600), self.socket.recv_from(&mut buf))
                .await
                .expect("a message from the node")
                .unwrap();
        Message::parse(&buf[..len]).unwrap()
    }

    /// The next final response (100 Trying skipped).
    async fn response(&self) -> Response {
        loop {
            match self.message().await {
                Message::Response(r) if r.status.code() == 100 => {}
                Message::Response(r) => return r,
                Message::Request(r) => panic!("expected a response, got {r:?}"),
            }
        }
    }

    /// The next request from the node (responses skipped).
    async fn request_from_node(&self) -> Request {
        loop {
            if let Message::Request(r) = self.message().await {
                return r;
            }
        }
    }

    /// INVITE, 200, ACK; returns the 200.
    async fn call(&mut self, extra: &str) -> Response {
        let invite = self.request("INVITE", extra, OFFER);
        self.send(&invite).await;
        let ok = self.response().await;
        assert_eq!(ok.status.code(), 200, "{ok:?}");
        self.to_tag = ok.to().unwrap().tag().map(str::to_owned);
        let ack = self.request("ACK", "", "").replace(
            &format!("CSeq: {} ACK", self.cseq),
            &format!("CSeq: {} ACK", self.cseq - 1),
        );
        self.cseq -= 1;
        self.send(&ack).await;
        ok
    }

    /// Answers a request from the node.
    async fn answer(&self, request: &Request, code: u16, body: &str) {
        let mut response =
            request.response(signaling::sip::message::StatusCode::new(code).unwrap());
        if !body.is_empty() {
            response.headers.push("Content-Type", "application/sdp");
            response
                .headers
                .push("Contact", format!("<sip:room@127.0.0.1:{}>", self.port()));
            response.body = body.as_bytes().to_vec();
        }
        self.socket
            .send_to(&response.to_bytes(), self.node)
            .await
            .unwrap();
    }
}

struct Running {
    admin: SocketAddr,
    udp: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), node::StartError>>,
}

/// A node whose media range is `media_base..=media_base + 99` (one per test: tests run side
/// by side).
async fn start(media_base: u16) -> Running {
    let text = CONFIG
        .replace("{first}", &media_base.to_string())
        .replace("{last}", &(media_base + 99).to_string());
    let node = Node::start(Config::from_toml_str(&text).unwrap())
        .await
        .unwrap();
    let (admin, udp) = (node.admin_addr(), node.sip_udp_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(node.run_until(async {
        let _ = stopped.await;
    }));
    Running {
        admin,
        udp,
        stop,
        task,
    }
}

async fn counter(admin: SocketAddr, series: &str) -> f64 {
    metric(&get(admin, "/metrics").await.unwrap().body, series).unwrap_or(0.0)
}

#[tokio::test]
async fn a_session_interval_below_min_se_gets_422_and_a_valid_one_is_echoed() {
    let node = start(22600).await;
    let mut peer = Peer::new(node.udp, "st-422").await;
    let invite = peer.request(
        "INVITE",
        "Supported: timer\r\nSession-Expires: 60\r\n",
        OFFER,
    );
    peer.send(&invite).await;
    let too_small = peer.response().await;
    assert_eq!(too_small.status.code(), 422);
    assert_eq!(too_small.headers.get("Min-SE"), Some("90"));

    let mut peer = Peer::new(node.udp, "st-ok").await;
    let ok = peer
        .call("Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n")
        .await;
    assert_eq!(ok.headers.get("Session-Expires"), Some("120;refresher=uac"));
    assert_eq!(ok.headers.get("Require"), Some("timer"));
    assert!(ok.headers.get("Supported").unwrap().contains("timer"));
    // A refresh by the caller (a re-INVITE) is answered with the interval again.
    let refresh = peer.request(
        "INVITE",
        "Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n",
        OFFER,
    );
    peer.send(&refresh).await;
    let refreshed = peer.response().await;
    assert_eq!(refreshed.status.code(), 200);
    assert_eq!(
        refreshed.headers.get("Session-Expires"),
        Some("120;refresher=uac")
    );
    let _ = node.stop.send(());
}

#[tokio::test(start_paused = true)]
async fn the_node_refreshes_when_it_is_the_refresher_and_ends_an_unrefreshed_session() {
    let node = start(22700).await;
    // We name the node (the UAS) as refresher: it must re-INVITE at half the interval.
    let mut peer = Peer::new(node.udp, "st-uas").await;
    peer.call("Supported: timer\r\nSession-Expires: 100;refresher=uas\r\n")
        .await;
    let answered = tokio::time::Instant::now();
    let reinvite = peer.request_from_node().await;
    let after = answered.elapsed();
    assert_eq!(reinvite.method.as_str(), "INVITE");
    assert!(
        (Duration::from_secs(49)..=Duration::from_secs(51)).contains(&after),
        "refresh after {after:?}, expected 50 s"
    );
    assert_eq!(
        reinvite.headers.get("Session-Expires"),
        Some("100;refresher=uac")
    );
    assert_eq!(
        reinvite.uri.to_string(),
        format!("sip:room@127.0.0.1:{}", peer.port())
    );
    assert_eq!(
        reinvite.from().unwrap().tag(),
        peer.to_tag.as_deref(),
        "our tag in From"
    );
    assert!(
        !reinvite.body.is_empty(),
        "the refresh carries our SDP again"
    );
    peer.answer(&reinvite, 200, OFFER).await;
    let ack = peer.request_from_node().await;
    assert_eq!(ack.method.as_str(), "ACK");
    assert_eq!(ack.cseq().unwrap().seq, reinvite.cseq().unwrap().seq);

    // Now we refresh (the node's re-INVITE made it the UAC, refresher=uac: the node again).
    // A second call where the caller is the refresher and never refreshes.
    let mut lazy = Peer::new(node.udp, "st-uac").await;
    lazy.call("Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n")
        .await;
    let started = tokio::time::Instant::now();
    let bye = lazy.request_from_node().await;
    let after = started.elapsed();
    assert_eq!(bye.method.as_str(), "BYE");
    // RFC 4028 §10: at the interval minus min(32 s, interval / 3) = 60 s.
    assert!(
        (Duration::from_secs(59)..=Duration::from_secs(61)).contains(&after),
        "BYE after {after:?}, expected 60 s"
    );
    let reason = bye.headers.get("Reason").expect("a Reason header");
    assert!(reason.starts_with("SIP;cause=408"), "{reason}");
    lazy.answer(&bye, 200, "").await;
    assert_eq!(
        counter(node.admin, "tcn_calls_total{outcome=\"failed\"}").await,
        1.0
    );
    let _ = node.stop.send(());
}

#[tokio::test]
async fn update_message_and_cseq_order_in_a_call() {
    let node = start(22800).await;
    let mut peer = Peer::new(node.udp, "in-dialog").await;
    peer.call("").await;
    let update = peer.request("UPDATE", "", "");
    peer.send(&update).await;
    assert_eq!(peer.response().await.status.code(), 200);
    let message = peer.request("MESSAGE", "", "hello from the room");
    peer.send(&message).await;
    assert_eq!(peer.response().await.status.code(), 200);
    let html = peer
        .request("MESSAGE", "", "<b>hi</b>")
        .replace("text/plain", "application/json");
    peer.send(&html).await;
    let unsupported = peer.response().await;
    assert_eq!(unsupported.status.code(), 415);
    assert_eq!(unsupported.headers.get("Accept"), Some("text/plain"));
    // A request with a lower CSeq than the last one: 500 (RFC 3261 §12.2.2).
    peer.cseq = 1;
    let stale = peer.request("INFO", "", "");
    peer.send(&stale).await;
    assert_eq!(peer.response().await.status.code(), 500);
    // A wrong To tag: 481.
    peer.cseq = 10;
    let other = peer.request("BYE", "", "").replace(
        &format!("tag={}", peer.to_tag.clone().unwrap()),
        "tag=not-ours",
    );
    peer.send(&other).await;
    assert_eq!(peer.response().await.status.code(), 481);
    // MESSAGE outside a call: 404.
    let mut pager = Peer::new(node.udp, "pager").await;
    let outside = pager.request("MESSAGE", "", "hi");
    pager.send(&outside).await;
    assert_eq!(pager.response().await.status.code(), 404);
    let bye = peer.request("BYE", "", "");
    peer.send(&bye).await;
    assert_eq!(peer.response().await.status.code(), 200);
    let _ = node.stop.send(());
}

#[tokio::test]
async fn the_node_ends_calls_with_a_bye_and_a_reason_when_it_shuts_down() {
    let node = start(22900).await;
    let mut peer = Peer::new(node.udp, "shutdown").await;
    peer.call("").await;
    let _ = node.stop.send(());
    // The drain timeout (200 ms) passes; the node ends the call with a BYE.
    let bye = peer.request_from_node().await;
    assert_eq!(bye.method.as_str(), "BYE");
    assert_eq!(
        bye.uri.to_string(),
        format!("sip:room@127.0.0.1:{}", peer.port())
    );
    assert_eq!(
        bye.to().unwrap().tag(),
        Some("room1"),
        "the caller's tag in To"
    );
    assert_eq!(bye.from().unwrap().tag(), peer.to_tag.as_deref());
    assert_eq!(bye.cseq().unwrap().method.as_str(), "BYE");
    assert_eq!(
        bye.headers.get("Reason"),
        Some("Q.850;cause=16;text=\"Node shutting down\"")
    );
    peer.answer(&bye, 200, "").await;
    tokio::time::timeout(Duration::from_secs(10), node.task)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
}
