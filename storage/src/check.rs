//! The invariant check run on open (quick) and by `db-info` (full). Quick: the counts in
//! the chain-state record agree with the last keys of the height-keyed families and with
//! the top block's records. Full: every record is read, decoded and cross-checked
//! (contiguous heights, hash links, indices both ways, counts of every family). A broken
//! invariant is a [`StoreError::Inconsistent`] naming it; the check never writes.

use crate::db::Db;
use crate::error::{hex, Result, StoreError};
use crate::records::{decode_header, decode_meta, decode_output, decode_tx_record, ChainState};
use crate::schema::{self, height_key, pre_rct_key, tx_key};
use crate::types::OutputIndex;

/// How thorough a check was, and what it counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckReport {
    /// Every record was read (otherwise only the quick check ran).
    pub full: bool,
    /// Blocks in the chain.
    pub blocks: u64,
    /// Transactions in the chain.
    pub txs: u64,
    /// RingCT outputs.
    pub rct_outputs: u64,
    /// Pre-RingCT outputs.
    pub pre_rct_outputs: u64,
    /// Spent key images.
    pub key_images: u64,
}

struct Checker<'a> {
    db: &'a Db,
}

impl Checker<'_> {
    fn fail(&self, what: String) -> StoreError {
        StoreError::Inconsistent {
            path: self.db.path.clone(),
            what,
        }
    }

    fn ensure(&self, ok: bool, what: impl FnOnce() -> String) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(self.fail(what()))
        }
    }

    fn count_keys(&self, cf: &'static str) -> Result<u64> {
        let mut it = self.db.rocks.raw_iterator_cf(self.db.cf(cf)?);
        it.seek_to_first();
        let mut n = 0u64;
        while it.valid() {
            n += 1;
            it.next();
        }
        it.status()?;
        Ok(n)
    }

    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<rocksdb::DBPinnableSlice<'_>>> {
        Ok(self.db.rocks.get_pinned_cf(self.db.cf(cf)?, key)?)
    }

    fn quick(&self, st: &ChainState) -> Result<()> {
        let n = st.view.block_count;
        let top_key = st.view.top_height().map(|t| height_key(t).to_vec());
        for cf in [
            schema::BLOCK_HEADERS,
            schema::BLOCK_BLOBS,
            schema::BLOCK_META,
        ] {
            let last = self.db.last_key(cf)?.map(|k| k.to_vec());
            self.ensure(last == top_key, || {
                format!(
                    "`{cf}` ends at key {:?}, the chain state says {n} blocks",
                    last.map(|k| hex(&k))
                )
            })?;
        }
        let rct_last = self.db.last_key(schema::OUTPUTS_RCT)?.map(|k| k.to_vec());
        let rct_want = st
            .view
            .rct_outputs
            .checked_sub(1)
            .map(|i| height_key(i).to_vec());
        self.ensure(rct_last == rct_want, || {
            format!(
                "`outputs_rct` does not end at index {} - 1",
                st.view.rct_outputs
            )
        })?;
        for cf in [schema::TX_OUTPUTS, schema::TXS_PRUNED] {
            if let Some(k) = self.db.last_key(cf)? {
                let above = k.get(..8).is_none_or(|h| h >= height_key(n).as_slice());
                self.ensure(!above, || {
                    format!("`{cf}` holds a transaction above the top")
                })?;
            }
        }
        let Some(top) = st.view.top_height() else {
            return Ok(());
        };
        let hk = height_key(top);
        let header = self
            .get(schema::BLOCK_HEADERS, &hk)?
            .ok_or_else(|| self.fail("no top header".into()))?;
        let (hash, _, _) = decode_header(&header)?;
        self.ensure(hash == st.view.top_hash, || {
            format!(
                "top header hash {} is not the recorded top {}",
                hex(&hash),
                hex(&st.view.top_hash)
            )
        })?;
        let at = self.get(schema::BLOCK_HEIGHTS, &hash)?;
        self.ensure(at.as_deref() == Some(hk.as_slice()), || {
            "top hash not indexed at the top height".into()
        })?;
        let meta = self
            .get(schema::BLOCK_META, &hk)?
            .ok_or_else(|| self.fail("no top metadata".into()))?;
        let (m, cum_rct, _) = decode_meta(&meta)?;
        self.ensure(
            m.cumulative_difficulty == st.view.cumulative_difficulty,
            || "top cumulative difficulty differs from the chain state".into(),
        )?;
        self.ensure(cum_rct == st.view.rct_outputs, || {
            format!(
                "top block counts {cum_rct} RingCT outputs, the chain state {}",
                st.view.rct_outputs
            )
        })
    }

    fn full(&self, st: &ChainState) -> Result<()> {
        let n = st.view.block_count;
        // Headers: contiguous heights, linked by previous hash, indexed by hash.
        let mut it = self
            .db
            .rocks
            .raw_iterator_cf(self.db.cf(schema::BLOCK_HEADERS)?);
        it.seek_to_first();
        let (mut h, mut prev) = (0u64, [0u8; 32]);
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            self.ensure(k == height_key(h), || {
                format!("block headers skip height {h}")
            })?;
            let (hash, p, _) = decode_header(v)?;
            self.ensure(h == 0 || p == prev, || {
                format!("block {h} does not link to block {}", h - 1)
            })?;
            let at = self.get(schema::BLOCK_HEIGHTS, &hash)?;
            self.ensure(at.as_deref() == Some(k), || {
                format!("block {h} is not indexed by its hash")
            })?;
            prev = hash;
            h += 1;
            it.next();
        }
        it.status()?;
        self.ensure(h == n, || {
            format!("{h} headers, the chain state says {n} blocks")
        })?;
        // Metadata: contiguous, cumulative figures monotonic, tx counts add up.
        let mut tx_counts = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1 << 24));
        let mut it = self
            .db
            .rocks
            .raw_iterator_cf(self.db.cf(schema::BLOCK_META)?);
        it.seek_to_first();
        let mut last: Option<(u128, u64, u64)> = None;
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let h = tx_counts.len() as u64;
            self.ensure(k == height_key(h), || {
                format!("block metadata skips height {h}")
            })?;
            let (m, cum_rct, txs) = decode_meta(v)?;
            if let Some((d, c, r)) = last {
                self.ensure(m.cumulative_difficulty > d, || {
                    format!("cumulative difficulty does not grow at {h}")
                })?;
                self.ensure(m.coins_generated >= c && cum_rct >= r, || {
                    format!("cumulative counts shrink at {h}")
                })?;
            }
            last = Some((m.cumulative_difficulty, m.coins_generated, cum_rct));
            tx_counts.push(txs);
            it.next();
        }
        it.status()?;
        self.ensure(tx_counts.len() as u64 == n, || {
            "metadata count differs from the block count".into()
        })?;
        let total: u64 = tx_counts.iter().map(|&c| u64::from(c)).sum();
        self.ensure(total == st.txs, || {
            format!("blocks hold {total} txs, the chain state says {}", st.txs)
        })?;
        // Transactions: every record where its block says, indexed, with its outputs and key images.
        let (mut rct, mut pre, mut kis, mut txs) = (0u64, 0u64, 0u64, 0u64);
        let mut it = self
            .db
            .rocks
            .raw_iterator_cf(self.db.cf(schema::TX_OUTPUTS)?);
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let rec = decode_tx_record(v)?;
            let at = self.get(schema::TX_INDEX, &rec.hash)?;
            self.ensure(at.as_deref() == Some(k), || {
                format!("tx {} is not indexed where it is", hex(&rec.hash))
            })?;
            let mut hb = [0u8; 8];
            hb.copy_from_slice(k.get(..8).ok_or_else(|| self.fail("short tx key".into()))?);
            let height = u64::from_be_bytes(hb);
            let in_block = usize::try_from(height)
                .ok()
                .and_then(|h| tx_counts.get(h))
                .copied();
            let index_ok = k
                .get(8..)
                .is_some_and(|i| in_block.is_some_and(|c| i < c.to_be_bytes().as_slice()));
            self.ensure(index_ok, || {
                format!("tx {} lies outside its block", hex(&rec.hash))
            })?;
            self.ensure(self.get(schema::TXS_PRUNED, k)?.is_some(), || {
                "tx without its pruned blob".into()
            })?;
            for (j, o) in rec.outputs.iter().enumerate() {
                let (cf, key) = match *o {
                    OutputIndex::RingCt(g) => (schema::OUTPUTS_RCT, height_key(g).to_vec()),
                    OutputIndex::PreRingCt { amount, index } => {
                        (schema::OUTPUTS_PRE_RCT, pre_rct_key(amount, index).to_vec())
                    }
                };
                let out = self
                    .get(cf, &key)?
                    .ok_or_else(|| self.fail(format!("missing output in `{cf}`")))?;
                let out = decode_output(&out, cf)?;
                self.ensure(
                    tx_key(out.tx.height, out.tx.index) == k && out.local_index as usize == j,
                    || format!("output {j} of tx {} points elsewhere", hex(&rec.hash)),
                )?;
                match o {
                    OutputIndex::RingCt(_) => rct += 1,
                    OutputIndex::PreRingCt { .. } => pre += 1,
                }
            }
            for ki in &rec.key_images {
                let spent = self.get(schema::KEY_IMAGES, ki)?;
                self.ensure(
                    spent.as_deref() == Some(height_key(height).as_slice()),
                    || format!("key image {} not recorded as spent at {height}", hex(ki)),
                )?;
            }
            kis += rec.key_images.len() as u64;
            txs += 1;
            it.next();
        }
        it.status()?;
        let counts = [
            ("transactions", txs, st.txs),
            ("RingCT outputs", rct, st.view.rct_outputs),
            ("pre-RingCT outputs", pre, st.pre_rct_outputs),
            ("key images", kis, st.key_images),
            (
                "`block_heights` entries",
                self.count_keys(schema::BLOCK_HEIGHTS)?,
                n,
            ),
            (
                "`block_blobs` entries",
                self.count_keys(schema::BLOCK_BLOBS)?,
                n,
            ),
            (
                "`txs_pruned` entries",
                self.count_keys(schema::TXS_PRUNED)?,
                st.txs,
            ),
            (
                "`tx_index` entries",
                self.count_keys(schema::TX_INDEX)?,
                st.txs,
            ),
            (
                "`outputs_rct` entries",
                self.count_keys(schema::OUTPUTS_RCT)?,
                st.view.rct_outputs,
            ),
            (
                "`outputs_pre_rct` entries",
                self.count_keys(schema::OUTPUTS_PRE_RCT)?,
                st.pre_rct_outputs,
            ),
            (
                "`key_images` entries",
                self.count_keys(schema::KEY_IMAGES)?,
                st.key_images,
            ),
        ];
        for (what, found, want) in counts {
            self.ensure(found == want, || {
                format!("{found} {what}, the chain state says {want}")
            })?;
        }
        Ok(())
    }
}

/// Checks the store's invariants; `full` reads every record.
pub(crate) fn check(db: &Db, full: bool) -> Result<CheckReport> {
    let st = db.chain_state()?;
    let c = Checker { db };
    c.quick(&st)?;
    if full {
        c.full(&st)?;
    }
    Ok(CheckReport {
        full,
        blocks: st.view.block_count,
        txs: st.txs,
        rct_outputs: st.view.rct_outputs,
        pre_rct_outputs: st.pre_rct_outputs,
        key_images: st.key_images,
    })
}
