//! Portable storage ("epee" binary), the serialisation under every levin body.
//!
//! This module owns the byte format: the 9-byte storage header, the 2-bit-tagged
//! varint, the thirteen type codes and their array forms. It decodes untrusted bytes
//! with the same bounds monerod applies (`default_levin_limits` in
//! `contrib/epee/include/storages/levin_abstract_invoke2.h`, the size sanity checks of
//! `portable_storage_from_bin.h`) or tighter ones, and it encodes exactly the bytes
//! monerod writes (`portable_storage_to_bin.h`). It never panics on input and never
//! allocates more than a small constant times the input length.
//!
//! Two ways in: [`Value`] is a generic, zero-copy tree of any storage (used by tools and
//! for fields whose shape depends on a sibling), and [`EpeeObject`] decodes straight into
//! typed structs without building a tree (used for every P2P message).

mod object_macro;
mod reader;
mod typed;
mod value;
mod writer;

pub use reader::{Checkpoint, Reader};
pub use typed::{
    read_marker, read_object, EpeeObject, EpeeValue, FieldLayout, Hashes, U64Array, U64s,
};

/// Items the [`epee_object!`](crate::epee_object) macro expands to; not an API.
#[doc(hidden)]
pub mod typed_support {
    pub use super::reader::SeenNames;
    pub use super::typed::{names_sorted, read_object, read_object_into};
    pub use super::Result;
}
pub use value::{Array, Section, Value};
pub use writer::{Writer, MAX_VARINT};

/// First four bytes of every storage (`PORTABLE_STORAGE_SIGNATUREA`, little endian).
pub const SIGNATURE_A: u32 = 0x0101_1101;
/// Next four bytes (`PORTABLE_STORAGE_SIGNATUREB`).
pub const SIGNATURE_B: u32 = 0x0102_0101;
/// The only format version monerod reads or writes (`PORTABLE_STORAGE_FORMAT_VER`).
pub const FORMAT_VERSION: u8 = 1;
/// The 9 header bytes as they appear on the wire.
pub const HEADER: [u8; 9] = [0x01, 0x11, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01];

/// Type code of a signed 64-bit integer (`SERIALIZE_TYPE_INT64`).
pub const TYPE_I64: u8 = 1;
/// Type code of a signed 32-bit integer.
pub const TYPE_I32: u8 = 2;
/// Type code of a signed 16-bit integer.
pub const TYPE_I16: u8 = 3;
/// Type code of a signed 8-bit integer.
pub const TYPE_I8: u8 = 4;
/// Type code of an unsigned 64-bit integer.
pub const TYPE_U64: u8 = 5;
/// Type code of an unsigned 32-bit integer.
pub const TYPE_U32: u8 = 6;
/// Type code of an unsigned 16-bit integer.
pub const TYPE_U16: u8 = 7;
/// Type code of an unsigned 8-bit integer.
pub const TYPE_U8: u8 = 8;
/// Type code of an IEEE-754 double.
pub const TYPE_F64: u8 = 9;
/// Type code of a byte string (varint length, then bytes).
pub const TYPE_STRING: u8 = 10;
/// Type code of a boolean (one byte, 0 or 1).
pub const TYPE_BOOL: u8 = 11;
/// Type code of an object (a section).
pub const TYPE_OBJECT: u8 = 12;
/// Type code of an array whose element type follows (`SERIALIZE_TYPE_ARRAY`).
pub const TYPE_ARRAY: u8 = 13;
/// Flag or-ed into a type code to mean "array of" (`SERIALIZE_FLAG_ARRAY`).
pub const FLAG_ARRAY: u8 = 0x80;

/// Longest string monerod accepts (`MAX_STRING_LEN_POSSIBLE`); the remaining input is
/// the tighter bound in practice.
pub const MAX_STRING_LEN: usize = 2_000_000_000;

/// Deepest nesting of objects and arrays we decode.
///
/// monerod guards its recursive reader with a 100-frame counter
/// (`EPEE_PORTABLE_STORAGE_RECURSION_LIMIT_INTERNAL`) that every helper call
/// increments, which lets through about 23 to 30 nested objects depending on the path.
/// No message of the protocol nests deeper than 4, so 20 is deliberately tighter.
pub const MAX_DEPTH: usize = 20;

/// What one decode may spend: monerod's `portable_storage::limits_t` plus our depth
/// bound and the nested-array rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Objects (sections) in the whole storage, the root excluded.
    pub max_objects: usize,
    /// Fields in all sections together.
    pub max_fields: usize,
    /// String values (field names not counted).
    pub max_strings: usize,
    /// Nesting depth of objects and arrays.
    pub max_depth: usize,
    /// Whether a non-empty array of arrays is accepted. monerod's reader refuses one
    /// ("Reading array entry is not supported") though its writer can produce it.
    pub nested_arrays: bool,
}

impl Limits {
    /// The limits monerod applies to every levin body (`default_levin_limits`:
    /// 8192 objects, 16384 fields, 16384 strings).
    pub const P2P: Limits = Limits {
        max_objects: 8192,
        max_fields: 16384,
        max_strings: 16384,
        max_depth: MAX_DEPTH,
        nested_arrays: false,
    };
    /// The limits monerod applies to `.bin` RPC bodies (`default_http_bin_limits`:
    /// 65536 × 3 of each).
    pub const RPC: Limits = Limits {
        max_objects: 65536 * 3,
        max_fields: 65536 * 3,
        max_strings: 65536 * 3,
        max_depth: MAX_DEPTH,
        nested_arrays: false,
    };
    /// For inspecting arbitrary storages in tools: RPC counts, nested arrays allowed.
    pub const TOOLS: Limits = Limits {
        nested_arrays: true,
        ..Limits::RPC
    };
}

/// Why a storage was refused. Every variant is a protocol violation by the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpeeError {
    /// Fewer than 9 bytes, or a signature other than monerod's.
    #[error("portable storage: bad signature")]
    BadSignature,
    /// A format version other than 1.
    #[error("portable storage: unknown format version {0}")]
    BadVersion(u8),
    /// The input ended inside a value.
    #[error("portable storage: input ends early (need {needed} bytes, {left} left)")]
    Truncated {
        /// Bytes the next read needed.
        needed: usize,
        /// Bytes that were left.
        left: usize,
    },
    /// Bytes remain after the root section.
    #[error("portable storage: {0} bytes after the root section")]
    TrailingBytes(usize),
    /// A type code that is not one of the thirteen.
    #[error("portable storage: unknown type code {0:#04x}")]
    UnknownType(u8),
    /// A zero-length field name.
    #[error("portable storage: empty field name")]
    EmptyName,
    /// The same field name twice in one section (monerod: "duplicate key").
    #[error("portable storage: duplicate field {0:?}")]
    DuplicateField(String),
    /// More nesting than [`Limits::max_depth`].
    #[error("portable storage: nesting deeper than {0}")]
    TooDeep(usize),
    /// Over [`Limits::max_objects`].
    #[error("portable storage: more than {0} objects")]
    TooManyObjects(usize),
    /// Over [`Limits::max_fields`].
    #[error("portable storage: more than {0} fields")]
    TooManyFields(usize),
    /// Over [`Limits::max_strings`].
    #[error("portable storage: more than {0} strings")]
    TooManyStrings(usize),
    /// An array declares more elements than the remaining bytes could hold.
    #[error("portable storage: array of {count} cannot fit in {left} bytes")]
    ArrayTooLong {
        /// Declared element count.
        count: u64,
        /// Bytes left in the input.
        left: usize,
    },
    /// A string longer than the remaining input or [`MAX_STRING_LEN`].
    #[error("portable storage: string of {0} bytes does not fit")]
    StringTooLong(u64),
    /// A boolean byte other than 0 or 1.
    #[error("portable storage: bool byte {0}")]
    BadBool(u8),
    /// A non-empty array of arrays, which monerod cannot read.
    #[error("portable storage: nested arrays are not accepted")]
    NestedArray,
    /// A field of a typed message has a type its C++ counterpart cannot convert from.
    #[error("portable storage: field {field:?} has type {found:#04x}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// The wire type marker found.
        found: u8,
    },
    /// An integer that does not fit the field's C++ type (monerod: "int value overhead").
    #[error("portable storage: field {0:?} value out of range")]
    OutOfRange(&'static str),
    /// A blob field of the wrong length (a hash that is not 32 bytes, a hash list whose
    /// length is not a multiple of 32).
    #[error("portable storage: field {field:?} is {len} bytes")]
    BadBlobLength {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A field the message cannot do without.
    #[error("portable storage: missing field {0:?}")]
    MissingField(&'static str),
    /// A value the message rules forbid (e.g. an unknown address type).
    #[error("portable storage: invalid {0}")]
    Invalid(&'static str),
}

/// Result of decoding.
pub type Result<T> = core::result::Result<T, EpeeError>;

/// Checks the 9-byte storage header and returns the bytes after it.
pub fn strip_header(buf: &[u8]) -> Result<&[u8]> {
    let (head, rest) = buf
        .split_at_checked(HEADER.len())
        .ok_or(EpeeError::BadSignature)?;
    if head[..8] != HEADER[..8] {
        return Err(EpeeError::BadSignature);
    }
    if head[8] != FORMAT_VERSION {
        return Err(EpeeError::BadVersion(head[8]));
    }
    Ok(rest)
}

/// Decodes a whole storage into a typed object, with the P2P limits.
pub fn from_bytes<T: EpeeObject>(buf: &bytes::Bytes) -> Result<T> {
    from_bytes_with(buf, Limits::P2P)
}

/// Decodes a whole storage into a typed object with the given limits. The whole input
/// must be consumed.
pub fn from_bytes_with<T: EpeeObject>(buf: &bytes::Bytes, limits: Limits) -> Result<T> {
    strip_header(buf)?;
    let mut r = Reader::new(buf, HEADER.len(), limits);
    let v = r.read_root::<T>()?;
    r.finish()?;
    Ok(v)
}

/// Encodes a typed object as a whole storage (header included).
pub fn to_bytes<T: EpeeObject>(v: &T) -> Vec<u8> {
    let mut w = Writer::with_capacity(v.encoded_len_hint() + HEADER.len());
    w.put_slice(&HEADER);
    v.write_section(&mut w);
    w.into_vec()
}

/// Appends a typed object as a whole storage (header included) to `out`.
pub fn write_to<T: EpeeObject>(v: &T, out: &mut Vec<u8>) {
    let mut w = Writer::from_vec(core::mem::take(out));
    w.put_slice(&HEADER);
    v.write_section(&mut w);
    *out = w.into_vec();
}

#[cfg(test)]
mod tests;
