//! The write path, run only on the committer thread: turns a span of [`BlockWrite`]s or
//! a pop into one RocksDB `WriteBatch` with the chain-state record in it, so a commit is
//! all there after a crash or not at all. Assigns output global indices. Never called
//! from a reader.

use std::collections::{HashMap, HashSet};

use rocksdb::{WriteBatch, WriteOptions};
use tracing::debug;

use crate::config::WalSync;
use crate::db::Db;
use crate::error::{hex, Result, StoreError};
use crate::records::{
    count_u32, decode_header, decode_meta, decode_tx_record, encode_alt_block, encode_chain_state,
    encode_header, encode_meta, encode_output, encode_tx_record, ChainState,
};
use crate::schema::{self, height_key, pre_rct_key, tx_key, CHAIN_STATE_KEY};
use crate::types::{
    AltBlock, BlockWrite, Hash, OutputIndex, OutputKind, OutputRecord, ReadView, TxLocation,
    TxRecord,
};

/// The committer's state: the chain state as last committed, and the next index of each
/// pre-RingCT amount seen so far (loaded from disk on first use).
pub(crate) struct Writer {
    pub(crate) db: std::sync::Arc<Db>,
    state: ChainState,
    next_amount_index: HashMap<u64, u64>,
    write_opts: WriteOptions,
}

impl Writer {
    pub(crate) fn new(db: std::sync::Arc<Db>, wal: WalSync) -> Result<Self> {
        if db.read_only {
            return Err(StoreError::ReadOnly);
        }
        let state = db.chain_state()?;
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(wal == WalSync::EveryCommit);
        Ok(Self {
            db,
            state,
            next_amount_index: HashMap::new(),
            write_opts,
        })
    }

    pub(crate) fn view(&self) -> ReadView {
        self.state.view
    }

    /// Next index of a pre-RingCT amount: from this span's overlay, the cache, or disk.
    fn next_amount(&self, overlay: &mut HashMap<u64, u64>, amount: u64) -> Result<u64> {
        if let Some(&n) = overlay
            .get(&amount)
            .or_else(|| self.next_amount_index.get(&amount))
        {
            return Ok(n);
        }
        let mut it = self
            .db
            .rocks
            .raw_iterator_cf(self.db.cf(schema::OUTPUTS_PRE_RCT)?);
        it.seek_for_prev(pre_rct_key(amount, u64::MAX));
        it.status()?;
        let next = match it.key() {
            Some(k) if k.len() == 16 && k[..8] == amount.to_be_bytes() => {
                let mut idx = [0u8; 8];
                idx.copy_from_slice(&k[8..]);
                u64::from_be_bytes(idx) + 1
            }
            _ => 0,
        };
        Ok(next)
    }

    /// Refuses blocks, transactions and key images already in the chain or twice in the span.
    fn check_new(&self, blocks: &[BlockWrite]) -> Result<()> {
        let dup = |what, h: &Hash| StoreError::Duplicate { what, hash: hex(h) };
        let mut seen = HashSet::new();
        let groups: [(&'static str, &'static str, Vec<&Hash>); 3] = [
            (
                "block",
                schema::BLOCK_HEIGHTS,
                blocks.iter().map(|b| &b.hash).collect(),
            ),
            (
                "transaction",
                schema::TX_INDEX,
                blocks
                    .iter()
                    .flat_map(|b| b.txs.iter().map(|t| &t.hash))
                    .collect(),
            ),
            (
                "key image",
                schema::KEY_IMAGES,
                blocks
                    .iter()
                    .flat_map(|b| b.txs.iter().flat_map(|t| &t.key_images))
                    .collect(),
            ),
        ];
        for (what, cf, keys) in groups {
            seen.clear();
            for k in &keys {
                if !seen.insert(*k) {
                    return Err(dup(what, k));
                }
            }
            let cf = self.db.cf(cf)?;
            let found = self
                .db
                .rocks
                .batched_multi_get_cf(cf, keys.iter().copied(), false);
            for (k, r) in keys.iter().zip(found) {
                if r?.is_some() {
                    return Err(dup(what, k));
                }
            }
        }
        Ok(())
    }

    /// Commits a span of blocks as one batch; returns the new view.
    pub(crate) fn push(&mut self, blocks: &[BlockWrite]) -> Result<ReadView> {
        self.check_new(blocks)?;
        let db = &self.db;
        let cfs = Cfs::new(db)?;
        let mut st = self.state;
        let mut overlay = HashMap::new();
        let mut batch = WriteBatch::default();
        for b in blocks {
            if st.view.block_count > 0 && b.prev_hash != st.view.top_hash {
                return Err(StoreError::NotChild {
                    hash: hex(&b.hash),
                    prev: hex(&b.prev_hash),
                    top: hex(&st.view.top_hash),
                });
            }
            let height = st.view.block_count;
            for (i, tx) in b.txs.iter().enumerate() {
                let index = count_u32(i, "transaction index")?;
                let loc = TxLocation { height, index };
                let key = tx_key(height, index);
                let mut outputs = Vec::with_capacity(tx.outputs.len());
                for (j, o) in tx.outputs.iter().enumerate() {
                    let rec = OutputRecord {
                        key: o.key,
                        commitment: o.commitment,
                        unlock_time: tx.unlock_time,
                        tx: loc,
                        local_index: count_u32(j, "output index")?,
                    };
                    match o.kind {
                        OutputKind::RingCt => {
                            let g = st.view.rct_outputs;
                            batch.put_cf(cfs.outputs_rct, height_key(g), encode_output(&rec));
                            st.view.rct_outputs += 1;
                            outputs.push(OutputIndex::RingCt(g));
                        }
                        OutputKind::PreRingCt { amount } => {
                            let index = self.next_amount(&mut overlay, amount)?;
                            overlay.insert(amount, index + 1);
                            let k = pre_rct_key(amount, index);
                            batch.put_cf(cfs.outputs_pre_rct, k, encode_output(&rec));
                            st.pre_rct_outputs += 1;
                            outputs.push(OutputIndex::PreRingCt { amount, index });
                        }
                    }
                }
                for ki in &tx.key_images {
                    batch.put_cf(cfs.key_images, ki, height_key(height));
                }
                st.key_images += tx.key_images.len() as u64;
                let record = TxRecord {
                    hash: tx.hash,
                    unlock_time: tx.unlock_time,
                    outputs,
                    key_images: tx.key_images.clone(),
                };
                batch.put_cf(cfs.tx_outputs, key, encode_tx_record(&record)?);
                batch.put_cf(cfs.txs_pruned, key, &tx.pruned);
                batch.put_cf(cfs.txs_prunable, key, &tx.prunable);
                batch.put_cf(cfs.tx_index, tx.hash, key);
            }
            let hk = height_key(height);
            let tx_count = count_u32(b.txs.len(), "transaction count")?;
            batch.put_cf(
                cfs.headers,
                hk,
                encode_header(&b.hash, &b.prev_hash, &b.header),
            );
            batch.put_cf(cfs.heights, b.hash, hk);
            batch.put_cf(cfs.blobs, hk, &b.blob);
            batch.put_cf(
                cfs.meta,
                hk,
                encode_meta(&b.meta, st.view.rct_outputs, tx_count),
            );
            st.txs += u64::from(tx_count);
            st.view.block_count += 1;
            st.view.top_hash = b.hash;
            st.view.cumulative_difficulty = b.meta.cumulative_difficulty;
        }
        batch.put_cf(cfs.default, CHAIN_STATE_KEY, encode_chain_state(&st));
        db.rocks.write_opt(batch, &self.write_opts)?;
        self.state = st;
        self.next_amount_index.extend(overlay);
        debug!(
            blocks = blocks.len(),
            height = st.view.block_count,
            "committed"
        );
        Ok(st.view)
    }

    /// Pops the top `n` blocks in one batch, unspending their key images and removing
    /// their outputs; returns the new view and the popped hashes, top first.
    pub(crate) fn pop(&mut self, n: u64) -> Result<(ReadView, Vec<Hash>)> {
        let have = self.state.view.block_count;
        if n > have {
            return Err(StoreError::PopTooDeep { asked: n, have });
        }
        let db = &self.db;
        let cfs = Cfs::new(db)?;
        let mut st = self.state;
        let mut batch = WriteBatch::default();
        let mut popped = Vec::new();
        let missing = |cf: &'static str, h: u64| StoreError::Corrupt {
            cf,
            what: format!("no record at height {h} below the top"),
        };
        for height in (have - n..have).rev() {
            let hk = height_key(height);
            let header = db
                .rocks
                .get_cf(cfs.headers, hk)?
                .ok_or_else(|| missing(schema::BLOCK_HEADERS, height))?;
            let (hash, _, _) = decode_header(&header)?;
            let meta = db
                .rocks
                .get_cf(cfs.meta, hk)?
                .ok_or_else(|| missing(schema::BLOCK_META, height))?;
            let (_, _, tx_count) = decode_meta(&meta)?;
            let keys: Vec<[u8; 12]> = (0..tx_count).map(|i| tx_key(height, i)).collect();
            for (key, r) in
                keys.iter()
                    .zip(db.rocks.batched_multi_get_cf(cfs.tx_outputs, &keys, true))
            {
                let raw = r?.ok_or_else(|| missing(schema::TX_OUTPUTS, height))?;
                let rec = decode_tx_record(&raw)?;
                for o in &rec.outputs {
                    match *o {
                        OutputIndex::RingCt(g) => {
                            batch.delete_cf(cfs.outputs_rct, height_key(g));
                        }
                        OutputIndex::PreRingCt { amount, index } => {
                            batch.delete_cf(cfs.outputs_pre_rct, pre_rct_key(amount, index));
                            st.pre_rct_outputs = st.pre_rct_outputs.saturating_sub(1);
                        }
                    }
                }
                for ki in &rec.key_images {
                    batch.delete_cf(cfs.key_images, ki);
                }
                st.key_images = st.key_images.saturating_sub(rec.key_images.len() as u64);
                batch.delete_cf(cfs.tx_index, rec.hash);
                batch.delete_cf(cfs.tx_outputs, key);
                batch.delete_cf(cfs.txs_pruned, key);
                batch.delete_cf(cfs.txs_prunable, key);
            }
            st.txs = st.txs.saturating_sub(u64::from(tx_count));
            batch.delete_cf(cfs.headers, hk);
            batch.delete_cf(cfs.heights, hash);
            batch.delete_cf(cfs.blobs, hk);
            batch.delete_cf(cfs.meta, hk);
            popped.push(hash);
        }
        st.view.block_count = have - n;
        match st.view.top_height() {
            None => st.view = ReadView::default(),
            Some(top) => {
                let hk = height_key(top);
                let header = db
                    .rocks
                    .get_cf(cfs.headers, hk)?
                    .ok_or_else(|| missing(schema::BLOCK_HEADERS, top))?;
                let meta = db
                    .rocks
                    .get_cf(cfs.meta, hk)?
                    .ok_or_else(|| missing(schema::BLOCK_META, top))?;
                let (m, cum_rct, _) = decode_meta(&meta)?;
                st.view.top_hash = decode_header(&header)?.0;
                st.view.cumulative_difficulty = m.cumulative_difficulty;
                st.view.rct_outputs = cum_rct;
            }
        }
        batch.put_cf(cfs.default, CHAIN_STATE_KEY, encode_chain_state(&st));
        db.rocks.write_opt(batch, &self.write_opts)?;
        self.state = st;
        // Indices of popped pre-RingCT amounts went down: reload them from disk when needed.
        self.next_amount_index.clear();
        debug!(popped = n, height = st.view.block_count, "popped");
        Ok((st.view, popped))
    }

    /// Stores an alternative block.
    pub(crate) fn put_alt_block(&mut self, hash: &Hash, block: &AltBlock) -> Result<()> {
        let cf = self.db.cf(schema::ALT_BLOCKS)?;
        let mut batch = WriteBatch::default();
        batch.put_cf(cf, hash, encode_alt_block(block)?);
        Ok(self.db.rocks.write_opt(batch, &self.write_opts)?)
    }

    /// Removes alternative blocks (absent ones are ignored).
    pub(crate) fn remove_alt_blocks(&mut self, hashes: &[Hash]) -> Result<()> {
        let cf = self.db.cf(schema::ALT_BLOCKS)?;
        let mut batch = WriteBatch::default();
        for h in hashes {
            batch.delete_cf(cf, h);
        }
        Ok(self.db.rocks.write_opt(batch, &self.write_opts)?)
    }

    /// Flushes and fully compacts every column family.
    pub(crate) fn compact(&self) -> Result<()> {
        for spec in schema::ALL_CFS {
            let cf = self.db.cf(spec.name)?;
            self.db.rocks.flush_cf(cf)?;
            self.db
                .rocks
                .compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    /// Syncs the WAL (for `WalSync::OsBuffered`, a durability point).
    pub(crate) fn sync_wal(&self) -> Result<()> {
        Ok(self.db.rocks.flush_wal(true)?)
    }
}

/// The column families the write path touches, looked up once per commit.
struct Cfs<'a> {
    default: &'a rocksdb::ColumnFamily,
    headers: &'a rocksdb::ColumnFamily,
    heights: &'a rocksdb::ColumnFamily,
    blobs: &'a rocksdb::ColumnFamily,
    meta: &'a rocksdb::ColumnFamily,
    txs_pruned: &'a rocksdb::ColumnFamily,
    txs_prunable: &'a rocksdb::ColumnFamily,
    tx_index: &'a rocksdb::ColumnFamily,
    tx_outputs: &'a rocksdb::ColumnFamily,
    outputs_rct: &'a rocksdb::ColumnFamily,
    outputs_pre_rct: &'a rocksdb::ColumnFamily,
    key_images: &'a rocksdb::ColumnFamily,
}

impl<'a> Cfs<'a> {
    fn new(db: &'a Db) -> Result<Self> {
        Ok(Self {
            default: db.cf(schema::DEFAULT)?,
            headers: db.cf(schema::BLOCK_HEADERS)?,
            heights: db.cf(schema::BLOCK_HEIGHTS)?,
            blobs: db.cf(schema::BLOCK_BLOBS)?,
            meta: db.cf(schema::BLOCK_META)?,
            txs_pruned: db.cf(schema::TXS_PRUNED)?,
            txs_prunable: db.cf(schema::TXS_PRUNABLE)?,
            tx_index: db.cf(schema::TX_INDEX)?,
            tx_outputs: db.cf(schema::TX_OUTPUTS)?,
            outputs_rct: db.cf(schema::OUTPUTS_RCT)?,
            outputs_pre_rct: db.cf(schema::OUTPUTS_PRE_RCT)?,
            key_images: db.cf(schema::KEY_IMAGES)?,
        })
    }
}
