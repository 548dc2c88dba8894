//! What the node hands the store ([`BlockWrite`]) and what readers get back. Plain data:
//! the store never parses a Monero blob, so everything it indexes (hashes, outputs, key
//! images, metadata) comes already extracted in these structs.

/// A 32-byte hash (block id, transaction id).
pub type Hash = [u8; 32];
/// A key image: spending it twice is what the store refuses.
pub type KeyImage = [u8; 32];

/// Per-block chain metadata, as monerod's `block_info` keeps it (plus the cumulative
/// RingCT output count, which the store fills in itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockMeta {
    /// Cumulative difficulty up to and including this block.
    pub cumulative_difficulty: u128,
    /// Block weight.
    pub weight: u64,
    /// Long-term block weight.
    pub long_term_weight: u64,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// Total coins generated up to and including this block (atomic units).
    pub coins_generated: u64,
    /// Major hard-fork version of the block.
    pub hard_fork_version: u8,
}

/// How an output is indexed, as monerod indexes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputKind {
    /// A RingCT output (amount 0 in monerod's tables, including RingCT-era coinbase
    /// outputs): indexed by its global RingCT index.
    RingCt,
    /// A pre-RingCT output: indexed by (amount, index among outputs of that amount).
    PreRingCt {
        /// The clear amount (atomic units).
        amount: u64,
    },
}

/// One output of a transaction to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputWrite {
    /// How it is indexed.
    pub kind: OutputKind,
    /// The one-time output key.
    pub key: [u8; 32],
    /// The amount commitment (for pre-RingCT outputs, the node's zero-mask commitment).
    pub commitment: [u8; 32],
}

/// One transaction of a block to store, in block order (the miner transaction first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxWrite {
    /// Transaction hash.
    pub hash: Hash,
    /// The pruned part (prefix and RingCT base): kept forever.
    pub pruned: Vec<u8>,
    /// The prunable part (signatures, range proofs): a separate column family, so that
    /// pruning is dropping it. Empty for transactions that have none.
    pub prunable: Vec<u8>,
    /// The transaction's unlock time, copied into each of its outputs.
    pub unlock_time: u64,
    /// Outputs in transaction order.
    pub outputs: Vec<OutputWrite>,
    /// Key images of its inputs (none for the miner transaction).
    pub key_images: Vec<KeyImage>,
}

/// One block to store, as the node has parsed and checked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockWrite {
    /// Block hash.
    pub hash: Hash,
    /// Previous block's hash: must be the store's top hash (any value for the first block).
    pub prev_hash: Hash,
    /// The serialized block header.
    pub header: Vec<u8>,
    /// The whole block blob (header, miner transaction, transaction hashes).
    pub blob: Vec<u8>,
    /// Chain metadata.
    pub meta: BlockMeta,
    /// Transactions, miner transaction first.
    pub txs: Vec<TxWrite>,
}

impl BlockWrite {
    /// Bytes of blobs this block puts on disk before compression (block, header, txs).
    pub fn blob_bytes(&self) -> usize {
        self.blob.len()
            + self.header.len()
            + self
                .txs
                .iter()
                .map(|t| t.pruned.len() + t.prunable.len())
                .sum::<usize>()
    }
}

/// The read view the committer publishes after each commit: what the chain's top is.
/// Readers load it lock-free; it never runs ahead of what is on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadView {
    /// Number of blocks (monerod's `get_info` "height": top height + 1). 0 when empty.
    pub block_count: u64,
    /// Hash of the top block (zeros when empty).
    pub top_hash: Hash,
    /// Cumulative difficulty at the top.
    pub cumulative_difficulty: u128,
    /// RingCT outputs in the chain (the next global RingCT index).
    pub rct_outputs: u64,
}

impl ReadView {
    /// Height of the top block, `None` for an empty chain.
    pub fn top_height(&self) -> Option<u64> {
        self.block_count.checked_sub(1)
    }
}

/// Where a transaction sits: block height and index in the block (miner tx = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Index in the block, miner transaction 0.
    pub index: u32,
}

/// A stored output, found by its global index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputRecord {
    /// The one-time output key.
    pub key: [u8; 32],
    /// The amount commitment.
    pub commitment: [u8; 32],
    /// Unlock time of its transaction.
    pub unlock_time: u64,
    /// Its transaction (whose height is the output's height).
    pub tx: TxLocation,
    /// Index of the output within its transaction.
    pub local_index: u32,
}

/// The global index an output was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputIndex {
    /// Global RingCT index.
    RingCt(u64),
    /// (amount, index among outputs of that amount).
    PreRingCt {
        /// The clear amount.
        amount: u64,
        /// Index among outputs of that amount.
        index: u64,
    },
}

/// A stored transaction's index record: what popping it must undo and what monerod's
/// `get_o_indexes` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// Transaction hash.
    pub hash: Hash,
    /// Unlock time.
    pub unlock_time: u64,
    /// Global indices of its outputs, in output order.
    pub outputs: Vec<OutputIndex>,
    /// Key images it spent.
    pub key_images: Vec<KeyImage>,
}

/// A stored transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTx {
    /// Where it is.
    pub location: TxLocation,
    /// Its index record.
    pub record: TxRecord,
    /// Pruned part.
    pub pruned: Vec<u8>,
    /// Prunable part (`None` once pruned away).
    pub prunable: Option<Vec<u8>>,
}

/// A stored block with its metadata (transactions are read separately).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub hash: Hash,
    /// Previous block's hash.
    pub prev_hash: Hash,
    /// Serialized header.
    pub header: Vec<u8>,
    /// Block blob.
    pub blob: Vec<u8>,
    /// Metadata as given, plus the cumulative RingCT output count after this block.
    pub meta: BlockMeta,
    /// RingCT outputs in the chain up to and including this block.
    pub cumulative_rct_outputs: u64,
    /// Number of transactions, miner transaction included.
    pub tx_count: u32,
}

/// An alternative block (not on the main chain), kept for reorgs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AltBlock {
    /// Height it would have on its chain.
    pub height: u64,
    /// Its metadata.
    pub meta: BlockMeta,
    /// Block blob.
    pub blob: Vec<u8>,
    /// Transaction blobs (whole), in block order.
    pub txs: Vec<Vec<u8>>,
}
