//! The crypto pool: a crossbeam worker pool, one thread per core by default, that verifies a
//! whole span of blocks and returns one verdict per block.
//!
//! A span goes through four stages. Parsing and proof of work run in parallel (each block on
//! its own); the ordered contextual checks ([`verify_block`]) run in one place, on the span's
//! coordinator, against the chain plus the blocks of the span already accepted (an
//! [`Overlay`]); then every CLSAG runs in parallel and the Bulletproofs+ are batch-verified per
//! worker chunk. A span's verdict is: every block before the first failing one is accepted,
//! the failing one carries its rule's error, later ones are [`BlockError::AfterFailedBlock`].
//!
//! Workers never block on each other: a coordinator that waits for its subtasks runs queued
//! tasks itself ("helping"), so a pool with every thread coordinating still makes progress.
//! The async entry point hands the span to the pool and returns a future that resolves when
//! the verdict is ready, so a glommio executor is never blocked.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::consensus::block::{prepare_block, PreparedBlock};
use crate::consensus::context::{BlockEffects, ChainContext, Overlay};
use crate::consensus::fast_sync::KnownBlock;
use crate::consensus::pow::{cryptonight_longhash, seed_height, RandomXHasher};
pub use crate::consensus::verify::BlockChecks;
use crate::consensus::verify::{genesis_effects, verify_block, ProofJobs, ProvenTxs};
use crate::consensus::{constants::hf, tx, BlockError, TxError};

type Task = Box<dyn FnOnce() + Send>;
/// A pool job and the stage its times are recorded under.
type StagedJob<T> = (&'static str, Box<dyn FnOnce() -> T + Send>);

/// Metric: how long a pool task waited in the queue before a thread took it.
pub const QUEUE_WAIT_METRIC: &str = "xmrd_verify_queue_wait_seconds";
/// Metric: how long a pool task ran (one item: a block parse, a PoW hash, a chunk of
/// range proofs, a few CLSAGs, a span's coordination).
pub const ITEM_METRIC: &str = "xmrd_verify_item_seconds";
const STAGE_RANGE_PROOFS: &str = "range_proofs";
const STAGE_CLSAG: &str = "clsag";
/// Stage of a block's proof-of-work hash.
pub const STAGE_POW: &str = "pow";
/// Stage of a settled block's (fast sync) proof of work: not computed.
pub const STAGE_POW_SETTLED: &str = "pow_settled";

static QUEUED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Pool tasks queued and not yet started (all pools of the process).
pub fn queued_tasks() -> usize {
    QUEUED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Wraps `f` so that its queue wait and run time are recorded under `stage`, on the
/// histograms of the thread that runs it.
fn timed_task(stage: &'static str, f: impl FnOnce() + Send + 'static) -> Task {
    use std::sync::atomic::Ordering;
    use xmrd_shards::latency;
    let queued = std::time::Instant::now();
    QUEUED.fetch_add(1, Ordering::Relaxed);
    Box::new(move || {
        QUEUED.fetch_sub(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        latency::record_labeled(QUEUE_WAIT_METRIC, "stage", stage, started - queued);
        f();
        latency::record_labeled(ITEM_METRIC, "stage", stage, started.elapsed());
    })
}

/// How many CLSAGs one task verifies (amortises the queue round trip, ~2 ms each).
const CLSAG_TASK_SIZE: usize = 4;

/// A block as it arrives from a peer: its blob and its transactions' blobs.
#[derive(Debug, Clone)]
pub struct SpanBlock {
    /// The block blob.
    pub block: Vec<u8>,
    /// The transaction blobs, in the block's order.
    pub txs: Vec<Vec<u8>>,
    /// Fast sync: the block the chain has at this height (see [`BlockChecks::known`]);
    /// its proof of work is then not computed.
    pub known: Option<KnownBlock>,
}

impl SpanBlock {
    /// A block and its transactions' blobs, not settled by fast sync.
    pub fn new(block: Vec<u8>, txs: Vec<Vec<u8>>) -> Self {
        SpanBlock {
            block,
            txs,
            known: None,
        }
    }
}

/// A block that passed every rule.
#[derive(Debug, Clone)]
pub struct VerifiedBlock {
    /// The parsed block and transactions.
    pub block: Arc<PreparedBlock>,
    /// Its RandomX hash.
    pub pow_hash: [u8; 32],
    /// What it adds to the chain.
    pub effects: BlockEffects,
}

/// One verdict per block of the span, in order.
pub type SpanVerdict = Vec<Result<VerifiedBlock, BlockError>>;

/// The worker pool.
pub struct VerifyPool {
    queue: Sender<Task>,
    tasks: Receiver<Task>,
    threads: usize,
    pow: Arc<RandomXHasher>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for VerifyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyPool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl VerifyPool {
    /// Starts `threads` workers (0: one per available core).
    pub fn new(threads: usize, pow: Arc<RandomXHasher>) -> std::io::Result<Self> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let (queue, tasks) = crossbeam_channel::unbounded::<Task>();
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let rx = tasks.clone();
            workers.push(
                std::thread::Builder::new()
                    .name(format!("xmrd-verify-{i}"))
                    .spawn(move || {
                        while let Ok(task) = rx.recv() {
                            task();
                        }
                    })?,
            );
        }
        Ok(VerifyPool {
            queue,
            tasks,
            threads,
            pow,
            workers,
        })
    }

    /// Number of worker threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The RandomX hasher the pool uses.
    pub fn pow(&self) -> &Arc<RandomXHasher> {
        &self.pow
    }

    /// Runs `jobs` on the pool and returns their results in order. The caller helps: while
    /// results are missing it runs queued tasks itself. Each job's queue wait and run time
    /// are recorded under `stage`.
    fn run_all<T: Send + 'static>(
        &self,
        stage: &'static str,
        jobs: Vec<Box<dyn FnOnce() -> T + Send>>,
    ) -> Vec<T> {
        self.run_all_staged(jobs.into_iter().map(|j| (stage, j)).collect())
    }

    /// [`VerifyPool::run_all`] with a stage per job.
    fn run_all_staged<T: Send + 'static>(&self, jobs: Vec<StagedJob<T>>) -> Vec<T> {
        let n = jobs.len();
        let (done_tx, done_rx) = crossbeam_channel::bounded::<(usize, T)>(n);
        for (i, (stage, job)) in jobs.into_iter().enumerate() {
            let done = done_tx.clone();
            let task = timed_task(stage, move || {
                let _ = done.send((i, job()));
            });
            if self.queue.send(task).is_err() {
                break;
            }
        }
        drop(done_tx);
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        let mut got = 0;
        while got < n {
            crossbeam_channel::select! {
                recv(done_rx) -> r => match r {
                    Ok((i, v)) => {
                        if let Some(slot) = out.get_mut(i) {
                            *slot = Some(v);
                        }
                        got += 1;
                    }
                    Err(_) => break,
                },
                recv(self.tasks) -> t => if let Ok(t) = t { t() },
            }
        }
        out.into_iter().flatten().collect()
    }

    /// Verifies a span on top of `ctx` and blocks until the verdict is ready. Use from a
    /// worker or a plain thread; async callers use [`VerifyPool::verify_span`].
    pub fn verify_span_blocking<C: ChainContext>(
        &self,
        ctx: &C,
        span: Vec<SpanBlock>,
        checks: BlockChecks,
    ) -> SpanVerdict {
        self.verify_span_proven(ctx, span, checks, &ProvenTxs::new())
    }

    /// [`verify_span_blocking`](Self::verify_span_blocking), skipping the proofs of the
    /// transactions in `proven` whose rings are unchanged (see
    /// [`ProofJobs::skip_proven`]): a new block made of pooled transactions then costs
    /// its proof of work and the contextual checks only.
    pub fn verify_span_proven<C: ChainContext>(
        &self,
        ctx: &C,
        span: Vec<SpanBlock>,
        checks: BlockChecks,
        proven: &ProvenTxs,
    ) -> SpanVerdict {
        let base = ctx.height();
        let n = span.len();
        let known: Vec<Option<KnownBlock>> = span.iter().map(|b| b.known).collect();
        // Stage 1: parse, in parallel.
        let parsed = self.run_all(
            "parse",
            span.into_iter()
                .map(|b| {
                    Box::new(move || prepare_block(&b.block, &b.txs).map(Arc::new))
                        as Box<dyn FnOnce() -> Result<Arc<PreparedBlock>, BlockError> + Send>
                })
                .collect(),
        );
        // Stage 2: proof of work, in parallel. Seeds come from the chain or from the span.
        let ids: Vec<Option<[u8; 32]>> = parsed
            .iter()
            .map(|p| p.as_ref().ok().map(|b| b.hash))
            .collect();
        let net = ctx.net();
        let pow_jobs = parsed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let height = base + i as u64;
                let seed_h = seed_height(height);
                let seed = if seed_h < base {
                    ctx.block_hash(seed_h)
                } else {
                    usize::try_from(seed_h - base)
                        .ok()
                        .and_then(|j| ids.get(j).copied().flatten())
                };
                let blob = p.as_ref().ok().map(|b| b.hashing_blob.clone());
                let settled = known.get(i).copied().flatten().is_some();
                let hf = net.hard_fork_version(height);
                let pow = Arc::clone(&self.pow);
                let stage = if settled {
                    STAGE_POW_SETTLED
                } else {
                    STAGE_POW
                };
                let job = Box::new(move || -> Result<[u8; 32], BlockError> {
                    let blob = blob.ok_or(BlockError::Parse(String::new()))?;
                    if height == 0 || settled {
                        // The genesis block is not mined against a difficulty; a settled
                        // block's work is vouched for by its group (fast sync).
                        return Ok([0; 32]);
                    }
                    if hf < hf::RANDOMX {
                        return cryptonight_longhash(height, hf, &blob)
                            .map_err(|e| BlockError::PowUnavailable(e.to_string()));
                    }
                    let seed =
                        seed.ok_or(BlockError::PowUnavailable("seed block unknown".into()))?;
                    pow.hash(&seed, &blob)
                        .map_err(|e| BlockError::PowUnavailable(e.to_string()))
                })
                    as Box<dyn FnOnce() -> Result<[u8; 32], BlockError> + Send>;
                (stage, job)
            })
            .collect();
        let pows = self.run_all_staged(pow_jobs);

        // Stage 3: ordered contextual checks.
        let mut overlay = Overlay::on(ctx);
        let mut accepted: Vec<(VerifiedBlock, ProofJobs)> = Vec::with_capacity(n);
        let mut failure: Option<(usize, BlockError)> = None;
        for (i, (p, pow)) in parsed.into_iter().zip(pows).enumerate() {
            let step = p.and_then(|b| {
                if base + i as u64 == 0 {
                    if b.block.header.previous != [0; 32] {
                        return Err(BlockError::PrevId);
                    }
                    let effects = genesis_effects(&b);
                    return Ok((b, [0; 32], effects, ProofJobs::default()));
                }
                let pow_hash = pow?;
                let checks = BlockChecks {
                    known: known.get(i).copied().flatten(),
                    ..checks
                };
                let (effects, mut jobs) = verify_block(&overlay, &b, &pow_hash, checks)?;
                jobs.skip_proven(&b.txs, proven);
                Ok((b, pow_hash, effects, jobs))
            });
            match step {
                Ok((block, pow_hash, effects, jobs)) => {
                    overlay.apply(effects.clone());
                    accepted.push((
                        VerifiedBlock {
                            block,
                            pow_hash,
                            effects,
                        },
                        jobs,
                    ));
                }
                Err(e) => {
                    failure = Some((i, e));
                    break;
                }
            }
        }
        drop(overlay);

        // Stage 4: proofs, in parallel.
        let proof_failure = self.check_proofs(&accepted);
        let first_bad = match (&failure, &proof_failure) {
            (Some((i, _)), Some((j, _))) => Some((*i).min(*j)),
            (Some((i, _)), None) => Some(*i),
            (None, Some((j, _))) => Some(*j),
            (None, None) => None,
        };
        let mut verdict: SpanVerdict = Vec::with_capacity(n);
        let mut proof_failure = proof_failure;
        for (i, (vb, _)) in accepted.into_iter().enumerate() {
            if first_bad.is_some_and(|f| i >= f) {
                break;
            }
            verdict.push(Ok(vb));
        }
        while verdict.len() < n {
            let i = verdict.len();
            let e = if first_bad == Some(i) {
                match (proof_failure.take(), failure.take()) {
                    (Some((j, e)), _) if j == i => e,
                    (_, Some((j, e))) if j == i => e,
                    _ => BlockError::AfterFailedBlock,
                }
            } else {
                BlockError::AfterFailedBlock
            };
            verdict.push(Err(e));
        }
        verdict
    }

    /// Checks every CLSAG, range proof and balance of the accepted blocks; returns the first
    /// block (by index) that fails, with its error.
    fn check_proofs(&self, accepted: &[(VerifiedBlock, ProofJobs)]) -> Option<(usize, BlockError)> {
        type Job = (
            &'static str,
            Box<dyn FnOnce() -> Option<(usize, BlockError)> + Send>,
        );
        let mut jobs: Vec<Job> = Vec::new();
        // Range proofs batched per chunk (and balances), one chunk per worker. They come
        // first so that, as in monerod (semantics before inputs), a block with both a bad
        // range proof and a bad signature is refused for the range proof.
        let all: Vec<(usize, Arc<PreparedBlock>, usize)> = accepted
            .iter()
            .enumerate()
            .flat_map(|(bi, (vb, pj))| {
                pj.range_and_balance
                    .iter()
                    .map(move |t| (bi, Arc::clone(&vb.block), *t))
            })
            .collect();
        let per = all.len().div_ceil(self.threads.max(1)).max(1);
        let mut rest = all;
        while !rest.is_empty() {
            let tail = rest.split_off(per.min(rest.len()));
            let chunk = std::mem::replace(&mut rest, tail);
            jobs.push((STAGE_RANGE_PROOFS, Box::new(move || range_chunk(&chunk))));
        }
        // CLSAGs, a few per task.
        let mut batch: Vec<(usize, Arc<PreparedBlock>, usize, usize, Vec<_>)> = Vec::new();
        let flush = |batch: &mut Vec<(usize, Arc<PreparedBlock>, usize, usize, Vec<_>)>,
                     jobs: &mut Vec<Job>| {
            let b = std::mem::take(batch);
            if !b.is_empty() {
                jobs.push((
                    STAGE_CLSAG,
                    Box::new(move || {
                        b.into_iter().find_map(|(bi, block, txi, input, ring)| {
                            let p = block.txs.get(txi)?;
                            tx::verify_ring_signature(p, input, &ring)
                                .err()
                                .map(|e| (bi, tx_error(txi, p, e)))
                        })
                    }),
                ));
            }
        };
        for (bi, (vb, pj)) in accepted.iter().enumerate() {
            for (txi, input, ring) in &pj.clsag {
                batch.push((bi, Arc::clone(&vb.block), *txi, *input, ring.clone()));
                if batch.len() >= CLSAG_TASK_SIZE {
                    flush(&mut batch, &mut jobs);
                }
            }
        }
        flush(&mut batch, &mut jobs);
        // RCTTypeFull: one task per transaction's aggregate MLSAG.
        for (bi, (vb, pj)) in accepted.iter().enumerate() {
            for (txi, rings) in &pj.aggregate {
                let (block, txi, rings) = (Arc::clone(&vb.block), *txi, rings.clone());
                jobs.push((
                    STAGE_CLSAG,
                    Box::new(move || {
                        let p = block.txs.get(txi)?;
                        tx::verify_aggregate_mlsag(p, &rings)
                            .err()
                            .map(|e| (bi, tx_error(txi, p, e)))
                    }),
                ));
            }
        }
        self.run_all_staged(jobs)
            .into_iter()
            .flatten()
            .min_by_key(|(i, _)| *i)
    }

    /// Verifies a span without blocking the caller: the work runs on the pool, the verdict
    /// arrives through the returned future.
    pub fn verify_span<C: ChainContext + Send + Sync + 'static>(
        self: &Arc<Self>,
        ctx: Arc<C>,
        span: Vec<SpanBlock>,
        checks: BlockChecks,
    ) -> futures_channel::oneshot::Receiver<SpanVerdict> {
        let (tx, rx) = futures_channel::oneshot::channel();
        let pool = Arc::clone(self);
        let task = timed_task("span", move || {
            let v = pool.verify_span_blocking(&*ctx, span, checks);
            let _ = tx.send(v);
        });
        // If the pool is gone the sender drops and the future resolves to Canceled.
        let _ = self.queue.send(task);
        rx
    }
}

impl VerifyPool {
    /// Verifies the proofs of standalone transactions (CLSAGs against the given rings,
    /// balance, Bulletproofs+ batched per worker chunk), e.g. relayed ones: one result per
    /// transaction. Contextual rules are the caller's ([`tx::check_tx_inputs`]).
    pub fn verify_txs(
        &self,
        txs: Vec<(Arc<tx::PreparedTx>, Vec<Vec<crate::consensus::OutputInfo>>)>,
    ) -> Vec<Result<(), TxError>> {
        let per = txs.len().div_ceil(self.threads.max(1)).max(1);
        type Job = Box<dyn FnOnce() -> Vec<Result<(), TxError>> + Send>;
        let mut jobs: Vec<Job> = Vec::new();
        let mut rest = txs;
        while !rest.is_empty() {
            let tail = rest.split_off(per.min(rest.len()));
            let chunk = std::mem::replace(&mut rest, tail);
            jobs.push(Box::new(move || verify_tx_chunk(&chunk)));
        }
        self.run_all("txs", jobs).into_iter().flatten().collect()
    }
}

/// One worker's share of [`VerifyPool::verify_txs`].
fn verify_tx_chunk(
    chunk: &[(Arc<tx::PreparedTx>, Vec<Vec<crate::consensus::OutputInfo>>)],
) -> Vec<Result<(), TxError>> {
    let mut rng = rand::rngs::OsRng;
    let mut out: Vec<Result<(), TxError>> = chunk
        .iter()
        .map(|(p, rings)| {
            tx::check_balance(p)?;
            tx::verify_signatures(p, rings)
        })
        .collect();
    let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
    let sane = chunk
        .iter()
        .all(|(p, _)| tx::batch_range_proof(p, &mut batch, &mut rng).is_ok());
    if !(sane && batch.verify()) {
        for ((p, _), r) in chunk.iter().zip(out.iter_mut()) {
            let mut one = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
            if !(tx::batch_range_proof(p, &mut one, &mut rng).is_ok() && one.verify()) && r.is_ok()
            {
                *r = Err(TxError::RangeProof);
            }
        }
    }
    out
}

fn tx_error(index: usize, p: &tx::PreparedTx, error: TxError) -> BlockError {
    BlockError::Tx {
        index,
        hash: hex::encode(p.hash),
        error,
    }
}

/// Balances and one BP+ batch for a chunk of transactions; on a failed batch, each proof
/// alone to name the first failing transaction.
fn range_chunk(chunk: &[(usize, Arc<PreparedBlock>, usize)]) -> Option<(usize, BlockError)> {
    let mut rng = rand::rngs::OsRng;
    for (bi, b, t) in chunk {
        let p = b.txs.get(*t)?;
        if let Err(e) = tx::check_balance(p) {
            return Some((*bi, tx_error(*t, p, e)));
        }
    }
    let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
    let mut sane = true;
    for (_, b, t) in chunk {
        let p = b.txs.get(*t)?;
        if tx::batch_range_proof(p, &mut batch, &mut rng).is_err() {
            sane = false;
            break;
        }
    }
    if sane && batch.verify() {
        return None;
    }
    for (bi, b, t) in chunk {
        let p = b.txs.get(*t)?;
        let mut one = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
        let ok = tx::batch_range_proof(p, &mut one, &mut rng).is_ok() && one.verify();
        if !ok {
            return Some((*bi, tx_error(*t, p, TxError::RangeProof)));
        }
    }
    None
}

impl Drop for VerifyPool {
    fn drop(&mut self) {
        // Closing the queue ends every worker's loop.
        let (dead, _) = crossbeam_channel::unbounded();
        self.queue = dead;
        // The last reference may be dropped on a worker (a finished span task): never
        // join the current thread.
        let me = std::thread::current().id();
        for w in self.workers.drain(..) {
            if w.thread().id() != me {
                let _ = w.join();
            }
        }
    }
}

#[cfg(test)]
mod tests;
