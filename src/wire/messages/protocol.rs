//! The cryptonote protocol messages (2000s): blocks, transactions, chain requests.
//! Field rules mirror `src/cryptonote_protocol/cryptonote_protocol_defs.h` (monerod
//! 0.18). Block and transaction blobs stay opaque byte slices here: parsing them is
//! consensus's job.

use bytes::Bytes;

use crate::epee_object;
use crate::wire::epee::{
    EpeeError, EpeeValue, Hashes, Reader, Result, Writer, FLAG_ARRAY, TYPE_OBJECT, TYPE_STRING,
};

epee_object! {
    /// `tx_blob_entry`: a pruned transaction and the hash of its prunable part.
    pub struct TxBlobEntry {
        /// The (pruned) transaction blob.
        blob: req(Bytes) = "blob",
        /// Hash of the pruned-away part.
        prunable_hash: req([u8; 32]) = "prunable_hash",
    }
}

/// The transactions of a `block_complete_entry`: plain blobs, or with `pruned` set,
/// `tx_blob_entry` objects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BlockTxs {
    /// Full transaction blobs (an array of strings).
    Full(Vec<Bytes>),
    /// Pruned transactions (an array of objects).
    Pruned(Vec<TxBlobEntry>),
}

impl Default for BlockTxs {
    fn default() -> Self {
        BlockTxs::Full(Vec::new())
    }
}

impl BlockTxs {
    /// How many transactions.
    pub fn len(&self) -> usize {
        match self {
            BlockTxs::Full(v) => v.len(),
            BlockTxs::Pruned(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The transaction blobs, whichever the form.
    pub fn blobs(&self) -> impl Iterator<Item = &Bytes> {
        let (full, pruned) = match self {
            BlockTxs::Full(v) => (Some(v.iter()), None),
            BlockTxs::Pruned(v) => (None, Some(v.iter().map(|e| &e.blob))),
        };
        full.into_iter()
            .flatten()
            .chain(pruned.into_iter().flatten())
    }
}

impl EpeeValue for BlockTxs {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        match marker {
            m if m == TYPE_STRING | FLAG_ARRAY => Ok(BlockTxs::Full(Vec::read(r, m, field)?)),
            m if m == TYPE_OBJECT | FLAG_ARRAY => Ok(BlockTxs::Pruned(Vec::read(r, m, field)?)),
            found => Err(EpeeError::WrongType { field, found }),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            BlockTxs::Full(v) => v.write(w),
            BlockTxs::Pruned(v) => v.write(w),
        }
    }
    fn is_empty_seq(&self) -> bool {
        self.is_empty()
    }
}

epee_object! {
    /// `block_complete_entry`: a block blob and its transactions.
    pub struct BlockCompleteEntry {
        /// The block blob.
        block: req(Bytes) = "block",
        /// The block weight (sent with pruned blocks).
        block_weight: opt(u64, 0) = "block_weight",
        /// Whether `txs` are pruned `tx_blob_entry`s.
        pruned: opt(bool, false) = "pruned",
        /// The transactions, left out when none.
        txs: seq(BlockTxs) = "txs",
    }
}

impl BlockCompleteEntry {
    /// Whether `pruned` says the transactions are pruned.
    pub fn is_pruned(&self) -> bool {
        self.pruned.unwrap_or(false)
    }

    /// monerod reads `txs` as strings unless `pruned`, as objects if it is; any other
    /// pairing is refused.
    pub fn validate(&self) -> Result<()> {
        match (&self.txs, self.is_pruned()) {
            (BlockTxs::Pruned(v), false) if !v.is_empty() => {
                Err(EpeeError::Invalid("pruned txs in an unpruned block entry"))
            }
            (BlockTxs::Full(v), true) if !v.is_empty() => {
                Err(EpeeError::Invalid("full txs in a pruned block entry"))
            }
            _ => Ok(()),
        }
    }
}

epee_object! {
    /// `NOTIFY_NEW_BLOCK` (2001): a whole block with its transactions.
    pub struct NewBlock {
        /// The block.
        b: req(BlockCompleteEntry) = "b",
        /// The sender's chain height.
        current_blockchain_height: req(u64) = "current_blockchain_height",
    }
}

epee_object! {
    /// `NOTIFY_NEW_TRANSACTIONS` (2002).
    pub struct NewTransactions {
        /// Padding to hide the size of the payload (monerod always writes it).
        padding: dflt(Bytes, Bytes::new()) = "_",
        /// `false` for a Dandelion++ stem relay; left out when `true` (fluff).
        dandelionpp_fluff: opt(bool, true) = "dandelionpp_fluff",
        /// Transaction blobs, left out when none.
        txs: seq(Vec<Bytes>) = "txs",
    }
}

impl NewTransactions {
    /// Whether this is a fluff (not a stem) relay; absent means fluff.
    pub fn is_fluff(&self) -> bool {
        self.dandelionpp_fluff.unwrap_or(true)
    }
}

epee_object! {
    /// `NOTIFY_REQUEST_GET_OBJECTS` (2003).
    pub struct GetObjectsRequest {
        /// Ids of the blocks wanted.
        blocks: seq(Hashes) = "blocks",
        /// Whether pruned blocks are wanted.
        prune: opt(bool, false) = "prune",
    }
}

epee_object! {
    /// `NOTIFY_RESPONSE_GET_OBJECTS` (2004).
    pub struct GetObjectsResponse {
        /// The blocks, in the order asked.
        blocks: seq(Vec<BlockCompleteEntry>) = "blocks",
        /// The sender's chain height.
        current_blockchain_height: req(u64) = "current_blockchain_height",
        /// Ids the sender does not have.
        missed_ids: seq(Hashes) = "missed_ids",
    }
}

epee_object! {
    /// `NOTIFY_REQUEST_CHAIN` (2006): a sparse chain history.
    pub struct ChainRequest {
        /// Block ids: ten sequential from the top, then exponentially spaced, then genesis.
        block_ids: seq(Hashes) = "block_ids",
        /// Whether pruned data is wanted.
        prune: opt(bool, false) = "prune",
    }
}

epee_object! {
    /// `NOTIFY_RESPONSE_CHAIN_ENTRY` (2007).
    pub struct ChainResponse {
        /// Low 64 bits of the sender's cumulative difficulty.
        cumulative_difficulty: req(u64) = "cumulative_difficulty",
        /// High 64 bits (always written by monerod, optional when read).
        cumulative_difficulty_top64: dflt(u64, 0) = "cumulative_difficulty_top64",
        /// The first block's blob, when asked pruned.
        first_block: dflt(Bytes, Bytes::new()) = "first_block",
        /// The block ids from `start_height` on.
        m_block_ids: seq(Hashes) = "m_block_ids",
        /// Their weights, when sent.
        m_block_weights: seq(crate::wire::epee::U64s) = "m_block_weights",
        /// Height of the first id.
        start_height: req(u64) = "start_height",
        /// The sender's chain height.
        total_height: req(u64) = "total_height",
    }
}

epee_object! {
    /// `NOTIFY_NEW_FLUFFY_BLOCK` (2008): a block with only the transactions the
    /// receiver is unlikely to have.
    pub struct NewFluffyBlock {
        /// The block.
        b: req(BlockCompleteEntry) = "b",
        /// The sender's chain height.
        current_blockchain_height: req(u64) = "current_blockchain_height",
    }
}

epee_object! {
    /// `NOTIFY_REQUEST_FLUFFY_MISSING_TX` (2009).
    pub struct FluffyMissingTxRequest {
        /// The fluffy block's id.
        block_hash: req([u8; 32]) = "block_hash",
        /// The requester's chain height.
        current_blockchain_height: req(u64) = "current_blockchain_height",
        /// Indices (in the block's tx list) of the transactions wanted.
        missing_tx_indices: seq(crate::wire::epee::U64s) = "missing_tx_indices",
    }
}

epee_object! {
    /// `NOTIFY_GET_TXPOOL_COMPLEMENT` (2010).
    pub struct GetTxPoolComplement {
        /// Hashes of the transactions the requester already has.
        hashes: seq(Hashes) = "hashes",
    }
}
