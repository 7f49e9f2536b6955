//! A room system that speaks SIP by hand from its own loopback UDP socket, so that a test can
//! check every response and request the node sends it (and send what a real endpoint would
//! not).

use std::net::SocketAddr;
use std::time::Duration;

use signaling::sip::message::{Message, Request, Response};
use tokio::net::UdpSocket;

/// A room system that speaks SIP from its own UDP socket.
pub struct Caller {
    pub sip: UdpSocket,
    pub call_id: String,
}

impl Caller {
    pub async fn new(call_id: &str) -> Self {
        Self {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            call_id: call_id.to_owned(),
        }
    }

    pub fn port(&self) -> u16 {
        self.sip.local_addr().unwrap().port()
    }

    pub async fn invite(&self, node: SocketAddr, user: &str) {
        let body = "v=0\r\no=vtc 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                    m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
                    m=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
                    a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n";
        let invite = format!(
            "INVITE sip:{user}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{id}\r\n\
             Max-Forwards: 70\r\nFrom: \"Room 4\" <sip:room@127.0.0.1>;tag=vtc1\r\n\
             To: <sip:{user}@127.0.0.1>\r\nCall-ID: {id}\r\nCSeq: 1 INVITE\r\n\
             Contact: <sip:room@127.0.0.1:{port}>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len(),
            port = self.port(),
            id = self.call_id,
        );
        self.sip.send_to(invite.as_bytes(), node).await.unwrap();
    }

    /// The next message within `limit`, or `None`.
    pub async fn message(&self, limit: Duration) -> Option<Message> {
        let mut buf = vec![0; 65_535];
        let (len, _) = tokio::time::timeout(limit, self.sip.recv_from(&mut buf))
            .await
            .ok()?
            .unwrap();
        Some(Message::parse(&buf[..len]).unwrap())
    }

    /// The next response other than 100, within `limit`.
    pub async fn response(&self, limit: Duration) -> Option<Response> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.message(left).await? {
                Message::Response(r) if r.status.code() != 100 => return Some(r),
                _ => {}
            }
        }
    }

    /// The next request, within `limit`.
    pub async fn request(&self, limit: Duration) -> Option<Request> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if let Message::Request(r) = self.message(left).await? {
                return Some(r);
            }
        }
    }

    pub fn in_dialog(&self, method: &str, cseq: u32, tag: &str, user: &str) -> String {
        format!(
            "{method} sip:tcn@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{method}{cseq}\r\n\
             Max-Forwards: 70\r\nFrom: \"Room 4\" <sip:room@127.0.0.1>;tag=vtc1\r\n\
             To: <sip:{user}@127.0.0.1>;tag={tag}\r\nCall-ID: {id}\r\n\
             CSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            port = self.port(),
            id = self.call_id,
        )
    }

    pub async fn ack(&self, node: SocketAddr, ok: &Response, user: &str) {
        let tag = ok.to().unwrap().tag().unwrap().to_owned();
        let ack = self.in_dialog("ACK", 1, &tag, user);
        self.sip.send_to(ack.as_bytes(), node).await.unwrap();
    }

    pub async fn reply(&self, request: &Request, node: SocketAddr) {
        let ok = request.response(signaling::sip::message::StatusCode::OK);
        self.sip.send_to(&ok.to_bytes(), node).await.unwrap();
    }
}

/// The port of the first `m=<media>` line in a message body (the node's RTP port in its
/// answer).
pub fn media_port(body: &[u8], media: &str) -> Option<u16> {
    let text = String::from_utf8_lossy(body);
    let prefix = format!("m={media} ");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|port| port.parse().ok())
}
