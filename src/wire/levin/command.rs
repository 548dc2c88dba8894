//! Command ids and the per-command body caps monerod applies.

use crate::wire::limits;

/// Every command of the P2P (1000s) and cryptonote (2000s) protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Command {
    /// `COMMAND_HANDSHAKE` (invoke).
    Handshake = 1001,
    /// `COMMAND_TIMED_SYNC` (invoke).
    TimedSync = 1002,
    /// `COMMAND_PING` (invoke).
    Ping = 1003,
    /// `COMMAND_REQUEST_SUPPORT_FLAGS` (invoke).
    SupportFlags = 1007,
    /// `NOTIFY_NEW_BLOCK`.
    NewBlock = 2001,
    /// `NOTIFY_NEW_TRANSACTIONS`.
    NewTransactions = 2002,
    /// `NOTIFY_REQUEST_GET_OBJECTS`.
    GetObjectsRequest = 2003,
    /// `NOTIFY_RESPONSE_GET_OBJECTS`.
    GetObjectsResponse = 2004,
    /// `NOTIFY_REQUEST_CHAIN`.
    ChainRequest = 2006,
    /// `NOTIFY_RESPONSE_CHAIN_ENTRY`.
    ChainResponse = 2007,
    /// `NOTIFY_NEW_FLUFFY_BLOCK`.
    NewFluffyBlock = 2008,
    /// `NOTIFY_REQUEST_FLUFFY_MISSING_TX`.
    FluffyMissingTxRequest = 2009,
    /// `NOTIFY_GET_TXPOOL_COMPLEMENT`.
    GetTxPoolComplement = 2010,
}

impl Command {
    /// All commands, in id order.
    pub const ALL: [Command; 13] = [
        Command::Handshake,
        Command::TimedSync,
        Command::Ping,
        Command::SupportFlags,
        Command::NewBlock,
        Command::NewTransactions,
        Command::GetObjectsRequest,
        Command::GetObjectsResponse,
        Command::ChainRequest,
        Command::ChainResponse,
        Command::NewFluffyBlock,
        Command::FluffyMissingTxRequest,
        Command::GetTxPoolComplement,
    ];

    /// The command with this id, if it is one.
    pub fn from_id(id: u32) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.id() == id)
    }

    /// The wire id.
    pub const fn id(self) -> u32 {
        self as u32
    }

    /// monerod's name for it.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Handshake => "HANDSHAKE",
            Command::TimedSync => "TIMED_SYNC",
            Command::Ping => "PING",
            Command::SupportFlags => "REQUEST_SUPPORT_FLAGS",
            Command::NewBlock => "NOTIFY_NEW_BLOCK",
            Command::NewTransactions => "NOTIFY_NEW_TRANSACTIONS",
            Command::GetObjectsRequest => "NOTIFY_REQUEST_GET_OBJECTS",
            Command::GetObjectsResponse => "NOTIFY_RESPONSE_GET_OBJECTS",
            Command::ChainRequest => "NOTIFY_REQUEST_CHAIN",
            Command::ChainResponse => "NOTIFY_RESPONSE_CHAIN_ENTRY",
            Command::NewFluffyBlock => "NOTIFY_NEW_FLUFFY_BLOCK",
            Command::FluffyMissingTxRequest => "NOTIFY_REQUEST_FLUFFY_MISSING_TX",
            Command::GetTxPoolComplement => "NOTIFY_GET_TXPOOL_COMPLEMENT",
        }
    }

    /// Whether it is an invoke (request/response) rather than a notification.
    pub const fn is_invoke(self) -> bool {
        matches!(
            self,
            Command::Handshake | Command::TimedSync | Command::Ping | Command::SupportFlags
        )
    }

    /// The largest body monerod accepts for it (`get_max_bytes` in
    /// `src/cryptonote_basic/connection_context.cpp`).
    pub const fn max_body_len(self) -> usize {
        match self {
            Command::Handshake => limits::MAX_HANDSHAKE_BYTES,
            Command::TimedSync => limits::MAX_TIMED_SYNC_BYTES,
            Command::Ping => limits::MAX_PING_BYTES,
            Command::SupportFlags => limits::MAX_SUPPORT_FLAGS_BYTES,
            Command::NewBlock => limits::MAX_NEW_BLOCK_BYTES,
            Command::NewTransactions => limits::MAX_NEW_TRANSACTIONS_BYTES,
            Command::GetObjectsRequest => limits::MAX_GET_OBJECTS_REQUEST_BYTES,
            Command::GetObjectsResponse => limits::MAX_GET_OBJECTS_RESPONSE_BYTES,
            Command::ChainRequest => limits::MAX_CHAIN_REQUEST_BYTES,
            Command::ChainResponse => limits::MAX_CHAIN_RESPONSE_BYTES,
            Command::NewFluffyBlock => limits::MAX_FLUFFY_BLOCK_BYTES,
            Command::FluffyMissingTxRequest => limits::MAX_FLUFFY_MISSING_TX_BYTES,
            Command::GetTxPoolComplement => limits::MAX_TXPOOL_COMPLEMENT_BYTES,
        }
    }

    /// The cap for any command id: unknown ids are bounded only by the packet cap, as
    /// in monerod (the node then refuses the command itself).
    pub fn max_body_len_of(id: u32) -> usize {
        Command::from_id(id).map_or(usize::MAX, Command::max_body_len)
    }
}
