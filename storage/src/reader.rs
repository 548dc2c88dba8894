//! Readers: a [`ChainReader`] is cheap to clone and used from any thread. Each call reads
//! one RocksDB snapshot with batched `multi_get`, so a batch of lookups is consistent
//! with itself and never waits for the committer. The published [`ReadView`] is loaded
//! lock-free.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rocksdb::{ReadOptions, DB};

use crate::db::Db;
use crate::error::Result;
use crate::records::{
    decode_header, decode_location, decode_meta, decode_output, decode_tx_record,
};
use crate::schema::{self, height_key, pre_rct_key, tx_key};
use crate::types::{
    AltBlock, BlockMeta, Hash, KeyImage, OutputRecord, ReadView, StoredBlock, StoredTx, TxLocation,
};

/// Reads the chain from any thread.
#[derive(Clone)]
pub struct ChainReader {
    pub(crate) db: Arc<Db>,
    pub(crate) view: Arc<ArcSwap<ReadView>>,
}

impl std::fmt::Debug for ChainReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainReader")
            .field("path", &self.db.path)
            .finish()
    }
}

impl ChainReader {
    /// The last published view: top height, top hash, cumulative difficulty. Lock-free.
    pub fn view(&self) -> ReadView {
        **self.view.load()
    }

    /// Runs `f` with read options bound to one fresh snapshot.
    fn with_snapshot<T>(&self, f: impl FnOnce(&DB, &ReadOptions) -> Result<T>) -> Result<T> {
        let snap = self.db.rocks.snapshot();
        let mut ro = ReadOptions::default();
        ro.set_snapshot(&snap);
        f(&self.db.rocks, &ro)
    }

    /// Batched point reads of one column family, decoded.
    fn multi<K: AsRef<[u8]>, T>(
        &self,
        cf: &'static str,
        keys: &[K],
        decode: impl Fn(&[u8]) -> Result<T>,
    ) -> Result<Vec<Option<T>>> {
        let handle = self.db.cf(cf)?;
        self.with_snapshot(|db, ro| {
            db.batched_multi_get_cf_opt(handle, keys.iter(), false, ro)
                .into_iter()
                .map(|r| r?.map(|v| decode(&v)).transpose())
                .collect()
        })
    }

    /// Heights of blocks by hash (`None`: not on the main chain).
    pub fn block_heights(&self, hashes: &[Hash]) -> Result<Vec<Option<u64>>> {
        self.multi(schema::BLOCK_HEIGHTS, hashes, |v| {
            let mut d = crate::records::Dec::new(v, schema::BLOCK_HEIGHTS);
            let h = d.u64()?;
            d.finish()?;
            Ok(h)
        })
    }

    /// Block hashes by height.
    pub fn block_hashes(&self, heights: &[u64]) -> Result<Vec<Option<Hash>>> {
        let keys: Vec<_> = heights.iter().map(|&h| height_key(h)).collect();
        self.multi(schema::BLOCK_HEADERS, &keys, |v| Ok(decode_header(v)?.0))
    }

    /// Whole blocks (header, blob, metadata) by height, from one snapshot.
    pub fn blocks(&self, heights: &[u64]) -> Result<Vec<Option<StoredBlock>>> {
        let keys: Vec<_> = heights.iter().map(|&h| height_key(h)).collect();
        let (headers, blobs, metas) = (
            self.db.cf(schema::BLOCK_HEADERS)?,
            self.db.cf(schema::BLOCK_BLOBS)?,
            self.db.cf(schema::BLOCK_META)?,
        );
        self.with_snapshot(|db, ro| {
            let get = |cf| db.batched_multi_get_cf_opt(cf, keys.iter(), true, ro);
            let (hs, bs, ms) = (get(headers), get(blobs), get(metas));
            let mut out = Vec::with_capacity(keys.len());
            for (((height, h), b), m) in heights.iter().zip(hs).zip(bs).zip(ms) {
                let (Some(h), Some(b), Some(m)) = (h?, b?, m?) else {
                    out.push(None);
                    continue;
                };
                let (hash, prev_hash, header) = decode_header(&h)?;
                let (meta, cumulative_rct_outputs, tx_count) = decode_meta(&m)?;
                out.push(Some(StoredBlock {
                    height: *height,
                    hash,
                    prev_hash,
                    header: header.to_vec(),
                    blob: b.to_vec(),
                    meta,
                    cumulative_rct_outputs,
                    tx_count,
                }));
            }
            Ok(out)
        })
    }

    /// Where transactions are, by hash.
    pub fn tx_locations(&self, hashes: &[Hash]) -> Result<Vec<Option<TxLocation>>> {
        self.multi(schema::TX_INDEX, hashes, |v| {
            decode_location(v, schema::TX_INDEX)
        })
    }

    /// Transactions (blobs and index record) by location, from one snapshot.
    pub fn txs_at(&self, locations: &[TxLocation]) -> Result<Vec<Option<StoredTx>>> {
        self.txs_at_with(locations, true)
    }

    /// Transactions by location without their prunable parts (`prunable` is `None`):
    /// what a pruned answer needs, one column family fewer to read.
    pub fn pruned_txs_at(&self, locations: &[TxLocation]) -> Result<Vec<Option<StoredTx>>> {
        self.txs_at_with(locations, false)
    }

    fn txs_at_with(
        &self,
        locations: &[TxLocation],
        with_prunable: bool,
    ) -> Result<Vec<Option<StoredTx>>> {
        let keys: Vec<_> = locations
            .iter()
            .map(|l| tx_key(l.height, l.index))
            .collect();
        let (recs, pruned, prunable) = (
            self.db.cf(schema::TX_OUTPUTS)?,
            self.db.cf(schema::TXS_PRUNED)?,
            self.db.cf(schema::TXS_PRUNABLE)?,
        );
        self.with_snapshot(|db, ro| {
            let get = |cf| db.batched_multi_get_cf_opt(cf, keys.iter(), false, ro);
            let (rs, ps) = (get(recs), get(pruned));
            let mut qs = if with_prunable {
                get(prunable).into_iter().map(Some).collect()
            } else {
                Vec::new()
            }
            .into_iter();
            let mut out = Vec::with_capacity(keys.len());
            for ((loc, r), p) in locations.iter().zip(rs).zip(ps) {
                let q = qs.next().flatten();
                let (Some(r), Some(p)) = (r?, p?) else {
                    out.push(None);
                    continue;
                };
                out.push(Some(StoredTx {
                    location: *loc,
                    record: decode_tx_record(&r)?,
                    pruned: p.to_vec(),
                    prunable: match q {
                        Some(q) => q?.map(|q| q.to_vec()),
                        None => None,
                    },
                }));
            }
            Ok(out)
        })
    }

    /// Transactions by hash (two snapshots: a pop in between yields `None`, never a mix).
    pub fn txs(&self, hashes: &[Hash]) -> Result<Vec<Option<StoredTx>>> {
        let locs = self.tx_locations(hashes)?;
        let found: Vec<TxLocation> = locs.iter().flatten().copied().collect();
        let mut txs = self.txs_at(&found)?.into_iter();
        let mut out = Vec::with_capacity(hashes.len());
        for (h, l) in hashes.iter().zip(&locs) {
            let tx = match l {
                Some(_) => txs.next().flatten().filter(|t| t.record.hash == *h),
                None => None,
            };
            out.push(tx);
        }
        Ok(out)
    }

    /// Transactions of one block, in block order.
    pub fn block_txs(&self, height: u64, tx_count: u32) -> Result<Vec<Option<StoredTx>>> {
        let locs: Vec<_> = (0..tx_count)
            .map(|index| TxLocation { height, index })
            .collect();
        self.txs_at(&locs)
    }

    /// RingCT outputs by global index.
    pub fn rct_outputs(&self, indices: &[u64]) -> Result<Vec<Option<OutputRecord>>> {
        let keys: Vec<_> = indices.iter().map(|&i| height_key(i)).collect();
        self.multi(schema::OUTPUTS_RCT, &keys, |v| {
            decode_output(v, schema::OUTPUTS_RCT)
        })
    }

    /// Pre-RingCT outputs by (amount, index).
    pub fn pre_rct_outputs(&self, keys: &[(u64, u64)]) -> Result<Vec<Option<OutputRecord>>> {
        let keys: Vec<_> = keys.iter().map(|&(a, i)| pre_rct_key(a, i)).collect();
        self.multi(schema::OUTPUTS_PRE_RCT, &keys, |v| {
            decode_output(v, schema::OUTPUTS_PRE_RCT)
        })
    }

    /// For each key image, the height of the block that spent it (`None`: unspent).
    pub fn spent_key_images(&self, key_images: &[KeyImage]) -> Result<Vec<Option<u64>>> {
        self.multi(schema::KEY_IMAGES, key_images, |v| {
            let mut d = crate::records::Dec::new(v, schema::KEY_IMAGES);
            let h = d.u64()?;
            d.finish()?;
            Ok(h)
        })
    }

    /// Block metadata by height, without the blobs (difficulty, weight and timestamp
    /// windows read this).
    pub fn metas(&self, heights: &[u64]) -> Result<Vec<Option<BlockMeta>>> {
        let keys: Vec<_> = heights.iter().map(|&h| height_key(h)).collect();
        self.multi(schema::BLOCK_META, &keys, |v| Ok(decode_meta(v)?.0))
    }

    /// RingCT outputs in the chain up to and including each block (monerod's
    /// `get_block_cumulative_rct_outputs`), by height, without the blobs.
    pub fn cumulative_rct_outputs(&self, heights: &[u64]) -> Result<Vec<Option<u64>>> {
        let keys: Vec<_> = heights.iter().map(|&h| height_key(h)).collect();
        self.multi(schema::BLOCK_META, &keys, |v| Ok(decode_meta(v)?.1))
    }

    /// Transactions per block, miner transaction included, by height, without the blobs.
    pub fn tx_counts(&self, heights: &[u64]) -> Result<Vec<Option<u32>>> {
        let keys: Vec<_> = heights.iter().map(|&h| height_key(h)).collect();
        self.multi(schema::BLOCK_META, &keys, |v| Ok(decode_meta(v)?.2))
    }

    /// How many pre-RingCT outputs of `amount` the chain has (the next index of that
    /// amount): one reverse seek.
    pub fn pre_rct_output_count(&self, amount: u64) -> Result<u64> {
        let handle = self.db.cf(schema::OUTPUTS_PRE_RCT)?;
        self.with_snapshot(|db, _ro| {
            let mut it = db.raw_iterator_cf(handle);
            it.seek_for_prev(pre_rct_key(amount, u64::MAX));
            let Some(k) = it.key() else {
                it.status()?;
                return Ok(0);
            };
            match (k.get(..8), k.get(8..16)) {
                (Some(a), Some(i)) if a == amount.to_be_bytes() => {
                    let mut idx = [0u8; 8];
                    idx.copy_from_slice(i);
                    Ok(u64::from_be_bytes(idx) + 1)
                }
                _ => Ok(0),
            }
        })
    }

    /// The block height of every pre-RingCT output of `amount`, in index order (which is
    /// chain order): one forward scan of that amount's keys, for the RPC's output
    /// distribution of an amount.
    pub fn pre_rct_output_heights(&self, amount: u64) -> Result<Vec<u64>> {
        let handle = self.db.cf(schema::OUTPUTS_PRE_RCT)?;
        self.with_snapshot(|db, _ro| {
            let mut it = db.raw_iterator_cf(handle);
            it.seek(pre_rct_key(amount, 0));
            let mut heights = Vec::new();
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                if k.get(..8) != Some(&amount.to_be_bytes()[..]) {
                    break;
                }
                heights.push(decode_output(v, schema::OUTPUTS_PRE_RCT)?.tx.height);
                it.next();
            }
            it.status()?;
            Ok(heights)
        })
    }

    /// Alternative blocks by hash.
    pub fn alt_blocks(&self, hashes: &[Hash]) -> Result<Vec<Option<AltBlock>>> {
        self.multi(schema::ALT_BLOCKS, hashes, crate::records::decode_alt_block)
    }
}
