//! The ordered, contextual checks of one block against the chain below it
//! (`Blockchain::handle_block_to_main_chain`), leaving the expensive proofs as jobs.

use monero_oxide::ed25519::{Commitment, Scalar};
use monero_oxide::transaction::Transaction;

use super::block::{self, PreparedBlock};
use super::constants::*;
use super::context::{BlockEffects, ChainContext, OutputInfo};
use super::difficulty;
use super::error::{BlockError, TxError};
use super::fast_sync::KnownBlock;
use super::hardfork;
use super::pow;
use super::tx::{self, InputContext};
use super::weight;

/// The proofs left to check for a block that passed [`verify_block`].
#[derive(Debug, Default, Clone)]
pub struct ProofJobs {
    /// (tx index, input index, ring) for every input's own ring signature (CLSAG, simple
    /// MLSAG, pre-RingCT).
    pub clsag: Vec<(usize, usize, Vec<OutputInfo>)>,
    /// (tx index, every input's ring) for each RCTTypeFull transaction's aggregate MLSAG.
    pub aggregate: Vec<(usize, Vec<Vec<OutputInfo>>)>,
    /// Indices of transactions whose range proof and balance are to be checked.
    pub range_and_balance: Vec<usize>,
}

impl ProofJobs {
    /// Drops the proof jobs of the transactions whose proofs were already verified
    /// against the very same rings: `proven` maps a transaction hash to the
    /// [`ring_digest`] of the rings it was verified with (the pool's). The hash commits to
    /// every signature and proof, the digest to every ring member's key and commitment, so
    /// the result is the same as verifying again (monerod likewise skips the signatures of
    /// transactions it takes from its pool, `m_tx_pool.take_tx`'s verified flag).
    pub fn skip_proven(&mut self, txs: &[tx::PreparedTx], proven: &ProvenTxs) {
        if proven.is_empty() {
            return;
        }
        let skip: Vec<usize> = self
            .range_and_balance
            .iter()
            .copied()
            .filter(|&i| {
                let Some(p) = txs.get(i) else { return false };
                let Some(digest) = proven.get(&p.hash) else {
                    return false;
                };
                let rings: Vec<&[OutputInfo]> = self
                    .clsag
                    .iter()
                    .filter(|(t, _, _)| *t == i)
                    .map(|(_, _, r)| r.as_slice())
                    .collect();
                ring_digest(&rings) == *digest
            })
            .collect();
        self.range_and_balance.retain(|i| !skip.contains(i));
        self.clsag.retain(|(i, _, _)| !skip.contains(i));
        self.aggregate.retain(|(i, _)| !skip.contains(i));
    }
}

/// Transactions whose proofs were verified, by hash, with the [`ring_digest`] of the rings
/// they were verified against.
pub type ProvenTxs = std::collections::HashMap<[u8; 32], [u8; 32]>;

/// Keccak of the rings a transaction's signatures were checked against: per input, the
/// ring size, then each member's key and commitment.
pub fn ring_digest<R: AsRef<[OutputInfo]>>(rings: &[R]) -> [u8; 32] {
    let mut data = Vec::with_capacity(8 + rings.len() * (8 + 16 * 64));
    data.extend_from_slice(&(rings.len() as u64).to_le_bytes());
    for r in rings {
        let r = r.as_ref();
        data.extend_from_slice(&(r.len() as u64).to_le_bytes());
        for o in r {
            data.extend_from_slice(&o.key);
            data.extend_from_slice(&o.commitment);
        }
    }
    monero_oxide::primitives::keccak256(&data)
}

/// Knobs of a verification run.
#[derive(Debug, Clone, Copy)]
pub struct BlockChecks {
    /// Local time (UNIX seconds) for the future-timestamp rule.
    pub now: u64,
    /// Fast sync: the block the chain has at this height, settled by the block-hash groups.
    /// The block must be that one (id, and weight when known); its proof of work and its
    /// transactions' inputs, signatures and proofs are not checked (monerod's `fast_check`).
    pub known: Option<KnownBlock>,
}

impl BlockChecks {
    /// Checks against the system clock.
    pub fn now() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        BlockChecks { now, known: None }
    }
}

fn tx_err(index: usize, p: &tx::PreparedTx, error: TxError) -> BlockError {
    BlockError::Tx {
        index,
        hash: hex::encode(p.hash),
        error,
    }
}

/// The difficulty the block at `ctx.height()` must meet.
pub fn next_difficulty(ctx: &impl ChainContext) -> u128 {
    let height = ctx.height();
    if let Some(fixed) = ctx.net().fixed_difficulty() {
        return if height > 0 { fixed } else { 1 };
    }
    let w = difficulty::difficulty_window(height);
    let target = difficulty_target(ctx.net().hard_fork_version(height));
    difficulty::next_difficulty(
        &ctx.timestamps(w.clone()),
        &ctx.cumulative_difficulties(w),
        target,
    )
}

/// `Blockchain::get_difficulty_target`: `DIFFICULTY_TARGET_V1` (60 s) at hard fork 1,
/// `DIFFICULTY_TARGET_V2` (120 s) from hard fork 2.
pub fn difficulty_target(hf: u8) -> u64 {
    if hf < 2 {
        DIFFICULTY_TARGET_V1
    } else {
        DIFFICULTY_TARGET_V2
    }
}

/// The weight limits for the block at `ctx.height()`.
pub fn weight_limits(ctx: &impl ChainContext) -> weight::WeightLimits {
    let h = ctx.height();
    let hf = ctx.net().hard_fork_version(h);
    let short = ctx.block_weights(h.saturating_sub(CRYPTONOTE_REWARD_BLOCKS_WINDOW)..h);
    let long =
        ctx.long_term_weights(h.saturating_sub(CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE)..h);
    weight::weight_limits(hf, &short, &long)
}

/// The outputs a transaction adds: (amount pool, output), as `BlockchainDB::add_transaction`
/// indexes them (v2 outputs, miner ones too, in pool 0; a clear amount is committed with
/// `zeroCommit`).
pub fn tx_outputs(tx: &Transaction, height: u64) -> Vec<(u64, OutputInfo)> {
    let unlock_time = tx::unlock_time(&tx.prefix().additional_timelock);
    let commitments = match tx {
        Transaction::V2 {
            proofs: Some(p), ..
        } => Some(&p.base.commitments),
        _ => None,
    };
    tx.prefix()
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let amount = o.amount.unwrap_or(0);
            let commitment = commitments
                .and_then(|c| c.get(i))
                .map(|c| c.to_bytes())
                .unwrap_or_else(|| zero_commit(amount));
            let pool = if tx.version() >= 2 { 0 } else { amount };
            (
                pool,
                OutputInfo {
                    key: o.key.to_bytes(),
                    commitment,
                    unlock_time,
                    height,
                },
            )
        })
        .collect()
}

/// `rct::zeroCommit(amount)` = G + amount*H.
pub fn zero_commit(amount: u64) -> [u8; 32] {
    Commitment::new(Scalar::ONE, amount)
        .commit()
        .compress()
        .to_bytes()
}

/// The effects of the genesis block, which monerod adds without verification (its id must
/// be the network's; the caller checks that).
pub fn genesis_effects(b: &PreparedBlock) -> BlockEffects {
    let reward: u64 = b
        .block
        .miner_transaction()
        .prefix()
        .outputs
        .iter()
        .map(|o| o.amount.unwrap_or(0))
        .sum();
    BlockEffects {
        hash: b.hash,
        timestamp: b.block.header.timestamp,
        cumulative_difficulty: 1,
        weight: b.weight(),
        long_term_weight: b.weight(),
        generated_coins: reward,
        outputs: tx_outputs(b.block.miner_transaction(), 0),
        key_images: Vec::new(),
        tx_hashes: vec![b.block.miner_transaction().hash()],
    }
}

/// `handle_block_to_main_chain` for a parsed block whose PoW hash is `pow_hash`: every rule
/// that needs the chain, in monerod's order. On success returns what the block adds and the
/// proofs still to be checked (CLSAGs, range proofs, balances).
pub fn verify_block(
    ctx: &impl ChainContext,
    b: &PreparedBlock,
    pow_hash: &[u8; 32],
    checks: BlockChecks,
) -> Result<(BlockEffects, ProofJobs), BlockError> {
    let height = ctx.height();
    let net = ctx.net();
    let header = &b.block.header;
    if ctx.top_hash() != Some(header.previous) {
        return Err(BlockError::PrevId);
    }
    if !super::checkpoints::check_block(net, height, &b.hash) {
        return Err(BlockError::Checkpoint(height));
    }
    if checks.known.is_some_and(|k| k.id != b.hash) {
        return Err(BlockError::NotSettledBlock(height));
    }
    let fast = checks.known.is_some();
    let hf = net.hard_fork_version(height);
    hardfork::check_version_and_vote(hf, header.hardfork_version, header.hardfork_signal)?;
    let recent =
        ctx.timestamps(height.saturating_sub(BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW as u64)..height);
    block::check_timestamp(header.timestamp, &recent, checks.now)?;
    let difficulty = next_difficulty(ctx);
    if !fast && !pow::check_hash(pow_hash, difficulty) {
        return Err(BlockError::Pow(difficulty));
    }
    block::check_miner_tx_shape(&b.block, height, hf)?;

    let hashes: Vec<[u8; 32]> = b.txs.iter().map(|t| t.hash).collect();
    let unlock_clock = block::unlock_clock(hf, &recent, checks.now);
    let mut jobs = ProofJobs::default();
    let mut block_images = std::collections::HashSet::new();
    let exists = ctx.txs_exist(&hashes);
    for (i, p) in b.txs.iter().enumerate() {
        if exists.get(i).copied().unwrap_or(false) {
            return Err(tx_err(i, p, TxError::AlreadyInChain));
        }
        if fast {
            tx::check_tx_structure(p, hf).map_err(|e| tx_err(i, p, e))?;
        } else {
            tx::check_tx_semantics(p, hf).map_err(|e| tx_err(i, p, e))?;
        }
        for k in &p.key_images {
            if !block_images.insert(*k) {
                return Err(BlockError::DoubleSpendInBlock);
            }
        }
        if fast {
            // monerod skips `check_tx_inputs` here; its store still refuses a spent key
            // image when the block is added.
            let spent = ctx.key_images_spent(&p.key_images);
            if let Some(k) = spent.iter().position(|s| *s) {
                return Err(tx_err(i, p, TxError::KeyImageSpent(k)));
            }
            continue;
        }
        let requests = tx::ring_requests(&p.tx).map_err(|e| tx_err(i, p, e))?;
        let rings: Vec<Vec<Option<OutputInfo>>> = requests
            .iter()
            .map(|r| ctx.outputs(r.amount, &r.indices))
            .collect();
        let spent = ctx.key_images_spent(&p.key_images);
        let num_outputs = |a: u64| ctx.num_outputs(a);
        let ic = InputContext {
            hf,
            chain_height: height,
            unlock_clock,
            rings: &rings,
            spent: &spent,
            num_outputs_for_amount: &num_outputs,
        };
        tx::check_tx_inputs(p, &ic).map_err(|e| tx_err(i, p, e))?;
        let rings = rings
            .into_iter()
            .map(|r| r.into_iter().flatten().collect::<Vec<_>>());
        if tx::is_aggregate_mlsag(&p.tx) {
            jobs.aggregate.push((i, rings.collect()));
        } else {
            for (input, ring) in rings.enumerate() {
                jobs.clsag.push((i, input, ring));
            }
        }
        // Pre-RingCT transactions have no range proofs; their amounts balance in
        // `check_tx_semantics` (inputs cover outputs and the fee).
        if matches!(p.tx, Transaction::V2 { .. }) {
            jobs.range_and_balance.push(i);
        }
    }

    let limits = weight_limits(ctx);
    let block_weight = b.weight();
    if let Some(settled) = checks.known.and_then(|k| k.weight) {
        if settled != block_weight {
            return Err(BlockError::SettledWeight {
                weight: block_weight,
                settled,
            });
        }
    }
    // monerod bounds a block's weight only through `get_block_reward` (twice the median
    // `validate_miner_transaction` uses), not against `m_current_block_cumul_weight_limit`.
    let reward_median = weight::reward_median(hf, &limits, || {
        weight::median(
            &ctx.block_weights(height.saturating_sub(CRYPTONOTE_REWARD_BLOCKS_WINDOW)..height),
        )
    });
    let generated_before = ctx.already_generated_coins();
    let base_reward = block::check_reward(
        &b.block,
        block_weight,
        b.fees()?,
        reward_median,
        generated_before,
        hf,
    )?;
    let generated_coins = if base_reward < MONEY_SUPPLY - generated_before {
        generated_before + base_reward
    } else {
        MONEY_SUPPLY
    };
    let long_window = ctx.long_term_weights(
        height.saturating_sub(CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE)..height,
    );
    let cumulative_difficulty = ctx
        .cumulative_difficulties(height.saturating_sub(1)..height)
        .first()
        .copied()
        .unwrap_or(0)
        .saturating_add(difficulty);

    let miner = b.block.miner_transaction();
    let mut outputs = tx_outputs(miner, height);
    let mut tx_hashes = vec![miner.hash()];
    let mut key_images = Vec::new();
    for p in &b.txs {
        outputs.extend(tx_outputs(&p.tx, height));
        tx_hashes.push(p.hash);
        key_images.extend(tx::key_images(&p.tx));
    }
    let effects = BlockEffects {
        hash: b.hash,
        timestamp: header.timestamp,
        cumulative_difficulty,
        weight: block_weight,
        long_term_weight: weight::long_term_block_weight(hf, block_weight, &long_window),
        generated_coins,
        outputs,
        key_images,
        tx_hashes,
    };
    Ok((effects, jobs))
}

/// The contextual checks of a transaction for the pool, against the chain's top
/// (`tx_memory_pool::add_tx` → `check_tx_inputs` for the next block, plus the pool's fee
/// and extra rules): not already in the chain, semantics, rings that exist and are
/// unlocked, key images unspent. Returns the rings for the proof checks
/// ([`crate::verify::VerifyPool::verify_txs`]).
pub fn check_pool_tx(
    ctx: &impl ChainContext,
    p: &tx::PreparedTx,
    now: u64,
) -> Result<Vec<Vec<OutputInfo>>, TxError> {
    let height = ctx.height();
    let hf = ctx.net().hard_fork_version(height);
    if ctx.txs_exist(&[p.hash]).first().copied().unwrap_or(true) {
        return Err(TxError::AlreadyInChain);
    }
    tx::check_tx_semantics(p, hf)?;
    let recent =
        ctx.timestamps(height.saturating_sub(BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW as u64)..height);
    let rings: Vec<Vec<Option<OutputInfo>>> = tx::ring_requests(&p.tx)?
        .iter()
        .map(|r| ctx.outputs(r.amount, &r.indices))
        .collect();
    let spent = ctx.key_images_spent(&p.key_images);
    let num_outputs = |a: u64| ctx.num_outputs(a);
    tx::check_tx_inputs(
        p,
        &InputContext {
            hf,
            chain_height: height,
            unlock_clock: block::unlock_clock(hf, &recent, now),
            rings: &rings,
            spent: &spent,
            num_outputs_for_amount: &num_outputs,
        },
    )?;
    tx::check_pool_rules(p, hf, &weight_limits(ctx), ctx.already_generated_coins())?;
    Ok(rings
        .into_iter()
        .map(|r| r.into_iter().flatten().collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get_difficulty_target` by fork, and what it does to `next_difficulty`: blocks that
    /// came every 60 s keep their difficulty at hard fork 1 and double it from hard fork 2.
    #[test]
    fn difficulty_target_by_fork() {
        assert_eq!(difficulty_target(1), 60);
        for hf in [2, 5, 12, 16] {
            assert_eq!(difficulty_target(hf), 120);
        }
        let n = DIFFICULTY_BLOCKS_COUNT as u64;
        let timestamps: Vec<u64> = (0..n).map(|i| 1_400_000_000 + 60 * i).collect();
        let cumulative: Vec<u128> = (1..=n).map(|i| 1000 * u128::from(i)).collect();
        let at = |hf| difficulty::next_difficulty(&timestamps, &cumulative, difficulty_target(hf));
        assert_eq!(at(1), 1000);
        assert_eq!(at(2), 2000);
    }
}
