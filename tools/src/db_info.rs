//! `db-info`: opens a chain store read-only (also while a running xmrd holds it) and
//! prints its height, top hash, cumulative difficulty, schema version, size per column
//! family and the invariant check's result, as text or one JSON object. Exits non-zero
//! when the check fails. Never writes to the store.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

/// Arguments of `db-info`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The node's data directory (the store is its `chain/` subdirectory; a store
    /// directory itself is accepted too).
    #[arg(long)]
    data_dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Run the full invariant check (reads every record) instead of the quick one.
    #[arg(long)]
    full: bool,
}

/// Runs `db-info`; `Ok(false)` when the store fails its invariant check.
pub(crate) fn run(args: &Args) -> anyhow::Result<bool> {
    let dir = xmrd_storage::chain_path(&args.data_dir);
    let info = xmrd_storage::inspect(&dir, args.full)
        .with_context(|| format!("cannot open the chain store at {}", dir.display()))?;
    let v = info.view;
    let top_hash = hex::encode(v.top_hash);
    let (sa, sb, sc) = info.schema;
    let check = match &info.check {
        Ok(r) => json!({"ok": true, "full": r.full, "blocks": r.blocks, "txs": r.txs,
            "rct_outputs": r.rct_outputs, "pre_rct_outputs": r.pre_rct_outputs,
            "key_images": r.key_images}),
        Err(e) => json!({"ok": false, "full": args.full, "error": e.to_string()}),
    };
    if args.json {
        let cfs: serde_json::Map<String, serde_json::Value> = info
            .column_families
            .iter()
            .map(|c| {
                (
                    c.name.to_string(),
                    json!({"sst_bytes": c.sst_bytes, "estimated_keys": c.estimated_keys}),
                )
            })
            .collect();
        let out = json!({
            "path": dir.display().to_string(),
            "height": v.block_count,
            "top_height": v.top_height(),
            "top_hash": top_hash,
            "cumulative_difficulty": v.cumulative_difficulty.to_string(),
            "rct_outputs": v.rct_outputs,
            "schema": format!("{sa}.{sb}.{sc}"),
            "column_families": cfs,
            "sst_bytes": info.column_families.iter().map(|c| c.sst_bytes).sum::<u64>(),
            "wal_bytes": info.wal_bytes,
            "check": check,
        });
        println!("{out}");
    } else {
        println!("chain store   {}", dir.display());
        println!(
            "height        {} (top block {})",
            v.block_count,
            v.top_height().map_or("none".into(), |h| h.to_string())
        );
        println!("top hash      {top_hash}");
        println!("cum. diff.    {}", v.cumulative_difficulty);
        println!("schema        {sa}.{sb}.{sc}");
        println!("column families (SST bytes, estimated keys):");
        for c in &info.column_families {
            println!(
                "  {:<16} {:>14} {:>12}",
                c.name, c.sst_bytes, c.estimated_keys
            );
        }
        println!("WAL bytes     {}", info.wal_bytes);
        match &info.check {
            Ok(r) => println!(
                "check         ok ({}): {} blocks, {} txs, {} RingCT + {} pre-RingCT outputs, {} key images",
                if r.full { "full" } else { "quick" },
                r.blocks, r.txs, r.rct_outputs, r.pre_rct_outputs, r.key_images
            ),
            Err(e) => println!("check         FAILED: {e}"),
        }
    }
    if let Err(e) = &info.check {
        eprintln!(
            "error: the chain store at {} fails its invariant check: {e}",
            dir.display()
        );
        return Ok(false);
    }
    Ok(true)
}
