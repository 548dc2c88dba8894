//! Which block's id is the RandomX key (the "seed") at a height: monerod's `rx_seedheight`
//! and `rx_seedheights` (`src/crypto/rx-slow-hash.c`).
//!
//! The seed changes every [`SEEDHASH_EPOCH_BLOCKS`] blocks, [`SEEDHASH_EPOCH_LAG`] blocks
//! after the epoch boundary, so nodes learn the next key that many blocks before they need
//! it. monerod lets the `SEEDHASH_EPOCH_BLOCKS` / `SEEDHASH_EPOCH_LAG` environment variables
//! shrink both for tests; xmrd has only the consensus values.

/// Blocks per seed epoch: `SEEDHASH_EPOCH_BLOCKS` in rx-slow-hash.c.
pub const SEEDHASH_EPOCH_BLOCKS: u64 = 2048;

/// Blocks by which a seed change trails its epoch boundary: `SEEDHASH_EPOCH_LAG`.
pub const SEEDHASH_EPOCH_LAG: u64 = 64;

/// The height of the block whose id keys RandomX for the block at `height`: monerod's
/// `rx_seedheight`. Heights up to `SEEDHASH_EPOCH_BLOCKS + SEEDHASH_EPOCH_LAG` (2112) use
/// the genesis block; later ones the last multiple of 2048 at least 65 blocks below.
pub fn seed_height(height: u64) -> u64 {
    if height <= SEEDHASH_EPOCH_BLOCKS + SEEDHASH_EPOCH_LAG {
        0
    } else {
        (height - SEEDHASH_EPOCH_LAG - 1) & !(SEEDHASH_EPOCH_BLOCKS - 1)
    }
}

/// The seed height that will be in force [`SEEDHASH_EPOCH_LAG`] blocks after `height`:
/// the `nextheight` of monerod's `rx_seedheights`, i.e. `rx_seedheight(height + lag)`.
/// When it differs from [`seed_height`], the next key is already known and can be
/// prepared. The addition wraps as monerod's unsigned arithmetic does.
pub fn next_seed_height(height: u64) -> u64 {
    seed_height(height.wrapping_add(SEEDHASH_EPOCH_LAG))
}

/// `(seed height, next seed height)` for the block at `height`: monerod's `rx_seedheights`.
pub fn seed_heights(height: u64) -> (u64, u64) {
    (seed_height(height), next_seed_height(height))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values worked out by hand from the C expression
    /// `h <= 2048+64 ? 0 : (h - 64 - 1) & ~(2048-1)`.
    #[test]
    fn seed_height_matches_rx_seedheight_by_hand() {
        let cases: &[(u64, u64)] = &[
            (0, 0),
            (1, 0),
            (2047, 0),
            (2048, 0),
            (2048 + 64, 0),         // 2112: the last height on the genesis seed
            (2048 + 64 + 1, 2048),  // 2113: (2113-65)=2048 & ~2047
            (4096, 2048),           // (4096-65)=4031 -> 2048
            (4096 + 64, 2048),      // 4160: (4160-65)=4095 -> 2048
            (4096 + 64 + 1, 4096),  // 4161: 4096
            (6144 + 64 + 1, 6144),  // 6209
            (2_751_506, 2_750_464), // mainnet block 43bd1f…: (2751441 & ~2047)
            (2_750_464 + 65, 2_750_464),
            (2_750_464 + 64, 2_748_416),
            (u64::MAX, 0xffff_ffff_ffff_f800),
        ];
        for &(height, seed) in cases {
            assert_eq!(seed_height(height), seed, "height {height}");
        }
    }

    #[test]
    fn next_seed_height_is_known_lag_blocks_before_the_switch() {
        // rx_seedheights: next = rx_seedheight(height + 64).
        assert_eq!(seed_heights(0), (0, 0));
        assert_eq!(seed_heights(2048), (0, 0)); // 2048+64 = 2112: still genesis
        assert_eq!(seed_heights(2049), (0, 2048)); // 2113: the next key is known
        assert_eq!(seed_heights(2112), (0, 2048));
        assert_eq!(seed_heights(2113), (2048, 2048));
        assert_eq!(seed_heights(4096), (2048, 2048)); // 4160 -> 2048
        assert_eq!(seed_heights(4097), (2048, 4096)); // 4161 -> 4096
        assert_eq!(seed_heights(4161), (4096, 4096));
    }

    #[test]
    fn next_seed_height_wraps_like_monerods_unsigned_arithmetic() {
        // u64::MAX + 64 wraps to 63, which is in the genesis epoch.
        assert_eq!(next_seed_height(u64::MAX), 0);
    }

    /// Properties of every seed height after the genesis epoch: a multiple of the epoch
    /// length, at least lag+1 blocks back and no more than epoch+lag blocks back.
    #[test]
    fn seed_height_is_an_epoch_boundary_lag_blocks_back() {
        for height in (SEEDHASH_EPOCH_BLOCKS + SEEDHASH_EPOCH_LAG + 1)..20_000 {
            let s = seed_height(height);
            assert_eq!(s % SEEDHASH_EPOCH_BLOCKS, 0, "height {height}");
            assert!(height - s > SEEDHASH_EPOCH_LAG, "height {height}");
            assert!(
                height - s <= SEEDHASH_EPOCH_BLOCKS + SEEDHASH_EPOCH_LAG,
                "height {height}"
            );
            assert!(seed_height(height - 1) <= s);
        }
    }
}
