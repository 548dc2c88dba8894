//! Specifications of the typed messages.

use std::net::Ipv4Addr;

use bytes::Bytes;

use super::*;
use crate::testdata::shared_subdir;
use crate::wire::epee::{self, EpeeError, FieldLayout, Hashes, TYPE_OBJECT, TYPE_U8};
use crate::wire::levin::{Command, Header};

fn sync_data() -> CoreSyncData {
    CoreSyncData {
        cumulative_difficulty: 2000,
        cumulative_difficulty_top64: 0,
        current_height: 2000,
        pruning_seed: None,
        top_id: [7; 32],
        top_version: Some(16),
        layout: FieldLayout::CANONICAL,
    }
}

fn node_data() -> BasicNodeData {
    BasicNodeData {
        my_port: 18080,
        network_id: [0x12; 16],
        peer_id: 42,
        rpc_credits_per_hash: None,
        rpc_port: Some(18089),
        support_flags: Some(1),
        layout: FieldLayout::CANONICAL,
    }
}

fn peer(i: u32) -> PeerListEntry {
    let adr = match i % 4 {
        0 => NetworkAddress::from(Ipv4Address::new(Ipv4Addr::from(i), 18080)),
        1 => NetworkAddress {
            addr: Address::Ipv6(Ipv6Address {
                addr: [u8::try_from(i % 256).unwrap(); 16],
                m_port: 18080,
                layout: FieldLayout::CANONICAL,
            }),
            layout: FieldLayout::CANONICAL,
        },
        2 => NetworkAddress {
            addr: Address::Tor(HostAddress {
                host: Bytes::from(format!("{:056}.onion", i)),
                port: 18083,
                layout: FieldLayout::CANONICAL,
            }),
            layout: FieldLayout::CANONICAL,
        },
        _ => NetworkAddress {
            addr: Address::I2p(HostAddress {
                host: Bytes::from(format!("{:052}.b32.i2p", i)),
                port: 0,
                layout: FieldLayout::CANONICAL,
            }),
            layout: FieldLayout::CANONICAL,
        },
    };
    PeerListEntry {
        adr,
        id: u64::from(i) * 7919,
        last_seen: Some(1_700_000_000 + i64::from(i)),
        pruning_seed: None,
        rpc_credits_per_hash: None,
        rpc_port: None,
        layout: FieldLayout::CANONICAL,
    }
}

/// A handshake response with `n` peers of every address kind.
pub(crate) fn handshake_response(n: u32) -> HandshakeResponse {
    HandshakeResponse {
        local_peerlist_new: (0..n).map(peer).collect(),
        node_data: node_data(),
        payload_data: sync_data(),
        layout: FieldLayout::CANONICAL,
    }
}

#[test]
fn a_handshake_with_250_peers_of_every_address_kind_round_trips() {
    let m = Message::HandshakeResponse(handshake_response(250));
    let h = Header::response(Command::Handshake.id(), 1);
    let body = Bytes::from(m.to_body());
    let back = Message::decode(&h, &body).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.to_body(), body.to_vec());
}

#[test]
fn an_unknown_address_type_is_kept_raw_and_re_encoded_exactly() {
    let mut w = epee::Writer::default();
    w.put_slice(&epee::HEADER);
    w.varint(2);
    w.name(b"adr");
    w.put_u8(TYPE_OBJECT);
    w.varint(2);
    w.name(b"addr");
    w.put_u8(TYPE_OBJECT);
    w.varint(1);
    w.name(b"x");
    w.put_u8(TYPE_U8);
    w.put_u8(5);
    w.name(b"type");
    w.put_u8(TYPE_U8);
    w.put_u8(9);
    w.name(b"id");
    epee::EpeeValue::write(&3u64, &mut w);
    let b = Bytes::from(w.into_vec());
    let e: PeerListEntry = epee::from_bytes(&b).unwrap();
    assert!(matches!(e.adr.addr, Address::Unknown { type_id: 9, .. }));
    assert_eq!(epee::to_bytes(&e), b.to_vec());
}

#[test]
fn an_address_with_type_before_addr_decodes_and_keeps_its_order() {
    let mut w = epee::Writer::default();
    w.put_slice(&epee::HEADER);
    w.varint(2);
    w.name(b"type");
    w.put_u8(TYPE_U8);
    w.put_u8(1);
    w.name(b"addr");
    w.put_u8(TYPE_OBJECT);
    w.varint(2);
    w.name(b"m_ip");
    epee::EpeeValue::write(&0x0100_007fu32, &mut w);
    w.name(b"m_port");
    epee::EpeeValue::write(&18080u16, &mut w);
    let b = Bytes::from(w.into_vec());
    let a: NetworkAddress = epee::from_bytes(&b).unwrap();
    match &a.addr {
        Address::Ipv4(v4) => assert_eq!(v4.ip(), Ipv4Addr::LOCALHOST),
        other => panic!("{other:?}"),
    }
    assert_eq!(epee::to_bytes(&a), b.to_vec());
}

#[test]
fn a_response_to_a_notification_or_an_unknown_command_is_refused() {
    let body = Bytes::from(epee::to_bytes(&GetTxPoolComplement::default()));
    let h = Header::response(Command::GetTxPoolComplement.id(), 1);
    assert_eq!(
        Message::decode(&h, &body),
        Err(MessageError::UnexpectedResponse(
            Command::GetTxPoolComplement
        ))
    );
    let h = Header::notify(3000);
    assert_eq!(
        Message::decode(&h, &body),
        Err(MessageError::UnknownCommand(3000))
    );
}

#[test]
fn block_entries_must_pair_pruned_with_the_matching_tx_form() {
    let full = BlockCompleteEntry {
        block: Bytes::from_static(b"blk"),
        pruned: Some(true),
        txs: BlockTxs::Full(vec![Bytes::from_static(b"tx")]),
        ..BlockCompleteEntry::default()
    };
    let m = NewFluffyBlock {
        b: full,
        current_blockchain_height: 5,
        layout: FieldLayout::CANONICAL,
    };
    let body = Bytes::from(epee::to_bytes(&m));
    assert!(matches!(
        Message::decode(&Header::notify(Command::NewFluffyBlock.id()), &body),
        Err(MessageError::Body {
            source: EpeeError::Invalid(_),
            ..
        })
    ));
    let pruned = BlockCompleteEntry {
        block: Bytes::from_static(b"blk"),
        block_weight: Some(1000),
        pruned: Some(true),
        txs: BlockTxs::Pruned(vec![TxBlobEntry {
            blob: Bytes::from_static(b"tx"),
            prunable_hash: [1; 32],
            layout: FieldLayout::CANONICAL,
        }]),
        layout: FieldLayout::CANONICAL,
    };
    let m = GetObjectsResponse {
        blocks: vec![pruned],
        current_blockchain_height: 9,
        missed_ids: Hashes::from_items(&[[3u8; 32]]),
        layout: FieldLayout::CANONICAL,
    };
    let body = Bytes::from(epee::to_bytes(&m));
    let back = Message::decode(&Header::notify(Command::GetObjectsResponse.id()), &body).unwrap();
    assert_eq!(back, Message::GetObjectsResponse(m));
}

#[test]
fn peer_ids_and_heights_read_from_the_captured_handshake() {
    let Some(dir) = shared_subdir("vectors/levin") else {
        return;
    };
    let raw = std::fs::read(dir.join("001_a2b_1001.bin")).unwrap();
    let mut d = crate::wire::levin::LevinDecoder::new(crate::wire::limits::MAX_PACKET);
    d.push(&raw).unwrap();
    let p = d.next_packet().unwrap().unwrap();
    let Message::HandshakeResponse(h) = Message::from_packet(&p).unwrap() else {
        panic!("not a handshake response")
    };
    assert_eq!(h.node_data.peer_id, 0xae49_e29e_9ab9_0306);
    assert_eq!(h.node_data.my_port, 48080);
    assert_eq!(h.payload_data.current_height, 2000);
    assert_eq!(h.payload_data.top_version, Some(16));
    assert_eq!(
        hex::encode(h.node_data.network_id),
        "1230f171610441611731008216a1a110"
    );
}

#[test]
fn shared_epee_message_samples_decode_typed_and_re_encode_exactly() {
    let Some(dir) = shared_subdir("vectors/epee") else {
        return;
    };
    fn exact<T: epee::EpeeObject>(dir: &std::path::Path, file: &str) -> T {
        let raw = Bytes::from(std::fs::read(dir.join(file)).unwrap());
        let v: T = epee::from_bytes(&raw).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(epee::to_bytes(&v), raw.to_vec(), "{file}");
        v
    }
    let h: HandshakeResponse = exact(&dir, "p2p_handshake_response_mainnet_250_peers.bin");
    assert_eq!(h.local_peerlist_new.len(), 250);
    exact::<HandshakeRequest>(&dir, "p2p_handshake_request.bin");
    exact::<HandshakeRequest>(
        &dir,
        "p2p_handshake_node_data_payload_data_mainnet_peer.bin",
    );
    let t: NewTransactions = exact(&dir, "p2p_notify_new_transactions_4_bpplus_txs.bin");
    assert_eq!(t.txs.len(), 4);
    exact::<NewFluffyBlock>(&dir, "p2p_notify_new_fluffy_block_2764240.bin");
    let mut n = 0;
    for f in crate::testdata::files_with_ext(&dir, "bin") {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("block_complete_entry_") {
            let e: BlockCompleteEntry = exact(&dir, &name);
            e.validate().unwrap();
            n += 1;
        }
    }
    assert_eq!(n, 14);
}

#[test]
fn ipv4_integers_are_monerods() {
    use super::address::{ipv4_from_u32, ipv4_to_u32};
    assert_eq!(ipv4_to_u32(Ipv4Addr::LOCALHOST), 0x0100_007f);
    assert_eq!(ipv4_from_u32(0x0100_007f), Ipv4Addr::LOCALHOST);
    let a = Ipv4Addr::new(192, 168, 1, 20);
    assert_eq!(ipv4_from_u32(ipv4_to_u32(a)), a);
}
