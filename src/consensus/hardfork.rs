//! Hard-fork tables (monerod `src/hardforks/hardforks.cpp`) and the version/vote rule
//! (`src/cryptonote_basic/hardfork.cpp`).
//!
//! Every fork in monerod's tables has a vote threshold of 0, so the version in force at a
//! height is a pure function of the height: the last fork whose height is not above it.

use super::error::BlockError;

/// The network whose rules apply. Regtest is mainnet's genesis with its own fork table
/// (monerod `core::init`: version 1 at height 0, the newest version from height 1) and
/// optionally a fixed difficulty (`--fixed-difficulty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsensusNet {
    /// Mainnet.
    Mainnet,
    /// Testnet.
    Testnet,
    /// Stagenet.
    Stagenet,
    /// Regtest (`monerod --regtest`), with `--fixed-difficulty` when `Some`.
    Regtest {
        /// monerod's `--fixed-difficulty N` (0 or absent: the normal algorithm).
        fixed_difficulty: Option<u128>,
    },
}

/// `(version, first height)` rows, ascending.
type Table = &'static [(u8, u64)];

/// `mainnet_hard_forks`.
const MAINNET: Table = &[
    (1, 1),
    (2, 1_009_827),
    (3, 1_141_317),
    (4, 1_220_516),
    (5, 1_288_616),
    (6, 1_400_000),
    (7, 1_546_000),
    (8, 1_685_555),
    (9, 1_686_275),
    (10, 1_788_000),
    (11, 1_788_720),
    (12, 1_978_433),
    (13, 2_210_000),
    (14, 2_210_720),
    (15, 2_688_888),
    (16, 2_689_608),
];

/// `testnet_hard_forks`.
const TESTNET: Table = &[
    (1, 1),
    (2, 624_634),
    (3, 800_500),
    (4, 801_219),
    (5, 802_660),
    (6, 971_400),
    (7, 1_057_027),
    (8, 1_057_058),
    (9, 1_057_778),
    (10, 1_154_318),
    (11, 1_155_038),
    (12, 1_308_737),
    (13, 1_543_939),
    (14, 1_544_659),
    (15, 1_982_800),
    (16, 1_983_520),
];

/// `stagenet_hard_forks`.
const STAGENET: Table = &[
    (1, 1),
    (2, 32_000),
    (3, 33_000),
    (4, 34_000),
    (5, 35_000),
    (6, 36_000),
    (7, 37_000),
    (8, 176_456),
    (9, 177_176),
    (10, 269_000),
    (11, 269_720),
    (12, 454_721),
    (13, 675_405),
    (14, 676_125),
    (15, 1_151_000),
    (16, 1_151_720),
];

/// `regtest_hard_forks` in `core::init`: 1 at 0, the last mainnet version at 1.
const REGTEST: Table = &[(1, 0), (16, 1)];

impl ConsensusNet {
    fn table(self) -> Table {
        match self {
            ConsensusNet::Mainnet => MAINNET,
            ConsensusNet::Testnet => TESTNET,
            ConsensusNet::Stagenet => STAGENET,
            ConsensusNet::Regtest { .. } => REGTEST,
        }
    }

    /// The hard-fork version in force for the block at `height`.
    pub fn hard_fork_version(self, height: u64) -> u8 {
        self.table()
            .iter()
            .take_while(|(_, h)| *h <= height)
            .last()
            .map_or(1, |(v, _)| *v)
    }

    /// The first height of hard-fork `version` (`None`: not in this network's table).
    pub fn fork_height(self, version: u8) -> Option<u64> {
        self.table()
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, h)| *h)
    }

    /// The last version in this network's table (`hard_fork_info`'s `voting`).
    pub fn last_version(self) -> u8 {
        self.table().last().map_or(1, |(v, _)| *v)
    }

    /// The fixed difficulty of a regtest chain, if any.
    pub fn fixed_difficulty(self) -> Option<u128> {
        match self {
            ConsensusNet::Regtest { fixed_difficulty } => fixed_difficulty.filter(|d| *d != 0),
            _ => None,
        }
    }
}

/// monerod `get_block_vote`: a minor version of 0 votes for version 1.
pub fn block_vote(minor_version: u8) -> u8 {
    if minor_version == 0 {
        1
    } else {
        minor_version
    }
}

/// Block version and vote. Mirrors `HardFork::do_check` (`src/cryptonote_basic/hardfork.cpp`):
/// the major version must equal the version in force, and the vote must not be lower.
pub fn check_version_and_vote(
    in_force: u8,
    major_version: u8,
    minor_version: u8,
) -> Result<(), BlockError> {
    if major_version != in_force {
        return Err(BlockError::WrongMajorVersion {
            got: major_version,
            expected: in_force,
        });
    }
    if block_vote(minor_version) < in_force {
        return Err(BlockError::VoteTooLow {
            vote: minor_version,
            version: in_force,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_tables() {
        let m = ConsensusNet::Mainnet;
        assert_eq!(m.hard_fork_version(0), 1);
        assert_eq!(m.hard_fork_version(1_009_826), 1);
        assert_eq!(m.hard_fork_version(1_009_827), 2);
        assert_eq!(m.hard_fork_version(2_689_607), 15);
        assert_eq!(m.hard_fork_version(2_689_608), 16);
        assert_eq!(m.hard_fork_version(u64::MAX), 16);
        let r = ConsensusNet::Regtest {
            fixed_difficulty: Some(1),
        };
        assert_eq!(r.hard_fork_version(0), 1);
        assert_eq!(r.hard_fork_version(1), 16);
        assert_eq!(ConsensusNet::Stagenet.hard_fork_version(1_151_720), 16);
        assert_eq!(ConsensusNet::Testnet.hard_fork_version(1_983_519), 15);
    }

    #[test]
    fn tables_match_the_shared_csv() {
        let Some(dir) = crate::testdata::shared_subdir("vectors/chain") else {
            return;
        };
        let csv = std::fs::read_to_string(dir.join("hardforks.csv")).unwrap();
        let mut n = 0;
        for line in csv.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let net = match f[0] {
                "mainnet" => ConsensusNet::Mainnet,
                "testnet" => ConsensusNet::Testnet,
                "stagenet" => ConsensusNet::Stagenet,
                other => panic!("unknown network {other}"),
            };
            let version: u8 = f[1].parse().unwrap();
            let height: u64 = f[2].parse().unwrap();
            assert_eq!(net.hard_fork_version(height), version, "{line}");
            if height > 1 {
                assert_eq!(net.hard_fork_version(height - 1), version - 1, "{line}");
            }
            n += 1;
        }
        assert_eq!(n, 48);
    }

    #[test]
    fn version_and_vote() {
        assert!(check_version_and_vote(1, 1, 0).is_ok());
        assert!(check_version_and_vote(16, 16, 16).is_ok());
        assert!(check_version_and_vote(16, 16, 17).is_ok());
        assert!(matches!(
            check_version_and_vote(16, 16, 15),
            Err(BlockError::VoteTooLow { .. })
        ));
        assert!(matches!(
            check_version_and_vote(16, 15, 16),
            Err(BlockError::WrongMajorVersion { .. })
        ));
    }
}
