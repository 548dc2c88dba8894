//! Verification benchmarks on the fat regtest chain a real monerod made (700 blocks, 2500
//! wallet transactions, BP+/CLSAG, ring 16):
//! - `tx_proofs`: transactions verified per second (CLSAGs, balance, BP+ batch) on a pool of
//!   one thread and on a pool of every core; the ratio is the pool's scaling.
//! - `span`: blocks per second through the whole pipeline (parse, RandomX in light mode,
//!   ordered contextual rules, proofs), for 20 empty blocks (from before the wallet
//!   warm-up ended) and 20 full ones, on one thread and on every core.
//!
//! `cargo bench --bench verify`. Needs `../shared`; skips with a message without it.

#![allow(missing_docs)]
// Benchmarks run on trusted local data: failing loudly is what we want.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xmrd::chainfile::{self, Package};
use xmrd::consensus::pow::{RandomXHasher, RandomXMode};
use xmrd::consensus::tx::{prepare_tx, ring_requests, PreparedTx};
use xmrd::consensus::{ChainContext, ConsensusNet, MemoryChain, OutputInfo};
use xmrd::verify::{BlockChecks, SpanBlock, VerifyPool};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NET: ConsensusNet = ConsensusNet::Regtest {
    fixed_difficulty: Some(1),
};

fn load() -> Option<Vec<Package>> {
    let dir = xmrd::testdata::shared_subdir("realpeer/chains")?;
    chainfile::read_all(std::fs::File::open(dir.join("regtest-700b-2500tx.raw")).ok()?).ok()
}

fn span(p: &[Package]) -> Vec<SpanBlock> {
    p.iter()
        .map(|p| SpanBlock::new(p.block.clone(), p.txs.clone()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let Some(packages) = load() else { return };
    let rx = Arc::new(RandomXHasher::new(RandomXMode::Light));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pools: Vec<(usize, Arc<VerifyPool>)> = [1, cores]
        .into_iter()
        .map(|n| (n, Arc::new(VerifyPool::new(n, Arc::clone(&rx)).unwrap())))
        .collect();

    // The chain, verified once, as the context for everything below.
    let mut chain = MemoryChain::new(NET);
    let mut effects = Vec::new();
    for s in packages.chunks(100) {
        for v in pools[1]
            .1
            .verify_span_blocking(&chain, span(s), BlockChecks::now())
        {
            let v = v.unwrap();
            effects.push(v.effects.clone());
            chain.apply(v.effects);
        }
    }
    let at = |h: usize| {
        let mut c = MemoryChain::new(NET);
        for e in &effects[..h] {
            c.apply(e.clone());
        }
        c
    };

    // Transactions of the last 100 blocks with their rings.
    let mut txs: Vec<(Arc<PreparedTx>, Vec<Vec<OutputInfo>>)> = Vec::new();
    for p in &packages[600..700] {
        for t in &p.txs {
            let p = prepare_tx(t).unwrap();
            let rings = ring_requests(&p.tx)
                .unwrap()
                .iter()
                .map(|r| {
                    chain
                        .outputs(r.amount, &r.indices)
                        .into_iter()
                        .flatten()
                        .collect()
                })
                .collect();
            txs.push((Arc::new(p), rings));
        }
    }
    let mut g = c.benchmark_group("tx_proofs");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(txs.len() as u64));
    for (n, pool) in &pools {
        g.bench_with_input(BenchmarkId::new("threads", n), &txs, |b, txs| {
            b.iter(|| {
                let r = pool.verify_txs(txs.clone());
                assert!(r.iter().all(|r| r.is_ok()));
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("span");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(20));
    for (label, start) in [("empty", 200usize), ("full", 650)] {
        let base = Arc::new(at(start));
        let blocks = span(&packages[start..start + 20]);
        let txs: usize = packages[start..start + 20]
            .iter()
            .map(|p| p.txs.len())
            .sum();
        eprintln!(
            "span {label}: blocks {start}..{} with {txs} transactions",
            start + 20
        );
        for (n, pool) in &pools {
            g.bench_with_input(
                BenchmarkId::new(format!("{label}_threads"), n),
                &blocks,
                |b, blocks| {
                    // Through the async entry, as the node calls it: the span's coordinator
                    // runs on a worker, so a one-thread pool really uses one thread.
                    b.iter(|| {
                        let rx =
                            pool.verify_span(Arc::clone(&base), blocks.clone(), BlockChecks::now());
                        let v = futures_lite::future::block_on(rx).unwrap();
                        assert!(v.iter().all(|r| r.is_ok()));
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
