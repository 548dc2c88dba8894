//! Consensus against the real monerod (Debian's 0.18) on loopback: a regtest chain with real
//! wallet transactions is served by monerod, read over its RPC, and verified block by block
//! on the crypto pool. Every block and transaction verifies, and every block id and RandomX
//! PoW hash equals the one monerod reports. Skips with a message when monerod or the shared
//! data is missing.

// A test harness: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use serde_json::json;
use xmrd::consensus::pow::{RandomXHasher, RandomXMode};
use xmrd::consensus::{ChainContext, ConsensusNet, MemoryChain};
use xmrd::testdata::realpeer::{json_rpc, post, realpeer, ServedMonerod};
use xmrd::verify::{BlockChecks, SpanBlock, VerifyPool};

const PORTS: (u16, u16, u16) = (22310, 22311, 22312);
const RPC: u16 = PORTS.1;

#[test]
fn regtest_chain_from_monerod_verifies_with_monerods_ids_and_pow() {
    let Some(rp) = realpeer() else { return };
    let work = std::env::temp_dir().join(format!("xmrd-consensus-{}", std::process::id()));
    let _served = ServedMonerod::start(
        &rp,
        &rp.join("chains/regtest-700b-2500tx.lmdb.xz"),
        &work,
        PORTS,
        None,
    )
    .unwrap();

    let info = json_rpc(RPC, "get_info", json!({})).unwrap();
    let height = info["height"].as_u64().unwrap();
    assert!(height > 100, "{info}");
    let headers = json_rpc(
        RPC,
        "get_block_headers_range",
        json!({"start_height": 0, "end_height": height - 1, "fill_pow_hash": true}),
    )
    .unwrap();
    let headers = headers["headers"].as_array().unwrap().clone();
    assert_eq!(headers.len() as u64, height);

    let pool =
        Arc::new(VerifyPool::new(0, Arc::new(RandomXHasher::new(RandomXMode::Light))).unwrap());
    let mut chain = MemoryChain::new(ConsensusNet::Regtest {
        fixed_difficulty: Some(1),
    });
    let mut txs_checked = 0usize;
    for start in (0..height).step_by(100) {
        let end = (start + 100).min(height);
        let mut span = Vec::new();
        for h in start..end {
            let b = json_rpc(RPC, "get_block", json!({"height": h})).unwrap();
            let hashes: Vec<String> = b["tx_hashes"]
                .as_array()
                .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let txs = if hashes.is_empty() {
                Vec::new()
            } else {
                let r = post(
                    RPC,
                    "/get_transactions",
                    &json!({"txs_hashes": hashes, "decode_as_json": false}),
                )
                .unwrap();
                let txs = r["txs"].as_array().unwrap();
                assert_eq!(txs.len(), hashes.len());
                txs.iter()
                    .map(|t| hex::decode(t["as_hex"].as_str().unwrap()).unwrap())
                    .collect()
            };
            txs_checked += txs.len();
            span.push(SpanBlock::new(
                hex::decode(b["blob"].as_str().unwrap()).unwrap(),
                txs,
            ));
        }
        let verdict = pool.verify_span_blocking(&chain, span, BlockChecks::now());
        for (i, v) in verdict.into_iter().enumerate() {
            let h = start + i as u64;
            let v = v.unwrap_or_else(|e| panic!("block {h} refused: {e}"));
            let hdr = &headers[usize::try_from(h).unwrap()];
            assert_eq!(
                hex::encode(v.effects.hash),
                hdr["hash"].as_str().unwrap(),
                "id at {h}"
            );
            if h > 0 {
                assert_eq!(
                    hex::encode(v.pow_hash),
                    hdr["pow_hash"].as_str().unwrap(),
                    "PoW hash at {h}"
                );
            }
            assert_eq!(
                v.effects.weight,
                hdr["block_weight"].as_u64().unwrap(),
                "weight at {h}"
            );
            chain.apply(v.effects);
        }
    }
    assert_eq!(chain.height(), height);
    assert_eq!(
        hex::encode(chain.top_hash().unwrap()),
        info["top_block_hash"].as_str().unwrap()
    );
    assert!(txs_checked >= 2000, "only {txs_checked} transactions");
}
