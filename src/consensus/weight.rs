//! Block weights, medians, reward and fees: `src/cryptonote_basic/cryptonote_basic_impl.cpp`
//! (`get_min_block_weight`, `get_block_reward`) and `src/cryptonote_core/blockchain.cpp`
//! (`update_next_cumulative_weight_limit`, `get_next_long_term_block_weight`,
//! `get_dynamic_base_fee`, `check_fee`).

use super::constants::*;

/// epee `misc_utils::median`: the mean of the two middle values (rounded down) for an
/// even count, 0 for none.
pub fn median(values: &[u64]) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        let (a, b) = (v[n / 2 - 1], v[n / 2]);
        a / 2 + b / 2 + (a % 2 + b % 2) / 2
    }
}

/// The median of the last `capacity` values pushed, kept as they slide: what monerod's
/// `epee::misc_utils::rolling_median_t` gives `get_long_term_block_weight_median` (and
/// equal to [`median`] of the same values). O(log n) per push.
#[derive(Debug, Clone)]
pub struct RollingMedian {
    capacity: usize,
    window: std::collections::VecDeque<u64>,
    /// The lower half (with the middle value for an odd count), value → multiplicity.
    low: std::collections::BTreeMap<u64, usize>,
    low_len: usize,
    /// The upper half.
    high: std::collections::BTreeMap<u64, usize>,
    high_len: usize,
}

fn multiset_add(set: &mut std::collections::BTreeMap<u64, usize>, v: u64) {
    *set.entry(v).or_insert(0) += 1;
}

fn multiset_remove(set: &mut std::collections::BTreeMap<u64, usize>, v: u64) -> bool {
    match set.get_mut(&v) {
        Some(n) if *n > 1 => {
            *n -= 1;
            true
        }
        Some(_) => {
            set.remove(&v);
            true
        }
        None => false,
    }
}

impl RollingMedian {
    /// An empty window of at most `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            window: std::collections::VecDeque::new(),
            low: Default::default(),
            low_len: 0,
            high: Default::default(),
            high_len: 0,
        }
    }

    /// Values in the window.
    pub fn len(&self) -> usize {
        self.window.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.window.is_empty()
    }

    /// Adds `v`, dropping the oldest value when the window is full.
    pub fn push(&mut self, v: u64) {
        if self.window.len() == self.capacity {
            if let Some(old) = self.window.pop_front() {
                self.remove(old);
            }
        }
        self.window.push_back(v);
        match self.low.last_key_value() {
            Some((&max_low, _)) if v > max_low => {
                multiset_add(&mut self.high, v);
                self.high_len += 1;
            }
            _ => {
                multiset_add(&mut self.low, v);
                self.low_len += 1;
            }
        }
        self.rebalance();
    }

    fn remove(&mut self, v: u64) {
        // Every value of `low` is at most every value of `high`: a value not above the
        // largest of `low` is in `low`.
        let in_low = self.low.last_key_value().is_some_and(|(&m, _)| v <= m);
        if in_low && multiset_remove(&mut self.low, v) {
            self.low_len -= 1;
        } else if multiset_remove(&mut self.high, v) {
            self.high_len -= 1;
        }
        self.rebalance();
    }

    /// Keeps `low_len == high_len` or `low_len == high_len + 1`.
    fn rebalance(&mut self) {
        while self.low_len > self.high_len + 1 {
            let Some((&m, _)) = self.low.last_key_value() else {
                break;
            };
            multiset_remove(&mut self.low, m);
            self.low_len -= 1;
            multiset_add(&mut self.high, m);
            self.high_len += 1;
        }
        while self.high_len > self.low_len {
            let Some((&m, _)) = self.high.first_key_value() else {
                break;
            };
            multiset_remove(&mut self.high, m);
            self.high_len -= 1;
            multiset_add(&mut self.low, m);
            self.low_len += 1;
        }
    }

    /// The median of the window as [`median`] computes it (0 when empty).
    pub fn median(&self) -> u64 {
        let Some((&a, _)) = self.low.last_key_value() else {
            return 0;
        };
        if self.low_len > self.high_len {
            return a;
        }
        let b = self.high.first_key_value().map_or(a, |(&b, _)| b);
        a / 2 + b / 2 + (a % 2 + b % 2) / 2
    }
}

/// `get_min_block_weight`: the penalty-free zone.
pub fn min_block_weight(version: u8) -> u64 {
    if version < 2 {
        CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V1
    } else if version < 5 {
        CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V2
    } else {
        CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5
    }
}

/// `get_transaction_weight_limit`: from v8 half the minimum block weight less the
/// coinbase reserve.
pub fn transaction_weight_limit(version: u8) -> u64 {
    if version >= hf::PER_BYTE_FEE {
        min_block_weight(version) / 2 - CRYPTONOTE_COINBASE_BLOB_RESERVED_SIZE
    } else {
        min_block_weight(version) - CRYPTONOTE_COINBASE_BLOB_RESERVED_SIZE
    }
}

/// `get_block_reward`: the base reward for a block of `block_weight` given the median,
/// or `None` when the block is heavier than twice the median.
pub fn block_reward(
    median_weight: u64,
    block_weight: u64,
    already_generated_coins: u64,
    version: u8,
) -> Option<u64> {
    let target = if version < 2 {
        DIFFICULTY_TARGET_V1
    } else {
        DIFFICULTY_TARGET_V2
    };
    let target_minutes = target / 60;
    #[allow(clippy::cast_possible_truncation)]
    let speed = EMISSION_SPEED_FACTOR_PER_MINUTE - (target_minutes as u32 - 1);
    let mut base = (MONEY_SUPPLY - already_generated_coins) >> speed;
    base = base.max(FINAL_SUBSIDY_PER_MINUTE * target_minutes);
    let median = median_weight.max(min_block_weight(version));
    if block_weight <= median {
        return Some(base);
    }
    if block_weight > 2 * median {
        return None;
    }
    let multiplicand = u128::from((2 * median - block_weight) * block_weight);
    let product = u128::from(base) * multiplicand;
    // Two divisions as monerod does (each floors).
    let r = product / u128::from(median) / u128::from(median);
    u64::try_from(r).ok()
}

/// The weight state that bounds the next block: monerod's
/// `m_current_block_cumul_weight_median` (the "effective median"), the limit (twice it)
/// and `m_long_term_effective_median_block_weight`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightLimits {
    /// Median used for the reward penalty and the weight limit.
    pub effective_median: u64,
    /// `m_long_term_effective_median_block_weight`.
    pub long_term_effective_median: u64,
}

impl WeightLimits {
    /// `m_current_block_cumul_weight_limit`: a block may weigh at most this.
    pub fn limit(&self) -> u64 {
        self.effective_median * 2
    }
}

/// `update_next_cumulative_weight_limit`, for the block that follows a chain whose last
/// (up to) 100 block weights are `short_window` and whose long-term weights over the
/// last (up to) 100,000 blocks are `long_window`. `version` is the version in force for
/// the next block.
pub fn weight_limits(version: u8, short_window: &[u64], long_window: &[u64]) -> WeightLimits {
    weight_limits_from_medians(version, median(short_window), median(long_window))
}

/// [`weight_limits`] from the two medians: `short_median` of the last (up to) 100 block
/// weights, `long_median` of the last (up to) 100,000 long-term weights (as monerod's
/// rolling median, [`RollingMedian`], keeps it).
pub fn weight_limits_from_medians(
    version: u8,
    short_median: u64,
    long_median: u64,
) -> WeightLimits {
    let full_reward_zone = min_block_weight(version);
    let (mut effective, long_term) = if version < hf::LONG_TERM_BLOCK_WEIGHT {
        (short_median, 0)
    } else {
        let long_term = long_median.max(CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5);
        let short = short_median;
        let eff = if version >= hf::SCALING_2021 {
            short
                .max(long_term)
                .min(CRYPTONOTE_SHORT_TERM_BLOCK_WEIGHT_SURGE_FACTOR * long_term)
        } else {
            short
                .max(CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5)
                .min(CRYPTONOTE_SHORT_TERM_BLOCK_WEIGHT_SURGE_FACTOR * long_term)
        };
        (eff, long_term)
    };
    if effective <= full_reward_zone {
        effective = full_reward_zone;
    }
    WeightLimits {
        effective_median: effective,
        long_term_effective_median: long_term,
    }
}

/// The median `validate_miner_transaction` passes to `get_block_reward`, which sets both the
/// reward penalty and the most a block may weigh (twice it, after the full-reward-zone
/// floor): from `HF_VERSION_EFFECTIVE_SHORT_TERM_MEDIAN_IN_PENALTY` the effective median
/// (`m_current_block_cumul_weight_median`), before it the plain median of the last
/// `CRYPTONOTE_REWARD_BLOCKS_WINDOW` block weights (`short_median`). monerod checks a block
/// against no other weight limit, so at hard forks 10 and 11, where the effective median
/// is capped at 50 long-term medians, a block may weigh up to twice the plain median.
pub fn reward_median(
    version: u8,
    limits: &WeightLimits,
    short_median: impl FnOnce() -> u64,
) -> u64 {
    if version >= hf::EFFECTIVE_SHORT_TERM_MEDIAN_IN_PENALTY {
        limits.effective_median
    } else {
        short_median()
    }
}

/// `get_next_long_term_block_weight`: the long-term weight stored with a block of
/// `block_weight`, given the long-term weights of the preceding window.
pub fn long_term_block_weight(version: u8, block_weight: u64, long_window: &[u64]) -> u64 {
    long_term_block_weight_from_median(version, block_weight, median(long_window))
}

/// [`long_term_block_weight`] given the median of the preceding long-term weights.
pub fn long_term_block_weight_from_median(version: u8, block_weight: u64, long_median: u64) -> u64 {
    if version < hf::LONG_TERM_BLOCK_WEIGHT {
        return block_weight;
    }
    let lt = long_median.max(CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5);
    let (w, cap) = if version >= hf::SCALING_2021 {
        (block_weight.max(lt * 10 / 17), lt + lt * 7 / 10)
    } else {
        (block_weight, lt + lt * 2 / 5)
    };
    w.min(cap)
}

/// `get_dynamic_base_fee` for v8+ (per byte).
pub fn dynamic_base_fee_per_byte(block_reward: u64, median_block_weight: u64, version: u8) -> u64 {
    let median = u128::from(median_block_weight.max(min_block_weight(version)));
    let lo =
        u128::from(block_reward) * u128::from(DYNAMIC_FEE_REFERENCE_TRANSACTION_WEIGHT) / median;
    if version >= hf::SCALING_2021 {
        let lo = lo / median;
        let lo = lo - lo / 20;
        u64::try_from(lo).unwrap_or(u64::MAX).max(1)
    } else {
        let lo = lo / u128::from(min_block_weight(version)) / 5;
        u64::try_from(lo).unwrap_or(u64::MAX)
    }
}

/// `get_dynamic_base_fee` before `HF_VERSION_PER_BYTE_FEE` (v4-v7): a fee per kB,
/// `DYNAMIC_FEE_PER_KB_BASE_FEE` (`_V5` from v5) scaled by the full reward zone over the
/// median and by the block reward over `DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD`, rounded up
/// to `PER_KB_FEE_QUANTIZATION_DECIMALS`.
pub fn dynamic_base_fee_per_kb(block_reward: u64, median_block_weight: u64, version: u8) -> u64 {
    let min_weight = min_block_weight(version);
    let median = median_block_weight.max(min_weight);
    let fee_base = if version >= 5 {
        DYNAMIC_FEE_PER_KB_BASE_FEE_V5
    } else {
        DYNAMIC_FEE_PER_KB_BASE_FEE
    };
    let unscaled = fee_base * min_weight / median;
    let lo = u128::from(unscaled) * u128::from(block_reward)
        / u128::from(DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD);
    let lo = u64::try_from(lo).unwrap_or(u64::MAX);
    lo.div_ceil(FEE_QUANTIZATION_MASK)
        .saturating_mul(FEE_QUANTIZATION_MASK)
}

/// `check_fee`: the minimum fee a pool accepts for a transaction of `tx_weight` (with
/// monerod's 2% tolerance applied by [`fee_is_enough`]). Per started kB before
/// `HF_VERSION_PER_BYTE_FEE` (`FEE_PER_KB` before `HF_VERSION_DYNAMIC_FEE`, then
/// [`dynamic_base_fee_per_kb`]), per byte from it.
pub fn needed_fee(
    version: u8,
    tx_weight: u64,
    limits: &WeightLimits,
    already_generated_coins: u64,
) -> Option<u64> {
    let kbs = tx_weight.div_ceil(1024);
    if version < hf::DYNAMIC_FEE {
        return Some(kbs.saturating_mul(FEE_PER_KB));
    }
    let median = limits.limit() / 2;
    let base_reward = block_reward(median, 1, already_generated_coins, version)?;
    if version < hf::PER_BYTE_FEE {
        return Some(kbs.saturating_mul(dynamic_base_fee_per_kb(base_reward, median, version)));
    }
    let fee_median = if version >= hf::LONG_TERM_BLOCK_WEIGHT {
        median.min(limits.long_term_effective_median)
    } else {
        median
    };
    let per_byte = dynamic_base_fee_per_byte(base_reward, fee_median, version);
    let needed = tx_weight.saturating_mul(per_byte);
    Some(
        needed
            .div_ceil(FEE_QUANTIZATION_MASK)
            .saturating_mul(FEE_QUANTIZATION_MASK),
    )
}

/// `check_fee`'s comparison: a fee within 2% below the needed fee passes.
pub fn fee_is_enough(fee: u64, needed: u64) -> bool {
    fee >= needed - needed / 50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), 0);
        assert_eq!(median(&[3]), 3);
        assert_eq!(median(&[1, 2]), 1);
        assert_eq!(median(&[3, 1, 2]), 2);
        assert_eq!(median(&[u64::MAX, u64::MAX]), u64::MAX);
    }

    #[test]
    fn rewards() {
        // Genesis-era emission at v1: (2^64-1) >> 20.
        assert_eq!(block_reward(0, 0, 0, 1), Some(17_592_186_044_415));
        // v16 tail emission floor: 0.6 XMR per 2-minute block.
        assert_eq!(
            block_reward(0, 0, MONEY_SUPPLY - 1, 16),
            Some(600_000_000_000)
        );
        // Penalty and the hard cap at twice the median.
        let full = block_reward(300_000, 300_000, 0, 16).unwrap();
        let pen = block_reward(300_000, 450_000, 0, 16).unwrap();
        assert!(pen < full);
        assert_eq!(pen, full / 4 * 3 + (full % 4) * 3 / 4);
        assert_eq!(block_reward(300_000, 600_000, 0, 16), Some(0));
        assert_eq!(block_reward(300_000, 600_001, 0, 16), None);
    }

    /// `get_min_block_weight`, `get_transaction_weight_limit` and `get_block_reward` by era:
    /// full reward zones of 20,000 (v1), 60,000 (v2-v4) and 300,000 (v5+) bytes; the
    /// transaction limit halves from `HF_VERSION_PER_BYTE_FEE`; a 60 s target (emission
    /// speed factor 20, tail 0.3 XMR) at v1, 120 s (19, 0.6 XMR) after.
    #[test]
    fn zones_and_rewards_by_era() {
        let table: &[(u8, u64, u64)] = &[
            (1, 20_000, 19_400),
            (2, 60_000, 59_400),
            (4, 60_000, 59_400),
            (5, 300_000, 299_400),
            (7, 300_000, 299_400),
            (8, 300_000, 149_400),
            (16, 300_000, 149_400),
        ];
        for &(hf, zone, tx_limit) in table {
            assert_eq!(min_block_weight(hf), zone, "hf {hf}");
            assert_eq!(transaction_weight_limit(hf), tx_limit, "hf {hf}");
            // The zone floors the median: full reward up to it, nothing past twice it.
            let base = block_reward(0, 0, 0, hf).unwrap();
            assert_eq!(block_reward(0, zone, 0, hf), Some(base), "hf {hf}");
            assert!(block_reward(0, zone + 1, 0, hf).unwrap() < base, "hf {hf}");
            assert_eq!(block_reward(0, 2 * zone, 0, hf), Some(0), "hf {hf}");
            assert_eq!(block_reward(0, 2 * zone + 1, 0, hf), None, "hf {hf}");
        }
        assert_eq!(block_reward(0, 0, 0, 1), Some(MONEY_SUPPLY >> 20));
        assert_eq!(block_reward(0, 0, 0, 2), Some(MONEY_SUPPLY >> 19));
        assert_eq!(
            block_reward(0, 0, MONEY_SUPPLY - 1, 1),
            Some(FINAL_SUBSIDY_PER_MINUTE)
        );
        assert_eq!(
            block_reward(0, 0, MONEY_SUPPLY - 1, 2),
            Some(2 * FINAL_SUBSIDY_PER_MINUTE)
        );
        // Penalty at v1 with a 30,000 median: (2M - w) * w / M^2 of the base.
        let base = MONEY_SUPPLY >> 20;
        let r = block_reward(30_000, 45_000, 0, 1).unwrap();
        assert_eq!(
            u128::from(r),
            u128::from(base) * 15_000 * 45_000 / 30_000 / 30_000
        );
    }

    /// `update_next_cumulative_weight_limit` and `get_next_long_term_block_weight` before
    /// `HF_VERSION_LONG_TERM_BLOCK_WEIGHT`: the plain short-term median floored at the era's
    /// full reward zone, and the long-term weight is the block weight.
    #[test]
    fn limits_before_long_term_weights() {
        for (hf, zone) in [(1, 20_000), (3, 60_000), (9, 300_000)] {
            let l = weight_limits(hf, &[1000; 100], &[]);
            assert_eq!(l.effective_median, zone, "hf {hf}");
            assert_eq!(l.long_term_effective_median, 0);
            let l = weight_limits(hf, &[400_000; 100], &[1; 100]);
            assert_eq!(l.effective_median, 400_000, "hf {hf}");
            assert_eq!(long_term_block_weight(hf, 10_000_000, &[1; 10]), 10_000_000);
        }
        // v10-v14: the long-term weight is capped at 1.4 long-term medians, no floor.
        assert_eq!(long_term_block_weight(10, 10, &[400_000; 10]), 10);
        assert_eq!(
            long_term_block_weight(14, 10_000_000, &[400_000; 10]),
            560_000
        );
        // v10-v14: the effective median is the short one in [300,000, 50 long-term medians].
        let l = weight_limits(11, &[16_000_000; 100], &[300_000; 100]);
        assert_eq!(l.effective_median, 15_000_000);
        let l = weight_limits(14, &[100_000; 100], &[400_000; 100]);
        assert_eq!(l.effective_median, 300_000);
        let l = weight_limits(15, &[100_000; 100], &[400_000; 100]);
        assert_eq!(l.effective_median, 400_000);
    }

    /// `validate_miner_transaction`'s median: the plain short-term median before
    /// `HF_VERSION_EFFECTIVE_SHORT_TERM_MEDIAN_IN_PENALTY`, so at v10-v11 a block may weigh
    /// twice that even when the effective median is capped below it.
    #[test]
    fn reward_median_by_fork() {
        let short = [16_000_000; 100];
        let l = weight_limits(11, &short, &[300_000; 100]);
        assert_eq!(l.limit(), 30_000_000);
        let m = reward_median(11, &l, || median(&short));
        assert_eq!(m, 16_000_000);
        assert!(block_reward(m, 31_000_000, 0, 11).is_some());
        let l = weight_limits(12, &short, &[300_000; 100]);
        let m = reward_median(12, &l, || median(&short));
        assert_eq!(m, 15_000_000);
        assert!(block_reward(m, 31_000_000, 0, 12).is_none());
        // Before v10 the two medians agree once block_reward floors the plain one.
        let l = weight_limits(9, &[1000; 100], &[]);
        assert_eq!(reward_median(9, &l, || 1000), 1000);
        assert_eq!(block_reward(1000, 600_000, 0, 9), Some(0));
        assert_eq!(block_reward(l.effective_median, 600_000, 0, 9), Some(0));
    }

    #[test]
    fn limits_scale_with_medians() {
        let l = weight_limits(16, &[1000; 100], &[1000; 1000]);
        assert_eq!(l.effective_median, 300_000);
        assert_eq!(l.long_term_effective_median, 300_000);
        assert_eq!(l.limit(), 600_000);
        let l = weight_limits(16, &[900_000; 100], &[400_000; 1000]);
        assert_eq!(l.effective_median, 900_000);
        assert_eq!(
            long_term_block_weight(16, 10, &[400_000; 10]),
            400_000 * 10 / 17
        );
        assert_eq!(
            long_term_block_weight(16, 10_000_000, &[400_000; 10]),
            680_000
        );
    }

    #[test]
    fn rolling_median_matches_median() {
        let mut r = RollingMedian::new(7);
        assert_eq!(r.median(), 0);
        let mut x: u64 = 12345;
        let mut all = Vec::new();
        for i in 0..2000 {
            // A small LCG with many repeats.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = if i % 3 == 0 { (x >> 60) % 5 } else { x >> 33 };
            r.push(v);
            all.push(v);
            let from = all.len().saturating_sub(7);
            assert_eq!(r.median(), median(&all[from..]), "step {i}");
            assert_eq!(r.len(), all.len() - from);
        }
        let mut r = RollingMedian::new(4);
        r.push(u64::MAX);
        r.push(u64::MAX);
        assert_eq!(r.median(), u64::MAX);
        r.push(1);
        r.push(2);
        assert_eq!(r.median(), median(&[u64::MAX, u64::MAX, 1, 2]));
    }

    /// Real mainnet weights (`mainnet_block_weights_2850000_3049999.csv`, rows ↔ heights
    /// 2850000…): for every block whose preceding 100,000 long-term weights are in the file,
    /// `get_next_long_term_block_weight` of its weight is the long-term weight mainnet
    /// stored, and the block is within the limit `update_next_cumulative_weight_limit`
    /// sets from the 100 weights before it.
    #[test]
    fn reproduces_mainnet_long_term_weights() {
        let Some(rows) = crate::testdata::chain_csv3("mainnet_block_weights_2850000_3049999.csv")
        else {
            return;
        };
        let rows: Vec<(u64, u64, u64)> = rows
            .into_iter()
            .map(|(h, b, c)| (h, u64::try_from(b).unwrap(), c))
            .collect();
        assert_eq!(rows.len(), 200_000);
        assert!(rows.windows(2).all(|w| w[1].0 == w[0].0 + 1));
        let window = usize::try_from(CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE).unwrap();
        let short = usize::try_from(CRYPTONOTE_REWARD_BLOCKS_WINDOW).unwrap();
        let mut long_median = RollingMedian::new(window);
        let mut short_median = RollingMedian::new(short);
        let mut checked = 0;
        for (i, &(height, weight, long_term)) in rows.iter().enumerate() {
            if i >= window {
                let version = super::super::ConsensusNet::Mainnet.hard_fork_version(height);
                // As `long_term_block_weight` computes it from the window, and through the
                // rolling median monerod keeps.
                let lt_median = long_median.median();
                let from_median = long_term_block_weight_from_median(version, weight, lt_median);
                assert_eq!(from_median, long_term, "height {height}");
                if i % 9973 == 0 {
                    let lts: Vec<u64> = rows[i - window..i].iter().map(|r| r.2).collect();
                    assert_eq!(median(&lts), lt_median, "height {height}");
                    assert_eq!(
                        long_term_block_weight(version, weight, &lts),
                        long_term,
                        "height {height}"
                    );
                }
                let limits = weight_limits_from_medians(version, short_median.median(), lt_median);
                assert!(weight <= limits.limit(), "height {height}");
                checked += 1;
            }
            long_median.push(long_term);
            short_median.push(weight);
        }
        assert_eq!(checked, rows.len() - window);
    }

    /// `check_fee` before per-byte fees: 0.002 XMR per started kB before v4; from v4 the
    /// dynamic per-kB fee (`get_dynamic_base_fee`), with the v5 base fee a fifth of v4's
    /// since the full reward zone grew five times.
    #[test]
    fn per_kb_fees_before_v8() {
        let l = weight_limits(3, &[0; 100], &[]);
        assert_eq!(needed_fee(3, 1024, &l, 0), Some(FEE_PER_KB));
        assert_eq!(needed_fee(1, 1025, &l, 0), Some(2 * FEE_PER_KB));
        // v4: reward 10 XMR at the zone's median: the base fee itself.
        assert_eq!(
            dynamic_base_fee_per_kb(DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD, 0, 4),
            DYNAMIC_FEE_PER_KB_BASE_FEE
        );
        assert_eq!(DYNAMIC_FEE_PER_KB_BASE_FEE_V5, 400_000_000);
        assert_eq!(
            dynamic_base_fee_per_kb(DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD, 0, 5),
            400_000_000
        );
        // Twice the zone as median halves it; the result is rounded up to 10^4.
        assert_eq!(
            dynamic_base_fee_per_kb(DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD, 600_000, 7),
            200_000_000
        );
        assert_eq!(dynamic_base_fee_per_kb(100_000, 0, 5), 10_000);
        assert_eq!(dynamic_base_fee_per_kb(1, 0, 5), 0);
        // At v7 a 2,500-byte transaction pays three kB.
        let l = weight_limits(7, &[0; 100], &[]);
        let reward = block_reward(300_000, 1, 0, 7).unwrap();
        assert_eq!(
            needed_fee(7, 2_500, &l, 0),
            Some(3 * dynamic_base_fee_per_kb(reward, 300_000, 7))
        );
    }

    #[test]
    fn fees() {
        let l = weight_limits(16, &[0; 100], &[0; 100]);
        // 0.6 XMR tail reward, median 300000: 0.95 * 6e11 * 3000 / 300000^2 = 19000 pico/byte.
        let per_byte = dynamic_base_fee_per_byte(600_000_000_000, 300_000, 16);
        assert_eq!(per_byte, 19_000);
        let need = needed_fee(16, 1501, &l, MONEY_SUPPLY - 1).unwrap();
        // 1501 * 19000 = 28,519,000, rounded up to 10^4.
        assert_eq!(need, 28_520_000);
        assert!(fee_is_enough(need - need / 50, need));
        assert!(!fee_is_enough(need - need / 50 - 1, need));
    }
}
