//! Chain sync, sans-IO: which peer to ask for what, what to do with the answers, and when
//! a span of blocks is ready for verification. The node feeds it peer events and the
//! chain's top, and carries out the [`Action`]s it returns; it never touches a socket.
//!
//! Like monerod: a sparse chain history (2006) to the best peer; its chain entry (2007) is
//! checked and becomes the plan (block ids by height); spans of at most
//! [`MAX_BLOCKS_PER_REQUEST`] ids are asked (2003) from every idle peer that has them, in
//! height order; answers (2004) are checked against what was asked and kept in a download
//! buffer bounded by bytes; contiguous blocks from our top are handed out for verification
//! and commit. A peer that sends what was not asked, or a block that fails verification,
//! is dropped and its spans go to others; a peer that does not answer in
//! [`REQUEST_TIMEOUT`] loses its span.

pub mod history;
pub mod validate;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::verify::SpanBlock;
use crate::wire::epee::Hashes;
use crate::wire::messages::{
    ChainRequest, ChainResponse, GetObjectsRequest, GetObjectsResponse, Message,
};
pub use validate::{ChainEntry, SyncFault};

/// Most blocks asked in one 2003 request. monerod asks 20 (`BLOCKS_SYNCHRONIZING_DEFAULT_COUNT`)
/// from v4 and 100 before, and serves up to 500 (`CURRENCY_PROTOCOL_MAX_OBJECT_REQUEST_COUNT`);
/// 100 keeps verification spans long enough to fill the crypto pool.
pub const MAX_BLOCKS_PER_REQUEST: usize = 100;
/// Download buffer bound (bytes of blocks received but not yet verified and committed).
/// monerod's `BLOCK_QUEUE_SIZE_THRESHOLD` is 100 MB; `--block-download-max-size` sets it.
pub const DEFAULT_MAX_BUFFER_BYTES: usize = 100 * 1024 * 1024;
/// A request unanswered this long loses its span and its peer (monerod's
/// `NON_RESPONSIVE_PEER_KICK_TIME`, 20 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Bytes assumed per block before its size is known, to keep the buffer bound while
/// requests are in flight.
const ESTIMATED_BLOCK_BYTES: usize = 16 * 1024;

/// A peer, as the node numbers them.
pub type PeerKey = u64;

/// What the node must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this message to the peer.
    Send(PeerKey, Message),
    /// Drop the peer for this fault.
    Drop(PeerKey, SyncFault),
}

#[derive(Debug, Clone)]
enum Waiting {
    Nothing,
    Chain {
        since: Instant,
        expect_height: u64,
    },
    Objects {
        since: Instant,
        start: u64,
        ids: Vec<[u8; 32]>,
    },
}

#[derive(Debug, Clone)]
struct Peer {
    height: u64,
    cumulative_difficulty: u128,
    waiting: Waiting,
}

/// A verified-ready block with who sent it.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// Its height.
    pub height: u64,
    /// The blobs.
    pub block: SpanBlock,
    /// The peer that sent it.
    pub from: PeerKey,
}

/// The sync state.
#[derive(Debug)]
pub struct Syncer {
    /// Our chain: block count, top id, cumulative difficulty.
    height: u64,
    cumulative_difficulty: u128,
    peers: HashMap<PeerKey, Peer>,
    /// Block ids to fetch, by height, from the accepted chain entry.
    plan: BTreeMap<u64, [u8; 32]>,
    /// Heights asked and not yet answered, and by whom.
    inflight: HashMap<u64, PeerKey>,
    buffer: BTreeMap<u64, Downloaded>,
    buffer_bytes: usize,
    max_buffer_bytes: usize,
    /// A chain request is out (only one at a time).
    chain_request: Option<PeerKey>,
}

fn block_len(b: &SpanBlock) -> usize {
    b.block.len() + b.txs.iter().map(Vec::len).sum::<usize>()
}

impl Syncer {
    /// A syncer for a chain of `height` blocks with `cumulative_difficulty`.
    pub fn new(height: u64, cumulative_difficulty: u128, max_buffer_bytes: usize) -> Self {
        Syncer {
            height,
            cumulative_difficulty,
            peers: HashMap::new(),
            plan: BTreeMap::new(),
            inflight: HashMap::new(),
            buffer: BTreeMap::new(),
            buffer_bytes: 0,
            max_buffer_bytes,
            chain_request: None,
        }
    }

    /// Our chain height.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// The best height a peer claims (our target).
    pub fn target(&self) -> u64 {
        self.peers
            .values()
            .map(|p| p.height)
            .max()
            .unwrap_or(0)
            .max(self.height)
    }

    /// Bytes in the download buffer.
    pub fn buffer_bytes(&self) -> usize {
        self.buffer_bytes
    }

    /// Whether we are behind any peer.
    pub fn behind(&self) -> bool {
        self.peers
            .values()
            .any(|p| p.cumulative_difficulty > self.cumulative_difficulty)
    }

    /// A peer handshaked or sent a timed sync: its chain height and cumulative difficulty.
    pub fn on_peer_state(&mut self, peer: PeerKey, height: u64, cumulative_difficulty: u128) {
        let p = self.peers.entry(peer).or_insert(Peer {
            height: 0,
            cumulative_difficulty: 0,
            waiting: Waiting::Nothing,
        });
        p.height = height;
        p.cumulative_difficulty = cumulative_difficulty;
    }

    /// A peer is gone: its requests go back to the pool.
    pub fn on_peer_gone(&mut self, peer: PeerKey) {
        self.peers.remove(&peer);
        self.inflight.retain(|_, p| *p != peer);
        if self.chain_request == Some(peer) {
            self.chain_request = None;
        }
    }

    /// Our chain moved (blocks committed, by sync or otherwise).
    pub fn on_chain(&mut self, height: u64, cumulative_difficulty: u128) {
        self.height = height;
        self.cumulative_difficulty = cumulative_difficulty;
        self.plan = self.plan.split_off(&height);
        let below: Vec<u64> = self.buffer.range(..height).map(|(h, _)| *h).collect();
        for h in below {
            if let Some(d) = self.buffer.remove(&h) {
                self.buffer_bytes -= block_len(&d.block);
            }
        }
    }

    /// The sparse history request for our chain (ids from `hash_at`).
    pub fn chain_request(&self, hash_at: impl Fn(u64) -> Option<[u8; 32]>) -> Message {
        let ids: Vec<u8> = history::sparse_history_heights(self.height)
            .into_iter()
            .filter_map(&hash_at)
            .flatten()
            .collect();
        Message::ChainRequest(ChainRequest {
            block_ids: Hashes::from_bytes(Bytes::from(ids)).unwrap_or_default(),
            prune: None,
            ..Default::default()
        })
    }

    /// Decides what to ask next. `hash_at` gives our block ids.
    pub fn poll(&mut self, now: Instant, hash_at: impl Fn(u64) -> Option<[u8; 32]>) -> Vec<Action> {
        let mut actions = Vec::new();
        // Stalled requests lose their peer.
        let stalled: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| match &p.waiting {
                Waiting::Chain { since, .. } | Waiting::Objects { since, .. } => {
                    now.saturating_duration_since(*since) > REQUEST_TIMEOUT
                }
                Waiting::Nothing => false,
            })
            .map(|(k, _)| *k)
            .collect();
        for k in stalled {
            self.on_peer_gone(k);
            actions.push(Action::Drop(k, SyncFault::Stalled));
        }
        // Need a (new) plan: we are behind and nothing is planned beyond what we have.
        let planned_to = self.plan.keys().next_back().map_or(self.height, |h| h + 1);
        if self.chain_request.is_none() && self.behind() {
            let best = self
                .peers
                .iter()
                .filter(|(_, p)| matches!(p.waiting, Waiting::Nothing))
                .filter(|(_, p)| p.height > planned_to)
                .max_by_key(|(_, p)| p.cumulative_difficulty)
                .map(|(k, _)| *k);
            if let Some(k) = best {
                if self.plan.is_empty()
                    || planned_to < self.peers.get(&k).map_or(0, |p| p.height)
                        && self.plan_nearly_done()
                {
                    let m = self.chain_request(&hash_at);
                    if let Some(p) = self.peers.get_mut(&k) {
                        p.waiting = Waiting::Chain {
                            since: now,
                            expect_height: self.height,
                        };
                    }
                    self.chain_request = Some(k);
                    actions.push(Action::Send(k, m));
                }
            }
        }
        // Spans to idle peers, lowest heights first, within the buffer bound.
        let mut idle: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.waiting, Waiting::Nothing))
            .map(|(k, _)| *k)
            .collect();
        idle.sort_unstable();
        for k in idle {
            let reserved = self.inflight.len() * ESTIMATED_BLOCK_BYTES;
            if self.buffer_bytes + reserved >= self.max_buffer_bytes {
                break;
            }
            let peer_height = self.peers.get(&k).map_or(0, |p| p.height);
            let mut ids = Vec::new();
            let mut start = None;
            for (h, id) in self.plan.range(self.height..) {
                if *h >= peer_height || ids.len() >= MAX_BLOCKS_PER_REQUEST {
                    break;
                }
                let free = !self.inflight.contains_key(h) && !self.buffer.contains_key(h);
                match start {
                    None if free => {
                        start = Some(*h);
                        ids.push(*id);
                    }
                    Some(s) if free && *h == s + ids.len() as u64 => ids.push(*id),
                    Some(_) => break,
                    None => {}
                }
            }
            let Some(start) = start else { continue };
            for i in 0..ids.len() as u64 {
                self.inflight.insert(start + i, k);
            }
            let flat: Vec<u8> = ids.iter().flatten().copied().collect();
            if let Some(p) = self.peers.get_mut(&k) {
                p.waiting = Waiting::Objects {
                    since: now,
                    start,
                    ids,
                };
            }
            actions.push(Action::Send(
                k,
                Message::GetObjectsRequest(GetObjectsRequest {
                    blocks: Hashes::from_bytes(Bytes::from(flat)).unwrap_or_default(),
                    prune: None,
                    ..Default::default()
                }),
            ));
        }
        actions
    }

    fn plan_nearly_done(&self) -> bool {
        // Ask for the next chain entry once less than two requests' worth is left unasked.
        let unasked = self
            .plan
            .range(self.height..)
            .filter(|(h, _)| !self.inflight.contains_key(h) && !self.buffer.contains_key(h))
            .count();
        unasked < 2 * MAX_BLOCKS_PER_REQUEST
    }

    /// A chain entry (2007) arrived.
    pub fn on_chain_entry(
        &mut self,
        peer: PeerKey,
        r: &ChainResponse,
        hash_at: impl Fn(u64) -> Option<[u8; 32]>,
    ) -> Result<(), SyncFault> {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Err(SyncFault::Unrequested("chain entry"));
        };
        let Waiting::Chain { expect_height, .. } = p.waiting else {
            return Err(SyncFault::Unrequested("chain entry"));
        };
        p.waiting = Waiting::Nothing;
        self.chain_request = None;
        let e = validate::check_chain_entry(r, expect_height, &hash_at)?;
        if e.total_height > p.height {
            p.height = e.total_height;
        }
        if e.cumulative_difficulty > p.cumulative_difficulty {
            p.cumulative_difficulty = e.cumulative_difficulty;
        }
        // The first id is ours; the rest are the plan (replacing any stale plan above).
        for (i, id) in e.ids.iter().enumerate().skip(1) {
            let h = e.start_height + i as u64;
            if h >= self.height && hash_at(h) != Some(*id) {
                if self.plan.get(&h) != Some(id) {
                    // A different chain above this height: what we planned there is void.
                    let stale = self.plan.split_off(&h);
                    for sh in stale.keys() {
                        if let Some(d) = self.buffer.remove(sh) {
                            self.buffer_bytes -= block_len(&d.block);
                        }
                    }
                }
                self.plan.insert(h, *id);
            }
        }
        Ok(())
    }

    /// An objects response (2004) arrived.
    pub fn on_objects(&mut self, peer: PeerKey, r: &GetObjectsResponse) -> Result<(), SyncFault> {
        let Some(p) = self.peers.get_mut(&peer) else {
            return Err(SyncFault::Unrequested("objects"));
        };
        let Waiting::Objects { start, ids, .. } =
            std::mem::replace(&mut p.waiting, Waiting::Nothing)
        else {
            return Err(SyncFault::Unrequested("objects"));
        };
        if r.current_blockchain_height > p.height {
            p.height = r.current_blockchain_height;
        }
        for i in 0..ids.len() as u64 {
            if self.inflight.get(&(start + i)) == Some(&peer) {
                self.inflight.remove(&(start + i));
            }
        }
        let blocks = validate::check_objects(&ids, r)?;
        for (i, b) in blocks.into_iter().enumerate() {
            let h = start + i as u64;
            // Keep it only if it is still what the plan wants there.
            if h >= self.height && self.plan.get(&h) == ids.get(i) && !self.buffer.contains_key(&h)
            {
                self.buffer_bytes += block_len(&b);
                self.buffer.insert(
                    h,
                    Downloaded {
                        height: h,
                        block: b,
                        from: peer,
                    },
                );
            }
        }
        Ok(())
    }

    /// Takes the contiguous downloaded blocks that extend our chain, at most `max`.
    pub fn take_ready(&mut self, max: usize) -> Vec<Downloaded> {
        let mut out = Vec::new();
        let mut h = self.height;
        while out.len() < max {
            let Some(d) = self.buffer.remove(&h) else {
                break;
            };
            self.buffer_bytes -= block_len(&d.block);
            out.push(d);
            h += 1;
        }
        out
    }

    /// Blocks from `height` on failed or were not committed: forget them so they are asked
    /// again (from other peers once the sender is dropped).
    pub fn requeue_from(&mut self, height: u64) {
        let stale: Vec<u64> = self.buffer.range(height..).map(|(h, _)| *h).collect();
        for h in stale {
            if let Some(d) = self.buffer.remove(&h) {
                self.buffer_bytes -= block_len(&d.block);
            }
        }
    }
}

#[cfg(test)]
mod tests;
