//! Operators' metrics: the node's snapshot (latency histograms per core plus gauges and
//! the sync-rate history), its JSON file form, and the Prometheus text exposition.
//!
//! Histograms are recorded per thread by [`xmrd_shards::latency`] (no cross-core
//! contention); this module only reads them at snapshot time. The exposition is
//! rendered from a [`NodeSnapshot`], so `/metrics`, `/snapshot.json` and the SIGUSR1
//! file all show the same numbers.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
pub use xmrd_shards::latency::{LatencySnapshot, Scope, Series};

/// Metric: from a connection's start to its completed handshake.
pub const HANDSHAKE_METRIC: &str = "xmrd_p2p_handshake_seconds";
/// Metric: time a shard spent handling one received message, by `command`.
pub const MESSAGE_METRIC: &str = "xmrd_p2p_message_handling_seconds";
/// Metric: time a shard spent decoding one read's worth of bytes into messages.
pub const DECODE_METRIC: &str = "xmrd_p2p_decode_seconds";
/// Metric: one socket write through io_uring, from submission to completion.
pub const IO_WRITE_METRIC: &str = "xmrd_io_uring_write_seconds";

/// Metric: a new block's way through the node, from the socket read that completed it,
/// by `stage`: `checked` (on the sync thread, once every check before relay passed) and
/// `sent` (on each shard, once the relay to one peer is written to its socket).
pub const RELAY_METRIC: &str = "xmrd_relay_block_seconds";

/// File written into the data directory on SIGUSR1.
pub const SNAPSHOT_FILE: &str = "latency-snapshot.json";

/// Upper bounds (seconds) of the exported Prometheus histogram buckets (+Inf is added).
pub const BUCKETS_SECONDS: [f64; 25] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// One sample of the chain height, for the sync rate over time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncSample {
    /// Seconds since the node started.
    pub t: f64,
    /// Blocks in the store.
    pub height: u64,
}

/// Peers of one shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPeers {
    /// Handshaked inbound peers.
    pub inbound: u64,
    /// Handshaked outbound peers.
    pub outbound: u64,
    /// Connections being set up.
    pub pending: u64,
    /// Connections dropped for a fault (a counter).
    pub dropped: u64,
}

/// Everything an operator's tool needs at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    /// When it was taken (Unix seconds).
    pub taken_unix: f64,
    /// Seconds since the node started.
    pub uptime_seconds: f64,
    /// Blocks in the store.
    pub height: u64,
    /// The highest height a peer announced.
    pub target_height: u64,
    /// Peers, by shard index.
    pub peers: Vec<ShardPeers>,
    /// Verification-pool tasks queued and not started.
    pub verify_queued: u64,
    /// Transactions in the transaction pool.
    #[serde(default)]
    pub txpool_txs: u64,
    /// Their total weight.
    #[serde(default)]
    pub txpool_weight: u64,
    /// Fast sync: blocks settled by the block-hash data (a counter).
    #[serde(default)]
    pub fast_sync_settled: u64,
    /// Fast sync: blocks verified as settled ones (a counter).
    #[serde(default)]
    pub fast_sync_checked: u64,
    /// Bytes the chain store takes on disk.
    pub store_bytes: u64,
    /// Resident memory of the process.
    pub rss_bytes: u64,
    /// Chain height over time (one sample a second, the last few hours).
    pub sync: Vec<SyncSample>,
    /// Per-core latency histograms.
    pub latency: LatencySnapshot,
}

/// Errors reading or writing snapshots.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a snapshot.
    #[error("{path}: not a snapshot: {source}")]
    Format {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl NodeSnapshot {
    /// Parses a snapshot from JSON.
    pub fn from_json(bytes: &[u8], what: &str) -> Result<Self, MetricsError> {
        serde_json::from_slice(bytes).map_err(|source| MetricsError::Format {
            path: what.to_string(),
            source,
        })
    }

    /// Reads a snapshot file.
    pub fn read(path: &Path) -> Result<Self, MetricsError> {
        let bytes = std::fs::read(path).map_err(|source| MetricsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes, &path.display().to_string())
    }

    /// Writes the snapshot as JSON, atomically (a temporary file renamed over `path`).
    pub fn write(&self, path: &Path) -> Result<(), MetricsError> {
        let io = |source| MetricsError::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec(self).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Resident memory of this process, from `/proc/self/statm` (0 where unavailable).
pub fn rss_bytes() -> u64 {
    const PAGE: u64 = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * PAGE)
}

/// Total size of the regular files under `dir` (0 if it cannot be read).
pub fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// Help text of a histogram metric.
fn help(metric: &str) -> &'static str {
    match metric {
        xmrd_shards::latency::TASK_QUEUE_LAG => {
            "Time a ready task waited in a shard's task queue (probe every 10 ms)."
        }
        xmrd_shards::latency::TIMER_OVERSHOOT => "How late a shard's 10 ms probe timer fired.",
        HANDSHAKE_METRIC => "From a connection's start to its completed P2P handshake.",
        MESSAGE_METRIC => "Time a shard spent handling one received P2P message.",
        DECODE_METRIC => "Time a shard spent decoding one socket read into messages.",
        IO_WRITE_METRIC => "One socket write through io_uring, submission to completion.",
        RELAY_METRIC => {
            "A new block from the read that completed it to each relay stage (checked, sent)."
        }
        crate::verify::QUEUE_WAIT_METRIC => "Time a verification task waited in the pool queue.",
        crate::verify::ITEM_METRIC => "Time one verification task ran.",
        xmrd_storage::COMMIT_BATCH_METRIC => "Time the committer took to write one batch.",
        _ => "Latency histogram.",
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn seconds(nanos: u64) -> f64 {
    // Nanosecond counts stay far below 2^53 (the histograms stop at one hour).
    #[allow(clippy::cast_precision_loss)]
    let n = nanos as f64;
    n / 1e9
}

/// Renders the Prometheus text exposition format (version 0.0.4).
pub fn render_prometheus(s: &NodeSnapshot) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let mut gauge = |name: &str, kind: &str, help: &str, rows: &[(Vec<(&str, &str)>, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (l, v) in rows {
            let _ = writeln!(out, "{name}{} {v}", labels(l));
        }
    };
    #[allow(clippy::cast_precision_loss)] // counts and heights are far below 2^53
    let f = |v: u64| v as f64;
    gauge(
        "xmrd_height",
        "gauge",
        "Blocks in the chain store.",
        &[(vec![], f(s.height))],
    );
    gauge(
        "xmrd_target_height",
        "gauge",
        "Highest chain height a peer announced.",
        &[(vec![], f(s.target_height))],
    );
    let shard_ids: Vec<String> = (0..s.peers.len()).map(|i| i.to_string()).collect();
    let mut peer_rows = Vec::new();
    let mut pending_rows = Vec::new();
    let mut dropped_rows = Vec::new();
    for (p, id) in s.peers.iter().zip(&shard_ids) {
        peer_rows.push((
            vec![("shard", id.as_str()), ("direction", "in")],
            f(p.inbound),
        ));
        peer_rows.push((
            vec![("shard", id.as_str()), ("direction", "out")],
            f(p.outbound),
        ));
        pending_rows.push((vec![("shard", id.as_str())], f(p.pending)));
        dropped_rows.push((vec![("shard", id.as_str())], f(p.dropped)));
    }
    gauge(
        "xmrd_peers",
        "gauge",
        "Handshaked peers per shard and direction.",
        &peer_rows,
    );
    gauge(
        "xmrd_peers_pending",
        "gauge",
        "Connections being dialled or handshaked, per shard.",
        &pending_rows,
    );
    gauge(
        "xmrd_peer_drops_total",
        "counter",
        "Connections dropped for a fault, per shard.",
        &dropped_rows,
    );
    gauge(
        "xmrd_verify_pool_queued_tasks",
        "gauge",
        "Verification-pool tasks queued and not started.",
        &[(vec![], f(s.verify_queued))],
    );
    gauge(
        "xmrd_txpool_transactions",
        "gauge",
        "Transactions in the transaction pool.",
        &[(vec![], f(s.txpool_txs))],
    );
    gauge(
        "xmrd_txpool_weight_bytes",
        "gauge",
        "Total weight of the pooled transactions.",
        &[(vec![], f(s.txpool_weight))],
    );
    gauge(
        "xmrd_fast_sync_blocks_total",
        "counter",
        "Fast sync: blocks settled by the block-hash data (settled) and blocks verified as settled ones, without proof of work, signatures or proofs (checked).",
        &[
            (vec![("stage", "settled")], f(s.fast_sync_settled)),
            (vec![("stage", "checked")], f(s.fast_sync_checked)),
        ],
    );
    gauge(
        "xmrd_store_size_bytes",
        "gauge",
        "Bytes the chain store takes on disk.",
        &[(vec![], f(s.store_bytes))],
    );
    gauge(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        &[(vec![], f(s.rss_bytes))],
    );
    gauge(
        "xmrd_uptime_seconds",
        "gauge",
        "Seconds since the node started.",
        &[(vec![], s.uptime_seconds)],
    );
    let mut last_metric = "";
    for series in &s.latency.series {
        if series.metric != last_metric {
            let _ = writeln!(out, "# HELP {} {}", series.metric, help(&series.metric));
            let _ = writeln!(out, "# TYPE {} histogram", series.metric);
            last_metric = &series.metric;
        }
        let (scope_k, scope_v) = series.scope.label();
        let mut base: Vec<(&str, &str)> = vec![(scope_k, scope_v.as_str())];
        base.extend(series.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let mut cumulative = 0u64;
        let mut sum = 0f64;
        let mut it = series.buckets.iter().peekable();
        for le in BUCKETS_SECONDS {
            while let Some(&&(v, n)) = it.peek() {
                if seconds(v) > le {
                    break;
                }
                cumulative += n;
                #[allow(clippy::cast_precision_loss)]
                let nf = n as f64;
                sum += seconds(v) * nf;
                it.next();
            }
            let le_s = format!("{le}");
            let mut l = base.clone();
            l.push(("le", le_s.as_str()));
            let _ = writeln!(out, "{}_bucket{} {cumulative}", series.metric, labels(&l));
        }
        for &(v, n) in it {
            #[allow(clippy::cast_precision_loss)]
            let nf = n as f64;
            sum += seconds(v) * nf;
        }
        let mut l = base.clone();
        l.push(("le", "+Inf"));
        let _ = writeln!(
            out,
            "{}_bucket{} {}",
            series.metric,
            labels(&l),
            series.count
        );
        let _ = writeln!(out, "{}_sum{} {sum}", series.metric, labels(&base));
        let _ = writeln!(
            out,
            "{}_count{} {}",
            series.metric,
            labels(&base),
            series.count
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample() -> NodeSnapshot {
        // Real histograms, recorded through the per-thread registry.
        std::thread::spawn(|| {
            xmrd_shards::latency::set_scope(Scope::Shard(3));
            for k in 1..=100u64 {
                xmrd_shards::latency::record_labeled(
                    MESSAGE_METRIC,
                    "command",
                    "TIMED_SYNC",
                    Duration::from_micros(k * 10),
                );
            }
        })
        .join()
        .unwrap();
        NodeSnapshot {
            height: 1234,
            target_height: 2000,
            peers: vec![
                ShardPeers {
                    inbound: 1,
                    outbound: 2,
                    pending: 0,
                    dropped: 5,
                },
                ShardPeers::default(),
            ],
            rss_bytes: rss_bytes(),
            latency: xmrd_shards::latency::snapshot(),
            sync: vec![SyncSample { t: 1.0, height: 5 }],
            ..Default::default()
        }
    }

    #[test]
    fn exposition_has_gauges_and_cumulative_histogram_buckets() {
        let text = render_prometheus(&sample());
        assert!(text.contains("xmrd_height 1234\n"), "{text}");
        assert!(text.contains("xmrd_peers{shard=\"0\",direction=\"out\"} 2\n"));
        assert!(text.contains("xmrd_peer_drops_total{shard=\"0\"} 5\n"));
        assert!(text.contains("# TYPE xmrd_p2p_message_handling_seconds histogram\n"));
        let base = "xmrd_p2p_message_handling_seconds_bucket{shard=\"3\",command=\"TIMED_SYNC\"";
        // 10 µs .. 1 ms in 10 µs steps: 10 samples up to 100 µs, 50 up to 500 µs, all by 1 ms
        // (1 % resolution may push a sample at a bound just over it).
        let at = |le: &str| -> u64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{base},le=\"{le}\"}}")))
                .unwrap_or_else(|| panic!("no bucket {le}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!((9..=10).contains(&at("0.0001")));
        assert!((49..=50).contains(&at("0.0005")));
        assert_eq!(at("0.0025"), 100);
        assert_eq!(at("+Inf"), 100);
        let sum_line = text
            .lines()
            .find(|l| l.starts_with("xmrd_p2p_message_handling_seconds_sum{shard=\"3\""))
            .unwrap();
        let sum: f64 = sum_line.rsplit(' ').next().unwrap().parse().unwrap();
        // Exact sum: 10 µs × (1 + … + 100) = 50.5 ms.
        assert!((sum - 0.0505).abs() < 0.0505 * 0.02, "{sum}");
    }

    /// Every metric the shipped Grafana dashboard queries is one the node exports.
    #[test]
    fn the_grafana_dashboard_queries_exported_metrics() {
        let dash: serde_json::Value =
            serde_json::from_str(include_str!("../../ops/grafana-dashboard.json")).unwrap();
        let mut snap = sample();
        let all = [
            xmrd_shards::latency::TASK_QUEUE_LAG,
            xmrd_shards::latency::TIMER_OVERSHOOT,
            HANDSHAKE_METRIC,
            MESSAGE_METRIC,
            DECODE_METRIC,
            IO_WRITE_METRIC,
            RELAY_METRIC,
            crate::verify::QUEUE_WAIT_METRIC,
            crate::verify::ITEM_METRIC,
            xmrd_storage::COMMIT_BATCH_METRIC,
        ];
        for m in all {
            snap.latency.series.push(Series {
                metric: m.to_string(),
                scope: Scope::Shard(0),
                labels: Default::default(),
                count: 1,
                buckets: vec![(1000, 1)],
            });
        }
        let text = render_prometheus(&snap);
        let panels = dash["panels"].as_array().unwrap();
        assert!(panels.len() >= 10);
        let mut checked = 0;
        for p in panels {
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                for (i, _) in expr
                    .match_indices("xmrd_")
                    .chain(expr.match_indices("process_"))
                {
                    let name: String = expr[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(
                        text.lines().any(|l| l.starts_with(&format!("{name}{{"))
                            || l.starts_with(&format!("{name} "))),
                        "dashboard panel {:?} queries {name}, which is not exported",
                        p["title"]
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn snapshots_round_trip_through_the_file() {
        let s = sample();
        let dir = std::env::temp_dir().join(format!("xmrd-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(SNAPSHOT_FILE);
        s.write(&path).unwrap();
        let back = NodeSnapshot::read(&path).unwrap();
        assert_eq!(back, s);
        assert!(NodeSnapshot::from_json(b"{}", "x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rss_and_dir_sizes_are_measured() {
        assert!(rss_bytes() > 1024 * 1024);
        let dir = std::env::temp_dir().join(format!("xmrd-dirsize-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), [0u8; 100]).unwrap();
        std::fs::write(dir.join("sub/b"), [0u8; 23]).unwrap();
        assert_eq!(dir_bytes(&dir), 123);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
