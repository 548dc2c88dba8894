//! CryptoNight-R's random math (variant 4, monerod's `variant4_random_math.h`): a program of
//! 60 to 70 instructions over nine 32-bit registers, generated from the block height, run
//! once per main-loop iteration.
//!
//! The generator reads a byte stream that starts as BLAKE-256 of a 32-byte seed (the
//! height, little-endian, with byte 20 set to 0xDA) and re-hashes itself with BLAKE-256
//! whenever a read would run past its 32 bytes. It models a CPU with three ALUs (one able
//! to multiply) and keeps adding instructions until every one of the four variable
//! registers has a dependency chain of 45 cycles or 60 instructions have been chosen,
//! skipping instructions that a compiler could fold away. It then pads with ROR, MUL, MUL
//! until a chain is long enough for an idealised ASIC too, and starts over (without
//! resetting the stream) if register 8 is never read or the size falls outside 60..=70.
//!
//! Pure functions: same height, same program.

use super::keccak_state::blake256;

/// The program's target latency in cycles: 15 multiplications (`TOTAL_LATENCY`).
const TOTAL_LATENCY_CYCLES: usize = 15 * 3;
/// Fewest instructions in a program (`NUM_INSTRUCTIONS_MIN`).
const MIN_INSTRUCTIONS: usize = 60;
/// Most instructions in a program (`NUM_INSTRUCTIONS_MAX`).
pub(super) const MAX_INSTRUCTIONS: usize = 70;
/// ALUs of the modelled CPU (`ALU_COUNT`); only one multiplies (`ALU_COUNT_MUL`).
const ALU_COUNT: usize = 3;
/// Registers: r0..r3 variable, r4..r8 loaded from the main loop's values each iteration.
pub(super) const REGISTERS: usize = 9;
/// Most cycles an instruction may wait for an ALU past its destination's readiness.
const MAX_REGISTER_IDLE_CYCLES: usize = 7;
/// Candidate instructions that may not fit before the generator gives up (`num_retries`).
const MAX_RETRIES: usize = 64;
/// Random bytes the generator may consume per attempt (`total_iterations`).
const MAX_ATTEMPT_STEPS: usize = 256;

/// An operation of the random math, numbered as monerod's `V4_InstructionList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Op {
    /// `dst *= src`
    #[default]
    Mul,
    /// `dst += src + C`
    Add,
    /// `dst -= src`
    Sub,
    /// `dst = dst.rotate_right(src % 32)`
    Ror,
    /// `dst = dst.rotate_left(src % 32)`
    Rol,
    /// `dst ^= src`
    Xor,
}

impl Op {
    /// monerod's opcode number, part of the generator's duplicate check.
    fn code(self) -> u32 {
        match self {
            Self::Mul => 0,
            Self::Add => 1,
            Self::Sub => 2,
            Self::Ror => 3,
            Self::Rol => 4,
            Self::Xor => 5,
        }
    }

    /// Cycles on the modelled CPU (`op_latency`): an ADD with a constant is two
    /// instructions, rotations are two cycles on Intel.
    fn latency(self) -> usize {
        match self {
            Self::Mul => 3,
            Self::Add | Self::Ror | Self::Rol => 2,
            Self::Sub | Self::Xor => 1,
        }
    }

    /// Cycles on an idealised ASIC (`asic_op_latency`).
    fn asic_latency(self) -> usize {
        match self {
            Self::Mul => 3,
            _ => 1,
        }
    }

    /// ALUs able to run it (`op_ALUs`).
    fn alus(self) -> usize {
        match self {
            Self::Mul => 1,
            _ => ALU_COUNT,
        }
    }

    fn is_rotation(self) -> bool {
        matches!(self, Self::Ror | Self::Rol)
    }
}

/// One instruction: `r[dst] = r[dst] op r[src]` (plus `constant` for ADD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Instruction {
    pub(super) op: Op,
    /// 0..4
    pub(super) dst: usize,
    /// 0..9
    pub(super) src: usize,
    pub(super) constant: u32,
}

/// A generated program: `len` instructions at the front of `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Program {
    code: [Instruction; MAX_INSTRUCTIONS],
    len: usize,
}

impl Program {
    /// The instructions, in order.
    pub(super) fn instructions(&self) -> &[Instruction] {
        self.code.get(..self.len).unwrap_or(&self.code)
    }

    /// Runs the program on the registers (`v4_random_math`).
    ///
    /// A plain loop over the instructions. Two alternatives measured slower on the
    /// development VM (~150 against ~122 ms per hash): unrolling to one dispatch per
    /// instruction slot, and keeping the registers in locals with a dispatch on
    /// (operation, destination).
    #[inline(always)]
    pub(super) fn run(&self, r: &mut [u32; REGISTERS]) {
        for ins in self.instructions() {
            let src = r.get(ins.src).copied().unwrap_or(0);
            let Some(dst) = r.get_mut(ins.dst) else {
                continue;
            };
            *dst = match ins.op {
                Op::Mul => dst.wrapping_mul(src),
                Op::Add => dst.wrapping_add(src).wrapping_add(ins.constant),
                Op::Sub => dst.wrapping_sub(src),
                Op::Ror => dst.rotate_right(src),
                Op::Rol => dst.rotate_left(src),
                Op::Xor => *dst ^ src,
            };
        }
    }
}

/// The generator's random bytes: a 32-byte buffer re-hashed with BLAKE-256 when used up.
struct RandomStream {
    data: [u8; 32],
    next: usize,
}

impl RandomStream {
    fn for_height(height: u64) -> Self {
        let mut data = [0u8; 32];
        data[..8].copy_from_slice(&height.to_le_bytes());
        data[20] = 0xDA; // -38 as a signed byte: "change seed"
                         // Starts used up, so the first read hashes the seed.
        Self { data, next: 32 }
    }

    /// Makes sure `n` more bytes are available (`check_data`).
    fn ensure(&mut self, n: usize) {
        if self.next + n > self.data.len() {
            self.data = blake256(&self.data);
            self.next = 0;
        }
    }

    fn byte(&mut self) -> u8 {
        self.ensure(1);
        let b = self.data.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        b
    }

    fn u32_le(&mut self) -> u32 {
        self.ensure(4);
        let mut b = [0u8; 4];
        if let Some(src) = self.data.get(self.next..self.next + 4) {
            b.copy_from_slice(src);
        }
        self.next += 4;
        u32::from_le_bytes(b)
    }
}

/// The program for blocks at `height` (`v4_random_math_init`).
pub(super) fn generate(height: u64) -> Program {
    let mut stream = RandomStream::for_height(height);
    let mut code = [Instruction::default(); MAX_INSTRUCTIONS];
    loop {
        let (len, r8_used) = attempt(&mut stream, &mut code);
        if r8_used && (MIN_INSTRUCTIONS..=MAX_INSTRUCTIONS).contains(&len) {
            return Program { code, len };
        }
    }
}

/// One pass of the generator over `code`; returns its size and whether r8 is read.
fn attempt(stream: &mut RandomStream, code: &mut [Instruction; MAX_INSTRUCTIONS]) -> (usize, bool) {
    // Cycle at which each register's value is ready, on the modelled CPU and an ASIC.
    let mut latency = [0usize; REGISTERS];
    let mut asic_latency = [0usize; REGISTERS];
    // Per register: byte 0 the instruction that last wrote it, byte 1 that opcode, byte 2
    // the source's byte 0. The constant registers r4..r8 all look alike.
    let mut inst_data: [u32; REGISTERS] = [
        0, 1, 2, 3, 0xFF_FFFF, 0xFF_FFFF, 0xFF_FFFF, 0xFF_FFFF, 0xFF_FFFF,
    ];
    let mut alu_busy = [[false; ALU_COUNT]; TOTAL_LATENCY_CYCLES + 1];
    let mut rotated = [false; 4];
    let mut rotations = 0usize;
    let mut retries = 0usize;
    let mut steps = 0usize;
    let mut len = 0usize;
    let mut r8_used = false;

    while latency.iter().take(4).any(|&l| l < TOTAL_LATENCY_CYCLES) && retries < MAX_RETRIES {
        steps += 1;
        if steps > MAX_ATTEMPT_STEPS {
            break;
        }
        let c = stream.byte();
        let op = match c & 7 {
            0..=2 => Op::Mul,
            3 => Op::Add,
            4 => Op::Sub,
            5 => {
                if stream.byte() < 0x80 {
                    Op::Ror
                } else {
                    Op::Rol
                }
            }
            _ => Op::Xor,
        };
        let dst = usize::from((c >> 3) & 3);
        let mut src = usize::from((c >> 5) & 7);
        // ADD, SUB and XOR of a register with itself use r8 as the source instead.
        if matches!(op, Op::Add | Op::Sub | Op::Xor) && src == dst {
            src = 8;
        }
        // Two rotations in a row of one register are one rotation.
        if op.is_rotation() && rotated[dst] {
            continue;
        }
        // The same non-MUL operation twice from the same source value folds into one.
        let src_data = inst_data.get(src).copied().unwrap_or(0);
        if op != Op::Mul
            && (inst_data[dst] & 0xFF_FF00) == (op.code() << 8) + ((src_data & 0xFF) << 16)
        {
            continue;
        }

        // The first cycle, from when both operands are ready, at which an ALU is free.
        let src_latency = latency.get(src).copied().unwrap_or(0);
        let mut start = latency[dst].max(src_latency);
        let mut alu = None;
        while start < TOTAL_LATENCY_CYCLES {
            alu = (0..op.alus()).rev().find(|&i| {
                let busy = |cycle: usize| alu_busy.get(cycle).is_some_and(|a| a[i]);
                // ADD is two one-cycle instructions: it needs the next cycle too.
                let add_blocked = op == Op::Add && busy(start + 1);
                // A rotation waits for the previous one to finish.
                let rotation_blocked = op.is_rotation() && start < rotations * op.latency();
                !busy(start) && !add_blocked && !rotation_blocked
            });
            if alu.is_some() {
                break;
            }
            start += 1;
        }
        // No register may stay unchanged for more than 7 cycles.
        if start > latency[dst] + MAX_REGISTER_IDLE_CYCLES {
            continue;
        }
        let done = start + op.latency();
        let (Some(alu), true) = (alu, done <= TOTAL_LATENCY_CYCLES) else {
            retries += 1;
            continue;
        };

        if op.is_rotation() {
            rotations += 1;
        }
        // ALUs are pipelined: busy for the first cycle only (two for ADD).
        alu_busy[start][alu] = true;
        latency[dst] = done;
        let src_asic = asic_latency.get(src).copied().unwrap_or(0);
        asic_latency[dst] = asic_latency[dst].max(src_asic) + op.asic_latency();
        rotated[dst] = op.is_rotation();
        inst_data[dst] =
            u32::try_from(len).unwrap_or(0xFF) + (op.code() << 8) + ((src_data & 0xFF) << 16);
        if src == 8 {
            r8_used = true;
        }
        let mut constant = 0;
        if op == Op::Add {
            if let Some(next) = alu_busy.get_mut(start + 1) {
                next[alu] = true;
            }
            constant = stream.u32_le();
        }
        if let Some(slot) = code.get_mut(len) {
            *slot = Instruction {
                op,
                dst,
                src,
                constant,
            };
        }
        len += 1;
        if len >= MIN_INSTRUCTIONS {
            break;
        }
    }

    // An ASIC runs independent instructions in parallel: lengthen the shortest chain
    // from the longest with ROR, MUL, MUL, … until one chain is long enough for it too.
    let first_pad = len;
    while len < MAX_INSTRUCTIONS
        && asic_latency
            .iter()
            .take(4)
            .all(|&l| l < TOTAL_LATENCY_CYCLES)
    {
        let (mut min_idx, mut max_idx) = (0, 0);
        for i in 1..4 {
            if asic_latency[i] < asic_latency[min_idx] {
                min_idx = i;
            }
            if asic_latency[i] > asic_latency[max_idx] {
                max_idx = i;
            }
        }
        let op = [Op::Ror, Op::Mul, Op::Mul][(len - first_pad) % 3];
        latency[min_idx] = latency[max_idx] + op.latency();
        asic_latency[min_idx] = asic_latency[max_idx] + op.asic_latency();
        if let Some(slot) = code.get_mut(len) {
            *slot = Instruction {
                op,
                dst: min_idx,
                src: max_idx,
                constant: 0,
            };
        }
        len += 1;
    }
    (len, r8_used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_60_to_70_instructions_and_read_r8() {
        for height in (0..2_000_000u64)
            .step_by(99_991)
            .chain([1_806_260, 1_806_261])
        {
            let p = generate(height);
            let ins = p.instructions();
            assert!((MIN_INSTRUCTIONS..=MAX_INSTRUCTIONS).contains(&ins.len()));
            assert!(ins.iter().any(|i| i.src == 8), "height {height}");
            assert!(ins.iter().all(|i| i.dst < 4 && i.src < REGISTERS));
            assert_eq!(generate(height), p, "deterministic");
        }
        assert_ne!(generate(1_806_260), generate(1_806_261));
    }

    #[test]
    fn interpreter_applies_each_operation() {
        let mut code = [Instruction::default(); MAX_INSTRUCTIONS];
        let ops = [
            (Op::Mul, 0, 4, 0),
            (Op::Add, 1, 5, 7),
            (Op::Sub, 2, 6, 0),
            (Op::Ror, 3, 7, 0),
            (Op::Rol, 0, 8, 0),
            (Op::Xor, 1, 1, 0),
        ];
        for (slot, (op, dst, src, constant)) in code.iter_mut().zip(ops) {
            *slot = Instruction {
                op,
                dst,
                src,
                constant,
            };
        }
        let p = Program {
            code,
            len: ops.len(),
        };
        let mut r = [3, 0xFFFF_FFFF, 1, 0x8000_0001, 0x1_0000, 5, 2, 33, 1];
        p.run(&mut r);
        let r0 = 3u32.wrapping_mul(0x1_0000).rotate_left(1);
        let r1 = 0xFFFF_FFFFu32.wrapping_add(5).wrapping_add(7);
        assert_eq!(r[0], r0);
        assert_eq!(r[1], r1 ^ r1);
        assert_eq!(r[2], 1u32.wrapping_sub(2));
        assert_eq!(r[3], 0x8000_0001u32.rotate_right(1)); // 33 % 32
    }
}
