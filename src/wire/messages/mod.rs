//! Every message of the P2P and cryptonote protocols as a typed struct, and the
//! dispatch from a levin packet to the right one.

pub mod address;
pub mod p2p;
pub mod protocol;
pub mod rpc;

use bytes::Bytes;

pub use address::{Address, HostAddress, Ipv4Address, Ipv6Address, NetworkAddress};
pub use p2p::{
    BasicNodeData, CoreSyncData, Empty, HandshakeRequest, HandshakeResponse, PeerListEntry,
    PingResponse, SupportFlagsResponse, TimedSyncRequest, TimedSyncResponse,
};
pub use protocol::{
    BlockCompleteEntry, BlockTxs, ChainRequest, ChainResponse, FluffyMissingTxRequest,
    GetObjectsRequest, GetObjectsResponse, GetTxPoolComplement, NewBlock, NewFluffyBlock,
    NewTransactions, TxBlobEntry,
};

use crate::wire::epee::{self, EpeeError, EpeeObject};
use crate::wire::levin::{self, Command, Header, Packet};

/// Why a packet's body is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A command id no protocol defines.
    #[error("unknown command {0}")]
    UnknownCommand(u32),
    /// A response to a notification, which has none.
    #[error("{0:?} is a notification and has no response")]
    UnexpectedResponse(Command),
    /// The body does not decode.
    #[error("{command:?}: {source}")]
    Body {
        /// The command.
        command: Command,
        /// What was wrong.
        source: EpeeError,
    },
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// 1001 request.
    HandshakeRequest(HandshakeRequest),
    /// 1001 response.
    HandshakeResponse(HandshakeResponse),
    /// 1002 request.
    TimedSyncRequest(TimedSyncRequest),
    /// 1002 response.
    TimedSyncResponse(TimedSyncResponse),
    /// 1003 request.
    PingRequest(Empty),
    /// 1003 response.
    PingResponse(PingResponse),
    /// 1007 request.
    SupportFlagsRequest(Empty),
    /// 1007 response.
    SupportFlagsResponse(SupportFlagsResponse),
    /// 2001.
    NewBlock(NewBlock),
    /// 2002.
    NewTransactions(NewTransactions),
    /// 2003.
    GetObjectsRequest(GetObjectsRequest),
    /// 2004.
    GetObjectsResponse(GetObjectsResponse),
    /// 2006.
    ChainRequest(ChainRequest),
    /// 2007.
    ChainResponse(ChainResponse),
    /// 2008.
    NewFluffyBlock(NewFluffyBlock),
    /// 2009.
    FluffyMissingTxRequest(FluffyMissingTxRequest),
    /// 2010.
    GetTxPoolComplement(GetTxPoolComplement),
}

fn body<T: EpeeObject>(command: Command, b: &Bytes) -> Result<T, MessageError> {
    epee::from_bytes(b).map_err(|source| MessageError::Body { command, source })
}

fn check(command: Command, r: Result<(), EpeeError>) -> Result<(), MessageError> {
    r.map_err(|source| MessageError::Body { command, source })
}

impl Message {
    /// Decodes the body of a packet, chosen by its command and response flag.
    pub fn decode(header: &Header, b: &Bytes) -> Result<Message, MessageError> {
        let command =
            Command::from_id(header.command).ok_or(MessageError::UnknownCommand(header.command))?;
        let response = header.is_response();
        if response && !command.is_invoke() {
            return Err(MessageError::UnexpectedResponse(command));
        }
        use Command as C;
        Ok(match (command, response) {
            (C::Handshake, false) => Message::HandshakeRequest(body(command, b)?),
            (C::Handshake, true) => Message::HandshakeResponse(body(command, b)?),
            (C::TimedSync, false) => Message::TimedSyncRequest(body(command, b)?),
            (C::TimedSync, true) => Message::TimedSyncResponse(body(command, b)?),
            (C::Ping, false) => Message::PingRequest(body(command, b)?),
            (C::Ping, true) => Message::PingResponse(body(command, b)?),
            (C::SupportFlags, false) => Message::SupportFlagsRequest(body(command, b)?),
            (C::SupportFlags, true) => Message::SupportFlagsResponse(body(command, b)?),
            (C::NewBlock, _) => {
                let m: NewBlock = body(command, b)?;
                check(command, m.b.validate())?;
                Message::NewBlock(m)
            }
            (C::NewTransactions, _) => Message::NewTransactions(body(command, b)?),
            (C::GetObjectsRequest, _) => Message::GetObjectsRequest(body(command, b)?),
            (C::GetObjectsResponse, _) => {
                let m: GetObjectsResponse = body(command, b)?;
                for e in &m.blocks {
                    check(command, e.validate())?;
                }
                Message::GetObjectsResponse(m)
            }
            (C::ChainRequest, _) => Message::ChainRequest(body(command, b)?),
            (C::ChainResponse, _) => Message::ChainResponse(body(command, b)?),
            (C::NewFluffyBlock, _) => {
                let m: NewFluffyBlock = body(command, b)?;
                check(command, m.b.validate())?;
                Message::NewFluffyBlock(m)
            }
            (C::FluffyMissingTxRequest, _) => Message::FluffyMissingTxRequest(body(command, b)?),
            (C::GetTxPoolComplement, _) => Message::GetTxPoolComplement(body(command, b)?),
        })
    }

    /// Decodes a packet's body.
    pub fn from_packet(p: &Packet) -> Result<Message, MessageError> {
        Message::decode(&p.header, &p.body)
    }

    /// The command it belongs to.
    pub fn command(&self) -> Command {
        match self {
            Message::HandshakeRequest(_) | Message::HandshakeResponse(_) => Command::Handshake,
            Message::TimedSyncRequest(_) | Message::TimedSyncResponse(_) => Command::TimedSync,
            Message::PingRequest(_) | Message::PingResponse(_) => Command::Ping,
            Message::SupportFlagsRequest(_) | Message::SupportFlagsResponse(_) => {
                Command::SupportFlags
            }
            Message::NewBlock(_) => Command::NewBlock,
            Message::NewTransactions(_) => Command::NewTransactions,
            Message::GetObjectsRequest(_) => Command::GetObjectsRequest,
            Message::GetObjectsResponse(_) => Command::GetObjectsResponse,
            Message::ChainRequest(_) => Command::ChainRequest,
            Message::ChainResponse(_) => Command::ChainResponse,
            Message::NewFluffyBlock(_) => Command::NewFluffyBlock,
            Message::FluffyMissingTxRequest(_) => Command::FluffyMissingTxRequest,
            Message::GetTxPoolComplement(_) => Command::GetTxPoolComplement,
        }
    }

    /// Whether it is the response half of an invoke.
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Message::HandshakeResponse(_)
                | Message::TimedSyncResponse(_)
                | Message::PingResponse(_)
                | Message::SupportFlagsResponse(_)
        )
    }

    /// Appends the encoded body (epee storage) to `out`.
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Message::HandshakeRequest(m) => epee::write_to(m, out),
            Message::HandshakeResponse(m) => epee::write_to(m, out),
            Message::TimedSyncRequest(m) => epee::write_to(m, out),
            Message::TimedSyncResponse(m) => epee::write_to(m, out),
            Message::PingRequest(m) | Message::SupportFlagsRequest(m) => epee::write_to(m, out),
            Message::PingResponse(m) => epee::write_to(m, out),
            Message::SupportFlagsResponse(m) => epee::write_to(m, out),
            Message::NewBlock(m) => epee::write_to(m, out),
            Message::NewTransactions(m) => epee::write_to(m, out),
            Message::GetObjectsRequest(m) => epee::write_to(m, out),
            Message::GetObjectsResponse(m) => epee::write_to(m, out),
            Message::ChainRequest(m) => epee::write_to(m, out),
            Message::ChainResponse(m) => epee::write_to(m, out),
            Message::NewFluffyBlock(m) => epee::write_to(m, out),
            Message::FluffyMissingTxRequest(m) => epee::write_to(m, out),
            Message::GetTxPoolComplement(m) => epee::write_to(m, out),
        }
    }

    /// The encoded body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_body(&mut out);
        out
    }

    /// The whole packet as monerod frames it: invokes as requests, responses with
    /// `return_code`, notifications as notifications.
    pub fn to_packet(&self, return_code: i32) -> Vec<u8> {
        let header = if self.is_response() {
            Header::response(self.command().id(), return_code)
        } else if self.command().is_invoke() {
            Header::request(self.command().id())
        } else {
            Header::notify(self.command().id())
        };
        let mut out = vec![0u8; levin::HEADER_LEN];
        self.encode_body(&mut out);
        let mut head = Vec::with_capacity(levin::HEADER_LEN);
        header.write((out.len() - levin::HEADER_LEN) as u64, &mut head);
        out[..levin::HEADER_LEN].copy_from_slice(&head);
        out
    }
}

#[cfg(test)]
mod tests;
