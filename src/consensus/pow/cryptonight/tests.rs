//! CryptoNight against monerod's own vectors (`tests/hash/tests-slow*.txt` and the
//! finalisers' `tests-extra-*.txt`), real mainnet blocks, and the API's edges.
//!
//! The vectors live in `../shared/vectors/crypto/` (see `crate::testdata`); tests that
//! need them print why and pass when they are absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;

use super::keccak_state::{keccak1600, state_bytes, FinalHash};
use super::*;

/// A vectors file under `vectors/crypto/`, or None after printing why the test skips.
fn vectors_path(rel: &str) -> Option<PathBuf> {
    let Some(dir) = crate::testdata::shared_dir().map(|d| d.join("vectors/crypto")) else {
        eprintln!("skipping: shared test data (../shared) not found");
        return None;
    };
    let path = dir.join(rel);
    if !path.is_file() {
        eprintln!("skipping: {} not found", path.display());
        return None;
    }
    Some(path)
}

/// One line of monerod's hash vectors: expected hash, input, optional height.
struct HashLine {
    expected: [u8; 32],
    input: Vec<u8>,
    height: Option<u64>,
}

/// The lines of `monero-tests-hash/<name>` (formats in its `formats.json`; "x" is the
/// empty input).
fn hash_lines(name: &str) -> Option<Vec<HashLine>> {
    let path = vectors_path(&format!("monero-tests-hash/{name}"))?;
    let text = std::fs::read_to_string(path).unwrap();
    let lines = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split_whitespace();
            let expected = hex::decode(f.next().unwrap()).unwrap().try_into().unwrap();
            let input = match f.next().unwrap() {
                "x" => Vec::new(),
                h => hex::decode(h).unwrap(),
            };
            let height = f.next().map(|h| h.parse().unwrap());
            HashLine {
                expected,
                input,
                height,
            }
        })
        .collect();
    Some(lines)
}

/// Every line of a tests-slow file hashes to its expected value; returns how many.
fn check_slow_vectors(name: &str, variant: CnVariant) -> usize {
    let Some(lines) = hash_lines(name) else {
        return 0;
    };
    assert!(!lines.is_empty(), "{name} is empty");
    let mut hasher = CnHasher::new();
    for (i, line) in lines.iter().enumerate() {
        let height = line.height.unwrap_or(0);
        let got = hasher.hash(&line.input, variant, height).unwrap();
        assert_eq!(
            hex::encode(got),
            hex::encode(line.expected),
            "{name} line {}",
            i + 1
        );
    }
    lines.len()
}

#[test]
fn variant_0_matches_monerods_tests_slow() {
    let n = check_slow_vectors("tests-slow.txt", CnVariant::V0);
    eprintln!("variant 0: {n} vectors");
}

#[test]
fn variant_1_matches_monerods_tests_slow_1() {
    let n = check_slow_vectors("tests-slow-1.txt", CnVariant::V1);
    eprintln!("variant 1: {n} vectors");
}

#[test]
fn variant_2_matches_monerods_tests_slow_2() {
    let n = check_slow_vectors("tests-slow-2.txt", CnVariant::V2);
    eprintln!("variant 2: {n} vectors");
}

#[test]
fn variant_r_matches_monerods_tests_slow_4() {
    let Some(lines) = hash_lines("tests-slow-4.txt") else {
        return;
    };
    assert!(
        lines.iter().all(|l| l.height.is_some()),
        "R vectors carry heights"
    );
    let n = check_slow_vectors("tests-slow-4.txt", CnVariant::R);
    eprintln!("variant 4 (R): {n} vectors");
}

fn check_final_hash(name: &str, which: FinalHash) {
    let Some(lines) = hash_lines(name) else {
        return;
    };
    assert!(!lines.is_empty());
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(
            which.hash(&line.input),
            line.expected,
            "{name} line {}",
            i + 1
        );
    }
}

#[test]
fn blake_256_matches_monerods_tests_extra_blake() {
    check_final_hash("tests-extra-blake.txt", FinalHash::Blake256);
}

#[test]
fn groestl_256_matches_monerods_tests_extra_groestl() {
    check_final_hash("tests-extra-groestl.txt", FinalHash::Groestl256);
}

#[test]
fn jh_256_matches_monerods_tests_extra_jh() {
    check_final_hash("tests-extra-jh.txt", FinalHash::Jh256);
}

#[test]
fn skein_512_256_matches_monerods_tests_extra_skein() {
    check_final_hash("tests-extra-skein.txt", FinalHash::Skein512_256);
}

/// The Keccak state's first 32 bytes are `cn_fast_hash`: checks the sponge (rate,
/// padding, multi-block input) against monerod's tests-fast.txt.
#[test]
fn keccak_state_starts_with_cn_fast_hash() {
    let Some(lines) = hash_lines("tests-fast.txt") else {
        return;
    };
    assert!(
        lines.iter().any(|l| l.input.len() > 136),
        "multi-block inputs"
    );
    for (i, line) in lines.iter().enumerate() {
        let bytes = state_bytes(&keccak1600(&line.input));
        assert_eq!(bytes[..32], line.expected, "tests-fast.txt line {}", i + 1);
    }
}

#[test]
fn final_hash_is_chosen_by_the_low_two_bits() {
    assert_eq!(FinalHash::for_state(0x00), FinalHash::Blake256);
    assert_eq!(FinalHash::for_state(0xfd), FinalHash::Groestl256);
    assert_eq!(FinalHash::for_state(0x12), FinalHash::Jh256);
    assert_eq!(FinalHash::for_state(0x07), FinalHash::Skein512_256);
}

/// Real mainnet blocks: their hashing blobs hash to the PoW hash monerod computed.
#[test]
fn hashes_real_mainnet_blocks_in_their_variant() {
    let Some(path) = vectors_path("pow_real_blocks.json") else {
        return;
    };
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = json["vectors"].as_array().unwrap();
    let mut hasher = CnHasher::new();
    for (height, variant) in [(202_609u64, CnVariant::V0), (1_731_606, CnVariant::V2)] {
        let v = vectors
            .iter()
            .find(|v| v["height"].as_u64() == Some(height))
            .unwrap();
        let major = u8::try_from(v["major_version"].as_u64().unwrap()).unwrap();
        assert_eq!(
            cn_variant_for_major_version(major),
            Some(variant),
            "block {height}"
        );
        let blob = hex::decode(v["hashing_blob"].as_str().unwrap()).unwrap();
        let got = hasher.hash(&blob, variant, height).unwrap();
        assert_eq!(
            hex::encode(got),
            v["pow_hash"].as_str().unwrap(),
            "block {height}"
        );
    }
}

#[test]
fn variant_follows_monerods_get_block_longhash() {
    for major in 0..=6 {
        assert_eq!(cn_variant_for_major_version(major), Some(CnVariant::V0));
    }
    assert_eq!(cn_variant_for_major_version(7), Some(CnVariant::V1));
    assert_eq!(cn_variant_for_major_version(8), Some(CnVariant::V2));
    assert_eq!(cn_variant_for_major_version(9), Some(CnVariant::V2));
    assert_eq!(cn_variant_for_major_version(10), Some(CnVariant::R));
    assert_eq!(cn_variant_for_major_version(11), Some(CnVariant::R));
    for major in 12..=u8::MAX {
        assert_eq!(cn_variant_for_major_version(major), None, "RandomX");
    }
}

#[test]
fn rejects_input_shorter_than_43_bytes_for_variant_1() {
    for len in [0, 1, 42] {
        let input = vec![0u8; len];
        assert_eq!(
            cn_slow_hash(&input, CnVariant::V1, 0),
            Err(CnError::InputTooShortForV1 { len })
        );
    }
    assert!(cn_slow_hash(&[0u8; 43], CnVariant::V1, 0).is_ok());
}

#[test]
fn other_variants_hash_short_and_empty_input() {
    let mut hasher = CnHasher::new();
    for variant in [CnVariant::V0, CnVariant::V2, CnVariant::R] {
        assert!(hasher.hash(&[], variant, 1_806_260).is_ok());
    }
}

#[test]
fn one_changed_byte_changes_the_hash_in_every_variant() {
    let mut input = b"This is a test This is a test This is a test".to_vec();
    let mut hasher = CnHasher::new();
    for variant in [CnVariant::V0, CnVariant::V1, CnVariant::V2, CnVariant::R] {
        let before = hasher.hash(&input, variant, 1_806_260).unwrap();
        input[40] ^= 1;
        let after = hasher.hash(&input, variant, 1_806_260).unwrap();
        input[40] ^= 1;
        assert_ne!(before, after, "{variant:?}");
    }
}

/// A reused hasher (dirty scratchpad, cached R program) agrees with a fresh one, and R
/// depends on the height.
#[test]
fn a_reused_hasher_agrees_with_a_fresh_one() {
    let input = b"Lorem ipsum dolor sit amet, consectetur adipiscing";
    let mut hasher = CnHasher::new();
    let r_a = hasher.hash(input, CnVariant::R, 1_806_260).unwrap();
    let r_b = hasher.hash(input, CnVariant::R, 1_806_261).unwrap();
    assert_ne!(r_a, r_b, "the program depends on the height");
    assert_eq!(hasher.hash(input, CnVariant::R, 1_806_260).unwrap(), r_a);
    let v2 = hasher.hash(input, CnVariant::V2, 0).unwrap();
    assert_eq!(cn_slow_hash(input, CnVariant::V2, 0).unwrap(), v2);
    assert_eq!(cn_slow_hash(input, CnVariant::R, 1_806_261).unwrap(), r_b);
}

#[test]
fn hasher_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<CnHasher>();
}
