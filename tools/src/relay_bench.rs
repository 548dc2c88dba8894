//! `xmrd-tools relay-bench`: the hop latency of a new block through a node, xmrd and
//! monerod measured in the same run on the same chain.
//!
//! monerod A serves a regtest chain and mines blocks one at a time. The node under test
//! has A as its only peer. Two synthetic peers (the node's own P2P machine, no
//! verification) watch for the block: one connected to A, one to the node. A block's hop
//! is the time from the first probe reading it from A to the second reading it from the
//! node: the node's receive, checks (proof of work included) and relay, plus loopback.
//! p50/p99/max over `--blocks` blocks per node.
//!
//! xmrd runs in each `--xmrd-modes` RandomX mode; in `auto` (its default) and `fast` the
//! bench waits for the fast-mode dataset before mining. monerod runs as Debian ships it
//! (light mode).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use xmrd::testdata::probe::{mine_and_time_hops, quantile, watch_blocks, Probe, Side};
use xmrd::testdata::realpeer::{json_rpc, KillOnDrop, ServedMonerod, XMRD_REGTEST_FLAGS};
use xmrd::wire::messages::CoreSyncData;

/// Arguments of `relay-bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The chain A serves: a `*.lmdb.xz` made by the realpeer scripts.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// The xmrd binary (default: `xmrd` beside this tool).
    #[arg(long)]
    xmrd: Option<PathBuf>,
    /// Blocks mined per node.
    #[arg(long, default_value_t = 50)]
    blocks: usize,
    /// xmrd's RandomX modes to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "auto,light")]
    xmrd_modes: Vec<String>,
    /// Skip monerod as the node.
    #[arg(long)]
    no_monerod: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// First loopback port to use (seven are used).
    #[arg(long, default_value_t = 48600)]
    port: u16,
}

/// How long a block may take to cross before it counts as not relayed.
const PATIENCE: Duration = Duration::from_secs(10);
/// Pause between blocks, so that each hop is measured on an idle node.
const PAUSE: Duration = Duration::from_millis(300);

fn shared() -> anyhow::Result<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !p.join("realpeer").is_dir() {
        bail!("{} has no realpeer/ (set XMRD_SHARED)", p.display());
    }
    Ok(p)
}

/// The chain tip a monerod reports, as a probe claims it (so that the node treats the
/// probe as synced and relays to it).
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

/// The figures of one node.
struct Run {
    node: String,
    hops: Vec<Option<Duration>>,
    /// xmrd's own account of where the time went (per-core relay-stage tables).
    stages: Option<String>,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        let got: Vec<Duration> = self.hops.iter().flatten().copied().collect();
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3);
        json!({
            "node": self.node,
            "blocks": self.hops.len(),
            "relayed": got.len(),
            "p50_ms": ms(quantile(&got, 0.5)),
            "p99_ms": ms(quantile(&got, 0.99)),
            "max_ms": ms(got.iter().max().copied()),
            "hops_ms": self.hops.iter().map(|h| ms(*h)).collect::<Vec<_>>(),
            "stages": self.stages,
        })
    }
}

/// Watches A and the node, mines, and times each block's hop.
fn time_hops(
    a_p2p: u16,
    a_rpc: u16,
    node_p2p: u16,
    address: &str,
    blocks: usize,
) -> anyhow::Result<Vec<Option<Duration>>> {
    let sync = tip(a_rpc)?;
    let at = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let source = Probe::connect(at(a_p2p), sync.clone()).context("probe on A")?;
    let node = Probe::connect(at(node_p2p), sync).context("probe on the node")?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let w1 = watch_blocks(source, Side::Source, tx.clone(), Arc::clone(&stop));
    let w2 = watch_blocks(node, Side::Node, tx, Arc::clone(&stop));
    // Let the node see the probe as a synced peer before the first block.
    std::thread::sleep(Duration::from_secs(2));
    let hops = mine_and_time_hops(a_rpc, address, blocks, &rx, PATIENCE, PAUSE)
        .map_err(anyhow::Error::msg);
    stop.store(true, Ordering::Relaxed);
    let _ = w1.join();
    let _ = w2.join();
    hops
}

fn wait_log(log: &Path, needle: &str, secs: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if std::fs::read_to_string(log).is_ok_and(|t| t.contains(needle)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("`{needle}` not in {} after {secs} s", log.display())
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
    let work = std::env::temp_dir().join(format!("xmrd-relay-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (a_p2p, a_rpc, dead) = (a.port, a.port + 1, a.port + 2);
    let (n_p2p, n_rpc, n_dead) = (a.port + 3, a.port + 4, a.port + 5);
    let source = ServedMonerod::start(&rp, &chain, &work.join("a"), (a_p2p, a_rpc, dead), None)
        .map_err(anyhow::Error::msg)?;
    let mut runs = Vec::new();

    if !a.no_monerod {
        let n = ServedMonerod::start(
            &rp,
            &chain,
            &work.join("n"),
            (n_p2p, n_rpc, n_dead),
            Some(a_p2p),
        )
        .map_err(anyhow::Error::msg)?;
        // The node must be connected to A before A mines.
        std::thread::sleep(Duration::from_secs(3));
        let hops = time_hops(a_p2p, a_rpc, n_p2p, &address, a.blocks)?;
        runs.push(Run {
            node: "monerod".into(),
            hops,
            stages: None,
        });
        drop(n);
    }

    for mode in &a.xmrd_modes {
        let dir = work.join(format!("xmrd-{mode}"));
        std::fs::create_dir_all(&dir)?;
        let log = dir.join("xmrd.log");
        let metrics = format!("127.0.0.1:{}", a.port + 6);
        let mut flags: Vec<&str> = XMRD_REGTEST_FLAGS.to_vec();
        if let Some(i) = flags.iter().position(|f| *f == "--randomx-mode") {
            flags.drain(i..i + 2);
        }
        let x = KillOnDrop(
            Command::new(&xmrd)
                .args(&flags)
                .args(["--randomx-mode", mode])
                .args(["--p2p-bind-port", &n_p2p.to_string()])
                .args(["--add-exclusive-node", &format!("127.0.0.1:{a_p2p}")])
                .args(["--metrics-bind", &metrics])
                .arg("--data-dir")
                .arg(dir.join("data"))
                .args(["--log-level", "info"])
                .stdout(std::fs::File::create(&log)?)
                .stderr(Stdio::null())
                .spawn()
                .context("xmrd")?,
        );
        let (height, _) = source.top().context("A's top")?;
        let store = xmrd_storage::chain_path(&dir.join("data"));
        let deadline = Instant::now() + Duration::from_secs(1800);
        while xmrd_storage::inspect(&store, false).map_or(0, |i| i.view.block_count) < height {
            if Instant::now() > deadline {
                bail!("xmrd did not sync A's chain");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        if mode != "light" {
            wait_log(&log, "dataset built, hashing in fast mode", 600)?;
        }
        let hops = time_hops(a_p2p, a_rpc, n_p2p, &address, a.blocks)?;
        let stages = crate::latency_report::fetch(&metrics)
            .map(|snap| crate::latency_report::tables(&snap, "xmrd_relay_block"))
            .ok();
        runs.push(Run {
            node: format!("xmrd ({mode})"),
            hops,
            stages,
        });
        drop(x);
    }
    drop(source);
    let _ = std::fs::remove_dir_all(&work);

    let results: Vec<serde_json::Value> = runs.iter().map(Run::json).collect();
    let p50 = |name: &str| {
        results
            .iter()
            .find(|r| r["node"].as_str().is_some_and(|n| n.starts_with(name)))
            .and_then(|r| r["p50_ms"].as_f64())
    };
    let ratio = match (p50("monerod"), p50("xmrd")) {
        (Some(m), Some(x)) if x > 0.0 => Some(m / x),
        _ => None,
    };
    let all_relayed = runs.iter().all(|r| r.hops.iter().all(Option::is_some));
    if a.json {
        println!(
            "{}",
            json!({"runs": results, "p50_monerod_over_first_xmrd": ratio, "all_relayed": all_relayed})
        );
    } else {
        println!("relay hop A -> node -> probe, {} blocks each", a.blocks);
        println!(
            "{:<16} {:>8} {:>9} {:>9} {:>9}",
            "node", "relayed", "p50 ms", "p99 ms", "max ms"
        );
        for r in &results {
            let f = |k: &str| r[k].as_f64().map_or("-".into(), |v| format!("{v:.2}"));
            println!(
                "{:<16} {:>8} {:>9} {:>9} {:>9}",
                r["node"].as_str().unwrap_or_default(),
                format!("{}/{}", r["relayed"], r["blocks"]),
                f("p50_ms"),
                f("p99_ms"),
                f("max_ms")
            );
        }
        if let Some(r) = ratio {
            println!(
                "p50 monerod / xmrd ({}): {r:.2}x",
                a.xmrd_modes.first().map_or("", |s| s)
            );
        }
        for r in &runs {
            if let Some(t) = &r.stages {
                println!(
                    "\n{}: from the read that completed the block to each stage\n{t}",
                    r.node
                );
            }
        }
    }
    Ok(all_relayed)
}
