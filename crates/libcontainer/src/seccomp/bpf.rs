//! A small classic-BPF assembler that writes seccomp programs back to front, so every jump is forward and in range.
//!
//! Classic BPF has only forward jumps, and the conditional ones reach at most 255 instructions. Emitting the
//! program from its last instruction to its first means a jump's targets already exist when the jump is
//! written: its distance is known, and a target out of reach gets a trampoline right after the jump (a copy
//! of the `ret` it aims at, or an unconditional `ja`, whose offset is 32 bits).

use std::collections::HashMap;

pub use libc::sock_filter as Insn;

// Opcodes, from <linux/bpf_common.h>.
pub const BPF_LD: u16 = 0x00;
pub const BPF_JMP: u16 = 0x05;
pub const BPF_RET: u16 = 0x06;
pub const BPF_ALU: u16 = 0x04;
pub const BPF_W: u16 = 0x00;
pub const BPF_ABS: u16 = 0x20;
pub const BPF_K: u16 = 0x00;
pub const BPF_AND: u16 = 0x50;
pub const BPF_JA: u16 = 0x00;
pub const BPF_JEQ: u16 = 0x10;
pub const BPF_JGT: u16 = 0x20;
pub const BPF_JGE: u16 = 0x30;

/// Offsets into `struct seccomp_data` (little endian: an argument's low word comes first).
pub const DATA_NR: u32 = 0;
pub const DATA_ARCH: u32 = 4;
pub const fn data_arg_lo(index: u8) -> u32 {
    16 + 8 * index as u32
}
pub const fn data_arg_hi(index: u8) -> u32 {
    20 + 8 * index as u32
}

/// The kernel refuses longer programs (BPF_MAXINSNS).
pub const MAX_INSNS: usize = 4096;

/// A position in the program: an index into the reversed instruction list.
pub type Label = usize;

/// A conditional jump kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jmp {
    Eq,
    Gt,
    Ge,
}

impl Jmp {
    fn code(self) -> u16 {
        BPF_JMP
            | BPF_K
            | match self {
                Jmp::Eq => BPF_JEQ,
                Jmp::Gt => BPF_JGT,
                Jmp::Ge => BPF_JGE,
            }
    }
}

/// Builds a program from its end to its start.
#[derive(Default)]
pub struct Asm {
    rev: Vec<Insn>,
    /// For each return value, the most recently written (so the nearest) `ret` instruction.
    rets: HashMap<u32, Label>,
}

const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

impl Asm {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, i: Insn) -> Label {
        self.rev.push(i);
        self.rev.len() - 1
    }

    /// How many instructions a jump written next would skip to reach `target`.
    fn distance(&self, target: Label) -> usize {
        self.rev.len() - target - 1
    }

    /// A `ret k`; reuses the nearest existing one (a jump that cannot reach it will copy it).
    pub fn ret(&mut self, k: u32) -> Label {
        if let Some(&l) = self.rets.get(&k) {
            return l;
        }
        let l = self.push(insn(BPF_RET | BPF_K, 0, 0, k));
        self.rets.insert(k, l);
        l
    }

    /// `A = *(u32 *)(seccomp_data + offset)`.
    pub fn load(&mut self, offset: u32) -> Label {
        self.push(insn(BPF_LD | BPF_W | BPF_ABS, 0, 0, offset))
    }

    /// `A &= k`.
    pub fn and(&mut self, k: u32) -> Label {
        self.push(insn(BPF_ALU | BPF_AND | BPF_K, 0, 0, k))
    }

    /// A label next to the next written instruction that leads to `target`.
    fn trampoline(&mut self, target: Label) -> Label {
        let t = self.rev[target];
        if t.code == BPF_RET | BPF_K {
            let l = self.push(t);
            self.rets.insert(t.k, l);
            l
        } else {
            let off = self.distance(target) as u32;
            self.push(insn(BPF_JMP | BPF_JA, 0, 0, off))
        }
    }

    /// `if (A <op> k) goto jt; else goto jf;` with trampolines for targets out of reach.
    pub fn jump(&mut self, op: Jmp, k: u32, jt: Label, jf: Label) -> Label {
        if jt == jf {
            return jt;
        }
        let (mut jt, mut jf) = (jt, jf);
        loop {
            if self.distance(jt) > 255 {
                jt = self.trampoline(jt);
            } else if self.distance(jf) > 255 {
                jf = self.trampoline(jf);
            } else {
                break;
            }
        }
        let (djt, djf) = (self.distance(jt) as u8, self.distance(jf) as u8);
        self.push(insn(op.code(), djt, djf, k))
    }

    /// `target`, or the instruction after it when `target` only loads `offset` into A: a jump taken while
    /// A already holds that word can skip the reload.
    pub fn skip_reload(&self, target: Label, offset: u32) -> Label {
        let t = self.rev[target];
        if target > 0 && t.code == BPF_LD | BPF_W | BPF_ABS && t.k == offset {
            target - 1
        } else {
            target
        }
    }

    /// A label for the next written instruction's fall-through that leads to `target`.
    pub fn goto(&mut self, target: Label) -> Label {
        if self.distance(target) == 0 {
            target
        } else {
            self.trampoline(target)
        }
    }

    /// Instructions written so far.
    pub fn len(&self) -> usize {
        self.rev.len()
    }

    /// The program, first instruction first, without instructions no path reaches (loads that jumps
    /// skip with `skip_reload`). `entry` must be the last label written.
    pub fn finish(mut self, entry: Label) -> Vec<Insn> {
        debug_assert_eq!(
            entry + 1,
            self.rev.len(),
            "the entry point must be the last instruction written"
        );
        self.rev.reverse();
        remove_unreachable(self.rev)
    }
}

/// The successors of the instruction at `pc` (all jumps are forward).
fn successors(pc: usize, i: &Insn) -> [Option<usize>; 2] {
    if i.code & 0x07 == BPF_RET {
        [None, None]
    } else if i.code == BPF_JMP | BPF_JA {
        [Some(pc + 1 + i.k as usize), None]
    } else if i.code & 0x07 == BPF_JMP {
        [Some(pc + 1 + i.jt as usize), Some(pc + 1 + i.jf as usize)]
    } else {
        [Some(pc + 1), None]
    }
}

/// Drops unreachable instructions and shortens the jumps over them (offsets only shrink).
fn remove_unreachable(prog: Vec<Insn>) -> Vec<Insn> {
    let mut reachable = vec![false; prog.len()];
    if let Some(first) = reachable.first_mut() {
        *first = true;
    }
    for pc in 0..prog.len() {
        if reachable[pc] {
            for s in successors(pc, &prog[pc]).into_iter().flatten() {
                reachable[s] = true;
            }
        }
    }
    // new_pc[pc]: the index `pc` gets once the unreachable instructions before it are gone.
    let mut new_pc = Vec::with_capacity(prog.len());
    let mut n = 0;
    for r in &reachable {
        new_pc.push(n);
        n += usize::from(*r);
    }
    let mut out = Vec::with_capacity(n);
    for (pc, mut i) in prog.iter().copied().enumerate() {
        if !reachable[pc] {
            continue;
        }
        let offset = |target: usize| new_pc[target] - new_pc[pc] - 1;
        if i.code == BPF_JMP | BPF_JA {
            i.k = offset(pc + 1 + i.k as usize) as u32;
        } else if i.code & 0x07 == BPF_JMP {
            i.jt = offset(pc + 1 + i.jt as usize) as u8;
            i.jf = offset(pc + 1 + i.jf as usize) as u8;
        }
        out.push(i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_targets_get_trampolines() {
        let mut a = Asm::new();
        let allow = a.ret(0x7fff_0000);
        // Push 300 filler instructions between the ret and the jump.
        let mut next = allow;
        for i in 0..300u32 {
            next = a.jump(Jmp::Eq, 1000 + i, allow, next);
        }
        let kill = a.push(insn(BPF_RET | BPF_K, 0, 0, 0));
        let j = a.jump(Jmp::Eq, 7, allow, kill);
        let entry = a.load(DATA_NR);
        let _ = j;
        let prog = a.finish(entry);
        // Every conditional jump lands inside the program.
        for (pc, i) in prog.iter().enumerate() {
            if i.code & 0x07 == BPF_JMP {
                if i.code == BPF_JMP | BPF_JA {
                    assert!(pc + 1 + (i.k as usize) < prog.len());
                } else {
                    assert!(pc + 1 + (i.jt.max(i.jf) as usize) < prog.len());
                }
            }
        }
        // The ret copies are counted, not unbounded.
        assert!(prog.len() < 310, "{}", prog.len());
    }

    #[test]
    fn unreachable_loads_are_removed_and_jumps_shortened() {
        let mut a = Asm::new();
        let allow = a.ret(0x7fff_0000);
        let deny = a.ret(0x0005_0001);
        a.jump(Jmp::Eq, 2, deny, allow);
        let second = a.load(data_arg_lo(0));
        // Taken with A = arg 0 already: skips the second load, which nothing else reaches.
        let skip = a.skip_reload(second, data_arg_lo(0));
        a.jump(Jmp::Eq, 1, deny, skip);
        let entry = a.load(data_arg_lo(0));
        let prog = a.finish(entry);
        let shape: Vec<_> = prog.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect();
        assert_eq!(prog.len(), 5, "{shape:?}");
        let v =
            |a0| super::super::interp::run(&prog, &super::super::interp::Data::new(0, 0, &[a0]));
        assert_eq!(v(1), 0x0005_0001);
        assert_eq!(v(2), 0x0005_0001);
        assert_eq!(v(3), 0x7fff_0000);
    }
}
