//! The proof-of-work hash of a block from the CryptoNight eras (hard forks 1–11),
//! monerod's `get_block_longhash` before RandomX: CryptoNight in the variant of the
//! block's major version, and the constant hash monerod gives block 202612
//! ([`crate::consensus::block::pow_hash_override`]).

use std::cell::RefCell;

use super::cryptonight::{cn_variant_for_major_version, CnError, CnHasher};
use crate::consensus::block::{hashing_blob_id, pow_hash_override};

thread_local! {
    /// One scratchpad (2 MiB) per thread that hashes, reused for every block.
    static HASHER: RefCell<CnHasher> = RefCell::new(CnHasher::new());
}

/// Why a CryptoNight-era PoW hash could not be computed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LonghashError {
    /// The major version is of the RandomX era (12 and later).
    #[error("major version {0} is not a CryptoNight era")]
    NotCryptoNight(u8),
    /// CryptoNight refused the blob.
    #[error(transparent)]
    Cn(#[from] CnError),
}

/// The PoW hash of a block of `major_version` (below 12) at `height` from its hashing
/// blob (`Block::serialize_pow_hash()`).
pub fn cryptonight_longhash(
    height: u64,
    major_version: u8,
    hashing_blob: &[u8],
) -> Result<[u8; 32], LonghashError> {
    if let Some(h) = pow_hash_override(height, &hashing_blob_id(hashing_blob)) {
        return Ok(h);
    }
    let variant = cn_variant_for_major_version(major_version)
        .ok_or(LonghashError::NotCryptoNight(major_version))?;
    HASHER
        .with(|h| match h.try_borrow_mut() {
            Ok(mut h) => h.hash(hashing_blob, variant, height),
            // Only re-entered if hashing called itself: use a fresh scratchpad.
            Err(_) => CnHasher::new().hash(hashing_blob, variant, height),
        })
        .map_err(LonghashError::from)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn longhash_refuses_randomx_eras_and_hashes_cryptonight_ones() {
        assert_eq!(
            cryptonight_longhash(2_000_000, 12, &[0u8; 76]),
            Err(LonghashError::NotCryptoNight(12))
        );
        let blob = [7u8; 76];
        let v0 = cryptonight_longhash(10, 1, &blob).unwrap();
        assert_eq!(
            v0,
            super::super::cn_slow_hash(&blob, super::super::CnVariant::V0, 10).unwrap()
        );
        assert_ne!(
            v0,
            cryptonight_longhash(10, 7, &blob).unwrap(),
            "v1 differs"
        );
    }
}
