//! Tests of the seccomp compiler: shared helpers and the reference model the generated programs are held to.
//!
//! `verdicts` runs programs through the BPF interpreter, `runc` compares them with the filters runc loaded,
//! `random` feeds random profiles, `kernel` installs real filters in forked children.

mod kernel;
mod random;
mod runc;
mod verdicts;

use super::arch::{AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use super::interp::{parse_dump, run, Data};
use super::*;
use oci_spec::runtime::LinuxSeccompOperator as Op;

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const X86_64: u32 = AUDIT_ARCH_X86_64;
const I386: u32 = AUDIT_ARCH_I386;
const fn errno(e: u32) -> u32 {
    libc::SECCOMP_RET_ERRNO | e
}

fn profile(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).expect("test profile parses")
}

fn compiled(json: &str) -> CompiledFilter {
    compile(&profile(json)).expect("test profile compiles")
}

fn podman() -> LinuxSeccomp {
    profile(include_str!("../testdata/podman-default.json"))
}

/// Verdict of `f` for a syscall.
fn verdict(f: &CompiledFilter, arch: u32, nr: u32, args: &[u64]) -> u32 {
    run(f.program(), &Data::new(arch, nr, args))
}

fn nr(abi: Abi, name: &str) -> u32 {
    abi.resolve(name)
        .unwrap_or_else(|| panic!("{abi:?} has no {name}"))
}

// ---------------------------------------------------------------- reference model --------------

/// What a condition means, straight from libseccomp's documentation (the model, not the generator).
fn cond_holds(op: Op, arg: u64, value: u64, value_two: u64, args64: bool) -> bool {
    let (arg, value, value_two) = if args64 {
        (arg, value, value_two)
    } else {
        (
            arg as u32 as u64,
            value as u32 as u64,
            value_two as u32 as u64,
        )
    };
    match op {
        Op::ScmpCmpNe => arg != value,
        Op::ScmpCmpLt => arg < value,
        Op::ScmpCmpLe => arg <= value,
        Op::ScmpCmpEq => arg == value,
        Op::ScmpCmpGe => arg >= value,
        Op::ScmpCmpGt => arg > value,
        // libseccomp masks valueTwo as well.
        Op::ScmpCmpMaskedEq => arg & value == value_two & value,
    }
}

fn ret_of(action: LinuxSeccompAction, errno_ret: Option<u32>) -> u32 {
    use LinuxSeccompAction as A;
    match action {
        A::ScmpActKill | A::ScmpActKillThread => 0,
        A::ScmpActKillProcess => 0x8000_0000,
        A::ScmpActTrap => 0x0003_0000,
        A::ScmpActErrno => 0x0005_0000 | errno_ret.unwrap_or(1),
        A::ScmpActTrace => 0x7ff0_0000 | errno_ret.unwrap_or(1),
        A::ScmpActLog => 0x7ffc_0000,
        A::ScmpActAllow => 0x7fff_0000,
        A::ScmpActNotify => 0x7fc0_0000,
    }
}

/// (argument index, operator, value, valueTwo).
type ModelCond = (u8, Op, u64, u64);

/// The verdict brig promises (see NOTES.md), computed directly from the profile.
fn model(p: &LinuxSeccomp, d: &Data) -> u32 {
    let listed: Vec<Abi> = p
        .architectures()
        .iter()
        .flatten()
        .filter_map(|a| Abi::from_oci(*a))
        .collect();
    let mut abis = listed.clone();
    abis.push(Abi::X86_64);
    let abi = match d.arch {
        X86_64 if d.nr == u32::MAX && !abis.contains(&Abi::X32) => Abi::X86_64,
        X86_64 if d.nr & X32_SYSCALL_BIT != 0 => Abi::X32,
        X86_64 => Abi::X86_64,
        I386 => Abi::X86,
        AUDIT_ARCH_AARCH64 => Abi::Aarch64,
        _ => return 0,
    };
    if !abis.contains(&abi) {
        return 0; // bad arch: SCMP_ACT_KILL
    }
    let default = ret_of(p.default_action(), p.default_errno_ret());
    let syscalls = p.syscalls().as_deref().unwrap_or_default();
    let mut max_named = None;
    let mut rules: Vec<(Vec<ModelCond>, u32)> = Vec::new();
    for sc in syscalls {
        let action = ret_of(sc.action(), sc.errno_ret());
        for name in sc.names() {
            let direct = abi.resolve(name);
            max_named = max_named.max(direct);
            if action == default {
                continue;
            }
            let conds: Vec<ModelCond> = sc
                .args()
                .iter()
                .flatten()
                .map(|a| {
                    (
                        a.index() as u8,
                        a.op(),
                        a.value(),
                        a.value_two().unwrap_or(0),
                    )
                })
                .collect();
            let repeated = (0..6).any(|i| conds.iter().filter(|c| c.0 == i).count() > 1);
            let alternatives: Vec<Vec<ModelCond>> = if repeated {
                conds.iter().map(|c| vec![*c]).collect()
            } else {
                vec![conds]
            };
            if let Some((mux, call)) = abi.multiplexed(name) {
                if mux == d.nr {
                    for alt in &alternatives {
                        let mut c = vec![(0, Op::ScmpCmpEq, call, 0)];
                        c.extend(alt.iter().filter(|c| c.0 != 0));
                        rules.push((c, action));
                    }
                    continue;
                }
            }
            if direct == Some(d.nr) {
                rules.extend(alternatives.into_iter().map(|c| (c, action)));
            }
        }
    }
    if let Some((_, action)) = rules.iter().find(|r| r.0.is_empty()) {
        return *action;
    }
    for (conds, action) in &rules {
        if conds
            .iter()
            .all(|c| cond_holds(c.1, d.args[c.0 as usize], c.2, c.3, abi.args_64bit()))
        {
            return *action;
        }
    }
    use LinuxSeccompAction as A;
    let permissive = matches!(
        p.default_action(),
        A::ScmpActAllow | A::ScmpActLog | A::ScmpActTrace
    );
    match max_named {
        Some(max) if !permissive && listed.contains(&abi) && d.nr > max => errno(38),
        _ => default,
    }
}

/// Interesting argument values: both halves at their edges, and values above 2^32.
const EDGES: [u64; 12] = [
    0,
    1,
    2,
    0x7fff_ffff,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x1_ffff_ffff,
    0xffff_ffff_0000_0000,
    0xffff_ffff_ffff_fffe,
    u64::MAX,
];

fn compile_err(json: &str) -> String {
    compile(&profile(json))
        .expect_err("profile must be rejected")
        .to_string()
}
