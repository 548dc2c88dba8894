//! Fast block sync (`--fast-block-sync`) against the real monerod (Debian's 0.18) on
//! loopback, regtest. The block-hash groups are built from monerod's own answers (each
//! block's id and weight from `get_block_headers_range`), in the format of monero's
//! `src/blocks/checkpoints.dat`:
//!
//! - with `--fast-block-sync 1` xmrd ends on monerod's top, and the blocks of the complete
//!   groups (all but genesis below height 512) are checked as settled ones: their proof of
//!   work is not computed, every other block's is;
//! - with `--fast-block-sync 0` and the same data every block's proof of work is computed;
//! - with data that monerod's chain contradicts (one weight changed), xmrd drops monerod
//!   ("most blocks contradict the fast-sync data", monerod's "Most blocks are invalid")
//!   and takes none of its blocks.
//!
//! Skips with a message when monerod or the shared data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;
use xmrd::consensus::fast_sync::{BlockHashGroups, HASH_OF_HASHES_STEP};
use xmrd::testdata::realpeer::{
    http_get, json_rpc, realpeer, spawn_xmrd_with, store_top, temp_dir, wait_for, KillOnDrop,
    ServedMonerod,
};

const A: (u16, u16, u16) = (22460, 22461, 22462);
const FAST: (u16, u16) = (22463, 22464);
const FULL: (u16, u16) = (22465, 22466);
const LIED_TO: (u16, u16) = (22467, 22468);

/// Starts xmrd syncing from monerod with `flags`, its metrics on `ports.1`.
fn xmrd(work: &Path, tag: &str, ports: (u16, u16), flags: &[&str]) -> KillOnDrop {
    let metrics = format!("127.0.0.1:{}", ports.1);
    let mut extra = vec!["--metrics-bind", metrics.as_str(), "--verify-threads", "1"];
    extra.extend_from_slice(flags);
    spawn_xmrd_with(
        Path::new(env!("CARGO_BIN_EXE_xmrd")),
        &work.join(tag),
        ports.0,
        &[A.0],
        &work.join(format!("{tag}.log")),
        &extra,
    )
    .unwrap()
}

/// The sum over all rows of each `name{…label…}` series in a Prometheus exposition, keyed by
/// the value of `label`.
fn sum_by(exposition: &str, name: &str, label: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in exposition.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('{') else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let key = labels
            .split(',')
            .find_map(|kv| kv.strip_prefix(&format!("{label}=\"")))
            .map(|v| v.trim_end_matches('"').to_string());
        if let (Some(k), Ok(v)) = (key, value.trim().parse::<f64>()) {
            *out.entry(k).or_insert(0.0) += v;
        }
    }
    out
}

/// (settled blocks checked, proof-of-work hashes computed, settled ones not computed).
fn work_done(metrics_port: u16) -> (f64, f64, f64) {
    let (status, body) = http_get(metrics_port, "/metrics").expect("metrics");
    assert!(status.contains("200"), "{status}");
    let fast = sum_by(&body, "xmrd_fast_sync_blocks_total", "stage");
    let items = sum_by(&body, "xmrd_verify_item_seconds_count", "stage");
    (
        fast.get("checked").copied().unwrap_or(0.0),
        items.get("pow").copied().unwrap_or(0.0),
        items.get("pow_settled").copied().unwrap_or(0.0),
    )
}

#[test]
fn fast_sync_skips_the_settled_blocks_work_and_full_sync_does_all_of_it() {
    let Some(rp) = realpeer() else { return };
    let work = temp_dir("fastsync").unwrap();
    let a = ServedMonerod::start(
        &rp,
        &rp.join("chains/regtest-700b-2500tx.lmdb.xz"),
        &work.join("a"),
        A,
        None,
    )
    .unwrap();
    let (height, top) = a.top().unwrap();
    assert!(height > HASH_OF_HASHES_STEP, "the chain must fill a group");

    // The groups, from monerod's ids and weights.
    let headers = json_rpc(
        a.rpc,
        "get_block_headers_range",
        json!({"start_height": 0, "end_height": height - 1}),
    )
    .unwrap();
    let headers = headers["headers"].as_array().unwrap();
    assert_eq!(headers.len() as u64, height);
    let ids: Vec<[u8; 32]> = headers
        .iter()
        .map(|h| {
            hex::decode(h["hash"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    let weights: Vec<u64> = headers
        .iter()
        .map(|h| h["block_weight"].as_u64().unwrap())
        .collect();
    let groups = BlockHashGroups::from_chain(&ids, &weights);
    let settled = groups.end_height() - 1; // genesis is in the store before any sync
    let data = work.join("groups.dat");
    std::fs::write(&data, groups.to_bytes()).unwrap();
    let data_arg = data.to_str().unwrap();

    let fast = xmrd(
        &work,
        "fast",
        FAST,
        &["--fast-block-sync", "1", "--fast-block-sync-data", data_arg],
    );
    let full = xmrd(
        &work,
        "full",
        FULL,
        &["--fast-block-sync", "0", "--fast-block-sync-data", data_arg],
    );
    for tag in ["fast", "full"] {
        let dir = work.join(tag);
        let synced = wait_for(&format!("{tag} xmrd to sync"), 900, || {
            store_top(&dir).filter(|(h, _)| *h >= height)
        });
        assert_eq!(
            (synced.0, hex::encode(synced.1)),
            (height, top.clone()),
            "{tag}"
        );
    }
    let (fast_checked, fast_pow, fast_skipped) = work_done(FAST.1);
    let (full_checked, full_pow, full_skipped) = work_done(FULL.1);
    eprintln!(
        "fast: {fast_checked} settled, {fast_pow} PoW hashes; full: {full_checked} settled, {full_pow} PoW hashes"
    );
    assert_eq!(fast_checked, settled as f64);
    assert_eq!(fast_skipped, settled as f64);
    assert_eq!(full_checked, 0.0);
    assert_eq!(full_skipped, 0.0);
    assert_eq!(fast_pow + settled as f64, full_pow);
    drop(fast);
    drop(full);

    // Data the chain contradicts: monerod is dropped and nothing is taken from it.
    let mut heavier = weights.clone();
    heavier[7] += 1;
    let lie = work.join("lie.dat");
    std::fs::write(&lie, BlockHashGroups::from_chain(&ids, &heavier).to_bytes()).unwrap();
    let lied_to = xmrd(
        &work,
        "lied",
        LIED_TO,
        &["--fast-block-sync-data", lie.to_str().unwrap()],
    );
    let log = work.join("lied.log");
    wait_for("xmrd to drop monerod", 120, || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|l| l.contains("most blocks contradict the fast-sync data"))
    });
    // It keeps dialling and dropping monerod (until it bans it); meanwhile no block of
    // monerod's may be taken.
    std::thread::sleep(std::time::Duration::from_secs(20));
    drop(lied_to);
    assert_eq!(store_top(&work.join("lied")).map(|t| t.0), Some(1));
    drop(a);
    let _ = std::fs::remove_dir_all(&work);
}
