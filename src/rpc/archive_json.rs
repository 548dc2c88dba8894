//! Blocks and transactions as monerod's `obj_to_json_str` writes them with cryptonote's
//! `json_archive<true>` (indented): `get_block`'s `json` and `get_transactions`'
//! `as_json` / `txs_as_json`, byte for byte.
//!
//! The value is first laid out as an [`Archived`] tree in monerod's field order, then
//! written by [`JsonArchive`], which keeps the archive's own state as monerod's does: a
//! field is preceded by `", "` unless it is the first of its object, then a newline
//! and two spaces per level; an array opens `[ ` and closes on its own line only when the
//! last array *begun* anywhere (`inner_array_size_`, one member for the whole archive)
//! was given a non-zero size. The loops written by hand in monerod (`signatures`,
//! `pseudoOuts`, `ecdhInfo`, `outPk`, `bp`/`bpp`, `CLSAGs`, `MGs`, `rangeSigs`) begin
//! their arrays with no size ([`Archived::Seq`]), the `std::vector` fields with theirs
//! ([`Archived::Arr`]).
//!
//! It reads parsed values only (monero-oxide's types) and never fails on what parsed:
//! the proofs whose fields monero-oxide keeps private (MLSAG, Borromean, Bulletproof(+))
//! are written to bytes and split by monerod's binary layout (`rctTypes.h`).

use monero_oxide::block::Block;
use monero_oxide::ringct::bulletproofs::Bulletproof;
use monero_oxide::ringct::mlsag::Mlsag;
use monero_oxide::ringct::{EncryptedAmount, RctBase, RctPrunable, RctType};
use monero_oxide::transaction::{Input, Pruned, Timelock, Transaction, TransactionPrefix};

/// Bytes in a key, scalar or point (`rct::key`).
const KEY_BYTES: usize = 32;
/// Bytes in a Borromean signature (`rct::boroSig`: `s0`, `s1`, 64 keys each, and `ee`),
/// written as one hex string.
const BORO_SIG_BYTES: usize = (64 + 64 + 1) * KEY_BYTES;

/// A value as monerod's `json_archive` writes it (field order kept).
#[derive(Debug)]
pub(super) enum Archived {
    /// An integer or varint (`serialize_int`, `serialize_varint`).
    Num(u64),
    /// A blob, written as lowercase hex between quotes (`serialize_blob`).
    Str(String),
    /// A container (`do_serialize_container`): `begin_array(size)`.
    Arr(Vec<Archived>),
    /// A loop written by hand in monerod: `begin_array()`, size 0.
    Seq(Vec<Archived>),
    /// An object (`BEGIN_SERIALIZE_OBJECT`, a variant): `"name": value` fields.
    Obj(Vec<(&'static str, Archived)>),
    /// Nothing at all: a field tagged and then not written (monerod's `rct_signatures`
    /// of a v2 transaction without inputs; an empty `std::vector<crypto::signature>`).
    Absent,
}

/// monerod's `json_archive<true>` with `indent = true`: the output and the state the
/// archive keeps between calls.
#[derive(Default)]
struct JsonArchive {
    out: String,
    depth: usize,
    object_begin: bool,
    inner_array_size: usize,
}

impl JsonArchive {
    fn make_indent(&mut self) {
        self.out.push('\n');
        self.out.extend(std::iter::repeat_n(' ', 2 * self.depth));
    }

    fn tag(&mut self, tag: &str) {
        if !self.object_begin {
            self.out.push_str(", ");
        }
        self.make_indent();
        self.out.push('"');
        self.out.push_str(tag);
        self.out.push_str("\": ");
        self.object_begin = false;
    }

    fn begin_object(&mut self) {
        self.out.push('{');
        self.depth += 1;
        self.object_begin = true;
    }

    fn end_object(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.make_indent();
        self.out.push('}');
    }

    fn begin_array(&mut self, size: usize) {
        self.inner_array_size = size;
        self.depth += 1;
        self.out.push_str("[ ");
    }

    fn end_array(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.inner_array_size > 0 {
            self.make_indent();
        }
        self.out.push(']');
    }

    fn array(&mut self, items: &[Archived], size: usize) {
        self.begin_array(size);
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.write(it);
        }
        self.end_array();
    }

    fn write(&mut self, v: &Archived) {
        match v {
            Archived::Num(n) => self.out.push_str(&n.to_string()),
            Archived::Str(s) => {
                self.out.push('"');
                self.out.push_str(s);
                self.out.push('"');
            }
            Archived::Arr(items) => self.array(items, items.len()),
            Archived::Seq(items) => self.array(items, 0),
            Archived::Obj(fields) => {
                self.begin_object();
                for (k, v) in fields {
                    self.tag(k);
                    self.write(v);
                }
                self.end_object();
            }
            Archived::Absent => {}
        }
    }
}

impl Archived {
    /// The value as `obj_to_json_str` returns it.
    pub(super) fn to_json_str(&self) -> String {
        let mut ar = JsonArchive::default();
        ar.write(self);
        ar.out
    }
}

use Archived::{Absent, Arr, Num, Obj, Seq, Str};

fn blob(bytes: &[u8]) -> Archived {
    Str(hex::encode(bytes))
}

/// Keys written one after another (as monero-oxide's `write_raw_vec` does), one blob
/// each.
fn key_blobs(bytes: &[u8]) -> Vec<Archived> {
    bytes.chunks(KEY_BYTES).map(blob).collect()
}

/// The transaction prefix fields (`transaction_prefix::serialize`).
fn prefix_fields(version: u8, prefix: &TransactionPrefix) -> Vec<(&'static str, Archived)> {
    let vin = prefix
        .inputs
        .iter()
        .map(|i| match i {
            Input::Gen(h) => Obj(vec![("gen", Obj(vec![("height", Num(*h as u64))]))]),
            Input::ToKey {
                amount,
                key_offsets,
                key_image,
            } => Obj(vec![(
                "key",
                Obj(vec![
                    ("amount", Num(amount.unwrap_or(0))),
                    (
                        "key_offsets",
                        Arr(key_offsets.iter().map(|o| Num(*o)).collect()),
                    ),
                    ("k_image", blob(&key_image.to_bytes())),
                ]),
            )]),
        })
        .collect();
    let vout = prefix
        .outputs
        .iter()
        .map(|o| {
            let key = blob(&o.key.to_bytes());
            let target = match o.view_tag {
                Some(t) => Obj(vec![(
                    "tagged_key",
                    Obj(vec![("key", key), ("view_tag", blob(&[t]))]),
                )]),
                None => Obj(vec![("key", key)]),
            };
            Obj(vec![
                ("amount", Num(o.amount.unwrap_or(0))),
                ("target", target),
            ])
        })
        .collect();
    let unlock = match prefix.additional_timelock {
        Timelock::None => 0,
        Timelock::Block(b) => b as u64,
        Timelock::Time(t) => t,
    };
    vec![
        ("version", Num(u64::from(version))),
        ("unlock_time", Num(unlock)),
        ("vin", Arr(vin)),
        ("vout", Arr(vout)),
        (
            "extra",
            Arr(prefix.extra.iter().map(|b| Num(u64::from(*b))).collect()),
        ),
    ]
}

/// `rctSigBase::serialize_rctsig_base`: type, fee, (RCTTypeSimple) pseudo-outs, the
/// encrypted amounts (only the 8-byte `amount` from RCTTypeBulletproof2 on) and the
/// output commitments.
fn rct_base(rct_type: Option<RctType>, base: Option<&RctBase>) -> Archived {
    let (Some(rct_type), Some(base)) = (rct_type, base) else {
        return Obj(vec![("type", Num(0))]);
    };
    let mut fields = vec![
        ("type", Num(u64::from(u8::from(rct_type)))),
        ("txnFee", Num(base.fee)),
    ];
    if rct_type == RctType::MlsagBorromean {
        fields.push((
            "pseudoOuts",
            Seq(base
                .pseudo_outs
                .iter()
                .map(|p| blob(&p.to_bytes()))
                .collect()),
        ));
    }
    let ecdh = base
        .encrypted_amounts
        .iter()
        .map(|e| match e {
            EncryptedAmount::Original { mask, amount } => {
                Obj(vec![("mask", blob(mask)), ("amount", blob(amount))])
            }
            EncryptedAmount::Compact { amount } => Obj(vec![("amount", blob(amount))]),
        })
        .collect();
    fields.push(("ecdhInfo", Seq(ecdh)));
    fields.push((
        "outPk",
        Seq(base
            .commitments
            .iter()
            .map(|c| blob(&c.to_bytes()))
            .collect()),
    ));
    Obj(fields)
}

/// Reads monerod's binary layout back out of bytes monero-oxide wrote.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn key(&mut self) -> Option<Archived> {
        self.take(KEY_BYTES).map(blob)
    }

    fn varint(&mut self) -> Option<usize> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.take(1)?.first()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return usize::try_from(v).ok();
            }
        }
        None
    }

    /// A `rct::keyV` written with its length (`FIELD(L)`, a container).
    fn key_vector(&mut self) -> Option<Archived> {
        let n = self.varint()?;
        let bytes = self.take(n.checked_mul(KEY_BYTES)?)?;
        Some(Arr(key_blobs(bytes)))
    }
}

/// `rct::Bulletproof` (A, S, T1, T2, taux, mu, L, R, a, b, t) or `rct::BulletproofPlus`
/// (A, A1, B, r1, s1, d1, L, R): monero-oxide writes them in this order with the
/// lengths of L and R as varints.
fn bulletproof(bp: &Bulletproof) -> Option<Archived> {
    let mut bytes = Vec::new();
    bp.write(&mut bytes).ok()?;
    let mut r = Bytes(&bytes);
    let plus = matches!(bp, Bulletproof::Plus(_));
    let head: [&'static str; 6] = if plus {
        ["A", "A1", "B", "r1", "s1", "d1"]
    } else {
        ["A", "S", "T1", "T2", "taux", "mu"]
    };
    let mut fields = Vec::with_capacity(11);
    for name in head {
        fields.push((name, r.key()?));
    }
    fields.push(("L", r.key_vector()?));
    fields.push(("R", r.key_vector()?));
    if !plus {
        for name in ["a", "b", "t"] {
            fields.push((name, r.key()?));
        }
    }
    r.0.is_empty().then_some(Obj(fields))
}

/// `rct::rangeSig`: the Borromean signature (`asig`, one blob) and the 64 bit
/// commitments (`Ci`, one blob).
fn range_sig(range: &monero_oxide::ringct::borromean::BorromeanRange) -> Option<Archived> {
    let mut bytes = Vec::new();
    range.write(&mut bytes).ok()?;
    let (asig, ci) = bytes.split_at_checked(BORO_SIG_BYTES)?;
    Some(Obj(vec![("asig", blob(asig)), ("Ci", blob(ci))]))
}

/// `rct::mgSig` as `serialize_rctsig_prunable` writes it: `ss`, one row of `columns`
/// scalars per ring member, then `cc`.
fn mg_sig(mlsag: &Mlsag, columns: usize) -> Option<Archived> {
    let mut bytes = Vec::new();
    mlsag.write(&mut bytes).ok()?;
    let (ss, cc) = bytes.split_at_checked(bytes.len().checked_sub(KEY_BYTES)?)?;
    let row_bytes = columns.checked_mul(KEY_BYTES).filter(|n| *n > 0)?;
    if ss.len() % row_bytes != 0 {
        return None;
    }
    let rows = ss
        .chunks(row_bytes)
        .map(|row| Seq(key_blobs(row)))
        .collect();
    Some(Obj(vec![("ss", Seq(rows)), ("cc", blob(cc))]))
}

/// `rctSigPrunable::serialize_rctsig_prunable`.
fn rct_prunable(prunable: &RctPrunable, inputs: usize) -> Option<Archived> {
    fn mgs(mlsags: &[Mlsag], columns: usize) -> Option<Archived> {
        mlsags
            .iter()
            .map(|m| mg_sig(m, columns))
            .collect::<Option<Vec<_>>>()
            .map(Seq)
    }
    fn ranges(borromean: &[monero_oxide::ringct::borromean::BorromeanRange]) -> Option<Archived> {
        borromean
            .iter()
            .map(range_sig)
            .collect::<Option<Vec<_>>>()
            .map(Seq)
    }
    fn points(p: &[monero_oxide::ed25519::CompressedPoint]) -> Archived {
        Seq(p.iter().map(|p| blob(&p.to_bytes())).collect())
    }
    Some(Obj(match prunable {
        RctPrunable::AggregateMlsagBorromean { mlsag, borromean } => vec![
            ("rangeSigs", ranges(borromean)?),
            (
                "MGs",
                mgs(std::slice::from_ref(mlsag), inputs.checked_add(1)?)?,
            ),
        ],
        RctPrunable::MlsagBorromean { mlsags, borromean } => {
            vec![("rangeSigs", ranges(borromean)?), ("MGs", mgs(mlsags, 2)?)]
        }
        RctPrunable::MlsagBulletproofs {
            mlsags,
            pseudo_outs,
            bulletproof: bp,
        }
        | RctPrunable::MlsagBulletproofsCompactAmount {
            mlsags,
            pseudo_outs,
            bulletproof: bp,
        } => vec![
            ("nbp", Num(1)),
            ("bp", Seq(vec![bulletproof(bp)?])),
            ("MGs", mgs(mlsags, 2)?),
            ("pseudoOuts", points(pseudo_outs)),
        ],
        RctPrunable::Clsag {
            clsags,
            pseudo_outs,
            bulletproof: bp,
        } => {
            let name = if matches!(bp, Bulletproof::Plus(_)) {
                "bpp"
            } else {
                "bp"
            };
            let clsags = clsags
                .iter()
                .map(|c| {
                    let mut s = Vec::with_capacity(c.s.len());
                    for x in &c.s {
                        let mut b = Vec::with_capacity(KEY_BYTES);
                        x.write(&mut b).ok()?;
                        s.push(blob(&b));
                    }
                    let mut c1 = Vec::with_capacity(KEY_BYTES);
                    c.c1.write(&mut c1).ok()?;
                    Some(Obj(vec![
                        ("s", Seq(s)),
                        ("c1", blob(&c1)),
                        ("D", blob(&c.D.to_bytes())),
                    ]))
                })
                .collect::<Option<Vec<_>>>()?;
            vec![
                ("nbp", Num(1)),
                (name, Seq(vec![bulletproof(bp)?])),
                ("CLSAGs", Seq(clsags)),
                ("pseudoOuts", points(pseudo_outs)),
            ]
        }
    }))
}

/// A full transaction as monerod's `transaction::serialize` lays it out: the prefix,
/// then `signatures` (v1) or `rct_signatures` and, unless RCTTypeNull,
/// `rctsig_prunable` (v2). `None` only if monero-oxide's proof bytes do not split as
/// monerod's layout says (never for what monero-oxide parsed).
pub(super) fn transaction(tx: &Transaction) -> Option<Archived> {
    let mut fields = prefix_fields(tx.version(), tx.prefix());
    match tx {
        Transaction::V1 { signatures, .. } => {
            // One string per input, its signatures' hex run together (the `crypto.h`
            // writer of `std::vector<crypto::signature>`); none for a miner input.
            let mut sigs = Vec::with_capacity(signatures.len());
            for s in signatures {
                let mut b = Vec::new();
                s.write(&mut b).ok()?;
                sigs.push(if b.is_empty() { Absent } else { blob(&b) });
            }
            fields.push(("signatures", Seq(sigs)));
        }
        Transaction::V2 { prefix, proofs } => {
            if prefix.inputs.is_empty() {
                fields.push(("rct_signatures", Absent));
            } else {
                let rct_type = proofs.as_ref().map(|p| p.rct_type());
                fields.push((
                    "rct_signatures",
                    rct_base(rct_type, proofs.as_ref().map(|p| &p.base)),
                ));
                if let Some(p) = proofs {
                    fields.push((
                        "rctsig_prunable",
                        rct_prunable(&p.prunable, prefix.inputs.len())?,
                    ));
                }
            }
        }
    }
    Some(Obj(fields))
}

/// A pruned transaction as monerod's `pruned_transaction` (`transaction::serialize_base`)
/// lays it out: the prefix, then for v2 `rct_signatures` without the prunable part; v1
/// writes no `signatures` at all.
pub(super) fn pruned_transaction(tx: &Transaction<Pruned>) -> Archived {
    let mut fields = prefix_fields(tx.version(), tx.prefix());
    if let Transaction::V2 { prefix, proofs } = tx {
        if prefix.inputs.is_empty() {
            fields.push(("rct_signatures", Absent));
        } else {
            fields.push((
                "rct_signatures",
                rct_base(
                    proofs.as_ref().map(|p| p.rct_type),
                    proofs.as_ref().map(|p| &p.base),
                ),
            ));
        }
    }
    Obj(fields)
}

/// The block as monerod's `obj_to_json_str(block)` writes it (header, miner
/// transaction, transaction hashes).
pub(super) fn block_json(block: &Block) -> String {
    let miner = transaction(block.miner_transaction()).unwrap_or(Absent);
    Obj(vec![
        (
            "major_version",
            Num(u64::from(block.header.hardfork_version)),
        ),
        (
            "minor_version",
            Num(u64::from(block.header.hardfork_signal)),
        ),
        ("timestamp", Num(block.header.timestamp)),
        ("prev_id", blob(&block.header.previous)),
        ("nonce", Num(u64::from(block.header.nonce))),
        ("miner_tx", miner),
        (
            "tx_hashes",
            Arr(block.transactions.iter().map(|h| blob(h)).collect()),
        ),
    ])
    .to_json_str()
}

#[cfg(test)]
mod tests;
