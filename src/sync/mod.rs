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
/// Most ids of blocks that failed verification kept to refuse chains that name them
/// (monerod keeps `m_invalid_blocks` the same way and drops a peer whose chain entry names
/// one).
pub const MAX_INVALID_BLOCKS: usize = 1024;
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
    /// Its last chain entry: (height of the first id, ids). A peer is only asked for blocks
    /// its own entry names, as monerod asks each peer from its `m_needed_objects`.
    entry: Option<(u64, Vec<[u8; 32]>)>,
}

impl Peer {
    fn id_at(&self, h: u64) -> Option<[u8; 32]> {
        let (start, ids) = self.entry.as_ref()?;
        usize::try_from(h.checked_sub(*start)?)
            .ok()
            .and_then(|i| ids.get(i))
            .copied()
    }

    fn entry_end(&self) -> u64 {
        self.entry
            .as_ref()
            .map_or(0, |(s, ids)| s + ids.len() as u64)
    }
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
    /// Cumulative difficulty of the peer whose entry the plan follows.
    plan_difficulty: u128,
    /// Blocks that failed verification (bounded by [`MAX_INVALID_BLOCKS`]).
    invalid: std::collections::HashSet<[u8; 32]>,
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
            plan_difficulty: 0,
            invalid: std::collections::HashSet::new(),
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
            entry: None,
        });
        p.height = height;
        p.cumulative_difficulty = cumulative_difficulty;
    }

    /// A peer is gone: its requests go back to the pool.
    pub fn on_peer_gone(&mut self, peer: PeerKey) {
        self.peers.remove(&peer);
        self.inflight.retain(|_, p| *p != peer);
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
        // Chain entries: every idle peer ahead of us whose entry is missing or nearly used
        // up tells us its chain (one 2006 each; the best one becomes the plan).
        let ours = self.cumulative_difficulty;
        let height = self.height;
        let wanting: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.waiting, Waiting::Nothing))
            .filter(|(_, p)| p.cumulative_difficulty > ours && p.height > height)
            .filter(|(_, p)| {
                let end = p.entry_end();
                p.entry.is_none()
                    || (p.height > end && end <= height + 2 * MAX_BLOCKS_PER_REQUEST as u64)
            })
            .map(|(k, _)| *k)
            .collect();
        if !wanting.is_empty() {
            let m = self.chain_request(&hash_at);
            for k in wanting {
                if let Some(p) = self.peers.get_mut(&k) {
                    p.waiting = Waiting::Chain {
                        since: now,
                        expect_height: height,
                    };
                }
                actions.push(Action::Send(k, m.clone()));
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
            let Some(peer) = self.peers.get(&k) else {
                continue;
            };
            let mut ids = Vec::new();
            let mut start = None;
            for (h, id) in self.plan.range(self.height..) {
                if ids.len() >= MAX_BLOCKS_PER_REQUEST {
                    break;
                }
                let has = peer.id_at(*h) == Some(*id);
                let free = has && !self.inflight.contains_key(h) && !self.buffer.contains_key(h);
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
        let e = validate::check_chain_entry(r, expect_height, &hash_at)?;
        if e.ids.iter().any(|id| self.invalid.contains(id)) {
            return Err(SyncFault::BadChainEntry(
                "names a block known to be invalid",
            ));
        }
        // The entry's own claim replaces the handshake's: a peer whose entry ends where its
        // chain ends is not asked again until a timed sync says it has grown.
        p.height = e.total_height;
        if e.cumulative_difficulty > p.cumulative_difficulty {
            p.cumulative_difficulty = e.cumulative_difficulty;
        }
        let difficulty = p.cumulative_difficulty;
        p.entry = Some((e.start_height, e.ids.clone()));
        // The best chain we know of is the plan; a worse peer's entry only says which of
        // the planned blocks it can serve.
        if difficulty < self.plan_difficulty && !self.plan.is_empty() {
            return Ok(());
        }
        self.plan_difficulty = difficulty;
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

    /// The block at `height` failed verification: forget it and everything planned above
    /// it, since the chain entry that named it came from a peer that may have lied; the next
    /// [`Syncer::poll`] asks a remaining peer for the chain again.
    pub fn on_invalid_block(&mut self, height: u64) {
        if let Some(id) = self.plan.get(&height) {
            if self.invalid.len() >= MAX_INVALID_BLOCKS {
                self.invalid.clear();
            }
            self.invalid.insert(*id);
        }
        self.requeue_from(height);
        let _ = self.plan.split_off(&height);
        self.plan_difficulty = 0;
        self.inflight.retain(|h, _| *h < height);
        // Every entry that vouched for it is cut there, so peers are asked again.
        for p in self.peers.values_mut() {
            if let Some((start, ids)) = &mut p.entry {
                let keep = usize::try_from(height.saturating_sub(*start)).unwrap_or(usize::MAX);
                ids.truncate(keep);
            }
        }
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
