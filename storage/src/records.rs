//! Value encodings: fixed-width big-endian fields, written by hand, decoded with bounds
//! checks. A value that does not decode is a [`StoreError::Corrupt`] naming its column
//! family, never a panic.

use crate::error::{Result, StoreError};
use crate::schema::DB_FORMAT_VERSION;
use crate::types::{
    AltBlock, BlockMeta, Hash, OutputIndex, OutputRecord, ReadView, TxLocation, TxRecord,
};

/// A bounds-checked reader over one value.
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    cf: &'static str,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8], cf: &'static str) -> Self {
        Self { buf, cf }
    }

    pub(crate) fn corrupt(cf: &'static str, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            cf,
            what: what.into(),
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(Self::corrupt(
                self.cf,
                format!(
                    "value truncated: wanted {n} more bytes, {} left",
                    self.buf.len()
                ),
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    pub(crate) fn u128(&mut self) -> Result<u128> {
        Ok(u128::from_be_bytes(self.array()?))
    }
    pub(crate) fn hash(&mut self) -> Result<Hash> {
        self.array()
    }
    /// A u32 length followed by that many bytes.
    fn blob(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
    /// Refuses trailing bytes.
    pub(crate) fn finish(self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Self::corrupt(
                self.cf,
                format!("{} trailing bytes", self.buf.len()),
            ))
        }
    }
}

/// A count as the u32 the records store.
pub(crate) fn count_u32(n: usize, what: &'static str) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::TooLarge(what))
}

/// The schema record: major, minor, patch (u16 each).
pub(crate) fn encode_schema() -> Vec<u8> {
    let (a, b, c) = DB_FORMAT_VERSION;
    [a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes()].concat()
}

pub(crate) fn decode_schema(v: &[u8]) -> Result<(u16, u16, u16)> {
    let mut d = Dec::new(v, "default");
    let r = (d.u16()?, d.u16()?, d.u16()?);
    d.finish()?;
    Ok(r)
}

/// Store-wide counts, rewritten with every push and pop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChainState {
    pub(crate) view: ReadView,
    pub(crate) txs: u64,
    pub(crate) pre_rct_outputs: u64,
    pub(crate) key_images: u64,
}

pub(crate) const CHAIN_STATE_LEN: usize = 8 + 32 + 16 + 8 + 8 + 8 + 8;

pub(crate) fn encode_chain_state(s: &ChainState) -> [u8; CHAIN_STATE_LEN] {
    let mut out = [0u8; CHAIN_STATE_LEN];
    let parts: [&[u8]; 7] = [
        &s.view.block_count.to_be_bytes(),
        &s.view.top_hash,
        &s.view.cumulative_difficulty.to_be_bytes(),
        &s.view.rct_outputs.to_be_bytes(),
        &s.txs.to_be_bytes(),
        &s.pre_rct_outputs.to_be_bytes(),
        &s.key_images.to_be_bytes(),
    ];
    let mut at = 0;
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    out
}

pub(crate) fn decode_chain_state(v: &[u8]) -> Result<ChainState> {
    let mut d = Dec::new(v, "default");
    let view = ReadView {
        block_count: d.u64()?,
        top_hash: d.hash()?,
        cumulative_difficulty: d.u128()?,
        rct_outputs: d.u64()?,
    };
    let s = ChainState {
        view,
        txs: d.u64()?,
        pre_rct_outputs: d.u64()?,
        key_images: d.u64()?,
    };
    d.finish()?;
    Ok(s)
}

/// Header record: hash ‖ previous hash ‖ serialized header.
pub(crate) fn encode_header(hash: &Hash, prev: &Hash, header: &[u8]) -> Vec<u8> {
    [hash.as_slice(), prev, header].concat()
}

pub(crate) fn decode_header(v: &[u8]) -> Result<(Hash, Hash, &[u8])> {
    let mut d = Dec::new(v, crate::schema::BLOCK_HEADERS);
    Ok((d.hash()?, d.hash()?, d.rest()))
}

/// Block metadata record (61 bytes).
pub(crate) fn encode_meta(m: &BlockMeta, cumulative_rct: u64, tx_count: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(61);
    out.extend_from_slice(&m.cumulative_difficulty.to_be_bytes());
    out.extend_from_slice(&m.weight.to_be_bytes());
    out.extend_from_slice(&m.long_term_weight.to_be_bytes());
    out.extend_from_slice(&m.timestamp.to_be_bytes());
    out.extend_from_slice(&m.coins_generated.to_be_bytes());
    out.push(m.hard_fork_version);
    out.extend_from_slice(&cumulative_rct.to_be_bytes());
    out.extend_from_slice(&tx_count.to_be_bytes());
    out
}

fn decode_meta_from(d: &mut Dec<'_>) -> Result<(BlockMeta, u64, u32)> {
    let m = BlockMeta {
        cumulative_difficulty: d.u128()?,
        weight: d.u64()?,
        long_term_weight: d.u64()?,
        timestamp: d.u64()?,
        coins_generated: d.u64()?,
        hard_fork_version: d.u8()?,
    };
    Ok((m, d.u64()?, d.u32()?))
}

/// Returns (metadata, cumulative RingCT outputs, tx count).
pub(crate) fn decode_meta(v: &[u8]) -> Result<(BlockMeta, u64, u32)> {
    let mut d = Dec::new(v, crate::schema::BLOCK_META);
    let r = decode_meta_from(&mut d)?;
    d.finish()?;
    Ok(r)
}

/// (height, index) as stored in `tx_index`.
pub(crate) fn decode_location(v: &[u8], cf: &'static str) -> Result<TxLocation> {
    let mut d = Dec::new(v, cf);
    let l = TxLocation {
        height: d.u64()?,
        index: d.u32()?,
    };
    d.finish()?;
    Ok(l)
}

/// Transaction record: hash ‖ unlock ‖ n ‖ outputs (tag, fields) ‖ m ‖ key images.
pub(crate) fn encode_tx_record(r: &TxRecord) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(48 + r.outputs.len() * 17 + r.key_images.len() * 32);
    out.extend_from_slice(&r.hash);
    out.extend_from_slice(&r.unlock_time.to_be_bytes());
    out.extend_from_slice(&count_u32(r.outputs.len(), "output count")?.to_be_bytes());
    for o in &r.outputs {
        match *o {
            OutputIndex::RingCt(i) => {
                out.push(0);
                out.extend_from_slice(&i.to_be_bytes());
            }
            OutputIndex::PreRingCt { amount, index } => {
                out.push(1);
                out.extend_from_slice(&amount.to_be_bytes());
                out.extend_from_slice(&index.to_be_bytes());
            }
        }
    }
    out.extend_from_slice(&count_u32(r.key_images.len(), "key image count")?.to_be_bytes());
    for k in &r.key_images {
        out.extend_from_slice(k);
    }
    Ok(out)
}

pub(crate) fn decode_tx_record(v: &[u8]) -> Result<TxRecord> {
    let cf = crate::schema::TX_OUTPUTS;
    let mut d = Dec::new(v, cf);
    let hash = d.hash()?;
    let unlock_time = d.u64()?;
    let n = d.u32()? as usize;
    // Each output takes at least 9 bytes: never allocate more than the value can hold.
    let mut outputs = Vec::with_capacity(n.min(v.len() / 9));
    for _ in 0..n {
        outputs.push(match d.u8()? {
            0 => OutputIndex::RingCt(d.u64()?),
            1 => OutputIndex::PreRingCt {
                amount: d.u64()?,
                index: d.u64()?,
            },
            t => return Err(Dec::corrupt(cf, format!("unknown output tag {t}"))),
        });
    }
    let m = d.u32()? as usize;
    let mut key_images = Vec::with_capacity(m.min(v.len() / 32));
    for _ in 0..m {
        key_images.push(d.hash()?);
    }
    d.finish()?;
    Ok(TxRecord {
        hash,
        unlock_time,
        outputs,
        key_images,
    })
}

/// Output record (88 bytes).
pub(crate) fn encode_output(o: &OutputRecord) -> [u8; 88] {
    let mut out = [0u8; 88];
    out[..32].copy_from_slice(&o.key);
    out[32..64].copy_from_slice(&o.commitment);
    out[64..72].copy_from_slice(&o.unlock_time.to_be_bytes());
    out[72..80].copy_from_slice(&o.tx.height.to_be_bytes());
    out[80..84].copy_from_slice(&o.tx.index.to_be_bytes());
    out[84..88].copy_from_slice(&o.local_index.to_be_bytes());
    out
}

pub(crate) fn decode_output(v: &[u8], cf: &'static str) -> Result<OutputRecord> {
    let mut d = Dec::new(v, cf);
    let o = OutputRecord {
        key: d.hash()?,
        commitment: d.hash()?,
        unlock_time: d.u64()?,
        tx: TxLocation {
            height: d.u64()?,
            index: d.u32()?,
        },
        local_index: d.u32()?,
    };
    d.finish()?;
    Ok(o)
}

/// Alternative block record: height ‖ meta ‖ blob ‖ n ‖ tx blobs (u32 length-prefixed).
pub(crate) fn encode_alt_block(a: &AltBlock) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(a.blob.len() + 128);
    out.extend_from_slice(&a.height.to_be_bytes());
    out.extend_from_slice(&encode_meta(
        &a.meta,
        0,
        count_u32(a.txs.len(), "tx count")?,
    ));
    out.extend_from_slice(&count_u32(a.blob.len(), "block blob")?.to_be_bytes());
    out.extend_from_slice(&a.blob);
    for t in &a.txs {
        out.extend_from_slice(&count_u32(t.len(), "tx blob")?.to_be_bytes());
        out.extend_from_slice(t);
    }
    Ok(out)
}

pub(crate) fn decode_alt_block(v: &[u8]) -> Result<AltBlock> {
    let mut d = Dec::new(v, crate::schema::ALT_BLOCKS);
    let height = d.u64()?;
    let (meta, _, n) = decode_meta_from(&mut d)?;
    let blob = d.blob()?.to_vec();
    let mut txs = Vec::with_capacity((n as usize).min(v.len() / 4));
    for _ in 0..n {
        txs.push(d.blob()?.to_vec());
    }
    d.finish()?;
    Ok(AltBlock {
        height,
        meta,
        blob,
        txs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let r = TxRecord {
            hash: [7; 32],
            unlock_time: 60,
            outputs: vec![
                OutputIndex::RingCt(5),
                OutputIndex::PreRingCt {
                    amount: 1_000_000,
                    index: 3,
                },
            ],
            key_images: vec![[1; 32], [2; 32]],
        };
        assert_eq!(decode_tx_record(&encode_tx_record(&r).unwrap()).unwrap(), r);
        let o = OutputRecord {
            key: [3; 32],
            commitment: [4; 32],
            unlock_time: 10,
            tx: TxLocation {
                height: 99,
                index: 2,
            },
            local_index: 1,
        };
        assert_eq!(decode_output(&encode_output(&o), "t").unwrap(), o);
        let m = BlockMeta {
            cumulative_difficulty: u128::MAX - 3,
            weight: 1,
            long_term_weight: 2,
            timestamp: 3,
            coins_generated: 4,
            hard_fork_version: 16,
        };
        assert_eq!(decode_meta(&encode_meta(&m, 77, 9)).unwrap(), (m, 77, 9));
        let a = AltBlock {
            height: 4,
            meta: m,
            blob: vec![1, 2],
            txs: vec![vec![3], vec![]],
        };
        assert_eq!(decode_alt_block(&encode_alt_block(&a).unwrap()).unwrap(), a);
        let s = ChainState {
            view: ReadView {
                block_count: 3,
                top_hash: [9; 32],
                cumulative_difficulty: 1 << 70,
                rct_outputs: 8,
            },
            txs: 4,
            pre_rct_outputs: 5,
            key_images: 6,
        };
        assert_eq!(decode_chain_state(&encode_chain_state(&s)).unwrap(), s);
    }

    #[test]
    fn truncated_or_padded_records_are_corrupt_not_panics() {
        let r = TxRecord {
            hash: [7; 32],
            unlock_time: 0,
            outputs: vec![],
            key_images: vec![],
        };
        let v = encode_tx_record(&r).unwrap();
        for cut in 0..v.len() {
            assert!(matches!(
                decode_tx_record(&v[..cut]),
                Err(StoreError::Corrupt { .. })
            ));
        }
        let mut padded = v.clone();
        padded.push(0);
        assert!(decode_tx_record(&padded).is_err());
        // A huge declared count in a short value must not allocate or panic.
        let mut huge = v[..40].to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_tx_record(&huge).is_err());
        assert!(decode_output(&[0; 87], "t").is_err());
        assert!(decode_meta(&[0; 60]).is_err());
        assert!(decode_chain_state(&[0; CHAIN_STATE_LEN - 1]).is_err());
    }
}
