//! linux.seccomp end to end on the real kernel, compared with runc 1.1.5 (libseccomp 2.5.4) on the
//! same bundles: a static syscall probe under podman's, containerd's and a MASKED_EQ profile
//! (x86_64 and i386 calls), SCMP_ACT_LOG in the kernel log, NOTIFY through a listener, a blocked
//! execve, defaultErrnoRet, and ordinary work under podman's profile.

use brig_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn podman_profile() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/libcontainer/src/seccomp/testdata/podman-default.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v.get("seccomp").cloned().unwrap_or(v)
}

fn runc(env: &Env, id: &str, b: &Path) -> Run {
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

// ---------------------------------------------------------------------------------------------
// The syscall probe (tests/probe/probe.rs): built once per test binary with plain rustc.

/// Path of the static probe binary, built on first use from `tests/probe/probe.rs` with the
/// rustc that runs the tests (`$RUSTC`, else `rustc`) into cargo's tmp dir for integration tests.
fn probe_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("probe/probe.rs");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seccomp-probe");
        let fresh = |o: &Path| -> Option<bool> {
            Some(o.metadata().ok()?.modified().ok()? >= src.metadata().ok()?.modified().ok()?)
        };
        if fresh(&out) != Some(true) {
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let tmp = out.with_extension("tmp");
            let r = std::process::Command::new(rustc)
                .args([
                    "--edition",
                    "2021",
                    "-O",
                    "-C",
                    "target-feature=+crt-static",
                ])
                .args(["--target", "x86_64-unknown-linux-gnu", "-o"])
                .arg(&tmp)
                .arg(&src)
                .output()
                .expect("run rustc to build the seccomp probe");
            assert!(
                r.status.success(),
                "building {}: {}",
                src.display(),
                String::from_utf8_lossy(&r.stderr)
            );
            std::fs::rename(&tmp, &out).unwrap();
        }
        out
    })
}

/// A bundle whose process is `/probe args...` under `seccomp`.
fn probe_bundle(env: &Env, id: &str, args: &[&str], seccomp: Value) -> PathBuf {
    let mut argv = vec!["/probe"];
    argv.extend_from_slice(args);
    let b = env.bundle(id, &argv, |c| c["linux"]["seccomp"] = seccomp);
    std::fs::copy(probe_bin(), b.join("rootfs/probe")).unwrap();
    b
}

/// Runs the probe with `args` under `seccomp` with brig and with runc; both must exit 0.
/// Returns (brig's output, runc's output).
fn probe_both(env: &Env, base: &str, args: &[&str], seccomp: &Value) -> (String, String) {
    let id = env.id(base);
    let b = probe_bundle(env, &id, args, seccomp.clone());
    let ours = env.run(&id, &b);
    assert_eq!(ours.code, 0, "brig: {} {}", ours.stdout, ours.stderr);
    env.assert_gone(&id);
    let rid = env.id(&format!("{base}-runc"));
    let rb = probe_bundle(env, &rid, args, seccomp.clone());
    let theirs = runc(env, &rid, &rb);
    assert_eq!(theirs.code, 0, "runc: {} {}", theirs.stdout, theirs.stderr);
    (ours.stdout, theirs.stdout)
}

/// Line-by-line comparison of two probe outputs; panics listing every differing line.
#[track_caller]
fn assert_same_verdicts(what: &str, ours: &str, theirs: &str) {
    let (a, b): (Vec<_>, Vec<_>) = (ours.lines().collect(), theirs.lines().collect());
    let diff: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .map(|(x, y)| format!("  brig: {x}\n  runc: {y}"))
        .collect();
    assert!(
        diff.is_empty() && a.len() == b.len(),
        "{what}: brig and runc differ ({} vs {} lines):\n{}",
        a.len(),
        b.len(),
        diff.join("\n")
    );
}

/// The probe's line for `label`: "rc errno".
#[track_caller]
fn verdict<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no line for {label} in:\n{out}"))
}

fn all_probe_labels() -> usize {
    let r = std::process::Command::new(probe_bin())
        .arg("--list")
        .output()
        .unwrap();
    String::from_utf8_lossy(&r.stdout).lines().count()
}

// ---------------------------------------------------------------------------------------------
// Profiles.

/// containerd 1.6's default profile (`contrib/seccomp/seccomp_default.go`, `DefaultProfile`) as
/// it comes out on amd64 for this harness's bundle: bounding set CAP_AUDIT_WRITE, CAP_KILL,
/// CAP_NET_BIND_SERVICE (none of the capability-gated groups applies, so clone gets the
/// MASKED_EQ rule and clone3 ERRNO(ENOSYS)), kernel >= 4.8 (ptrace allowed), amd64 extras
/// arch_prctl and modify_ldt. Source: containerd/containerd commit 96929a5d; Debian's ctr 1.6.20
/// binary contains the same newer names (close_range, epoll_pwait2, futex_waitv, landlock_*,
/// memfd_secret, process_mrelease, quotactl_fd, pidfd_getfd). `ctr oci spec` does not print a
/// seccomp section, so the JSON is written out here.
fn containerd_profile() -> Value {
    let allowed = "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown \
        chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime \
        clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect \
        copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old \
        epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit \
        exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir \
        fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr \
        flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync \
        ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents \
        getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 \
        getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid \
        getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname \
        getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch \
        inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents \
        io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit \
        io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule \
        landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat \
        listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise \
        membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 \
        mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive \
        mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget \
        msgrcv msgsnd msync munlock munlockall munmap nanosleep newfstatat _newselect open \
        openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 poll ppoll ppoll_time64 \
        prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 \
        pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom \
        recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 \
        restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo \
        rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo \
        sched_getaffinity sched_getattr sched_getparam sched_get_priority_max \
        sched_get_priority_min sched_getscheduler sched_rr_get_interval \
        sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam \
        sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop \
        semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 \
        setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority \
        setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 \
        setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid \
        setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 \
        sigprocmask sigreturn socket socketcall socketpair splice stat stat64 statfs statfs64 \
        statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create \
        timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime \
        timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime \
        timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat \
        utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev";
    let mut syscalls = vec![json!({
        "names": allowed.split_whitespace().collect::<Vec<_>>(),
        "action": "SCMP_ACT_ALLOW"
    })];
    for p in [0u64, 0x0008, 0x20000, 0x20008, 0xffff_ffff] {
        syscalls.push(json!({"names": ["personality"], "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": p, "op": "SCMP_CMP_EQ"}]}));
    }
    syscalls.push(json!({"names": ["ptrace"], "action": "SCMP_ACT_ALLOW"}));
    syscalls.push(json!({"names": ["arch_prctl", "modify_ldt"], "action": "SCMP_ACT_ALLOW"}));
    // CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP
    syscalls.push(json!({"names": ["clone"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 2114060288u64, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}));
    syscalls.push(json!({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}));
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls
    })
}

/// Default allow; MASKED_EQ denials with distinct errnos, so a filter verdict is never confused
/// with the kernel's own EPERM: personality with ADDR_NO_RANDOMIZE set → EACCES; personality
/// whose low byte is PER_LINUX32 (valueTwo 0x108 has a bit outside the mask: libseccomp masks it
/// too) → EXDEV; clone with CLONE_NEWNS or CLONE_NEWUSER → ENOTBLK (one rule, two conditions on
/// index 0: split into an OR, as runc does); clone whose namespace bits are all clear is allowed.
fn masked_profile() -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [{"index": 0, "value": 0x40000, "valueTwo": 0x40000, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
             "args": [{"index": 0, "value": 0xff, "valueTwo": 0x108, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 15,
             "args": [{"index": 0, "value": 0x20000, "valueTwo": 0x20000, "op": "SCMP_CMP_MASKED_EQ"},
                      {"index": 0, "value": 0x10000000, "valueTwo": 0x10000000, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]
    })
}

// ---------------------------------------------------------------------------------------------
// 1-3: differential probe runs.

#[test]
fn probe_under_podman_profile_matches_runc() {
    let env = Env::new("sc-probe-podman");
    let (ours, theirs) = probe_both(&env, "pp", &[], &podman_profile());
    assert_eq!(ours.lines().count(), all_probe_labels(), "{ours}");
    assert_same_verdicts("podman profile", &ours, &theirs);
    // A few verdicts spelled out, so a change in both runtimes is noticed too.
    for (label, want) in [
        ("getpid", "1 0"),
        ("socket/netlink-audit", "-1 22"), // ERRNO(EINVAL) rule with two conditions
        ("socket/inet-stream", "fd 0"),
        ("personality/addr-no-randomize", "-1 38"), // no EQ rule matches: default ENOSYS
        ("personality/high-bit-linux32", "-1 38"),  // EQ compares all 64 bits
        ("kexec_load/bad-flags", "-1 1"),
        ("unknown/500", "-1 38"),
        // i386 through int 0x80, judged by the i386 table:
        ("i386-getpid", "1 0"), // x86_64 20 would be writev
        ("i386-personality/addr-no-randomize", "-1 38"),
        ("i386-sysfs/count", "-1 1"),  // x86_64 135 is personality
        ("i386-vm86old/null", "-1 1"), // x86_64 113 (setreuid) is allowed
        ("i386-socket/netlink-audit", "-1 22"),
    ] {
        assert_eq!(verdict(&ours, label), want, "{label}");
    }
}

#[test]
fn probe_under_containerd_profile_matches_runc() {
    let env = Env::new("sc-probe-ctrd");
    let (ours, theirs) = probe_both(&env, "pc", &[], &containerd_profile());
    assert_eq!(ours.lines().count(), all_probe_labels(), "{ours}");
    assert_same_verdicts("containerd profile", &ours, &theirs);
    for (label, want) in [
        ("clone/plain", "pid 0"),
        ("clone/newns", "-1 1"), // MASKED_EQ on the namespace bits
        ("clone/newuser", "-1 1"),
        ("clone/newcgroup", "-1 1"),
        ("clone/high-bit", "pid 0"), // bits above the mask do not matter
        ("clone3/null", "-1 38"),
        ("personality/uname26", "8 0"), // returns the previous persona (PER_LINUX32)
        ("personality/addr-no-randomize", "-1 1"),
        ("i386-clone/newns", "-1 1"), // the same MASKED_EQ on i386's clone (120)
    ] {
        assert_eq!(verdict(&ours, label), want, "{label}");
    }
}

#[test]
fn masked_eq_on_personality_and_clone_matches_runc() {
    let env = Env::new("sc-probe-masked");
    let args = ["personality", "clone", "i386-personality", "i386-clone"];
    let (ours, theirs) = probe_both(&env, "pm", &args, &masked_profile());
    assert_same_verdicts("MASKED_EQ profile", &ours, &theirs);
    for (label, want) in [
        ("personality/query", "-1 13"),       // 0xffffffff has the 0x40000 bit
        ("personality/per-linux32", "-1 18"), // (8 & 0xff) == (0x108 & 0xff)
        ("personality/uname26-linux32", "-1 18"),
        ("personality/uname26", "0 0"),
        ("personality/addr-no-randomize", "-1 13"),
        ("personality/high-bit-linux32", "-1 18"), // the low byte decides
        ("personality/read-implies-exec", "131072 0"), // allowed; returns the previous UNAME26
        ("clone/plain", "pid 0"),
        ("clone/newns", "-1 15"),
        ("clone/newuser", "-1 15"),
        ("clone/newnet", "-1 1"), // allowed by the filter, refused by the kernel (no CAP_SYS_ADMIN)
        ("clone/newns-in-high-word", "pid 0"),
        ("i386-personality/addr-no-randomize", "-1 13"),
        ("i386-clone/newns", "-1 15"),
    ] {
        assert_eq!(verdict(&ours, label), want, "{label}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4: SCMP_ACT_LOG reaches the kernel log.

/// The audit records (type=1326) in the kernel log that mention `needle`.
fn audit_records(needle: &str) -> Vec<String> {
    let r = std::process::Command::new("dmesg")
        .output()
        .expect("run dmesg");
    String::from_utf8_lossy(&r.stdout)
        .lines()
        .filter(|l| l.contains("type=1326") && l.contains(needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn log_action_writes_an_audit_record_like_runc() {
    // Without auditd the kernel prints audit records with printk (kauditd_printk_skb), where
    // dmesg shows them, but only when `log` is in actions_logged and under printk_ratelimit().
    let logged = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_logged")
        .expect("/proc/sys/kernel/seccomp/actions_logged (kernel without seccomp?)");
    assert!(
        logged.split_whitespace().any(|a| a == "log"),
        "cannot observe SCMP_ACT_LOG here: `log` is not in kernel.seccomp.actions_logged ({logged:?})"
    );
    let env = Env::new("sc-log");
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_LOG"}]
    });
    for runtime in ["brig", "runc"] {
        // A program name of our own, so the record is ours: comm and exe carry it.
        let name = format!("lg{}{}", std::process::id(), &runtime[..1]);
        let id = env.id(&format!("log-{runtime}"));
        let exe = format!("/{name}");
        let b = env.bundle(&id, &[exe.as_str(), "getppid"], |c| {
            c["linux"]["seccomp"] = profile.clone()
        });
        std::fs::copy(probe_bin(), b.join("rootfs").join(&name)).unwrap();
        let needle = format!("comm=\"{name}\"");
        let mut found = Vec::new();
        // printk_ratelimit() allows 10 messages per 5 s: a busy log may drop ours, so retry.
        for _ in 0..3 {
            let r = if runtime == "brig" {
                env.run(&id, &b)
            } else {
                runc(&env, &id, &b)
            };
            assert_eq!(r.code, 0, "{runtime}: {} {}", r.stdout, r.stderr);
            assert_eq!(
                r.stdout, "getppid 0 0\n",
                "{runtime}: LOG lets the call through"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
            found = audit_records(&needle);
            if !found.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(5));
        }
        assert!(
            !found.is_empty(),
            "{runtime}: no audit record with {needle} in dmesg after 3 runs (actions_logged: \
             {logged:?}; records are printk-ratelimited without auditd)"
        );
        let rec = &found[0];
        for field in [
            "syscall=110",
            "arch=c000003e",
            "code=0x7ffc0000",
            &format!("exe=\"{exe}\""),
        ] {
            assert!(rec.contains(field), "{runtime}: {field} missing in {rec}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5: NOTIFY through linux.seccomp.listenerPath.

/// What the agent got: the process-state JSON and the syscall numbers it was asked about.
struct AgentLog {
    state: Value,
    fds_received: usize,
    asked: Vec<i32>,
}

/// A seccomp agent on `path`: takes one connection, reads the state JSON and the notify fd
/// (SCM_RIGHTS), then answers notifications until the filter has no process left:
/// getppid (110) gets the value 4242, getuid (102) the error EXDEV.
fn spawn_agent(path: &Path) -> std::thread::JoinHandle<AgentLog> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 2]);
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .expect("recvmsg from the runtime");
        let n = msg.bytes;
        let mut fds = Vec::new();
        for c in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(r) = c {
                // SAFETY: SCM_RIGHTS just installed these fds in our table; we own them now.
                fds.extend(r.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        let mut body = buf[..n].to_vec();
        // runc keeps the connection open while the container runs: read until the JSON is whole.
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let state: Value = loop {
            match serde_json::from_slice(&body) {
                Ok(v) => break v,
                Err(e) if e.is_eof() => {
                    let mut more = [0u8; 4096];
                    let n = conn.read(&mut more).expect("read the process state");
                    assert!(
                        n > 0,
                        "EOF inside the state JSON: {}",
                        String::from_utf8_lossy(&body)
                    );
                    body.extend_from_slice(&more[..n]);
                }
                Err(e) => panic!("{e}: {}", String::from_utf8_lossy(&body)),
            }
        };
        let mut asked = Vec::new();
        if let Some(notify) = fds.first() {
            loop {
                let mut p = libc::pollfd {
                    fd: notify.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let r = unsafe { libc::poll(&mut p, 1, 10_000) };
                if r <= 0 || p.revents & libc::POLLIN == 0 {
                    break; // timeout, or POLLHUP: no process left under the filter
                }
                // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
                let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
                // SAFETY: RECV writes one seccomp_notif into `req`.
                if unsafe {
                    libc::ioctl(notify.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req)
                } < 0
                {
                    continue; // the notifying process went away (ENOENT)
                }
                asked.push(req.data.nr);
                let (val, error) = match req.data.nr {
                    110 => (4242, 0),
                    _ => (0, -libc::EXDEV),
                };
                let mut resp = libc::seccomp_notif_resp {
                    id: req.id,
                    val,
                    error,
                    flags: 0,
                };
                // SAFETY: SEND reads one seccomp_notif_resp.
                unsafe {
                    libc::ioctl(
                        notify.as_raw_fd(),
                        libc::SECCOMP_IOCTL_NOTIF_SEND,
                        &mut resp,
                    )
                };
            }
        }
        AgentLog {
            state,
            fds_received: fds.len(),
            asked,
        }
    })
}

#[test]
fn notify_reaches_the_agent_and_its_answer_reaches_the_program_like_runc() {
    let env = Env::new("sc-notify");
    let mut outputs = Vec::new();
    for runtime in ["brig", "runc"] {
        let sock = env.dir.join(format!("agent-{runtime}.sock"));
        let agent = spawn_agent(&sock);
        let id = env.id(&format!("nt-{runtime}"));
        let profile = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": sock,
            "listenerMetadata": "brig-test-metadata",
            "syscalls": [{"names": ["getppid", "getuid"], "action": "SCMP_ACT_NOTIFY"}]
        });
        let b = probe_bundle(&env, &id, &["getpid", "getppid", "getuid"], profile);
        let r = if runtime == "brig" {
            env.run(&id, &b)
        } else {
            runc(&env, &id, &b)
        };
        assert_eq!(r.code, 0, "{runtime}: {} {}", r.stdout, r.stderr);
        assert_eq!(
            r.stdout, "getpid 1 0\ngetppid 4242 0\ngetuid -1 18\n",
            "{runtime}: the agent's answers reach the program"
        );
        let log = agent.join().expect("agent thread");
        assert_eq!(log.fds_received, 1, "{runtime}: one fd with SCM_RIGHTS");
        assert_eq!(log.asked, vec![110, 102], "{runtime}: getppid, then getuid");
        let s = &log.state;
        assert_eq!(s["fds"], json!(["seccompFd"]), "{runtime}: {s}");
        assert_eq!(s["metadata"], "brig-test-metadata", "{runtime}: {s}");
        assert_eq!(s["state"]["id"], id.as_str(), "{runtime}: {s}");
        assert!(s["ociVersion"].is_string(), "{runtime}: {s}");
        assert!(
            s["pid"].as_i64().unwrap_or(0) > 1,
            "{runtime}: host pid in {s}"
        );
        assert_eq!(s["state"]["pid"], s["pid"], "{runtime}: {s}");
        assert_eq!(s["state"]["bundle"], b.to_str().unwrap(), "{runtime}: {s}");
        outputs.push(s.clone());
    }
    // Same document shape from both runtimes.
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.extend(
            v["state"]
                .as_object()
                .unwrap()
                .keys()
                .map(|s| format!("state.{s}")),
        );
        k.sort();
        k
    };
    assert_eq!(
        keys(&outputs[0]),
        keys(&outputs[1]),
        "brig {} runc {}",
        outputs[0],
        outputs[1]
    );
}

// ---------------------------------------------------------------------------------------------
// 6: a profile that blocks execve itself.

#[test]
fn blocked_execve_gives_a_readable_error_like_runc() {
    let env = Env::new("sc-exec");
    let profile = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO"}]
    });
    let edit = |c: &mut Value| c["linux"]["seccomp"] = profile.clone();
    // `run`: the init's error reaches brig's stderr, one line naming the call and the program.
    let id = env.id("ex");
    let b = env.bundle(&id, &["true"], edit);
    let ours = env.run(&id, &b);
    assert_eq!(ours.code, 1, "{ours:?}", ours = ours.stderr);
    assert_eq!(
        ours.stderr,
        "brig: execve `/bin/true`: Operation not permitted\n"
    );
    env.assert_gone(&id);
    // runc: the same failure and exit code; its text names the resolved path instead.
    let rid = env.id("ex-runc");
    let rb = env.bundle(&rid, &["true"], edit);
    let theirs = runc(&env, &rid, &rb);
    assert_eq!(theirs.code, 1, "{}", theirs.stderr);
    assert_eq!(theirs.stderr, "exec /bin/true: operation not permitted\n");
    // create + start: the filter is installed after `start`, so both succeed and the message
    // goes to the container's stderr (here a file given to `create`, which init inherits).
    let id = env.id("ex2");
    let b = env.bundle(&id, &["true"], edit);
    let err = env.dir.join("ex2.stderr");
    let st = env
        .cmd()
        .args(["create", "--bundle", b.to_str().unwrap(), &id])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .status()
        .unwrap();
    assert!(st.success(), "{}", std::fs::read_to_string(&err).unwrap());
    env.brig(&["start", &id]).ok();
    env.wait_status(&id, "stopped");
    assert_eq!(
        std::fs::read_to_string(&err).unwrap(),
        "brig: execve `/bin/true`: Operation not permitted\n"
    );
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

// ---------------------------------------------------------------------------------------------
// 7: defaultErrnoRet with an allowlist.

#[test]
fn default_errno_ret_38_gives_enosys_for_unlisted_syscalls_like_runc() {
    let env = Env::new("sc-enosys");
    // What the runtimes' inits (after the filter: runc checks /proc/self/fd with fstatfs) and a
    // static Rust program need, nothing more.
    let allowed = "execve brk arch_prctl set_tid_address set_robust_list rseq prlimit64 mmap \
        munmap mprotect mremap madvise readlink getrandom write writev exit exit_group \
        sigaltstack rt_sigaction rt_sigprocmask rt_sigreturn poll ppoll ioctl sched_getaffinity \
        openat read close fstat newfstatat statx fcntl close_range umask futex getpid fstatfs \
        statfs getdents64 lseek";
    let profile = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": allowed.split_whitespace().collect::<Vec<_>>(), "action": "SCMP_ACT_ALLOW"}]
    });
    // getppid is old and unlisted (the default action), clone3 and mseal are newer than anything
    // listed, 500 is no syscall at all: all four must say ENOSYS, so glibc falls back from clone3.
    let args = ["getpid", "clone3", "getppid", "mseal", "unknown"];
    let (ours, theirs) = probe_both(&env, "en", &args, &profile);
    assert_same_verdicts("allowlist with defaultErrnoRet 38", &ours, &theirs);
    assert_eq!(
        ours,
        "getpid 1 0\ngetppid -1 38\nclone3/null -1 38\nmseal/empty -1 38\nunknown/500 -1 38\n"
    );
}
