//! Block propagation through xmrd against the real monerod (Debian's 0.18) on loopback,
//! regtest: monerods A and B serve the same chain and are connected only to xmrd
//! (A – xmrd – B). Blocks mined on A reach B through xmrd's relay: xmrd verifies each
//! fluffy block (2008) from A, relays it to B before committing it, and B adds it. Then a
//! wallet transaction is put in A's pool without relay and mined there: neither xmrd nor
//! B has it, so xmrd asks A for it (2009), and B asks xmrd (2009). Last, a wallet
//! transaction sent to A's RPC reaches B's pool through xmrd (2002), and a fresh monerod
//! C that syncs from xmrd gets it from xmrd's pool (2010). Skips with a message when
//! monerod or the shared data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::json;
use xmrd::testdata::realpeer::{
    fresh_monerod, json_rpc, post, realpeer, spawn_xmrd, store_top, temp_dir, wait_for, KillOnDrop,
    ServedMonerod,
};

const A: (u16, u16, u16) = (22370, 22371, 22372);
const B: (u16, u16, u16) = (22373, 22374, 22375);
const X_P2P: u16 = 22376;
const WALLET_RPC: u16 = 22377;
const C_P2P: u16 = 22378;
const C_RPC: u16 = 22379;
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

/// A 1 XMR transfer from the test wallet w0 (through `realpeer/rp.py wallet-send` and the
/// wallet RPC on [`WALLET_RPC`]): its `tx_hash` and, with `do_not_relay`, its `tx_blob`.
fn wallet_send(rp: &Path, do_not_relay: bool) -> serde_json::Value {
    let mut cmd = Command::new("python3");
    cmd.arg(rp.join("rp.py"))
        .args(["wallet-send", &WALLET_RPC.to_string(), "--wallet", "w0"]);
    if do_not_relay {
        cmd.arg("--do-not-relay");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "wallet-send: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Whether monerod on `rpc` has transaction `tx` in its pool.
fn in_pool(rpc: u16, tx: &str) -> Option<()> {
    let p = post(rpc, "/get_transaction_pool_hashes", &json!({}))?;
    p["tx_hashes"]
        .as_array()?
        .iter()
        .any(|h| h.as_str() == Some(tx))
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

    // (b) A block with a transaction that neither xmrd nor B has.
    let wallet = KillOnDrop(
        Command::new("monero-wallet-rpc")
            .args(["--daemon-address", &format!("127.0.0.1:{}", A.1)])
            .args(["--trusted-daemon", "--no-dns", "--disable-rpc-login"])
            .args([
                "--rpc-bind-ip",
                "127.0.0.1",
                "--rpc-bind-port",
                &WALLET_RPC.to_string(),
            ])
            .args([
                "--rpc-ssl",
                "disabled",
                "--daemon-ssl",
                "disabled",
                "--non-interactive",
            ])
            .arg("--wallet-dir")
            .arg(work.join("wallets"))
            .args(["--log-level", "0"])
            .arg("--log-file")
            .arg(work.join("wallet-rpc.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("monero-wallet-rpc", 120, || {
        json_rpc(WALLET_RPC, "get_version", json!({}))
    });
    let sent = wallet_send(&rp, true);
    let tx_hash = sent["tx_hash"].as_str().unwrap().to_string();
    let r = post(
        A.1,
        "/send_raw_transaction",
        &json!({"tx_as_hex": sent["tx_blob"], "do_not_relay": true}),
    )
    .unwrap();
    assert_eq!(r["status"], "OK", "{r}");
    json_rpc(
        A.1,
        "generateblocks",
        json!({"amount_of_blocks": 1, "wallet_address": miner}),
    )
    .unwrap();
    let (h, top) = a.top().unwrap();
    let got = wait_for("B to receive the block with the transaction", 120, || {
        b.top().filter(|(bh, _)| *bh >= h)
    });
    assert_eq!(got, (h, top));
    let t = post(B.1, "/get_transactions", &json!({"txs_hashes": [tx_hash]})).unwrap();
    assert_eq!(t["txs"][0]["block_height"].as_u64(), Some(h - 1), "{t}");

    // (c) A wallet transaction sent to A's RPC reaches B's pool through xmrd.
    let sent = wallet_send(&rp, false);
    let relayed = sent["tx_hash"].as_str().unwrap().to_string();
    let started = Instant::now();
    wait_for(
        "the transaction to reach B's pool through xmrd",
        300,
        || in_pool(B.1, &relayed),
    );
    eprintln!("transaction A -> xmrd -> B pool in {:?}", started.elapsed());
    drop(wallet);

    // A fresh monerod C that syncs from xmrd asks it for its pool complement (2010) once
    // synced, and gets the transaction.
    let c = fresh_monerod(&work.join("C"), C_P2P, C_RPC, X_P2P).unwrap();
    wait_for("C's pool to get the transaction from xmrd", 600, || {
        in_pool(C_RPC, &relayed)
    });
    drop(c);

    let text = std::fs::read_to_string(&log).unwrap();
    let relays = text
        .lines()
        .filter(|l| {
            l.contains("new block verified, relayed and committed") && l.contains("relayed=1")
        })
        .count();
    assert_eq!(
        relays as u64,
        BLOCKS + 1,
        "xmrd did not relay every block:\n{text}"
    );
    drop(x);
    drop(a);
    drop(b);
    let _ = std::fs::remove_dir_all(&work);
}
