//! A generic, zero-copy tree of any portable storage.
//!
//! Used where the shape is not known in advance (inspecting captures, a network address
//! whose payload depends on its sibling `type`), never on the hot path of a known
//! message. Strings and names are `Bytes` slices of the input. Encoding a tree writes
//! its fields in the order they were decoded, which for monerod's output is sorted order.

use bytes::Bytes;
use serde_json::{Map, Value as Json};

use super::reader::SeenNames;
use super::{
    strip_header, EpeeError, Limits, Reader, Result, Writer, FLAG_ARRAY, HEADER, TYPE_ARRAY,
    TYPE_BOOL, TYPE_F64, TYPE_I16, TYPE_I32, TYPE_I64, TYPE_I8, TYPE_OBJECT, TYPE_STRING, TYPE_U16,
    TYPE_U32, TYPE_U64, TYPE_U8,
};

/// A section: named entries in wire order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Section(pub Vec<(Bytes, Value)>);

/// One value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `int64`.
    I64(i64),
    /// `int32`.
    I32(i32),
    /// `int16`.
    I16(i16),
    /// `int8`.
    I8(i8),
    /// `uint64`.
    U64(u64),
    /// `uint32`.
    U32(u32),
    /// `uint16`.
    U16(u16),
    /// `uint8`.
    U8(u8),
    /// `double`.
    F64(f64),
    /// `bool`.
    Bool(bool),
    /// A byte string.
    String(Bytes),
    /// A nested section.
    Object(Section),
    /// An array.
    Array(Array),
}

/// An array: all elements of one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Array {
    /// `int64[]`.
    I64(Vec<i64>),
    /// `int32[]`.
    I32(Vec<i32>),
    /// `int16[]`.
    I16(Vec<i16>),
    /// `int8[]`.
    I8(Vec<i8>),
    /// `uint64[]`.
    U64(Vec<u64>),
    /// `uint32[]`.
    U32(Vec<u32>),
    /// `uint16[]`.
    U16(Vec<u16>),
    /// `uint8[]`.
    U8(Vec<u8>),
    /// `double[]`.
    F64(Vec<f64>),
    /// `bool[]`.
    Bool(Vec<bool>),
    /// `string[]`.
    String(Vec<Bytes>),
    /// `object[]`.
    Object(Vec<Section>),
    /// `array[]` (arrays of arrays).
    Array(Vec<Array>),
}

macro_rules! read_pods {
    ($r:ident, $n:ident, $t:ty) => {{
        let raw = $r.take($n * core::mem::size_of::<$t>())?;
        raw.chunks_exact(core::mem::size_of::<$t>())
            .map(|c| {
                let mut b = [0u8; core::mem::size_of::<$t>()];
                b.copy_from_slice(c);
                <$t>::from_le_bytes(b)
            })
            .collect()
    }};
}

impl Section {
    /// Decodes a whole storage (header included) with the given limits.
    pub fn from_storage(buf: &Bytes, limits: Limits) -> Result<Section> {
        strip_header(buf)?;
        let mut r = Reader::new(buf, HEADER.len(), limits);
        let s = Section::read_root(&mut r)?;
        r.finish()?;
        Ok(s)
    }

    /// Encodes as a whole storage (header included).
    pub fn to_storage(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(256);
        w.put_slice(&HEADER);
        self.write(&mut w);
        w.into_vec()
    }

    fn read_root(r: &mut Reader<'_>) -> Result<Section> {
        r.enter()?;
        let s = Section::read_body(r)?;
        r.leave();
        Ok(s)
    }

    /// Reads a section body (count and fields) at the current depth.
    pub(crate) fn read_body(r: &mut Reader<'_>) -> Result<Section> {
        let n = r.section_len()?;
        // A field takes at least 4 bytes (name length, 1-byte name, marker, 1-byte value).
        let mut entries = Vec::with_capacity(n.min(r.remaining() / 4));
        let mut seen = SeenNames::default();
        for _ in 0..n {
            let name = r.name()?;
            seen.insert(name)?;
            let name = Bytes::copy_from_slice(name);
            let marker = r.marker()?;
            entries.push((name, Value::read(r, marker)?));
        }
        Ok(Section(entries))
    }

    fn read_nested(r: &mut Reader<'_>) -> Result<Section> {
        r.enter()?;
        let s = Section::read_body(r)?;
        r.leave();
        Ok(s)
    }

    /// Writes the section body.
    pub fn write(&self, w: &mut Writer) {
        w.varint(self.0.len() as u64);
        for (k, v) in &self.0 {
            w.name(k);
            v.write(w);
        }
    }

    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.as_ref() == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// A JSON rendering: strings as lowercase hex (they are blobs as often as text).
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        for (k, v) in &self.0 {
            m.insert(String::from_utf8_lossy(k).into_owned(), v.to_json());
        }
        Json::Object(m)
    }
}

impl Value {
    /// Reads a value whose marker was read.
    pub fn read(r: &mut Reader<'_>, marker: u8) -> Result<Value> {
        if marker & FLAG_ARRAY != 0 {
            return Ok(Value::Array(Array::read(r, marker & !FLAG_ARRAY)?));
        }
        Ok(match marker {
            TYPE_I64 => Value::I64(i64::from_le_bytes(r.take_array()?)),
            TYPE_I32 => Value::I32(i32::from_le_bytes(r.take_array()?)),
            TYPE_I16 => Value::I16(i16::from_le_bytes(r.take_array()?)),
            TYPE_I8 => Value::I8(i8::from_le_bytes(r.take_array()?)),
            TYPE_U64 => Value::U64(u64::from_le_bytes(r.take_array()?)),
            TYPE_U32 => Value::U32(u32::from_le_bytes(r.take_array()?)),
            TYPE_U16 => Value::U16(u16::from_le_bytes(r.take_array()?)),
            TYPE_U8 => Value::U8(r.u8()?),
            TYPE_F64 => Value::F64(f64::from_le_bytes(r.take_array()?)),
            TYPE_BOOL => match r.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(EpeeError::BadBool(b)),
            },
            TYPE_STRING => {
                r.count_strings(1)?;
                Value::String(r.string_body()?)
            }
            TYPE_OBJECT => {
                r.count_objects(1)?;
                Value::Object(Section::read_nested(r)?)
            }
            other => return Err(EpeeError::UnknownType(other)),
        })
    }

    /// Writes marker and value.
    pub fn write(&self, w: &mut Writer) {
        match self {
            Value::I64(v) => put(w, TYPE_I64, &v.to_le_bytes()),
            Value::I32(v) => put(w, TYPE_I32, &v.to_le_bytes()),
            Value::I16(v) => put(w, TYPE_I16, &v.to_le_bytes()),
            Value::I8(v) => put(w, TYPE_I8, &v.to_le_bytes()),
            Value::U64(v) => put(w, TYPE_U64, &v.to_le_bytes()),
            Value::U32(v) => put(w, TYPE_U32, &v.to_le_bytes()),
            Value::U16(v) => put(w, TYPE_U16, &v.to_le_bytes()),
            Value::U8(v) => put(w, TYPE_U8, &[*v]),
            Value::F64(v) => put(w, TYPE_F64, &v.to_le_bytes()),
            Value::Bool(v) => put(w, TYPE_BOOL, &[u8::from(*v)]),
            Value::String(s) => {
                w.put_u8(TYPE_STRING);
                w.string(s);
            }
            Value::Object(s) => {
                w.put_u8(TYPE_OBJECT);
                s.write(w);
            }
            Value::Array(a) => a.write(w),
        }
    }

    /// The value as an unsigned integer, if it is a non-negative integer of any width.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(v) => Some(v),
            Value::U32(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U8(v) => Some(v.into()),
            Value::I64(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I8(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// JSON rendering; see [`Section::to_json`].
    pub fn to_json(&self) -> Json {
        match self {
            Value::I64(v) => Json::from(*v),
            Value::I32(v) => Json::from(*v),
            Value::I16(v) => Json::from(*v),
            Value::I8(v) => Json::from(*v),
            Value::U64(v) => Json::from(*v),
            Value::U32(v) => Json::from(*v),
            Value::U16(v) => Json::from(*v),
            Value::U8(v) => Json::from(*v),
            Value::F64(v) => Json::from(*v),
            Value::Bool(v) => Json::from(*v),
            Value::String(s) => Json::from(hex::encode(s)),
            Value::Object(s) => s.to_json(),
            Value::Array(a) => a.to_json(),
        }
    }
}

fn put(w: &mut Writer, marker: u8, bytes: &[u8]) {
    w.put_u8(marker);
    w.put_slice(bytes);
}

impl Array {
    /// Reads the count and elements of an array of `ty` (marker already read).
    pub fn read(r: &mut Reader<'_>, ty: u8) -> Result<Array> {
        let n = r.array_len(ty)?;
        Ok(match ty {
            TYPE_I64 => Array::I64(read_pods!(r, n, i64)),
            TYPE_I32 => Array::I32(read_pods!(r, n, i32)),
            TYPE_I16 => Array::I16(read_pods!(r, n, i16)),
            TYPE_I8 => Array::I8(read_pods!(r, n, i8)),
            TYPE_U64 => Array::U64(read_pods!(r, n, u64)),
            TYPE_U32 => Array::U32(read_pods!(r, n, u32)),
            TYPE_U16 => Array::U16(read_pods!(r, n, u16)),
            TYPE_U8 => Array::U8(r.take(n)?.to_vec()),
            TYPE_F64 => Array::F64(read_pods!(r, n, f64)),
            TYPE_BOOL => {
                let raw = r.take(n)?;
                let mut v = Vec::with_capacity(n);
                for b in raw {
                    match b {
                        0 => v.push(false),
                        1 => v.push(true),
                        b => return Err(EpeeError::BadBool(*b)),
                    }
                }
                Array::Bool(v)
            }
            TYPE_STRING => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.string_body()?);
                }
                Array::String(v)
            }
            TYPE_OBJECT => {
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(Section::read_nested(r)?);
                }
                Array::Object(v)
            }
            TYPE_ARRAY => {
                if n > 0 && !r.nested_arrays() {
                    return Err(EpeeError::NestedArray);
                }
                r.enter()?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let m = r.u8()?;
                    if m & FLAG_ARRAY == 0 {
                        return Err(EpeeError::UnknownType(m));
                    }
                    v.push(Array::read(r, m & !FLAG_ARRAY)?);
                }
                r.leave();
                Array::Array(v)
            }
            other => return Err(EpeeError::UnknownType(other | FLAG_ARRAY)),
        })
    }

    fn type_code(&self) -> u8 {
        match self {
            Array::I64(_) => TYPE_I64,
            Array::I32(_) => TYPE_I32,
            Array::I16(_) => TYPE_I16,
            Array::I8(_) => TYPE_I8,
            Array::U64(_) => TYPE_U64,
            Array::U32(_) => TYPE_U32,
            Array::U16(_) => TYPE_U16,
            Array::U8(_) => TYPE_U8,
            Array::F64(_) => TYPE_F64,
            Array::Bool(_) => TYPE_BOOL,
            Array::String(_) => TYPE_STRING,
            Array::Object(_) => TYPE_OBJECT,
            Array::Array(_) => TYPE_ARRAY,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Array::I64(v) => v.len(),
            Array::I32(v) => v.len(),
            Array::I16(v) => v.len(),
            Array::I8(v) => v.len(),
            Array::U64(v) => v.len(),
            Array::U32(v) => v.len(),
            Array::U16(v) => v.len(),
            Array::U8(v) => v.len(),
            Array::F64(v) => v.len(),
            Array::Bool(v) => v.len(),
            Array::String(v) => v.len(),
            Array::Object(v) => v.len(),
            Array::Array(v) => v.len(),
        }
    }

    /// Whether the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes marker (type | array flag), count and elements.
    pub fn write(&self, w: &mut Writer) {
        w.put_u8(self.type_code() | FLAG_ARRAY);
        w.varint(self.len() as u64);
        match self {
            Array::I64(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::I32(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::I16(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::I8(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::U64(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::U32(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::U16(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::U8(v) => w.put_slice(v),
            Array::F64(v) => v.iter().for_each(|x| w.put_slice(&x.to_le_bytes())),
            Array::Bool(v) => v.iter().for_each(|x| w.put_u8(u8::from(*x))),
            Array::String(v) => v.iter().for_each(|s| w.string(s)),
            Array::Object(v) => v.iter().for_each(|s| s.write(w)),
            Array::Array(v) => v.iter().for_each(|a| a.write(w)),
        }
    }

    /// JSON rendering; see [`Section::to_json`].
    pub fn to_json(&self) -> Json {
        match self {
            Array::I64(v) => Json::from(v.clone()),
            Array::I32(v) => Json::from(v.clone()),
            Array::I16(v) => Json::from(v.iter().map(|x| i32::from(*x)).collect::<Vec<_>>()),
            Array::I8(v) => Json::from(v.iter().map(|x| i32::from(*x)).collect::<Vec<_>>()),
            Array::U64(v) => Json::from(v.clone()),
            Array::U32(v) => Json::from(v.clone()),
            Array::U16(v) => Json::from(v.iter().map(|x| u32::from(*x)).collect::<Vec<_>>()),
            Array::U8(v) => Json::from(v.iter().map(|x| u32::from(*x)).collect::<Vec<_>>()),
            Array::F64(v) => Json::from(v.clone()),
            Array::Bool(v) => Json::from(v.clone()),
            Array::String(v) => Json::Array(v.iter().map(|s| Json::from(hex::encode(s))).collect()),
            Array::Object(v) => Json::Array(v.iter().map(Section::to_json).collect()),
            Array::Array(v) => Json::Array(v.iter().map(Array::to_json).collect()),
        }
    }
}
