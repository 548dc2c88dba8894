//! The chain store's errors: one enum, each variant saying what went wrong in the
//! store's own terms. Nothing here panics; data read from disk that does not decode
//! becomes [`StoreError::Corrupt`], a broken invariant [`StoreError::Inconsistent`].

use std::path::PathBuf;

/// Everything the chain store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB itself failed (I/O, a lock held by another process, corruption it found).
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// A value on disk does not decode as the record its column family holds.
    #[error("corrupt record in column family `{cf}`: {what}")]
    Corrupt {
        /// The column family the record was read from.
        cf: &'static str,
        /// What was wrong with it.
        what: String,
    },
    /// The store's invariants do not hold (see `check`); the store refuses to open.
    #[error("chain store at {path} fails its invariant check: {what}")]
    Inconsistent {
        /// The data directory.
        path: PathBuf,
        /// The first invariant found broken.
        what: String,
    },
    /// The data directory holds data of a schema this build cannot read.
    #[error("chain store schema {found} is not supported by this build (it reads {supported})")]
    Schema {
        /// The schema version found on disk.
        found: String,
        /// The schema version this build writes.
        supported: String,
    },
    /// A block to push does not extend the current top.
    #[error("block {hash} does not extend the top: its previous hash is {prev}, the top is {top}")]
    NotChild {
        /// The block's hash (hex).
        hash: String,
        /// Its previous-block hash (hex).
        prev: String,
        /// The store's top hash (hex).
        top: String,
    },
    /// The block, one of its transactions, or one of its key images is already in the chain.
    #[error("{what} {hash} is already in the chain")]
    Duplicate {
        /// "block", "transaction" or "key image".
        what: &'static str,
        /// Its hash (hex).
        hash: String,
    },
    /// `pop_blocks(n)` asked for more blocks than the chain holds.
    #[error("cannot pop {asked} blocks from a chain of {have}")]
    PopTooDeep {
        /// Blocks asked for.
        asked: u64,
        /// Blocks in the chain.
        have: u64,
    },
    /// A count or size does not fit the on-disk field that holds it.
    #[error("{0} does not fit its on-disk field")]
    TooLarge(&'static str),
    /// The committer thread could not be started.
    #[error("cannot start the committer thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The committer thread is gone (it stopped or panicked).
    #[error("the committer thread has stopped")]
    CommitterGone,
    /// The store was opened read-only and a write was asked for.
    #[error("the store is open read-only")]
    ReadOnly,
}

/// The result type of the chain store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Lower-case hex of a hash, for messages (the crate has no `hex` dependency).
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}
