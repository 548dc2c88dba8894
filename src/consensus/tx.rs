//! Transaction rules (current era, keyed by hard-fork version).
//!
//! The split follows monerod: [`check_tx_semantics`] is `ver_non_input_consensus` without the
//! range proofs (`src/cryptonote_core/tx_verification_utils.cpp`, `core::check_tx_semantic`,
//! `Blockchain::check_tx_outputs`); [`check_tx_inputs`] is the contextual part of
//! `Blockchain::check_tx_inputs`; the expensive proofs ([`verify_clsag`], the BP+ batch and
//! [`check_balance`]) run on the crypto pool.

use monero_oxide::ed25519::{Commitment, CompressedPoint, Scalar};
use monero_oxide::ringct::bulletproofs::Bulletproof;
use monero_oxide::ringct::{RctProofs, RctPrunable, RctType};
use monero_oxide::transaction::{Input, Timelock, Transaction};

use super::constants::*;
use super::error::TxError;
use super::weight;
use super::OutputInfo;

/// A parsed transaction with what the rules need computed once.
#[derive(Debug, Clone)]
pub struct PreparedTx {
    /// The transaction.
    pub tx: Transaction,
    /// Its id.
    pub hash: [u8; 32],
    /// Its blob size in bytes.
    pub blob_len: usize,
    /// `get_transaction_weight`: blob size plus the Bulletproof(+) clawback.
    pub weight: u64,
    /// The RingCT fee (0 for v1 or coinbase).
    pub fee: u64,
    /// The key images of its inputs, in input order.
    pub key_images: Vec<[u8; 32]>,
}

/// Parses a transaction blob: it must read whole and re-serialize to the same bytes
/// (monerod compares the hash of its own re-serialization).
pub fn prepare_tx(blob: &[u8]) -> Result<PreparedTx, TxError> {
    if blob.len() > CRYPTONOTE_MAX_TX_SIZE {
        return Err(TxError::TooBig(blob.len()));
    }
    let mut r = blob;
    let tx = Transaction::read(&mut r).map_err(|e| TxError::Parse(e.to_string()))?;
    if !r.is_empty() {
        return Err(TxError::Parse(format!("{} trailing bytes", r.len())));
    }
    if tx.serialize() != blob {
        return Err(TxError::Parse("not the canonical serialization".into()));
    }
    Ok(prepared(tx, blob.len()))
}

/// Wraps an already-parsed canonical transaction.
pub fn prepared(tx: Transaction, blob_len: usize) -> PreparedTx {
    let hash = tx.hash();
    let (fee, clawback) = match &tx {
        Transaction::V2 {
            proofs: Some(p),
            prefix,
        } => {
            let t = u8::from(p.rct_type());
            // Bulletproof types (3, 4, 5) and Bulletproof+ (6) get the weight clawback.
            let claw = if (3..=6).contains(&t) {
                Bulletproof::calculate_clawback(t == 6, prefix.outputs.len()).0
            } else {
                0
            };
            (p.base.fee, claw)
        }
        Transaction::V1 { .. } => (v1_fee(&tx), 0),
        _ => (0, 0),
    };
    let key_images = key_images(&tx);
    PreparedTx {
        hash,
        blob_len,
        weight: (blob_len + clawback) as u64,
        fee,
        key_images,
        tx,
    }
}

/// `get_tx_fee` for a version-1 transaction: inputs minus outputs (0 when the sums
/// overflow or the outputs exceed the inputs, which `check_tx_semantic` refuses anyway).
fn v1_fee(tx: &Transaction) -> u64 {
    money_sums(tx).map_or(0, |(ins, outs)| ins.saturating_sub(outs))
}

/// The key images of a transaction's inputs, in input order (none for a miner tx).
pub fn key_images(tx: &Transaction) -> Vec<[u8; 32]> {
    tx.prefix()
        .inputs
        .iter()
        .filter_map(|i| match i {
            Input::ToKey { key_image, .. } => Some(key_image.to_bytes()),
            Input::Gen(_) => None,
        })
        .collect()
}

/// monerod `check_key`: a canonical encoding of a point on the curve (`ge_frombytes_vartime`
/// refuses non-canonical y and a negative zero x). monero-oxide's `decompress` is exactly that.
pub fn check_key(bytes: &[u8; 32]) -> bool {
    CompressedPoint::from(*bytes).decompress().is_some()
}

/// monerod's RCT type number of a transaction (0 = `RCTTypeNull`).
pub fn rct_type_number(tx: &Transaction) -> u8 {
    match tx {
        Transaction::V2 {
            proofs: Some(p), ..
        } => u8::from(p.rct_type()),
        _ => 0,
    }
}

/// The raw `unlock_time` field.
pub fn unlock_time(t: &Timelock) -> u64 {
    match t {
        Timelock::None => 0,
        Timelock::Block(b) => *b as u64,
        Timelock::Time(t) => *t,
    }
}

/// `is_valid_decomposed_amount` (`src/cryptonote_basic/cryptonote_format_utils.cpp`): the
/// amount is in monerod's `valid_decomposed_outputs` table, one digit 1-9 times 10^0..10^18,
/// or 10^19. Stripping the trailing zeros of such an amount leaves one non-zero digit, and
/// every u64 that does so is in the table (9 x 10^18 and 10^19 fit, 2 x 10^19 does not).
pub fn is_valid_decomposed_amount(amount: u64) -> bool {
    if amount == 0 {
        return false;
    }
    let mut a = amount;
    while a % 10 == 0 {
        a /= 10;
    }
    a <= 9
}

/// `check_output_types` (`src/cryptonote_basic/cryptonote_format_utils.cpp`): view-tagged
/// outputs after v15, untagged before, one kind per transaction at v15.
pub fn check_output_types(tx: &Transaction, hf: u8) -> Result<(), usize> {
    let outs = &tx.prefix().outputs;
    for (i, o) in outs.iter().enumerate() {
        let tagged = o.view_tag.is_some();
        let ok = if hf > hf::VIEW_TAGS {
            tagged
        } else if hf < hf::VIEW_TAGS {
            !tagged
        } else {
            outs.first().is_some_and(|f| f.view_tag.is_some() == tagged)
        };
        if !ok {
            return Err(i);
        }
    }
    Ok(())
}

/// Rules 1-6 of `ver_non_input_consensus` for one transaction: size, version, weight,
/// `check_tx_semantic` and `check_tx_outputs`, and the key images' domain
/// (`check_tx_inputs_keyimages_domain`). Range proofs are checked in a batch.
pub fn check_tx_semantics(p: &PreparedTx, hf: u8) -> Result<(), TxError> {
    check_tx_structure(p, hf)?;
    check_key_image_domains(p)
}

/// `check_tx_inputs_keyimages_domain`: each key image is a point, not the identity, and
/// in the prime-order subgroup (l*KI == identity). One scalar multiplication per input.
pub fn check_key_image_domains(p: &PreparedTx) -> Result<(), TxError> {
    for (i, input) in p.tx.prefix().inputs.iter().enumerate() {
        if let Input::ToKey { key_image, .. } = input {
            let ok = curve25519_dalek::edwards::CompressedEdwardsY(key_image.to_bytes())
                .decompress()
                .is_some_and(|p| {
                    use curve25519_dalek::traits::IsIdentity;
                    !p.is_identity() && p.is_torsion_free()
                });
            if !ok {
                return Err(TxError::KeyImageDomain(i));
            }
        }
    }
    Ok(())
}

/// [`check_tx_semantics`] without the key images' domain: what a settled block's
/// transactions are still checked for under fast sync (see
/// [`crate::consensus::fast_sync`]).
pub fn check_tx_structure(p: &PreparedTx, hf: u8) -> Result<(), TxError> {
    let tx = &p.tx;
    if p.blob_len > CRYPTONOTE_MAX_TX_SIZE {
        return Err(TxError::TooBig(p.blob_len));
    }
    let max_version = if hf < hf::DYNAMIC_FEE { 1 } else { 2 };
    if tx.version() > max_version {
        return Err(TxError::Version {
            got: tx.version(),
            hf,
        });
    }
    let limit = weight::transaction_weight_limit(hf);
    if hf >= hf::PER_BYTE_FEE && p.weight > limit {
        return Err(TxError::Overweight {
            weight: p.weight,
            limit,
        });
    }
    // check_tx_semantic
    let prefix = tx.prefix();
    if prefix.inputs.is_empty() {
        return Err(TxError::NoInputs);
    }
    for (i, input) in prefix.inputs.iter().enumerate() {
        if !matches!(input, Input::ToKey { .. }) {
            return Err(TxError::InputType(i));
        }
    }
    for (i, o) in prefix.outputs.iter().enumerate() {
        if tx.version() == 1 && o.amount.unwrap_or(0) == 0 {
            return Err(TxError::OutputAmount(i));
        }
        if !check_key(&o.key.to_bytes()) {
            return Err(TxError::OutputKey(i));
        }
    }
    if let Transaction::V2 {
        proofs: Some(proofs),
        ..
    } = tx
    {
        if proofs.base.commitments.len() != prefix.outputs.len() {
            return Err(TxError::CommitmentCount);
        }
    }
    let (ins, outs) = money_sums(tx).ok_or(TxError::Overflow)?;
    // check_tx_semantic: a version-1 transaction must leave a fee (for version 2 the
    // RingCT balance proves it).
    if tx.version() == 1 && ins <= outs {
        return Err(TxError::InputsNotAboveOutputs { ins, outs });
    }
    let mut seen = std::collections::HashSet::with_capacity(p.key_images.len());
    if !p.key_images.iter().all(|k| seen.insert(*k)) {
        return Err(TxError::DuplicateKeyImageInTx);
    }
    if hf >= 6 {
        for (i, input) in prefix.inputs.iter().enumerate() {
            if let Input::ToKey { key_offsets, .. } = input {
                if key_offsets.iter().skip(1).any(|o| *o == 0) {
                    return Err(TxError::DuplicateRingMember(i));
                }
            }
        }
    }
    check_output_types(tx, hf).map_err(TxError::OutputType)?;
    // check_tx_outputs: from hard fork 2, no dust or compound amounts in version-1 outputs
    if hf >= 2 && tx.version() == 1 {
        if let Some(i) = prefix
            .outputs
            .iter()
            .position(|o| !is_valid_decomposed_amount(o.amount.unwrap_or(0)))
        {
            return Err(TxError::NotDecomposedAmount(i));
        }
    }
    // from hard fork 3, version-2 outputs carry no clear amount
    if hf >= 3 && tx.version() >= 2 {
        if let Some(i) = prefix
            .outputs
            .iter()
            .position(|o| o.amount.unwrap_or(0) != 0)
        {
            return Err(TxError::OutputAmount(i));
        }
    }
    if tx.version() >= 2 {
        let t = rct_type_number(tx);
        if !rct_type_allowed(t, hf, &p.hash) {
            return Err(TxError::RctType { rct_type: t, hf });
        }
        if t == 0 {
            return Err(TxError::NullRct);
        }
        if t == u8::from(RctType::ClsagBulletproofPlus)
            && prefix.outputs.len() > BULLETPROOF_PLUS_MAX_OUTPUTS
        {
            return Err(TxError::TooManyOutputs(prefix.outputs.len()));
        }
    }
    Ok(())
}

/// The two MLSAG transactions monerod grandfathers in after v13 (`check_tx_outputs`).
const GRANDFATHERED_MLSAG: [&str; 2] = [
    "c5151944f0583097ba0c88cd0f43e7fabb3881278aa2f73b3b0a007c5d34e910",
    "6f2f117cde6fbcf8d4a6ef8974fcac744726574ac38cf25d3322c996b21edd4c",
];

/// `check_tx_outputs`: which RingCT types each hard fork admits.
pub fn rct_type_allowed(t: u8, hf: u8, hash: &[u8; 32]) -> bool {
    let bulletproof = matches!(t, 3..=5);
    let borromean = matches!(t, 1 | 2);
    if hf < 8 && bulletproof {
        return false;
    }
    if hf > 8 && borromean {
        return false;
    }
    if hf < 10 && t == 4 {
        return false;
    }
    if hf > 10 && t == 3 {
        return false;
    }
    if hf < hf::CLSAG && t == 5 {
        return false;
    }
    if hf > hf::CLSAG
        && (1..=4).contains(&t)
        && !GRANDFATHERED_MLSAG.contains(&hex::encode(hash).as_str())
    {
        return false;
    }
    if hf < hf::BULLETPROOF_PLUS && t == 6 {
        return false;
    }
    if hf > hf::BULLETPROOF_PLUS && bulletproof {
        return false;
    }
    t <= 6
}

/// `check_money_overflow`: input and output amounts each sum within 64 bits; the two sums
/// (`get_inputs_money_amount`, `get_outs_money_amount`), or `None` on overflow.
fn money_sums(tx: &Transaction) -> Option<(u64, u64)> {
    let mut ins: u64 = 0;
    for i in &tx.prefix().inputs {
        if let Input::ToKey { amount, .. } = i {
            ins = ins.checked_add(amount.unwrap_or(0))?;
        }
    }
    let mut outs: u64 = 0;
    for o in &tx.prefix().outputs {
        outs = outs.checked_add(o.amount.unwrap_or(0))?;
    }
    Some((ins, outs))
}

/// One input's ring as global output indices of one amount (0 = RingCT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingRequest {
    /// The amount pool (0 for RingCT outputs).
    pub amount: u64,
    /// Absolute indices, from `relative_output_offsets_to_absolute`.
    pub indices: Vec<u64>,
}

/// The rings a transaction's inputs reference. An offset sum overflowing 64 bits cannot
/// name an existing output.
pub fn ring_requests(tx: &Transaction) -> Result<Vec<RingRequest>, TxError> {
    let mut out = Vec::with_capacity(tx.prefix().inputs.len());
    for (i, input) in tx.prefix().inputs.iter().enumerate() {
        let Input::ToKey {
            amount,
            key_offsets,
            ..
        } = input
        else {
            return Err(TxError::InputType(i));
        };
        let mut acc: u64 = 0;
        let mut indices = Vec::with_capacity(key_offsets.len());
        for (n, o) in key_offsets.iter().enumerate() {
            acc = if n == 0 {
                *o
            } else {
                acc.checked_add(*o).ok_or(TxError::RingMemberMissing(i))?
            };
            indices.push(acc);
        }
        out.push(RingRequest {
            amount: amount.unwrap_or(0),
            indices,
        });
    }
    Ok(out)
}

/// What `check_tx_inputs` needs from the chain for one transaction.
pub struct InputContext<'a> {
    /// Hard fork in force.
    pub hf: u8,
    /// Chain height (blocks below the block being verified).
    pub chain_height: u64,
    /// The clock time-locked ring members are judged by ([`super::block::unlock_clock`]):
    /// `get_adjusted_time(height)` from `HF_VERSION_DETERMINISTIC_UNLOCK_TIME`, the local
    /// time before.
    pub unlock_clock: u64,
    /// The ring members, per input, in ring order (None: does not exist).
    pub rings: &'a [Vec<Option<OutputInfo>>],
    /// Whether each key image is already spent on the chain.
    pub spent: &'a [bool],
    /// How many outputs exist per amount for pre-RingCT inputs (mixability).
    pub num_outputs_for_amount: &'a dyn Fn(u64) -> u64,
}

/// `Blockchain::check_tx_inputs`, contextual part: output count, ring sizes, version bounds,
/// sorted inputs, double spends, ring members existing and unlocked, spendable age.
pub fn check_tx_inputs(p: &PreparedTx, c: &InputContext<'_>) -> Result<(), TxError> {
    let tx = &p.tx;
    let hf = c.hf;
    let prefix = tx.prefix();
    if hf >= hf::MIN_2_OUTPUTS && tx.version() >= 2 && prefix.outputs.len() < 2 {
        return Err(TxError::TooFewOutputs);
    }
    if hf >= 2 {
        let min_mixin: usize = match hf {
            h if h >= hf::MIN_MIXIN_15 => 15,
            h if h >= 8 => 10,
            7 => 6,
            6 => 4,
            _ => 2,
        };
        let (mut unmixable, mut mixable) = (0usize, 0usize);
        let (mut min_m, mut max_m) = (usize::MAX, 0usize);
        for input in &prefix.inputs {
            if let Input::ToKey {
                amount,
                key_offsets,
                ..
            } = input
            {
                match amount.unwrap_or(0) {
                    0 => mixable += 1,
                    a => {
                        if (c.num_outputs_for_amount)(a) <= min_mixin as u64 {
                            unmixable += 1
                        } else {
                            mixable += 1
                        }
                    }
                }
                let m = key_offsets.len().saturating_sub(1);
                min_m = min_m.min(m);
                max_m = max_m.max(m);
            }
        }
        if hf >= hf::SAME_MIXIN && min_m != max_m {
            return Err(TxError::RingSize {
                got: min_m + 1,
                expected: max_m + 1,
            });
        }
        let bad = if min_m < min_mixin && !(hf == hf::MIN_MIXIN_15 && min_m == 10) {
            unmixable == 0 || mixable > 1
        } else {
            (hf > hf::MIN_MIXIN_15 && min_m > 15)
                || (hf == hf::MIN_MIXIN_15 && min_m != 15 && min_m != 10)
                || ((10..hf::MIN_MIXIN_15).contains(&hf) && min_m > 10)
                || ((hf == 8 || hf == 9) && min_m != 10)
        };
        if bad {
            return Err(TxError::RingSize {
                got: min_m.saturating_add(1),
                expected: min_mixin + 1,
            });
        }
        let max_version = if hf <= 3 { 1 } else { 2 };
        let min_version = if unmixable > 0 {
            1
        } else if hf >= hf::ENFORCE_RCT {
            2
        } else {
            1
        };
        if tx.version() > max_version || tx.version() < min_version {
            return Err(TxError::Version {
                got: tx.version(),
                hf,
            });
        }
    }
    if hf >= 7 {
        let mut last: Option<&[u8; 32]> = None;
        for k in &p.key_images {
            if last.is_some_and(|l| k.as_slice() >= l.as_slice()) {
                return Err(TxError::UnsortedInputs);
            }
            last = Some(k);
        }
    }
    let mut max_used_height = 0u64;
    for (i, ring) in c.rings.iter().enumerate() {
        if ring.is_empty() {
            return Err(TxError::RingMemberMissing(i));
        }
        if c.spent.get(i).copied().unwrap_or(false) {
            return Err(TxError::KeyImageSpent(i));
        }
        for member in ring {
            let Some(m) = member else {
                return Err(TxError::RingMemberMissing(i));
            };
            if !spendtime_unlocked(m.unlock_time, c.chain_height, c.unlock_clock, hf) {
                return Err(TxError::RingMemberLocked(i));
            }
            max_used_height = max_used_height.max(m.height);
        }
    }
    if c.rings.len() != prefix.inputs.len() {
        return Err(TxError::RctShape("ring count differs from input count"));
    }
    if hf >= hf::ENFORCE_MIN_AGE
        && max_used_height + CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE > c.chain_height
    {
        // Report the first input touching a too-young member.
        let i = c
            .rings
            .iter()
            .position(|r| {
                r.iter()
                    .flatten()
                    .any(|m| m.height + CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE > c.chain_height)
            })
            .unwrap_or(0);
        return Err(TxError::RingMemberTooYoung(i));
    }
    Ok(())
}

/// `Blockchain::is_tx_spendtime_unlocked`: an unlock time below `CRYPTONOTE_MAX_BLOCK_NUMBER`
/// is a height, else a UNIX time compared with `clock` ([`super::block::unlock_clock`])
/// plus `CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V1` (one 60 s block) at hard fork 1 and
/// `_V2` (120 s) after.
pub fn spendtime_unlocked(unlock_time: u64, chain_height: u64, clock: u64, hf: u8) -> bool {
    if unlock_time < CRYPTONOTE_MAX_BLOCK_NUMBER {
        chain_height.saturating_sub(1) + CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_BLOCKS >= unlock_time
    } else {
        let delta = if hf < 2 {
            CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V1
        } else {
            CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V2
        };
        clock + delta >= unlock_time
    }
}

/// The ring signature of input `input` against its ring (keys, commitments):
/// `verRctCLSAGSimple` for CLSAG types (5, 6) and `verRctMGSimple` for the simple MLSAG types
/// (2, 3, 4; the ring rows are `[key, commitment - pseudo-out]`). The message is
/// `get_pre_mlsag_hash`. A version-1 transaction's input is checked with the pre-RingCT
/// `check_ring_signature` over the prefix hash and the ring's keys ([`super::ring_sig`]).
pub fn verify_ring_signature(
    p: &PreparedTx,
    input: usize,
    ring: &[OutputInfo],
) -> Result<(), TxError> {
    if let Transaction::V1 { .. } = &p.tx {
        let keys: Vec<[u8; 32]> = ring.iter().map(|m| m.key).collect();
        return super::ring_sig::verify_v1_input(&p.tx, input, &keys)
            .map_err(|_| TxError::RingSignature(input));
    }
    let Transaction::V2 {
        proofs: Some(proofs),
        prefix,
    } = &p.tx
    else {
        return Err(TxError::NullRct);
    };
    let Some(Input::ToKey { key_image, .. }) = prefix.inputs.get(input) else {
        return Err(TxError::RctShape("no such input"));
    };
    let msg =
        p.tx.signature_hash()
            .ok_or(TxError::RctShape("no signature hash"))?;
    let ring: Vec<[CompressedPoint; 2]> = ring
        .iter()
        .map(|m| {
            [
                CompressedPoint::from(m.key),
                CompressedPoint::from(m.commitment),
            ]
        })
        .collect();
    let mlsag = |mlsags: &[monero_oxide::ringct::mlsag::Mlsag], pseudo: &[CompressedPoint]| {
        let (Some(sig), Some(pseudo_out)) = (mlsags.get(input), pseudo.get(input)) else {
            return Err(TxError::RctShape("fewer MLSAGs or pseudo-outs than inputs"));
        };
        let matrix = monero_oxide::ringct::mlsag::RingMatrix::individual(&ring, *pseudo_out)
            .map_err(|_| TxError::Clsag(input))?;
        sig.verify(&msg, &matrix, &[*key_image])
            .map_err(|_| TxError::Clsag(input))
    };
    match &proofs.prunable {
        RctPrunable::Clsag {
            clsags,
            pseudo_outs,
            ..
        } => {
            let (Some(clsag), Some(pseudo_out)) = (clsags.get(input), pseudo_outs.get(input))
            else {
                return Err(TxError::RctShape("fewer CLSAGs or pseudo-outs than inputs"));
            };
            clsag
                .verify(ring, key_image, pseudo_out, &msg)
                .map_err(|_| TxError::Clsag(input))
        }
        RctPrunable::MlsagBulletproofs {
            mlsags,
            pseudo_outs,
            ..
        }
        | RctPrunable::MlsagBulletproofsCompactAmount {
            mlsags,
            pseudo_outs,
            ..
        } => mlsag(mlsags, pseudo_outs),
        RctPrunable::MlsagBorromean { mlsags, .. } => mlsag(mlsags, &proofs.base.pseudo_outs),
        RctPrunable::AggregateMlsagBorromean { .. } => Err(TxError::RctShape(
            "RCTTypeFull signs all inputs at once (verify_signatures)",
        )),
    }
}

/// Whether the transaction is RCTTypeFull: one MLSAG over all of its inputs.
pub fn is_aggregate_mlsag(tx: &Transaction) -> bool {
    matches!(
        tx,
        Transaction::V2 {
            proofs: Some(RctProofs {
                prunable: RctPrunable::AggregateMlsagBorromean { .. },
                ..
            }),
            ..
        }
    )
}

/// `verRct`'s MLSAG for RCTTypeFull (`verRctMG`): one signature over the matrix whose row
/// `i` is every input's `i`-th ring member key, then the sum of their commitments minus
/// the outputs' commitments and `fee*H` (which is how this type proves its balance). All
/// rings must have one size; the key images are the inputs', in order.
pub fn verify_aggregate_mlsag<R: AsRef<[OutputInfo]>>(
    p: &PreparedTx,
    rings: &[R],
) -> Result<(), TxError> {
    let Transaction::V2 {
        proofs: Some(proofs),
        prefix,
    } = &p.tx
    else {
        return Err(TxError::NullRct);
    };
    let RctPrunable::AggregateMlsagBorromean { mlsag, .. } = &proofs.prunable else {
        return Err(TxError::RctShape("not RCTTypeFull"));
    };
    if rings.len() != prefix.inputs.len() {
        return Err(TxError::RctShape("a ring per input"));
    }
    let images: Vec<CompressedPoint> = p
        .key_images
        .iter()
        .copied()
        .map(CompressedPoint::from)
        .collect();
    let msg =
        p.tx.signature_hash()
            .ok_or(TxError::RctShape("no signature hash"))?;
    use monero_oxide::ringct::mlsag::AggregateRingMatrixBuilder;
    let mut matrix = AggregateRingMatrixBuilder::new(&proofs.base.commitments, proofs.base.fee)
        .map_err(|_| TxError::Clsag(0))?;
    for (input, ring) in rings.iter().enumerate() {
        let ring: Vec<[CompressedPoint; 2]> = ring
            .as_ref()
            .iter()
            .map(|m| {
                [
                    CompressedPoint::from(m.key),
                    CompressedPoint::from(m.commitment),
                ]
            })
            .collect();
        matrix.push_ring(&ring).map_err(|_| TxError::Clsag(input))?;
    }
    let matrix = matrix.build().map_err(|_| TxError::Clsag(0))?;
    mlsag
        .verify(&msg, &matrix, &images)
        .map_err(|_| TxError::Clsag(0))
}

/// Every ring signature of a transaction against its rings (one per input, in order):
/// the aggregate MLSAG of RCTTypeFull, else each input's own signature
/// ([`verify_ring_signature`]).
pub fn verify_signatures<R: AsRef<[OutputInfo]>>(
    p: &PreparedTx,
    rings: &[R],
) -> Result<(), TxError> {
    if is_aggregate_mlsag(&p.tx) {
        return verify_aggregate_mlsag(p, rings);
    }
    for (i, ring) in rings.iter().enumerate() {
        verify_ring_signature(p, i, ring.as_ref())?;
    }
    Ok(())
}

/// `verRctCLSAGSimple` for input `input` against its ring (keys, commitments).
pub fn verify_clsag(p: &PreparedTx, input: usize, ring: &[OutputInfo]) -> Result<(), TxError> {
    match &p.tx {
        Transaction::V2 {
            proofs: Some(proofs),
            ..
        } if matches!(proofs.prunable, RctPrunable::Clsag { .. }) => {
            verify_ring_signature(p, input, ring)
        }
        _ => Err(TxError::RctShape("not a CLSAG transaction")),
    }
}

/// `verRctSemanticsSimple`, balance part: sum(pseudo-outs) == sum(outputs) + fee*H (for
/// RCTTypeFull the MLSAG itself proves it).
pub fn check_balance(p: &PreparedTx) -> Result<(), TxError> {
    let Transaction::V2 {
        proofs: Some(proofs),
        ..
    } = &p.tx
    else {
        return Err(TxError::NullRct);
    };
    let pseudo = match &proofs.prunable {
        RctPrunable::Clsag { pseudo_outs, .. }
        | RctPrunable::MlsagBulletproofs { pseudo_outs, .. }
        | RctPrunable::MlsagBulletproofsCompactAmount { pseudo_outs, .. } => pseudo_outs,
        RctPrunable::MlsagBorromean { .. } => &proofs.base.pseudo_outs,
        // RCTTypeFull: the aggregate MLSAG's last column is sum(inputs) − sum(outputs)
        // − fee·H, so its verification (`verRct`) proves the balance.
        RctPrunable::AggregateMlsagBorromean { .. } => return Ok(()),
    };
    let decompress = |c: &CompressedPoint| c.decompress().map(|p| p.into());
    let mut sum = curve25519_dalek::EdwardsPoint::default();
    for c in pseudo {
        sum += decompress(c).ok_or(TxError::Unbalanced)?;
    }
    for c in &proofs.base.commitments {
        sum -= decompress(c).ok_or(TxError::Unbalanced)?;
    }
    let fee = Commitment::new(Scalar::ZERO, proofs.base.fee)
        .commit()
        .into();
    sum -= fee;
    use curve25519_dalek::traits::IsIdentity;
    if sum.is_identity() {
        Ok(())
    } else {
        Err(TxError::Unbalanced)
    }
}

/// Adds the transaction's range proof to a batch (`false`: malformed proof).
pub fn batch_range_proof(
    p: &PreparedTx,
    batch: &mut monero_oxide::ringct::bulletproofs::BatchVerifier,
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<(), TxError> {
    let Transaction::V2 {
        proofs: Some(proofs),
        ..
    } = &p.tx
    else {
        return Err(TxError::NullRct);
    };
    let bp = match &proofs.prunable {
        RctPrunable::Clsag { bulletproof, .. }
        | RctPrunable::MlsagBulletproofs { bulletproof, .. }
        | RctPrunable::MlsagBulletproofsCompactAmount { bulletproof, .. } => bulletproof,
        // Borromean range proofs are not batched: each is checked here, whole.
        RctPrunable::MlsagBorromean { borromean, .. }
        | RctPrunable::AggregateMlsagBorromean { borromean, .. } => {
            if borromean.len() != proofs.base.commitments.len() {
                return Err(TxError::RctShape("Borromean proof count"));
            }
            for (b, c) in borromean.iter().zip(&proofs.base.commitments) {
                if !b.verify(c) {
                    return Err(TxError::RangeProof);
                }
            }
            return Ok(());
        }
    };
    if bp.batch_verify(rng, batch, &proofs.base.commitments) {
        Ok(())
    } else {
        Err(TxError::RangeProof)
    }
}

/// Pool admission rules that blocks do not apply (`tx_memory_pool::add_tx`): the dynamic
/// minimum fee (`check_fee`) and `MAX_TX_EXTRA_SIZE`.
pub fn check_pool_rules(
    p: &PreparedTx,
    hf: u8,
    limits: &weight::WeightLimits,
    already_generated_coins: u64,
) -> Result<(), TxError> {
    let extra = p.tx.prefix().extra.len();
    if extra > MAX_TX_EXTRA_SIZE {
        return Err(TxError::ExtraTooBig(extra));
    }
    let needed = weight::needed_fee(hf, p.weight, limits, already_generated_coins).ok_or(
        TxError::FeeTooLow {
            fee: p.fee,
            needed: u64::MAX,
        },
    )?;
    if !weight::fee_is_enough(p.fee, needed) {
        return Err(TxError::FeeTooLow { fee: p.fee, needed });
    }
    // `tx_memory_pool::add_tx`, after the fee: a relayed transaction's weight limit holds in every era
    // (in blocks only from `HF_VERSION_PER_BYTE_FEE`, `check_tx_semantics`).
    let limit = weight::transaction_weight_limit(hf);
    if p.weight > limit {
        return Err(TxError::Overweight {
            weight: p.weight,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `check_tx_outputs`: which RingCT types each fork admits.
    #[test]
    fn rct_types_by_fork() {
        let h = [0u8; 32];
        // v16: only BulletproofPlus (6).
        for t in 1..=5 {
            assert!(!rct_type_allowed(t, 16, &h), "type {t} at v16");
        }
        assert!(rct_type_allowed(6, 16, &h));
        assert!(!rct_type_allowed(7, 16, &h));
        // v15 admits CLSAG (5) and BP+ (6).
        assert!(rct_type_allowed(5, 15, &h) && rct_type_allowed(6, 15, &h));
        // v13: CLSAG, no BP+; v10 Bulletproof2; v8 both Bulletproof kinds and Borromean.
        assert!(rct_type_allowed(5, 13, &h) && !rct_type_allowed(6, 13, &h));
        assert!(rct_type_allowed(4, 10, &h) && !rct_type_allowed(3, 11, &h));
        assert!(rct_type_allowed(3, 8, &h) && rct_type_allowed(1, 8, &h));
        assert!(!rct_type_allowed(1, 9, &h) && !rct_type_allowed(3, 7, &h));
        // The grandfathered MLSAG transactions pass after v13.
        let g: [u8; 32] = hex::decode(GRANDFATHERED_MLSAG[0])
            .unwrap()
            .try_into()
            .unwrap();
        assert!(rct_type_allowed(4, 14, &g));
        assert!(!rct_type_allowed(4, 14, &h));
    }

    /// The blob of mainnet BP+/CLSAG transaction e89415b9 from the shared vectors.
    pub(crate) fn bpp_tx_blob() -> Option<Vec<u8>> {
        let dir = crate::testdata::shared_subdir("vectors")?;
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("ringct/mainnet_e89415b9_bpplus_clsag_ring.json"))
                .ok()?,
        )
        .ok()?;
        std::fs::read(dir.join(v["tx_file"].as_str()?)).ok()
    }

    /// `ver_non_input_consensus` rules 2-3 and `check_tx_inputs`' version bounds.
    #[test]
    fn version_bounds() {
        let Some(blob) = bpp_tx_blob() else {
            return;
        };
        let p = prepare_tx(&blob).unwrap();
        assert_eq!(check_tx_semantics(&p, 16), Ok(()));
        // Before dynamic fees (v4) only version 1 exists.
        assert_eq!(
            check_tx_semantics(&p, 3),
            Err(TxError::Version { got: 2, hf: 3 })
        );
    }

    /// `check_tx_outputs`' RingCT types over every fork: Borromean (1, 2) up to v8,
    /// Bulletproof (3) v8-v10, Bulletproof2 (4) v10-v13, CLSAG (5) v13-v15, BP+ (6) from v15.
    #[test]
    fn rct_type_table() {
        let h = [0u8; 32];
        let allowed = |t: u8| -> Option<std::ops::RangeInclusive<u8>> {
            match t {
                1 | 2 => Some(1..=8),
                3 => Some(8..=10),
                4 => Some(10..=13),
                5 => Some(13..=15),
                6 => Some(15..=u8::MAX),
                _ => None,
            }
        };
        for hf in 1..=16 {
            for t in 1..=7 {
                assert_eq!(
                    rct_type_allowed(t, hf, &h),
                    allowed(t).is_some_and(|r| r.contains(&hf)),
                    "type {t} at hf {hf}"
                );
            }
        }
    }

    /// `check_output_types`: untagged outputs before v15, tagged after, one kind per
    /// transaction at v15.
    #[test]
    fn output_types_by_fork() {
        let mut p = tx_with(2, &[(0, 16)], &[0, 0]);
        assert_eq!(check_output_types(&p.tx, 14), Ok(()));
        assert_eq!(check_output_types(&p.tx, 15), Ok(()));
        assert_eq!(check_output_types(&p.tx, 16), Err(0));
        p.tx.prefix_mut().outputs[1].view_tag = Some(7);
        assert_eq!(check_output_types(&p.tx, 14), Err(1));
        assert_eq!(check_output_types(&p.tx, 15), Err(1));
        assert_eq!(check_output_types(&p.tx, 16), Err(0));
        p.tx.prefix_mut().outputs[0].view_tag = Some(7);
        assert_eq!(check_output_types(&p.tx, 14), Err(0));
        assert_eq!(check_output_types(&p.tx, 15), Ok(()));
        assert_eq!(check_output_types(&p.tx, 16), Ok(()));
    }

    /// `check_tx_inputs_ring_members_diff` from hard fork 6 (a zero relative offset after
    /// the first repeats a member); `get_transaction_weight_limit` from `HF_VERSION_PER_BYTE_FEE`.
    #[test]
    fn ring_members_and_weight_limit_by_fork() {
        let mut p = tx_with(1, &[(10_000, 3)], &[9_000]);
        if let Input::ToKey { key_offsets, .. } = &mut p.tx.prefix_mut().inputs[0] {
            key_offsets[2] = 0;
        }
        assert_eq!(check_tx_structure(&p, 5), Ok(()));
        assert_eq!(
            check_tx_structure(&p, 6),
            Err(TxError::DuplicateRingMember(0))
        );
        let mut p = tx_with(1, &[(10_000, 3)], &[9_000]);
        p.weight = weight::transaction_weight_limit(8) + 1;
        assert_eq!(check_tx_structure(&p, 7), Ok(()));
        assert!(matches!(
            check_tx_structure(&p, 8),
            Err(TxError::Overweight { .. })
        ));
        p.weight -= 1;
        assert_eq!(check_tx_structure(&p, 8), Ok(()));
    }

    /// A point `n`·G, for keys and key images that must decode.
    fn point(n: u64) -> CompressedPoint {
        let p = curve25519_dalek::constants::ED25519_BASEPOINT_POINT
            * curve25519_dalek::Scalar::from(n);
        CompressedPoint::from(p.compress().to_bytes())
    }

    /// A transaction of `version` (no signatures or proofs) spending one input per entry of
    /// `rings` (amount, ring size) into `outs`, with key images in the descending byte order
    /// v7+ wants.
    fn tx_with(version: u8, rings: &[(u64, usize)], outs: &[u64]) -> PreparedTx {
        let mut inputs: Vec<Input> = rings
            .iter()
            .enumerate()
            .map(|(i, &(amount, size))| Input::ToKey {
                amount: (version == 1).then_some(amount),
                key_offsets: (0..size as u64).map(|n| u64::from(n > 0)).collect(),
                key_image: point(100 + i as u64),
            })
            .collect();
        inputs.sort_by(|a, b| {
            let k = |i: &Input| match i {
                Input::ToKey { key_image, .. } => key_image.to_bytes(),
                Input::Gen(_) => [0; 32],
            };
            k(b).cmp(&k(a))
        });
        let prefix = monero_oxide::transaction::TransactionPrefix {
            additional_timelock: Timelock::None,
            inputs,
            outputs: outs
                .iter()
                .enumerate()
                .map(|(i, &a)| monero_oxide::transaction::Output {
                    amount: (version == 1).then_some(a),
                    key: point(1 + i as u64),
                    view_tag: None,
                })
                .collect(),
            extra: vec![],
        };
        let tx = unsigned(version, prefix);
        let len = tx.serialize().len();
        prepared(tx, len)
    }

    /// A transaction of `version` (1, or 2 with RCT null) around `prefix`, unsigned.
    pub(crate) fn unsigned(
        version: u8,
        prefix: monero_oxide::transaction::TransactionPrefix,
    ) -> Transaction {
        if version == 1 {
            Transaction::V1 {
                prefix,
                signatures: vec![],
            }
        } else {
            Transaction::V2 {
                prefix,
                proofs: None,
            }
        }
    }

    /// An existing, unlocked ring member created at `height`.
    fn member(height: u64) -> Option<OutputInfo> {
        Some(OutputInfo {
            key: point(7).to_bytes(),
            commitment: point(8).to_bytes(),
            unlock_time: 0,
            height,
        })
    }

    /// `check_tx_inputs` of `p` at `hf` on a 1000-block chain whose outputs are all 100
    /// blocks deep, with `n_outputs` outputs of every pre-RingCT amount.
    fn inputs_at(p: &PreparedTx, hf: u8, n_outputs: u64) -> Result<(), TxError> {
        let rings: Vec<Vec<Option<OutputInfo>>> =
            p.tx.prefix()
                .inputs
                .iter()
                .map(|i| match i {
                    Input::ToKey { key_offsets, .. } => vec![member(900); key_offsets.len()],
                    Input::Gen(_) => vec![],
                })
                .collect();
        let spent = vec![false; rings.len()];
        let n = move |_: u64| n_outputs;
        check_tx_inputs(
            p,
            &InputContext {
                hf,
                chain_height: 1000,
                unlock_clock: 0,
                rings: &rings,
                spent: &spent,
                num_outputs_for_amount: &n,
            },
        )
    }

    /// `is_valid_decomposed_amount` agrees with monerod's `valid_decomposed_outputs` table
    /// on every entry and on both neighbours of every entry.
    /// `tx_memory_pool::add_tx`: a relayed transaction over the era's weight limit is
    /// refused at every fork, also before `HF_VERSION_PER_BYTE_FEE` (where blocks do not
    /// check it).
    #[test]
    fn pool_weight_limit_in_every_era() {
        for hf in [1u8, 5, 7, 8, 16] {
            let limit = weight::transaction_weight_limit(hf);
            // A fee no era's minimum exceeds, so that only the weight decides.
            let light = tx_with(1, &[(1_000_000_000_000_000, 3)], &[1]);
            let heavy = prepared(light.tx.clone(), usize::try_from(limit).unwrap() + 1);
            let l = weight::weight_limits(hf, &[0; 100], &[]);
            assert_eq!(
                check_pool_rules(&heavy, hf, &l, 0),
                Err(TxError::Overweight {
                    weight: limit + 1,
                    limit
                }),
                "hf {hf}"
            );
            assert!(
                !matches!(
                    check_pool_rules(&light, hf, &l, 0),
                    Err(TxError::Overweight { .. })
                ),
                "hf {hf}"
            );
        }
    }

    #[test]
    fn decomposed_amounts_match_monerods_table() {
        let mut table: Vec<u64> = (0..=18u32)
            .flat_map(|k| (1..=9u64).map(move |d| d * 10u64.pow(k)))
            .collect();
        table.push(10u64.pow(19));
        assert_eq!(table.len(), 172);
        for &a in &table {
            assert!(is_valid_decomposed_amount(a), "{a}");
            for n in [a - 1, a.saturating_add(1)] {
                assert_eq!(is_valid_decomposed_amount(n), table.contains(&n), "{n}");
            }
        }
        for a in [0, 11, 15, 110, 1_234_567, 2 * 10u64.pow(19) - 1, u64::MAX] {
            assert!(!is_valid_decomposed_amount(a), "{a}");
        }
    }

    /// `check_tx_semantic` and `check_tx_outputs` for version-1 transactions: non-zero
    /// output amounts; inputs above outputs (the fee, `get_tx_fee`); from hard fork 2 every
    /// output a decomposed amount; version 2 only from `HF_VERSION_DYNAMIC_FEE`.
    #[test]
    fn v1_transaction_semantics_by_fork() {
        let p = tx_with(1, &[(10_000, 1), (5_000, 1)], &[12_000, 15]);
        assert_eq!(p.fee, 15_000 - 12_015);
        assert_eq!(check_tx_structure(&p, 1), Ok(()));
        assert_eq!(
            check_tx_structure(&p, 2),
            Err(TxError::NotDecomposedAmount(0))
        );
        let p = tx_with(1, &[(10_000, 3)], &[9_000, 900, 90]);
        for hf in [1, 2, 3, 5] {
            assert_eq!(check_tx_structure(&p, hf), Ok(()), "hf {hf}");
        }
        // All of the inputs paid out: no fee.
        let p = tx_with(1, &[(10_000, 3)], &[9_000, 1_000]);
        assert_eq!(p.fee, 0);
        assert_eq!(
            check_tx_structure(&p, 1),
            Err(TxError::InputsNotAboveOutputs {
                ins: 10_000,
                outs: 10_000
            })
        );
        let p = tx_with(1, &[(10_000, 3)], &[20_000]);
        assert!(matches!(
            check_tx_structure(&p, 2),
            Err(TxError::InputsNotAboveOutputs { .. })
        ));
        let p = tx_with(1, &[(10_000, 3)], &[9_000, 0]);
        assert_eq!(check_tx_structure(&p, 1), Err(TxError::OutputAmount(1)));
        // Version 2 exists from hard fork 4 (`max_tx_version`).
        let p = tx_with(2, &[(0, 3)], &[0, 0]);
        assert_eq!(
            check_tx_structure(&p, 3),
            Err(TxError::Version { got: 2, hf: 3 })
        );
        assert_eq!(check_tx_structure(&p, 4), Err(TxError::NullRct));
    }

    /// `check_tx_inputs`: version-1 transactions are spendable in the pre-RingCT eras, and
    /// after `HF_VERSION_ENFORCE_RCT` only when an input is unmixable; version 2 only from
    /// hard fork 4.
    #[test]
    fn tx_versions_by_fork() {
        let v1 = tx_with(1, &[(10_000, 3), (20_000, 3)], &[20_000]);
        assert_eq!(inputs_at(&v1, 1, 1000), Ok(()));
        for hf in 2..=5 {
            assert_eq!(inputs_at(&v1, hf, 1000), Ok(()), "hf {hf}");
        }
        // From v6 a mixable v1 spend is refused; ring 5 (v6) and 7 (v7) for the check.
        let v1 = tx_with(1, &[(10_000, 5)], &[9_000]);
        assert_eq!(inputs_at(&v1, 5, 1000), Ok(()));
        assert_eq!(
            inputs_at(&v1, 6, 1000),
            Err(TxError::Version { got: 1, hf: 6 })
        );
        // ... unless an input is unmixable (no more outputs of its amount than the min mixin).
        assert_eq!(inputs_at(&v1, 6, 4), Ok(()));
        let v1 = tx_with(1, &[(10_000, 1)], &[9_000]);
        assert_eq!(inputs_at(&v1, 7, 6), Ok(()));
        assert!(matches!(
            inputs_at(&v1, 7, 7),
            Err(TxError::RingSize { .. })
        ));
        let v2 = tx_with(2, &[(0, 11)], &[0, 0]);
        assert_eq!(
            inputs_at(&v2, 3, 1000),
            Err(TxError::Version { got: 2, hf: 3 })
        );
        assert_eq!(inputs_at(&v2, 4, 1000), Ok(()));
        assert_eq!(inputs_at(&v2, 11, 1000), Ok(()));
    }

    /// `check_tx_inputs`' ring-size rules at every fork where they change: none at v1, min
    /// mixin 2 (v2), 4 (v6), 6 (v7), exactly 10 (v8, v9), 10 to no more than 10 (v10+),
    /// 10 or 15 (v15), exactly 15 (v16).
    #[test]
    fn ring_sizes_by_fork() {
        // (hf, ring sizes allowed, ring sizes refused)
        let table: &[(u8, &[usize], &[usize])] = &[
            (1, &[1, 2, 3, 11, 40], &[]),
            (2, &[3, 4, 11, 40], &[1, 2]),
            (5, &[3, 11, 40], &[2]),
            (6, &[5, 11, 40], &[3, 4]),
            (7, &[7, 11, 40], &[5, 6]),
            (8, &[11], &[7, 10, 12, 16]),
            (9, &[11], &[10, 12]),
            (10, &[11], &[10, 12]),
            (12, &[11], &[10, 12, 16]),
            (13, &[11], &[10, 12, 16]),
            (14, &[11], &[10, 12]),
            (15, &[11, 16], &[10, 12, 15, 17]),
            (16, &[16], &[11, 15, 17]),
        ];
        for &(hf, ok, bad) in table {
            let (version, amount) = if hf < 4 { (1, 10_000) } else { (2, 0) };
            for &r in ok {
                let p = tx_with(version, &[(amount, r)], &[1_000, 1_000]);
                assert_eq!(inputs_at(&p, hf, 1000), Ok(()), "hf {hf} ring {r}");
            }
            for &r in bad {
                let p = tx_with(version, &[(amount, r)], &[1_000, 1_000]);
                assert!(
                    matches!(inputs_at(&p, hf, 1000), Err(TxError::RingSize { .. })),
                    "hf {hf} ring {r}"
                );
            }
        }
        // Unmixable inputs (v2-v7) allow a smaller ring with at most one mixable input.
        let p = tx_with(1, &[(10_000, 1), (20_000, 3)], &[20_000]);
        assert_eq!(inputs_at(&p, 2, 2), Ok(()));
        let n = |a: u64| if a == 10_000 { 2 } else { 1000 };
        let rings = vec![
            vec![member(900)],
            vec![member(900); 3],
            vec![member(900); 3],
        ];
        let p = tx_with(1, &[(10_000, 1), (20_000, 3), (30_000, 3)], &[50_000]);
        let c = InputContext {
            hf: 2,
            chain_height: 1000,
            unlock_clock: 0,
            rings: &rings,
            spent: &[false; 3],
            num_outputs_for_amount: &n,
        };
        assert!(matches!(
            check_tx_inputs(&p, &c),
            Err(TxError::RingSize { .. })
        ));
    }

    /// `check_tx_inputs`: one ring size per transaction from `HF_VERSION_SAME_MIXIN`; two
    /// outputs from `HF_VERSION_MIN_2_OUTPUTS`; sorted key images from v7; spendable age
    /// from `HF_VERSION_ENFORCE_MIN_AGE`.
    #[test]
    fn input_rules_by_fork() {
        let p = tx_with(2, &[(0, 11), (0, 12)], &[0, 0]);
        assert_eq!(inputs_at(&p, 11, 1000), Ok(()));
        assert!(matches!(
            inputs_at(&p, 12, 1000),
            Err(TxError::RingSize { .. })
        ));
        let p = tx_with(2, &[(0, 11)], &[0]);
        assert_eq!(inputs_at(&p, 11, 1000), Ok(()));
        assert_eq!(inputs_at(&p, 12, 1000), Err(TxError::TooFewOutputs));
        // Unsorted key images.
        let mut p = tx_with(2, &[(0, 11), (0, 11)], &[0, 0]);
        p.tx.prefix_mut().inputs.reverse();
        p.key_images.reverse();
        assert_eq!(inputs_at(&p, 6, 1000), Ok(()));
        assert_eq!(inputs_at(&p, 7, 1000), Err(TxError::UnsortedInputs));
        // A ring member 5 blocks deep.
        let p = tx_with(2, &[(0, 11)], &[0, 0]);
        let rings = vec![vec![member(995); 11]];
        let none = |_: u64| 0;
        let c = |hf| InputContext {
            hf,
            chain_height: 1000,
            unlock_clock: 0,
            rings: &rings,
            spent: &[false],
            num_outputs_for_amount: &none,
        };
        assert_eq!(check_tx_inputs(&p, &c(11)), Ok(()));
        assert_eq!(
            check_tx_inputs(&p, &c(12)),
            Err(TxError::RingMemberTooYoung(0))
        );
    }

    /// `is_tx_spendtime_unlocked`: one block of leeway for height locks; for time locks
    /// `CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V1` (60 s) at hard fork 1, `_V2` after.
    #[test]
    fn spendtime_delta_by_fork() {
        let t = CRYPTONOTE_MAX_BLOCK_NUMBER + 1_000_000;
        assert!(spendtime_unlocked(t, 5, t - 60, 1));
        assert!(!spendtime_unlocked(t, 5, t - 61, 1));
        assert!(spendtime_unlocked(t, 5, t - 61, 2));
        assert!(spendtime_unlocked(t, 5, t - 120, 2));
        assert!(!spendtime_unlocked(t, 5, t - 121, 2));
        // CRYPTONOTE_MAX_BLOCK_NUMBER - 1 is a height, CRYPTONOTE_MAX_BLOCK_NUMBER a time.
        let h = CRYPTONOTE_MAX_BLOCK_NUMBER - 1;
        assert!(spendtime_unlocked(h, h, 0, 1));
        assert!(!spendtime_unlocked(h, h - 1, u64::MAX / 2, 1));
        assert!(spendtime_unlocked(h + 1, 0, h + 1, 1));
    }

    #[test]
    fn spendtime_rules() {
        // Height locks: unlocked once chain height - 1 + 1 >= unlock.
        assert!(spendtime_unlocked(100, 100, 0, 16));
        assert!(!spendtime_unlocked(101, 100, 0, 16));
        // Time locks against the adjusted time plus 120 s.
        let t = CRYPTONOTE_MAX_BLOCK_NUMBER + 1_000;
        assert!(spendtime_unlocked(t, 5, t - 120, 16));
        assert!(!spendtime_unlocked(t, 5, t - 121, 16));
    }
}
