//! Random and oversized profiles: no panics, field-naming errors, verdicts equal to the model.

use super::*;

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
