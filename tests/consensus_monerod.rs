//! Consensus against the real monerod (Debian's 0.18) on loopback: a regtest chain with real
//! wallet transactions is served by monerod, read over its RPC, and verified block by block
//! on the crypto pool. Every block and transaction verifies, and every block id and RandomX
//! PoW hash equals the one monerod reports. Skips with a message when monerod or the shared
//! data is missing.

// A test harness: a failed setup step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::{json, Value};
use xmrd::consensus::pow::{RandomXHasher, RandomXMode};
use xmrd::consensus::{ChainContext, ConsensusNet, MemoryChain};
use xmrd::verify::{BlockChecks, SpanBlock, VerifyPool};

const P2P: u16 = 48310;
const RPC: u16 = 48311;
const DEAD: u16 = 48312;

fn realpeer() -> Option<PathBuf> {
    let dir = xmrd::testdata::shared_subdir("realpeer")?;
    let ok = Command::new("monerod")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIP: monerod not installed (apt-get install monero)");
        return None;
    }
    Some(dir)
}

/// One HTTP/1.0 POST to monerod's RPC; returns the JSON body.
fn post(path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", RPC)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Read the head, then exactly Content-Length bytes (monerod keeps the connection open).
    let mut resp = Vec::new();
    let mut buf = [0u8; 65536];
    let (at, len) = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "monerod closed the connection early");
        resp.extend_from_slice(&buf[..n]);
        if let Some(p) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&resp[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap();
            break (p + 4, len);
        }
    };
    while resp.len() < at + len {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "monerod closed the connection early");
        resp.extend_from_slice(&buf[..n]);
    }
    serde_json::from_slice(&resp[at..at + len]).unwrap()
}

fn json_rpc(method: &str, params: Value) -> Value {
    let v = post(
        "/json_rpc",
        &json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params}),
    );
    v["result"].clone()
}

struct Served {
    rp: PathBuf,
    work: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new(self.rp.join("serve-monerod.sh"))
            .arg("stop")
            .arg(self.work.join("serve"))
            .envs(env())
            .status();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

fn env() -> [(String, String); 3] {
    [
        ("A_P2P".into(), P2P.to_string()),
        ("A_RPC".into(), RPC.to_string()),
        ("DEAD_PORT".into(), DEAD.to_string()),
    ]
}

#[test]
fn regtest_chain_from_monerod_verifies_with_monerods_ids_and_pow() {
    let Some(rp) = realpeer() else { return };
    let work = std::env::temp_dir().join(format!("xmrd-consensus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let chain_dir = work.join("chain");
    assert!(Command::new(rp.join("import-chain.sh"))
        .arg(rp.join("chains/regtest-700b-2500tx.lmdb.xz"))
        .arg(&chain_dir)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let out = Command::new(rp.join("serve-monerod.sh"))
        .arg("start")
        .arg(&chain_dir)
        .arg(work.join("serve"))
        .envs(env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _served = Served {
        rp: rp.clone(),
        work: work.clone(),
    };

    let info = json_rpc("get_info", json!({}));
    let height = info["height"].as_u64().unwrap();
    assert!(height > 100, "{info}");
    let headers = json_rpc(
        "get_block_headers_range",
        json!({"start_height": 0, "end_height": height - 1, "fill_pow_hash": true}),
    );
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
            let b = json_rpc("get_block", json!({"height": h}));
            let hashes: Vec<String> = b["tx_hashes"]
                .as_array()
                .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            let txs = if hashes.is_empty() {
                Vec::new()
            } else {
                let r = post(
                    "/get_transactions",
                    &json!({"txs_hashes": hashes, "decode_as_json": false}),
                );
                let txs = r["txs"].as_array().unwrap();
                assert_eq!(txs.len(), hashes.len());
                txs.iter()
                    .map(|t| hex::decode(t["as_hex"].as_str().unwrap()).unwrap())
                    .collect()
            };
            txs_checked += txs.len();
            span.push(SpanBlock {
                block: hex::decode(b["blob"].as_str().unwrap()).unwrap(),
                txs,
            });
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
