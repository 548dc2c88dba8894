//! Timing and size bounds of the net node, each with the monerod figure it matches
//! (`src/cryptonote_config.h`, `src/p2p/net_node.inl`).

use std::time::Duration;

/// `P2P_DEFAULT_CONNECTION_TIMEOUT`: a TCP connect must finish within 5 s.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// `P2P_DEFAULT_HANDSHAKE_INVOKE_TIMEOUT`: the handshake must finish within 5 s, both
/// ways (an inbound peer that does not send its handshake in time is dropped).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// `P2P_DEFAULT_INVOKE_TIMEOUT`: any other invoke must be answered within 2 min.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(120);
/// `P2P_DEFAULT_PING_CONNECTION_TIMEOUT`: a back-ping must be answered within 2 s.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// `P2P_DEFAULT_HANDSHAKE_INTERVAL`: a timed sync every 60 s on every connection.
pub const TIMED_SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// Nothing received for 240 s closes the connection: monerod's `IDLE_PEER_KICK_TIME`
/// (240 s, `cryptonote_protocol_handler.inl`). With timed syncs every minute both ways,
/// a live peer never gets near it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(240);
/// `P2P_MAX_PEERS_IN_HANDSHAKE`: longest peer list accepted or sent.
pub const MAX_PEERS_IN_HANDSHAKE: usize = crate::wire::limits::MAX_PEERS_IN_HANDSHAKE;
/// `P2P_SUPPORT_FLAGS`: we support fluffy blocks.
pub const SUPPORT_FLAGS: u32 = 1;
/// `P2P_IP_FAILS_BEFORE_BLOCK`: more failures than this ban the host.
pub const FAILS_BEFORE_BAN: u32 = 10;
/// `P2P_IP_BLOCKTIME`: a ban lasts 24 h.
pub const BAN_DURATION: Duration = Duration::from_secs(24 * 60 * 60);
/// Invokes we may have in flight on one connection (handshake or timed sync, support
/// flags, ping). A peer cannot raise it: it only counts our own requests.
pub const MAX_INVOKES_IN_FLIGHT: usize = 4;
/// Bytes queued for sending before the connection is considered stuck and dropped.
/// monerod bounds its send queue by count (`m_send_que` of 1000 buffers); we bound by
/// bytes so that one slow reader cannot hold a large response set.
pub const MAX_QUEUED_SEND_BYTES: usize = 256 * 1024 * 1024;
