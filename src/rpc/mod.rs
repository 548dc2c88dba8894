//! The daemon RPC that wallets use (monerod's `core_rpc_server`): HTTP/1.1 on the
//! shards (hyper over glommio, rustls optional), JSON-RPC 2.0 at `/json_rpc`, the JSON
//! endpoints and the binary (portable storage) `.bin` endpoints, with monerod 0.18's
//! field names, types, status strings and error codes.
//!
//! It owns the HTTP connections and the answers; it never writes the chain or the pool:
//! reads go to the store's lock-free read side on a blocking helper thread, pool
//! snapshots and submitted transactions go to the sync thread as [`calls::RpcCall`]s.
//! Request bodies are untrusted: bounded in size ([`limits`]), parsed without panics
//! (serde_json for JSON, the wire's bounded epee decoder for `.bin`).

#[cfg(feature = "node")]
mod api;
#[cfg(feature = "node")]
mod archive_json;
pub mod auth;
#[cfg(feature = "node")]
pub mod bin;
#[cfg(feature = "node")]
pub mod calls;
#[cfg(feature = "node")]
pub mod data;
#[cfg(feature = "node")]
pub mod json;
#[cfg(feature = "node")]
pub mod limits;
#[cfg(feature = "node")]
pub mod mining;
#[cfg(feature = "node")]
mod peers;
#[cfg(feature = "node")]
pub mod server;
#[cfg(feature = "node")]
pub mod tls;
#[cfg(feature = "node")]
pub mod txs;

#[cfg(feature = "node")]
pub use api::*;
