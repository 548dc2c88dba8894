//! Chain sync against the real monerod (Debian's 0.18) on loopback, regtest: xmrd syncs the
//! fat regtest chain (real wallet transactions) from a monerod and ends on its height and top
//! hash, checked in xmrd's store the way `xmrd-tools db-info` reads it; then a fresh monerod
//! syncs the whole chain from xmrd alone. Skips with a message when monerod or the shared
//! data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use xmrd::testdata::realpeer::{
    fresh_monerod, json_rpc, realpeer, spawn_xmrd, store_top, temp_dir, wait_for, KillOnDrop,
    ServedMonerod,
};

const A: (u16, u16, u16) = (22320, 22321, 22322);
const X_P2P: u16 = 22323;
const B_P2P: u16 = 22324;
const B_RPC: u16 = 22325;

/// Starts xmrd on regtest (fixed difficulty 1) syncing from the monerod on `from`.
fn xmrd(data: &Path, port: u16, from: u16, log: &Path) -> KillOnDrop {
    spawn_xmrd(
        Path::new(env!("CARGO_BIN_EXE_xmrd")),
        data,
        port,
        &[from],
        log,
    )
    .unwrap()
}

fn temp(tag: &str) -> std::path::PathBuf {
    temp_dir(tag).unwrap()
}

#[test]
fn xmrd_syncs_from_monerod_and_a_fresh_monerod_syncs_from_xmrd() {
    let Some(rp) = realpeer() else { return };
    let work = temp("sync");
    let a = ServedMonerod::start(
        &rp,
        &rp.join("chains/regtest-700b-2500tx.lmdb.xz"),
        &work.join("a"),
        A,
        None,
    )
    .unwrap();
    let (height, top) = a.top().unwrap();

    // (a) xmrd syncs from monerod.
    let data = work.join("xmrd");
    let started = Instant::now();
    let xmrd = xmrd(&data, X_P2P, A.0, &work.join("xmrd.log"));
    let synced = wait_for("xmrd to sync the chain", 600, || {
        store_top(&data).filter(|(h, _)| *h >= height)
    });
    eprintln!("xmrd synced {height} blocks in {:?}", started.elapsed());
    assert_eq!((synced.0, hex::encode(synced.1)), (height, top.clone()));

    // (b) a fresh monerod syncs from xmrd alone.
    let _b = fresh_monerod(&work.join("B"), B_P2P, B_RPC, X_P2P).unwrap();
    let b_top = wait_for("monerod to sync from xmrd", 600, || {
        let i = json_rpc(B_RPC, "get_info", json!({}))?;
        (i["height"].as_u64()? >= height).then(|| i["top_block_hash"].as_str().map(String::from))?
    });
    assert_eq!(b_top, top);
    drop(xmrd);
    drop(a);
    let _ = std::fs::remove_dir_all(&work);
}

/// (d) xmrd killed with SIGKILL at random points of a sync, 10 times, keeps every block it
/// had committed (its store's height never goes back) and resumes to monerod's top.
#[test]
fn sync_survives_sigkill_and_resumes_to_the_same_top() {
    const A2: (u16, u16, u16) = (22330, 22331, 22332);
    const XP: u16 = 22333;
    let Some(rp) = realpeer() else { return };
    let work = temp("sync-kill");
    let a = ServedMonerod::start(
        &rp,
        &rp.join("chains/regtest-700b-2500tx.lmdb.xz"),
        &work.join("a"),
        A2,
        None,
    )
    .unwrap();
    let (height, top) = a.top().unwrap();
    let data = work.join("xmrd");
    let spawn = |i: usize| xmrd(&data, XP, A2.0, &work.join(format!("xmrd-{i}.log")));
    let seed = std::process::id() as u64;
    let mut last = 0u64;
    let mut kills = 0;
    for i in 0..10 {
        let mut child = spawn(i);
        // A pseudo-random point between 1.5 and 5 s into this run.
        let ms = 1500
            + (seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(i as u64 * 1442695040888963407)
                >> 33)
                % 3500;
        std::thread::sleep(Duration::from_millis(ms));
        child.0.kill().unwrap(); // SIGKILL
        child.0.wait().unwrap();
        kills += 1;
        let (h, _) = store_top(&data).expect("store opens after SIGKILL");
        assert!(
            h >= last,
            "height went back from {last} to {h} after kill {i}"
        );
        eprintln!("kill {i} after {ms} ms: store at height {h}");
        last = h;
        if h >= height {
            break;
        }
    }
    assert!(kills >= 1);
    let x = spawn(99);
    let synced = wait_for("xmrd to resume to the top", 600, || {
        store_top(&data).filter(|(h, _)| *h >= height)
    });
    assert_eq!((synced.0, hex::encode(synced.1)), (height, top));
    drop(x);
    drop(a);
    let _ = std::fs::remove_dir_all(&work);
}
