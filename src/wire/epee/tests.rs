//! Specifications of the portable-storage codec: bounds, conversions, byte-exactness.
#![allow(unreachable_pub)]

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::epee_object;
use crate::testdata::{files_with_ext, shared_subdir};

fn storage(build: impl FnOnce(&mut Writer)) -> Bytes {
    let mut w = Writer::default();
    w.put_slice(&HEADER);
    build(&mut w);
    Bytes::from(w.into_vec())
}

fn generic(b: &Bytes) -> Result<Section> {
    Section::from_storage(b, Limits::P2P)
}

epee_object! {
    /// A test struct covering each rule.
    pub struct Sample {
        a_list: seq(Hashes) = "a_list",
        flag: opt(bool, false) = "flag",
        height: req(u64) = "height",
        small: dflt(u16, 7) = "small",
    }
}

#[test]
fn varint_uses_the_narrowest_width_monerod_uses() {
    for (v, width) in [
        (0u64, 1usize),
        (63, 1),
        (64, 2),
        (16_383, 2),
        (16_384, 4),
        (1_073_741_823, 4),
        (1_073_741_824, 8),
        (MAX_VARINT, 8),
    ] {
        let mut w = Writer::default();
        w.varint(v);
        let out = w.into_vec();
        assert_eq!(out.len(), width, "width of {v}");
        let b = Bytes::from(out);
        let mut r = Reader::new(&b, 0, Limits::P2P);
        assert_eq!(r.varint().unwrap(), v);
        r.finish().unwrap();
    }
}

#[test]
fn accepts_a_wider_varint_than_needed_as_monerod_does() {
    // 5 written in four bytes: (5 << 2) | 2.
    let b = Bytes::from(((5u32 << 2) | 2).to_le_bytes().to_vec());
    let mut r = Reader::new(&b, 0, Limits::P2P);
    assert_eq!(r.varint().unwrap(), 5);
}

#[test]
fn rejects_bad_signature_version_and_trailing_bytes() {
    let mut bad = HEADER.to_vec();
    bad[0] = 2;
    bad.push(0);
    assert_eq!(generic(&Bytes::from(bad)), Err(EpeeError::BadSignature));
    let mut v2 = HEADER.to_vec();
    v2[8] = 2;
    v2.push(0);
    assert_eq!(generic(&Bytes::from(v2)), Err(EpeeError::BadVersion(2)));
    assert_eq!(
        generic(&Bytes::from_static(&HEADER[..5])),
        Err(EpeeError::BadSignature)
    );
    let trailing = storage(|w| {
        w.varint(0);
        w.put_u8(7);
    });
    assert_eq!(generic(&trailing), Err(EpeeError::TrailingBytes(1)));
    // Zero padding after the root is monerod's noise padding and is accepted.
    let padded = storage(|w| {
        w.varint(0);
        w.put_slice(&[0; 40]);
    });
    assert_eq!(generic(&padded), Ok(Section::default()));
}

#[test]
fn re_encoding_needs_the_padding_back_when_monerods_size_check_used_it() {
    // Found by the epee_storage fuzz target: an array of four strings (two bytes each
    // by monerod's count) passes the size check only thanks to two bytes of zero
    // padding after the root. Its canonical re-encoding drops the padding and is then
    // refused, by monerod as by us; with the padding back it decodes to the same tree.
    let crash = Bytes::from_static(&[
        0x01, 0x11, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x08, 0x01, 0x5f, 0x8a, 0x00, 0x03,
        0x74, 0x78, 0x73, 0x8a, 0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    let tree = generic(&crash).unwrap();
    let bare = Bytes::from(tree.to_storage());
    assert!(matches!(
        generic(&bare),
        Err(EpeeError::ArrayTooLong { .. })
    ));
    let mut padded = tree.to_storage();
    padded.resize(crash.len(), 0);
    assert_eq!(generic(&Bytes::from(padded)).unwrap(), tree);
}

#[test]
fn rejects_duplicate_field_names() {
    let dup = storage(|w| {
        w.varint(2);
        for _ in 0..2 {
            w.name(b"a");
            true.write(w);
        }
    });
    assert!(matches!(generic(&dup), Err(EpeeError::DuplicateField(_))));
    assert!(matches!(
        from_bytes::<Sample>(&dup),
        Err(EpeeError::DuplicateField(_))
    ));
    let dup_known = storage(|w| {
        w.varint(2);
        for _ in 0..2 {
            w.name(b"height");
            1u64.write(w);
        }
    });
    assert!(matches!(
        from_bytes::<Sample>(&dup_known),
        Err(EpeeError::DuplicateField(_))
    ));
}

#[test]
fn rejects_duplicates_among_many_unknown_fields_in_linear_time() {
    let n = 5000usize;
    let dup = storage(|w| {
        w.varint(n as u64 + 2);
        w.name(b"height");
        1u64.write(w);
        for i in 0..n {
            w.name(format!("f{i}").as_bytes());
            0u8.write(w);
        }
        w.name(b"f1234");
        0u8.write(w);
    });
    assert!(matches!(
        from_bytes::<Sample>(&dup),
        Err(EpeeError::DuplicateField(_))
    ));
}

fn nested(depth: usize) -> Bytes {
    storage(|w| {
        for _ in 0..depth {
            w.varint(1);
            w.name(b"d");
            w.put_u8(TYPE_OBJECT);
        }
        w.varint(0);
    })
}

#[test]
fn bounds_nesting_depth() {
    // The root is level 1; MAX_DEPTH - 1 nested objects fit.
    assert!(generic(&nested(MAX_DEPTH - 1)).is_ok());
    assert_eq!(
        generic(&nested(MAX_DEPTH)),
        Err(EpeeError::TooDeep(MAX_DEPTH))
    );
    assert_eq!(generic(&nested(10_000)), Err(EpeeError::TooDeep(MAX_DEPTH)));
    // Skipping an unknown field is bounded the same way.
    let deep_unknown = storage(|w| {
        w.varint(2);
        w.name(b"height");
        1u64.write(w);
        w.name(b"x");
        w.put_u8(TYPE_OBJECT);
        for _ in 0..100 {
            w.varint(1);
            w.name(b"d");
            w.put_u8(TYPE_OBJECT);
        }
        w.varint(0);
    });
    assert_eq!(
        from_bytes::<Sample>(&deep_unknown),
        Err(EpeeError::TooDeep(MAX_DEPTH))
    );
}

#[test]
fn a_short_input_declaring_a_huge_array_is_refused_before_allocating() {
    for ty in [TYPE_U64, TYPE_STRING, TYPE_OBJECT, TYPE_U8, TYPE_ARRAY] {
        let b = storage(|w| {
            w.varint(1);
            w.name(b"a");
            w.put_u8(ty | FLAG_ARRAY);
            w.varint(1 << 40);
            w.put_slice(&[0; 64]);
        });
        assert!(
            matches!(generic(&b), Err(EpeeError::ArrayTooLong { .. })),
            "type {ty}"
        );
    }
    // Strings count two bytes each, as monerod's ps_min_bytes.
    let b = storage(|w| {
        w.varint(1);
        w.name(b"a");
        w.put_u8(TYPE_STRING | FLAG_ARRAY);
        w.varint(10);
        w.put_slice(&[0; 10]);
    });
    assert!(matches!(generic(&b), Err(EpeeError::ArrayTooLong { .. })));
}

#[test]
fn a_huge_string_length_is_refused() {
    let b = storage(|w| {
        w.varint(1);
        w.name(b"s");
        w.put_u8(TYPE_STRING);
        w.varint(1 << 33);
    });
    assert!(matches!(generic(&b), Err(EpeeError::StringTooLong(_))));
}

#[test]
fn counts_objects_fields_and_strings_like_monerod() {
    let objects = storage(|w| {
        w.varint(1);
        w.name(b"o");
        w.put_u8(TYPE_OBJECT | FLAG_ARRAY);
        w.varint(8193);
        for _ in 0..8193 {
            w.varint(0);
        }
    });
    assert_eq!(generic(&objects), Err(EpeeError::TooManyObjects(8192)));
    let strings = storage(|w| {
        w.varint(1);
        w.name(b"s");
        w.put_u8(TYPE_STRING | FLAG_ARRAY);
        w.varint(16385);
        for _ in 0..16385 {
            w.string(b"x");
        }
    });
    assert_eq!(generic(&strings), Err(EpeeError::TooManyStrings(16384)));
    let fields = storage(|w| {
        w.varint(16385);
    });
    assert_eq!(generic(&fields), Err(EpeeError::TooManyFields(16384)));
    // The RPC limits let the same objects through.
    assert!(Section::from_storage(&objects, Limits::RPC).is_ok());
}

#[test]
fn rejects_bad_bools_empty_names_and_unknown_types() {
    let b = storage(|w| {
        w.varint(1);
        w.name(b"b");
        w.put_u8(TYPE_BOOL);
        w.put_u8(2);
    });
    assert_eq!(generic(&b), Err(EpeeError::BadBool(2)));
    let b = storage(|w| {
        w.varint(1);
        w.put_u8(0);
        w.put_u8(TYPE_U8);
        w.put_u8(0);
    });
    assert_eq!(generic(&b), Err(EpeeError::EmptyName));
    let b = storage(|w| {
        w.varint(1);
        w.name(b"x");
        w.put_u8(14);
    });
    assert_eq!(generic(&b), Err(EpeeError::UnknownType(14)));
}

#[test]
fn nested_arrays_are_refused_on_p2p_as_monerod_cannot_read_them() {
    let b = storage(|w| {
        w.varint(1);
        w.name(b"aa");
        w.put_u8(TYPE_ARRAY | FLAG_ARRAY);
        w.varint(2);
        w.put_u8(TYPE_U8 | FLAG_ARRAY);
        w.varint(1);
        w.put_u8(9);
        w.put_u8(TYPE_STRING | FLAG_ARRAY);
        w.varint(0);
    });
    assert_eq!(generic(&b), Err(EpeeError::NestedArray));
    let s = Section::from_storage(&b, Limits::TOOLS).unwrap();
    assert_eq!(s.to_storage(), b.to_vec());
    // An empty array of arrays is fine even for monerod.
    let empty = storage(|w| {
        w.varint(1);
        w.name(b"aa");
        w.put_u8(TYPE_ARRAY | FLAG_ARRAY);
        w.varint(0);
    });
    assert!(generic(&empty).is_ok());
}

#[test]
fn a_bare_array_marker_must_be_followed_by_an_array_type() {
    let ok = storage(|w| {
        w.varint(1);
        w.name(b"a");
        w.put_u8(TYPE_ARRAY);
        w.put_u8(TYPE_U8 | FLAG_ARRAY);
        w.varint(1);
        w.put_u8(3);
    });
    assert_eq!(
        generic(&ok).unwrap().get("a"),
        Some(&Value::Array(Array::U8(vec![3])))
    );
    let bad = storage(|w| {
        w.varint(1);
        w.name(b"a");
        w.put_u8(TYPE_ARRAY);
        w.put_u8(TYPE_U8);
    });
    assert!(generic(&bad).is_err());
}

fn sample_with_height(write_height: impl FnOnce(&mut Writer)) -> Result<Sample> {
    let b = storage(|w| {
        w.varint(1);
        w.name(b"height");
        write_height(w);
    });
    from_bytes::<Sample>(&b)
}

#[test]
fn integers_convert_between_widths_with_range_checks_as_monerod() {
    assert_eq!(sample_with_height(|w| 5u32.write(w)).unwrap().height, 5);
    assert_eq!(sample_with_height(|w| 5i8.write(w)).unwrap().height, 5);
    assert_eq!(
        sample_with_height(|w| (-1i64).write(w)),
        Err(EpeeError::OutOfRange("height"))
    );
    assert!(matches!(
        sample_with_height(|w| Bytes::from_static(b"5").write(w)),
        Err(EpeeError::WrongType { .. })
    ));
    assert!(matches!(
        sample_with_height(|w| true.write(w)),
        Err(EpeeError::WrongType { .. })
    ));
    let b = storage(|w| {
        w.varint(2);
        w.name(b"height");
        1u64.write(w);
        w.name(b"small");
        70_000u32.write(w);
    });
    assert_eq!(
        from_bytes::<Sample>(&b),
        Err(EpeeError::OutOfRange("small"))
    );
}

#[test]
fn a_missing_required_field_is_refused_and_defaults_fill_the_rest() {
    let b = storage(|w| w.varint(0));
    assert_eq!(
        from_bytes::<Sample>(&b),
        Err(EpeeError::MissingField("height"))
    );
    let s = sample_with_height(|w| 9u64.write(w)).unwrap();
    assert_eq!((s.height, s.small, s.flag, s.a_list.len()), (9, 7, None, 0));
}

#[test]
fn blob_fields_must_have_their_exact_size() {
    let b = storage(|w| {
        w.varint(2);
        w.name(b"a_list");
        Bytes::from_static(&[0; 33]).write(w);
        w.name(b"height");
        1u64.write(w);
    });
    assert_eq!(
        from_bytes::<Sample>(&b),
        Err(EpeeError::BadBlobLength {
            field: "a_list",
            len: 33
        })
    );
}

#[test]
fn canonical_encoding_is_sorted_and_omits_defaults_and_empties() {
    let s = Sample {
        height: 3,
        small: 7,
        flag: Some(false),
        ..Sample::default()
    };
    let b = to_bytes(&s);
    let tree = Section::from_storage(&Bytes::from(b.clone()), Limits::P2P).unwrap();
    let names: Vec<&[u8]> = tree.0.iter().map(|(k, _)| k.as_ref()).collect();
    // flag == default and the empty list are left out; dflt fields are always written.
    assert_eq!(names, vec![&b"height"[..], &b"small"[..]]);
}

#[test]
fn re_encoding_keeps_the_received_order_and_explicit_defaults() {
    let b = storage(|w| {
        w.varint(3);
        w.name(b"small");
        7u16.write(w);
        w.name(b"flag");
        false.write(w);
        w.name(b"height");
        1u64.write(w);
    });
    let s: Sample = from_bytes(&b).unwrap();
    assert!(!s.layout.is_canonical());
    assert_eq!(to_bytes(&s), b.to_vec());
    // A canonical message decodes to the canonical layout.
    let c = to_bytes(&Sample {
        height: 1,
        ..Sample::default()
    });
    let s: Sample = from_bytes(&Bytes::from(c)).unwrap();
    assert!(s.layout.is_canonical());
}

#[test]
fn shared_epee_samples_decode_re_encode_or_are_refused_as_indexed() {
    let Some(dir) = shared_subdir("vectors/epee") else {
        return;
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let samples = index["samples"].as_array().unwrap();
    assert_eq!(samples.len(), files_with_ext(&dir, "bin").len());
    for s in samples {
        let file = s["file"].as_str().unwrap().trim_start_matches("epee/");
        let raw = Bytes::from(std::fs::read(dir.join(file)).unwrap());
        let got = Section::from_storage(&raw, Limits::P2P);
        match s["expect"].as_str().unwrap() {
            "ok" => {
                let tree = got.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(tree.to_storage(), raw.to_vec(), "{file}: not byte-exact");
            }
            "error" => assert!(got.is_err(), "{file}: should be refused"),
            _ => {
                // Robustness inputs: must not panic; what is accepted must re-encode
                // to something that decodes again.
                if let Ok(tree) = got {
                    let again = Bytes::from(tree.to_storage());
                    assert!(Section::from_storage(&again, Limits::P2P).is_ok(), "{file}");
                }
            }
        }
    }
}

fn arb_section(depth: u32) -> impl Strategy<Value = Section> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::I64),
        any::<u32>().prop_map(Value::U32),
        any::<u8>().prop_map(Value::U8),
        any::<i16>().prop_map(Value::I16),
        any::<bool>().prop_map(Value::Bool),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(|v| Value::String(Bytes::from(v))),
        proptest::collection::vec(any::<u64>(), 0..5).prop_map(|v| Value::Array(Array::U64(v))),
        proptest::collection::vec(any::<u8>(), 0..70).prop_map(|v| Value::Array(Array::U8(v))),
        // Non-empty strings: monerod counts 2 bytes per array string, so an array of empty
        // strings ending the storage is refused by monerod and by us.
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..3), 0..4)
            .prop_map(|v| Value::Array(Array::String(v.into_iter().map(Bytes::from).collect()))),
    ];
    let value = leaf.prop_recursive(depth, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(("[a-z]{1,6}", inner.clone()), 0..4)
                .prop_map(|kv| { Value::Object(dedup(kv)) }),
            proptest::collection::vec(proptest::collection::vec(("[a-z]{1,6}", inner), 0..3), 0..3)
                .prop_map(|v| Value::Array(Array::Object(v.into_iter().map(dedup).collect()))),
        ]
    });
    proptest::collection::vec(("[a-z]{1,6}", value), 0..6).prop_map(dedup)
}

fn dedup(kv: Vec<(String, Value)>) -> Section {
    let mut seen = std::collections::HashSet::new();
    Section(
        kv.into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .map(|(k, v)| (Bytes::from(k), v))
            .collect(),
    )
}

proptest! {
    #[test]
    fn any_tree_round_trips(s in arb_section(4)) {
        let b = Bytes::from(s.to_storage());
        let back = Section::from_storage(&b, Limits::P2P).unwrap();
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(back.to_storage(), b.to_vec());
    }

    #[test]
    fn truncations_of_a_valid_storage_are_refused_without_panic(s in arb_section(3), cut in any::<prop::sample::Index>()) {
        let b = s.to_storage();
        let n = cut.index(b.len());
        if n < b.len() {
            let t = Bytes::copy_from_slice(&b[..n]);
            prop_assert!(Section::from_storage(&t, Limits::P2P).is_err());
        }
    }
}
