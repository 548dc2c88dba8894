//! The streaming levin decoder.

use bytes::{Bytes, BytesMut};

use super::{
    Command, Header, LevinError, FLAG_BEGIN, FLAG_END, FLAG_REQUEST, FLAG_RESPONSE, HEADER_LEN,
    PROTOCOL_VERSION,
};
use crate::wire::limits::MAX_FRAGMENTS_PER_MESSAGE;

/// One complete levin message: its header and body. A message that arrived in
/// fragments carries the inner header and its body; `fragments` says how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The header.
    pub header: Header,
    /// The body (epee storage), a zero-copy slice of the input.
    pub body: Bytes,
    /// 0 for a packet sent whole, else the number of fragments it came in.
    pub fragments: usize,
}

impl Packet {
    /// The command, if it is a known one.
    pub fn command(&self) -> Option<Command> {
        Command::from_id(self.header.command)
    }

    /// The packet's bytes (header and body) as they would be sent whole.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        super::encode_packet(&self.header, &self.body, &mut out);
        out
    }
}

#[derive(Debug)]
enum State {
    Head,
    Body { header: Header, len: usize },
}

#[derive(Debug, Default)]
struct Reassembly {
    buf: Vec<u8>,
    count: usize,
}

/// A sans-IO levin decoder. Feed it bytes with [`LevinDecoder::push`], take packets with
/// [`LevinDecoder::next_packet`]; the result is the same however the input is split.
///
/// Follows monerod's `handle_recv`, tighter where monerod is lax:
/// - the signature is checked as soon as 8 bytes are in, as monerod;
/// - each body is capped by `min(packet cap, command cap)` before it is buffered, as
///   monerod; buffered bytes plus a message being reassembled stay under the packet cap;
/// - unlike monerod we refuse protocol versions other than 1, `have_to_return` bytes
///   other than 0/1, flag combinations monerod never writes, a fragment with no
///   beginning, more than [`MAX_FRAGMENTS_PER_MESSAGE`] fragments, and a reassembled
///   message whose inner header has a bad signature or is itself a fragment.
///
/// Noise packets (`BEGIN|END`, no request/response flag) are skipped and counted.
#[derive(Debug)]
pub struct LevinDecoder {
    buf: BytesMut,
    state: State,
    max_packet: usize,
    fragment: Option<Reassembly>,
    noise_packets: u64,
}

impl LevinDecoder {
    /// A decoder whose packet cap is `max_packet` (use
    /// [`MAX_PACKET_BEFORE_HANDSHAKE`](crate::wire::limits::MAX_PACKET_BEFORE_HANDSHAKE)
    /// until the handshake is done).
    pub fn new(max_packet: usize) -> Self {
        LevinDecoder {
            buf: BytesMut::new(),
            state: State::Head,
            max_packet,
            fragment: None,
            noise_packets: 0,
        }
    }

    /// Changes the packet cap (monerod raises it once the handshake completes).
    pub fn set_max_packet(&mut self, max_packet: usize) {
        self.max_packet = max_packet;
    }

    /// Noise packets skipped so far.
    pub fn noise_packets(&self) -> u64 {
        self.noise_packets
    }

    /// Bytes held: unparsed input plus a message being reassembled.
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.fragment.as_ref().map_or(0, |f| f.buf.len())
    }

    /// Whether the decoder sits between packets with nothing buffered.
    pub fn is_idle(&self) -> bool {
        self.buffered() == 0 && matches!(self.state, State::Head)
    }

    /// Errors unless the stream ended on a packet boundary.
    pub fn finish(&self) -> Result<(), LevinError> {
        if self.is_idle() {
            Ok(())
        } else {
            Err(LevinError::Truncated(self.buffered()))
        }
    }

    /// Appends received bytes. Refuses (as monerod does) when the bytes held would pass
    /// the packet cap plus one header.
    pub fn push(&mut self, data: &[u8]) -> Result<(), LevinError> {
        let held = self.buffered().saturating_add(data.len());
        if held > self.max_packet.saturating_add(HEADER_LEN) {
            return Err(LevinError::BufferOverflow(held));
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The next complete message, or `None` until more bytes arrive.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, LevinError> {
        loop {
            match self.state {
                State::Head => {
                    if self.buf.len() < HEADER_LEN {
                        if self.buf.len() >= 8 && self.buf[..8] != super::SIGNATURE.to_le_bytes() {
                            return Err(LevinError::BadSignature);
                        }
                        return Ok(None);
                    }
                    let mut raw = [0u8; HEADER_LEN];
                    raw.copy_from_slice(&self.buf[..HEADER_LEN]);
                    let (header, len) = Header::parse(&raw)?;
                    check_header(&header)?;
                    let cap = self
                        .max_packet
                        .min(Command::max_body_len_of(header.command));
                    let len = match usize::try_from(len) {
                        Ok(l) if l <= cap => l,
                        _ => {
                            return Err(LevinError::TooLarge {
                                command: header.command,
                                len,
                                cap,
                            })
                        }
                    };
                    let _ = self.buf.split_to(HEADER_LEN);
                    self.state = State::Body { header, len };
                }
                State::Body { header, len } => {
                    if self.buf.len() < len {
                        // Reserve what the declared body needs (already capped), so a
                        // large body is not copied over and over as it grows.
                        self.buf.reserve(len - self.buf.len());
                        return Ok(None);
                    }
                    let body = self.buf.split_to(len).freeze();
                    self.state = State::Head;
                    if let Some(p) = self.on_body(header, body)? {
                        return Ok(Some(p));
                    }
                }
            }
        }
    }

    fn on_body(&mut self, header: Header, body: Bytes) -> Result<Option<Packet>, LevinError> {
        if header.flags & (FLAG_REQUEST | FLAG_RESPONSE) != 0 {
            return Ok(Some(Packet {
                header,
                body,
                fragments: 0,
            }));
        }
        if header.flags & (FLAG_BEGIN | FLAG_END) == FLAG_BEGIN | FLAG_END {
            self.noise_packets += 1;
            return Ok(None);
        }
        if header.flags & FLAG_BEGIN != 0 {
            self.fragment = Some(Reassembly::default());
        }
        let frag = self
            .fragment
            .as_mut()
            .ok_or(LevinError::FragmentWithoutBegin)?;
        frag.count += 1;
        if frag.count > MAX_FRAGMENTS_PER_MESSAGE {
            return Err(LevinError::TooManyFragments(MAX_FRAGMENTS_PER_MESSAGE));
        }
        if frag.buf.len() + body.len() > self.max_packet {
            return Err(LevinError::TooLarge {
                command: 0,
                len: (frag.buf.len() + body.len()) as u64,
                cap: self.max_packet,
            });
        }
        frag.buf.extend_from_slice(&body);
        if header.flags & FLAG_END == 0 {
            return Ok(None);
        }
        let Some(Reassembly { buf, count }) = self.fragment.take() else {
            return Err(LevinError::FragmentWithoutBegin);
        };
        let Some((head, rest)) = buf.split_first_chunk::<HEADER_LEN>() else {
            return Err(LevinError::BadFragmentedMessage);
        };
        let (inner, inner_len) = Header::parse(head)?;
        check_header(&inner)?;
        if inner.flags & (FLAG_REQUEST | FLAG_RESPONSE) == 0 {
            return Err(LevinError::BadFragmentedMessage);
        }
        let cap = self.max_packet.min(Command::max_body_len_of(inner.command));
        let inner_len = match usize::try_from(inner_len) {
            Ok(l) if l <= rest.len() && l <= cap => l,
            Ok(l) if l <= rest.len() => {
                return Err(LevinError::TooLarge {
                    command: inner.command,
                    len: inner_len,
                    cap,
                })
            }
            _ => return Err(LevinError::BadFragmentedMessage),
        };
        // Copy out the inner body: the padding after it is dropped with `buf`.
        let body = Bytes::copy_from_slice(&rest[..inner_len]);
        Ok(Some(Packet {
            header: inner,
            body,
            fragments: count,
        }))
    }
}

/// The header rules monerod does not check but never breaks itself.
fn check_header(h: &Header) -> Result<(), LevinError> {
    if h.protocol_version != PROTOCOL_VERSION {
        return Err(LevinError::BadVersion(h.protocol_version));
    }
    let ok = matches!(
        h.flags,
        FLAG_REQUEST | FLAG_RESPONSE | 0 | FLAG_BEGIN | FLAG_END
    ) || h.flags == FLAG_BEGIN | FLAG_END;
    if !ok {
        return Err(LevinError::BadFlags(h.flags));
    }
    Ok(())
}
