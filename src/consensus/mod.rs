//! Consensus: the rules a block and a transaction must meet, as pure functions.
//!
//! Every rule is a small named function over monero-oxide types; the chain they are checked
//! against is a [`ChainContext`] (the store implements it in the node, [`MemoryChain`] in
//! tests and tools). Rules are keyed by hard-fork version ([`ConsensusNet`]) so the historical
//! eras can be added beside the current one. [`verify_block`] runs the ordered contextual
//! checks for one block; the crypto pool in [`crate::verify`] runs the expensive proofs of a
//! whole span in parallel around it.

pub mod block;
pub mod checkpoints;
pub mod constants;
pub mod context;
pub mod difficulty;
pub mod error;
pub mod fast_sync;
pub mod hardfork;
pub mod pow;
pub mod ring_sig;
pub mod tx;
pub mod verify;
pub mod weight;

pub use context::{BlockEffects, ChainContext, MemoryChain, OutputInfo, Overlay};
pub use error::{BlockError, TxError};
pub use hardfork::ConsensusNet;
pub use verify::{ring_digest, verify_block, BlockChecks, ProofJobs, ProvenTxs};
