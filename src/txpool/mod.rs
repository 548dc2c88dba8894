//! The transaction pool: verified transactions waiting for a block, kept by fee per
//! weight under a total weight bound, one spender per key image, expiring as monerod's
//! `tx_memory_pool`. Pure data: the node verifies before adding and tells it what blocks
//! took.

pub mod dandelion;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thiserror::Error;

/// monerod's `DEFAULT_TXPOOL_MAX_WEIGHT` (648 MB): `--max-txpool-weight`'s default.
pub const DEFAULT_TXPOOL_MAX_WEIGHT: u64 = 648_000_000;
/// monerod's `CRYPTONOTE_MEMPOOL_TX_LIVETIME`: a transaction not mined in a day leaves.
pub const CRYPTONOTE_MEMPOOL_TX_LIVETIME: Duration = Duration::from_secs(86_400);

/// One pooled transaction.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// Its blob.
    pub blob: Bytes,
    /// Its weight.
    pub weight: u64,
    /// Its fee.
    pub fee: u64,
    /// The key images it spends.
    pub key_images: Vec<[u8; 32]>,
    /// Digest of the rings its proofs were verified against
    /// (`consensus::ring_digest`): a block that includes it skips those proofs while the
    /// rings are unchanged.
    pub ring_digest: [u8; 32],
    /// When it arrived.
    pub added: Instant,
}

impl PoolTx {
    /// Fee per weight, compared without division: `a.fee / a.weight < b.fee / b.weight`.
    fn cheaper_than(&self, other: &PoolTx) -> bool {
        u128::from(self.fee) * u128::from(other.weight.max(1))
            < u128::from(other.fee) * u128::from(self.weight.max(1))
    }
}

/// Why a transaction is not taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PoolError {
    /// It is already pooled.
    #[error("already in the pool")]
    Duplicate,
    /// Another pooled transaction spends one of its key images.
    #[error("spends a key image another pooled transaction spends")]
    KeyImageConflict,
    /// The pool is full of transactions that pay at least as much per weight.
    #[error("pool full of better-paying transactions")]
    Full,
}

/// The pool.
#[derive(Debug)]
pub struct TxPool {
    txs: HashMap<[u8; 32], PoolTx>,
    spenders: HashMap<[u8; 32], [u8; 32]>,
    weight: u64,
    max_weight: u64,
}

impl TxPool {
    /// An empty pool bounded at `max_weight` (`--max-txpool-weight`).
    pub fn new(max_weight: u64) -> Self {
        TxPool {
            txs: HashMap::new(),
            spenders: HashMap::new(),
            weight: 0,
            max_weight,
        }
    }

    /// Whether it holds `id`.
    pub fn contains(&self, id: &[u8; 32]) -> bool {
        self.txs.contains_key(id)
    }

    /// The pooled transaction `id`.
    pub fn get(&self, id: &[u8; 32]) -> Option<&PoolTx> {
        self.txs.get(id)
    }

    /// How many transactions it holds.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Total weight held.
    pub fn weight(&self) -> u64 {
        self.weight
    }

    /// Whether any of `key_images` is spent by a pooled transaction.
    pub fn conflicts(&self, key_images: &[[u8; 32]]) -> bool {
        key_images.iter().any(|k| self.spenders.contains_key(k))
    }

    /// Adds a verified transaction. While over the weight bound the lowest fee per weight
    /// leaves first (monerod's `prune`); a transaction that would itself be the first to
    /// leave is refused.
    pub fn add(&mut self, id: [u8; 32], tx: PoolTx) -> Result<(), PoolError> {
        if self.txs.contains_key(&id) {
            return Err(PoolError::Duplicate);
        }
        if self.conflicts(&tx.key_images) {
            return Err(PoolError::KeyImageConflict);
        }
        let mut evict = Vec::new();
        let mut freed = 0u64;
        if self.weight.saturating_add(tx.weight) > self.max_weight {
            let mut by_rate: Vec<(&[u8; 32], &PoolTx)> = self.txs.iter().collect();
            by_rate.sort_by(|a, b| {
                if a.1.cheaper_than(b.1) {
                    std::cmp::Ordering::Less
                } else if b.1.cheaper_than(a.1) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            for (k, t) in by_rate {
                if self.weight.saturating_sub(freed).saturating_add(tx.weight) <= self.max_weight {
                    break;
                }
                if !t.cheaper_than(&tx) {
                    return Err(PoolError::Full);
                }
                freed += t.weight;
                evict.push(*k);
            }
            if self.weight.saturating_sub(freed).saturating_add(tx.weight) > self.max_weight {
                return Err(PoolError::Full);
            }
        }
        for k in evict {
            self.remove(&k);
        }
        for ki in &tx.key_images {
            self.spenders.insert(*ki, id);
        }
        self.weight += tx.weight;
        self.txs.insert(id, tx);
        Ok(())
    }

    fn remove(&mut self, id: &[u8; 32]) -> Option<PoolTx> {
        let t = self.txs.remove(id)?;
        for ki in &t.key_images {
            self.spenders.remove(ki);
        }
        self.weight -= t.weight;
        Some(t)
    }

    /// A block took `tx_ids` spending `key_images`: those transactions, and any other that
    /// spends one of those key images, leave.
    pub fn on_block(&mut self, tx_ids: &[[u8; 32]], key_images: &[[u8; 32]]) {
        for id in tx_ids {
            self.remove(id);
        }
        let losers: Vec<[u8; 32]> = key_images
            .iter()
            .filter_map(|k| self.spenders.get(k).copied())
            .collect();
        for id in losers {
            self.remove(&id);
        }
    }

    /// Drops what has waited longer than [`CRYPTONOTE_MEMPOOL_TX_LIVETIME`]; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let old: Vec<[u8; 32]> = self
            .txs
            .iter()
            .filter(|(_, t)| {
                now.saturating_duration_since(t.added) > CRYPTONOTE_MEMPOOL_TX_LIVETIME
            })
            .map(|(k, _)| *k)
            .collect();
        for k in &old {
            self.remove(k);
        }
        old.len()
    }

    /// Empties the pool, handing back every transaction (to re-check them after a reorg).
    pub fn drain(&mut self) -> Vec<([u8; 32], PoolTx)> {
        self.spenders.clear();
        self.weight = 0;
        self.txs.drain().collect()
    }

    /// The ids held.
    pub fn hashes(&self) -> Vec<[u8; 32]> {
        self.txs.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(fee: u64, weight: u64, kis: &[u8]) -> PoolTx {
        PoolTx {
            blob: Bytes::new(),
            weight,
            fee,
            key_images: kis.iter().map(|k| [*k; 32]).collect(),
            ring_digest: [0; 32],
            added: Instant::now(),
        }
    }

    #[test]
    fn duplicates_and_key_image_conflicts_are_refused() {
        let mut p = TxPool::new(1000);
        p.add([1; 32], tx(10, 100, &[1, 2])).unwrap();
        assert_eq!(p.add([1; 32], tx(10, 100, &[3])), Err(PoolError::Duplicate));
        assert_eq!(
            p.add([2; 32], tx(99, 100, &[2])),
            Err(PoolError::KeyImageConflict)
        );
        p.add([3; 32], tx(10, 100, &[3])).unwrap();
        assert_eq!((p.len(), p.weight()), (2, 200));
    }

    #[test]
    fn over_the_bound_the_cheapest_per_weight_leaves_first() {
        let mut p = TxPool::new(300);
        p.add([1; 32], tx(100, 100, &[1])).unwrap(); // 1.0 per weight
        p.add([2; 32], tx(50, 100, &[2])).unwrap(); // 0.5
        p.add([3; 32], tx(200, 100, &[3])).unwrap(); // 2.0
                                                     // A cheaper one than everything is refused.
        assert_eq!(p.add([4; 32], tx(10, 100, &[4])), Err(PoolError::Full));
        // A better one evicts the cheapest.
        p.add([5; 32], tx(300, 100, &[5])).unwrap();
        assert!(!p.contains(&[2; 32]) && p.contains(&[5; 32]));
        assert_eq!(p.weight(), 300);
        // Its key image is free again.
        p.add([6; 32], tx(1000, 100, &[2])).unwrap();
        assert!(!p.contains(&[1; 32]));
    }

    #[test]
    fn blocks_take_their_transactions_and_their_double_spends() {
        let mut p = TxPool::new(1000);
        p.add([1; 32], tx(10, 100, &[1])).unwrap();
        p.add([2; 32], tx(10, 100, &[2])).unwrap();
        p.add([3; 32], tx(10, 100, &[3])).unwrap();
        // The block has tx 1 and another tx spending key image 2.
        p.on_block(&[[1; 32], [9; 32]], &[[1; 32], [2; 32]]);
        assert_eq!(p.hashes(), vec![[3; 32]]);
        assert!(!p.conflicts(&[[1; 32], [2; 32]]));
    }

    #[test]
    fn old_transactions_expire() {
        let mut p = TxPool::new(1000);
        p.add([1; 32], tx(10, 100, &[1])).unwrap();
        let later = Instant::now() + CRYPTONOTE_MEMPOOL_TX_LIVETIME + Duration::from_secs(1);
        assert_eq!(p.expire(Instant::now()), 0);
        assert_eq!(p.expire(later), 1);
        assert!(p.is_empty());
    }
}
