//! Checks of what a peer sends during sync, as monerod's `handle_response_chain_entry`
//! and `handle_response_get_objects` (`src/cryptonote_protocol/cryptonote_protocol_handler.inl`)
//! make them: every deviation is a named [`SyncFault`] and the peer is dropped.

use monero_oxide::block::Block;
use thiserror::Error;

use crate::consensus::constants::CRYPTONOTE_MAX_BLOCK_NUMBER;
use crate::verify::SpanBlock;
use crate::wire::messages::{BlockTxs, ChainResponse, GetObjectsResponse};

/// `BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT`: most ids a chain entry may carry (monerod drops
/// a peer sending more).
pub const BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT: usize = 25_000;

/// Why a sync peer is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncFault {
    /// A chain entry or objects response nobody asked for.
    #[error("unrequested {0}")]
    Unrequested(&'static str),
    /// The chain entry's heights do not add up or exceed the limits.
    #[error("invalid chain entry: {0}")]
    BadChainEntry(&'static str),
    /// The first id of a chain entry is not in our chain at its height.
    #[error("chain entry starts at a block we do not have")]
    UnknownFirstBlock,
    /// A block of the response is not the one asked for at that position.
    #[error("objects response: {0}")]
    BadObjects(&'static str),
    /// A block it sent failed verification.
    #[error("sent a block that fails verification: {0}")]
    InvalidBlock(String),
    /// A transaction it relayed fails verification.
    #[error("relayed a transaction that fails verification: {0}")]
    InvalidTx(String),
    /// It did not answer within the time allowed.
    #[error("did not answer a sync request in time")]
    Stalled,
}

impl SyncFault {
    /// Ban score as monerod's `drop_connection(.., add_fail = true)` (1) or
    /// `drop_connection_with_score(.., 5)`; invalid blocks ban outright (monerod's
    /// `m_block_verification_failed` path adds a fail and blocks the host).
    pub fn score(&self) -> u32 {
        match self {
            SyncFault::UnknownFirstBlock => 5,
            SyncFault::BadChainEntry("names a block known to be invalid") => 10,
            SyncFault::InvalidBlock(_) => 10,
            SyncFault::Stalled => 0,
            _ => 1,
        }
    }
}

/// A chain entry that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// Height of the first id (a block we have).
    pub start_height: u64,
    /// The ids from `start_height` on.
    pub ids: Vec<[u8; 32]>,
    /// The peer's chain height.
    pub total_height: u64,
    /// The peer's cumulative difficulty.
    pub cumulative_difficulty: u128,
}

/// `handle_response_chain_entry`'s checks. `our_hash_at` answers which block we have at a
/// height; `expect_height` is our chain height when we asked (the entry must overlap it).
pub fn check_chain_entry(
    r: &ChainResponse,
    expect_height: u64,
    our_hash_at: impl Fn(u64) -> Option<[u8; 32]>,
) -> Result<ChainEntry, SyncFault> {
    let ids: Vec<[u8; 32]> = r.m_block_ids.iter().collect();
    if r.start_height.saturating_add(1) > expect_height {
        return Err(SyncFault::BadChainEntry("starts past the expected height"));
    }
    if ids.is_empty() {
        return Err(SyncFault::BadChainEntry("no ids"));
    }
    let n = ids.len() as u64;
    if r.total_height < n || r.start_height > r.total_height - n {
        return Err(SyncFault::BadChainEntry(
            "start, count and height do not add up",
        ));
    }
    let weights = r.m_block_weights.iter().count();
    if weights != 0 && weights != ids.len() {
        return Err(SyncFault::BadChainEntry("weights do not match the ids"));
    }
    if r.total_height >= CRYPTONOTE_MAX_BLOCK_NUMBER
        || ids.len() > BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT
    {
        return Err(SyncFault::BadChainEntry("too many ids or too high"));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    if !ids.iter().all(|h| seen.insert(*h)) {
        return Err(SyncFault::BadChainEntry("duplicate ids"));
    }
    if our_hash_at(r.start_height) != ids.first().copied() {
        return Err(SyncFault::UnknownFirstBlock);
    }
    // Later ids we also have must sit at the same height (else the entry lies about our
    // chain); once one is unknown, no later one may be known.
    let mut unknown = false;
    for (i, id) in ids.iter().enumerate().skip(1) {
        let ours = our_hash_at(r.start_height + i as u64);
        match ours {
            Some(h) if h == *id => {
                if unknown {
                    return Err(SyncFault::BadChainEntry(
                        "a known block after an unknown one",
                    ));
                }
            }
            _ => unknown = true,
        }
    }
    Ok(ChainEntry {
        start_height: r.start_height,
        ids,
        total_height: r.total_height,
        cumulative_difficulty: (u128::from(r.cumulative_difficulty_top64) << 64)
            | u128::from(r.cumulative_difficulty),
    })
}

/// `handle_response_get_objects`' checks for a response to a request of `asked` (block ids
/// in order): exactly those blocks, in that order, each with exactly its transactions, full
/// (not pruned), and nothing missed. Returns the blocks ready for verification.
pub fn check_objects(
    asked: &[[u8; 32]],
    r: &GetObjectsResponse,
) -> Result<Vec<SpanBlock>, SyncFault> {
    if r.blocks.is_empty() {
        return Err(SyncFault::BadObjects("no blocks"));
    }
    if r.missed_ids.iter().count() != 0 {
        return Err(SyncFault::BadObjects("missed ids we were told it has"));
    }
    if r.blocks.len() != asked.len() {
        return Err(SyncFault::BadObjects("not the number of blocks asked for"));
    }
    let mut out = Vec::with_capacity(asked.len());
    for (entry, want) in r.blocks.iter().zip(asked) {
        let blob: &[u8] = &entry.block;
        let block = Block::read(&mut &*blob)
            .map_err(|_| SyncFault::BadObjects("a block does not parse"))?;
        if block.hash() != *want {
            return Err(SyncFault::BadObjects("a block that was not asked for"));
        }
        let txs = match &entry.txs {
            BlockTxs::Full(v) => v.iter().map(|t| t.to_vec()).collect::<Vec<_>>(),
            BlockTxs::Pruned(v) if v.is_empty() => Vec::new(),
            BlockTxs::Pruned(_) => return Err(SyncFault::BadObjects("pruned transactions")),
        };
        if txs.len() != block.transactions.len() {
            return Err(SyncFault::BadObjects("wrong number of transactions"));
        }
        out.push(SpanBlock::new(blob.to_vec(), txs));
    }
    Ok(out)
}
