//! The bucket header (`bucket_head2`), packed little endian.

use super::{FLAG_REQUEST, FLAG_RESPONSE, HEADER_LEN, PROTOCOL_VERSION, SIGNATURE};

/// A bucket header without the signature and length (those are checked and framed by
/// the decoder and the encoder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// `m_have_to_return_data`: the sender waits for a response.
    pub have_to_return: bool,
    /// The command id.
    pub command: u32,
    /// `m_return_code`: 0 in requests, the handler's result in responses.
    pub return_code: i32,
    /// `LEVIN_PACKET_*` flags.
    pub flags: u32,
    /// `m_protocol_version`.
    pub protocol_version: u32,
}

/// Why a levin stream was refused. Each is a protocol violation; the connection ends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevinError {
    /// The first 8 bytes are not `LEVIN_SIGNATURE` (monerod: "Signature mismatch").
    #[error("levin: bad signature")]
    BadSignature,
    /// A body over the cap for its command or over the connection's packet cap
    /// (monerod: "Maximum packet size exceed!").
    #[error("levin: command {command} body of {len} bytes over the {cap}-byte cap")]
    TooLarge {
        /// The command (0 for fragments).
        command: u32,
        /// The declared length.
        len: u64,
        /// The cap in force.
        cap: usize,
    },
    /// More bytes buffered than the connection's packet cap allows.
    #[error("levin: {0} bytes buffered, over the packet cap")]
    BufferOverflow(usize),
    /// A protocol version other than 1.
    #[error("levin: protocol version {0}")]
    BadVersion(u32),
    /// A flag combination monerod never writes.
    #[error("levin: flags {0:#x}")]
    BadFlags(u32),
    /// The `have_to_return` byte is neither 0 nor 1.
    #[error("levin: have_to_return byte {0}")]
    BadBool(u8),
    /// A middle or last fragment with no first fragment before it.
    #[error("levin: fragment without a beginning")]
    FragmentWithoutBegin,
    /// More fragments than `MAX_FRAGMENTS_PER_MESSAGE`.
    #[error("levin: more than {0} fragments in one message")]
    TooManyFragments(usize),
    /// The reassembled fragments do not hold the message their inner header declares
    /// (monerod: "Invalid fragmented buffer size").
    #[error("levin: reassembled message is malformed")]
    BadFragmentedMessage,
    /// The stream ended inside a packet.
    #[error("levin: stream ends inside a packet ({0} bytes left over)")]
    Truncated(usize),
}

impl Header {
    /// A notification header (`have_to_return` false, `FLAG_REQUEST`).
    pub fn notify(command: u32) -> Header {
        Header {
            have_to_return: false,
            command,
            return_code: 0,
            flags: FLAG_REQUEST,
            protocol_version: PROTOCOL_VERSION,
        }
    }

    /// An invoke header.
    pub fn request(command: u32) -> Header {
        Header {
            have_to_return: true,
            ..Header::notify(command)
        }
    }

    /// A response header.
    pub fn response(command: u32, return_code: i32) -> Header {
        Header {
            have_to_return: false,
            command,
            return_code,
            flags: FLAG_RESPONSE,
            protocol_version: PROTOCOL_VERSION,
        }
    }

    /// A fragment or noise header (command 0, no request/response flag), as monerod's
    /// `make_fragmented_notify` and `make_noise_notify` write them.
    pub fn fragment(flags: u32) -> Header {
        Header {
            have_to_return: false,
            command: 0,
            return_code: 0,
            flags,
            protocol_version: PROTOCOL_VERSION,
        }
    }

    /// Parses 33 header bytes: the signature must match; returns the header and the
    /// declared body length. Other fields are checked by the decoder.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Result<(Header, u64), LevinError> {
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(a)
        };
        let u32_at = |i: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[i..i + 4]);
            u32::from_le_bytes(a)
        };
        if u64_at(0) != SIGNATURE {
            return Err(LevinError::BadSignature);
        }
        let len = u64_at(8);
        let have_to_return = match b[16] {
            0 => false,
            1 => true,
            x => return Err(LevinError::BadBool(x)),
        };
        let command = u32_at(17);
        let return_code = i32::from_le_bytes(u32_at(21).to_le_bytes());
        let flags = u32_at(25);
        let protocol_version = u32_at(29);
        Ok((
            Header {
                have_to_return,
                command,
                return_code,
                flags,
                protocol_version,
            },
            len,
        ))
    }

    /// Appends the 33 header bytes for a body of `body_len` bytes.
    pub fn write(&self, body_len: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(&SIGNATURE.to_le_bytes());
        out.extend_from_slice(&body_len.to_le_bytes());
        out.push(u8::from(self.have_to_return));
        out.extend_from_slice(&self.command.to_le_bytes());
        out.extend_from_slice(&self.return_code.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.extend_from_slice(&self.protocol_version.to_le_bytes());
    }

    /// Whether this is a response to an invoke.
    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }

    /// Whether this is an invoke that expects a response.
    pub fn is_request(&self) -> bool {
        self.flags & FLAG_REQUEST != 0 && self.have_to_return
    }

    /// Whether this is a one-way notification.
    pub fn is_notify(&self) -> bool {
        self.flags & FLAG_REQUEST != 0 && !self.have_to_return
    }
}
