//! Specifications of the connection machine, on a two-machine harness with a virtual
//! clock (no sockets).

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::constants::{HANDSHAKE_TIMEOUT, TIMED_SYNC_INTERVAL};
use super::*;
use crate::testdata::shared_subdir;
use crate::wire::epee::FieldLayout;
use crate::wire::levin::{self, Command, Header};
use crate::wire::messages::*;

fn local(peer_id: u64) -> LocalNode {
    LocalNode {
        network_id: Network::Mainnet.network_id(),
        peer_id,
        my_port: 18080,
        rpc_port: 0,
        support_flags: 1,
    }
}

fn sync(height: u64) -> CoreSyncData {
    CoreSyncData {
        cumulative_difficulty: height,
        cumulative_difficulty_top64: 0,
        current_height: height,
        pruning_seed: None,
        top_id: [height.to_le_bytes()[0]; 32],
        top_version: Some(16),
        layout: FieldLayout::CANONICAL,
    }
}

fn peer_entry(i: u32) -> PeerListEntry {
    PeerListEntry {
        adr: NetworkAddress::from(Ipv4Address::new(Ipv4Addr::from(0x0a00_0000 + i), 18080)),
        id: u64::from(i),
        last_seen: None,
        pruning_seed: None,
        rpc_credits_per_hash: None,
        rpc_port: None,
        layout: FieldLayout::CANONICAL,
    }
}

/// Moves bytes between two machines until neither has anything to send.
fn drive(
    now: Instant,
    a: &mut Connection,
    b: &mut Connection,
) -> (Result<(), PeerFault>, Result<(), PeerFault>) {
    let (mut ra, mut rb) = (Ok(()), Ok(()));
    for _ in 0..100 {
        let mut moved = false;
        while let Some(bytes) = a.poll_transmit() {
            moved = true;
            if rb.is_ok() {
                rb = b.handle_bytes(now, &bytes);
            }
        }
        while let Some(bytes) = b.poll_transmit() {
            moved = true;
            if ra.is_ok() {
                ra = a.handle_bytes(now, &bytes);
            }
        }
        if !moved {
            return (ra, rb);
        }
    }
    panic!("machines still talking after 100 rounds");
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn pair(now: Instant) -> (Connection, Connection) {
    let mut a = Connection::outbound(local(1), sync(10), now);
    let mut b = Connection::inbound(local(2), sync(20), now);
    let (ra, rb) = drive(now, &mut a, &mut b);
    ra.unwrap();
    rb.unwrap();
    (a, b)
}

#[test]
fn handshake_completes_both_ways_and_reports_the_peer() {
    let now = Instant::now();
    let (mut a, mut b) = pair(now);
    assert!(a.is_established() && b.is_established());
    let ea = events(&mut a);
    assert!(
        matches!(&ea[0], Event::Handshaked { node, sync } if node.peer_id == 2 && sync.current_height == 20)
    );
    let eb = events(&mut b);
    assert!(
        matches!(&eb[0], Event::Handshaked { node, sync } if node.peer_id == 1 && sync.current_height == 10)
    );
}

#[test]
fn timed_syncs_run_every_minute_both_ways() {
    let t0 = Instant::now();
    let (mut a, mut b) = pair(t0);
    events(&mut a);
    events(&mut b);
    for round in 1..=2u32 {
        let t = t0 + TIMED_SYNC_INTERVAL * round;
        assert!(a.poll_timeout().unwrap() <= t);
        a.handle_timeout(t).unwrap();
        b.handle_timeout(t).unwrap();
        let (ra, rb) = drive(t, &mut a, &mut b);
        ra.unwrap();
        rb.unwrap();
        // Each side learns the other's tip twice per round: as requester and responder.
        let ea = events(&mut a);
        assert_eq!(
            ea.iter()
                .filter(|e| matches!(e, Event::CoreSync(s) if s.current_height == 20))
                .count(),
            2
        );
        let eb = events(&mut b);
        assert_eq!(
            eb.iter()
                .filter(|e| matches!(e, Event::CoreSync(s) if s.current_height == 10))
                .count(),
            2
        );
    }
    assert!(a.is_established() && b.is_established());
}

#[test]
fn rejects_handshake_with_wrong_network_id() {
    let now = Instant::now();
    let mut a = Connection::outbound(
        LocalNode {
            network_id: Network::Testnet.network_id(),
            ..local(1)
        },
        sync(1),
        now,
    );
    let mut b = Connection::inbound(local(2), sync(1), now);
    let (_, rb) = drive(now, &mut a, &mut b);
    assert_eq!(rb, Err(PeerFault::WrongNetwork));
    assert_eq!(PeerFault::WrongNetwork.score(), 1);
}

#[test]
fn detects_a_connection_to_itself() {
    let now = Instant::now();
    let mut a = Connection::outbound(local(7), sync(1), now);
    let mut b = Connection::inbound(local(7), sync(1), now);
    let (_, rb) = drive(now, &mut a, &mut b);
    assert_eq!(rb, Err(PeerFault::SelfConnection));
}

fn notify_packet(m: &Message) -> Vec<u8> {
    m.to_packet(0)
}

#[test]
fn drops_a_message_before_the_handshake() {
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    let m = Message::NewTransactions(NewTransactions::default());
    assert_eq!(
        b.handle_bytes(now, &notify_packet(&m)),
        Err(PeerFault::BeforeHandshake(Command::NewTransactions))
    );
    let mut b = Connection::inbound(local(2), sync(1), now);
    let ts = Message::TimedSyncRequest(TimedSyncRequest {
        payload_data: sync(1),
        layout: FieldLayout::CANONICAL,
    });
    assert_eq!(
        b.handle_bytes(now, &ts.to_packet(0)),
        Err(PeerFault::BeforeHandshake(Command::TimedSync))
    );
    assert!(b.is_closed());
}

#[test]
fn answers_ping_and_support_flags_before_the_handshake_as_monerod() {
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    b.handle_bytes(now, &Message::PingRequest(Empty).to_packet(0))
        .unwrap();
    let out = b.poll_transmit().unwrap();
    let mut d = levin::LevinDecoder::new(1 << 20);
    d.push(&out).unwrap();
    let p = d.next_packet().unwrap().unwrap();
    assert_eq!(p.header.return_code, 1);
    let Message::PingResponse(r) = Message::from_packet(&p).unwrap() else {
        panic!()
    };
    assert_eq!((r.peer_id, r.status.as_ref()), (2, &b"OK"[..]));
}

#[test]
fn a_ping_probe_ends_after_the_pong() {
    let now = Instant::now();
    let mut probe = Connection::ping_probe(local(1), now);
    let mut b = Connection::inbound(local(2), sync(1), now);
    let (ra, rb) = drive(now, &mut probe, &mut b);
    ra.unwrap();
    rb.unwrap();
    assert_eq!(
        events(&mut probe),
        vec![Event::Pong {
            peer_id: 2,
            ok: true
        }]
    );
    assert!(probe.is_closed() && probe.fault().is_none());
}

#[test]
fn drops_a_second_handshake() {
    let now = Instant::now();
    let (_, mut b) = pair(now);
    let again = Message::HandshakeRequest(HandshakeRequest {
        node_data: local(1).node_data(),
        payload_data: sync(1),
        layout: FieldLayout::CANONICAL,
    });
    assert_eq!(
        b.handle_bytes(now, &again.to_packet(0)),
        Err(PeerFault::SecondHandshake)
    );
}

#[test]
fn drops_a_handshake_request_on_an_outbound_connection() {
    let now = Instant::now();
    let mut a = Connection::outbound(local(1), sync(1), now);
    let req = Message::HandshakeRequest(HandshakeRequest {
        node_data: local(2).node_data(),
        payload_data: sync(1),
        layout: FieldLayout::CANONICAL,
    });
    assert_eq!(
        a.handle_bytes(now, &req.to_packet(0)),
        Err(PeerFault::HandshakeOnOutbound)
    );
}

#[test]
fn drops_a_response_nobody_asked_for() {
    let now = Instant::now();
    let (_, mut b) = pair(now);
    let resp = Message::PingResponse(PingResponse {
        peer_id: 1,
        status: Bytes::from_static(b"OK"),
        layout: FieldLayout::CANONICAL,
    });
    assert_eq!(
        b.handle_bytes(now, &resp.to_packet(1)),
        Err(PeerFault::UnexpectedResponse(Command::Ping.id()))
    );
}

#[test]
fn drops_garbage_and_oversized_packets() {
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    assert!(matches!(
        b.handle_bytes(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Err(PeerFault::Framing(levin::LevinError::BadSignature))
    ));
    // 300 KiB before the handshake is over the 256 KiB cap.
    let mut b = Connection::inbound(local(2), sync(1), now);
    let mut head = Vec::new();
    Header::notify(2002).write(300 * 1024, &mut head);
    assert!(matches!(
        b.handle_bytes(now, &head),
        Err(PeerFault::Framing(levin::LevinError::TooLarge { .. }))
    ));
    // A ping over its 4 KiB cap, even after the handshake.
    let (_, mut b) = pair(now);
    let mut head = Vec::new();
    Header::request(1003).write(5000, &mut head);
    assert!(matches!(
        b.handle_bytes(now, &head),
        Err(PeerFault::Framing(levin::LevinError::TooLarge { .. }))
    ));
}

#[test]
fn drops_a_body_that_does_not_decode() {
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    let pkt = levin::request(1001, &[1, 2, 3]);
    assert!(matches!(
        b.handle_bytes(now, &pkt),
        Err(PeerFault::Undecodable(_))
    ));
    // An invoke command sent as a notification is refused too.
    let mut b = Connection::inbound(local(2), sync(1), now);
    let body = crate::wire::epee::to_bytes(&HandshakeRequest {
        node_data: local(1).node_data(),
        payload_data: sync(1),
        layout: FieldLayout::CANONICAL,
    });
    assert!(matches!(
        b.handle_bytes(now, &levin::notify(1001, &body)),
        Err(PeerFault::Undecodable(_))
    ));
}

#[test]
fn drops_a_peer_list_over_250() {
    let now = Instant::now();
    let mut a = Connection::outbound(local(1), sync(1), now);
    let resp = Message::HandshakeResponse(HandshakeResponse {
        local_peerlist_new: (0..251).map(peer_entry).collect(),
        node_data: local(2).node_data(),
        payload_data: sync(1),
        layout: FieldLayout::CANONICAL,
    });
    assert_eq!(
        a.handle_bytes(now, &resp.to_packet(1)),
        Err(PeerFault::TooManyPeers(251))
    );
}

#[test]
fn shares_each_peer_once_and_at_most_250() {
    let now = Instant::now();
    let mut a = Connection::outbound(local(1), sync(1), now);
    let mut b = Connection::inbound(local(2), sync(1), now);
    b.set_shareable_peers((0..300).map(peer_entry).collect());
    let (ra, rb) = drive(now, &mut a, &mut b);
    ra.unwrap();
    rb.unwrap();
    let first: Vec<_> = events(&mut a)
        .into_iter()
        .filter_map(|e| match e {
            Event::Peers(p) => Some(p.len()),
            _ => None,
        })
        .collect();
    assert_eq!(first, vec![250]);
    let t = now + TIMED_SYNC_INTERVAL;
    a.handle_timeout(t).unwrap();
    let (ra, rb) = drive(t, &mut a, &mut b);
    ra.unwrap();
    rb.unwrap();
    let second: Vec<_> = events(&mut a)
        .into_iter()
        .filter_map(|e| match e {
            Event::Peers(p) => Some(p.len()),
            _ => None,
        })
        .collect();
    assert_eq!(second, vec![50]);
}

#[test]
fn asks_for_support_flags_when_the_peer_gives_none() {
    let now = Instant::now();
    let mut a = Connection::outbound(
        LocalNode {
            support_flags: 0,
            ..local(1)
        },
        sync(1),
        now,
    );
    let mut b = Connection::inbound(local(2), sync(1), now);
    let (ra, rb) = drive(now, &mut a, &mut b);
    ra.unwrap();
    rb.unwrap();
    // b saw flags 0 from a, asked, and learnt a's answer (0).
    assert!(events(&mut b).contains(&Event::SupportFlags(0)));
}

#[test]
fn times_out_a_silent_handshake() {
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    assert_eq!(b.poll_timeout(), Some(now + HANDSHAKE_TIMEOUT));
    b.handle_timeout(now + Duration::from_secs(4)).unwrap();
    assert_eq!(
        b.handle_timeout(now + HANDSHAKE_TIMEOUT),
        Err(PeerFault::HandshakeTimeout)
    );
    let mut a = Connection::outbound(local(1), sync(1), now);
    assert_eq!(
        a.handle_timeout(now + HANDSHAKE_TIMEOUT),
        Err(PeerFault::HandshakeTimeout)
    );
}

#[test]
fn answers_the_handshake_monerod_sent_in_the_capture() {
    let Some(dir) = shared_subdir("vectors/levin") else {
        return;
    };
    let now = Instant::now();
    let mut b = Connection::inbound(local(2), sync(1), now);
    let raw = std::fs::read(dir.join("000_b2a_1001.bin")).unwrap();
    for byte in &raw {
        b.handle_bytes(now, std::slice::from_ref(byte)).unwrap();
    }
    assert!(b.is_established());
    let Some(Event::Handshaked { node, sync }) = b.poll_event() else {
        panic!()
    };
    assert_eq!(
        (node.peer_id, node.my_port, sync.current_height),
        (0x898e_7be4_3894_a04f, 48090, 1)
    );
    let out = b.poll_transmit().unwrap();
    let mut d = levin::LevinDecoder::new(1 << 20);
    d.push(&out).unwrap();
    let p = d.next_packet().unwrap().unwrap();
    assert!(p.header.is_response() && p.header.return_code == 1);
    assert!(matches!(
        Message::from_packet(&p).unwrap(),
        Message::HandshakeResponse(_)
    ));
}
