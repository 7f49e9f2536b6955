//! A call routed to a SIP target (`kind = "sip"` with a proxy): the node places the outbound
//! leg itself (a UAC dialog), relays the callee's ringing and answer to the caller, relays RTP
//! both ways between its two pairs of ports, carries BYE and CANCEL across, and passes a
//! refusal back. Caller and callee are plain UDP sockets on loopback, so every header and
//! every packet can be checked.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{eventually, get, metric};
use node::Node;
use node::config::Config;
use signaling::sip::message::{Message, Request, Response, StatusCode};
use tokio::net::UdpSocket;

/// One SIP endpoint: its signalling socket and its RTP socket.
struct Endpoint {
    sip: UdpSocket,
    rtp: UdpSocket,
}

impl Endpoint {
    async fn new() -> Self {
        Self {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    fn port(&self) -> u16 {
        self.sip.local_addr().unwrap().port()
    }

    fn rtp_port(&self) -> u16 {
        self.rtp.local_addr().unwrap().port()
    }

    fn sdp(&self) -> String {
        format!(
            "v=0\r\no=ep 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
            self.rtp_port()
        )
    }

    async fn send(&self, bytes: &[u8], to: SocketAddr) {
        self.sip.send_to(bytes, to).await.unwrap();
    }

    async fn message(&self) -> (Message, SocketAddr) {
        let mut buf = vec![0; 65_535];
        let (len, from) =
            tokio::time::timeout(Duration::from_secs(10), self.sip.recv_from(&mut buf))
                .await
                .expect("a SIP message within 10 s")
                .unwrap();
        (Message::parse(&buf[..len]).unwrap(), from)
    }

    async fn request(&self) -> (Request, SocketAddr) {
        loop {
            if let (Message::Request(r), from) = self.message().await {
                return (r, from);
            }
        }
    }

    /// The next response other than 100.
    async fn response(&self) -> Response {
        loop {
            if let (Message::Response(r), _) = self.message().await
                && r.status.code() != 100
            {
                return r;
            }
        }
    }
}

fn invite(caller: &Endpoint, call_id: &str) -> String {
    let body = caller.sdp();
    format!(
        "INVITE sip:7001@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: \"Room 4\" <sip:room@127.0.0.1>;tag=caller1\r\n\
         To: <sip:7001@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:room@127.0.0.1:{port}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len(),
        port = caller.port(),
    )
}

/// A response from the callee with its tag, Contact and (optionally) SDP.
fn reply(request: &Request, code: u16, callee: &Endpoint, sdp: bool) -> Vec<u8> {
    let mut response = request.response(StatusCode::new(code).unwrap());
    if let Ok(mut to) = response.headers.to()
        && to.tag().is_none()
    {
        to.set_tag("callee1");
        response.headers.set("To", to.to_string());
    }
    if code != 100 && code < 300 {
        response
            .headers
            .push("Contact", format!("<sip:bob@127.0.0.1:{}>", callee.port()));
    }
    if sdp {
        response.headers.push("Content-Type", "application/sdp");
        response.body = callee.sdp().into_bytes();
    }
    response.to_bytes()
}

fn sdp_port(body: &[u8]) -> u16 {
    String::from_utf8_lossy(body)
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("an audio port")
}

async fn start(callee: &Endpoint, media: u16) -> (SocketAddr, SocketAddr) {
    start_with(callee, media, "").await
}

/// A node routing `7xxx` to the callee, with `sip` added to its `[sip]` section.
async fn start_with(callee: &Endpoint, media: u16, sip: &str) -> (SocketAddr, SocketAddr) {
    let text = format!(
        "[node]\ndrain_timeout = \"1s\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n{sip}\n\
         [media]\nport_range = [{media}, {}]\n\
         [[routing.rules]]\nname = \"pbx\"\npriority = 1\nmatch = '(7\\d{{3}})@.*'\nreplace = '\\1'\n\
         target = {{ kind = \"sip\", proxy = \"127.0.0.1:{}\" }}\n",
        media + 99,
        callee.port()
    );
    let node = Node::start(Config::from_toml_str(&text).unwrap())
        .await
        .unwrap();
    let addrs = (node.admin_addr(), node.sip_udp_addr().unwrap());
    tokio::spawn(node.run_until(std::future::pending()));
    addrs
}

async fn rtp(from: &UdpSocket, to: u16, count: u16) {
    for seq in 0..count {
        let mut packet = vec![0x80, 0, (seq >> 8) as u8, seq as u8, 0, 0, 0, 0, 0, 0, 0, 7];
        packet.extend_from_slice(&[0xd5; 160]);
        from.send_to(&packet, ("127.0.0.1", to)).await.unwrap();
    }
}

async fn received(socket: &UdpSocket, count: usize) -> usize {
    let mut buf = vec![0; 2048];
    let mut got = 0;
    while got < count {
        match tokio::time::timeout(Duration::from_secs(3), socket.recv(&mut buf)).await {
            Ok(Ok(len)) if len == 172 && buf[0] == 0x80 => got += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    got
}

#[tokio::test]
async fn a_call_to_a_sip_target_is_bridged_with_media_both_ways() {
    let (caller, callee) = (Endpoint::new().await, Endpoint::new().await);
    let (admin, node) = start(&callee, 26_000).await;
    caller
        .send(invite(&caller, "bridge-1").as_bytes(), node)
        .await;

    // The outbound leg: to the rewritten alias through the proxy, our own SDP.
    let (out, from) = callee.request().await;
    assert_eq!(out.method.as_str(), "INVITE");
    assert_eq!(
        out.uri.to_string(),
        format!("sip:7001@127.0.0.1:{}", callee.port())
    );
    assert_eq!(
        out.headers.get("Route"),
        Some(format!("<sip:127.0.0.1:{};lr;transport=udp>", callee.port()).as_str())
    );
    assert_eq!(
        out.from().unwrap().uri.user.as_deref(),
        Some("room"),
        "caller identity kept"
    );
    assert_ne!(
        out.call_id().unwrap(),
        "bridge-1",
        "a new dialog on the outbound leg"
    );
    assert!(
        out.top_via()
            .unwrap()
            .branch
            .unwrap()
            .starts_with("z9hG4bK")
    );
    let node_callee_side = sdp_port(&out.body);
    assert!(
        (26_000..=26_099).contains(&node_callee_side),
        "{node_callee_side}"
    );
    assert!(String::from_utf8_lossy(&out.body).contains("a=rtpmap:101 telephone-event/8000"));

    callee.send(&reply(&out, 100, &callee, false), from).await;
    callee.send(&reply(&out, 180, &callee, false), from).await;
    assert_eq!(caller.response().await.status.code(), 180);
    callee.send(&reply(&out, 200, &callee, true), from).await;
    let (ack, _) = callee.request().await;
    assert_eq!(ack.method.as_str(), "ACK");
    assert_eq!(
        ack.uri.to_string(),
        format!("sip:bob@127.0.0.1:{}", callee.port())
    );

    let ok = caller.response().await;
    assert_eq!(ok.status.code(), 200);
    let node_caller_side = sdp_port(&ok.body);
    assert!((26_000..=26_099).contains(&node_caller_side));
    assert_ne!(node_caller_side, node_callee_side);
    let tag = ok.to().unwrap().tag().unwrap().to_owned();
    let caller_ack = format!(
        "ACK sip:tcn@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-ack1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:room@127.0.0.1>;tag=caller1\r\nTo: <sip:7001@127.0.0.1>;tag={tag}\r\n\
         Call-ID: bridge-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        p = caller.port()
    );
    caller.send(caller_ack.as_bytes(), node).await;

    // Media both ways, through the node's two pairs of ports.
    rtp(&caller.rtp, node_caller_side, 20).await;
    assert_eq!(received(&callee.rtp, 20).await, 20, "caller → callee");
    rtp(&callee.rtp, node_callee_side, 10).await;
    assert_eq!(received(&caller.rtp, 10).await, 10, "callee → caller");
    let status: serde_json::Value =
        serde_json::from_str(&get(admin, "/status").await.unwrap().body).unwrap();
    let call = &status["calls"][0];
    assert_eq!(call["service"], "sip", "{status:#}");
    // The Live View: two licences (one per leg), the caller, connected.
    assert_eq!(
        (
            &call["licenses"],
            &call["state"],
            &call["caller"]["protocol"]
        ),
        (&2.into(), &"connected".into(), &"sip".into()),
        "{status:#}"
    );
    assert_eq!(call["caller"]["alias"], "sip:room@127.0.0.1", "{status:#}");
    assert_eq!(call["caller"]["display_name"], "Room 4", "{status:#}");
    let counted: Vec<u64> = call["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["packets"].as_u64().unwrap())
        .collect();
    assert_eq!(counted, [20, 10], "{status:#}");

    // The callee hangs up: 200 to it, and a BYE to the caller.
    let bye = format!(
        "BYE sip:tcn@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-bye1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=callee1\r\nTo: {to}\r\n\
         Call-ID: {cid}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
        p = callee.port(),
        to = out.headers.get("From").unwrap(),
        cid = out.call_id().unwrap()
    );
    callee.send(bye.as_bytes(), from).await;
    assert_eq!(callee.response().await.status.code(), 200);
    let (crossed, _) = caller.request().await;
    assert_eq!(crossed.method.as_str(), "BYE");
    assert_eq!(crossed.call_id().unwrap(), "bridge-1");
    assert_eq!(crossed.to().unwrap().tag(), Some("caller1"));
    let ended = eventually(Duration::from_secs(3), || async {
        let text = get(admin, "/metrics").await.unwrap().body;
        metric(&text, "tcn_calls_total{outcome=\"completed\"}") == Some(1.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await;
    assert!(ended, "{}", get(admin, "/metrics").await.unwrap().body);
}

#[tokio::test]
async fn a_refusal_comes_back_and_a_cancel_goes_through() {
    let (caller, callee) = (Endpoint::new().await, Endpoint::new().await);
    let (admin, node) = start(&callee, 26_100).await;

    // Busy: the caller gets the callee's 486.
    caller
        .send(invite(&caller, "busy-1").as_bytes(), node)
        .await;
    let (out, from) = callee.request().await;
    callee.send(&reply(&out, 486, &callee, false), from).await;
    let (ack, _) = callee.request().await;
    assert_eq!(ack.method.as_str(), "ACK", "the node ACKs the refusal");
    assert_eq!(caller.response().await.status.code(), 486);

    // CANCEL before the answer: it crosses, and the caller gets 487.
    caller
        .send(invite(&caller, "cancel-1").as_bytes(), node)
        .await;
    let (out, from) = callee.request().await;
    callee.send(&reply(&out, 180, &callee, false), from).await;
    assert_eq!(caller.response().await.status.code(), 180);
    let cancel = invite(&caller, "cancel-1")
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    let cancel = format!(
        "{}\r\n\r\n",
        cancel.split("\r\nContent-Type").next().unwrap()
    )
    .replace("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n");
    caller.send(cancel.as_bytes(), node).await;
    let (theirs, _) = callee.request().await;
    assert_eq!(theirs.method.as_str(), "CANCEL");
    assert_eq!(
        theirs.top_via().unwrap().branch,
        out.top_via().unwrap().branch
    );
    callee
        .send(&reply(&theirs, 200, &callee, false), from)
        .await;
    callee.send(&reply(&out, 487, &callee, false), from).await;
    let mut codes = vec![
        caller.response().await.status.code(),
        caller.response().await.status.code(),
    ];
    codes.sort_unstable();
    assert_eq!(codes, [200, 487]);
    let text = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"rejected\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "tcn_calls_total{outcome=\"cancelled\"}"),
        Some(1.0)
    );
    // The ports are freed once the callee's 487 has ended the outbound leg.
    let freed = eventually(Duration::from_secs(3), || async {
        let text = get(admin, "/metrics").await.unwrap().body;
        metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await;
    assert!(freed, "{}", get(admin, "/metrics").await.unwrap().body);
}

/// A caller that never ACKs the 2xx of a bridged call: once Timer H (64·T1) runs out, the
/// call is over: the callee gets a BYE, and the licence and every port are freed.
#[tokio::test]
async fn a_bridged_call_whose_caller_never_acks_is_freed() {
    let (caller, callee) = (Endpoint::new().await, Endpoint::new().await);
    // T1 = 20 ms: Timer H fires 1.28 s after the 2xx.
    let (admin, node) = start_with(&callee, 26_300, "t1 = \"20ms\"").await;
    caller
        .send(invite(&caller, "no-ack-1").as_bytes(), node)
        .await;
    let (out, from) = callee.request().await;
    assert_eq!(out.method.as_str(), "INVITE");
    callee.send(&reply(&out, 200, &callee, true), from).await;
    assert_eq!(caller.response().await.status.code(), 200);
    let active = get(admin, "/metrics").await.unwrap().body;
    assert_eq!(metric(&active, "tcn_calls_active"), Some(1.0), "{active}");

    // The callee sees our ACK (and maybe INVITE retransmissions), then the BYE.
    let bye = loop {
        let (request, _) = callee.request().await;
        if request.method.as_str() == "BYE" {
            break request;
        }
        assert!(
            matches!(request.method.as_str(), "ACK" | "INVITE"),
            "{request:?}"
        );
    };
    assert_eq!(bye.call_id().unwrap(), out.call_id().unwrap());
    let freed = eventually(Duration::from_secs(5), || async {
        let text = get(admin, "/metrics").await.unwrap().body;
        metric(&text, "tcn_calls_total{outcome=\"failed\"}") == Some(1.0)
            && metric(&text, "tcn_calls_active") == Some(0.0)
            && metric(&text, "tcn_media_ports_in_use") == Some(0.0)
    })
    .await;
    assert!(freed, "{}", get(admin, "/metrics").await.unwrap().body);
}

#[tokio::test]
async fn the_outbound_tcp_leg_comes_from_the_signalling_port_range() {
    use signaling::sip::message::{Frame, Framer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let caller = Endpoint::new().await;
    let callee = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let text = format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
         [media]\nport_range = [26200, 26299]\n[signaling]\nport_range = [27000, 27099]\n\
         [[routing.rules]]\nname = \"pbx\"\npriority = 1\nmatch = '(7\\d{{3}})@.*'\nreplace = '\\1'\n\
         target = {{ kind = \"sip\", proxy = \"127.0.0.1:{}\", transport = \"tcp\" }}\n",
        callee.local_addr().unwrap().port()
    );
    let node = Node::start(Config::from_toml_str(&text).unwrap())
        .await
        .unwrap();
    let addr = node.sip_udp_addr().unwrap();
    tokio::spawn(node.run_until(std::future::pending()));
    caller.send(invite(&caller, "tcp-1").as_bytes(), addr).await;

    let (mut stream, from) = tokio::time::timeout(Duration::from_secs(10), callee.accept())
        .await
        .expect("the node connects")
        .unwrap();
    assert!(
        (27_000..=27_099).contains(&from.port()),
        "source port {from}"
    );
    let mut framer = Framer::new();
    let mut buf = vec![0; 8192];
    let out = loop {
        if let Some(Ok(Frame::Message(Message::Request(r)))) = framer.next_frame() {
            break r;
        }
        let len = stream.read(&mut buf).await.unwrap();
        assert!(len > 0);
        framer.push(&buf[..len]);
    };
    assert_eq!(out.top_via().unwrap().transport.to_ascii_uppercase(), "TCP");
    let busy = out.response(StatusCode::new(486).unwrap());
    stream.write_all(&busy.to_bytes()).await.unwrap();
    assert_eq!(caller.response().await.status.code(), 486);
}
