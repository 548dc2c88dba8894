//! Chain figures the calls share, computed from the store's read side as monerod's
//! `Blockchain` computes them: block headers, next difficulty, weight limits and
//! medians, adjusted time, fee estimates, hard-fork voting, output distributions, and
//! pool snapshots from the sync thread.

use std::sync::{Arc, Mutex};

use monero_oxide::block::Block;
use serde_json::{json, Value};
use xmrd_storage::{ChainReader, StoredBlock};

use super::calls::{PooledTx, RpcCall};
use super::limits::SYNC_THREAD_REPLY_TIMEOUT;
use super::Api;
use crate::chain::{MetaWindow, StoreChain};
use crate::consensus::{self, ChainContext, ConsensusNet};

/// `CRYPTONOTE_SCALING_2021_FEE_ROUNDING_PLACES`.
pub const FEE_ROUNDING_PLACES: u32 = 2;
/// monerod's `DIFFICULTY_TARGET_V2` as `get_info`'s `target`.
pub const DIFFICULTY_TARGET_SECONDS: u64 = 120;
/// `HardFork::DEFAULT_WINDOW_SIZE`: blocks whose votes `hard_fork_info` counts.
pub const HARD_FORK_WINDOW_BLOCKS: u64 = 10_080;
/// `HardFork::DEFAULT_FORKED_TIME`: a year after the last fork's time the state is
/// `LikelyForked` (0).
pub const HARD_FORK_FORKED_SECONDS: u64 = 31_557_600;
/// `HardFork::DEFAULT_UPDATE_TIME`: half that, `UpdateNeeded` (1).
pub const HARD_FORK_UPDATE_SECONDS: u64 = 31_557_600 / 2;

/// Figures kept between calls because they cost a scan: the total transaction count
/// (`get_total_transactions`) and the metadata window, both for one chain top.
#[derive(Default)]
pub struct Cache {
    txs: Mutex<Option<TxCount>>,
    window: Mutex<Option<([u8; 32], Arc<MetaWindow>)>>,
}

#[derive(Clone, Copy)]
struct TxCount {
    height: u64,
    top: [u8; 32],
    total: u64,
}

/// Seconds since the epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `round_money_up`: `amount` rounded up to `digits` significant digits.
pub fn round_money_up(amount: u64, digits: u32) -> u64 {
    let mut n = 0u32;
    let mut t = amount;
    while t > 0 {
        t /= 10;
        n += 1;
    }
    if n <= digits {
        return amount;
    }
    let mul = 10u64.saturating_pow(n - digits);
    amount.div_ceil(mul).saturating_mul(mul)
}

/// A difficulty as monerod's `store_difficulty`: low 64 bits, high 64 bits, `0x` hex.
pub fn difficulty_fields(d: u128) -> (u64, u64, String) {
    #[allow(clippy::cast_possible_truncation)] // splitting into the two halves
    (d as u64, (d >> 64) as u64, format!("{d:#x}"))
}

/// Why a call failed inside: the store could not be read or holds something it should not.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] xmrd_storage::StoreError),
    /// A block or height that is not there.
    #[error("{0}")]
    Missing(String),
}

impl Api {
    pub(super) fn reader(&self) -> &ChainReader {
        &self.shared.chain.reader
    }

    pub(super) fn net(&self) -> ConsensusNet {
        self.shared.chain.net
    }

    /// The chain at its current top as consensus reads it, with a metadata window
    /// cached per top.
    pub(super) fn chain_ctx(&self) -> Result<StoreChain, DataError> {
        let reader = self.reader().clone();
        let top = reader.view().top_hash;
        let cached = self.cache.window.lock().ok().and_then(|w| {
            w.as_ref()
                .filter(|(t, _)| *t == top)
                .map(|(_, w)| Arc::clone(w))
        });
        let window = match cached {
            Some(w) => w,
            None => {
                let w = Arc::new(MetaWindow::load(&reader)?);
                if let Ok(mut c) = self.cache.window.lock() {
                    *c = Some((top, Arc::clone(&w)));
                }
                w
            }
        };
        let ctx = StoreChain::new(self.net(), reader, window);
        if ctx.view().top_hash != top {
            // The top moved while loading: a fresh window for the new top.
            let w = Arc::new(MetaWindow::load(self.reader())?);
            return Ok(StoreChain::new(self.net(), self.reader().clone(), w));
        }
        Ok(ctx)
    }

    /// Transactions in the chain, miner transactions included (`get_total_transactions`),
    /// counted once and then carried forward block by block.
    pub(super) fn total_txs(&self) -> Result<u64, DataError> {
        let view = self.reader().view();
        let Some(top_height) = view.top_height() else {
            return Ok(0);
        };
        let cached = self.cache.txs.lock().ok().and_then(|c| *c);
        let mut from = 0u64;
        let mut total = 0u64;
        if let Some(c) = cached {
            if c.top == view.top_hash {
                return Ok(c.total);
            }
            // Still on the cached chain? Then only the blocks above it are new.
            let at = self.reader().block_hashes(&[c.height])?.pop().flatten();
            if c.height <= top_height && at == Some(c.top) {
                from = c.height + 1;
                total = c.total;
            }
        }
        let heights: Vec<u64> = (from..=top_height).collect();
        for chunk in heights.chunks(10_000) {
            for (h, n) in chunk.iter().zip(self.reader().tx_counts(chunk)?) {
                total += u64::from(n.ok_or_else(|| DataError::Missing(format!("block {h}")))?);
            }
        }
        if let Ok(mut c) = self.cache.txs.lock() {
            *c = Some(TxCount {
                height: top_height,
                top: view.top_hash,
                total,
            });
        }
        Ok(total)
    }

    /// The stored block at `height`.
    pub(super) fn block_at(&self, height: u64) -> Result<StoredBlock, DataError> {
        self.reader()
            .blocks(&[height])?
            .pop()
            .flatten()
            .ok_or_else(|| DataError::Missing(format!("no block at height {height}")))
    }

    /// The difficulty of the block at `height` (`block_difficulty`).
    pub(super) fn block_difficulty(&self, b: &StoredBlock) -> Result<u128, DataError> {
        if b.height == 0 {
            return Ok(b.meta.cumulative_difficulty);
        }
        let prev = self
            .reader()
            .metas(&[b.height - 1])?
            .pop()
            .flatten()
            .ok_or_else(|| DataError::Missing(format!("no block at height {}", b.height - 1)))?;
        Ok(b.meta
            .cumulative_difficulty
            .saturating_sub(prev.cumulative_difficulty))
    }

    /// `fill_block_header_response`; `pow_hash` is computed only when `fill_pow_hash`
    /// (monerod leaves it empty otherwise).
    pub(super) fn header_json(
        &self,
        b: &StoredBlock,
        top_count: u64,
        fill_pow_hash: bool,
    ) -> Result<Value, DataError> {
        let block = Block::read(&mut b.blob.as_slice()).map_err(|e| {
            DataError::Missing(format!("stored block {} does not parse: {e}", b.height))
        })?;
        let (d, d_top, d_wide) = difficulty_fields(self.block_difficulty(b)?);
        let (c, c_top, c_wide) = difficulty_fields(b.meta.cumulative_difficulty);
        let reward: u64 = block
            .miner_transaction()
            .prefix()
            .outputs
            .iter()
            .map(|o| o.amount.unwrap_or(0))
            .fold(0u64, u64::saturating_add);
        Ok(json!({
            "block_size": b.meta.weight,
            "block_weight": b.meta.weight,
            "cumulative_difficulty": c,
            "cumulative_difficulty_top64": c_top,
            "depth": top_count.saturating_sub(b.height + 1),
            "difficulty": d,
            "difficulty_top64": d_top,
            "hash": hex::encode(b.hash),
            "height": b.height,
            "long_term_weight": b.meta.long_term_weight,
            "major_version": block.header.hardfork_version,
            "miner_tx_hash": hex::encode(block.miner_transaction().hash()),
            "minor_version": block.header.hardfork_signal,
            "nonce": block.header.nonce,
            "num_txes": block.transactions.len(),
            "orphan_status": false,
            "pow_hash": if fill_pow_hash { hex::encode(self.pow_hash(&block, b.height)?) } else { String::new() },
            "prev_hash": hex::encode(block.header.previous),
            "reward": reward,
            "timestamp": block.header.timestamp,
            "wide_cumulative_difficulty": c_wide,
            "wide_difficulty": d_wide,
        }))
    }

    /// RingCT outputs old enough to spend (monerod's `get_num_mature_outputs(0)`: those
    /// whose block is at least `CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE` below the top).
    pub(super) fn mature_rct_outputs(&self) -> Result<u64, DataError> {
        let count = self.reader().view().block_count;
        let age = consensus::constants::CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE;
        let Some(last) = count.checked_sub(age) else {
            return Ok(0);
        };
        Ok(self
            .reader()
            .cumulative_rct_outputs(&[last])?
            .pop()
            .flatten()
            .unwrap_or(0))
    }

    /// A block's proof-of-work hash (`get_block_longhash`): CryptoNight before hard fork
    /// 12, then RandomX keyed by the id of the block at its seed height.
    pub(super) fn pow_hash(&self, block: &Block, height: u64) -> Result<[u8; 32], DataError> {
        let major = block.header.hardfork_version;
        if major < consensus::constants::hf::RANDOMX {
            return consensus::pow::cryptonight_longhash(
                height,
                major,
                &block.serialize_pow_hash(),
            )
            .map_err(|e| DataError::Missing(format!("PoW of block {height}: {e}")));
        }
        let seed_height = consensus::pow::seed_height(height);
        let seed = self
            .reader()
            .block_hashes(&[seed_height])?
            .pop()
            .flatten()
            .ok_or_else(|| DataError::Missing(format!("no block at seed height {seed_height}")))?;
        self.shared
            .chain
            .pow
            .hash(&seed, &block.serialize_pow_hash())
            .map_err(|e| DataError::Missing(format!("PoW of block {height}: {e}")))
    }

    /// `get_adjusted_time(height)`.
    pub(super) fn adjusted_time(&self, ctx: &StoreChain) -> u64 {
        let h = ctx.height();
        let w = consensus::constants::BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW as u64;
        let recent = if h >= w {
            ctx.timestamps(h - w..h)
        } else {
            Vec::new()
        };
        consensus::block::adjusted_time(&recent, now_unix())
    }

    /// `get_dynamic_base_fee_estimate_2021_scaling(grace_blocks)`: the four fees per byte
    /// (low, normal, high, highest priority).
    pub(super) fn fee_estimates(&self, ctx: &StoreChain, grace_blocks: u64) -> [u64; 4] {
        use consensus::constants::{
            CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5 as ZM,
            CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE as LONG_WINDOW,
            CRYPTONOTE_REWARD_BLOCKS_WINDOW as SHORT_WINDOW,
            DYNAMIC_FEE_REFERENCE_TRANSACTION_WEIGHT as WFM,
        };
        let grace = grace_blocks.min(SHORT_WINDOW - 1);
        let h = ctx.height();
        let version = self.net().hard_fork_version(h);
        let mut long = ctx.long_term_weights(h.saturating_sub(LONG_WINDOW)..h);
        // The rolling median keeps the last LONG_WINDOW values: grace zeros push the
        // oldest out.
        for _ in 0..grace {
            if long.len() as u64 >= LONG_WINDOW && !long.is_empty() {
                long.remove(0);
            }
            long.push(0);
        }
        let mlw = consensus::weight::median(&long).max(ZM);
        let mut short = ctx.block_weights(h.saturating_sub(SHORT_WINDOW - grace)..h);
        short.extend(std::iter::repeat_n(0, usize::try_from(grace).unwrap_or(0)));
        let msw = consensus::weight::median(&short).max(mlw);
        let mnw = msw.min(50 * mlw);
        let limits = consensus::verify::weight_limits(ctx);
        let base_reward = consensus::weight::block_reward(
            limits.limit() / 2,
            1,
            ctx.already_generated_coins(),
            version,
        )
        .unwrap_or(BLOCK_REWARD_OVERESTIMATE);
        let mfw = u128::from(mnw.min(mlw).max(1));
        let (br, wfm) = (u128::from(base_reward), u128::from(WFM));
        let fl = br * wfm / (mfw * mfw);
        let fn_ = 4 * br * wfm / (mfw * mfw);
        let fm = 16 * br * wfm / (u128::from(ZM) * mfw);
        let denom = (32 * wfm * u128::from(mnw) / u128::from(ZM)).max(1);
        let fh = (4 * fm).max(4 * fm * mfw / denom);
        let round =
            |x: u128| round_money_up(u64::try_from(x).unwrap_or(u64::MAX), FEE_ROUNDING_PLACES);
        [round(fl), round(fn_), round(fm), round(fh)]
    }

    /// The hard-fork voting figures of `hard_fork_info` for `version` (0: the next
    /// block's): (enabled, window, votes, threshold, earliest height, voting, state).
    pub(super) fn hard_fork_info(&self, version: u8) -> Result<Value, DataError> {
        let count = self.reader().view().block_count;
        let net = self.net();
        let current = net.hard_fork_version(count.saturating_sub(1));
        let version = if version == 0 {
            net.hard_fork_version(count)
        } else {
            version
        };
        let first = count.saturating_sub(HARD_FORK_WINDOW_BLOCKS);
        let heights: Vec<u64> = (first..count).collect();
        let mut votes = 0u64;
        for chunk in heights.chunks(2_000) {
            for b in self.reader().blocks(chunk)?.into_iter().flatten() {
                let header = monero_oxide::block::BlockHeader::read(&mut b.header.as_slice())
                    .map_err(|e| DataError::Missing(format!("stored header {}: {e}", b.height)))?;
                if consensus::hardfork::block_vote(header.hardfork_signal) >= version {
                    votes += 1;
                }
            }
        }
        let last_fork_time = match net {
            ConsensusNet::Mainnet | ConsensusNet::Stagenet => 1_656_629_118,
            ConsensusNet::Testnet => 1_652_813_400,
            ConsensusNet::Regtest { .. } => 0,
        };
        let now = now_unix();
        let state = if now >= last_fork_time + HARD_FORK_FORKED_SECONDS {
            0
        } else if now >= last_fork_time + HARD_FORK_UPDATE_SECONDS {
            1
        } else {
            2
        };
        Ok(json!({
            "earliest_height": net.fork_height(version).unwrap_or(0),
            "enabled": current >= version,
            "state": state,
            "threshold": 0,
            "version": current,
            "votes": votes,
            "voting": net.last_version(),
            "window": heights.len(),
        }))
    }

    /// The pool, from the sync thread (`None`: it did not answer in time).
    pub(super) fn pool(&self) -> Option<Vec<PooledTx>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.shared
            .chain
            .sync
            .send(crate::node::chain_sync::SyncInput::Rpc(RpcCall::Pool(tx)))
            .ok()?;
        rx.recv_timeout(SYNC_THREAD_REPLY_TIMEOUT).ok()
    }

    /// Whether the node is synchronised with the best chain its peers announced.
    pub(super) fn synchronized(&self) -> bool {
        let target = self
            .shared
            .metrics
            .target_height
            .load(std::sync::atomic::Ordering::Relaxed);
        self.reader().view().block_count >= target
    }

    /// `get_output_distribution` for RingCT outputs (amount 0): the per-block counts (or
    /// running totals with `cumulative`) from `from_height` to `to_height` (0: the top),
    /// with the count before them as `base`, as `Blockchain::get_output_distribution` and
    /// `RpcHandler::get_output_distribution` compute them. `None`: the heights do not fit
    /// the chain (monerod: "Failed to get output distribution").
    pub(super) fn rct_distribution(
        &self,
        from_height: u64,
        to_height: u64,
        cumulative: bool,
    ) -> Result<Option<(u64, Vec<u64>, u64)>, DataError> {
        let count = self.reader().view().block_count;
        let rct_start = match self.net() {
            ConsensusNet::Regtest { .. } => 0,
            net => net.fork_height(4).unwrap_or(0),
        };
        if to_height > 0 && from_height > to_height {
            return Ok(None);
        }
        let start = rct_start.max(from_height);
        let to = if to_height == 0 {
            count.saturating_sub(1)
        } else {
            to_height
        };
        if count == 0 || start >= count || to >= count {
            return Ok(None);
        }
        let real_start = start.saturating_sub(1);
        let heights: Vec<u64> = (real_start..=to).collect();
        let mut dist = Vec::with_capacity(heights.len());
        for chunk in heights.chunks(10_000) {
            for (h, b) in chunk
                .iter()
                .zip(self.reader().cumulative_rct_outputs(chunk)?)
            {
                dist.push(b.ok_or_else(|| DataError::Missing(format!("block {h}")))?);
            }
        }
        let mut base = 0;
        if start > 0 && !dist.is_empty() {
            base = dist.remove(0);
        }
        if !cumulative {
            let mut prev = base;
            for d in dist.iter_mut() {
                let c = *d;
                *d = c.saturating_sub(prev);
                prev = c;
            }
        }
        Ok(Some((start, dist, base)))
    }

    /// The distribution of the pre-RingCT outputs of `amount` (non-zero), as monerod's
    /// `BlockchainLMDB::get_output_distribution` and `RpcHandler::get_output_distribution`
    /// give it: per height from `from_height` (`to_height` 0: to the top), the outputs
    /// below `from_height` counted into the first height, `base` 0.
    pub(super) fn amount_distribution(
        &self,
        amount: u64,
        from_height: u64,
        to_height: u64,
        cumulative: bool,
    ) -> Result<Option<(u64, Vec<u64>, u64)>, DataError> {
        let count = self.reader().view().block_count;
        let to = if to_height == 0 {
            count.saturating_sub(1)
        } else {
            to_height
        };
        if (to > 0 && to < from_height) || count == 0 || from_height >= count || to >= count {
            return Ok(None);
        }
        let heights = self.reader().pre_rct_output_heights(amount)?;
        Ok(Some((
            from_height,
            distribution_by_height(&heights, count, from_height, to, cumulative),
            0,
        )))
    }

    /// The distribution for one requested amount: RingCT (0) or pre-RingCT.
    pub(super) fn output_distribution(
        &self,
        amount: u64,
        from_height: u64,
        to_height: u64,
        cumulative: bool,
    ) -> Result<Option<(u64, Vec<u64>, u64)>, DataError> {
        if amount == 0 {
            self.rct_distribution(from_height, to_height, cumulative)
        } else {
            self.amount_distribution(amount, from_height, to_height, cumulative)
        }
    }
}

/// The per-height counts of outputs at `heights` (ascending) on a chain of `count`
/// blocks, from `from` to `to` inclusive, the outputs below `from` counted into the first
/// height, cumulative or not (monerod's LMDB walk, then `RpcHandler`'s cut and
/// `process_distribution`). `from < count` and `to < count` are the caller's checks.
fn distribution_by_height(
    heights: &[u64],
    count: u64,
    from: u64,
    to: u64,
    cumulative: bool,
) -> Vec<u64> {
    let len = usize::try_from(count.saturating_sub(from)).unwrap_or(0);
    let mut dist = vec![0u64; len];
    let mut below = 0u64;
    for &h in heights {
        match h.checked_sub(from) {
            Some(i) => {
                // Outputs at or above `count` were committed after the view was taken.
                if let Some(d) = usize::try_from(i).ok().and_then(|i| dist.get_mut(i)) {
                    *d += 1;
                }
            }
            None => below += 1,
        }
    }
    if let Some(first) = dist.first_mut() {
        *first += below;
    }
    let mut running = 0u64;
    for d in dist.iter_mut() {
        running += *d;
        *d = running;
    }
    if to > 0 {
        dist.truncate(usize::try_from(to.saturating_sub(from) + 1).unwrap_or(usize::MAX));
    }
    if !cumulative {
        let mut prev = 0u64;
        for d in dist.iter_mut() {
            let c = *d;
            *d = c - prev;
            prev = c;
        }
    }
    dist
}

/// `BLOCK_REWARD_OVERESTIMATE` (10 XMR): the reward used when it cannot be computed.
pub const BLOCK_REWARD_OVERESTIMATE: u64 = 10_000_000_000_000;

#[cfg(test)]
mod tests {
    #[test]
    fn rpc_amount_distribution_counts_as_monerods_lmdb_walk() {
        use super::distribution_by_height as d;
        // Outputs at heights 1, 1, 3, 5 and 9 on a chain of 10 blocks.
        let h = [1, 1, 3, 5, 9];
        assert_eq!(d(&h, 10, 0, 9, true), vec![0, 2, 2, 3, 3, 4, 4, 4, 4, 5]);
        assert_eq!(d(&h, 10, 0, 9, false), vec![0, 2, 0, 1, 0, 1, 0, 0, 0, 1]);
        // From 3: the two outputs below count into the first height.
        assert_eq!(d(&h, 10, 3, 6, true), vec![3, 3, 4, 4]);
        assert_eq!(d(&h, 10, 3, 6, false), vec![3, 0, 1, 0]);
        // None of that amount: zeros over the range.
        assert_eq!(d(&[], 10, 4, 0, true), vec![0; 6]);
        // An output committed after the view (height 12 on a 10-block view) is not counted.
        assert_eq!(d(&[2, 12], 10, 0, 3, true), vec![0, 0, 1, 1]);
    }
}
