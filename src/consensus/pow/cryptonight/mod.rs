//! CryptoNight, the proof of work of hard forks 1–11: monerod's `cn_slow_hash`
//! (`src/crypto/slow-hash.c`) in its variants 0 (the original), 1 ("v7"), 2 ("v8") and 4
//! (CryptoNight-R), written from the algorithm in pure Rust.
//!
//! One hash:
//! 1. Keccak state of the input, 200 bytes (`keccak_state`).
//! 2. Fill a 2 MiB scratchpad: bytes 64..192 of the state, ten AES rounds at a time with
//!    keys from bytes 0..32, chunk after chunk (`aes_rounds`).
//! 3. 2^19 iterations of two dependent steps over random scratchpad addresses: an AES
//!    round, then a 64×64-bit multiply (with the variants' tweaks below).
//! 4. Fold the scratchpad back into bytes 64..192 with keys from bytes 32..64, permute the
//!    state with Keccak-f, and finish with one of four hashes chosen by its first byte.
//!
//! Variant 1 tweaks one byte of each first-step write and XORs a value from the input's
//! bytes 35..43 into each second-step write, so it needs 43 bytes of input. Variant 2
//! shuffles the three neighbouring 16-byte blocks of each access and adds a division and
//! square root (`int_math`); variant 4 keeps the shuffle, drops that integer math and
//! runs a height-dependent random program instead (`random_math`).
//!
//! Never reads the chain and never touches a shard: a hash costs tens of milliseconds of
//! one core (measured by `benches/cryptonight.rs` on the 2-core development VM: ~30 ms for
//! variants 0 and 1, ~45 ms for 2, ~135 ms for R; the main loop waits on its two
//! dependent scratchpad loads per iteration, R on its interpreter), so hashing belongs on
//! the crypto worker pool, each worker keeping its own [`CnHasher`] (which owns the
//! scratchpad). Which variant a block uses is
//! [`cn_variant_for_major_version`]; monerod's hard-coded PoW of block 202612 is the
//! caller's business.

mod aes_rounds;
mod int_math;
mod keccak_state;
mod random_math;
#[cfg(test)]
mod tests;

use aes::Block8;

use self::aes_rounds::{from_bytes, le_u64, one_round, round_keys, ten_rounds, to_bytes};
use self::int_math::IntMath;
use self::keccak_state::{keccak1600, state_bytes, FinalHash, KeccakState};
use self::random_math::{Program, REGISTERS};

/// A 16-byte block as two little-endian u64s (bytes 0..8, then 8..16).
type Block128 = [u64; 2];

/// Size of the scratchpad (`MEMORY`): 2 MiB.
pub const CN_SCRATCHPAD_BYTES: usize = 1 << 21;

/// 16-byte blocks in the scratchpad.
const SCRATCHPAD_BLOCKS: usize = CN_SCRATCHPAD_BYTES / 16;

/// Main-loop iterations, each of two steps (`ITER / 2`).
const MAIN_LOOP_ITERATIONS: usize = 1 << 19;

/// Bytes of input variant 1 needs: it reads the eight bytes at 35..43 (`VARIANT1_CHECK`).
pub const CN_V1_MIN_INPUT_BYTES: usize = 43;

/// The first major version hashed with RandomX instead (`RX_BLOCK_VERSION`).
const RANDOMX_MAJOR_VERSION: u8 = 12;

/// A CryptoNight variant, as monerod numbers them in `cn_slow_hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CnVariant {
    /// Variant 0: the original CryptoNight (major versions 1–6).
    V0,
    /// Variant 1, CryptoNight v7 (major version 7). Needs at least 43 bytes of input.
    V1,
    /// Variant 2, CryptoNight v8 (major versions 8–9): shuffle, division and square root.
    V2,
    /// Variant 4, CryptoNight-R (major versions 10–11): shuffle and a random program
    /// chosen by the block height.
    R,
}

impl CnVariant {
    /// monerod's number for the variant (0, 1, 2, 4).
    pub fn monerod_number(self) -> u8 {
        match self {
            Self::V0 => 0,
            Self::V1 => 1,
            Self::V2 => 2,
            Self::R => 4,
        }
    }
}

/// Which CryptoNight variant hashes a block of `major_version`, or `None` from major
/// version 12 on (RandomX).
///
/// Mirrors monerod's `get_block_longhash` (`src/cryptonote_core/cryptonote_tx_utils.cpp`,
/// release-v0.18): below `RX_BLOCK_VERSION` (12) it calls `cn_slow_hash` with variant
/// `major_version >= 7 ? major_version - 6 : 0`, and `slow-hash.c` treats variant 3 as 2
/// and 5 as 4. So < 7 → V0, 7 → V1, 8 and 9 → V2, 10 and 11 → R.
pub fn cn_variant_for_major_version(major_version: u8) -> Option<CnVariant> {
    match major_version {
        0..=6 => Some(CnVariant::V0),
        7 => Some(CnVariant::V1),
        8 | 9 => Some(CnVariant::V2),
        10 | 11 => Some(CnVariant::R),
        RANDOMX_MAJOR_VERSION..=u8::MAX => None,
    }
}

/// Why a CryptoNight hash could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CnError {
    /// Variant 1 reads input bytes 35..43; monerod aborts on shorter input.
    #[error(
        "CryptoNight variant 1 needs at least {CN_V1_MIN_INPUT_BYTES} bytes of input, got {len}"
    )]
    InputTooShortForV1 {
        /// The input's length.
        len: usize,
    },
}

/// CryptoNight of `data` in `variant`; `height` is the block's height, used by
/// [`CnVariant::R`] only. Allocates a 2 MiB scratchpad per call: a worker that hashes
/// often keeps a [`CnHasher`] instead.
pub fn cn_slow_hash(data: &[u8], variant: CnVariant, height: u64) -> Result<[u8; 32], CnError> {
    CnHasher::new().hash(data, variant, height)
}

/// A CryptoNight hasher owning its 2 MiB scratchpad (and the last CryptoNight-R program),
/// for one thread at a time: each worker of a pool keeps one.
pub struct CnHasher {
    scratchpad: Box<[Block128; SCRATCHPAD_BLOCKS]>,
    /// The program for the last height hashed with [`CnVariant::R`].
    r_program: Option<(u64, Program)>,
}

impl std::fmt::Debug for CnHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CnHasher")
            .field("r_program_height", &self.r_program.as_ref().map(|(h, _)| h))
            .finish_non_exhaustive()
    }
}

impl Default for CnHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl CnHasher {
    /// A hasher with a zeroed scratchpad (allocated on the heap, never on the stack).
    pub fn new() -> Self {
        let blocks = vec![[0u64; 2]; SCRATCHPAD_BLOCKS].into_boxed_slice();
        let scratchpad = match blocks.try_into() {
            Ok(fixed) => fixed,
            Err(_) => unreachable!("the vector has exactly SCRATCHPAD_BLOCKS blocks"),
        };
        Self {
            scratchpad,
            r_program: None,
        }
    }

    /// CryptoNight of `data` in `variant` (monerod's `cn_slow_hash(data, len, hash,
    /// variant, 0, height)`); `height` matters to [`CnVariant::R`] only.
    pub fn hash(
        &mut self,
        data: &[u8],
        variant: CnVariant,
        height: u64,
    ) -> Result<[u8; 32], CnError> {
        if variant == CnVariant::V1 && data.len() < CN_V1_MIN_INPUT_BYTES {
            return Err(CnError::InputTooShortForV1 { len: data.len() });
        }
        let mut state = keccak1600(data);
        let bytes = state_bytes(&state);
        let init = Init::from_state(&state, data);

        let mut text = text_blocks(&state);
        explode(&mut self.scratchpad, &mut text, &key_at(&bytes, 0));

        match variant {
            CnVariant::V0 => main_loop::<V0>(&mut self.scratchpad, &init, None),
            CnVariant::V1 => main_loop::<V1>(&mut self.scratchpad, &init, None),
            CnVariant::V2 => main_loop::<V2>(&mut self.scratchpad, &init, None),
            CnVariant::R => {
                let program = match self.r_program.take() {
                    Some((h, p)) if h == height => p,
                    _ => random_math::generate(height),
                };
                main_loop::<R>(&mut self.scratchpad, &init, Some(&program));
                self.r_program = Some((height, program));
            }
        }

        let mut text = text_blocks(&state);
        implode(&self.scratchpad, &mut text, &key_at(&bytes, 32));
        store_text(&mut state, &text);
        keccak::f1600(&mut state);
        let bytes = state_bytes(&state);
        Ok(FinalHash::for_state(bytes[0]).hash(&bytes))
    }
}

/// The 32 bytes of the state at `offset`, an AES-256 key.
fn key_at(bytes: &[u8], offset: usize) -> [u8; 32] {
    let mut key = [0u8; 32];
    if let Some(src) = bytes.get(offset..offset + 32) {
        key.copy_from_slice(src);
    }
    key
}

/// Bytes 64..192 of the state (lanes 8..24) as eight AES blocks.
fn text_blocks(state: &KeccakState) -> Block8 {
    let mut text = Block8::default();
    for (i, block) in text.iter_mut().enumerate() {
        *block = to_bytes([state[8 + 2 * i], state[9 + 2 * i]]).into();
    }
    text
}

/// Writes the eight folded blocks back over lanes 8..24.
fn store_text(state: &mut KeccakState, text: &Block8) {
    for (i, block) in text.iter().enumerate() {
        let [lo, hi] = from_bytes((*block).into());
        state[8 + 2 * i] = lo;
        state[9 + 2 * i] = hi;
    }
}

/// Fills the scratchpad: the text, ten AES rounds per 128-byte chunk, each chunk the
/// previous one encrypted again.
fn explode(scratchpad: &mut [Block128; SCRATCHPAD_BLOCKS], text: &mut Block8, key: &[u8; 32]) {
    let keys = round_keys(key);
    for chunk in scratchpad.chunks_exact_mut(8) {
        ten_rounds(text, &keys);
        for (dst, block) in chunk.iter_mut().zip(text.iter()) {
            *dst = from_bytes((*block).into());
        }
    }
}

/// Folds the scratchpad into the text: XOR a chunk in, ten AES rounds, next chunk.
fn implode(scratchpad: &[Block128; SCRATCHPAD_BLOCKS], text: &mut Block8, key: &[u8; 32]) {
    let keys = round_keys(key);
    for chunk in scratchpad.chunks_exact(8) {
        for (block, src) in text.iter_mut().zip(chunk) {
            for (t, s) in block.iter_mut().zip(to_bytes(*src)) {
                *t ^= s;
            }
        }
        ten_rounds(text, &keys);
    }
}

/// The main loop's starting values, from the Keccak state (and the input, for variant 1).
struct Init {
    /// Lanes 0,1 XOR lanes 4,5.
    a: Block128,
    /// Lanes 2,3 XOR lanes 6,7.
    b: Block128,
    /// Variants 2 and 4: the b before b, lanes 8,9 XOR lanes 10,11.
    b_prev: Block128,
    /// Variant 2: lanes 12 and 13.
    int_math: IntMath,
    /// Variant 4: r0..r3 from bytes 96..112.
    registers: [u32; 4],
    /// Variant 1: lane 24 XOR input bytes 35..43.
    v1_tweak: u64,
}

impl Init {
    fn from_state(s: &KeccakState, data: &[u8]) -> Self {
        let registers = [
            low_u32(s[12]),
            high_u32(s[12]),
            low_u32(s[13]),
            high_u32(s[13]),
        ];
        Self {
            a: [s[0] ^ s[4], s[1] ^ s[5]],
            b: [s[2] ^ s[6], s[3] ^ s[7]],
            b_prev: [s[8] ^ s[10], s[9] ^ s[11]],
            int_math: IntMath {
                division: s[12],
                sqrt: s[13],
            },
            registers,
            v1_tweak: s[24] ^ le_u64(data.get(35..43).unwrap_or_default()),
        }
    }
}

fn low_u32(x: u64) -> u32 {
    u32::try_from(x & 0xFFFF_FFFF).unwrap_or(0)
}

fn high_u32(x: u64) -> u32 {
    u32::try_from(x >> 32).unwrap_or(0)
}

/// The variant, as a type for monomorphising the main loop.
trait Variant {
    const V1_TWEAKS: bool;
    const SHUFFLE: bool;
    const INT_MATH: bool;
    const RANDOM_MATH: bool;
}

struct V0;
struct V1;
struct V2;
struct R;

impl Variant for V0 {
    const V1_TWEAKS: bool = false;
    const SHUFFLE: bool = false;
    const INT_MATH: bool = false;
    const RANDOM_MATH: bool = false;
}
impl Variant for V1 {
    const V1_TWEAKS: bool = true;
    const SHUFFLE: bool = false;
    const INT_MATH: bool = false;
    const RANDOM_MATH: bool = false;
}
impl Variant for V2 {
    const V1_TWEAKS: bool = false;
    const SHUFFLE: bool = true;
    const INT_MATH: bool = true;
    const RANDOM_MATH: bool = false;
}
impl Variant for R {
    const V1_TWEAKS: bool = false;
    const SHUFFLE: bool = true;
    const INT_MATH: bool = false;
    const RANDOM_MATH: bool = true;
}

/// The block index a value addresses: its bits 4..21 (`e2i`).
#[inline(always)]
fn block_index(x: u64) -> usize {
    // Masked to 17 bits, so the cast never truncates.
    #[allow(clippy::cast_possible_truncation)]
    let i = ((x >> 4) as usize) & (SCRATCHPAD_BLOCKS - 1);
    i
}

#[inline(always)]
fn xor(x: Block128, y: Block128) -> Block128 {
    [x[0] ^ y[0], x[1] ^ y[1]]
}

#[inline(always)]
fn add(x: Block128, y: Block128) -> Block128 {
    [x[0].wrapping_add(y[0]), x[1].wrapping_add(y[1])]
}

/// Variant 2's shuffle (`VARIANT2_SHUFFLE_ADD`): the three other blocks of the 64-byte
/// line around block `j` rotate, each plus one of `b_prev`, `b`, `a`. Variant 4 also
/// XORs their old values into `out`.
#[inline(always)]
fn shuffle<V: Variant>(
    sp: &mut [Block128; SCRATCHPAD_BLOCKS],
    j: usize,
    a: Block128,
    b: Block128,
    b_prev: Block128,
    out: &mut Block128,
) {
    let (j1, j2, j3) = (j ^ 1, j ^ 2, j ^ 3);
    let chunk1 = sp[j1];
    let chunk2 = sp[j2];
    let chunk3 = sp[j3];
    sp[j1] = add(chunk3, b_prev);
    sp[j2] = add(chunk1, b);
    sp[j3] = add(chunk2, a);
    if V::RANDOM_MATH {
        *out = xor(*out, xor(chunk1, xor(chunk2, chunk3)));
    }
}

/// Variant 1's tweak of byte 11 of each first-step write (`VARIANT1_1`).
#[inline(always)]
fn v1_tweak_byte_11(block: &mut Block128) {
    let byte = (block[1] >> 24) & 0xFF;
    let index = (((byte >> 3) & 6) | (byte & 1)) << 1;
    block[1] ^= ((0x75310u64 >> index) & 0x30) << 24;
}

/// The 2^19 iterations over the scratchpad.
fn main_loop<V: Variant>(
    sp: &mut [Block128; SCRATCHPAD_BLOCKS],
    init: &Init,
    program: Option<&Program>,
) {
    let (mut a, mut b, mut b_prev) = (init.a, init.b, init.b_prev);
    let mut int_math = init.int_math;
    let mut r = [0u32; REGISTERS];
    r[..4].copy_from_slice(&init.registers);

    for _ in 0..MAIN_LOOP_ITERATIONS {
        // Step 1: one AES round of the block at a, keyed by a.
        let j = block_index(a[0]);
        let mut c = one_round(sp[j], a);
        if V::SHUFFLE {
            shuffle::<V>(sp, j, a, b, b_prev, &mut c);
        }
        let mut written = xor(b, c);
        if V::V1_TWEAKS {
            v1_tweak_byte_11(&mut written);
        }
        sp[j] = written;

        // Step 2: multiply by the block at c.
        let j = block_index(c[0]);
        let mut d = sp[j];
        let mut a_next = a;
        if V::INT_MATH {
            int_math.step(&mut d[0], c);
        }
        if V::RANDOM_MATH {
            d[0] ^= u64::from(r[0].wrapping_add(r[1])) | (u64::from(r[2].wrapping_add(r[3])) << 32);
            r[4] = low_u32(a[0]);
            r[5] = low_u32(a[1]);
            r[6] = low_u32(b[0]);
            r[7] = low_u32(b_prev[0]);
            r[8] = low_u32(b_prev[1]);
            if let Some(p) = program {
                p.run(&mut r);
            }
            a_next[0] ^= u64::from(r[2]) | (u64::from(r[3]) << 32);
            a_next[1] ^= u64::from(r[0]) | (u64::from(r[1]) << 32);
        }
        let product = u128::from(c[0]) * u128::from(d[0]);
        #[allow(clippy::cast_possible_truncation)] // the low half, on purpose
        let mut mul = [(product >> 64) as u64, product as u64];
        if V::INT_MATH {
            sp[j ^ 1] = xor(sp[j ^ 1], mul);
            mul = xor(mul, sp[j ^ 2]);
        }
        if V::SHUFFLE {
            shuffle::<V>(sp, j, a, b, b_prev, &mut c);
        }
        let sum = add(a_next, mul);
        let mut written = sum;
        if V::V1_TWEAKS {
            written[1] ^= init.v1_tweak;
        }
        sp[j] = written;
        a = xor(sum, d);
        b_prev = b;
        b = c;
    }
}
