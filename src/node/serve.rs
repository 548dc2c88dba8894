//! Budgets for serving history: the answers to 2006 (chain requests) and 2003 (block
//! requests) that peers syncing from us ask for.
//!
//! Propagation goes first: new blocks, transactions and the handshake/timed-sync traffic
//! are never budgeted, and a connection's relays are written the moment they are queued,
//! ahead of any answer that waits for its budget. History is shaped in bytes per second
//! twice, node-wide (`--limit-rate-up`, monerod's figure and flag) and per peer
//! (`--limit-rate-up-per-peer`), with one request served at a time per connection and a
//! few more queued. An answer never waits more than [`MAX_SERVE_HOLD`]; a peer that
//! queues too many requests, or asks while the node-wide budget is booked further ahead
//! than that, is dropped (not banned).
//!
//! Each [`Shaper`] is a virtual clock (GCRA): an answer of `n` bytes reserves `n / rate`
//! seconds after the previous reservation and may go out when its slot starts; an idle
//! shaper lets up to [`SERVE_BURST`] worth go at once. The node-wide one is an atomic shared
//! by every shard (one compare-and-swap per answer, answers being up to megabytes).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::wire::messages::Message;

/// monerod's default `--limit-rate-up`, 2048 kB/s (`P2P_DEFAULT_LIMIT_RATE_UP`). monerod
/// applies it to everything it sends; xmrd applies it to served history only, so that
/// the operator's upload is protected as by monerod but a relay never waits for it.
pub const DEFAULT_LIMIT_RATE_UP_KBPS: u64 = 2048;

/// Default per-peer share of the history budget: the node-wide default, so that one
/// syncing peer is served as fast as monerod would serve it (monerod has no per-peer
/// limit; a lower share would hold a monerod's large answers toward its 20 s kick).
pub const DEFAULT_LIMIT_RATE_UP_PER_PEER_KBPS: u64 = DEFAULT_LIMIT_RATE_UP_KBPS;

/// monerod's kB in its rate flags (`network_throttle` multiplies by 1024).
pub const KB: u64 = 1024;

/// How much an idle shaper lets go at once: one second of its rate.
pub const SERVE_BURST: Duration = Duration::from_secs(1);

/// History requests a connection may have waiting behind the one being served. monerod
/// answers a connection's requests one by one with no bound (a syncing monerod keeps
/// one, at most two, 2003s outstanding per peer); more than this is a peer asking beyond
/// its share, and it is dropped.
pub const MAX_QUEUED_SERVE_REQUESTS: usize = 4;

/// A bytes-per-second shaper (see the module notes). `rate == 0` means unlimited.
#[derive(Debug)]
pub struct Shaper {
    /// Bytes per second, 0 for no limit.
    rate: u64,
    origin: Instant,
    /// End of the last reservation, in nanoseconds since `origin`.
    next_free_ns: AtomicU64,
}

impl Shaper {
    /// A shaper at `rate` bytes per second (0: unlimited).
    pub fn new(rate: u64) -> Self {
        Shaper {
            rate,
            origin: Instant::now(),
            next_free_ns: AtomicU64::new(0),
        }
    }

    /// Its rate in bytes per second (0: unlimited).
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Reserves `bytes` and returns when they may be sent (at once if not after `now`).
    pub fn reserve(&self, bytes: usize, now: Instant) -> Instant {
        self.reserve_within(bytes, now, Duration::MAX)
            .unwrap_or(now)
    }

    /// Like [`Shaper::reserve`], but reserves nothing and returns `None` when the bytes
    /// could not go within `max_wait`.
    pub fn reserve_within(
        &self,
        bytes: usize,
        now: Instant,
        max_wait: Duration,
    ) -> Option<Instant> {
        if self.rate == 0 {
            return Some(now);
        }
        // The clock runs one burst ahead of `origin`, so that a new shaper starts with a
        // full burst banked.
        let burst_ns = nanos(SERVE_BURST);
        let now_ns = nanos(now.saturating_duration_since(self.origin)).saturating_add(burst_ns);
        let cost_ns = u64::try_from(
            u128::try_from(bytes).unwrap_or(u128::MAX) * 1_000_000_000 / u128::from(self.rate),
        )
        .unwrap_or(u64::MAX);
        let floor = now_ns.saturating_sub(burst_ns);
        let mut cur = self.next_free_ns.load(Ordering::Relaxed);
        loop {
            let start = cur.max(floor);
            if start.saturating_sub(now_ns) > nanos(max_wait) {
                return None;
            }
            let end = start.saturating_add(cost_ns);
            match self.next_free_ns.compare_exchange_weak(
                cur,
                end,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let at = start.max(now_ns).saturating_sub(burst_ns);
                    return Some(self.origin + Duration::from_nanos(at));
                }
                Err(c) => cur = c,
            }
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The longest an answer waits for its budget: half of monerod's
/// `NON_RESPONSIVE_PEER_KICK_TIME` (20 s), after which a monerod that asked drops us.
/// When the node-wide budget is booked further ahead than this, the node is serving all
/// it may, and a peer asking for more is dropped (it syncs from others); a single large
/// answer is never held longer than this by its own peer's budget.
pub const MAX_SERVE_HOLD: Duration = Duration::from_secs(10);

/// Why a history request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeRefusal {
    /// More than [`MAX_QUEUED_SERVE_REQUESTS`] waiting.
    TooManyRequests,
    /// The node-wide budget is booked more than [`MAX_SERVE_HOLD`] ahead.
    Saturated,
}

/// One connection's history requests: the answer waiting for its slot, and the requests
/// behind it.
#[derive(Debug)]
pub struct ServeQueue {
    peer: Shaper,
    /// The encoded answer and when it may go.
    ready: Option<(Instant, Vec<u8>)>,
    waiting: VecDeque<Message>,
}

impl ServeQueue {
    /// An empty queue with a per-peer budget of `rate` bytes per second (0: unlimited).
    pub fn new(rate: u64) -> Self {
        ServeQueue {
            peer: Shaper::new(rate),
            ready: None,
            waiting: VecDeque::new(),
        }
    }

    /// Queues a request (2006 or 2003).
    pub fn push(&mut self, request: Message) -> Result<(), ServeRefusal> {
        let in_hand = usize::from(self.ready.is_some());
        if self.waiting.len() + in_hand > MAX_QUEUED_SERVE_REQUESTS {
            return Err(ServeRefusal::TooManyRequests);
        }
        self.waiting.push_back(request);
        Ok(())
    }

    /// The next request to answer, if none is waiting for its slot.
    pub fn next_request(&mut self) -> Option<Message> {
        if self.ready.is_some() {
            return None;
        }
        self.waiting.pop_front()
    }

    /// Holds `packet` (the answer to the request just taken) until both budgets allow it,
    /// at most [`MAX_SERVE_HOLD`]; refuses it if the node-wide budget cannot take it in
    /// that time.
    pub fn hold(
        &mut self,
        packet: Vec<u8>,
        total: &Shaper,
        now: Instant,
    ) -> Result<(), ServeRefusal> {
        let Some(node_due) = total.reserve_within(packet.len(), now, MAX_SERVE_HOLD) else {
            return Err(ServeRefusal::Saturated);
        };
        let peer_due = self
            .peer
            .reserve(packet.len(), now)
            .min(now + MAX_SERVE_HOLD);
        self.ready = Some((node_due.max(peer_due), packet));
        Ok(())
    }

    /// The held answer, once its slot has come.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        match &self.ready {
            Some((due, _)) if *due <= now => self.ready.take().map(|(_, p)| p),
            _ => None,
        }
    }

    /// When the held answer may go, if one is held.
    pub fn due(&self) -> Option<Instant> {
        self.ready.as_ref().map(|(d, _)| *d)
    }

    /// Whether there is nothing to do.
    pub fn is_idle(&self) -> bool {
        self.ready.is_none() && self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::messages::ChainRequest;

    const MB: usize = 1024 * 1024;

    #[test]
    fn unlimited_shaper_never_delays() {
        let s = Shaper::new(0);
        let now = Instant::now();
        for _ in 0..100 {
            assert_eq!(s.reserve(100 * MB, now), now);
        }
    }

    #[test]
    fn shaper_allows_a_burst_then_paces_at_its_rate() {
        let s = Shaper::new(MB as u64);
        let t0 = Instant::now();
        // One second's worth (the burst) goes at once.
        assert_eq!(s.reserve(MB, t0), t0);
        // The next megabyte waits about a second, the one after about two.
        let d1 = s.reserve(MB, t0).saturating_duration_since(t0);
        let d2 = s.reserve(MB, t0).saturating_duration_since(t0);
        assert!(d1 <= Duration::from_millis(1), "{d1:?}");
        assert!(
            (Duration::from_millis(999)..=Duration::from_millis(1001)).contains(&d2),
            "{d2:?}"
        );
        // Ten seconds later the budget is back (only one burst's worth, not ten).
        let t10 = t0 + Duration::from_secs(10);
        assert_eq!(s.reserve(MB, t10), t10);
        assert_eq!(s.reserve(MB, t10), t10);
        assert!(s.reserve(MB, t10) > t10 + Duration::from_millis(900));
    }

    #[test]
    fn shaper_is_shared_across_threads() {
        let s = std::sync::Arc::new(Shaper::new(10 * MB as u64));
        let t0 = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = std::sync::Arc::clone(&s);
                std::thread::spawn(move || (0..25).map(|_| s.reserve(MB, t0)).max().unwrap_or(t0))
            })
            .collect();
        let last = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap();
        // 100 MB at 10 MB/s with a 1 s burst: the last slot starts 9 s after the first
        // one that had to wait, i.e. ~8.9 s after t0 give or take rounding.
        let d = last.saturating_duration_since(t0).as_secs_f64();
        assert!((8.8..9.0).contains(&d), "{d}");
    }

    #[test]
    fn a_queue_serves_one_at_a_time_and_refuses_beyond_its_bound() {
        let total = Shaper::new(0);
        let mut q = ServeQueue::new(0);
        let req = || Message::ChainRequest(ChainRequest::default());
        for _ in 0..=MAX_QUEUED_SERVE_REQUESTS {
            q.push(req()).unwrap();
        }
        assert_eq!(q.push(req()), Err(ServeRefusal::TooManyRequests));
        let now = Instant::now();
        assert!(q.next_request().is_some());
        q.hold(vec![0; 10], &total, now).unwrap();
        // While an answer is held no other request is taken.
        assert!(q.next_request().is_none());
        assert_eq!(q.take_due(now), Some(vec![0; 10]));
        assert!(q.next_request().is_some());
        assert!(!q.is_idle());
    }

    #[test]
    fn the_tighter_of_the_two_budgets_decides() {
        let total = Shaper::new(MB as u64);
        let mut fast_peer = ServeQueue::new(100 * MB as u64);
        let t0 = Instant::now();
        fast_peer
            .push(Message::ChainRequest(ChainRequest::default()))
            .unwrap();
        fast_peer
            .push(Message::ChainRequest(ChainRequest::default()))
            .unwrap();
        let _ = fast_peer.next_request();
        fast_peer.hold(vec![0; 2 * MB], &total, t0).unwrap();
        assert_eq!(fast_peer.due(), Some(t0));
        let _ = fast_peer.take_due(t0);
        let _ = fast_peer.next_request();
        fast_peer.hold(vec![0; MB], &total, t0).unwrap();
        // 2 MB taken from a 1 MB/s total with a 1 s burst: the next waits ~1 s.
        let wait = fast_peer.due().unwrap().saturating_duration_since(t0);
        assert!(wait >= Duration::from_millis(999), "{wait:?}");
        assert!(fast_peer.take_due(t0).is_none());
    }

    #[test]
    fn a_saturated_node_refuses_and_a_big_answer_waits_at_most_the_hold() {
        let total = Shaper::new(MB as u64);
        let t0 = Instant::now();
        // The 1 s burst plus up to 10 s of waiting: 12 answers of one second each fit;
        // the next would wait longer.
        let mut q = ServeQueue::new(0);
        for _ in 0..12 {
            q.hold(vec![0; MB], &total, t0).unwrap();
            let _ = q.ready.take();
        }
        assert_eq!(
            q.hold(vec![0; MB], &total, t0),
            Err(ServeRefusal::Saturated)
        );
        // The refusal booked nothing: later the budget is there again.
        let later = t0 + Duration::from_secs(30);
        assert!(q.hold(vec![0; MB], &total, later).is_ok());
        // A slow peer budget delays a huge answer by the hold at most.
        let unlimited = Shaper::new(0);
        let mut slow = ServeQueue::new(1024);
        slow.hold(vec![0; 100 * MB], &unlimited, t0).unwrap();
        slow.hold(vec![0; 100 * MB], &unlimited, t0).unwrap();
        assert_eq!(slow.due(), Some(t0 + MAX_SERVE_HOLD));
    }
}
