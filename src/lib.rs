//! xmrd: a Monero node daemon.
//!
//! The library holds the node's layers; the `xmrd` binary ties them together. The wire
//! ([`wire`]) is the foundation: a sans-IO codec for portable storage, levin framing and
//! every P2P message.

// `serde_json::json!` of the RPC's widest answers (`get_info`'s 43 fields) nests deeper
// than the default 128.
#![recursion_limit = "256"]

#[cfg(feature = "node")]
pub mod chain;
#[cfg(feature = "node")]
pub mod chainfile;
#[cfg(feature = "node")]
pub mod consensus;
#[cfg(feature = "node")]
pub mod metrics;
#[cfg(feature = "node")]
pub mod node;
pub mod p2p;
pub mod rpc;
#[cfg(feature = "node")]
pub mod sync;
pub mod testdata;
pub mod txpool;
#[cfg(feature = "node")]
pub mod verify;
pub mod wire;
