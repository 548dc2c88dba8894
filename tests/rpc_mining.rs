//! Mining through xmrd's RPC above difficulty 1, against the real monerod (Debian's
//! 0.18.0.0) on loopback: xmrd on an empty regtest chain at `--fixed-difficulty 40`
//! makes blocks with `generateblocks` (so it must grind nonces: one in 40 meets the
//! target), and a monerod at the same difficulty syncs them from xmrd, checking their
//! proof of work. Both nodes then report the same PoW hash for each block
//! (`fill_pow_hash`), and it meets difficulty 40.
//!
//! Skips with a message when monerod is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

use serde_json::json;
use xmrd::testdata::realpeer::{json_rpc, realpeer, temp_dir, wait_for, KillOnDrop};

const X_P2P: u16 = 22450;
const X_RPC: u16 = 22451;
const M_P2P: u16 = 22452;
const M_RPC: u16 = 22453;
const DIFFICULTY: u64 = 40;
const BLOCKS: u64 = 3;

/// A regtest miner address (the first seed of monero's functional tests).
const MINER: &str = "42ey1afDFnn4886T7196doS9GPMzexD9gXpsZJDwVjeRVdFCSoHnv7KPbBeGpzJBzHRCAs9UxqeoyFQMYbqSWYTfJJQAWDm";

#[test]
fn generateblocks_grinds_nonces_above_difficulty_one_and_monerod_takes_the_blocks() {
    if realpeer().is_none() {
        return;
    }
    let work = temp_dir("rpc-mining").unwrap();
    let difficulty = DIFFICULTY.to_string();
    let x = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_xmrd"))
            .args(["--regtest", "--fixed-difficulty", &difficulty])
            .args(["--randomx-mode", "light", "--shards", "1"])
            .args(["--p2p-bind-ip", "127.0.0.1"])
            .args(["--p2p-bind-port", &X_P2P.to_string()])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{M_P2P}")])
            .args(["--rpc-bind-ip", "127.0.0.1"])
            .args(["--rpc-bind-port", &X_RPC.to_string()])
            .args(["--rpc-ssl", "disabled"])
            .arg("--data-dir")
            .arg(work.join("xmrd"))
            .stdout(std::fs::File::create(work.join("xmrd.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("xmrd's RPC", 60, || {
        json_rpc(X_RPC, "get_block_count", json!({}))
    });
    let made = json_rpc(
        X_RPC,
        "generateblocks",
        json!({"amount_of_blocks": BLOCKS, "wallet_address": MINER}),
    )
    .expect("generateblocks");
    let blocks: Vec<String> = made["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    assert_eq!(blocks.len() as u64, BLOCKS, "{made}");
    // monerod's `height`: the last block's.
    assert_eq!(made["height"], BLOCKS, "{made}");

    std::fs::create_dir_all(work.join("m")).unwrap();
    let m = KillOnDrop(
        Command::new("monerod")
            .args(["--regtest", "--fixed-difficulty", &difficulty])
            .args(["--non-interactive", "--no-igd", "--disable-dns-checkpoints"])
            .args([
                "--check-updates",
                "disabled",
                "--no-zmq",
                "--rpc-ssl",
                "disabled",
            ])
            .args(["--p2p-bind-ip", "127.0.0.1", "--rpc-bind-ip", "127.0.0.1"])
            .args(["--p2p-bind-port", &M_P2P.to_string()])
            .args(["--rpc-bind-port", &M_RPC.to_string()])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{X_P2P}")])
            .arg("--data-dir")
            .arg(work.join("m"))
            .args(["--log-level", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let top = blocks.last().unwrap().clone();
    wait_for("monerod to sync xmrd's mined blocks", 180, || {
        let h = json_rpc(M_RPC, "get_last_block_header", json!({}))?;
        (h["block_header"]["hash"].as_str()? == top).then_some(())
    });

    let mut nonces = Vec::new();
    for (i, id) in blocks.iter().enumerate() {
        let params = json!({"hash": id, "fill_pow_hash": true});
        let a = json_rpc(M_RPC, "get_block_header_by_hash", params.clone()).unwrap();
        let b = json_rpc(X_RPC, "get_block_header_by_hash", params).unwrap();
        let (ha, hb) = (&a["block_header"], &b["block_header"]);
        assert_eq!(ha["difficulty"], DIFFICULTY, "block {i}: {ha}");
        assert_eq!(ha["pow_hash"], hb["pow_hash"], "block {i}: pow_hash");
        let pow: [u8; 32] = hex::decode(ha["pow_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        assert!(
            xmrd::consensus::pow::check_hash(&pow, u128::from(DIFFICULTY)),
            "block {i}'s PoW does not meet difficulty {DIFFICULTY}"
        );
        nonces.push(hb["nonce"].as_u64().unwrap());
    }
    eprintln!("nonces found: {nonces:?}");
    drop(m);
    drop(x);
    let _ = std::fs::remove_dir_all(&work);
}
