//! Pre-RingCT ring signatures: the signatures of version-1 transactions.
//!
//! monerod's `crypto::check_ring_signature(prefix_hash, image, pubs, sigs)`
//! (`src/crypto/crypto.cpp`), as called per input by `Blockchain::check_tx_inputs` with the
//! transaction prefix hash and the output keys of the input's ring:
//!
//! 1. the key image must decode (`ge_frombytes_vartime`: a canonical `y` below p, on the
//!    curve, no "negative zero" `x`); its subgroup is **not** checked here;
//! 2. for each ring member `i`, in order: `c_i` and `r_i` must be reduced scalars
//!    (`sc_check`: below the group order l), the member's key `P_i` must decode, then
//!    `L_i = c_i·P_i + r_i·G` and `R_i = r_i·Hp(P_i) + c_i·I` (`Hp` = `hash_to_ec`: Keccak,
//!    Elligator-style map, times 8);
//! 3. the signature holds iff `Keccak(prefix_hash ‖ L_0 ‖ R_0 ‖ … ) mod l == Σ c_i`.
//!
//! The key image's domain (not the identity, `l·I` the identity) is a separate rule of
//! monerod's `core::check_tx_inputs_keyimages_domain`, applied to every transaction before
//! its inputs are checked: [`key_image_in_domain`].

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use monero_oxide::ed25519::{CompressedPoint, Point};
use monero_oxide::primitives::keccak256;
use monero_oxide::transaction::{Input, Transaction};

/// One ring member's part of a ring signature, `crypto::signature`: the challenge `c` and
/// the response `r`, 32 bytes each, stored `c ‖ r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingSigElement {
    /// The challenge scalar.
    pub c: [u8; 32],
    /// The response scalar.
    pub r: [u8; 32],
}

impl RingSigElement {
    /// Splits 64 bytes `c ‖ r`.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        let mut c = [0u8; 32];
        let mut r = [0u8; 32];
        c.copy_from_slice(&bytes[..32]);
        r.copy_from_slice(&bytes[32..]);
        Self { c, r }
    }
}

/// Splits the raw signatures of one input (`n × (c ‖ r)`) into elements; `None` when the
/// length is not a multiple of 64.
pub fn parse_ring_signature(bytes: &[u8]) -> Option<Vec<RingSigElement>> {
    if bytes.len() % 64 != 0 {
        return None;
    }
    bytes
        .chunks_exact(64)
        .map(|ch| {
            <&[u8; 64]>::try_from(ch)
                .ok()
                .map(RingSigElement::from_bytes)
        })
        .collect()
}

/// Why a pre-RingCT ring signature is refused, in the order monerod checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RingSigError {
    /// `check_tx_input`: the signature has not one element per ring member.
    #[error("{sigs} signature elements for a ring of {ring}")]
    CountMismatch {
        /// Ring members.
        ring: usize,
        /// Signature elements.
        sigs: usize,
    },
    /// The key image does not decode (`ge_frombytes_vartime`).
    #[error("the key image is not a canonical curve point")]
    KeyImage,
    /// `sc_check` of `c` or `r` of ring member `i` fails.
    #[error("ring member {0}: c or r is not a reduced scalar")]
    Scalar(usize),
    /// The key of ring member `i` does not decode.
    #[error("ring member {0}: the public key is not a canonical curve point")]
    Key(usize),
    /// The challenges do not sum to the transcript hash.
    #[error("the ring equation does not hold")]
    Equation,
    /// The transaction is not a version-1 transaction with that input.
    #[error("not a pre-RingCT input: {0}")]
    Shape(&'static str),
}

/// `sc_check`: the 32 bytes are a scalar below the group order l.
fn reduced_scalar(bytes: &[u8; 32]) -> Option<Scalar> {
    Option::from(Scalar::from_canonical_bytes(*bytes))
}

/// `ge_frombytes_vartime`: canonical encoding of a curve point.
fn decode_point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    CompressedPoint::from(*bytes).decompress().map(Point::into)
}

/// monerod `hash_to_ec`: `8 · map(Keccak(key))`.
pub fn hash_to_ec(key: &[u8; 32]) -> [u8; 32] {
    Point::biased_hash(*key).compress().to_bytes()
}

/// `crypto::check_ring_signature` with the reason it fails.
pub fn verify_ring_signature(
    prefix_hash: &[u8; 32],
    key_image: &[u8; 32],
    ring: &[[u8; 32]],
    sigs: &[RingSigElement],
) -> Result<(), RingSigError> {
    if ring.len() != sigs.len() {
        return Err(RingSigError::CountMismatch {
            ring: ring.len(),
            sigs: sigs.len(),
        });
    }
    let image = decode_point(key_image).ok_or(RingSigError::KeyImage)?;
    let mut transcript = Vec::with_capacity(32 + 64 * ring.len());
    transcript.extend_from_slice(prefix_hash);
    let mut sum = Scalar::ZERO;
    for (i, (key, sig)) in ring.iter().zip(sigs).enumerate() {
        let (Some(c), Some(r)) = (reduced_scalar(&sig.c), reduced_scalar(&sig.r)) else {
            return Err(RingSigError::Scalar(i));
        };
        let p = decode_point(key).ok_or(RingSigError::Key(i))?;
        let l = EdwardsPoint::vartime_double_scalar_mul_basepoint(&c, &p, &r);
        transcript.extend_from_slice(l.compress().as_bytes());
        let hp = Point::biased_hash(*key).into();
        let rr = EdwardsPoint::vartime_multiscalar_mul([r, c], [hp, image]);
        transcript.extend_from_slice(rr.compress().as_bytes());
        sum += c;
    }
    // hash_to_scalar, then `sc_isnonzero(h - sum) == 0`.
    let h = Scalar::from_bytes_mod_order(keccak256(&transcript));
    if h == sum {
        Ok(())
    } else {
        Err(RingSigError::Equation)
    }
}

/// `crypto::check_ring_signature`: whether the ring signature holds.
pub fn check_ring_signature(
    prefix_hash: &[u8; 32],
    key_image: &[u8; 32],
    ring: &[[u8; 32]],
    sigs: &[RingSigElement],
) -> bool {
    verify_ring_signature(prefix_hash, key_image, ring, sigs).is_ok()
}

/// `core::check_tx_inputs_keyimages_domain` for one key image: it decodes, is not the
/// identity, and `l·I` is the identity (it lies in the prime-order subgroup).
pub fn key_image_in_domain(key_image: &[u8; 32]) -> bool {
    decode_point(key_image).is_some_and(|p| !p.is_identity() && p.is_torsion_free())
}

/// The prefix hash a version-1 transaction's ring signatures sign (`get_transaction_prefix_hash`).
pub fn v1_prefix_hash(tx: &Transaction) -> Option<[u8; 32]> {
    match tx {
        Transaction::V1 { .. } => tx.signature_hash(),
        Transaction::V2 { .. } => None,
    }
}

/// The ring signature of input `input` of a version-1 transaction, as bytes (`n × (c ‖ r)`).
pub fn v1_input_signature(tx: &Transaction, input: usize) -> Option<Vec<RingSigElement>> {
    let Transaction::V1 { signatures, .. } = tx else {
        return None;
    };
    let mut raw = Vec::new();
    signatures.get(input)?.write(&mut raw).ok()?;
    parse_ring_signature(&raw)
}

/// Input `input` of a version-1 transaction against the output keys of its ring, in the
/// ring's order (the absolute offsets): `Blockchain::check_tx_input` (one signature element
/// per member) and `check_ring_signature` over the prefix hash.
pub fn verify_v1_input(
    tx: &Transaction,
    input: usize,
    ring: &[[u8; 32]],
) -> Result<(), RingSigError> {
    let prefix_hash =
        v1_prefix_hash(tx).ok_or(RingSigError::Shape("not a signed version-1 transaction"))?;
    let Some(Input::ToKey { key_image, .. }) = tx.prefix().inputs.get(input) else {
        return Err(RingSigError::Shape("no such to-key input"));
    };
    let sigs = v1_input_signature(tx, input).ok_or(RingSigError::Shape("no signature"))?;
    verify_ring_signature(&prefix_hash, &key_image.to_bytes(), ring, &sigs)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        prefix: [u8; 32],
        image: [u8; 32],
        ring: Vec<[u8; 32]>,
        sigs: Vec<RingSigElement>,
        expected: bool,
    }

    fn h32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// The `check_ring_signature` lines of monero's `tests/crypto/tests.txt` in the shared
    /// vectors (`check_ring_signature <prefix> <image> <n> <n keys> <sigs> <expected>`).
    fn cases() -> Option<Vec<Case>> {
        let dir = crate::testdata::shared_subdir("vectors/crypto/monero-tests-crypto-subset")?;
        let text =
            std::fs::read_to_string(dir.join("monero_tests_txt_check_ring_signature_excerpt.txt"))
                .unwrap();
        let cases = text
            .lines()
            .filter(|l| l.starts_with("check_ring_signature "))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let n: usize = f[3].parse().unwrap();
                assert_eq!(f.len(), 4 + n + 2, "{l}");
                let ring = f[4..4 + n].iter().map(|k| h32(k)).collect();
                let sigs = parse_ring_signature(&hex::decode(f[4 + n]).unwrap()).unwrap();
                let expected = match f[5 + n] {
                    "true" => true,
                    "false" => false,
                    other => panic!("expected {other}"),
                };
                Case {
                    prefix: h32(f[1]),
                    image: h32(f[2]),
                    ring,
                    sigs,
                    expected,
                }
            })
            .collect();
        Some(cases)
    }

    #[test]
    fn monero_check_ring_signature_lines() {
        let Some(cases) = cases() else { return };
        assert_eq!(cases.len(), 7);
        assert_eq!(cases.iter().filter(|c| c.expected).count(), 3);
        for (i, c) in cases.iter().enumerate() {
            let got = verify_ring_signature(&c.prefix, &c.image, &c.ring, &c.sigs);
            assert_eq!(got.is_ok(), c.expected, "line {i}: {got:?}");
        }
        // The false lines fail for monerod's reasons: three carry an unreduced scalar, one
        // breaks the ring equation.
        let reasons: Vec<RingSigError> = cases
            .iter()
            .filter_map(|c| verify_ring_signature(&c.prefix, &c.image, &c.ring, &c.sigs).err())
            .collect();
        assert_eq!(
            reasons
                .iter()
                .filter(|e| matches!(e, RingSigError::Scalar(_)))
                .count(),
            3,
            "{reasons:?}"
        );
        assert_eq!(
            reasons
                .iter()
                .filter(|e| **e == RingSigError::Equation)
                .count(),
            1
        );
    }

    /// Every single-byte change of a true case is refused: in the prefix hash, the key
    /// image, any ring key, any c or r.
    #[test]
    fn any_one_byte_change_of_a_true_case_fails() {
        let Some(cases) = cases() else { return };
        for c in cases.iter().filter(|c| c.expected) {
            assert!(check_ring_signature(&c.prefix, &c.image, &c.ring, &c.sigs));
            for pos in 0..32 {
                for bit in [0x01u8, 0x80] {
                    let mut p = c.prefix;
                    p[pos] ^= bit;
                    assert!(!check_ring_signature(&p, &c.image, &c.ring, &c.sigs));
                    let mut im = c.image;
                    im[pos] ^= bit;
                    assert!(!check_ring_signature(&c.prefix, &im, &c.ring, &c.sigs));
                    for m in 0..c.ring.len() {
                        let mut ring = c.ring.clone();
                        ring[m][pos] ^= bit;
                        assert!(!check_ring_signature(&c.prefix, &c.image, &ring, &c.sigs));
                        let mut sigs = c.sigs.clone();
                        sigs[m].c[pos] ^= bit;
                        assert!(!check_ring_signature(&c.prefix, &c.image, &c.ring, &sigs));
                        let mut sigs = c.sigs.clone();
                        sigs[m].r[pos] ^= bit;
                        assert!(!check_ring_signature(&c.prefix, &c.image, &c.ring, &sigs));
                    }
                }
            }
            // Dropping a member or reordering the ring fails too.
            if c.ring.len() > 1 {
                let mut ring = c.ring.clone();
                ring.swap(0, 1);
                assert!(!check_ring_signature(&c.prefix, &c.image, &ring, &c.sigs));
                assert_eq!(
                    verify_ring_signature(&c.prefix, &c.image, &c.ring[1..], &c.sigs),
                    Err(RingSigError::CountMismatch {
                        ring: c.ring.len() - 1,
                        sigs: c.sigs.len()
                    })
                );
            }
        }
    }

    /// `sc_check` refuses c + l (the same scalar mod l): the signature is not malleable.
    #[test]
    fn unreduced_scalars_are_refused() {
        let Some(cases) = cases() else { return };
        let c = cases.iter().find(|c| c.expected).unwrap();
        // The group order l, little-endian.
        let l = h32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        let add = |a: &[u8; 32], b: &[u8; 32]| {
            let mut out = [0u8; 32];
            let mut carry = 0u16;
            for i in 0..32 {
                let s = u16::from(a[i]) + u16::from(b[i]) + carry;
                out[i] = (s & 0xff) as u8;
                carry = s >> 8;
            }
            (out, carry == 0)
        };
        let (r_plus_l, fits) = add(&c.sigs[0].r, &l);
        assert!(fits);
        let mut sigs = c.sigs.clone();
        sigs[0].r = r_plus_l;
        assert_eq!(
            verify_ring_signature(&c.prefix, &c.image, &c.ring, &sigs),
            Err(RingSigError::Scalar(0))
        );
        let mut sigs = c.sigs.clone();
        sigs[0].c = l;
        assert_eq!(
            verify_ring_signature(&c.prefix, &c.image, &c.ring, &sigs),
            Err(RingSigError::Scalar(0))
        );
    }

    /// Non-canonical point encodings monerod's `ge_frombytes_vartime` refuses: y ≥ p, and
    /// x = 0 with the sign bit set ("negative zero").
    #[test]
    fn non_canonical_points_are_refused() {
        // y = p + 1 ≡ 1 (the identity's y), which dalek alone would accept.
        let mut y_above_p = [0xffu8; 32];
        y_above_p[0] = 0xee;
        y_above_p[31] = 0x7f;
        assert!(decode_point(&y_above_p).is_none());
        // The identity (y = 1, x = 0) with the sign bit: negative zero.
        let mut neg_zero = [0u8; 32];
        neg_zero[0] = 1;
        neg_zero[31] = 0x80;
        assert!(decode_point(&neg_zero).is_none());
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(decode_point(&identity).is_some());
        assert!(!key_image_in_domain(&identity));
        let sigs = [RingSigElement {
            c: [0; 32],
            r: [0; 32],
        }];
        let g = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        assert_eq!(
            verify_ring_signature(&[0; 32], &neg_zero, &[g], &sigs),
            Err(RingSigError::KeyImage)
        );
        assert_eq!(
            verify_ring_signature(&[0; 32], &g, &[y_above_p], &sigs),
            Err(RingSigError::Key(0))
        );
    }

    /// `check_tx_inputs_keyimages_domain`: a key image plus a small-order point decodes and
    /// `check_ring_signature` alone does not look at its subgroup, but the domain rule
    /// refuses it.
    #[test]
    fn key_image_domain() {
        let Some(cases) = cases() else { return };
        let c = cases.iter().find(|c| c.expected).unwrap();
        assert!(key_image_in_domain(&c.image));
        let image = decode_point(&c.image).unwrap();
        let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
        let shifted = (image + torsion).compress().to_bytes();
        assert!(decode_point(&shifted).is_some());
        assert!(!key_image_in_domain(&shifted));
        // The ring equation involves the image, so the shifted one also fails there.
        assert_eq!(
            verify_ring_signature(&c.prefix, &shifted, &c.ring, &c.sigs),
            Err(RingSigError::Equation)
        );
    }

    /// `hash_to_ec` against monero's `tests.txt` lines (monero-oxide's subset).
    #[test]
    fn hash_to_ec_lines() {
        let Some(dir) = crate::testdata::shared_subdir("vectors/crypto/monero-tests-crypto-subset")
        else {
            return;
        };
        let text = std::fs::read_to_string(dir.join("monero-oxide_ed25519_tests.txt")).unwrap();
        let mut n = 0;
        for l in text.lines().filter(|l| l.starts_with("hash_to_ec ")) {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(hex::encode(hash_to_ec(&h32(f[1]))), f[2]);
            n += 1;
        }
        assert_eq!(n, 256);
    }

    #[test]
    fn signature_bytes() {
        assert!(parse_ring_signature(&[0; 63]).is_none());
        assert_eq!(parse_ring_signature(&[]), Some(vec![]));
        let mut b = [0u8; 128];
        b[0] = 1;
        b[32] = 2;
        b[64] = 3;
        b[127] = 4;
        let s = parse_ring_signature(&b).unwrap();
        assert_eq!((s[0].c[0], s[0].r[0], s[1].c[0], s[1].r[31]), (1, 2, 3, 4));
    }

    proptest::proptest! {
        /// Garbage never panics and never verifies.
        #[test]
        fn garbage_is_refused_without_panic(
            prefix in proptest::prelude::any::<[u8; 32]>(),
            image in proptest::prelude::any::<[u8; 32]>(),
            keys in proptest::collection::vec(proptest::prelude::any::<[u8; 32]>(), 0..4),
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let sigs = parse_ring_signature(&raw).unwrap_or_default();
            proptest::prop_assert!(!check_ring_signature(&prefix, &image, &keys, &sigs));
            let _ = key_image_in_domain(&image);
        }
    }
}
