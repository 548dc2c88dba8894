//! Difficulty: monerod's `next_difficulty` (`src/cryptonote_basic/difficulty.cpp`) and the
//! window `Blockchain::get_difficulty_for_next_block` feeds it.

use super::constants::{DIFFICULTY_BLOCKS_COUNT, DIFFICULTY_CUT, DIFFICULTY_WINDOW};

/// Which blocks' timestamps and cumulative difficulties decide the difficulty of the
/// block at `height` (= the chain's current block count): heights `[start, height)`.
/// Mirrors `get_difficulty_for_next_block`: the last `DIFFICULTY_BLOCKS_COUNT` blocks,
/// never the genesis block.
pub fn difficulty_window(height: u64) -> std::ops::Range<u64> {
    let count = DIFFICULTY_BLOCKS_COUNT as u64;
    let start = height.saturating_sub(count).max(1);
    start..height.max(start)
}

/// `next_difficulty`: `timestamps` and `cumulative_difficulties` are those of
/// [`difficulty_window`], oldest first. Returns 0 where monerod does (result above 2^128).
pub fn next_difficulty(timestamps: &[u64], cumulative_difficulties: &[u128], target: u64) -> u128 {
    let length = timestamps
        .len()
        .min(cumulative_difficulties.len())
        .min(DIFFICULTY_WINDOW);
    if length <= 1 {
        return 1;
    }
    let mut ts: Vec<u64> = timestamps[..length].to_vec();
    ts.sort_unstable();
    let kept = DIFFICULTY_WINDOW - 2 * DIFFICULTY_CUT;
    let (cut_begin, cut_end) = if length <= kept {
        (0, length)
    } else {
        let b = (length - kept).div_ceil(2);
        (b, b + kept)
    };
    let time_span = match ts[cut_end - 1] - ts[cut_begin] {
        0 => 1,
        s => s,
    };
    let total_work =
        cumulative_difficulties[cut_end - 1].wrapping_sub(cumulative_difficulties[cut_begin]);
    // (total_work * target + time_span - 1) / time_span in 256-bit arithmetic.
    let (hi, lo) = mul_u128_u64(total_work, target);
    let (hi, lo) = add_u256(hi, lo, u128::from(time_span - 1));
    let (qhi, qlo) = div_u256_u64(hi, lo, time_span);
    if qhi != 0 {
        return 0;
    }
    qlo
}

fn mul_u128_u64(a: u128, b: u64) -> (u128, u128) {
    let b = u128::from(b);
    let a_lo = a & u128::from(u64::MAX);
    let a_hi = a >> 64;
    let p_lo = a_lo * b; // < 2^128
    let p_hi = a_hi * b; // < 2^128
    let (lo, carry) = p_lo.overflowing_add(p_hi << 64);
    let hi = (p_hi >> 64) + u128::from(carry);
    (hi, lo)
}

fn add_u256(hi: u128, lo: u128, x: u128) -> (u128, u128) {
    let (lo, c) = lo.overflowing_add(x);
    (hi + u128::from(c), lo)
}

fn div_u256_u64(hi: u128, lo: u128, d: u64) -> (u128, u128) {
    // Long division by 64-bit limbs.
    let d = u128::from(d);
    #[allow(clippy::cast_possible_truncation)] // taking the low 64 bits is the point
    let limbs = [(hi >> 64) as u64, hi as u64, (lo >> 64) as u64, lo as u64];
    let mut q = [0u64; 4];
    let mut rem: u128 = 0;
    for (i, limb) in limbs.iter().enumerate() {
        let cur = (rem << 64) | u128::from(*limb);
        #[allow(clippy::cast_possible_truncation)]
        {
            q[i] = (cur / d) as u64;
        }
        rem = cur % d;
    }
    (
        (u128::from(q[0]) << 64) | u128::from(q[1]),
        (u128::from(q[2]) << 64) | u128::from(q[3]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_skips_genesis_and_keeps_735() {
        assert_eq!(difficulty_window(0), 1..1);
        assert_eq!(difficulty_window(1), 1..1);
        assert_eq!(difficulty_window(2), 1..2);
        assert_eq!(difficulty_window(735), 1..735);
        assert_eq!(difficulty_window(736), 1..736);
        assert_eq!(difficulty_window(737), 2..737);
    }

    #[test]
    fn small_windows() {
        assert_eq!(next_difficulty(&[], &[], 120), 1);
        assert_eq!(next_difficulty(&[5], &[5], 120), 1);
        // Two blocks 120 s apart with 10 work between them: 10.
        assert_eq!(next_difficulty(&[0, 120], &[1, 11], 120), 10);
        // Same timestamps: span 1.
        assert_eq!(next_difficulty(&[7, 7], &[1, 11], 120), 1200);
    }

    /// Real mainnet data (`mainnet_cumulative_difficulty_3000000_3001999.csv`): the
    /// difficulty of each block is the difference of cumulative difficulties, and
    /// `next_difficulty` over the preceding window must reproduce it.
    #[test]
    fn reproduces_mainnet_difficulties() {
        let Some(rows) =
            crate::testdata::chain_csv3("mainnet_cumulative_difficulty_3000000_3001999.csv")
        else {
            return;
        };
        assert_eq!(rows.len(), 2000);
        assert!(rows.windows(2).all(|w| w[1].0 == w[0].0 + 1));
        let mut checked = 0;
        for i in DIFFICULTY_BLOCKS_COUNT..rows.len() {
            let height = rows[i].0;
            let w = difficulty_window(height);
            let first = usize::try_from(w.start - rows[0].0).unwrap();
            let last = usize::try_from(w.end - rows[0].0).unwrap();
            let ts: Vec<u64> = rows[first..last].iter().map(|r| r.2).collect();
            let cd: Vec<u128> = rows[first..last].iter().map(|r| r.1).collect();
            let expected = rows[i].1 - rows[i - 1].1;
            assert_eq!(next_difficulty(&ts, &cd, 120), expected, "height {height}");
            checked += 1;
        }
        // Every row with its whole window (the 735 blocks before it) in the file.
        assert_eq!(checked, rows.len() - DIFFICULTY_BLOCKS_COUNT);
    }

    #[test]
    fn wide_arithmetic() {
        let (hi, lo) = mul_u128_u64(u128::MAX, u64::MAX);
        let (qhi, qlo) = div_u256_u64(hi, lo, u64::MAX);
        assert_eq!((qhi, qlo), (0, u128::MAX));
        // Overflow of 2^128 gives 0 like monerod.
        assert_eq!(next_difficulty(&[0, 1], &[0, u128::MAX], 120), 0);
    }
}
