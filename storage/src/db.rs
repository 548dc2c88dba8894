//! Opening the RocksDB database: read-write (the committer's) or read-only (tools, also
//! while a node holds the store), the schema record, and the column-family lookup every
//! other module uses. Owns no chain logic.

use std::path::{Path, PathBuf};

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB};
use tracing::info;

use crate::config::{RocksOptions, StoreConfig};
use crate::error::{Result, StoreError};
use crate::records::ChainState;
use crate::records::{decode_chain_state, decode_schema, encode_chain_state, encode_schema};
use crate::schema::{self, ALL_CFS, CHAIN_STATE_KEY, DB_FORMAT_VERSION, SCHEMA_KEY};

/// The opened database and where it lives.
pub(crate) struct Db {
    pub(crate) rocks: DB,
    pub(crate) path: PathBuf,
    pub(crate) read_only: bool,
}

impl Db {
    /// Opens (creating when absent) for reading and writing; writes the schema record on a
    /// fresh store and refuses a store of another major schema version.
    pub(crate) fn open(path: &Path, cfg: &StoreConfig) -> Result<Self> {
        let opts = RocksOptions::new(cfg);
        let cfs = ALL_CFS
            .iter()
            .map(|spec| ColumnFamilyDescriptor::new(spec.name, opts.cf(spec, cfg)));
        let rocks = DB::open_cf_descriptors(&opts.db, path, cfs)?;
        let db = Self {
            rocks,
            path: path.to_path_buf(),
            read_only: false,
        };
        db.init_or_check_schema()?;
        Ok(db)
    }

    /// Opens read-only. RocksDB takes no lock for this, so it works while a node holds
    /// the store; it sees what the node had written when it was opened (WAL included).
    pub(crate) fn open_read_only(path: &Path, cfg: &StoreConfig) -> Result<Self> {
        if !path.join("CURRENT").exists() {
            return Err(StoreError::Inconsistent {
                path: path.to_path_buf(),
                what: "no chain store here (no RocksDB CURRENT file)".into(),
            });
        }
        let opts = RocksOptions::new(cfg);
        let cfs = ALL_CFS
            .iter()
            .map(|spec| ColumnFamilyDescriptor::new(spec.name, opts.cf(spec, cfg)));
        let rocks = DB::open_cf_descriptors_read_only(&opts.db, path, cfs, false)?;
        let db = Self {
            rocks,
            path: path.to_path_buf(),
            read_only: true,
        };
        db.init_or_check_schema()?;
        Ok(db)
    }

    pub(crate) fn cf(&self, name: &'static str) -> Result<&ColumnFamily> {
        self.rocks
            .cf_handle(name)
            .ok_or_else(|| StoreError::Inconsistent {
                path: self.path.clone(),
                what: format!("column family `{name}` is missing"),
            })
    }

    fn inconsistent(&self, what: impl Into<String>) -> StoreError {
        StoreError::Inconsistent {
            path: self.path.clone(),
            what: what.into(),
        }
    }

    fn init_or_check_schema(&self) -> Result<()> {
        let default = self.cf(schema::DEFAULT)?;
        match self.rocks.get_cf(default, SCHEMA_KEY)? {
            Some(v) => {
                let found = decode_schema(&v)?;
                if found.0 != DB_FORMAT_VERSION.0 {
                    let (a, b, c) = DB_FORMAT_VERSION;
                    return Err(StoreError::Schema {
                        found: format!("{}.{}.{}", found.0, found.1, found.2),
                        supported: format!("{a}.{b}.{c}"),
                    });
                }
                Ok(())
            }
            None => {
                // A fresh store, or one whose creation was interrupted before its first
                // batch: both hold no block. Anything else without a schema is refused.
                let headers = self.cf(schema::BLOCK_HEADERS)?;
                let mut it = self.rocks.raw_iterator_cf(headers);
                it.seek_to_first();
                it.status()?;
                if it.valid() || self.rocks.get_cf(default, CHAIN_STATE_KEY)?.is_some() {
                    return Err(self.inconsistent("blocks present but no schema record"));
                }
                if self.read_only {
                    return Err(self.inconsistent("empty store without a schema record"));
                }
                let mut batch = rocksdb::WriteBatch::default();
                batch.put_cf(default, SCHEMA_KEY, encode_schema());
                batch.put_cf(
                    default,
                    CHAIN_STATE_KEY,
                    encode_chain_state(&ChainState::default()),
                );
                let mut wo = rocksdb::WriteOptions::default();
                wo.set_sync(true);
                self.rocks.write_opt(batch, &wo)?;
                info!(path = %self.path.display(), "created an empty chain store");
                Ok(())
            }
        }
    }

    /// The chain-state record.
    pub(crate) fn chain_state(&self) -> Result<ChainState> {
        let default = self.cf(schema::DEFAULT)?;
        match self.rocks.get_cf(default, CHAIN_STATE_KEY)? {
            Some(v) => decode_chain_state(&v),
            None => Err(self.inconsistent("the chain-state record is missing")),
        }
    }

    /// The last key of a column family, if any.
    pub(crate) fn last_key(&self, name: &'static str) -> Result<Option<Box<[u8]>>> {
        let mut it = self.rocks.raw_iterator_cf(self.cf(name)?);
        it.seek_to_last();
        it.status()?;
        Ok(it.key().map(Box::from))
    }
}
