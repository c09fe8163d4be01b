//! What the accept loop knows of a connection and hands to each of its requests (as a request
//! extension): the peer's address, and the switch that closes the connection unanswered.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::Notify;

/// Per-connection facts handed to every request of the connection.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub peer: SocketAddr,
    /// Notified to close the connection without answering.
    pub kill: Arc<Notify>,
}

impl ConnectionInfo {
    /// Whether the peer is on loopback (the admin API answers no one else).
    pub fn is_loopback(&self) -> bool {
        self.peer.ip().is_loopback()
    }
}
