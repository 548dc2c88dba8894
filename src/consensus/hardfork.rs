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

/// One row of a fork table as monerod's `HardFork` keeps it (`hardfork_t`): the version,
/// the first height it may start at, and the percentage of the voting window that must vote
/// for it (or a later version) first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fork {
    /// The hard-fork version.
    pub version: u8,
    /// The earliest height of the version.
    pub height: u64,
    /// Vote threshold in percent of the window (0: the height alone decides).
    pub threshold: u8,
}

/// monerod's `HardFork::DEFAULT_WINDOW_SIZE`: votes are counted over the last 10080 blocks
/// (a week of two-minute blocks).
pub const HARD_FORK_WINDOW_SIZE: usize = 10_080;

/// monerod's hard-fork state machine (`src/cryptonote_basic/hardfork.cpp`): the version in
/// force for the next block, and the rolling window of the last blocks' votes that can move
/// it forward.
///
/// A block must carry exactly the version in force and vote for it or later
/// (`do_check`). Each added block's vote (its minor version, 0 meaning 1, capped at the
/// table's last version) enters the window; then, from the newest fork down, the first
/// fork whose height is reached and for which the votes for it or a later version reach
/// `ceil(window × threshold / 100)` becomes the version in force if it is newer
/// (`get_voted_fork_index`). Every fork in monerod's tables has threshold 0, so on the real
/// networks the version follows the height ([`ConsensusNet::hard_fork_version`]).
#[derive(Clone, Debug)]
pub struct HardForkState {
    forks: Vec<Fork>,
    window_size: usize,
    votes: std::collections::VecDeque<u8>,
    counts: [u32; 256],
    current: usize,
}

impl HardForkState {
    /// The state before the block at height 0 of `net` (monerod's tables, threshold 0, the
    /// default window).
    pub fn new(net: ConsensusNet) -> Self {
        let forks = net
            .table()
            .iter()
            .map(|&(version, height)| Fork {
                version,
                height,
                threshold: 0,
            })
            .collect();
        Self::with_forks(forks, HARD_FORK_WINDOW_SIZE)
    }

    /// The state before height 0 for any table (ascending versions and heights; monerod's
    /// `add_fork` refuses anything else, here it is the caller's contract) and window size
    /// (at least 1). An empty table behaves as version 1 from height 0 (`init`'s
    /// placeholder).
    pub fn with_forks(mut forks: Vec<Fork>, window_size: usize) -> Self {
        if forks.is_empty() {
            forks.push(Fork {
                version: 1,
                height: 0,
                threshold: 0,
            });
        }
        Self {
            forks,
            window_size: window_size.max(1),
            votes: std::collections::VecDeque::new(),
            counts: [0; 256],
            current: 0,
        }
    }

    /// Resumes on an existing chain as monerod's `init` does (`rescan_from_block_height`):
    /// `last_version` is the version of the chain's top block, `recent_votes` the minor
    /// versions of its last blocks (oldest first; only the last window counts) and
    /// `chain_height` the height of the next block.
    pub fn resume(&mut self, last_version: u8, recent_votes: &[u8], chain_height: u64) {
        self.votes.clear();
        self.counts = [0; 256];
        for &minor in recent_votes {
            self.push_vote(minor);
        }
        self.current = self
            .forks
            .iter()
            .position(|f| f.version == last_version)
            .unwrap_or(self.forks.len() - 1);
        let voted = self.voted_fork_index(chain_height);
        self.current = self.current.max(voted);
    }

    /// The version in force for the next block (`get_current_version`).
    pub fn current_version(&self) -> u8 {
        self.forks.get(self.current).map_or(1, |f| f.version)
    }

    /// `do_check`: the block's major version is the version in force and its vote is not
    /// lower.
    pub fn check(&self, major_version: u8, minor_version: u8) -> Result<(), BlockError> {
        check_version_and_vote(self.current_version(), major_version, minor_version)
    }

    /// `HardFork::add`: checks the block at `height` and counts its vote; the version in
    /// force may move forward for the block after it.
    pub fn add(
        &mut self,
        major_version: u8,
        minor_version: u8,
        height: u64,
    ) -> Result<(), BlockError> {
        self.check(major_version, minor_version)?;
        self.push_vote(minor_version);
        let voted = self.voted_fork_index(height.saturating_add(1));
        self.current = self.current.max(voted);
        Ok(())
    }

    /// `get_effective_version(get_block_vote(b))` into the window.
    fn push_vote(&mut self, minor_version: u8) {
        let max = self.forks.last().map_or(1, |f| f.version);
        let vote = block_vote(minor_version).min(max);
        while self.votes.len() >= self.window_size {
            if let Some(old) = self.votes.pop_front() {
                let c = &mut self.counts[usize::from(old)];
                *c = c.saturating_sub(1);
            }
        }
        self.counts[usize::from(vote)] += 1;
        self.votes.push_back(vote);
    }

    /// `get_voted_fork_index(height)`.
    fn voted_fork_index(&self, height: u64) -> usize {
        let mut accumulated: u64 = 0;
        for (n, f) in self.forks.iter().enumerate().rev() {
            accumulated += u64::from(self.counts[usize::from(f.version)]);
            // `(window_size * threshold + 99) / 100`
            let threshold = (self.window_size as u64 * u64::from(f.threshold)).div_ceil(100);
            if height >= f.height && accumulated >= threshold {
                return n;
            }
        }
        self.current
    }
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

    /// Voting with a threshold: version 2 needs 8 of the last 10 votes once height 10 is
    /// reached; votes above the table's last version count for it.
    #[test]
    fn votes_move_the_version_past_its_height() {
        let forks = vec![
            Fork {
                version: 1,
                height: 0,
                threshold: 0,
            },
            Fork {
                version: 2,
                height: 10,
                threshold: 80,
            },
        ];
        let mut s = HardForkState::with_forks(forks, 10);
        // Seven votes for 2 by height 9: not enough, and too early anyway.
        for h in 0..10u64 {
            let vote = if h < 3 { 1 } else { 9 };
            s.add(1, vote, h).unwrap();
            assert_eq!(s.current_version(), 1, "after {h}");
        }
        // The eighth vote for 2 (the window drops a vote for 1): version 2 from height 11.
        s.add(1, 2, 10).unwrap();
        assert_eq!(s.current_version(), 2);
        assert!(matches!(
            s.add(1, 2, 11),
            Err(BlockError::WrongMajorVersion { .. })
        ));
        assert!(matches!(
            s.add(2, 1, 11),
            Err(BlockError::VoteTooLow { .. })
        ));
        s.add(2, 2, 11).unwrap();
    }

    /// Mainnet's blocks 2678808–2689607 (`mainnet_hf_votes_2678808_2689607.csv`, through the
    /// v14→v15 fork to the last v15 block): the state machine, resumed from v14, accepts every
    /// block's (major, vote), refuses each with its major version one off, gives v15 from
    /// 2688888 to 2689607 and v16 for 2689608.
    #[test]
    fn mainnet_votes_through_v15() {
        let Some(rows) = crate::testdata::chain_csv3("mainnet_hf_votes_2678808_2689607.csv") else {
            return;
        };
        let rows: Vec<(u64, u8, u8)> = rows
            .into_iter()
            .map(|(h, b, c)| (h, u8::try_from(b).unwrap(), u8::try_from(c).unwrap()))
            .collect();
        assert_eq!(rows.len(), 10_800);
        let first = rows[0].0;
        let m = ConsensusNet::Mainnet;
        let mut s = HardForkState::new(m);
        s.resume(m.hard_fork_version(first - 1), &[], first);
        let mut v15 = 0;
        for &(height, major, vote) in &rows {
            assert_eq!(s.current_version(), major, "height {height}");
            assert_eq!(m.hard_fork_version(height), major, "height {height}");
            for wrong in [major - 1, major + 1] {
                assert!(
                    matches!(
                        s.check(wrong, vote),
                        Err(BlockError::WrongMajorVersion { .. })
                    ),
                    "height {height}: major {wrong}"
                );
            }
            s.add(major, vote, height)
                .unwrap_or_else(|e| panic!("height {height}: {e}"));
            if major == 15 {
                v15 += 1;
            }
        }
        assert_eq!(v15, 2_689_608 - 2_688_888);
        assert_eq!(rows.last().map(|r| r.0), Some(2_689_607));
        assert_eq!(s.current_version(), 16);
    }
}
