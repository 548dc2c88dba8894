//! Block propagation through xmrd against the real monerod (Debian's 0.18) on loopback,
//! regtest: monerods A and B serve the same chain and are connected only to xmrd
//! (A – xmrd – B). Blocks mined on A reach B through xmrd's relay: xmrd verifies each
//! fluffy block (2008) from A, relays it to B before committing it, and B adds it. Skips
//! with a message when monerod or the shared data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use serde_json::json;
use xmrd::testdata::realpeer::{
    json_rpc, realpeer, spawn_xmrd, store_top, temp_dir, wait_for, ServedMonerod,
};

const A: (u16, u16, u16) = (48370, 48371, 48372);
const B: (u16, u16, u16) = (48373, 48374, 48375);
const X_P2P: u16 = 48376;
/// Blocks mined on A, one at a time.
const BLOCKS: u64 = 3;

/// Whether monerod on `rpc` has a connection in state `normal` (it relays new blocks
/// only to such peers; its only peer here is xmrd).
fn normal_peer(rpc: u16) -> Option<()> {
    let c = json_rpc(rpc, "get_connections", json!({}))?;
    c["connections"]
        .as_array()?
        .iter()
        .any(|c| c["state"].as_str() == Some("normal"))
        .then_some(())
}

#[test]
fn blocks_mined_on_a_reach_b_through_xmrd() {
    let Some(rp) = realpeer() else { return };
    let work = temp_dir("relay").unwrap();
    let chain = rp.join("chains/regtest-700b-2500tx.lmdb.xz");
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rp.join("chains/regtest-700b-2500tx.json")).unwrap(),
    )
    .unwrap();
    let miner = info["miner_address"].as_str().unwrap().to_string();
    let a = ServedMonerod::start(&rp, &chain, &work.join("a"), A, None).unwrap();
    let b = ServedMonerod::start(&rp, &chain, &work.join("b"), B, None).unwrap();
    let (base, _) = a.top().unwrap();

    let data = work.join("xmrd");
    let log = work.join("xmrd.log");
    let bin = Path::new(env!("CARGO_BIN_EXE_xmrd"));
    let x = spawn_xmrd(bin, &data, X_P2P, &[A.0, B.0], &log).unwrap();
    wait_for("xmrd to sync the chain", 600, || {
        store_top(&data).filter(|(h, _)| *h >= base)
    });
    // monerod relays only to peers it considers synchronised.
    for (rpc, name) in [(A.1, "A"), (B.1, "B")] {
        wait_for(
            &format!("monerod {name} to see xmrd as a normal peer"),
            120,
            || normal_peer(rpc),
        );
    }

    for i in 1..=BLOCKS {
        let started = Instant::now();
        let r = json_rpc(
            A.1,
            "generateblocks",
            json!({"amount_of_blocks": 1, "wallet_address": miner}),
        );
        assert!(r.is_some(), "generateblocks failed");
        let (h, top) = a.top().unwrap();
        assert_eq!(h, base + i);
        let got = wait_for("B to receive A's block through xmrd", 120, || {
            b.top().filter(|(bh, _)| *bh >= h)
        });
        eprintln!("block {h}: A -> xmrd -> B in {:?}", started.elapsed());
        assert_eq!(got, (h, top));
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let relays = text
        .lines()
        .filter(|l| {
            l.contains("new block verified, relayed and committed") && l.contains("relayed=1")
        })
        .count();
    assert_eq!(
        relays as u64, BLOCKS,
        "xmrd did not relay every block:\n{text}"
    );
    drop(x);
    drop(a);
    drop(b);
    let _ = std::fs::remove_dir_all(&work);
}
