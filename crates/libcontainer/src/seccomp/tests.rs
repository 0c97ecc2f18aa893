//! Tests of the seccomp compiler: verdicts through the BPF interpreter against a reference model and runc's
//! own filter, config errors, and real filters installed in forked children.

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
    profile(include_str!("testdata/podman-default.json"))
}

/// Verdict of `f` for a syscall.
fn verdict(f: &CompiledFilter, arch: u32, nr: u32, args: &[u64]) -> u32 {
    run(f.program(), &Data::new(arch, nr, args))
}

fn nr(abi: Abi, name: &str) -> u32 {
    abi.resolve(name)
        .unwrap_or_else(|| panic!("{abi:?} has no {name}"))
}

// ---------------------------------------------------------------- actions ----------------------

#[test]
fn every_action_and_its_return_value() {
    let cases = [
        (r#""SCMP_ACT_KILL""#, libc::SECCOMP_RET_KILL_THREAD),
        (r#""SCMP_ACT_KILL_THREAD""#, libc::SECCOMP_RET_KILL_THREAD),
        (r#""SCMP_ACT_KILL_PROCESS""#, libc::SECCOMP_RET_KILL_PROCESS),
        (r#""SCMP_ACT_TRAP""#, libc::SECCOMP_RET_TRAP),
        (r#""SCMP_ACT_ERRNO""#, errno(1)),
        (r#""SCMP_ACT_ERRNO","errnoRet":13"#, errno(13)),
        (r#""SCMP_ACT_TRACE""#, libc::SECCOMP_RET_TRACE | 1),
        (
            r#""SCMP_ACT_TRACE","errnoRet":7"#,
            libc::SECCOMP_RET_TRACE | 7,
        ),
        (r#""SCMP_ACT_LOG""#, libc::SECCOMP_RET_LOG),
        (r#""SCMP_ACT_NOTIFY""#, libc::SECCOMP_RET_USER_NOTIF),
    ];
    for (action, want) in cases {
        let f = compiled(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock",
                "syscalls":[{{"names":["getppid"],"action":{action}}}]}}"#
        ));
        assert_eq!(
            verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]),
            want,
            "{action}"
        );
        assert_eq!(
            verdict(&f, X86_64, nr(Abi::X86_64, "getpid"), &[]),
            ALLOW,
            "{action}"
        );
        assert_eq!(f.needs_listener(), action.contains("NOTIFY"));
    }
    // Default actions, with and without defaultErrnoRet.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getpid"), &[]),
        errno(1)
    );
    let f = compiled(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38}"#);
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]),
        errno(38)
    );
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getpid"), &[]),
        libc::SECCOMP_RET_KILL_PROCESS
    );
    assert_eq!(verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]), ALLOW);
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

// ---------------------------------------------------------------- operators --------------------

#[test]
fn operators_on_64_and_32_bit_abis() {
    let ops = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"];
    for op in ops {
        for &value in &EDGES {
            for &value_two in &[0u64, 1, 0xffff_ffff, 0x1_0000_0000, 0xffff_ffff_0000_0001] {
                let json = format!(
                    r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
                        "syscalls":[{{"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":5,
                        "args":[{{"index":1,"value":{value},"valueTwo":{value_two},"op":"SCMP_CMP_{op}"}}]}}]}}"#
                );
                let p = profile(&json);
                let f = compile(&p).unwrap();
                for (arch, nr) in [
                    (X86_64, nr(Abi::X86_64, "ioctl")),
                    (I386, nr(Abi::X86, "ioctl")),
                    (X86_64, nr(Abi::X32, "ioctl")),
                ] {
                    for &arg in &EDGES {
                        let d = Data::new(arch, nr, &[7, arg]);
                        assert_eq!(run(f.program(), &d), model(&p, &d), "{op} value={value:#x} value2={value_two:#x} arg={arg:#x} arch={arch:#x} nr={nr:#x}");
                    }
                }
                if op != "MASKED_EQ" {
                    break; // valueTwo only matters for MASKED_EQ
                }
            }
        }
    }
}

#[test]
fn compares_use_both_halves_on_x86_64_and_the_low_half_on_i386() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
            {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let p64 = nr(Abi::X86_64, "personality");
    let p32 = nr(Abi::X86, "personality");
    assert_eq!(verdict(&f, X86_64, p64, &[0xffff_ffff]), ALLOW);
    assert_eq!(verdict(&f, X86_64, p64, &[0x1_ffff_ffff]), errno(1));
    assert_eq!(verdict(&f, I386, p32, &[0xffff_ffff]), ALLOW);
    assert_eq!(
        verdict(&f, I386, p32, &[0x1_ffff_ffff]),
        ALLOW,
        "i386 arguments are 32-bit"
    );
    // GT across the halves.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mmap"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":4294967296,"op":"SCMP_CMP_GT"}]}]}"#,
    );
    let mmap = nr(Abi::X86_64, "mmap");
    assert_eq!(verdict(&f, X86_64, mmap, &[0, 0x1_0000_0000]), ALLOW);
    assert_eq!(verdict(&f, X86_64, mmap, &[0, 0x1_0000_0001]), errno(1));
    assert_eq!(verdict(&f, X86_64, mmap, &[0, 0x2_0000_0000]), errno(1));
    assert_eq!(verdict(&f, X86_64, mmap, &[0, 0xffff_ffff]), ALLOW);
}

// ---------------------------------------------------------------- rule combination -------------

#[test]
fn rules_or_args_and() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":22,
             "args":[{"index":0,"value":16,"op":"SCMP_CMP_EQ"},{"index":2,"value":9,"op":"SCMP_CMP_EQ"}]},
            {"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":97,"args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let s = nr(Abi::X86_64, "socket");
    assert_eq!(
        verdict(&f, X86_64, s, &[16, 3, 9]),
        errno(22),
        "both args match"
    );
    assert_eq!(
        verdict(&f, X86_64, s, &[16, 3, 0]),
        ALLOW,
        "one arg of two: AND fails"
    );
    assert_eq!(verdict(&f, X86_64, s, &[2, 3, 9]), ALLOW);
    assert_eq!(
        verdict(&f, X86_64, s, &[40, 1, 0]),
        errno(97),
        "second rule: OR"
    );
}

#[test]
fn unconditional_rule_wins_whatever_the_order_like_libseccomp() {
    for order in [[0, 1], [1, 0]] {
        let rules = [
            r#"{"names":["setns"],"action":"SCMP_ACT_ALLOW"}"#,
            r#"{"names":["setns"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":1073741824,"op":"SCMP_CMP_EQ"}]}"#,
        ];
        let f = compiled(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{},{}]}}"#,
            rules[order[0]], rules[order[1]]
        ));
        let setns = nr(Abi::X86_64, "setns");
        assert_eq!(verdict(&f, X86_64, setns, &[3, 0]), ALLOW);
        assert_eq!(verdict(&f, X86_64, setns, &[3, 0x4000_0000]), ALLOW);
    }
    // Two unconditional rules: the first one counts.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":20},
            {"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":30}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]),
        errno(20)
    );
}

#[test]
fn rule_with_the_default_action_is_dropped() {
    // The ERRNO(1) rule with args equals the default: dropped, so setns with those args is still allowed
    // (podman names setns twice like this).
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["setns"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]},
            {"names":["setns"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "setns"), &[3, 0]),
        ALLOW
    );
    // A different errno is a different action: kept.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":2},{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]),
        errno(2)
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getpid"), &[]),
        errno(1)
    );
}

#[test]
fn two_conditions_on_one_argument_become_separate_rules_like_runc() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO",
            "args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"},{"index":0,"value":16,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let p = nr(Abi::X86_64, "personality");
    assert_eq!(verdict(&f, X86_64, p, &[8]), errno(1));
    assert_eq!(verdict(&f, X86_64, p, &[16]), errno(1));
    assert_eq!(verdict(&f, X86_64, p, &[0]), ALLOW);
}

#[test]
fn unknown_names_are_skipped() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["no_such_syscall","getppid","arm_fadvise64_64"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "getppid"), &[]),
        errno(1)
    );
    assert_eq!(verdict(&f, X86_64, nr(Abi::X86_64, "getpid"), &[]), ALLOW);
}

// ---------------------------------------------------------------- architectures ----------------

#[test]
fn i386_socketcall_and_ipc_get_the_rules_of_their_calls_like_libseccomp() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
            {"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":97,"args":[{"index":0,"value":10,"op":"SCMP_CMP_EQ"}]},
            {"names":["connect","shmget","accept"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    );
    let (socketcall, ipc) = (nr(Abi::X86, "socketcall"), nr(Abi::X86, "ipc"));
    assert_eq!(verdict(&f, I386, nr(Abi::X86, "socket"), &[10]), errno(97));
    assert_eq!(verdict(&f, I386, nr(Abi::X86, "socket"), &[2]), ALLOW);
    // The arguments are behind socketcall's pointer: the call number alone decides.
    assert_eq!(verdict(&f, I386, socketcall, &[1, 0x1000]), errno(97));
    assert_eq!(verdict(&f, I386, socketcall, &[3, 0x1000]), errno(1));
    assert_eq!(
        verdict(&f, I386, socketcall, &[5, 0x1000]),
        errno(1),
        "accept"
    );
    assert_eq!(verdict(&f, I386, socketcall, &[2, 0x1000]), ALLOW);
    assert_eq!(verdict(&f, I386, ipc, &[23]), errno(1));
    assert_eq!(verdict(&f, I386, ipc, &[21]), ALLOW);
    assert_eq!(
        verdict(&f, X86_64, nr(Abi::X86_64, "socket"), &[1]),
        ALLOW,
        "not on x86_64"
    );
    // An unconditional socketcall rule wins over the multiplexed ones.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[
            {"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":97},{"names":["socketcall"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(verdict(&f, I386, socketcall, &[1]), ALLOW);
}

#[test]
fn each_abi_uses_its_own_numbers() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
            "syscalls":[{"names":["mkdir","_llseek"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    );
    assert_eq!(verdict(&f, X86_64, 83, &[]), errno(13), "x86_64 mkdir");
    assert_eq!(verdict(&f, X86_64, 39, &[]), ALLOW, "x86_64 39 is getpid");
    assert_eq!(verdict(&f, I386, 39, &[]), errno(13), "i386 mkdir");
    assert_eq!(verdict(&f, I386, 83, &[]), ALLOW, "i386 83 is symlink");
    assert_eq!(verdict(&f, I386, 140, &[]), errno(13), "i386-only _llseek");
    assert_eq!(
        verdict(&f, X86_64, X32_SYSCALL_BIT | 83, &[]),
        errno(13),
        "x32 mkdir"
    );
    assert_eq!(verdict(&f, X86_64, X32_SYSCALL_BIT | 39, &[]), ALLOW);
    assert_eq!(
        verdict(&f, AUDIT_ARCH_AARCH64, 34, &[]),
        libc::SECCOMP_RET_KILL_THREAD,
        "unlisted arch"
    );
    assert_eq!(
        verdict(&f, 0x4000_0028, 1, &[]),
        libc::SECCOMP_RET_KILL_THREAD,
        "ARM"
    );
}

#[test]
fn unlisted_x32_and_i386_get_the_bad_arch_action() {
    // Only the native ABI: x32 numbers (bit 30) and int 0x80 calls are killed, as with libseccomp.
    let f = compiled(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    assert_eq!(verdict(&f, X86_64, 1, &[]), ALLOW);
    assert_eq!(
        verdict(&f, X86_64, X32_SYSCALL_BIT | 1, &[]),
        libc::SECCOMP_RET_KILL_THREAD
    );
    assert_eq!(verdict(&f, I386, 4, &[]), libc::SECCOMP_RET_KILL_THREAD);
    // Listing aarch64 on x86_64 is harmless: it compiles its own table.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_AARCH64"],"syscalls":[{"names":["mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(verdict(&f, AUDIT_ARCH_AARCH64, 34, &[]), errno(1));
    assert_eq!(verdict(&f, X86_64, 258, &[]), errno(1));
}

#[test]
fn newer_syscalls_than_the_profile_get_enosys_like_runc() {
    // runc adds its stub only for the arches `architectures` lists.
    let unlisted = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","clone"],"action":"SCMP_ACT_ALLOW"}]}"#;
    assert_eq!(verdict(&compiled(unlisted), X86_64, 57, &[]), errno(1));
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],
            "syscalls":[{"names":["read","write","clone"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(
        verdict(&f, X86_64, 56, &[]),
        ALLOW,
        "clone (56) is the newest named"
    );
    assert_eq!(
        verdict(&f, X86_64, 40, &[]),
        errno(1),
        "older unnamed: default"
    );
    assert_eq!(
        verdict(&f, X86_64, 57, &[]),
        errno(38),
        "newer unnamed: ENOSYS"
    );
    assert_eq!(verdict(&f, X86_64, 435, &[]), errno(38));
    // Not with a permissive default.
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(verdict(&f, X86_64, 435, &[]), ALLOW);
    // clone3 named with ERRNO 38 in a default-deny profile (the usual way to make glibc fall back to clone).
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":38},{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(verdict(&f, X86_64, 435, &[]), errno(38));
    assert_eq!(verdict(&f, X86_64, 434, &[]), errno(1));
}

// ---------------------------------------------------------------- podman's profile -------------

#[test]
fn podman_profile_sample_verdicts() {
    let f = compile(&podman()).unwrap();
    let x = |name: &str, args: &[u64]| verdict(&f, X86_64, nr(Abi::X86_64, name), args);
    assert_eq!(x("setns", &[3, 0]), ALLOW);
    assert_eq!(x("setns", &[3, 0x4000_0000]), ALLOW);
    assert_eq!(x("read", &[]), ALLOW);
    // This profile (as podman wrote it into config.json) allows unshare, mount, keyctl and ptrace; runc's
    // filter does the same. add_key is not listed: default ENOSYS.
    for name in ["unshare", "mount", "keyctl", "ptrace", "clone", "clone3"] {
        assert_eq!(x(name, &[]), ALLOW, "{name}");
    }
    assert_eq!(x("add_key", &[]), errno(38));
    assert_eq!(x("kexec_load", &[]), errno(1));
    assert_eq!(x("open_by_handle_at", &[]), errno(1));
    assert_eq!(x("bpf", &[]), errno(1));
    assert_eq!(x("init_module", &[]), errno(1));
    assert_eq!(x("personality", &[0]), ALLOW);
    assert_eq!(x("personality", &[8]), ALLOW);
    assert_eq!(x("personality", &[0x20008]), ALLOW);
    assert_eq!(x("personality", &[0xffff_ffff]), ALLOW);
    assert_eq!(x("personality", &[1]), errno(38));
    assert_eq!(x("personality", &[0x1_0000_0000]), errno(38));
    assert_eq!(
        x("socket", &[16, 3, 9]),
        errno(22),
        "AF_NETLINK NETLINK_AUDIT"
    );
    assert_eq!(x("socket", &[16, 3, 0]), ALLOW);
    assert_eq!(x("socket", &[2, 1, 9]), ALLOW);
    assert_eq!(x("mseal", &[]), errno(38));
    assert_eq!(x("listns", &[]), errno(38));
    assert_eq!(verdict(&f, I386, nr(Abi::X86, "socketcall"), &[1]), ALLOW);
    assert_eq!(verdict(&f, I386, nr(Abi::X86, "_llseek"), &[]), ALLOW);
    assert_eq!(
        verdict(&f, I386, nr(Abi::X86, "socket"), &[16, 3, 9]),
        errno(22)
    );
    assert_eq!(
        verdict(&f, X86_64, X32_SYSCALL_BIT | 512, &[]),
        ALLOW,
        "x32 rt_sigaction"
    );
    assert_eq!(
        verdict(&f, X86_64, X32_SYSCALL_BIT | 13, &[]),
        errno(38),
        "x86_64-only number under x32"
    );
    assert_eq!(verdict(&f, AUDIT_ARCH_AARCH64, 1, &[]), 0);
}

/// Compares brig's filter with the one runc 1.1.5 loaded for the same profile (read back from a runc
/// container): same verdict for every syscall number of every ABI (and out-of-table numbers), with
/// argument values that exercise each rule. Returns how many verdicts were compared.
fn assert_same_as_runc(
    p: &LinuxSeccomp,
    runc_dump: &str,
    arg_sets: &[&[u64]],
    unknown_to_libseccomp: &[(u32, u32)],
) -> usize {
    let runc = parse_dump(runc_dump);
    let f = compile(p).unwrap();
    // Syscalls a rule names (directly or through i386 socketcall/ipc) get every argument set; the
    // others cannot depend on arguments, so a few sets are enough.
    let mut named = std::collections::HashSet::new();
    for sc in p.syscalls().iter().flatten() {
        for name in sc.names() {
            for abi in Abi::ALL {
                named.extend(abi.resolve(name).map(|n| (abi.audit_arch(), n)));
                named.extend(abi.multiplexed(name).map(|(n, _)| (abi.audit_arch(), n)));
            }
        }
    }
    let mut checked = 0;
    let mut diffs = Vec::new();
    let arches = [
        (X86_64, 0),
        (X86_64, X32_SYSCALL_BIT),
        (I386, 0),
        (AUDIT_ARCH_AARCH64, 0),
        (0x4000_0028, 0),
    ];
    for (arch, lo) in arches {
        for n in (lo..lo + 600).chain([lo + 1000, lo + 0x3fff_ffff, 0x8000_0000, u32::MAX]) {
            if unknown_to_libseccomp.contains(&(arch, n)) {
                continue;
            }
            let sets = if named.contains(&(arch, n)) {
                arg_sets
            } else {
                &arg_sets[..arg_sets.len().min(4)]
            };
            for args in sets {
                let d = Data::new(arch, n, args);
                let (ours, theirs) = (run(f.program(), &d), run(&runc, &d));
                checked += 1;
                if ours != theirs {
                    diffs.push(format!(
                        "arch {arch:#x} nr {n:#x} args {args:x?}: brig {ours:#x} runc {theirs:#x}"
                    ));
                }
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {checked} verdicts differ from runc:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    eprintln!(
        "compared {checked} verdicts with runc's filter ({} insns, brig {}): all equal",
        runc.len(),
        f.instructions()
    );
    checked
}

#[test]
fn podman_profile_matches_runc_filter() {
    let arg_sets: [&[u64]; 9] = [
        &[],
        &[16, 3, 9],
        &[16, 3, 0],
        &[2, 1, 9],
        &[8],
        &[0x20000],
        &[0xffff_ffff],
        &[0x1_ffff_ffff, 0x4000_0000],
        &[u64::MAX, u64::MAX, u64::MAX],
    ];
    let podman_bpf = include_str!("testdata/runc-podman-default.bpf");
    assert_same_as_runc(&podman(), podman_bpf, &arg_sets, &[]);
}

/// Default ERRNO(EPERM) (so runc's ENOSYS stub differs from the default), every action, MASKED_EQ on
/// clone flags, 64-bit LT/GE/GT/LE, two conditions on one argument, a rule equal to the default.
#[test]
fn eperm_profile_matches_runc_filter() {
    let p = profile(include_str!("testdata/runc-eperm-profile.json"));
    let mut arg_sets: Vec<Vec<u64>> = vec![vec![]];
    for a0 in [
        0u64,
        8,
        38,
        0x7e02_0000,
        0x1000_0000,
        0x0100_0000 | 17,
        0x1_0000_0000,
    ] {
        for a1 in [
            0u64,
            0x4000_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0x2_0000_0000,
            0x2_0000_0001,
        ] {
            for a2 in [0u64, 1, 2, 3, 4, 5, 0x1_0000_0001] {
                arg_sets.push(vec![a0, a1, a2]);
            }
        }
    }
    let refs: Vec<&[u64]> = arg_sets.iter().map(|v| v.as_slice()).collect();
    // The profile allows uretprobe (335, Linux 6.11), which libseccomp 2.5.4 does not know: runc drops
    // the rule and gives EPERM, brig allows it as the profile says.
    let uretprobe = [(X86_64, 335), (X86_64, X32_SYSCALL_BIT | 335)];
    let d = Data::new(X86_64, 335, &[]);
    assert_eq!(run(compile(&p).unwrap().program(), &d), ALLOW);
    let n = assert_same_as_runc(
        &p,
        include_str!("testdata/runc-eperm.bpf"),
        &refs,
        &uretprobe,
    );
    assert!(n > 20_000, "{n}");
}

/// Default ALLOW, native arch only: x32 numbers and i386 calls hit libseccomp's bad-arch action.
#[test]
fn native_allow_profile_matches_runc_filter() {
    let p = profile(include_str!("testdata/runc-native-allow-profile.json"));
    let arg_sets: [&[u64]; 5] = [&[], &[10], &[2], &[0x1000_0000], &[0x1_1000_0000]];
    let bpf = include_str!("testdata/runc-native-allow.bpf");
    assert_same_as_runc(&p, bpf, &arg_sets, &[]);
}

/// i386 socketcall/ipc multiplexing, checked against runc rather than only against the model.
#[test]
fn i386_mux_profile_matches_runc_filter() {
    let p = profile(include_str!("testdata/runc-i386-mux-profile.json"));
    let mut arg_sets: Vec<Vec<u64>> = vec![vec![]];
    for a0 in 0..26u64 {
        arg_sets.push(vec![a0, 0x1000]);
    }
    arg_sets.push(vec![10, 1, 0]);
    let refs: Vec<&[u64]> = arg_sets.iter().map(|v| v.as_slice()).collect();
    let bpf = include_str!("testdata/runc-i386-mux.bpf");
    assert_same_as_runc(&p, bpf, &refs, &[]);
}

/// Default ERRNO, no `architectures`: runc adds no -ENOSYS stub (it only does for listed arches), and
/// nr -1 is not an x32 number.
#[test]
fn native_eperm_profile_matches_runc_filter() {
    let p = profile(include_str!("testdata/runc-native-eperm-profile.json"));
    let arg_sets: [&[u64]; 3] = [&[], &[0x7e02_0000], &[8, 0x1_0000_0000]];
    let uretprobe = [(X86_64, 335)];
    let bpf = include_str!("testdata/runc-native-eperm.bpf");
    assert_same_as_runc(&p, bpf, &arg_sets, &uretprobe);
}

/// The size of podman's default profile, for the docs. runc 1.1.5 + libseccomp 2.5.4 emit 1158 instructions.
/// Also the instructions executed per syscall (x86_64, numbers 0..=470), brig against runc.
#[test]
fn podman_profile_instruction_count() {
    let f = compile(&podman()).unwrap();
    let runc = parse_dump(include_str!("testdata/runc-podman-default.bpf"));
    let steps = |prog: &[libc::sock_filter]| {
        let s: Vec<usize> = (0..=470)
            .map(|n| super::interp::run_counted(prog, &Data::new(X86_64, n, &[0; 6])).1)
            .collect();
        (
            s.iter().sum::<usize>() as f64 / s.len() as f64,
            *s.iter().max().unwrap(),
        )
    };
    let (ours, theirs) = (steps(f.program()), steps(&runc));
    eprintln!(
        "podman default profile: brig {} BPF instructions, {:.1} avg / {} max executed per x86_64 syscall; \
         runc 1.1.5 / libseccomp 2.5.4: {} instructions, {:.1} avg / {} max",
        f.instructions(),
        ours.0,
        ours.1,
        runc.len(),
        theirs.0,
        theirs.1
    );
    assert!(f.instructions() <= 350, "{} instructions", f.instructions());
    assert!(ours.1 <= 20, "{} instructions executed at most", ours.1);
}

// ---------------------------------------------------------------- config errors ----------------

fn compile_err(json: &str) -> String {
    compile(&profile(json))
        .expect_err("profile must be rejected")
        .to_string()
}

#[test]
fn config_errors_name_the_field() {
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#),
        "linux.seccomp.syscalls[1].args[1].index: argument index 6 is out of range (a syscall has arguments 0 to 5)"
    );
    assert_eq!(
        compile_err(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#
        ),
        "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"
    );
    assert_eq!(
        compile_err(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/a","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_NOTIFY"}]}"#
        ),
        "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall"
    );
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/a"}"#),
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"
    );
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_MIPS"]}"#),
        "linux.seccomp.architectures[1]: SCMP_ARCH_MIPS is not supported (brig knows SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 and SCMP_ARCH_AARCH64)"
    );
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}"#),
        "linux.seccomp.defaultErrnoRet: 70000 does not fit in the 16 data bits of a seccomp return value"
    );
    assert_eq!(
        compile_err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_TRACE","errnoRet":65536}]}"#),
        "linux.seccomp.syscalls[0].errnoRet: 65536 does not fit in the 16 data bits of a seccomp return value"
    );
    assert_eq!(
        compile_err(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read",""],"action":"SCMP_ACT_ERRNO"}]}"#
        ),
        "linux.seccomp.syscalls[0].names[1]: empty syscall name"
    );
}

#[test]
fn flags() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
    );
    // TSYNC ignored, WAIT_KILLABLE_RECV dropped without a NOTIFY rule.
    assert_eq!(
        f.flags(),
        libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    );
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/a","flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],"syscalls":[{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert_eq!(f.flags(), libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    assert!(format!("{f:?}").contains("WAIT_KILLABLE_RECV"));
}

#[test]
fn features_lists_what_brig_knows_and_the_kernel_supports() {
    let f = features();
    assert_eq!(f.enabled(), &Some(true));
    assert_eq!(f.actions().as_ref().unwrap().len(), 9);
    assert_eq!(f.operators().as_ref().unwrap().len(), 7);
    assert!(f
        .archs()
        .as_ref()
        .unwrap()
        .contains(&oci_spec::runtime::Arch::ScmpArchX32));
    assert_eq!(f.known_flags().as_ref().unwrap().len(), 4);
    // Linux 6.18 supports all four.
    assert_eq!(f.supported_flags(), f.known_flags(), "{f:?}");
    assert!(action_available(LinuxSeccompAction::ScmpActNotify));
    assert!(action_available(LinuxSeccompAction::ScmpActKillProcess));
    let json = serde_json::to_value(&f).unwrap();
    assert!(
        json.get("supportedFlags").is_some() && json.get("knownFlags").is_some(),
        "{json}"
    );
}

// ---------------------------------------------------------------- random profiles --------------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

const NAMES: [&str; 20] = [
    "shmget",
    "ipc",
    "connect",
    "read",
    "write",
    "accept",
    "openat",
    "socket",
    "personality",
    "clone",
    "clone3",
    "mkdir",
    "_llseek",
    "socketcall",
    "rt_sigaction",
    "listns",
    "setns",
    "ioctl",
    "no_such_call",
    "uretprobe",
];
const ACTIONS: [&str; 9] = [
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];
const OPS: [&str; 7] = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"];

fn random_value(r: &mut Rng) -> u64 {
    if r.below(3) == 0 {
        r.next() >> r.below(64)
    } else {
        *r.pick(&EDGES)
    }
}

fn random_profile(r: &mut Rng) -> (String, Option<String>) {
    let mut bad = None;
    let mut rules = Vec::new();
    let nrules = r.below(12);
    for i in 0..nrules {
        let names: Vec<String> = (0..1 + r.below(3))
            .map(|_| format!("\"{}\"", r.pick(&NAMES)))
            .collect();
        let action = *r.pick(&ACTIONS);
        let errno = if r.below(2) == 0 {
            format!(",\"errnoRet\":{}", r.below(200))
        } else {
            String::new()
        };
        let mut args = Vec::new();
        for k in 0..r.below(4) {
            let mut index = r.below(6);
            if r.below(60) == 0 {
                index = 6 + r.below(10);
                bad.get_or_insert(format!("linux.seccomp.syscalls[{i}].args[{k}].index"));
            }
            args.push(format!(
                r#"{{"index":{index},"value":{},"valueTwo":{},"op":"SCMP_CMP_{}"}}"#,
                random_value(r),
                random_value(r),
                r.pick(&OPS)
            ));
        }
        rules.push(format!(
            r#"{{"names":[{}],"action":"{action}"{errno},"args":[{}]}}"#,
            names.join(","),
            args.join(",")
        ));
    }
    let archs: Vec<&str> = [
        "\"SCMP_ARCH_X86_64\"",
        "\"SCMP_ARCH_X86\"",
        "\"SCMP_ARCH_X32\"",
        "\"SCMP_ARCH_AARCH64\"",
    ]
    .into_iter()
    .filter(|_| r.below(2) == 0)
    .collect();
    let default = *r.pick(&ACTIONS[..8]);
    let json = format!(
        r#"{{"defaultAction":"{default}","defaultErrnoRet":{},"listenerPath":"/run/agent","architectures":[{}],"syscalls":[{}]}}"#,
        r.below(100),
        archs.join(","),
        rules.join(",")
    );
    (json, bad)
}

/// Random profiles never panic the compiler; malformed ones fail naming the field; valid ones produce a
/// program whose verdicts equal the model's on random syscalls, including after jump trampolines.
#[test]
fn random_profiles_compile_and_match_the_model() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut rejected) = (0, 0);
    for _ in 0..1500 {
        let (json, bad) = random_profile(&mut r);
        let p = profile(&json);
        let result = compile(&p);
        if json.contains(r#""SCMP_ACT_NOTIFY""#) && json.contains(r#""write""#) {
            // NOTIFY on write may be what gets reported first.
            if let Err(e) = &result {
                if e.to_string().contains("write syscall") {
                    rejected += 1;
                    continue;
                }
            }
        }
        match (result, bad) {
            (Err(e), Some(field)) => {
                assert!(e.to_string().starts_with(&field), "{e} should name {field}");
                rejected += 1;
            }
            (Err(e), None) => panic!("valid profile rejected: {e}\n{json}"),
            (Ok(_), Some(field)) => panic!("invalid {field} accepted\n{json}"),
            (Ok(f), None) => {
                ok += 1;
                let mut nrs: Vec<(u32, u32)> = Vec::new();
                for abi in Abi::ALL {
                    for name in NAMES {
                        if let Some(n) = abi.resolve(name) {
                            nrs.push((abi.audit_arch(), n));
                            nrs.push((abi.audit_arch(), n + 1));
                        }
                    }
                }
                for _ in 0..40 {
                    let &(arch, n) = r.pick(&nrs);
                    let args: Vec<u64> = (0..6).map(|_| random_value(&mut r)).collect();
                    let d = Data::new(arch, n, &args);
                    assert_eq!(run(f.program(), &d), model(&p, &d), "{d:x?}\n{json}");
                }
            }
        }
    }
    assert!(ok > 1000 && rejected > 10, "ok {ok} rejected {rejected}");
}

/// Many rules with arguments: long chains force trampolines; verdicts still match the model.
#[test]
fn big_profile_with_far_jumps() {
    let mut rules = Vec::new();
    for (i, (name, _)) in Abi::X86_64.table().iter().enumerate().step_by(3) {
        rules.push(format!(
            r#"{{"names":["{name}"],"action":"SCMP_ACT_ERRNO","errnoRet":{},"args":[{{"index":{},"value":{},"op":"SCMP_CMP_GE"}},{{"index":5,"value":{},"op":"SCMP_CMP_NE"}}]}}"#,
            i % 50 + 1,
            i % 5,
            (i as u64) << 20,
            i
        ));
    }
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{}]}}"#,
        rules.join(",")
    );
    let p = profile(&json);
    let f = compile(&p).unwrap();
    eprintln!("big profile: {} instructions", f.instructions());
    let mut r = Rng(42);
    for (abi, _) in [(Abi::X86_64, 0), (Abi::X86, 0), (Abi::X32, 0)] {
        for (_, n) in abi.table() {
            for _ in 0..4 {
                let args: Vec<u64> = (0..6).map(|_| random_value(&mut r)).collect();
                let d = Data::new(abi.audit_arch(), *n, &args);
                assert_eq!(run(f.program(), &d), model(&p, &d), "{abi:?} {d:x?}");
            }
        }
    }
}

// ---------------------------------------------------------------- real kernel ------------------

/// Runs `child` in a forked process and returns its exit code (or 128 + signal).
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};
    // SAFETY: the child only makes raw syscalls on memory prepared before the fork and leaves with _exit,
    // so the test harness's other threads (whose locks it may have inherited) do not matter.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = child();
            // SAFETY: _exit ends the child without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => code,
            WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
            other => panic!("unexpected wait status {other:?}"),
        },
    }
}

/// A raw syscall; returns the result or -errno.
fn sys(nr: libc::c_long, args: [u64; 3]) -> i64 {
    // SAFETY: only used with syscalls whose pointer arguments are null or point at live static data.
    let rc = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
    if rc < 0 {
        -(nix::errno::Errno::last_raw() as i64)
    } else {
        rc as i64
    }
}

#[test]
fn kernel_mkdir_denied_with_eacces() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    );
    static PATH: &[u8] = b"/tmp/brig-seccomp-test-never-created\0";
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        let r = sys(libc::SYS_mkdir, [PATH.as_ptr() as u64, 0o755, 0]);
        if r == -(libc::EACCES as i64) {
            0
        } else {
            11
        }
    });
    assert_eq!(code, 0);
    assert!(!std::path::Path::new("/tmp/brig-seccomp-test-never-created").exists());
}

#[test]
fn kernel_default_errno_38_and_flags() {
    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
            "syscalls":[{"names":["exit","exit_group","getpid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        if sys(libc::SYS_getpid, [0; 3]) <= 0 {
            return 11;
        }
        if sys(libc::SYS_getppid, [0; 3]) != -(libc::ENOSYS as i64) {
            return 12;
        }
        0
    });
    assert_eq!(code, 0);
}

#[test]
fn kernel_accepts_podman_profile_and_agrees_with_the_interpreter() {
    let f = compile(&podman()).unwrap();
    let code = in_child(|| {
        if f.install().is_err() {
            return 10;
        }
        let mut bad = 0;
        if sys(libc::SYS_getpid, [0; 3]) <= 0 {
            bad |= 1;
        }
        if sys(libc::SYS_kexec_load, [0; 3]) != -(libc::EPERM as i64) {
            bad |= 2;
        }
        if sys(libc::SYS_personality, [0xffff_ffff, 0, 0]) < 0 {
            bad |= 4;
        }
        if sys(libc::SYS_personality, [0x1_ffff_ffff, 0, 0]) != -(libc::ENOSYS as i64) {
            bad |= 8;
        }
        if sys(libc::SYS_socket, [16, 3, 9]) != -(libc::EINVAL as i64) {
            bad |= 16;
        }
        if sys(470, [0; 3]) != -(libc::ENOSYS as i64) {
            bad |= 32;
        }
        bad
    });
    assert_eq!(code, 0, "bitmask of failed checks");
}

#[test]
fn kernel_notify_fd_reaches_an_agent_that_answers() {
    use nix::sys::socket::{
        recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
    };
    use std::io::IoSliceMut;
    use std::os::fd::{AsFd, AsRawFd, FromRawFd};

    let f = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","listenerMetadata":"m",
            "flags":["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],"syscalls":[{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(f.needs_listener());
    let state = oci_spec::runtime::State::default();
    let body = process_state_json(&state, 1234, Some("m"));
    let (agent, runtime) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .expect("socketpair");

    use nix::unistd::{fork, ForkResult};
    // SAFETY: as in `in_child`: the child makes syscalls on memory prepared before the fork, then _exit.
    let child = match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let code = (|| {
                let Ok(Some(fd)) = f.install() else { return 10 };
                if send_to_listener(runtime.as_fd(), fd.as_fd(), &body).is_err() {
                    return 11;
                }
                drop(fd);
                // Blocks until the agent answers.
                if sys(libc::SYS_getppid, [0; 3]) != 4242 {
                    return 12;
                }
                0
            })();
            // SAFETY: _exit ends the child without running the parent's atexit handlers or destructors.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => child,
    };

    // The agent: read the state and the fd.
    let mut buf = vec![0u8; 8192];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let (n, fd) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            agent.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .expect("recvmsg");
        let mut fd = None;
        for c in msg.cmsgs().expect("cmsgs") {
            if let ControlMessageOwned::ScmRights(fds) = c {
                fd = fds.first().copied();
            }
        }
        (msg.bytes, fd.expect("an fd with the message"))
    };
    // SAFETY: the fd just arrived with SCM_RIGHTS and belongs to nobody else.
    let notify = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    let json: serde_json::Value = serde_json::from_slice(&buf[..n]).expect("state json");
    assert_eq!(json["fds"], serde_json::json!(["seccompFd"]));
    assert_eq!(json["pid"], 1234);
    assert_eq!(json["metadata"], "m");
    assert!(
        json.get("ociVersion").is_some() && json.get("state").is_some(),
        "{json}"
    );

    // SAFETY: all-zero is a valid seccomp_notif / seccomp_notif_resp (plain integers).
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: `req` is a live seccomp_notif the kernel fills; the fd is a seccomp notify fd.
    let rc = unsafe { libc::ioctl(notify.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) };
    assert_eq!(rc, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
    assert_eq!(req.data.nr, libc::SYS_getppid as i32);
    // SAFETY: as above.
    let mut resp: libc::seccomp_notif_resp = unsafe { std::mem::zeroed() };
    resp.id = req.id;
    resp.val = 4242;
    // SAFETY: `resp` is a live seccomp_notif_resp the kernel reads.
    let rc = unsafe {
        libc::ioctl(
            notify.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp,
        )
    };
    assert_eq!(rc, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());

    let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
    assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
}

#[test]
fn install_error_names_the_call_and_flags() {
    // An empty program is invalid: the kernel answers EINVAL; the message names the call and flags.
    let f = CompiledFilter {
        program: Vec::new(),
        flags: libc::SECCOMP_FILTER_FLAG_LOG,
        listener: false,
    };
    let code = in_child(|| match f.install() {
        Err(SeccompError::Install {
            source: nix::errno::Errno::EINVAL,
            ..
        }) => 0,
        _ => 1,
    });
    assert_eq!(code, 0);
    let e = SeccompError::Install {
        flags: libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
        source: nix::errno::Errno::EINVAL,
    };
    assert_eq!(
        e.to_string(),
        "seccomp(SECCOMP_SET_MODE_FILTER, flags LOG|NEW_LISTENER)"
    );
}

/// Offline differential testing against libseccomp (see NOTES.md): compiles every `*.json` profile in
/// `$BRIG_SECCOMP_DUMP_DIR` and writes the program next to it as `*.brig.bpf` (`code jt jf k` lines), or
/// the error as `*.brig.err`.
#[test]
#[ignore = "tool: needs BRIG_SECCOMP_DUMP_DIR"]
fn dump_programs_for_profiles_in_dir() {
    let dir = std::env::var("BRIG_SECCOMP_DUMP_DIR").expect("BRIG_SECCOMP_DUMP_DIR");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let p = profile(&std::fs::read_to_string(&path).unwrap());
        match compile(&p) {
            Ok(f) => {
                let text: String = f
                    .program()
                    .iter()
                    .map(|i| format!("{} {} {} {}\n", i.code, i.jt, i.jf, i.k))
                    .collect();
                std::fs::write(path.with_extension("brig.bpf"), text).unwrap();
            }
            Err(e) => std::fs::write(path.with_extension("brig.err"), e.to_string()).unwrap(),
        }
    }
}

#[test]
fn too_large_filter_is_a_clear_error() {
    let rules: Vec<String> = Abi::X86_64
        .table()
        .iter()
        .map(|(name, _)| {
            format!(
                r#"{{"names":["{name}"],"action":"SCMP_ACT_ERRNO","args":[
                    {{"index":0,"value":1,"op":"SCMP_CMP_GT"}},{{"index":1,"value":2,"op":"SCMP_CMP_LT"}},
                    {{"index":2,"value":3,"op":"SCMP_CMP_NE"}},{{"index":3,"value":4,"op":"SCMP_CMP_GE"}}]}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{}]}}"#,
        rules.join(",")
    );
    let e = compile_err(&json);
    assert!(
        e.starts_with("linux.seccomp: the filter needs ")
            && e.ends_with("the kernel accepts at most 4096"),
        "{e}"
    );
}
