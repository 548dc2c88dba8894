//! Consensus against the real bytes in `../shared/vectors/`: every block parses and hashes to
//! the id in its file name, and every BP+/CLSAG transaction with ring data verifies (CLSAGs,
//! range proof, balance) while a flipped byte does not. Skips with a message when absent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use xmrd::consensus::block::prepare_block;
use xmrd::consensus::tx::{self, prepare_tx};
use xmrd::consensus::{OutputInfo, TxError};

#[test]
fn every_vector_block_hashes_to_its_file_name() {
    let Some(dir) = xmrd::testdata::shared_subdir("vectors/blocks") else {
        return;
    };
    let mut n = 0;
    for net in ["mainnet", "testnet", "stagenet"] {
        for f in xmrd::testdata::files_with_ext(&dir.join(net), "bin") {
            let name = f.file_stem().unwrap().to_str().unwrap().to_string();
            let (height, id) = name.split_once('_').unwrap();
            let blob = std::fs::read(&f).unwrap();
            // The txs are not needed for the id; parse the block with the list it names.
            let b = monero_oxide::block::Block::read(&mut blob.as_slice()).unwrap();
            assert_eq!(b.serialize(), blob, "{name}: not canonical");
            assert_eq!(hex::encode(b.hash()), id, "{name}");
            assert_eq!(b.number().to_string(), height, "{name}");
            // With no transactions the consensus parser takes it whole too.
            if b.transactions.is_empty() {
                let p = prepare_block(&blob, &[] as &[Vec<u8>]).unwrap();
                assert_eq!(hex::encode(p.hash), id);
            }
            n += 1;
        }
    }
    assert_eq!(n, 35);
}

/// The stagenet MLSAG transactions (RCT types 2, 3 and 4, 1 to 119 inputs) with their
/// ring members: every MLSAG, the balance and the range proofs (Borromean, Bulletproof)
/// verify, and a swapped ring member does not.
#[test]
fn mlsag_transactions_with_ring_data_verify() {
    let Some(dir) = xmrd::testdata::shared_subdir("vectors") else {
        return;
    };
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("ringct/stagenet_xmregcore_rings.json")).unwrap(),
    )
    .unwrap();
    let txs = v["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 12);
    let mut inputs_checked = 0;
    for t in txs {
        let blob = std::fs::read(dir.join(t["tx_file"].as_str().unwrap())).unwrap();
        let p = prepare_tx(&blob).unwrap();
        assert_eq!(hex::encode(p.hash), t["tx_hash"].as_str().unwrap());
        let inputs = t["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), p.key_images.len());
        for (i, input) in inputs.iter().enumerate() {
            let r = ring(input);
            tx::verify_ring_signature(&p, i, &r)
                .unwrap_or_else(|e| panic!("{} input {i}: {e}", t["tx_hash"]));
            if i == 0 {
                let mut bad = r.clone();
                bad.swap(0, 1);
                assert_eq!(
                    tx::verify_ring_signature(&p, i, &bad),
                    Err(TxError::Clsag(i))
                );
            }
            inputs_checked += 1;
        }
        tx::check_balance(&p).unwrap();
        let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
        tx::batch_range_proof(&p, &mut batch, &mut rand::rngs::OsRng).unwrap();
        assert!(batch.verify(), "{}: range proof", t["tx_hash"]);
    }
    assert!(inputs_checked >= 170);
}

fn ring(input: &Value) -> Vec<OutputInfo> {
    let ring: Vec<Value> = match &input["ring"] {
        Value::Array(a) => a.clone(),
        Value::String(s) => serde_json::from_str(&s.replace('\'', "\"")).unwrap(),
        other => panic!("ring {other}"),
    };
    ring.iter()
        .map(|m| OutputInfo {
            key: hex::decode(m["dest"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            commitment: hex::decode(m["mask"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            unlock_time: 0,
            height: 0,
        })
        .collect()
}

#[test]
fn clsag_transactions_with_ring_data_verify() {
    let Some(dir) = xmrd::testdata::shared_subdir("vectors") else {
        return;
    };
    for file in [
        "ringct/mainnet_e89415b9_bpplus_clsag_ring.json",
        "ringct/unknown-net_efd109f6_bpplus_clsag_ring.json",
    ] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let blob = std::fs::read(dir.join(v["tx_file"].as_str().unwrap())).unwrap();
        let p = prepare_tx(&blob).unwrap();
        assert_eq!(hex::encode(p.hash), v["tx_hash"].as_str().unwrap());
        tx::check_tx_semantics(&p, 16).unwrap();
        let inputs = v["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), p.key_images.len());
        for (i, input) in inputs.iter().enumerate() {
            let r = ring(input);
            assert_eq!(r.len(), 16);
            tx::verify_clsag(&p, i, &r).unwrap_or_else(|e| panic!("{file} input {i}: {e}"));
            // A ring with one member swapped does not verify.
            let mut bad = r.clone();
            bad.swap(0, 1);
            assert_eq!(tx::verify_clsag(&p, i, &bad), Err(TxError::Clsag(i)));
        }
        tx::check_balance(&p).unwrap();
        let mut batch = monero_oxide::ringct::bulletproofs::BatchVerifier::new();
        tx::batch_range_proof(&p, &mut batch, &mut rand::rngs::OsRng).unwrap();
        assert!(batch.verify(), "{file}: range proof");
    }
}
