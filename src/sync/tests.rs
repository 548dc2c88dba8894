//! The sync state machine over a fake peer built from the real regtest chain.

#![allow(clippy::cast_possible_truncation)] // test heights are small

use std::time::{Duration, Instant};

use super::*;
use crate::wire::messages::{BlockCompleteEntry, BlockTxs};

fn ids(n: usize) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            h
        })
        .collect()
}

/// `chain` with its ids from `from` on changed (marked with `mark`): another branch.
fn branch(chain: &[[u8; 32]], from: usize, mark: u8) -> Vec<[u8; 32]> {
    let mut b = chain.to_vec();
    for id in b.iter_mut().skip(from) {
        id[29] = mark;
    }
    b
}

fn entry(start: u64, ids: &[[u8; 32]], total: u64) -> ChainResponse {
    ChainResponse {
        cumulative_difficulty: total,
        start_height: start,
        total_height: total,
        m_block_ids: Hashes::from_items(ids.iter()),
        ..Default::default()
    }
}

fn sent_chain_request(a: &[Action]) -> Option<PeerKey> {
    a.iter().find_map(|x| match x {
        Action::Send(k, Message::ChainRequest(_)) => Some(*k),
        _ => None,
    })
}

#[test]
fn asks_the_best_peer_for_the_chain_then_spans_from_everyone() {
    let chain = ids(1000);
    let ours = |h: u64| (h < 10).then(|| chain[h as usize]);
    let mut s = Syncer::new(10, 10, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(1, 500, 500);
    s.on_peer_state(2, 1000, 1000);
    let now = Instant::now();
    let a = s.poll(now, ours);
    // Each peer ahead of us is asked for its chain, once.
    let asked = a
        .iter()
        .filter(|x| matches!(x, Action::Send(_, Message::ChainRequest(_))))
        .count();
    assert_eq!(asked, 2);
    assert_eq!(sent_chain_request(&s.poll(now, ours)), None);
    s.on_chain_entry(2, &entry(9, &chain[9..1000], 1000), ours)
        .unwrap();
    s.on_chain_entry(1, &entry(9, &chain[9..500], 500), ours)
        .unwrap();
    let a = s.poll(now, ours);
    let asks: Vec<(PeerKey, usize)> = a
        .iter()
        .filter_map(|x| match x {
            Action::Send(k, Message::GetObjectsRequest(r)) => Some((*k, r.blocks.len())),
            _ => None,
        })
        .collect();
    assert_eq!(asks.len(), 2, "{a:?}");
    assert!(asks.iter().all(|(_, n)| *n == MAX_BLOCKS_PER_REQUEST));
}

#[test]
fn chain_entry_rules() {
    let chain = ids(100);
    let ours = |h: u64| (h < 50).then(|| chain[h as usize]);
    let mut s = Syncer::new(50, 50, DEFAULT_MAX_BUFFER_BYTES);
    // Unrequested.
    s.on_peer_state(1, 100, 100);
    assert_eq!(
        s.on_chain_entry(1, &entry(49, &chain[49..], 100), ours),
        Err(SyncFault::Unrequested("chain entry"))
    );
    let ask = |s: &mut Syncer| {
        let a = s.poll(Instant::now(), ours);
        assert_eq!(sent_chain_request(&a), Some(1));
    };
    ask(&mut s);
    // First id not ours.
    assert_eq!(
        s.on_chain_entry(1, &entry(49, &chain[0..51], 100), ours),
        Err(SyncFault::UnknownFirstBlock)
    );
    ask(&mut s);
    // Heights that do not add up.
    assert!(matches!(
        s.on_chain_entry(1, &entry(49, &chain[49..], 60), ours),
        Err(SyncFault::BadChainEntry(_))
    ));
    ask(&mut s);
    // Starting past what we have.
    assert!(matches!(
        s.on_chain_entry(1, &entry(50, &chain[50..], 100), ours),
        Err(SyncFault::BadChainEntry(_))
    ));
    ask(&mut s);
    let mut dup = chain[49..].to_vec();
    dup[3] = dup[2];
    assert!(matches!(
        s.on_chain_entry(1, &entry(49, &dup, 100), ours),
        Err(SyncFault::BadChainEntry(_))
    ));
    ask(&mut s);
    assert_eq!(
        s.on_chain_entry(1, &entry(49, &chain[49..], 100), ours),
        Ok(())
    );
}

#[test]
fn stalled_peer_loses_its_span() {
    let chain = ids(300);
    let ours = |h: u64| (h < 1).then(|| chain[h as usize]);
    let mut s = Syncer::new(1, 1, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(1, 300, 300);
    let t0 = Instant::now();
    s.poll(t0, ours);
    s.on_chain_entry(1, &entry(0, &chain, 300), ours).unwrap();
    let a = s.poll(t0, ours);
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Send(1, Message::GetObjectsRequest(_)))));
    let a = s.poll(t0 + REQUEST_TIMEOUT + Duration::from_secs(1), ours);
    assert!(a.contains(&Action::Drop(1, SyncFault::Stalled)));
    // A new peer gets the span back.
    s.on_peer_state(2, 300, 300);
    let a = s.poll(t0 + REQUEST_TIMEOUT * 2, ours);
    assert!(a.iter().any(|x| matches!(x, Action::Send(2, _))), "{a:?}");
}

/// Objects responses from the real regtest chain: exactly what was asked is accepted;
/// a block that was not asked, a missing transaction and an unrequested response are not.
#[test]
fn objects_rules_on_real_blocks() {
    let Some(pk) = real_chain() else { return };
    let chain = block_ids(&pk);
    let ours = |h: u64| (h < 500).then(|| chain[h as usize]);
    let mut s = Syncer::new(500, 500, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(7, 700, 700);
    s.poll(Instant::now(), ours);
    s.on_chain_entry(7, &entry(499, &chain[499..], 700), ours)
        .unwrap();
    let a = s.poll(Instant::now(), ours);
    let asked: Vec<[u8; 32]> = a
        .iter()
        .find_map(|x| match x {
            Action::Send(7, Message::GetObjectsRequest(r)) => Some(r.blocks.iter().collect()),
            _ => None,
        })
        .unwrap();
    assert_eq!(asked[0], chain[500]);
    let resp = |range: std::ops::Range<usize>| objects(&pk[range]);
    // Shifted by one: a block that was not asked for.
    let mut bad = resp(501..601);
    assert!(matches!(
        s.on_objects(7, &bad),
        Err(SyncFault::BadObjects(_))
    ));
    // Not waiting any more: unrequested.
    assert_eq!(
        s.on_objects(7, &resp(500..600)),
        Err(SyncFault::Unrequested("objects"))
    );
    // Ask again; a block with a transaction missing.
    s.poll(Instant::now(), ours);
    bad = resp(500..600);
    let with_txs = bad
        .blocks
        .iter()
        .position(|b| matches!(&b.txs, BlockTxs::Full(v) if !v.is_empty()))
        .unwrap();
    if let BlockTxs::Full(v) = &mut bad.blocks[with_txs].txs {
        v.pop();
    }
    assert!(matches!(
        s.on_objects(7, &bad),
        Err(SyncFault::BadObjects(_))
    ));
    s.poll(Instant::now(), ours);
    s.on_objects(7, &resp(500..600)).unwrap();
    let ready = s.take_ready(1000);
    assert_eq!(ready.len(), 100);
    assert_eq!(ready[0].height, 500);
    assert_eq!(s.buffer_bytes(), 0);
}

/// A peer is only asked for blocks its own chain entry names: the plan follows the best
/// chain, and a peer on another chain gets nothing above the fork.
#[test]
fn peers_are_asked_only_for_blocks_they_named() {
    let chain = ids(300);
    let mut other = chain.clone();
    for (i, id) in other.iter_mut().enumerate().skip(150) {
        id[31] = 0xff;
        id[30] = i as u8;
    }
    let ours = |h: u64| (h < 100).then(|| chain[h as usize]);
    let mut s = Syncer::new(100, 100, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(1, 300, 300); // on the best chain
    s.on_peer_state(2, 300, 200); // forks at 150
    s.poll(Instant::now(), ours);
    s.on_chain_entry(1, &entry(99, &chain[99..], 300), ours)
        .unwrap();
    let mut worse = entry(99, &other[99..], 300);
    worse.cumulative_difficulty = 200;
    s.on_chain_entry(2, &worse, ours).unwrap();
    // Peer 1 takes 100..199; peer 2 may only take what it shares with the plan (100..149).
    let a = s.poll(Instant::now(), ours);
    for x in &a {
        if let Action::Send(k, Message::GetObjectsRequest(r)) = x {
            let asked: Vec<[u8; 32]> = r.blocks.iter().collect();
            let from = if *k == 1 { &chain } else { &other };
            for id in &asked {
                assert!(
                    from.contains(id),
                    "peer {k} asked for a block it did not name"
                );
                assert!(chain.contains(id), "asked for a block off the plan");
            }
        }
    }
}

#[test]
fn buffer_bound_holds_back_requests() {
    let chain = ids(1000);
    let ours = |h: u64| (h < 1).then(|| chain[h as usize]);
    // Room for about one request's estimate.
    let mut s = Syncer::new(1, 1, ESTIMATED_BLOCK_BYTES * MAX_BLOCKS_PER_REQUEST);
    for k in 1..=4 {
        s.on_peer_state(k, 1000, 1000);
    }
    s.poll(Instant::now(), ours);
    for k in 1..=4 {
        s.on_chain_entry(k, &entry(0, &chain, 1000), ours).unwrap();
    }
    let a = s.poll(Instant::now(), ours);
    let n = a
        .iter()
        .filter(|x| matches!(x, Action::Send(_, Message::GetObjectsRequest(_))))
        .count();
    assert_eq!(n, 1, "{a:?}");
}

fn real_chain() -> Option<Vec<crate::chainfile::Package>> {
    let dir = crate::testdata::shared_subdir("realpeer/chains")?;
    Some(
        crate::chainfile::read_all(
            std::fs::File::open(dir.join("regtest-700b-2500tx.raw")).unwrap(),
        )
        .unwrap(),
    )
}

fn block_ids(pk: &[crate::chainfile::Package]) -> Vec<[u8; 32]> {
    pk.iter()
        .map(|p| {
            monero_oxide::block::Block::read(&mut p.block.as_slice())
                .unwrap()
                .hash()
        })
        .collect()
}

fn objects(pk: &[crate::chainfile::Package]) -> GetObjectsResponse {
    GetObjectsResponse {
        blocks: pk
            .iter()
            .map(|p| BlockCompleteEntry {
                block: Bytes::from(p.block.clone()),
                txs: BlockTxs::Full(p.txs.iter().map(|t| Bytes::from(t.clone())).collect()),
                ..Default::default()
            })
            .collect(),
        current_blockchain_height: 700,
        ..Default::default()
    }
}

fn asked_objects(a: &[Action], peer: PeerKey) -> Option<Vec<[u8; 32]>> {
    a.iter().find_map(|x| match x {
        Action::Send(k, Message::GetObjectsRequest(r)) if *k == peer => {
            Some(r.blocks.iter().collect())
        }
        _ => None,
    })
}

/// A heavier chain that leaves ours below our top becomes a fork: its blocks are asked
/// from the fork height, handed out in order with their bytes still counted against the
/// buffer, and a fork whose blocks are all handed out without outweighing us is abandoned
/// (its peer no longer believed). A lighter one is not fetched at all.
#[test]
fn heavier_chain_below_our_top_is_fetched_as_a_fork() {
    let Some(pk) = real_chain() else { return };
    let chain = block_ids(&pk);
    // Our chain: the real one to 549, then 60 blocks of our own (heights 550..610).
    let fake = ids(60);
    let ours = |h: u64| match h {
        0..=549 => Some(chain[h as usize]),
        550..=609 => Some(fake[h as usize - 550]),
        _ => None,
    };
    // A lighter chain that leaves ours is not fetched.
    let mut s = Syncer::new(610, 610, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(3, 700, 611);
    s.poll(Instant::now(), ours);
    let mut light = entry(540, &chain[540..700], 700);
    light.cumulative_difficulty = 600;
    s.on_chain_entry(3, &light, ours).unwrap();
    assert_eq!(s.fork(), None);
    assert_eq!(asked_objects(&s.poll(Instant::now(), ours), 3), None);

    // A heavier one is.
    let mut s = Syncer::new(610, 610, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(7, 700, 700);
    s.poll(Instant::now(), ours);
    s.on_chain_entry(7, &entry(540, &chain[540..700], 700), ours)
        .unwrap();
    let fork = s.fork().unwrap();
    assert_eq!((fork.height, fork.taken), (550, 0));
    let asked = asked_objects(&s.poll(Instant::now(), ours), 7).unwrap();
    assert_eq!(asked, chain[550..650].to_vec());
    s.on_objects(7, &objects(&pk[550..650])).unwrap();
    let ready = s.take_ready(1000);
    assert_eq!(ready.first().map(|d| d.height), Some(550));
    assert_eq!(ready.len(), 100);
    let fork2 = s.fork().unwrap();
    assert_eq!((fork2.taken, fork2.epoch), (100, fork.epoch));
    assert!(fork2.bytes > 0);
    assert_eq!(s.height(), 610, "our chain is untouched until a switch");
    assert!(!s.fork_complete());
    // The rest of the fork, from where the first span ended.
    let asked = asked_objects(&s.poll(Instant::now(), ours), 7).unwrap();
    assert_eq!(asked, chain[650..700].to_vec());
    s.on_objects(7, &objects(&pk[650..700])).unwrap();
    assert_eq!(s.take_ready(1000).first().map(|d| d.height), Some(650));
    assert!(s.fork_complete());
    // Not heavier after all: abandoned, and the peer is not asked again.
    assert_eq!(s.abandon_fork(600), Some(7));
    assert_eq!(s.fork(), None);
    let a = s.poll(Instant::now(), ours);
    assert_eq!(sent_chain_request(&a), None, "{a:?}");
    assert_eq!(asked_objects(&a, 7), None);
}

/// After a switch the fork's blocks are our chain and the plan goes on from the new top;
/// an entry forking at another height starts a new epoch (the old fork's verified blocks
/// are void).
#[test]
fn switch_and_refork() {
    let chain = ids(200);
    let mine = branch(&chain, 100, 0xee);
    let ours = |h: u64| (h < 120).then(|| mine[h as usize]);
    let mut s = Syncer::new(120, 120, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(1, 200, 200);
    s.poll(Instant::now(), ours);
    s.on_chain_entry(1, &entry(90, &chain[90..200], 200), ours)
        .unwrap();
    let f = s.fork().unwrap();
    assert_eq!(f.height, 100);
    // A heavier peer's entry forking lower: a new epoch.
    let other = branch(&chain, 95, 0xdd);
    s.on_peer_state(2, 210, 210);
    s.poll(Instant::now(), ours);
    s.on_chain_entry(2, &entry(90, &other[90..200], 210), ours)
        .unwrap();
    let g = s.fork().unwrap();
    assert_eq!(g.height, 95);
    assert_ne!(g.epoch, f.epoch);
    // The switch: our chain is now the fork's first 30 blocks.
    s.on_switched(125, 125);
    assert_eq!(s.fork(), None);
    assert_eq!(s.height(), 125);
}

#[test]
fn fork_a_few_blocks_below_the_top() {
    let chain = ids(720);
    let mine = branch(&chain, 700, 0xee);
    let ours = |h: u64| (h < 704).then(|| mine[h as usize]);
    let mut s = Syncer::new(704, 704, DEFAULT_MAX_BUFFER_BYTES);
    s.on_peer_state(1, 704, 704);
    s.on_peer_state(2, 709, 709);
    let a = s.poll(Instant::now(), ours);
    assert_eq!(sent_chain_request(&a), Some(2));
    s.on_chain_entry(2, &entry(699, &chain[699..709], 709), ours)
        .unwrap();
    assert_eq!(s.fork().map(|f| f.height), Some(700));
    let asked = asked_objects(&s.poll(Instant::now(), ours), 2).unwrap();
    assert_eq!(asked, chain[700..709].to_vec());
}

/// A heavier chain that leaves ours at or below a checkpoint is refused (monerod's
/// `is_alternative_block_allowed`); one that leaves above it is fetched.
#[test]
fn no_fork_at_or_below_the_fork_floor() {
    let chain = ids(720);
    let mine = branch(&chain, 700, 0xee);
    let ours = |h: u64| (h < 704).then(|| mine[h as usize]);
    for (floor, refused) in [(700, true), (699, false)] {
        let mut s = Syncer::new(704, 704, DEFAULT_MAX_BUFFER_BYTES);
        s.set_fork_floor(Some(floor));
        s.on_peer_state(2, 709, 709);
        let a = s.poll(Instant::now(), ours);
        assert_eq!(sent_chain_request(&a), Some(2));
        let r = s.on_chain_entry(2, &entry(699, &chain[699..709], 709), ours);
        assert_eq!(r.is_err(), refused, "floor {floor}: {r:?}");
        assert_eq!(s.fork().is_some(), !refused);
    }
}
