//! Chain sync against the real monerod (Debian's 0.18) on loopback, regtest: xmrd syncs the
//! fat regtest chain (real wallet transactions) from a monerod and ends on its height and top
//! hash, checked in xmrd's store the way `xmrd-tools db-info` reads it; then a fresh monerod
//! syncs the whole chain from xmrd alone. Skips with a message when monerod or the shared
//! data is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const A_P2P: u16 = 48320;
const A_RPC: u16 = 48321;
const DEAD: u16 = 48322;
const X_P2P: u16 = 48323;
const B_P2P: u16 = 48324;
const B_RPC: u16 = 48325;

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

fn rpc(port: u16, method: &str, params: Value) -> Option<Value> {
    let body = json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "POST /json_rpc HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut resp = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        resp.extend_from_slice(&buf[..n]);
        if let Some(p) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&resp[..p]).to_ascii_lowercase();
            if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
            {
                if resp.len() >= p + 4 + len {
                    let v: Value = serde_json::from_slice(&resp[p + 4..p + 4 + len]).ok()?;
                    return Some(v["result"].clone());
                }
            }
        }
    }
    None
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct ServedA {
    rp: PathBuf,
    work: PathBuf,
}
impl Drop for ServedA {
    fn drop(&mut self) {
        let _ = Command::new(self.rp.join("serve-monerod.sh"))
            .arg("stop")
            .arg(self.work.join("serve"))
            .envs(env())
            .status();
    }
}

fn env() -> [(String, String); 3] {
    [
        ("A_P2P".into(), A_P2P.to_string()),
        ("A_RPC".into(), A_RPC.to_string()),
        ("DEAD_PORT".into(), DEAD.to_string()),
    ]
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        xmrd::testdata::terminate(&mut self.0, Duration::from_secs(10));
    }
}

/// What xmrd's store says, read-only while xmrd runs (as `xmrd-tools db-info --json`).
fn store_top(data: &Path) -> Option<(u64, String)> {
    let info = xmrd_storage::inspect(&xmrd_storage::chain_path(data), false).ok()?;
    Some((info.view.block_count, hex::encode(info.view.top_hash)))
}

#[test]
fn xmrd_syncs_from_monerod_and_a_fresh_monerod_syncs_from_xmrd() {
    let Some(rp) = realpeer() else { return };
    let work = std::env::temp_dir().join(format!("xmrd-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let _cleanup = Dir(work.clone());
    let chain = work.join("chain");
    assert!(Command::new(rp.join("import-chain.sh"))
        .arg(rp.join("chains/regtest-700b-2500tx.lmdb.xz"))
        .arg(&chain)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let out = Command::new(rp.join("serve-monerod.sh"))
        .arg("start")
        .arg(&chain)
        .arg(work.join("serve"))
        .envs(env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _a = ServedA {
        rp: rp.clone(),
        work: work.clone(),
    };
    let info = rpc(A_RPC, "get_info", json!({})).unwrap();
    let height = info["height"].as_u64().unwrap();
    let top = info["top_block_hash"].as_str().unwrap().to_string();

    // (a) xmrd syncs from monerod.
    let data = work.join("xmrd");
    let log = std::fs::File::create(work.join("xmrd.log")).unwrap();
    let started = Instant::now();
    let xmrd = Proc(
        Command::new(env!("CARGO_BIN_EXE_xmrd"))
            .args([
                "--regtest",
                "--fixed-difficulty",
                "1",
                "--p2p-bind-ip",
                "127.0.0.1",
            ])
            .args(["--p2p-bind-port", &X_P2P.to_string(), "--shards", "2"])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{A_P2P}")])
            .arg("--data-dir")
            .arg(&data)
            .args(["--log-level", "xmrd=debug,info"])
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let synced = wait_for("xmrd to sync the chain", 600, || {
        store_top(&data).filter(|(h, _)| *h >= height)
    });
    eprintln!("xmrd synced {height} blocks in {:?}", started.elapsed());
    assert_eq!(synced, (height, top.clone()));

    // (b) a fresh monerod syncs from xmrd alone.
    let b_dir = work.join("B");
    std::fs::create_dir_all(&b_dir).unwrap();
    let _b = Proc(
        Command::new("monerod")
            .args([
                "--regtest",
                "--fixed-difficulty",
                "1",
                "--non-interactive",
                "--no-igd",
                "--disable-dns-checkpoints",
                "--check-updates",
                "disabled",
                "--no-zmq",
                "--rpc-ssl",
                "disabled",
                "--p2p-bind-ip",
                "127.0.0.1",
                "--rpc-bind-ip",
                "127.0.0.1",
            ])
            .args([
                "--p2p-bind-port",
                &B_P2P.to_string(),
                "--rpc-bind-port",
                &B_RPC.to_string(),
            ])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{X_P2P}")])
            .arg("--data-dir")
            .arg(&b_dir)
            .args(["--log-level", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let b_top = wait_for("monerod to sync from xmrd", 600, || {
        let i = rpc(B_RPC, "get_info", json!({}))?;
        (i["height"].as_u64()? >= height).then(|| i["top_block_hash"].as_str().map(String::from))?
    });
    assert_eq!(b_top, top);
    drop(xmrd);
}

/// (d) xmrd killed with SIGKILL at random points of a sync, 10 times, keeps every block it
/// had committed (its store's height never goes back) and resumes to monerod's top.
#[test]
fn sync_survives_sigkill_and_resumes_to_the_same_top() {
    const P2P: u16 = 48330;
    const RPC: u16 = 48331;
    const DEAD_K: u16 = 48332;
    const XP: u16 = 48333;
    let Some(rp) = realpeer() else { return };
    let work = std::env::temp_dir().join(format!("xmrd-sync-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let _cleanup = Dir(work.clone());
    let chain = work.join("chain");
    assert!(Command::new(rp.join("import-chain.sh"))
        .arg(rp.join("chains/regtest-700b-2500tx.lmdb.xz"))
        .arg(&chain)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let envs = [
        ("A_P2P".to_string(), P2P.to_string()),
        ("A_RPC".to_string(), RPC.to_string()),
        ("DEAD_PORT".to_string(), DEAD_K.to_string()),
    ];
    let out = Command::new(rp.join("serve-monerod.sh"))
        .arg("start")
        .arg(&chain)
        .arg(work.join("serve"))
        .envs(envs.clone())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    struct Stop(PathBuf, PathBuf, [(String, String); 3]);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new(self.0.join("serve-monerod.sh"))
                .arg("stop")
                .arg(self.1.join("serve"))
                .envs(self.2.clone())
                .status();
        }
    }
    let _a = Stop(rp.clone(), work.clone(), envs);
    let info = rpc(RPC, "get_info", json!({})).unwrap();
    let height = info["height"].as_u64().unwrap();
    let top = info["top_block_hash"].as_str().unwrap().to_string();

    let data = work.join("xmrd");
    let spawn = |i: usize| {
        let log = std::fs::File::create(work.join(format!("xmrd-{i}.log"))).unwrap();
        Command::new(env!("CARGO_BIN_EXE_xmrd"))
            .args([
                "--regtest",
                "--fixed-difficulty",
                "1",
                "--p2p-bind-ip",
                "127.0.0.1",
            ])
            .args(["--p2p-bind-port", &XP.to_string(), "--shards", "2"])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{P2P}")])
            .arg("--data-dir")
            .arg(&data)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
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
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
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
    let _x = Proc(spawn(99));
    let synced = wait_for("xmrd to resume to the top", 600, || {
        store_top(&data).filter(|(h, _)| *h >= height)
    });
    assert_eq!(synced, (height, top));
}
