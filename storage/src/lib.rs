//! The xmrd chain store: the main chain, its transactions, outputs, spent key images and
//! alternative blocks in RocksDB, written by exactly one committer thread and read
//! lock-free from any other. It knows nothing of the wire or of Monero's encoding: the
//! node hands it [`BlockWrite`] descriptions with every hash and index already extracted.
//!
//! ```text
//!  node ──BlockWrite span──▶ CommitHandle ─crossbeam─▶ committer thread ──WriteBatch──▶ RocksDB
//!                                                          │ (one per span, WAL on)        ▲
//!                                                          ▼                                │
//!  any thread ◀── ReadView (ArcSwap, lock-free) ◀── publish after the write    ChainReader (snapshots, multi_get)
//! ```
//!
//! The layout is in [`schema`]; durability and memory settings in [`StoreConfig`].

mod check;
mod committer;
mod config;
mod db;
mod error;
mod reader;
mod records;
pub mod schema;
mod types;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use arc_swap::ArcSwap;

pub use check::CheckReport;
pub use committer::{CommitHandle, Pending, Popped, COMMIT_BATCH_METRIC};
pub use config::{Compression, StoreConfig, WalSync};
pub use error::{Result, StoreError};
pub use reader::ChainReader;
pub use types::{
    AltBlock, BlockMeta, BlockWrite, Hash, KeyImage, OutputIndex, OutputKind, OutputRecord,
    OutputWrite, ReadView, StoredBlock, StoredTx, TxLocation, TxRecord, TxWrite,
};

/// Name of the store's directory under the node's data directory.
pub const CHAIN_DIR_NAME: &str = "chain";

/// The store directory of a data directory: `DATA_DIR/chain`, or `DATA_DIR` itself when
/// it already is a store (holds a RocksDB `CURRENT` file) and has no `chain/`.
pub fn chain_path(data_dir: &Path) -> PathBuf {
    let sub = data_dir.join(CHAIN_DIR_NAME);
    if !sub.exists() && data_dir.join("CURRENT").exists() {
        data_dir.to_path_buf()
    } else {
        sub
    }
}

/// An open chain store: the committer thread, a handle to feed it and a reader.
pub struct ChainStore {
    reader: ChainReader,
    committer: Option<CommitHandle>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ChainStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainStore")
            .field("view", &self.reader.view())
            .finish()
    }
}

impl ChainStore {
    /// Opens (or creates) the store in `dir`, checks its invariants (the full check when
    /// `config.full_check_on_open`) and starts the committer. A store that fails the check
    /// is refused with [`StoreError::Inconsistent`] naming the broken invariant.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<Self> {
        let db = Arc::new(db::Db::open(dir, config)?);
        let report = check::check(&db, config.full_check_on_open)?;
        tracing::info!(path = %dir.display(), blocks = report.blocks, full = report.full, "chain store open");
        let writer = write::Writer::new(Arc::clone(&db), config.wal_sync)?;
        let view = Arc::new(ArcSwap::from_pointee(writer.view()));
        let (handle, thread) = committer::spawn(writer, Arc::clone(&view), config.queue_len)?;
        Ok(Self {
            reader: ChainReader { db, view },
            committer: Some(handle),
            thread: Some(thread),
        })
    }

    /// A reader (clone it for other threads).
    pub fn reader(&self) -> ChainReader {
        self.reader.clone()
    }

    /// The committer's handle (clone it for other threads).
    pub fn committer(&self) -> CommitHandle {
        // Present until drop.
        self.committer
            .clone()
            .unwrap_or_else(|| unreachable!("committer taken before drop"))
    }

    /// Stops the committer after the commands already queued and waits for it (drop does
    /// the same); handles still held elsewhere then get [`StoreError::CommitterGone`].
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // Stop the thread even while clones of the handle live elsewhere.
        if let Some(c) = self.committer.take() {
            committer::shutdown(&c);
        }
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!("the committer thread panicked");
            }
        }
    }
}

impl Drop for ChainStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Size and entry count of one column family, as `db-info` prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfSize {
    /// Column family name.
    pub name: &'static str,
    /// Bytes of its SST files on disk.
    pub sst_bytes: u64,
    /// RocksDB's estimate of its live keys (SST and memtables).
    pub estimated_keys: u64,
}

/// What `db-info` reports about a store.
#[derive(Debug)]
pub struct DbInfo {
    /// Chain top as recorded.
    pub view: ReadView,
    /// Schema version on disk.
    pub schema: (u16, u16, u16),
    /// Per column family sizes.
    pub column_families: Vec<CfSize>,
    /// Bytes of WAL files (not yet flushed into SSTs).
    pub wal_bytes: u64,
    /// The invariant check's outcome.
    pub check: Result<CheckReport>,
}

/// Opens the store in `dir` read-only (also while a node holds it), reads its top, schema
/// and sizes, and runs the invariant check (`full`: every record).
pub fn inspect(dir: &Path, full: bool) -> Result<DbInfo> {
    let db = db::Db::open_read_only(dir, &StoreConfig::default())?;
    let view = db.chain_state()?.view;
    let schema_raw = db
        .rocks
        .get_cf(db.cf(schema::DEFAULT)?, schema::SCHEMA_KEY)?;
    let schema = match schema_raw {
        Some(v) => records::decode_schema(&v)?,
        None => (0, 0, 0),
    };
    let mut column_families = Vec::new();
    let live = db.rocks.live_files()?;
    for spec in schema::ALL_CFS {
        let sst_bytes = live
            .iter()
            .filter(|f| f.column_family_name == spec.name)
            .map(|f| f.size as u64)
            .sum();
        let estimated_keys = db
            .rocks
            .property_int_value_cf(db.cf(spec.name)?, "rocksdb.estimate-num-keys")?
            .unwrap_or(0);
        column_families.push(CfSize {
            name: spec.name,
            sst_bytes,
            estimated_keys,
        });
    }
    let wal_bytes = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    let check = check::check(&db, full);
    Ok(DbInfo {
        view,
        schema,
        column_families,
        wal_bytes,
        check,
    })
}
