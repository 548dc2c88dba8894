//! The networks a node can be on, with monerod's identifiers (`src/cryptonote_config.h`).

/// A Monero network. Regtest is mainnet with a private chain: monerod's `--regtest`
/// keeps the mainnet network id and genesis block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// Mainnet (also regtest).
    Mainnet,
    /// Testnet.
    Testnet,
    /// Stagenet.
    Stagenet,
}

impl Network {
    /// `NETWORK_ID`: the 16 bytes every handshake must carry.
    pub const fn network_id(self) -> [u8; 16] {
        let last = match self {
            Network::Mainnet => 0x10,
            Network::Testnet => 0x11,
            Network::Stagenet => 0x12,
        };
        [
            0x12, 0x30, 0xf1, 0x71, 0x61, 0x04, 0x41, 0x61, 0x17, 0x31, 0x00, 0x82, 0x16, 0xa1,
            0xa1, last,
        ]
    }

    /// `P2P_DEFAULT_PORT`.
    pub const fn default_p2p_port(self) -> u16 {
        match self {
            Network::Mainnet => 18080,
            Network::Testnet => 28080,
            Network::Stagenet => 38080,
        }
    }

    /// `RPC_DEFAULT_PORT`.
    pub const fn default_rpc_port(self) -> u16 {
        match self {
            Network::Mainnet => 18081,
            Network::Testnet => 28081,
            Network::Stagenet => 38081,
        }
    }

    /// The id of the genesis block.
    pub const fn genesis_id(self) -> [u8; 32] {
        match self {
            Network::Mainnet => {
                hex32(b"418015bb9ae982a1975da7d79277c2705727a56894ba0fb246adaabb1f4632e3")
            }
            Network::Testnet => {
                hex32(b"48ca7cd3c8de5b6a4d53d2861fbdaedca141553559f9be9520068053cda8430b")
            }
            Network::Stagenet => {
                hex32(b"76ee3cc98646292206cd3e86f74d88b4dcc1d937088645e9b0cbca84b7ce74eb")
            }
        }
    }
}

impl Network {
    /// The genesis block blob (`GENESIS_TX` and `GENESIS_NONCE` of `cryptonote_config.h`
    /// built into a block; its id is [`Network::genesis_id`]).
    pub fn genesis_blob(self) -> Vec<u8> {
        let hex = match self {
            Network::Mainnet => "010000000000000000000000000000000000000000000000000000000000000000000010270000013c01ff0001ffffffffffff03029b2e4c0281c0b02e7c53291a94d1d0cbff8883f8024f5142ee494ffbbd08807121017767aafcde9be00dcfd098715ebcf7f410daebc582fda69d24a28e9d0bc890d100",
            Network::Testnet => "010000000000000000000000000000000000000000000000000000000000000000000011270000013c01ff0001ffffffffffff03029b2e4c0281c0b02e7c53291a94d1d0cbff8883f8024f5142ee494ffbbd08807121017767aafcde9be00dcfd098715ebcf7f410daebc582fda69d24a28e9d0bc890d100",
            Network::Stagenet => "010000000000000000000000000000000000000000000000000000000000000000000012270000013c01ff0001ffffffffffff0302df5d56da0c7d643ddd1ce61901c7bdc5fb1738bfe39fbe69c28a3a7032729c0f2101168d0c4ca86fb55a4cf6a36d31431be1c53a3bd7411bb24e8832410289fa6f3b00",
        };
        hex::decode(hex).unwrap_or_default()
    }

    /// The chain tip of a node that has only the genesis block, as monerod announces it
    /// (height 1, cumulative difficulty 1, major version 1).
    pub fn genesis_sync(self) -> crate::wire::messages::CoreSyncData {
        crate::wire::messages::CoreSyncData {
            cumulative_difficulty: 1,
            current_height: 1,
            top_id: self.genesis_id(),
            top_version: Some(1),
            ..Default::default()
        }
    }
}

const fn hex_nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not lowercase hex"),
    }
}

const fn hex32(s: &[u8; 64]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (hex_nibble(s[2 * i]) << 4) | hex_nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "node")]
    #[test]
    fn genesis_blobs_hash_to_the_genesis_ids() {
        for n in [Network::Mainnet, Network::Testnet, Network::Stagenet] {
            let b = monero_oxide::block::Block::read(&mut n.genesis_blob().as_slice()).unwrap();
            assert_eq!(b.hash(), n.genesis_id(), "{n:?}");
        }
    }

    #[test]
    fn ids_match_the_captured_regtest_handshake() {
        assert_eq!(
            hex::encode(Network::Mainnet.network_id()),
            "1230f171610441611731008216a1a110"
        );
        assert_eq!(
            hex::encode(Network::Stagenet.network_id()),
            "1230f171610441611731008216a1a112"
        );
        assert_eq!(
            hex::encode(Network::Mainnet.genesis_id()),
            "418015bb9ae982a1975da7d79277c2705727a56894ba0fb246adaabb1f4632e3"
        );
    }
}
