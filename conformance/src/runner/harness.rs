//! The per-case harness: a temp bundle and state root, runtime invocations with a timeout,
//! state queries, and cleanup of everything a case made (containers, cgroups, mounts, dirs).

use brig_conformance::procfs;
use brig_conformance::sys;
use brig_conformance::tap::Tap;
use serde_json::{json, Value};
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// v1 controllers the runtime may create a cgroup in (plus the v2 root when that is the host's).
pub const CGROUP_ROOTS: [&str; 11] = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "net_cls", "hugetlb"];

/// Busybox applets linked into every rootfs.
const APPLETS: [&str; 24] = [
    "sh", "cat", "echo", "sleep", "ls", "mkdir", "rm", "touch", "test", "true", "false", "kill", "id", "env", "tty", "stat", "grep", "readlink", "mount", "ps", "hostname", "trap", "printf", "wc",
];

/// What every case shares: the runtime, the checker, the host's namespaces, the temp root.
pub struct Host {
    /// The runtime as invoked (maybe a wrapper script).
    pub runtime: PathBuf,
    /// The runtime as named by the user.
    pub runtime_name: String,
    pub checker: PathBuf,
    pub busybox: PathBuf,
    pub tmp: PathBuf,
    pub host_ns: Value,
    pub cgroup_v2_only: bool,
    pub timeout: Duration,
    pub verbose: bool,
}

/// What one runtime invocation produced. `code` is None on timeout or death by signal.
#[derive(Debug, Clone)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A one-line description for failure reasons.
    pub fn why(&self) -> String {
        let err = self.stderr.trim();
        let err: String = err.chars().take(300).collect();
        if self.timed_out {
            format!("timed out; stderr: {err}")
        } else {
            format!("exit {:?}; stderr: {err}", self.code)
        }
    }
}

/// Extra setup for one runtime invocation.
#[derive(Default)]
pub struct Io {
    /// Where the runtime's stdout (and so a non-terminal container's) goes.
    pub stdout: Option<PathBuf>,
    /// Files to pass as fds 3, 4, ... (for --preserve-fds).
    pub extra_fds: Vec<PathBuf>,
    pub timeout: Option<Duration>,
}

/// One case's sandbox and its results.
pub struct Case<'h> {
    pub host: &'h Host,
    pub id: String,
    pub dir: PathBuf,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub state_root: PathBuf,
    /// The container id (the case id).
    pub cid: String,
    pub cfg: Value,
    pub expect: Value,
    pub tap: Tap,
    /// Helper processes (namespace holders) to end at cleanup.
    pub holders: Vec<Child>,
    /// Every container id this case created, for cleanup.
    pub cids: Vec<String>,
    seq: u32,
}

fn copy_exec(src: &Path, dst: &Path) -> std::io::Result<()> {
    fs::copy(src, dst)?;
    fs::set_permissions(dst, fs::Permissions::from_mode(0o755))
}

impl<'h> Case<'h> {
    /// Makes the case's temp dir, a busybox rootfs with the checker, and the base config.
    pub fn new(host: &'h Host, id: &str) -> std::io::Result<Case<'h>> {
        let dir = host.tmp.join(id);
        let bundle = dir.join("bundle");
        let rootfs = bundle.join("rootfs");
        for d in ["bin", "proc", "sys", "dev", "tmp", "etc", "conformance"] {
            fs::create_dir_all(rootfs.join(d))?;
        }
        for d in [&dir, &bundle, &rootfs] {
            // World-traversable, so a user-namespaced root can reach its rootfs.
            fs::set_permissions(d, fs::Permissions::from_mode(0o755))?;
        }
        fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))?;
        copy_exec(&host.busybox, &rootfs.join("bin/busybox"))?;
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a))?;
        }
        copy_exec(&host.checker, &rootfs.join("conformance/checker"))?;
        let marker = format!("rootfs of {id}\n");
        fs::write(rootfs.join("conformance/rootfs-marker"), &marker)?;
        fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")?;
        fs::write(rootfs.join("etc/group"), "root:x:0:\nnobody:x:65534:\n")?;
        let state_root = dir.join("state");
        let cfg = base_config(id);
        let expect = json!({ "host_ns": host.host_ns, "rootfs_marker": marker });
        Ok(Case { host, id: id.to_string(), dir, bundle, rootfs, state_root, cid: id.to_string(), cfg, expect, tap: Tap::silent(), holders: Vec::new(), cids: vec![id.to_string()], seq: 0 })
    }

    /// The absolute cgroupsPath this case's containers use.
    pub fn cgroup_path(&self) -> String {
        format!("/brig-conformance/{}", self.id)
    }

    /// Writes config.json into the bundle and, with expect.json, into the rootfs for the checker.
    pub fn write_bundle(&self) {
        let text = serde_json::to_string_pretty(&self.cfg).unwrap_or_default();
        let _ = fs::write(self.bundle.join("config.json"), &text);
        let _ = fs::write(self.rootfs.join("conformance/config.json"), &text);
        let _ = fs::write(self.rootfs.join("conformance/expect.json"), serde_json::to_string(&self.expect).unwrap_or_default());
    }

    /// Runs `runtime --root <state> args...` with the case timeout.
    pub fn rt(&mut self, args: &[&str]) -> Out {
        self.rt_io(args, Io::default())
    }

    pub fn rt_io(&mut self, args: &[&str], io: Io) -> Out {
        self.seq += 1;
        let out_path = io.stdout.clone().unwrap_or_else(|| self.dir.join(format!("rt-{}.out", self.seq)));
        let err_path = self.dir.join(format!("rt-{}.err", self.seq));
        let mut cmd = Command::new(&self.host.runtime);
        cmd.arg("--root").arg(&self.state_root).args(args).current_dir(&self.bundle).stdin(Stdio::null());
        let (Ok(o), Ok(e)) = (fs::File::create(&out_path), fs::File::create(&err_path)) else {
            return Out { code: None, stdout: String::new(), stderr: "cannot create output files".into(), timed_out: false };
        };
        cmd.stdout(o).stderr(e);
        let files: Vec<fs::File> = io.extra_fds.iter().filter_map(|p| fs::File::open(p).ok()).collect();
        let raw: Vec<i32> = files.iter().map(|f| f.as_raw_fd()).collect();
        if !raw.is_empty() {
            // SAFETY: only async-signal-safe calls (dup2, fcntl) run between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    // Move the files out of the way first so dup2 never clobbers a source fd.
                    let hi: Vec<i32> = raw.iter().enumerate().map(|(i, _)| 100 + i as i32).collect();
                    for (src, tmp) in raw.iter().zip(&hi) {
                        sys::dup_to(*src, *tmp)?;
                    }
                    for (i, tmp) in hi.iter().enumerate() {
                        sys::dup_to(*tmp, 3 + i as i32)?;
                        sys::clear_cloexec(3 + i as i32)?;
                        sys::close_fd(*tmp);
                    }
                    Ok(())
                });
            }
        }
        if self.host.verbose {
            eprintln!("  [{}] {} {}", self.id, self.host.runtime_name, args.join(" "));
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Out { code: None, stdout: String::new(), stderr: format!("spawn {}: {e}", self.host.runtime.display()), timed_out: false },
        };
        drop(files);
        let deadline = Instant::now() + io.timeout.unwrap_or(self.host.timeout);
        let (code, timed_out) = loop {
            match child.try_wait() {
                Ok(Some(st)) => break (st.code(), false),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break (None, true);
                }
                Err(_) => break (None, false),
            }
        };
        let out = Out { code, stdout: fs::read_to_string(&out_path).unwrap_or_default(), stderr: fs::read_to_string(&err_path).unwrap_or_default(), timed_out };
        if self.host.verbose && !out.ok() {
            eprintln!("  [{}]   -> {}", self.id, out.why());
        }
        out
    }

    /// `runtime state <id>` parsed, or why not.
    pub fn state(&mut self, id: &str) -> Result<Value, String> {
        let o = self.rt(&["state", id]);
        if !o.ok() {
            return Err(o.why());
        }
        serde_json::from_str(&o.stdout).map_err(|e| format!("state output is not JSON ({e}): {}", o.stdout.trim()))
    }

    /// Polls `state` until `status` is `want` (or the deadline passes); returns the last state.
    pub fn wait_status(&mut self, id: &str, want: &str, within: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + within;
        loop {
            let s = self.state(id);
            if let Ok(v) = &s {
                if v["status"] == want {
                    return s;
                }
            }
            if Instant::now() >= deadline {
                return s.and_then(|v| Err(format!("status {} after {within:?}, want {want}", v["status"])));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a container process to exit. We are a subreaper, so after `create` returned the
    /// container's init is our child; when it is not (ECHILD), fall back to polling for it.
    pub fn wait_pid(&self, pid: i32, within: Duration) -> Result<Option<sys::Exit>, String> {
        let deadline = Instant::now() + within;
        loop {
            match sys::try_wait_pid(pid) {
                Ok(Some(e)) => return Ok(Some(e)),
                Ok(None) => {}
                Err(_) if !sys::pid_alive(pid) => return Ok(None),
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                return Err(format!("pid {pid} still running after {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Existing cgroup dirs of this case, in every hierarchy.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        let rel = self.cgroup_path();
        let mut out = Vec::new();
        let mut roots: Vec<String> = CGROUP_ROOTS.iter().map(|c| format!("/sys/fs/cgroup/{c}")).collect();
        roots.push("/sys/fs/cgroup/unified".into());
        if self.host.cgroup_v2_only {
            roots = vec!["/sys/fs/cgroup".into()];
        }
        for r in roots {
            let p = PathBuf::from(format!("{r}{rel}"));
            if p.is_dir() {
                out.push(p);
            }
        }
        out
    }

    /// Processes in this case's cgroups.
    pub fn cgroup_pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for d in self.cgroup_dirs() {
            collect_procs(&d, &mut pids);
        }
        pids.sort();
        pids.dedup();
        pids
    }

    /// Checks that container `id` left nothing behind: no state dir, no cgroup, no process.
    pub fn check_nothing_left(&mut self, prefix: &str, id: &str, pid: Option<i32>) {
        let sd = self.state_root.join(id);
        self.tap.check(format!("{prefix}.no-state-dir"), !sd.exists(), || format!("{} still exists", sd.display()));
        let dirs = self.cgroup_dirs();
        self.tap.check(format!("{prefix}.no-cgroup"), dirs.is_empty(), || format!("left: {dirs:?}"));
        let mut procs = self.cgroup_pids();
        if let Some(p) = pid {
            reap_zombies();
            if p > 0 && sys::pid_alive(p) && !is_zombie(p) {
                procs.push(p);
            }
        }
        procs.extend(self.stray_children());
        procs.sort();
        procs.dedup();
        self.tap.check(format!("{prefix}.no-process"), procs.is_empty(), || format!("processes left: {procs:?}"));
    }

    /// Live children of the runner other than this case's namespace holders: what a runtime left.
    pub fn stray_children(&self) -> Vec<i32> {
        let holders: Vec<i32> = self.holders.iter().map(|h| h.id() as i32).collect();
        children_of(std::process::id() as i32).into_iter().filter(|p| !is_zombie(*p) && !holders.contains(p)).collect()
    }

    /// Ends everything the case made. Safe to call after any failure.
    pub fn cleanup(&mut self) {
        for id in self.cids.clone() {
            if self.state_root.join(&id).exists() || self.state_root.exists() {
                let o = self.rt_io(&["delete", "--force", &id], Io { timeout: Some(Duration::from_secs(10)), ..Io::default() });
                let _ = o;
            }
        }
        for p in self.cgroup_pids() {
            let _ = sys::kill(p, 9);
        }
        for mut h in self.holders.drain(..) {
            if let Ok(Some(_)) = h.try_wait() {
                continue;
            }
            for c in children_of(h.id() as i32) {
                let _ = sys::kill(c, 9);
            }
            let _ = h.kill();
            let _ = h.wait();
        }
        // Whatever else is still our child came from this case's runtime invocations (orphans
        // are re-parented to us, the subreaper): end it so the next case starts clean.
        for p in self.stray_children() {
            let _ = sys::kill(p, 9);
        }
        std::thread::sleep(Duration::from_millis(5));
        reap_zombies();
        for d in self.cgroup_dirs() {
            remove_cgroup_tree(&d);
        }
        let dir = self.dir.display().to_string();
        let mut ours: Vec<String> = procfs::mountinfo("self").into_iter().map(|m| m.mount_point).filter(|m| m.starts_with(&dir)).collect();
        ours.reverse();
        for m in ours {
            let _ = sys::umount_detach(&m);
        }
        if !self.host.verbose {
            let _ = fs::remove_dir_all(&self.dir);
        }
        reap_zombies();
    }
}

fn collect_procs(dir: &Path, out: &mut Vec<i32>) {
    if let Ok(s) = fs::read_to_string(dir.join("cgroup.procs")) {
        out.extend(s.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    }
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_procs(&e.path(), out);
            }
        }
    }
}

/// Removes a cgroup dir and its children, deepest first (rmdir only: cgroupfs needs no more).
pub fn remove_cgroup_tree(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    for _ in 0..50 {
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reaps every exited child (orphaned container inits end up here: we are a subreaper).
pub fn reap_zombies() {
    while let Ok(Some(_)) = sys::reap_any() {}
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z')).unwrap_or(true)
}

/// Direct children of `pid`.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in rd.flatten() {
            if let Ok(s) = fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|x| x.parse::<i32>().ok()));
            }
        }
    }
    out
}


/// The config every case starts from: runc's `spec` defaults, no terminal, the checker as
/// the process, and an absolute cgroupsPath under /brig-conformance.
pub fn base_config(id: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/conformance/checker"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "cgroupsPath": format!("/brig-conformance/{id}"),
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}
