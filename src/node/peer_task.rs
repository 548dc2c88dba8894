//! The task that owns one socket: feeds its bytes and timers to the [`Connection`]
//! machine, writes what it wants sent, and applies the node's policy (limits, bans,
//! counters) around it.

use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future;
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use xmrd_shards::glommio;
use xmrd_shards::glommio::net::{TcpListener, TcpStream};
use xmrd_shards::latency;

use super::chain_sync::{
    serve_chain_request, serve_missing_txs, serve_objects, PeerCmd, SyncInput,
};
use super::registry::ConnStats;
use super::serve::{ServeQueue, MAX_QUEUED_SERVE_REQUESTS, MAX_SERVE_HOLD};
use super::{HostFailure, ShardCtx, ShardMsg};
use crate::metrics;
use crate::p2p::address_book::KnownPeer;
use crate::p2p::constants::{CONNECT_TIMEOUT, PING_TIMEOUT};
use crate::p2p::{Connection, Direction, Event, PeerFault};
use crate::sync::PeerKey;
use crate::wire::messages::{BlockCompleteEntry, Message};

/// Read buffer of a quiet connection. An idle peer costs this much, not more: every
/// open connection keeps one read in flight.
pub(crate) const READ_CHUNK_MIN_BYTES: usize = 4 * 1024;
/// Read buffer of a busy connection: a read that fills the buffer doubles it, up to
/// this; a read that uses less than a quarter halves it again.
pub(crate) const READ_CHUNK_MAX_BYTES: usize = 64 * 1024;

/// Why a connection task ended.
#[derive(Debug)]
enum End {
    Fault(PeerFault),
    Closed,
    Io(std::io::Error),
    Shutdown,
}

pub(crate) async fn accept_loop(ctx: Rc<ShardCtx>, listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(shard = ctx.shard.id, "accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        if let Err(why) = admit_inbound(&ctx, peer.ip()) {
            tracing::debug!(%peer, "refused inbound connection: {why}");
            continue; // dropping the stream closes it
        }
        let ctx2 = Rc::clone(&ctx);
        glommio::spawn_local(async move {
            let mut conn = Connection::inbound(
                ctx2.shared.local.clone(),
                ctx2.shared.core_sync(),
                Instant::now(),
            );
            conn.set_shareable_peers(ctx2.share.borrow().to_vec());
            run(ctx2, stream, peer, conn).await;
        })
        .detach();
    }
}

fn admit_inbound(ctx: &ShardCtx, ip: IpAddr) -> Result<(), &'static str> {
    let now = Instant::now();
    if ctx
        .shared
        .bans
        .lock()
        .map(|mut b| b.is_banned(ip, now))
        .unwrap_or(true)
    {
        return Err("banned");
    }
    let inbound = ctx.shared.total(|s| &s.inbound) + ctx.shared.total(|s| &s.pending);
    if inbound >= ctx.shared.config.in_peers {
        return Err("in-peers limit");
    }
    take_ip_slot(ctx, ip)
}

/// Counts an inbound connection against `--max-connections-per-ip` (inbound only, as
/// monerod).
fn take_ip_slot(ctx: &ShardCtx, ip: IpAddr) -> Result<(), &'static str> {
    let mut per_ip = ctx.shared.per_ip.lock().map_err(|_| "poisoned")?;
    let n = per_ip.entry(ip).or_insert(0);
    if *n >= ctx.shared.config.max_connections_per_ip {
        return Err("max-connections-per-ip");
    }
    *n += 1;
    Ok(())
}

fn release_ip_slot(ctx: &ShardCtx, ip: IpAddr) {
    if let Ok(mut per_ip) = ctx.shared.per_ip.lock() {
        if let Some(n) = per_ip.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&ip);
            }
        }
    }
}

/// Dials `addr` from this shard.
pub(crate) fn spawn_dial(ctx: &Rc<ShardCtx>, addr: SocketAddr) {
    let fresh = ctx
        .shared
        .outbound_targets
        .lock()
        .map(|mut s| s.insert(addr))
        .unwrap_or(false);
    if !fresh {
        return;
    }
    let ctx = Rc::clone(ctx);
    glommio::spawn_local(async move {
        dial(&ctx, addr).await;
        if let Ok(mut s) = ctx.shared.outbound_targets.lock() {
            s.remove(&addr);
        }
    })
    .detach();
}

async fn dial(ctx: &Rc<ShardCtx>, addr: SocketAddr) {
    if ctx
        .shared
        .bans
        .lock()
        .map(|mut b| b.is_banned(addr.ip(), Instant::now()))
        .unwrap_or(true)
    {
        return;
    }
    ctx.stats().pending.fetch_add(1, Ordering::Relaxed);
    let stream = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT).await;
    ctx.stats().pending.fetch_sub(1, Ordering::Relaxed);
    match stream {
        Ok(stream) => {
            tracing::debug!(%addr, shard = ctx.shard.id, "connected");
            let mut conn = Connection::outbound(
                ctx.shared.local.clone(),
                ctx.shared.core_sync(),
                Instant::now(),
            );
            conn.set_shareable_peers(ctx.share.borrow().to_vec());
            run(Rc::clone(ctx), stream, addr, conn).await;
        }
        Err(e) => {
            tracing::debug!(%addr, "connect failed: {e}");
            ctx.to_book(ShardMsg::Failed(addr));
        }
    }
}

/// Owns one connection until it ends.
async fn run(ctx: Rc<ShardCtx>, mut stream: TcpStream, peer: SocketAddr, mut conn: Connection) {
    *ctx.tasks.borrow_mut() += 1;
    ctx.shard.loads.add(ctx.shard.id, 1);
    ctx.stats().pending.fetch_add(1, Ordering::Relaxed);
    let _ = stream.set_nodelay(true);
    let mut handshaked = false;
    let registered = ctx
        .shared
        .connections
        .open(peer, conn.direction() == Direction::Inbound);
    let end = future::or(
        async {
            let _ = ctx.closing.acquire(1).await;
            End::Shutdown
        },
        drive(
            &ctx,
            &mut stream,
            peer,
            &mut conn,
            &mut handshaked,
            Arc::clone(&registered.stats),
        ),
    )
    .await;
    drop(registered);
    // Unwind the counters.
    if handshaked {
        let c = match conn.direction() {
            Direction::Inbound => &ctx.stats().inbound,
            _ => &ctx.stats().outbound,
        };
        c.fetch_sub(1, Ordering::Relaxed);
    } else {
        ctx.stats().pending.fetch_sub(1, Ordering::Relaxed);
    }
    ctx.shard.loads.add(ctx.shard.id, -1);
    if conn.direction() == Direction::Inbound {
        release_ip_slot(&ctx, peer.ip());
    }
    *ctx.tasks.borrow_mut() -= 1;
    let _ = stream.shutdown(std::net::Shutdown::Both).await;
    match end {
        End::Fault(f) => {
            ctx.stats().dropped.fetch_add(1, Ordering::Relaxed);
            let score = f.score();
            let verdict = (score > 0).then(|| {
                ctx.shared
                    .bans
                    .lock()
                    .map(|mut b| b.add_fail(peer.ip(), score, Instant::now()))
            });
            match verdict {
                Some(Ok(HostFailure::Banned)) => {
                    // As monerod's `block_host`, the host's other connections go too: each
                    // sees the epoch change at its next wake.
                    ctx.shared.ban_epoch.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%peer, "dropped and banned: {f}")
                }
                _ => tracing::info!(%peer, "dropped: {f}"),
            }
        }
        End::Closed => tracing::info!(%peer, "connection closed by peer"),
        End::Io(e) => tracing::info!(%peer, "connection lost: {e}"),
        End::Shutdown => tracing::debug!(%peer, "closed for shutdown"),
    }
}

async fn drive(
    ctx: &Rc<ShardCtx>,
    stream: &mut TcpStream,
    peer: SocketAddr,
    conn: &mut Connection,
    handshaked: &mut bool,
    stats: Arc<ConnStats>,
) -> End {
    let mut buf = vec![0u8; READ_CHUNK_MIN_BYTES];
    let mut sync = SyncLink {
        key: None,
        outbox: None,
        stats,
    };
    let mut serve = ServeQueue::new(ctx.shared.config.serve_rate_per_peer);
    let end = drive_loop(
        ctx, stream, peer, conn, handshaked, &mut buf, &mut sync, &mut serve,
    )
    .await;
    if let Some(key) = sync.key {
        let _ = ctx.shared.chain.sync.send(SyncInput::Gone(key));
    }
    end
}

/// This connection's links to the rest of the node: the sync thread (once handshaked)
/// and its entry in the RPC's connection list.
pub(crate) struct SyncLink {
    key: Option<PeerKey>,
    outbox: Option<futures_channel::mpsc::UnboundedReceiver<PeerCmd>>,
    /// What the RPC's `get_connections` reads of this connection (and when it opened,
    /// for the handshake duration).
    stats: Arc<ConnStats>,
}

/// The levin command an event came with (monerod's name), for the per-command
/// handling-time histogram. Peer lists arrive in handshakes and timed syncs alike.
fn event_command(ev: &Event) -> &'static str {
    use crate::wire::levin::Command;
    match ev {
        Event::Handshaked { .. } => Command::Handshake.name(),
        Event::CoreSync(_) => Command::TimedSync.name(),
        Event::Peers(_) => "PEER_LIST",
        Event::SupportFlags(_) => Command::SupportFlags.name(),
        Event::Pong { .. } => Command::Ping.name(),
        Event::Protocol(m) => m.command().name(),
    }
}

#[allow(clippy::too_many_arguments)] // the connection task's state, split for borrows
async fn drive_loop(
    ctx: &Rc<ShardCtx>,
    stream: &mut TcpStream,
    peer: SocketAddr,
    conn: &mut Connection,
    handshaked: &mut bool,
    buf: &mut Vec<u8>,
    sync: &mut SyncLink,
    serve: &mut ServeQueue,
) -> End {
    let mut woken: Option<PeerCmd> = None;
    // Relays queued in this round, by arrival time of the block: recorded once written.
    let mut relays: Vec<Instant> = Vec::new();
    // One behind the current epoch: the first round checks the ban list, in case the host
    // was banned while this connection was being set up.
    let mut ban_epoch = ctx.shared.ban_epoch.load(Ordering::Relaxed).wrapping_sub(1);
    loop {
        // A ban (the operator's through RPC `set_bans`, or the node's own for another
        // connection's faults) drops a connected peer too, as monerod's `block_host`
        // does: checked at the connection's next wake.
        let epoch = ctx.shared.ban_epoch.load(Ordering::Relaxed);
        if epoch != ban_epoch {
            ban_epoch = epoch;
            let banned = ctx
                .shared
                .bans
                .lock()
                .map(|mut b| b.is_banned(peer.ip(), Instant::now()))
                .unwrap_or(false);
            if banned {
                return End::Fault(PeerFault::Protocol {
                    reason: "its host is banned".into(),
                    score: 0,
                });
            }
        }
        // What the last read brought first, so that its answers go out in this round.
        while let Some(ev) = conn.poll_event() {
            let started = Instant::now();
            let command = event_command(&ev);
            let fault = on_event(ctx, peer, conn, ev, handshaked, sync, serve);
            latency::record_labeled(
                metrics::MESSAGE_METRIC,
                "command",
                command,
                started.elapsed(),
            );
            if let Some(f) = fault {
                return End::Fault(f);
            }
        }
        let mut cmds: Vec<PeerCmd> = woken.take().into_iter().collect();
        if let Some(outbox) = &mut sync.outbox {
            loop {
                match outbox.try_recv() {
                    Ok(cmd) => cmds.push(cmd),
                    // The sync thread is gone (shutdown): nothing more will come.
                    Err(futures_channel::mpsc::TryRecvError::Closed) => {
                        sync.outbox = None;
                        break;
                    }
                    Err(futures_channel::mpsc::TryRecvError::Empty) => break,
                }
            }
        }
        for cmd in cmds {
            match cmd {
                PeerCmd::Send(m) => {
                    conn.send_notification(&m);
                }
                PeerCmd::Relay(m, since) => {
                    conn.send_notification(&m);
                    relays.push(since);
                }
                PeerCmd::Drop(f) => {
                    return End::Fault(PeerFault::Protocol {
                        reason: f.to_string(),
                        score: f.score(),
                    })
                }
            }
        }
        // History answers after the relays, each when its budget allows.
        if let Some(f) = serve_history(ctx, peer, conn, serve) {
            return End::Fault(f);
        }
        conn.set_local_sync(ctx.shared.core_sync());
        while let Some(out) = conn.poll_transmit() {
            let submitted = Instant::now();
            if let Err(e) = stream.write_all(&out).await {
                return End::Io(e);
            }
            sync.stats.sent(out.len());
            latency::record(metrics::IO_WRITE_METRIC, submitted.elapsed());
        }
        for since in relays.drain(..) {
            latency::record_labeled(metrics::RELAY_METRIC, "stage", "sent", since.elapsed());
        }
        if conn.is_closed() {
            return conn.fault().cloned().map_or(End::Closed, End::Fault);
        }
        let now = Instant::now();
        let wait = conn
            .poll_timeout()
            .into_iter()
            .chain(serve.due())
            .min()
            .map_or(Duration::from_secs(60), |d| {
                d.saturating_duration_since(now)
            })
            .max(Duration::from_millis(1));
        if let Err(e) = stream.set_read_timeout(Some(wait)) {
            return End::Io(std::io::Error::other(e.to_string()));
        }
        // Wait for bytes, or for a command from the sync thread (a relay goes out the
        // moment it is queued). glommio's read only polls readiness and then receives
        // synchronously, so dropping it for a command loses no bytes.
        let read = match &mut sync.outbox {
            Some(outbox) => {
                let cmd = async { Err(outbox.next().await) };
                let read = async { Ok(stream.read(buf).await) };
                match future::or(cmd, read).await {
                    Ok(r) => r,
                    Err(Some(cmd)) => {
                        woken = Some(cmd);
                        continue;
                    }
                    Err(None) => {
                        sync.outbox = None;
                        continue;
                    }
                }
            }
            None => stream.read(buf).await,
        };
        match read {
            Ok(0) => return End::Closed,
            Ok(n) => {
                sync.stats.received(n);
                let data = buf.get(..n).unwrap_or_default();
                let decoding = Instant::now();
                let handled = conn.handle_bytes(decoding, data);
                latency::record(metrics::DECODE_METRIC, decoding.elapsed());
                if let Err(f) = handled {
                    // What the machine queued before the fault is of no use to a
                    // misbehaving peer: end without flushing it.
                    return End::Fault(f);
                }
                let len = buf.len();
                if n == len && len < READ_CHUNK_MAX_BYTES {
                    buf.resize(len * 2, 0);
                } else if n < len / 4 && len > READ_CHUNK_MIN_BYTES {
                    buf.truncate(len / 2);
                    buf.shrink_to_fit();
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                if let Err(f) = conn.handle_timeout(Instant::now()) {
                    return End::Fault(f);
                }
            }
            Err(e) => return End::Io(e),
        }
    }
}

/// Answers the connection's history requests (2006, 2003) from the store, one at a time,
/// each sent when both the node's and the peer's serving budgets allow (see
/// [`super::serve`]).
fn serve_history(
    ctx: &ShardCtx,
    peer: SocketAddr,
    conn: &mut Connection,
    serve: &mut ServeQueue,
) -> Option<PeerFault> {
    let now = Instant::now();
    if let Some(p) = serve.take_due(now) {
        conn.send_encoded_notification(p);
    }
    let reader = &ctx.shared.chain.reader;
    while let Some(req) = serve.next_request() {
        let answer = match req {
            Message::ChainRequest(r) => {
                let a = serve_chain_request(reader, &r).map(Message::ChainResponse);
                if a.is_none() {
                    tracing::info!(%peer, "chain request with no block of ours: closing");
                }
                a
            }
            Message::GetObjectsRequest(r) => {
                let a = serve_objects(reader, &r).map(Message::GetObjectsResponse);
                if a.is_none() {
                    tracing::info!(%peer, "objects request over the limit: closing");
                }
                a
            }
            _ => None,
        };
        let Some(answer) = answer else {
            conn.close();
            return None;
        };
        if serve
            .hold(answer.to_packet(0), &ctx.shared.serve_budget, now)
            .is_err()
        {
            return Some(PeerFault::Protocol {
                reason: format!(
                    "history asked while the serving budget (--limit-rate-up) is booked over {} s ahead",
                    MAX_SERVE_HOLD.as_secs()
                ),
                score: 0,
            });
        }
        match serve.take_due(now) {
            Some(p) => {
                conn.send_encoded_notification(p);
            }
            None => break,
        }
    }
    None
}

fn on_event(
    ctx: &Rc<ShardCtx>,
    peer: SocketAddr,
    conn: &mut Connection,
    ev: Event,
    handshaked: &mut bool,
    link: &mut SyncLink,
    serve: &mut ServeQueue,
) -> Option<PeerFault> {
    match ev {
        Event::Handshaked { node, sync } => {
            *handshaked = true;
            latency::record(metrics::HANDSHAKE_METRIC, link.stats.opened.elapsed());
            let st = &link.stats;
            st.peer_id.store(node.peer_id, Ordering::Relaxed);
            st.support_flags
                .store(node.support_flags.unwrap_or(0), Ordering::Relaxed);
            st.height.store(sync.current_height, Ordering::Relaxed);
            st.pruning_seed
                .store(sync.pruning_seed.unwrap_or(0), Ordering::Relaxed);
            st.rpc_port
                .store(node.rpc_port.unwrap_or(0), Ordering::Relaxed);
            st.handshaked.store(true, Ordering::Relaxed);
            ctx.shared.metrics.peer_height(sync.current_height);
            ctx.stats().pending.fetch_sub(1, Ordering::Relaxed);
            let c = match conn.direction() {
                Direction::Inbound => &ctx.stats().inbound,
                _ => &ctx.stats().outbound,
            };
            c.fetch_add(1, Ordering::Relaxed);
            let key = ctx.shared.next_peer_key.fetch_add(1, Ordering::Relaxed);
            let (tx, rx) = futures_channel::mpsc::unbounded();
            if ctx
                .shared
                .chain
                .sync
                .send(SyncInput::Peer {
                    key,
                    height: sync.current_height,
                    cumulative_difficulty: sync.cumulative_difficulty_u128(),
                    outbox: tx,
                    outbound: conn.direction() == Direction::Outbound,
                })
                .is_ok()
            {
                link.key = Some(key);
                link.outbox = Some(rx);
            }
            tracing::info!(
                %peer,
                direction = ?conn.direction(),
                shard = ctx.shard.id,
                peer_id = format_args!("{:016x}", node.peer_id),
                height = sync.current_height,
                top = %hex::encode(sync.top_id),
                "peer handshaked"
            );
            let known = KnownPeer {
                addr: SocketAddr::new(peer.ip(), u16::try_from(node.my_port).unwrap_or(0)),
                id: node.peer_id,
                last_seen: unix_now(),
                pruning_seed: sync.pruning_seed.unwrap_or(0),
                rpc_port: node.rpc_port.unwrap_or(0),
            };
            match conn.direction() {
                Direction::Outbound => ctx.to_book(ShardMsg::Reached {
                    peer: KnownPeer {
                        addr: peer,
                        ..known
                    },
                    outbound: true,
                }),
                // monerod back-pings an inbound peer that gave a port, except on
                // loopback, before it enters the white list.
                Direction::Inbound if node.my_port != 0 && !peer.ip().is_loopback() => {
                    spawn_back_ping(ctx, known);
                }
                _ => {}
            }
        }
        Event::CoreSync(sync) => {
            tracing::debug!(%peer, height = sync.current_height, "timed sync");
            ctx.shared.metrics.peer_height(sync.current_height);
            link.stats
                .height
                .store(sync.current_height, Ordering::Relaxed);
            if let Some(key) = link.key {
                let _ = ctx.shared.chain.sync.send(SyncInput::State {
                    key,
                    height: sync.current_height,
                    cumulative_difficulty: sync.cumulative_difficulty_u128(),
                });
            }
        }
        Event::Peers(p) => {
            tracing::debug!(%peer, count = p.len(), "peer list received");
            ctx.to_book(ShardMsg::Learned(p));
        }
        Event::SupportFlags(f) => {
            tracing::debug!(%peer, flags = f, "support flags");
            link.stats.support_flags.store(f, Ordering::Relaxed);
        }
        Event::Protocol(m) => return on_protocol(ctx, peer, conn, m, link, serve),
        Event::Pong { peer_id, ok } => tracing::debug!(%peer, peer_id, ok, "pong"),
    }
    None
}

/// A cryptonote-protocol message: sync answers go to the sync thread, requests for our
/// chain are served from the store, the rest (relay) is not handled yet.
fn on_protocol(
    ctx: &Rc<ShardCtx>,
    peer: SocketAddr,
    conn: &mut Connection,
    m: Message,
    link: &SyncLink,
    serve: &mut ServeQueue,
) -> Option<PeerFault> {
    let reader = &ctx.shared.chain.reader;
    match m {
        Message::ChainResponse(r) => {
            if let Some(key) = link.key {
                let _ = ctx.shared.chain.sync.send(SyncInput::ChainEntry(key, r));
            }
        }
        Message::GetObjectsResponse(r) => {
            if let Some(key) = link.key {
                let _ = ctx.shared.chain.sync.send(SyncInput::Objects(key, r));
            }
        }
        m @ (Message::ChainRequest(_) | Message::GetObjectsRequest(_)) => {
            if serve.push(m).is_err() {
                return Some(PeerFault::Protocol {
                    reason: format!(
                        "more than {} history requests waiting for their budget",
                        MAX_QUEUED_SERVE_REQUESTS + 1
                    ),
                    score: 0,
                });
            }
        }
        Message::NewTransactions(m) => {
            if let Some(key) = link.key {
                let stem = !m.is_fluff();
                let _ = ctx
                    .shared
                    .chain
                    .sync
                    .send(SyncInput::NewTxs(key, m.txs, stem));
            }
        }
        Message::GetTxPoolComplement(m) => {
            if let Some(key) = link.key {
                let have: Vec<[u8; 32]> = m.hashes.iter().collect();
                let _ = ctx
                    .shared
                    .chain
                    .sync
                    .send(SyncInput::PoolComplement(key, have));
            }
        }
        Message::NewFluffyBlock(m) => new_block(ctx, link, m.b, m.current_blockchain_height),
        Message::NewBlock(m) => new_block(ctx, link, m.b, m.current_blockchain_height),
        Message::FluffyMissingTxRequest(r) => {
            match serve_missing_txs(reader, &ctx.shared.chain.recent, &r) {
                Some(resp) => {
                    conn.send_notification(&Message::NewFluffyBlock(resp));
                }
                None => {
                    tracing::info!(%peer, "request for transactions of a block we do not have: closing");
                    conn.close();
                }
            }
        }
        other => {
            tracing::debug!(%peer, command = ?other.command(), "protocol message (not handled yet)")
        }
    }
    None
}

/// Hands a new block to the sync thread.
fn new_block(ctx: &Rc<ShardCtx>, link: &SyncLink, b: BlockCompleteEntry, height: u64) {
    link.stats.height.store(height, Ordering::Relaxed);
    if let Some(key) = link.key {
        let _ = ctx.shared.chain.sync.send(SyncInput::NewBlock {
            key,
            block: b,
            height,
            received: std::time::Instant::now(),
        });
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Checks that an inbound peer listens where it says (monerod's `try_ping`): a fresh
/// connection, one PING, and the answer must carry the same peer id; then the peer
/// enters the white list.
fn spawn_back_ping(ctx: &Rc<ShardCtx>, peer: KnownPeer) {
    let ctx = Rc::clone(ctx);
    glommio::spawn_local(async move {
        let ok = future::or(
            async {
                let _ = ctx.closing.acquire(1).await;
                false
            },
            back_ping(&ctx, &peer),
        )
        .await;
        tracing::debug!(addr = %peer.addr, ok, "back-ping");
        if ok {
            ctx.to_book(ShardMsg::Reached {
                peer,
                outbound: false,
            });
        }
    })
    .detach();
}

async fn back_ping(ctx: &ShardCtx, peer: &KnownPeer) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(peer.addr, PING_TIMEOUT).await else {
        return false;
    };
    let mut conn = Connection::ping_probe(ctx.shared.local.clone(), Instant::now());
    let mut buf = vec![0u8; 4096];
    while !conn.is_closed() {
        while let Some(out) = conn.poll_transmit() {
            if stream.write_all(&out).await.is_err() {
                return false;
            }
        }
        let wait = conn
            .poll_timeout()
            .map_or(PING_TIMEOUT, |d| {
                d.saturating_duration_since(Instant::now())
            })
            .max(Duration::from_millis(1));
        if stream.set_read_timeout(Some(wait)).is_err() {
            return false;
        }
        let r = match stream.read(&mut buf).await {
            Ok(0) => return false,
            Ok(n) => conn.handle_bytes(Instant::now(), buf.get(..n).unwrap_or_default()),
            Err(_) => conn.handle_timeout(Instant::now()),
        };
        if r.is_err() {
            return false;
        }
    }
    matches!(conn.poll_event(), Some(Event::Pong { peer_id, ok: true }) if peer_id == peer.id)
}
