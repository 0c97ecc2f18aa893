//! Seccomp compiler: checks `linux.seccomp`, resolves names per ABI, and generates the BPF program.
//!
//! The program has the shape libseccomp gives it, with runc's additions:
//!
//! 1. load `seccomp_data.arch`; one `jeq` per listed audit arch; an arch not listed gets
//!    `SECCOMP_RET_KILL_THREAD` (libseccomp's default bad-arch action, which runc keeps);
//! 2. per audit arch, load `seccomp_data.nr` and walk a binary search tree over number *ranges*:
//!    the whole 32-bit number space is cut into intervals that share one outcome (default action, a
//!    rule's action, a chain of argument checks, runc's -ENOSYS for numbers above the profile's newest
//!    syscall, or bad arch for x32 numbers when x32 is not listed), so runs of consecutive allowed
//!    syscalls cost one comparison;
//! 3. per syscall with argument rules, a chain of comparisons; 64-bit arguments are compared on both
//!    32-bit halves, 32-bit ABIs (i386, x32) on the low half only, as libseccomp does.

use std::collections::BTreeMap;

use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};

use super::arch::Abi;
use super::bpf::{self, Asm, Insn, Jmp, Label};
use super::{kernel, SeccompError};

/// `SECCOMP_RET_ERRNO | ENOSYS`: runc's answer for syscalls newer than any the profile names.
pub(super) const RET_ENOSYS: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
/// What a syscall from an unlisted arch gets: libseccomp's default bad-arch action (`SCMP_ACT_KILL`).
pub(super) const RET_BAD_ARCH: u32 = libc::SECCOMP_RET_KILL_THREAD;

/// One argument comparison, as the profile states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cond {
    pub index: u8,
    pub op: LinuxSeccompOperator,
    pub value: u64,
    pub value_two: u64,
}

/// One rule for one syscall: all `conds` must hold (AND) for `action` to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rule {
    pub conds: Vec<Cond>,
    pub action: u32,
}

/// What a syscall number gets in one ABI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// An unconditional rule: libseccomp lets the first one win over every rule with arguments.
    Always(u32),
    /// Rules with arguments, tried in profile order; the default action if none matches.
    Chain(Vec<Rule>),
}

/// The rules of one ABI.
#[derive(Clone, Debug, Default)]
pub(super) struct AbiRules {
    /// The highest number the profile names (whatever the rule's action), for runc's -ENOSYS stub.
    pub max_named: Option<u32>,
    /// Whether `architectures` lists this ABI: runc adds its -ENOSYS stub only for those, not for the
    /// native ABI that libseccomp adds by itself.
    pub listed: bool,
    pub syscalls: BTreeMap<u32, Decision>,
}

/// A checked profile, before code generation.
#[derive(Clone, Debug)]
pub(super) struct Plan {
    pub default: u32,
    /// Listed ABIs, native first.
    pub abis: Vec<Abi>,
    pub rules: BTreeMap<Abi, AbiRules>,
    /// Whether numbers above an ABI's `max_named` get -ENOSYS (runc does this unless the default allows).
    pub enosys_stub: bool,
    /// Flags for seccomp(2), without NEW_LISTENER.
    pub flags: libc::c_ulong,
    pub listener: bool,
}

fn ret_data(value: u32, field: impl FnOnce() -> String) -> Result<u32, SeccompError> {
    if value > libc::SECCOMP_RET_DATA {
        return Err(SeccompError::RetData {
            field: field(),
            value,
        });
    }
    Ok(value)
}

/// The seccomp return value of an OCI action; `errno_ret` defaults to EPERM as in runc.
fn action_ret(
    action: LinuxSeccompAction,
    errno_ret: Option<u32>,
    field: impl FnOnce() -> String,
) -> Result<u32, SeccompError> {
    use LinuxSeccompAction as A;
    Ok(match action {
        A::ScmpActKill | A::ScmpActKillThread => libc::SECCOMP_RET_KILL_THREAD,
        A::ScmpActKillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        A::ScmpActTrap => libc::SECCOMP_RET_TRAP,
        A::ScmpActErrno => {
            libc::SECCOMP_RET_ERRNO | ret_data(errno_ret.unwrap_or(libc::EPERM as u32), field)?
        }
        A::ScmpActTrace => {
            libc::SECCOMP_RET_TRACE | ret_data(errno_ret.unwrap_or(libc::EPERM as u32), field)?
        }
        A::ScmpActLog => libc::SECCOMP_RET_LOG,
        A::ScmpActAllow => libc::SECCOMP_RET_ALLOW,
        A::ScmpActNotify => libc::SECCOMP_RET_USER_NOTIF,
    })
}

/// Checks the profile and builds per-ABI rule tables. Probes the kernel only for `flags`.
pub(super) fn plan(seccomp: &LinuxSeccomp) -> Result<Plan, SeccompError> {
    let native = Abi::native().ok_or(SeccompError::UnsupportedHost(std::env::consts::ARCH))?;
    if seccomp.default_action() == LinuxSeccompAction::ScmpActNotify {
        return Err(SeccompError::NotifyDefault);
    }
    let default = action_ret(
        seccomp.default_action(),
        seccomp.default_errno_ret(),
        || "linux.seccomp.defaultErrnoRet".to_string(),
    )?;

    // Architectures: the native one is always there (libseccomp starts every filter with it).
    let mut abis = vec![native];
    let mut listed = Vec::new();
    for (i, arch) in seccomp.architectures().iter().flatten().enumerate() {
        match Abi::from_oci(*arch) {
            Some(abi) => {
                listed.push(abi);
                if !abis.contains(&abi) {
                    abis.push(abi);
                }
            }
            // aarch64 profiles list 32-bit ARM; brig has no ARM table, so such processes get the bad-arch action.
            None if *arch == oci_spec::runtime::Arch::ScmpArchArm && native == Abi::Aarch64 => {
                tracing::warn!("linux.seccomp.architectures[{i}]: SCMP_ARCH_ARM is not supported, 32-bit ARM syscalls will be killed");
            }
            None => {
                return Err(SeccompError::UnsupportedArch {
                    field: format!("linux.seccomp.architectures[{i}]"),
                    arch: arch.to_string(),
                })
            }
        }
    }

    let syscalls = seccomp.syscalls().as_deref().unwrap_or_default();
    let listener = syscalls
        .iter()
        .any(|s| s.action() == LinuxSeccompAction::ScmpActNotify);

    let mut flags: libc::c_ulong = 0;
    for (i, flag) in seccomp.flags().iter().flatten().enumerate() {
        let bit = match flag {
            // brig's init is single-threaded when it installs the filter: nothing to synchronise.
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => continue,
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv if !listener => {
                tracing::debug!(
                    "linux.seccomp.flags[{i}]: {flag} ignored, no rule uses SCMP_ACT_NOTIFY"
                );
                continue;
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
        };
        if !kernel::flag_supported(bit) {
            return Err(SeccompError::FlagUnsupported {
                field: format!("linux.seccomp.flags[{i}]"),
                flag: flag.to_string(),
            });
        }
        flags |= bit;
    }

    let mut rules: BTreeMap<Abi, AbiRules> = abis
        .iter()
        .map(|a| {
            (
                *a,
                AbiRules {
                    listed: listed.contains(a),
                    ..AbiRules::default()
                },
            )
        })
        .collect();
    for (i, sc) in syscalls.iter().enumerate() {
        let action = action_ret(sc.action(), sc.errno_ret(), || {
            format!("linux.seccomp.syscalls[{i}].errnoRet")
        })?;
        if sc.action() == LinuxSeccompAction::ScmpActNotify {
            if seccomp.listener_path().is_none() {
                return Err(SeccompError::NotifyWithoutListener {
                    field: format!("linux.seccomp.syscalls[{i}].action"),
                });
            }
            // runc refuses this too: the runtime's own writes would wait on the agent.
            if let Some(j) = sc.names().iter().position(|n| n == "write") {
                return Err(SeccompError::NotifyWrite {
                    field: format!("linux.seccomp.syscalls[{i}].names[{j}]"),
                });
            }
        }
        let mut conds = Vec::new();
        for (k, arg) in sc.args().iter().flatten().enumerate() {
            if arg.index() > 5 {
                return Err(SeccompError::ArgIndex {
                    field: format!("linux.seccomp.syscalls[{i}].args[{k}].index"),
                    index: arg.index(),
                });
            }
            conds.push(Cond {
                index: arg.index() as u8,
                op: arg.op(),
                value: arg.value(),
                value_two: arg.value_two().unwrap_or(0),
            });
        }
        // runc: when two conditions test the same argument, each becomes a rule of its own (OR).
        let repeated = (0..6u8).any(|idx| conds.iter().filter(|c| c.index == idx).count() > 1);
        let alternatives: Vec<Vec<Cond>> = if repeated {
            conds.iter().map(|c| vec![*c]).collect()
        } else {
            vec![conds]
        };

        for (j, name) in sc.names().iter().enumerate() {
            if name.is_empty() {
                return Err(SeccompError::EmptyName {
                    field: format!("linux.seccomp.syscalls[{i}].names[{j}]"),
                });
            }
            let mut known = false;
            for abi in &abis {
                let direct = abi.resolve(name);
                let mux = abi.multiplexed(name);
                if direct.is_none() && mux.is_none() {
                    continue;
                }
                known = true;
                let abi_rules = rules.get_mut(abi).expect("every listed ABI has a table");
                abi_rules.max_named = abi_rules.max_named.max(direct);
                // libseccomp drops a rule whose action is the default one (runc relies on that).
                if action == default {
                    continue;
                }
                if let Some(nr) = direct {
                    for conds in &alternatives {
                        add_rule(&mut abi_rules.syscalls, nr, conds, action);
                    }
                }
                // On the multiplexer, the call number takes the place of the first argument; the
                // other conditions stay on the same argument index, as libseccomp leaves them.
                if let Some((mux, call)) = mux {
                    let op = LinuxSeccompOperator::ScmpCmpEq;
                    for conds in &alternatives {
                        let mut mux_conds = vec![Cond {
                            index: 0,
                            op,
                            value: call,
                            value_two: 0,
                        }];
                        mux_conds.extend(conds.iter().filter(|c| c.index != 0));
                        add_rule(&mut abi_rules.syscalls, mux, &mux_conds, action);
                    }
                }
            }
            if !known {
                tracing::debug!(
                    "linux.seccomp.syscalls[{i}].names[{j}]: unknown syscall `{name}` ignored"
                );
            }
        }
    }

    use LinuxSeccompAction as A;
    let permissive = matches!(
        seccomp.default_action(),
        A::ScmpActAllow | A::ScmpActLog | A::ScmpActTrace
    );
    Ok(Plan {
        default,
        abis,
        rules,
        enosys_stub: !permissive,
        flags,
        listener,
    })
}

/// Adds one rule the way libseccomp merges them: the first unconditional rule overrides everything else.
fn add_rule(table: &mut BTreeMap<u32, Decision>, nr: u32, conds: &[Cond], action: u32) {
    let entry = table
        .entry(nr)
        .or_insert_with(|| Decision::Chain(Vec::new()));
    match entry {
        Decision::Always(_) => {}
        Decision::Chain(_) if conds.is_empty() => *entry = Decision::Always(action),
        Decision::Chain(chain) => chain.push(Rule {
            conds: conds.to_vec(),
            action,
        }),
    }
}

/// Where a range of syscall numbers goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Ret(u32),
    /// The chain of argument checks for this syscall number.
    Chain(u32),
}

/// Sets `[lo, hi]` to `t` in a partition of the u32 space (key = first number of a segment).
fn paint(segments: &mut BTreeMap<u32, Target>, lo: u32, hi: u32, t: Target) {
    let after = if hi < u32::MAX {
        Some(
            *segments
                .range(..=hi + 1)
                .next_back()
                .expect("segments start at 0")
                .1,
        )
    } else {
        None
    };
    let inside: Vec<u32> = segments.range(lo..=hi).map(|(k, _)| *k).collect();
    for k in inside {
        segments.remove(&k);
    }
    segments.insert(lo, t);
    if let Some(after) = after {
        segments.entry(hi + 1).or_insert(after);
    }
}

/// The intervals of one audit arch, merged: `(first number, target)`, sorted, starting at 0.
fn intervals(plan: &Plan, abis: &[Abi]) -> Vec<(u32, Target)> {
    let mut seg = BTreeMap::from([(0u32, Target::Ret(RET_BAD_ARCH))]);
    for abi in abis {
        let (lo, hi) = abi.nr_range();
        paint(&mut seg, lo, hi, Target::Ret(plan.default));
        let r = &plan.rules[abi];
        if let (true, true, Some(max)) = (plan.enosys_stub, r.listed, r.max_named) {
            if max < hi {
                paint(&mut seg, max + 1, hi, Target::Ret(RET_ENOSYS));
            }
        }
        for (nr, d) in &r.syscalls {
            let t = match d {
                Decision::Always(ret) => Target::Ret(*ret),
                Decision::Chain(_) => Target::Chain(*nr),
            };
            paint(&mut seg, *nr, *nr, t);
        }
    }
    // libseccomp exempts nr -1 (a tracer skipping the syscall) from the x32 bad-arch check.
    if abis.contains(&Abi::X86_64) && !abis.contains(&Abi::X32) {
        paint(&mut seg, u32::MAX, u32::MAX, Target::Ret(plan.default));
    }
    let mut out: Vec<(u32, Target)> = Vec::with_capacity(seg.len());
    for (k, t) in seg {
        if out.last().map(|l| l.1) != Some(t) {
            out.push((k, t));
        }
    }
    out
}

/// Generates the program. Errors only if it is too long for the kernel.
pub(super) fn generate(plan: &Plan) -> Result<Vec<Insn>, SeccompError> {
    // Group ABIs by audit arch (x86_64 and x32 share one), native group first.
    let mut groups: Vec<(u32, Vec<Abi>)> = Vec::new();
    for abi in &plan.abis {
        match groups.iter_mut().find(|g| g.0 == abi.audit_arch()) {
            Some(g) => g.1.push(*abi),
            None => groups.push((abi.audit_arch(), vec![*abi])),
        }
    }

    let mut asm = Asm::new();
    asm.ret(RET_BAD_ARCH);
    let mut entries: Vec<(u32, Label)> = Vec::new();
    for (audit, abis) in groups.iter().rev() {
        // Chains first: they sit after the search tree.
        let mut chains: BTreeMap<u32, Label> = BTreeMap::new();
        for abi in abis {
            for (nr, d) in plan.rules[abi].syscalls.iter().rev() {
                if let Decision::Chain(rules) = d {
                    chains.insert(
                        *nr,
                        emit_chain(&mut asm, rules, plan.default, abi.args_64bit()),
                    );
                }
            }
        }
        let iv = intervals(plan, abis);
        let tree = emit_tree(&mut asm, &iv, &chains);
        // The tree's first instruction must directly follow the load.
        asm.goto(tree);
        entries.push((*audit, asm.load(bpf::DATA_NR)));
    }
    let mut next = asm.ret(RET_BAD_ARCH);
    for (audit, label) in &entries {
        next = asm.jump(Jmp::Eq, *audit, *label, next);
    }
    let entry = asm.load(bpf::DATA_ARCH);
    let prog = asm.finish(entry);
    if prog.len() > bpf::MAX_INSNS {
        return Err(SeccompError::TooLarge(prog.len()));
    }
    Ok(prog)
}

/// How many single-number exceptions a leaf tests with `jeq` before the search splits instead.
const LEAF_SINGLES: usize = 4;

fn resolve(asm: &mut Asm, t: Target, chains: &BTreeMap<u32, Label>) -> Label {
    match t {
        Target::Ret(k) => asm.ret(k),
        Target::Chain(nr) => chains[&nr],
    }
}

/// If every interval of `iv` but a few single numbers shares one target, that target and the singles.
fn background(iv: &[(u32, Target)]) -> Option<(Target, Vec<(u32, Target)>)> {
    let is_single = |i: usize| i + 1 < iv.len() && iv[i + 1].0 == iv[i].0.wrapping_add(1);
    let mut bg = None;
    for (i, (_, t)) in iv.iter().enumerate() {
        if !is_single(i) {
            match bg {
                None => bg = Some(*t),
                Some(b) if b != *t => return None,
                Some(_) => {}
            }
        }
    }
    let bg = bg?;
    let singles: Vec<(u32, Target)> = iv
        .iter()
        .enumerate()
        .filter(|(i, (_, t))| is_single(*i) && *t != bg)
        .map(|(_, x)| *x)
        .collect();
    Some((bg, singles))
}

/// A binary search over interval starts. Leaves are an interval's target (no instruction), or a
/// background target with a few `jeq` exceptions, the way libseccomp tests syscalls one by one.
fn emit_tree(asm: &mut Asm, iv: &[(u32, Target)], chains: &BTreeMap<u32, Label>) -> Label {
    if iv.len() == 1 {
        return resolve(asm, iv[0].1, chains);
    }
    if let Some((bg, singles)) = background(iv) {
        if singles.len() <= LEAF_SINGLES {
            let mut next = resolve(asm, bg, chains);
            for (nr, t) in singles.iter().rev() {
                let target = resolve(asm, *t, chains);
                next = asm.jump(Jmp::Eq, *nr, target, next);
            }
            return next;
        }
    }
    let mid = iv.len() / 2;
    let right = emit_tree(asm, &iv[mid..], chains);
    let left = emit_tree(asm, &iv[..mid], chains);
    asm.jump(Jmp::Ge, iv[mid].0, right, left)
}

/// Rules tried in order; the default action when none matches.
fn emit_chain(asm: &mut Asm, rules: &[Rule], default: u32, args64: bool) -> Label {
    let mut next = asm.ret(default);
    for rule in rules.iter().rev() {
        let mut l = asm.ret(rule.action);
        for c in rule.conds.iter().rev() {
            l = emit_cond(asm, c, l, next, args64);
        }
        next = l;
    }
    next
}

/// `if (A <op> k) goto t; else goto f;` where A holds the word at `offset`: a target that would load
/// that word again is entered after its load. Writes nothing when both targets are the same place.
fn jump_at(asm: &mut Asm, op: Jmp, k: u32, t: Label, f: Label, offset: u32) -> Label {
    if t == f {
        return t;
    }
    let (ts, fs) = (asm.skip_reload(t, offset), asm.skip_reload(f, offset));
    if ts == fs {
        return t;
    }
    asm.jump(op, k, ts, fs)
}

/// Compares A (the word at `offset`) with `k`: goto `t` if `op` holds, else `f`.
fn cmp32(
    asm: &mut Asm,
    op: LinuxSeccompOperator,
    k: u32,
    t: Label,
    f: Label,
    offset: u32,
) -> Label {
    use LinuxSeccompOperator as O;
    match op {
        O::ScmpCmpEq | O::ScmpCmpMaskedEq => jump_at(asm, Jmp::Eq, k, t, f, offset),
        O::ScmpCmpNe => jump_at(asm, Jmp::Eq, k, f, t, offset),
        O::ScmpCmpGt => jump_at(asm, Jmp::Gt, k, t, f, offset),
        O::ScmpCmpGe => jump_at(asm, Jmp::Ge, k, t, f, offset),
        O::ScmpCmpLt => jump_at(asm, Jmp::Ge, k, f, t, offset),
        O::ScmpCmpLe => jump_at(asm, Jmp::Gt, k, f, t, offset),
    }
}

/// `(A & mask) == (datum & mask)` on one 32-bit word loaded from `offset`.
fn masked_word(asm: &mut Asm, offset: u32, mask: u32, datum: u32, t: Label, f: Label) -> Label {
    // libseccomp masks the datum too: bits of valueTwo outside the mask do not matter.
    let datum = datum & mask;
    if mask == 0 {
        return t; // always equal
    }
    let j = asm.jump(Jmp::Eq, datum, t, f);
    if j == t || j == f {
        return j;
    }
    if mask != u32::MAX {
        asm.and(mask);
    }
    asm.load(offset)
}

/// Emits one argument condition: goto `t` if it holds, else `f`. Returns its entry, which loads what it
/// compares (so it is valid whatever A holds).
fn emit_cond(asm: &mut Asm, c: &Cond, t: Label, f: Label, args64: bool) -> Label {
    use LinuxSeccompOperator as O;
    let (lo_off, hi_off) = (bpf::data_arg_lo(c.index), bpf::data_arg_hi(c.index));
    let (vl, vh) = (c.value as u32, (c.value >> 32) as u32);
    if c.op == O::ScmpCmpMaskedEq {
        let (dl, dh) = (c.value_two as u32, (c.value_two >> 32) as u32);
        let lo = masked_word(asm, lo_off, vl, dl, t, f);
        return if args64 {
            masked_word(asm, hi_off, vh, dh, lo, f)
        } else {
            lo
        };
    }
    let mark = asm.len();
    let cmp = cmp32(asm, c.op, vl, t, f, lo_off);
    let lo = if asm.len() == mark {
        cmp
    } else {
        asm.load(lo_off)
    };
    if !args64 {
        return lo;
    }
    // High words decide unless they are equal; then the low words do.
    let mark = asm.len();
    let hi = match c.op {
        O::ScmpCmpEq => jump_at(asm, Jmp::Eq, vh, lo, f, hi_off),
        O::ScmpCmpNe => jump_at(asm, Jmp::Eq, vh, lo, t, hi_off),
        O::ScmpCmpGt | O::ScmpCmpGe => {
            let eq = jump_at(asm, Jmp::Eq, vh, lo, f, hi_off);
            jump_at(asm, Jmp::Gt, vh, t, eq, hi_off)
        }
        O::ScmpCmpLt | O::ScmpCmpLe => {
            let eq = jump_at(asm, Jmp::Eq, vh, lo, t, hi_off);
            jump_at(asm, Jmp::Gt, vh, f, eq, hi_off)
        }
        O::ScmpCmpMaskedEq => unreachable!("handled above"),
    };
    if asm.len() == mark {
        hi
    } else {
        asm.load(hi_off)
    }
}

#[cfg(test)]
mod tests {
    use super::super::arch::AUDIT_ARCH_AARCH64;
    use super::super::interp::{run, Data};
    use super::*;

    /// Runs on any host: an aarch64 profile judged with the asm-generic numbers.
    #[test]
    fn aarch64_profile() {
        let p: LinuxSeccomp = serde_json::from_str(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"architectures":["SCMP_ARCH_AARCH64","SCMP_ARCH_ARM"],
                "syscalls":[{"names":["read","write","openat","newfstatat","exit_group","clone3"],"action":"SCMP_ACT_ALLOW"},
                {"names":["mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":2,"value":511,"op":"SCMP_CMP_EQ"}]},
                {"names":["open","mkdir"],"action":"SCMP_ACT_ALLOW"}]}"#,
        )
        .unwrap();
        let planned = plan(&p);
        if cfg!(target_arch = "aarch64") {
            // SCMP_ARCH_ARM is skipped with a warning on aarch64.
            planned.as_ref().unwrap();
        } else {
            // Elsewhere ARM is not a compat arch of the host: an error naming the field.
            let e = planned.unwrap_err().to_string();
            assert!(
                e.starts_with("linux.seccomp.architectures[1]: SCMP_ARCH_ARM"),
                "{e}"
            );
        }
        let p: LinuxSeccomp = serde_json::from_str(
            &serde_json::to_string(&p)
                .unwrap()
                .replace(r#","SCMP_ARCH_ARM""#, ""),
        )
        .unwrap();
        let prog = generate(&plan(&p).unwrap()).unwrap();
        let v = |nr: u32, args: &[u64]| run(&prog, &Data::new(AUDIT_ARCH_AARCH64, nr, args));
        assert_eq!(v(63, &[]), libc::SECCOMP_RET_ALLOW, "read");
        assert_eq!(v(79, &[]), libc::SECCOMP_RET_ALLOW, "newfstatat");
        assert_eq!(
            v(34, &[0, 0, 511]),
            libc::SECCOMP_RET_ERRNO | 13,
            "mkdirat 0777"
        );
        assert_eq!(
            v(34, &[0, 0, 0x1_0000_01ff]),
            libc::SECCOMP_RET_ERRNO | 38,
            "64-bit compare"
        );
        assert_eq!(v(435, &[]), libc::SECCOMP_RET_ALLOW, "clone3");
        assert_eq!(v(436, &[]), RET_ENOSYS, "newer than the profile");
        assert_eq!(v(80, &[]), libc::SECCOMP_RET_ERRNO | 38, "fstat: default");
        assert_eq!(
            run(&prog, &Data::new(0x4000_0028, 3, &[])),
            RET_BAD_ARCH,
            "arm"
        );
    }

    #[test]
    fn paint_keeps_a_partition() {
        let mut seg = BTreeMap::from([(0u32, Target::Ret(0))]);
        paint(&mut seg, 10, 20, Target::Ret(1));
        paint(&mut seg, 15, u32::MAX, Target::Ret(2));
        paint(&mut seg, 0, 0, Target::Chain(0));
        let v: Vec<_> = seg.into_iter().collect();
        assert_eq!(
            v,
            [
                (0, Target::Chain(0)),
                (1, Target::Ret(0)),
                (10, Target::Ret(1)),
                (15, Target::Ret(2))
            ]
        );
    }
}
