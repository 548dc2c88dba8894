//! Store configuration: memory bounds (block cache and memtables, together ≤ 256 MiB by
//! default), compression, WAL durability and the committer's queue length. Turns a
//! [`StoreConfig`] into RocksDB options; owns no state.

use rocksdb::{BlockBasedOptions, Cache, DBCompressionType, Options, WriteBufferManager};

use crate::schema::CfSpec;

/// MiB, for the defaults below.
const MIB: usize = 1 << 20;

/// Compression of the blob column families (the others hold hashes and are never
/// compressed: random bytes do not shrink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// LZ4: fast, small gain.
    Lz4,
    /// Zstandard (level 3 on the bottom level): slower, best ratio.
    Zstd,
}

impl Compression {
    fn rocks(self) -> DBCompressionType {
        match self {
            Compression::None => DBCompressionType::None,
            Compression::Lz4 => DBCompressionType::Lz4,
            Compression::Zstd => DBCompressionType::Zstd,
        }
    }
}

/// When a commit's WAL record reaches the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalSync {
    /// `fsync` the WAL before a commit is reported: a reported block survives a process
    /// kill and a power loss. Costs one fsync per commit (per block, or per span when the
    /// node commits spans).
    EveryCommit,
    /// The WAL record is written to the OS before a commit is reported, but not synced:
    /// a reported block survives `kill -9` (the kernel holds the bytes), while a power
    /// loss may lose the last few seconds of commits. Recovery still yields a consistent
    /// prefix of commits, never a partial block.
    OsBuffered,
}

/// Chain store configuration.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Block cache (data, index and filter blocks), bytes.
    pub block_cache_bytes: usize,
    /// Total memtable budget across all column families, bytes (a RocksDB write buffer
    /// manager enforces it).
    pub memtable_budget_bytes: usize,
    /// Compression of the blob column families.
    pub compression: Compression,
    /// WAL durability of each commit.
    pub wal_sync: WalSync,
    /// Commands the committer's queue holds before senders wait.
    pub queue_len: usize,
    /// Run the full invariant check (every record) on open instead of the quick one.
    pub full_check_on_open: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            block_cache_bytes: 192 * MIB,
            memtable_budget_bytes: 64 * MIB,
            compression: Compression::Lz4,
            wal_sync: WalSync::EveryCommit,
            queue_len: 64,
            full_check_on_open: false,
        }
    }
}

/// RocksDB options built once per open: every column family shares one block cache and
/// one write buffer manager (the `rocksdb` crate keeps both alive with the database).
pub(crate) struct RocksOptions {
    pub(crate) db: Options,
    table: BlockBasedOptions,
    wbm: WriteBufferManager,
}

impl RocksOptions {
    pub(crate) fn new(cfg: &StoreConfig) -> Self {
        let cache = Cache::new_lru_cache(cfg.block_cache_bytes);
        let wbm = WriteBufferManager::new_write_buffer_manager(cfg.memtable_budget_bytes, false);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        // Index and filter blocks live in the cache, so the cache bound is the bound.
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        let mut db = Options::default();
        db.create_if_missing(true);
        db.create_missing_column_families(true);
        db.set_write_buffer_manager(&wbm);
        db.set_max_total_wal_size(u64::try_from(cfg.memtable_budget_bytes).unwrap_or(u64::MAX));
        db.set_max_background_jobs(2);
        db.set_bytes_per_sync(MIB as u64);
        Self { db, table, wbm }
    }

    /// Options of one column family.
    pub(crate) fn cf(&self, spec: &CfSpec, cfg: &StoreConfig) -> Options {
        let mut o = self.db.clone();
        o.set_block_based_table_factory(&self.table);
        o.set_write_buffer_manager(&self.wbm);
        o.set_write_buffer_size((cfg.memtable_budget_bytes / 4).max(MIB));
        o.set_max_write_buffer_number(2);
        o.set_level_compaction_dynamic_level_bytes(true);
        if spec.blobs {
            o.set_compression_type(cfg.compression.rocks());
            o.set_bottommost_compression_type(cfg.compression.rocks());
        } else {
            o.set_compression_type(DBCompressionType::None);
            o.set_bottommost_compression_type(DBCompressionType::None);
        }
        o
    }
}
