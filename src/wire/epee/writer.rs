//! The encoder side: writes exactly what monerod's `portable_storage_to_bin.h` writes.

/// An append-only output buffer with the epee primitives.
#[derive(Default, Debug)]
pub struct Writer {
    buf: Vec<u8>,
}

/// Largest value a portable-storage varint can hold (2^62 - 1); monerod throws above it.
pub const MAX_VARINT: u64 = (1 << 62) - 1;

impl Writer {
    /// An empty writer with room for `n` bytes.
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    /// A writer that appends to `buf`.
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Writer { buf }
    }

    /// The bytes written.
    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Raw bytes.
    #[inline]
    pub fn put_slice(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
    }

    /// One byte.
    #[inline]
    pub fn put_u8(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// A varint in the narrowest width, as monerod's `pack_varint`. Values above
    /// [`MAX_VARINT`] cannot occur for lengths and counts held in memory; they are
    /// clamped rather than panicking.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // each arm's range bounds the value
    pub fn varint(&mut self, v: u64) {
        match v {
            0..=63 => self.buf.push((v as u8) << 2),
            64..=16_383 => self
                .buf
                .extend_from_slice(&(((v as u16) << 2) | 1).to_le_bytes()),
            16_384..=1_073_741_823 => self
                .buf
                .extend_from_slice(&(((v as u32) << 2) | 2).to_le_bytes()),
            _ => {
                let v = v.min(MAX_VARINT);
                self.buf.extend_from_slice(&((v << 2) | 3).to_le_bytes());
            }
        }
    }

    /// A field name (length byte, then the name). Names are compile-time constants of
    /// at most 255 bytes.
    #[inline]
    pub fn name(&mut self, name: &[u8]) {
        let len = u8::try_from(name.len()).unwrap_or(u8::MAX);
        self.buf.push(len);
        self.buf.extend_from_slice(&name[..usize::from(len)]);
    }

    /// A string body (varint length, bytes).
    #[inline]
    pub fn string(&mut self, s: &[u8]) {
        self.varint(s.len() as u64);
        self.buf.extend_from_slice(s);
    }
}
