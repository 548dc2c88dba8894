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
