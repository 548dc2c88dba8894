//! What the benchmarks that run real monerods share: the shared `realpeer/` folder, the
//! chain and a wallet address of it, the xmrd binary, a monerod's tip as a probe claims
//! it, and process figures from `/proc`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use xmrd::testdata::realpeer::json_rpc;
use xmrd::wire::messages::CoreSyncData;

/// The shared `realpeer/` folder (`$XMRD_SHARED/realpeer`, else `../shared/realpeer`).
pub(crate) fn realpeer() -> anyhow::Result<PathBuf> {
    let p = std::env::var_os("XMRD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if !p.join("realpeer").is_dir() {
        bail!("{} has no realpeer/ (set XMRD_SHARED)", p.display());
    }
    Ok(p.join("realpeer"))
}

/// The chain to use (default: the 700-block one) and the first receiver address of its
/// `.json`, to mine to.
pub(crate) fn chain_and_address(
    rp: &Path,
    chain: Option<&Path>,
) -> anyhow::Result<(PathBuf, String)> {
    let chain = chain
        .map(Path::to_path_buf)
        .unwrap_or_else(|| rp.join("chains/regtest-700b-2500tx.lmdb.xz"));
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(chain.with_extension("").with_extension("json"))
            .context("the chain's .json")?,
    )?;
    let address = info["receivers"][0]
        .as_str()
        .context("no receiver address in the chain's .json")?
        .to_string();
    Ok((chain, address))
}

/// The xmrd binary: the one given, else `xmrd` beside this tool.
pub(crate) fn xmrd_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let xmrd = given.map(Path::to_path_buf).unwrap_or_else(|| {
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
    Ok(xmrd)
}

/// A monerod's chain tip (from its RPC) as a probe claims it, so that the node treats
/// the probe as synced and relays to it.
pub(crate) fn tip(rpc: u16) -> anyhow::Result<CoreSyncData> {
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

/// Waits until the xmrd store under `data` holds `height` blocks.
pub(crate) fn wait_synced(data: &Path, height: u64) -> anyhow::Result<()> {
    let store = xmrd_storage::chain_path(data);
    let deadline = Instant::now() + Duration::from_secs(1800);
    while xmrd_storage::inspect(&store, false).map_or(0, |i| i.view.block_count) < height {
        if Instant::now() > deadline {
            bail!("xmrd did not sync the chain");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Ok(())
}

/// CPU seconds (user + system) and peak RSS (MiB) of a live process.
pub(crate) fn proc_stats(pid: u32) -> anyhow::Result<(f64, f64)> {
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
