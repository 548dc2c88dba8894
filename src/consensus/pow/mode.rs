//! Light or fast RandomX, and the rule `auto` decides by.
//!
//! Light mode keeps a 256 MiB cache per seed and computes dataset items on the fly
//! (30–40 ms per hash on this project's 2-core machines); fast mode builds the 2 GiB
//! dataset once per seed (~51 s on one core with randomx-rs) and then hashes in ~5.5 ms.
//! Over a whole seed epoch that is ~51 s + 2048 × 5.5 ms ≈ 62 s of CPU against
//! 2048 × 30–40 ms ≈ 60–80 s in light mode: the dataset only pays off when at least an
//! epoch of blocks remains to verify under one seed, and then by little; its other gain is
//! latency per block. The one piece of I/O here is reading `/proc/meminfo` for `auto`.

use super::seed::SEEDHASH_EPOCH_BLOCKS;

/// How the RandomX hasher computes hashes (`--randomx-mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum RandomXMode {
    /// Cache only (256 MiB per seed), 30–40 ms per hash: monerod's default.
    Light,
    /// Build the 2 GiB dataset for the main chain's seed and hash with it (~5.5 ms per
    /// hash); other seeds, and the main seed while its dataset builds, hash in light mode.
    /// monerod does this with `MONERO_RANDOMX_FULL_MEM` set.
    Fast,
    /// Fast when synced (at most [`AUTO_FAST_NEAR_TIP_BLOCKS`] behind: a new block is
    /// then checked in one fast hash before it is relayed) or at least
    /// [`AUTO_FAST_MIN_BLOCKS_BEHIND`] behind, and the machine has
    /// [`AUTO_FAST_MIN_MEM_AVAILABLE_BYTES`] available; light otherwise. A dataset
    /// already built for the main seed is kept. xmrd's default.
    #[default]
    Auto,
}

/// Bytes of the RandomX dataset: `randomx_dataset_item_count()` (34,078,719) items of
/// 64 bytes.
pub const RANDOMX_DATASET_BYTES: u64 = 34_078_719 * 64;

/// Bytes of one RandomX cache (Argon2 memory, `RANDOMX_ARGON_MEMORY` 262,144 KiB).
pub const RANDOMX_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Memory `auto` leaves to the rest of the node on top of the dataset and its cache.
pub const AUTO_FAST_MEM_HEADROOM_BYTES: u64 = 512 * 1024 * 1024;

/// `MemAvailable` below which `auto` stays light: dataset + cache + headroom (~2.8 GiB).
pub const AUTO_FAST_MIN_MEM_AVAILABLE_BYTES: u64 =
    RANDOMX_DATASET_BYTES + RANDOMX_CACHE_BYTES + AUTO_FAST_MEM_HEADROOM_BYTES;

/// How far behind the network `auto` must be to build a dataset while syncing: one seed
/// epoch. Below that the dataset costs more CPU than it saves (see the module notes).
pub const AUTO_FAST_MIN_BLOCKS_BEHIND: u64 = SEEDHASH_EPOCH_BLOCKS;

/// How far behind `auto` still counts as synced, and builds the dataset so that a new
/// block's proof of work costs one fast hash before relay (~4-5 ms instead of 30-40 ms).
/// One block: the peer that announces a new block raises the target just before the
/// block itself is checked. The build (~30-50 s of one core) is paid once per seed
/// epoch, 2,048 blocks (about 2.8 days on mainnet).
pub const AUTO_FAST_NEAR_TIP_BLOCKS: u64 = 1;

impl RandomXMode {
    /// Whether this mode wants the dataset for the main seed, given how many blocks the
    /// node is behind and the machine's `MemAvailable` (None when unknown: `auto` then
    /// stays light). Pure: the caller reads memory, see [`mem_available_bytes`].
    pub fn wants_dataset(self, blocks_behind: u64, mem_available_bytes: Option<u64>) -> bool {
        match self {
            RandomXMode::Light => false,
            RandomXMode::Fast => true,
            RandomXMode::Auto => {
                Self::auto_distance(blocks_behind)
                    && mem_available_bytes.is_some_and(|m| m >= AUTO_FAST_MIN_MEM_AVAILABLE_BYTES)
            }
        }
    }
}

impl RandomXMode {
    /// Whether `auto` would build a dataset this far behind (memory aside): synced, or
    /// far enough behind for the dataset to pay for itself.
    pub fn auto_distance(blocks_behind: u64) -> bool {
        blocks_behind <= AUTO_FAST_NEAR_TIP_BLOCKS || blocks_behind >= AUTO_FAST_MIN_BLOCKS_BEHIND
    }
}

/// The machine's available memory (`MemAvailable` of `/proc/meminfo`), if readable.
pub fn mem_available_bytes() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

/// `MemAvailable:  123 kB` → 123 × 1024.
fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut fields = line.split_whitespace();
    let kib: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => kib.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn parses_mem_available_from_proc_meminfo() {
        let meminfo = "MemTotal:       24684544 kB\nMemFree:        21084160 kB\n\
                       MemAvailable:   24190208 kB\nBuffers:          123 kB\n";
        assert_eq!(parse_mem_available(meminfo), Some(24_190_208 * 1024));
    }

    #[test]
    fn rejects_meminfo_without_mem_available_or_unit() {
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: 12\n"), None);
        assert_eq!(parse_mem_available("MemAvailable: x kB\n"), None);
    }

    #[test]
    fn reads_this_machines_mem_available() {
        if std::path::Path::new("/proc/meminfo").exists() {
            assert!(mem_available_bytes().is_some_and(|m| m > 0));
        }
    }

    #[test]
    fn light_never_and_fast_always_want_the_dataset() {
        assert!(!RandomXMode::Light.wants_dataset(u64::MAX, Some(u64::MAX)));
        assert!(RandomXMode::Fast.wants_dataset(0, None));
        assert!(RandomXMode::Fast.wants_dataset(0, Some(0)));
    }

    #[test]
    fn auto_is_fast_only_far_behind_with_enough_memory() {
        let auto = RandomXMode::Auto;
        assert!(auto.wants_dataset(AUTO_FAST_MIN_BLOCKS_BEHIND, Some(8 * GIB)));
        assert!(auto.wants_dataset(1_000_000, Some(AUTO_FAST_MIN_MEM_AVAILABLE_BYTES)));
        assert!(!auto.wants_dataset(AUTO_FAST_MIN_BLOCKS_BEHIND - 1, Some(8 * GIB)));
        assert!(!auto.wants_dataset(AUTO_FAST_NEAR_TIP_BLOCKS + 1, Some(64 * GIB)));
        // Synced: fast, so that a new block's proof of work is one fast hash.
        assert!(auto.wants_dataset(0, Some(8 * GIB)));
        assert!(auto.wants_dataset(AUTO_FAST_NEAR_TIP_BLOCKS, Some(8 * GIB)));
        assert!(!auto.wants_dataset(0, Some(AUTO_FAST_MIN_MEM_AVAILABLE_BYTES - 1)));
        assert!(!auto.wants_dataset(0, None));
        assert!(!auto.wants_dataset(1_000_000, Some(AUTO_FAST_MIN_MEM_AVAILABLE_BYTES - 1)));
        assert!(!auto.wants_dataset(1_000_000, Some(2 * GIB)));
        assert!(!auto.wants_dataset(1_000_000, None));
    }

    #[test]
    fn dataset_size_is_the_librarys() {
        let items = randomx_rs::RandomXDataset::count().map(u64::from);
        assert_eq!(items.map(|n| n * 64).ok(), Some(RANDOMX_DATASET_BYTES));
    }

    #[test]
    fn default_mode_is_auto() {
        assert_eq!(RandomXMode::default(), RandomXMode::Auto);
    }
}
