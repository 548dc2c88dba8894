//! Levin framing: the 33-byte bucket header, the per-command size caps, fragments and
//! noise, and a streaming decoder that gives the same packets however the bytes are cut.
//!
//! Sans-IO: bytes in, [`Packet`]s out. Mirrors monerod's
//! `contrib/epee/include/net/levin_protocol_handler_async.h` (`handle_recv`) and
//! `contrib/epee/src/levin_base.cpp`, tighter where monerod is lax (see
//! [`LevinDecoder`]).

mod command;
mod decoder;
mod header;

pub use command::Command;
pub use decoder::{LevinDecoder, Packet};
pub use header::{Header, LevinError};

use crate::wire::limits::MAX_FRAGMENTS_PER_MESSAGE;

/// The bucket signature, "Bender's nightmare" (`LEVIN_SIGNATURE`).
pub const SIGNATURE: u64 = 0x0101_0101_0101_2101;
/// Bytes in a bucket header (`sizeof(bucket_head2)`).
pub const HEADER_LEN: usize = 33;
/// The protocol version every monerod since 2014 writes (`LEVIN_PROTOCOL_VER_1`).
pub const PROTOCOL_VERSION: u32 = 1;

/// An invoke (request) or a notification (`LEVIN_PACKET_REQUEST`).
pub const FLAG_REQUEST: u32 = 0x1;
/// A response to an invoke (`LEVIN_PACKET_RESPONSE`).
pub const FLAG_RESPONSE: u32 = 0x2;
/// First fragment of a fragmented message (`LEVIN_PACKET_BEGIN`).
pub const FLAG_BEGIN: u32 = 0x4;
/// Last fragment (`LEVIN_PACKET_END`); with `FLAG_BEGIN` alone, a noise packet.
pub const FLAG_END: u32 = 0x8;

/// Return code monerod puts in a successful invoke response (the handler's `1`).
pub const RETURN_OK: i32 = 1;

/// Frames `body` as one packet.
pub fn encode_packet(header: &Header, body: &[u8], out: &mut Vec<u8>) {
    out.reserve(HEADER_LEN + body.len());
    header.write(body.len() as u64, out);
    out.extend_from_slice(body);
}

/// A one-way notification packet.
pub fn notify(command: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    encode_packet(&Header::notify(command), body, &mut out);
    out
}

/// An invoke (expects a response).
pub fn request(command: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    encode_packet(&Header::request(command), body, &mut out);
    out
}

/// A response to an invoke of `command`.
pub fn response(command: u32, return_code: i32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    encode_packet(&Header::response(command, return_code), body, &mut out);
    out
}

/// A noise packet of exactly `total_len` bytes (header plus zero body), as monerod's
/// `make_noise_notify`; `None` if shorter than a header.
pub fn noise(total_len: usize) -> Option<Vec<u8>> {
    let body = total_len.checked_sub(HEADER_LEN)?;
    let h = Header::fragment(FLAG_BEGIN | FLAG_END);
    let mut out = Vec::with_capacity(total_len);
    h.write(body as u64, &mut out);
    out.resize(total_len, 0);
    Some(out)
}

/// Frames a notification of `command` for a link that sends only packets of exactly
/// `noise_size` bytes, as monerod's `make_fragmented_notify`: a body that fits is padded
/// with zeros *inside* the body (the epee reader ignores them) and sent whole;
/// otherwise the whole packet is cut into fragments, the first with `FLAG_BEGIN`, the
/// last with `FLAG_END` and zero padding. `None` if `noise_size` is under two headers or
/// more than [`MAX_FRAGMENTS_PER_MESSAGE`] fragments would be needed.
pub fn fragment(noise_size: usize, command: u32, body: &[u8]) -> Option<Vec<u8>> {
    if noise_size < 2 * HEADER_LEN {
        return None;
    }
    if HEADER_LEN + body.len() <= noise_size {
        let mut padded = body.to_vec();
        padded.resize(noise_size - HEADER_LEN, 0);
        return Some(notify(command, &padded));
    }
    let packet = notify(command, body);
    let space = noise_size - HEADER_LEN;
    let chunks: Vec<&[u8]> = packet.chunks(space).collect();
    if chunks.len() > MAX_FRAGMENTS_PER_MESSAGE {
        return None;
    }
    let mut out = Vec::with_capacity(chunks.len() * noise_size);
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.iter().enumerate() {
        let flags = match i {
            0 => FLAG_BEGIN,
            i if i == last => FLAG_END,
            _ => 0,
        };
        Header::fragment(flags).write(space as u64, &mut out);
        out.extend_from_slice(chunk);
    }
    out.resize(chunks.len() * noise_size, 0);
    Some(out)
}

#[cfg(test)]
mod tests;
