//! `era-bench`: what verifying a block costs in each hard-fork era, measured on this
//! machine on the real sample blocks of `../shared/vectors/blocks/` (those whose
//! transactions are included), and the full mainnet sync time projected from it.
//!
//! For each sample block it times, each the fastest of `--runs`:
//! - parse: `prepare_block` (block and transactions, ids, weights);
//! - proof of work: CryptoNight v0/v1/v2/R by major version as monerod's
//!   `get_block_longhash`, RandomX (light mode, as monerod by default) from v12;
//! - signatures: every input's ring signature (v1 `check_ring_signature`, MLSAG, CLSAG,
//!   RCTTypeFull's aggregate MLSAG) over a ring of the transaction's own ring size. The
//!   sample blocks carry no ring members, so the rings are stand-in points: a verification
//!   does all its work and then fails its last comparison, so it costs what a real one
//!   does;
//! - range proofs: Borromean ones each, Bulletproofs and Bulletproofs+ batched per block as
//!   the verification pool batches them (real proofs over the real commitments).
//!
//! The projection takes mainnet's block count per era (exact, from the hard-fork table) and
//! charges each block the mean cost of the sample blocks of its era — or of the nearest
//! earlier era that has samples — spread over this machine's cores. The samples' load
//! (transactions per block, inputs, ring sizes) stands in for mainnet's: it is printed, and
//! the projection is only as good as that stand-in. It covers verification only (not
//! download or store writes; `sync-bench` measures those against monerod on regtest).
//! With fast sync (the default) blocks below the last block-hash group skip proof of work
//! and signatures; both projections are printed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use xmrd::consensus::block::{prepare_block, PreparedBlock};
use xmrd::consensus::pow::{cryptonight_longhash, RandomXHasher, RandomXMode};
use xmrd::consensus::{tx, ConsensusNet, OutputInfo};

/// From this version on (CLSAG, 2020) the sample load is scaled to the mean weight of real
/// mainnet blocks (`--weights`, of v16): the stagenet sample of v14 carries 104
/// transactions, some three times a mainnet block of the time.
const SCALED_FROM: u8 = 13;

/// Arguments of `era-bench`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// The vectors folder (default: `../shared/vectors` as the tests find it).
    #[arg(long)]
    vectors: Option<PathBuf>,
    /// Timing runs per measurement (the fastest counts).
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Mainnet height to project a sync to (default: the end of monerod's block-hash data,
    /// 3,706,880).
    #[arg(long, default_value_t = 3_706_880)]
    height: u64,
    /// Cores the verification spreads over (default: this machine's).
    #[arg(long)]
    cores: Option<u32>,
    /// Real mainnet block weights (`height,block_weight,…` CSV): their mean scales the
    /// sample load of the CLSAG eras (default: the vectors'
    /// `chain/mainnet_block_weights_2850000_3049999.csv`).
    #[arg(long)]
    weights: Option<PathBuf>,
}

/// One sample block's measured costs.
struct Sample {
    name: String,
    major: u8,
    txs: usize,
    inputs: usize,
    ring: usize,
    outputs: usize,
    weight: u64,
    blob: Vec<u8>,
    parse: Duration,
    pow: Duration,
    sigs: Duration,
    range: Duration,
}

impl Sample {
    fn full(&self) -> Duration {
        self.parse + self.pow + self.sigs + self.range
    }
    /// The cost besides proof of work: what scales with the block's transactions.
    fn load(&self) -> Duration {
        self.parse + self.sigs + self.range
    }
}

fn fastest<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Stand-in ring members: valid points (hashes to the curve), distinct per index.
fn stand_in_ring(size: usize, salt: u64) -> Vec<OutputInfo> {
    (0..size as u64)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            seed[8..16].copy_from_slice(&salt.to_le_bytes());
            let key = monero_oxide::ed25519::Point::biased_hash(seed);
            seed[16] = 1;
            let mask = monero_oxide::ed25519::Point::biased_hash(seed);
            OutputInfo {
                key: key.compress().to_bytes(),
                commitment: mask.compress().to_bytes(),
                unlock_time: 0,
                height: 0,
            }
        })
        .collect()
}

/// Stand-in rings for every input of the `i`-th transaction, of its ring sizes (none
/// for a transaction whose key offsets do not add up).
fn stand_in_rings(t: &tx::PreparedTx, i: usize) -> Vec<Vec<OutputInfo>> {
    tx::ring_requests(&t.tx)
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(k, q)| stand_in_ring(q.indices.len(), (i * 1000 + k) as u64))
                .collect()
        })
        .unwrap_or_default()
}

/// The sample blocks whose transactions are all in the vectors.
fn load_samples(dir: &Path) -> anyhow::Result<Vec<(String, PreparedBlock, Vec<u8>)>> {
    let mut out = Vec::new();
    for net in ["mainnet", "stagenet", "testnet"] {
        let Ok(entries) = std::fs::read_dir(dir.join("blocks").join(net)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let blob = std::fs::read(&f).with_context(|| f.display().to_string())?;
            let Ok(block) = monero_oxide::block::Block::read(&mut blob.as_slice()) else {
                continue;
            };
            let txs: Option<Vec<Vec<u8>>> = block
                .transactions
                .iter()
                .map(|h| {
                    std::fs::read(
                        dir.join("txs")
                            .join(net)
                            .join(format!("{}.bin", hex::encode(h))),
                    )
                    .ok()
                })
                .collect();
            let Some(txs) = txs else { continue };
            let Ok(p) = prepare_block(&blob, &txs) else {
                continue;
            };
            let name = format!(
                "{net} {}",
                f.file_stem()
                    .and_then(|s| s.to_str())
                    .and_then(|s| s.split('_').next())
                    .unwrap_or("?")
            );
            out.push((name, p, blob));
        }
    }
    Ok(out)
}

fn measure(
    name: String,
    p: &PreparedBlock,
    blob: &[u8],
    runs: u32,
    randomx: &RandomXHasher,
) -> anyhow::Result<Sample> {
    let major = p.block.header.hardfork_version;
    let tx_blobs: Vec<Vec<u8>> = p.txs.iter().map(|t| t.tx.serialize()).collect();
    let parse = fastest(runs, || prepare_block(blob, &tx_blobs).is_ok());
    let pow = if major >= 12 {
        let seed = [7u8; 32];
        randomx.hash(&seed, &p.hashing_blob)?; // builds the cache once, outside the timing
        fastest(runs, || randomx.hash(&seed, &p.hashing_blob).is_ok())
    } else {
        fastest(runs, || {
            cryptonight_longhash(p.height, major, &p.hashing_blob).is_ok()
        })
    };
    let rings: Vec<Vec<Vec<OutputInfo>>> = p
        .txs
        .iter()
        .enumerate()
        .map(|(i, t)| stand_in_rings(t, i))
        .collect();
    let inputs: usize = rings.iter().map(Vec::len).sum();
    let ring = rings.iter().flatten().map(Vec::len).max().unwrap_or(0);
    let outputs: usize = p.txs.iter().map(|t| t.tx.prefix().outputs.len()).sum();
    let sigs = fastest(runs, || {
        p.txs
            .iter()
            .zip(&rings)
            .map(|(t, r)| signature_work(t, r))
            .sum::<usize>()
    });
    let range = fastest(runs, || {
        let mut rng = rand::rngs::OsRng;
        let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
        let ok = p
            .txs
            .iter()
            .filter(|t| matches!(t.tx, monero_oxide::transaction::Transaction::V2 { .. }))
            .all(|t| tx::batch_range_proof(t, &mut batch, &mut rng).is_ok());
        ok && batch.verify()
    });
    Ok(Sample {
        name,
        major,
        txs: p.txs.len(),
        inputs,
        ring,
        outputs,
        weight: p.weight(),
        blob: p.hashing_blob.clone(),
        parse,
        pow,
        sigs,
        range,
    })
}

/// Verifies every ring signature of `t` against stand-in `rings`, each input on its own
/// (a failing input does not stop the others: with stand-in rings every one fails, at the
/// very end of its work). Returns how many held (0 with stand-ins).
fn signature_work(t: &tx::PreparedTx, rings: &[Vec<OutputInfo>]) -> usize {
    if tx::is_aggregate_mlsag(&t.tx) {
        return usize::from(tx::verify_aggregate_mlsag(t, rings).is_ok());
    }
    rings
        .iter()
        .enumerate()
        .filter(|(i, r)| tx::verify_ring_signature(t, *i, r).is_ok())
        .count()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `era-bench`.
pub(crate) fn run(args: &Args) -> anyhow::Result<bool> {
    let dir = match &args.vectors {
        Some(d) => d.clone(),
        None => xmrd::testdata::shared_subdir("vectors")
            .context("no ../shared/vectors here: pass --vectors DIR")?,
    };
    let cores = args.cores.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
    });
    let randomx = RandomXHasher::new(RandomXMode::Light);
    let mut samples = Vec::new();
    for (name, p, blob) in load_samples(&dir)? {
        samples.push(measure(name, &p, &blob, args.runs, &randomx)?);
    }
    anyhow::ensure!(
        !samples.is_empty(),
        "no sample block with its transactions in {}",
        dir.display()
    );
    samples.sort_by_key(|s| s.major);
    println!(
        "Sample blocks (one thread; fastest of {} runs; ms):",
        args.runs
    );
    println!(
        "{:<16} {:>3} {:>4} {:>6} {:>4} {:>7} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "block",
        "hf",
        "txs",
        "inputs",
        "ring",
        "outputs",
        "parse",
        "pow",
        "sigs",
        "range",
        "total",
        "blocks/s"
    );
    for s in &samples {
        println!(
            "{:<16} {:>3} {:>4} {:>6} {:>4} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.2} {:>9.1}",
            s.name,
            s.major,
            s.txs,
            s.inputs,
            s.ring,
            s.outputs,
            ms(s.parse),
            ms(s.pow),
            ms(s.sigs),
            ms(s.range),
            ms(s.full()),
            1.0 / s.full().as_secs_f64().max(1e-9)
        );
    }

    unit_costs(&dir, args.runs)?;

    // Proof of work per version, on one sample's hashing blob at a height of that era.
    let net = ConsensusNet::Mainnet;
    let last = net.last_version();
    let blob = samples.first().map(|s| s.blob.clone()).unwrap_or_default();
    let mut pow_by_version = Vec::new();
    for v in 1..=last {
        let h = net.fork_height(v).unwrap_or(0).max(1);
        let d = if v >= 12 {
            let seed = [9u8; 32];
            randomx.hash(&seed, &blob)?;
            fastest(args.runs, || randomx.hash(&seed, &blob).is_ok())
        } else {
            fastest(args.runs, || cryptonight_longhash(h, v, &blob).is_ok())
        };
        pow_by_version.push((v, d));
    }
    // The last era's real load: mean mainnet block weight.
    let weights_csv = match &args.weights {
        Some(p) => Some(p.clone()),
        None => Some(dir.join("chain/mainnet_block_weights_2850000_3049999.csv")),
    };
    let mean_weight = weights_csv.and_then(|p| mean_block_weight(&p));

    let fast_end = 3_706_880u64;
    println!();
    println!(
        "Mainnet projection to height {} on {cores} core(s): verification only; proof of work measured per version; the rest of a block's cost is the mean of the era's sample blocks with transactions (or the nearest earlier era's){}",
        args.height,
        match mean_weight {
            Some(w) => format!(", scaled from v{SCALED_FROM} on to mainnet's mean block weight {w:.0} (heights 2,850,000-3,049,999)"),
            None => String::new(),
        }
    );
    println!(
        "{:>3} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>9} {:>10}",
        "hf", "from", "blocks", "pow ms", "samples", "load ms", "scale", "full (h)", "fast (h)"
    );
    let (mut total_full, mut total_fast) = (0.0f64, 0.0f64);
    for (v, pow) in &pow_by_version {
        let v = *v;
        let Some(from) = net.fork_height(v) else {
            continue;
        };
        let to = (v + 1..=last)
            .find_map(|n| net.fork_height(n))
            .unwrap_or(u64::MAX)
            .min(args.height);
        if from >= to {
            continue;
        }
        let blocks = to - from;
        // Samples with transactions (an empty sample block says nothing of an era's load).
        let loaded = |s: &&Sample| s.txs > 0;
        let Some(hf) = (1..=v)
            .rev()
            .find(|h| samples.iter().filter(loaded).any(|s| s.major == *h))
        else {
            continue;
        };
        let era: Vec<&Sample> = samples
            .iter()
            .filter(loaded)
            .filter(|s| s.major == hf)
            .collect();
        let n = era.len() as f64;
        let mut load = era.iter().map(|s| s.load().as_secs_f64()).sum::<f64>() / n;
        let mut parse = era.iter().map(|s| s.parse.as_secs_f64()).sum::<f64>() / n;
        let mut scale = 1.0;
        if let (Some(w), true) = (mean_weight, v >= SCALED_FROM) {
            let sample_weight = era.iter().map(|s| s.weight as f64).sum::<f64>() / n;
            scale = w / sample_weight.max(1.0);
            load *= scale;
            parse *= scale;
        }
        let full = pow.as_secs_f64() + load;
        let settled = to.min(fast_end).saturating_sub(from) as f64;
        let secs_full = blocks as f64 * full / f64::from(cores);
        // Settled blocks are parsed and checked for structure; their proof of work,
        // signatures and range proofs are not verified.
        let secs_fast = (settled * parse + (blocks as f64 - settled) * full) / f64::from(cores);
        total_full += secs_full;
        total_fast += secs_fast;
        println!(
            "{v:>3} {from:>9} {blocks:>9} {:>8.2} {:>8} {:>9.2} {scale:>8.2} {:>9.2} {:>10.2}",
            ms(*pow),
            format!("hf{hf}x{}", era.len()),
            load * 1e3,
            secs_full / 3600.0,
            secs_fast / 3600.0
        );
    }
    println!(
        "total: {:.1} h with --fast-block-sync 0, {:.1} h with --fast-block-sync 1 (monerod's typical full sync: 12-24 h)",
        total_full / 3600.0,
        total_fast / 3600.0
    );
    Ok(true)
}

/// Per-scheme unit costs over every vector transaction (`txs/*/*.bin`), grouped by
/// signature scheme and by range proof: ms per ring member and per output, one thread,
/// range proofs batched per group as the pool batches them.
fn unit_costs(dir: &Path, runs: u32) -> anyhow::Result<()> {
    use monero_oxide::ringct::RctPrunable;
    use monero_oxide::transaction::Transaction;
    let mut txs = Vec::new();
    for net in ["mainnet", "stagenet", "testnet", "unknown"] {
        let Ok(entries) = std::fs::read_dir(dir.join("txs").join(net)) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(blob) = std::fs::read(e.path()) else {
                continue;
            };
            if let Ok(p) = tx::prepare_tx(&blob) {
                txs.push(p);
            }
        }
    }
    let scheme = |t: &Transaction| -> Option<(&'static str, &'static str)> {
        match t {
            Transaction::V1 { prefix, .. } if !prefix.inputs.is_empty() => matches!(
                prefix.inputs.first(),
                Some(monero_oxide::transaction::Input::ToKey { .. })
            )
            .then_some(("v1 ring signature", "")),
            Transaction::V2 {
                proofs: Some(p), ..
            } => Some(match &p.prunable {
                RctPrunable::AggregateMlsagBorromean { .. } => {
                    ("aggregate MLSAG (RCTTypeFull)", "Borromean")
                }
                RctPrunable::MlsagBorromean { .. } => ("MLSAG", "Borromean"),
                RctPrunable::MlsagBulletproofs { .. }
                | RctPrunable::MlsagBulletproofsCompactAmount { .. } => ("MLSAG", "Bulletproofs"),
                RctPrunable::Clsag { bulletproof, .. } => (
                    "CLSAG",
                    match bulletproof {
                        monero_oxide::ringct::bulletproofs::Bulletproof::Plus(_) => "Bulletproofs+",
                        _ => "Bulletproofs",
                    },
                ),
            }),
            _ => None,
        }
    };
    println!();
    println!("Unit costs over the vector transactions (one thread; fastest of {runs} runs):");
    println!(
        "{:<32} {:>5} {:>8} {:>10} {:>14}",
        "signature", "txs", "inputs", "members", "ms per member"
    );
    for name in [
        "v1 ring signature",
        "MLSAG",
        "aggregate MLSAG (RCTTypeFull)",
        "CLSAG",
    ] {
        let group: Vec<&tx::PreparedTx> = txs
            .iter()
            .filter(|t| scheme(&t.tx).is_some_and(|s| s.0 == name))
            .collect();
        let rings: Vec<Vec<Vec<OutputInfo>>> = group
            .iter()
            .enumerate()
            .map(|(i, t)| stand_in_rings(t, i))
            .collect();
        let members: usize = rings.iter().flatten().map(Vec::len).sum();
        let inputs: usize = rings.iter().map(Vec::len).sum();
        if members == 0 {
            println!(
                "{name:<32} {:>5} {:>8} {:>10} {:>14}",
                group.len(),
                0,
                0,
                "-"
            );
            continue;
        }
        let d = fastest(runs, || {
            group
                .iter()
                .zip(&rings)
                .map(|(t, r)| signature_work(t, r))
                .sum::<usize>()
        });
        println!(
            "{name:<32} {:>5} {inputs:>8} {members:>10} {:>14.4}",
            group.len(),
            ms(d) / members as f64
        );
    }
    println!(
        "{:<32} {:>5} {:>8} {:>14}",
        "range proof", "txs", "outputs", "ms per output"
    );
    for name in ["Borromean", "Bulletproofs", "Bulletproofs+"] {
        let group: Vec<&tx::PreparedTx> = txs
            .iter()
            .filter(|t| scheme(&t.tx).is_some_and(|s| s.1 == name))
            .collect();
        let outputs: usize = group.iter().map(|t| t.tx.prefix().outputs.len()).sum();
        if outputs == 0 {
            continue;
        }
        let d = fastest(runs, || {
            let mut rng = rand::rngs::OsRng;
            let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
            let ok = group
                .iter()
                .all(|t| tx::batch_range_proof(t, &mut batch, &mut rng).is_ok());
            ok && batch.verify()
        });
        println!(
            "{name:<32} {:>5} {outputs:>8} {:>14.4}",
            group.len(),
            ms(d) / outputs as f64
        );
    }
    Ok(())
}

/// The mean `block_weight` of a `height,block_weight,…` CSV.
fn mean_block_weight(path: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    let weights: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1)?.trim().parse::<f64>().ok())
        .collect();
    (!weights.is_empty()).then(|| weights.iter().sum::<f64>() / weights.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_in_rings_are_distinct_valid_points() {
        let r = stand_in_ring(11, 3);
        assert_eq!(r.len(), 11);
        for m in &r {
            let key = monero_oxide::ed25519::CompressedPoint::from(m.key);
            assert!(key.decompress().is_some());
        }
        let keys: std::collections::HashSet<_> = r.iter().map(|m| m.key).collect();
        assert_eq!(keys.len(), 11);
        assert_ne!(stand_in_ring(1, 4)[0].key, stand_in_ring(1, 3)[0].key);
    }

    #[test]
    fn mean_block_weight_reads_the_second_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        std::fs::write(
            &p,
            "height,block_weight,long_term_weight\n1,100,100\n2,300,300\n",
        )
        .unwrap();
        assert_eq!(mean_block_weight(&p), Some(200.0));
        std::fs::write(&p, "height,block_weight\n").unwrap();
        assert_eq!(mean_block_weight(&p), None);
    }
}
