//! The node's metrics plumbing: the sampler thread (sync-rate history, SIGUSR1
//! snapshots into the data directory) and the optional HTTP endpoint on
//! `--metrics-bind` (`GET /metrics` in the Prometheus text format, `GET /snapshot.json`
//! for `xmrd-tools latency-report`).
//!
//! Both run on plain threads of their own, off the shards: a scrape never takes a shard's
//! time. The HTTP server answers one request per connection, one connection at a time,
//! with a bounded request head and read/write timeouts.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::Shared;
use crate::metrics::{self, NodeSnapshot, ShardPeers, SyncSample};

/// How often the chain height is sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(1);
/// Height samples kept (four hours at one a second).
pub const MAX_SAMPLES: usize = 4 * 3600;
/// Largest request head the HTTP server reads.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// Read and write timeout of one HTTP connection.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Node-wide metrics state kept outside the per-thread histograms.
#[derive(Debug)]
pub struct NodeMetrics {
    started: Instant,
    /// The highest height a peer announced (handshake or timed sync).
    pub target_height: AtomicU64,
    samples: Mutex<VecDeque<SyncSample>>,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics {
            started: Instant::now(),
            target_height: AtomicU64::new(0),
            samples: Mutex::new(VecDeque::new()),
        }
    }
}

impl NodeMetrics {
    /// Notes a peer's announced height.
    pub fn peer_height(&self, height: u64) {
        self.target_height.fetch_max(height, Ordering::Relaxed);
    }

    fn sample(&self, height: u64) {
        if let Ok(mut s) = self.samples.lock() {
            if s.len() >= MAX_SAMPLES {
                s.pop_front();
            }
            s.push_back(SyncSample {
                t: self.started.elapsed().as_secs_f64(),
                height,
            });
        }
    }
}

/// The node's snapshot now.
pub fn snapshot(shared: &Shared) -> NodeSnapshot {
    let m = &shared.metrics;
    let as_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    NodeSnapshot {
        taken_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        uptime_seconds: m.started.elapsed().as_secs_f64(),
        height: shared.chain.reader.view().block_count,
        target_height: m.target_height.load(Ordering::Relaxed),
        peers: shared
            .stats
            .iter()
            .map(|s| ShardPeers {
                inbound: as_u64(s.inbound.load(Ordering::Relaxed)),
                outbound: as_u64(s.outbound.load(Ordering::Relaxed)),
                pending: as_u64(s.pending.load(Ordering::Relaxed)),
                dropped: as_u64(s.dropped.load(Ordering::Relaxed)),
            })
            .collect(),
        verify_queued: as_u64(crate::verify::queued_tasks()),
        txpool_txs: shared.chain.pool_stats.txs.load(Ordering::Relaxed),
        txpool_weight: shared.chain.pool_stats.weight.load(Ordering::Relaxed),
        fast_sync_settled: shared.chain.fast_sync.settled.load(Ordering::Relaxed),
        fast_sync_checked: shared.chain.fast_sync.checked.load(Ordering::Relaxed),
        store_bytes: metrics::dir_bytes(&xmrd_storage::chain_path(&shared.config.data_dir)),
        rss_bytes: metrics::rss_bytes(),
        sync: m
            .samples
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default(),
        latency: xmrd_shards::latency::snapshot(),
    }
}

/// Writes a snapshot into the data directory; returns its path.
pub fn write_snapshot(shared: &Shared) -> Result<std::path::PathBuf, metrics::MetricsError> {
    let path = shared.config.data_dir.join(metrics::SNAPSHOT_FILE);
    snapshot(shared).write(&path)?;
    Ok(path)
}

/// Starts the sampler thread: samples the height every second and writes a snapshot
/// file on SIGUSR1. It holds the node state weakly and ends with it.
pub fn spawn_sampler(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let usr1 = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&usr1))?;
    let weak: Weak<Shared> = Arc::downgrade(shared);
    std::thread::Builder::new()
        .name("xmrd-metrics-sampler".into())
        .spawn(move || {
            let tick = Duration::from_millis(100);
            let mut next_sample = Instant::now();
            loop {
                let Some(shared) = weak.upgrade() else { return };
                if Instant::now() >= next_sample {
                    next_sample += SAMPLE_INTERVAL;
                    shared
                        .metrics
                        .sample(shared.chain.reader.view().block_count);
                }
                if usr1.swap(false, Ordering::Relaxed) {
                    match write_snapshot(&shared) {
                        Ok(p) => {
                            tracing::info!(path = %p.display(), "SIGUSR1: latency snapshot written")
                        }
                        Err(e) => tracing::warn!("SIGUSR1: snapshot not written: {e}"),
                    }
                }
                drop(shared);
                std::thread::sleep(tick);
            }
        })?;
    Ok(())
}

/// Binds `bind` and serves `/metrics` and `/snapshot.json` on a thread of its own.
pub fn spawn_http(shared: &Arc<Shared>, bind: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener =
        TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("--metrics-bind {bind}: {e}"))?;
    let local = listener.local_addr()?;
    let weak = Arc::downgrade(shared);
    std::thread::Builder::new()
        .name("xmrd-metrics-http".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Some(shared) = weak.upgrade() else { return };
                if let Ok(stream) = conn {
                    if let Err(e) = serve(&shared, stream) {
                        tracing::debug!("metrics request: {e}");
                    }
                }
            }
        })?;
    tracing::info!(%local, "metrics endpoint: GET /metrics, /snapshot.json");
    Ok(local)
}

/// What a request asked for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    Snapshot,
    NotFound,
    BadMethod,
}

/// Parses a request head's first line.
fn route(head: &str) -> Option<Route> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    if method != "GET" && method != "HEAD" {
        return Some(Route::BadMethod);
    }
    let path = target.split('?').next().unwrap_or(target);
    Some(match path {
        "/metrics" => Route::Metrics,
        "/snapshot.json" => Route::Snapshot,
        _ => Route::NotFound,
    })
}

/// Reads a request head (up to the blank line), at most [`MAX_REQUEST_BYTES`].
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(String::from_utf8_lossy(&head).into_owned());
        }
        if head.len() > MAX_REQUEST_BYTES {
            return Err(std::io::Error::other("request head too large"));
        }
    }
}

fn serve(shared: &Shared, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let head = match read_head(&mut stream) {
        Ok(h) => h,
        Err(e) if e.kind() == std::io::ErrorKind::Other => {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"",
                true,
            )
        }
        Err(e) => return Err(e),
    };
    let with_body = !head.starts_with("HEAD ");
    match route(&head) {
        Some(Route::Metrics) => {
            let text = metrics::render_prometheus(&snapshot(shared));
            respond(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                text.as_bytes(),
                with_body,
            )
        }
        Some(Route::Snapshot) => {
            let json = serde_json::to_vec(&snapshot(shared)).map_err(std::io::Error::other)?;
            respond(&mut stream, "200 OK", "application/json", &json, with_body)
        }
        Some(Route::NotFound) => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            with_body,
        ),
        Some(Route::BadMethod) => respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            true,
        ),
        None => respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            true,
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_parsed_strictly() {
        assert_eq!(route("GET /metrics HTTP/1.1\r\n\r\n"), Some(Route::Metrics));
        assert_eq!(
            route("GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Some(Route::Metrics)
        );
        assert_eq!(
            route("HEAD /snapshot.json HTTP/1.1\r\n"),
            Some(Route::Snapshot)
        );
        assert_eq!(route("GET / HTTP/1.1\r\n"), Some(Route::NotFound));
        assert_eq!(route("POST /metrics HTTP/1.1\r\n"), Some(Route::BadMethod));
        assert_eq!(route("GET /metrics\r\n"), None);
        assert_eq!(route("GET /metrics SPDY/3\r\n"), None);
        assert_eq!(route(""), None);
    }

    #[test]
    fn the_height_history_is_bounded() {
        let m = NodeMetrics::default();
        for h in 0..(MAX_SAMPLES as u64 + 10) {
            m.sample(h);
        }
        let s = m.samples.lock().unwrap();
        assert_eq!(s.len(), MAX_SAMPLES);
        assert_eq!(s.front().map(|x| x.height), Some(10));
        m.peer_height(7);
        m.peer_height(3);
        assert_eq!(m.target_height.load(Ordering::Relaxed), 7);
    }
}
