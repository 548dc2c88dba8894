//! The single committer: one thread owns the write path and takes commands over a
//! bounded crossbeam channel, replying on a one-shot channel. After each commit it
//! publishes the new [`ReadView`] through an `ArcSwap`, which readers on any thread load
//! without a lock. Nothing but this thread writes to the store.

use std::sync::Arc;
use std::thread::JoinHandle;

use arc_swap::ArcSwap;
use crossbeam_channel::{bounded, Receiver, Sender};
use tracing::{error, info};

use crate::error::{Result, StoreError};
use crate::types::{AltBlock, BlockWrite, Hash, ReadView};
use crate::write::Writer;

/// What popping blocks returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Popped {
    /// The view after the pop.
    pub view: ReadView,
    /// Hashes of the popped blocks, the old top first.
    pub hashes: Vec<Hash>,
}

/// Metric: how long the committer took to write one batch (a span of blocks) durably.
pub const COMMIT_BATCH_METRIC: &str = "xmrd_store_commit_batch_seconds";

enum Command {
    Push(Vec<BlockWrite>, Sender<Result<ReadView>>),
    Pop(u64, Sender<Result<Popped>>),
    PutAlt(Hash, Box<AltBlock>, Sender<Result<()>>),
    RemoveAlt(Vec<Hash>, Sender<Result<()>>),
    SyncWal(Sender<Result<()>>),
    Compact(Sender<Result<()>>),
    Shutdown,
}

/// A reply that has not arrived yet: wait for it, or poll it from a thread that must
/// not block (a shard).
#[derive(Debug)]
pub struct Pending<T>(Receiver<Result<T>>);

impl<T> Pending<T> {
    /// Blocks until the committer answers.
    pub fn wait(self) -> Result<T> {
        self.0.recv().map_err(|_| StoreError::CommitterGone)?
    }

    /// The answer if it has arrived; `None` while the commit is still under way.
    pub fn try_get(&self) -> Option<Result<T>> {
        match self.0.try_recv() {
            Ok(r) => Some(r),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                Some(Err(StoreError::CommitterGone))
            }
        }
    }
}

/// A handle to the committer: clone it freely; every clone feeds the same thread, in
/// the order commands arrive.
#[derive(Clone, Debug)]
pub struct CommitHandle {
    tx: Sender<Command>,
}

impl CommitHandle {
    fn send<T>(&self, make: impl FnOnce(Sender<Result<T>>) -> Command) -> Result<Pending<T>> {
        let (reply, rx) = bounded(1);
        self.tx
            .send(make(reply))
            .map_err(|_| StoreError::CommitterGone)?;
        Ok(Pending(rx))
    }

    /// Queues a span of blocks, committed as one atomic batch (one block: a span of one).
    pub fn submit_blocks(&self, blocks: Vec<BlockWrite>) -> Result<Pending<ReadView>> {
        self.send(|r| Command::Push(blocks, r))
    }

    /// Commits a span of blocks as one atomic batch and waits for it to be durable.
    pub fn push_blocks(&self, blocks: Vec<BlockWrite>) -> Result<ReadView> {
        self.submit_blocks(blocks)?.wait()
    }

    /// Commits one block and waits.
    pub fn push_block(&self, block: BlockWrite) -> Result<ReadView> {
        self.push_blocks(vec![block])
    }

    /// Pops the top `n` blocks atomically (for a reorg) and waits.
    pub fn pop_blocks(&self, n: u64) -> Result<Popped> {
        self.send(|r| Command::Pop(n, r))?.wait()
    }

    /// Stores an alternative block under its hash.
    pub fn put_alt_block(&self, hash: Hash, block: AltBlock) -> Result<()> {
        self.send(|r| Command::PutAlt(hash, Box::new(block), r))?
            .wait()
    }

    /// Removes alternative blocks.
    pub fn remove_alt_blocks(&self, hashes: Vec<Hash>) -> Result<()> {
        self.send(|r| Command::RemoveAlt(hashes, r))?.wait()
    }

    /// Syncs the WAL to disk (a durability point under `WalSync::OsBuffered`).
    pub fn sync_wal(&self) -> Result<()> {
        self.send(Command::SyncWal)?.wait()
    }

    /// Flushes every memtable and compacts every column family (for measurements and
    /// after large pops; commits wait meanwhile).
    pub fn compact(&self) -> Result<()> {
        self.send(Command::Compact)?.wait()
    }
}

/// Asks the committer to stop after the commands queued before this one (other handles
/// then get [`StoreError::CommitterGone`]).
pub(crate) fn shutdown(handle: &CommitHandle) {
    let _ = handle.tx.send(Command::Shutdown);
}

/// Starts the committer thread; it runs until [`shutdown`] or until every
/// [`CommitHandle`] is dropped.
pub(crate) fn spawn(
    mut writer: Writer,
    view: Arc<ArcSwap<ReadView>>,
    queue_len: usize,
) -> Result<(CommitHandle, JoinHandle<()>)> {
    let (tx, rx) = bounded::<Command>(queue_len.max(1));
    let thread = std::thread::Builder::new()
        .name("xmrd-committer".into())
        .spawn(move || {
            info!(height = writer.view().block_count, "committer started");
            for cmd in rx {
                match cmd {
                    Command::Push(blocks, reply) => {
                        let started = std::time::Instant::now();
                        let r = writer.push(&blocks);
                        xmrd_shards::latency::record(COMMIT_BATCH_METRIC, started.elapsed());
                        if let Ok(v) = &r {
                            view.store(Arc::new(*v));
                        } else if let Err(e) = &r {
                            error!(error = %e, "commit refused");
                        }
                        let _ = reply.send(r);
                    }
                    Command::Pop(n, reply) => {
                        let r = writer.pop(n).map(|(v, hashes)| {
                            view.store(Arc::new(v));
                            Popped { view: v, hashes }
                        });
                        let _ = reply.send(r);
                    }
                    Command::PutAlt(hash, block, reply) => {
                        let _ = reply.send(writer.put_alt_block(&hash, &block));
                    }
                    Command::RemoveAlt(hashes, reply) => {
                        let _ = reply.send(writer.remove_alt_blocks(&hashes));
                    }
                    Command::SyncWal(reply) => {
                        let _ = reply.send(writer.sync_wal());
                    }
                    Command::Compact(reply) => {
                        let _ = reply.send(writer.compact());
                    }
                    Command::Shutdown => break,
                }
            }
            if let Err(e) = writer.sync_wal() {
                error!(error = %e, "final WAL sync failed");
            }
            info!("committer stopped");
        })
        .map_err(StoreError::Spawn)?;
    Ok((CommitHandle { tx }, thread))
}
