//! CryptoNight benchmarks: hashes per second on one thread for each variant (0, 1, 2 and
//! R) through a reused `CnHasher`, plus a fresh scratchpad per hash (`cn_slow_hash`) for
//! variant 0 to show what the allocation costs.
//!
//! `cargo bench --bench cryptonight`. Each hash takes tens of milliseconds, so samples are
//! few.

#![allow(missing_docs)]
// criterion_group! generates undocumented fns
// Benchmarks run on fixed local inputs: failing loudly is what we want.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use xmrd::consensus::pow::{cn_slow_hash, CnHasher, CnVariant};

/// Mainnet block 1731606's hashing blob (76 bytes, major version 9: variant 2).
const HASHING_BLOB_HEX: &str = concat!(
    "0909d692f5e005b9f62b42bb2bd434ad6d549c8002e4bec44201c837ee3953d6685d641a21bd",
    "d4e7a1c2f54d2d941c760c3e4fef5808e42c3bbe9f49157af609c33c2b5afe4c1444060bcd04",
);

/// A height in the CryptoNight-R era (major version 10).
const R_HEIGHT: u64 = 1_806_260;

const NONCE_OFFSET: usize = 39;

fn cryptonight(c: &mut Criterion) {
    let mut blob = hex::decode(HASHING_BLOB_HEX).unwrap();
    let mut g = c.benchmark_group("cryptonight");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(1));

    let mut hasher = CnHasher::new();
    for (name, variant) in [
        ("v0", CnVariant::V0),
        ("v1", CnVariant::V1),
        ("v2", CnVariant::V2),
        ("r", CnVariant::R),
    ] {
        let mut nonce = 0u32;
        g.bench_function(name, |bench| {
            bench.iter(|| {
                nonce = nonce.wrapping_add(1);
                blob[NONCE_OFFSET..NONCE_OFFSET + 4].copy_from_slice(&nonce.to_le_bytes());
                black_box(hasher.hash(&blob, variant, R_HEIGHT).unwrap())
            })
        });
    }
    g.bench_function("v0_fresh_scratchpad", |bench| {
        bench.iter(|| black_box(cn_slow_hash(&blob, CnVariant::V0, 0).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, cryptonight);
criterion_main!(benches);
