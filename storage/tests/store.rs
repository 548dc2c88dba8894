//! The chain store against its model: pushes, pops and reorgs leave exactly the model's
//! blocks, transactions, outputs and key images; refusals leave the store unchanged;
//! a reopened store holds what was committed; a tampered store is refused on open.

#![allow(clippy::cast_possible_truncation, clippy::unwrap_used)]

mod common;

use common::model::assert_store_is;
use common::{block, extend, Shape, EMPTY};
use proptest::prelude::*;
use xmrd_storage::{AltBlock, ChainStore, StoreConfig, StoreError, WalSync};

const SMALL: Shape = Shape {
    txs: 3,
    inputs: 2,
    outputs: 2,
    pruned_bytes: 40,
    prunable_bytes: 90,
    pre_rct_permille: 300,
};

fn config() -> StoreConfig {
    // Tests commit many small batches: skip the fsync, durability is the crash test's job.
    StoreConfig {
        wal_sync: WalSync::OsBuffered,
        full_check_on_open: true,
        ..StoreConfig::default()
    }
}

#[test]
fn pushed_blocks_read_back_whole_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Vec::new();
    extend(&mut chain, 1, 0, 25, SMALL);
    {
        let store = ChainStore::open(dir.path(), &config()).unwrap();
        let c = store.committer();
        c.push_blocks(chain[..10].to_vec()).unwrap();
        for b in &chain[10..] {
            c.push_block(b.clone()).unwrap();
        }
        assert_store_is(&store.reader(), &chain, &chain);
    }
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    assert_store_is(&store.reader(), &chain, &chain);
}

#[test]
fn reorg_pops_blocks_unspends_their_key_images_and_takes_the_other_branch() {
    let dir = tempfile::tempdir().unwrap();
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    let c = store.committer();
    let mut main = Vec::new();
    extend(&mut main, 7, 0, 30, SMALL);
    c.push_blocks(main.clone()).unwrap();

    // The other branch forks at height 20; its block 22 re-spends a key image the
    // popped branch had spent at 25 (legal once 25 is popped).
    let mut alt = main[..20].to_vec();
    extend(&mut alt, 7, 1, 15, SMALL);
    let respent = main[25].txs[1].key_images[0];
    alt[22].txs[1].key_images[0] = respent;
    assert!(matches!(
        c.push_block(alt[20].clone()),
        Err(StoreError::NotChild { .. })
    ));

    let popped = c.pop_blocks(10).unwrap();
    assert_eq!(
        popped.hashes,
        main[20..].iter().rev().map(|b| b.hash).collect::<Vec<_>>()
    );
    assert_eq!(popped.view.block_count, 20);
    assert_store_is(&store.reader(), &main[..20], &main);

    c.push_blocks(alt[20..].to_vec()).unwrap();
    let ever: Vec<_> = main.iter().chain(&alt[20..]).cloned().collect();
    assert_store_is(&store.reader(), &alt, &ever);
    assert_eq!(
        store.reader().spent_key_images(&[respent]).unwrap(),
        vec![Some(22)]
    );

    // And back: pop the branch, re-push the original blocks.
    c.pop_blocks(15).unwrap();
    c.push_blocks(main[20..].to_vec()).unwrap();
    assert_store_is(&store.reader(), &main, &ever);
    drop(store);
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    assert_store_is(&store.reader(), &main, &ever);
}

#[test]
fn refuses_double_spends_duplicates_and_deep_pops_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    let c = store.committer();
    let mut chain = Vec::new();
    extend(&mut chain, 3, 0, 5, SMALL);
    c.push_blocks(chain.clone()).unwrap();

    let mut bad = block(3, 0, 5, chain.last(), SMALL);
    bad.txs[2].key_images[1] = chain[1].txs[1].key_images[0];
    let err = c.push_block(bad).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Duplicate {
                what: "key image",
                ..
            }
        ),
        "{err}"
    );

    let mut twice = block(3, 0, 5, chain.last(), SMALL);
    twice.txs[2].key_images[0] = twice.txs[1].key_images[1];
    assert!(matches!(
        c.push_block(twice),
        Err(StoreError::Duplicate { .. })
    ));

    let mut dup_tx = block(3, 0, 5, chain.last(), SMALL);
    dup_tx.txs[1].hash = chain[4].txs[3].hash;
    assert!(matches!(
        c.push_block(dup_tx),
        Err(StoreError::Duplicate {
            what: "transaction",
            ..
        })
    ));

    // A span whose second block is bad is refused whole.
    let mut span = Vec::new();
    span.push(block(3, 0, 5, chain.last(), SMALL));
    let mut second = block(3, 0, 6, span.last(), SMALL);
    second.prev_hash = [9; 32];
    span.push(second);
    assert!(matches!(
        c.push_blocks(span),
        Err(StoreError::NotChild { .. })
    ));

    assert!(matches!(
        c.pop_blocks(6),
        Err(StoreError::PopTooDeep { asked: 6, have: 5 })
    ));
    assert_store_is(&store.reader(), &chain, &chain);

    c.pop_blocks(5).unwrap();
    assert_store_is(&store.reader(), &[], &chain);
    c.push_blocks(chain.clone()).unwrap();
    assert_store_is(&store.reader(), &chain, &chain);
}

#[test]
fn alternative_blocks_are_stored_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    let c = store.committer();
    let b = block(5, 2, 12, None, SMALL);
    let alt = AltBlock {
        height: 12,
        meta: b.meta,
        blob: b.blob.clone(),
        txs: b
            .txs
            .iter()
            .map(|t| [t.pruned.clone(), t.prunable.clone()].concat())
            .collect(),
    };
    c.put_alt_block(b.hash, alt.clone()).unwrap();
    assert_eq!(
        store.reader().alt_blocks(&[b.hash, [0; 32]]).unwrap(),
        vec![Some(alt), None]
    );
    c.remove_alt_blocks(vec![b.hash]).unwrap();
    assert_eq!(store.reader().alt_blocks(&[b.hash]).unwrap(), vec![None]);
    assert_eq!(store.reader().view().block_count, 0);
}

#[test]
fn empty_blocks_and_an_empty_chain_are_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let store = ChainStore::open(dir.path(), &config()).unwrap();
    assert_store_is(&store.reader(), &[], &[]);
    let mut chain = Vec::new();
    extend(&mut chain, 9, 0, 40, EMPTY);
    store.committer().push_blocks(chain.clone()).unwrap();
    assert_store_is(&store.reader(), &chain, &chain);
    let info = xmrd_storage::inspect(dir.path(), true).unwrap();
    assert_eq!(info.view.block_count, 40);
    assert_eq!(info.check.unwrap().blocks, 40);
}

/// Opens the store's RocksDB directly and deletes one key, as a broken disk or a bug would.
fn delete_raw(dir: &std::path::Path, cf: &str, key: &[u8]) {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir).unwrap();
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), dir, &names).unwrap();
    db.delete_cf(db.cf_handle(cf).unwrap(), key).unwrap();
}

#[test]
fn refuses_to_open_a_store_missing_its_top_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Vec::new();
    extend(&mut chain, 11, 0, 4, SMALL);
    {
        let store = ChainStore::open(dir.path(), &config()).unwrap();
        store.committer().push_blocks(chain.clone()).unwrap();
    }
    delete_raw(dir.path(), "block_meta", &3u64.to_be_bytes());
    let quick = StoreConfig {
        full_check_on_open: false,
        ..config()
    };
    let err = ChainStore::open(dir.path(), &quick).unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent { .. }), "{err}");
    assert!(err.to_string().contains("block_meta"), "{err}");
    let info = xmrd_storage::inspect(dir.path(), false).unwrap();
    assert!(info.check.is_err());
}

#[test]
fn full_check_finds_a_missing_key_image_the_quick_check_cannot_see() {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = Vec::new();
    extend(&mut chain, 12, 0, 4, SMALL);
    {
        let store = ChainStore::open(dir.path(), &config()).unwrap();
        store.committer().push_blocks(chain.clone()).unwrap();
    }
    delete_raw(dir.path(), "key_images", &chain[2].txs[1].key_images[1]);
    let quick = StoreConfig {
        full_check_on_open: false,
        ..config()
    };
    drop(ChainStore::open(dir.path(), &quick).unwrap());
    let err = ChainStore::open(dir.path(), &config()).unwrap_err();
    assert!(err.to_string().contains("key image"), "{err}");
}

#[derive(Clone, Debug)]
enum Op {
    Push { n: usize, span: bool },
    Pop(u64),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..6, any::<bool>()).prop_map(|(n, span)| Op::Push { n, span }),
        2 => (0u64..8).prop_map(Op::Pop),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random pushes (single blocks and spans, on a fresh branch after each pop), pops and
    /// reopens leave the store equal to a vector of blocks.
    #[test]
    fn random_pushes_and_pops_match_the_model(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..14)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = ChainStore::open(dir.path(), &config()).unwrap();
        let (mut model, mut ever) = (Vec::new(), Vec::new());
        let mut fork = 0;
        for op in ops {
            match op {
                Op::Push { n, span } => {
                    let start = model.len();
                    extend(&mut model, seed, fork, n, SMALL);
                    let new = model[start..].to_vec();
                    ever.extend(new.iter().cloned());
                    if span {
                        store.committer().push_blocks(new).unwrap();
                    } else {
                        for b in new {
                            store.committer().push_block(b).unwrap();
                        }
                    }
                }
                Op::Pop(n) => {
                    let r = store.committer().pop_blocks(n);
                    if n as usize > model.len() {
                        prop_assert!(r.is_err());
                    } else {
                        r.unwrap();
                        model.truncate(model.len() - n as usize);
                        fork += 1;
                    }
                }
                Op::Reopen => {
                    drop(store);
                    store = ChainStore::open(dir.path(), &config()).unwrap();
                }
            }
            assert_store_is(&store.reader(), &model, &ever);
        }
    }
}
