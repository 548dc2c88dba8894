//! What the RPC asks of the sync thread, which owns the transaction pool: a snapshot of
//! the pool, and submitting a transaction. Each call carries its own reply channel; the
//! RPC waits for it on a blocking helper thread, never on an executor.

use std::time::Duration;

use bytes::Bytes;
use crossbeam_channel::Sender;

use crate::consensus::TxError;

/// One pooled transaction as the RPC shows it.
#[derive(Clone, Debug)]
pub struct PooledTx {
    /// Its id.
    pub id: [u8; 32],
    /// Its blob.
    pub blob: Bytes,
    /// Its weight.
    pub weight: u64,
    /// Its fee.
    pub fee: u64,
    /// The key images it spends.
    pub key_images: Vec<[u8; 32]>,
    /// How long ago it was pooled.
    pub age: Duration,
}

/// Why a submitted transaction was not pooled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The node is still syncing (monerod answers `BUSY`).
    Busy,
    /// It breaks a rule.
    Rule(TxError),
    /// Another pooled transaction spends one of its key images.
    DoubleSpendInPool,
    /// The pool is full of better-paying transactions.
    PoolFull,
}

/// A call from the RPC to the sync thread.
#[derive(Debug)]
pub enum RpcCall {
    /// Every pooled transaction.
    Pool(Sender<Vec<PooledTx>>),
    /// Verify and pool a transaction, then relay it (as a local transaction: Dandelion++
    /// stem) unless `relay` is false. The reply is its id, or why not.
    SubmitTx {
        /// The blob.
        blob: Bytes,
        /// Whether to relay it (`do_not_relay` false).
        relay: bool,
        /// The answer.
        reply: Sender<Result<[u8; 32], SubmitError>>,
    },
    /// Verify, relay and commit a block found by a miner (`submit_block`): its
    /// transactions come from the pool. The reply is its id once committed, or why not.
    SubmitBlock {
        /// The block blob.
        blob: Bytes,
        /// The answer.
        reply: Sender<Result<[u8; 32], String>>,
    },
}
