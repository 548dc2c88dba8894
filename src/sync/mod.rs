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
//!
//! Alternative chains: when the best peer's chain entry leaves ours below our top and the
//! peer claims more cumulative difficulty than we have, the plan forks there ([`Fork`]):
//! its blocks are downloaded from the fork height on and handed out for verification
//! against our chain as it was at the fork, and the node switches to them (a reorg) once
//! they carry more cumulative difficulty than our chain, as monerod's
//! `switch_to_alternative_blockchain`. Blocks taken into a fork and not yet switched to
//! count against the download buffer, which bounds the depth of a reorg.

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

/// A planned alternative chain that leaves ours below our top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fork {
    /// Height of its first block (our chain's block there is replaced).
    pub height: u64,
    /// How many of its blocks have been handed out for verification.
    pub taken: u64,
    /// Bytes of the blocks handed out and not yet switched to.
    pub bytes: usize,
    /// Changes whenever the fork is replaced or dropped, so that whoever holds its
    /// verified blocks knows to let them go.
    pub epoch: u64,
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
    /// The alternative chain the plan follows, if it leaves ours below our top.
    fork: Option<Fork>,
    /// The peer whose chain entry the plan follows.
    plan_peer: Option<PeerKey>,
    epochs: u64,
    /// No alternative chain may leave ours at or below this height (the node's highest
    /// checkpoint under its height: monerod's `is_alternative_block_allowed`).
    fork_floor: Option<u64>,
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
            fork: None,
            plan_peer: None,
            epochs: 0,
            fork_floor: None,
        }
    }

    /// Refuses chain entries that leave our chain at or below `floor` (a checkpoint).
    pub fn set_fork_floor(&mut self, floor: Option<u64>) {
        self.fork_floor = floor;
    }

    /// The alternative chain being fetched, if any.
    pub fn fork(&self) -> Option<Fork> {
        self.fork
    }

    /// Height of the next block to hand out: past what a fork has handed out, else our top.
    fn cursor(&self) -> u64 {
        self.fork.map_or(self.height, |f| f.height + f.taken)
    }

    /// Forgets the fork and everything planned from its height.
    fn drop_fork(&mut self) {
        if let Some(f) = self.fork.take() {
            self.cut_from(f.height);
            self.plan_difficulty = 0;
        }
    }

    /// The fork's blocks were all handed out and verified, and they do not carry more
    /// cumulative difficulty than our chain: the peer that named them claimed more than
    /// they carry. It is believed again only when a timed sync claims more still.
    /// Returns that peer.
    pub fn abandon_fork(&mut self, carried: u128) -> Option<PeerKey> {
        self.drop_fork();
        let peer = self.plan_peer.take();
        self.plan_difficulty = 0;
        if let Some(p) = peer.and_then(|k| self.peers.get_mut(&k)) {
            p.cumulative_difficulty = carried.min(self.cumulative_difficulty);
            p.entry = None;
        }
        peer
    }

    /// Whether every block the fork's plan names has been handed out.
    pub fn fork_complete(&self) -> bool {
        self.fork.is_some()
            && self.plan.range(self.cursor()..).next().is_none()
            && self
                .plan_peer
                .and_then(|k| self.peers.get(&k))
                .is_none_or(|p| p.entry_end() >= p.height)
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

    /// A peer sent a new block that does not extend our chain: it has a chain we lack
    /// (monerod's orphan path asks it for its chain). Its claim is raised just above ours
    /// so that the next [`Syncer::poll`] asks; its chain entry then says what it really
    /// has.
    pub fn on_peer_ahead(&mut self, peer: PeerKey, height: u64) {
        let ours = self.cumulative_difficulty;
        if let Some(p) = self.peers.get_mut(&peer) {
            p.height = p.height.max(height);
            if p.cumulative_difficulty <= ours {
                p.cumulative_difficulty = ours + 1;
                p.entry = None;
            }
        }
    }

    /// A peer on our chain's height or above that is not busy answering us.
    pub fn synced_peer(&self) -> Option<PeerKey> {
        let mut ks: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| p.height >= self.height && matches!(p.waiting, Waiting::Nothing))
            .map(|(k, _)| *k)
            .collect();
        ks.sort_unstable();
        ks.first().copied()
    }

    /// A peer is gone: its requests go back to the pool.
    pub fn on_peer_gone(&mut self, peer: PeerKey) {
        self.peers.remove(&peer);
        self.inflight.retain(|_, p| *p != peer);
    }

    /// Our chain moved (blocks committed, by sync or otherwise).
    pub fn on_chain(&mut self, height: u64, cumulative_difficulty: u128) {
        if self.fork.is_some_and(|f| height <= f.height) {
            // Our chain no longer reaches the fork's base.
            self.drop_fork();
        }
        self.height = height;
        self.cumulative_difficulty = cumulative_difficulty;
        // What lies below our top is done with, except a fork's blocks.
        let keep = self.fork.map_or(height, |f| f.height);
        self.plan = self.plan.split_off(&keep);
        let below: Vec<u64> = self.buffer.range(..keep).map(|(h, _)| *h).collect();
        for h in below {
            if let Some(d) = self.buffer.remove(&h) {
                self.buffer_bytes -= block_len(&d.block);
            }
        }
    }

    /// The node switched to the fork's blocks (a reorg): our chain is now `height` blocks
    /// with `cumulative_difficulty`.
    pub fn on_switched(&mut self, height: u64, cumulative_difficulty: u128) {
        self.fork = None;
        self.on_chain(height, cumulative_difficulty);
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
        let cursor = self.cursor();
        let fork_bytes = self.fork.map_or(0, |f| f.bytes);
        let wanting: Vec<PeerKey> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.waiting, Waiting::Nothing))
            // Cumulative difficulty decides, not height: a heavier chain may be shorter.
            .filter(|(_, p)| p.cumulative_difficulty > ours)
            .filter(|(_, p)| {
                let end = p.entry_end();
                p.entry.is_none()
                    || (p.height > end && end <= cursor + 2 * MAX_BLOCKS_PER_REQUEST as u64)
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
            if self.buffer_bytes + fork_bytes + reserved >= self.max_buffer_bytes {
                break;
            }
            let Some(peer) = self.peers.get(&k) else {
                continue;
            };
            let mut ids = Vec::new();
            let mut start = None;
            for (h, id) in self.plan.range(cursor..) {
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
        // Likewise its cumulative difficulty (newer than the handshake's).
        if e.cumulative_difficulty != 0 {
            p.cumulative_difficulty = e.cumulative_difficulty;
        }
        let difficulty = p.cumulative_difficulty;
        p.entry = Some((e.start_height, e.ids.clone()));
        // Where the entry leaves our chain (the ids we have come first: `check_chain_entry`).
        let leaves = e
            .ids
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, id)| (e.start_height + i as u64, *id))
            .find(|(h, id)| hash_at(*h) != Some(*id))
            .map(|(h, _)| h);
        let Some(leaves) = leaves else {
            return Ok(());
        };
        if leaves < self.height && self.fork_floor.is_some_and(|f| leaves <= f) {
            return Err(SyncFault::BadChainEntry(
                "leaves our chain at or below a checkpoint",
            ));
        }
        // A chain that leaves ours below our top is worth fetching only if it is heavier;
        // the best chain we know of is the plan, and a worse peer's entry only says which
        // of the planned blocks it can serve.
        if leaves < self.height && difficulty <= self.cumulative_difficulty {
            return Ok(());
        }
        if difficulty < self.plan_difficulty && !self.plan.is_empty() {
            return Ok(());
        }
        self.plan_difficulty = difficulty;
        self.plan_peer = Some(peer);
        if leaves < self.height {
            if self.fork.is_none_or(|f| f.height != leaves) {
                if let Some(f) = self.fork {
                    self.cut_from(f.height.min(leaves));
                }
                self.new_fork(leaves);
            }
        } else if let Some(f) = self.fork {
            // The best chain now extends ours as it is: the fork is void.
            self.fork = None;
            self.cut_from(f.height);
        }
        for (i, id) in e.ids.iter().enumerate() {
            let h = e.start_height + i as u64;
            if h < leaves || self.plan.get(&h) == Some(id) {
                continue;
            }
            // A different chain from this height: what we planned there is void, and so
            // are a fork's blocks already handed out from there.
            self.cut_from(h);
            if let Some(f) = self.fork {
                if h < f.height + f.taken {
                    self.new_fork(f.height);
                }
            }
            self.plan.insert(h, *id);
        }
        Ok(())
    }

    /// Starts a fork at `height` with nothing handed out (a new epoch).
    fn new_fork(&mut self, height: u64) {
        self.epochs += 1;
        self.fork = Some(Fork {
            height,
            taken: 0,
            bytes: 0,
            epoch: self.epochs,
        });
    }

    /// Forgets the plan, downloads and requests from `height` on (not the fork itself).
    fn cut_from(&mut self, height: u64) {
        let _ = self.plan.split_off(&height);
        self.requeue_from(height);
        self.inflight.retain(|h, _| *h < height);
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
            if h >= self.cursor()
                && self.plan.get(&h) == ids.get(i)
                && !self.buffer.contains_key(&h)
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
    /// While a fork is planned these are its blocks (heights below our top, from
    /// [`Fork::height`] on); their bytes stay counted against the buffer until the node
    /// switches to them or the fork is dropped.
    pub fn take_ready(&mut self, max: usize) -> Vec<Downloaded> {
        let mut out = Vec::new();
        let mut h = self.cursor();
        while out.len() < max {
            let Some(d) = self.buffer.remove(&h) else {
                break;
            };
            let len = block_len(&d.block);
            self.buffer_bytes -= len;
            if let Some(f) = &mut self.fork {
                f.taken += 1;
                f.bytes += len;
            }
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
        self.cut_from(height);
        // A fork with an invalid block can never be switched to.
        self.drop_fork();
        self.plan_difficulty = 0;
        self.plan_peer = None;
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
