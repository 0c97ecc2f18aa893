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
