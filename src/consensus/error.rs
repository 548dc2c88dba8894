//! Named verdicts: every rule that can refuse a block or a transaction has its own variant.

use thiserror::Error;

/// Why a transaction is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// The blob does not parse as a transaction, or does not re-serialize to itself.
    #[error("transaction does not parse: {0}")]
    Parse(String),
    /// `get_max_tx_size`: blob larger than `CRYPTONOTE_MAX_TX_SIZE`.
    #[error("transaction blob of {0} bytes is over the maximum size")]
    TooBig(usize),
    /// Rules 2 and 3 of `ver_non_input_consensus`, `check_tx_inputs`: version out of range.
    #[error("transaction version {got} is not allowed at hard fork {hf}")]
    Version {
        /// The transaction's version.
        got: u8,
        /// The hard fork in force.
        hf: u8,
    },
    /// Rule 4 of `ver_non_input_consensus`: weight over `get_transaction_weight_limit`.
    #[error("transaction weight {weight} is over the limit {limit}")]
    Overweight {
        /// The transaction's weight.
        weight: u64,
        /// The limit.
        limit: u64,
    },
    /// `check_tx_semantic`: no inputs.
    #[error("transaction has no inputs")]
    NoInputs,
    /// `check_inputs_types_supported`: an input that is not `txin_to_key`.
    #[error("transaction input {0} is not a to-key input")]
    InputType(usize),
    /// `check_outs_valid`: an output key that is not a valid point.
    #[error("output {0} has an invalid key")]
    OutputKey(usize),
    /// `check_output_types`: outputs must be view-tagged from v15 (and untagged before).
    #[error("output {0} has the wrong type for this hard fork (view tags)")]
    OutputType(usize),
    /// `check_tx_outputs`: a v2 output with a non-zero amount.
    #[error("output {0} of a v2 transaction has a clear amount")]
    OutputAmount(usize),
    /// `check_tx_outputs` (from hard fork 2): a version-1 output whose amount is not one
    /// digit times a power of ten (`is_valid_decomposed_amount`).
    #[error("output {0} amount is not a valid decomposed amount")]
    NotDecomposedAmount(usize),
    /// `check_tx_semantic`: a version-1 transaction whose inputs do not exceed its outputs.
    #[error("inputs {ins} do not exceed outputs {outs}")]
    InputsNotAboveOutputs {
        /// Sum of the input amounts.
        ins: u64,
        /// Sum of the output amounts.
        outs: u64,
    },
    /// `check_tx_semantic`: `outPk` count differs from the output count.
    #[error("commitment count differs from output count")]
    CommitmentCount,
    /// `check_tx_inputs_keyimages_diff`: a key image used twice in one transaction.
    #[error("key image used twice in the transaction")]
    DuplicateKeyImageInTx,
    /// `check_tx_inputs_ring_members_diff`: a ring references one output twice.
    #[error("input {0} references the same ring member twice")]
    DuplicateRingMember(usize),
    /// `check_tx_inputs_keyimages_domain`: a key image outside the prime-order subgroup.
    #[error("input {0} key image is not in the prime-order subgroup")]
    KeyImageDomain(usize),
    /// `check_tx_outputs` (v16): the RingCT type is not allowed at this hard fork.
    #[error("RingCT type {rct_type} is not allowed at hard fork {hf}")]
    RctType {
        /// monerod's RCT type number.
        rct_type: u8,
        /// The hard fork in force.
        hf: u8,
    },
    /// `check_tx_inputs` (`HF_VERSION_MIN_2_OUTPUTS`): fewer than two outputs.
    #[error("transaction has fewer than two outputs")]
    TooFewOutputs,
    /// `verRctSemanticsSimple`: more outputs than one Bulletproof+ covers.
    #[error("transaction has {0} outputs, more than BULLETPROOF_PLUS_MAX_OUTPUTS")]
    TooManyOutputs(usize),
    /// `check_tx_inputs`: ring size not what the hard fork requires (16 from v15), or varying.
    #[error("ring size {got} is not allowed (expected {expected})")]
    RingSize {
        /// The smallest ring size in the transaction.
        got: usize,
        /// The required ring size.
        expected: usize,
    },
    /// `check_tx_inputs` (v7+): inputs must be sorted by key image, strictly descending bytes.
    #[error("inputs are not sorted by key image")]
    UnsortedInputs,
    /// `check_tx_inputs`: a key image already spent on the chain (or earlier in the span).
    #[error("key image of input {0} is already spent")]
    KeyImageSpent(usize),
    /// `scan_outputkeys_for_indexes`: a ring member that does not exist.
    #[error("input {0} references an output that does not exist")]
    RingMemberMissing(usize),
    /// `is_tx_spendtime_unlocked`: a ring member still locked by its unlock time.
    #[error("input {0} references a locked output")]
    RingMemberLocked(usize),
    /// `check_tx_inputs` (`HF_VERSION_ENFORCE_MIN_AGE`): a ring member younger than 10 blocks.
    #[error("input {0} references an output younger than the spendable age")]
    RingMemberTooYoung(usize),
    /// `verRctSemanticsSimple`: pseudo-out, signature or proof counts do not fit the tx.
    #[error("RingCT structure does not fit the transaction: {0}")]
    RctShape(&'static str),
    /// `verRctSemanticsSimple`: sum of pseudo-outs differs from outputs + fee.
    #[error("commitments do not balance (inputs != outputs + fee)")]
    Unbalanced,
    /// `verRctSemanticsSimple` / `bulletproof_plus_VERIFY`: the range proof fails.
    #[error("Bulletproof+ range proof fails")]
    RangeProof,
    /// `verRctNonSemanticsSimple` / `verRctCLSAGSimple`: a CLSAG signature fails.
    #[error("CLSAG signature of input {0} fails")]
    Clsag(usize),
    /// `crypto::check_ring_signature`: the pre-RingCT ring signature of input {0} fails.
    #[error("ring signature of input {0} fails")]
    RingSignature(usize),
    /// Coinbase-only RCT type (`RCTTypeNull`) on a non-coinbase transaction.
    #[error("null RingCT signature on a non-coinbase transaction")]
    NullRct,
    /// `check_money_overflow`: outputs or inputs overflow 64 bits.
    #[error("amounts overflow")]
    Overflow,
    /// Pool rule (`tx_memory_pool::add_tx` -> `check_fee`): fee below the dynamic minimum.
    #[error("fee {fee} is below the minimum {needed} for its weight")]
    FeeTooLow {
        /// The fee paid.
        fee: u64,
        /// The minimum.
        needed: u64,
    },
    /// Pool rule (`MAX_TX_EXTRA_SIZE`, v0.18.3 relay rule): `extra` too large.
    #[error("tx extra of {0} bytes is over MAX_TX_EXTRA_SIZE")]
    ExtraTooBig(usize),
    /// The transaction is already in the chain (`handle_block_to_main_chain`: `tx_exists`).
    #[error("transaction already in the chain")]
    AlreadyInChain,
}

/// Why a block is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// The blob does not parse as a block.
    #[error("block does not parse: {0}")]
    Parse(String),
    /// `handle_block_to_main_chain`: previous id is not the chain's top.
    #[error("previous block id does not match the chain top")]
    PrevId,
    /// `checkpoints::check_block`: the block's id is not the compiled-in checkpoint at
    /// its height.
    #[error("block {0} is not the checkpointed block at that height")]
    Checkpoint(u64),
    /// Fast sync (`handle_block_to_main_chain`'s `fast_check`): the block-hash groups
    /// settle another block at this height.
    #[error("block {0} is not the block the fast-sync data settles at that height")]
    NotSettledBlock(u64),
    /// Fast sync: the block's weight is not the one its group settles.
    #[error("block weight {weight}, the fast-sync data settles {settled}")]
    SettledWeight {
        /// The block's weight.
        weight: u64,
        /// The settled weight.
        settled: u64,
    },
    /// `HardFork::check`: major version differs from the version in force.
    #[error("block major version {got}, expected {expected}")]
    WrongMajorVersion {
        /// The block's major version.
        got: u8,
        /// The version in force.
        expected: u8,
    },
    /// `HardFork::check`: the vote (minor version) is below the version in force.
    #[error("block votes for version {vote}, below the version in force {version}")]
    VoteTooLow {
        /// The block's minor version.
        vote: u8,
        /// The version in force.
        version: u8,
    },
    /// `check_block_timestamp`: more than two hours ahead of local time.
    #[error("timestamp {timestamp} is too far in the future (now {now})")]
    TimestampInFuture {
        /// The block's timestamp.
        timestamp: u64,
        /// Local time.
        now: u64,
    },
    /// `check_block_timestamp`: below the median of the last 60 timestamps.
    #[error("timestamp {timestamp} is below the median {median} of the last 60 blocks")]
    TimestampTooOld {
        /// The block's timestamp.
        timestamp: u64,
        /// The median.
        median: u64,
    },
    /// `check_hash`: the PoW hash does not meet the difficulty.
    #[error("proof of work does not meet difficulty {0}")]
    Pow(u128),
    /// The RandomX hasher failed (not the block's fault; the block is not accepted).
    #[error("proof of work could not be computed: {0}")]
    PowUnavailable(String),
    /// `prevalidate_miner_transaction`: the miner tx's shape (one gen input, v2, RCT null).
    #[error("miner transaction is malformed: {0}")]
    MinerTxShape(&'static str),
    /// `prevalidate_miner_transaction`: gen input height differs from the block height.
    #[error("miner transaction height {got}, expected {expected}")]
    MinerTxHeight {
        /// The gen input's height.
        got: u64,
        /// The block's height.
        expected: u64,
    },
    /// `prevalidate_miner_transaction`: unlock time is not height + 60.
    #[error("miner transaction unlock time {got}, expected {expected}")]
    MinerTxUnlock {
        /// The unlock time.
        got: u64,
        /// height + `CRYPTONOTE_MINED_MONEY_UNLOCK_WINDOW`.
        expected: u64,
    },
    /// `check_output_types` on the miner transaction (its view tags).
    #[error("miner transaction output {0} has the wrong type (view tag)")]
    MinerTxOutput(usize),
    /// `validate_miner_transaction` at hard fork 3: a miner output amount that is not a
    /// valid decomposed amount.
    #[error("miner tx output {0} is not a valid decomposed amount")]
    MinerTxNotDecomposed(usize),
    /// `validate_miner_transaction`: outputs differ from reward + fees (exact from v13).
    #[error("miner transaction pays {paid}, the reward plus fees is {allowed}")]
    WrongReward {
        /// Sum of the miner outputs.
        paid: u64,
        /// Base reward + fees.
        allowed: u64,
    },
    /// `get_block_reward` fails / `m_current_block_cumul_weight_limit`: block too heavy.
    #[error("block weight {weight} is over the limit {limit}")]
    Overweight {
        /// The block's weight.
        weight: u64,
        /// Twice the effective median.
        limit: u64,
    },
    /// The merkle root over miner tx + tx hashes does not match (the block id would differ).
    #[error("merkle root does not match the transactions")]
    MerkleRoot,
    /// A transaction the block lists is missing, or one it does not list was given.
    #[error("block transactions do not match its tx hash list")]
    TxSetMismatch,
    /// `CRYPTONOTE_MAX_TX_PER_BLOCK`.
    #[error("block has too many transactions")]
    TooManyTxs,
    /// A transaction listed twice in the block.
    #[error("transaction listed twice in the block")]
    DuplicateTx,
    /// A key image spent twice across the block's transactions.
    #[error("key image spent twice in the block")]
    DoubleSpendInBlock,
    /// A transaction of the block fails.
    #[error("transaction {index} ({hash}) fails: {error}")]
    Tx {
        /// Position in the block's list.
        index: usize,
        /// Its id in hex.
        hash: String,
        /// Why.
        error: TxError,
    },
    /// An earlier block of the same span failed, so this one cannot be judged.
    #[error("an earlier block of the span failed")]
    AfterFailedBlock,
}
