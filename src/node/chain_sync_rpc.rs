//! The sync thread's side of the RPC's calls ([`RpcCall`]): pool snapshots and
//! transactions submitted over RPC. Kept apart from `chain_sync.rs` so that the sync
//! driver only gains one match arm.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::{Driver, Outbox, PeerCmd};
use crate::chain::StoreChain;
use crate::rpc::calls::{PooledTx, RpcCall, SubmitError};
use crate::sync::{PeerKey, Syncer};
use crate::txpool::dandelion::Route;
use crate::txpool::{PoolError, PoolTx};
use crate::wire::messages::{BlockCompleteEntry, Message, NewTransactions};

/// The Dandelion++ source key of transactions submitted over RPC (peer keys start at 1):
/// local transactions go along a stem, as monerod's `relay_method::local`.
pub(super) const RPC_SOURCE: PeerKey = 0;

impl Driver {
    /// Answers one RPC call (`behind`: still syncing, so submissions are refused as
    /// monerod's `BUSY`).
    pub(super) fn on_rpc_call(
        &mut self,
        syncer: &mut Syncer,
        outboxes: &HashMap<PeerKey, Outbox>,
        call: RpcCall,
    ) {
        let behind = syncer.behind();
        match call {
            RpcCall::SubmitBlock { blob, reply } => {
                let r = if behind {
                    Err("Core is busy".to_string())
                } else {
                    self.submit_block(syncer, outboxes, blob)
                };
                let _ = reply.send(r);
            }
            RpcCall::Pool(reply) => {
                let now = Instant::now();
                let snapshot = self
                    .txpool
                    .hashes()
                    .into_iter()
                    .filter_map(|id| {
                        let t = self.txpool.get(&id)?;
                        Some(PooledTx {
                            id,
                            blob: t.blob.clone(),
                            weight: t.weight,
                            fee: t.fee,
                            key_images: t.key_images.clone(),
                            age: now.saturating_duration_since(t.added),
                        })
                    })
                    .collect();
                let _ = reply.send(snapshot);
            }
            RpcCall::SubmitTx { blob, relay, reply } => {
                let r = if behind {
                    Err(SubmitError::Busy)
                } else {
                    self.submit_tx(outboxes, blob, relay)
                };
                let _ = reply.send(r);
            }
        }
    }

    /// monerod's `handle_block_found`: the block goes the way of a new block from a peer
    /// (completed from the pool, verified in full, relayed, committed); accepted when it
    /// is then on our chain.
    fn submit_block(
        &mut self,
        syncer: &mut Syncer,
        outboxes: &HashMap<PeerKey, Outbox>,
        blob: bytes::Bytes,
    ) -> Result<[u8; 32], String> {
        let block = monero_oxide::block::Block::read(&mut blob.as_ref())
            .map_err(|e| format!("block does not parse: {e}"))?;
        let hash = block.hash();
        let height = self.reader.view().block_count + 1;
        let entry = BlockCompleteEntry {
            block: blob,
            ..Default::default()
        };
        if let Some((_, fault)) =
            self.on_new_block(syncer, outboxes, RPC_SOURCE, entry, height, Instant::now())
        {
            return Err(format!("{fault:?}"));
        }
        match self.reader.block_heights(&[hash]) {
            Ok(v) if v.first().is_some_and(Option::is_some) => Ok(hash),
            _ => Err("not added to the main chain (a transaction missing from the pool, or not on our top)".into()),
        }
    }

    /// monerod's `handle_incoming_tx` for one local transaction: checked against the
    /// chain's top and the pool, its proofs verified, pooled, then sent along a
    /// Dandelion++ stem (or fluffed when no stem peer is left).
    fn submit_tx(
        &mut self,
        outboxes: &HashMap<PeerKey, Outbox>,
        blob: bytes::Bytes,
        relay: bool,
    ) -> Result<[u8; 32], SubmitError> {
        let p = crate::consensus::tx::prepare_tx(&blob).map_err(SubmitError::Rule)?;
        let id = p.hash;
        if self.txpool.contains(&id) {
            return Ok(id);
        }
        if self.txpool.conflicts(&p.key_images) {
            return Err(SubmitError::DoubleSpendInPool);
        }
        let base = StoreChain::new(self.net, self.reader.clone(), Arc::clone(&self.window));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let rings =
            crate::consensus::verify::check_pool_tx(&base, &p, now).map_err(SubmitError::Rule)?;
        let ring_digest = crate::consensus::ring_digest(&rings);
        let p = Arc::new(p);
        let verdict = self
            .pool
            .verify_txs(vec![(Arc::clone(&p), rings)])
            .pop()
            .unwrap_or(Err(crate::consensus::TxError::Parse(
                "no verdict from the verification pool".into(),
            )));
        verdict.map_err(SubmitError::Rule)?;
        let added = self.txpool.add(
            id,
            PoolTx {
                blob: blob.clone(),
                weight: p.weight,
                fee: p.fee,
                key_images: p.key_images.clone(),
                ring_digest,
                added: Instant::now(),
            },
        );
        match added {
            Ok(()) => {}
            Err(PoolError::Duplicate) => return Ok(id),
            Err(PoolError::KeyImageConflict) => return Err(SubmitError::DoubleSpendInPool),
            Err(PoolError::Full) => return Err(SubmitError::PoolFull),
        }
        if !relay {
            tracing::info!(id = %hex::encode(id), "transaction from RPC pooled, not relayed");
            return Ok(id);
        }
        match self.dandelion.route(RPC_SOURCE, true) {
            Route::Stem(to) => {
                self.dandelion
                    .embargo(id, Instant::now(), &mut rand::thread_rng());
                if let Some(o) = outboxes.get(&to) {
                    let _ = o.unbounded_send(PeerCmd::Send(Message::NewTransactions(
                        NewTransactions {
                            txs: vec![blob],
                            dandelionpp_fluff: Some(false),
                            ..Default::default()
                        },
                    )));
                }
                tracing::info!(id = %hex::encode(id), "transaction from RPC pooled and sent along the Dandelion++ stem");
            }
            Route::Fluff => {
                let peers = super::fluff(outboxes, RPC_SOURCE, vec![blob]);
                tracing::info!(id = %hex::encode(id), relayed_to = peers, "transaction from RPC pooled and relayed");
            }
        }
        Ok(id)
    }
}
