//! `xmrd-tools rpc-bench`: `/getblocks.bin` served to a wallet refresh, xmrd against
//! monerod on the same chain, in one run. monerod M serves the chain (realpeer scripts),
//! xmrd syncs it from M; then, rounds alternating between the two, a client walks the
//! whole chain as monero-wallet-rpc's refresh does (`/getblocks.bin`, pruned, from the
//! last height it got, one keep-alive connection) and the blocks per second are timed.
//! With `--wallet`, a real monero-wallet-rpc also restores the miner wallet (a
//! transfer in every block) against each and the restore is timed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use serde_json::json;
use xmrd::testdata::realpeer::{json_rpc, post, KillOnDrop, ServedMonerod};
use xmrd::wire::epee::{self, Hashes, Limits};
use xmrd::wire::messages::rpc::{GetBlocksRequest, GetBlocksResponse};

/// Arguments of `rpc-bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The chain: a `*.lmdb.xz` made by the realpeer scripts (default: the fat 700-block
    /// chain).
    #[arg(long)]
    chain: Option<PathBuf>,
    /// The xmrd binary (default: `xmrd` beside this tool).
    #[arg(long)]
    xmrd: Option<PathBuf>,
    /// Refresh walks per node.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Also time monero-wallet-rpc restoring the miner wallet against each node.
    #[arg(long)]
    wallet: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// First loopback port to use (six are used).
    #[arg(long, default_value_t = 48600)]
    port: u16,
}

/// The public test seed of the miner wallet w0 (`realpeer/rp.py`).
const MINER_SEED: &str = "velvet lymph giddy number token physics poetry unquoted nibs useful sabotage limits benches lifestyle eden nitrogen anvil fewest avoid batch vials washing fences goat unquoted";

/// One keep-alive HTTP/1.1 connection.
struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> anyhow::Result<Self> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        s.set_nodelay(true)?;
        Ok(Client { s, buf: Vec::new() })
    }

    fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
        write!(
            self.s,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )?;
        self.s.write_all(body)?;
        let mut chunk = vec![0u8; 1 << 16];
        let (at, len) = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..p]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    bail!("{path}: {}", head.lines().next().unwrap_or(""));
                }
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .context("no content-length")?;
                break (p + 4, len);
            }
            let n = self.s.read(&mut chunk)?;
            if n == 0 {
                bail!("{path}: connection closed");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        while self.buf.len() < at + len {
            let n = self.s.read(&mut chunk)?;
            if n == 0 {
                bail!("{path}: connection closed mid-body");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body = self.buf[at..at + len].to_vec();
        self.buf.drain(..at + len);
        Ok(body)
    }
}

/// One refresh walk: blocks from height 0 to the top, pruned, as the wallet asks.
/// Returns (blocks, bytes, seconds).
fn refresh_walk(port: u16, genesis: [u8; 32]) -> anyhow::Result<(u64, u64, f64)> {
    let mut c = Client::connect(port)?;
    let started = Instant::now();
    let (mut next, mut blocks, mut bytes) = (0u64, 0u64, 0u64);
    loop {
        let req = GetBlocksRequest {
            block_ids: Hashes::from_items([genesis].iter()),
            start_height: next,
            prune: true,
            ..Default::default()
        };
        let body = c.post("/getblocks.bin", &epee::to_bytes(&req))?;
        bytes += body.len() as u64;
        let r: GetBlocksResponse = epee::from_bytes_with(&Bytes::from(body), Limits::RPC)
            .map_err(|e| anyhow::anyhow!("getblocks.bin answer: {e}"))?;
        if r.status.as_ref() != b"OK" || r.blocks.is_empty() {
            bail!("getblocks.bin from {next}: status {:?}", r.status);
        }
        blocks += r.blocks.len() as u64;
        next = r.start_height + r.blocks.len() as u64;
        if next >= r.current_height {
            break;
        }
    }
    Ok((blocks, bytes, started.elapsed().as_secs_f64()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn wallet_restore(
    port: u16,
    daemon: u16,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<f64> {
    std::fs::create_dir_all(dir)?;
    let _w = KillOnDrop(
        Command::new("monero-wallet-rpc")
            .args(["--daemon-address", &format!("127.0.0.1:{daemon}")])
            .args(["--trusted-daemon", "--no-dns", "--disable-rpc-login"])
            .args([
                "--rpc-bind-ip",
                "127.0.0.1",
                "--rpc-bind-port",
                &port.to_string(),
            ])
            .args([
                "--rpc-ssl",
                "disabled",
                "--daemon-ssl",
                "disabled",
                "--non-interactive",
            ])
            .arg("--wallet-dir")
            .arg(dir)
            .args(["--log-level", "0", "--log-file"])
            .arg(dir.join("wallet-rpc.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while json_rpc(port, "get_version", json!({})).is_none() {
        if Instant::now() > deadline {
            bail!("monero-wallet-rpc did not start");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let started = Instant::now();
    json_rpc(
        port,
        "restore_deterministic_wallet",
        json!({"filename": name, "password": "", "seed": MINER_SEED, "restore_height": 0, "language": "English"}),
    )
    .context("restore_deterministic_wallet")?;
    Ok(started.elapsed().as_secs_f64())
}

pub(crate) fn run(a: &Args) -> anyhow::Result<bool> {
    let rp = crate::bench_setup::realpeer()?;
    let chain = a
        .chain
        .clone()
        .unwrap_or_else(|| rp.join("chains/regtest-700b-2500tx.lmdb.xz"));
    let xmrd = crate::bench_setup::xmrd_binary(a.xmrd.as_deref())?;
    let work = std::env::temp_dir().join(format!("xmrd-rpc-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (m_p2p, m_rpc, dead, x_p2p, x_rpc, wallet) = (
        a.port,
        a.port + 1,
        a.port + 2,
        a.port + 3,
        a.port + 4,
        a.port + 5,
    );
    let m = ServedMonerod::start(&rp, &chain, &work.join("m"), (m_p2p, m_rpc, dead), None)
        .map_err(anyhow::Error::msg)?;
    let (height, _) = m.top().context("monerod's get_info")?;
    std::fs::create_dir_all(work.join("x"))?;
    let x = KillOnDrop(
        Command::new(&xmrd)
            .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
            .args(["--p2p-bind-port", &x_p2p.to_string()])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{m_p2p}")])
            .args([
                "--rpc-bind-ip",
                "127.0.0.1",
                "--rpc-bind-port",
                &x_rpc.to_string(),
            ])
            .args(["--rpc-ssl", "disabled"])
            .arg("--data-dir")
            .arg(work.join("x/data"))
            .stdout(std::fs::File::create(work.join("x/xmrd.log"))?)
            .stderr(Stdio::null())
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let h = post(x_rpc, "/get_height", &json!({})).and_then(|v| v["height"].as_u64());
        if h.is_some_and(|h| h >= height) {
            break;
        }
        if Instant::now() > deadline {
            bail!("xmrd did not sync the chain");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let genesis: [u8; 32] = json_rpc(m_rpc, "on_get_block_hash", json!([0]))
        .and_then(|v| v.as_str().and_then(|s| hex::decode(s).ok()))
        .and_then(|v| v.try_into().ok())
        .context("genesis id")?;
    let (mut on_m, mut on_x) = (Vec::new(), Vec::new());
    let mut bytes = (0, 0);
    for _ in 0..a.rounds {
        let (b, n, s) = refresh_walk(m_rpc, genesis)?;
        on_m.push(b as f64 / s);
        bytes.0 = n;
        let (b, n, s) = refresh_walk(x_rpc, genesis)?;
        on_x.push(b as f64 / s);
        bytes.1 = n;
    }
    let (bm, bx) = (median(on_m.clone()), median(on_x.clone()));
    let mut wallets = None;
    if a.wallet {
        let tm = wallet_restore(wallet, m_rpc, &work.join("wm"), "w0")?;
        let tx = wallet_restore(wallet, x_rpc, &work.join("wx"), "w0")?;
        wallets = Some((tm, tx));
    }
    drop(x);
    drop(m);
    let _ = std::fs::remove_dir_all(&work);
    if a.json {
        println!(
            "{}",
            json!({
                "blocks": height,
                "rounds": a.rounds,
                "monerod_blocks_per_s": bm,
                "xmrd_blocks_per_s": bx,
                "xmrd_over_monerod": bx / bm,
                "monerod_runs": on_m,
                "xmrd_runs": on_x,
                "answer_bytes": {"monerod": bytes.0, "xmrd": bytes.1},
                "wallet_restore_s": wallets.map(|(m, x)| json!({"monerod": m, "xmrd": x})),
            })
        );
    } else {
        println!(
            "chain: {height} blocks; {} refresh walks per node (median)",
            a.rounds
        );
        println!("/getblocks.bin, pruned, wallet refresh walk:");
        println!(
            "  monerod: {bm:>9.0} blocks/s  ({} bytes per walk)",
            bytes.0
        );
        println!(
            "  xmrd:    {bx:>9.0} blocks/s  ({} bytes per walk)",
            bytes.1
        );
        println!("  xmrd / monerod: {:.2}x", bx / bm);
        if let Some((m, x)) = wallets {
            println!(
                "monero-wallet-rpc restore of the miner wallet: monerod {m:.1} s, xmrd {x:.1} s"
            );
        }
    }
    Ok(true)
}
