//! The daemon RPC against the real monerod (Debian's 0.18.0.0) on loopback, regtest:
//! monerod M serves the fat 700-block chain and xmrd syncs it from M, then
//! - (c) the same JSON calls to both give the same values (the fields that legitimately
//!   differ are listed in [`DIFFERING_FIELDS`]), and the binary `.bin` calls give the
//!   same bytes;
//! - (a) monero-wallet-rpc restores the miner wallet w0 (coinbase of every block, and
//!   thousands of transfers) and the receiver wallet w1 once against M and once against
//!   xmrd: same balances, same transfers;
//! - (b) a transfer made by the wallet through xmrd's RPC (`/sendrawtransaction`) reaches
//!   M through xmrd's relay, M mines it, xmrd syncs the block and the wallet on xmrd sees
//!   it confirmed;
//! - mining through xmrd: `get_block_template` gives monerod's figures, and the blocks
//!   xmrd's `generateblocks` makes are taken by monerod.
//!
//! Skips with a message when monerod or the shared data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{json, Value};
use xmrd::rpc::bin::{
    GetBlocksByHeightRequest, GetBlocksRequest, GetBlocksResponse, GetHashesRequest,
    GetOIndexesRequest, GetOutputDistributionRequest, GetOutputsOut, GetOutsRequest,
};
use xmrd::testdata::realpeer::{
    json_rpc, post, post_raw, realpeer, temp_dir, wait_for, KillOnDrop, ServedMonerod,
};
use xmrd::wire::epee::{self, Hashes, U64Array};

const M: (u16, u16, u16) = (22410, 22411, 22412);
const X_P2P: u16 = 22413;
const X_RPC: u16 = 22414;
const WALLET_ON_M: u16 = 22415;
const WALLET_ON_X: u16 = 22416;
/// monerod's and xmrd's second, restricted RPC servers (`--rpc-restricted-bind-port`).
const M_RESTRICTED: u16 = 22417;
const X_RESTRICTED: u16 = 22418;

/// Fields whose values legitimately differ between two nodes serving the same chain:
/// node-local figures (database size and free space, start time, connection counts,
/// address book sizes, the version string).
const DIFFERING_FIELDS: &[&str] = &[
    "database_size",
    "free_space",
    "start_time",
    "incoming_connections_count",
    "outgoing_connections_count",
    "rpc_connections_count",
    "white_peerlist_size",
    "grey_peerlist_size",
    "version",
];

/// Fields that describe each node's own peers (M's connection is xmrd, xmrd's is M):
/// compared by shape (the same fields with the same JSON types), their values checked
/// one by one in the test.
const SHAPE_FIELDS: &[&str] = &["connections", "peers"];

/// xmrd on regtest (fixed difficulty 1, two shards, loopback), its RPC on `rpc` with
/// `extra` flags, dialling only `dial`.
pub fn spawn_xmrd_rpc(
    data: &Path,
    p2p: u16,
    rpc: u16,
    dial: u16,
    extra: &[&str],
    log: &Path,
) -> std::io::Result<KillOnDrop> {
    let child = Command::new(env!("CARGO_BIN_EXE_xmrd"))
        .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
        .args(["--shards", "2", "--p2p-bind-port", &p2p.to_string()])
        .args(["--add-exclusive-node", &format!("127.0.0.1:{dial}")])
        .args([
            "--rpc-bind-ip",
            "127.0.0.1",
            "--rpc-bind-port",
            &rpc.to_string(),
        ])
        .args(extra)
        .arg("--data-dir")
        .arg(data)
        .args(["--log-level", "xmrd=debug,info"])
        .stdout(std::fs::File::create(log)?)
        .stderr(Stdio::null())
        .spawn()?;
    Ok(KillOnDrop(child))
}

/// One HTTP/1.0 POST of a binary body; the answer's body, if its status is 200.
fn post_bin(port: u16, path: &str, body: &[u8]) -> Option<Vec<u8>> {
    match post_raw(port, path, "application/octet-stream", body)? {
        (200, answer) => Some(answer),
        _ => None,
    }
}

/// Where `a` and `b` differ in shape: object keys, JSON types, and (for arrays) the
/// shape of each element pair.
fn shape_differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => shape_differences(p, q, &format!("{path}.{k}"), out),
                    (Some(_), None) => out.push(format!("{path}.{k}: only monerod has it")),
                    (None, Some(_)) => out.push(format!("{path}.{k}: only xmrd has it")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                out.push(format!(
                    "{path}: monerod lists {}, xmrd {}",
                    x.len(),
                    y.len()
                ));
            }
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                shape_differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        _ => out.push(format!("{path}: monerod {a} xmrd {b} (different types)")),
    }
}

/// The differences between monerod's answer `a` and xmrd's `b`, ignoring
/// [`DIFFERING_FIELDS`] and comparing [`SHAPE_FIELDS`] by shape.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if DIFFERING_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) if SHAPE_FIELDS.contains(&k.as_str()) => {
                        shape_differences(p, q, &format!("{path}.{k}"), out)
                    }
                    (Some(p), Some(q)) => differences(p, q, &format!("{path}.{k}"), out),
                    (Some(_), None) => out.push(format!("{path}.{k}: only monerod has it")),
                    (None, Some(_)) => out.push(format!("{path}.{k}: only xmrd has it")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{path}: monerod {a} xmrd {b}")),
        _ => {}
    }
}

fn wallet_rpc(port: u16, daemon: u16, dir: &Path, extra: &[&str]) -> KillOnDrop {
    std::fs::create_dir_all(dir).unwrap();
    let w = KillOnDrop(
        Command::new("monero-wallet-rpc")
            .args(["--daemon-address", &format!("127.0.0.1:{daemon}")])
            .args(["--trusted-daemon", "--no-dns", "--disable-rpc-login"])
            .args([
                "--rpc-bind-ip",
                "127.0.0.1",
                "--rpc-bind-port",
                &port.to_string(),
            ])
            .args(["--rpc-ssl", "disabled", "--non-interactive"])
            .args(extra)
            .arg("--wallet-dir")
            .arg(dir)
            .args(["--log-level", "0"])
            .arg("--log-file")
            .arg(dir.join("wallet-rpc.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("monero-wallet-rpc", 120, || {
        json_rpc(port, "get_version", json!({}))
    });
    w
}

/// Restores (and so refreshes) wallet `i` of `realpeer/rp.py`'s seeds; its balance and
/// every transfer in and out as (txid, amount, height, type), sorted.
fn wallet_view(port: u16, seed: &str, name: &str) -> (Value, Vec<(String, u64, u64, String)>) {
    let _ = json_rpc(port, "close_wallet", json!({}));
    json_rpc(
        port,
        "restore_deterministic_wallet",
        json!({"filename": name, "password": "", "seed": seed, "restore_height": 0, "language": "English"}),
    )
    .expect("restore_deterministic_wallet");
    json_rpc(port, "refresh", json!({})).expect("refresh");
    let balance = json_rpc(port, "get_balance", json!({})).expect("get_balance");
    let height = json_rpc(port, "get_height", json!({})).expect("get_height")["height"]
        .as_u64()
        .unwrap();
    let mut transfers = Vec::new();
    // In chunks of heights: the wallet's answer for all of w0's transfers at once is
    // several megabytes.
    let mut lo = 0;
    while lo <= height {
        let t = json_rpc(
            port,
            "get_transfers",
            json!({"in": true, "out": true, "pending": true, "pool": true,
                "filter_by_height": true, "min_height": lo, "max_height": lo + 49}),
        )
        .expect("get_transfers");
        for kind in ["in", "out", "pending", "pool"] {
            for e in t[kind].as_array().into_iter().flatten() {
                transfers.push((
                    e["txid"].as_str().unwrap().to_string(),
                    e["amount"].as_u64().unwrap(),
                    e["height"].as_u64().unwrap(),
                    kind.to_string(),
                ));
            }
        }
        lo += 50;
    }
    transfers.sort();
    transfers.dedup();
    (balance, transfers)
}

fn seed(i: usize) -> String {
    // The public test seeds of `realpeer/rp.py` (monero's functional tests).
    [
        "velvet lymph giddy number token physics poetry unquoted nibs useful sabotage limits benches lifestyle eden nitrogen anvil fewest avoid batch vials washing fences goat unquoted",
        "peeled mixture ionic radar utopia puddle buying illness nuns gadget river spout cavernous bounced paradise drunk looking cottage jump tequila melting went winter adjust spout",
    ][i]
    .to_string()
}

#[test]
fn wallets_and_rpc_calls_see_the_same_chain_through_xmrd_as_through_monerod() {
    let Some(rp) = realpeer() else { return };
    let work = temp_dir("rpc-monerod").unwrap();
    let chain = rp.join("chains/regtest-700b-2500tx.lmdb.xz");
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(rp.join("chains/regtest-700b-2500tx.json")).unwrap(),
    )
    .unwrap();
    let m = ServedMonerod::start_with_flags(
        &rp,
        &chain,
        &work.join("m"),
        M,
        None,
        &format!("--rpc-restricted-bind-port {M_RESTRICTED}"),
    )
    .unwrap();
    let (base, top) = m.top().unwrap();
    let data = work.join("xmrd");
    let log = work.join("xmrd.log");
    let x = spawn_xmrd_rpc(
        &data,
        X_P2P,
        X_RPC,
        M.0,
        &[
            "--rpc-ssl",
            "disabled",
            "--rpc-restricted-bind-port",
            &X_RESTRICTED.to_string(),
        ],
        &log,
    )
    .unwrap();
    let synced = wait_for("xmrd to sync the chain and answer get_height", 600, || {
        let h = post(X_RPC, "/get_height", &json!({}))?;
        (h["height"].as_u64()? >= base).then_some(h)
    });
    assert_eq!(synced["hash"].as_str(), Some(top.as_str()));

    // (c) JSON calls.
    let tx0 = info["first_tx_hashes"][0].as_str().unwrap().to_string();
    let miner_tx = json_rpc(M.1, "get_block_header_by_height", json!({"height": 699})).unwrap()
        ["block_header"]["miner_tx_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let genesis = json_rpc(M.1, "on_get_block_hash", json!([0])).unwrap();
    // Every transaction of a block late in the chain (multi-input ones among them).
    let block_txs =
        json_rpc(M.1, "get_block", json!({"height": 650})).unwrap()["tx_hashes"].clone();
    assert!(
        block_txs.as_array().is_some_and(|a| a.len() > 1),
        "block 650 has transactions"
    );
    let rpc_calls: Vec<(&str, Value)> = vec![
        ("get_info", json!({})),
        ("get_version", json!({})),
        ("get_block_count", json!({})),
        ("on_get_block_hash", json!([5])),
        ("on_get_block_hash", json!([700])),
        ("get_last_block_header", json!({})),
        ("get_block_header_by_height", json!({"height": 350})),
        (
            "get_block_header_by_height",
            json!({"height": 350, "fill_pow_hash": true}),
        ),
        (
            "get_block_headers_range",
            json!({"start_height": 690, "end_height": 699, "fill_pow_hash": true}),
        ),
        ("get_block", json!({"height": 650, "fill_pow_hash": true})),
        ("get_block_header_by_hash", json!({"hash": genesis})),
        (
            "get_block_headers_range",
            json!({"start_height": 600, "end_height": 699}),
        ),
        ("get_block", json!({"height": 600})),
        ("get_block", json!({"hash": top})),
        ("hard_fork_info", json!({})),
        ("get_fee_estimate", json!({})),
        ("get_fee_estimate", json!({"grace_blocks": 10})),
        ("sync_info", json!({})),
        ("get_txpool_backlog", json!({})),
        ("get_bans", json!({})),
        ("get_connections", json!({})),
        (
            "get_output_distribution",
            json!({"amounts": [0], "cumulative": true, "binary": false}),
        ),
        (
            "get_output_distribution",
            json!({"amounts": [0], "from_height": 650, "binary": false}),
        ),
        (
            "get_output_distribution",
            json!({"amounts": [0, 1_000_000_000_000u64], "from_height": 600, "binary": false, "cumulative": true}),
        ),
        (
            "get_output_distribution",
            json!({"amounts": [20_000_000_000u64], "to_height": 650, "binary": false}),
        ),
        ("no_such_method", json!({})),
    ];
    let mut diffs = Vec::new();
    for (method, params) in &rpc_calls {
        let body = json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params});
        let a = post(M.1, "/json_rpc", &body).unwrap();
        let b = post(X_RPC, "/json_rpc", &body).unwrap();
        differences(&a, &b, method, &mut diffs);
    }
    let uri_calls: Vec<(&str, Value)> = vec![
        ("/get_height", json!({})),
        ("/getheight", json!({})),
        ("/get_info", json!({})),
        (
            "/get_transactions",
            json!({"txs_hashes": [tx0, miner_tx, "00".repeat(32)]}),
        ),
        (
            "/gettransactions",
            json!({"txs_hashes": [tx0], "split": true}),
        ),
        (
            "/get_transactions",
            json!({"txs_hashes": [tx0], "prune": true}),
        ),
        ("/get_transactions", json!({"txs_hashes": ["zz"]})),
        // `as_json` / `txs_as_json`: the full transaction, the pruned one (asked for, or a
        // miner transaction, which has no prunable part), the split form.
        (
            "/get_transactions",
            json!({"txs_hashes": [tx0, miner_tx, "00".repeat(32)], "decode_as_json": true}),
        ),
        (
            "/get_transactions",
            json!({"txs_hashes": [tx0, miner_tx], "decode_as_json": true, "prune": true}),
        ),
        (
            "/gettransactions",
            json!({"txs_hashes": [tx0, miner_tx], "decode_as_json": true, "split": true}),
        ),
        (
            "/get_transactions",
            json!({"txs_hashes": block_txs, "decode_as_json": true}),
        ),
        (
            "/get_transactions",
            json!({"txs_hashes": block_txs, "decode_as_json": true, "prune": true}),
        ),
        (
            "/is_key_image_spent",
            json!({"key_images": ["00".repeat(32)]}),
        ),
        ("/get_limit", json!({})),
        ("/send_raw_transaction", json!({"tx_as_hex": "0200"})),
        (
            "/sendrawtransaction",
            json!({"tx_as_hex": "0200", "do_sanity_checks": false}),
        ),
        ("/get_transaction_pool", json!({})),
        ("/get_transaction_pool_hashes", json!({})),
        ("/get_transaction_pool_hashes.bin", json!({})),
        (
            "/get_outs",
            json!({"outputs": [{"amount": 0, "index": 1}, {"amount": 0, "index": 4000}], "get_txid": true}),
        ),
    ];
    for (path, body) in &uri_calls {
        let a = post(M.1, path, body).unwrap();
        let b = post(X_RPC, path, body).unwrap();
        differences(&a, &b, path, &mut diffs);
    }
    assert!(
        diffs.is_empty(),
        "JSON answers differ:\n{}",
        diffs.join("\n")
    );

    // (c) restricted RPC: the same answers from both restricted servers, what monerod
    // hides hidden (methods "not found", URIs 404, bounds and node figures).
    let restricted_calls: Vec<(&str, Value)> = vec![
        ("get_info", json!({})),
        ("get_connections", json!({})),
        ("sync_info", json!({})),
        ("get_bans", json!({})),
        (
            "set_bans",
            json!({"bans": [{"host": "10.1.1.1", "ban": true, "seconds": 5}]}),
        ),
        ("generateblocks", json!({"amount_of_blocks": 1})),
        (
            "get_block_headers_range",
            json!({"start_height": 0, "end_height": 699}),
        ),
        (
            "get_block_headers_range",
            json!({"start_height": 0, "end_height": 1500}),
        ),
        (
            "get_output_distribution",
            json!({"amounts": [1_000_000_000_000u64], "binary": false}),
        ),
        (
            "get_output_distribution",
            json!({"amounts": [0], "from_height": 650, "binary": false}),
        ),
        ("get_fee_estimate", json!({})),
        ("get_txpool_backlog", json!({})),
        ("hard_fork_info", json!({})),
    ];
    let mut restricted_diffs = Vec::new();
    for (method, params) in &restricted_calls {
        let body = json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params});
        let a = post(M_RESTRICTED, "/json_rpc", &body).unwrap();
        let b = post(X_RESTRICTED, "/json_rpc", &body).unwrap();
        differences(
            &a,
            &b,
            &format!("restricted {method}"),
            &mut restricted_diffs,
        );
    }
    for (path, body) in [
        ("/get_info", json!({})),
        ("/get_limit", json!({})),
        ("/get_transaction_pool", json!({})),
        (
            "/get_outs",
            json!({"outputs": [{"amount": 0, "index": 1}], "get_txid": true}),
        ),
    ] {
        let a = post(M_RESTRICTED, path, &body).unwrap();
        let b = post(X_RESTRICTED, path, &body).unwrap();
        differences(&a, &b, &format!("restricted {path}"), &mut restricted_diffs);
    }
    for path in ["/get_peer_list", "/no_such_uri"] {
        let a = post_raw(M_RESTRICTED, path, "application/json", b"{}").map(|r| r.0);
        let b = post_raw(X_RESTRICTED, path, "application/json", b"{}").map(|r| r.0);
        if a != b {
            restricted_diffs.push(format!("restricted {path}: monerod {a:?} xmrd {b:?}"));
        }
    }
    assert!(
        restricted_diffs.is_empty(),
        "restricted answers differ:\n{}",
        restricted_diffs.join("\n")
    );

    // (c) bans: a subnet and a host, the same list back (seconds within a second), and
    // the same error for an entry with neither host nor ip.
    let bans = json!({"bans": [
        {"host": "10.11.12.13/24", "ban": true, "seconds": 3600},
        {"host": "10.20.30.40", "ban": true, "seconds": 3600},
    ]});
    let listed: Vec<Value> = [M.1, X_RPC]
        .iter()
        .map(|port| {
            json_rpc(*port, "set_bans", bans.clone()).expect("set_bans");
            json_rpc(*port, "get_bans", json!({})).expect("get_bans")
        })
        .collect();
    let strip = |v: &Value| -> Vec<(Value, Value, u64)> {
        v["bans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["host"].clone(),
                    b["ip"].clone(),
                    b["seconds"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (on_m, on_x) = (strip(&listed[0]), strip(&listed[1]));
    assert_eq!(on_m.len(), 2, "{}", listed[0]);
    for ((hm, im, sm), (hx, ix, sx)) in on_m.iter().zip(&on_x) {
        assert_eq!(
            (hm, im),
            (hx, ix),
            "get_bans: {} vs {}",
            listed[0],
            listed[1]
        );
        assert!(sm.abs_diff(*sx) <= 2, "ban seconds {sm} vs {sx}");
    }
    let unban = json!({"bans": [
        {"host": "10.11.12.0/24", "ban": false},
        {"host": "10.20.30.40", "ban": false},
    ]});
    let nothing = json!({"jsonrpc": "2.0", "id": "0", "method": "set_bans",
        "params": {"bans": [{"ban": true, "seconds": 5}]}});
    let mut ban_diffs = Vec::new();
    for (method, params) in [("set_bans", unban), ("get_bans", json!({}))] {
        let body = json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params});
        let (a, b) = (
            post(M.1, "/json_rpc", &body).unwrap(),
            post(X_RPC, "/json_rpc", &body).unwrap(),
        );
        differences(&a, &b, method, &mut ban_diffs);
    }
    assert!(ban_diffs.is_empty(), "{}", ban_diffs.join("\n"));
    // An entry with neither host nor ip: later 0.18 releases refuse it ("No ip/host
    // supplied"), as xmrd does; Debian's 0.18.0.0 bans 0.0.0.0 instead (not compared).
    let refused = post(X_RPC, "/json_rpc", &nothing).unwrap();
    assert_eq!(refused["error"]["code"], -1, "{refused}");

    // (c) each node's one connection, seen from both ends.
    let xc = json_rpc(X_RPC, "get_connections", json!({})).unwrap();
    let mc = json_rpc(M.1, "get_connections", json!({})).unwrap();
    let (xc, mc) = (&xc["connections"][0], &mc["connections"][0]);
    assert_eq!(xc["incoming"], false, "{xc}");
    assert_eq!(mc["incoming"], true, "{mc}");
    assert_eq!(xc["port"], M.0.to_string(), "{xc}");
    assert_eq!(xc["host"], "127.0.0.1", "{xc}");
    assert_eq!(
        (&xc["localhost"], &xc["local_ip"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(xc["height"], base, "{xc}");
    // (M's figure for xmrd's height is the one of xmrd's last timed sync, which may
    // predate xmrd's sync: not compared.)
    assert_eq!(xc["state"], "normal", "{xc}");
    assert_eq!(xc["connection_id"].as_str().unwrap().len(), 32, "{xc}");
    let (got, sent) = (
        xc["recv_count"].as_u64().unwrap(),
        mc["send_count"].as_u64().unwrap(),
    );
    assert!(
        got > 1_000_000 && got.abs_diff(sent) < sent / 10,
        "xmrd counted {got} bytes from M, M {sent} bytes to xmrd"
    );
    // xmrd's white list holds M, under the peer id M gave in its handshake.
    let peers = post(X_RPC, "/get_peer_list", &json!({})).unwrap();
    let m_id = u64::from_str_radix(xc["peer_id"].as_str().unwrap(), 16).unwrap();
    let white = peers["white_list"].as_array().expect("xmrd's white list");
    assert!(
        white
            .iter()
            .any(|p| p["port"] == M.0 && p["id"] == m_id && p["host"] == "127.0.0.1"),
        "M is not on xmrd's white list: {peers}"
    );
    let x_info = json_rpc(X_RPC, "get_info", json!({})).unwrap();
    assert_eq!(x_info["white_peerlist_size"], white.len(), "{x_info}");
    let m_peers = post(M.1, "/get_peer_list", &json!({})).unwrap();
    let m_any = m_peers["white_list"]
        .get(0)
        .or_else(|| m_peers["gray_list"].get(0));
    if let Some(m_entry) = m_any {
        let mut d = Vec::new();
        let mut x_entry = white[0].clone();
        // Optional fields monerod leaves out when zero: compare what both could hold.
        for k in ["rpc_port", "pruning_seed", "rpc_credits_per_hash"] {
            if m_entry.get(k).is_none() {
                x_entry.as_object_mut().unwrap().remove(k);
            }
        }
        shape_differences(m_entry, &x_entry, "/get_peer_list entry", &mut d);
        assert!(d.is_empty(), "{}", d.join("\n"));
    }

    // (c) binary calls: the same bytes.
    let genesis_id: [u8; 32] = hex::decode(genesis.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let ids = Hashes::from_items([genesis_id].iter());
    let tx0_id: [u8; 32] = hex::decode(&tx0).unwrap().try_into().unwrap();
    let bin_calls: Vec<(&str, Vec<u8>)> = vec![
        (
            "/getblocks.bin",
            epee::to_bytes(&GetBlocksRequest {
                block_ids: ids.clone(),
                prune: true,
                ..Default::default()
            }),
        ),
        (
            "/get_blocks.bin",
            epee::to_bytes(&GetBlocksRequest {
                block_ids: ids.clone(),
                start_height: 600,
                ..Default::default()
            }),
        ),
        (
            "/getblocks.bin",
            epee::to_bytes(&GetBlocksRequest {
                block_ids: ids.clone(),
                start_height: 650,
                prune: true,
                no_miner_tx: true,
                ..Default::default()
            }),
        ),
        (
            "/getblocks_by_height.bin",
            epee::to_bytes(&GetBlocksByHeightRequest {
                heights: U64Array(vec![1, 350, 699]),
                ..Default::default()
            }),
        ),
        (
            "/gethashes.bin",
            epee::to_bytes(&GetHashesRequest {
                block_ids: ids.clone(),
                ..Default::default()
            }),
        ),
        (
            "/get_o_indexes.bin",
            epee::to_bytes(&GetOIndexesRequest {
                txid: tx0_id,
                ..Default::default()
            }),
        ),
        (
            "/get_outs.bin",
            epee::to_bytes(&GetOutsRequest {
                get_txid: true,
                outputs: [1u64, 100, 4000]
                    .iter()
                    .map(|i| GetOutputsOut {
                        amount: 0,
                        index: *i,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
        ),
        (
            "/get_output_distribution.bin",
            epee::to_bytes(&GetOutputDistributionRequest {
                amounts: U64Array(vec![0]),
                binary: true,
                cumulative: true,
                ..Default::default()
            }),
        ),
        (
            "/get_output_distribution.bin",
            epee::to_bytes(&GetOutputDistributionRequest {
                amounts: U64Array(vec![0]),
                binary: true,
                compress: true,
                from_height: 100,
                to_height: 600,
                ..Default::default()
            }),
        ),
    ];
    for (path, body) in &bin_calls {
        let a = post_bin(M.1, path, body).unwrap();
        let b = post_bin(X_RPC, path, body).unwrap();
        assert!(
            a == b,
            "{path}: monerod answered {} bytes, xmrd {} bytes, not the same",
            a.len(),
            b.len()
        );
    }

    // (a) wallets.
    let wm = wallet_rpc(
        WALLET_ON_M,
        M.1,
        &work.join("wallets-m"),
        &["--daemon-ssl", "disabled"],
    );
    let wx = wallet_rpc(
        WALLET_ON_X,
        X_RPC,
        &work.join("wallets-x"),
        &["--daemon-ssl", "disabled"],
    );
    for (i, name) in [(0, "w0"), (1, "w1")] {
        let started = Instant::now();
        let on_m = wallet_view(WALLET_ON_M, &seed(i), name);
        let took_m = started.elapsed();
        let started = Instant::now();
        let on_x = wallet_view(WALLET_ON_X, &seed(i), name);
        let took_x = started.elapsed();
        eprintln!(
            "{name}: {} transfers, restore+refresh {took_m:?} on monerod, {took_x:?} on xmrd",
            on_x.1.len()
        );
        assert!(!on_x.1.is_empty(), "{name} has no transfers");
        assert_eq!(on_m.0["balance"], on_x.0["balance"], "{name} balance");
        assert_eq!(
            on_m.0["unlocked_balance"], on_x.0["unlocked_balance"],
            "{name} unlocked"
        );
        assert_eq!(on_m.1, on_x.1, "{name} transfers");
    }
    drop(wm);

    // (b) a transfer through xmrd's RPC, relayed to M, mined there, seen confirmed.
    let _ = json_rpc(WALLET_ON_X, "refresh", json!({}));
    let answer = post(
        WALLET_ON_X,
        "/json_rpc",
        &json!({"jsonrpc": "2.0", "id": "0", "method": "transfer", "params":
            {"destinations": [{"address": info["miner_address"], "amount": 1_000_000_000_000u64}],
            "priority": 0}}),
    );
    let sent = answer
        .as_ref()
        .and_then(|a| a.get("result"))
        .unwrap_or_else(|| panic!("transfer through xmrd: {answer:?}"));
    let txid = sent["tx_hash"].as_str().unwrap().to_string();
    let started = Instant::now();
    wait_for(
        "the transaction to reach monerod's pool through xmrd",
        300,
        || {
            let p = post(M.1, "/get_transaction_pool_hashes", &json!({}))?;
            p["tx_hashes"]
                .as_array()?
                .iter()
                .any(|h| h.as_str() == Some(txid.as_str()))
                .then_some(())
        },
    );
    eprintln!(
        "transaction xmrd RPC -> monerod pool in {:?}",
        started.elapsed()
    );
    // 0.18.2's pool info in /getblocks.bin: xmrd's answer to POOL_ONLY holds the pooled
    // transaction (FULL extent).
    let pool_only = post_bin(
        X_RPC,
        "/getblocks.bin",
        &epee::to_bytes(&GetBlocksRequest {
            block_ids: ids.clone(),
            requested_info: Some(2),
            prune: true,
            ..Default::default()
        }),
    )
    .unwrap();
    let r: GetBlocksResponse =
        epee::from_bytes_with(&bytes::Bytes::from(pool_only), epee::Limits::RPC).unwrap();
    assert_eq!(r.pool_info_extent, Some(2));
    assert!(r.blocks.is_empty() && r.daemon_time.is_some());
    assert!(
        r.added_pool_txs
            .iter()
            .any(|t| hex::encode(t.tx_hash) == txid),
        "pool info lacks {txid}"
    );
    let miner = info["miner_address"].as_str().unwrap();
    json_rpc(
        M.1,
        "generateblocks",
        json!({"amount_of_blocks": 1, "wallet_address": miner}),
    )
    .expect("generateblocks");
    wait_for("xmrd to sync the block with the transaction", 300, || {
        let t = post(X_RPC, "/get_transactions", &json!({"txs_hashes": [txid]}))?;
        t["txs"][0]["block_height"].as_u64().filter(|h| *h == base)
    });
    let confirmed = wait_for(
        "the wallet on xmrd to see the transfer confirmed",
        120,
        || {
            json_rpc(WALLET_ON_X, "refresh", json!({}))?;
            let t = json_rpc(WALLET_ON_X, "get_transfer_by_txid", json!({"txid": txid}))?;
            (t["transfer"]["type"].as_str()? == "out" && t["transfer"]["height"].as_u64()? == base)
                .then_some(t)
        },
    );
    eprintln!("confirmed: {}", confirmed["transfer"]["height"]);

    // Mining through xmrd: the template's figures are monerod's; blocks xmrd makes with
    // generateblocks are accepted by monerod (so their miner transactions are valid).
    let template = |port| {
        json_rpc(
            port,
            "get_block_template",
            json!({"wallet_address": miner, "reserve_size": 8}),
        )
        .unwrap()
    };
    let (tm, tx) = (template(M.1), template(X_RPC));
    for f in [
        "difficulty",
        "expected_reward",
        "height",
        "prev_hash",
        "reserved_offset",
        "seed_hash",
        "seed_height",
        "next_seed_hash",
        "wide_difficulty",
        "status",
    ] {
        assert_eq!(tm[f], tx[f], "get_block_template {f}: {tm} {tx}");
    }
    let made = json_rpc(
        X_RPC,
        "generateblocks",
        json!({"amount_of_blocks": 2, "wallet_address": miner}),
    )
    .expect("generateblocks on xmrd");
    // monerod's `height`: the last block's.
    assert_eq!(made["height"], base + 2, "{made}");
    let top_made = made["blocks"][1].as_str().unwrap().to_string();
    let (h, t) = wait_for("monerod to take the blocks xmrd mined", 120, || {
        m.top().filter(|(_, t)| *t == top_made)
    });
    assert_eq!((h, t), (base + 3, top_made));
    let bad = post(
        X_RPC,
        "/json_rpc",
        &json!({"jsonrpc": "2.0", "id": "0", "method": "submit_block", "params": ["00"]}),
    )
    .unwrap();
    assert_eq!(bad["error"]["code"], -6, "{bad}");
    drop(wx);
    drop(x);
    drop(m);
    let _ = std::fs::remove_dir_all(&work);
}
