//! Test-only classic-BPF interpreter: runs a seccomp program on a `seccomp_data` and returns its verdict.
//!
//! It accepts what the kernel's seccomp checker accepts for the instructions brig and libseccomp emit
//! (loads from `seccomp_data`, ALU on A, forward jumps, returns), and panics on anything out of bounds,
//! so a wrong jump offset fails the test instead of being interpreted loosely.

use super::bpf::Insn;

/// `struct seccomp_data` in a test-friendly form.
#[derive(Clone, Copy, Debug, Default)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    pub fn new(arch: u32, nr: u32, args: &[u64]) -> Self {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        Data {
            nr,
            arch,
            ip: 0,
            args: a,
        }
    }

    fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_le_bytes());
        b[4..8].copy_from_slice(&self.arch.to_le_bytes());
        b[8..16].copy_from_slice(&self.ip.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        b
    }
}

/// Runs `prog` on `data`; returns the `ret` value. Panics on invalid programs.
pub fn run(prog: &[Insn], data: &Data) -> u32 {
    run_counted(prog, data).0
}

/// Like [`run`], and also returns how many instructions were executed.
pub fn run_counted(prog: &[Insn], data: &Data) -> (u32, usize) {
    let mut steps = 0;
    let bytes = data.bytes();
    let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; 16]);
    let mut pc = 0usize;
    loop {
        let i = *prog
            .get(pc)
            .unwrap_or_else(|| panic!("pc {pc} ran off the program ({} insns)", prog.len()));
        pc += 1;
        let k = i.k;
        steps += 1;
        match i.code {
            0x20 => {
                // ld [k]
                let k = k as usize;
                assert!(k & 3 == 0 && k + 4 <= 64, "bad load offset {k}");
                a = u32::from_le_bytes(bytes[k..k + 4].try_into().unwrap());
            }
            0x00 => a = k,               // ld #k
            0x01 => x = k,               // ldx #k
            0x02 => mem[k as usize] = a, // st
            0x60 => a = mem[k as usize], // ld M[k]
            0x07 => x = a,               // tax
            0x87 => a = x,               // txa
            0x54 => a &= k,              // and #k
            0x44 => a |= k,              // or #k
            0x04 => a = a.wrapping_add(k),
            0x14 => a = a.wrapping_sub(k),
            0x06 => return (k, steps), // ret #k
            0x16 => return (a, steps), // ret a
            0x05 => pc += k as usize,  // ja
            0x15 | 0x25 | 0x35 | 0x45 => {
                let taken = match i.code {
                    0x15 => a == k,
                    0x25 => a > k,
                    0x35 => a >= k,
                    _ => a & k != 0,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            c => panic!("unsupported BPF opcode {c:#x} at pc {}", pc - 1),
        }
        assert!(
            pc < prog.len(),
            "jump past the end of the program at pc {pc}"
        );
    }
}

/// Parses a program dumped as `code jt jf k` lines (decimal), the format of `testdata/*.bpf`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub fn parse_dump(text: &str) -> Vec<Insn> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().map(|w| w.parse().unwrap()).collect();
            Insn {
                code: v[0] as u16,
                jt: v[1] as u8,
                jf: v[2] as u8,
                k: v[3] as u32,
            }
        })
        .collect()
}
