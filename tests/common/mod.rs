//! Test harness for black-box runs of the real `brig` binary as root: busybox bundles in temp
//! dirs, a private state root per test, and a guard that removes every container, cgroup, state
//! dir and bundle the test made, also when it fails.

use serde_json::{json, Value};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

static NEXT: AtomicUsize = AtomicUsize::new(0);
static INIT: Once = Once::new();

/// The binary under test: $BRIG, else target/debug/brig of this workspace.
pub fn brig_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BRIG") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/brig")
}

fn init_process() {
    INIT.call_once(|| {
        assert!(
            nix::unistd::geteuid().is_root(),
            "brig's integration tests must run as root"
        );
        assert!(
            brig_bin().exists(),
            "{} not built (run `make build`)",
            brig_bin().display()
        );
        // Container inits outlive `brig create`: make them our children so we can reap them.
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    });
}

/// Commands' results, with text helpers.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "command failed: stdout={:?} stderr={:?}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn fails_with(&self, needle: &str) -> &Self {
        assert_ne!(
            self.code, 0,
            "command succeeded but should fail with {needle:?}: stdout={:?}",
            self.stdout
        );
        assert!(
            self.stderr.contains(needle),
            "stderr {:?} does not contain {needle:?}",
            self.stderr
        );
        let lines: Vec<_> = self.stderr.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1, "error must be one line, got {lines:?}");
        self
    }
}

/// One test's world: a state root, bundles, and the ids it created.
pub struct Env {
    pub dir: PathBuf,
    pub root: PathBuf,
    ids: std::cell::RefCell<Vec<String>>,
    pids: std::cell::RefCell<Vec<(String, i32)>>,
}

impl Env {
    pub fn new(name: &str) -> Env {
        init_process();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("brig-it-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = dir.join("state");
        Env {
            dir,
            root,
            ids: Default::default(),
            pids: Default::default(),
        }
    }

    /// A unique container id for this test.
    pub fn id(&self, base: &str) -> String {
        let id = format!(
            "{base}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        self.ids.borrow_mut().push(id.clone());
        id
    }

    /// A busybox bundle whose config is runc's default made non-interactive, with the given
    /// args, an absolute cgroupsPath for `id`, then `edit` applied.
    pub fn bundle(&self, id: &str, args: &[&str], edit: impl FnOnce(&mut Value)) -> PathBuf {
        let b = self.dir.join(format!("bundle-{id}"));
        let bin = b.join("rootfs/bin");
        let _ = std::fs::remove_dir_all(&b);
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox"))
            .expect("/bin/busybox (install busybox-static)");
        for a in BUSYBOX_APPLETS {
            symlink("busybox", bin.join(a)).unwrap();
        }
        for d in ["proc", "sys", "dev", "etc", "tmp"] {
            std::fs::create_dir_all(b.join("rootfs").join(d)).unwrap();
        }
        std::fs::write(
            b.join("rootfs/etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        )
        .unwrap();
        std::fs::write(b.join("rootfs/etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
        let mut cfg = default_config();
        cfg["process"]["args"] = json!(args);
        cfg["linux"]["cgroupsPath"] = json!(format!("/brig-test/{id}"));
        edit(&mut cfg);
        std::fs::write(
            b.join("config.json"),
            serde_json::to_vec_pretty(&cfg).unwrap(),
        )
        .unwrap();
        b
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(brig_bin());
        c.arg("--root").arg(&self.root);
        c.stdin(Stdio::null());
        c
    }

    /// Run brig with args (after `--root`), collecting output. Output goes through files, not
    /// pipes: a created container's init inherits brig's stdio and keeps it open (as with runc).
    pub fn brig(&self, args: &[&str]) -> Run {
        self.output(self.cmd().args(args))
    }

    /// Run a prepared command with stdout/stderr captured through files.
    pub fn output(&self, cmd: &mut Command) -> Run {
        use std::os::unix::process::ExitStatusExt;
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let (o, e) = (
            self.dir.join(format!(".out{n}")),
            self.dir.join(format!(".err{n}")),
        );
        let st = cmd
            .stdout(std::fs::File::create(&o).unwrap())
            .stderr(std::fs::File::create(&e).unwrap())
            .status()
            .expect("spawn brig");
        let r = Run {
            code: st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)),
            stdout: std::fs::read_to_string(&o).unwrap_or_default(),
            stderr: std::fs::read_to_string(&e).unwrap_or_default(),
        };
        let _ = std::fs::remove_file(o);
        let _ = std::fs::remove_file(e);
        r
    }

    pub fn create(&self, id: &str, bundle: &Path) -> Run {
        let r = self.brig(&["create", "--bundle", bundle.to_str().unwrap(), id]);
        if r.code == 0 {
            if let Ok(st) = self.state(id) {
                self.pids
                    .borrow_mut()
                    .push((id.to_string(), st["pid"].as_i64().unwrap_or(0) as i32));
            }
        }
        r
    }

    pub fn state(&self, id: &str) -> Result<Value, String> {
        let r = self.brig(&["state", id]);
        if r.code != 0 {
            return Err(r.stderr);
        }
        serde_json::from_str(&r.stdout).map_err(|e| format!("{e}: {}", r.stdout))
    }

    pub fn status(&self, id: &str) -> String {
        self.state(id)
            .map(|s| s["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_else(|e| e)
    }

    /// Wait (up to 10 s) until the container reports `status`.
    #[track_caller]
    pub fn wait_status(&self, id: &str, status: &str) {
        for _ in 0..1000 {
            if self.status(id) == status {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("container {id} never reached {status}: {}", self.status(id));
    }

    /// Run a container in the foreground and return its output and exit code.
    pub fn run(&self, id: &str, bundle: &Path) -> Run {
        self.brig(&["run", "--bundle", bundle.to_str().unwrap(), id])
    }

    /// Assert that nothing of container `id` is left: no state, no cgroup, no process.
    #[track_caller]
    pub fn assert_gone(&self, id: &str) {
        assert!(
            !self.root.join(id).exists(),
            "state dir of {id} left behind"
        );
        for d in cgroup_dirs(id) {
            assert!(!d.exists(), "cgroup {} left behind", d.display());
        }
        for (_, pid) in self.pids.borrow().iter().filter(|(i, p)| i == id && *p > 0) {
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                let state = stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .chars()
                    .next();
                assert_eq!(state, Some('Z'), "process {pid} of {id} still running");
            }
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for id in self.ids.borrow().iter() {
            if let Ok(st) = self.state(id) {
                self.pids
                    .borrow_mut()
                    .push((id.clone(), st["pid"].as_i64().unwrap_or(0) as i32));
            }
            let _ = self
                .cmd()
                .args(["delete", "--force", id])
                .stderr(Stdio::null())
                .status();
            for d in cgroup_dirs(id) {
                let _ = std::fs::remove_dir(&d);
            }
        }
        for (_, pid) in self.pids.borrow().iter().filter(|(_, p)| *p > 0) {
            let _ = nix::sys::wait::waitpid(
                nix::unistd::Pid::from_raw(*pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            );
        }
        for base in cgroup_bases() {
            let _ = std::fs::remove_dir(base.join("brig-test"));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub const BUSYBOX_APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "sleep", "id", "hostname", "ps", "mount", "true", "false", "touch",
    "mkdir", "stat", "grep", "readlink", "ulimit", "env", "pwd", "umask", "test", "head", "wc",
    "kill", "mknod", "uname", "dd", "tr", "cut", "sort", "nproc", "ip",
];

/// runc's `spec` output with terminal off: the base of every test bundle.
pub fn default_config() -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
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
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "brig",
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
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// Every cgroup hierarchy mount point on this host.
pub fn cgroup_bases() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter(|l| l.contains(" - cgroup ") || l.contains(" - cgroup2 "))
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect()
}

/// Where container `id`'s cgroup would live in each hierarchy.
pub fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    cgroup_bases()
        .into_iter()
        .map(|b| b.join("brig-test").join(id))
        .collect()
}

/// How this host mounts cgroups (from /proc/self/mountinfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Only v1 hierarchies.
    V1,
    /// Only cgroup2.
    V2,
    /// v1 hierarchies plus a cgroup2 mount (systemd's hybrid mode).
    Hybrid,
}

/// The layout of this host; panics when no cgroup filesystem is mounted.
pub fn layout() -> Layout {
    let mounts = cgroup_mounts();
    let v1 = mounts.iter().any(|m| m.controllers.is_some());
    let v2 = mounts.iter().any(|m| m.controllers.is_none());
    match (v1, v2) {
        (true, true) => Layout::Hybrid,
        (true, false) => Layout::V1,
        (false, true) => Layout::V2,
        (false, false) => panic!("no cgroup filesystem in /proc/self/mountinfo"),
    }
}

/// One cgroup mount: its mount point, the path inside the hierarchy it shows, and for v1 the
/// controllers (and `name=`) bound to it (None for cgroup2).
struct CgroupMount {
    point: PathBuf,
    root: String,
    controllers: Option<Vec<String>>,
}

fn cgroup_mounts() -> Vec<CgroupMount> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").expect("read /proc/self/mountinfo");
    let mut out: Vec<CgroupMount> = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        let controllers = match post.first() {
            Some(&"cgroup2") => None,
            Some(&"cgroup") => Some(
                post.get(2)
                    .unwrap_or(&"")
                    .split(',')
                    .filter(|o| {
                        ![
                            "rw",
                            "ro",
                            "xattr",
                            "clone_children",
                            "noprefix",
                            "cpuset_v2_mode",
                        ]
                        .contains(o)
                            && !o.starts_with("release_agent=")
                            && !o.starts_with("favordynmods")
                    })
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            ),
            _ => continue,
        };
        // The first mount of each hierarchy is enough (bind mounts repeat it).
        if out.iter().any(|m| m.controllers == controllers) {
            continue;
        }
        out.push(CgroupMount {
            point: PathBuf::from(pre[4]),
            root: pre[3].to_string(),
            controllers,
        });
    }
    out
}

/// A process's cgroup directories in every hierarchy of this host, on any layout: built from
/// /proc/self/mountinfo and /proc/PID/cgroup, so the paths stay valid after the process exits.
#[derive(Debug, Clone)]
pub struct CgroupFiles {
    pub layout: Layout,
    /// (controllers of the v1 hierarchy, the process's directory in it).
    pub v1: Vec<(Vec<String>, PathBuf)>,
    /// The process's directory in the cgroup2 hierarchy, and the controllers the hierarchy offers.
    pub unified: Option<(Vec<String>, PathBuf)>,
}

impl CgroupFiles {
    /// The cgroups of `pid` (read from the host's cgroup namespace).
    #[track_caller]
    pub fn of_pid(pid: i64) -> CgroupFiles {
        let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .unwrap_or_else(|e| panic!("read /proc/{pid}/cgroup: {e}"));
        let mut v1 = Vec::new();
        let mut unified = None;
        for m in cgroup_mounts() {
            let key = match &m.controllers {
                Some(c) => c.join(","),
                None => String::new(),
            };
            let Some(path) = text.lines().find_map(|l| {
                let mut it = l.splitn(3, ':');
                let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
                let same = match &m.controllers {
                    None => ctrls.is_empty(),
                    Some(c) => {
                        let mut a: Vec<&str> = ctrls.split(',').collect();
                        let mut b: Vec<&str> = c.iter().map(String::as_str).collect();
                        a.sort();
                        b.sort();
                        a == b
                    }
                };
                same.then_some(path)
            }) else {
                panic!("/proc/{pid}/cgroup has no line for the hierarchy `{key}`: {text}");
            };
            let rel = path
                .strip_prefix(m.root.as_str())
                .unwrap_or(path)
                .trim_start_matches('/');
            let dir = m.point.join(rel);
            match m.controllers {
                Some(c) => v1.push((c, dir)),
                None => {
                    let offered = std::fs::read_to_string(m.point.join("cgroup.controllers"))
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_string)
                        .collect();
                    unified = Some((offered, dir));
                }
            }
        }
        CgroupFiles {
            layout: layout(),
            v1,
            unified,
        }
    }

    /// The cgroups of a container's init, checked to be brig's `/brig-test/<id>` everywhere.
    #[track_caller]
    pub fn of_container(env: &Env, id: &str) -> CgroupFiles {
        let pid = env.state(id).expect("state")["pid"].as_i64().unwrap();
        let cg = CgroupFiles::of_pid(pid);
        for d in cg.dirs() {
            assert!(
                d.ends_with(Path::new("brig-test").join(id)),
                "init {pid} of {id} is in {}",
                d.display()
            );
        }
        cg
    }

    /// Whether `controller` is handled by cgroup2 here (not by a v1 hierarchy).
    pub fn is_v2(&self, controller: &str) -> bool {
        !self
            .v1
            .iter()
            .any(|(c, _)| c.iter().any(|x| x == controller))
            && self.unified.is_some()
    }

    /// The directory that holds `controller`'s files: its v1 hierarchy, else cgroup2 when offered
    /// there (`freezer` is cgroup2's `cgroup.freeze`, always present).
    #[track_caller]
    pub fn dir(&self, controller: &str) -> &Path {
        if let Some((_, d)) = self
            .v1
            .iter()
            .find(|(c, _)| c.iter().any(|x| x == controller))
        {
            return d;
        }
        match &self.unified {
            Some((offered, d))
                if controller == "freezer" || offered.iter().any(|c| c == controller) =>
            {
                d
            }
            _ => panic!(
                "no {controller} controller on this host ({:?} layout)",
                self.layout
            ),
        }
    }

    /// Path of `file` of `controller` (e.g. `("memory", "memory.max")`).
    #[track_caller]
    pub fn file(&self, controller: &str, file: &str) -> PathBuf {
        self.dir(controller).join(file)
    }

    /// The trimmed content of `file` of `controller`.
    #[track_caller]
    pub fn read(&self, controller: &str, file: &str) -> String {
        let p = self.file(controller, file);
        std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
            .trim()
            .to_string()
    }

    /// Every directory of the process, one per hierarchy.
    pub fn dirs(&self) -> Vec<&Path> {
        self.v1
            .iter()
            .map(|(_, d)| d.as_path())
            .chain(self.unified.as_ref().map(|(_, d)| d.as_path()))
            .collect()
    }
}
