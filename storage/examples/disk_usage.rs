//! Measures the chain store's bytes on disk per block, and commit speed, on real Monero
//! data with each compression (none, LZ4, Zstandard): the regtest chains exported with
//! `monero-blockchain-export` in `../shared/realpeer/chains/`, and the mainnet sample
//! blocks (with whichever of their transactions `../shared/vectors/txs/` holds).
//!
//! `cargo run --release -p xmrd-storage --example disk_usage` (`$XMRD_SHARED` overrides
//! where `shared/` is). Parsing is done here with monero-oxide, never in the library.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use monero_oxide::block::Block;
use monero_oxide::transaction::{Input, NotPruned, Timelock, Transaction};
use xmrd_storage::{
    BlockMeta, BlockWrite, ChainStore, Compression, OutputKind, OutputWrite, StoreConfig, TxWrite,
};

fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    p.is_dir().then_some(p)
}

fn varint(r: &mut &[u8]) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = r[0];
        *r = &r[1..];
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    v
}

fn tx_write(tx: Transaction<NotPruned>) -> TxWrite {
    let hash = tx.hash();
    let rct = tx.version() == 2;
    let prefix = tx.prefix().clone();
    let commitments: Vec<[u8; 32]> = match &tx {
        Transaction::V2 {
            proofs: Some(p), ..
        } => p.base.commitments.iter().map(|c| c.to_bytes()).collect(),
        _ => Vec::new(),
    };
    let (pruned, prunable) = tx.pruned_with_prunable();
    let outputs = prefix
        .outputs
        .iter()
        .enumerate()
        .map(|(i, o)| OutputWrite {
            kind: if rct {
                OutputKind::RingCt
            } else {
                OutputKind::PreRingCt {
                    amount: o.amount.unwrap_or(0),
                }
            },
            key: o.key.to_bytes(),
            // Miner and pre-RingCT outputs carry monerod's zero-mask commitment, which
            // needs curve arithmetic: stand in 32 bytes as random-looking (the key's).
            commitment: commitments
                .get(i)
                .copied()
                .unwrap_or_else(|| o.key.to_bytes()),
        })
        .collect();
    let key_images = prefix
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::ToKey { key_image, .. } => Some(key_image.to_bytes()),
            Input::Gen(_) => None,
        })
        .collect();
    let unlock_time = match prefix.additional_timelock {
        Timelock::None => 0,
        Timelock::Block(b) => b as u64,
        Timelock::Time(t) => t,
    };
    TxWrite {
        hash,
        pruned: pruned.serialize(),
        prunable,
        unlock_time,
        outputs,
        key_images,
    }
}

/// A `BlockWrite` from a block and its transactions; `prev` relinks non-contiguous samples.
fn block_write(
    block: &Block,
    txs: Vec<Transaction<NotPruned>>,
    prev: Option<&BlockWrite>,
) -> BlockWrite {
    let mut all = vec![tx_write(block.miner_transaction().clone())];
    all.extend(txs.into_iter().map(tx_write));
    let pm = prev.map_or(BlockMeta::default(), |p| p.meta);
    let reward: u64 = block
        .miner_transaction()
        .prefix()
        .outputs
        .iter()
        .filter_map(|o| o.amount)
        .sum();
    BlockWrite {
        hash: block.hash(),
        prev_hash: prev.map_or(block.header.previous, |p| p.hash),
        header: block.header.serialize(),
        blob: block.serialize(),
        meta: BlockMeta {
            cumulative_difficulty: pm.cumulative_difficulty + 1 + u128::from(block.header.nonce),
            weight: all
                .iter()
                .map(|t| (t.pruned.len() + t.prunable.len()) as u64)
                .sum(),
            long_term_weight: 0,
            timestamp: block.header.timestamp,
            coins_generated: pm.coins_generated.wrapping_add(reward),
            hard_fork_version: block.header.hardfork_version,
        },
        txs: all,
    }
}

/// Blocks of a `monero-blockchain-export` file: magic, 1024-byte header, then chunks of
/// u32 size + block + varint count + transactions + (weight, difficulty, coins).
fn read_export(path: &Path) -> Vec<BlockWrite> {
    let data = std::fs::read(path).unwrap();
    let mut at = 4 + 1024;
    let mut out: Vec<BlockWrite> = Vec::new();
    while at + 4 <= data.len() {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let mut r = &data[at + 4..at + 4 + size];
        let block = Block::read(&mut r).unwrap();
        let n = varint(&mut r);
        let txs = (0..n)
            .map(|_| Transaction::<NotPruned>::read(&mut r).unwrap())
            .collect();
        let b = block_write(&block, txs, None);
        assert!(
            out.last().is_none_or(|p| p.hash == b.prev_hash),
            "export out of order"
        );
        out.push(b);
        at += 4 + size;
    }
    out
}

/// The mainnet sample blocks, relinked into one chain, with the txs `txs/` holds.
fn read_mainnet_samples(shared: &Path) -> Vec<BlockWrite> {
    let mut txs: HashMap<[u8; 32], Transaction<NotPruned>> = HashMap::new();
    for net in ["mainnet", "stagenet", "testnet"] {
        for e in std::fs::read_dir(shared.join("vectors/txs").join(net))
            .into_iter()
            .flatten()
            .flatten()
        {
            let bytes = std::fs::read(e.path()).unwrap();
            if let Ok(tx) = Transaction::<NotPruned>::read(&mut bytes.as_slice()) {
                txs.insert(tx.hash(), tx);
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(shared.join("vectors/blocks/mainnet"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort_by_key(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('_').next())
            .and_then(|h| h.parse::<u64>().ok())
    });
    let (mut out, mut have, mut want): (Vec<BlockWrite>, usize, usize) = (Vec::new(), 0, 0);
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let block = Block::read(&mut bytes.as_slice()).unwrap();
        let found: Vec<_> = block
            .transactions
            .iter()
            .filter_map(|h| txs.get(h).cloned())
            .collect();
        want += block.transactions.len();
        have += found.len();
        let b = block_write(&block, found, out.last());
        out.push(b);
    }
    println!(
        "mainnet samples: {} blocks, {have} of their {want} transactions present",
        out.len()
    );
    out
}

fn dir_bytes(dir: &Path, ext: &str) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(ext))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

fn measure(name: &str, blocks: &[BlockWrite]) {
    let raw: usize = blocks.iter().map(BlockWrite::blob_bytes).sum();
    let n = blocks.len() as f64;
    println!(
        "\n{name}: {} blocks, {:.0} blob bytes/block before compression",
        blocks.len(),
        raw as f64 / n
    );
    println!(
        "{:<6} {:>14} {:>12} {:>10} {:>12}",
        "codec", "SST bytes", "bytes/block", "vs raw", "commit"
    );
    for (label, c) in [
        ("none", Compression::None),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StoreConfig {
            compression: c,
            ..StoreConfig::default()
        };
        let store = ChainStore::open(dir.path(), &cfg).unwrap();
        let mut time = Duration::ZERO;
        for span in blocks.chunks(20) {
            let t0 = Instant::now();
            store.committer().push_blocks(span.to_vec()).unwrap();
            time += t0.elapsed();
        }
        store.committer().compact().unwrap();
        drop(store);
        let sst = dir_bytes(dir.path(), ".sst");
        println!(
            "{label:<6} {sst:>14} {:>12.0} {:>9.1}% {:>8.0} blk/s",
            sst as f64 / n,
            100.0 * sst as f64 / raw as f64,
            n / time.as_secs_f64()
        );
    }
}

fn main() {
    let Some(shared) = shared() else {
        println!("SKIP: shared test data (../shared or $XMRD_SHARED) not found");
        return;
    };
    for chain in ["regtest-2000b-300tx.raw", "regtest-700b-2500tx.raw"] {
        let path = shared.join("realpeer/chains").join(chain);
        measure(chain, &read_export(&path));
    }
    measure("mainnet sample blocks", &read_mainnet_samples(&shared));
}
