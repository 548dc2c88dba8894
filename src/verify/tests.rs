//! The whole regtest chain a real monerod made (with real wallet transactions) verifies, with
//! the weights, cumulative difficulties and emission monerod stored; and one mutation per
//! rule is refused with that rule's error.

use std::sync::{Arc, OnceLock};

use monero_oxide::block::Block;
use monero_oxide::ed25519::{CompressedPoint, Scalar};
use monero_oxide::ringct::RctPrunable;
use monero_oxide::transaction::{Input, Transaction};

use super::*;
use crate::chainfile::{self, Package};
use crate::consensus::pow::RandomXMode;
use crate::consensus::{BlockEffects, ConsensusNet, MemoryChain};

const REGTEST: ConsensusNet = ConsensusNet::Regtest {
    fixed_difficulty: Some(1),
};

struct Fixture {
    packages: Vec<Package>,
    effects: Vec<BlockEffects>,
    pool: Arc<VerifyPool>,
}

/// The 700-block, 2500-tx chain, verified once for all tests here.
fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let dir = crate::testdata::shared_subdir("realpeer/chains")?;
        let f = dir.join("regtest-700b-2500tx.raw");
        let packages = chainfile::read_all(std::fs::File::open(f).ok()?).ok()?;
        let pool =
            Arc::new(VerifyPool::new(0, Arc::new(RandomXHasher::new(RandomXMode::Light))).unwrap());
        let mut chain = MemoryChain::new(REGTEST);
        let mut effects = Vec::new();
        for span in packages.chunks(100) {
            let blocks = span
                .iter()
                .map(|p| SpanBlock::new(p.block.clone(), p.txs.clone()))
                .collect();
            for (i, v) in pool
                .verify_span_blocking(&chain, blocks, BlockChecks::now())
                .into_iter()
                .enumerate()
            {
                let v = v.unwrap_or_else(|e| panic!("block {} fails: {e}", effects.len() + i));
                effects.push(v.effects);
            }
            for e in &effects[usize::try_from(chain.height()).unwrap()..] {
                chain.apply(e.clone());
            }
        }
        Some(Fixture {
            packages,
            effects,
            pool,
        })
    })
    .as_ref()
}

fn chain_at(f: &Fixture, height: usize) -> MemoryChain {
    let mut c = MemoryChain::new(REGTEST);
    for e in &f.effects[..height] {
        c.apply(e.clone());
    }
    c
}

#[test]
fn whole_regtest_chain_verifies_like_monerod() {
    let Some(f) = fixture() else { return };
    assert_eq!(f.effects.len(), f.packages.len());
    for (h, (e, p)) in f.effects.iter().zip(&f.packages).enumerate() {
        assert_eq!(e.weight, p.block_weight, "weight at {h}");
        assert_eq!(
            e.cumulative_difficulty, p.cumulative_difficulty,
            "cumulative difficulty at {h}"
        );
        assert_eq!(e.generated_coins, p.coins_generated, "coins at {h}");
        // Each block's id is the next block's previous id.
        if let Some(next) = f.packages.get(h + 1) {
            let b = Block::read(&mut next.block.as_slice()).unwrap();
            assert_eq!(b.header.previous, e.hash);
        }
    }
    let top = f.effects.last().unwrap().hash;
    assert_eq!(
        hex::encode(top),
        "5c6486fdb4b10ea0fe527726e427888fdfd20de209140ebf129eb4315c51cd6e"
    );
}

/// A block at least 100 deep with several transactions, one with two or more inputs.
fn target(f: &Fixture) -> usize {
    (400..f.packages.len())
        .find(|&h| {
            let p = &f.packages[h];
            p.txs.len() >= 3
                && p.txs.iter().any(|t| {
                    Transaction::<monero_oxide::transaction::NotPruned>::read(&mut t.as_slice())
                        .map(|t| t.prefix().inputs.len() >= 2)
                        .unwrap_or(false)
                })
        })
        .expect("a block with a multi-input transaction")
}

struct Parts {
    block: Block,
    txs: Vec<Transaction>,
}

fn parts(p: &Package) -> Parts {
    Parts {
        block: Block::read(&mut p.block.as_slice()).unwrap(),
        txs: p
            .txs
            .iter()
            .map(|t| Transaction::read(&mut t.as_slice()).unwrap())
            .collect(),
    }
}

impl Parts {
    /// Re-assembles the block with its tx list matching the (possibly mutated) txs.
    fn span(&self) -> SpanBlock {
        let miner = self.block.miner_transaction().clone();
        let block = Block::new(
            self.block.header.clone(),
            miner,
            self.txs.iter().map(|t| t.hash()).collect(),
        )
        .unwrap();
        SpanBlock::new(
            block.serialize(),
            self.txs.iter().map(|t| t.serialize()).collect(),
        )
    }
    fn with_miner(&mut self, f: impl FnOnce(&mut Transaction)) {
        let mut m = self.block.miner_transaction().clone();
        f(&mut m);
        self.block = Block::new(
            self.block.header.clone(),
            m,
            self.block.transactions.clone(),
        )
        .unwrap();
    }
    fn multi_input(&self) -> usize {
        self.txs
            .iter()
            .position(|t| t.prefix().inputs.len() >= 2)
            .unwrap()
    }
}

fn verdict(f: &Fixture, chain: &MemoryChain, span: SpanBlock) -> Result<(), BlockError> {
    verdict_at(f, chain, span, BlockChecks::now())
}

fn verdict_at(
    f: &Fixture,
    chain: &MemoryChain,
    span: SpanBlock,
    c: BlockChecks,
) -> Result<(), BlockError> {
    f.pool
        .verify_span_blocking(chain, vec![span], c)
        .pop()
        .unwrap()
        .map(|_| ())
}

fn tx_error(r: Result<(), BlockError>) -> TxError {
    match r {
        Err(BlockError::Tx { error, .. }) => error,
        other => panic!("expected a transaction error, got {other:?}"),
    }
}

fn clsags(t: &mut Transaction) -> &mut Vec<monero_oxide::ringct::clsag::Clsag> {
    match t {
        Transaction::V2 {
            proofs: Some(p), ..
        } => match &mut p.prunable {
            RctPrunable::Clsag { clsags, .. } => clsags,
            _ => panic!("not CLSAG"),
        },
        _ => panic!("not RingCT"),
    }
}

fn bump(s: &Scalar) -> Scalar {
    let d: curve25519_dalek::Scalar = (*s).into();
    Scalar::from(d + curve25519_dalek::Scalar::ONE)
}

#[test]
fn unmodified_target_block_passes() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let chain = chain_at(f, h);
    assert_eq!(verdict(f, &chain, parts(&f.packages[h]).span()), Ok(()));
}

#[test]
fn block_rule_mutations_are_refused_by_name() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let chain = chain_at(f, h);
    let p = &f.packages[h];

    let mut m = parts(p);
    m.block.header.previous[0] ^= 1;
    assert_eq!(verdict(f, &chain, m.span()), Err(BlockError::PrevId));

    let mut m = parts(p);
    m.block.header.hardfork_version = 15;
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::WrongMajorVersion { .. })
    ));

    let mut m = parts(p);
    m.block.header.hardfork_signal = 15;
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::VoteTooLow { .. })
    ));

    let mut m = parts(p);
    m.block.header.timestamp = 1;
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::TimestampTooOld { .. })
    ));

    let mut m = parts(p);
    m.block.header.timestamp = 4_000_000_000;
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::TimestampInFuture { .. })
    ));

    // Merkle root: the block lists a transaction it was not given.
    let m = parts(p);
    let mut s = m.span();
    let mut b = Block::read(&mut s.block.as_slice()).unwrap();
    b.transactions[0][0] ^= 1;
    s.block = b.serialize();
    assert_eq!(verdict(f, &chain, s), Err(BlockError::TxSetMismatch));

    let mut m = parts(p);
    let first = m.txs[0].clone();
    m.txs.push(first);
    assert_eq!(verdict(f, &chain, m.span()), Err(BlockError::DuplicateTx));

    // Reward + 1 piconero.
    let mut m = parts(p);
    m.with_miner(|t| {
        let o = &mut t.prefix_mut().outputs[0];
        o.amount = Some(o.amount.unwrap() + 1);
    });
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::WrongReward { .. })
    ));

    let mut m = parts(p);
    m.with_miner(|t| t.prefix_mut().inputs = vec![Input::Gen(h + 1)]);
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::MinerTxHeight { .. })
    ));

    let mut m = parts(p);
    m.with_miner(|t| {
        t.prefix_mut().additional_timelock = monero_oxide::transaction::Timelock::Block(h + 59)
    });
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::MinerTxUnlock { .. })
    ));

    let mut m = parts(p);
    m.with_miner(|t| t.prefix_mut().outputs[0].view_tag = None);
    assert_eq!(
        verdict(f, &chain, m.span()),
        Err(BlockError::MinerTxOutput(0))
    );

    // Over-weight: a miner tx padded past twice the 300,000 median.
    let mut m = parts(p);
    m.with_miner(|t| {
        t.prefix_mut()
            .extra
            .extend(std::iter::repeat_n(0u8, 700_000))
    });
    assert!(matches!(
        verdict(f, &chain, m.span()),
        Err(BlockError::Overweight { .. })
    ));

    // Proof of work: the same block against a difficulty no hash meets.
    let mut hard = MemoryChain::new(ConsensusNet::Regtest {
        fixed_difficulty: Some(u128::MAX),
    });
    for e in &f.effects[..h] {
        hard.apply(e.clone());
    }
    assert_eq!(
        verdict(f, &hard, parts(p).span()),
        Err(BlockError::Pow(u128::MAX))
    );
}

#[test]
fn transaction_rule_mutations_are_refused_by_name() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let chain = chain_at(f, h);
    let p = &f.packages[h];
    let mi = parts(p).multi_input();

    // A flipped CLSAG scalar.
    let mut m = parts(p);
    let c = clsags(&mut m.txs[0]);
    c[0].s[3] = bump(&c[0].s[3]);
    assert_eq!(tx_error(verdict(f, &chain, m.span())), TxError::Clsag(0));

    // A flipped Bulletproof+ byte (r1's low byte stays canonical).
    let mut m = parts(p);
    let blob = m.txs[0].serialize();
    let bp = match &m.txs[0] {
        Transaction::V2 {
            proofs: Some(pr), ..
        } => match &pr.prunable {
            RctPrunable::Clsag { bulletproof, .. } => bulletproof.serialize(),
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    let at = blob
        .windows(bp.len())
        .position(|w| w == bp.as_slice())
        .unwrap();
    let mut blob2 = blob.clone();
    blob2[at + 96] ^= 1;
    m.txs[0] = Transaction::read(&mut blob2.as_slice()).unwrap();
    assert_eq!(tx_error(verdict(f, &chain, m.span())), TxError::RangeProof);

    // Balance: one more piconero of fee than the commitments carry, which the miner
    // claims (so the reward rule holds and only the commitments tell).
    let mut m = parts(p);
    if let Transaction::V2 {
        proofs: Some(pr), ..
    } = &mut m.txs[0]
    {
        pr.base.fee += 1;
    }
    m.with_miner(|t| {
        let o = &mut t.prefix_mut().outputs[0];
        o.amount = Some(o.amount.unwrap() + 1);
    });
    assert_eq!(tx_error(verdict(f, &chain, m.span())), TxError::Unbalanced);

    // Duplicate key image inside one transaction.
    let mut m = parts(p);
    let ki0 = match &m.txs[mi].prefix().inputs[0] {
        Input::ToKey { key_image, .. } => *key_image,
        _ => unreachable!(),
    };
    if let Input::ToKey { key_image, .. } = &mut m.txs[mi].prefix_mut().inputs[1] {
        *key_image = ki0;
    }
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::DuplicateKeyImageInTx
    );

    // The same key image in two transactions of the block.
    let mut m = parts(p);
    let other = usize::from(mi == 0);
    if let Input::ToKey { key_image, .. } = &mut m.txs[other].prefix_mut().inputs[0] {
        *key_image = ki0;
    }
    assert_eq!(
        verdict(f, &chain, m.span()),
        Err(BlockError::DoubleSpendInBlock)
    );

    // A key image already spent on the chain.
    let mut spent = chain_at(f, h - 1);
    let mut last = f.effects[h - 1].clone();
    last.key_images.push(ki0.to_bytes());
    spent.apply(last);
    assert_eq!(
        tx_error(verdict(f, &spent, parts(p).span())),
        TxError::KeyImageSpent(0)
    );

    // Unsorted inputs: swap two inputs with their signatures.
    let mut m = parts(p);
    m.txs[mi].prefix_mut().inputs.swap(0, 1);
    clsags(&mut m.txs[mi]).swap(0, 1);
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::UnsortedInputs
    );

    // A key image with a torsion component.
    let mut m = parts(p);
    let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
    let ki = ki0.decompress().unwrap().into() + torsion;
    if let Input::ToKey { key_image, .. } = &mut m.txs[mi].prefix_mut().inputs[0] {
        *key_image = CompressedPoint::from(ki.compress().to_bytes());
    }
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::KeyImageDomain(0)
    );

    // Ring size 15: drop the last member and its response from every input (monerod, like
    // monero-oxide, reads every CLSAG with the first input's ring size).
    let mut m = parts(p);
    for input in m.txs[0].prefix_mut().inputs.iter_mut() {
        if let Input::ToKey { key_offsets, .. } = input {
            key_offsets.pop();
        }
    }
    for c in clsags(&mut m.txs[0]).iter_mut() {
        c.s.pop();
    }
    let e = tx_error(verdict(f, &chain, m.span()));
    assert!(matches!(e, TxError::RingSize { .. }), "{e:?}");

    // Same ring member twice.
    let mut m = parts(p);
    if let Input::ToKey { key_offsets, .. } = &mut m.txs[0].prefix_mut().inputs[0] {
        key_offsets[5] = 0;
    }
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::DuplicateRingMember(0)
    );

    // A ring member that does not exist.
    let mut m = parts(p);
    if let Input::ToKey { key_offsets, .. } = &mut m.txs[0].prefix_mut().inputs[0] {
        *key_offsets.last_mut().unwrap() = 1 << 40;
    }
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::RingMemberMissing(0)
    );

    // A locked ring member (a coinbase output 20 blocks old: unlocks after 60) and a too
    // young one (a transaction output 5 blocks old).
    let locked = find_output(&chain, |o| {
        o.height + 20 == h as u64 && o.unlock_time > h as u64
    });
    let young = find_output(&chain, |o| o.height + 5 == h as u64 && o.unlock_time == 0);
    for (idx, want) in [
        (locked, TxError::RingMemberLocked(0)),
        (young, TxError::RingMemberTooYoung(0)),
    ] {
        let mut m = parts(p);
        if let Input::ToKey { key_offsets, .. } = &mut m.txs[0].prefix_mut().inputs[0] {
            // Ring: outputs 0..15 (old, unlocked) and the target.
            let n = key_offsets.len() as u64;
            assert!(idx >= n);
            *key_offsets = (0..n - 1).map(|i| u64::from(i > 0)).collect();
            key_offsets.push(idx - (n - 2));
        }
        assert_eq!(tx_error(verdict(f, &chain, m.span())), want);
    }

    // Outputs: untagged, fewer than two, more than sixteen.
    let mut m = parts(p);
    m.txs[0].prefix_mut().outputs[1].view_tag = None;
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::OutputType(1)
    );

    let mut m = parts(p);
    shrink_outputs(&mut m.txs[0], 1);
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::TooFewOutputs
    );

    let mut m = parts(p);
    grow_outputs(&mut m.txs[0], 17);
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::TooManyOutputs(17)
    );

    // Transaction weight over half the minimum block weight.
    let mut m = parts(p);
    m.txs[0]
        .prefix_mut()
        .extra
        .extend(std::iter::repeat_n(0u8, 160_000));
    assert!(matches!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::Overweight { .. }
    ));

    // Already in the chain: a transaction from an earlier block.
    let mut m = parts(p);
    let old = (1..h)
        .rev()
        .find_map(|k| f.packages[k].txs.first().cloned())
        .unwrap();
    m.txs.push(Transaction::read(&mut old.as_slice()).unwrap());
    assert_eq!(
        tx_error(verdict(f, &chain, m.span())),
        TxError::AlreadyInChain
    );
}

/// Pool admission rules (monerod applies them to relayed transactions, not to blocks).
#[test]
fn pool_rules_fee_and_extra() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let chain = chain_at(f, h);
    let limits = crate::consensus::verify::weight_limits(&chain);
    let coins = chain.already_generated_coins();
    let p = crate::consensus::tx::prepare_tx(&f.packages[h].txs[0]).unwrap();
    assert_eq!(
        crate::consensus::tx::check_pool_rules(&p, 16, &limits, coins),
        Ok(())
    );
    let mut cheap = p.clone();
    cheap.fee = 1;
    assert!(matches!(
        crate::consensus::tx::check_pool_rules(&cheap, 16, &limits, coins),
        Err(TxError::FeeTooLow { .. })
    ));
    let mut t = p.tx.clone();
    t.prefix_mut().extra.extend(std::iter::repeat_n(0u8, 1100));
    let big = crate::consensus::tx::prepared(t.clone(), t.serialize().len());
    assert!(matches!(
        crate::consensus::tx::check_pool_rules(&big, 16, &limits, coins),
        Err(TxError::ExtraTooBig(_))
    ));
}

fn find_output(chain: &MemoryChain, pred: impl Fn(&crate::consensus::OutputInfo) -> bool) -> u64 {
    let n = chain.num_outputs(0);
    let all: Vec<u64> = (0..n).collect();
    chain
        .outputs(0, &all)
        .into_iter()
        .enumerate()
        .rev()
        .find(|(_, o)| o.as_ref().is_some_and(&pred))
        .map(|(i, _)| i as u64)
        .expect("an output matching the mutation")
}

fn shrink_outputs(t: &mut Transaction, n: usize) {
    let Transaction::V2 {
        prefix,
        proofs: Some(p),
    } = t
    else {
        unreachable!()
    };
    prefix.outputs.truncate(n);
    p.base.commitments.truncate(n);
    p.base.encrypted_amounts.truncate(n);
}

fn grow_outputs(t: &mut Transaction, n: usize) {
    let Transaction::V2 {
        prefix,
        proofs: Some(p),
    } = t
    else {
        unreachable!()
    };
    while prefix.outputs.len() < n {
        prefix.outputs.push(prefix.outputs[0].clone());
        p.base.commitments.push(p.base.commitments[0]);
        p.base
            .encrypted_amounts
            .push(p.base.encrypted_amounts[0].clone());
    }
}

/// The async entry point resolves without the caller blocking on the pool.
#[test]
fn async_verdict_arrives() {
    let Some(f) = fixture() else { return };
    let chain = Arc::new(chain_at(f, 600));
    let span: Vec<SpanBlock> = f.packages[600..620]
        .iter()
        .map(|p| SpanBlock::new(p.block.clone(), p.txs.clone()))
        .collect();
    let rx = f.pool.verify_span(chain, span, BlockChecks::now());
    let v = futures_lite::future::block_on(rx).unwrap();
    assert_eq!(v.len(), 20);
    assert!(v.iter().all(|r| r.is_ok()));
}

/// A bad block in the middle of a span: earlier blocks pass, it fails, later ones are
/// refused as following a failed block.
#[test]
fn span_verdict_stops_at_the_first_bad_block() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let start = h - 3;
    let chain = chain_at(f, start);
    let mut span: Vec<SpanBlock> = f.packages[start..h + 3]
        .iter()
        .map(|p| SpanBlock::new(p.block.clone(), p.txs.clone()))
        .collect();
    let mut m = parts(&f.packages[h]);
    let c = clsags(&mut m.txs[1]);
    c[0].c1 = bump(&c[0].c1);
    span[3] = m.span();
    let v = f
        .pool
        .verify_span_blocking(&chain, span, BlockChecks::now());
    assert!(v[..3].iter().all(|r| r.is_ok()));
    assert!(matches!(
        &v[3],
        Err(BlockError::Tx {
            index: 1,
            error: TxError::Clsag(0),
            ..
        })
    ));
    assert!(v[4..]
        .iter()
        .all(|r| matches!(r, Err(BlockError::AfterFailedBlock))));
}

/// A transaction the pool verified keeps its proofs skipped in a block only while its
/// rings are the ones it was verified against; a changed transaction has another hash and
/// is verified in full.
#[test]
fn pool_verified_proofs_are_skipped_only_for_the_same_tx_and_rings() {
    use crate::consensus::{ring_digest, verify_block, OutputInfo, ProvenTxs};
    let Some(f) = fixture() else { return };
    let h = target(f);
    let chain = chain_at(f, h);
    let span = parts(&f.packages[h]).span();
    let b = prepare_block(&span.block, &span.txs).unwrap();
    // Regtest's fixed difficulty of 1 accepts any hash: these tests look at the proof jobs.
    let (_, jobs) = verify_block(&chain, &b, &[0; 32], BlockChecks::now()).unwrap();
    let rings: Vec<Vec<OutputInfo>> = jobs
        .clsag
        .iter()
        .filter(|(t, _, _)| *t == 0)
        .map(|(_, _, r)| r.clone())
        .collect();
    assert!(!rings.is_empty());
    let others = jobs.clsag.iter().filter(|(t, _, _)| *t != 0).count();

    let mut same = ProvenTxs::new();
    same.insert(b.txs[0].hash, ring_digest(&rings));
    let mut j = jobs.clone();
    j.skip_proven(&b.txs, &same);
    assert!(!j.range_and_balance.contains(&0));
    assert_eq!(j.clsag.len(), others);
    assert_eq!(j.range_and_balance.len(), jobs.range_and_balance.len() - 1);

    let mut moved = rings.clone();
    moved[0][0].commitment[0] ^= 1;
    let mut other_rings = ProvenTxs::new();
    other_rings.insert(b.txs[0].hash, ring_digest(&moved));
    let mut j = jobs.clone();
    j.skip_proven(&b.txs, &other_rings);
    assert_eq!(j.clsag.len(), jobs.clsag.len());
    assert_eq!(j.range_and_balance, jobs.range_and_balance);

    // The block verifies with the skip; a forged signature in the same place is still
    // caught, since the forged transaction's hash is not the proven one.
    let v = f
        .pool
        .verify_span_proven(&chain, vec![span], BlockChecks::now(), &same)
        .pop()
        .unwrap();
    assert!(v.is_ok());
    let mut m = parts(&f.packages[h]);
    let c = clsags(&mut m.txs[0]);
    c[0].s[3] = bump(&c[0].s[3]);
    let v = f
        .pool
        .verify_span_proven(&chain, vec![m.span()], BlockChecks::now(), &same)
        .pop()
        .unwrap();
    assert_eq!(tx_error(v.map(|_| ())), TxError::Clsag(0));
}

/// Fast sync: a settled block is checked for its id and weight, not for its proof of work
/// or its signatures (monerod's `fast_check`); every other rule still holds.
#[test]
fn settled_blocks_skip_work_and_signatures_but_not_id_or_weight() {
    let Some(f) = fixture() else { return };
    let h = target(f);
    let p = &f.packages[h];
    // A chain on which no hash meets the difficulty.
    let mut hard = MemoryChain::new(ConsensusNet::Regtest {
        fixed_difficulty: Some(u128::MAX),
    });
    for e in &f.effects[..h] {
        hard.apply(e.clone());
    }
    let settled = |span: &SpanBlock, weight: u64| {
        let id = Block::read(&mut span.block.as_slice()).unwrap().hash();
        SpanBlock {
            known: Some(KnownBlock {
                id,
                weight: Some(weight),
            }),
            ..span.clone()
        }
    };
    let span = parts(p).span();
    assert_eq!(
        verdict(f, &hard, span.clone()),
        Err(BlockError::Pow(u128::MAX))
    );
    assert_eq!(verdict(f, &hard, settled(&span, p.block_weight)), Ok(()));
    // Another block at that height, or another weight: refused.
    let mut other = settled(&span, p.block_weight);
    if let Some(k) = other.known.as_mut() {
        k.id[0] ^= 1;
    }
    assert_eq!(
        verdict(f, &hard, other),
        Err(BlockError::NotSettledBlock(h as u64))
    );
    assert_eq!(
        verdict(f, &hard, settled(&span, p.block_weight + 1)),
        Err(BlockError::SettledWeight {
            weight: p.block_weight,
            settled: p.block_weight + 1
        })
    );
    // A broken signature goes unchecked in a settled block, not in another.
    let chain = chain_at(f, h);
    let mut m = parts(p);
    let c = clsags(&mut m.txs[0]);
    c[0].s[3] = bump(&c[0].s[3]);
    let span = m.span();
    let weight = prepare_block(&span.block, &span.txs).unwrap().weight();
    assert_eq!(
        tx_error(verdict(f, &chain, span.clone())),
        TxError::Clsag(0)
    );
    assert_eq!(verdict(f, &chain, settled(&span, weight)), Ok(()));
    // Structure is still checked: a transaction already in the chain.
    let below = (1..h)
        .rev()
        .find(|&k| !f.packages[k].txs.is_empty())
        .expect("a block with transactions below the target");
    let mut m = parts(p);
    m.txs.insert(0, parts(&f.packages[below]).txs.remove(0));
    let span = m.span();
    let weight = prepare_block(&span.block, &span.txs).unwrap().weight();
    assert_eq!(
        tx_error(verdict(f, &chain, settled(&span, weight))),
        TxError::AlreadyInChain
    );
}
