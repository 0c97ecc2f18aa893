//! Verdict tests: each action, operator, rule combination and ABI through the BPF interpreter; config errors.

use super::*;

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

// ---------------------------------------------------------------- config errors ----------------

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
