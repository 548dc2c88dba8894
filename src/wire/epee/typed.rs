//! Typed decoding straight from the bytes into message structs, with no tree in
//! between, and typed encoding that reproduces the original bytes.
//!
//! Conversions follow monerod's `portable_storage_val_converters.h`: an integer field
//! accepts any integer type code whose value fits (range-checked), a bool accepts only
//! a bool, a string only a string. What monerod quietly tolerates we refuse: a missing
//! required field, a blob of the wrong size, bytes after the root section (monerod then
//! leaves the field zeroed or ignores the bytes).
//!
//! Every struct keeps a [`FieldLayout`]: the fields in the order and presence they had
//! on the wire. monerod writes fields sorted by name and omits defaults; other writers
//! (test scripts, other implementations) keep declaration order or write defaults.
//! Re-encoding a decoded message follows its layout, so it is byte-exact for all of them;
//! a message built here has the canonical (monerod) layout.

use bytes::Bytes;

use super::{
    EpeeError, Reader, Result, Writer, FLAG_ARRAY, TYPE_BOOL, TYPE_I16, TYPE_I32, TYPE_I64,
    TYPE_I8, TYPE_OBJECT, TYPE_STRING, TYPE_U16, TYPE_U32, TYPE_U64, TYPE_U8,
};

/// Reads one field's type marker (exposed for hand-written [`EpeeObject`] impls).
pub fn read_marker(r: &mut Reader<'_>) -> Result<u8> {
    r.marker()
}

/// A value that can stand in a field.
pub trait EpeeValue: Sized {
    /// Reads the value after its marker.
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self>;
    /// Reads the value after its marker into `self`, in place (objects override this
    /// to decode straight into their final memory).
    #[inline]
    fn read_into(&mut self, r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<()> {
        *self = Self::read(r, marker, field)?;
        Ok(())
    }
    /// Writes the marker and the value.
    fn write(&self, w: &mut Writer);
    /// Whether monerod's writer leaves this value out (an empty container).
    fn is_empty_seq(&self) -> bool {
        false
    }
}

/// A struct encoded as a section.
pub trait EpeeObject: Sized {
    /// Reads `count` fields of a section whose count was already read.
    fn read_fields(r: &mut Reader<'_>, count: usize) -> Result<Self>;
    /// Reads `count` fields into `out`, overwriting every field (in place: no move of
    /// the finished struct).
    #[inline]
    fn read_fields_into(r: &mut Reader<'_>, count: usize, out: &mut Self) -> Result<()> {
        *out = Self::read_fields(r, count)?;
        Ok(())
    }
    /// Writes the section: field count, then the fields.
    fn write_section(&self, w: &mut Writer);
    /// A guess at the encoded size, to size buffers.
    fn encoded_len_hint(&self) -> usize {
        256
    }
}

/// The order and presence of a struct's fields on the wire, packed as 4-bit field
/// indices (index + 1, so 0 ends the list). Up to 15 fields; no message has more than 7.
/// `FieldLayout::CANONICAL` (0) means "as monerod would write it".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldLayout(u64);

impl FieldLayout {
    /// The layout monerod's writer produces: sorted names, defaults and empty containers
    /// left out.
    pub const CANONICAL: FieldLayout = FieldLayout(0);
    /// The most fields a layout records.
    pub const MAX_FIELDS: usize = 15;

    /// Whether this is the canonical layout.
    pub fn is_canonical(self) -> bool {
        self.0 == 0
    }

    /// Appends field `idx` (0-based, < 15).
    #[inline]
    pub fn push(&mut self, idx: usize) {
        let n = self.len();
        if n < Self::MAX_FIELDS && idx < Self::MAX_FIELDS {
            self.0 |= ((idx as u64) + 1) << (4 * n);
        }
    }

    /// How many fields are recorded.
    pub fn len(self) -> usize {
        let mut n = 0;
        let mut v = self.0;
        while v & 0xf != 0 {
            n += 1;
            v >>= 4;
        }
        n
    }

    /// Whether no field is recorded.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The recorded field indices in order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let mut v = self.0;
        core::iter::from_fn(move || {
            let nib = v & 0xf;
            if nib == 0 {
                None
            } else {
                v >>= 4;
                Some(usize::from(u8::try_from(nib - 1).unwrap_or(0)))
            }
        })
    }

    /// A recorded layout equal to `canonical` is stored as [`FieldLayout::CANONICAL`],
    /// so decoded monerod messages compare equal to freshly built ones.
    pub fn normalize(self, canonical: FieldLayout) -> FieldLayout {
        if self == canonical {
            FieldLayout::CANONICAL
        } else {
            self
        }
    }
}

/// Whether `names` is strictly ascending bytewise, the order of monerod's `std::map`.
pub const fn names_sorted(names: &[&str]) -> bool {
    let mut i = 1;
    while i < names.len() {
        let (a, b) = (names[i - 1].as_bytes(), names[i].as_bytes());
        let mut j = 0;
        loop {
            if j == a.len() && j < b.len() {
                break; // a is a prefix of b: a < b
            }
            if j == a.len() || j == b.len() {
                return false; // equal, or b a prefix of a
            }
            if a[j] < b[j] {
                break;
            }
            if a[j] > b[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

fn wrong(field: &'static str, found: u8) -> EpeeError {
    EpeeError::WrongType { field, found }
}

/// Reads any integer marker as an `i128`, as monerod's converters widen.
#[inline]
fn read_any_int(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<i128> {
    Ok(match marker {
        TYPE_U64 => i128::from(u64::from_le_bytes(r.take_array()?)),
        TYPE_U32 => i128::from(u32::from_le_bytes(r.take_array()?)),
        TYPE_U16 => i128::from(u16::from_le_bytes(r.take_array()?)),
        TYPE_U8 => i128::from(r.u8()?),
        TYPE_I64 => i128::from(i64::from_le_bytes(r.take_array()?)),
        TYPE_I32 => i128::from(i32::from_le_bytes(r.take_array()?)),
        TYPE_I16 => i128::from(i16::from_le_bytes(r.take_array()?)),
        TYPE_I8 => i128::from(i8::from_le_bytes(r.take_array()?)),
        other => return Err(wrong(field, other)),
    })
}

macro_rules! int_value {
    ($t:ty, $code:expr) => {
        impl EpeeValue for $t {
            #[inline]
            fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
                if marker == $code {
                    return Ok(<$t>::from_le_bytes(r.take_array()?));
                }
                let v = read_any_int(r, marker, field)?;
                <$t>::try_from(v).map_err(|_| EpeeError::OutOfRange(field))
            }
            #[inline]
            fn write(&self, w: &mut Writer) {
                w.put_u8($code);
                w.put_slice(&self.to_le_bytes());
            }
        }
    };
}

int_value!(u64, TYPE_U64);
int_value!(u32, TYPE_U32);
int_value!(u16, TYPE_U16);
int_value!(u8, TYPE_U8);
int_value!(i64, TYPE_I64);
int_value!(i32, TYPE_I32);
int_value!(i16, TYPE_I16);
int_value!(i8, TYPE_I8);

impl EpeeValue for bool {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        if marker != TYPE_BOOL {
            return Err(wrong(field, marker));
        }
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(EpeeError::BadBool(b)),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_BOOL);
        w.put_u8(u8::from(*self));
    }
}

impl EpeeValue for Bytes {
    #[inline]
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        if marker != TYPE_STRING {
            return Err(wrong(field, marker));
        }
        r.count_strings(1)?;
        r.string_body()
    }
    #[inline]
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_STRING);
        w.string(self);
    }
}

/// A fixed-size POD written as a string (`KV_SERIALIZE_VAL_POD_AS_BLOB`): hashes,
/// the network id.
impl<const N: usize> EpeeValue for [u8; N] {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        if marker != TYPE_STRING {
            return Err(wrong(field, marker));
        }
        r.count_strings(1)?;
        let s = r.string_slice()?;
        let mut out = [0u8; N];
        if s.len() != N {
            return Err(EpeeError::BadBlobLength {
                field,
                len: s.len(),
            });
        }
        out.copy_from_slice(s);
        Ok(out)
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_STRING);
        w.string(self);
    }
}

macro_rules! pod_list {
    ($(#[$m:meta])* $name:ident, $width:expr, $item:ty, $conv:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(Bytes);

        impl $name {
            /// Bytes per element.
            pub const WIDTH: usize = $width;

            /// Wraps concatenated elements; `None` unless the length is a multiple of
            /// the element width.
            pub fn from_bytes(b: Bytes) -> Option<Self> {
                (b.len() % Self::WIDTH == 0).then_some($name(b))
            }

            /// Builds the list from elements.
            pub fn from_items<'i>(items: impl IntoIterator<Item = &'i $item>) -> Self {
                let mut v = Vec::new();
                for it in items {
                    v.extend_from_slice(&($conv)(it));
                }
                $name(Bytes::from(v))
            }

            /// Number of elements.
            pub fn len(&self) -> usize {
                self.0.len() / Self::WIDTH
            }

            /// Whether there are none.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// The raw concatenated bytes.
            pub fn as_bytes(&self) -> &Bytes {
                &self.0
            }
        }

        impl EpeeValue for $name {
            #[inline]
            fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
                if marker != TYPE_STRING {
                    return Err(wrong(field, marker));
                }
                r.count_strings(1)?;
                let b = r.string_body()?;
                let len = b.len();
                $name::from_bytes(b).ok_or(EpeeError::BadBlobLength { field, len })
            }
            #[inline]
            fn write(&self, w: &mut Writer) {
                w.put_u8(TYPE_STRING);
                w.string(&self.0);
            }
            fn is_empty_seq(&self) -> bool {
                self.0.is_empty()
            }
        }
    };
}

pod_list!(
    /// A list of 32-byte hashes written as one string (`KV_SERIALIZE_CONTAINER_POD_AS_BLOB`),
    /// kept as a zero-copy slice of the input.
    Hashes,
    32,
    [u8; 32],
    |h: &[u8; 32]| *h
);

pod_list!(
    /// A list of little-endian u64s written as one string (`KV_SERIALIZE_CONTAINER_POD_AS_BLOB`).
    U64s,
    8,
    u64,
    |v: &u64| v.to_le_bytes()
);

impl Hashes {
    /// The hashes, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = [u8; 32]> + '_ {
        self.0.chunks_exact(32).map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
    }
}

impl U64s {
    /// The values, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        self.0.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        })
    }
}

/// An array of strings (`std::vector<blobdata>`): transaction blobs.
impl EpeeValue for Vec<Bytes> {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        if marker != TYPE_STRING | FLAG_ARRAY {
            return Err(wrong(field, marker));
        }
        let n = r.array_len(TYPE_STRING)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(r.string_body()?);
        }
        Ok(v)
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_STRING | FLAG_ARRAY);
        w.varint(self.len() as u64);
        for s in self {
            w.string(s);
        }
    }
    fn is_empty_seq(&self) -> bool {
        self.is_empty()
    }
}

/// An array of integers read as u64s and written as an array of u64
/// (`KV_SERIALIZE(std::vector<uint64_t>)`, as the RPC's output indices and heights; not
/// the blob form of [`U64s`]). Any integer array type that fits is accepted, as monerod's
/// converters do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct U64Array(pub Vec<u64>);

impl EpeeValue for U64Array {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        if marker & FLAG_ARRAY == 0 {
            return Err(wrong(field, marker));
        }
        let ty = marker & !FLAG_ARRAY;
        if !matches!(
            ty,
            TYPE_U64 | TYPE_U32 | TYPE_U16 | TYPE_U8 | TYPE_I64 | TYPE_I32 | TYPE_I16 | TYPE_I8
        ) {
            return Err(wrong(field, marker));
        }
        let n = r.array_len(ty)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let x = read_any_int(r, ty, field)?;
            v.push(u64::try_from(x).map_err(|_| EpeeError::OutOfRange(field))?);
        }
        Ok(U64Array(v))
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_U64 | FLAG_ARRAY);
        w.varint(self.0.len() as u64);
        for x in &self.0 {
            w.put_slice(&x.to_le_bytes());
        }
    }
    fn is_empty_seq(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads an object value (marker already read) into `T`.
pub fn read_object<T: EpeeObject>(
    r: &mut Reader<'_>,
    marker: u8,
    field: &'static str,
) -> Result<T> {
    if marker != TYPE_OBJECT {
        return Err(wrong(field, marker));
    }
    r.count_objects(1)?;
    r.enter()?;
    let n = r.section_len()?;
    let v = T::read_fields(r, n)?;
    r.leave();
    Ok(v)
}

/// Reads an object value (marker already read) into `out`, in place.
#[inline(always)]
pub fn read_object_into<T: EpeeObject>(
    r: &mut Reader<'_>,
    marker: u8,
    field: &'static str,
    out: &mut T,
) -> Result<()> {
    if marker != TYPE_OBJECT {
        return Err(wrong(field, marker));
    }
    r.count_objects(1)?;
    read_nested_into(r, out)
}

#[inline(always)]
fn read_nested_into<T: EpeeObject>(r: &mut Reader<'_>, out: &mut T) -> Result<()> {
    r.enter()?;
    let n = r.section_len()?;
    T::read_fields_into(r, n, out)?;
    r.leave();
    Ok(())
}

/// An array of objects (`std::vector<T>` of a serialisable struct). Each element is
/// decoded in place in the vector.
impl<T: EpeeObject + Default> EpeeValue for Vec<T> {
    fn read(r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<Self> {
        let mut v = Vec::new();
        v.read_into(r, marker, field)?;
        Ok(v)
    }
    fn read_into(&mut self, r: &mut Reader<'_>, marker: u8, field: &'static str) -> Result<()> {
        if marker != TYPE_OBJECT | FLAG_ARRAY {
            return Err(wrong(field, marker));
        }
        let n = r.array_len(TYPE_OBJECT)?;
        self.clear();
        self.reserve(n.min(r.remaining() / 8 + 1));
        for _ in 0..n {
            self.push(T::default());
            if let Some(slot) = self.last_mut() {
                read_nested_into(r, slot)?;
            }
        }
        Ok(())
    }
    fn write(&self, w: &mut Writer) {
        w.put_u8(TYPE_OBJECT | FLAG_ARRAY);
        w.varint(self.len() as u64);
        for o in self {
            o.write_section(w);
        }
    }
    fn is_empty_seq(&self) -> bool {
        self.is_empty()
    }
}
