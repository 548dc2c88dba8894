//! A model of the chain store (a vector of blocks) and the check that the store holds
//! exactly it: every block, transaction, output index and key image, and nothing of
//! blocks that were popped.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::cast_possible_truncation,
    clippy::unwrap_used
)]

use std::collections::{HashMap, HashSet};

use xmrd_storage::{BlockWrite, ChainReader, OutputIndex, OutputKind, TxLocation};

/// Panics (in a test) unless the store holds exactly `model`; `ever` are all blocks ever
/// pushed, whose items not in `model` must be absent.
pub fn assert_store_is(reader: &ChainReader, model: &[BlockWrite], ever: &[BlockWrite]) {
    assert_store_is_from(reader, model, ever, 0);
}

/// As [`assert_store_is`], reading back in detail only the blocks from height `from` on
/// (the counts, top and index assignment still cover the whole model).
pub fn assert_store_is_from(
    reader: &ChainReader,
    model: &[BlockWrite],
    ever: &[BlockWrite],
    from: usize,
) {
    let view = reader.view();
    assert_eq!(view.block_count, model.len() as u64, "block count");
    let top = model.last();
    assert_eq!(view.top_hash, top.map_or([0; 32], |b| b.hash), "top hash");
    assert_eq!(
        view.cumulative_difficulty,
        top.map_or(0, |b| b.meta.cumulative_difficulty)
    );

    let heights: Vec<u64> = (0..model.len() as u64).collect();
    let from = from.min(model.len());
    let mut blocks = vec![None; from];
    blocks.extend(reader.blocks(&heights[from..]).unwrap());
    let (mut rct, mut amounts) = (0u64, HashMap::<u64, u64>::new());
    let mut key_images = Vec::new();
    for (h, (want, got)) in model.iter().zip(&blocks).enumerate() {
        if h < from {
            for o in want.txs.iter().flat_map(|t| &t.outputs) {
                match o.kind {
                    OutputKind::RingCt => rct += 1,
                    OutputKind::PreRingCt { amount } => *amounts.entry(amount).or_insert(0) += 1,
                }
            }
            continue;
        }
        let got = got.as_ref().unwrap_or_else(|| panic!("block {h} missing"));
        assert_eq!(got.hash, want.hash);
        assert_eq!(got.prev_hash, want.prev_hash);
        assert_eq!(got.header, want.header);
        assert_eq!(got.blob, want.blob);
        assert_eq!(got.meta, want.meta);
        assert_eq!(got.tx_count as usize, want.txs.len());
        let txs = reader.block_txs(h as u64, got.tx_count).unwrap();
        for (i, (wt, gt)) in want.txs.iter().zip(&txs).enumerate() {
            let gt = gt
                .as_ref()
                .unwrap_or_else(|| panic!("tx {i} of block {h} missing"));
            assert_eq!(gt.record.hash, wt.hash);
            assert_eq!(gt.pruned, wt.pruned);
            assert_eq!(gt.prunable.as_deref(), Some(wt.prunable.as_slice()));
            assert_eq!(gt.record.key_images, wt.key_images);
            assert_eq!(
                gt.location,
                TxLocation {
                    height: h as u64,
                    index: i as u32
                }
            );
            let mut want_idx = Vec::new();
            for o in &wt.outputs {
                want_idx.push(match o.kind {
                    OutputKind::RingCt => {
                        rct += 1;
                        OutputIndex::RingCt(rct - 1)
                    }
                    OutputKind::PreRingCt { amount } => {
                        let n = amounts.entry(amount).or_insert(0);
                        *n += 1;
                        OutputIndex::PreRingCt {
                            amount,
                            index: *n - 1,
                        }
                    }
                });
            }
            assert_eq!(
                gt.record.outputs, want_idx,
                "output indices of tx {i} at {h}"
            );
            for (j, (o, idx)) in wt.outputs.iter().zip(&want_idx).enumerate() {
                let rec = match *idx {
                    OutputIndex::RingCt(g) => reader.rct_outputs(&[g]).unwrap().remove(0),
                    OutputIndex::PreRingCt { amount, index } => reader
                        .pre_rct_outputs(&[(amount, index)])
                        .unwrap()
                        .remove(0),
                }
                .unwrap_or_else(|| panic!("output {j} of tx {i} at {h} missing"));
                assert_eq!((rec.key, rec.commitment), (o.key, o.commitment));
                assert_eq!((rec.tx, rec.local_index as usize), (gt.location, j));
                assert_eq!(rec.unlock_time, wt.unlock_time);
            }
            key_images.extend(wt.key_images.iter().map(|k| (*k, h as u64)));
        }
        assert_eq!(got.cumulative_rct_outputs, rct);
    }

    assert_eq!(view.rct_outputs, rct);
    assert_eq!(
        reader.rct_outputs(&[rct]).unwrap(),
        vec![None],
        "output past the end"
    );
    for (&amount, &n) in &amounts {
        assert_eq!(reader.pre_rct_outputs(&[(amount, n)]).unwrap(), vec![None]);
    }
    let kis: Vec<_> = key_images.iter().map(|k| k.0).collect();
    let spent = reader.spent_key_images(&kis).unwrap();
    for ((_, h), s) in key_images.iter().zip(spent) {
        assert_eq!(s, Some(*h), "key image spent height");
    }
    let hashes: Vec<_> = model.iter().map(|b| b.hash).collect();
    assert_eq!(
        reader.block_heights(&hashes).unwrap(),
        heights.iter().map(|&h| Some(h)).collect::<Vec<_>>()
    );

    // Nothing of popped blocks remains.
    let live_blocks: HashSet<_> = hashes.iter().collect();
    let live_txs: HashSet<_> = model
        .iter()
        .flat_map(|b| b.txs.iter().map(|t| t.hash))
        .collect();
    let live_kis: HashSet<_> = kis.iter().collect();
    for b in ever.iter().filter(|b| !live_blocks.contains(&b.hash)) {
        assert_eq!(
            reader.block_heights(&[b.hash]).unwrap(),
            vec![None],
            "popped block still indexed"
        );
        for t in b.txs.iter().filter(|t| !live_txs.contains(&t.hash)) {
            assert_eq!(
                reader.tx_locations(&[t.hash]).unwrap(),
                vec![None],
                "popped tx still indexed"
            );
            for k in t.key_images.iter().filter(|k| !live_kis.contains(k)) {
                assert_eq!(
                    reader.spent_key_images(&[*k]).unwrap(),
                    vec![None],
                    "popped key image still spent"
                );
            }
        }
    }
    let past_top = reader.blocks(&[model.len() as u64]).unwrap();
    assert_eq!(past_top, vec![None], "block above the top");
}
