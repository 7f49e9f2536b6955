//! Unix signals as futures: SIGTERM/SIGINT end the node, SIGHUP reloads it.

use std::future::Future;
use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Installs SIGTERM and SIGINT handlers now and returns a future that resolves on the first of
/// them. Install it before the node starts so that no early signal kills the process.
pub fn terminate() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}

pub(crate) fn hangup() -> io::Result<Signal> {
    signal(SignalKind::hangup())
}
