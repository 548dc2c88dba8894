//! The calls about the P2P side: `get_connections`, `sync_info`'s peers, `get_info`'s
//! peer-list sizes and `/get_peer_list`, answered from the connection registry and the
//! address book snapshot (see [`crate::node::registry`]) with monerod 0.18's fields.

use std::net::{IpAddr, SocketAddr};

use serde_json::{json, Value};

use super::Api;
use crate::node::registry::ConnSnapshot;
use crate::p2p::address_book::KnownPeer;
use crate::wire::messages::address::{ipv4_to_u32, ADDRESS_TYPE_IPV4, ADDRESS_TYPE_IPV6};

/// `peerid_to_string`: the id in hex, zero-padded to 16 digits.
fn peer_id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// epee's `network_address::str()`: `a.b.c.d:port`, `[v6]:port`.
fn address_str(a: SocketAddr) -> String {
    a.to_string()
}

/// `is_local()`: the private IPv4 ranges (`is_ip_local`), link-local IPv6.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The protocol state monerod would show (`get_protocol_state_string`): before the
/// handshake; "synchronizing" while we sync and the peer has blocks we lack; "normal"
/// otherwise. (monerod also shows "standby" and "idle" for peers its block queue does
/// not need at the moment; xmrd's sync plan has no such states.)
fn state(c: &ConnSnapshot, synchronized: bool, our_height: u64) -> &'static str {
    if !c.handshaked {
        "before_handshake"
    } else if !synchronized && c.height > our_height {
        "synchronizing"
    } else {
        "normal"
    }
}

/// One `connection_info` (monerod's `get_connections()` of the protocol handler).
fn connection_info(c: &ConnSnapshot, synchronized: bool, our_height: u64) -> Value {
    let live = c.live.as_secs();
    // monerod: 0 in the first second, else the whole connection's KiB per second.
    let avg = |bytes: u64| bytes.checked_div(live).map_or(0, |b| b / 1024);
    let (avg_down, avg_up) = (avg(c.recv_bytes), avg(c.sent_bytes));
    let address_type = match c.addr {
        SocketAddr::V4(_) => ADDRESS_TYPE_IPV4,
        SocketAddr::V6(_) => ADDRESS_TYPE_IPV6,
    };
    json!({
        "address": address_str(c.addr),
        "address_type": address_type,
        "avg_download": avg_down,
        "avg_upload": avg_up,
        "connection_id": hex::encode(c.id),
        "current_download": c.current_down / 1024,
        "current_upload": c.current_up / 1024,
        "height": c.height,
        "host": c.addr.ip().to_string(),
        "incoming": c.incoming,
        "ip": c.addr.ip().to_string(),
        "live_time": live,
        "local_ip": is_local(c.addr.ip()),
        "localhost": c.addr.ip().is_loopback(),
        "peer_id": peer_id_hex(c.peer_id),
        "port": c.addr.port().to_string(),
        "pruning_seed": c.pruning_seed,
        "recv_count": c.recv_bytes,
        "recv_idle_time": c.recv_idle_secs,
        "rpc_credits_per_hash": 0,
        "rpc_port": c.rpc_port,
        "send_count": c.sent_bytes,
        "send_idle_time": c.send_idle_secs,
        "state": state(c, synchronized, our_height),
        "support_flags": c.support_flags,
    })
}

/// Every handshaked connection as `connection_info` (monerod lists the connections its
/// protocol handler knows, which are the handshaked ones).
pub(super) fn connections(api: &Api) -> Vec<Value> {
    let synchronized = api.synchronized();
    let height = api.reader().view().block_count;
    api.shared
        .connections
        .snapshot()
        .iter()
        .filter(|c| c.handshaked)
        .map(|c| connection_info(c, synchronized, height))
        .collect()
}

/// White and gray list sizes, as shard 0 last published them.
pub(super) fn book_sizes(api: &Api) -> (usize, usize) {
    api.shared
        .book_view
        .lock()
        .map(|v| (v.white.len(), v.gray.len()))
        .unwrap_or((0, 0))
}

/// One `peer` of `/get_peer_list`; monerod leaves `rpc_port`, `rpc_credits_per_hash`
/// and `pruning_seed` out when zero (`KV_SERIALIZE_OPT`).
fn peer_entry(p: &KnownPeer) -> Value {
    let (host, ip) = match p.addr.ip() {
        IpAddr::V4(v4) => (v4.to_string(), ipv4_to_u32(v4)),
        IpAddr::V6(v6) => (v6.to_string(), 0),
    };
    let mut v = json!({
        "id": p.id,
        "host": host,
        "ip": ip,
        "port": p.addr.port(),
        "last_seen": u64::try_from(p.last_seen).unwrap_or(0),
    });
    if let Some(m) = v.as_object_mut() {
        if p.rpc_port != 0 {
            m.insert("rpc_port".into(), json!(p.rpc_port));
        }
        if p.pruning_seed != 0 {
            m.insert("pruning_seed".into(), json!(p.pruning_seed));
        }
    }
    v
}

/// `/get_peer_list`: the white and gray lists, without banned hosts unless
/// `include_blocked` (every xmrd peer is in the public zone, so `public_only` changes
/// nothing).
pub(super) fn get_peer_list(api: &Api, req: &Value) -> Value {
    let include_blocked = req
        .get("include_blocked")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let view = api
        .shared
        .book_view
        .lock()
        .map(|v| std::sync::Arc::clone(&v))
        .unwrap_or_default();
    let now = std::time::Instant::now();
    let mut bans = api.shared.bans.lock().ok();
    let mut keep = |p: &&KnownPeer| {
        include_blocked || bans.as_mut().is_none_or(|b| !b.is_banned(p.addr.ip(), now))
    };
    let white: Vec<Value> = view
        .white
        .iter()
        .filter(&mut keep)
        .map(peer_entry)
        .collect();
    let gray: Vec<Value> = view.gray.iter().filter(&mut keep).map(peer_entry).collect();
    json!({
        "gray_list": gray,
        "status": super::STATUS_OK,
        "untrusted": false,
        "white_list": white,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn snap(addr: &str) -> ConnSnapshot {
        ConnSnapshot {
            id: [0xab; 16],
            addr: addr.parse().unwrap(),
            incoming: false,
            live: Duration::from_secs(10),
            handshaked: true,
            peer_id: 0x0123_4567_89ab,
            support_flags: 1,
            height: 700,
            pruning_seed: 0,
            rpc_port: 0,
            recv_bytes: 20 * 1024 * 10,
            sent_bytes: 1024 * 10,
            recv_idle_secs: 1,
            send_idle_secs: 2,
            current_down: 4096,
            current_up: 0,
        }
    }

    #[test]
    fn rpc_connection_info_has_monerods_fields_and_units() {
        let v = connection_info(&snap("127.0.0.1:18080"), true, 700);
        assert_eq!(v["address"], "127.0.0.1:18080");
        assert_eq!(v["host"], "127.0.0.1");
        assert_eq!(v["ip"], "127.0.0.1");
        assert_eq!(v["port"], "18080");
        assert_eq!(v["peer_id"], "00000123456789ab");
        assert_eq!(v["localhost"], true);
        assert_eq!(v["local_ip"], false);
        assert_eq!(v["avg_download"], 20);
        assert_eq!(v["avg_upload"], 1);
        assert_eq!(v["current_download"], 4);
        assert_eq!(v["connection_id"], "ab".repeat(16));
        assert_eq!(v["state"], "normal");
        assert_eq!(v["address_type"], 1);
        assert_eq!(v.as_object().unwrap().len(), 25);
        let v6 = connection_info(&snap("[fe80::1]:18080"), false, 10);
        assert_eq!(v6["address"], "[fe80::1]:18080");
        assert_eq!(v6["local_ip"], true);
        assert_eq!(v6["address_type"], 2);
        assert_eq!(v6["state"], "synchronizing");
        assert!(is_local("192.168.1.2".parse().unwrap()));
        assert!(!is_local("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn rpc_peer_entry_leaves_out_zero_optional_fields() {
        let p = KnownPeer {
            addr: "1.2.3.4:18080".parse().unwrap(),
            id: 7,
            last_seen: 1_700_000_000,
            pruning_seed: 0,
            rpc_port: 18089,
        };
        let v = peer_entry(&p);
        assert_eq!(v["host"], "1.2.3.4");
        assert_eq!(v["ip"], u32::from_le_bytes([1, 2, 3, 4]));
        assert_eq!(v["rpc_port"], 18089);
        assert!(v.get("pruning_seed").is_none());
        assert!(v.get("rpc_credits_per_hash").is_none());
    }
}
