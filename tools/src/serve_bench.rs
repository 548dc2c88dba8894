//! `xmrd-tools serve-bench`: what serving the chain to a crowd of syncing peers costs a
//! node, and what it does to relay latency meanwhile; xmrd and monerod in the same run.
//!
//! monerod A serves a regtest chain and mines. The node under test has A as its only
//! peer and the whole chain. `--peers` synthetic levin peers (no verification: they walk
//! the chain with 2006 and fetch every block with 2003, [`fetch_chain`]) download the
//! whole chain from the node again and again while A mines `--blocks` blocks and two
//! probes time each block's hop through the node. Reported per node, over that window:
//! MB/s served, the node's CPU-seconds per GB served (`/proc/PID/stat`), and the relay
//! hop p50/p99 — plus the idle hop p50 measured just before, for the ratio.
//!
//! Upload limits are lifted on both (monerod `--limit-rate-up 1000000`, xmrd
//! `--limit-rate-up 0 --limit-rate-up-per-peer 0`) unless `--default-limits`: then each
//! runs with its defaults (2048 kB/s both), which is what `relay_under_load` tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use xmrd::p2p::Network;
use xmrd::testdata::probe::{mine_and_time_hops, quantile, spawn_crowd, watch_blocks, Probe, Side};
use xmrd::testdata::realpeer::{json_rpc, KillOnDrop, ServedMonerod, XMRD_REGTEST_FLAGS};
use xmrd::wire::messages::CoreSyncData;

/// Arguments of `serve-bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The chain: a `*.lmdb.xz` made by the realpeer scripts.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// The xmrd binary (default: `xmrd` beside this tool).
    #[arg(long)]
    xmrd: Option<PathBuf>,
    /// Synthetic syncing peers. monerod as served here takes at most 8 connections from
    /// one IP, and the relay probe is one of them.
    #[arg(long, default_value_t = 7)]
    peers: usize,
    /// Blocks mined while the crowd fetches (and before, idle).
    #[arg(long, default_value_t = 20)]
    blocks: usize,
    /// Which nodes to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "monerod,xmrd")]
    nodes: Vec<String>,
    /// Keep each node's default upload limits instead of lifting them.
    #[arg(long)]
    default_limits: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// First loopback port to use (six are used).
    #[arg(long, default_value_t = 48700)]
    port: u16,
}

/// How long a block may take to cross before it counts as not relayed.
const PATIENCE: Duration = Duration::from_secs(10);
/// Pause between mined blocks.
const PAUSE: Duration = Duration::from_millis(500);

fn shared() -> anyhow::Result<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !p.join("realpeer").is_dir() {
        bail!("{} has no realpeer/ (set XMRD_SHARED)", p.display());
    }
    Ok(p)
}

fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    Ok((ut + st) / 100.0) // CLK_TCK on Linux
}

fn tip(rpc: u16) -> anyhow::Result<CoreSyncData> {
    let i = json_rpc(rpc, "get_info", json!({})).context("get_info")?;
    let top: [u8; 32] = hex::decode(i["top_block_hash"].as_str().unwrap_or_default())?
        .try_into()
        .map_err(|_| anyhow::anyhow!("bad top hash"))?;
    Ok(CoreSyncData {
        cumulative_difficulty: i["cumulative_difficulty"].as_u64().unwrap_or(0),
        current_height: i["height"].as_u64().unwrap_or(0),
        top_id: top,
        top_version: Some(16),
        ..Default::default()
    })
}

/// Measures one node (its process `pid`, P2P port `node_p2p`).
fn measure(
    name: &str,
    pid: u32,
    (a_p2p, a_rpc, node_p2p): (u16, u16, u16),
    address: &str,
    a: &Args,
) -> anyhow::Result<serde_json::Value> {
    let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let sync = tip(a_rpc)?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let w1 = watch_blocks(
        Probe::connect(at(a_p2p), sync.clone()).context("probe on A")?,
        Side::Source,
        tx.clone(),
        Arc::clone(&stop),
    );
    let w2 = watch_blocks(
        Probe::connect(at(node_p2p), sync).context("probe on the node")?,
        Side::Node,
        tx,
        Arc::clone(&stop),
    );
    std::thread::sleep(Duration::from_secs(2));
    let idle = mine_and_time_hops(a_rpc, address, a.blocks, &rx, PATIENCE, PAUSE)
        .map_err(anyhow::Error::msg)?;

    let crowd_stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicU64::new(0));
    let crowd = spawn_crowd(
        at(node_p2p),
        Network::Mainnet.genesis_id(),
        a.peers,
        Arc::clone(&served),
        Arc::clone(&crowd_stop),
    );
    // Let the crowd get going, then measure over the mining window.
    std::thread::sleep(Duration::from_secs(2));
    let (b0, c0, t0) = (
        served.load(Ordering::Relaxed),
        cpu_seconds(pid)?,
        Instant::now(),
    );
    let loaded = mine_and_time_hops(a_rpc, address, a.blocks, &rx, PATIENCE, PAUSE)
        .map_err(anyhow::Error::msg)?;
    let (b1, c1, secs) = (
        served.load(Ordering::Relaxed),
        cpu_seconds(pid)?,
        t0.elapsed().as_secs_f64(),
    );
    crowd_stop.store(true, Ordering::Relaxed);
    for h in crowd {
        let _ = h.join();
    }
    stop.store(true, Ordering::Relaxed);
    let _ = w1.join();
    let _ = w2.join();

    #[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
    let bytes = (b1 - b0) as f64;
    let cpu = c1 - c0;
    let ms = |v: &[Option<Duration>], q: f64| {
        let got: Vec<Duration> = v.iter().flatten().copied().collect();
        quantile(&got, q).map(|d| d.as_secs_f64() * 1e3)
    };
    Ok(json!({
        "node": name,
        "peers": a.peers,
        "window_s": secs,
        "served_mb": bytes / 1e6,
        "served_mb_per_s": bytes / 1e6 / secs,
        "cpu_s": cpu,
        "cpu_s_per_gb": if bytes > 0.0 { Some(cpu / (bytes / 1e9)) } else { None },
        "idle_hop_p50_ms": ms(&idle, 0.5),
        "loaded_hop_p50_ms": ms(&loaded, 0.5),
        "loaded_hop_p99_ms": ms(&loaded, 0.99),
        "relayed": loaded.iter().flatten().count() + idle.iter().flatten().count(),
        "mined": loaded.len() + idle.len(),
    }))
}

pub(crate) fn run(a: &Args) -> anyhow::Result<bool> {
    let shared = shared()?;
    let rp = shared.join("realpeer");
    let chain = a
        .chain
        .clone()
        .unwrap_or_else(|| rp.join("chains/regtest-700b-2500tx.lmdb.xz"));
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(chain.with_extension("").with_extension("json"))
            .context("the chain's .json")?,
    )?;
    let address = info["receivers"][0]
        .as_str()
        .context("no receiver address in the chain's .json")?
        .to_string();
    let xmrd = a.xmrd.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("xmrd")))
            .unwrap_or_else(|| PathBuf::from("xmrd"))
    });
    if !xmrd.exists() {
        bail!(
            "xmrd binary {} not found (build it or pass --xmrd)",
            xmrd.display()
        );
    }
    let work = std::env::temp_dir().join(format!("xmrd-serve-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (a_p2p, a_rpc, dead) = (a.port, a.port + 1, a.port + 2);
    let source = ServedMonerod::start(&rp, &chain, &work.join("a"), (a_p2p, a_rpc, dead), None)
        .map_err(anyhow::Error::msg)?;
    let mut results = Vec::new();

    for node in &a.nodes {
        match node.as_str() {
            "monerod" => results.push(measure_monerod(a, &rp, &chain, &work, &address)?),
            "xmrd" => results.push(measure_xmrd(a, &xmrd, &work, &source, &address)?),
            other => bail!("unknown node {other} (monerod or xmrd)"),
        }
    }
    drop(source);
    let _ = std::fs::remove_dir_all(&work);
    report(a, &results)
}

fn measure_monerod(
    a: &Args,
    rp: &Path,
    chain: &Path,
    work: &Path,
    address: &str,
) -> anyhow::Result<serde_json::Value> {
    let (a_p2p, a_rpc) = (a.port, a.port + 1);
    let (n_p2p, n_rpc, n_dead) = (a.port + 3, a.port + 4, a.port + 5);
    let limits = if a.default_limits {
        ""
    } else {
        "--limit-rate-up 1000000"
    };
    let n = ServedMonerod::start_with_flags(
        rp,
        chain,
        &work.join("n"),
        (n_p2p, n_rpc, n_dead),
        Some(a_p2p),
        limits,
    )
    .map_err(anyhow::Error::msg)?;
    std::thread::sleep(Duration::from_secs(3));
    let pid: u32 = std::fs::read_to_string(work.join("n/serve/A.pid"))
        .context("monerod's pid file")?
        .trim()
        .parse()?;
    let r = measure("monerod", pid, (a_p2p, a_rpc, n_p2p), address, a);
    drop(n);
    r
}

fn measure_xmrd(
    a: &Args,
    xmrd: &Path,
    work: &Path,
    source: &ServedMonerod,
    address: &str,
) -> anyhow::Result<serde_json::Value> {
    let (a_p2p, a_rpc) = (a.port, a.port + 1);
    let n_p2p = a.port + 3;
    // Synced from A first.
    let dir = work.join("xmrd");
    std::fs::create_dir_all(&dir)?;
    let mut cmd = Command::new(xmrd);
    cmd.args(XMRD_REGTEST_FLAGS)
        .args(["--p2p-bind-port", &n_p2p.to_string()])
        .args(["--add-exclusive-node", &format!("127.0.0.1:{a_p2p}")])
        .args(["--max-connections-per-ip", "64"]);
    if !a.default_limits {
        cmd.args(["--limit-rate-up", "0", "--limit-rate-up-per-peer", "0"]);
    }
    let x = KillOnDrop(
        cmd.arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("xmrd")?,
    );
    let (height, _) = source.top().context("A's top")?;
    wait_synced(&dir.join("data"), height)?;
    let r = measure("xmrd", x.0.id(), (a_p2p, a_rpc, n_p2p), address, a);
    drop(x);
    r
}

fn report(a: &Args, results: &[serde_json::Value]) -> anyhow::Result<bool> {
    let f = |i: usize, k: &str| results.get(i).and_then(|r| r[k].as_f64());
    let cpu_ratio = match (f(0, "cpu_s_per_gb"), f(1, "cpu_s_per_gb")) {
        (Some(m), Some(x)) if x > 0.0 => Some(m / x),
        _ => None,
    };
    let all_relayed = results
        .iter()
        .all(|r| r["relayed"].as_u64() == r["mined"].as_u64());
    if a.json {
        println!(
            "{}",
            json!({"runs": results, "cpu_per_gb_monerod_over_xmrd": cpu_ratio, "all_relayed": all_relayed})
        );
    } else {
        println!(
            "serve the whole chain to {} syncing peers while {} blocks are relayed ({})",
            a.peers,
            a.blocks,
            if a.default_limits {
                "default upload limits"
            } else {
                "upload limits lifted"
            }
        );
        println!(
            "{:<8} {:>9} {:>11} {:>10} {:>12} {:>13} {:>13}",
            "node",
            "MB/s",
            "CPU-s/GB",
            "served MB",
            "idle p50 ms",
            "loaded p50 ms",
            "loaded p99 ms"
        );
        for r in results {
            let v = |k: &str| r[k].as_f64().map_or("-".into(), |v| format!("{v:.2}"));
            println!(
                "{:<8} {:>9} {:>11} {:>10} {:>12} {:>13} {:>13}",
                r["node"].as_str().unwrap_or_default(),
                v("served_mb_per_s"),
                v("cpu_s_per_gb"),
                v("served_mb"),
                v("idle_hop_p50_ms"),
                v("loaded_hop_p50_ms"),
                v("loaded_hop_p99_ms")
            );
        }
        if let Some(r) = cpu_ratio {
            println!("CPU per GB served, monerod / xmrd: {r:.2}x");
        }
    }
    Ok(all_relayed)
}

fn wait_synced(data: &Path, height: u64) -> anyhow::Result<()> {
    let store = xmrd_storage::chain_path(data);
    let deadline = Instant::now() + Duration::from_secs(1800);
    while xmrd_storage::inspect(&store, false).map_or(0, |i| i.view.block_count) < height {
        if Instant::now() > deadline {
            bail!("xmrd did not sync A's chain");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}
