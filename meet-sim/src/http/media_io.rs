//! The media plane's I/O: the one UDP socket, and the timer that drives str0m. The plane
//! lives in the shared state, under the same lock as the model, so a datagram's effects
//! (a data-channel message, a speaker change) reach the model at once.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::state::Shared;
use crate::media::Datagram;

/// Receives, drives and sends until the task is aborted. Send errors are dropped (a peer
/// that went away); a receive error other than a transient one ends the task.
pub(super) async fn run(socket: UdpSocket, shared: Arc<Shared>) -> io::Result<()> {
    let mut buf = vec![0u8; 2048];
    loop {
        let deadline = shared.lock().media.poll_timeout(Instant::now());
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let outgoing = tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, source)) => pump(&shared, |core| {
                    if !core.model.faults().blackhole_media {
                        core.media.handle_datagram(source, &buf[..n], Instant::now());
                    }
                }),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Vec::new(),
                Err(e) => return Err(e),
            },
            () = tokio::time::sleep(wait) => pump(&shared, |core| {
                core.media.handle_timeout(Instant::now());
            }),
            () = shared.wake.notified() => pump(&shared, |_| {}),
        };
        for datagram in outgoing {
            let _ = socket
                .send_to(&datagram.contents, datagram.destination)
                .await;
        }
    }
}

/// Runs `f` on the locked state, lets its effects reach the model, and takes the datagrams
/// to send.
fn pump(shared: &Shared, f: impl FnOnce(&mut super::state::Core)) -> Vec<Datagram> {
    let mut core = shared.lock();
    f(&mut core);
    let now = core.clock.now();
    core.drain(now);
    let blackhole = core.model.faults().blackhole_media;
    let outgoing: Vec<Datagram> = std::iter::from_fn(|| core.media.poll_datagram()).collect();
    // Made and dropped under `blackholeMedia`: the peers hear nothing, as from a simulator
    // that is gone.
    if blackhole { Vec::new() } else { outgoing }
}
