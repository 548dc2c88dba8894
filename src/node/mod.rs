//! The node: ties the shards runtime to the net node.
//!
//! Each shard listens on the P2P port (`SO_REUSEPORT`: the kernel spreads inbound
//! connections), owns the connections it accepted or dialled, and drives one
//! [`Connection`] machine per socket. Shard 0 runs the connection maker, which asks the
//! least-loaded shard to dial. Shared between shards, and only touched briefly at
//! connect and disconnect: per-IP connection counts and the failure/ban table (a mutex
//! held for a map lookup, never across an await).

pub mod bans;
pub mod chain_sync;
mod config;
pub mod metrics_http;
mod peer_task;
pub mod progress;
pub mod registry;
pub mod serve;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use bans::{save_timed, BanList, HostFailure, BANS_FILE, MAX_FAILING_HOSTS};
pub use config::{
    config_file_flags, default_rpc_port, Args, Config, ConfigFileError, LogFormat, NetworkChoice,
    RpcConfig,
};

/// Resolves command-line flags into a [`Config`].
pub fn config_from(args: &Args) -> Config {
    Config::from_args(args)
}
use xmrd_shards::glommio;
use xmrd_shards::{Placement, Shard};

use crate::p2p::address_book::{AddressBook, KnownPeer};
use crate::p2p::{LocalNode, Network};
use crate::wire::messages::{CoreSyncData, PeerListEntry};

/// How often the connection maker looks for connections to open (monerod:
/// `m_connections_maker_interval`, 1 s).
pub const CONNECTIONS_MAKER_INTERVAL: Duration = Duration::from_secs(1);
/// How long after a failed or dropped dial the same address is tried again.
pub const REDIAL_BACKOFF: Duration = Duration::from_secs(5);
/// How often the status line is logged.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(60);
/// How often shard 0 saves the address book and sends the shareable peers around.
pub const BOOK_FLUSH_INTERVAL: Duration = Duration::from_secs(60);
/// Hard cap on inbound connections when `--in-peers` is unlimited (-1). monerod has no
/// cap by default; we also never go past the open-file limit minus
/// `RESERVED_FDS` (see [`run`]).
pub const MAX_IN_PEERS_HARD_CAP: usize = 32_768;
/// File descriptors kept free for the data store, outbound dials and logs.
pub const RESERVED_FDS: usize = 256;

/// Cross-shard messages. The address book lives on shard 0: other shards send it what
/// they learn, and it sends back dials and the peers to share.
#[derive(Debug)]
pub enum ShardMsg {
    /// Open an outbound connection to this address.
    Dial(SocketAddr),
    /// Peers a peer shared (to shard 0).
    Learned(Vec<PeerListEntry>),
    /// A peer we reached: outbound handshake, or inbound that answered our back-ping
    /// (to shard 0).
    Reached {
        /// The peer.
        peer: KnownPeer,
        /// Whether we dialled it (then it is also an anchor).
        outbound: bool,
    },
    /// A dial or outbound connection to this address failed (to shard 0).
    Failed(SocketAddr),
    /// The peers to share in handshakes and timed syncs (from shard 0).
    Share(Arc<Vec<PeerListEntry>>),
}

/// Per-shard counters, readable by every shard.
#[derive(Debug, Default)]
pub struct ShardStats {
    /// Handshaked inbound peers.
    pub inbound: AtomicUsize,
    /// Handshaked outbound peers.
    pub outbound: AtomicUsize,
    /// Connections being set up (dialling or handshaking).
    pub pending: AtomicUsize,
    /// Connections dropped for a fault.
    pub dropped: AtomicUsize,
}

/// State shared by all shards.
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// Who we are.
    pub local: LocalNode,
    /// Counters per shard.
    pub stats: Vec<ShardStats>,
    /// Connections per remote IP (inbound and outbound), for `--max-connections-per-ip`.
    pub per_ip: Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    /// Failures and bans.
    pub bans: Mutex<BanList>,
    /// Outbound targets being dialled or connected (so they are not dialled twice).
    pub outbound_targets: Mutex<std::collections::HashSet<SocketAddr>>,
    /// The chain store's read side and the sync thread's inbox.
    pub chain: chain_sync::NodeChain,
    /// Numbers peers for the sync thread.
    pub next_peer_key: std::sync::atomic::AtomicU64,
    /// Target height and the sync-rate history (the histograms are per thread).
    pub metrics: metrics_http::NodeMetrics,
    /// The node-wide budget for serving history (`--limit-rate-up`).
    pub serve_budget: serve::Shaper,
    /// The open connections, for the RPC.
    pub connections: Arc<registry::Connections>,
    /// The address book's lists as shard 0 last published them, for the RPC.
    pub book_view: Mutex<Arc<registry::BookView>>,
    /// Bumped by every RPC ban: connection tasks then check their peer against the bans.
    pub ban_epoch: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Our chain tip as we announce it: the store's published top.
    pub fn core_sync(&self) -> CoreSyncData {
        let view = self.chain.reader.view();
        if view.block_count == 0 {
            return self.config.network.genesis_sync();
        }
        let top = view.block_count - 1;
        #[allow(clippy::cast_possible_truncation)] // splitting the u128 into its two halves
        let (low, high) = (
            view.cumulative_difficulty as u64,
            (view.cumulative_difficulty >> 64) as u64,
        );
        CoreSyncData {
            cumulative_difficulty: low,
            cumulative_difficulty_top64: high,
            current_height: view.block_count,
            top_id: view.top_hash,
            top_version: Some(self.chain.net.hard_fork_version(top)),
            ..Default::default()
        }
    }

    fn total(&self, f: impl Fn(&ShardStats) -> &AtomicUsize) -> usize {
        self.stats
            .iter()
            .map(|s| f(s).load(Ordering::Relaxed))
            .sum()
    }
}

/// Runs the node until SIGINT/SIGTERM.
pub fn run(mut config: Config) -> anyhow::Result<()> {
    let fds = usize::try_from(xmrd_shards::raise_fd_limit()).unwrap_or(usize::MAX);
    let fd_cap = fds.saturating_sub(RESERVED_FDS + config.out_peers).max(1);
    if config.in_peers > fd_cap {
        tracing::info!(
            "--in-peers {} lowered to {fd_cap}: the open-file limit is {fds}",
            config.in_peers
        );
        config.in_peers = fd_cap;
    }
    let placement = config.placement.clone();
    let count = match &placement {
        Placement::Count(n) => *n,
        Placement::Cpus(c) => c.len(),
        Placement::AllCores => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let local = LocalNode {
        network_id: config.network.network_id(),
        peer_id: rand::random(),
        my_port: if config.hide_my_port {
            0
        } else {
            u32::from(config.p2p_bind_port)
        },
        rpc_port: 0,
        support_flags: crate::p2p::constants::SUPPORT_FLAGS,
    };
    tracing::info!(
        network = ?config.network,
        peer_id = format_args!("{:016x}", local.peer_id),
        bind = %format_args!("{}:{}", config.p2p_bind_ip, config.p2p_bind_port),
        shards = count,
        "xmrd starting"
    );
    let mut bans = BanList::load(config.ban_list.as_deref())?;
    bans.load_saved(&config.data_dir, std::time::Instant::now())?;
    let chain = chain_sync::start(
        &config.data_dir,
        config.consensus_net(),
        &config.network.genesis_blob(),
        chain_sync::ChainOptions {
            randomx: config.randomx_mode,
            verify_threads: config.verify_threads,
            max_buffer_bytes: config.block_download_max_size,
            max_txpool_weight: config.max_txpool_weight,
            block_hashes: config.block_hashes()?,
        },
    )?;
    let view = chain.reader.view();
    tracing::info!(
        height = view.block_count,
        top = %hex::encode(view.top_hash),
        "chain store open"
    );
    let config_serve_rate = config.serve_rate;
    let shared = Arc::new(Shared {
        bans: Mutex::new(bans),
        config,
        local,
        stats: (0..count.max(1)).map(|_| ShardStats::default()).collect(),
        per_ip: Mutex::new(Default::default()),
        outbound_targets: Mutex::new(Default::default()),
        chain,
        next_peer_key: std::sync::atomic::AtomicU64::new(1),
        metrics: metrics_http::NodeMetrics::default(),
        serve_budget: serve::Shaper::new(config_serve_rate),
        connections: Arc::default(),
        book_view: Mutex::default(),
        ban_epoch: std::sync::atomic::AtomicU64::new(0),
    });
    metrics_http::spawn_sampler(&shared)?;
    if let Some(bind) = shared.config.metrics_bind {
        metrics_http::spawn_http(&shared, bind)?;
    }
    let rpc = crate::rpc::server::setup(&shared)?;
    let results = xmrd_shards::run::<ShardMsg, _, _, _>(placement, move |shard| {
        shard_main(shard, Arc::clone(&shared), rpc.clone())
    })?;
    for r in results {
        r?;
    }
    tracing::info!("xmrd stopped");
    Ok(())
}

/// What one shard's tasks share.
pub(crate) struct ShardCtx {
    pub(crate) shard: Shard<ShardMsg>,
    pub(crate) shared: Arc<Shared>,
    /// Closed at shutdown: every connection task waits on it and ends.
    pub(crate) closing: glommio::sync::Semaphore,
    pub(crate) tasks: RefCell<usize>,
    /// The peers to share, as last sent by shard 0.
    pub(crate) share: RefCell<Arc<Vec<PeerListEntry>>>,
    /// The address book (shard 0 only).
    pub(crate) book: Option<RefCell<AddressBook>>,
    /// The book changed since it was last published to [`Shared::book_view`].
    pub(crate) book_dirty: std::cell::Cell<bool>,
}

impl ShardCtx {
    pub(crate) fn stats(&self) -> &ShardStats {
        &self.shared.stats[self.shard.id]
    }

    /// Sends `msg` to shard 0's address book (or applies it here on shard 0).
    pub(crate) fn to_book(self: &Rc<Self>, msg: ShardMsg) {
        if self.shard.id == 0 {
            on_message(self, msg);
        } else {
            let _ = self.shard.mesh.try_send(0, msg);
        }
    }
}

async fn shard_main(
    shard: Shard<ShardMsg>,
    shared: Arc<Shared>,
    rpc: Vec<Arc<crate::rpc::server::RpcServer>>,
) -> anyhow::Result<()> {
    let bind = SocketAddr::new(shared.config.p2p_bind_ip, shared.config.p2p_bind_port);
    let listener = glommio::net::TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let book = if shard.id == 0 {
        let dir = shared.config.data_dir.clone();
        let allow_local = shared.config.allows_local_peers();
        let loaded = shard
            .spawn_blocking(move || AddressBook::load(&dir, allow_local))
            .await
            .map_err(|e| anyhow::anyhow!("address book: {e}"))?;
        let (w, g, a) = loaded.sizes();
        tracing::info!("address book: {w} white, {g} gray, {a} anchors");
        Some(RefCell::new(loaded))
    } else {
        None
    };
    let ctx = Rc::new(ShardCtx {
        shard,
        shared,
        closing: glommio::sync::Semaphore::new(0),
        tasks: RefCell::new(0),
        share: RefCell::new(Arc::new(Vec::new())),
        book,
        book_dirty: std::cell::Cell::new(true),
    });
    tracing::debug!(shard = ctx.shard.id, %bind, "listening");

    let accept = glommio::spawn_local(peer_task::accept_loop(Rc::clone(&ctx), listener));
    let inbox = glommio::spawn_local(inbox_loop(Rc::clone(&ctx)));
    let maker =
        (ctx.shard.id == 0).then(|| glommio::spawn_local(connections_maker(Rc::clone(&ctx))));
    let rpc_tasks: Vec<_> = rpc
        .into_iter()
        .filter_map(|server| crate::rpc::server::listen(ctx.shard.id, server))
        .collect();

    ctx.shard.shutdown_requested().await;
    if ctx.shard.id == 0 {
        log_status(&ctx);
    }
    tracing::info!(shard = ctx.shard.id, "shutting down: closing connections");
    ctx.closing.close();
    drop(accept.cancel());
    drop(inbox.cancel());
    if let Some(m) = maker {
        drop(m.cancel());
    }
    for r in rpc_tasks {
        drop(r.cancel());
    }
    // Let connection tasks observe the close and drop their sockets.
    for _ in 0..50 {
        if *ctx.tasks.borrow() == 0 {
            break;
        }
        glommio::timer::sleep(Duration::from_millis(20)).await;
    }
    save_book(&ctx).await;
    Ok(())
}

/// Saves the address book and the timed bans (shard 0), off the executor.
async fn save_book(ctx: &Rc<ShardCtx>) {
    let Some(book) = &ctx.book else { return };
    let bans = ctx
        .shared
        .bans
        .lock()
        .map(|b| b.timed_bans(std::time::Instant::now()))
        .unwrap_or_default();
    let json = match serde_json::to_vec(&*book.borrow()) {
        Ok(j) => j,
        Err(e) => {
            tracing::warn!("address book not saved: {e}");
            return;
        }
    };
    let dir = ctx.shared.config.data_dir.clone();
    let r = ctx
        .shard
        .spawn_blocking(move || {
            let book: AddressBook = serde_json::from_slice(&json).map_err(std::io::Error::other)?;
            book.save(&dir)?;
            bans::save_timed(&dir, &bans)
        })
        .await;
    if let Err(e) = r {
        tracing::warn!("address book not saved: {e}");
    }
}

/// Applies a cross-shard message on this shard.
fn on_message(ctx: &Rc<ShardCtx>, msg: ShardMsg) {
    if matches!(
        msg,
        ShardMsg::Learned(_) | ShardMsg::Reached { .. } | ShardMsg::Failed(_)
    ) {
        ctx.book_dirty.set(true);
    }
    match msg {
        ShardMsg::Dial(addr) => peer_task::spawn_dial(ctx, addr),
        ShardMsg::Share(peers) => *ctx.share.borrow_mut() = peers,
        ShardMsg::Learned(entries) => {
            if let Some(book) = &ctx.book {
                book.borrow_mut().merge_gray(&entries);
            }
        }
        ShardMsg::Reached { peer, outbound } => {
            if let Some(book) = &ctx.book {
                let mut b = book.borrow_mut();
                if outbound {
                    b.add_anchor(peer.clone());
                }
                b.promote_white(peer);
            }
        }
        ShardMsg::Failed(addr) => {
            if let Some(book) = &ctx.book {
                book.borrow_mut().connection_failed(&addr);
            }
        }
    }
}

async fn inbox_loop(ctx: Rc<ShardCtx>) {
    while let Some(msg) = ctx.shard.mesh.recv_any().await {
        on_message(&ctx, msg);
    }
}

/// Keeps the outbound connections at `--out-peers`: the exclusive nodes only, if any;
/// else the priority nodes (always), the added peers, then the address book (anchors,
/// white, gray). Runs on shard 0, hands each dial to the least-loaded shard, and
/// periodically saves the book and sends the shareable peers to every shard.
async fn connections_maker(ctx: Rc<ShardCtx>) {
    let cfg = &ctx.shared.config;
    let mut last_try: std::collections::HashMap<SocketAddr, std::time::Instant> =
        Default::default();
    let mut last_status = std::time::Instant::now();
    let mut last_flush: Option<std::time::Instant> = None;
    loop {
        let now = std::time::Instant::now();
        let mut targets: Vec<SocketAddr> = if cfg.exclusive_nodes.is_empty() {
            cfg.priority_nodes
                .iter()
                .chain(cfg.add_peers.iter())
                .copied()
                .collect()
        } else {
            cfg.exclusive_nodes.clone()
        };
        if cfg.exclusive_nodes.is_empty() {
            if let Some(book) = &ctx.book {
                targets.extend(book.borrow().candidates());
            }
            // Nothing configured and nothing known: monerod's seed nodes (never on
            // regtest, which has none).
            if targets.is_empty() && cfg.choice != NetworkChoice::Regtest {
                targets.extend(
                    crate::p2p::address_book::seed_nodes(cfg.network)
                        .iter()
                        .filter_map(|s| s.parse::<SocketAddr>().ok()),
                );
            }
        }
        for addr in &targets {
            let outbound = ctx.shared.total(|s| &s.outbound) + ctx.shared.total(|s| &s.pending);
            if outbound >= cfg.out_peers && !cfg.priority_nodes.contains(addr) {
                break;
            }
            if last_try
                .get(addr)
                .is_some_and(|t| now.duration_since(*t) < REDIAL_BACKOFF)
            {
                continue;
            }
            let busy = ctx
                .shared
                .outbound_targets
                .lock()
                .map(|s| s.contains(addr))
                .unwrap_or(true);
            if busy || *addr == SocketAddr::new(cfg.p2p_bind_ip, cfg.p2p_bind_port) {
                continue;
            }
            last_try.insert(*addr, now);
            let target = ctx.shard.loads.least_loaded();
            if target == ctx.shard.id || !ctx.shard.mesh.try_send(target, ShardMsg::Dial(*addr)) {
                peer_task::spawn_dial(&ctx, *addr);
            }
        }
        last_try.retain(|_, t| now.duration_since(*t) < REDIAL_BACKOFF);
        publish_book(&ctx);
        if last_flush.is_none_or(|t| now.duration_since(t) >= BOOK_FLUSH_INTERVAL) {
            last_flush = Some(now);
            if let Some(book) = &ctx.book {
                let share = Arc::new(book.borrow().share());
                for s in 1..ctx.shard.count {
                    let _ = ctx
                        .shard
                        .mesh
                        .try_send(s, ShardMsg::Share(Arc::clone(&share)));
                }
                *ctx.share.borrow_mut() = share;
            }
            save_book(&ctx).await;
        }
        if now.duration_since(last_status) >= STATUS_INTERVAL {
            last_status = now;
            log_status(&ctx);
        }
        glommio::timer::sleep(CONNECTIONS_MAKER_INTERVAL).await;
    }
}

/// Publishes the book's lists for the RPC when they changed (shard 0, at most once per
/// [`CONNECTIONS_MAKER_INTERVAL`]).
fn publish_book(ctx: &ShardCtx) {
    let Some(book) = &ctx.book else { return };
    if !ctx.book_dirty.replace(false) {
        return;
    }
    let (white, gray) = book.borrow().lists();
    if let Ok(mut v) = ctx.shared.book_view.lock() {
        *v = Arc::new(registry::BookView { white, gray });
    }
}

fn log_status(ctx: &ShardCtx) {
    let per_shard: Vec<String> = ctx
        .shared
        .stats
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "shard{i}: {} in / {} out",
                s.inbound.load(Ordering::Relaxed),
                s.outbound.load(Ordering::Relaxed)
            )
        })
        .collect();
    let banned = ctx
        .shared
        .bans
        .lock()
        .map(|b| b.banned_count())
        .unwrap_or(0);
    tracing::info!(
        "status: {} in, {} out ({}); white 0, gray 0; {} banned",
        ctx.shared.total(|s| &s.inbound),
        ctx.shared.total(|s| &s.outbound),
        per_shard.join(", "),
        banned
    );
}

/// The network a `Config` selects, for callers that only need ids.
pub fn network_of(cfg: &Config) -> Network {
    cfg.network
}
