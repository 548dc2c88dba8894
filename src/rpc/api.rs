//! The calls' shared state ([`Api`]) and the dispatch from a URI to its answer.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use hyper::StatusCode;

use crate::node::Shared;

/// monerod's RPC version (`CORE_RPC_VERSION_MAJOR` 3, `CORE_RPC_VERSION_MINOR` 10 in
/// v0.18.0.0, the version Debian ships and the tests run), as `get_version` reports it.
pub const CORE_RPC_VERSION: u32 = (3 << 16) | 10;
/// `CORE_RPC_STATUS_OK`.
pub const STATUS_OK: &str = "OK";
/// `CORE_RPC_STATUS_BUSY`: the node is syncing.
pub const STATUS_BUSY: &str = "BUSY";
/// What monerod puts in `status` when a call fails without a JSON-RPC error.
pub const STATUS_FAILED: &str = "Failed";

/// What the calls read: the node's shared state and the RPC's own settings.
pub struct Api {
    /// The node.
    pub shared: Arc<Shared>,
    /// `--restricted-rpc`: hide what monerod hides.
    pub restricted: bool,
    /// When the node started (seconds since the epoch), for `get_info`.
    pub start_time: u64,
    /// Open RPC connections (`rpc_connections_count`).
    pub open: Arc<AtomicUsize>,
    /// Caches of chain figures that cost a scan (tx count, metadata window), shared by
    /// the main and the restricted server.
    pub(super) cache: Arc<super::data::Cache>,
}

impl Api {
    /// The calls over `shared`, with the chain-figure caches `cache`.
    pub fn new(
        shared: Arc<Shared>,
        restricted: bool,
        open: Arc<AtomicUsize>,
        cache: Arc<super::data::Cache>,
    ) -> Self {
        let start_time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Api {
            shared,
            restricted,
            start_time,
            open,
            cache,
        }
    }
}

/// An answer, before HTTP.
#[derive(Debug)]
pub enum Answer {
    /// `200`, `application/json`.
    Json(Vec<u8>),
    /// `200`, `application/octet-stream` (portable storage).
    Binary(Vec<u8>),
    /// A bare status (404 for an unknown URI, 400 for a body that does not parse).
    Status(StatusCode),
}

/// Answers one request (blocking: reads the store, may wait for the sync thread).
pub fn dispatch(api: &Api, path: &str, body: &[u8]) -> Answer {
    if let Some(a) = super::bin::route(api, path, body) {
        return a;
    }
    if let Some(a) = super::json::route(api, path, body) {
        return a;
    }
    Answer::Status(StatusCode::NOT_FOUND)
}
