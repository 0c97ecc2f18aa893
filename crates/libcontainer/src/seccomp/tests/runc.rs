//! brig's programs against the filters runc 1.1.5 (libseccomp 2.5.4) loaded for the same profiles, and sizes.

use super::*;

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
    let podman_bpf = include_str!("../testdata/runc-podman-default.bpf");
    assert_same_as_runc(&podman(), podman_bpf, &arg_sets, &[]);
}

/// Default ERRNO(EPERM) (so runc's ENOSYS stub differs from the default), every action, MASKED_EQ on
/// clone flags, 64-bit LT/GE/GT/LE, two conditions on one argument, a rule equal to the default.
#[test]
fn eperm_profile_matches_runc_filter() {
    let p = profile(include_str!("../testdata/runc-eperm-profile.json"));
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
        include_str!("../testdata/runc-eperm.bpf"),
        &refs,
        &uretprobe,
    );
    assert!(n > 20_000, "{n}");
}

/// Default ALLOW, native arch only: x32 numbers and i386 calls hit libseccomp's bad-arch action.
#[test]
fn native_allow_profile_matches_runc_filter() {
    let p = profile(include_str!("../testdata/runc-native-allow-profile.json"));
    let arg_sets: [&[u64]; 5] = [&[], &[10], &[2], &[0x1000_0000], &[0x1_1000_0000]];
    let bpf = include_str!("../testdata/runc-native-allow.bpf");
    assert_same_as_runc(&p, bpf, &arg_sets, &[]);
}

/// i386 socketcall/ipc multiplexing, checked against runc rather than only against the model.
#[test]
fn i386_mux_profile_matches_runc_filter() {
    let p = profile(include_str!("../testdata/runc-i386-mux-profile.json"));
    let mut arg_sets: Vec<Vec<u64>> = vec![vec![]];
    for a0 in 0..26u64 {
        arg_sets.push(vec![a0, 0x1000]);
    }
    arg_sets.push(vec![10, 1, 0]);
    let refs: Vec<&[u64]> = arg_sets.iter().map(|v| v.as_slice()).collect();
    let bpf = include_str!("../testdata/runc-i386-mux.bpf");
    assert_same_as_runc(&p, bpf, &refs, &[]);
}

/// Default ERRNO, no `architectures`: runc adds no -ENOSYS stub (it only does for listed arches), and
/// nr -1 is not an x32 number.
#[test]
fn native_eperm_profile_matches_runc_filter() {
    let p = profile(include_str!("../testdata/runc-native-eperm-profile.json"));
    let arg_sets: [&[u64]; 3] = [&[], &[0x7e02_0000], &[8, 0x1_0000_0000]];
    let uretprobe = [(X86_64, 335)];
    let bpf = include_str!("../testdata/runc-native-eperm.bpf");
    assert_same_as_runc(&p, bpf, &arg_sets, &uretprobe);
}

/// The size of podman's default profile, for the docs. runc 1.1.5 + libseccomp 2.5.4 emit 1158 instructions.
/// Also the instructions executed per syscall (x86_64, numbers 0..=470), brig against runc.
#[test]
fn podman_profile_instruction_count() {
    let f = compile(&podman()).unwrap();
    let runc = parse_dump(include_str!("../testdata/runc-podman-default.bpf"));
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
