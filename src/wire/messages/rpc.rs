//! The daemon RPC's portable-storage (`.bin`) requests and answers, as monerod 0.18's
//! `core_rpc_server_commands_defs.h` declares them: field names, types and the
//! `KV_SERIALIZE_OPT` defaults. The paid-RPC fields (`client`, `credits`, `top_hash`)
//! are kept on answers (always 0 and empty, as monerod without payments writes them) and
//! ignored on requests. Fields are listed in name order, the order monerod writes.

use bytes::Bytes;

use super::BlockCompleteEntry;
use crate::epee_object;
use crate::wire::epee::{Hashes, U64Array, U64s};

epee_object! {
    /// `COMMAND_RPC_GET_BLOCKS_FAST::request` (`client`, for paid RPC, is ignored). The
    /// pool fields are 0.18.2's; a 0.18.0 wallet leaves them out.
    pub struct GetBlocksRequest {
        /// Sparse chain history, newest first, genesis last.
        block_ids: seq(Hashes) = "block_ids",
        /// At most this many blocks (0: the server's bound).
        max_block_count: opt(u64, 0) = "max_block_count",
        /// Leave out the miner transactions' output indices placeholder.
        no_miner_tx: dflt(bool, false) = "no_miner_tx",
        /// Pool changes since this time (0: the whole pool).
        pool_info_since: opt(u64, 0) = "pool_info_since",
        /// Pruned transactions.
        prune: dflt(bool, false) = "prune",
        /// `BLOCKS_ONLY` (0), `BLOCKS_AND_POOL` (1) or `POOL_ONLY` (2).
        requested_info: opt(u8, 0) = "requested_info",
        /// Start here instead of at the history's split point (when > 0).
        start_height: dflt(u64, 0) = "start_height",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_BLOCKS_FAST::pool_tx_info`.
    pub struct PoolTxInfo {
        /// Whether a double spend of it was seen.
        double_spend_seen: req(bool) = "double_spend_seen",
        /// Its blob (pruned when the request asked for pruned).
        tx_blob: req(Bytes) = "tx_blob",
        /// Its id.
        tx_hash: req([u8; 32]) = "tx_hash",
    }
}

epee_object! {
    /// `tx_output_indices`.
    pub struct TxOutputIndices {
        /// Global output indices of one transaction.
        indices: seq(U64Array) = "indices",
    }
}

epee_object! {
    /// `block_output_indices`.
    pub struct BlockOutputIndices {
        /// One entry per transaction, miner transaction first.
        indices: seq(Vec<TxOutputIndices>) = "indices",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_BLOCKS_FAST::response` (with 0.18.2's pool fields, written only
    /// when asked for).
    pub struct GetBlocksResponse {
        /// Pooled transactions added (all of them: `FULL`).
        added_pool_txs: seq(Vec<PoolTxInfo>) = "added_pool_txs",
        /// The blocks.
        blocks: seq(Vec<BlockCompleteEntry>) = "blocks",
        /// Paid RPC credits (always 0).
        credits: req(u64) = "credits",
        /// Our chain height.
        current_height: req(u64) = "current_height",
        /// Our clock, for the next `pool_info_since`.
        daemon_time: opt(u64, 0) = "daemon_time",
        /// Output indices per block.
        output_indices: seq(Vec<BlockOutputIndices>) = "output_indices",
        /// `NONE` (0), `INCREMENTAL` (1) or `FULL` (2).
        pool_info_extent: opt(u8, 0) = "pool_info_extent",
        /// Pooled ids beyond the answer's transaction bound.
        remaining_added_pool_txids: seq(Hashes) = "remaining_added_pool_txids",
        /// Ids that left the pool (incremental answers only).
        removed_pool_txids: seq(Hashes) = "removed_pool_txids",
        /// Height of the first block.
        start_height: req(u64) = "start_height",
        /// Status.
        status: req(Bytes) = "status",
        /// Paid RPC top hash (always empty).
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_BLOCKS_BY_HEIGHT::request`.
    pub struct GetBlocksByHeightRequest {
        /// Heights.
        heights: seq(U64Array) = "heights",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_BLOCKS_BY_HEIGHT::response`.
    pub struct GetBlocksByHeightResponse {
        /// The blocks.
        blocks: seq(Vec<BlockCompleteEntry>) = "blocks",
        /// Always 0.
        credits: req(u64) = "credits",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_HASHES_FAST::request`.
    pub struct GetHashesRequest {
        /// Sparse chain history.
        block_ids: seq(Hashes) = "block_ids",
        /// Unused by monerod's handler beyond the request.
        start_height: dflt(u64, 0) = "start_height",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_HASHES_FAST::response`.
    pub struct GetHashesResponse {
        /// Always 0.
        credits: req(u64) = "credits",
        /// Our chain height.
        current_height: req(u64) = "current_height",
        /// Block ids from the split point.
        m_block_ids: seq(Hashes) = "m_block_ids",
        /// Height of the first id.
        start_height: req(u64) = "start_height",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_TX_GLOBAL_OUTPUTS_INDEXES::request`.
    pub struct GetOIndexesRequest {
        /// The transaction.
        txid: dflt([u8; 32], [0; 32]) = "txid",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_TX_GLOBAL_OUTPUTS_INDEXES::response`.
    pub struct GetOIndexesResponse {
        /// Always 0.
        credits: req(u64) = "credits",
        /// Global indices of its outputs.
        o_indexes: seq(U64Array) = "o_indexes",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `get_outputs_out`.
    pub struct GetOutputsOut {
        /// Amount (0: RingCT).
        amount: dflt(u64, 0) = "amount",
        /// Global index within the amount.
        index: dflt(u64, 0) = "index",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUTS_BIN::request`.
    pub struct GetOutsRequest {
        /// Whether to fill `txid` (default true).
        get_txid: dflt(bool, true) = "get_txid",
        /// The outputs.
        outputs: seq(Vec<GetOutputsOut>) = "outputs",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUTS_BIN::outkey`.
    pub struct OutKey {
        /// Block height of its transaction.
        height: req(u64) = "height",
        /// One-time key.
        key: req([u8; 32]) = "key",
        /// Commitment.
        mask: req([u8; 32]) = "mask",
        /// Its transaction (zero unless asked).
        txid: req([u8; 32]) = "txid",
        /// Whether its unlock time has passed.
        unlocked: req(bool) = "unlocked",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUTS_BIN::response`.
    pub struct GetOutsResponse {
        /// Always 0.
        credits: req(u64) = "credits",
        /// The outputs, in request order.
        outs: seq(Vec<OutKey>) = "outs",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUT_DISTRIBUTION::request`.
    pub struct GetOutputDistributionRequest {
        /// Amounts (0: RingCT).
        amounts: seq(U64Array) = "amounts",
        /// Binary form (default true).
        binary: dflt(bool, true) = "binary",
        /// Varint-compressed (binary only).
        compress: dflt(bool, false) = "compress",
        /// Running totals instead of per-block counts.
        cumulative: dflt(bool, false) = "cumulative",
        /// First height.
        from_height: dflt(u64, 0) = "from_height",
        /// Last height (0: the top).
        to_height: dflt(u64, 0) = "to_height",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUT_DISTRIBUTION::distribution`, binary form.
    pub struct Distribution {
        /// The amount.
        amount: req(u64) = "amount",
        /// Outputs before `start_height`.
        base: req(u64) = "base",
        /// Always true here.
        binary: req(bool) = "binary",
        /// Whether `compressed_data` is used.
        compress: req(bool) = "compress",
        /// Varint-packed distribution (when `compress`).
        compressed_data: opt(Bytes, Bytes::new()) = "compressed_data",
        /// u64s as one blob (when not `compress`).
        distribution: opt(U64s, U64s::default()) = "distribution",
        /// First height covered.
        start_height: req(u64) = "start_height",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_OUTPUT_DISTRIBUTION::response`.
    pub struct GetOutputDistributionResponse {
        /// Always 0.
        credits: req(u64) = "credits",
        /// One per amount.
        distributions: seq(Vec<Distribution>) = "distributions",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}

epee_object! {
    /// `COMMAND_RPC_GET_TRANSACTION_POOL_HASHES_BIN::response`.
    pub struct PoolHashesResponse {
        /// Always 0.
        credits: req(u64) = "credits",
        /// Status.
        status: req(Bytes) = "status",
        /// Always empty.
        top_hash: req(Bytes) = "top_hash",
        /// The pooled ids.
        tx_hashes: seq(Hashes) = "tx_hashes",
        /// Always false.
        untrusted: req(bool) = "untrusted",
    }
}
