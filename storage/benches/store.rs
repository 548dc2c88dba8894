//! Chain store throughput on this machine (a plain timing program, not criterion: a
//! commit run must be long enough for RocksDB's flushes and compactions to be paid, so
//! each case is one long run rather than many short samples).
//!
//! `cargo bench -p xmrd-storage --bench store` (`XMRD_BENCH_SCALE=0.2` for a quick run).
//! Cases: commits of realistic blocks (150 txs of 2 inputs / 2 outputs, ≈ 340 KB) and of
//! empty blocks, one batch per block and one per span, with the WAL synced per commit
//! (the default) and OS-buffered; then batched key-image and output lookups on the
//! realistic store. Only the `push_blocks` calls are timed; blocks are made beforehand.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{block, Rng, Shape, EMPTY, REALISTIC};
use xmrd_storage::{BlockWrite, ChainStore, KeyImage, StoreConfig, WalSync};

fn scale() -> f64 {
    std::env::var("XMRD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

struct Run {
    blocks: usize,
    bytes: usize,
    time: Duration,
}

/// Commits `total` blocks of `shape` in spans of `span`; returns the store for lookups.
fn commit(
    name: &str,
    shape: Shape,
    total: usize,
    span: usize,
    wal: WalSync,
    keep: bool,
) -> Option<(tempfile::TempDir, Vec<KeyImage>, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig {
        wal_sync: wal,
        ..StoreConfig::default()
    };
    let store = ChainStore::open(dir.path(), &cfg).unwrap();
    let c = store.committer();
    let mut prev: Option<BlockWrite> = None;
    let mut run = Run {
        blocks: 0,
        bytes: 0,
        time: Duration::ZERO,
    };
    let mut sample_kis = Vec::new();
    let mut rng = Rng(99);
    while run.blocks < total {
        let mut span_blocks = Vec::with_capacity(span);
        for i in 0..span.min(total - run.blocks) {
            let b = block(7, 0, (run.blocks + i) as u64, prev.as_ref(), shape);
            run.bytes += b.blob_bytes();
            if let Some(t) = b.txs.get(1 + rng.below(b.txs.len() as u64) as usize) {
                sample_kis.extend(t.key_images.iter().copied());
            }
            prev = Some(b.clone());
            span_blocks.push(b);
        }
        let n = span_blocks.len();
        let t0 = Instant::now();
        c.push_blocks(span_blocks).unwrap();
        run.time += t0.elapsed();
        run.blocks += n;
    }
    let secs = run.time.as_secs_f64();
    println!(
        "{name:<48} {:>6} blocks {:>9.1} blocks/s {:>8.1} MB/s ({:.2} s)",
        run.blocks,
        run.blocks as f64 / secs,
        run.bytes as f64 / secs / 1e6,
        secs
    );
    let rct = store.reader().view().rct_outputs;
    drop(store);
    keep.then_some((dir, sample_kis, rct))
}

fn lookups(dir: &std::path::Path, spent: &[KeyImage], rct_outputs: u64) {
    let store = ChainStore::open(dir, &StoreConfig::default()).unwrap();
    let r = store.reader();
    let mut rng = Rng(5);
    const BATCH: usize = 1000;
    let rounds = ((200.0 * scale()) as usize).max(10);
    // Key images: half spent (sampled from the chain), half never seen (the common case
    // when checking a new transaction).
    let (mut n, mut found, mut time) = (0usize, 0usize, Duration::ZERO);
    for _ in 0..rounds {
        let batch: Vec<KeyImage> = (0..BATCH)
            .map(|i| {
                if i % 2 == 0 {
                    spent[rng.below(spent.len() as u64) as usize]
                } else {
                    rng.hash()
                }
            })
            .collect();
        let t0 = Instant::now();
        let res = r.spent_key_images(&batch).unwrap();
        time += t0.elapsed();
        found += res.iter().flatten().count();
        n += BATCH;
    }
    assert_eq!(
        found,
        n / 2,
        "every sampled key image is spent, no random one is"
    );
    println!(
        "{:<48} {:>9.0} lookups/s (batches of {BATCH})",
        "key images, half spent",
        n as f64 / time.as_secs_f64()
    );
    // Outputs: random global RingCT indices, as a ring-member fetch asks for them.
    let (mut n, mut time) = (0usize, Duration::ZERO);
    for _ in 0..rounds {
        let batch: Vec<u64> = (0..BATCH).map(|_| rng.below(rct_outputs)).collect();
        let t0 = Instant::now();
        let res = r.rct_outputs(&batch).unwrap();
        time += t0.elapsed();
        assert!(res.iter().all(Option::is_some));
        n += BATCH;
    }
    println!(
        "{:<48} {:>9.0} lookups/s (batches of {BATCH})",
        "RingCT outputs, random indices",
        n as f64 / time.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let s = scale();
    let n = |x: f64| ((x * s) as usize).max(10);
    println!("chain store commit throughput (blob bytes before compression):");
    let kept = commit(
        "realistic, span of 20, WAL synced",
        REALISTIC,
        n(1000.0),
        20,
        WalSync::EveryCommit,
        true,
    );
    commit(
        "realistic, batch per block, WAL synced",
        REALISTIC,
        n(300.0),
        1,
        WalSync::EveryCommit,
        false,
    );
    commit(
        "realistic, batch per block, WAL OS-buffered",
        REALISTIC,
        n(300.0),
        1,
        WalSync::OsBuffered,
        false,
    );
    commit(
        "empty, span of 100, WAL synced",
        EMPTY,
        n(20000.0),
        100,
        WalSync::EveryCommit,
        false,
    );
    commit(
        "empty, batch per block, WAL synced",
        EMPTY,
        n(2000.0),
        1,
        WalSync::EveryCommit,
        false,
    );
    commit(
        "empty, batch per block, WAL OS-buffered",
        EMPTY,
        n(20000.0),
        1,
        WalSync::OsBuffered,
        false,
    );
    if let Some((dir, kis, rct)) = kept {
        lookups(dir.path(), &kis, rct);
    }
}
