//! The AES pieces CryptoNight uses: one AES encryption round with a caller's round key
//! (the `aes` crate's hazmat round, AES-NI when the CPU has it), and the AES-256 key
//! schedule cut short at the ten round keys that the scratchpad fill and the final fold
//! use (monerod's `aesb_pseudo_round` applies rounds 0..10 of an AES-256 key expanded from
//! 32 bytes of the Keccak state).
//!
//! Not AES encryption: no initial key whitening and no final round. Pure functions.

use aes::hazmat::{cipher_round, cipher_round_par};
use aes::{Block, Block8};

use super::Block128;

/// Round keys that CryptoNight takes from an AES-256 key schedule.
pub(super) const ROUND_KEYS: usize = 10;

/// The AES S-box, built at compile time from its definition (FIPS-197 §5.1.1): the
/// multiplicative inverse in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, then the affine map.
const SBOX: [u8; 256] = build_sbox();

/// Product in GF(2^8) modulo the AES polynomial.
const fn gf_mul(mut x: u8, mut y: u8) -> u8 {
    let mut product = 0u8;
    while y != 0 {
        if y & 1 != 0 {
            product ^= x;
        }
        let carry = x & 0x80;
        x <<= 1;
        if carry != 0 {
            x ^= 0x1b;
        }
        y >>= 1;
    }
    product
}

const fn build_sbox() -> [u8; 256] {
    let mut sbox = [0u8; 256];
    let mut x = 0usize;
    while x < 256 {
        // x^254 is the inverse of x (and 0 for 0): square-and-multiply over 254 = 0b11111110.
        #[allow(clippy::cast_possible_truncation)] // x < 256
        let base = x as u8;
        let mut inverse = 1u8;
        let mut bit = 7;
        loop {
            inverse = gf_mul(inverse, inverse);
            if (254u32 >> bit) & 1 != 0 {
                inverse = gf_mul(inverse, base);
            }
            if bit == 0 {
                break;
            }
            bit -= 1;
        }
        let b = inverse;
        sbox[x] =
            b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        x += 1;
    }
    sbox
}

/// The first `N` words of the AES-256 key schedule of `key` (FIPS-197 §5.2, Nk = 8).
/// Each word is four bytes in key order.
pub(super) fn expand_key_words<const N: usize>(key: &[u8; 32]) -> [[u8; 4]; N] {
    let mut words = [[0u8; 4]; N];
    let mut rcon = 1u8;
    for i in 0..N {
        let word = if i < 8 {
            let mut w = [0u8; 4];
            if let Some(src) = key.get(4 * i..4 * i + 4) {
                w.copy_from_slice(src);
            }
            w
        } else {
            let mut temp = words[i - 1];
            if i % 8 == 0 {
                temp.rotate_left(1);
                temp = temp.map(|b| SBOX[usize::from(b)]);
                temp[0] ^= rcon;
                rcon = gf_mul(rcon, 2);
            } else if i % 8 == 4 {
                temp = temp.map(|b| SBOX[usize::from(b)]);
            }
            let back = words[i - 8];
            [
                back[0] ^ temp[0],
                back[1] ^ temp[1],
                back[2] ^ temp[2],
                back[3] ^ temp[3],
            ]
        };
        words[i] = word;
    }
    words
}

/// The ten round keys CryptoNight derives from 32 bytes of its state, each repeated
/// eight times for [`cipher_round_par`] over the eight blocks of a 128-byte chunk.
pub(super) fn round_keys(key: &[u8; 32]) -> [Block8; ROUND_KEYS] {
    let words: [[u8; 4]; 4 * ROUND_KEYS] = expand_key_words(key);
    std::array::from_fn(|r| {
        let mut k = Block::default();
        for (dst, word) in k.chunks_exact_mut(4).zip(words.iter().skip(4 * r)) {
            dst.copy_from_slice(word);
        }
        Block8::from([k; 8])
    })
}

/// Ten AES rounds on each of the eight blocks of `text`, round key r for round r
/// (monerod's `aesb_pseudo_round` on a 128-byte chunk).
pub(super) fn ten_rounds(text: &mut Block8, keys: &[Block8; ROUND_KEYS]) {
    for key in keys {
        cipher_round_par(text, key);
    }
}

/// One AES round on `block` with `key` as the round key (`aesb_single_round`, `aesenc`).
#[inline(always)]
pub(super) fn one_round(block: Block128, key: Block128) -> Block128 {
    let mut b = Block::from(to_bytes(block));
    cipher_round(&mut b, &Block::from(to_bytes(key)));
    from_bytes(b.into())
}

/// A 16-byte block as two little-endian u64s, the first from bytes 0..8.
#[inline(always)]
pub(super) fn from_bytes(bytes: [u8; 16]) -> Block128 {
    let (lo, hi) = bytes.split_at(8);
    [le_u64(lo), le_u64(hi)]
}

/// The bytes of a block stored as two little-endian u64s.
#[inline(always)]
pub(super) fn to_bytes(block: Block128) -> [u8; 16] {
    let mut out = [0u8; 16];
    let (lo, hi) = out.split_at_mut(8);
    lo.copy_from_slice(&block[0].to_le_bytes());
    hi.copy_from_slice(&block[1].to_le_bytes());
    out
}

/// The little-endian u64 in the first eight bytes of `bytes` (zero-padded when shorter).
#[inline(always)]
pub(super) fn le_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (dst, src) in b.iter_mut().zip(bytes) {
        *dst = *src;
    }
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use aes::cipher::{BlockEncrypt, KeyInit};
    use aes::hazmat::inv_mix_columns;

    use super::*;

    #[test]
    fn sbox_matches_fips_197() {
        // FIPS-197 Figure 7: S(00) = 63, S(01) = 7c, S(53) = ed, S(ff) = 16.
        assert_eq!(SBOX[0x00], 0x63);
        assert_eq!(SBOX[0x01], 0x7c);
        assert_eq!(SBOX[0x53], 0xed);
        assert_eq!(SBOX[0xff], 0x16);
        let mut seen = [false; 256];
        for s in SBOX {
            seen[usize::from(s)] = true;
        }
        assert!(seen.iter().all(|&s| s), "the S-box is a permutation");
    }

    /// The whole AES-256 schedule drives a full encryption that agrees with the `aes`
    /// crate: round 0 whitening, 13 full rounds, a last round without MixColumns.
    #[test]
    fn key_schedule_encrypts_like_aes_256() {
        let mut key = [0u8; 32];
        for (i, k) in (0u8..).zip(key.iter_mut()) {
            *k = i.wrapping_mul(7).wrapping_add(3);
        }
        let words: [[u8; 4]; 60] = expand_key_words(&key);
        let round_key = |r: usize| {
            let mut k = [0u8; 16];
            for (dst, w) in k.chunks_exact_mut(4).zip(&words[4 * r..4 * r + 4]) {
                dst.copy_from_slice(w);
            }
            Block::from(k)
        };
        let mut plain = [0u8; 16];
        for (i, p) in (0u8..).zip(plain.iter_mut()) {
            *p = i.wrapping_mul(29).wrapping_add(1);
        }
        let mut state = Block::from(plain);
        for (s, k) in state.iter_mut().zip(round_key(0)) {
            *s ^= k;
        }
        for r in 1..14 {
            cipher_round(&mut state, &round_key(r));
        }
        // Last round: SubBytes and ShiftRows only, then the key.
        cipher_round(&mut state, &Block::default());
        inv_mix_columns(&mut state);
        for (s, k) in state.iter_mut().zip(round_key(14)) {
            *s ^= k;
        }

        let mut expected = Block::from(plain);
        aes::Aes256::new(&key.into()).encrypt_block(&mut expected);
        assert_eq!(state, expected);
    }

    #[test]
    fn fips_197_appendix_a3_first_derived_word() {
        let key: [u8; 32] =
            hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
                .unwrap()
                .try_into()
                .unwrap();
        let words: [[u8; 4]; 9] = expand_key_words(&key);
        assert_eq!(words[8], [0x9b, 0xa3, 0x54, 0x11]);
    }

    #[test]
    fn block_bytes_round_trip() {
        let mut bytes = [0u8; 16];
        for (i, b) in (0u8..).zip(bytes.iter_mut()) {
            *b = i;
        }
        let block = from_bytes(bytes);
        assert_eq!(block[0], 0x0706_0504_0302_0100);
        assert_eq!(to_bytes(block), bytes);
    }
}
