//! Alternative chains against the real monerod (Debian's 0.18) on loopback, regtest: two
//! monerods serve the same chain and each mines its own blocks on top, A fewer than B.
//! xmrd syncs A's branch; restarted with both peers it must switch to B's heavier branch
//! (a reorg of A's blocks), ending on B's top; and A, connected to xmrd, must then switch
//! to that branch too by syncing it from xmrd. Skips with a message when monerod or the
//! shared data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::json;
use xmrd::testdata::realpeer::{
    json_rpc, realpeer, spawn_xmrd, store_top, temp_dir, wait_for, ServedMonerod,
};

const A: (u16, u16, u16) = (22360, 22361, 22362);
const B: (u16, u16, u16) = (22363, 22364, 22365);
const X_P2P: u16 = 22366;
/// Blocks each monerod mines on top of the shared chain.
const A_BLOCKS: u64 = 4;
const B_BLOCKS: u64 = 9;

fn mine(m: &ServedMonerod, n: u64, address: &str) {
    let r = json_rpc(
        m.rpc,
        "generateblocks",
        json!({"amount_of_blocks": n, "wallet_address": address}),
    );
    assert!(r.is_some(), "generateblocks on {} failed", m.rpc);
}

#[test]
fn xmrd_switches_to_a_heavier_branch_and_monerod_follows_it_from_xmrd() {
    let Some(rp) = realpeer() else { return };
    let work = temp_dir("reorg").unwrap();
    let chain = rp.join("chains/regtest-700b-2500tx.lmdb.xz");
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(rp.join("chains/regtest-700b-2500tx.json")).unwrap(),
    )
    .unwrap();
    let addr = |i: usize| info["receivers"][i].as_str().unwrap().to_string();
    let a = ServedMonerod::start(&rp, &chain, &work.join("a"), A, None).unwrap();
    let b = ServedMonerod::start(&rp, &chain, &work.join("b"), B, None).unwrap();
    let (base, base_top) = a.top().unwrap();
    assert_eq!(b.top().unwrap(), (base, base_top));
    mine(&a, A_BLOCKS, &addr(0));
    mine(&b, B_BLOCKS, &addr(1));
    let (a_height, a_top) = a.top().unwrap();
    let (b_height, b_top) = b.top().unwrap();
    assert_eq!((a_height, b_height), (base + A_BLOCKS, base + B_BLOCKS));
    assert_ne!(a_top, b_top);

    // xmrd follows A's branch.
    let bin = Path::new(env!("CARGO_BIN_EXE_xmrd"));
    let data = work.join("xmrd");
    let x = spawn_xmrd(bin, &data, X_P2P, &[A.0], &work.join("xmrd-1.log")).unwrap();
    let on_a = wait_for("xmrd to sync A's branch", 600, || {
        store_top(&data).filter(|(h, _)| *h >= a_height)
    });
    assert_eq!((on_a.0, hex::encode(on_a.1)), (a_height, a_top.clone()));
    drop(x);

    // With B too, xmrd replaces A's blocks with B's heavier branch.
    let log = work.join("xmrd-2.log");
    let x = spawn_xmrd(bin, &data, X_P2P, &[A.0, B.0], &log).unwrap();
    let on_b = wait_for("xmrd to switch to B's branch", 300, || {
        store_top(&data).filter(|(h, _)| *h >= b_height)
    });
    assert_eq!((on_b.0, hex::encode(on_b.1)), (b_height, b_top.clone()));
    // The store shows the new top a moment before the committer's caller logs the
    // switch: give the line a few seconds to land.
    let logged = |t: &str| t.contains("switched to a heavier alternative chain");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut text = std::fs::read_to_string(&log).unwrap();
    while !logged(&text) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        text = std::fs::read_to_string(&log).unwrap();
    }
    assert!(logged(&text), "no reorg in the log:\n{text}");

    // A is connected to xmrd and lighter: it reorganises onto B's branch, served by xmrd
    // (A and B never talk to each other).
    let a_now = wait_for(
        "monerod A to switch to B's branch through xmrd",
        300,
        || a.top().filter(|(h, _)| *h >= b_height),
    );
    assert_eq!(a_now, (b_height, b_top));
    drop(x);
    drop(a);
    drop(b);
    let _ = std::fs::remove_dir_all(&work);
}
