//! Device access rules: runc's default allow-list, the v1 rule semantics (emulated), v1 devices.allow/deny
//! writes, and the cgroup2 BPF_PROG_TYPE_CGROUP_DEVICE program built from the same rules.

use std::path::Path;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::files::{read, write};
use super::CgroupError;

/// One device rule; `None` major/minor is the `*` wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Meta {
    /// 'a' (all), 'b' or 'c'.
    pub kind: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
}

/// Access bits as v1 writes them: r=read w=write m=mknod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Access(u8);

impl Access {
    const R: u8 = 1;
    const W: u8 = 2;
    const M: u8 = 4;
    pub const ALL: Access = Access(7);

    fn parse(s: &str) -> Result<Access, String> {
        let mut a = 0;
        for c in s.chars() {
            a |= match c {
                'r' => Self::R,
                'w' => Self::W,
                'm' => Self::M,
                _ => return Err(format!("invalid access `{s}` (only r, w, m)")),
            };
        }
        Ok(Access(a))
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn as_str(self) -> String {
        let mut s = String::new();
        for (bit, c) in [(Self::R, 'r'), (Self::W, 'w'), (Self::M, 'm')] {
            if self.0 & bit != 0 {
                s.push(c);
            }
        }
        s
    }

    /// The kernel's BPF_DEVCG_ACC_* bits: MKNOD=1, READ=2, WRITE=4.
    fn bpf_bits(self) -> i32 {
        let mut b = 0;
        if self.0 & Self::M != 0 {
            b |= 1;
        }
        if self.0 & Self::R != 0 {
            b |= 2;
        }
        if self.0 & Self::W != 0 {
            b |= 4;
        }
        b
    }
}

/// One rule as given (spec order matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    pub meta: Meta,
    pub access: Access,
}

fn kind_char(t: LinuxDeviceType) -> Result<char, String> {
    match t {
        LinuxDeviceType::A => Ok('a'),
        LinuxDeviceType::B => Ok('b'),
        LinuxDeviceType::C | LinuxDeviceType::U => Ok('c'),
        LinuxDeviceType::P => {
            Err("type `p` (FIFO) cannot be controlled by the devices cgroup".to_string())
        }
    }
}

fn num(v: Option<i64>) -> Result<Option<u32>, String> {
    match v {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| format!("invalid device number {n}")),
    }
}

impl Rule {
    pub fn from_spec(d: &LinuxDeviceCgroup) -> Result<Rule, String> {
        let access = match d.access().as_deref() {
            None | Some("") => Access::ALL,
            Some(s) => Access::parse(s)?,
        };
        Ok(Rule {
            allow: d.allow(),
            meta: Meta {
                kind: kind_char(d.typ().unwrap_or_default())?,
                major: num(d.major())?,
                minor: num(d.minor())?,
            },
            access,
        })
    }

    /// The v1 text: `c 1:3 rwm`.
    pub fn v1_text(&self) -> String {
        if self.meta.kind == 'a' {
            return "a".to_string();
        }
        let n = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_else(|| "*".to_string());
        format!(
            "{} {}:{} {}",
            self.meta.kind,
            n(self.meta.major),
            n(self.meta.minor),
            self.access.as_str()
        )
    }
}

fn allow(
    kind: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut d = LinuxDeviceCgroup::default();
    d.set_allow(true);
    d.set_typ(Some(kind));
    d.set_major(major);
    d.set_minor(minor);
    d.set_access(Some(access.to_string()));
    d
}

/// runc's default allow-list, appended after the spec's rules: mknod of any device, /dev/null, random,
/// full, tty, zero, urandom, /dev/pts/*, /dev/ptmx. With no allow-all rule before them, everything else
/// is denied.
pub fn default_allowed_devices() -> Vec<LinuxDeviceCgroup> {
    use LinuxDeviceType::{B, C};
    vec![
        allow(C, None, None, "m"),
        allow(B, None, None, "m"),
        allow(C, Some(1), Some(3), "rwm"),
        allow(C, Some(1), Some(8), "rwm"),
        allow(C, Some(1), Some(7), "rwm"),
        allow(C, Some(5), Some(0), "rwm"),
        allow(C, Some(1), Some(5), "rwm"),
        allow(C, Some(1), Some(9), "rwm"),
        allow(C, Some(136), None, "rwm"),
        allow(C, Some(5), Some(2), "rwm"),
    ]
}

/// The spec's rules followed by the default allow-list, as runc builds them.
pub(crate) fn rules_with_defaults(spec: &[LinuxDeviceCgroup]) -> Vec<LinuxDeviceCgroup> {
    spec.iter()
        .cloned()
        .chain(default_allowed_devices())
        .collect()
}

/// The state v1's devices cgroup would reach after the rules, in order: a default, plus exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct State {
    pub default_allow: bool,
    /// Exceptions to the default, sorted by meta.
    pub exceptions: Vec<(Meta, Access)>,
}

impl State {
    /// Apply one rule with the kernel's v1 semantics: `a` resets the default and clears the exceptions;
    /// a rule in the default's direction removes (exact-match) access from an exception, else adds one.
    pub fn apply(&mut self, r: &Rule) -> Result<(), String> {
        if r.meta.kind == 'a' {
            self.default_allow = r.allow;
            self.exceptions.clear();
            return Ok(());
        }
        if r.allow != self.default_allow {
            match self.exceptions.iter_mut().find(|(m, _)| *m == r.meta) {
                Some((_, a)) => a.0 |= r.access.0,
                None => self.exceptions.push((r.meta, r.access)),
            }
            self.exceptions.sort_by_key(|(m, _)| *m);
            return Ok(());
        }
        // Removing access that a wildcard exception grants would be silently ignored by v1: refuse (runc).
        for wild in [
            Meta {
                major: None,
                ..r.meta
            },
            Meta {
                minor: None,
                ..r.meta
            },
            Meta {
                major: None,
                minor: None,
                ..r.meta
            },
        ] {
            if wild == r.meta {
                continue;
            }
            if let Some((_, a)) = self
                .exceptions
                .iter()
                .find(|(m, a)| *m == wild && a.0 & r.access.0 != 0)
            {
                return Err(format!(
                    "rule `{}` cannot punch a hole in the wildcard rule `{}`",
                    r.v1_text(),
                    Rule {
                        allow: !r.allow,
                        meta: wild,
                        access: *a
                    }
                    .v1_text()
                ));
            }
        }
        if let Some(i) = self.exceptions.iter().position(|(m, _)| *m == r.meta) {
            self.exceptions[i].1 .0 &= !r.access.0;
            if self.exceptions[i].1.is_empty() {
                self.exceptions.remove(i);
            }
        }
        Ok(())
    }

    pub fn from_rules(rules: &[LinuxDeviceCgroup]) -> Result<State, String> {
        // Nothing said yet: deny everything (whitelist), as runc's emulator starts.
        let mut s = State::default();
        for (i, d) in rules.iter().enumerate() {
            let r = Rule::from_spec(d).map_err(|e| format!("[{i}]: {e}"))?;
            s.apply(&r).map_err(|e| format!("[{i}]: {e}"))?;
        }
        Ok(s)
    }

    /// Parse v1's devices.list: `a *:* rwm` alone means allow-all; otherwise the allowed exceptions.
    fn from_v1_list(text: &str) -> Option<State> {
        let mut s = State::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut it = line.split_whitespace();
            let kind = it.next()?.chars().next()?;
            let (maj, min) = it.next()?.split_once(':')?;
            let access = Access::parse(it.next()?).ok()?;
            if kind == 'a' {
                return Some(State {
                    default_allow: true,
                    exceptions: Vec::new(),
                });
            }
            let n = |v: &str| {
                if v == "*" {
                    Some(None)
                } else {
                    v.parse().ok().map(Some)
                }
            };
            s.exceptions.push((
                Meta {
                    kind,
                    major: n(maj)?,
                    minor: n(min)?,
                },
                access,
            ));
        }
        s.exceptions.sort_by_key(|(m, _)| *m);
        Some(s)
    }
}

/// v1: bring devices.allow/devices.deny to the rules' state. From a whitelist to a whitelist, only the
/// differences are written (a running container never sees "deny all"); otherwise reset with `a`.
pub(crate) fn apply_v1(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
    let target =
        State::from_rules(rules).map_err(|r| super::unsupported("linux.resources.devices", r))?;
    let current = State::from_v1_list(&read(dir, "devices.list")?);
    let (grant, revoke) = if target.default_allow {
        ("devices.deny", "devices.allow")
    } else {
        ("devices.allow", "devices.deny")
    };
    match current {
        Some(cur) if !cur.default_allow && !target.default_allow => {
            for (m, a) in &cur.exceptions {
                let keep = target
                    .exceptions
                    .iter()
                    .find(|(tm, _)| tm == m)
                    .map(|(_, ta)| ta.0)
                    .unwrap_or(0);
                let drop = Access(a.0 & !keep);
                if !drop.is_empty() {
                    write(
                        dir,
                        "devices.deny",
                        &Rule {
                            allow: false,
                            meta: *m,
                            access: drop,
                        }
                        .v1_text(),
                    )?;
                }
            }
        }
        _ => write(dir, revoke, "a")?,
    }
    for (m, a) in &target.exceptions {
        write(
            dir,
            grant,
            &Rule {
                allow: !target.default_allow,
                meta: *m,
                access: *a,
            }
            .v1_text(),
        )?;
    }
    Ok(())
}

/// One eBPF instruction (struct bpf_insn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Insn {
    pub code: u8,
    /// dst_reg in the low nibble, src_reg in the high one.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Opcodes (linux/bpf.h, linux/bpf_common.h).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU64_AND_K: u8 = 0x57;
const ALU64_RSH_K: u8 = 0x77;
const ALU64_MOV_K: u8 = 0xb7;
const ALU64_MOV_X: u8 = 0xbf;
const JMP_JNE_K: u8 = 0x55;
const JMP_JNE_X: u8 = 0x5d;
const JMP_JEQ_K: u8 = 0x15;
const JMP_EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0xf),
        off,
        imm,
    }
}

/// A BPF_PROG_TYPE_CGROUP_DEVICE program: returns 1 to allow, 0 to deny.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub insns: Vec<Insn>,
}

impl Program {
    /// Build the program from the rules as runc does: the rules are first reduced with the v1 semantics
    /// to a default and exceptions; a device matching an exception gets the opposite of the default.
    /// Unlike runc, a deny exception of an allow-by-default list matches on any overlapping access bit,
    /// as v1 does (runc's program needs all of them, so `rw` passes a `w` deny).
    /// Context (struct bpf_cgroup_dev_ctx): access_type (type | access << 16), major, minor.
    pub fn build(rules: &[LinuxDeviceCgroup]) -> Result<Program, String> {
        let state = State::from_rules(rules)?;
        let mut p = vec![
            insn(LDX_MEM_W, 2, 1, 0, 0),        // r2 = ctx->access_type
            insn(ALU64_AND_K, 2, 0, 0, 0xffff), // r2 = device type (BPF_DEVCG_DEV_BLOCK 1, CHAR 2)
            insn(LDX_MEM_W, 3, 1, 0, 0),        // r3 = ctx->access_type
            insn(ALU64_RSH_K, 3, 0, 0, 16),     // r3 = access (MKNOD 1, READ 2, WRITE 4)
            insn(LDX_MEM_W, 4, 1, 4, 0),        // r4 = ctx->major
            insn(LDX_MEM_W, 5, 1, 8, 0),        // r5 = ctx->minor
        ];
        let verdict = i32::from(!state.default_allow);
        for (m, a) in &state.exceptions {
            // Each block: checks that jump to the next block on mismatch, then "return verdict".
            let mut block: Vec<Insn> = Vec::new();
            match m.kind {
                'b' => block.push(insn(JMP_JNE_K, 2, 0, 0, 1)),
                'c' => block.push(insn(JMP_JNE_K, 2, 0, 0, 2)),
                _ => {}
            }
            if *a != Access::ALL {
                block.push(insn(ALU64_MOV_X, 1, 3, 0, 0));
                block.push(insn(ALU64_AND_K, 1, 0, 0, a.bpf_bits()));
                if state.default_allow {
                    // A deny exception matches when any requested bit is denied (the kernel's v1
                    // match_exception_partial): (r3 & bits) != 0.
                    block.push(insn(JMP_JEQ_K, 1, 0, 0, 0));
                } else {
                    // An allow exception matches when every requested bit is allowed: (r3 & bits) == r3.
                    block.push(insn(JMP_JNE_X, 1, 3, 0, 0));
                }
            }
            if let Some(major) = m.major {
                block.push(insn(JMP_JNE_K, 4, 0, 0, major as i32));
            }
            if let Some(minor) = m.minor {
                block.push(insn(JMP_JNE_K, 5, 0, 0, minor as i32));
            }
            block.push(insn(ALU64_MOV_K, 0, 0, 0, verdict));
            block.push(insn(JMP_EXIT, 0, 0, 0, 0));
            // Fix the jump offsets: to just past this block.
            let len = block.len();
            for (i, ins) in block.iter_mut().enumerate() {
                if matches!(ins.code, JMP_JNE_K | JMP_JNE_X | JMP_JEQ_K) {
                    ins.off = (len - i - 1) as i16;
                }
            }
            p.extend(block);
        }
        p.push(insn(ALU64_MOV_K, 0, 0, 0, i32::from(state.default_allow)));
        p.push(insn(JMP_EXIT, 0, 0, 0, 0));
        Ok(Program { insns: p })
    }

    /// Run the program on one access, as the kernel would (for tests: checks the program, not the rules).
    #[cfg(test)]
    pub fn eval(&self, kind: char, major: u32, minor: u32, access: &str) -> bool {
        let t: u64 = if kind == 'b' { 1 } else { 2 };
        let ctx = [
            (t | (Access::parse(access).unwrap().bpf_bits() as u64) << 16) as u32,
            major,
            minor,
        ];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = self.insns[pc];
            let (d, s) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => r[d] = u64::from(ctx[(i.off / 4) as usize]),
                ALU64_AND_K => r[d] &= i.imm as i64 as u64,
                ALU64_RSH_K => r[d] >>= i.imm,
                ALU64_MOV_K => r[d] = i.imm as i64 as u64,
                ALU64_MOV_X => r[d] = r[s],
                JMP_JNE_K if r[d] != i.imm as i64 as u64 => pc += i.off as usize,
                JMP_JNE_X if r[d] != r[s] => pc += i.off as usize,
                JMP_JEQ_K if r[d] == i.imm as i64 as u64 => pc += i.off as usize,
                JMP_JNE_K | JMP_JNE_X | JMP_JEQ_K => {}
                JMP_EXIT => return r[0] == 1,
                c => panic!("unknown opcode {c:#x}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        allow: bool,
        t: LinuxDeviceType,
        major: Option<i64>,
        minor: Option<i64>,
        a: &str,
    ) -> LinuxDeviceCgroup {
        let mut d = LinuxDeviceCgroup::default();
        d.set_allow(allow);
        d.set_typ(Some(t));
        d.set_major(major);
        d.set_minor(minor);
        d.set_access(Some(a.to_string()));
        d
    }

    #[test]
    fn defaults_deny_the_rest() {
        let p = Program::build(&rules_with_defaults(&[])).unwrap();
        for (maj, min) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 2),
            (136, 0),
            (136, 7),
        ] {
            assert!(p.eval('c', maj, min, "rw"), "c {maj}:{min}");
        }
        assert!(!p.eval('c', 1, 1, "r"), "/dev/mem");
        assert!(!p.eval('b', 8, 0, "r"), "/dev/sda");
        assert!(p.eval('b', 8, 0, "m"), "mknod of any block device");
        assert!(!p.eval('b', 8, 0, "rm"), "mknod plus read");
        assert!(
            !p.eval('c', 10, 200, "rw"),
            "/dev/net/tun is not in runc 1.2's list"
        );
    }

    #[test]
    fn spec_order_deny_all_then_allow() {
        let spec = [
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, Some(10), Some(200), "rw"),
        ];
        let p = Program::build(&rules_with_defaults(&spec)).unwrap();
        assert!(p.eval('c', 10, 200, "rw"));
        assert!(!p.eval('c', 10, 201, "r"));
        // Allow-all first, then deny one: a blacklist.
        let spec = [
            rule(true, LinuxDeviceType::A, None, None, "rwm"),
            rule(false, LinuxDeviceType::B, Some(8), None, "w"),
        ];
        let s = State::from_rules(&spec).unwrap();
        assert!(s.default_allow);
        let p = Program::build(&spec).unwrap();
        assert!(p.eval('b', 8, 1, "r"));
        assert!(!p.eval('b', 8, 1, "rw"));
        assert!(p.eval('c', 1, 1, "rw"));
        // A later deny removes an earlier allow.
        let spec = [
            rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"),
            rule(false, LinuxDeviceType::C, Some(1), Some(3), "w"),
        ];
        let p = Program::build(&spec).unwrap();
        assert!(p.eval('c', 1, 3, "r"));
        assert!(!p.eval('c', 1, 3, "w"));
    }

    #[test]
    fn no_hole_in_wildcards_and_bad_types() {
        let spec = [
            rule(true, LinuxDeviceType::C, Some(136), None, "rwm"),
            rule(false, LinuxDeviceType::C, Some(136), Some(1), "r"),
        ];
        let e = State::from_rules(&spec).unwrap_err();
        assert!(e.contains("punch a hole") && e.starts_with("[1]"), "{e}");
        let e = State::from_rules(&[rule(true, LinuxDeviceType::P, None, None, "r")]).unwrap_err();
        assert!(e.contains("FIFO"), "{e}");
    }

    #[test]
    fn v1_text_and_list_parse() {
        let r = Rule::from_spec(&rule(true, LinuxDeviceType::C, Some(136), None, "rwm")).unwrap();
        assert_eq!(r.v1_text(), "c 136:* rwm");
        let s = State::from_v1_list("c 1:3 rwm\nb *:* m\n").unwrap();
        assert_eq!(s.exceptions.len(), 2);
        assert!(!s.default_allow);
        assert!(State::from_v1_list("a *:* rwm\n").unwrap().default_allow);
    }
}
