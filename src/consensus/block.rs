//! Block rules (`Blockchain::handle_block_to_main_chain`, `prevalidate_miner_transaction`,
//! `validate_miner_transaction`, `check_block_timestamp`).

use monero_oxide::block::Block;
use monero_oxide::transaction::{Input, Transaction};

use super::constants::*;
use super::error::{BlockError, TxError};
use super::tx::{self, PreparedTx};
use super::weight;

/// A parsed block with its transactions, checked to belong together.
#[derive(Debug, Clone)]
pub struct PreparedBlock {
    /// The block.
    pub block: Block,
    /// Its id (monero-oxide applies the 202612 special case).
    pub hash: [u8; 32],
    /// The height its miner transaction claims.
    pub height: u64,
    /// The blob RandomX hashes (`get_block_hashing_blob`).
    pub hashing_blob: Vec<u8>,
    /// Its blob size.
    pub blob_len: usize,
    /// The miner transaction's weight (its blob size: RCT null).
    pub miner_tx_weight: u64,
    /// The block's transactions, in the block's order.
    pub txs: Vec<PreparedTx>,
}

impl PreparedBlock {
    /// The block's weight: miner tx plus every tx weight (`cumulative_block_weight`).
    pub fn weight(&self) -> u64 {
        self.miner_tx_weight + self.txs.iter().map(|t| t.weight).sum::<u64>()
    }

    /// Sum of the transactions' fees.
    pub fn fees(&self) -> Result<u64, BlockError> {
        self.txs
            .iter()
            .try_fold(0u64, |a, t| a.checked_add(t.fee))
            .ok_or(BlockError::Tx {
                index: 0,
                hash: String::new(),
                error: TxError::Overflow,
            })
    }
}

/// Parses a block and its transactions: both canonical, the transactions exactly the ones
/// the block lists, in its order, none twice (`handle_block_to_main_chain` takes them by id;
/// a different set is a different merkle root and so a different block).
pub fn prepare_block(
    blob: &[u8],
    tx_blobs: &[impl AsRef<[u8]>],
) -> Result<PreparedBlock, BlockError> {
    let mut r = blob;
    let block = Block::read(&mut r).map_err(|e| BlockError::Parse(e.to_string()))?;
    if !r.is_empty() {
        return Err(BlockError::Parse(format!("{} trailing bytes", r.len())));
    }
    if block.serialize() != blob {
        return Err(BlockError::Parse("not the canonical serialization".into()));
    }
    if block.transactions.len() > CRYPTONOTE_MAX_TX_PER_BLOCK {
        return Err(BlockError::TooManyTxs);
    }
    let mut seen = std::collections::HashSet::with_capacity(block.transactions.len());
    if !block.transactions.iter().all(|h| seen.insert(*h)) {
        return Err(BlockError::DuplicateTx);
    }
    if tx_blobs.len() != block.transactions.len() {
        return Err(BlockError::TxSetMismatch);
    }
    let mut txs = Vec::with_capacity(tx_blobs.len());
    for (index, (b, want)) in tx_blobs.iter().zip(&block.transactions).enumerate() {
        let p = tx::prepare_tx(b.as_ref()).map_err(|error| BlockError::Tx {
            index,
            hash: hex::encode(want),
            error,
        })?;
        if &p.hash != want {
            return Err(BlockError::TxSetMismatch);
        }
        txs.push(p);
    }
    let miner_tx_weight = block.miner_transaction().serialize().len() as u64;
    Ok(PreparedBlock {
        hash: block.hash(),
        height: block.number() as u64,
        hashing_blob: block.serialize_pow_hash(),
        blob_len: blob.len(),
        miner_tx_weight,
        block,
        txs,
    })
}

/// `check_block_timestamp`: not beyond `now` + 2 h; not below the median of the last 60
/// timestamps once there are 60.
pub fn check_timestamp(timestamp: u64, recent: &[u64], now: u64) -> Result<(), BlockError> {
    if timestamp > now.saturating_add(CRYPTONOTE_BLOCK_FUTURE_TIME_LIMIT) {
        return Err(BlockError::TimestampInFuture { timestamp, now });
    }
    if recent.len() < BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW {
        return Ok(());
    }
    let median = weight::median(recent);
    if timestamp < median {
        return Err(BlockError::TimestampTooOld { timestamp, median });
    }
    Ok(())
}

/// `get_adjusted_time(height)` given the last 60 timestamps (fewer: `now`).
pub fn adjusted_time(recent: &[u64], now: u64) -> u64 {
    if recent.len() < BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW {
        return now;
    }
    let median = weight::median(recent)
        + (BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW as u64 + 1) * DIFFICULTY_TARGET_V2 / 2;
    let projected = recent.last().copied().unwrap_or(0) + DIFFICULTY_TARGET_V2;
    projected.min(median)
}

/// The clock `is_tx_spendtime_unlocked` compares time-locked outputs with: from
/// `HF_VERSION_DETERMINISTIC_UNLOCK_TIME` the chain's `get_adjusted_time(height)`
/// ([`adjusted_time`]), before it the local time (`time(NULL)`).
pub fn unlock_clock(hf: u8, recent: &[u64], now: u64) -> u64 {
    if hf >= hf::DETERMINISTIC_UNLOCK_TIME {
        adjusted_time(recent, now)
    } else {
        now
    }
}

/// `prevalidate_miner_transaction`: one gen input at the block's height, version 2 from
/// `HF_VERSION_MIN_V2_COINBASE_TX`, RCT null from `HF_VERSION_REJECT_SIGS_IN_COINBASE`,
/// unlock time height + `CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW`, outputs that do not
/// overflow, and `check_output_types`. monerod does not apply `check_outs_valid` to the
/// miner transaction: its output keys need not be points, nor its amounts non-zero.
pub fn check_miner_tx_shape(block: &Block, height: u64, hf: u8) -> Result<(), BlockError> {
    let miner = block.miner_transaction();
    let prefix = miner.prefix();
    let [Input::Gen(h)] = prefix.inputs.as_slice() else {
        return Err(BlockError::MinerTxShape("not exactly one gen input"));
    };
    if miner.version() < 2 && hf >= hf::MIN_V2_COINBASE_TX {
        return Err(BlockError::MinerTxShape("version 1 miner tx"));
    }
    if hf >= hf::REJECT_SIGS_IN_COINBASE && miner.version() >= 2 {
        if let Transaction::V2 {
            proofs: Some(_), ..
        } = miner
        {
            return Err(BlockError::MinerTxShape(
                "RingCT signatures in the miner tx",
            ));
        }
    }
    if *h as u64 != height {
        return Err(BlockError::MinerTxHeight {
            got: *h as u64,
            expected: height,
        });
    }
    let unlock = tx::unlock_time(&prefix.additional_timelock);
    let expected = height + CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW;
    if unlock != expected {
        return Err(BlockError::MinerTxUnlock {
            got: unlock,
            expected,
        });
    }
    let mut total: u64 = 0;
    for o in &prefix.outputs {
        total = total
            .checked_add(o.amount.unwrap_or(0))
            .ok_or(BlockError::MinerTxShape("outputs overflow"))?;
    }
    tx::check_output_types(miner, hf).map_err(BlockError::MinerTxOutput)?;
    Ok(())
}

/// `validate_miner_transaction`: at hard fork 3 (only) every miner output amount a valid
/// decomposed amount; the block's weight within the limit, and the miner paying exactly
/// base reward + fees (v1 and v13+; at most that from v2 to v12). Returns the coins this
/// block generates (what `already_generated_coins` grows by).
pub fn check_reward(
    block: &Block,
    block_weight: u64,
    fees: u64,
    effective_median: u64,
    already_generated_coins: u64,
    hf: u8,
) -> Result<u64, BlockError> {
    if hf == 3 {
        let outputs = &block.miner_transaction().prefix().outputs;
        if let Some(i) = outputs
            .iter()
            .position(|o| !tx::is_valid_decomposed_amount(o.amount.unwrap_or(0)))
        {
            return Err(BlockError::MinerTxNotDecomposed(i));
        }
    }
    let paid = block
        .miner_transaction()
        .prefix()
        .outputs
        .iter()
        .try_fold(0u64, |a, o| a.checked_add(o.amount.unwrap_or(0)))
        .ok_or(BlockError::MinerTxShape("outputs overflow"))?;
    let base = weight::block_reward(effective_median, block_weight, already_generated_coins, hf)
        .ok_or(BlockError::Overweight {
            weight: block_weight,
            limit: 2 * effective_median.max(weight::min_block_weight(hf)),
        })?;
    let allowed = base.saturating_add(fees);
    if paid > allowed || (!(2..hf::EXACT_COINBASE).contains(&hf) && paid != allowed) {
        return Err(BlockError::WrongReward { paid, allowed });
    }
    if (2..hf::EXACT_COINBASE).contains(&hf) {
        // monerod asserts `money_in_use - fee <= base_reward` in unsigned arithmetic: a
        // miner paying itself less than the fees wraps and is refused.
        paid.checked_sub(fees)
            .ok_or(BlockError::WrongReward { paid, allowed })
    } else {
        Ok(base)
    }
}

/// Height of the block with monerod's two hard-coded exceptions (its id and its PoW hash).
pub const SPECIAL_HEIGHT_202612: u64 = 202_612;

/// `correct_blob_hash_202612`: Keccak of the whole mainnet block 202612 blob.
const CORRECT_BLOB_HASH_202612: [u8; 32] =
    hex_32("3a8a2b3a29b50fc86ff73dd087ea43c6f0d6b8f936c849194d5c84c737903966");

/// `existing_block_id_202612`: the id the chain (and the checkpoints) gives mainnet 202612.
pub const EXISTING_BLOCK_ID_202612: [u8; 32] =
    hex_32("bbd604d2ba11ba27935e006ed39c9bfdd99b76bf4a50654bc1e1e61217962698");

/// `longhash_202612`: the PoW hash monerod uses for the 202612 blocks it lists.
pub const LONGHASH_202612: [u8; 32] =
    hex_32("84f64766475d51837ac9efbef1926486e58563c95a19fef4aec3254f03000000");

/// `block_hashing_blob_ids_202612`: the hashing-blob ids (mainnet, testnet, stagenet) whose
/// PoW is [`LONGHASH_202612`].
const HASHING_BLOB_IDS_202612: [[u8; 32]; 3] = [
    hex_32("426d16cff04c71f8b16340b722dc4010a2dd3831c22041431f772547ba6e331a"),
    hex_32("248fde4b96b829c4ddbd00e3f76d35b03d01257898bc1b5578bc9e04b379a676"),
    hex_32("f3449e658b5f880c4b0e69007ed5d092c9c883ac3a518166fa652d5cc505e7b1"),
];

/// 64 hex digits to bytes at compile time.
const fn hex_32(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64, "not 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// `get_object_hash` of a block hashing blob (`get_block_hashing_blob`): Keccak of the
/// blob prefixed with its length as a varint. This is a block's id by the normal rule.
pub fn hashing_blob_id(hashing_blob: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(hashing_blob.len() + 10);
    let mut n = hashing_blob.len() as u64;
    // LEB128: the low seven bits of each step fit in a byte.
    #[allow(clippy::cast_possible_truncation)]
    {
        while n >= 0x80 {
            buf.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        buf.push(n as u8);
    }
    buf.extend_from_slice(hashing_blob);
    monero_oxide::primitives::keccak256(&buf)
}

/// monerod's `calculate_block_hash` (`src/cryptonote_basic/cryptonote_format_utils.cpp`)
/// for a block and its blob: the hashing-blob id, except for a block whose miner tx claims
/// height 202612 — if the Keccak of its whole blob is `correct_blob_hash_202612` its id is
/// [`EXISTING_BLOCK_ID_202612`], and any other such block whose normal id is that id is
/// refused (`None`).
pub fn monerod_block_id(block: &Block, blob: &[u8]) -> Option<[u8; 32]> {
    let normal = hashing_blob_id(&block.serialize_pow_hash());
    if let [Input::Gen(h)] = block.miner_transaction().prefix().inputs.as_slice() {
        if *h as u64 != SPECIAL_HEIGHT_202612 {
            return Some(normal);
        }
    }
    if monero_oxide::primitives::keccak256(blob) == CORRECT_BLOB_HASH_202612 {
        return Some(EXISTING_BLOCK_ID_202612);
    }
    if normal == EXISTING_BLOCK_ID_202612 {
        return None;
    }
    Some(normal)
}

/// monerod's hard-coded PoW hash (`get_block_longhash_202612` in
/// `src/cryptonote_basic/cryptonote_format_utils.cpp`, release-v0.19 and master): at height
/// 202612, a block whose hashing-blob id ([`hashing_blob_id`]) is the mainnet, testnet or
/// stagenet block 202612's has the PoW hash [`LONGHASH_202612`] instead of its CryptoNight
/// hash; `None`: compute the PoW normally. (release-v0.18 returned the constant for any
/// block at that height; the three listed blocks are the ones on the chains.)
pub fn pow_hash_override(height: u64, hashing_blob_id: &[u8; 32]) -> Option<[u8; 32]> {
    (height == SPECIAL_HEIGHT_202612 && HASHING_BLOB_IDS_202612.contains(hashing_blob_id))
        .then_some(LONGHASH_202612)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monero_oxide::ed25519::CompressedPoint;

    /// `prevalidate_miner_transaction`: RingCT signatures in a miner tx are refused (RCT
    /// type must be null), as is a second input or a v1 miner tx at v16.
    #[test]
    fn miner_tx_must_be_rct_null_v2_with_one_gen_input() {
        let Some(blob) = crate::consensus::tx::tests::bpp_tx_blob() else {
            return;
        };
        let with_proofs: Transaction = Transaction::read(&mut blob.as_slice()).unwrap();
        // A v16 miner tx carrying the proofs of a real transaction.
        let Transaction::V2 { proofs, .. } = with_proofs else {
            unreachable!()
        };
        let mut prefix = monero_oxide::transaction::TransactionPrefix {
            additional_timelock: monero_oxide::transaction::Timelock::Block(100 + 60),
            inputs: vec![Input::Gen(100)],
            outputs: vec![],
            extra: vec![],
        };
        let header = monero_oxide::block::BlockHeader {
            hardfork_version: 16,
            hardfork_signal: 16,
            timestamp: 0,
            previous: [0; 32],
            nonce: 0,
        };
        let ok = Block::new(
            header.clone(),
            Transaction::V2 {
                prefix: prefix.clone(),
                proofs: None,
            },
            vec![],
        )
        .unwrap();
        assert_eq!(check_miner_tx_shape(&ok, 100, 16), Ok(()));
        let bad = Block::new(
            header.clone(),
            Transaction::V2 {
                prefix: prefix.clone(),
                proofs,
            },
            vec![],
        )
        .unwrap();
        assert!(matches!(
            check_miner_tx_shape(&bad, 100, 16),
            Err(BlockError::MinerTxShape(_))
        ));
        let v1 = Block::new(
            header.clone(),
            Transaction::V1 {
                prefix: prefix.clone(),
                signatures: vec![],
            },
            vec![],
        )
        .unwrap();
        assert!(matches!(
            check_miner_tx_shape(&v1, 100, 16),
            Err(BlockError::MinerTxShape(_))
        ));
        prefix.inputs.push(Input::Gen(100));
        // Block::new itself refuses a miner tx without exactly one gen input.
        assert!(Block::new(
            header,
            Transaction::V2 {
                prefix,
                proofs: None
            },
            vec![]
        )
        .is_none());
    }

    /// A block at `hf` whose miner transaction (version `version`, RCT null) pays `amounts`
    /// from a gen input at `height` locked until `unlock`.
    fn miner_block(hf: u8, version: u8, height: usize, unlock: usize, amounts: &[u64]) -> Block {
        let prefix = monero_oxide::transaction::TransactionPrefix {
            additional_timelock: monero_oxide::transaction::Timelock::Block(unlock),
            inputs: vec![Input::Gen(height)],
            outputs: amounts
                .iter()
                .map(|&a| monero_oxide::transaction::Output {
                    amount: Some(a),
                    // Not a point: monerod never applies `check_key` to miner outputs.
                    key: monero_oxide::ed25519::CompressedPoint::from([0xff; 32]),
                    view_tag: (hf >= hf::VIEW_TAGS).then_some(0),
                })
                .collect(),
            extra: vec![],
        };
        let miner = tx::tests::unsigned(version, prefix);
        let header = monero_oxide::block::BlockHeader {
            hardfork_version: hf,
            hardfork_signal: hf,
            timestamp: 0,
            previous: [0; 32],
            nonce: 0,
        };
        Block::new(header, miner, vec![]).unwrap()
    }

    /// `prevalidate_miner_transaction` by fork: version 1 until `HF_VERSION_MIN_V2_COINBASE_TX`,
    /// unlock at height + `CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW` in every era, and output
    /// keys never checked for being points.
    #[test]
    fn miner_tx_shape_by_fork() {
        let key = CompressedPoint::from([0xff; 32]);
        assert!(!tx::check_key(&key.to_bytes()));
        for hf in [1, 2, 3, 7, 11] {
            let b = miner_block(hf, 1, 500, 560, &[1]);
            assert_eq!(check_miner_tx_shape(&b, 500, hf), Ok(()), "hf {hf}");
            let b = miner_block(hf, 2, 500, 560, &[1]);
            assert_eq!(check_miner_tx_shape(&b, 500, hf), Ok(()), "hf {hf}");
        }
        for hf in [12, 13, 15, 16] {
            let b = miner_block(hf, 1, 500, 560, &[1]);
            assert!(
                matches!(
                    check_miner_tx_shape(&b, 500, hf),
                    Err(BlockError::MinerTxShape(_))
                ),
                "hf {hf}"
            );
            let b = miner_block(hf, 2, 500, 560, &[1]);
            assert_eq!(check_miner_tx_shape(&b, 500, hf), Ok(()), "hf {hf}");
        }
        for (hf, version) in [(1, 1), (2, 1), (16, 2)] {
            for unlock in [559, 561, 0] {
                let b = miner_block(hf, version, 500, unlock, &[1]);
                assert_eq!(
                    check_miner_tx_shape(&b, 500, hf),
                    Err(BlockError::MinerTxUnlock {
                        got: unlock as u64,
                        expected: 560
                    }),
                    "hf {hf}"
                );
            }
        }
        // View tags: none before v15, either kind at v15, required after.
        let b = miner_block(15, 2, 500, 560, &[1]);
        assert_eq!(
            check_miner_tx_shape(&b, 500, 14),
            Err(BlockError::MinerTxOutput(0))
        );
        let b = miner_block(14, 2, 500, 560, &[1]);
        assert_eq!(check_miner_tx_shape(&b, 500, 15), Ok(()));
        assert_eq!(
            check_miner_tx_shape(&b, 500, 16),
            Err(BlockError::MinerTxOutput(0))
        );
    }

    /// `validate_miner_transaction` by fork: decomposed miner amounts at hard fork 3 only;
    /// the exact reward at v1 and from `HF_VERSION_EXACT_COINBASE`, at most it in between
    /// (the coins generated are then what was paid less the fees).
    #[test]
    fn miner_reward_by_fork() {
        let v1_base = weight::block_reward(0, 1000, 0, 1).unwrap();
        let v2_base = weight::block_reward(0, 1000, 0, 2).unwrap();
        assert_eq!((v1_base, v2_base), (17_592_186_044_415, 35_184_372_088_831));
        let reward = |hf: u8, amounts: &[u64], fees: u64| {
            let version = if hf < hf::MIN_V2_COINBASE_TX { 1 } else { 2 };
            check_reward(
                &miner_block(hf, version, 9, 69, amounts),
                1000,
                fees,
                0,
                0,
                hf,
            )
        };
        // The whole base reward in one output: not a decomposed amount.
        for hf in [2, 4, 13] {
            assert_eq!(reward(hf, &[v2_base], 0), Ok(v2_base), "hf {hf}");
        }
        assert_eq!(
            reward(3, &[v2_base], 0),
            Err(BlockError::MinerTxNotDecomposed(0))
        );
        let decomposed = [30_000_000_000_000, 5_000_000_000_000, 100_000_000_000];
        assert_eq!(reward(3, &decomposed, 0), Ok(35_100_000_000_000));
        // Less than allowed: refused at v1 and from v13, accepted from v2 to v12.
        assert!(matches!(
            reward(1, &[17_000_000_000_000], 0),
            Err(BlockError::WrongReward { .. })
        ));
        assert_eq!(reward(1, &[v1_base], 0), Ok(v1_base));
        for hf in [2, 5, 12] {
            assert_eq!(reward(hf, &decomposed, 7), Ok(35_100_000_000_000 - 7));
        }
        assert!(matches!(
            reward(13, &decomposed, 0),
            Err(BlockError::WrongReward { .. })
        ));
        assert_eq!(reward(13, &[v2_base + 7], 7), Ok(v2_base));
        assert!(matches!(
            reward(12, &[v2_base + 8], 7),
            Err(BlockError::WrongReward { .. })
        ));
        // Paying itself less than the fees: refused (monerod's unsigned `paid - fee`).
        assert!(matches!(
            reward(5, &[6], 7),
            Err(BlockError::WrongReward { .. })
        ));
    }

    /// `is_tx_spendtime_unlocked`'s clock: `time(NULL)` before
    /// `HF_VERSION_DETERMINISTIC_UNLOCK_TIME`, `get_adjusted_time` from it.
    #[test]
    fn unlock_clock_by_fork() {
        let recent: Vec<u64> = (0..60).map(|i| 1_000_000 + 120 * i).collect();
        let now = 5_000_000;
        let adjusted = adjusted_time(&recent, now);
        assert_eq!(adjusted, 1_000_000 + 120 * 59 + 120);
        assert_eq!(unlock_clock(12, &recent, now), now);
        assert_eq!(unlock_clock(1, &recent, now), now);
        assert_eq!(unlock_clock(13, &recent, now), adjusted);
        assert_eq!(unlock_clock(16, &recent, now), adjusted);
        // Fewer than 60 blocks: the local time either way.
        assert_eq!(unlock_clock(16, &recent[..59], now), now);
    }

    #[test]
    fn special_case_202612() {
        let mainnet_id = HASHING_BLOB_IDS_202612[0];
        assert_eq!(
            pow_hash_override(SPECIAL_HEIGHT_202612, &mainnet_id),
            Some(LONGHASH_202612)
        );
        assert_eq!(
            pow_hash_override(SPECIAL_HEIGHT_202612 + 1, &mainnet_id),
            None
        );
        assert_eq!(pow_hash_override(SPECIAL_HEIGHT_202612, &[0; 32]), None);
        assert_eq!(
            hex::encode(LONGHASH_202612),
            "84f64766475d51837ac9efbef1926486e58563c95a19fef4aec3254f03000000"
        );
        // The varint length prefix: one byte below 128, two from 128.
        let mut blob = vec![7u8; 128];
        let mut prefixed = vec![0x80, 0x01];
        prefixed.extend_from_slice(&blob);
        assert_eq!(
            hashing_blob_id(&blob),
            monero_oxide::primitives::keccak256(&prefixed)
        );
        blob.pop();
        let mut prefixed = vec![127];
        prefixed.extend_from_slice(&blob);
        assert_eq!(
            hashing_blob_id(&blob),
            monero_oxide::primitives::keccak256(&prefixed)
        );
    }

    #[test]
    fn timestamps() {
        let recent: Vec<u64> = (0..60).map(|i| 1000 + i * 120).collect();
        let median = weight::median(&recent);
        assert_eq!(check_timestamp(median, &recent, 10_000_000), Ok(()));
        assert!(matches!(
            check_timestamp(median - 1, &recent, 10_000_000),
            Err(BlockError::TimestampTooOld { .. })
        ));
        // Fewer than 60 blocks: no median rule.
        assert_eq!(check_timestamp(0, &recent[..59], 10_000_000), Ok(()));
        assert!(matches!(
            check_timestamp(10_000_000 + 7201, &recent, 10_000_000),
            Err(BlockError::TimestampInFuture { .. })
        ));
        assert_eq!(
            check_timestamp(10_000_000 + 7200, &recent, 10_000_000),
            Ok(())
        );
    }
}
