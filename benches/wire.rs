//! Wire codec benchmarks: typed decode and encode of every captured packet and of the
//! whole captured mix, a handshake response with 250 peers, a chain entry with 10,000
//! ids, and a get-objects response with 100 blocks of the fat regtest chain.
//!
//! `cargo bench --bench wire` (add `-- mix` etc. to filter). Needs `../shared` for the
//! captured and fat-chain cases; those are skipped with a message without it.

#![allow(missing_docs)]
// criterion_group! generates undocumented fns
// Benchmarks run on trusted local data: failing loudly is what we want.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_possible_truncation
)]

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use xmrd::testdata::{files_with_ext, shared_subdir};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use xmrd::wire::epee::{FieldLayout, Hashes, U64s};
use xmrd::wire::levin::{Command, Header, LevinDecoder};
use xmrd::wire::limits::MAX_PACKET;
use xmrd::wire::messages::*;

struct Case {
    name: String,
    header: Header,
    body: Bytes,
}

fn captured() -> Vec<Case> {
    let Some(dir) = shared_subdir("vectors/levin") else {
        return vec![];
    };
    let mut v = Vec::new();
    for f in files_with_ext(&dir, "bin") {
        let raw = std::fs::read(&f).expect("read capture");
        let mut d = LevinDecoder::new(MAX_PACKET);
        d.push(&raw).expect("push");
        let p = d.next_packet().expect("decode").expect("a packet");
        v.push(Case {
            name: f.file_stem().expect("name").to_string_lossy().into_owned(),
            header: p.header,
            body: p.body,
        });
    }
    v
}

fn case(name: &str, header: Header, m: &Message) -> Case {
    Case {
        name: name.into(),
        header,
        body: Bytes::from(m.to_body()),
    }
}

fn handshake_250() -> Case {
    let peers = (0..250u32)
        .map(|i| PeerListEntry {
            adr: NetworkAddress::from(Ipv4Address::new(Ipv4Addr::from(0x0a00_0000 + i), 18080)),
            id: u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            last_seen: Some(1_700_000_000 + i64::from(i)),
            pruning_seed: if i % 3 == 0 { Some(385) } else { None },
            rpc_credits_per_hash: None,
            rpc_port: if i % 5 == 0 { Some(18089) } else { None },
            layout: FieldLayout::CANONICAL,
        })
        .collect();
    let m = Message::HandshakeResponse(HandshakeResponse {
        local_peerlist_new: peers,
        node_data: BasicNodeData {
            my_port: 18080,
            network_id: [0x12; 16],
            peer_id: 1,
            rpc_credits_per_hash: None,
            rpc_port: None,
            support_flags: Some(1),
            layout: FieldLayout::CANONICAL,
        },
        payload_data: CoreSyncData {
            cumulative_difficulty: 1 << 60,
            cumulative_difficulty_top64: 0,
            current_height: 3_000_000,
            pruning_seed: None,
            top_id: [3; 32],
            top_version: Some(16),
            layout: FieldLayout::CANONICAL,
        },
        layout: FieldLayout::CANONICAL,
    });
    case("handshake_250_peers", Header::response(1001, 1), &m)
}

fn chain_entry_10000() -> Case {
    let ids: Vec<[u8; 32]> = (0..10_000u32)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..4].copy_from_slice(&i.to_le_bytes());
            h
        })
        .collect();
    let weights: Vec<u64> = (0..10_000u64).map(|i| 300_000 + i).collect();
    let m = Message::ChainResponse(ChainResponse {
        cumulative_difficulty: 1 << 60,
        cumulative_difficulty_top64: 0,
        first_block: Bytes::new(),
        m_block_ids: Hashes::from_items(&ids),
        m_block_weights: U64s::from_items(&weights),
        start_height: 3_000_000,
        total_height: 3_010_000,
        layout: FieldLayout::CANONICAL,
    });
    case("chain_entry_10000_ids", Header::notify(2007), &m)
}

fn read_varint(b: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Blocks of a `monero-blockchain-export` file: magic, 1024-byte header, then chunks of
/// (u32 size, block_package { block, txs, … }).
fn fat_chain_blocks(from: usize, count: usize) -> Option<Vec<BlockCompleteEntry>> {
    use monero_oxide::block::Block;
    use monero_oxide::transaction::{NotPruned, Transaction};
    let dir = shared_subdir("realpeer/chains")?;
    let raw = std::fs::read(dir.join("regtest-700b-2500tx.raw")).ok()?;
    let mut pos = 4 + 1024;
    let mut out = Vec::new();
    let mut height = 0;
    while pos + 4 <= raw.len() && out.len() < count {
        let size = u32::from_le_bytes(raw[pos..pos + 4].try_into().ok()?) as usize;
        let chunk = &raw[pos + 4..pos + 4 + size];
        pos += 4 + size;
        if height >= from {
            let mut r: &[u8] = chunk;
            Block::read(&mut r).ok()?;
            let block = Bytes::copy_from_slice(&chunk[..chunk.len() - r.len()]);
            let n = read_varint(&mut r)?;
            let mut txs = Vec::new();
            for _ in 0..n {
                let before = r;
                Transaction::<NotPruned>::read(&mut r).ok()?;
                txs.push(Bytes::copy_from_slice(&before[..before.len() - r.len()]));
            }
            out.push(BlockCompleteEntry {
                block,
                block_weight: None,
                pruned: None,
                txs: BlockTxs::Full(txs),
                layout: FieldLayout::CANONICAL,
            });
        }
        height += 1;
    }
    Some(out)
}

fn get_objects_fat() -> Option<Case> {
    let blocks = fat_chain_blocks(500, 100)?;
    let m = Message::GetObjectsResponse(GetObjectsResponse {
        blocks,
        current_blockchain_height: 700,
        missed_ids: Hashes::default(),
        layout: FieldLayout::CANONICAL,
    });
    Some(case("get_objects_100_fat_blocks", Header::notify(2004), &m))
}

fn bench_case(c: &mut Criterion, group: &str, k: &Case) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(k.body.len() as u64));
    g.bench_function(BenchmarkId::new("decode", &k.name), |b| {
        b.iter(|| Message::decode(black_box(&k.header), black_box(&k.body)).expect("decodes"))
    });
    let m = Message::decode(&k.header, &k.body).expect("decodes");
    g.bench_function(BenchmarkId::new("encode", &k.name), |b| {
        b.iter(|| black_box(&m).to_body())
    });
    g.finish();
}

fn mix(c: &mut Criterion) {
    let cases = captured();
    if cases.is_empty() {
        return;
    }
    let total: usize = cases.iter().map(|k| k.body.len()).sum();
    let msgs: Vec<Message> = cases
        .iter()
        .map(|k| Message::decode(&k.header, &k.body).expect("decodes"))
        .collect();
    let mut g = c.benchmark_group("captured_mix");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("decode", |b| {
        b.iter(|| {
            for k in &cases {
                black_box(Message::decode(&k.header, &k.body).expect("decodes"));
            }
        })
    });
    let mut out = Vec::with_capacity(total);
    g.bench_function("encode", |b| {
        b.iter(|| {
            for m in &msgs {
                out.clear();
                m.encode_body(&mut out);
                black_box(&out);
            }
        })
    });
    g.finish();
}

fn synthetic(c: &mut Criterion) {
    bench_case(c, "handshake", &handshake_250());
    bench_case(c, "chain_entry", &chain_entry_10000());
    match get_objects_fat() {
        Some(k) => bench_case(c, "get_objects", &k),
        None => eprintln!("SKIP: fat chain not available"),
    }
}

fn each_packet(c: &mut Criterion) {
    for k in captured() {
        let group = Command::from_id(k.header.command).map_or("unknown", Command::name);
        bench_case(c, &format!("packet/{group}"), &k);
    }
}

criterion_group!(
    name = quick;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = mix, synthetic
);
criterion_group!(
    name = packets;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(300));
    targets = each_packet
);
criterion_main!(quick, packets);
