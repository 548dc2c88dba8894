//! A block as monerod's `obj_to_json_str(block)` writes it for `get_block`'s `json`:
//! the cryptonote `json_archive` layout (field order kept, `", "` then a newline before
//! each field, two spaces per level, arrays opened `[ ` and closed on their own line).

use monero_oxide::block::Block;

/// A value as monerod's `json_archive` writes it (field order kept).
enum Archived {
    Num(u64),
    Str(String),
    Arr(Vec<Archived>),
    Obj(Vec<(&'static str, Archived)>),
}

impl Archived {
    /// `json_archive<true>` with indentation: `"name": value` fields joined by `", "` each
    /// on a new line indented two spaces per level, arrays as `[ a, b` then a newline.
    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Archived::Num(n) => out.push_str(&n.to_string()),
            Archived::Str(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            Archived::Arr(items) => {
                out.push_str("[ ");
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    it.write(out, depth + 1);
                }
                if !items.is_empty() {
                    out.push('\n');
                    out.push_str(&" ".repeat(2 * depth));
                }
                out.push(']');
            }
            Archived::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push('\n');
                    out.push_str(&" ".repeat(2 * (depth + 1)));
                    out.push('"');
                    out.push_str(k);
                    out.push_str("\": ");
                    v.write(out, depth + 1);
                }
                out.push('\n');
                out.push_str(&" ".repeat(2 * depth));
                out.push('}');
            }
        }
    }
}

/// The block as monerod's `obj_to_json_str(block)` writes it (header, miner
/// transaction, transaction hashes).
pub(super) fn block_json(block: &Block) -> String {
    use monero_oxide::transaction::{Input, Timelock};
    use Archived::{Arr, Num, Obj, Str};
    let miner = block.miner_transaction();
    let prefix = miner.prefix();
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
                    ("k_image", Str(hex::encode(key_image.to_bytes()))),
                ]),
            )]),
        })
        .collect();
    let vout = prefix
        .outputs
        .iter()
        .map(|o| {
            let key = Str(hex::encode(o.key.to_bytes()));
            let target = match o.view_tag {
                Some(t) => Obj(vec![(
                    "tagged_key",
                    Obj(vec![("key", key), ("view_tag", Str(format!("{t:02x}")))]),
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
    let v = Obj(vec![
        (
            "major_version",
            Num(u64::from(block.header.hardfork_version)),
        ),
        (
            "minor_version",
            Num(u64::from(block.header.hardfork_signal)),
        ),
        ("timestamp", Num(block.header.timestamp)),
        ("prev_id", Str(hex::encode(block.header.previous))),
        ("nonce", Num(u64::from(block.header.nonce))),
        (
            "miner_tx",
            Obj(vec![
                ("version", Num(u64::from(miner.version()))),
                ("unlock_time", Num(unlock)),
                ("vin", Arr(vin)),
                ("vout", Arr(vout)),
                (
                    "extra",
                    Arr(prefix.extra.iter().map(|b| Num(u64::from(*b))).collect()),
                ),
                ("rct_signatures", Obj(vec![("type", Num(0))])),
            ]),
        ),
        (
            "tx_hashes",
            Arr(block
                .transactions
                .iter()
                .map(|h| Str(hex::encode(h)))
                .collect()),
        ),
    ]);
    let mut out = String::new();
    v.write(&mut out, 0);
    out
}
