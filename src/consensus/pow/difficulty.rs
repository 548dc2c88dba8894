//! Whether a proof-of-work hash meets a difficulty: monerod's `check_hash`
//! (`src/cryptonote_basic/difficulty.cpp`).

/// Whether the PoW hash meets `difficulty`: the hash, read as a little-endian 256-bit
/// integer, times the difficulty must stay below 2^256.
///
/// Mirrors monerod's `cryptonote::check_hash`, which sends difficulties that fit in 64 bits
/// to `check_hash_64` and larger ones to `check_hash_128`; both compute this predicate
/// (`check_hash_128` alone skips the top hash word, which is only sound for the
/// difficulties above 2^64 that `check_hash` gives it, where a non-zero top word already
/// fails). Difficulty 0 accepts every hash, as in monerod; `Blockchain` rejects a zero
/// difficulty before it gets here.
pub fn check_hash(hash: &[u8; 32], difficulty: u128) -> bool {
    let mut hash_words = [0u64; 4];
    for (word, bytes) in hash_words.iter_mut().zip(hash.chunks_exact(8)) {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        *word = u64::from_le_bytes(le);
    }
    let difficulty_words = [low_word(difficulty), low_word(difficulty >> 64)];
    // Schoolbook product of 4 words by 2 words; every partial sum fits in a u128:
    // (2^64-1)^2 + 2*(2^64-1) = 2^128-1.
    let mut product = [0u64; 6];
    for (i, &h) in hash_words.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &d) in difficulty_words.iter().enumerate() {
            let t = u128::from(h) * u128::from(d) + u128::from(product[i + j]) + carry;
            product[i + j] = low_word(t);
            carry = t >> 64;
        }
        product[i + 2] = low_word(carry);
    }
    product[4] == 0 && product[5] == 0
}

/// The low 64 bits.
#[allow(clippy::cast_possible_truncation)] // truncation is the point
fn low_word(x: u128) -> u64 {
    x as u64
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// floor((2^256 - 1) / divisor) as a little-endian hash: the largest hash that meets
    /// `divisor` (monerod's `MKHASH` in tests/unit_tests/difficulty.cpp).
    pub(in crate::consensus::pow) fn max_hash_for(divisor: u128) -> [u8; 32] {
        assert_ne!(divisor, 0);
        let mut quotient = [0u8; 32];
        let mut rem = 0u128;
        for bit in (0..256).rev() {
            // Shift in a 1 bit (the dividend is all ones), remembering the bit shifted out.
            let overflow = rem >> 127 == 1;
            rem = (rem << 1) | 1;
            if overflow || rem >= divisor {
                rem = rem.wrapping_sub(divisor);
                quotient[bit / 8] |= 1 << (bit % 8);
            }
        }
        quotient
    }

    /// `hash + 1` as a little-endian integer (wrapping).
    pub(in crate::consensus::pow) fn plus_one(mut hash: [u8; 32]) -> [u8; 32] {
        for b in hash.iter_mut() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        hash
    }

    fn hash_of_u128(v: u128) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[..16].copy_from_slice(&v.to_le_bytes());
        h
    }

    fn mkdiff(high: u64, low: u64) -> u128 {
        (u128::from(high) << 64) | u128::from(low)
    }

    #[test]
    fn max_hash_for_is_the_exact_quotient() {
        assert_eq!(max_hash_for(1), [0xff; 32]);
        let mut half = [0xff; 32];
        half[31] = 0x7f;
        assert_eq!(max_hash_for(2), half);
        // 2^256-1 = (2^128-1)(2^128+1)
        let mut q = [0u8; 32];
        q[0] = 1;
        q[16] = 1;
        assert_eq!(max_hash_for(u128::MAX), q);
    }

    /// monerod's `TEST(difficulty, check_hash)`, tests/unit_tests/difficulty.cpp.
    #[test]
    fn accepts_and_rejects_as_monerods_unit_test() {
        let mkhash = |high, low| max_hash_for(mkdiff(high, low));
        assert!(check_hash(&mkhash(0, 1), mkdiff(0, 1)));
        assert!(!check_hash(&mkhash(0, 1), mkdiff(0, 2)));
        assert!(check_hash(&mkhash(0, u64::MAX), mkdiff(0, u64::MAX)));
        assert!(!check_hash(&mkhash(0, u64::MAX), mkdiff(1, 0)));
        assert!(check_hash(&mkhash(1, 1), mkdiff(1, 1)));
        assert!(!check_hash(&mkhash(1, 1), mkdiff(1, 2)));
        assert!(check_hash(&mkhash(u64::MAX, 1), mkdiff(u64::MAX, 1)));
        assert!(!check_hash(&mkhash(u64::MAX, 1), mkdiff(u64::MAX, 2)));
    }

    #[test]
    fn difficulty_zero_accepts_every_hash_as_monerod() {
        assert!(check_hash(&[0xff; 32], 0));
        assert!(check_hash(&[0; 32], 0));
    }

    #[test]
    fn difficulty_one_accepts_every_hash() {
        assert!(check_hash(&[0xff; 32], 1));
        assert!(check_hash(&[0; 32], 1));
    }

    #[test]
    fn zero_hash_meets_every_difficulty() {
        for d in [
            1,
            2,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ] {
            assert!(check_hash(&[0; 32], d));
        }
    }

    /// At each difficulty the largest passing hash passes and the next one fails.
    #[test]
    fn boundary_hashes_just_under_and_over() {
        let difficulties = [
            2,
            3,
            255,
            1_000_000_007,
            u128::from(u64::MAX) - 1,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            (1 << 100) + 12_345,
            u128::MAX / 3,
            u128::MAX - 1,
            u128::MAX,
        ];
        for d in difficulties {
            let max = max_hash_for(d);
            assert!(check_hash(&max, d), "max hash for {d}");
            assert!(!check_hash(&plus_one(max), d), "max hash + 1 for {d}");
        }
    }

    #[test]
    fn top_word_set_fails_every_difficulty_from_two_to_the_64() {
        let mut h = [0u8; 32];
        h[24] = 1; // 2^192
        assert!(check_hash(&h, u128::from(u64::MAX))); // 2^192 * (2^64-1) < 2^256
        assert!(!check_hash(&h, u128::from(u64::MAX) + 1)); // = 2^256
        assert!(!check_hash(&h, u128::MAX));
    }

    #[test]
    fn small_hashes_against_big_difficulties() {
        let mut h = [0u8; 32];
        h[16] = 1; // 2^128 * (2^128-1) < 2^256
        assert!(check_hash(&h, u128::MAX));
        h[16] = 2; // 2^129 * (2^128-1) >= 2^256
        assert!(!check_hash(&h, u128::MAX));
        assert!(check_hash(&hash_of_u128(u128::MAX), u128::MAX)); // (2^128-1)^2 < 2^256
    }

    /// A port of monerod's tests/hash-target.cpp: hashes of one repeated byte and hashes
    /// with a single top byte, over difficulties growing by ~1/256 each step up to 2^128,
    /// plus the exact boundary hash for every difficulty below 2^64/256.
    #[test]
    fn agrees_with_monerods_hash_target_program() {
        let mut diff: u128 = 1;
        loop {
            for b in 0u16..256 {
                let byte = u8::try_from(b).unwrap_or(u8::MAX);
                let h = [byte; 32];
                assert_eq!(
                    check_hash(&h, diff),
                    b == 0 || diff <= 255 / u128::from(b),
                    "repeated {b} at {diff}"
                );
                if b > 0 {
                    let mut h = [0u8; 32];
                    h[31] = byte;
                    assert_eq!(check_hash(&h, diff), diff <= 255 / u128::from(b), "top {b}");
                }
            }
            if diff < u128::from(u64::MAX / 256) {
                let max = max_hash_for(diff);
                assert!(check_hash(&max, diff));
                if diff > 1 {
                    assert!(!check_hash(&plus_one(max), diff));
                }
            }
            match diff.checked_add(1 + (diff >> 8)) {
                Some(next) => diff = next,
                None => break,
            }
        }
    }
}
