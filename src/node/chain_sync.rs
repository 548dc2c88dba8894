//! The node's chain: the store, the verification pool and the sync driver.
//!
//! One `xmrd-sync` thread owns the [`Syncer`], the store's committer handle (the single
//! committer is the store's own thread; this is its only client), the metadata window and
//! the verification pool. Peer tasks on the shards send it [`SyncInput`]s over a crossbeam
//! channel and receive [`PeerCmd`]s on their own [`Outbox`], which wakes them. Serving (2006, 2003) happens in the peer tasks from the store's lock-free
//! read side and never waits for this thread.

#[path = "chain_sync_rpc.rs"]
mod rpc_calls;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use xmrd_storage::{BlockWrite, ChainReader, ChainStore, CommitHandle, StoreConfig};

use crate::chain::{block_write, MetaWindow, StoreChain};
use crate::consensus::fast_sync::{BlockHashGroups, SettledBlocks};
use crate::consensus::pow::RandomXHasher;
use crate::consensus::{ChainContext, ConsensusNet, Overlay};
use crate::sync::{Action, Downloaded, Fork, PeerKey, SyncFault, Syncer, MAX_BLOCKS_PER_REQUEST};
use crate::txpool::dandelion::{Dandelion, Route};
use crate::txpool::{PoolTx, TxPool};
use crate::verify::{BlockChecks, SpanBlock, VerifyPool};
use crate::wire::epee::{Hashes, U64s};
use crate::wire::messages::{
    BlockCompleteEntry, BlockTxs, ChainRequest, ChainResponse, FluffyMissingTxRequest,
    GetObjectsRequest, GetObjectsResponse, GetTxPoolComplement, Message, NewFluffyBlock,
    NewTransactions,
};

/// How many ids a chain entry we serve carries (`BLOCKS_IDS_SYNCHRONIZING_DEFAULT_COUNT`).
pub const BLOCKS_IDS_SYNCHRONIZING_DEFAULT_COUNT: u64 = 10_000;
/// Most blocks a peer may ask in one 2003 (`CURRENCY_PROTOCOL_MAX_OBJECT_REQUEST_COUNT`).
pub const CURRENCY_PROTOCOL_MAX_OBJECT_REQUEST_COUNT: usize = 500;
/// How many downloaded blocks one verification span takes at most.
pub const VERIFY_SPAN_BLOCKS: usize = 2 * MAX_BLOCKS_PER_REQUEST;
/// How often progress is logged while behind.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// What [`Driver::admit_txs`] made of a batch of transactions.
#[derive(Debug, Default)]
struct Admitted {
    /// Newly pooled: id and blob.
    pooled: Vec<([u8; 32], bytes::Bytes)>,
    /// Already pooled before.
    known: Vec<[u8; 32]>,
    /// The rule a transaction broke (with `fail_fast`; nothing pooled then).
    broken: Option<String>,
}

impl Admitted {
    fn broken(why: String) -> Self {
        Admitted {
            broken: Some(why),
            ..Admitted::default()
        }
    }
}

/// What a peer task tells the sync thread.
#[derive(Debug)]
pub enum SyncInput {
    /// A peer handshaked: its chain, and where to send it commands.
    Peer {
        /// The peer.
        key: PeerKey,
        /// Its chain height.
        height: u64,
        /// Its cumulative difficulty.
        cumulative_difficulty: u128,
        /// Its outbox.
        outbox: Outbox,
        /// Whether we dialled it (Dandelion++ stems are outbound peers).
        outbound: bool,
    },
    /// A timed sync told us its chain.
    State {
        /// The peer.
        key: PeerKey,
        /// Its chain height.
        height: u64,
        /// Its cumulative difficulty.
        cumulative_difficulty: u128,
    },
    /// A 2007 from the peer.
    ChainEntry(PeerKey, ChainResponse),
    /// A 2004 from the peer.
    Objects(PeerKey, GetObjectsResponse),
    /// A new block from the peer (2008 fluffy, or 2001 with all its transactions).
    NewBlock {
        /// The peer.
        key: PeerKey,
        /// The block and the transactions it came with.
        block: BlockCompleteEntry,
        /// The peer's chain height.
        height: u64,
        /// When its first byte was read (for the relay latency log).
        received: Instant,
    },
    /// Transactions relayed by the peer (2002), and whether along a Dandelion++ stem.
    NewTxs(PeerKey, Vec<bytes::Bytes>, bool),
    /// The peer asks for the pool transactions it lacks (2010), naming those it has.
    PoolComplement(PeerKey, Vec<[u8; 32]>),
    /// The peer's connection ended.
    Gone(PeerKey),
    /// A call from the RPC (pool snapshot, submitted transaction).
    Rpc(crate::rpc::calls::RpcCall),
}

/// A peer task's inbox from the sync thread. Sending wakes the task at once (glommio
/// tasks take wakes from other threads), so a relay waits for no poll.
pub type Outbox = futures_channel::mpsc::UnboundedSender<PeerCmd>;

/// What the sync thread tells a peer task.
#[derive(Debug)]
pub enum PeerCmd {
    /// Send this message.
    Send(Message),
    /// Relay this new block, which arrived at `since` (for the relay-latency histogram).
    Relay(Message, Instant),
    /// Drop the connection for this fault.
    Drop(SyncFault),
}

/// The node's chain handles.
pub struct NodeChain {
    /// Reads the store from any thread.
    pub reader: ChainReader,
    /// Where peer tasks send sync input.
    pub sync: Sender<SyncInput>,
    /// The consensus network.
    pub net: ConsensusNet,
    /// Blocks verified for relay, so that a 2009 for one is answered before it is
    /// committed.
    pub recent: Arc<RecentBlocks>,
    /// The transaction pool's size, as the sync thread last published it.
    pub pool_stats: Arc<PoolStats>,
    /// The verifiers' RandomX hasher (the RPC mines and fills `pow_hash` with it).
    pub pow: Arc<RandomXHasher>,
    /// Fast sync's counters.
    pub fast_sync: Arc<FastSyncStats>,
}

/// Fast sync's counters, for the metrics.
#[derive(Debug, Default)]
pub struct FastSyncStats {
    /// Blocks settled by the block-hash groups from peers' chain entries.
    pub settled: std::sync::atomic::AtomicU64,
    /// Blocks verified as settled ones (no proof of work, signatures or proofs).
    pub checked: std::sync::atomic::AtomicU64,
}

/// The pool's size for readers outside the sync thread (metrics).
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Transactions pooled.
    pub txs: std::sync::atomic::AtomicU64,
    /// Their total weight.
    pub weight: std::sync::atomic::AtomicU64,
}

impl PoolStats {
    fn publish(&self, pool: &TxPool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.txs
            .store(u64::try_from(pool.len()).unwrap_or(u64::MAX), Relaxed);
        self.weight.store(pool.weight(), Relaxed);
    }
}

/// Most recently verified new blocks kept for answering 2009 (monerod answers from its
/// chain and alt-chain database; a relay goes out before our commit, so the last few are
/// kept here too).
pub const RECENT_BLOCKS: usize = 8;

/// The last [`RECENT_BLOCKS`] new blocks this node verified: id, blob and transaction
/// blobs in the block's order.
#[derive(Debug, Default)]
pub struct RecentBlocks(std::sync::Mutex<std::collections::VecDeque<RecentBlock>>);

/// One verified new block.
#[derive(Debug, Clone)]
pub struct RecentBlock {
    /// Its id.
    pub hash: [u8; 32],
    /// Its blob.
    pub blob: bytes::Bytes,
    /// Its transactions (not the miner's), in the block's order.
    pub txs: Vec<bytes::Bytes>,
}

impl RecentBlocks {
    fn push(&self, b: RecentBlock) {
        if let Ok(mut q) = self.0.lock() {
            if q.len() >= RECENT_BLOCKS {
                q.pop_front();
            }
            q.push_back(b);
        }
    }

    /// The block with this id, if it is one of the last verified.
    pub fn get(&self, hash: &[u8; 32]) -> Option<RecentBlock> {
        self.0
            .lock()
            .ok()
            .and_then(|q| q.iter().find(|b| &b.hash == hash).cloned())
    }
}

impl std::fmt::Debug for NodeChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeChain").field("net", &self.net).finish()
    }
}

/// The sync thread's settings.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// `--randomx-mode`.
    pub randomx: crate::consensus::pow::RandomXMode,
    /// `--verify-threads` (0: one per core).
    pub verify_threads: usize,
    /// `--block-download-max-size`, resolved.
    pub max_buffer_bytes: usize,
    /// `--max-txpool-weight`.
    pub max_txpool_weight: u64,
    /// Fast sync's block-hash groups (empty: `--fast-block-sync 0` or no data).
    pub block_hashes: BlockHashGroups,
}

/// Opens the store under `data_dir` (adding the genesis block to an empty one), and starts
/// the sync thread.
pub fn start(
    data_dir: &std::path::Path,
    net: ConsensusNet,
    genesis_blob: &[u8],
    opts: ChainOptions,
) -> anyhow::Result<NodeChain> {
    let ChainOptions {
        randomx,
        verify_threads,
        max_buffer_bytes,
        max_txpool_weight,
        block_hashes,
    } = opts;
    let store = ChainStore::open(&xmrd_storage::chain_path(data_dir), &StoreConfig::default())?;
    let reader = store.reader();
    let committer = store.committer();
    let pool = Arc::new(VerifyPool::new(
        verify_threads,
        Arc::new(RandomXHasher::new(randomx)),
    )?);
    if reader.view().block_count == 0 {
        let empty = StoreChain::new(net, reader.clone(), Arc::new(MetaWindow::default()));
        let v = pool
            .verify_span_blocking(
                &empty,
                vec![SpanBlock::new(genesis_blob.to_vec(), Vec::new())],
                BlockChecks::now(),
            )
            .pop()
            .ok_or_else(|| anyhow::anyhow!("no verdict for the genesis block"))??;
        committer.push_block(block_write(&v, net))?;
        tracing::info!(id = %hex::encode(v.effects.hash), "chain store initialised with the genesis block");
    }
    let window = MetaWindow::load(&reader)?;
    let (tx, rx) = crossbeam_channel::unbounded();
    let r2 = reader.clone();
    let recent = Arc::new(RecentBlocks::default());
    let pool_stats = Arc::new(PoolStats::default());
    let pow = Arc::clone(pool.pow());
    let fast_sync = Arc::new(FastSyncStats::default());
    if !block_hashes.is_empty() {
        tracing::info!(
            groups = block_hashes.len(),
            below = block_hashes.end_height(),
            "fast sync: block-hash data loaded"
        );
    }
    let d = Driver {
        fast_sync: Arc::clone(&fast_sync),
        pool_stats: Arc::clone(&pool_stats),
        reader: reader.clone(),
        committer,
        pool,
        window: Arc::new(window),
        net,
        alt: None,
        progress: Progress::new(reader.view().block_count),
        recent: Arc::clone(&recent),
        asked_missing: std::collections::HashSet::new(),
        txpool: TxPool::new(max_txpool_weight),
        asked_complement: false,
        dandelion: Dandelion::new(),
        outbound: Vec::new(),
        last_expiry: Instant::now(),
        settled: SettledBlocks::new(block_hashes),
    };
    std::thread::Builder::new()
        .name("xmrd-sync".into())
        .spawn(move || {
            let _store = store; // keeps the committer thread alive
            sync_loop(rx, d, max_buffer_bytes)
        })?;
    Ok(NodeChain {
        reader: r2,
        sync: tx,
        net,
        recent,
        pool_stats,
        pow,
        fast_sync,
    })
}

/// An alternative chain being verified before the node switches to it: our chain below
/// the fork with the fork's verified blocks applied on top, and their store writes.
struct AltBranch {
    epoch: u64,
    chain: Overlay<StoreChain>,
    writes: Vec<BlockWrite>,
}

impl AltBranch {
    fn cumulative_difficulty(&self) -> u128 {
        self.chain
            .applied()
            .last()
            .map_or(self.chain.base().view().cumulative_difficulty, |e| {
                e.cumulative_difficulty
            })
    }
}

/// The sync thread's state besides the [`Syncer`].
struct Driver {
    reader: ChainReader,
    committer: CommitHandle,
    pool: Arc<VerifyPool>,
    window: Arc<MetaWindow>,
    net: ConsensusNet,
    alt: Option<AltBranch>,
    progress: Progress,
    recent: Arc<RecentBlocks>,
    /// New blocks whose missing transactions we asked the sender for (2009), bounded by
    /// [`MAX_ASKED_MISSING`].
    asked_missing: std::collections::HashSet<[u8; 32]>,
    txpool: TxPool,
    last_expiry: Instant,
    asked_complement: bool,
    dandelion: Dandelion,
    /// Peers we dialled, in connection order.
    outbound: Vec<PeerKey>,
    pool_stats: Arc<PoolStats>,
    /// Fast sync: blocks settled by the block-hash groups, not yet committed.
    settled: SettledBlocks,
    fast_sync: Arc<FastSyncStats>,
}

/// Downloaded blocks as a span to verify, each with the block fast sync settled at its
/// height, if any.
fn settled_span(settled: &SettledBlocks, ready: Vec<Downloaded>) -> Vec<SpanBlock> {
    ready
        .into_iter()
        .map(|d| SpanBlock {
            known: settled.at(d.height),
            ..d.block
        })
        .collect()
}

/// Most bytes of transactions one answer to a 2010 carries (monerod sends its whole
/// complement; this keeps the answer well under the levin packet limits).
pub const POOL_COMPLEMENT_MAX_BYTES: usize = 8 * 1024 * 1024;

/// How often unmined transactions are checked for expiry.
pub const POOL_EXPIRY_INTERVAL: Duration = Duration::from_secs(60);

/// Most new blocks with a 2009 outstanding that are remembered.
pub const MAX_ASKED_MISSING: usize = 64;

fn sync_loop(rx: Receiver<SyncInput>, mut d: Driver, max_buffer_bytes: usize) {
    let view = d.reader.view();
    let mut syncer = Syncer::new(
        view.block_count,
        view.cumulative_difficulty,
        max_buffer_bytes,
    );
    let mut outboxes: HashMap<PeerKey, Outbox> = HashMap::new();
    // No peer has told us the network's height yet: count as a little behind, so that
    // `auto` does not build a fast-mode dataset before it knows whether we are synced.
    set_main_seed(
        &d.pool,
        &d.reader,
        view.block_count,
        view.block_count + crate::consensus::pow::AUTO_FAST_NEAR_TIP_BLOCKS + 1,
    );
    loop {
        // Inputs: wait a little when idle.
        let first = rx.recv_timeout(Duration::from_millis(50));
        let inputs: Vec<SyncInput> = match first {
            Ok(i) => std::iter::once(i).chain(rx.try_iter()).collect(),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Vec::new(),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        };
        let mut drops: Vec<(PeerKey, SyncFault)> = Vec::new();
        for input in inputs {
            match input {
                SyncInput::Peer {
                    key,
                    height,
                    cumulative_difficulty,
                    outbox,
                    outbound,
                } => {
                    outboxes.insert(key, outbox);
                    if outbound {
                        d.outbound.push(key);
                    }
                    syncer.on_peer_state(key, height, cumulative_difficulty);
                }
                SyncInput::State {
                    key,
                    height,
                    cumulative_difficulty,
                } => syncer.on_peer_state(key, height, cumulative_difficulty),
                SyncInput::ChainEntry(key, r) => {
                    syncer.set_fork_floor(crate::consensus::checkpoints::fork_floor(
                        d.net,
                        d.reader.view().block_count,
                    ));
                    // Fast sync first, as monerod's `handle_response_chain_entry`: an
                    // entry against the block-hash data drops its peer before anything of
                    // it is planned, and only its usable ids are planned.
                    let Some(r) = d.settle(r) else {
                        drops.push((
                            key,
                            SyncFault::BadChainEntry("most blocks contradict the fast-sync data"),
                        ));
                        continue;
                    };
                    if let Err(f) = syncer.on_chain_entry(key, &r, |h| d.hash_at(h)) {
                        drops.push((key, f));
                    }
                }
                SyncInput::Objects(key, r) => {
                    if let Err(f) = syncer.on_objects(key, &r) {
                        drops.push((key, f));
                    }
                }
                // Like monerod, relayed transactions are looked at only once synced: while
                // behind, their rings may name outputs we do not have yet.
                SyncInput::NewTxs(key, txs, stem) if !syncer.behind() => {
                    if let Some(f) = d.on_new_txs(&outboxes, key, txs, stem) {
                        drops.push(f);
                    }
                }
                SyncInput::NewTxs(..) => {}
                SyncInput::PoolComplement(key, have) => {
                    if let Some(o) = outboxes.get(&key) {
                        if let Some(m) = d.pool_complement(&have) {
                            let _ = o.unbounded_send(PeerCmd::Send(m));
                        }
                    }
                }
                SyncInput::NewBlock {
                    key,
                    block,
                    height,
                    received,
                } => {
                    if let Some(f) =
                        d.on_new_block(&mut syncer, &outboxes, key, block, height, received)
                    {
                        drops.push(f);
                    }
                }
                SyncInput::Rpc(call) => d.on_rpc_call(&mut syncer, &outboxes, call),
                SyncInput::Gone(key) => {
                    outboxes.remove(&key);
                    d.outbound.retain(|k| *k != key);
                    syncer.on_peer_gone(key);
                }
            }
        }
        // Verify and commit what is ready (a fork's blocks: verify, and switch once heavier).
        let ready = syncer.take_ready(VERIFY_SPAN_BLOCKS);
        if !ready.is_empty() {
            let fault = match syncer.fork() {
                Some(fork) => d.verify_alt(&mut syncer, fork, ready),
                None => d.verify_main(&mut syncer, ready),
            };
            drops.extend(fault);
        }
        for (k, f) in drops {
            syncer.on_peer_gone(k);
            if let Some(o) = outboxes.remove(&k) {
                let _ = o.unbounded_send(PeerCmd::Drop(f));
            }
        }
        for a in syncer.poll(Instant::now(), |h| d.hash_at(h)) {
            match a {
                Action::Send(k, m) => {
                    if let Some(o) = outboxes.get(&k) {
                        let _ = o.unbounded_send(PeerCmd::Send(m));
                    }
                }
                Action::Drop(k, f) => {
                    if let Some(o) = outboxes.remove(&k) {
                        let _ = o.unbounded_send(PeerCmd::Drop(f));
                    }
                }
            }
        }
        d.progress.maybe_log(syncer.height(), syncer.target());
        // Once synced, ask one peer for the pool transactions we lack (monerod asks once,
        // after its sync, `request_txpool_complement`).
        if !d.asked_complement && !syncer.behind() {
            if let Some(o) = syncer.synced_peer().and_then(|k| outboxes.get(&k)) {
                d.asked_complement = true;
                let _ = o.unbounded_send(PeerCmd::Send(Message::GetTxPoolComplement(
                    GetTxPoolComplement {
                        hashes: Hashes::from_items(d.txpool.hashes().iter()),
                        ..Default::default()
                    },
                )));
            }
        }
        d.dandelion_tick(&outboxes);
        d.pool_stats.publish(&d.txpool);
        if d.last_expiry.elapsed() > POOL_EXPIRY_INTERVAL {
            d.last_expiry = Instant::now();
            let n = d.txpool.expire(d.last_expiry);
            if n > 0 {
                tracing::info!(expired = n, "transactions left the pool unmined");
            }
        }
    }
}

impl Driver {
    /// A new block from a peer (monerod's `handle_notify_new_fluffy_block`): one that
    /// extends our top is completed (its missing transactions asked from the sender with
    /// 2009, as we keep no pool yet), verified, relayed to every other peer as a fluffy
    /// block and then committed; one on a chain we lack makes us ask that peer for its
    /// chain (monerod's orphan path).
    fn on_new_block(
        &mut self,
        syncer: &mut Syncer,
        outboxes: &HashMap<PeerKey, Outbox>,
        key: PeerKey,
        entry: BlockCompleteEntry,
        their_height: u64,
        received: Instant,
    ) -> Option<(PeerKey, SyncFault)> {
        let fault = |why: &'static str| Some((key, SyncFault::BadObjects(why)));
        let Ok(block) = monero_oxide::block::Block::read(&mut entry.block.as_ref()) else {
            return fault("a new block does not parse");
        };
        let hash = block.hash();
        let known = self
            .reader
            .block_heights(&[hash])
            .ok()
            .and_then(|mut v| v.pop().flatten())
            .is_some();
        if known {
            return None;
        }
        let view = self.reader.view();
        if block.header.previous != view.top_hash {
            syncer.on_peer_ahead(key, their_height);
            return None;
        }
        // The transactions it came with, by id; each must be one of the block's.
        let mut given: HashMap<[u8; 32], Vec<u8>> = HashMap::new();
        let blobs: &[bytes::Bytes] = match &entry.txs {
            BlockTxs::Full(v) => v,
            BlockTxs::Pruned(v) if v.is_empty() => &[],
            BlockTxs::Pruned(_) => return fault("pruned transactions in a new block"),
        };
        for b in blobs {
            let Ok(tx) = monero_oxide::transaction::Transaction::read(&mut b.as_ref()) else {
                return fault("a transaction of a new block does not parse");
            };
            let id = tx.hash();
            if !block.transactions.contains(&id) {
                return fault("a transaction that is not in the new block");
            }
            given.insert(id, b.to_vec());
        }
        let mut txs = Vec::with_capacity(block.transactions.len());
        let mut missing = Vec::new();
        let mut proven = crate::consensus::ProvenTxs::new();
        for (i, id) in block.transactions.iter().enumerate() {
            if let Some(t) = self.txpool.get(id) {
                proven.insert(*id, t.ring_digest);
            }
            match given
                .remove(id)
                .or_else(|| self.txpool.get(id).map(|t| t.blob.to_vec()))
            {
                Some(b) => txs.push(b),
                None => missing.push(i as u64),
            }
        }
        if !missing.is_empty() {
            if self.asked_missing.contains(&hash) {
                return fault("did not send the transactions asked for");
            }
            if self.asked_missing.len() >= MAX_ASKED_MISSING {
                self.asked_missing.clear();
            }
            self.asked_missing.insert(hash);
            if let Some(o) = outboxes.get(&key) {
                let _ = o.unbounded_send(PeerCmd::Send(Message::FluffyMissingTxRequest(
                    FluffyMissingTxRequest {
                        block_hash: hash,
                        current_blockchain_height: view.block_count,
                        missing_tx_indices: U64s::from_items(missing.iter()),
                        ..Default::default()
                    },
                )));
            }
            return None;
        }
        self.asked_missing.remove(&hash);
        let base = StoreChain::new(self.net, self.reader.clone(), Arc::clone(&self.window));
        let tx_blobs: Vec<bytes::Bytes> =
            txs.iter().map(|t| bytes::Bytes::from(t.clone())).collect();
        let verdict = self.pool.verify_span_proven(
            &base,
            vec![SpanBlock::new(entry.block.to_vec(), txs)],
            BlockChecks::now(),
            &proven,
        );
        let (writes, failed) = split_verdict(verdict, self.net);
        if let Some((_, e)) = failed {
            tracing::warn!(height = view.block_count, "new block refused: {e}");
            return Some((key, SyncFault::InvalidBlock(e.to_string())));
        }
        // Relay first (every check passed), then commit.
        self.recent.push(RecentBlock {
            hash,
            blob: entry.block.clone(),
            txs: tx_blobs,
        });
        let relay = Message::NewFluffyBlock(NewFluffyBlock {
            b: BlockCompleteEntry {
                block: entry.block.clone(),
                ..Default::default()
            },
            current_blockchain_height: view.block_count + 1,
            ..Default::default()
        });
        xmrd_shards::latency::record_labeled(
            crate::metrics::RELAY_METRIC,
            "stage",
            "checked",
            received.elapsed(),
        );
        let mut relayed = 0;
        for (k, o) in outboxes {
            if *k != key
                && o.unbounded_send(PeerCmd::Relay(relay.clone(), received))
                    .is_ok()
            {
                relayed += 1;
            }
        }
        let relay_ms = received.elapsed().as_secs_f64() * 1e3;
        match self.commit_main(syncer, writes) {
            Ok(_) => {
                tracing::info!(
                    height = view.block_count,
                    id = %hex::encode(hash),
                    relayed,
                    relay_ms = format_args!("{relay_ms:.1}"),
                    "new block verified, relayed and committed"
                );
            }
            Err(e) => tracing::error!("commit of a new block failed: {e}"),
        }
        None
    }

    /// Commits blocks that extend our chain in one atomic write and moves the metadata
    /// window, the syncer and the RandomX seed along.
    fn commit_main(
        &mut self,
        syncer: &mut Syncer,
        writes: Vec<BlockWrite>,
    ) -> Result<xmrd_storage::ReadView, xmrd_storage::StoreError> {
        let metas: Vec<_> = writes.iter().map(|w| w.meta).collect();
        let taken: Vec<[u8; 32]> = writes
            .iter()
            .flat_map(|w| w.txs.iter().map(|t| t.hash))
            .collect();
        let spent: Vec<[u8; 32]> = writes
            .iter()
            .flat_map(|w| w.txs.iter().flat_map(|t| t.key_images.iter().copied()))
            .collect();
        let view = self.committer.push_blocks(writes)?;
        self.txpool.on_block(&taken, &spent);
        let w = Arc::make_mut(&mut self.window);
        for m in metas {
            w.push(m);
        }
        syncer.on_chain(view.block_count, view.cumulative_difficulty);
        self.settled.committed_below(view.block_count);
        set_main_seed(&self.pool, &self.reader, view.block_count, syncer.target());
        Ok(view)
    }

    /// After a reorg, every pooled transaction and those of the popped blocks are checked
    /// again against the new chain (monerod re-validates its pool on
    /// `on_blockchain_dec`): a ring member may now be another output, a key image may be
    /// spent, a transaction may be in the new branch. Those that pass are pooled again,
    /// keeping their arrival time; the rest leave.
    fn recheck_pool(&mut self, returned: Vec<bytes::Bytes>) {
        let pooled = self.txpool.drain();
        let before = pooled.len();
        let mut added: HashMap<[u8; 32], Instant> =
            pooled.iter().map(|(id, t)| (*id, t.added)).collect();
        let blobs: Vec<bytes::Bytes> = pooled
            .into_iter()
            .map(|(_, t)| t.blob)
            .chain(returned)
            .collect();
        let candidates = blobs.len();
        let kept = self.admit_txs(blobs, false, &mut added).pooled;
        tracing::info!(
            pooled_before = before,
            candidates,
            pooled = kept.len(),
            "transaction pool re-checked after the reorg"
        );
    }

    /// Checks `blobs` against the chain's top and the pool, verifies their proofs on the
    /// pool and pools those that pass. With `fail_fast` the first broken rule stops it and
    /// nothing is pooled; without, a failing transaction is skipped. Conflicting ones are
    /// skipped either way. `arrived` gives the arrival time of re-checked ones.
    fn admit_txs(
        &mut self,
        blobs: Vec<bytes::Bytes>,
        fail_fast: bool,
        arrived: &mut HashMap<[u8; 32], Instant>,
    ) -> Admitted {
        let mut out = Admitted::default();
        let base = StoreChain::new(self.net, self.reader.clone(), Arc::clone(&self.window));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut jobs = Vec::new();
        let mut kept = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for blob in blobs {
            let p = match crate::consensus::tx::prepare_tx(&blob) {
                Ok(p) => p,
                Err(e) if fail_fast => return Admitted::broken(e.to_string()),
                Err(_) => continue,
            };
            if !seen.insert(p.hash) {
                continue;
            }
            if self.txpool.contains(&p.hash) {
                out.known.push(p.hash);
                continue;
            }
            if self.txpool.conflicts(&p.key_images) {
                continue;
            }
            match crate::consensus::verify::check_pool_tx(&base, &p, now) {
                Ok(rings) => {
                    let p = Arc::new(p);
                    let digest = crate::consensus::ring_digest(&rings);
                    jobs.push((Arc::clone(&p), rings));
                    kept.push((p, blob, digest));
                }
                Err(crate::consensus::TxError::AlreadyInChain) => {}
                Err(e) if fail_fast => return Admitted::broken(e.to_string()),
                Err(_) => {}
            }
        }
        if jobs.is_empty() {
            return out;
        }
        let verdicts = self.pool.verify_txs(jobs);
        if fail_fast {
            if let Some(Err(e)) = verdicts.iter().find(|v| v.is_err()) {
                return Admitted::broken(e.to_string());
            }
        }
        for ((p, blob, ring_digest), v) in kept.into_iter().zip(verdicts) {
            if v.is_err() {
                continue;
            }
            let added = self.txpool.add(
                p.hash,
                PoolTx {
                    blob: blob.clone(),
                    weight: p.weight,
                    fee: p.fee,
                    key_images: p.key_images.clone(),
                    ring_digest,
                    added: arrived.remove(&p.hash).unwrap_or_else(Instant::now),
                },
            );
            match added {
                Ok(()) => out.pooled.push((p.hash, blob)),
                Err(e) => tracing::debug!(id = %hex::encode(p.hash), "not pooled: {e}"),
            }
        }
        out
    }

    /// Transactions relayed by a peer (`handle_notify_new_transactions`): each is parsed,
    /// checked against the chain's top and the pool, its proofs verified on the pool, and
    /// those accepted are pooled and relayed (fluff) to every other peer. A transaction
    /// that fails a rule drops its sender, as monerod does; one we already have, or whose
    /// key image another pooled transaction spends, is skipped.
    fn on_new_txs(
        &mut self,
        outboxes: &HashMap<PeerKey, Outbox>,
        key: PeerKey,
        blobs: Vec<bytes::Bytes>,
        stem: bool,
    ) -> Option<(PeerKey, SyncFault)> {
        let admitted = self.admit_txs(blobs, true, &mut HashMap::new());
        if let Some(e) = admitted.broken {
            return Some((key, SyncFault::InvalidTx(e)));
        }
        if !stem {
            // Seen fluffed: an embargoed stem transaction needs us no more.
            for id in &admitted.known {
                self.dandelion.release(id);
            }
        }
        let (relayed_ids, relay): (Vec<[u8; 32]>, Vec<bytes::Bytes>) =
            admitted.pooled.into_iter().unzip();
        if relay.is_empty() {
            return None;
        }
        let n = relay.len();
        match self.dandelion.route(key, stem) {
            Route::Stem(to) => {
                let mut rng = rand::thread_rng();
                for id in relayed_ids {
                    self.dandelion.embargo(id, Instant::now(), &mut rng);
                }
                if let Some(o) = outboxes.get(&to) {
                    let _ = o.unbounded_send(PeerCmd::Send(Message::NewTransactions(
                        NewTransactions {
                            txs: relay,
                            dandelionpp_fluff: Some(false),
                            ..Default::default()
                        },
                    )));
                }
                tracing::info!(
                    txs = n,
                    pool = self.txpool.len(),
                    "transactions verified, pooled and sent on along the Dandelion++ stem"
                );
            }
            Route::Fluff => {
                let peers = fluff(outboxes, key, relay);
                tracing::info!(
                    txs = n,
                    pool = self.txpool.len(),
                    relayed_to = peers,
                    "transactions verified, pooled and relayed"
                );
            }
        }
        None
    }

    /// Dandelion++ epochs, and fluffing the stem transactions whose embargo ran out.
    fn dandelion_tick(&mut self, outboxes: &HashMap<PeerKey, Outbox>) {
        let now = Instant::now();
        self.dandelion
            .tick(now, &self.outbound, &mut rand::thread_rng());
        let due: Vec<bytes::Bytes> = self
            .dandelion
            .expired(now)
            .iter()
            .filter_map(|id| self.txpool.get(id).map(|t| t.blob.clone()))
            .collect();
        if !due.is_empty() {
            let n = due.len();
            let peers = fluff(outboxes, PeerKey::MAX, due);
            tracing::info!(
                txs = n,
                relayed_to = peers,
                "embargo over: fluffing stem transactions"
            );
        }
    }

    /// The pool transactions a peer does not have (`get_txpool_complement`), as one 2002,
    /// at most [`POOL_COMPLEMENT_MAX_BYTES`] of them; `None` when there are none.
    fn pool_complement(&self, have: &[[u8; 32]]) -> Option<Message> {
        let have: std::collections::HashSet<&[u8; 32]> = have.iter().collect();
        let mut bytes = 0usize;
        let mut txs = Vec::new();
        for id in self.txpool.hashes() {
            // Stem transactions under embargo are not shown (monerod's stempool).
            if have.contains(&id) || self.dandelion.embargoed(&id) {
                continue;
            }
            let Some(t) = self.txpool.get(&id) else {
                continue;
            };
            if bytes + t.blob.len() > POOL_COMPLEMENT_MAX_BYTES {
                break;
            }
            bytes += t.blob.len();
            txs.push(t.blob.clone());
        }
        (!txs.is_empty()).then(|| {
            Message::NewTransactions(NewTransactions {
                txs,
                ..Default::default()
            })
        })
    }

    /// Fast sync: settles the blocks a chain entry proves against the block-hash groups,
    /// and cuts the entry to its usable ids (`prevalidate_block_hashes`' count). `None`
    /// when the entry contradicts the data. An entry of more ids than any honest one is
    /// left whole for the syncer to refuse.
    fn settle(&mut self, mut r: ChainResponse) -> Option<ChainResponse> {
        let our_height = self.reader.view().block_count;
        let n = r.m_block_ids.iter().count();
        if r.start_height >= self.settled.end_height()
            || n > crate::sync::validate::BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT
        {
            return Some(r);
        }
        let ids: Vec<[u8; 32]> = r.m_block_ids.iter().collect();
        let weights: Vec<u64> = r.m_block_weights.iter().collect();
        let base = StoreChain::new(self.net, self.reader.clone(), Arc::clone(&self.window));
        let before = self.settled.len();
        let usable =
            self.settled
                .on_chain_entry(our_height, r.start_height, &ids, &weights, |h| {
                    Some((base.block_hash(h)?, *base.block_weights(h..h + 1).first()?))
                })?;
        let added = self.settled.len().saturating_sub(before);
        if added > 0 {
            self.fast_sync
                .settled
                .fetch_add(added as u64, std::sync::atomic::Ordering::Relaxed);
            tracing::debug!(added, "fast sync: blocks settled by the block-hash data");
        }
        if usable < n {
            r.m_block_ids = Hashes::from_items(ids.iter().take(usable));
            if !weights.is_empty() {
                r.m_block_weights = U64s::from_items(weights.iter().take(usable));
            }
        }
        Some(r)
    }

    fn hash_at(&self, h: u64) -> Option<[u8; 32]> {
        self.reader
            .block_hashes(&[h])
            .ok()
            .and_then(|v| v.into_iter().next().flatten())
    }

    /// Verifies blocks that extend our chain and commits those before the first failure.
    fn verify_main(
        &mut self,
        syncer: &mut Syncer,
        ready: Vec<Downloaded>,
    ) -> Option<(PeerKey, SyncFault)> {
        let from: Vec<PeerKey> = ready.iter().map(|d| d.from).collect();
        let first_height = ready.first().map_or(0, |d| d.height);
        let base = StoreChain::new(self.net, self.reader.clone(), Arc::clone(&self.window));
        let span = settled_span(&self.settled, ready);
        let fast = span.iter().filter(|b| b.known.is_some()).count();
        let verdict = self
            .pool
            .verify_span_blocking(&base, span, BlockChecks::now());
        if fast > 0 {
            self.fast_sync
                .checked
                .fetch_add(fast as u64, std::sync::atomic::Ordering::Relaxed);
        }
        let (writes, failed) = split_verdict(verdict, self.net);
        let committed = writes.len();
        if !writes.is_empty() {
            match self.commit_main(syncer, writes) {
                Ok(view) => {
                    self.progress
                        .committed(committed as u64, view.block_count, syncer.target());
                }
                Err(e) => {
                    tracing::error!("commit failed: {e}");
                    syncer.requeue_from(first_height);
                }
            }
        }
        let (i, e) = failed?;
        let height = first_height + i as u64;
        tracing::warn!(height, "block refused: {e}");
        syncer.on_invalid_block(height);
        from.get(i)
            .map(|k| (*k, SyncFault::InvalidBlock(e.to_string())))
    }

    /// Verifies a fork's blocks against our chain below the fork plus the fork's blocks
    /// verified before, and switches to the fork once it is heavier than our chain.
    fn verify_alt(
        &mut self,
        syncer: &mut Syncer,
        fork: Fork,
        ready: Vec<Downloaded>,
    ) -> Option<(PeerKey, SyncFault)> {
        if self.alt.as_ref().is_none_or(|a| a.epoch != fork.epoch) {
            match StoreChain::below(self.net, self.reader.clone(), fork.height) {
                Ok(base) => {
                    self.alt = Some(AltBranch {
                        epoch: fork.epoch,
                        chain: Overlay::on(base),
                        writes: Vec::new(),
                    });
                }
                Err(e) => {
                    tracing::error!(
                        height = fork.height,
                        "cannot view the chain below a fork: {e}"
                    );
                    syncer.abandon_fork(0);
                    self.alt = None;
                    return None;
                }
            }
        }
        let from: Vec<PeerKey> = ready.iter().map(|d| d.from).collect();
        let first_height = ready.first().map_or(0, |d| d.height);
        // A fork's blocks at settled heights must be the settled ones, as monerod's
        // switch re-adds them through `handle_block_to_main_chain`'s `fast_check`.
        let span = settled_span(&self.settled, ready);
        let alt = self.alt.as_mut()?;
        let verdict = self
            .pool
            .verify_span_blocking(&alt.chain, span, BlockChecks::now());
        for v in verdict.iter().flatten() {
            alt.chain.apply(v.effects.clone());
        }
        let (writes, failed) = split_verdict(verdict, self.net);
        alt.writes.extend(writes);
        if let Some((i, e)) = failed {
            let height = first_height + i as u64;
            tracing::warn!(height, fork = fork.height, "alternative block refused: {e}");
            syncer.on_invalid_block(height);
            self.alt = None;
            return from
                .get(i)
                .map(|k| (*k, SyncFault::InvalidBlock(e.to_string())));
        }
        let ours = self.reader.view();
        let theirs = alt.cumulative_difficulty();
        if theirs > ours.cumulative_difficulty {
            self.switch(syncer, fork, ours.block_count);
        } else if syncer.fork_complete() {
            let peer = syncer.abandon_fork(theirs);
            tracing::info!(
                fork = fork.height,
                ?peer,
                "alternative chain fully verified but not heavier than ours; staying"
            );
            self.alt = None;
        }
        None
    }

    /// The reorg: pops our blocks above the fork and commits the fork's, as monerod's
    /// `switch_to_alternative_blockchain`. The fork was verified in full first, so only a
    /// store error can stop the second step; the chain is then left at the fork's base,
    /// whole, and sync fetches the rest again.
    fn switch(&mut self, syncer: &mut Syncer, fork: Fork, our_count: u64) {
        let Some(alt) = self.alt.take() else { return };
        let depth = our_count - fork.height;
        // The transactions of the blocks about to be popped go back to the pool (monerod's
        // `return_tx_to_pool`) unless the new branch took them.
        let returned: Vec<bytes::Bytes> = (fork.height..our_count)
            .filter_map(|h| {
                let b = self.reader.blocks(&[h]).ok()?.pop().flatten()?;
                stored_txs(&self.reader, h, b.tx_count)
            })
            .flatten()
            .collect();
        let metas: Vec<_> = alt.writes.iter().map(|w| w.meta).collect();
        let mut window = (**alt.chain.base().window()).clone();
        let result = self
            .committer
            .pop_blocks(depth)
            .and_then(|_| self.committer.push_blocks(alt.writes));
        match result {
            Ok(view) => {
                for m in metas {
                    window.push(m);
                }
                self.window = Arc::new(window);
                tracing::info!(
                    fork = fork.height,
                    replaced = depth,
                    height = view.block_count,
                    top = %hex::encode(view.top_hash),
                    "switched to a heavier alternative chain"
                );
                syncer.on_switched(view.block_count, view.cumulative_difficulty);
                set_main_seed(&self.pool, &self.reader, view.block_count, syncer.target());
                self.recheck_pool(returned);
            }
            Err(e) => {
                tracing::error!(fork = fork.height, "reorg failed: {e}");
                let view = self.reader.view();
                match MetaWindow::load(&self.reader) {
                    Ok(w) => self.window = Arc::new(w),
                    Err(e) => tracing::error!("cannot reload the metadata window: {e}"),
                }
                syncer.abandon_fork(0);
                syncer.on_chain(view.block_count, view.cumulative_difficulty);
            }
        }
    }
}

/// Sends transactions (fluff) to every peer but `except`; returns to how many.
fn fluff(outboxes: &HashMap<PeerKey, Outbox>, except: PeerKey, txs: Vec<bytes::Bytes>) -> usize {
    let m = Message::NewTransactions(NewTransactions {
        txs,
        ..Default::default()
    });
    outboxes
        .iter()
        .filter(|(k, o)| **k != except && o.unbounded_send(PeerCmd::Send(m.clone())).is_ok())
        .count()
}

/// The store writes of the blocks before the first failure, and that failure.
fn split_verdict(
    verdict: crate::verify::SpanVerdict,
    net: ConsensusNet,
) -> (
    Vec<BlockWrite>,
    Option<(usize, crate::consensus::BlockError)>,
) {
    let mut writes = Vec::new();
    for (i, v) in verdict.into_iter().enumerate() {
        match v {
            Ok(v) => writes.push(block_write(&v, net)),
            Err(e) => return (writes, Some((i, e))),
        }
    }
    (writes, None)
}

/// Tells the RandomX hasher which seed the next block uses and how far behind we are, so
/// that `--randomx-mode fast|auto` builds the dataset for the main chain's seed (light
/// mode just keeps that seed's cache warm), as monerod's `rx_set_main_seedhash`.
fn set_main_seed(pool: &VerifyPool, reader: &ChainReader, block_count: u64, target: u64) {
    let seed_h = crate::consensus::pow::seed_height(block_count);
    if let Ok(Some(Some(seed))) = reader.block_hashes(&[seed_h]).map(|v| v.into_iter().next()) {
        pool.pow()
            .set_main_seed(seed, target.saturating_sub(block_count));
    }
}

/// Height / target, blocks per second and ETA in the log every [`PROGRESS_INTERVAL`], and
/// on the progress bar when stdout is a terminal.
struct Progress {
    start: Instant,
    start_height: u64,
    last_log: Instant,
}

impl Progress {
    fn new(height: u64) -> Self {
        let now = Instant::now();
        Progress {
            start: now,
            start_height: height,
            last_log: now,
        }
    }

    fn committed(&mut self, n: u64, height: u64, target: u64) {
        tracing::debug!(blocks = n, height, target, "committed");
        super::progress::update(height, target);
    }

    fn maybe_log(&mut self, height: u64, target: u64) {
        if height >= target {
            super::progress::update(height, target);
            return;
        }
        if self.last_log.elapsed() < PROGRESS_INTERVAL {
            return;
        }
        self.last_log = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let rate = (height.saturating_sub(self.start_height)) as f64 / secs;
        let eta = if rate > 0.0 {
            format!("{:.0} s", (target - height) as f64 / rate)
        } else {
            "unknown".into()
        };
        tracing::info!(
            "sync: height {height} / {target} ({:.1}%), {rate:.1} blocks/s, ETA {eta}",
            100.0 * height as f64 / target.max(1) as f64
        );
    }
}

/// Answers a 2006 from the store (`find_blockchain_supplement`): ids from the first block
/// of the request we have, up to 10,000, with weights. `None` when none is ours (monerod
/// drops such a peer).
pub fn serve_chain_request(reader: &ChainReader, r: &ChainRequest) -> Option<ChainResponse> {
    let asked: Vec<[u8; 32]> = r.block_ids.iter().collect();
    let heights = reader.block_heights(&asked).ok()?;
    let start = heights.into_iter().flatten().next()?;
    let view = reader.view();
    let end = view
        .block_count
        .min(start.saturating_add(BLOCKS_IDS_SYNCHRONIZING_DEFAULT_COUNT));
    let hs: Vec<u64> = (start..end).collect();
    let ids: Vec<[u8; 32]> = reader
        .block_hashes(&hs)
        .ok()?
        .into_iter()
        .collect::<Option<_>>()?;
    let weights: Vec<u64> = reader
        .metas(&hs)
        .ok()?
        .into_iter()
        .map(|m| m.map(|m| m.weight))
        .collect::<Option<_>>()?;
    #[allow(clippy::cast_possible_truncation)] // splitting the u128 into its two halves
    let (low, high) = (
        view.cumulative_difficulty as u64,
        (view.cumulative_difficulty >> 64) as u64,
    );
    Some(ChainResponse {
        cumulative_difficulty: low,
        cumulative_difficulty_top64: high,
        m_block_ids: Hashes::from_items(ids.iter()),
        m_block_weights: U64s::from_items(weights.iter()),
        start_height: start,
        total_height: view.block_count,
        ..Default::default()
    })
}

/// Answers a 2003 from the store: the blocks we have with their full transactions, the
/// rest as missed ids. `None` for a request over the count limit (monerod drops it).
pub fn serve_objects(reader: &ChainReader, r: &GetObjectsRequest) -> Option<GetObjectsResponse> {
    if r.blocks.len() > CURRENCY_PROTOCOL_MAX_OBJECT_REQUEST_COUNT {
        return None;
    }
    let asked: Vec<[u8; 32]> = r.blocks.iter().collect();
    let heights = reader.block_heights(&asked).ok()?;
    // One batched, consistent read of every block we have, in the order asked.
    let found: Vec<u64> = heights.iter().flatten().copied().collect();
    let mut stored = reader.blocks(&found).ok()?.into_iter();
    let mut blocks = Vec::new();
    let mut missed = Vec::new();
    for (id, h) in asked.iter().zip(heights) {
        let Some(h) = h else {
            missed.push(*id);
            continue;
        };
        let Some(b) = stored.next().flatten() else {
            missed.push(*id);
            continue;
        };
        let full = stored_txs(reader, h, b.tx_count)?;
        blocks.push(BlockCompleteEntry {
            block: bytes::Bytes::from(b.blob),
            txs: BlockTxs::Full(full),
            ..Default::default()
        });
    }
    Some(GetObjectsResponse {
        blocks,
        current_blockchain_height: reader.view().block_count,
        missed_ids: Hashes::from_items(missed.iter()),
        ..Default::default()
    })
}

/// The full transaction blobs of the stored block at `height` (not the miner
/// transaction, which is inside the block blob), in the block's order.
fn stored_txs(reader: &ChainReader, height: u64, tx_count: u32) -> Option<Vec<bytes::Bytes>> {
    let txs = reader.block_txs(height, tx_count).ok()?;
    txs.into_iter()
        .skip(1)
        .map(|t| {
            let t = t?;
            let mut blob = t.pruned;
            blob.extend_from_slice(t.prunable.as_deref().unwrap_or_default());
            Some(bytes::Bytes::from(blob))
        })
        .collect()
}

/// Answers a 2009 (`handle_request_fluffy_missing_tx`): the block with the transactions
/// asked for, from the blocks just verified or the store. `None` when the block is
/// unknown or an index is out of range (monerod drops such a peer).
pub fn serve_missing_txs(
    reader: &ChainReader,
    recent: &RecentBlocks,
    r: &FluffyMissingTxRequest,
) -> Option<NewFluffyBlock> {
    let (blob, txs) = match recent.get(&r.block_hash) {
        Some(b) => (b.blob, b.txs),
        None => {
            let h = reader
                .block_heights(&[r.block_hash])
                .ok()?
                .pop()
                .flatten()?;
            let b = reader.blocks(&[h]).ok()?.pop().flatten()?;
            let txs = stored_txs(reader, h, b.tx_count)?;
            (bytes::Bytes::from(b.blob), txs)
        }
    };
    let wanted: Vec<bytes::Bytes> = r
        .missing_tx_indices
        .iter()
        .map(|i| usize::try_from(i).ok().and_then(|i| txs.get(i)).cloned())
        .collect::<Option<_>>()?;
    if wanted.is_empty() {
        return None;
    }
    Some(NewFluffyBlock {
        b: BlockCompleteEntry {
            block: blob,
            txs: BlockTxs::Full(wanted),
            ..Default::default()
        },
        current_blockchain_height: reader.view().block_count,
        ..Default::default()
    })
}
