//! Every bound the RPC server puts on a client, each with the monerod figure it matches
//! or differs from (monerod 0.18: `contrib/epee/include/net/http_protocol_handler.inl`,
//! `abstract_tcp_server2.inl`, `src/cryptonote_config.h`, `src/rpc/core_rpc_server.cpp`).

use std::time::Duration;

/// Largest request body (monerod's `MAX_RPC_CONTENT_LENGTH`, 1 MB, set as the HTTP
/// server's `m_max_content_length`). A larger `Content-Length` is refused with 413
/// before any body byte is read; a body that grows past it is cut.
pub const MAX_RPC_CONTENT_LENGTH_BYTES: usize = 1_048_576;

/// Largest request head, request line and headers together (monerod's
/// `HTTP_MAX_HEADER_LEN`, 100,000 bytes).
pub const HTTP_MAX_HEADER_LEN_BYTES: usize = 100_000;

/// Most headers in one request. monerod has no count of its own (only the 100,000-byte
/// head bound above); 100 is hyper's default and ample for every RPC client.
pub const HTTP_MAX_HEADERS: usize = 100;

/// Most RPC connections open at once, over all shards (monerod 0.18.2's
/// `DEFAULT_RPC_MAX_CONNECTIONS`, 100; 0.18.0 had no bound). Beyond it a new connection
/// is closed at once.
pub const RPC_MAX_CONNECTIONS: usize = 100;

/// Most RPC connections open at once from one public IP (monerod 0.18.2's
/// `DEFAULT_RPC_MAX_CONNECTIONS_PER_PUBLIC_IP`; monerod also groups an IPv6 /64, xmrd
/// counts addresses).
pub const RPC_MAX_CONNECTIONS_PER_PUBLIC_IP: usize = 3;
/// Most RPC connections open at once from one loopback or private IP (monerod 0.18.2's
/// `DEFAULT_RPC_MAX_CONNECTIONS_PER_PRIVATE_IP`).
pub const RPC_MAX_CONNECTIONS_PER_PRIVATE_IP: usize = 25;

/// How long a new connection may take to send its first request (monerod's
/// `NEW_CONNECTION_TIMEOUT_REMOTE`, 10 s; it allows loopback clients 2 minutes).
pub const NEW_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a kept-alive connection may stay idle between requests (monerod's
/// `DEFAULT_TIMEOUT_MS_REMOTE`, 5 minutes; 30 minutes for loopback clients).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(300);

/// Longest one request may take from its first byte to its answer. monerod bounds only
/// idle time; a wallet's largest call (`/getblocks.bin` of 1,000 blocks) answers in
/// well under a second from this store.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Most blocks one `/getblocks.bin` answer carries (`COMMAND_RPC_GET_BLOCKS_FAST_MAX_BLOCK_COUNT`).
pub const GET_BLOCKS_FAST_MAX_BLOCK_COUNT: usize = 1000;
/// Most transactions one `/getblocks.bin` answer carries, at least one block's worth
/// (`COMMAND_RPC_GET_BLOCKS_FAST_MAX_TX_COUNT`).
pub const GET_BLOCKS_FAST_MAX_TX_COUNT: usize = 20_000;
/// Fewest blocks a `/getblocks.bin` answer carries when the chain has them, whatever
/// the size bounds (the `min_block_count` of 3 `find_blockchain_supplement` passes).
pub const GET_BLOCKS_MIN_BLOCK_COUNT: usize = 3;
/// Most bytes of blocks and transactions one `/getblocks.bin` answer carries
/// (`FIND_BLOCKCHAIN_SUPPLEMENT_MAX_SIZE`, 100 MB).
pub const FIND_BLOCKCHAIN_SUPPLEMENT_MAX_SIZE_BYTES: usize = 100 * 1024 * 1024;
/// Most ids one `/gethashes.bin` answer carries (`BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT`).
pub const BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT: u64 = 25_000;

/// Restricted RPC: most heights in one `/getblocks_by_height.bin` and hashes in one
/// `get_block` batch (`RESTRICTED_BLOCK_COUNT`).
pub const RESTRICTED_BLOCK_COUNT: usize = 1000;
/// Restricted RPC: widest `get_block_headers_range` (`RESTRICTED_BLOCK_HEADER_RANGE`).
pub const RESTRICTED_BLOCK_HEADER_RANGE: u64 = 1000;
/// Restricted RPC: most transactions in one `/gettransactions` (`RESTRICTED_TRANSACTIONS_COUNT`).
pub const RESTRICTED_TRANSACTIONS_COUNT: usize = 100;
/// Restricted RPC: most key images in one `/is_key_image_spent`
/// (`RESTRICTED_SPENT_KEY_IMAGES_COUNT`).
pub const RESTRICTED_SPENT_KEY_IMAGES_COUNT: usize = 5000;
/// Restricted RPC: most outputs in one `/get_outs(.bin)` (`MAX_RESTRICTED_GLOBAL_FAKE_OUTS_COUNT`).
pub const MAX_RESTRICTED_GLOBAL_FAKE_OUTS_COUNT: usize = 5000;

/// Unrestricted bounds xmrd adds where monerod has none, so that one request cannot
/// make the node read without end: heights per `/getblocks_by_height.bin`, headers per
/// `get_block_headers_range`, transactions per `/gettransactions`, key images per
/// `/is_key_image_spent`, outputs per `/get_outs(.bin)`. Each is ten times the restricted
/// figure; monerod's own bound here is the 1 MB request body.
pub const UNRESTRICTED_FACTOR: usize = 10;

/// How long an RPC call waits for the sync thread (pool queries, submitted
/// transactions and blocks) before answering `BUSY`.
pub const SYNC_THREAD_REPLY_TIMEOUT: Duration = Duration::from_secs(30);
