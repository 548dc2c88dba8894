//! The net node: per-connection protocol state machines, faults and bans, the address
//! book. Sans-IO: the shards runtime drives it with bytes and time.

pub mod address_book;
pub mod connection;
pub mod constants;
pub mod fault;
pub mod network;

pub use connection::{Connection, Direction, Event, LocalNode};
pub use fault::PeerFault;
pub use network::Network;

#[cfg(test)]
mod tests;
