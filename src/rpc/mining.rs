//! Mining calls: `get_block_template`, `submit_block` and (regtest) `generateblocks`, as
//! monerod's `on_getblocktemplate`, `on_submitblock` and `on_generateblocks`. The
//! template's miner transaction pays the whole reward (with the pool's fees) to one
//! output for the given standard address (one-time key and view tag derived as
//! `construct_miner_tx` does), unlocked 60 blocks later; the pool's transactions go in
//! by fee per weight while the block stays within the penalty-free median.

use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::Scalar;
use monero_oxide::block::{Block, BlockHeader};
use monero_oxide::ed25519::CompressedPoint;
use monero_oxide::primitives::keccak256;
use monero_oxide::transaction::{Input, Output, Timelock, Transaction, TransactionPrefix};
use serde_json::{json, Value};

use super::calls::RpcCall;
use super::data::{difficulty_fields, now_unix};
use super::limits::SYNC_THREAD_REPLY_TIMEOUT;
use super::{Api, STATUS_OK};
use crate::consensus::{self, ChainContext, ConsensusNet};

/// `CORE_RPC_ERROR_CODE_WRONG_PARAM`.
const ERROR_WRONG_PARAM: i64 = -1;
/// `CORE_RPC_ERROR_CODE_TOO_BIG_RESERVE_SIZE`.
const ERROR_TOO_BIG_RESERVE_SIZE: i64 = -3;
/// `CORE_RPC_ERROR_CODE_WRONG_WALLET_ADDRESS`.
const ERROR_WRONG_WALLET_ADDRESS: i64 = -4;
/// `CORE_RPC_ERROR_CODE_INTERNAL_ERROR`.
const ERROR_INTERNAL: i64 = -5;
/// `CORE_RPC_ERROR_CODE_WRONG_BLOCKBLOB`.
const ERROR_WRONG_BLOCKBLOB: i64 = -6;
/// `CORE_RPC_ERROR_CODE_BLOCK_NOT_ACCEPTED`.
const ERROR_BLOCK_NOT_ACCEPTED: i64 = -7;
/// `CORE_RPC_ERROR_CODE_MINING_TO_SUBADDRESS`.
const ERROR_MINING_TO_SUBADDRESS: i64 = -12;
/// `CORE_RPC_ERROR_CODE_REGTEST_REQUIRED`.
const ERROR_REGTEST_REQUIRED: i64 = -13;

/// Largest `reserve_size` (monerod: "Too big reserved size, maximum 255").
pub const MAX_RESERVE_SIZE: u64 = 255;
/// Most blocks one `generateblocks` makes (monerod has no bound; this keeps one call
/// within the request time bound).
pub const MAX_GENERATE_BLOCKS: u64 = 1000;
/// The extra-nonce bytes `generateblocks` reserves in each miner transaction
/// (monerod's `template_req.reserve_size = 1`).
const GENERATE_RESERVE_SIZE: usize = 1;
/// How long one `generateblocks` may grind nonces in all: the RPC's request bound, as
/// monerod (which grinds up to 2^32 nonces) has none.
const GENERATE_TIME_LIMIT: std::time::Duration = super::limits::REQUEST_TIMEOUT;
/// `TX_EXTRA_TAG_PUBKEY`.
const TX_EXTRA_TAG_PUBKEY: u8 = 0x01;
/// `TX_EXTRA_NONCE`.
const TX_EXTRA_NONCE: u8 = 0x02;

type RpcError = (i64, String);

/// A standard address's public keys.
struct Address {
    spend: CompressedEdwardsY,
    view: CompressedEdwardsY,
}

/// Monero's base58 alphabet.
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Characters per encoded byte count in a final block (`encoded_block_sizes`).
const ENCODED_BLOCK_SIZES: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

/// Monero's block-wise base58 (8 bytes per 11 characters).
fn base58_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 8 / 11 + 8);
    for chunk in s.as_bytes().chunks(11) {
        let size = ENCODED_BLOCK_SIZES.iter().position(|&n| n == chunk.len())?;
        let mut v: u128 = 0;
        for c in chunk {
            let d = ALPHABET.iter().position(|a| a == c)?;
            v = v.checked_mul(58)?.checked_add(d as u128)?;
        }
        if size < 8 && v >> (8 * size) != 0 {
            return None;
        }
        let bytes = u64::try_from(v).ok()?.to_be_bytes();
        out.extend_from_slice(bytes.get(8 - size..)?);
    }
    Some(out)
}

/// The address tags of a network (standard, integrated, subaddress); regtest uses
/// mainnet's.
fn tags(net: ConsensusNet) -> (u64, u64, u64) {
    match net {
        ConsensusNet::Mainnet | ConsensusNet::Regtest { .. } => (18, 19, 42),
        ConsensusNet::Testnet => (53, 54, 63),
        ConsensusNet::Stagenet => (24, 25, 36),
    }
}

fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn write_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(((v & 0x7f) as u8) | 0x80);
        v >>= 7;
    }
    out.push((v & 0x7f) as u8);
}

/// Parses a miner address (`get_account_address_from_str`): standard or integrated;
/// a subaddress is refused as monerod refuses it.
fn parse_address(net: ConsensusNet, s: &str) -> Result<Address, RpcError> {
    let bad = || {
        (
            ERROR_WRONG_WALLET_ADDRESS,
            "Failed to parse wallet address".to_string(),
        )
    };
    let raw = base58_decode(s).ok_or_else(bad)?;
    let (tag, n) = read_varint(&raw).ok_or_else(bad)?;
    let body_len = raw.len().checked_sub(4).ok_or_else(bad)?;
    let (body, checksum) = (
        raw.get(..body_len).ok_or_else(bad)?,
        raw.get(body_len..).ok_or_else(bad)?,
    );
    if keccak256(body).get(..4) != Some(checksum) {
        return Err(bad());
    }
    let (standard, integrated, sub) = tags(net);
    if tag == sub {
        return Err((
            ERROR_MINING_TO_SUBADDRESS,
            "Mining to subaddress is not supported yet".into(),
        ));
    }
    let keys_len = if tag == standard {
        64
    } else if tag == integrated {
        72
    } else {
        return Err(bad());
    };
    let keys = body
        .get(n..)
        .filter(|k| k.len() == keys_len)
        .ok_or_else(bad)?;
    let point = |b: &[u8]| -> Option<CompressedEdwardsY> {
        let p = CompressedEdwardsY::from_slice(b).ok()?;
        p.decompress().map(|_| p)
    };
    Ok(Address {
        spend: keys.get(..32).and_then(point).ok_or_else(bad)?,
        view: keys.get(32..64).and_then(point).ok_or_else(bad)?,
    })
}

/// The miner transaction paying `amount` to `to` at `height`, with `reserve` zero bytes
/// of extra nonce (`construct_miner_tx`); also the tx public key, to find the reserve.
fn miner_tx(
    to: &Address,
    height: u64,
    amount: u64,
    reserve: usize,
) -> Option<(Transaction, [u8; 32])> {
    let mut wide = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut wide);
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let tx_pub = (&r * ED25519_BASEPOINT_TABLE).compress().to_bytes();
    let derivation = (r * to.view.decompress()?)
        .mul_by_cofactor()
        .compress()
        .to_bytes();
    let mut data = derivation.to_vec();
    write_varint(0, &mut data);
    let hs = Scalar::from_bytes_mod_order(keccak256(&data));
    let key = (&hs * ED25519_BASEPOINT_TABLE) + to.spend.decompress()?;
    let mut tag_data = b"view_tag".to_vec();
    tag_data.extend_from_slice(&data);
    let view_tag = keccak256(&tag_data)[0];
    let mut extra = vec![TX_EXTRA_TAG_PUBKEY];
    extra.extend_from_slice(&tx_pub);
    if reserve > 0 {
        extra.push(TX_EXTRA_NONCE);
        extra.push(u8::try_from(reserve).ok()?);
        extra.extend(std::iter::repeat_n(0u8, reserve));
    }
    let tx = Transaction::V2 {
        prefix: TransactionPrefix {
            additional_timelock: Timelock::Block(
                usize::try_from(
                    height + consensus::constants::CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW,
                )
                .ok()?,
            ),
            inputs: vec![Input::Gen(usize::try_from(height).ok()?)],
            outputs: vec![Output {
                amount: Some(amount),
                key: CompressedPoint::from(key.compress().to_bytes()),
                view_tag: Some(view_tag),
            }],
            extra,
        },
        proofs: None,
    };
    Some((tx, tx_pub))
}

/// A block template on our top for `to` (the block, its reward, the reserve's offset in
/// the blob).
fn template(
    api: &Api,
    to: &Address,
    reserve: usize,
) -> Result<(Block, u64, usize, u128), RpcError> {
    let internal = |e: String| {
        (
            ERROR_INTERNAL,
            format!("Internal error: failed to create block template: {e}"),
        )
    };
    let ctx = api.chain_ctx().map_err(|e| internal(e.to_string()))?;
    let view = ctx.view();
    let height = view.block_count;
    let version = api.net().hard_fork_version(height);
    let limits = consensus::verify::weight_limits(&ctx);
    let median = limits.effective_median;
    // Pool transactions by fee per weight, within the penalty-free zone (less the
    // coinbase reservation).
    let mut pool = api.pool().unwrap_or_default();
    pool.sort_by(|a, b| {
        (u128::from(b.fee) * u128::from(a.weight.max(1)))
            .cmp(&(u128::from(a.fee) * u128::from(b.weight.max(1))))
    });
    let budget =
        median.saturating_sub(consensus::constants::CRYPTONOTE_COINBASE_BLOB_RESERVED_SIZE);
    let (mut weight, mut fees, mut ids) = (0u64, 0u64, Vec::new());
    for t in &pool {
        if weight + t.weight > budget {
            continue;
        }
        weight += t.weight;
        fees = fees.saturating_add(t.fee);
        ids.push(t.id);
    }
    let generated = ctx.already_generated_coins();
    let (tx, _) =
        miner_tx(to, height, 0, reserve).ok_or_else(|| internal("miner transaction".into()))?;
    let block_weight = weight + tx.serialize().len() as u64 + 8;
    let base = consensus::weight::block_reward(median, block_weight, generated, version)
        .ok_or_else(|| internal("block too heavy for a reward".into()))?;
    let reward = base.saturating_add(fees);
    let (tx, tx_pub) = miner_tx(to, height, reward, reserve)
        .ok_or_else(|| internal("miner transaction".into()))?;
    let ts_window = consensus::constants::BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW as u64;
    let recent = ctx.timestamps(height.saturating_sub(ts_window)..height);
    let median_ts = consensus::weight::median(&recent);
    let header = BlockHeader {
        hardfork_version: version,
        hardfork_signal: version,
        timestamp: now_unix().max(median_ts + 1),
        previous: view.top_hash,
        nonce: 0,
    };
    let block = Block::new(header, tx, ids).ok_or_else(|| internal("block".into()))?;
    let blob = block.serialize();
    let reserved_offset = if reserve > 0 {
        blob.windows(32)
            .position(|w| w == tx_pub)
            .map_or(0, |p| p + 32 + 2)
    } else {
        0
    };
    let difficulty = consensus::verify::next_difficulty(&ctx);
    Ok((block, reward, reserved_offset, difficulty))
}

/// `get_block_template`.
pub(super) fn get_block_template(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let reserve = params
        .get("reserve_size")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if reserve > MAX_RESERVE_SIZE {
        return Err((
            ERROR_TOO_BIG_RESERVE_SIZE,
            "Too big reserved size, maximum 255".into(),
        ));
    }
    let addr = params
        .get("wallet_address")
        .and_then(Value::as_str)
        .unwrap_or("");
    let to = parse_address(api.net(), addr)?;
    let (block, reward, reserved_offset, difficulty) = template(
        api,
        &to,
        usize::from(u8::try_from(reserve).unwrap_or(u8::MAX)),
    )?;
    let height = api.reader().view().block_count;
    let (seed_height, next_height) = consensus::pow::seed_heights(height);
    let hash_at = |h: u64| {
        api.reader()
            .block_hashes(&[h])
            .ok()
            .and_then(|mut v| v.pop().flatten())
            .map(hex::encode)
            .unwrap_or_default()
    };
    let (d, d_top, d_wide) = difficulty_fields(difficulty);
    Ok(json!({
        "blockhashing_blob": hex::encode(block.serialize_pow_hash()),
        "blocktemplate_blob": hex::encode(block.serialize()),
        "difficulty": d,
        "difficulty_top64": d_top,
        "expected_reward": reward,
        "height": height,
        "next_seed_hash": if next_height != seed_height { hash_at(next_height) } else { String::new() },
        "prev_hash": hex::encode(block.header.previous),
        "reserved_offset": reserved_offset,
        "seed_hash": hash_at(seed_height),
        "seed_height": seed_height,
        "status": STATUS_OK,
        "untrusted": false,
        "wide_difficulty": d_wide,
    }))
}

/// Hands a found block to the sync thread; its id once on our chain.
fn submit(api: &Api, blob: Vec<u8>) -> Result<[u8; 32], RpcError> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    api.shared
        .chain
        .sync
        .send(crate::node::chain_sync::SyncInput::Rpc(
            RpcCall::SubmitBlock {
                blob: bytes::Bytes::from(blob),
                reply: tx,
            },
        ))
        .map_err(|_| {
            (
                ERROR_INTERNAL,
                "Internal error: the sync thread is gone".to_string(),
            )
        })?;
    match rx.recv_timeout(SYNC_THREAD_REPLY_TIMEOUT) {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(why)) => {
            tracing::info!("submitted block not accepted: {why}");
            Err((ERROR_BLOCK_NOT_ACCEPTED, "Block not accepted".into()))
        }
        Err(_) => Err((
            ERROR_INTERNAL,
            "Internal error: no answer from the sync thread".into(),
        )),
    }
}

/// `submit_block`: `["hex blob"]`.
pub(super) fn submit_block(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let Some([blob]) = params.as_array().map(Vec::as_slice) else {
        return Err((ERROR_WRONG_PARAM, "Wrong param".into()));
    };
    let blob = blob
        .as_str()
        .and_then(|h| hex::decode(h).ok())
        .ok_or((ERROR_WRONG_BLOCKBLOB, "Wrong block blob".to_string()))?;
    if Block::read(&mut blob.as_slice()).is_err() {
        return Err((ERROR_WRONG_BLOCKBLOB, "Wrong block blob".into()));
    }
    submit(api, blob)?;
    Ok(json!({"status": STATUS_OK, "untrusted": false}))
}

/// `generateblocks` (regtest), as monerod's `on_generateblocks`: for each block a
/// template for `wallet_address` (with monerod's 1-byte reserve), a nonce from
/// `starting_nonce` up whose RandomX hash meets the template's difficulty (every hash
/// computed, as `miner::find_nonce_for_given_block`), then the block is submitted.
/// `height` is the last block's height (the chain's height when none is made).
pub(super) fn generateblocks(api: &Api, params: &Value) -> Result<Value, RpcError> {
    if !matches!(api.net(), ConsensusNet::Regtest { .. }) {
        return Err((
            ERROR_REGTEST_REQUIRED,
            "Regtest required when generating blocks".into(),
        ));
    }
    let n = params
        .get("amount_of_blocks")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if n > MAX_GENERATE_BLOCKS {
        return Err((
            ERROR_WRONG_PARAM,
            format!("at most {MAX_GENERATE_BLOCKS} blocks at a time"),
        ));
    }
    let addr = params
        .get("wallet_address")
        .and_then(Value::as_str)
        .unwrap_or("");
    let to = parse_address(api.net(), addr)?;
    let starting_nonce = params
        .get("starting_nonce")
        .and_then(Value::as_u64)
        .and_then(|x| u32::try_from(x).ok())
        .unwrap_or(0);
    let started = std::time::Instant::now();
    let mut blocks = Vec::new();
    let mut height = api.reader().view().block_count;
    for _ in 0..n {
        let (mut block, _, _, difficulty) = template(api, &to, GENERATE_RESERVE_SIZE)?;
        let block_height = api.reader().view().block_count;
        block.header.nonce = starting_nonce;
        loop {
            let hash = api
                .pow_hash(&block, block_height)
                .map_err(|e| (ERROR_INTERNAL, format!("Internal error: PoW: {e}")))?;
            if consensus::pow::check_hash(&hash, difficulty) {
                break;
            }
            if block.header.nonce == u32::MAX || started.elapsed() > GENERATE_TIME_LIMIT {
                return Err((
                    ERROR_INTERNAL,
                    format!(
                        "Internal error: no nonce meeting difficulty {difficulty} found within {} s",
                        GENERATE_TIME_LIMIT.as_secs()
                    ),
                ));
            }
            block.header.nonce += 1;
        }
        let id = submit(api, block.serialize())?;
        blocks.push(hex::encode(id));
        height = block_height;
    }
    Ok(json!({
        "blocks": blocks,
        "height": height,
        "status": STATUS_OK,
        "untrusted": false,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rpc_mining_parses_the_regtest_miner_address_and_refuses_a_bad_checksum() {
        let net = ConsensusNet::Regtest {
            fixed_difficulty: Some(1),
        };
        let a = "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWDm";
        assert!(parse_address(net, a).is_ok());
        let mut bad = a.to_string();
        bad.replace_range(20..21, "Z");
        assert!(parse_address(net, &bad).is_err());
        assert!(parse_address(ConsensusNet::Testnet, a).is_err());
        assert!(parse_address(net, "").is_err());
        assert!(base58_decode("0OIl").is_none());
    }

    #[test]
    fn rpc_mining_miner_tx_pays_one_tagged_output_unlocked_60_blocks_later() {
        let a = parse_address(
            ConsensusNet::Mainnet,
            "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWDm",
        )
        .unwrap();
        let (tx, _) = miner_tx(&a, 700, 35_137_460_695_065, 8).unwrap();
        let p = tx.prefix();
        assert_eq!(p.outputs.len(), 1);
        assert!(p.outputs[0].view_tag.is_some());
        assert_eq!(p.additional_timelock, Timelock::Block(760));
        assert_eq!(p.extra.len(), 1 + 32 + 2 + 8);
        let again = Transaction::read(&mut tx.serialize().as_slice()).unwrap();
        assert_eq!(again, tx);
    }
}
