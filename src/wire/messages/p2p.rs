//! The node-level messages (1000s): handshake, timed sync, ping, support flags, and
//! what they carry. Field rules mirror `src/p2p/p2p_protocol_defs.h` (monerod 0.18).

use bytes::Bytes;

use super::address::NetworkAddress;
use crate::epee_object;
use crate::wire::epee::{EpeeObject, EpeeValue, Reader, Result, Writer};

epee_object! {
    /// `basic_node_data`: who the peer is.
    pub struct BasicNodeData {
        /// The peer's P2P port, 0 if it does not listen (or hides it).
        my_port: req(u32) = "my_port",
        /// The 16-byte network id (mainnet/testnet/stagenet).
        network_id: req([u8; 16]) = "network_id",
        /// The peer's random id.
        peer_id: req(u64) = "peer_id",
        /// RPC payment credits per hash (0: none).
        rpc_credits_per_hash: opt(u32, 0) = "rpc_credits_per_hash",
        /// The peer's restricted RPC port (0: none).
        rpc_port: opt(u16, 0) = "rpc_port",
        /// `P2P_SUPPORT_FLAGS`; absent from old peers, who are then asked with 1007.
        support_flags: opt(u32, 0) = "support_flags",
    }
}

epee_object! {
    /// `CORE_SYNC_DATA`: the peer's chain tip.
    pub struct CoreSyncData {
        /// Low 64 bits of the cumulative difficulty.
        cumulative_difficulty: req(u64) = "cumulative_difficulty",
        /// High 64 bits (always written by monerod, optional when read).
        cumulative_difficulty_top64: dflt(u64, 0) = "cumulative_difficulty_top64",
        /// Chain height (top block height + 1).
        current_height: req(u64) = "current_height",
        /// Pruning seed (0: not pruned).
        pruning_seed: opt(u32, 0) = "pruning_seed",
        /// Hash of the top block.
        top_id: req([u8; 32]) = "top_id",
        /// Major version of the top block.
        top_version: opt(u8, 0) = "top_version",
    }
}

impl CoreSyncData {
    /// The full 128-bit cumulative difficulty.
    pub fn cumulative_difficulty_u128(&self) -> u128 {
        (u128::from(self.cumulative_difficulty_top64) << 64)
            | u128::from(self.cumulative_difficulty)
    }
}

epee_object! {
    /// `peerlist_entry`: one peer in a peer list.
    pub struct PeerListEntry {
        /// Its address.
        adr: req(NetworkAddress) = "adr",
        /// Its peer id.
        id: req(u64) = "id",
        /// Unix time it was last seen (0: never).
        last_seen: opt(i64, 0) = "last_seen",
        /// Its pruning seed.
        pruning_seed: opt(u32, 0) = "pruning_seed",
        /// RPC credits per hash.
        rpc_credits_per_hash: opt(u32, 0) = "rpc_credits_per_hash",
        /// Its RPC port.
        rpc_port: opt(u16, 0) = "rpc_port",
    }
}

epee_object! {
    /// `COMMAND_HANDSHAKE::request` (1001).
    pub struct HandshakeRequest {
        /// Who we are.
        node_data: req(BasicNodeData) = "node_data",
        /// Our chain tip.
        payload_data: req(CoreSyncData) = "payload_data",
    }
}

epee_object! {
    /// `COMMAND_HANDSHAKE::response` (1001).
    pub struct HandshakeResponse {
        /// Peers we share (at most 250); left out when empty.
        local_peerlist_new: seq(Vec<PeerListEntry>) = "local_peerlist_new",
        /// Who the responder is.
        node_data: req(BasicNodeData) = "node_data",
        /// The responder's chain tip.
        payload_data: req(CoreSyncData) = "payload_data",
    }
}

epee_object! {
    /// `COMMAND_TIMED_SYNC::request` (1002).
    pub struct TimedSyncRequest {
        /// Our chain tip.
        payload_data: req(CoreSyncData) = "payload_data",
    }
}

epee_object! {
    /// `COMMAND_TIMED_SYNC::response` (1002).
    pub struct TimedSyncResponse {
        /// Peers we share; left out when empty.
        local_peerlist_new: seq(Vec<PeerListEntry>) = "local_peerlist_new",
        /// The responder's chain tip.
        payload_data: req(CoreSyncData) = "payload_data",
    }
}

epee_object! {
    /// `COMMAND_PING::response` (1003). The request is an empty section.
    pub struct PingResponse {
        /// The responder's peer id.
        peer_id: req(u64) = "peer_id",
        /// `"OK"` from a monerod that accepts the ping.
        status: req(Bytes) = "status",
    }
}

epee_object! {
    /// `COMMAND_REQUEST_SUPPORT_FLAGS::response` (1007). The request is an empty section.
    pub struct SupportFlagsResponse {
        /// `P2P_SUPPORT_FLAGS` (1: fluffy blocks).
        support_flags: req(u32) = "support_flags",
    }
}

/// An empty section: the body of PING and REQUEST_SUPPORT_FLAGS requests. Fields a
/// peer puts there anyway are skipped (bounded), as monerod skips them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Empty;

impl EpeeObject for Empty {
    fn read_fields(r: &mut Reader<'_>, count: usize) -> Result<Self> {
        let mut seen = crate::wire::epee::typed_support::SeenNames::default();
        for _ in 0..count {
            let name = r.name()?;
            seen.insert(name)?;
            let marker = r.marker()?;
            r.skip_value(marker)?;
        }
        Ok(Empty)
    }
    fn write_section(&self, w: &mut Writer) {
        w.varint(0);
    }
}

impl EpeeValue for Empty {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        crate::wire::epee::read_object(r, marker, field)
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(crate::wire::epee::TYPE_OBJECT);
        self.write_section(w);
    }
}
