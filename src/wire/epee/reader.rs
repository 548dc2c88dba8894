//! The bounded cursor every epee decode goes through.
//!
//! It owns the position in the input and the running totals monerod keeps
//! (objects, fields, strings) plus the nesting depth. Every count a peer declares is
//! checked against the bytes that are left before anything is reserved, so the memory
//! a decode allocates stays within a small constant of the input length.

use std::collections::HashSet;

use bytes::Bytes;

use super::{
    EpeeError, EpeeObject, Limits, Result, FLAG_ARRAY, MAX_STRING_LEN, TYPE_ARRAY, TYPE_BOOL,
    TYPE_F64, TYPE_I16, TYPE_I32, TYPE_I64, TYPE_I8, TYPE_OBJECT, TYPE_STRING, TYPE_U16, TYPE_U32,
    TYPE_U64, TYPE_U8,
};

/// Unknown field names seen in one section, to refuse duplicates as monerod does.
/// Linear for the usual handful, hashed past that so a hostile section of thousands of
/// fields stays linear in time.
#[derive(Default)]
pub struct SeenNames<'a> {
    few: Vec<&'a [u8]>,
    many: Option<HashSet<&'a [u8]>>,
}

impl<'a> SeenNames<'a> {
    const LINEAR_MAX: usize = 16;

    /// Records `name`; errors if it was already seen.
    pub fn insert(&mut self, name: &'a [u8]) -> Result<()> {
        let fresh = match &mut self.many {
            Some(set) => set.insert(name),
            None if self.few.len() < Self::LINEAR_MAX => {
                if self.few.contains(&name) {
                    false
                } else {
                    self.few.push(name);
                    true
                }
            }
            None => {
                let mut set: HashSet<&'a [u8]> = self.few.drain(..).collect();
                let fresh = set.insert(name);
                self.many = Some(set);
                fresh
            }
        };
        if fresh {
            Ok(())
        } else {
            Err(EpeeError::DuplicateField(
                String::from_utf8_lossy(name).into_owned(),
            ))
        }
    }
}

/// Smallest wire size of one array element of type `ty`, as monerod's `ps_min_bytes`
/// (strings count 2 there, though an empty one takes 1).
pub(crate) fn min_element_bytes(ty: u8) -> usize {
    match ty {
        TYPE_I64 | TYPE_U64 | TYPE_F64 => 8,
        TYPE_I32 | TYPE_U32 => 4,
        TYPE_I16 | TYPE_U16 => 2,
        TYPE_STRING => 2,
        _ => 1,
    }
}

/// A saved cursor position with its counters.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint {
    pos: usize,
    objects: usize,
    fields: usize,
    strings: usize,
    depth: usize,
}

/// A cursor over one storage with monerod's counters.
pub struct Reader<'a> {
    src: &'a Bytes,
    pos: usize,
    limits: Limits,
    objects: usize,
    fields: usize,
    strings: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `src` starting at byte `start` (after the storage header).
    pub fn new(src: &'a Bytes, start: usize, limits: Limits) -> Self {
        Reader {
            src,
            pos: start.min(src.len()),
            limits,
            objects: 0,
            fields: 0,
            strings: 0,
            depth: 0,
        }
    }

    /// Where the cursor is, with the counters, to come back to.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            pos: self.pos,
            objects: self.objects,
            fields: self.fields,
            strings: self.strings,
            depth: self.depth,
        }
    }

    /// Returns to a checkpoint taken on this reader.
    pub fn rewind(&mut self, cp: Checkpoint) {
        self.pos = cp.pos.min(self.src.len());
        self.objects = cp.objects;
        self.fields = cp.fields;
        self.strings = cp.strings;
        self.depth = cp.depth;
    }

    /// The input bytes from `cp` to the cursor, zero-copy.
    pub fn bytes_since(&self, cp: Checkpoint) -> Bytes {
        let start = cp.pos.min(self.pos);
        self.src.slice(start..self.pos)
    }

    /// Bytes not yet read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.src.len() - self.pos
    }

    /// Errors unless every byte left is a zero.
    ///
    /// monerod ignores whatever follows the root section, and its noise mode relies on
    /// that: a message shorter than the noise size is padded with zero bytes inside the
    /// levin body (`make_fragmented_notify`). We accept that zero padding and refuse any
    /// other trailing byte.
    pub fn finish(&self) -> Result<()> {
        let src: &[u8] = self.src;
        let rest = src.get(self.pos..).unwrap_or_default();
        if rest.iter().all(|&b| b == 0) {
            Ok(())
        } else {
            Err(EpeeError::TrailingBytes(rest.len()))
        }
    }

    /// Zero bytes after the root section (see [`Reader::finish`]).
    pub fn padding(&self) -> usize {
        self.remaining()
    }

    /// Reads the root section into `T`.
    pub fn read_root<T: EpeeObject>(&mut self) -> Result<T> {
        self.enter()?;
        let count = self.section_len()?;
        let v = T::read_fields(self, count)?;
        self.leave();
        Ok(v)
    }

    #[inline]
    fn truncated(&self, needed: usize) -> EpeeError {
        EpeeError::Truncated {
            needed,
            left: self.remaining(),
        }
    }

    /// The next `n` bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let src: &'a [u8] = self.src;
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated(n))?;
        let s = src.get(self.pos..end).ok_or_else(|| self.truncated(n))?;
        self.pos = end;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// One byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8> {
        let src: &'a [u8] = self.src;
        let b = *src.get(self.pos).ok_or_else(|| self.truncated(1))?;
        self.pos += 1;
        Ok(b)
    }

    /// A portable-storage varint: the low two bits of the first byte give its width
    /// (1, 2, 4 or 8 bytes, little endian), the rest is the value. Widths wider than
    /// needed are accepted, as monerod accepts them.
    #[inline]
    pub fn varint(&mut self) -> Result<u64> {
        let src: &'a [u8] = self.src;
        let first = *src.get(self.pos).ok_or_else(|| self.truncated(1))?;
        let v = match first & 0x03 {
            0 => u64::from(self.u8()?),
            1 => u64::from(u16::from_le_bytes(self.take_array()?)),
            2 => u64::from(u32::from_le_bytes(self.take_array()?)),
            _ => u64::from_le_bytes(self.take_array()?),
        };
        Ok(v >> 2)
    }

    /// A field name: one length byte (not zero), then the name.
    #[inline]
    pub fn name(&mut self) -> Result<&'a [u8]> {
        let len = self.u8()?;
        if len == 0 {
            return Err(EpeeError::EmptyName);
        }
        self.take(usize::from(len))
    }

    /// A string's length and bytes, zero-copy. Does not count toward the string limit
    /// (see [`Reader::count_strings`]).
    #[inline]
    pub fn string_body(&mut self) -> Result<Bytes> {
        let len = self.varint()?;
        let n = usize::try_from(len).map_err(|_| EpeeError::StringTooLong(len))?;
        if n >= MAX_STRING_LEN || n > self.remaining() {
            return Err(EpeeError::StringTooLong(len));
        }
        let start = self.pos;
        self.pos += n;
        Ok(self.src.slice(start..start + n))
    }

    /// A string's bytes as a borrowed slice. Does not count toward the string limit.
    #[inline]
    pub fn string_slice(&mut self) -> Result<&'a [u8]> {
        let len = self.varint()?;
        let n = usize::try_from(len).map_err(|_| EpeeError::StringTooLong(len))?;
        if n >= MAX_STRING_LEN || n > self.remaining() {
            return Err(EpeeError::StringTooLong(len));
        }
        self.take(n)
    }

    /// Counts `n` strings against [`Limits::max_strings`].
    #[inline]
    pub fn count_strings(&mut self, n: usize) -> Result<()> {
        if n > self.limits.max_strings - self.strings {
            return Err(EpeeError::TooManyStrings(self.limits.max_strings));
        }
        self.strings += n;
        Ok(())
    }

    /// Counts `n` objects against [`Limits::max_objects`].
    #[inline]
    pub fn count_objects(&mut self, n: usize) -> Result<()> {
        if n > self.limits.max_objects - self.objects {
            return Err(EpeeError::TooManyObjects(self.limits.max_objects));
        }
        self.objects += n;
        Ok(())
    }

    /// Reads a section's field count and counts it against [`Limits::max_fields`].
    #[inline]
    pub fn section_len(&mut self) -> Result<usize> {
        let n = self.varint()?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.limits.max_fields - self.fields {
            return Err(EpeeError::TooManyFields(self.limits.max_fields));
        }
        self.fields += n;
        Ok(n)
    }

    /// Reads an array's element count for element type `ty` and checks it as monerod
    /// does: it must fit the remaining bytes at the element's minimum size, and objects
    /// and strings count toward their limits.
    pub fn array_len(&mut self, ty: u8) -> Result<usize> {
        let count = self.varint()?;
        let left = self.remaining();
        let fits = left / min_element_bytes(ty);
        let n = match usize::try_from(count) {
            Ok(n) if n <= fits => n,
            _ => return Err(EpeeError::ArrayTooLong { count, left }),
        };
        match ty {
            TYPE_OBJECT => self.count_objects(n)?,
            TYPE_STRING => self.count_strings(n)?,
            _ => {}
        }
        Ok(n)
    }

    /// Enters one level of nesting.
    #[inline]
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= self.limits.max_depth {
            return Err(EpeeError::TooDeep(self.limits.max_depth));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves one level of nesting.
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether non-empty arrays of arrays are accepted.
    pub fn nested_arrays(&self) -> bool {
        self.limits.nested_arrays
    }

    /// Reads a field's type marker, unwrapping monerod's `SERIALIZE_TYPE_ARRAY` (13)
    /// prefix: a bare 13 must be followed by an array marker.
    #[inline]
    pub fn marker(&mut self) -> Result<u8> {
        let m = self.u8()?;
        if m == TYPE_ARRAY {
            let inner = self.u8()?;
            if inner & FLAG_ARRAY == 0 {
                return Err(EpeeError::UnknownType(inner));
            }
            return Ok(inner);
        }
        Ok(m)
    }

    /// Skips a value of a field we do not know, counting everything as if it had been
    /// decoded, so unknown fields cost what known ones cost.
    pub fn skip_value(&mut self, marker: u8) -> Result<()> {
        if marker & FLAG_ARRAY != 0 {
            let ty = marker & !FLAG_ARRAY;
            return self.skip_array(ty);
        }
        match marker {
            TYPE_I64 | TYPE_U64 | TYPE_F64 => self.take(8).map(drop),
            TYPE_I32 | TYPE_U32 => self.take(4).map(drop),
            TYPE_I16 | TYPE_U16 => self.take(2).map(drop),
            TYPE_I8 | TYPE_U8 => self.take(1).map(drop),
            TYPE_BOOL => match self.u8()? {
                0 | 1 => Ok(()),
                b => Err(EpeeError::BadBool(b)),
            },
            TYPE_STRING => {
                self.count_strings(1)?;
                self.string_slice().map(drop)
            }
            TYPE_OBJECT => {
                self.count_objects(1)?;
                self.skip_section()
            }
            other => Err(EpeeError::UnknownType(other)),
        }
    }

    fn skip_section(&mut self) -> Result<()> {
        self.enter()?;
        let n = self.section_len()?;
        let mut seen = SeenNames::default();
        for _ in 0..n {
            let name = self.name()?;
            seen.insert(name)?;
            let m = self.marker()?;
            self.skip_value(m)?;
        }
        self.leave();
        Ok(())
    }

    fn skip_array(&mut self, ty: u8) -> Result<()> {
        let n = self.array_len(ty)?;
        let fixed = match ty {
            TYPE_I64 | TYPE_U64 | TYPE_F64 => 8,
            TYPE_I32 | TYPE_U32 => 4,
            TYPE_I16 | TYPE_U16 => 2,
            TYPE_I8 | TYPE_U8 => 1,
            _ => 0,
        };
        if fixed > 0 {
            // n * fixed cannot overflow: n was checked against the remaining bytes.
            return self.take(n * fixed).map(drop);
        }
        match ty {
            TYPE_BOOL => {
                for b in self.take(n)? {
                    if *b > 1 {
                        return Err(EpeeError::BadBool(*b));
                    }
                }
                Ok(())
            }
            TYPE_STRING => {
                for _ in 0..n {
                    self.string_slice()?;
                }
                Ok(())
            }
            TYPE_OBJECT => {
                for _ in 0..n {
                    self.skip_section()?;
                }
                Ok(())
            }
            TYPE_ARRAY => {
                if n > 0 && !self.limits.nested_arrays {
                    return Err(EpeeError::NestedArray);
                }
                self.enter()?;
                for _ in 0..n {
                    let m = self.u8()?;
                    if m & FLAG_ARRAY == 0 {
                        return Err(EpeeError::UnknownType(m));
                    }
                    self.skip_array(m & !FLAG_ARRAY)?;
                }
                self.leave();
                Ok(())
            }
            other => Err(EpeeError::UnknownType(other | FLAG_ARRAY)),
        }
    }
}
