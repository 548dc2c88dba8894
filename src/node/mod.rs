//! The node: ties the shards runtime to the net node.
//!
//! Each shard listens on the P2P port (`SO_REUSEPORT`: the kernel spreads inbound
//! connections), owns the connections it accepted or dialled, and drives one
//! [`Connection`] machine per socket. Shard 0 runs the connection maker, which asks the
//! least-loaded shard to dial. Shared between shards, and only touched briefly at
//! connect and disconnect: per-IP connection counts and the failure/ban table (a mutex
//! held for a map lookup, never across an await).

mod bans;
mod config;
mod peer_task;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use bans::{BanList, HostFailure, MAX_FAILING_HOSTS};
pub use config::{Args, Config, NetworkChoice};

/// Resolves command-line flags into a [`Config`].
pub fn config_from(args: &Args) -> Config {
    Config::from_args(args)
}
use xmrd_shards::glommio;
use xmrd_shards::{Placement, Shard};

use crate::p2p::{LocalNode, Network};
use crate::wire::epee::FieldLayout;
use crate::wire::messages::CoreSyncData;

/// How often the connection maker looks for connections to open (monerod:
/// `m_connections_maker_interval`, 1 s).
pub const CONNECTIONS_MAKER_INTERVAL: Duration = Duration::from_secs(1);
/// How long after a failed or dropped dial the same address is tried again.
pub const REDIAL_BACKOFF: Duration = Duration::from_secs(5);
/// How often the status line is logged.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(60);
/// Hard cap on inbound connections per node when `--in-peers` is unlimited (-1), so a
/// flood cannot exhaust file descriptors. monerod has no cap by default.
pub const MAX_IN_PEERS_HARD_CAP: usize = 8192;

/// Cross-shard requests.
#[derive(Debug)]
pub enum ShardMsg {
    /// Open an outbound connection to this address.
    Dial(SocketAddr),
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
}

impl Shared {
    /// Our chain tip as we announce it. Until the chain store lands this is the
    /// genesis block of the network.
    pub fn core_sync(&self) -> CoreSyncData {
        CoreSyncData {
            cumulative_difficulty: 1,
            cumulative_difficulty_top64: 0,
            current_height: 1,
            pruning_seed: None,
            top_id: self.config.network.genesis_id(),
            top_version: Some(1),
            layout: FieldLayout::CANONICAL,
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
pub fn run(config: Config) -> anyhow::Result<()> {
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
    let shared = Arc::new(Shared {
        bans: Mutex::new(BanList::load(config.ban_list.as_deref())?),
        config,
        local,
        stats: (0..count.max(1)).map(|_| ShardStats::default()).collect(),
        per_ip: Mutex::new(Default::default()),
        outbound_targets: Mutex::new(Default::default()),
    });
    let results = xmrd_shards::run::<ShardMsg, _, _, _>(placement, move |shard| {
        shard_main(shard, Arc::clone(&shared))
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
}

impl ShardCtx {
    pub(crate) fn stats(&self) -> &ShardStats {
        &self.shared.stats[self.shard.id]
    }
}

async fn shard_main(shard: Shard<ShardMsg>, shared: Arc<Shared>) -> anyhow::Result<()> {
    let bind = SocketAddr::new(shared.config.p2p_bind_ip, shared.config.p2p_bind_port);
    let listener = glommio::net::TcpListener::bind(bind)
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let ctx = Rc::new(ShardCtx {
        shard,
        shared,
        closing: glommio::sync::Semaphore::new(0),
        tasks: RefCell::new(0),
    });
    tracing::debug!(shard = ctx.shard.id, %bind, "listening");

    let accept = glommio::spawn_local(peer_task::accept_loop(Rc::clone(&ctx), listener));
    let inbox = glommio::spawn_local(inbox_loop(Rc::clone(&ctx)));
    let maker =
        (ctx.shard.id == 0).then(|| glommio::spawn_local(connections_maker(Rc::clone(&ctx))));

    ctx.shard.shutdown_requested().await;
    tracing::info!(shard = ctx.shard.id, "shutting down: closing connections");
    ctx.closing.close();
    drop(accept.cancel());
    drop(inbox.cancel());
    if let Some(m) = maker {
        drop(m.cancel());
    }
    // Let connection tasks observe the close and drop their sockets.
    for _ in 0..50 {
        if *ctx.tasks.borrow() == 0 {
            break;
        }
        glommio::timer::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn inbox_loop(ctx: Rc<ShardCtx>) {
    while let Some(msg) = ctx.shard.mesh.recv_any().await {
        match msg {
            ShardMsg::Dial(addr) => peer_task::spawn_dial(&ctx, addr),
        }
    }
}

/// Keeps the outbound connections at `--out-peers`, from the exclusive nodes if any,
/// else the priority nodes and the added peers. Runs on shard 0 and hands each dial to
/// the least-loaded shard.
async fn connections_maker(ctx: Rc<ShardCtx>) {
    let cfg = &ctx.shared.config;
    let targets: Vec<SocketAddr> = if cfg.exclusive_nodes.is_empty() {
        cfg.priority_nodes
            .iter()
            .chain(cfg.add_peers.iter())
            .copied()
            .collect()
    } else {
        cfg.exclusive_nodes.clone()
    };
    let mut last_try: std::collections::HashMap<SocketAddr, std::time::Instant> =
        Default::default();
    let mut last_status = std::time::Instant::now();
    loop {
        let now = std::time::Instant::now();
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
            if busy {
                continue;
            }
            last_try.insert(*addr, now);
            let target = ctx.shard.loads.least_loaded();
            if target == ctx.shard.id || !ctx.shard.mesh.try_send(target, ShardMsg::Dial(*addr)) {
                peer_task::spawn_dial(&ctx, *addr);
            }
        }
        if now.duration_since(last_status) >= STATUS_INTERVAL {
            last_status = now;
            log_status(&ctx);
        }
        glommio::timer::sleep(CONNECTIONS_MAKER_INTERVAL).await;
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
