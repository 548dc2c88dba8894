//! `epee_object!`: declares a message struct once and derives its typed decoder (in
//! place, no tree), its byte-exact encoder and its canonical (monerod) field layout.

/// Defines a struct encoded as a section, with its typed decoder and encoder.
///
/// Each field names its rule, mirroring the monerod macro it stands for:
/// - `req(T)`: `KV_SERIALIZE`; must be present; always written.
/// - `opt(T, d)`: `KV_SERIALIZE_OPT(x, d)`; an `Option<T>`; written when not `d`.
/// - `dflt(T, d)`: read as optional with default `d`, always written (monerod's
///   `cumulative_difficulty_top64`).
/// - `seq(T)`: a container; absent means empty; written when not empty.
///
/// Fields must be listed in bytewise name order (checked at compile time), the order
/// monerod's `std::map` writes them in.
#[macro_export]
macro_rules! epee_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $rule:ident ( $ty:ty $(, $def:expr)? ) = $wire:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::epee_object!(@ty $rule $ty), )*
            /// Order and presence of the fields as received; canonical when built here.
            pub layout: $crate::wire::epee::FieldLayout,
        }

        impl $name {
            const NAMES: &'static [&'static str] = &[$($wire),*];
            const _SORTED: () = {
                assert!(
                    $crate::wire::epee::typed_support::names_sorted($name::NAMES),
                    "epee_object fields must be listed in bytewise name order"
                );
                assert!(
                    $name::NAMES.len() <= $crate::wire::epee::FieldLayout::MAX_FIELDS,
                    "epee_object supports at most 15 fields"
                );
            };

            /// The layout monerod would write for this value.
            pub fn canonical_layout(&self) -> $crate::wire::epee::FieldLayout {
                let mut l = $crate::wire::epee::FieldLayout::CANONICAL;
                let mut _i = 0usize;
                $(
                    if $crate::epee_object!(@canon $rule self.$field $(, $def)?) {
                        l.push(_i);
                    }
                    _i += 1;
                )*
                l
            }

            #[allow(unused_assignments, unused_variables)]
            fn write_field(&self, idx: usize, w: &mut $crate::wire::epee::Writer) -> bool {
                let mut _i = 0usize;
                $(
                    if idx == _i {
                        return $crate::epee_object!(@write $rule self.$field, $wire, w);
                    }
                    _i += 1;
                )*
                false
            }

            #[allow(unused_assignments, unused_variables)]
            fn has_field(&self, idx: usize) -> bool {
                let mut _i = 0usize;
                $(
                    if idx == _i {
                        return $crate::epee_object!(@has $rule self.$field);
                    }
                    _i += 1;
                )*
                false
            }
        }

        impl $crate::wire::epee::EpeeObject for $name {
            #[inline]
            fn read_fields(
                r: &mut $crate::wire::epee::Reader<'_>,
                count: usize,
            ) -> $crate::wire::epee::typed_support::Result<Self> {
                let mut v = <$name as Default>::default();
                <$name as $crate::wire::epee::EpeeObject>::read_fields_into(r, count, &mut v)?;
                Ok(v)
            }

            #[inline]
            #[allow(unused_assignments, unused_variables, unused_mut)]
            fn read_fields_into(
                r: &mut $crate::wire::epee::Reader<'_>,
                count: usize,
                out: &mut Self,
            ) -> $crate::wire::epee::typed_support::Result<()> {
                let () = $name::_SORTED;
                let mut seen: u32 = 0;
                let mut layout = $crate::wire::epee::FieldLayout::CANONICAL;
                let mut unknown = $crate::wire::epee::typed_support::SeenNames::default();
                'fields: for _ in 0..count {
                    let name = r.name()?;
                    let marker = r.marker()?;
                    let mut _i = 0usize;
                    $(
                        if name == $wire.as_bytes() {
                            if seen & (1 << _i) != 0 {
                                return Err($crate::wire::epee::EpeeError::DuplicateField($wire.into()));
                            }
                            seen |= 1 << _i;
                            $crate::epee_object!(@read $rule out.$field, $ty, r, marker, $wire);
                            layout.push(_i);
                            continue 'fields;
                        }
                        _i += 1;
                    )*
                    unknown.insert(name)?;
                    r.skip_value(marker)?;
                }
                let mut _i = 0usize;
                $(
                    if seen & (1 << _i) == 0 {
                        $crate::epee_object!(@absent $rule out.$field, $wire $(, $def)?);
                    }
                    _i += 1;
                )*
                out.layout = layout.normalize(out.canonical_layout());
                Ok(())
            }

            fn write_section(&self, w: &mut $crate::wire::epee::Writer) {
                let layout = if self.layout.is_canonical() {
                    self.canonical_layout()
                } else {
                    self.layout
                };
                let n = layout.iter().filter(|&i| self.has_field(i)).count();
                w.varint(n as u64);
                for i in layout.iter() {
                    self.write_field(i, w);
                }
            }
        }

        impl $crate::wire::epee::EpeeValue for $name {
            fn read(
                r: &mut $crate::wire::epee::Reader<'_>,
                marker: u8,
                field: &'static str,
            ) -> $crate::wire::epee::typed_support::Result<Self> {
                $crate::wire::epee::typed_support::read_object(r, marker, field)
            }
            #[inline]
            fn read_into(
                &mut self,
                r: &mut $crate::wire::epee::Reader<'_>,
                marker: u8,
                field: &'static str,
            ) -> $crate::wire::epee::typed_support::Result<()> {
                $crate::wire::epee::typed_support::read_object_into(r, marker, field, self)
            }
            fn write(&self, w: &mut $crate::wire::epee::Writer) {
                w.put_u8($crate::wire::epee::TYPE_OBJECT);
                $crate::wire::epee::EpeeObject::write_section(self, w);
            }
        }
    };

    (@ty req $t:ty) => { $t };
    (@ty opt $t:ty) => { Option<$t> };
    (@ty dflt $t:ty) => { $t };
    (@ty seq $t:ty) => { $t };

    (@canon req $v:expr) => { true };
    (@canon opt $v:expr, $d:expr) => { matches!(&$v, Some(x) if *x != $d) };
    (@canon dflt $v:expr, $d:expr) => { true };
    (@canon seq $v:expr) => { !$crate::wire::epee::EpeeValue::is_empty_seq(&$v) };

    (@has req $v:expr) => { true };
    (@has opt $v:expr) => { $v.is_some() };
    (@has dflt $v:expr) => { true };
    (@has seq $v:expr) => { true };

    (@write opt $v:expr, $wire:literal, $w:ident) => {
        match &$v {
            Some(x) => {
                $w.name($wire.as_bytes());
                $crate::wire::epee::EpeeValue::write(x, $w);
                true
            }
            None => false,
        }
    };
    (@write $rule:ident $v:expr, $wire:literal, $w:ident) => {{
        $w.name($wire.as_bytes());
        $crate::wire::epee::EpeeValue::write(&$v, $w);
        true
    }};

    (@read opt $dst:expr, $ty:ty, $r:ident, $m:ident, $wire:literal) => {
        $dst = Some(<$ty as $crate::wire::epee::EpeeValue>::read($r, $m, $wire)?)
    };
    (@read $rule:ident $dst:expr, $ty:ty, $r:ident, $m:ident, $wire:literal) => {
        <$ty as $crate::wire::epee::EpeeValue>::read_into(&mut $dst, $r, $m, $wire)?
    };

    (@absent req $dst:expr, $wire:literal) => {
        return Err($crate::wire::epee::EpeeError::MissingField($wire))
    };
    (@absent opt $dst:expr, $wire:literal, $d:expr) => { $dst = None };
    (@absent dflt $dst:expr, $wire:literal, $d:expr) => { $dst = $d };
    (@absent seq $dst:expr, $wire:literal) => { $dst = Default::default() };
}
