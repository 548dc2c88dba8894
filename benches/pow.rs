//! RandomX benchmarks: light-mode hashes per second on one thread and on two threads at
//! once (through `RandomXHasher`, against a bare randomx-rs VM to show what the VM pool
//! costs, and with monerod's `FLAG_SECURE`), and the cache initialisation per seed.
//!
//! `cargo bench --bench pow`. With `XMRD_BENCH_FAST=1` also fast mode: the dataset build
//! (timed once, it takes about a minute and 2.4 GB) and hashes per second with it.

#![allow(missing_docs)]
// criterion_group! generates undocumented fns
// Benchmarks run on fixed local inputs: failing loudly is what we want.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use randomx_rs::{RandomXCache, RandomXFlag, RandomXVM};
use xmrd::consensus::pow::{RandomXHasher, RandomXMode};

/// An arbitrary 32-byte seed.
const SEED: [u8; 32] = [0x5e; 32];

/// Mainnet block 2751506's hashing blob (76 bytes); the nonce (bytes 39..43) is varied.
const HASHING_BLOB_HEX: &str = concat!(
    "1010c58bab9b06b27bdecfc6cd0a46172d136c08831cf67660377ba992332363228b1b722781",
    "e7807e07f5e49b854c5f339d7410a77f2a137281d8042a0ffc7ef9ab24cd670b67139b24cd01",
);

const NONCE_OFFSET: usize = 39;

fn blob(thread: u8, nonce: u64) -> Vec<u8> {
    let mut b = hex::decode(HASHING_BLOB_HEX).unwrap();
    b[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&nonce.to_le_bytes()[..4]);
    b[NONCE_OFFSET + 4] ^= thread;
    b
}

/// One hash on each of `threads` threads per iteration, all at once.
fn hash_parallel(rx: &RandomXHasher, threads: u8, iters: u64) -> Duration {
    let start = Instant::now();
    thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for i in 0..iters {
                    black_box(rx.hash(&SEED, &blob(t, i)).unwrap());
                }
            });
        }
    });
    start.elapsed()
}

fn light(c: &mut Criterion) {
    let flags = RandomXFlag::get_recommended_flags();
    eprintln!("RandomX flags: {flags:?}");
    let mut g = c.benchmark_group("randomx_light");
    g.sample_size(20).measurement_time(Duration::from_secs(12));

    let rx = RandomXHasher::new(RandomXMode::Light);
    rx.hash(&SEED, &blob(0, 0)).unwrap(); // cache and first VM
    g.throughput(Throughput::Elements(1));
    let mut nonce = 0u64;
    g.bench_function("hash_1_thread", |b| {
        b.iter(|| {
            nonce += 1;
            rx.hash(&SEED, &blob(0, nonce)).unwrap()
        })
    });

    // The same through a bare VM: no seed lookup, no pool.
    let cache = RandomXCache::new(flags, &SEED).unwrap();
    let vm = RandomXVM::new(flags, Some(cache), None).unwrap();
    g.bench_function("bare_vm_1_thread", |b| {
        b.iter(|| {
            nonce += 1;
            vm.calculate_hash(&blob(0, nonce)).unwrap()
        })
    });
    drop(vm);

    let secure = RandomXHasher::with_flags(RandomXMode::Light, flags | RandomXFlag::FLAG_SECURE);
    secure.hash(&SEED, &blob(0, 0)).unwrap();
    g.bench_function("hash_1_thread_secure_jit", |b| {
        b.iter(|| {
            nonce += 1;
            secure.hash(&SEED, &blob(0, nonce)).unwrap()
        })
    });
    drop(secure);

    g.throughput(Throughput::Elements(2));
    g.bench_function("hash_2_threads", |b| {
        b.iter_custom(|iters| hash_parallel(&rx, 2, iters))
    });
    drop(rx);

    g.throughput(Throughput::Elements(1));
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let mut key = 0u32;
    g.bench_function("cache_init", |b| {
        b.iter(|| {
            key += 1;
            RandomXCache::new(flags, &key.to_le_bytes()).unwrap()
        })
    });
    g.finish();
}

fn fast(c: &mut Criterion) {
    if std::env::var_os("XMRD_BENCH_FAST").is_none_or(|v| v != "1") {
        eprintln!("skipping fast mode: set XMRD_BENCH_FAST=1 (builds a 2 GiB dataset, ~1 min)");
        return;
    }
    let rx = RandomXHasher::new(RandomXMode::Fast);
    let started = Instant::now();
    rx.set_main_seed(SEED, 0);
    assert!(
        rx.wait_for_dataset(&SEED, Duration::from_secs(900)),
        "dataset built"
    );
    eprintln!(
        "randomx_fast/dataset_init (randomx-rs, one thread, incl. cache): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut g = c.benchmark_group("randomx_fast");
    g.sample_size(50).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(1));
    let mut nonce = 0u64;
    g.bench_function("hash_1_thread", |b| {
        b.iter(|| {
            nonce += 1;
            rx.hash(&SEED, &blob(0, nonce)).unwrap()
        })
    });
    g.throughput(Throughput::Elements(2));
    g.bench_function("hash_2_threads", |b| {
        b.iter_custom(|iters| hash_parallel(&rx, 2, iters))
    });
    g.finish();
}

criterion_group!(benches, light, fast);
criterion_main!(benches);
