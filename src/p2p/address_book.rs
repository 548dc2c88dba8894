//! The address book: white (peers we reached, or that passed a back-ping), gray (peers
//! we heard of) and anchor (outbound peers we were connected to) lists, with monerod's
//! limits and promotion rules (`src/p2p/net_peerlist.h`, `net_node.inl`), and atomic
//! persistence in the data directory.
//!
//! Pure data and rules: no I/O except [`AddressBook::save`] / [`AddressBook::load`],
//! which the owner runs off the executor.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::wire::epee::FieldLayout;
use crate::wire::messages::{Address, Ipv4Address, Ipv6Address, NetworkAddress, PeerListEntry};

/// `P2P_LOCAL_WHITE_PEERLIST_LIMIT`.
pub const WHITE_LIST_LIMIT: usize = 1000;
/// `P2P_LOCAL_GRAY_PEERLIST_LIMIT`.
pub const GRAY_LIST_LIMIT: usize = 5000;
/// Anchors kept (monerod keeps as many as it had outbound connections; we cap it at the
/// default `--out-peers`).
pub const ANCHOR_LIST_LIMIT: usize = 12;
/// Peers shared per handshake or timed sync (`P2P_DEFAULT_PEERS_IN_HANDSHAKE`).
pub const SHARE_LIMIT: usize = 250;
/// The file the book is saved to in the data directory.
pub const STATE_FILE: &str = "p2pstate.json";

/// `CRYPTONOTE_PRUNING_LOG_STRIPES`: valid pruning seeds are `make_pruning_seed(1..=8, 3)`.
const PRUNING_LOG_STRIPES: u32 = 3;

/// monerod's hard-coded seed nodes (`get_ip_seed_nodes`) for mainnet, testnet and
/// stagenet. Listed for operators; regtest has none and the tests never dial them.
pub fn seed_nodes(network: super::Network) -> &'static [&'static str] {
    match network {
        super::Network::Mainnet => &[
            "176.9.0.187:18080",
            "88.198.163.90:18080",
            "192.99.8.110:18080",
            "37.187.74.171:18080",
            "88.99.195.15:18080",
            "5.104.84.64:18080",
        ],
        super::Network::Testnet => &[
            "176.9.0.187:28080",
            "192.99.8.110:28080",
            "37.187.74.171:28080",
            "88.99.195.15:28080",
            "5.104.84.64:28080",
        ],
        super::Network::Stagenet => &[
            "176.9.0.187:38080",
            "192.99.8.110:38080",
            "37.187.74.171:38080",
            "88.99.195.15:38080",
            "5.104.84.64:38080",
        ],
    }
}

/// One known peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownPeer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its peer id (0 if unknown).
    pub id: u64,
    /// Unix time it was last seen (0: never by us).
    pub last_seen: i64,
    /// Its pruning seed.
    pub pruning_seed: u32,
    /// Its RPC port.
    pub rpc_port: u16,
}

impl KnownPeer {
    /// The wire form, with `last_seen` left out as monerod does when it shares
    /// (`anonymize`).
    pub fn to_entry(&self) -> PeerListEntry {
        let adr = match self.addr {
            SocketAddr::V4(a) => NetworkAddress::from(Ipv4Address::new(*a.ip(), a.port())),
            SocketAddr::V6(a) => NetworkAddress {
                addr: Address::Ipv6(Ipv6Address {
                    addr: a.ip().octets(),
                    m_port: a.port(),
                    layout: FieldLayout::CANONICAL,
                }),
                layout: FieldLayout::CANONICAL,
            },
        };
        PeerListEntry {
            adr,
            id: self.id,
            last_seen: None,
            pruning_seed: (self.pruning_seed != 0).then_some(self.pruning_seed),
            rpc_credits_per_hash: None,
            rpc_port: (self.rpc_port != 0).then_some(self.rpc_port),
            layout: FieldLayout::CANONICAL,
        }
    }
}

/// Which list a peer is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Reached by us or back-pinged.
    White,
    /// Heard of.
    Gray,
}

/// The book.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AddressBook {
    white: HashMap<SocketAddr, KnownPeer>,
    gray: HashMap<SocketAddr, KnownPeer>,
    anchors: HashMap<SocketAddr, KnownPeer>,
    /// Accept loopback and private addresses (regtest, or exclusive-node setups), as
    /// monerod's `m_allow_local_ip`.
    #[serde(skip)]
    allow_local: bool,
}

fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00
        }
    }
}

fn valid_pruning_seed(seed: u32) -> bool {
    // make_pruning_seed(stripe, log) = (log << 7) | (stripe - 1), stripes 1..=8.
    let lo = PRUNING_LOG_STRIPES << 7;
    let hi = lo | ((1 << PRUNING_LOG_STRIPES) - 1);
    seed == 0 || (lo..=hi).contains(&seed)
}

impl AddressBook {
    /// An empty book.
    pub fn new(allow_local: bool) -> Self {
        AddressBook {
            allow_local,
            ..AddressBook::default()
        }
    }

    /// White, gray and anchor list sizes.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.white.len(), self.gray.len(), self.anchors.len())
    }

    /// Whether `addr` is on the given list.
    pub fn contains(&self, kind: ListKind, addr: &SocketAddr) -> bool {
        match kind {
            ListKind::White => self.white.contains_key(addr),
            ListKind::Gray => self.gray.contains_key(addr),
        }
    }

    /// Merges a peer list a peer sent (monerod's `sanitize_peerlist` + `merge_peerlist`):
    /// drops loopback and local addresses (unless allowed), address 0, entries whose port
    /// is their RPC port, bad pruning seeds and non-IP addresses; the rest go to the gray
    /// list unless already white, with `last_seen` cleared. Returns how many were kept.
    pub fn merge_gray(&mut self, entries: &[PeerListEntry]) -> usize {
        let mut kept = 0;
        for e in entries {
            let Some(addr) = socket_addr(&e.adr) else {
                continue;
            };
            let rpc_port = e.rpc_port.unwrap_or(0);
            let seed = e.pruning_seed.unwrap_or(0);
            if addr.ip().is_unspecified()
                || (!self.allow_local && is_local(addr.ip()))
                || addr.port() == rpc_port
                || !valid_pruning_seed(seed)
            {
                continue;
            }
            kept += 1;
            if self.white.contains_key(&addr) {
                continue;
            }
            self.gray.insert(
                addr,
                KnownPeer {
                    addr,
                    id: e.id,
                    last_seen: 0,
                    pruning_seed: seed,
                    rpc_port,
                },
            );
        }
        trim(&mut self.gray, GRAY_LIST_LIMIT);
        kept
    }

    /// A peer we reached (outbound handshake) or that answered our back-ping: onto the
    /// white list with `last_seen = now`, off the gray list (monerod's
    /// `append_with_peer_white` / `set_peer_just_seen`).
    pub fn promote_white(&mut self, peer: KnownPeer) {
        self.gray.remove(&peer.addr);
        self.white.insert(peer.addr, peer);
        trim(&mut self.white, WHITE_LIST_LIMIT);
    }

    /// An outbound peer we are connected to becomes an anchor (tried first at start).
    pub fn add_anchor(&mut self, peer: KnownPeer) {
        self.anchors.insert(peer.addr, peer);
        trim(&mut self.anchors, ANCHOR_LIST_LIMIT);
    }

    /// A dial to `addr` failed: it leaves the anchors and the gray list, and a white
    /// peer is demoted to gray (it may come back).
    pub fn connection_failed(&mut self, addr: &SocketAddr) {
        self.anchors.remove(addr);
        if self.gray.remove(addr).is_none() {
            if let Some(p) = self.white.remove(addr) {
                self.gray.insert(p.addr, p);
            }
        }
    }

    /// The peers we share: the most recently seen white peers, at most 250.
    pub fn share(&self) -> Vec<PeerListEntry> {
        let mut v: Vec<&KnownPeer> = self.white.values().collect();
        v.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.addr.cmp(&b.addr)));
        v.into_iter()
            .take(SHARE_LIMIT)
            .map(KnownPeer::to_entry)
            .collect()
    }

    /// The white and gray lists, each most recently seen first (for the RPC's
    /// `/get_peer_list`).
    pub fn lists(&self) -> (Vec<KnownPeer>, Vec<KnownPeer>) {
        let sorted = |m: &HashMap<SocketAddr, KnownPeer>| {
            let mut v: Vec<KnownPeer> = m.values().cloned().collect();
            v.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.addr.cmp(&b.addr)));
            v
        };
        (sorted(&self.white), sorted(&self.gray))
    }

    /// Candidates to dial, best first: anchors, then white by recency, then gray.
    pub fn candidates(&self) -> Vec<SocketAddr> {
        let mut white: Vec<&KnownPeer> = self.white.values().collect();
        white.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.addr.cmp(&b.addr)));
        let mut gray: Vec<&SocketAddr> = self.gray.keys().collect();
        gray.sort();
        let mut out: Vec<SocketAddr> = self.anchors.keys().copied().collect();
        out.sort();
        out.extend(white.into_iter().map(|p| p.addr));
        out.extend(gray.into_iter().copied());
        let mut seen = std::collections::HashSet::new();
        out.retain(|a| seen.insert(*a));
        out
    }

    /// Saves atomically: a temporary file, fsync, then rename over the old one.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(STATE_FILE))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Loads a saved book; a missing file is an empty book, a corrupt one an error.
    pub fn load(dir: &Path, allow_local: bool) -> std::io::Result<AddressBook> {
        let path = dir.join(STATE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(AddressBook::new(allow_local))
            }
            Err(e) => return Err(e),
        };
        let mut book: AddressBook = serde_json::from_slice(&bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })?;
        book.allow_local = allow_local;
        trim(&mut book.white, WHITE_LIST_LIMIT);
        trim(&mut book.gray, GRAY_LIST_LIMIT);
        trim(&mut book.anchors, ANCHOR_LIST_LIMIT);
        Ok(book)
    }
}

/// The socket address of an IPv4/IPv6 network address (Tor/I2P have none here).
pub fn socket_addr(a: &NetworkAddress) -> Option<SocketAddr> {
    match &a.addr {
        Address::Ipv4(v4) => Some(SocketAddr::new(IpAddr::V4(v4.ip()), v4.m_port)),
        Address::Ipv6(v6) => Some(SocketAddr::new(IpAddr::V6(v6.ip()), v6.m_port)),
        _ => None,
    }
}

/// Drops the least recently seen entries past `limit` (monerod trims by `last_seen`).
fn trim(map: &mut HashMap<SocketAddr, KnownPeer>, limit: usize) {
    if map.len() <= limit {
        return;
    }
    let mut by_age: Vec<(i64, SocketAddr)> = map.values().map(|p| (p.last_seen, p.addr)).collect();
    by_age.sort();
    for (_, addr) in by_age.into_iter().take(map.len() - limit) {
        map.remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn entry(ip: [u8; 4], port: u16) -> PeerListEntry {
        KnownPeer {
            addr: SocketAddr::from((Ipv4Addr::from(ip), port)),
            id: u64::from(port),
            last_seen: 5,
            pruning_seed: 0,
            rpc_port: 0,
        }
        .to_entry()
    }

    fn known(ip: [u8; 4], port: u16, last_seen: i64) -> KnownPeer {
        KnownPeer {
            addr: SocketAddr::from((Ipv4Addr::from(ip), port)),
            id: 1,
            last_seen,
            pruning_seed: 0,
            rpc_port: 0,
        }
    }

    #[test]
    fn merging_filters_local_addresses_unless_allowed_and_bad_entries() {
        let mut b = AddressBook::new(false);
        let mut same_as_rpc = entry([8, 8, 8, 8], 18089);
        same_as_rpc.rpc_port = Some(18089);
        let mut bad_seed = entry([8, 8, 4, 4], 18080);
        bad_seed.pruning_seed = Some(7);
        let kept = b.merge_gray(&[
            entry([127, 0, 0, 1], 18080),
            entry([192, 168, 1, 2], 18080),
            entry([0, 0, 0, 0], 18080),
            same_as_rpc,
            bad_seed,
            entry([1, 2, 3, 4], 18080),
        ]);
        assert_eq!(kept, 1);
        assert_eq!(b.sizes(), (0, 1, 0));
        let mut regtest = AddressBook::new(true);
        assert_eq!(regtest.merge_gray(&[entry([127, 0, 0, 1], 18080)]), 1);
    }

    #[test]
    fn reaching_a_peer_moves_it_from_gray_to_white_and_failures_demote() {
        let mut b = AddressBook::new(false);
        b.merge_gray(&[entry([1, 2, 3, 4], 18080)]);
        let p = known([1, 2, 3, 4], 18080, 100);
        b.promote_white(p.clone());
        assert!(b.contains(ListKind::White, &p.addr) && !b.contains(ListKind::Gray, &p.addr));
        // A gray entry for a white peer is not added back.
        b.merge_gray(&[entry([1, 2, 3, 4], 18080)]);
        assert_eq!(b.sizes(), (1, 0, 0));
        b.connection_failed(&p.addr);
        assert_eq!(b.sizes(), (0, 1, 0));
        b.connection_failed(&p.addr);
        assert_eq!(b.sizes(), (0, 0, 0));
    }

    #[test]
    fn lists_are_bounded_keeping_the_most_recent() {
        let mut b = AddressBook::new(false);
        for i in 0..(WHITE_LIST_LIMIT + 10) {
            let i = u32::try_from(i).unwrap();
            let ip = (0x0100_0000 + i).to_be_bytes();
            b.promote_white(known(ip, 18080, i64::from(i)));
        }
        assert_eq!(b.sizes().0, WHITE_LIST_LIMIT);
        assert!(!b.contains(
            ListKind::White,
            &SocketAddr::from((Ipv4Addr::from(0x0100_0000u32), 18080))
        ));
        let shared = b.share();
        assert_eq!(shared.len(), SHARE_LIMIT);
        assert!(shared.iter().all(|e| e.last_seen.is_none()));
        let many: Vec<PeerListEntry> = (0..6000u32)
            .map(|i| entry((0x0200_0000 + i).to_be_bytes(), 18080))
            .collect();
        b.merge_gray(&many);
        assert_eq!(b.sizes().1, GRAY_LIST_LIMIT);
    }

    #[test]
    fn saves_and_loads_atomically() {
        let dir = std::env::temp_dir().join(format!("xmrd-book-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut b = AddressBook::new(false);
        b.promote_white(known([1, 2, 3, 4], 18080, 9));
        b.merge_gray(&[entry([5, 6, 7, 8], 18080)]);
        b.add_anchor(known([1, 2, 3, 4], 18080, 9));
        b.save(&dir).unwrap();
        assert!(!dir.join(format!("{STATE_FILE}.tmp")).exists());
        let back = AddressBook::load(&dir, false).unwrap();
        assert_eq!(back.sizes(), (1, 1, 1));
        assert_eq!(
            back.candidates()[0],
            SocketAddr::from((Ipv4Addr::new(1, 2, 3, 4), 18080))
        );
        std::fs::write(dir.join(STATE_FILE), b"{not json").unwrap();
        assert!(AddressBook::load(&dir, false).is_err());
        assert_eq!(
            AddressBook::load(&dir.join("none"), false).unwrap().sizes(),
            (0, 0, 0)
        );
    }
}
