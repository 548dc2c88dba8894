//! Reader for monerod's blockchain export files (`monero-blockchain-export`, the `.raw`
//! bootstrap format of `src/blockchain_utilities/bootstrap_file.cpp`).
//!
//! Layout: a 4-byte magic, a 1024-byte header, then per block a little-endian `u32` chunk size
//! and a chunk holding a `bootstrap::block_package`: the block, a varint count of
//! transactions, the transactions, varint `block_weight`, the cumulative difficulty as two
//! varints (high, low 64 bits) and varint `coins_generated`. Every size is bounded before use.

use std::io::Read;

use monero_oxide::block::Block;
use monero_oxide::transaction::Transaction;
use thiserror::Error;

/// `blockchain_raw_magic` in bootstrap_file.h.
pub const BOOTSTRAP_MAGIC: u32 = 0x2872_1586;
/// The fixed header size monerod writes (`header_size = 1024`).
pub const BOOTSTRAP_HEADER_SIZE: usize = 1024;
/// Largest chunk we read (monerod's `BUFFER_SIZE` is 1,000,000 and it refuses larger; we allow
/// headroom for big mainnet blocks but never an unbounded allocation).
pub const MAX_CHUNK_SIZE: usize = 64 * 1024 * 1024;
/// Most transactions a package may claim before its bytes are read.
pub const MAX_TXS_PER_PACKAGE: u64 = 0x1000_0000;

/// Why a file does not read.
#[derive(Debug, Error)]
pub enum ChainFileError {
    /// I/O.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// Not a bootstrap file.
    #[error("not a monerod blockchain export (bad magic)")]
    Magic,
    /// A chunk over [`MAX_CHUNK_SIZE`].
    #[error("chunk of {0} bytes is over the limit")]
    ChunkTooBig(usize),
    /// A malformed package.
    #[error("block package {index} is malformed: {why}")]
    Package {
        /// Its position in the file.
        index: usize,
        /// What is wrong.
        why: String,
    },
}

/// One exported block with what monerod stored beside it.
#[derive(Debug, Clone)]
pub struct Package {
    /// The block blob.
    pub block: Vec<u8>,
    /// The transaction blobs.
    pub txs: Vec<Vec<u8>>,
    /// monerod's block weight.
    pub block_weight: u64,
    /// monerod's cumulative difficulty.
    pub cumulative_difficulty: u128,
    /// monerod's coins generated up to this block.
    pub coins_generated: u64,
}

fn varint(r: &mut &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for i in 0..10u32 {
        let (&b, rest) = r.split_first()?;
        *r = rest;
        let low = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return None;
        }
        v |= low << (7 * i);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn package(index: usize, chunk: &[u8]) -> Result<Package, ChainFileError> {
    let bad = |why: String| ChainFileError::Package { index, why };
    let mut r = chunk;
    let start = r.len();
    Block::read(&mut r).map_err(|e| bad(format!("block: {e}")))?;
    let block = chunk
        .get(..start - r.len())
        .ok_or_else(|| bad("block bounds".into()))?
        .to_vec();
    let n = varint(&mut r).ok_or_else(|| bad("tx count".into()))?;
    if n > MAX_TXS_PER_PACKAGE || n > r.len() as u64 {
        return Err(bad(format!("{n} transactions claimed")));
    }
    let mut txs = Vec::new();
    for _ in 0..n {
        let before = r;
        Transaction::<monero_oxide::transaction::NotPruned>::read(&mut r)
            .map_err(|e| bad(format!("tx: {e}")))?;
        let used = before.len() - r.len();
        txs.push(
            before
                .get(..used)
                .ok_or_else(|| bad("tx bounds".into()))?
                .to_vec(),
        );
    }
    let block_weight = varint(&mut r).ok_or_else(|| bad("weight".into()))?;
    let hi = varint(&mut r).ok_or_else(|| bad("difficulty".into()))?;
    let lo = varint(&mut r).ok_or_else(|| bad("difficulty".into()))?;
    let coins_generated = varint(&mut r).ok_or_else(|| bad("coins".into()))?;
    if !r.is_empty() {
        return Err(bad(format!("{} trailing bytes", r.len())));
    }
    Ok(Package {
        block,
        txs,
        block_weight,
        cumulative_difficulty: (u128::from(hi) << 64) | u128::from(lo),
        coins_generated,
    })
}

/// Reads every block package of an export file.
pub fn read_all(mut file: impl Read) -> Result<Vec<Package>, ChainFileError> {
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)?;
    if u32::from_le_bytes(magic) != BOOTSTRAP_MAGIC {
        return Err(ChainFileError::Magic);
    }
    let mut header = vec![0u8; BOOTSTRAP_HEADER_SIZE];
    file.read_exact(&mut header)?;
    let mut out = Vec::new();
    loop {
        let mut size = [0u8; 4];
        match file.read_exact(&mut size) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let size = u32::from_le_bytes(size) as usize;
        if size > MAX_CHUNK_SIZE {
            return Err(ChainFileError::ChunkTooBig(size));
        }
        let mut chunk = vec![0u8; size];
        file.read_exact(&mut chunk)?;
        out.push(package(out.len(), &chunk)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_regtest_exports() {
        let Some(dir) = crate::testdata::shared_subdir("realpeer/chains") else {
            return;
        };
        for f in crate::testdata::files_with_ext(&dir, "raw") {
            let pk = read_all(std::fs::File::open(&f).unwrap()).unwrap();
            let meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(f.with_extension("json")).unwrap())
                    .unwrap();
            assert_eq!(pk.len() as u64, meta["height"].as_u64().unwrap(), "{f:?}");
            let txs: usize = pk.iter().map(|p| p.txs.len()).sum();
            assert_eq!(txs as u64, meta["tx_count"].as_u64().unwrap(), "{f:?}");
        }
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            read_all(&[0u8; 2000][..]),
            Err(ChainFileError::Magic)
        ));
        let mut f = BOOTSTRAP_MAGIC.to_le_bytes().to_vec();
        f.extend(vec![0u8; BOOTSTRAP_HEADER_SIZE]);
        f.extend(u32::MAX.to_le_bytes());
        assert!(matches!(
            read_all(&f[..]),
            Err(ChainFileError::ChunkTooBig(_))
        ));
        let mut g = BOOTSTRAP_MAGIC.to_le_bytes().to_vec();
        g.extend(vec![0u8; BOOTSTRAP_HEADER_SIZE]);
        g.extend(3u32.to_le_bytes());
        g.extend([1, 2, 3]);
        assert!(matches!(
            read_all(&g[..]),
            Err(ChainFileError::Package { .. })
        ));
    }
}
