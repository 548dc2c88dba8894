//! (c) Lying sync peers against the real monerod, regtest: xmrd syncs from an honest monerod
//! and from a peer that claims a better chain but answers 2003 with blocks that were not
//! asked for, or serves a block whose transaction fails verification. The liar is dropped,
//! its block never committed, and the sync completes from monerod to monerod's top.
//! The liar is xmrd's own sans-IO connection machine driven over a plain socket.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monero_oxide::block::Block;
use monero_oxide::ringct::RctPrunable;
use monero_oxide::transaction::Transaction;
use xmrd::chainfile::Package;
use xmrd::p2p::{Connection, Event, LocalNode, Network};
use xmrd::testdata::realpeer::{realpeer, spawn_xmrd_with, store_top, ServedMonerod};
use xmrd::wire::epee::Hashes;
use xmrd::wire::messages::{
    BlockCompleteEntry, BlockTxs, ChainResponse, CoreSyncData, GetObjectsResponse, Message,
};

#[derive(Clone, Copy, Debug)]
enum Lie {
    /// Answers each request with the blocks one height above.
    Unrequested,
    /// Its chain has its own block at `BAD_HEIGHT`, with a transaction that fails.
    BadTransaction,
    /// Tells the truth and has nothing to offer (a low height): a bystander.
    Idle,
}

/// The liars' host: not the honest monerod's, since a ban drops every connection of the
/// banned host (monerod's `block_host`).
const LIAR_HOST: &str = "127.0.0.2";

const BAD_HEIGHT: usize = 450;

/// A block blob and its transaction blobs.
type Blobs = (Vec<u8>, Vec<Vec<u8>>);

fn liar_chain(real: &[Package], lie: Lie) -> (Vec<[u8; 32]>, Vec<Blobs>) {
    let mut blocks: Vec<Blobs> = real
        .iter()
        .map(|p| (p.block.clone(), p.txs.clone()))
        .collect();
    if let Lie::BadTransaction = lie {
        blocks.truncate(BAD_HEIGHT);
        let p = &real[BAD_HEIGHT];
        assert!(!p.txs.is_empty(), "block {BAD_HEIGHT} has transactions");
        let b = Block::read(&mut p.block.as_slice()).unwrap();
        let mut txs: Vec<Transaction> = p
            .txs
            .iter()
            .map(|t| Transaction::read(&mut t.as_slice()).unwrap())
            .collect();
        if let Transaction::V2 {
            proofs: Some(pr), ..
        } = &mut txs[0]
        {
            if let RctPrunable::Clsag { clsags, .. } = &mut pr.prunable {
                let s: curve25519_dalek::Scalar = clsags[0].s[0].into();
                clsags[0].s[0] =
                    monero_oxide::ed25519::Scalar::from(s + curve25519_dalek::Scalar::ONE);
            }
        }
        let fake = Block::new(
            b.header.clone(),
            b.miner_transaction().clone(),
            txs.iter().map(|t| t.hash()).collect(),
        )
        .unwrap();
        blocks.push((
            fake.serialize(),
            txs.iter().map(|t| t.serialize()).collect(),
        ));
    }
    let ids = blocks
        .iter()
        .map(|(b, _)| Block::read(&mut b.as_slice()).unwrap().hash())
        .collect();
    (ids, blocks)
}

/// Serves one connection from xmrd as a lying peer until it is closed.
fn serve_liar(stream: TcpStream, real: Vec<Package>, lie: Lie) {
    let (ids, blocks) = liar_chain(&real, lie);
    let claim = match lie {
        Lie::Idle => CoreSyncData {
            cumulative_difficulty: 1,
            current_height: 1,
            top_id: ids[0],
            top_version: Some(16),
            ..Default::default()
        },
        _ => CoreSyncData {
            cumulative_difficulty: 1_000_000,
            current_height: 10_000,
            top_id: *ids.last().unwrap(),
            top_version: Some(16),
            ..Default::default()
        },
    };
    let local = LocalNode {
        network_id: Network::Mainnet.network_id(),
        peer_id: 0x11a2,
        my_port: 0,
        rpc_port: 0,
        support_flags: 1,
    };
    let mut conn = Connection::inbound(local, claim, Instant::now());
    let mut s = stream;
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        while let Some(out) = conn.poll_transmit() {
            if s.write_all(&out).is_err() {
                return;
            }
        }
        while let Some(ev) = conn.poll_event() {
            let Event::Protocol(m) = ev else { continue };
            let reply = match m {
                Message::ChainRequest(r) => {
                    let asked: Vec<[u8; 32]> = r.block_ids.iter().collect();
                    let start = asked
                        .iter()
                        .find_map(|a| ids.iter().position(|i| i == a))
                        .unwrap_or(0);
                    Message::ChainResponse(ChainResponse {
                        cumulative_difficulty: 1_000_000,
                        start_height: start as u64,
                        total_height: ids.len() as u64,
                        m_block_ids: Hashes::from_items(ids[start..].iter()),
                        ..Default::default()
                    })
                }
                Message::GetObjectsRequest(r) => {
                    let shift = usize::from(matches!(lie, Lie::Unrequested));
                    let entries = r
                        .blocks
                        .iter()
                        .filter_map(|h| ids.iter().position(|i| *i == h))
                        .filter_map(|i| blocks.get(i + shift))
                        .map(|(b, t)| BlockCompleteEntry {
                            block: Bytes::from(b.clone()),
                            txs: BlockTxs::Full(t.iter().map(|x| Bytes::from(x.clone())).collect()),
                            ..Default::default()
                        })
                        .collect();
                    Message::GetObjectsResponse(GetObjectsResponse {
                        blocks: entries,
                        current_blockchain_height: ids.len() as u64,
                        ..Default::default()
                    })
                }
                _ => continue,
            };
            conn.send_notification(&reply);
        }
        if conn.is_closed() {
            return;
        }
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if conn.handle_bytes(Instant::now(), &buf[..n]).is_err() {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if conn.handle_timeout(Instant::now()).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

fn run(lie: Lie, base: u16) {
    let Some(rp) = realpeer() else { return };
    let real = xmrd::chainfile::read_all(
        std::fs::File::open(rp.join("chains/regtest-700b-2500tx.raw")).unwrap(),
    )
    .unwrap();
    let top = Block::read(&mut real.last().unwrap().block.as_slice())
        .unwrap()
        .hash();
    let work = std::env::temp_dir().join(format!("xmrd-liar-{lie:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let served = ServedMonerod::start(
        &rp,
        &rp.join("chains/regtest-700b-2500tx.lmdb.xz"),
        &work.join("a"),
        (base, base + 1, base + 2),
        None,
    )
    .unwrap();
    let liar_port = base + 3;
    // The liar has a host of its own: its ban drops every connection of its host
    // (monerod's `block_host`), and the honest monerod must not share it.
    let listener = TcpListener::bind((LIAR_HOST, liar_port)).unwrap();
    let real2 = real.clone();
    std::thread::spawn(move || {
        // xmrd may come back after being dropped (until banned): serve each in turn.
        for s in listener.incoming().flatten() {
            let r = real2.clone();
            std::thread::spawn(move || serve_liar(s, r, lie));
        }
    });
    let data = work.join("xmrd");
    let log_path = work.join("xmrd.log");
    // A bystander on the liar's host: it goes when the liar's host is banned.
    let bystander_port = base + 5;
    let bystander = TcpListener::bind((LIAR_HOST, bystander_port)).unwrap();
    let real3 = real.clone();
    let (bystander_closed, closed_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Some(s) = bystander.incoming().flatten().next() {
            serve_liar(s, real3, Lie::Idle);
            let _ = bystander_closed.send(());
        }
    });
    let liar = format!("{LIAR_HOST}:{liar_port}");
    let bystander = format!("{LIAR_HOST}:{bystander_port}");
    let xmrd = spawn_xmrd_with(
        Path::new(env!("CARGO_BIN_EXE_xmrd")),
        &data,
        base + 4,
        &[base],
        &log_path,
        &[
            "--add-exclusive-node",
            &liar,
            "--add-exclusive-node",
            &bystander,
        ],
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(400);
    loop {
        if let Some((h, t)) = store_top(&data) {
            if h >= real.len() as u64 {
                assert_eq!((h, t), (real.len() as u64, top), "ended on the real chain");
                break;
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            panic!(
                "sync did not complete; log tail:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    let dropped = log
        .lines()
        .any(|l| l.contains("dropped") && l.contains(&liar));
    assert!(
        dropped,
        "the liar was not dropped:\n{}",
        &log[log.len().saturating_sub(4000)..]
    );
    let why: Vec<&str> = log
        .lines()
        .filter(|l| (l.contains("dropped") && l.contains(&liar)) || l.contains("refused"))
        .collect();
    let want = match lie {
        Lie::Unrequested => "a block that was not asked for",
        Lie::BadTransaction | Lie::Idle => "fails verification",
    };
    assert!(why.iter().any(|l| l.contains(want)), "{why:#?}");
    if matches!(lie, Lie::BadTransaction) {
        // A block that fails verification bans its sender's host at once; the bystander
        // on that host is dropped at its connection's next wake (a timed sync at most
        // 60 s later), and never dialled again.
        assert!(
            why.iter().any(|l| l.contains("dropped and banned")),
            "{why:#?}"
        );
        closed_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the bystander on the banned host was not dropped");
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            log.lines()
                .any(|l| l.contains(&bystander) && l.contains("its host is banned")),
            "{}",
            &log[log.len().saturating_sub(4000)..]
        );
    }
    drop(xmrd);
    drop(served);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn peer_sending_unrequested_blocks_is_dropped_and_sync_completes() {
    run(Lie::Unrequested, 22340);
}

#[test]
fn peer_serving_a_block_with_a_bad_transaction_is_dropped_and_sync_completes() {
    run(Lie::BadTransaction, 22350);
}
