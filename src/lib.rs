//! xmrd: a Monero node daemon.
//!
//! The library holds the node's layers; the `xmrd` binary ties them together. The wire
//! ([`wire`]) is the foundation: a sans-IO codec for portable storage, levin framing and
//! every P2P message.

pub mod chain;
pub mod chainfile;
pub mod consensus;
pub mod node;
pub mod p2p;
pub mod sync;
pub mod testdata;
pub mod verify;
pub mod wire;
