//! Fast block sync (`--fast-block-sync 1`): monerod's compiled-in block-hash groups
//! (`src/blocks/checkpoints.dat`, loaded by `Blockchain::load_compiled_in_block_hashes`) and
//! the prevalidation of a chain entry against them (`Blockchain::prevalidate_block_hashes`).
//!
//! The data is a u32 LE group count N, then per group of [`HASH_OF_HASHES_STEP`] blocks the
//! keccak of their ids (concatenated) and the keccak of their weights (u64 LE). When a
//! peer's chain entry covers a whole group and both hashes match, the ids and weights of
//! those blocks are settled: a block at such a height is checked for its id and weight but
//! not for its proof of work or its transactions' signatures and proofs
//! ([`KnownBlock`], `handle_block_to_main_chain`'s `fast_check`).

use std::collections::BTreeMap;

use thiserror::Error;

use super::hardfork::ConsensusNet;

/// Blocks per group (monerod's `HASH_OF_HASHES_STEP`).
pub const HASH_OF_HASHES_STEP: u64 = 512;
/// [`HASH_OF_HASHES_STEP`] as a count.
const GROUP_LEN: usize = 512;

/// SHA-256 of monerod's mainnet block-hash data (`expected_block_hashes_hash` in
/// `blockchain.cpp` of the releases after 0.18.3: 7240 groups, heights 0 to 3706879).
/// Mainnet data with another hash is refused, as monerod refuses it.
pub const MAINNET_BLOCK_HASHES_SHA256: &str =
    "2aea941d43024422a63f223c84b9d88d1f58d31e1f508c2d6d43cd637ba32d16";

/// Why block-hash data is not used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FastSyncError {
    /// The mainnet data is not the data monerod ships.
    #[error("block hash data has SHA-256 {got}, expected {MAINNET_BLOCK_HASHES_SHA256}")]
    WrongHash {
        /// The data's SHA-256, hex.
        got: String,
    },
    /// The length is not 4 + 64 × the count (monerod: "unexpected data size").
    #[error("block hash data is {got} bytes, its count needs {expected}")]
    Size {
        /// The data's length.
        got: usize,
        /// The length its count implies.
        expected: u64,
    },
}

/// One settled block: the id and weight the chain has at its height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownBlock {
    /// The block id.
    pub id: [u8; 32],
    /// Its weight, when the peer's chain entry gave weights (monerod checks the ids alone
    /// when it did not).
    pub weight: Option<u64>,
}

/// The compiled-in groups: (keccak of the ids, keccak of the weights) per group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockHashGroups {
    groups: Vec<([u8; 32], [u8; 32])>,
}

impl BlockHashGroups {
    /// Reads monerod's format. On mainnet the data must be monerod's own
    /// ([`MAINNET_BLOCK_HASHES_SHA256`]); other networks take any well-formed data, as
    /// monerod checks only the size there.
    pub fn parse(data: &[u8], net: ConsensusNet) -> Result<Self, FastSyncError> {
        if net == ConsensusNet::Mainnet {
            let got = ring::digest::digest(&ring::digest::SHA256, data);
            let got = hex::encode(got.as_ref());
            if got != MAINNET_BLOCK_HASHES_SHA256 {
                return Err(FastSyncError::WrongHash { got });
            }
        }
        let Some((count, rest)) = data.split_first_chunk::<4>() else {
            return Err(FastSyncError::Size {
                got: data.len(),
                expected: 4,
            });
        };
        let count = u64::from(u32::from_le_bytes(*count));
        let expected = 4 + count * 64;
        if data.len() as u64 != expected {
            return Err(FastSyncError::Size {
                got: data.len(),
                expected,
            });
        }
        let groups = rest
            .chunks_exact(64)
            .map(|c| {
                let (ids, weights) = c.split_at(32);
                let mut a = [0; 32];
                let mut b = [0; 32];
                a.copy_from_slice(ids);
                b.copy_from_slice(weights);
                (a, b)
            })
            .collect();
        Ok(BlockHashGroups { groups })
    }

    /// Builds groups from a chain's ids and weights (complete groups only): what monero's
    /// `blockchain_export --blocks-hashes` writes, for tests and private chains.
    pub fn from_chain(ids: &[[u8; 32]], weights: &[u64]) -> Self {
        let groups = ids
            .chunks_exact(GROUP_LEN)
            .zip(weights.chunks_exact(GROUP_LEN))
            .map(|(i, w)| (hash_ids(i), hash_weights(w)))
            .collect();
        BlockHashGroups { groups }
    }

    /// The data in monerod's format.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.groups.len() * 64);
        out.extend_from_slice(
            &u32::try_from(self.groups.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        for (a, b) in &self.groups {
            out.extend_from_slice(a);
            out.extend_from_slice(b);
        }
        out
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// No groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The first height past the last group (`is_within_compiled_block_hash_area`).
    pub fn end_height(&self) -> u64 {
        self.groups.len() as u64 * HASH_OF_HASHES_STEP
    }

    /// `prevalidate_block_hashes` for a chain entry whose ids start at `start` (a height
    /// whose block we have: entries always overlap our chain). `weights` is empty or one
    /// per id. `ours(h)` gives our block's id and weight at a height below `start`, to fill
    /// the start of the first group.
    ///
    /// Settles the blocks of every group, from the first one the entry reaches, that the
    /// entry fills completely and that matches; it stops at the first group that does not
    /// match or is not filled, as monerod does. `usable` counts the ids the entry may be
    /// trusted for: those of the matched groups and those past the data.
    pub fn prevalidate(
        &self,
        start: u64,
        ids: &[[u8; 32]],
        weights: &[u64],
        ours: impl Fn(u64) -> Option<([u8; 32], u64)>,
    ) -> Prevalidation {
        let len = ids.len() as u64;
        let all = Prevalidation {
            settled: Vec::new(),
            usable: len,
        };
        let with_weights = !weights.is_empty();
        if start >= self.end_height()
            || ids.is_empty()
            || (with_weights && weights.len() != ids.len())
        {
            return all;
        }
        let step = HASH_OF_HASHES_STEP;
        let end = start + len;
        let (first, last) = (start / step, (end - 1) / step);
        if first == last && len < step && end % step != 0 {
            return all;
        }
        let mut settled = Vec::new();
        // Starts at or below zero: the first group may begin below `start`.
        let mut usable = (first * step) as i128 - start as i128;
        'groups: for group in first..=last {
            let Some(&(want_ids, want_weights)) =
                usize::try_from(group).ok().and_then(|g| self.groups.get(g))
            else {
                // Past the data: anything goes.
                usable = (usable + step as i128).min(len as i128);
                continue;
            };
            let from = group * step;
            if from + step > end {
                break;
            }
            let mut block_ids = Vec::with_capacity(GROUP_LEN);
            let mut block_weights = Vec::with_capacity(GROUP_LEN);
            for h in from..from + step {
                let (id, w) = if h < start {
                    match ours(h) {
                        Some(x) => x,
                        // We cannot judge the first group: no verdict on the entry.
                        None => return all,
                    }
                } else {
                    let i = usize::try_from(h - start).unwrap_or(usize::MAX);
                    match ids.get(i) {
                        Some(id) => (*id, weights.get(i).copied().unwrap_or(0)),
                        None => break 'groups,
                    }
                };
                block_ids.push(id);
                block_weights.push(w);
            }
            if hash_ids(&block_ids) != want_ids
                || (with_weights && hash_weights(&block_weights) != want_weights)
            {
                break;
            }
            for (k, (id, w)) in block_ids.into_iter().zip(block_weights).enumerate() {
                let h = from + k as u64;
                if h >= start {
                    settled.push((
                        h,
                        KnownBlock {
                            id,
                            weight: with_weights.then_some(w),
                        },
                    ));
                }
            }
            usable += step as i128;
        }
        Prevalidation {
            settled,
            usable: u64::try_from(usable.max(0)).unwrap_or(0),
        }
    }

    /// monerod drops a peer whose chain entry has no usable id, or a whole group's worth of
    /// ids past the usable ones (`handle_response_chain_entry`: "Most blocks are invalid").
    pub fn contradicts(p: &Prevalidation, ids: usize) -> bool {
        p.usable == 0 || p.usable + HASH_OF_HASHES_STEP <= ids as u64
    }
}

/// What [`BlockHashGroups::prevalidate`] found in a chain entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prevalidation {
    /// The settled blocks, by height, ascending.
    pub settled: Vec<(u64, KnownBlock)>,
    /// How many of the entry's ids may be used (monerod's return value).
    pub usable: u64,
}

fn hash_ids(ids: &[[u8; 32]]) -> [u8; 32] {
    monero_oxide::primitives::keccak256(ids.concat())
}

fn hash_weights(weights: &[u64]) -> [u8; 32] {
    let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
    monero_oxide::primitives::keccak256(bytes)
}

/// The settled blocks not yet committed, by height (monerod's `m_blocks_hash_check`, kept
/// only above our chain's height rather than for the whole area).
#[derive(Debug, Default)]
pub struct SettledBlocks {
    groups: BlockHashGroups,
    settled: BTreeMap<u64, KnownBlock>,
}

impl SettledBlocks {
    /// Fast sync over `groups` (empty: off).
    pub fn new(groups: BlockHashGroups) -> Self {
        SettledBlocks {
            groups,
            settled: BTreeMap::new(),
        }
    }

    /// Settles what a chain entry proves (see [`BlockHashGroups::prevalidate`]); heights
    /// below `our_height` are not kept. Returns how many of the entry's ids may be used
    /// (monerod plans no id past them), or `None` when the entry contradicts the data (the
    /// peer is to be dropped, [`BlockHashGroups::contradicts`]).
    pub fn on_chain_entry(
        &mut self,
        our_height: u64,
        start: u64,
        ids: &[[u8; 32]],
        weights: &[u64],
        ours: impl Fn(u64) -> Option<([u8; 32], u64)>,
    ) -> Option<usize> {
        if self.groups.is_empty() {
            return Some(ids.len());
        }
        let p = self.groups.prevalidate(start, ids, weights, ours);
        for (h, k) in &p.settled {
            if *h >= our_height {
                self.settled.insert(*h, *k);
            }
        }
        if BlockHashGroups::contradicts(&p, ids.len()) {
            return None;
        }
        Some(usize::try_from(p.usable).map_or(ids.len(), |u| u.min(ids.len())))
    }

    /// How many heights are settled and not yet committed.
    pub fn len(&self) -> usize {
        self.settled.len()
    }

    /// Nothing settled.
    pub fn is_empty(&self) -> bool {
        self.settled.is_empty()
    }

    /// The settled block at `height`, if any.
    pub fn at(&self, height: u64) -> Option<KnownBlock> {
        self.settled.get(&height).copied()
    }

    /// Forgets the heights below `height` (committed).
    pub fn committed_below(&mut self, height: u64) {
        self.settled = self.settled.split_off(&height);
    }

    /// The first height past the data's last group (0: fast sync off).
    pub fn end_height(&self) -> u64 {
        self.groups.end_height()
    }
}

#[cfg(test)]
#[allow(clippy::cast_possible_truncation)] // test chains are small
mod tests {
    use super::*;

    fn chain(n: u64) -> (Vec<[u8; 32]>, Vec<u64>) {
        let ids = (0..n)
            .map(|h| monero_oxide::primitives::keccak256(h.to_le_bytes()))
            .collect();
        let weights = (0..n).map(|h| 300 + h % 7).collect();
        (ids, weights)
    }

    fn regtest() -> ConsensusNet {
        ConsensusNet::Regtest {
            fixed_difficulty: Some(1),
        }
    }

    #[test]
    fn data_round_trips_and_refuses_a_wrong_size() {
        let (ids, w) = chain(1100);
        let g = BlockHashGroups::from_chain(&ids, &w);
        assert_eq!(g.len(), 2);
        assert_eq!(g.end_height(), 1024);
        let bytes = g.to_bytes();
        assert_eq!(BlockHashGroups::parse(&bytes, regtest()), Ok(g));
        assert!(matches!(
            BlockHashGroups::parse(&bytes[..bytes.len() - 1], regtest()),
            Err(FastSyncError::Size { .. })
        ));
        assert!(matches!(
            BlockHashGroups::parse(&[1, 0], regtest()),
            Err(FastSyncError::Size { .. })
        ));
        // A count that would need more data than there is.
        assert!(matches!(
            BlockHashGroups::parse(&[0xff, 0xff, 0xff, 0xff], regtest()),
            Err(FastSyncError::Size { .. })
        ));
    }

    #[test]
    fn mainnet_data_must_be_monerods() {
        let (ids, w) = chain(512);
        let bytes = BlockHashGroups::from_chain(&ids, &w).to_bytes();
        assert!(matches!(
            BlockHashGroups::parse(&bytes, ConsensusNet::Mainnet),
            Err(FastSyncError::WrongHash { .. })
        ));
    }

    #[test]
    fn monerods_mainnet_data_parses() {
        let Some(dir) = crate::testdata::shared_subdir("vectors/chain") else {
            return;
        };
        let data = std::fs::read(dir.join("mainnet_checkpoints.dat")).unwrap();
        let g = BlockHashGroups::parse(&data, ConsensusNet::Mainnet).unwrap();
        assert_eq!(g.len(), 7240);
        assert_eq!(g.end_height(), 3_706_880);
    }

    #[test]
    fn whole_matching_groups_are_settled() {
        let (ids, w) = chain(1500);
        let g = BlockHashGroups::from_chain(&ids, &w);
        let ours = |h: u64| Some((ids[h as usize], w[h as usize]));
        // An entry from genesis to 1499 settles both groups (0..1024); the rest is past
        // the data, so all of it is usable.
        let p = g.prevalidate(0, &ids, &w, ours);
        assert_eq!(p.settled.len(), 1024);
        assert_eq!(p.usable, 1500);
        assert_eq!(
            p.settled[700],
            (
                700,
                KnownBlock {
                    id: ids[700],
                    weight: Some(w[700])
                }
            )
        );
        // Starting inside the first group: its start comes from our chain.
        let p = g.prevalidate(300, &ids[300..], &w[300..], ours);
        assert_eq!(p.settled.first().map(|x| x.0), Some(300));
        assert_eq!(p.settled.len(), 1024 - 300);
        assert_eq!(p.usable, 1200);
        // A group only partly covered by the entry is not settled.
        let p = g.prevalidate(0, &ids[..1000], &w[..1000], ours);
        assert_eq!((p.settled.len(), p.usable), (512, 512));
        assert!(!BlockHashGroups::contradicts(&p, 1000));
        // Fewer ids than a group, not ending on a group's end: all usable, none settled.
        let p = g.prevalidate(10, &ids[10..100], &w[10..100], ours);
        assert_eq!((p.settled.len(), p.usable), (0, 90));
        // Without weights the ids alone settle, with no weight to check.
        let p = g.prevalidate(0, &ids, &[], ours);
        assert_eq!(p.settled.len(), 1024);
        assert_eq!(p.settled[3].1.weight, None);
        // Past the data: nothing settled, everything usable.
        let p = g.prevalidate(1024, &ids[1024..], &w[1024..], ours);
        assert_eq!((p.settled.len(), p.usable), (0, 476));
    }

    #[test]
    fn a_wrong_id_or_weight_stops_at_its_group_and_a_wrong_group_drops_the_peer() {
        let (ids, w) = chain(1100);
        let g = BlockHashGroups::from_chain(&ids, &w);
        let ours = |h: u64| Some((ids[h as usize], w[h as usize]));
        let mut bad = ids.clone();
        bad[600][0] ^= 1;
        let p = g.prevalidate(0, &bad, &w, ours);
        assert_eq!((p.settled.len(), p.usable), (512, 512));
        // 1100 ids, 512 usable: a whole group's worth is not (monerod drops the peer).
        assert!(BlockHashGroups::contradicts(&p, bad.len()));
        bad[5][0] ^= 1;
        let p = g.prevalidate(0, &bad, &w, ours);
        assert!(p.settled.is_empty());
        assert!(BlockHashGroups::contradicts(&p, bad.len()));
        let mut heavy = w.clone();
        heavy[10] += 1;
        assert!(g.prevalidate(0, &ids, &heavy, ours).settled.is_empty());
        // Without the start of the first group from our chain: no verdict either way.
        let p = g.prevalidate(300, &ids[300..], &w[300..], |_| None);
        assert!(p.settled.is_empty());
        assert_eq!(p.usable, 800);
    }

    #[test]
    fn settled_blocks_are_kept_above_our_height_until_committed() {
        let (ids, w) = chain(1700);
        let mut s = SettledBlocks::new(BlockHashGroups::from_chain(&ids, &w));
        let ours = |h: u64| Some((ids[h as usize], w[h as usize]));
        // 1601 ids from 99: three groups settled, the 164 past the data usable too.
        assert_eq!(
            s.on_chain_entry(100, 99, &ids[99..], &w[99..], ours),
            Some(1601)
        );
        assert_eq!(s.len(), 1536 - 100);
        assert_eq!(s.at(99), None);
        assert_eq!(s.at(100).map(|k| k.id), Some(ids[100]));
        s.committed_below(600);
        assert_eq!(s.at(599), None);
        assert_eq!(s.at(600).map(|k| k.weight), Some(Some(w[600])));
        // An entry against the data: refused.
        let mut bad = ids.clone();
        bad[700][0] ^= 1;
        assert_eq!(
            s.on_chain_entry(600, 599, &bad[599..], &w[599..], ours),
            None
        );
        // An entry ending inside a group: only the ids of whole matched groups are usable.
        assert_eq!(
            s.on_chain_entry(600, 0, &ids[..1300], &w[..1300], ours),
            Some(1024)
        );
        // Off: nothing is settled and nothing refused.
        let mut off = SettledBlocks::default();
        assert_eq!(off.on_chain_entry(0, 0, &bad, &w, ours), Some(bad.len()));
        assert!(off.is_empty());
    }
}
