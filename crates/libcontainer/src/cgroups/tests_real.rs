//! Real-host tests: cgroups under a unique `/brig-cgtest-*` prefix, on whatever layout the host has (the
//! hybrid dev VM, or pure v2 through tests-v2vm.sh): limits read back, freeze a child, devices, OOM, clone3.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use oci_spec::runtime::LinuxResources;
use serde_json::json;

use super::*;

/// A unique prefix cgroup in every hierarchy, destroyed (processes killed, subtree removed) on drop, also
/// when the test fails.
struct Prefix {
    name: String,
    top: Cgroup,
}

impl Prefix {
    fn new() -> Prefix {
        assert!(
            nix::unistd::geteuid().is_root(),
            "real cgroup tests need root (they mkdir in /sys/fs/cgroup)"
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("/brig-cgtest-{}-{nanos:x}", std::process::id());
        let top = Cgroup::new(Some(Path::new(&name)), "unused", false).unwrap();
        Prefix { name, top }
    }

    /// A container cgroup below the prefix.
    fn cgroup(&self, sub: &str) -> Cgroup {
        Cgroup::new(
            Some(Path::new(&format!("{}/{sub}", self.name))),
            "unused",
            false,
        )
        .unwrap()
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        if let Err(e) = self.top.destroy() {
            eprintln!("cleanup of {} failed: {e}", self.name);
        }
    }
}

fn res(v: serde_json::Value) -> LinuxResources {
    serde_json::from_value(v).unwrap()
}

fn read(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
        .trim()
        .to_string()
}

/// A shell that waits for one line on stdin, then runs `script` (stdout piped back).
fn waiting_shell(script: &str) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(format!("read _go; {script}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn go(child: &mut Child) {
    child.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
}

fn lines(child: Child) -> (Vec<String>, Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let l = BufReader::new(&out.stdout[..])
        .lines()
        .map(Result::unwrap)
        .collect();
    use std::os::unix::process::ExitStatusExt;
    (
        l,
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn real_create_limits_read_back_and_destroy() {
    let p = Prefix::new();
    let mut cg = p.cgroup("nested/ctr");
    cg.create(Some(&res(json!({
        "memory": {"limit": 67108864},
        "pids": {"limit": 20},
        "cpu": {"shares": 512, "quota": 20000, "period": 100000}
    }))))
    .unwrap();
    for d in cg.dirs() {
        assert!(d.is_dir(), "{}", d.display());
    }
    match cg.place("memory").unwrap() {
        Place::V1(d) => assert_eq!(read(d, "memory.limit_in_bytes"), "67108864"),
        Place::V2(d) => assert_eq!(read(d, "memory.max"), "67108864"),
    }
    let (Place::V1(d) | Place::V2(d)) = cg.place("pids").unwrap();
    assert_eq!(read(d, "pids.max"), "20");
    match cg.place("cpu").unwrap() {
        Place::V1(d) => {
            assert_eq!(read(d, "cpu.shares"), "512");
            assert_eq!(read(d, "cpu.cfs_quota_us"), "20000");
        }
        Place::V2(d) => {
            assert_eq!(read(d, "cpu.weight"), "20", "1 + (510 * 9999) / 262142");
            assert_eq!(read(d, "cpu.max"), "20000 100000");
        }
    }
    cg.update(&res(
        json!({"pids": {"limit": 30}, "memory": {"limit": 33554432}}),
    ))
    .unwrap();
    assert_eq!(read(d, "pids.max"), "30");
    let s = cg.stats().unwrap();
    assert_eq!(s.pids.limit, 30);
    assert_eq!(s.memory.usage.limit, 33554432);
    cg.destroy().unwrap();
    for d in cg.dirs() {
        assert!(!d.exists(), "{}", d.display());
    }
    // The ancestors create made (the prefix and `nested`) are gone too.
    assert!(!cg.created.is_empty());
    for d in p.top.dirs() {
        assert!(!d.exists(), "{}", d.display());
    }
    cg.destroy().unwrap();
}

#[test]
fn real_freeze_a_child_then_destroy_kills_it() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    cg.create(None).unwrap();
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = child.id() as i32;
    cg.add_task(pid, false).unwrap();
    assert_eq!(cg.pids().unwrap(), [pid]);
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(own.contains(&format!("{}/ctr", p.name)), "{own}");
    cg.freeze().unwrap();
    assert!(cg.is_frozen().unwrap());
    let s = cg.stats().unwrap();
    assert_eq!(s.pids.current, 1);
    cg.thaw().unwrap();
    assert!(!cg.is_frozen().unwrap());
    // Frozen again: destroy must still kill it (signals reach frozen tasks once thawed).
    cg.freeze().unwrap();
    cg.destroy().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    assert!(!cg.process_dir().unwrap().exists());
}

#[test]
fn real_signal_all_reaches_every_process() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    cg.create(None).unwrap();
    let mut a = Command::new("sleep").arg("1000").spawn().unwrap();
    let mut b = Command::new("sleep").arg("1000").spawn().unwrap();
    cg.add_task(a.id() as i32, false).unwrap();
    cg.add_task(b.id() as i32, false).unwrap();
    cg.signal_all(Signal::SIGTERM).unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(a.wait().unwrap().signal(), Some(libc::SIGTERM));
    assert_eq!(b.wait().unwrap().signal(), Some(libc::SIGTERM));
    assert!(!cg.is_frozen().unwrap(), "thawed again after signalling");

    // A paused container stays paused through `kill --all` with a catchable signal.
    let mut c = Command::new("sh")
        .arg("-c")
        .arg("trap 'exit 7' USR1; echo ready; while :; do sleep 1; done")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    cg.add_task(c.id() as i32, false).unwrap();
    // Wait until the trap is set (a slow VM can take a while to start sh).
    let mut ready = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    cg.freeze().unwrap();
    cg.signal_all(libc::SIGUSR1).unwrap();
    assert!(cg.is_frozen().unwrap(), "still paused");
    cg.thaw().unwrap();
    let out = c.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "the signal was delivered after the thaw"
    );
}

#[test]
fn real_devices_allow_null_deny_kmsg() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    cg.create(Some(&res(
        json!({"devices": [{"allow": false, "access": "rwm"}]}),
    )))
    .unwrap();
    let script = "(: </dev/null) 2>/dev/null && echo null-ok || echo null-denied; \
                  (: </dev/zero) 2>/dev/null && echo zero-ok || echo zero-denied; \
                  (: </dev/kmsg) 2>/dev/null && echo kmsg-ok || echo kmsg-denied";
    let mut child = waiting_shell(script);
    cg.add_task(child.id() as i32, false).unwrap();
    go(&mut child);
    let (out, _, err) = lines(child);
    assert_eq!(out, ["null-ok", "zero-ok", "kmsg-denied"], "stderr: {err}");

    // Update: allow /dev/kmsg (c 1:11) too; on cgroup2 the new program replaces the old one.
    cg.update(&res(json!({"devices": [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]})))
        .unwrap();
    if cg.v1_path("devices").is_none() {
        assert_eq!(bpf::attached_count(cg.unified_path().unwrap()).unwrap(), 1);
    }
    let mut child = waiting_shell(script);
    cg.add_task(child.id() as i32, false).unwrap();
    go(&mut child);
    let (out, _, err) = lines(child);
    assert_eq!(out, ["null-ok", "zero-ok", "kmsg-ok"], "stderr: {err}");

    // Allow-all, then deny writes to /dev/kmsg: reading passes, read+write is refused (v1 semantics,
    // also in the cgroup2 program: any denied bit refuses the access).
    cg.update(&res(json!({"devices": [{"allow": true, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"}]})))
        .unwrap();
    let mut child = waiting_shell(
        "(: </dev/kmsg) 2>/dev/null && echo read-ok || echo read-denied; \
         (: <>/dev/kmsg) 2>/dev/null && echo rw-ok || echo rw-denied",
    );
    cg.add_task(child.id() as i32, false).unwrap();
    go(&mut child);
    let (out, _, err) = lines(child);
    assert_eq!(out, ["read-ok", "rw-denied"], "stderr: {err}");
}

#[test]
fn real_oom_is_counted() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    let limit = 16 * 1024 * 1024;
    cg.create(Some(&res(
        json!({"memory": {"limit": limit, "swap": limit}}),
    )))
    .unwrap();
    assert_eq!(cg.oom_count().unwrap(), 0);
    let notifier = cg.oom_notifier().unwrap();
    // The shell keeps the command substitution's 64 MiB in memory, against a 16 MiB limit.
    let mut child = waiting_shell("x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived");
    cg.add_task(child.id() as i32, false).unwrap();
    go(&mut child);
    let (out, _, _) = lines(child);
    assert!(out.is_empty() || out == ["survived"], "{out:?}");
    assert!(cg.oom_count().unwrap() >= 1, "an OOM kill was recorded");
    let mut pfd = [nix::poll::PollFd::new(
        std::os::fd::AsFd::as_fd(&notifier),
        nix::poll::PollFlags::POLLIN,
    )];
    let n = nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(5000u16)).unwrap();
    assert_eq!(n, 1, "the OOM notifier fd became readable");
    let s = cg.stats().unwrap();
    assert!(
        s.memory.usage.failcnt >= 1 || s.memory.usage.max > 0,
        "{:?}",
        s.memory
    );
}

/// struct clone_args, up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

#[test]
fn real_clone3_into_cgroup() {
    use std::os::fd::AsRawFd;
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    cg.create(Some(&res(json!({"pids": {"limit": 5}}))))
        .unwrap();
    if cg.layout == HostLayout::V1 {
        // No cgroup2: the caller must fall back to clone + add_task.
        assert!(cg.clone_into_fd().is_none());
        return;
    }
    let fd = cg.clone_into_fd().expect("a cgroup2 hierarchy is mounted");
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let mut args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: fd.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3 without CLONE_VM acts like fork: the child gets a copy of this address space and
    // only calls pause(2) and _exit(2), which are async-signal-safe, so the other test threads' locks do
    // not matter to it. `args` is a live #[repr(C)] clone_args of the size passed.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid == 0 {
        // SAFETY: in the cloned child; pause and _exit are async-signal-safe and never return here.
        unsafe {
            libc::pause();
            libc::_exit(0)
        }
    }
    assert!(pid > 0, "clone3: {}", std::io::Error::last_os_error());
    let pid = pid as i32;
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let unified_line = own.lines().find(|l| l.starts_with("0::")).unwrap_or("");
    assert!(
        unified_line.ends_with(&format!("{}/ctr", p.name)),
        "born in the cgroup: {own}"
    );
    // The v1 hierarchies (hybrid) still need the classic write; cgroup2 is skipped.
    cg.add_task(pid, true).unwrap();
    assert!(cg.pids().unwrap().contains(&pid));
    cg.destroy().unwrap();
    let mut status = 0;
    // SAFETY: waiting for our own child, `status` is a valid out pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid);
    assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL);
}

#[test]
fn real_layout_matches_mountinfo() {
    let cg = Prefix::new().cgroup("x");
    assert_eq!(cg.layout, host_layout());
    match cg.layout {
        HostLayout::V2 => assert!(cg.v1.is_empty() && cg.unified.is_some()),
        HostLayout::Hybrid => assert!(!cg.v1.is_empty() && cg.unified.is_some()),
        HostLayout::V1 => assert!(cg.unified.is_none()),
    }
}

/// `major:minor` of the first block device of the host.
fn a_block_device() -> (i64, i64) {
    let mut devs: Vec<String> = std::fs::read_dir("/sys/block")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path().join("dev")).ok())
                .collect()
        })
        .unwrap_or_default();
    devs.sort();
    let dev = devs
        .first()
        .expect("no block device in /sys/block: io limits need one (tests-v2vm.sh loads brd)");
    let (a, b) = dev.trim().split_once(':').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[test]
fn real_io_and_hugetlb_limits() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    let (major, minor) = a_block_device();
    // hugetlb lives in cgroup2 on a hybrid host, whose root (not ours) would have to delegate it: there
    // the limit is only checked against the fake cgroupfs (tests_fake.rs), unless the host is a VM of
    // the tests' own (tests-v2vm.sh --hybrid sets BRIG_CGTEST_OWN_ROOT).
    let own_root = std::env::var_os("BRIG_CGTEST_OWN_ROOT").is_some();
    let hugetlb = cg.place("hugetlb").is_some() && (cg.layout != HostLayout::Hybrid || own_root);
    let mut r = json!({"blockIO": {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}],
        "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 20}]
    }});
    if hugetlb {
        r["hugepageLimits"] = json!([{"pageSize": "2MB", "limit": 4194304}]);
    }
    cg.create(Some(&res(r))).unwrap();
    match cg.place("blkio").or_else(|| cg.place("io")).unwrap() {
        Place::V1(d) => {
            assert_eq!(
                read(d, "blkio.throttle.read_bps_device"),
                format!("{major}:{minor} 1048576")
            );
            assert_eq!(
                read(d, "blkio.throttle.write_iops_device"),
                format!("{major}:{minor} 20")
            );
        }
        Place::V2(d) => {
            assert_eq!(
                read(d, "io.max"),
                format!("{major}:{minor} rbps=1048576 wbps=max riops=max wiops=20")
            );
        }
    }
    if hugetlb {
        match cg.place("hugetlb").unwrap() {
            Place::V1(d) => assert_eq!(read(d, "hugetlb.2MB.limit_in_bytes"), "4194304"),
            Place::V2(d) => assert_eq!(read(d, "hugetlb.2MB.max"), "4194304"),
        }
        assert!(cg.stats().unwrap().hugetlb.contains_key("2MB"));
    }
}

#[test]
fn real_unsupported_fields_are_named() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    cg.create(None).unwrap();
    match cg.place("memory").unwrap() {
        Place::V2(_) => {
            let e = cg
                .update(&res(json!({"memory": {"kernel": 1}})))
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                "linux.resources.memory.kernel: not supported on cgroup v2"
            );
        }
        Place::V1(_) => {
            let e = cg
                .update(&res(json!({"unified": {"memory.high": "1"}})))
                .unwrap_err();
            assert!(e.to_string().starts_with("linux.resources.unified"), "{e}");
        }
    }
    // A value the kernel refuses: the field, the file and the value are all in the chain.
    let e = cg
        .update(&res(json!({"cpu": {"cpus": "4096"}})))
        .unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with("linux.resources.cpu.cpus: write `4096` to `")
            && e.contains("cpuset.cpus`: "),
        "{e}"
    );
}

#[test]
fn real_network_class_and_priorities() {
    let p = Prefix::new();
    let mut cg = p.cgroup("ctr");
    let r = res(
        json!({"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 5}]}}),
    );
    let paths = (
        cg.v1_path("net_cls").map(Path::to_path_buf),
        cg.v1_path("net_prio").map(Path::to_path_buf),
    );
    match paths {
        (Some(cls), Some(prio)) => {
            cg.create(Some(&r)).unwrap();
            assert_eq!(read(&cls, "net_cls.classid"), "1048577");
            assert!(read(&prio, "net_prio.ifpriomap")
                .lines()
                .any(|l| l == "lo 5"));
        }
        _ => {
            let e = cg.create(Some(&r)).unwrap_err().to_string();
            assert!(e.starts_with("linux.resources.network.classID: "), "{e}");
            assert!(!cg.dirs()[0].exists(), "a failed create leaves nothing");
        }
    }
}
