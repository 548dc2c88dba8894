//! The on-disk layout: every column family, declared once in [`ALL_CFS`] with what it
//! holds and how writes treat it, and the fixed-width big-endian keys (so iteration
//! follows height). No serde on disk: values are the hand-written records of `records`.
//! Changing any key or value layout means bumping [`DB_FORMAT_VERSION`].

/// Schema version written in the `default` column family under the key `schema`
/// (semver: a different major is refused, a newer minor is read).
pub const DB_FORMAT_VERSION: (u16, u16, u16) = (1, 0, 0);

/// Key of the schema record in the `default` column family.
pub(crate) const SCHEMA_KEY: &[u8] = b"schema";
/// Key of the chain-state record (counts and top) in the `default` column family,
/// rewritten in the same batch as every push and pop.
pub(crate) const CHAIN_STATE_KEY: &[u8] = b"chain";

/// `default`: the schema record and the chain-state record. Update.
pub const DEFAULT: &str = "default";
/// Height → block hash ‖ previous hash ‖ serialized header. Create/Delete (pop).
pub const BLOCK_HEADERS: &str = "block_headers";
/// Block hash → height. Create/Delete.
pub const BLOCK_HEIGHTS: &str = "block_heights";
/// Height → block blob. Create/Delete.
pub const BLOCK_BLOBS: &str = "block_blobs";
/// Height → chain metadata (cumulative difficulty u128, weights, timestamp, coins
/// generated, hard-fork version, cumulative RingCT outputs, tx count). Create/Delete.
pub const BLOCK_META: &str = "block_meta";
/// (height, index) → pruned transaction blob. Create/Delete.
pub const TXS_PRUNED: &str = "txs_pruned";
/// (height, index) → prunable transaction blob; pruning drops this family. Create/Delete.
pub const TXS_PRUNABLE: &str = "txs_prunable";
/// Transaction hash → (height, index). Create/Delete.
pub const TX_INDEX: &str = "tx_index";
/// (height, index) → transaction record: hash, unlock time, output global indices, key
/// images (what a pop undoes). Create/Delete.
pub const TX_OUTPUTS: &str = "tx_outputs";
/// Global RingCT index → output (key, commitment, unlock time, height, tx). Create/Delete.
pub const OUTPUTS_RCT: &str = "outputs_rct";
/// (amount, index) → pre-RingCT output, same record. Create/Delete.
pub const OUTPUTS_PRE_RCT: &str = "outputs_pre_rct";
/// Spent key image → height of the block that spent it. Create/Delete.
pub const KEY_IMAGES: &str = "key_images";
/// Alternative block hash → height, metadata, blob and transaction blobs. Create/Delete.
pub const ALT_BLOCKS: &str = "alt_blocks";

/// One column family and whether its values are blobs worth compressing.
#[derive(Clone, Copy, Debug)]
pub struct CfSpec {
    /// Its name.
    pub name: &'static str,
    /// Values are blobs (compressed with the configured codec); otherwise hashes and
    /// small fixed records, which do not compress and are left uncompressed.
    pub blobs: bool,
}

/// Every column family of the store, in the order they are opened.
pub const ALL_CFS: &[CfSpec] = &[
    CfSpec {
        name: DEFAULT,
        blobs: false,
    },
    CfSpec {
        name: BLOCK_HEADERS,
        blobs: true,
    },
    CfSpec {
        name: BLOCK_HEIGHTS,
        blobs: false,
    },
    CfSpec {
        name: BLOCK_BLOBS,
        blobs: true,
    },
    CfSpec {
        name: BLOCK_META,
        blobs: true,
    },
    CfSpec {
        name: TXS_PRUNED,
        blobs: true,
    },
    CfSpec {
        name: TXS_PRUNABLE,
        blobs: true,
    },
    CfSpec {
        name: TX_INDEX,
        blobs: false,
    },
    CfSpec {
        name: TX_OUTPUTS,
        blobs: true,
    },
    CfSpec {
        name: OUTPUTS_RCT,
        blobs: true,
    },
    CfSpec {
        name: OUTPUTS_PRE_RCT,
        blobs: true,
    },
    CfSpec {
        name: KEY_IMAGES,
        blobs: false,
    },
    CfSpec {
        name: ALT_BLOCKS,
        blobs: true,
    },
];

/// Key of a height-keyed family: 8 bytes big-endian.
pub(crate) fn height_key(height: u64) -> [u8; 8] {
    height.to_be_bytes()
}

/// Key of a transaction: height (8 bytes) ‖ index in block (4 bytes), big-endian.
pub(crate) fn tx_key(height: u64, index: u32) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&height.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Key of a pre-RingCT output: amount ‖ index, both 8 bytes big-endian.
pub(crate) fn pre_rct_key(amount: u64, index: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&amount.to_be_bytes());
    k[8..].copy_from_slice(&index.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_height_then_index() {
        assert!(height_key(255) < height_key(256));
        assert!(tx_key(1, u32::MAX) < tx_key(2, 0));
        assert!(tx_key(7, 1) < tx_key(7, 2));
        assert!(pre_rct_key(10, u64::MAX) < pre_rct_key(11, 0));
    }

    #[test]
    fn column_family_names_are_unique() {
        let mut names: Vec<_> = ALL_CFS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_CFS.len());
    }
}
