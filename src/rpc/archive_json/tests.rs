//! monerod's `json_archive` text for hand-checked values, every shared vector
//! transaction in both forms, and the texts monerod wrote in the RPC examples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use super::*;
use monero_oxide::transaction::NotPruned;
use serde_json::Value;

fn read_tx(blob: &[u8]) -> Transaction {
    Transaction::<NotPruned>::read(&mut &blob[..]).unwrap()
}

/// The JSON and the pruned JSON of a full blob, through the same parse as
/// `get_transactions` (the pruned one from the pruned bytes).
fn both_forms(blob: &[u8]) -> (String, String) {
    let tx = read_tx(blob);
    let full = transaction(&tx).unwrap().to_json_str();
    let pruned_bytes = tx.pruned_with_prunable().0.serialize();
    let pruned = Transaction::<Pruned>::read(&mut &pruned_bytes[..]).unwrap();
    (full, pruned_transaction(&pruned).to_json_str())
}

/// The top-level field names in order (fields at the first indentation level).
fn top_level_keys(json: &str) -> Vec<String> {
    json.split("\n  \"")
        .skip(1)
        .filter_map(|s| s.split_once("\": ").map(|(k, _)| k.to_string()))
        .collect()
}

fn keys_in_order(json: &str, object: &str) -> Vec<String> {
    // Keys of a nested object: the lines opening with four spaces after its tag, up
    // to its closing brace.
    let start = json.find(&format!("\n  \"{object}\": {{")).unwrap();
    let body = &json[start..];
    let end = body.find("\n  }").unwrap();
    body[..end]
        .split("\n    \"")
        .skip(1)
        .filter_map(|s| s.split_once("\": ").map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn json_archive_writes_monerods_delimiters_and_state() {
    // An array closes on its own line only if the last array begun had a size; a
    // field after an empty object gets no comma (`object_begin` is still set).
    let v = Obj(vec![
        ("a", Arr(vec![Num(1), Num(2)])),
        ("b", Seq(vec![blob(&[0xff]), blob(&[0x0a])])),
        ("c", Obj(vec![])),
        ("d", Num(5)),
        ("e", Arr(vec![])),
    ]);
    assert_eq!(
        v.to_json_str(),
        "{\n  \"a\": [ 1, 2\n  ], \n  \"b\": [ \"ff\", \"0a\"], \n  \"c\": {\n  }\n  \"d\": 5, \n  \"e\": [ ]\n}"
    );
    // A hand-written loop whose elements hold a container closes as that container
    // did.
    let v = Obj(vec![("x", Seq(vec![Obj(vec![("L", Arr(vec![Num(1)]))])]))]);
    assert_eq!(
        v.to_json_str(),
        "{\n  \"x\": [ {\n      \"L\": [ 1\n      ]\n    }\n  ]\n}"
    );
    // A tag with no value (v2 without inputs), and an absent signature string.
    let v = Obj(vec![("rct_signatures", Absent)]);
    assert_eq!(v.to_json_str(), "{\n  \"rct_signatures\": \n}");
    let v = Obj(vec![("signatures", Seq(vec![Absent, blob(&[1])]))]);
    assert_eq!(v.to_json_str(), "{\n  \"signatures\": [ , \"01\"]\n}");
}

#[test]
fn v1_miner_transaction_has_an_empty_signatures_array() {
    // Mainnet genesis miner transaction.
    let blob = hex::decode(
        "013c01ff0001ffffffffffff03029b2e4c0281c0b02e7c53291a94d1d0cbff8883f8024f5142ee494ffbbd08807121017767aafcde9be00dcfd098715ebcf7f410daebc582fda69d24a28e9d0bc890d1",
    )
    .unwrap();
    let (full, pruned) = both_forms(&blob);
    assert_eq!(
        full,
        "{\n  \"version\": 1, \n  \"unlock_time\": 60, \n  \"vin\": [ {\n      \"gen\": {\n        \"height\": 0\n      }\n    }\n  ], \n  \"vout\": [ {\n      \"amount\": 17592186044415, \n      \"target\": {\n        \"key\": \"9b2e4c0281c0b02e7c53291a94d1d0cbff8883f8024f5142ee494ffbbd088071\"\n      }\n    }\n  ], \n  \"extra\": [ 1, 119, 103, 170, 252, 222, 155, 224, 13, 207, 208, 152, 113, 94, 188, 247, 244, 16, 218, 235, 197, 130, 253, 166, 157, 36, 162, 142, 157, 11, 200, 144, 209\n  ], \n  \"signatures\": [ ]\n}"
    );
    assert_eq!(
        pruned,
        full.replace(", \n  \"signatures\": [ ]", ""),
        "a pruned v1 transaction has no signatures field"
    );
}

#[test]
fn every_vector_transaction_converts_in_both_forms() {
    let Some(dir) = crate::testdata::shared_subdir("vectors") else {
        return;
    };
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("txs/index.json")).unwrap())
            .unwrap();
    let txs = index["transactions"].as_array().unwrap();
    assert!(txs.len() >= 200);
    let mut types = std::collections::BTreeMap::<String, usize>::new();
    for t in txs {
        let file = t["file"].as_str().unwrap();
        let blob = std::fs::read(dir.join(file)).unwrap();
        let (full, pruned) = both_forms(&blob);
        let f: Value = serde_json::from_str(&full)
            .unwrap_or_else(|e| panic!("{file}: full JSON does not parse: {e}"));
        let p: Value = serde_json::from_str(&pruned)
            .unwrap_or_else(|e| panic!("{file}: pruned JSON does not parse: {e}"));
        let version = t["version"].as_u64().unwrap();
        let coinbase = t["coinbase"].as_bool().unwrap();
        let inputs = usize::try_from(t["num_inputs"].as_u64().unwrap()).unwrap();
        let outputs = usize::try_from(t["num_outputs"].as_u64().unwrap()).unwrap();
        assert_eq!(f["version"], version, "{file}");
        for k in ["version", "unlock_time", "vin", "vout", "extra"] {
            assert_eq!(p[k], f[k], "{file}: {k}");
        }
        assert_eq!(f["vin"].as_array().unwrap().len(), inputs, "{file}");
        assert_eq!(f["vout"].as_array().unwrap().len(), outputs, "{file}");
        if !coinbase {
            for (vin, ki) in f["vin"]
                .as_array()
                .unwrap()
                .iter()
                .zip(t["key_images"].as_array().unwrap())
            {
                assert_eq!(&vin["key"]["k_image"], ki, "{file}");
            }
        }
        let prefix = ["version", "unlock_time", "vin", "vout", "extra"];
        let keys = top_level_keys(&full);
        let pkeys = top_level_keys(&pruned);
        let rct_type = t["rct_type"].as_u64();
        let kind = match (version, rct_type) {
            (1, _) => {
                assert_eq!(keys, [&prefix[..], &["signatures"]].concat(), "{file}");
                assert_eq!(pkeys, prefix, "{file}");
                let sigs = f["signatures"].as_array().unwrap();
                if coinbase {
                    assert!(sigs.is_empty(), "{file}");
                } else {
                    assert_eq!(sigs.len(), inputs, "{file}");
                    for (s, vin) in sigs.iter().zip(f["vin"].as_array().unwrap()) {
                        let ring = vin["key"]["key_offsets"].as_array().unwrap().len();
                        assert_eq!(s.as_str().unwrap().len(), ring * 128, "{file}");
                    }
                }
                format!("v1 coinbase={coinbase}")
            }
            (_, Some(0)) => {
                assert_eq!(keys, [&prefix[..], &["rct_signatures"]].concat(), "{file}");
                assert_eq!(full, pruned, "{file}");
                assert_eq!(f["rct_signatures"], serde_json::json!({"type": 0}));
                "v2 coinbase".to_string()
            }
            (_, Some(ty)) => {
                assert_eq!(
                    keys,
                    [&prefix[..], &["rct_signatures", "rctsig_prunable"]].concat(),
                    "{file}"
                );
                assert_eq!(pkeys, [&prefix[..], &["rct_signatures"]].concat(), "{file}");
                // The pruned form is the full one up to the prunable part.
                let cut = full.find(", \n  \"rctsig_prunable\": ").unwrap();
                assert_eq!(format!("{}\n}}", &full[..cut]), pruned, "{file}");
                let base = keys_in_order(&full, "rct_signatures");
                let want_base: &[&str] = if ty == 2 {
                    &["type", "txnFee", "pseudoOuts", "ecdhInfo", "outPk"]
                } else {
                    &["type", "txnFee", "ecdhInfo", "outPk"]
                };
                assert_eq!(base, want_base, "{file}");
                let rs = &f["rct_signatures"];
                assert_eq!(rs["type"], ty, "{file}");
                assert_eq!(rs["outPk"].as_array().unwrap().len(), outputs, "{file}");
                for e in rs["ecdhInfo"].as_array().unwrap() {
                    let amount = e["amount"].as_str().unwrap().len();
                    if ty >= 4 {
                        assert_eq!((amount, e.get("mask")), (16, None), "{file}");
                    } else {
                        assert_eq!(amount, 64, "{file}");
                        assert_eq!(e["mask"].as_str().unwrap().len(), 64, "{file}");
                    }
                }
                let prunable = keys_in_order(&full, "rctsig_prunable");
                let want: &[&str] = match ty {
                    1 | 2 => &["rangeSigs", "MGs"],
                    3 | 4 => &["nbp", "bp", "MGs", "pseudoOuts"],
                    5 => &["nbp", "bp", "CLSAGs", "pseudoOuts"],
                    _ => &["nbp", "bpp", "CLSAGs", "pseudoOuts"],
                };
                assert_eq!(prunable, want, "{file}");
                let pr = &f["rctsig_prunable"];
                let ring = f["vin"][0]["key"]["key_offsets"].as_array().unwrap().len();
                match ty {
                    1 | 2 => {
                        let rs = pr["rangeSigs"].as_array().unwrap();
                        assert_eq!(rs.len(), outputs, "{file}");
                        for r in rs {
                            assert_eq!(r["asig"].as_str().unwrap().len(), 2 * BORO_SIG_BYTES);
                            assert_eq!(r["Ci"].as_str().unwrap().len(), 64 * 64);
                        }
                        let mgs = pr["MGs"].as_array().unwrap();
                        let (n, cols) = if ty == 1 {
                            (1, inputs + 1)
                        } else {
                            (inputs, 2)
                        };
                        assert_eq!(mgs.len(), n, "{file}");
                        for m in mgs {
                            let ss = m["ss"].as_array().unwrap();
                            assert_eq!(ss.len(), ring, "{file}");
                            assert!(ss.iter().all(|r| r.as_array().unwrap().len() == cols));
                        }
                    }
                    3 | 4 => {
                        assert_eq!(pr["MGs"].as_array().unwrap().len(), inputs, "{file}");
                        let bp = &pr["bp"][0];
                        assert_eq!(
                            bp["L"].as_array().unwrap().len(),
                            bp["R"].as_array().unwrap().len()
                        );
                    }
                    _ => {
                        let clsags = pr["CLSAGs"].as_array().unwrap();
                        assert_eq!(clsags.len(), inputs, "{file}");
                        for c in clsags {
                            assert_eq!(c["s"].as_array().unwrap().len(), ring, "{file}");
                        }
                    }
                }
                if ty >= 3 {
                    assert_eq!(pr["nbp"], 1, "{file}");
                    assert_eq!(pr["pseudoOuts"].as_array().unwrap().len(), inputs, "{file}");
                }
                format!("RCT type {ty}")
            }
            _ => panic!("{file}: version {version} rct type {rct_type:?}"),
        };
        *types.entry(kind).or_default() += 1;
    }
    eprintln!("converted: {types:?}");
    assert_eq!(types.len(), 9, "every form is covered: {types:?}");
}

#[test]
fn type6_transaction_decodes_to_the_json_monero_oxide_vectors_give() {
    let Some(dir) = crate::testdata::shared_subdir("vectors") else {
        return;
    };
    let ring: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("ringct/unknown-net_efd109f6_bpplus_clsag_ring.json"))
            .unwrap(),
    )
    .unwrap();
    let blob = std::fs::read(dir.join(ring["tx_file"].as_str().unwrap())).unwrap();
    let (full, _) = both_forms(&blob);
    let ours: Value = serde_json::from_str(&full).unwrap();
    assert_eq!(ours, ring["decoded_tx_json_from_source"]);
}

#[test]
fn pool_and_block_examples_match_monerods_text() {
    let Some(dir) = crate::testdata::shared_subdir("vectors") else {
        return;
    };
    let ex: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("rpc/cuprate_monerod_rpc_examples.json")).unwrap(),
    )
    .unwrap();
    let (mut txs, mut blocks) = (0, 0);
    for e in ex["examples"].as_array().unwrap() {
        let r = &e["response"];
        for t in r["transactions"].as_array().into_iter().flatten() {
            let blob = hex::decode(t["tx_blob"].as_str().unwrap()).unwrap();
            let ours = transaction(&read_tx(&blob)).unwrap().to_json_str();
            assert_eq!(ours, t["tx_json"].as_str().unwrap(), "{}", t["id_hash"]);
            txs += 1;
        }
        let result = &r["result"];
        if let (Some(b), Some(j)) = (result["blob"].as_str(), result["json"].as_str()) {
            let blob = hex::decode(b).unwrap();
            let block = Block::read(&mut &blob[..]).unwrap();
            assert_eq!(block_json(&block), j);
            blocks += 1;
        }
    }
    assert!(
        txs >= 10 && blocks >= 2,
        "{txs} transactions, {blocks} blocks"
    );
}
