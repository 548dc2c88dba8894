//! Synthetic chains for the store's tests and benches: deterministic from a seed, so a
//! crash test's parent can rebuild exactly what its child committed. Blobs are random
//! bytes (like the signatures and proofs that make up most of a real block).
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::cast_possible_truncation,
    clippy::unwrap_used
)]

use std::path::PathBuf;

use xmrd_storage::{BlockMeta, BlockWrite, Hash, OutputKind, OutputWrite, TxWrite};

/// splitmix64: small, deterministic, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        self.fill(&mut h);
        h
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.fill(&mut v);
        v
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Shape of the blocks to make.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Non-miner transactions per block.
    pub txs: usize,
    pub inputs: usize,
    pub outputs: usize,
    pub pruned_bytes: usize,
    pub prunable_bytes: usize,
    /// Share (per mille) of outputs that are pre-RingCT, spread over a few amounts.
    pub pre_rct_permille: u64,
}

/// 150 transactions of 2 inputs and 2 outputs, sized like mainnet CLSAG/BP+ ones
/// (≈ 400 B prefix and RingCT base, ≈ 1.85 KB of CLSAGs, BP+ and pseudo-outputs).
pub const REALISTIC: Shape = Shape {
    txs: 150,
    inputs: 2,
    outputs: 2,
    pruned_bytes: 400,
    prunable_bytes: 1850,
    pre_rct_permille: 0,
};

/// A block with only its miner transaction.
pub const EMPTY: Shape = Shape {
    txs: 0,
    inputs: 0,
    outputs: 0,
    pruned_bytes: 0,
    prunable_bytes: 0,
    pre_rct_permille: 0,
};

/// The block at `height` of the chain `seed` (variant `fork` for side chains), given the
/// previous block. Everything is a function of (seed, fork, height, prev).
pub fn block(
    seed: u64,
    fork: u64,
    height: u64,
    prev: Option<&BlockWrite>,
    shape: Shape,
) -> BlockWrite {
    let mut r = Rng(seed
        ^ fork.wrapping_mul(0x1000_0000_01b3)
        ^ height.wrapping_mul(0xff51_afd7_ed55_8ccd));
    let prev_hash = prev.map_or([0u8; 32], |p| p.hash);
    let pm = prev.map_or(BlockMeta::default(), |p| p.meta);
    let output = |r: &mut Rng| OutputWrite {
        kind: if r.below(1000) < shape.pre_rct_permille {
            OutputKind::PreRingCt {
                amount: 10u64.pow(u32::try_from(r.below(4)).unwrap_or(0) + 6),
            }
        } else {
            OutputKind::RingCt
        },
        key: r.hash(),
        commitment: r.hash(),
    };
    let miner = TxWrite {
        hash: r.hash(),
        pruned: r.bytes(100),
        prunable: Vec::new(),
        unlock_time: height + 60,
        outputs: vec![output(&mut r)],
        key_images: Vec::new(),
    };
    let mut txs = vec![miner];
    for _ in 0..shape.txs {
        txs.push(TxWrite {
            hash: r.hash(),
            pruned: r.bytes(shape.pruned_bytes),
            prunable: r.bytes(shape.prunable_bytes),
            unlock_time: 0,
            outputs: (0..shape.outputs).map(|_| output(&mut r)).collect(),
            key_images: (0..shape.inputs).map(|_| r.hash()).collect(),
        });
    }
    let header = r.bytes(76);
    let mut blob = header.clone();
    blob.extend_from_slice(&txs[0].pruned);
    for t in &txs[1..] {
        blob.extend_from_slice(&t.hash);
    }
    BlockWrite {
        hash: r.hash(),
        prev_hash,
        header,
        blob,
        meta: BlockMeta {
            cumulative_difficulty: pm.cumulative_difficulty + 1 + u128::from(r.below(1 << 40)),
            weight: 300 + r.below(300_000),
            long_term_weight: 300 + r.below(300_000),
            timestamp: 1_700_000_000 + height * 120,
            coins_generated: pm.coins_generated + 600_000_000_000,
            hard_fork_version: 16,
        },
        txs,
    }
}

/// `n` blocks continuing `chain` (seed, fork), appended to it.
pub fn extend(chain: &mut Vec<BlockWrite>, seed: u64, fork: u64, n: usize, shape: Shape) {
    for _ in 0..n {
        let h = chain.len() as u64;
        let b = block(seed, fork, h, chain.last(), shape);
        chain.push(b);
    }
}

/// `../shared` (or `$XMRD_SHARED`), if present.
pub fn shared_dir() -> Option<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    p.is_dir().then_some(p)
}
pub mod model;
