//! The wire: portable storage (epee), levin framing and every P2P message.
//!
//! Sans-IO and self-contained: bytes in, typed messages out, and back, byte-exact with
//! monerod. Depends on nothing else of xmrd; nothing here blocks, sleeps or touches a
//! socket, and nothing a peer sends can make it panic or allocate beyond a small
//! multiple of what it sent.

pub mod epee;
pub mod levin;
pub mod limits;
pub mod messages;
