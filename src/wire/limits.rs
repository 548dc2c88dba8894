//! Every bound the wire applies to a peer, each with the monerod figure it matches or
//! deliberately differs from.
//!
//! Sources (monerod 0.18): `contrib/epee/include/net/levin_base.h`,
//! `src/cryptonote_basic/connection_context.cpp` (`get_max_bytes`),
//! `src/cryptonote_config.h`, `contrib/epee/include/storages/levin_abstract_invoke2.h`.

/// Largest packet before the handshake completes: monerod's
/// `LEVIN_INITIAL_MAX_PACKET_SIZE` (256 KiB).
pub const MAX_PACKET_BEFORE_HANDSHAKE: usize = 256 * 1024;

/// Largest packet after the handshake: monerod's `LEVIN_DEFAULT_MAX_PACKET_SIZE`
/// (100 000 000 bytes). Also bounds bytes buffered plus fragments being reassembled.
pub const MAX_PACKET: usize = 100_000_000;

/// `COMMAND_HANDSHAKE` body cap: 64 KiB, as monerod.
pub const MAX_HANDSHAKE_BYTES: usize = 65_536;
/// `COMMAND_TIMED_SYNC` body cap: 64 KiB, as monerod.
pub const MAX_TIMED_SYNC_BYTES: usize = 65_536;
/// `COMMAND_PING` body cap: 4 KiB, as monerod.
pub const MAX_PING_BYTES: usize = 4_096;
/// `COMMAND_REQUEST_SUPPORT_FLAGS` body cap: 4 KiB, as monerod.
pub const MAX_SUPPORT_FLAGS_BYTES: usize = 4_096;
/// `NOTIFY_NEW_BLOCK` body cap: 128 MiB, as monerod (the packet cap binds first).
pub const MAX_NEW_BLOCK_BYTES: usize = 128 * 1024 * 1024;
/// `NOTIFY_NEW_TRANSACTIONS` body cap: 128 MiB, as monerod.
pub const MAX_NEW_TRANSACTIONS_BYTES: usize = 128 * 1024 * 1024;
/// `NOTIFY_REQUEST_GET_OBJECTS` body cap: 2 MiB, as monerod.
pub const MAX_GET_OBJECTS_REQUEST_BYTES: usize = 2 * 1024 * 1024;
/// `NOTIFY_RESPONSE_GET_OBJECTS` body cap: 128 MiB, as monerod.
pub const MAX_GET_OBJECTS_RESPONSE_BYTES: usize = 128 * 1024 * 1024;
/// `NOTIFY_REQUEST_CHAIN` body cap: 512 KiB, as monerod.
pub const MAX_CHAIN_REQUEST_BYTES: usize = 512 * 1024;
/// `NOTIFY_RESPONSE_CHAIN_ENTRY` body cap: 4 MiB, as monerod.
pub const MAX_CHAIN_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// `NOTIFY_NEW_FLUFFY_BLOCK` body cap: 4 MiB, as monerod.
pub const MAX_FLUFFY_BLOCK_BYTES: usize = 4 * 1024 * 1024;
/// `NOTIFY_REQUEST_FLUFFY_MISSING_TX` body cap: 1 MiB, as monerod.
pub const MAX_FLUFFY_MISSING_TX_BYTES: usize = 1024 * 1024;
/// `NOTIFY_GET_TXPOOL_COMPLEMENT` body cap: 4 MiB, as monerod.
pub const MAX_TXPOOL_COMPLEMENT_BYTES: usize = 4 * 1024 * 1024;

/// Most fragments one message may arrive in. monerod sends at most
/// `CRYPTONOTE_MAX_FRAGMENTS` (20) fragments of `CRYPTONOTE_NOISE_BYTES` (3 KiB) and
/// bounds reassembly only by bytes (`MAX_PACKET`); we also bound the count, at 1024
/// (3 MiB of 3-KiB fragments, fifty times what monerod sends), so a peer cannot make us
/// walk millions of 1-byte fragments.
pub const MAX_FRAGMENTS_PER_MESSAGE: usize = 1024;

/// Peers in a handshake or timed-sync peer list: monerod's `P2P_MAX_PEERS_IN_HANDSHAKE`
/// (250). The codec decodes longer lists (bounded by the epee object limit); the net
/// node refuses them.
pub const MAX_PEERS_IN_HANDSHAKE: usize = 250;
