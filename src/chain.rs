//! The chain as the node keeps it: the RocksDB store seen through consensus's
//! [`ChainContext`], and the conversion of a verified block into the store's
//! [`BlockWrite`].
//!
//! The difficulty, weight and timestamp windows (up to the 100,000-block long-term weight
//! window) are kept in memory in a [`MetaWindow`] that grows with every commit, so a span's
//! verification never re-reads 100,000 metadata records.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use monero_oxide::transaction::Transaction;
use xmrd_storage::{
    BlockMeta, BlockWrite, ChainReader, OutputKind, OutputWrite, ReadView, StoreError, TxWrite,
};

use crate::consensus::constants::{
    CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE, DIFFICULTY_BLOCKS_COUNT,
};
use crate::consensus::tx::unlock_time;
use crate::consensus::verify::tx_outputs;
use crate::consensus::{ChainContext, ConsensusNet, OutputInfo};
use crate::verify::VerifiedBlock;

/// How many blocks of metadata the window keeps: the long-term weight window, which is the
/// longest any rule looks back (difficulty needs 735, timestamps 60, short weights 100).
pub const META_WINDOW_BLOCKS: u64 = {
    let lt = CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE;
    let d = DIFFICULTY_BLOCKS_COUNT as u64;
    if lt > d {
        lt
    } else {
        d
    }
};

/// The metadata of the last [`META_WINDOW_BLOCKS`] blocks, oldest first.
#[derive(Debug, Clone, Default)]
pub struct MetaWindow {
    first_height: u64,
    metas: VecDeque<BlockMeta>,
}

impl MetaWindow {
    /// Loads the window below the store's top.
    pub fn load(reader: &ChainReader) -> Result<Self, StoreError> {
        Self::load_below(reader, reader.view().block_count)
    }

    /// Loads the window below height `count` (the store's top or lower: a fork's base).
    pub fn load_below(reader: &ChainReader, count: u64) -> Result<Self, StoreError> {
        let first = count.saturating_sub(META_WINDOW_BLOCKS);
        let heights: Vec<u64> = (first..count).collect();
        let mut metas = VecDeque::with_capacity(heights.len());
        for chunk in heights.chunks(10_000) {
            for m in reader.metas(chunk)? {
                metas.push_back(m.ok_or_else(|| StoreError::Corrupt {
                    cf: xmrd_storage::schema::BLOCK_META,
                    what: format!("missing block metadata below height {count}"),
                })?);
            }
        }
        Ok(MetaWindow {
            first_height: first,
            metas,
        })
    }

    /// Appends a committed block's metadata.
    pub fn push(&mut self, meta: BlockMeta) {
        self.metas.push_back(meta);
        while self.metas.len() as u64 > META_WINDOW_BLOCKS {
            self.metas.pop_front();
            self.first_height += 1;
        }
    }

    /// Drops the top `n` blocks (a reorg); the caller reloads if the window runs short.
    pub fn pop(&mut self, n: u64) {
        for _ in 0..n {
            self.metas.pop_back();
        }
    }

    /// Blocks covered: `[first, end)`.
    pub fn end(&self) -> u64 {
        self.first_height + self.metas.len() as u64
    }

    fn range<T>(&self, r: Range<u64>, f: impl Fn(&BlockMeta) -> T) -> Vec<T> {
        let start = r.start.max(self.first_height);
        let end = r.end.min(self.end());
        (start..end)
            .filter_map(|h| {
                usize::try_from(h - self.first_height)
                    .ok()
                    .and_then(|i| self.metas.get(i))
                    .map(&f)
            })
            .collect()
    }
}

/// A consistent view of the store for one span's verification: the published read view
/// at creation, the metadata window, and batched point reads for the rest.
#[derive(Debug, Clone)]
pub struct StoreChain {
    net: ConsensusNet,
    reader: ChainReader,
    view: ReadView,
    window: Arc<MetaWindow>,
}

impl StoreChain {
    /// A view of `reader` at its current top. `window` must end at that top.
    pub fn new(net: ConsensusNet, reader: ChainReader, window: Arc<MetaWindow>) -> Self {
        let view = reader.view();
        StoreChain {
            net,
            reader,
            view,
            window,
        }
    }

    /// A view of the store as it was when it had `count` blocks (the base of an alternative
    /// chain): the blocks, outputs, spent key images and transactions above it are
    /// invisible. Loads its own metadata window.
    pub fn below(net: ConsensusNet, reader: ChainReader, count: u64) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            cf: xmrd_storage::schema::BLOCK_META,
            what,
        };
        if count == 0 || count > reader.view().block_count {
            return Err(corrupt(format!("no chain of {count} blocks to view")));
        }
        let top = reader
            .blocks(&[count - 1])?
            .pop()
            .flatten()
            .ok_or_else(|| corrupt(format!("no block at height {}", count - 1)))?;
        let window = Arc::new(MetaWindow::load_below(&reader, count)?);
        Ok(StoreChain {
            net,
            view: ReadView {
                block_count: count,
                top_hash: top.hash,
                cumulative_difficulty: top.meta.cumulative_difficulty,
                rct_outputs: top.cumulative_rct_outputs,
            },
            reader,
            window,
        })
    }

    /// The metadata window this view reads.
    pub fn window(&self) -> &Arc<MetaWindow> {
        &self.window
    }

    /// The read view this context is pinned to.
    pub fn view(&self) -> ReadView {
        self.view
    }

    fn below_top(&self, r: Range<u64>) -> Range<u64> {
        r.start.min(self.view.block_count)..r.end.min(self.view.block_count)
    }
}

fn record_to_info(r: &xmrd_storage::OutputRecord) -> OutputInfo {
    OutputInfo {
        key: r.key,
        commitment: r.commitment,
        unlock_time: r.unlock_time,
        height: r.tx.height,
    }
}

impl ChainContext for StoreChain {
    fn net(&self) -> ConsensusNet {
        self.net
    }
    fn height(&self) -> u64 {
        self.view.block_count
    }
    fn block_hash(&self, height: u64) -> Option<[u8; 32]> {
        if height >= self.view.block_count {
            return None;
        }
        if height + 1 == self.view.block_count {
            return Some(self.view.top_hash);
        }
        self.reader
            .block_hashes(&[height])
            .ok()
            .and_then(|v| v.into_iter().next().flatten())
    }
    fn timestamps(&self, r: Range<u64>) -> Vec<u64> {
        self.window.range(self.below_top(r), |m| m.timestamp)
    }
    fn cumulative_difficulties(&self, r: Range<u64>) -> Vec<u128> {
        self.window
            .range(self.below_top(r), |m| m.cumulative_difficulty)
    }
    fn block_weights(&self, r: Range<u64>) -> Vec<u64> {
        self.window.range(self.below_top(r), |m| m.weight)
    }
    fn long_term_weights(&self, r: Range<u64>) -> Vec<u64> {
        self.window.range(self.below_top(r), |m| m.long_term_weight)
    }
    fn already_generated_coins(&self) -> u64 {
        self.window
            .range(
                self.view.block_count.saturating_sub(1)..self.view.block_count,
                |m| m.coins_generated,
            )
            .first()
            .copied()
            .unwrap_or(0)
    }
    fn num_outputs(&self, amount: u64) -> u64 {
        if amount == 0 {
            self.view.rct_outputs
        } else {
            // In a view below the top this still counts the outputs of the replaced blocks
            // (pre-RingCT amounts are not indexed by height); `outputs` hides them.
            self.reader.pre_rct_output_count(amount).unwrap_or(0)
        }
    }
    fn outputs(&self, amount: u64, indices: &[u64]) -> Vec<Option<OutputInfo>> {
        let n = self.num_outputs(amount);
        let got = if amount == 0 {
            self.reader.rct_outputs(indices)
        } else {
            let keys: Vec<(u64, u64)> = indices.iter().map(|i| (amount, *i)).collect();
            self.reader.pre_rct_outputs(&keys)
        };
        match got {
            Ok(v) => v
                .iter()
                .zip(indices)
                // Outputs above the pinned view belong to blocks committed since (or, in a
                // view below the top, to the blocks an alternative chain replaces).
                .map(|(r, i)| {
                    r.as_ref()
                        .filter(|r| *i < n && r.tx.height < self.view.block_count)
                        .map(record_to_info)
                })
                .collect(),
            Err(_) => vec![None; indices.len()],
        }
    }
    fn key_images_spent(&self, images: &[[u8; 32]]) -> Vec<bool> {
        let top = self.view.block_count;
        match self.reader.spent_key_images(images) {
            Ok(v) => v.iter().map(|h| h.is_some_and(|h| h < top)).collect(),
            // Failing closed: a read error makes every key image look spent.
            Err(_) => vec![true; images.len()],
        }
    }
    fn txs_exist(&self, hashes: &[[u8; 32]]) -> Vec<bool> {
        let top = self.view.block_count;
        match self.reader.tx_locations(hashes) {
            Ok(v) => v
                .iter()
                .map(|l| l.is_some_and(|l| l.height < top))
                .collect(),
            Err(_) => vec![true; hashes.len()],
        }
    }
}

/// The store's description of a verified block.
pub fn block_write(v: &VerifiedBlock, net: ConsensusNet) -> BlockWrite {
    let b = &v.block;
    let height = b.height;
    let e = &v.effects;
    let meta = BlockMeta {
        cumulative_difficulty: e.cumulative_difficulty,
        weight: e.weight,
        long_term_weight: e.long_term_weight,
        timestamp: e.timestamp,
        coins_generated: e.generated_coins,
        hard_fork_version: net.hard_fork_version(height),
    };
    let mut txs = Vec::with_capacity(b.txs.len() + 1);
    txs.push(tx_write(b.block.miner_transaction(), height));
    for t in &b.txs {
        txs.push(tx_write(&t.tx, height));
    }
    BlockWrite {
        hash: b.hash,
        prev_hash: b.block.header.previous,
        header: b.block.header.serialize(),
        blob: b.block.serialize(),
        meta,
        txs,
    }
}

fn tx_write(tx: &Transaction, height: u64) -> TxWrite {
    let hash = tx.hash();
    let outputs = tx_outputs(tx, height)
        .into_iter()
        .zip(&tx.prefix().outputs)
        .map(|((pool, o), out)| OutputWrite {
            kind: if pool == 0 {
                OutputKind::RingCt
            } else {
                OutputKind::PreRingCt {
                    amount: out.amount.unwrap_or(0),
                }
            },
            key: o.key,
            commitment: o.commitment,
        })
        .collect();
    let key_images = crate::consensus::tx::key_images(tx);
    let unlock = unlock_time(&tx.prefix().additional_timelock);
    let (pruned, prunable) = tx.clone().pruned_with_prunable();
    TxWrite {
        hash,
        pruned: pruned.serialize(),
        prunable,
        unlock_time: unlock,
        outputs,
        key_images,
    }
}
