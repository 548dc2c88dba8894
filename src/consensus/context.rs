//! The chain as consensus sees it, and an in-memory implementation.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::hardfork::ConsensusNet;

/// One output as ring members need it (`output_data_t` in monerod's DB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputInfo {
    /// One-time public key.
    pub key: [u8; 32],
    /// Pedersen commitment (`zeroCommit(amount)` for clear-amount outputs).
    pub commitment: [u8; 32],
    /// The creating transaction's unlock time.
    pub unlock_time: u64,
    /// Height of the block that created it.
    pub height: u64,
}

/// Read access to a chain, batched where the pool asks in bulk. Heights are block heights;
/// `height()` is the number of blocks (so the next block's height).
pub trait ChainContext {
    /// The network and its fork table.
    fn net(&self) -> ConsensusNet;
    /// Number of blocks.
    fn height(&self) -> u64;
    /// Id of the block at `height`.
    fn block_hash(&self, height: u64) -> Option<[u8; 32]>;
    /// Timestamps of the blocks in `range` (clamped to the chain).
    fn timestamps(&self, range: Range<u64>) -> Vec<u64>;
    /// Cumulative difficulties of the blocks in `range`.
    fn cumulative_difficulties(&self, range: Range<u64>) -> Vec<u128>;
    /// Block weights of the blocks in `range`.
    fn block_weights(&self, range: Range<u64>) -> Vec<u64>;
    /// Long-term block weights of the blocks in `range`.
    fn long_term_weights(&self, range: Range<u64>) -> Vec<u64>;
    /// Coins generated up to and including the top block.
    fn already_generated_coins(&self) -> u64;
    /// Number of outputs with `amount` (0 = RingCT).
    fn num_outputs(&self, amount: u64) -> u64;
    /// Outputs by global index within `amount`.
    fn outputs(&self, amount: u64, indices: &[u64]) -> Vec<Option<OutputInfo>>;
    /// Whether each key image is spent.
    fn key_images_spent(&self, images: &[[u8; 32]]) -> Vec<bool>;
    /// Whether each transaction is in the chain.
    fn txs_exist(&self, hashes: &[[u8; 32]]) -> Vec<bool>;

    /// Id of the top block.
    fn top_hash(&self) -> Option<[u8; 32]> {
        self.height()
            .checked_sub(1)
            .and_then(|h| self.block_hash(h))
    }
}

/// What a verified block adds to the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEffects {
    /// Its id.
    pub hash: [u8; 32],
    /// Its timestamp.
    pub timestamp: u64,
    /// Cumulative difficulty including it.
    pub cumulative_difficulty: u128,
    /// Its weight.
    pub weight: u64,
    /// Its long-term weight.
    pub long_term_weight: u64,
    /// Coins generated including it.
    pub generated_coins: u64,
    /// New outputs in global order: (amount pool, output).
    pub outputs: Vec<(u64, OutputInfo)>,
    /// Key images its transactions spend.
    pub key_images: Vec<[u8; 32]>,
    /// Its transactions' ids (miner tx first).
    pub tx_hashes: Vec<[u8; 32]>,
}

/// A chain that is `base` plus blocks applied on top, held in memory. Over [`Empty`] it is
/// the whole in-memory chain ([`MemoryChain`]); over a store snapshot it is the span being
/// verified.
#[derive(Debug)]
pub struct Overlay<B> {
    base: B,
    base_height: u64,
    blocks: Vec<BlockEffects>,
    outputs: HashMap<u64, Vec<OutputInfo>>,
    key_images: HashSet<[u8; 32]>,
    txs: HashSet<[u8; 32]>,
}

/// The empty chain.
#[derive(Debug, Clone, Copy)]
pub struct Empty(pub ConsensusNet);

/// A chain held entirely in memory.
pub type MemoryChain = Overlay<Empty>;

impl MemoryChain {
    /// An empty chain of `net`.
    pub fn new(net: ConsensusNet) -> Self {
        Overlay::on(Empty(net))
    }
}

impl<B: ChainContext> Overlay<B> {
    /// An overlay with nothing applied yet.
    pub fn on(base: B) -> Self {
        let base_height = base.height();
        Overlay {
            base,
            base_height,
            blocks: Vec::new(),
            outputs: HashMap::new(),
            key_images: HashSet::new(),
            txs: HashSet::new(),
        }
    }

    /// Appends a verified block.
    pub fn apply(&mut self, e: BlockEffects) {
        for (amount, o) in &e.outputs {
            self.outputs.entry(*amount).or_default().push(*o);
        }
        self.key_images.extend(e.key_images.iter().copied());
        self.txs.extend(e.tx_hashes.iter().copied());
        self.blocks.push(e);
    }

    /// The blocks applied on top of the base.
    pub fn applied(&self) -> &[BlockEffects] {
        &self.blocks
    }

    /// The base chain.
    pub fn base(&self) -> &B {
        &self.base
    }

    fn local(&self, h: u64) -> Option<&BlockEffects> {
        h.checked_sub(self.base_height)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.blocks.get(i))
    }

    fn split<T>(
        &self,
        range: Range<u64>,
        from_base: impl Fn(Range<u64>) -> Vec<T>,
        from_local: impl Fn(&BlockEffects) -> T,
    ) -> Vec<T> {
        let end = range.end.min(self.height());
        let start = range.start.min(end);
        let mut v = from_base(start.min(self.base_height)..end.min(self.base_height));
        for h in start.max(self.base_height)..end {
            if let Some(b) = self.local(h) {
                v.push(from_local(b));
            }
        }
        v
    }
}

impl<B: ChainContext> ChainContext for Overlay<B> {
    fn net(&self) -> ConsensusNet {
        self.base.net()
    }
    fn height(&self) -> u64 {
        self.base_height + self.blocks.len() as u64
    }
    fn block_hash(&self, height: u64) -> Option<[u8; 32]> {
        if height < self.base_height {
            self.base.block_hash(height)
        } else {
            self.local(height).map(|b| b.hash)
        }
    }
    fn timestamps(&self, range: Range<u64>) -> Vec<u64> {
        self.split(range, |r| self.base.timestamps(r), |b| b.timestamp)
    }
    fn cumulative_difficulties(&self, range: Range<u64>) -> Vec<u128> {
        self.split(
            range,
            |r| self.base.cumulative_difficulties(r),
            |b| b.cumulative_difficulty,
        )
    }
    fn block_weights(&self, range: Range<u64>) -> Vec<u64> {
        self.split(range, |r| self.base.block_weights(r), |b| b.weight)
    }
    fn long_term_weights(&self, range: Range<u64>) -> Vec<u64> {
        self.split(
            range,
            |r| self.base.long_term_weights(r),
            |b| b.long_term_weight,
        )
    }
    fn already_generated_coins(&self) -> u64 {
        self.blocks.last().map_or_else(
            || self.base.already_generated_coins(),
            |b| b.generated_coins,
        )
    }
    fn num_outputs(&self, amount: u64) -> u64 {
        self.base.num_outputs(amount) + self.outputs.get(&amount).map_or(0, |v| v.len() as u64)
    }
    fn outputs(&self, amount: u64, indices: &[u64]) -> Vec<Option<OutputInfo>> {
        let n = self.base.num_outputs(amount);
        let mut out = self.base.outputs(amount, indices);
        let local = self.outputs.get(&amount);
        for (slot, i) in out.iter_mut().zip(indices) {
            if slot.is_none() && *i >= n {
                *slot = local
                    .and_then(|v| usize::try_from(i - n).ok().and_then(|j| v.get(j)))
                    .copied();
            }
        }
        out
    }
    fn key_images_spent(&self, images: &[[u8; 32]]) -> Vec<bool> {
        let mut v = self.base.key_images_spent(images);
        for (s, k) in v.iter_mut().zip(images) {
            *s |= self.key_images.contains(k);
        }
        v
    }
    fn txs_exist(&self, hashes: &[[u8; 32]]) -> Vec<bool> {
        let mut v = self.base.txs_exist(hashes);
        for (s, k) in v.iter_mut().zip(hashes) {
            *s |= self.txs.contains(k);
        }
        v
    }
}

impl ChainContext for Empty {
    fn net(&self) -> ConsensusNet {
        self.0
    }
    fn height(&self) -> u64 {
        0
    }
    fn block_hash(&self, _: u64) -> Option<[u8; 32]> {
        None
    }
    fn timestamps(&self, _: Range<u64>) -> Vec<u64> {
        Vec::new()
    }
    fn cumulative_difficulties(&self, _: Range<u64>) -> Vec<u128> {
        Vec::new()
    }
    fn block_weights(&self, _: Range<u64>) -> Vec<u64> {
        Vec::new()
    }
    fn long_term_weights(&self, _: Range<u64>) -> Vec<u64> {
        Vec::new()
    }
    fn already_generated_coins(&self) -> u64 {
        0
    }
    fn num_outputs(&self, _: u64) -> u64 {
        0
    }
    fn outputs(&self, _: u64, indices: &[u64]) -> Vec<Option<OutputInfo>> {
        vec![None; indices.len()]
    }
    fn key_images_spent(&self, images: &[[u8; 32]]) -> Vec<bool> {
        vec![false; images.len()]
    }
    fn txs_exist(&self, hashes: &[[u8; 32]]) -> Vec<bool> {
        vec![false; hashes.len()]
    }
}

impl<T: ChainContext + ?Sized> ChainContext for &T {
    fn net(&self) -> ConsensusNet {
        (**self).net()
    }
    fn height(&self) -> u64 {
        (**self).height()
    }
    fn block_hash(&self, h: u64) -> Option<[u8; 32]> {
        (**self).block_hash(h)
    }
    fn timestamps(&self, r: Range<u64>) -> Vec<u64> {
        (**self).timestamps(r)
    }
    fn cumulative_difficulties(&self, r: Range<u64>) -> Vec<u128> {
        (**self).cumulative_difficulties(r)
    }
    fn block_weights(&self, r: Range<u64>) -> Vec<u64> {
        (**self).block_weights(r)
    }
    fn long_term_weights(&self, r: Range<u64>) -> Vec<u64> {
        (**self).long_term_weights(r)
    }
    fn already_generated_coins(&self) -> u64 {
        (**self).already_generated_coins()
    }
    fn num_outputs(&self, a: u64) -> u64 {
        (**self).num_outputs(a)
    }
    fn outputs(&self, a: u64, i: &[u64]) -> Vec<Option<OutputInfo>> {
        (**self).outputs(a, i)
    }
    fn key_images_spent(&self, k: &[[u8; 32]]) -> Vec<bool> {
        (**self).key_images_spent(k)
    }
    fn txs_exist(&self, h: &[[u8; 32]]) -> Vec<bool> {
        (**self).txs_exist(h)
    }
}
