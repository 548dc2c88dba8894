//! `xmrd-tools sync-bench`: in one run, on one chain, times a fresh monerod syncing from a
//! monerod and a fresh xmrd syncing from the same monerod. Each is measured from spawn to
//! its chain reaching the serving monerod's height: wall time, CPU seconds (user + system,
//! from `/proc/PID/stat`) and peak RSS (`VmHWM`), then the ratios monerod / xmrd.
//!
//! Uses `../shared/realpeer/` (`import-chain.sh`, `serve-monerod.sh`) and Debian's monerod.
//! xmrd runs with its defaults (RandomX light mode, every block and proof verified).
//!
//! Also measured in the same run: the RandomX floor, the time to compute just the PoW hashes
//! of the synced chain's blocks (light mode, as both daemons use here) spread over every
//! core, cache initialisation included; and each daemon's peak RSS beyond one light-mode
//! RandomX cache (256 MiB).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use xmrd::testdata::realpeer::{fresh_monerod, json_rpc, KillOnDrop, ServedMonerod};

/// Arguments of `sync-bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The chain to sync: a `*.lmdb.xz` made by the realpeer scripts.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// The xmrd binary (default: `xmrd` beside this tool).
    #[arg(long)]
    xmrd: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// First loopback port to use (five are used).
    #[arg(long, default_value_t = 48500)]
    port: u16,
    /// Give up on a sync after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout_secs: u64,
    /// Also write a Markdown report with plots (blocks/s and RSS over time) into this folder.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// One light-mode RandomX cache (`RANDOMX_ARGON_MEMORY`, 256 MiB).
const RANDOMX_CACHE_MIB: f64 = 256.0;

struct Measured {
    wall: f64,
    cpu: f64,
    peak_rss_mib: f64,
}

fn shared() -> anyhow::Result<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !p.join("realpeer").is_dir() {
        bail!("{} has no realpeer/ (set XMRD_SHARED)", p.display());
    }
    Ok(p)
}

/// CPU seconds and peak RSS (MiB) of a live process.
fn proc_stats(pid: u32) -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let hz = 100.0; // CLK_TCK on Linux
    let ut: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let st: f64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    Ok(((ut + st) / hz, hwm_kib / 1024.0))
}

fn rpc_info(port: u16) -> Option<serde_json::Value> {
    json_rpc(port, "get_info", json!({}))
}

/// Waits until `height_of()` reaches `height`, sampling the process; returns the figures
/// at that moment.
fn measure(
    pid: u32,
    started: Instant,
    height: u64,
    timeout: Duration,
    trace: &mut crate::sync_report::Trace,
    mut height_of: impl FnMut() -> Option<u64>,
) -> anyhow::Result<Measured> {
    loop {
        let h = height_of();
        trace.sample(pid, started.elapsed().as_secs_f64(), h.unwrap_or(0));
        if h.is_some_and(|h| h >= height) {
            let wall = started.elapsed().as_secs_f64();
            let (cpu, peak_rss_mib) = proc_stats(pid)?;
            return Ok(Measured {
                wall,
                cpu,
                peak_rss_mib,
            });
        }
        if started.elapsed() > timeout {
            bail!("sync did not finish in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub(crate) fn run(a: &Args) -> anyhow::Result<bool> {
    let shared = shared()?;
    let rp = shared.join("realpeer");
    let chain = a
        .chain
        .clone()
        .unwrap_or_else(|| rp.join("chains/regtest-700b-2500tx.lmdb.xz"));
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
    let work = std::env::temp_dir().join(format!("xmrd-sync-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (a_p2p, a_rpc, dead, b_p2p, b_rpc) =
        (a.port, a.port + 1, a.port + 2, a.port + 3, a.port + 4);
    let served = ServedMonerod::start(&rp, &chain, &work.join("a"), (a_p2p, a_rpc, dead), None)
        .map_err(anyhow::Error::msg)?;
    let info = rpc_info(a_rpc).context("monerod A's RPC")?;
    let height = info["height"].as_u64().context("height")?;
    let top = info["top_block_hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let timeout = Duration::from_secs(a.timeout_secs);

    // monerod B from A.
    let started = Instant::now();
    let b = fresh_monerod(&work.join("B"), b_p2p, b_rpc, a_p2p).context("monerod")?;
    let mut m_trace = crate::sync_report::Trace::new("monerod");
    let m = measure(b.0.id(), started, height, timeout, &mut m_trace, || {
        rpc_info(b_rpc).and_then(|i| i["height"].as_u64())
    })?;
    let b_top = rpc_info(b_rpc).and_then(|i| i["top_block_hash"].as_str().map(String::from));
    drop(b);

    // xmrd from A.
    let x_dir = work.join("xmrd");
    let started = Instant::now();
    let x = KillOnDrop(
        Command::new(&xmrd)
            // Light RandomX, as the monerod it is measured against.
            .args(xmrd::testdata::realpeer::XMRD_REGTEST_FLAGS)
            .args(["--p2p-bind-port", &b_p2p.to_string()])
            .args(["--add-exclusive-node", &format!("127.0.0.1:{a_p2p}")])
            .arg("--data-dir")
            .arg(&x_dir)
            .args(["--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("xmrd")?,
    );
    let store = xmrd_storage::chain_path(&x_dir);
    let x_top = std::cell::RefCell::new(String::new());
    let mut x_trace = crate::sync_report::Trace::new("xmrd");
    let xm = measure(x.0.id(), started, height, timeout, &mut x_trace, || {
        let i = xmrd_storage::inspect(Path::new(&store), false).ok()?;
        *x_top.borrow_mut() = hex::encode(i.view.top_hash);
        Some(i.view.block_count)
    })?;
    drop(x);
    drop(served);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let floor = randomx_floor(&store, threads);
    let _ = std::fs::remove_dir_all(&work);
    let floor = floor?;

    let ok = b_top.as_deref() == Some(top.as_str()) && *x_top.borrow() == top;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let beyond = |rss: f64| (rss - RANDOMX_CACHE_MIB).max(0.0);
    let v = json!({
        "blocks": height,
        "top_hash": top,
        "tops_match": ok,
        "monerod": {"wall_s": m.wall, "cpu_s": m.cpu, "peak_rss_mib": m.peak_rss_mib},
        "xmrd": {"wall_s": xm.wall, "cpu_s": xm.cpu, "peak_rss_mib": xm.peak_rss_mib},
        "ratio_monerod_over_xmrd": {
            "wall": ratio(m.wall, xm.wall),
            "cpu": ratio(m.cpu, xm.cpu),
            "peak_rss": ratio(m.peak_rss_mib, xm.peak_rss_mib),
            "rss_beyond_randomx_cache": ratio(beyond(m.peak_rss_mib), beyond(xm.peak_rss_mib)),
        },
        "rss_beyond_randomx_cache_mib": {
            "monerod": beyond(m.peak_rss_mib),
            "xmrd": beyond(xm.peak_rss_mib),
        },
        "randomx_floor": {
            "threads": threads,
            "hashes": floor.1,
            "wall_s": floor.0,
            "xmrd_wall_over_floor": ratio(xm.wall, floor.0),
        },
    });
    let lines = [
        format!("chain: {height} blocks, top {top} (both ended there: {ok})"),
        format!(
            "monerod from monerod: wall {:.1} s, cpu {:.1} s, peak RSS {:.0} MiB",
            m.wall, m.cpu, m.peak_rss_mib
        ),
        format!(
            "xmrd from monerod:    wall {:.1} s, cpu {:.1} s, peak RSS {:.0} MiB",
            xm.wall, xm.cpu, xm.peak_rss_mib
        ),
        format!(
            "monerod / xmrd: wall {:.2}x, cpu {:.2}x, peak RSS {:.2}x",
            ratio(m.wall, xm.wall),
            ratio(m.cpu, xm.cpu),
            ratio(m.peak_rss_mib, xm.peak_rss_mib)
        ),
        format!(
            "peak RSS beyond one RandomX cache: monerod {:.0} MiB, xmrd {:.0} MiB ({:.2}x)",
            beyond(m.peak_rss_mib),
            beyond(xm.peak_rss_mib),
            ratio(beyond(m.peak_rss_mib), beyond(xm.peak_rss_mib))
        ),
        format!(
            "RandomX floor: {} PoW hashes on {threads} threads in {:.1} s; xmrd's sync took {:.2}x that",
            floor.1,
            floor.0,
            ratio(xm.wall, floor.0)
        ),
    ];
    if a.json {
        println!("{v}");
    } else {
        for l in &lines {
            println!("{l}");
        }
    }
    if let Some(dir) = &a.report {
        let summary: String = lines.iter().map(|l| format!("- {l}\n")).collect();
        let p = crate::sync_report::write_report(
            dir,
            &format!("sync-bench: {height} blocks"),
            &summary,
            &[m_trace, x_trace],
        )?;
        eprintln!("report: {}", p.display());
    }
    Ok(ok)
}

/// The RandomX floor of a chain: seconds to compute the PoW hash of every block after
/// genesis (light mode, cache initialisation included) on `threads` threads, and how many
/// hashes that was. Reads the blocks from the (stopped) node's store.
fn randomx_floor(store: &Path, threads: usize) -> anyhow::Result<(f64, u64)> {
    use xmrd::consensus::pow::{seed_height, RandomXHasher, RandomXMode};
    let db = xmrd_storage::ChainStore::open(store, &xmrd_storage::StoreConfig::default())?;
    let reader = db.reader();
    let count = reader.view().block_count;
    let heights: Vec<u64> = (1..count).collect();
    let mut jobs: Vec<([u8; 32], Vec<u8>)> = Vec::with_capacity(heights.len());
    for chunk in heights.chunks(1000) {
        for b in reader.blocks(chunk)? {
            let b = b.context("a block is missing from the store")?;
            let block = monero_oxide::block::Block::read(&mut b.blob.as_slice())?;
            let seed = reader
                .block_hashes(&[seed_height(b.height)])?
                .pop()
                .flatten()
                .context("a seed block is missing")?;
            jobs.push((seed, block.serialize_pow_hash()));
        }
    }
    drop(reader);
    db.close();
    let hasher = RandomXHasher::new(RandomXMode::Light);
    let started = Instant::now();
    let per = jobs.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = jobs
            .chunks(per)
            .map(|part| {
                let hasher = &hasher;
                s.spawn(move || {
                    part.iter()
                        .try_for_each(|(seed, blob)| hasher.hash(seed, blob).map(|_| ()))
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
                .map_err(anyhow::Error::from)
        })
    })?;
    Ok((started.elapsed().as_secs_f64(), jobs.len() as u64))
}
