//! CryptoNight's first and last steps around the scratchpad: the 200-byte Keccak state of
//! the input (monerod's `hash_process`, i.e. `keccak1600`: Keccak-f[1600] sponge, rate
//! 136 bytes, original Keccak padding 0x01 … 0x80, the whole state kept), and the final
//! hash, one of BLAKE-256, Grøstl-256, JH-256 or Skein-512-256 of the permuted state,
//! chosen by its first byte's two low bits (`extra_hashes[state.hs.b[0] & 3]`).
//!
//! Pure functions over byte slices.

use blake_hash::Digest as _;
use groestl::Digest as _; // digest 0.10, shared by groestl, jh and skein

/// Keccak-f[1600] state: 25 lanes, lane i holding bytes 8i..8i+8 little-endian.
pub(super) type KeccakState = [u64; 25];

/// Bytes absorbed per Keccak-f call: `HASH_DATA_AREA` in monerod's keccak.c.
const RATE_BYTES: usize = 136;

/// Bytes of the Keccak state (and of CryptoNight's `hash_state`).
pub(super) const STATE_BYTES: usize = 200;

/// The Keccak state after absorbing `data`: monerod's `keccak1600(data, len, state)`.
/// Its first 32 bytes are `cn_fast_hash(data)`.
pub(super) fn keccak1600(data: &[u8]) -> KeccakState {
    let mut state = [0u64; 25];
    let mut blocks = data.chunks_exact(RATE_BYTES);
    for block in &mut blocks {
        absorb(&mut state, block);
        keccak::f1600(&mut state);
    }
    let tail = blocks.remainder();
    let mut last = [0u8; RATE_BYTES];
    for (dst, src) in last.iter_mut().zip(tail) {
        *dst = *src;
    }
    // tail.len() < RATE_BYTES, so the 0x01 pad byte fits.
    if let Some(pad) = last.get_mut(tail.len()) {
        *pad = 0x01;
    }
    last[RATE_BYTES - 1] |= 0x80;
    absorb(&mut state, &last);
    keccak::f1600(&mut state);
    state
}

/// XORs one rate-sized block into the first 17 lanes.
fn absorb(state: &mut KeccakState, block: &[u8]) {
    for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
        *lane ^= super::aes_rounds::le_u64(bytes);
    }
}

/// The state as its 200 bytes.
pub(super) fn state_bytes(state: &KeccakState) -> [u8; STATE_BYTES] {
    let mut out = [0u8; STATE_BYTES];
    for (dst, lane) in out.chunks_exact_mut(8).zip(state) {
        dst.copy_from_slice(&lane.to_le_bytes());
    }
    out
}

/// Which hash finishes CryptoNight: chosen by the low two bits of the state's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FinalHash {
    /// BLAKE-256 (the SHA-3 finalist, 14 rounds), `hash_extra_blake`.
    Blake256,
    /// Grøstl-256, `hash_extra_groestl`.
    Groestl256,
    /// JH-256, `hash_extra_jh`.
    Jh256,
    /// Skein-512 with a 256-bit output, `hash_extra_skein`.
    Skein512_256,
}

impl FinalHash {
    /// The hash monerod picks for a permuted state whose first byte is `first_byte`.
    pub(super) fn for_state(first_byte: u8) -> Self {
        match first_byte & 3 {
            0 => Self::Blake256,
            1 => Self::Groestl256,
            2 => Self::Jh256,
            _ => Self::Skein512_256,
        }
    }

    /// This hash of `data`.
    pub(super) fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            Self::Blake256 => blake256(data),
            Self::Groestl256 => groestl::Groestl256::digest(data).into(),
            Self::Jh256 => jh::Jh256::digest(data).into(),
            Self::Skein512_256 => skein::Skein512::<skein::consts::U32>::digest(data).into(),
        }
    }
}

/// BLAKE-256 of `data` (also CryptoNight-R's random stream, `hash_extra_blake`).
pub(super) fn blake256(data: &[u8]) -> [u8; 32] {
    blake_hash::Blake256::digest(data).into()
}
