//! Proof of work. For the RandomX era (hard fork 12 and later): which block's id keys
//! RandomX at a height ([`seed_height`], [`seed_heights`]), whether a PoW hash meets a
//! difficulty ([`check_hash`]), and a RandomX hasher that worker threads share
//! ([`RandomXHasher`], run in a [`RandomXMode`]).
//!
//! Owns the process's RandomX caches, dataset and VMs. Never reads the chain: the caller
//! passes the seed (the id of the block at [`seed_height`]) and the hashing blob
//! (monero-oxide's `Block::serialize_pow_hash()`). Never to be called on a shard executor:
//! one hash costs 30–40 ms in light mode, so hashing belongs on the crypto worker pool.
//!
//! The CryptoNight eras (hard forks 1–11, block major versions 1–11) are in
//! [`cryptonight`]: [`cn_slow_hash`] in variants 0, 1, 2 and R, the variant for a major
//! version ([`cn_variant_for_major_version`]) and a reusable [`CnHasher`]. Same rules: no
//! chain access, worker pool only.

pub mod cryptonight;
mod difficulty;
mod longhash;
mod mode;
mod randomx;
mod seed;
mod shared;
#[cfg(test)]
mod tests;

pub use cryptonight::{cn_slow_hash, cn_variant_for_major_version, CnError, CnHasher, CnVariant};
pub use difficulty::check_hash;
pub use longhash::{cryptonight_longhash, LonghashError};
pub use mode::{
    mem_available_bytes, RandomXMode, AUTO_FAST_MEM_HEADROOM_BYTES, AUTO_FAST_MIN_BLOCKS_BEHIND,
    AUTO_FAST_MIN_MEM_AVAILABLE_BYTES, AUTO_FAST_NEAR_TIP_BLOCKS, RANDOMX_CACHE_BYTES,
    RANDOMX_DATASET_BYTES,
};
pub use randomx::{PowError, RandomXHasher, MAX_LIGHT_SEEDS};
pub use seed::{
    next_seed_height, seed_height, seed_heights, SEEDHASH_EPOCH_BLOCKS, SEEDHASH_EPOCH_LAG,
};
