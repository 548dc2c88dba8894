//! What the RPC may read of the P2P side: the open connections ([`Connections`], each
//! connection task keeps its own [`ConnStats`] up to date) and the last published
//! snapshot of shard 0's address book ([`BookView`]).
//!
//! Connection tasks only store into atomics; the RPC reads them when asked
//! (`get_connections`, `sync_info`, `get_info`, `/get_peer_list`). Nothing here blocks a
//! shard for longer than one map insert or removal.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::p2p::address_book::KnownPeer;

/// How long a window of byte counts is before it becomes the "current" speed
/// (monerod's `m_current_speed_down/up` come from its network throttle's window; xmrd
/// reports the bytes of the last full second).
pub const SPEED_WINDOW: Duration = Duration::from_secs(1);

/// One side's byte counter: the total and the rate over the last full window.
#[derive(Debug, Default)]
pub struct Flow {
    total: AtomicU64,
    /// Microseconds since the connection opened at which the current window began.
    window_start_us: AtomicU64,
    window_bytes: AtomicU64,
    last_rate: AtomicU64,
    /// Microseconds since the connection opened of the last transfer (0: none yet).
    last_us: AtomicU64,
}

impl Flow {
    /// Counts `n` bytes moved `at_us` microseconds after the connection opened. Only the
    /// connection's own task calls this, so the loads and stores need no ordering.
    fn add(&self, n: u64, at_us: u64) {
        self.total.fetch_add(n, Relaxed);
        self.last_us.store(at_us.max(1), Relaxed);
        let start = self.window_start_us.load(Relaxed);
        let window = u64::try_from(SPEED_WINDOW.as_micros()).unwrap_or(u64::MAX);
        let elapsed = at_us.saturating_sub(start);
        if elapsed >= window {
            let bytes = self.window_bytes.swap(0, Relaxed);
            // Bytes per second over the window that just ended; a gap of several windows
            // with no traffic counts as a slower window.
            self.last_rate
                .store(bytes.saturating_mul(1_000_000) / elapsed.max(1), Relaxed);
            self.window_start_us.store(at_us, Relaxed);
        }
        self.window_bytes.fetch_add(n, Relaxed);
    }

    /// Bytes moved so far.
    pub fn total(&self) -> u64 {
        self.total.load(Relaxed)
    }

    /// Bytes per second over the last full window, or 0 when the window before now held
    /// no traffic.
    fn current(&self, now_us: u64) -> u64 {
        let window = u64::try_from(SPEED_WINDOW.as_micros()).unwrap_or(u64::MAX);
        let start = self.window_start_us.load(Relaxed);
        if now_us.saturating_sub(start) >= window.saturating_mul(2) {
            0
        } else {
            self.last_rate.load(Relaxed)
        }
    }
}

/// One open connection, as its task last stored it.
#[derive(Debug)]
pub struct ConnStats {
    /// monerod's `m_connection_id` (a random UUID there; random 16 bytes here).
    pub id: [u8; 16],
    /// The remote end.
    pub addr: SocketAddr,
    /// Whether the peer dialled us.
    pub incoming: bool,
    /// When the task started.
    pub opened: Instant,
    /// Whether the handshake is done.
    pub handshaked: AtomicBool,
    /// The peer's id (from its handshake).
    pub peer_id: AtomicU64,
    /// The peer's support flags.
    pub support_flags: AtomicU32,
    /// The peer's chain height, as it last said.
    pub height: AtomicU64,
    /// The peer's pruning seed.
    pub pruning_seed: AtomicU32,
    /// The peer's RPC port (0: none).
    pub rpc_port: AtomicU16,
    /// Bytes received.
    pub recv: Flow,
    /// Bytes sent.
    pub sent: Flow,
}

impl ConnStats {
    fn micros_since_open(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.opened).as_micros()).unwrap_or(u64::MAX)
    }

    /// Counts bytes received now.
    pub fn received(&self, n: usize) {
        self.recv
            .add(n as u64, self.micros_since_open(Instant::now()));
    }

    /// Counts bytes sent now.
    pub fn sent(&self, n: usize) {
        self.sent
            .add(n as u64, self.micros_since_open(Instant::now()));
    }

    /// A consistent-enough copy for an answer, `now` being the moment asked.
    pub fn snapshot(&self, now: Instant) -> ConnSnapshot {
        let now_us = self.micros_since_open(now);
        let idle = |f: &Flow| {
            let last = f.last_us.load(Relaxed);
            Duration::from_micros(now_us.saturating_sub(last)).as_secs()
        };
        ConnSnapshot {
            id: self.id,
            addr: self.addr,
            incoming: self.incoming,
            live: now.saturating_duration_since(self.opened),
            handshaked: self.handshaked.load(Relaxed),
            peer_id: self.peer_id.load(Relaxed),
            support_flags: self.support_flags.load(Relaxed),
            height: self.height.load(Relaxed),
            pruning_seed: self.pruning_seed.load(Relaxed),
            rpc_port: self.rpc_port.load(Relaxed),
            recv_bytes: self.recv.total(),
            sent_bytes: self.sent.total(),
            recv_idle_secs: idle(&self.recv),
            send_idle_secs: idle(&self.sent),
            current_down: self.recv.current(now_us),
            current_up: self.sent.current(now_us),
        }
    }
}

/// A copy of one connection's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnSnapshot {
    /// [`ConnStats::id`].
    pub id: [u8; 16],
    /// The remote end.
    pub addr: SocketAddr,
    /// Whether the peer dialled us.
    pub incoming: bool,
    /// How long the connection has been open.
    pub live: Duration,
    /// Whether the handshake is done.
    pub handshaked: bool,
    /// The peer's id.
    pub peer_id: u64,
    /// The peer's support flags.
    pub support_flags: u32,
    /// The peer's height.
    pub height: u64,
    /// The peer's pruning seed.
    pub pruning_seed: u32,
    /// The peer's RPC port.
    pub rpc_port: u16,
    /// Bytes received.
    pub recv_bytes: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
    /// Seconds since bytes last came (since the connection opened if none came).
    pub recv_idle_secs: u64,
    /// Seconds since bytes last went.
    pub send_idle_secs: u64,
    /// Bytes per second received over the last full window.
    pub current_down: u64,
    /// Bytes per second sent over the last full window.
    pub current_up: u64,
}

/// The open connections, across all shards.
#[derive(Debug, Default)]
pub struct Connections {
    open: Mutex<HashMap<[u8; 16], Arc<ConnStats>>>,
}

impl Connections {
    /// Registers a connection that opened now; the guard removes it when dropped.
    pub fn open(self: &Arc<Self>, addr: SocketAddr, incoming: bool) -> ConnGuard {
        let stats = Arc::new(ConnStats {
            id: rand::random(),
            addr,
            incoming,
            opened: Instant::now(),
            handshaked: AtomicBool::new(false),
            peer_id: AtomicU64::new(0),
            support_flags: AtomicU32::new(0),
            height: AtomicU64::new(0),
            pruning_seed: AtomicU32::new(0),
            rpc_port: AtomicU16::new(0),
            recv: Flow::default(),
            sent: Flow::default(),
        });
        if let Ok(mut open) = self.open.lock() {
            open.insert(stats.id, Arc::clone(&stats));
        }
        ConnGuard {
            registry: Arc::clone(self),
            stats,
        }
    }

    /// Every open connection, oldest first.
    pub fn snapshot(&self) -> Vec<ConnSnapshot> {
        let now = Instant::now();
        let mut all: Vec<ConnSnapshot> = self
            .open
            .lock()
            .map(|open| open.values().map(|c| c.snapshot(now)).collect())
            .unwrap_or_default();
        all.sort_by(|a, b| b.live.cmp(&a.live).then(a.id.cmp(&b.id)));
        all
    }
}

/// A registered connection: its stats, and its removal when the task ends.
#[derive(Debug)]
pub struct ConnGuard {
    registry: Arc<Connections>,
    /// The connection's counters.
    pub stats: Arc<ConnStats>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.registry.open.lock() {
            open.remove(&self.stats.id);
        }
    }
}

/// The address book's white and gray lists as shard 0 last published them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookView {
    /// Peers we reached (or that answered a back-ping).
    pub white: Vec<KnownPeer>,
    /// Peers we heard of.
    pub gray: Vec<KnownPeer>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn registry_lists_a_connection_until_its_guard_drops() {
        let reg = Arc::new(Connections::default());
        let addr: SocketAddr = "127.0.0.1:18080".parse().unwrap();
        let g = reg.open(addr, true);
        g.stats.received(100);
        g.stats.sent(40);
        let list = reg.snapshot();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].addr, addr);
        assert!(list[0].incoming);
        assert_eq!((list[0].recv_bytes, list[0].sent_bytes), (100, 40));
        let other = reg.open("127.0.0.1:18081".parse().unwrap(), false);
        assert_eq!(reg.snapshot().len(), 2);
        assert_ne!(g.stats.id, other.stats.id);
        drop(g);
        let list = reg.snapshot();
        assert_eq!(list.len(), 1);
        assert!(!list[0].incoming);
    }

    #[test]
    fn registry_current_speed_is_the_last_full_windows_rate_and_decays_to_zero() {
        let f = Flow::default();
        let s = 1_000_000u64;
        f.add(500, 0);
        f.add(500, s / 2);
        assert_eq!(f.current(s / 2), 0, "no full window yet");
        // The window [0, 1 s) held 1000 bytes; it closes at the next transfer.
        f.add(10, s);
        assert_eq!(f.current(s + 20), 1000);
        assert_eq!(f.total(), 1010);
        // Two windows with no traffic: the current speed is zero again.
        assert_eq!(f.current(3 * s + 20), 0);
    }
}
