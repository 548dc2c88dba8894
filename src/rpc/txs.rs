//! The transaction calls: `/gettransactions`, `/is_key_image_spent`,
//! `/sendrawtransaction`, the pool views and `/get_outs`, answered from the store and
//! the sync thread's pool with monerod 0.18's fields and status strings.

use serde_json::{json, Map, Value};

use super::calls::{PooledTx, RpcCall, SubmitError};
use super::data::now_unix;
use super::limits::*;
use super::{Api, STATUS_BUSY, STATUS_FAILED, STATUS_OK};
use crate::consensus::TxError;

fn status(s: &str) -> Value {
    json!({"credits": 0, "status": s, "top_hash": "", "untrusted": false})
}

pub(super) fn get_transactions(api: &Api, req: &Value) -> Value {
    let hashes: Vec<&str> = match req.get("txs_hashes") {
        None => Vec::new(),
        Some(Value::Array(a)) => match a.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(v) => v,
            None => return status(STATUS_FAILED),
        },
        Some(_) => return status(STATUS_FAILED),
    };
    let decode_as_json = req
        .get("decode_as_json")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let prune = req.get("prune").and_then(Value::as_bool).unwrap_or(false);
    let split = req.get("split").and_then(Value::as_bool).unwrap_or(false);
    let limit = if api.restricted {
        RESTRICTED_TRANSACTIONS_COUNT
    } else {
        RESTRICTED_TRANSACTIONS_COUNT * UNRESTRICTED_FACTOR
    };
    if hashes.len() > limit {
        return status("Too many transactions requested in restricted mode");
    }
    let mut ids = Vec::with_capacity(hashes.len());
    for h in &hashes {
        let Ok(b) = hex::decode(h) else {
            return status("Failed to parse hex representation of transaction hash");
        };
        let Ok(id) = <[u8; 32]>::try_from(b.as_slice()) else {
            return status("Failed, size of data mismatch");
        };
        ids.push(id);
    }
    let Ok(stored) = api.reader().txs(&ids) else {
        return status(STATUS_FAILED);
    };
    let count = api.reader().view().block_count;
    let need_pool = stored.iter().any(Option::is_none);
    let pool: Vec<PooledTx> = if need_pool {
        api.pool().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut txs = Vec::new();
    let mut as_hex_list = Vec::new();
    let mut as_json_list = Vec::new();
    let mut missed = Vec::new();
    for ((hex_id, id), s) in hashes.iter().zip(&ids).zip(stored) {
        let (pruned, prunable, in_pool) = match (&s, pool.iter().find(|p| p.id == *id)) {
            (Some(t), _) => (
                t.pruned.clone(),
                t.prunable.clone().unwrap_or_default(),
                None,
            ),
            (None, Some(p)) => {
                let Some((pr, rest)) = split_pool_blob(&p.blob) else {
                    return status("Failed to parse and validate tx from blob");
                };
                (pr, rest, Some(p))
            }
            (None, None) => {
                missed.push(Value::String((*hex_id).to_string()));
                continue;
            }
        };
        let mut full = pruned.clone();
        full.extend_from_slice(&prunable);
        let prunable_hash = prunable_hash(&full, &prunable);
        let mut e = Map::new();
        e.insert("tx_hash".into(), json!(hex_id));
        e.insert("prunable_hash".into(), json!(hex::encode(prunable_hash)));
        e.insert("as_json".into(), json!(""));
        e.insert("double_spend_seen".into(), json!(false));
        e.insert("in_pool".into(), json!(in_pool.is_some()));
        let split_form = split || prune || prunable.is_empty();
        if split_form {
            e.insert("as_hex".into(), json!(""));
            e.insert("pruned_as_hex".into(), json!(hex::encode(&pruned)));
            e.insert(
                "prunable_as_hex".into(),
                json!(if prune {
                    String::new()
                } else {
                    hex::encode(&prunable)
                }),
            );
        } else {
            e.insert("as_hex".into(), json!(hex::encode(&full)));
            e.insert("pruned_as_hex".into(), json!(""));
            e.insert("prunable_as_hex".into(), json!(""));
        }
        if decode_as_json {
            let pruned_form = split_form && (prune || prunable.is_empty());
            match tx_as_json(if pruned_form { &pruned } else { &full }, pruned_form) {
                Ok(j) => {
                    as_json_list.push(json!(j));
                    e.insert("as_json".into(), json!(j));
                }
                Err(failure) => {
                    // monerod answers with what it has gathered so far: this entry as
                    // far as it got (default figures, not in the pool) and the lists.
                    e.insert("block_height".into(), json!(0));
                    e.insert("confirmations".into(), json!(0));
                    e.insert("block_timestamp".into(), json!(0));
                    txs.push(Value::Object(e));
                    return json!({
                        "credits": 0,
                        "status": failure,
                        "top_hash": "",
                        "txs": txs,
                        "txs_as_hex": as_hex_list,
                        "txs_as_json": as_json_list,
                        "untrusted": false,
                    });
                }
            }
        }
        as_hex_list.push(e.get("as_hex").cloned().unwrap_or(json!("")));
        match (in_pool, &s) {
            (Some(p), _) => {
                e.insert("relayed".into(), json!(true));
                e.insert(
                    "received_timestamp".into(),
                    json!(now_unix().saturating_sub(p.age.as_secs())),
                );
            }
            (None, Some(t)) => {
                let height = t.location.height;
                let ts = api
                    .reader()
                    .metas(&[height])
                    .ok()
                    .and_then(|mut m| m.pop().flatten())
                    .map_or(0, |m| m.timestamp);
                let indices: Vec<u64> = t
                    .record
                    .outputs
                    .iter()
                    .map(|o| match o {
                        xmrd_storage::OutputIndex::RingCt(i) => *i,
                        xmrd_storage::OutputIndex::PreRingCt { index, .. } => *index,
                    })
                    .collect();
                e.insert("block_height".into(), json!(height));
                e.insert("block_timestamp".into(), json!(ts));
                e.insert("confirmations".into(), json!(count.saturating_sub(height)));
                e.insert("output_indices".into(), json!(indices));
            }
            (None, None) => {}
        }
        txs.push(Value::Object(e));
    }
    json!({
        "credits": 0,
        "missed_tx": missed,
        "status": STATUS_OK,
        "top_hash": "",
        "txs": txs,
        "txs_as_hex": as_hex_list,
        "txs_as_json": as_json_list,
        "untrusted": false,
    })
}

/// `as_json` as monerod's `get_transactions` writes it: `obj_to_json_str` of the
/// transaction parsed from `blob`, a `pruned_transaction` (prefix and RingCT base) if
/// `pruned`, else the full `transaction`; the status monerod answers if it does not
/// parse.
fn tx_as_json(blob: &[u8], pruned: bool) -> Result<String, &'static str> {
    use monero_oxide::transaction::{NotPruned, Pruned, Transaction};
    if pruned {
        Transaction::<Pruned>::read(&mut &blob[..])
            .map(|t| super::archive_json::pruned_transaction(&t).to_json_str())
            .map_err(|_| "Failed to parse and validate pruned tx from blob")
    } else {
        Transaction::<NotPruned>::read(&mut &blob[..])
            .ok()
            .and_then(|t| super::archive_json::transaction(&t))
            .map(|a| a.to_json_str())
            .ok_or("Failed to parse and validate tx from blob")
    }
}

/// `get_transaction_prunable_hash` as monerod stores it: the Keccak of the prunable part
/// for v2 (of nothing, for a miner transaction), zeros for v1.
fn prunable_hash(full: &[u8], prunable: &[u8]) -> [u8; 32] {
    /// Keccak-256 of the empty string.
    const KECCAK_EMPTY: [u8; 32] = [
        0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c, 0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03,
        0xc0, 0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b, 0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85,
        0xa4, 0x70,
    ];
    match monero_oxide::transaction::Transaction::read(&mut &full[..]) {
        Ok(t) if t.version() == 2 && prunable.is_empty() => KECCAK_EMPTY,
        Ok(t) => t.prunable_hash().unwrap_or([0; 32]),
        Err(_) => [0; 32],
    }
}

/// A pooled blob split as monerod's `get_transactions` splits it: the pruned part
/// (prefix and RingCT base) and the rest.
fn split_pool_blob(blob: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let tx = monero_oxide::transaction::Transaction::read(&mut &blob[..]).ok()?;
    let (pruned, _) = tx.pruned_with_prunable();
    let pruned = pruned.serialize();
    let rest = blob.get(pruned.len()..)?.to_vec();
    Some((pruned, rest))
}

pub(super) fn is_key_image_spent(api: &Api, req: &Value) -> Value {
    let images: Vec<&str> = match req.get("key_images") {
        None => Vec::new(),
        Some(Value::Array(a)) => match a.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(v) => v,
            None => return status(STATUS_FAILED),
        },
        Some(_) => return status(STATUS_FAILED),
    };
    let limit = if api.restricted {
        RESTRICTED_SPENT_KEY_IMAGES_COUNT
    } else {
        RESTRICTED_SPENT_KEY_IMAGES_COUNT * UNRESTRICTED_FACTOR
    };
    if images.len() > limit {
        return status("Too many key images queried in restricted mode");
    }
    let mut kis = Vec::with_capacity(images.len());
    for h in &images {
        let Ok(b) = hex::decode(h) else {
            return status("Failed to parse hex representation of key image");
        };
        let Ok(k) = <[u8; 32]>::try_from(b.as_slice()) else {
            return status("Failed, size of data mismatch");
        };
        kis.push(k);
    }
    let Ok(spent) = api.reader().spent_key_images(&kis) else {
        return status(STATUS_FAILED);
    };
    let pool = if spent.iter().any(Option::is_none) {
        match api.pool() {
            Some(p) => p,
            None => return status(STATUS_FAILED),
        }
    } else {
        Vec::new()
    };
    let statuses: Vec<u8> = kis
        .iter()
        .zip(spent)
        .map(|(k, s)| {
            if s.is_some() {
                1
            } else if pool.iter().any(|p| p.key_images.contains(k)) {
                2
            } else {
                0
            }
        })
        .collect();
    json!({
        "credits": 0,
        "spent_status": statuses,
        "status": STATUS_OK,
        "top_hash": "",
        "untrusted": false,
    })
}

/// Fewest ring members in a transaction before [`tx_sanity_check`] looks at its rings
/// (monerod's `n_indices <= 10`: nothing checked).
const SANITY_MIN_RING_MEMBERS: usize = 11;
/// Fewest spendable RingCT outputs on the chain before the rings are judged (monerod:
/// 10,000).
const SANITY_MIN_RCT_OUTPUTS: u64 = 10_000;

/// monerod's `tx_sanity_check`, a wallet-protecting check on a transaction about to be
/// sent: it is not a coinbase, and when it has more than 10 RingCT ring members
/// and the chain has at least 10,000 spendable RingCT outputs, at least 80 % of its ring
/// members are distinct and their median index is in the newest 40 % of those outputs.
pub fn tx_sanity_check(blob: &[u8], rct_outs_available: u64) -> bool {
    use monero_oxide::transaction::{Input, NotPruned, Transaction};
    // A blob that does not parse is left to verification, which refuses it with no
    // reason: monerod's lenient binary reader lets truncated blobs through this check
    // (they are refused later, the answer monerod 0.18.0 gives), and xmrd's strict parser
    // cannot tell which truncations monerod's would have accepted.
    let Ok(tx) = Transaction::<NotPruned>::read(&mut &blob[..]) else {
        return true;
    };
    let inputs = &tx.prefix().inputs;
    if inputs.iter().any(|i| matches!(i, Input::Gen(_))) {
        return false;
    }
    let mut indices = std::collections::BTreeSet::new();
    let mut n_indices = 0usize;
    for i in inputs {
        if let Input::ToKey {
            amount: None | Some(0),
            key_offsets,
            ..
        } = i
        {
            let mut absolute = 0u64;
            for o in key_offsets {
                absolute = absolute.wrapping_add(*o);
                indices.insert(absolute);
            }
            n_indices += key_offsets.len();
        }
    }
    rings_look_sane(
        &indices.into_iter().collect::<Vec<_>>(),
        n_indices,
        rct_outs_available,
    )
}

/// The ring half of [`tx_sanity_check`]: `unique` are the distinct absolute indices,
/// ascending, `n_indices` all ring members counted.
fn rings_look_sane(unique: &[u64], n_indices: usize, rct_outs_available: u64) -> bool {
    if n_indices < SANITY_MIN_RING_MEMBERS || rct_outs_available < SANITY_MIN_RCT_OUTPUTS {
        return true;
    }
    if unique.len() < n_indices * 8 / 10 {
        return false;
    }
    // epee's `median`: the middle one, or the mean of the two middle ones.
    let n = unique.len();
    let median = match (n.checked_sub(1).map(|_| n % 2), unique.get(n / 2)) {
        (Some(1), Some(m)) => *m,
        (Some(_), Some(hi)) => {
            let lo = n
                .checked_sub(1)
                .and_then(|_| unique.get(n / 2 - 1))
                .copied()
                .unwrap_or(*hi);
            lo / 2 + hi / 2 + (lo % 2 + hi % 2) / 2
        }
        _ => 0,
    };
    u128::from(median) >= u128::from(rct_outs_available) * 6 / 10
}

pub(super) fn send_raw_transaction(api: &Api, req: &Value) -> Value {
    let mut res = json!({
        "credits": 0,
        "double_spend": false,
        "fee_too_low": false,
        "invalid_input": false,
        "invalid_output": false,
        "low_mixin": false,
        "not_relayed": false,
        "overspend": false,
        "reason": "",
        "sanity_check_failed": false,
        "status": STATUS_FAILED,
        "too_big": false,
        "too_few_outputs": false,
        "top_hash": "",
        "untrusted": false,
    });
    let Some(blob) = req
        .get("tx_as_hex")
        .and_then(Value::as_str)
        .and_then(|h| hex::decode(h).ok())
    else {
        return res;
    };
    // monerod's `do_sanity_checks` (on unless the client says no): before any other check,
    // so a blob that does not parse fails it too.
    let sanity = req
        .get("do_sanity_checks")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if sanity && !tx_sanity_check(&blob, api.mature_rct_outputs().unwrap_or(0)) {
        res["reason"] = json!("Sanity check failed");
        res["sanity_check_failed"] = json!(true);
        return res;
    }
    let relay = !req
        .get("do_not_relay")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let sent = api
        .shared
        .chain
        .sync
        .send(crate::node::chain_sync::SyncInput::Rpc(RpcCall::SubmitTx {
            blob: bytes::Bytes::from(blob),
            relay,
            reply: tx,
        }));
    let answer = match sent {
        Ok(()) => rx.recv_timeout(SYNC_THREAD_REPLY_TIMEOUT).ok(),
        Err(_) => None,
    };
    let mut reasons: Vec<&str> = Vec::new();
    let mut flag = |res: &mut Value, name: &str, reason: &'static str| {
        res[name] = json!(true);
        reasons.push(reason);
    };
    match answer {
        None | Some(Err(SubmitError::Busy)) => {
            res["status"] = json!(STATUS_BUSY);
            return res;
        }
        Some(Ok(_)) => {
            res["status"] = json!(STATUS_OK);
            if !relay {
                res["reason"] = json!("Not relayed");
                res["not_relayed"] = json!(true);
            }
            return res;
        }
        Some(Err(SubmitError::DoubleSpendInPool)) => {
            flag(&mut res, "double_spend", "double spend");
        }
        Some(Err(SubmitError::PoolFull)) => {}
        Some(Err(SubmitError::Rule(e))) => match e {
            TxError::KeyImageSpent(_) | TxError::DuplicateKeyImageInTx => {
                flag(&mut res, "double_spend", "double spend")
            }
            TxError::RingSize { .. } => flag(&mut res, "low_mixin", "bad ring size"),
            TxError::FeeTooLow { .. } => flag(&mut res, "fee_too_low", "fee too low"),
            TxError::TooBig(_) | TxError::Overweight { .. } | TxError::ExtraTooBig(_) => {
                flag(&mut res, "too_big", "too big")
            }
            TxError::TooFewOutputs => flag(&mut res, "too_few_outputs", "too few outputs"),
            TxError::Unbalanced | TxError::Overflow | TxError::InputsNotAboveOutputs { .. } => {
                flag(&mut res, "overspend", "overspend")
            }
            TxError::OutputKey(_)
            | TxError::OutputType(_)
            | TxError::OutputAmount(_)
            | TxError::NotDecomposedAmount(_)
            | TxError::TooManyOutputs(_)
            | TxError::RangeProof => flag(&mut res, "invalid_output", "invalid output"),
            TxError::InputType(_)
            | TxError::KeyImageDomain(_)
            | TxError::DuplicateRingMember(_)
            | TxError::RingMemberMissing(_)
            | TxError::RingMemberLocked(_)
            | TxError::RingMemberTooYoung(_)
            | TxError::UnsortedInputs
            | TxError::Clsag(_)
            | TxError::RingSignature(_)
            | TxError::NoInputs => flag(&mut res, "invalid_input", "invalid input"),
            _ => {}
        },
    }
    res["reason"] = json!(reasons.join(", "));
    res
}

pub(super) fn get_transaction_pool_hashes(api: &Api, _: &Value) -> Value {
    let Some(pool) = api.pool() else {
        return status(STATUS_FAILED);
    };
    let hashes: Vec<String> = pool.iter().map(|p| hex::encode(p.id)).collect();
    json!({"credits": 0, "status": STATUS_OK, "top_hash": "", "tx_hashes": hashes, "untrusted": false})
}

pub(super) fn get_transaction_pool(api: &Api, _: &Value) -> Value {
    let Some(pool) = api.pool() else {
        return status(STATUS_FAILED);
    };
    let now = now_unix();
    let mut transactions = Vec::new();
    let mut spent: Vec<Value> = Vec::new();
    for p in &pool {
        let id = hex::encode(p.id);
        transactions.push(json!({
            "blob_size": p.blob.len(),
            "do_not_relay": false,
            "double_spend_seen": false,
            "fee": p.fee,
            "id_hash": id,
            "kept_by_block": false,
            "last_failed_height": 0,
            "last_failed_id_hash": hex::encode([0u8; 32]),
            "last_relayed_time": now.saturating_sub(p.age.as_secs()),
            "max_used_block_height": 0,
            "max_used_block_id_hash": hex::encode([0u8; 32]),
            "receive_time": now.saturating_sub(p.age.as_secs()),
            "relayed": true,
            "tx_blob": hex::encode(&p.blob),
            "tx_json": tx_as_json(&p.blob, false).unwrap_or_default(),
            "weight": p.weight,
        }));
        for k in &p.key_images {
            spent.push(json!({"id_hash": hex::encode(k), "txs_hashes": [id.clone()]}));
        }
    }
    json!({
        "credits": 0,
        "spent_key_images": spent,
        "status": STATUS_OK,
        "top_hash": "",
        "transactions": transactions,
        "untrusted": false,
    })
}

pub(super) fn get_outs(api: &Api, req: &Value) -> Value {
    let Some(list) = req
        .get("outputs")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| req.get("outputs").is_none().then(Vec::new))
    else {
        return status(STATUS_FAILED);
    };
    let get_txid = req
        .get("get_txid")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut wanted = Vec::with_capacity(list.len());
    for o in &list {
        let (Some(amount), Some(index)) = (
            o.get("amount").and_then(Value::as_u64),
            o.get("index").and_then(Value::as_u64),
        ) else {
            return status(STATUS_FAILED);
        };
        wanted.push((amount, index));
    }
    match super::bin::read_outs(api, &wanted, get_txid) {
        Ok(outs) => {
            let outs: Vec<Value> = outs
                .iter()
                .map(|o| {
                    json!({
                        "height": o.height,
                        "key": hex::encode(o.key),
                        "mask": hex::encode(o.mask),
                        "txid": if get_txid { hex::encode(o.txid) } else { String::new() },
                        "unlocked": o.unlocked,
                    })
                })
                .collect();
            json!({"credits": 0, "outs": outs, "status": STATUS_OK, "top_hash": "", "untrusted": false})
        }
        Err(s) => status(s),
    }
}

#[cfg(test)]
mod sanity_tests {
    use super::*;

    #[test]
    fn rpc_sanity_check_judges_rings_only_when_there_is_enough_to_judge() {
        // Ten members or a young chain: not judged.
        assert!(rings_look_sane(&[1], 10, 1_000_000));
        assert!(rings_look_sane(&[1], 16, 9_999));
        // Sixteen members, sixteen distinct, recent: fine.
        let recent: Vec<u64> = (90_000..90_016).collect();
        assert!(rings_look_sane(&recent, 16, 100_000));
        // Mostly repeated members.
        assert!(!rings_look_sane(&recent[..11], 16, 100_000));
        assert!(
            rings_look_sane(&recent[..12], 16, 100_000),
            "12 of 16 is the bound"
        );
        // Old members: the median below 60 % of the outputs.
        let old: Vec<u64> = (1_000..1_016).collect();
        assert!(!rings_look_sane(&old, 16, 100_000));
        // The median of an even count is the mean of the middle two: (59_999 + 60_001) / 2.
        let mut edge: Vec<u64> = (0..7).collect();
        edge.push(59_999);
        edge.extend(60_001..60_009);
        assert_eq!(edge.len(), 16);
        assert!(rings_look_sane(&edge, 16, 100_000));
        edge[7] = 59_997;
        assert!(!rings_look_sane(&edge, 16, 100_000), "median 59,999");
        // Garbage is left to verification.
        assert!(tx_sanity_check(b"\x02\x00", 0));
    }
}
