//! Variant 2's integer math (CryptoNight v8, monerod's `VARIANT2_INTEGER_MATH_*`): a 64 by
//! 32-bit division and an integer square root, whose results feed the next iteration.
//!
//! The square root must be exact: monerod defines it as the integer part of
//! `sqrt(2^64 + n) * 2 - 2^33`, computed with a float and then corrected
//! (`VARIANT2_INTEGER_MATH_SQRT_FIXUP`). Here the same value is written as
//! `isqrt(2^66 + 4n) - 2^33` (the square root of an integer, floored), estimated with an
//! f64 and then corrected with exact u128 arithmetic. Pure functions.

/// Variant 2's division and square-root results carried from one iteration to the next
/// (`division_result` and `sqrt_result`, seeded from Keccak state lanes 12 and 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IntMath {
    /// Quotient (low 32 bits) and remainder (high 32 bits) of the last division.
    pub(super) division: u64,
    /// The last square root, below 2^32.
    pub(super) sqrt: u64,
}

impl IntMath {
    /// One iteration's integer math, in the second step: mixes the previous results into
    /// the low half of the scratchpad block `d` just read, then divides and takes the
    /// square root over `c` (the first step's AES output).
    #[inline(always)]
    pub(super) fn step(&mut self, d_lo: &mut u64, c: [u64; 2]) {
        *d_lo ^= self.division ^ (self.sqrt << 32);
        let dividend = c[1];
        // (u32)(c[0] + (u32)(sqrt << 1)) | 0x80000001: the low 32 bits of the sum depend
        // only on the low 32 bits of its terms. Odd and at least 2^31, never zero.
        let divisor = (c[0].wrapping_add(self.sqrt << 1) & 0xFFFF_FFFF) | 0x8000_0001;
        let quotient = dividend / divisor;
        let remainder = dividend % divisor;
        self.division = (quotient & 0xFFFF_FFFF) | (remainder << 32);
        self.sqrt = v2_sqrt(c[0].wrapping_add(self.division));
    }
}

/// The integer part of `sqrt(2^64 + n) * 2 - 2^33`, below 2^32.
#[inline(always)]
pub(super) fn v2_sqrt(n: u64) -> u64 {
    const TWO_POW_33: u128 = 1 << 33;
    // sqrt(2^64 + n) * 2 = sqrt(2^66 + 4n), and flooring commutes with subtracting the
    // integer 2^33: the answer is isqrt(x) - 2^33.
    let x: u128 = (1u128 << 66) + 4 * u128::from(n);
    let mut root = TWO_POW_33 + u128::from(f64_estimate(n));
    while root * root > x {
        root -= 1;
    }
    while (root + 1) * (root + 1) <= x {
        root += 1;
    }
    // root >= 2^33 because 2^33 squared is at most x.
    u64::try_from(root - TWO_POW_33).unwrap_or(0)
}

/// `sqrt(2^64 + n) * 2 - 2^33` in f64, within one or two of the exact root: n loses its
/// low bits in the conversion, which moves the root by far less than one.
#[inline(always)]
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // in 0..2^32, saturating
fn f64_estimate(n: u64) -> u64 {
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    const TWO_POW_33: f64 = 8_589_934_592.0;
    ((n as f64 + TWO_POW_64).sqrt() * 2.0 - TWO_POW_33) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample table in monerod's `variant2_int_sqrt.h`.
    #[test]
    fn sqrt_matches_monerods_sample_table() {
        let cases: [(u64, u64); 9] = [
            (0, 0),
            (1 << 32, 0),
            ((1 << 32) + 1, 1),
            (1 << 50, 262_140),
            ((1 << 55) + 20_963_331, 8_384_515),
            ((1 << 55) + 20_963_332, 8_384_516),
            ((1 << 62) + 26_599_786, 1_013_904_242),
            ((1 << 62) + 26_599_787, 1_013_904_243),
            (u64::MAX, 3_558_067_407),
        ];
        for (n, expected) in cases {
            assert_eq!(v2_sqrt(n), expected, "n = {n}");
        }
    }

    /// The defining inequalities hold around many inputs, including near squares where a
    /// float alone rounds the wrong way.
    #[test]
    fn sqrt_is_the_floor_everywhere_sampled() {
        let mut n: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..200_000u64 {
            n = n
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(i | 1);
            for probe in [n, n >> (i % 64), u64::MAX - (i % 1000)] {
                let r = u128::from(v2_sqrt(probe)) + (1 << 33);
                let x = (1u128 << 66) + 4 * u128::from(probe);
                assert!(r * r <= x && (r + 1) * (r + 1) > x, "n = {probe}");
            }
        }
    }

    #[test]
    fn division_packs_quotient_low_and_remainder_high() {
        let mut m = IntMath {
            division: 0,
            sqrt: 0,
        };
        let mut d_lo = 0;
        // divisor = 0x80000001 (c[0] = 0), dividend = 2^40 + 5.
        m.step(&mut d_lo, [0, (1 << 40) + 5]);
        let divisor = 0x8000_0001u64;
        let dividend = (1u64 << 40) + 5;
        assert_eq!(m.division & 0xFFFF_FFFF, dividend / divisor);
        assert_eq!(m.division >> 32, dividend % divisor);
        assert_eq!(m.sqrt, v2_sqrt(m.division));
    }
}
