//! linux.seccomp end to end: podman's default profile loads and ordinary work runs, a custom
//! rule's errnoRet reaches the program, and results match runc's on the same bundles.

use brig_tests::*;
use serde_json::{json, Value};

fn podman_profile() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/libcontainer/src/seccomp/testdata/podman-default.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v.get("seccomp").cloned().unwrap_or(v)
}

fn runc(env: &Env, id: &str, b: &std::path::Path) -> Run {
    let mut c = std::process::Command::new("runc");
    c.arg("--root").arg(env.dir.join("runc-state")).args([
        "run",
        "--bundle",
        b.to_str().unwrap(),
        id,
    ]);
    env.output(&mut c)
}

#[test]
fn podman_default_profile_runs_ordinary_work_like_runc() {
    let env = Env::new("sc-podman");
    let script = "grep Seccomp: /proc/self/status; ls / >/dev/null && echo ls-ok; (sleep 0.01 &) ; echo $((6*7)); \
                  mkdir /tmp/d && echo mkdir-ok; cat /proc/self/status | grep -c NoNewPrivs";
    let edit = |c: &mut Value| {
        c["linux"]["seccomp"] = podman_profile();
        c["root"]["readonly"] = json!(false);
    };
    let id = env.id("pd");
    let b = env.bundle(&id, &["sh", "-c", script], edit);
    let ours = env.run(&id, &b);
    ours.ok();
    assert!(
        ours.stdout
            .starts_with("Seccomp:\t2\nls-ok\n42\nmkdir-ok\n"),
        "{}",
        ours.stdout
    );
    env.assert_gone(&id);
    let rid = env.id("pd-runc");
    let rb = env.bundle(&rid, &["sh", "-c", script], edit);
    let theirs = runc(&env, &rid, &rb);
    assert_eq!(ours.stdout, theirs.stdout, "brig vs runc");
}

#[test]
fn custom_rule_errno_reaches_the_program() {
    let env = Env::new("sc-mkdir");
    let id = env.id("mk");
    let b = env.bundle(&id, &["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"], |c| {
        c["root"]["readonly"] = json!(false);
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
        });
    });
    let r = env.run(&id, &b);
    r.ok();
    assert_eq!(
        r.stdout,
        "mkdir: can't create directory '/tmp/x': Permission denied\nrc=1\n"
    );
    assert!(!b.join("rootfs/tmp/x").exists());
    env.assert_gone(&id);
}

#[test]
fn profile_errors_name_the_field() {
    let env = Env::new("sc-bad");
    let id = env.id("bad");
    let b = env.bundle(&id, &["true"], |c| {
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_NOTIFY"}]
        });
    });
    env.create(&id, &b).fails_with("linux.seccomp");
    env.assert_gone(&id);
    let b = env.bundle(&id, &["true"], |c| {
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]
        });
    });
    env.create(&id, &b)
        .fails_with("linux.seccomp.syscalls[0].args[0].index");
    env.assert_gone(&id);
}
