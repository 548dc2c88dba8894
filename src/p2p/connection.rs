//! One P2P connection as a sans-IO state machine.
//!
//! It owns the levin stream of one peer: the handshake (as initiator or responder),
//! timed syncs both ways, pings, support flags, the invokes in flight and every rule a
//! peer must keep. It never touches a socket or a clock: the owner feeds it bytes with
//! [`Connection::handle_bytes`] and the time with [`Connection::handle_timeout`], and
//! drains [`Connection::poll_transmit`], [`Connection::poll_event`] and
//! [`Connection::poll_timeout`]. A broken rule closes the machine with a [`PeerFault`].

use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;

use super::constants::{
    HANDSHAKE_TIMEOUT, IDLE_TIMEOUT, INVOKE_TIMEOUT, MAX_INVOKES_IN_FLIGHT, MAX_PEERS_IN_HANDSHAKE,
    PING_TIMEOUT, TIMED_SYNC_INTERVAL,
};
use super::PeerFault;
use crate::wire::epee::FieldLayout;
use crate::wire::levin::{Command, Header, LevinDecoder, Packet, RETURN_OK};
use crate::wire::limits::{MAX_PACKET, MAX_PACKET_BEFORE_HANDSHAKE};
use crate::wire::messages::{
    BasicNodeData, CoreSyncData, Empty, HandshakeRequest, HandshakeResponse, Message, MessageError,
    NetworkAddress, PeerListEntry, PingResponse, SupportFlagsResponse, TimedSyncRequest,
    TimedSyncResponse,
};

/// monerod's answer to an invoke of a command it has no handler for
/// (`LEVIN_ERROR_CONNECTION_HANDLER_NOT_DEFINED`).
const RETURN_HANDLER_NOT_DEFINED: i32 = -6;

/// `PING_OK_RESPONSE_STATUS_TEXT`.
const PING_OK: &[u8] = b"OK";

/// Who we are, as told in every handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalNode {
    /// The network id.
    pub network_id: [u8; 16],
    /// Our random peer id.
    pub peer_id: u64,
    /// Our P2P port (0 when hidden or not listening).
    pub my_port: u32,
    /// Our restricted RPC port (0: none advertised).
    pub rpc_port: u16,
    /// `P2P_SUPPORT_FLAGS`.
    pub support_flags: u32,
}

impl LocalNode {
    /// Our `basic_node_data`, written as monerod writes its own.
    pub fn node_data(&self) -> BasicNodeData {
        BasicNodeData {
            my_port: self.my_port,
            network_id: self.network_id,
            peer_id: self.peer_id,
            rpc_credits_per_hash: None,
            rpc_port: (self.rpc_port != 0).then_some(self.rpc_port),
            support_flags: Some(self.support_flags),
            layout: FieldLayout::CANONICAL,
        }
    }
}

/// Who opened the connection, and what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The peer connected to us.
    Inbound,
    /// We connected to the peer.
    Outbound,
    /// We connected only to check the peer listens (monerod's back-ping): a PING,
    /// its answer, and the connection ends.
    PingProbe,
}

/// What the owner learns from the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The handshake completed.
    Handshaked {
        /// The peer's node data.
        node: BasicNodeData,
        /// The peer's chain tip.
        sync: CoreSyncData,
    },
    /// The peer's chain tip, from a timed sync.
    CoreSync(CoreSyncData),
    /// Peers the peer shared (at most 250), for the address book.
    Peers(Vec<PeerListEntry>),
    /// The peer's support flags, learnt with REQUEST_SUPPORT_FLAGS.
    SupportFlags(u32),
    /// A cryptonote-protocol notification (2000s), for sync and relay.
    Protocol(Message),
    /// The answer to our PING.
    Pong {
        /// The peer id in the answer.
        peer_id: u64,
        /// Whether the status was "OK".
        ok: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Inbound, before the peer's handshake request.
    AwaitingHandshake,
    /// Outbound, our handshake request sent.
    HandshakeSent,
    /// Handshake done.
    Established,
    /// Ping probe sent.
    PingSent,
    /// Closed; see `fault`.
    Closed,
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Connection {
    direction: Direction,
    state: State,
    local: LocalNode,
    local_sync: CoreSyncData,
    shareable: Vec<PeerListEntry>,
    sent_addresses: HashSet<NetworkAddress>,
    decoder: LevinDecoder,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    awaiting: VecDeque<(Command, Instant)>,
    handshake_deadline: Option<Instant>,
    next_timed_sync: Option<Instant>,
    last_received: Instant,
    peer: Option<BasicNodeData>,
    fault: Option<PeerFault>,
    finished: bool,
}

impl Connection {
    fn new(direction: Direction, local: LocalNode, sync: CoreSyncData, now: Instant) -> Self {
        Connection {
            direction,
            state: State::AwaitingHandshake,
            local,
            local_sync: sync,
            shareable: Vec::new(),
            sent_addresses: HashSet::new(),
            decoder: LevinDecoder::new(MAX_PACKET_BEFORE_HANDSHAKE),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            awaiting: VecDeque::new(),
            handshake_deadline: Some(now + HANDSHAKE_TIMEOUT),
            next_timed_sync: None,
            last_received: now,
            peer: None,
            fault: None,
            finished: false,
        }
    }

    /// A connection we opened: the handshake request is queued at once.
    pub fn outbound(local: LocalNode, sync: CoreSyncData, now: Instant) -> Self {
        let mut c = Connection::new(Direction::Outbound, local, sync, now);
        c.state = State::HandshakeSent;
        let req = Message::HandshakeRequest(HandshakeRequest {
            node_data: c.local.node_data(),
            payload_data: c.local_sync.clone(),
            layout: FieldLayout::CANONICAL,
        });
        c.invoke(&req, now, HANDSHAKE_TIMEOUT);
        c
    }

    /// A connection the peer opened: we wait for its handshake request.
    pub fn inbound(local: LocalNode, sync: CoreSyncData, now: Instant) -> Self {
        Connection::new(Direction::Inbound, local, sync, now)
    }

    /// A back-ping: one PING on a fresh connection, nothing else.
    pub fn ping_probe(local: LocalNode, now: Instant) -> Self {
        let mut c = Connection::new(Direction::PingProbe, local, CoreSyncData::default(), now);
        c.state = State::PingSent;
        c.handshake_deadline = None;
        c.invoke(&Message::PingRequest(Empty), now, PING_TIMEOUT);
        c
    }

    /// Which way the connection goes.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Whether the handshake completed (and the connection is still open).
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Whether the connection is over (a fault, or a finished ping probe).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Why it closed, if a rule was broken or a timer ran out.
    pub fn fault(&self) -> Option<&PeerFault> {
        self.fault.as_ref()
    }

    /// The peer's node data once handshaken.
    pub fn peer(&self) -> Option<&BasicNodeData> {
        self.peer.as_ref()
    }

    /// Updates the chain tip we announce.
    pub fn set_local_sync(&mut self, sync: CoreSyncData) {
        self.local_sync = sync;
    }

    /// Sets the peers we share in handshake and timed-sync responses (the first 250 not
    /// yet sent on this connection are used, as monerod's `sent_addresses`).
    pub fn set_shareable_peers(&mut self, peers: Vec<PeerListEntry>) {
        self.shareable = peers;
    }

    /// Bytes to send, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Something the owner should know.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let idle = Some(self.last_received + IDLE_TIMEOUT);
        [
            self.handshake_deadline,
            self.awaiting.iter().map(|(_, d)| *d).min(),
            self.next_timed_sync,
            idle,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sends a cryptonote-protocol notification (only once established).
    pub fn send_notification(&mut self, m: &Message) -> bool {
        if self.state != State::Established || m.command().is_invoke() {
            return false;
        }
        self.transmit.push_back(m.to_packet(0));
        true
    }

    /// Queues a notification already encoded with [`Message::to_packet`] (the owner
    /// encoded it to learn its size, e.g. to budget it). Returns whether it was queued.
    pub fn send_encoded_notification(&mut self, packet: Vec<u8>) -> bool {
        if self.state != State::Established {
            return false;
        }
        self.transmit.push_back(packet);
        true
    }

    /// Closes the connection without blaming the peer (shutdown, node policy).
    pub fn close(&mut self) {
        self.state = State::Closed;
    }

    /// Feeds received bytes. An error means the connection is now closed and the
    /// fault says why; the owner drops the socket and scores the peer.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) -> Result<(), PeerFault> {
        if let Some(f) = &self.fault {
            return Err(f.clone());
        }
        if self.state == State::Closed {
            return Ok(());
        }
        self.last_received = now;
        let r = self
            .decoder
            .push(data)
            .map_err(PeerFault::from)
            .and_then(|()| {
                while self.state != State::Closed {
                    let Some(p) = self.decoder.next_packet()? else {
                        break;
                    };
                    self.on_packet(now, p)?;
                }
                Ok(())
            });
        r.map_err(|f| self.fail(f))
    }

    /// Runs the timers: handshake and invoke deadlines, idleness, the timed sync.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), PeerFault> {
        if let Some(f) = &self.fault {
            return Err(f.clone());
        }
        if self.state == State::Closed {
            return Ok(());
        }
        if self.handshake_deadline.is_some_and(|d| now >= d) {
            return Err(self.fail(PeerFault::HandshakeTimeout));
        }
        if let Some(&(cmd, _)) = self.awaiting.iter().find(|(_, d)| now >= *d) {
            return Err(self.fail(PeerFault::InvokeTimeout(cmd)));
        }
        if now >= self.last_received + IDLE_TIMEOUT {
            return Err(self.fail(PeerFault::Idle));
        }
        if self.next_timed_sync.is_some_and(|t| now >= t) {
            self.next_timed_sync = Some(now + TIMED_SYNC_INTERVAL);
            // As monerod's `m_in_timedsync`: one timed sync in flight at a time.
            if !self.awaiting.iter().any(|(c, _)| *c == Command::TimedSync) {
                let req = Message::TimedSyncRequest(TimedSyncRequest {
                    payload_data: self.local_sync.clone(),
                    layout: FieldLayout::CANONICAL,
                });
                self.invoke(&req, now, INVOKE_TIMEOUT);
            }
        }
        Ok(())
    }

    fn fail(&mut self, f: PeerFault) -> PeerFault {
        self.state = State::Closed;
        self.fault = Some(f.clone());
        f
    }

    fn invoke(&mut self, m: &Message, now: Instant, timeout: std::time::Duration) {
        if self.awaiting.len() >= MAX_INVOKES_IN_FLIGHT {
            return;
        }
        self.awaiting.push_back((m.command(), now + timeout));
        self.transmit.push_back(m.to_packet(0));
    }

    fn respond(&mut self, m: &Message) {
        self.transmit.push_back(m.to_packet(RETURN_OK));
    }

    fn on_packet(&mut self, now: Instant, p: Packet) -> Result<(), PeerFault> {
        let h = p.header;
        if h.is_response() {
            return self.on_response(now, &h, &p.body);
        }
        let Some(command) = Command::from_id(h.command) else {
            if h.have_to_return && self.state == State::Established {
                // monerod answers an unknown invoke with an error and carries on.
                let mut out = Vec::new();
                crate::wire::levin::encode_packet(
                    &Header::response(h.command, RETURN_HANDLER_NOT_DEFINED),
                    &[],
                    &mut out,
                );
                self.transmit.push_back(out);
                return Ok(());
            }
            return Err(PeerFault::UnknownNotification(h.command));
        };
        // Invokes must come as requests, notifications as notifications.
        if command.is_invoke() != h.have_to_return {
            return Err(PeerFault::Undecodable(MessageError::UnknownCommand(
                h.command,
            )));
        }
        let m = Message::decode(&h, &p.body)?;
        match (self.state, m) {
            (_, Message::HandshakeRequest(req)) => self.on_handshake_request(now, req),
            // A back-ping and a support-flags query need no handshake (monerod answers
            // both on any connection).
            (_, Message::PingRequest(_)) => {
                let resp = Message::PingResponse(PingResponse {
                    peer_id: self.local.peer_id,
                    status: Bytes::from_static(PING_OK),
                    layout: FieldLayout::CANONICAL,
                });
                self.respond(&resp);
                Ok(())
            }
            (_, Message::SupportFlagsRequest(_)) => {
                let resp = Message::SupportFlagsResponse(SupportFlagsResponse {
                    support_flags: self.local.support_flags,
                    layout: FieldLayout::CANONICAL,
                });
                self.respond(&resp);
                Ok(())
            }
            (State::Established, Message::TimedSyncRequest(req)) => {
                self.events.push_back(Event::CoreSync(req.payload_data));
                let resp = Message::TimedSyncResponse(TimedSyncResponse {
                    local_peerlist_new: self.peers_to_share(),
                    payload_data: self.local_sync.clone(),
                    layout: FieldLayout::CANONICAL,
                });
                self.respond(&resp);
                Ok(())
            }
            (State::Established, m) => {
                self.events.push_back(Event::Protocol(m));
                Ok(())
            }
            (_, m) => Err(PeerFault::BeforeHandshake(m.command())),
        }
    }

    fn on_handshake_request(
        &mut self,
        now: Instant,
        req: HandshakeRequest,
    ) -> Result<(), PeerFault> {
        match (self.direction, self.state) {
            (Direction::Inbound, State::AwaitingHandshake) => {}
            (Direction::Inbound, _) => return Err(PeerFault::SecondHandshake),
            _ => return Err(PeerFault::HandshakeOnOutbound),
        }
        self.check_peer(&req.node_data)?;
        let resp = Message::HandshakeResponse(HandshakeResponse {
            local_peerlist_new: self.peers_to_share(),
            node_data: self.local.node_data(),
            payload_data: self.local_sync.clone(),
            layout: FieldLayout::CANONICAL,
        });
        self.respond(&resp);
        self.established(now, req.node_data, req.payload_data);
        Ok(())
    }

    fn check_peer(&self, node: &BasicNodeData) -> Result<(), PeerFault> {
        if node.network_id != self.local.network_id {
            return Err(PeerFault::WrongNetwork);
        }
        if node.peer_id == self.local.peer_id {
            return Err(PeerFault::SelfConnection);
        }
        Ok(())
    }

    fn established(&mut self, now: Instant, node: BasicNodeData, sync: CoreSyncData) {
        self.state = State::Established;
        self.handshake_deadline = None;
        self.decoder.set_max_packet(MAX_PACKET);
        self.next_timed_sync = Some(now + TIMED_SYNC_INTERVAL);
        let flags = node.support_flags.unwrap_or(0);
        self.peer = Some(node.clone());
        self.events.push_back(Event::Handshaked { node, sync });
        if flags == 0 {
            self.invoke(&Message::SupportFlagsRequest(Empty), now, INVOKE_TIMEOUT);
        }
    }

    fn peers_to_share(&mut self) -> Vec<PeerListEntry> {
        let mut out = Vec::new();
        for p in &self.shareable {
            if out.len() >= MAX_PEERS_IN_HANDSHAKE {
                break;
            }
            if self.sent_addresses.insert(p.adr.clone()) {
                out.push(p.clone());
            }
        }
        out
    }

    fn on_response(&mut self, now: Instant, h: &Header, body: &Bytes) -> Result<(), PeerFault> {
        let expected = self.awaiting.front().map(|(c, _)| *c);
        let Some(command) = expected.filter(|c| c.id() == h.command) else {
            return Err(PeerFault::UnexpectedResponse(h.command));
        };
        self.awaiting.pop_front();
        if h.return_code < 0 {
            if command == Command::Handshake || self.direction == Direction::PingProbe {
                return Err(PeerFault::ErrorResponse {
                    command,
                    code: h.return_code,
                });
            }
            // monerod logs a failed timed sync or support-flags query and carries on.
            return Ok(());
        }
        match Message::decode(h, body)? {
            Message::HandshakeResponse(resp) => {
                if resp.local_peerlist_new.len() > MAX_PEERS_IN_HANDSHAKE {
                    return Err(PeerFault::TooManyPeers(resp.local_peerlist_new.len()));
                }
                self.check_peer(&resp.node_data)?;
                self.established(now, resp.node_data, resp.payload_data);
                if !resp.local_peerlist_new.is_empty() {
                    self.events.push_back(Event::Peers(resp.local_peerlist_new));
                }
            }
            Message::TimedSyncResponse(resp) => {
                if resp.local_peerlist_new.len() > MAX_PEERS_IN_HANDSHAKE {
                    return Err(PeerFault::TooManyPeers(resp.local_peerlist_new.len()));
                }
                self.events.push_back(Event::CoreSync(resp.payload_data));
                if !resp.local_peerlist_new.is_empty() {
                    self.events.push_back(Event::Peers(resp.local_peerlist_new));
                }
            }
            Message::SupportFlagsResponse(resp) => {
                if let Some(p) = &mut self.peer {
                    p.support_flags = Some(resp.support_flags);
                }
                self.events
                    .push_back(Event::SupportFlags(resp.support_flags));
            }
            Message::PingResponse(resp) => {
                self.events.push_back(Event::Pong {
                    peer_id: resp.peer_id,
                    ok: resp.status.as_ref() == PING_OK,
                });
                if self.direction == Direction::PingProbe {
                    self.finished = true;
                    self.state = State::Closed;
                }
            }
            // `decode` of a response only yields the four kinds above.
            other => return Err(PeerFault::UnexpectedResponse(other.command().id())),
        }
        Ok(())
    }
}
