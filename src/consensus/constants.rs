//! Consensus constants, each under monerod's name (`src/cryptonote_config.h`, v0.18) unless
//! the doc comment says otherwise.

/// `CRYPTONOTE_MAX_BLOCK_NUMBER`: unlock times below this are heights, above are UNIX times.
pub const CRYPTONOTE_MAX_BLOCK_NUMBER: u64 = 500_000_000;
/// `CRYPTONOTE_MAX_TX_SIZE`: a transaction blob may not be larger (`get_max_tx_size`).
pub const CRYPTONOTE_MAX_TX_SIZE: usize = 1_000_000;
/// `CRYPTONOTE_MAX_TX_PER_BLOCK`.
pub const CRYPTONOTE_MAX_TX_PER_BLOCK: usize = 0x1000_0000;
/// `CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW`: a miner tx unlocks this many blocks later.
pub const CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW: u64 = 60;
/// `CRYPTONOTE_BLOCK_FUTURE_TIME_LIMIT`: a block's timestamp may be at most this far ahead.
pub const CRYPTONOTE_BLOCK_FUTURE_TIME_LIMIT: u64 = 60 * 60 * 2;
/// `CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE`: a ring member must be this many blocks deep.
pub const CRYPTONOTE_DEFAULT_TX_SPENDABLE_AGE: u64 = 10;
/// `BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW`: the median of this many timestamps bounds a new one.
pub const BLOCKCHAIN_TIMESTAMP_CHECK_WINDOW: usize = 60;
/// `EMISSION_SPEED_FACTOR_PER_MINUTE`.
pub const EMISSION_SPEED_FACTOR_PER_MINUTE: u32 = 20;
/// `FINAL_SUBSIDY_PER_MINUTE`: the tail emission per minute of target.
pub const FINAL_SUBSIDY_PER_MINUTE: u64 = 300_000_000_000;
/// `MONEY_SUPPLY`.
pub const MONEY_SUPPLY: u64 = u64::MAX;
/// `CRYPTONOTE_REWARD_BLOCKS_WINDOW`: the short-term weight median window.
pub const CRYPTONOTE_REWARD_BLOCKS_WINDOW: u64 = 100;
/// `CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V1`.
pub const CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V1: u64 = 20_000;
/// `CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V2`.
pub const CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V2: u64 = 60_000;
/// `CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5`.
pub const CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5: u64 = 300_000;
/// `CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE`.
pub const CRYPTONOTE_LONG_TERM_BLOCK_WEIGHT_WINDOW_SIZE: u64 = 100_000;
/// `CRYPTONOTE_SHORT_TERM_BLOCK_WEIGHT_SURGE_FACTOR`.
pub const CRYPTONOTE_SHORT_TERM_BLOCK_WEIGHT_SURGE_FACTOR: u64 = 50;
/// `CRYPTONOTE_COINBASE_BLOB_RESERVED_SIZE`.
pub const CRYPTONOTE_COINBASE_BLOB_RESERVED_SIZE: u64 = 600;
/// `DYNAMIC_FEE_REFERENCE_TRANSACTION_WEIGHT`.
pub const DYNAMIC_FEE_REFERENCE_TRANSACTION_WEIGHT: u64 = 3000;
/// `DIFFICULTY_TARGET_V1` (seconds, hard fork 1).
pub const DIFFICULTY_TARGET_V1: u64 = 60;
/// `DIFFICULTY_TARGET_V2` (seconds, hard fork >= 2).
pub const DIFFICULTY_TARGET_V2: u64 = 120;
/// `DIFFICULTY_WINDOW`.
pub const DIFFICULTY_WINDOW: usize = 720;
/// `DIFFICULTY_LAG`.
pub const DIFFICULTY_LAG: usize = 15;
/// `DIFFICULTY_CUT`.
pub const DIFFICULTY_CUT: usize = 60;
/// `DIFFICULTY_BLOCKS_COUNT` = window + lag.
pub const DIFFICULTY_BLOCKS_COUNT: usize = DIFFICULTY_WINDOW + DIFFICULTY_LAG;
/// `CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_BLOCKS`.
pub const CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_BLOCKS: u64 = 1;
/// `CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V2` = target v2 x delta blocks.
pub const CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V2: u64 =
    DIFFICULTY_TARGET_V2 * CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_BLOCKS;
/// `CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V1`.
pub const CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_SECONDS_V1: u64 =
    DIFFICULTY_TARGET_V1 * CRYPTONOTE_LOCKED_TX_ALLOWED_DELTA_BLOCKS;
/// `BULLETPROOF_PLUS_MAX_OUTPUTS`: outputs one BP+ may cover.
pub const BULLETPROOF_PLUS_MAX_OUTPUTS: usize = 16;
/// `MAX_TX_EXTRA_SIZE`: a pool (relay) rule since v0.18.3, not a block rule.
pub const MAX_TX_EXTRA_SIZE: usize = 1060;
/// `FEE_PER_KB`: the fixed fee per kB before `HF_VERSION_DYNAMIC_FEE`.
pub const FEE_PER_KB: u64 = 2_000_000_000;
/// `DYNAMIC_FEE_PER_KB_BASE_FEE`: the per-kB base fee of hard fork 4.
pub const DYNAMIC_FEE_PER_KB_BASE_FEE: u64 = 2_000_000_000;
/// `DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD`: the reward the per-kB base fee is scaled to.
pub const DYNAMIC_FEE_PER_KB_BASE_BLOCK_REWARD: u64 = 10_000_000_000_000;
/// `DYNAMIC_FEE_PER_KB_BASE_FEE_V5`: the per-kB base fee from hard fork 5 to 7.
pub const DYNAMIC_FEE_PER_KB_BASE_FEE_V5: u64 = DYNAMIC_FEE_PER_KB_BASE_FEE
    * CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V2
    / CRYPTONOTE_BLOCK_GRANTED_FULL_REWARD_ZONE_V5;
/// `PER_KB_FEE_QUANTIZATION_DECIMALS` = 8: fees are rounded up to 10^(12-8) piconero.
pub const FEE_QUANTIZATION_MASK: u64 = 10_000;

/// Hard-fork versions at which rules change (`HF_VERSION_*`).
pub mod hf {
    /// `HF_VERSION_DYNAMIC_FEE`.
    pub const DYNAMIC_FEE: u8 = 4;
    /// `HF_VERSION_ENFORCE_RCT`.
    pub const ENFORCE_RCT: u8 = 6;
    /// `HF_VERSION_PER_BYTE_FEE`.
    pub const PER_BYTE_FEE: u8 = 8;
    /// `HF_VERSION_LONG_TERM_BLOCK_WEIGHT`.
    pub const LONG_TERM_BLOCK_WEIGHT: u8 = 10;
    /// `HF_VERSION_MIN_2_OUTPUTS`.
    pub const MIN_2_OUTPUTS: u8 = 12;
    /// `HF_VERSION_MIN_V2_COINBASE_TX`.
    pub const MIN_V2_COINBASE_TX: u8 = 12;
    /// `HF_VERSION_SAME_MIXIN`.
    pub const SAME_MIXIN: u8 = 12;
    /// `HF_VERSION_REJECT_SIGS_IN_COINBASE`.
    pub const REJECT_SIGS_IN_COINBASE: u8 = 12;
    /// `HF_VERSION_ENFORCE_MIN_AGE`.
    pub const ENFORCE_MIN_AGE: u8 = 12;
    /// `HF_VERSION_EFFECTIVE_SHORT_TERM_MEDIAN_IN_PENALTY`.
    pub const EFFECTIVE_SHORT_TERM_MEDIAN_IN_PENALTY: u8 = 12;
    /// `HF_VERSION_EXACT_COINBASE`.
    pub const EXACT_COINBASE: u8 = 13;
    /// `HF_VERSION_CLSAG`.
    pub const CLSAG: u8 = 13;
    /// `HF_VERSION_DETERMINISTIC_UNLOCK_TIME`.
    pub const DETERMINISTIC_UNLOCK_TIME: u8 = 13;
    /// `HF_VERSION_MIN_MIXIN_15`.
    pub const MIN_MIXIN_15: u8 = 15;
    /// `HF_VERSION_BULLETPROOF_PLUS`.
    pub const BULLETPROOF_PLUS: u8 = 15;
    /// `HF_VERSION_VIEW_TAGS`.
    pub const VIEW_TAGS: u8 = 15;
    /// `HF_VERSION_2021_SCALING`.
    pub const SCALING_2021: u8 = 15;
    /// The first version with RandomX proof of work (monerod's `get_block_longhash`).
    pub const RANDOMX: u8 = 12;
    /// The highest version this node knows the rules of.
    pub const CURRENT: u8 = 16;
}
