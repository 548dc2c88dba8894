//! The binary (`.bin`) endpoints: requests and answers in portable storage through the
//! wire's epee codec (bounded decode with monerod's `default_http_bin_limits`), with
//! monerod 0.18's field names and types. A body that does not decode is answered 400,
//! as epee's `MAP_URI_AUTO_BIN2` does.

use bytes::Bytes;
use hyper::StatusCode;

use super::data::DataError;
use super::limits::*;
use super::{Answer, Api, STATUS_FAILED, STATUS_OK};
use crate::consensus::ChainContext;
use crate::wire::epee::{self, EpeeObject, Hashes, Limits, U64Array, U64s};
pub use crate::wire::messages::rpc::*;
use crate::wire::messages::{BlockCompleteEntry, BlockTxs, TxBlobEntry};

/// Decodes a `.bin` request body (`None`: not a storage monerod would read).
pub fn decode_request<T: EpeeObject>(body: &[u8]) -> Option<T> {
    epee::from_bytes_with(&Bytes::copy_from_slice(body), Limits::RPC).ok()
}

fn status_of(ok: bool) -> Bytes {
    Bytes::from_static(if ok {
        STATUS_OK.as_bytes()
    } else {
        STATUS_FAILED.as_bytes()
    })
}

/// Routes a binary URI (`None`: not one of them).
pub(super) fn route(api: &Api, path: &str, body: &[u8]) -> Option<Answer> {
    let bad = || Some(Answer::Status(StatusCode::BAD_REQUEST));
    let out = match path {
        "/get_blocks.bin" | "/getblocks.bin" => {
            let Some(req) = decode_request::<GetBlocksRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_blocks(api, &req))
        }
        "/get_blocks_by_height.bin" | "/getblocks_by_height.bin" => {
            let Some(req) = decode_request::<GetBlocksByHeightRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_blocks_by_height(api, &req))
        }
        "/get_hashes.bin" | "/gethashes.bin" => {
            let Some(req) = decode_request::<GetHashesRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_hashes(api, &req))
        }
        "/get_o_indexes.bin" => {
            let Some(req) = decode_request::<GetOIndexesRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_o_indexes(api, &req))
        }
        "/get_outs.bin" => {
            let Some(req) = decode_request::<GetOutsRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_outs(api, &req))
        }
        "/get_output_distribution.bin" => {
            let Some(req) = decode_request::<GetOutputDistributionRequest>(body) else {
                return bad();
            };
            epee::to_bytes(&get_output_distribution(api, &req))
        }
        // monerod 0.18.0 answers this URI in JSON (its wallet asks in JSON); later 0.18
        // releases answer in portable storage. A request in portable storage gets one.
        "/get_transaction_pool_hashes.bin" if body.starts_with(&epee::HEADER) => {
            let hashes = api
                .pool()
                .map(|p| p.iter().map(|t| t.id).collect::<Vec<_>>());
            epee::to_bytes(&PoolHashesResponse {
                status: status_of(hashes.is_some()),
                tx_hashes: Hashes::from_items(hashes.unwrap_or_default().iter()),
                ..Default::default()
            })
        }
        _ => return None,
    };
    Some(Answer::Binary(out))
}

/// `find_blockchain_supplement(qblock_ids, starter_offset)`: the height of the first id
/// of the history we have (the history must end at our genesis).
fn split_height(api: &Api, ids: &Hashes) -> Result<Option<u64>, DataError> {
    let ids: Vec<[u8; 32]> = ids.iter().collect();
    let Some(last) = ids.last() else {
        return Ok(None);
    };
    let genesis = api.reader().block_hashes(&[0])?.pop().flatten();
    if genesis.as_ref() != Some(last) {
        return Ok(None);
    }
    Ok(api
        .reader()
        .block_heights(&ids)?
        .into_iter()
        .flatten()
        .next())
}

fn get_blocks(api: &Api, req: &GetBlocksRequest) -> GetBlocksResponse {
    match try_get_blocks(api, req) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("rpc getblocks.bin: {e}");
            GetBlocksResponse {
                status: status_of(false),
                ..Default::default()
            }
        }
    }
}

/// `requested_info`: blocks and the pool.
pub const BLOCKS_AND_POOL: u8 = 1;
/// `requested_info`: the pool only.
pub const POOL_ONLY: u8 = 2;
/// `pool_info_extent`: every pooled transaction (xmrd keeps no removal history, so it
/// never answers `INCREMENTAL`, which monerod also falls back from).
pub const POOL_INFO_FULL: u8 = 2;

/// The pool part of a `/getblocks.bin` answer (0.18.2's `get_pool_info`, always
/// `FULL`): up to the transaction bound as blobs (pruned if asked), the rest as ids.
fn pool_info(api: &Api, req: &GetBlocksRequest, res: &mut GetBlocksResponse) -> bool {
    let Some(pool) = api.pool() else {
        return false;
    };
    let max = if api.restricted {
        RESTRICTED_TRANSACTIONS_COUNT
    } else {
        GET_BLOCKS_FAST_MAX_TX_COUNT
    };
    let mut remaining = Vec::new();
    for t in pool {
        if res.added_pool_txs.len() >= max {
            remaining.push(t.id);
            continue;
        }
        let blob = if req.prune {
            match monero_oxide::transaction::Transaction::read(&mut t.blob.as_ref()) {
                Ok(tx) => Bytes::from(tx.pruned_with_prunable().0.serialize()),
                Err(_) => continue,
            }
        } else {
            t.blob.clone()
        };
        res.added_pool_txs.push(PoolTxInfo {
            double_spend_seen: false,
            tx_blob: blob,
            tx_hash: t.id,
            ..Default::default()
        });
    }
    res.remaining_added_pool_txids = Hashes::from_items(remaining.iter());
    res.pool_info_extent = Some(POOL_INFO_FULL);
    true
}

fn try_get_blocks(api: &Api, req: &GetBlocksRequest) -> Result<GetBlocksResponse, DataError> {
    let view = api.reader().view();
    let failed = GetBlocksResponse {
        status: status_of(false),
        ..Default::default()
    };
    // A 0.18.2+ client (one that names `requested_info`) gets the daemon's time and, when
    // asked, the pool; a 0.18.0 client the exact 0.18.0 answer.
    let mut head = GetBlocksResponse::default();
    if let Some(info) = req.requested_info {
        head.daemon_time = Some(super::data::now_unix());
        if (info == BLOCKS_AND_POOL || info == POOL_ONLY) && !pool_info(api, req, &mut head) {
            return Ok(GetBlocksResponse {
                status: Bytes::from_static(b"Failed to get pool info"),
                ..Default::default()
            });
        }
        if info == POOL_ONLY {
            return Ok(GetBlocksResponse {
                current_height: view.block_count,
                status: status_of(true),
                ..head
            });
        }
    }
    // The quick no-op: the wallet's newest id is our top.
    if req.block_ids.iter().next() == Some(view.top_hash) {
        return Ok(GetBlocksResponse {
            current_height: view.block_count,
            status: status_of(true),
            ..head
        });
    }
    let max_blocks = match req.max_block_count {
        Some(n) if n > 0 => usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(GET_BLOCKS_FAST_MAX_BLOCK_COUNT),
        _ => GET_BLOCKS_FAST_MAX_BLOCK_COUNT,
    };
    let start = if req.start_height > 0 {
        if req.start_height >= view.block_count {
            return Ok(failed);
        }
        req.start_height
    } else {
        match split_height(api, &req.block_ids)? {
            Some(h) => h,
            None => return Ok(failed),
        }
    };
    let mut blocks = Vec::new();
    let mut output_indices = Vec::new();
    let (mut size, mut txs) = (0usize, 0usize);
    let mut h = start;
    // As `get_blocks_from`: up to the count bound, at least 3 blocks whatever the size,
    // and stop after the block that reaches the transaction bound.
    'outer: while h < view.block_count
        && blocks.len() < max_blocks
        && (size < FIND_BLOCKCHAIN_SUPPLEMENT_MAX_SIZE_BYTES
            || blocks.len() < GET_BLOCKS_MIN_BLOCK_COUNT)
    {
        let batch_end = view
            .block_count
            .min(h + 100)
            .min(h + (max_blocks - blocks.len()) as u64);
        let heights: Vec<u64> = (h..batch_end).collect();
        let stored_blocks = api.reader().blocks(&heights)?;
        // Every transaction of the batch in one read (the miner transactions included:
        // their output indices are answered).
        let mut locs = Vec::new();
        for b in stored_blocks.iter().flatten() {
            locs.extend((0..b.tx_count).map(|index| xmrd_storage::TxLocation {
                height: b.height,
                index,
            }));
        }
        let mut batch_txs = if req.prune {
            api.reader().pruned_txs_at(&locs)?
        } else {
            api.reader().txs_at(&locs)?
        }
        .into_iter();
        for b in stored_blocks {
            let b = b.ok_or_else(|| DataError::Missing(format!("block at {h}")))?;
            let stored: Vec<_> = batch_txs.by_ref().take(b.tx_count as usize).collect();
            let mut tx_blobs = Vec::with_capacity(stored.len().saturating_sub(1));
            let mut indices = Vec::with_capacity(stored.len());
            if req.no_miner_tx {
                indices.push(TxOutputIndices::default());
            }
            for (i, t) in stored.into_iter().enumerate() {
                let t =
                    t.ok_or_else(|| DataError::Missing(format!("tx {i} of block {}", b.height)))?;
                if i == 0 && req.no_miner_tx {
                    continue;
                }
                indices.push(TxOutputIndices {
                    indices: U64Array(t.record.outputs.iter().map(output_index).collect()),
                    ..Default::default()
                });
                if i == 0 {
                    continue; // the miner transaction is inside the block blob
                }
                let mut blob = t.pruned;
                if !req.prune {
                    blob.extend_from_slice(t.prunable.as_deref().unwrap_or_default());
                }
                size += blob.len();
                tx_blobs.push(Bytes::from(blob));
            }
            size += b.blob.len();
            txs += tx_blobs.len();
            let txs_field = if req.prune {
                BlockTxs::Pruned(
                    tx_blobs
                        .into_iter()
                        .map(|blob| TxBlobEntry {
                            blob,
                            prunable_hash: [0; 32],
                            ..Default::default()
                        })
                        .collect(),
                )
            } else {
                BlockTxs::Full(tx_blobs)
            };
            blocks.push(BlockCompleteEntry {
                block: Bytes::from(b.blob),
                pruned: req.prune.then_some(true),
                txs: txs_field,
                ..Default::default()
            });
            output_indices.push(BlockOutputIndices {
                indices,
                ..Default::default()
            });
            h = b.height + 1;
            let enough = blocks.len() >= GET_BLOCKS_MIN_BLOCK_COUNT;
            if enough
                && (txs >= GET_BLOCKS_FAST_MAX_TX_COUNT
                    || size >= FIND_BLOCKCHAIN_SUPPLEMENT_MAX_SIZE_BYTES)
            {
                break 'outer;
            }
        }
    }
    Ok(GetBlocksResponse {
        blocks,
        current_height: view.block_count,
        output_indices,
        start_height: start,
        status: status_of(true),
        ..head
    })
}

fn output_index(o: &xmrd_storage::OutputIndex) -> u64 {
    match o {
        xmrd_storage::OutputIndex::RingCt(i) => *i,
        xmrd_storage::OutputIndex::PreRingCt { index, .. } => *index,
    }
}

fn get_blocks_by_height(api: &Api, req: &GetBlocksByHeightRequest) -> GetBlocksByHeightResponse {
    let failed = GetBlocksByHeightResponse {
        status: status_of(false),
        ..Default::default()
    };
    let limit = if api.restricted {
        RESTRICTED_BLOCK_COUNT
    } else {
        RESTRICTED_BLOCK_COUNT * UNRESTRICTED_FACTOR
    };
    if req.heights.0.len() > limit {
        return GetBlocksByHeightResponse {
            status: Bytes::from_static(b"Too many blocks requested in restricted mode"),
            ..Default::default()
        };
    }
    let count = api.reader().view().block_count;
    if req.heights.0.iter().any(|h| *h >= count) {
        return GetBlocksByHeightResponse {
            status: Bytes::from_static(b"Error: requested block at height > blockchain height"),
            ..Default::default()
        };
    }
    let Ok(stored) = api.reader().blocks(&req.heights.0) else {
        return failed;
    };
    let mut blocks = Vec::with_capacity(stored.len());
    for b in stored {
        let Some(b) = b else { return failed };
        let Ok(txs) = api.reader().block_txs(b.height, b.tx_count) else {
            return failed;
        };
        let Some(full) = txs
            .into_iter()
            .skip(1)
            .map(|t| {
                t.map(|t| {
                    let mut blob = t.pruned;
                    blob.extend_from_slice(t.prunable.as_deref().unwrap_or_default());
                    Bytes::from(blob)
                })
            })
            .collect::<Option<Vec<_>>>()
        else {
            return failed;
        };
        blocks.push(BlockCompleteEntry {
            block: Bytes::from(b.blob),
            txs: BlockTxs::Full(full),
            ..Default::default()
        });
    }
    GetBlocksByHeightResponse {
        blocks,
        status: status_of(true),
        ..Default::default()
    }
}

fn get_hashes(api: &Api, req: &GetHashesRequest) -> GetHashesResponse {
    let failed = GetHashesResponse {
        status: status_of(false),
        ..Default::default()
    };
    let Ok(Some(start)) = split_height(api, &req.block_ids) else {
        return failed;
    };
    let count = api.reader().view().block_count;
    let end = count.min(start.saturating_add(BLOCKS_IDS_SYNCHRONIZING_MAX_COUNT));
    let heights: Vec<u64> = (start..end).collect();
    let Ok(hashes) = api.reader().block_hashes(&heights) else {
        return failed;
    };
    let Some(hashes) = hashes.into_iter().collect::<Option<Vec<_>>>() else {
        return failed;
    };
    GetHashesResponse {
        current_height: count,
        m_block_ids: Hashes::from_items(hashes.iter()),
        start_height: start,
        status: status_of(true),
        ..Default::default()
    }
}

fn get_o_indexes(api: &Api, req: &GetOIndexesRequest) -> GetOIndexesResponse {
    match api.reader().txs(&[req.txid]) {
        Ok(mut v) => match v.pop().flatten() {
            Some(t) => GetOIndexesResponse {
                o_indexes: U64Array(t.record.outputs.iter().map(output_index).collect()),
                status: status_of(true),
                ..Default::default()
            },
            None => GetOIndexesResponse {
                status: status_of(false),
                ..Default::default()
            },
        },
        Err(_) => GetOIndexesResponse {
            status: status_of(false),
            ..Default::default()
        },
    }
}

/// One output as `get_outs` answers it.
pub(super) struct Out {
    pub(super) key: [u8; 32],
    pub(super) mask: [u8; 32],
    pub(super) unlocked: bool,
    pub(super) height: u64,
    pub(super) txid: [u8; 32],
}

/// `Blockchain::get_outs`: each (amount, index) output's key, commitment, unlock state,
/// height and (with `get_txid`) transaction id. `Err`: monerod's status string.
pub(super) fn read_outs(
    api: &Api,
    wanted: &[(u64, u64)],
    get_txid: bool,
) -> Result<Vec<Out>, &'static str> {
    let limit = if api.restricted {
        MAX_RESTRICTED_GLOBAL_FAKE_OUTS_COUNT
    } else {
        MAX_RESTRICTED_GLOBAL_FAKE_OUTS_COUNT * UNRESTRICTED_FACTOR
    };
    if wanted.len() > limit {
        return Err("Too many outs requested");
    }
    let rct: Vec<u64> = wanted
        .iter()
        .filter(|(a, _)| *a == 0)
        .map(|(_, i)| *i)
        .collect();
    let pre: Vec<(u64, u64)> = wanted.iter().filter(|(a, _)| *a != 0).copied().collect();
    let mut rct_recs = api
        .reader()
        .rct_outputs(&rct)
        .map_err(|_| STATUS_FAILED)?
        .into_iter();
    let mut pre_recs = api
        .reader()
        .pre_rct_outputs(&pre)
        .map_err(|_| STATUS_FAILED)?
        .into_iter();
    let mut recs = Vec::with_capacity(wanted.len());
    for (a, _) in wanted {
        let r = if *a == 0 {
            rct_recs.next()
        } else {
            pre_recs.next()
        };
        recs.push(r.flatten().ok_or(STATUS_FAILED)?);
    }
    let txids: Vec<[u8; 32]> = if get_txid {
        let locs: Vec<_> = recs.iter().map(|r| r.tx).collect();
        api.reader()
            .txs_at(&locs)
            .map_err(|_| STATUS_FAILED)?
            .into_iter()
            .map(|t| t.map(|t| t.record.hash).ok_or(STATUS_FAILED))
            .collect::<Result<_, _>>()?
    } else {
        vec![[0; 32]; recs.len()]
    };
    let ctx = api.chain_ctx().map_err(|_| STATUS_FAILED)?;
    let chain_height = ctx.height();
    let hf = api.net().hard_fork_version(chain_height);
    let adjusted = api.adjusted_time(&ctx);
    Ok(recs
        .iter()
        .zip(txids)
        .map(|(r, txid)| Out {
            key: r.key,
            mask: r.commitment,
            unlocked: crate::consensus::tx::spendtime_unlocked(
                r.unlock_time,
                chain_height,
                adjusted,
                hf,
            ),
            height: r.tx.height,
            txid,
        })
        .collect())
}

fn get_outs(api: &Api, req: &GetOutsRequest) -> GetOutsResponse {
    let wanted: Vec<(u64, u64)> = req.outputs.iter().map(|o| (o.amount, o.index)).collect();
    match read_outs(api, &wanted, req.get_txid) {
        Ok(outs) => GetOutsResponse {
            outs: outs
                .into_iter()
                .map(|o| OutKey {
                    height: o.height,
                    key: o.key,
                    mask: o.mask,
                    txid: o.txid,
                    unlocked: o.unlocked,
                    ..Default::default()
                })
                .collect(),
            status: status_of(true),
            ..Default::default()
        },
        Err(s) => GetOutsResponse {
            status: Bytes::from_static(s.as_bytes()),
            ..Default::default()
        },
    }
}

/// `compress_integer_array`: the values as concatenated varints.
#[allow(clippy::cast_possible_truncation)] // masked to 7 bits first
pub fn compress_integer_array(v: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 2);
    for &x in v {
        let mut x = x;
        while x >= 0x80 {
            out.push(((x & 0x7f) as u8) | 0x80);
            x >>= 7;
        }
        out.push((x & 0x7f) as u8);
    }
    out
}

fn get_output_distribution(
    api: &Api,
    req: &GetOutputDistributionRequest,
) -> GetOutputDistributionResponse {
    let failed = GetOutputDistributionResponse {
        status: status_of(false),
        ..Default::default()
    };
    if api.restricted && req.amounts.0 != [0] {
        return GetOutputDistributionResponse {
            status: Bytes::from_static(
                b"Restricted RPC can only get output distribution for rct outputs. Use your own node.",
            ),
            ..Default::default()
        };
    }
    let mut out = Vec::new();
    for &amount in &req.amounts.0 {
        let Ok(Some((start, dist, base))) =
            api.output_distribution(amount, req.from_height, req.to_height, req.cumulative)
        else {
            return failed;
        };
        let mut d = Distribution {
            amount,
            base,
            binary: true,
            compress: req.compress,
            start_height: start,
            ..Default::default()
        };
        if req.compress {
            d.compressed_data = Some(Bytes::from(compress_integer_array(&dist)));
        } else {
            d.distribution = Some(U64s::from_items(dist.iter()));
        }
        out.push(d);
    }
    GetOutputDistributionResponse {
        distributions: out,
        status: status_of(true),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rpc_bin_compressed_distribution_is_concatenated_varints() {
        assert_eq!(
            compress_integer_array(&[0, 1, 127, 128, 300]),
            vec![0, 1, 127, 0x80, 1, 0xac, 2]
        );
    }

    #[test]
    fn rpc_bin_get_blocks_request_decodes_and_bad_bodies_are_refused() {
        let req = GetBlocksRequest {
            block_ids: Hashes::from_items([[7u8; 32], [0u8; 32]].iter()),
            prune: true,
            start_height: 5,
            ..Default::default()
        };
        let bytes = epee::to_bytes(&req);
        let back: GetBlocksRequest = decode_request(&bytes).unwrap();
        assert_eq!(back.block_ids.len(), 2);
        assert!(back.prune && !back.no_miner_tx);
        assert_eq!(back.start_height, 5);
        assert!(decode_request::<GetBlocksRequest>(b"").is_none());
        assert!(decode_request::<GetBlocksRequest>(&bytes[..bytes.len() - 1]).is_none());
    }

    #[test]
    fn rpc_bin_output_indices_are_arrays_of_u64() {
        let o = BlockOutputIndices {
            indices: vec![TxOutputIndices {
                indices: U64Array(vec![1, 2]),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut w = epee::Writer::with_capacity(64);
        o.write_section(&mut w);
        let v = w.into_vec();
        // 1 field, "indices", array of objects, 1 element, 1 field, "indices", array of u64
        assert!(v
            .windows(2)
            .any(|p| p == [epee::TYPE_U64 | epee::FLAG_ARRAY, 8]));
    }
}
