//! Why a peer was dropped, and what it costs the peer.

use crate::wire::levin::{Command, LevinError};
use crate::wire::messages::MessageError;

/// A reason to drop a connection. Every variant is a rule of the protocol (or of
/// monerod's net node) that the peer broke, or a timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerFault {
    /// The byte stream does not frame (bad signature, over a size cap, bad header).
    #[error("levin framing: {0}")]
    Framing(#[from] LevinError),
    /// A body that does not decode as its command's message.
    #[error("undecodable message: {0}")]
    Undecodable(#[from] MessageError),
    /// Anything but the handshake before the handshake completed.
    #[error("{0:?} before the handshake")]
    BeforeHandshake(Command),
    /// A handshake request on a connection that already handshook
    /// (monerod: "double COMMAND_HANDSHAKE").
    #[error("second handshake")]
    SecondHandshake,
    /// A handshake request on a connection we opened
    /// (monerod: "COMMAND_HANDSHAKE came not from incoming connection").
    #[error("handshake request on an outbound connection")]
    HandshakeOnOutbound,
    /// A response to an invoke we did not make, or of another command than the one
    /// awaited.
    #[error("response to command {0} that was not asked for")]
    UnexpectedResponse(u32),
    /// A notification with a command no protocol defines (monerod closes on these).
    #[error("unknown notification {0}")]
    UnknownNotification(u32),
    /// The peer answered our invoke with an error code.
    #[error("{command:?} answered with error {code}")]
    ErrorResponse {
        /// The command.
        command: Command,
        /// The levin return code.
        code: i32,
    },
    /// Another network's id (monerod: "WRONG NETWORK AGENT CONNECTED!").
    #[error("wrong network id")]
    WrongNetwork,
    /// A peer list longer than `P2P_MAX_PEERS_IN_HANDSHAKE` (monerod: "considered spamming").
    #[error("peer list of {0} entries")]
    TooManyPeers(usize),
    /// We connected to ourselves (same peer id).
    #[error("connection to self")]
    SelfConnection,
    /// The handshake did not complete in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// An invoke was not answered in time.
    #[error("{0:?} not answered in time")]
    InvokeTimeout(Command),
    /// Nothing received for too long.
    #[error("idle for too long")]
    Idle,
    /// The cryptonote protocol layer (sync, relay) found the peer breaking its rules.
    #[error("{reason}")]
    Protocol {
        /// What it did.
        reason: String,
        /// The ban score the protocol layer gives it.
        score: u32,
    },
}

impl PeerFault {
    /// How many failures this adds to the peer's host (monerod's `add_host_fail`):
    /// more than `FAILS_BEFORE_BAN` failures ban the host. Exhaustive by design, so a
    /// new fault must be scored.
    pub fn score(&self) -> u32 {
        match self {
            PeerFault::Protocol { score, .. } => *score,
            // monerod adds a failure for these.
            PeerFault::WrongNetwork
            | PeerFault::TooManyPeers(_)
            | PeerFault::HandshakeOnOutbound => 1,
            // monerod just closes on these; we count them too, since a peer that breaks
            // framing or sends garbage is not a peer we want back soon.
            PeerFault::Framing(_)
            | PeerFault::Undecodable(_)
            | PeerFault::BeforeHandshake(_)
            | PeerFault::SecondHandshake
            | PeerFault::UnexpectedResponse(_)
            | PeerFault::UnknownNotification(_) => 1,
            // Not misbehaviour.
            PeerFault::ErrorResponse { .. }
            | PeerFault::SelfConnection
            | PeerFault::HandshakeTimeout
            | PeerFault::InvokeTimeout(_)
            | PeerFault::Idle => 0,
        }
    }
}
