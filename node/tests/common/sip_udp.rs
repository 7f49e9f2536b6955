//! Reading SIP over a test's own UDP socket.

use std::time::Duration;

use signaling::sip::message::{Message, Response};
use tokio::net::UdpSocket;

/// The next final or provisional response other than 100 Trying, within 5 s each.
pub async fn next_response(socket: &UdpSocket) -> Response {
    let mut buf = vec![0; 65_535];
    loop {
        let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .expect("a response within 5 s")
            .unwrap();
        let Message::Response(response) = Message::parse(&buf[..len]).unwrap() else {
            panic!("a response");
        };
        if response.status.code() != 100 {
            return response;
        }
    }
}
