//! Synthetic P2P peers for benchmarks and interop tests: the node's own [`Connection`]
//! machine driven over a blocking socket, one thread each.
//!
//! - [`Probe`]: handshakes, answers timed syncs and pings, and hands out the protocol
//!   messages it receives (e.g. to time when a relayed block arrives).
//! - [`fetch_chain`]: a syncing peer that verifies nothing: it walks the node's chain with
//!   2006 and downloads every block with 2003, as a fresh node would, and counts bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::p2p::{Connection, Event, LocalNode, Network};
use crate::wire::epee::Hashes;
use crate::wire::messages::{ChainRequest, CoreSyncData, GetObjectsRequest, Message};

/// How long a probe waits for a connection and its handshake.
pub const PROBE_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Blocks a [`fetch_chain`] peer asks for in one 2003 (monerod's span at this chain size).
pub const FETCH_SPAN: usize = 100;

/// One synthetic peer.
pub struct Probe {
    stream: TcpStream,
    conn: Connection,
    buf: Vec<u8>,
}

impl Probe {
    /// Connects to `addr`, claims `sync` as its chain and waits for the handshake.
    pub fn connect(addr: SocketAddr, sync: CoreSyncData) -> std::io::Result<Probe> {
        let stream = TcpStream::connect_timeout(&addr, PROBE_CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        let local = LocalNode {
            network_id: Network::Mainnet.network_id(),
            peer_id: rand::random(),
            my_port: 0,
            rpc_port: 0,
            support_flags: 1,
        };
        let mut probe = Probe {
            stream,
            conn: Connection::outbound(local, sync, Instant::now()),
            buf: vec![0; 1 << 16],
        };
        let deadline = Instant::now() + PROBE_CONNECT_TIMEOUT;
        while !probe.conn.is_established() {
            if probe.next_event(deadline)?.is_none() && Instant::now() >= deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no handshake",
                ));
            }
        }
        Ok(probe)
    }

    /// Queues a notification.
    pub fn send(&mut self, m: &Message) -> std::io::Result<()> {
        self.conn.send_notification(m);
        self.flush()
    }

    fn flush(&mut self) -> std::io::Result<()> {
        while let Some(out) = self.conn.poll_transmit() {
            self.stream.write_all(&out)?;
        }
        Ok(())
    }

    /// The next event, or `None` once `until` passes. Errors when the connection ends.
    pub fn next_event(&mut self, until: Instant) -> std::io::Result<Option<Event>> {
        loop {
            self.flush()?;
            if let Some(ev) = self.conn.poll_event() {
                return Ok(Some(ev));
            }
            if self.conn.is_closed() {
                return Err(std::io::Error::other(format!(
                    "connection closed: {:?}",
                    self.conn.fault()
                )));
            }
            let now = Instant::now();
            if now >= until {
                return Ok(None);
            }
            let wake = self.conn.poll_timeout().map_or(until, |t| t.min(until));
            let wait = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(wait))?;
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    let data = self.buf.get(..n).unwrap_or_default();
                    self.conn
                        .handle_bytes(Instant::now(), data)
                        .map_err(|f| std::io::Error::other(f.to_string()))?;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    self.conn
                        .handle_timeout(Instant::now())
                        .map_err(|f| std::io::Error::other(f.to_string()))?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The next protocol message (2000s), or `None` once `until` passes.
    pub fn next_message(&mut self, until: Instant) -> std::io::Result<Option<Message>> {
        loop {
            match self.next_event(until)? {
                Some(Event::Protocol(m)) => return Ok(Some(m)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }
}

/// What one [`fetch_chain`] run took.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fetched {
    /// Blocks received.
    pub blocks: u64,
    /// Bytes of blocks and transactions received.
    pub bytes: u64,
}

/// Syncs the whole chain of the node at `addr` without verifying anything: a sparse
/// history of just `genesis`, then every block in spans of [`FETCH_SPAN`], walking on with
/// 2006 until the node's reported height. Gives up if an answer takes longer than
/// `patience`.
/// Every block's bytes are also added to `counter` as they arrive, and the walk stops
/// early once `stop` is set.
pub fn fetch_chain(
    addr: SocketAddr,
    genesis: [u8; 32],
    patience: Duration,
    counter: &std::sync::atomic::AtomicU64,
    stop: &std::sync::atomic::AtomicBool,
) -> std::io::Result<Fetched> {
    let mut p = Probe::connect(addr, Network::Mainnet.genesis_sync())?;
    let mut got = Fetched::default();
    let mut from = genesis;
    let timeout = || std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer");
    loop {
        // monerod wants the genesis id last in every sparse history.
        let history: Vec<[u8; 32]> = if from == genesis {
            vec![genesis]
        } else {
            vec![from, genesis]
        };
        p.send(&Message::ChainRequest(ChainRequest {
            block_ids: Hashes::from_items(history.iter()),
            ..Default::default()
        }))?;
        let entry = loop {
            match p.next_message(Instant::now() + patience)? {
                Some(Message::ChainResponse(r)) => break r,
                Some(_) => {}
                None => return Err(timeout()),
            }
        };
        let ids: Vec<[u8; 32]> = entry.m_block_ids.iter().collect();
        // The first id is the one we named; the rest are new.
        let new: Vec<[u8; 32]> = ids.iter().skip(1).copied().collect();
        if new.is_empty() {
            return Ok(got);
        }
        for span in new.chunks(FETCH_SPAN) {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(got);
            }
            p.send(&Message::GetObjectsRequest(GetObjectsRequest {
                blocks: Hashes::from_items(span.iter()),
                ..Default::default()
            }))?;
            loop {
                match p.next_message(Instant::now() + patience)? {
                    Some(Message::GetObjectsResponse(r)) => {
                        let before = got.bytes;
                        for b in &r.blocks {
                            got.blocks += 1;
                            got.bytes += b.block.len() as u64;
                            if let crate::wire::messages::BlockTxs::Full(txs) = &b.txs {
                                got.bytes += txs.iter().map(|t| t.len() as u64).sum::<u64>();
                            }
                        }
                        counter.fetch_add(got.bytes - before, std::sync::atomic::Ordering::Relaxed);
                        break;
                    }
                    Some(_) => {}
                    None => return Err(timeout()),
                }
            }
        }
        let reached = entry.start_height + ids.len() as u64;
        match new.last() {
            Some(last) if reached < entry.total_height => from = *last,
            _ => return Ok(got),
        }
    }
}

/// Which side of the node a relay was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// On a probe connected to the block's source, before the node under test.
    Source,
    /// On a probe connected to the node under test, after its hop.
    Node,
}

/// A new block a probe received: where, which, when.
pub type Seen = (Side, [u8; 32], Instant);

/// Runs `p` on a thread of its own until `stop`, sending every new block it receives
/// (2001 or 2008) to `out` with the moment it was read.
#[cfg(feature = "node")]
pub fn watch_blocks(
    mut p: Probe,
    side: Side,
    out: std::sync::mpsc::Sender<Seen>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let until = Instant::now() + Duration::from_millis(200);
            let entry = match p.next_message(until) {
                Ok(Some(Message::NewFluffyBlock(m))) => m.b,
                Ok(Some(Message::NewBlock(m))) => m.b,
                Ok(_) => continue,
                Err(_) => return,
            };
            let seen = Instant::now();
            if let Ok(b) = monero_oxide::block::Block::read(&mut entry.block.as_ref()) {
                if out.send((side, b.hash(), seen)).is_err() {
                    return;
                }
            }
        }
    })
}

/// Mines `blocks` blocks one at a time on the monerod whose RPC is `rpc` and, for each,
/// waits up to `patience` for both sides to see it: the hop through the node is the time
/// from the source-side probe's read to the node-side probe's read (`None` if the node
/// did not relay it in time). `pause` separates blocks.
#[cfg(feature = "node")]
pub fn mine_and_time_hops(
    rpc: u16,
    address: &str,
    blocks: usize,
    seen: &std::sync::mpsc::Receiver<Seen>,
    patience: Duration,
    pause: Duration,
) -> Result<Vec<Option<Duration>>, String> {
    use std::collections::HashMap;
    let mut early: HashMap<[u8; 32], (Option<Instant>, Option<Instant>)> = HashMap::new();
    let mut hops = Vec::with_capacity(blocks);
    for _ in 0..blocks {
        let r = super::realpeer::json_rpc(
            rpc,
            "generateblocks",
            serde_json::json!({"amount_of_blocks": 1, "wallet_address": address}),
        )
        .ok_or("generateblocks failed")?;
        let id: [u8; 32] = r
            .get("blocks")
            .and_then(|b| b.get(0))
            .and_then(|h| h.as_str())
            .and_then(|h| hex::decode(h).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or("generateblocks gave no block id")?;
        let deadline = Instant::now() + patience;
        let hop = loop {
            if let Some((Some(s), Some(n))) = early.get(&id).copied() {
                break Some(n.saturating_duration_since(s));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break None;
            }
            match seen.recv_timeout(left) {
                Ok((side, h, t)) => {
                    let e = early.entry(h).or_insert((None, None));
                    match side {
                        Side::Source => e.0 = Some(t),
                        Side::Node => e.1 = Some(t),
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("the probes stopped".into())
                }
            }
        };
        early.remove(&id);
        hops.push(hop);
        std::thread::sleep(pause);
    }
    Ok(hops)
}

/// The `q` quantile (0..=1) of `v` (sorted here), nearest rank.
pub fn quantile(v: &[Duration], q: f64) -> Option<Duration> {
    let mut s = v.to_vec();
    s.sort();
    let n = s.len();
    if n == 0 {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
    s.get(rank - 1).copied()
}

/// A crowd of `n` syncing peers on threads of their own, each fetching the whole chain of
/// the node at `addr` again and again ([`fetch_chain`]) until `stop`, adding the bytes
/// received to `counter`; each thread returns what it fetched in total. A peer whose
/// connection fails starts over after a second.
pub fn spawn_crowd(
    addr: SocketAddr,
    genesis: [u8; 32],
    n: usize,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<Fetched>> {
    (0..n)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            let counter = std::sync::Arc::clone(&counter);
            std::thread::spawn(move || {
                let mut total = Fetched::default();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match fetch_chain(addr, genesis, Duration::from_secs(30), &counter, &stop) {
                        Ok(f) => {
                            total.blocks += f.blocks;
                            total.bytes += f.bytes;
                        }
                        Err(_) => std::thread::sleep(Duration::from_secs(1)),
                    }
                }
                total
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(quantile(&v, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(quantile(&v, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(quantile(&v, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
