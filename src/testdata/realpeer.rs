//! The real monerod on loopback, for interop tests and the sync benchmark: the shared
//! `realpeer/` scripts, a minimal JSON-RPC client, and process guards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The shared `realpeer/` folder, if it is there and monerod is installed; prints why a test
/// skips otherwise.
pub fn realpeer() -> Option<PathBuf> {
    let dir = super::shared_subdir("realpeer")?;
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

/// One HTTP/1.0 POST of `body` to monerod's RPC at `path`; the JSON it answers.
pub fn post(port: u16, path: &str, body: &Value) -> Option<Value> {
    let (_, answer) = post_raw(port, path, "application/json", body.to_string().as_bytes())?;
    serde_json::from_slice(&answer).ok()
}

/// One HTTP/1.0 POST of `body` (of `content_type`) to the RPC at `path`: the answer's
/// status code and body.
pub fn post_raw(port: u16, path: &str, content_type: &str, body: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(600))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .ok()?;
    s.write_all(body).ok()?;
    // The head, then exactly Content-Length bytes (monerod may keep the socket open).
    let mut resp = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let (at, len, status) = loop {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        resp.extend_from_slice(buf.get(..n)?);
        if let Some(p) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(resp.get(..p)?).to_ascii_lowercase();
            let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())?;
            break (p + 4, len, status);
        }
    };
    while resp.len() < at + len {
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        resp.extend_from_slice(buf.get(..n)?);
    }
    Some((status, resp.get(at..at + len)?.to_vec()))
}

/// One HTTP/1.1 GET over plain TCP to the loopback `port` (the server closes the
/// connection after answering); the status line and the body.
pub fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })?
        .trim()
        .parse()
        .ok()?;
    if body.len() != len {
        return None;
    }
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// A JSON-RPC call; its `result`.
pub fn json_rpc(port: u16, method: &str, params: Value) -> Option<Value> {
    let v = post(
        port,
        "/json_rpc",
        &json!({"jsonrpc": "2.0", "id": "0", "method": method, "params": params}),
    )?;
    Some(v.get("result")?.clone())
}

/// Polls `f` every 250 ms until it gives a value; panics after `secs` (test support).
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A child process stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        super::terminate(&mut self.0, Duration::from_secs(10));
    }
}

/// A reference monerod serving an imported chain (`import-chain.sh` + `serve-monerod.sh`),
/// stopped and its folder removed when dropped.
#[derive(Debug)]
pub struct ServedMonerod {
    rp: PathBuf,
    work: PathBuf,
    envs: Vec<(String, String)>,
    /// Its P2P port.
    pub p2p: u16,
    /// Its RPC port.
    pub rpc: u16,
}

impl ServedMonerod {
    /// Imports `chain` (a `*.lmdb.xz` under `rp/chains/` or a path) into `work` and serves
    /// it on `p2p`/`rpc`; `dial` is the one address it connects out to (default: `dead`).
    pub fn start(
        rp: &Path,
        chain: &Path,
        work: &Path,
        (p2p, rpc, dead): (u16, u16, u16),
        dial: Option<u16>,
    ) -> Result<Self, String> {
        Self::start_with_flags(rp, chain, work, (p2p, rpc, dead), dial, "")
    }

    /// [`ServedMonerod::start`] with extra monerod flags (`A_FLAGS` of the script, e.g.
    /// `--limit-rate-up 1000000`).
    pub fn start_with_flags(
        rp: &Path,
        chain: &Path,
        work: &Path,
        (p2p, rpc, dead): (u16, u16, u16),
        dial: Option<u16>,
        flags: &str,
    ) -> Result<Self, String> {
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        let imported = work.join("chain");
        let ok = Command::new(rp.join("import-chain.sh"))
            .arg(chain)
            .arg(&imported)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?
            .success();
        if !ok {
            return Err("import-chain.sh failed".into());
        }
        let envs = vec![
            ("A_P2P".to_string(), p2p.to_string()),
            ("A_RPC".to_string(), rpc.to_string()),
            ("DEAD_PORT".to_string(), dead.to_string()),
            ("A_FLAGS".to_string(), flags.to_string()),
        ];
        let mut cmd = Command::new(rp.join("serve-monerod.sh"));
        cmd.arg("start").arg(&imported).arg(work.join("serve"));
        if let Some(d) = dial {
            cmd.arg(format!("127.0.0.1:{d}"));
        }
        let out = cmd.envs(envs.clone()).output().map_err(|e| e.to_string())?;
        let served = ServedMonerod {
            rp: rp.to_path_buf(),
            work: work.to_path_buf(),
            envs,
            p2p,
            rpc,
        };
        if !out.status.success() {
            return Err(format!(
                "monerod did not start: {}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        Ok(served)
    }

    /// Its chain height and top block id (hex), from `get_info`.
    pub fn top(&self) -> Option<(u64, String)> {
        let i = json_rpc(self.rpc, "get_info", json!({}))?;
        Some((
            i.get("height")?.as_u64()?,
            i.get("top_block_hash")?.as_str()?.to_string(),
        ))
    }
}

impl Drop for ServedMonerod {
    fn drop(&mut self) {
        let _ = Command::new(self.rp.join("serve-monerod.sh"))
            .arg("stop")
            .arg(self.work.join("serve"))
            .envs(self.envs.clone())
            .status();
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The flags every test and benchmark xmrd runs with: regtest at difficulty 1, loopback
/// only, and RandomX in light mode as monerod's, so that no run builds the 2 GiB dataset
/// that the default `auto` builds once synced (benchmarks that want it say so).
pub const XMRD_REGTEST_FLAGS: &[&str] = &[
    "--regtest",
    "--fixed-difficulty",
    "1",
    "--p2p-bind-ip",
    "127.0.0.1",
    "--randomx-mode",
    "light",
];

/// The flags every test monerod runs with (`RP_SAFE_FLAGS` of `realpeer/common.sh`):
/// regtest at difficulty 1, loopback only, no DNS, UPnP, update checks or ZMQ.
pub const MONEROD_SAFE_FLAGS: &[&str] = &[
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
];

/// Starts an empty regtest monerod (fixed difficulty 1, loopback only, the flags of
/// `realpeer/common.sh`) in `data_dir` that dials only `127.0.0.1:dial`.
pub fn fresh_monerod(
    data_dir: &Path,
    p2p: u16,
    rpc: u16,
    dial: u16,
) -> std::io::Result<KillOnDrop> {
    std::fs::create_dir_all(data_dir)?;
    let child = Command::new("monerod")
        .args(MONEROD_SAFE_FLAGS)
        .args([
            "--p2p-bind-port",
            &p2p.to_string(),
            "--rpc-bind-port",
            &rpc.to_string(),
        ])
        .args(["--add-exclusive-node", &format!("127.0.0.1:{dial}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log-level", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(KillOnDrop(child))
}

/// The height and top id of the chain store under an xmrd data dir, read-only while xmrd
/// runs (what `xmrd-tools db-info --json` prints).
#[cfg(feature = "node")]
pub fn store_top(data_dir: &Path) -> Option<(u64, [u8; 32])> {
    let info = xmrd_storage::inspect(&xmrd_storage::chain_path(data_dir), false).ok()?;
    Some((info.view.block_count, info.view.top_hash))
}

/// Starts the xmrd binary `bin` (a test's `env!("CARGO_BIN_EXE_xmrd")`) on regtest at
/// fixed difficulty 1, loopback only, two shards, its store under `data`, connecting only
/// to the loopback P2P ports `dial`; its log goes to `log`.
pub fn spawn_xmrd(
    bin: &Path,
    data: &Path,
    p2p: u16,
    dial: &[u16],
    log: &Path,
) -> std::io::Result<KillOnDrop> {
    spawn_xmrd_with(bin, data, p2p, dial, log, &[])
}

/// [`spawn_xmrd`] with extra flags.
pub fn spawn_xmrd_with(
    bin: &Path,
    data: &Path,
    p2p: u16,
    dial: &[u16],
    log: &Path,
    extra: &[&str],
) -> std::io::Result<KillOnDrop> {
    let mut cmd = Command::new(bin);
    cmd.args(extra);
    cmd.args(XMRD_REGTEST_FLAGS)
        .args(["--shards", "2"])
        .args(["--p2p-bind-port", &p2p.to_string()]);
    for d in dial {
        cmd.args(["--add-exclusive-node", &format!("127.0.0.1:{d}")]);
    }
    let child = cmd
        .arg("--data-dir")
        .arg(data)
        .args(["--log-level", "xmrd=debug,info"])
        .stdout(std::fs::File::create(log)?)
        .stderr(Stdio::null())
        .spawn()?;
    Ok(KillOnDrop(child))
}

/// A new empty folder under the temp dir, named for `tag` and this process.
pub fn temp_dir(tag: &str) -> std::io::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("xmrd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
