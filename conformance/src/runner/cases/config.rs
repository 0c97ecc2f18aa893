//! Config cases for `process`, `root`, `hostname` and `mounts` (config.md): one small
//! variation of the base config each, checked from inside by the checker.

use super::{arr, checker, def, Def};
use crate::harness::Case;
use serde_json::{json, Value};

const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

fn caps(c: &mut Case, sets: [&[&str]; 5]) {
    let names = ["bounding", "effective", "inheritable", "permitted", "ambient"];
    let mut o = serde_json::Map::new();
    for (n, s) in names.iter().zip(sets) {
        o.insert(n.to_string(), json!(s));
    }
    c.cfg["process"]["capabilities"] = Value::Object(o);
}

/// A directory to bind-mount, holding a marker the checker expects at `dest`.
pub fn bind_dir(c: &mut Case, name: &str, dest: &str) -> String {
    let d = c.dir.join(name);
    let _ = std::fs::create_dir_all(&d);
    let marker = format!("bind source {name} of {}\n", c.id);
    let _ = std::fs::write(d.join(".conformance-marker"), &marker);
    c.expect["bind_markers"][dest] = json!(marker);
    d.display().to_string()
}

fn bind_file(c: &mut Case, name: &str, dest: &str) -> String {
    let f = c.dir.join(name);
    let marker = format!("bind file {name} of {}\n", c.id);
    let _ = std::fs::write(&f, &marker);
    c.expect["bind_markers"][dest] = json!(marker);
    f.display().to_string()
}

/// Makes the case dir a shared mount (a bind onto itself), so the rootfs has a peer group to
/// be a slave of or to share with: the host's own mounts may all be private.
fn shared_bundle(c: &mut Case) {
    let d = c.dir.display().to_string();
    let ok = std::process::Command::new("mount").args(["--bind", &d, &d]).status().map(|s| s.success()).unwrap_or(false)
        && std::process::Command::new("mount").args(["--make-rshared", &d]).status().map(|s| s.success()).unwrap_or(false);
    c.tap.check("harness.shared-bundle-mount", ok, || format!("cannot make {d} a shared bind mount"));
}

/// Mounts a tmpfs at `<src>/sub` on the host (the harness unmounts it), so a bind of `src`
/// has a submount; with `dest`, the checker expects it at `<dest>/sub`.
fn submount(c: &mut Case, src: &str, dest: &str) {
    let sub = format!("{src}/sub");
    let _ = std::fs::create_dir_all(&sub);
    let ok = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "conformance-sub", &sub]).status().map(|s| s.success()).unwrap_or(false);
    c.tap.check("harness.submount", ok, || format!("cannot mount a tmpfs at {sub}"));
    if !dest.is_empty() {
        c.expect["present_mounts"] = json!([format!("{dest}/sub")]);
    }
}

/// A setuid-root copy of the checker in the rootfs, for the no_new_privs probe.
fn suid_probe(c: &mut Case) {
    use std::os::unix::fs::PermissionsExt;
    let p = c.rootfs.join("conformance/checker-suid");
    let ok = std::fs::copy(c.rootfs.join("conformance/checker"), &p).and_then(|_| std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o4755)));
    c.tap.check("harness.suid-probe", ok.is_ok(), || format!("{ok:?}"));
    c.expect["suid_probe"] = json!("/conformance/checker-suid");
}

fn mount(c: &mut Case, m: Value) {
    arr(&mut c.cfg, "mounts").push(m);
}

/// The capabilities in the runner's own bounding set (a sandboxed host may lack some).
pub fn host_caps() -> Vec<&'static str> {
    let bnd = brig_conformance::procfs::status_field("self", "CapBnd").and_then(|s| u64::from_str_radix(&s, 16).ok()).unwrap_or(0);
    ALL_CAPS.iter().enumerate().filter(|(b, _)| bnd & (1 << b) != 0).map(|(_, n)| *n).collect()
}

/// Whether the runner holds a capability; a case that needs one it lacks is skipped.
pub fn host_has_cap(name: &str) -> bool {
    host_caps().contains(&name)
}

/// Sets rlimits, clamped to the runner's own hard limits unless `raise`: raising a hard limit
/// needs CAP_SYS_RESOURCE, which a sandboxed host may not give the runtime.
fn rlimit(c: &mut Case, limits: &[(&str, u64, u64)]) {
    let own = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let v: Vec<Value> = limits
        .iter()
        .map(|(t, s, h)| {
            let row = crate::cases::RLIMIT_ROWS.iter().find(|(n, _)| n == t).map(|(_, r)| *r).unwrap_or("");
            let max = brig_conformance::procfs::limit(&own, row).map(|(_, hard)| hard).unwrap_or(u64::MAX);
            let h = (*h).min(max);
            json!({"type": t, "soft": (*s).min(h), "hard": h})
        })
        .collect();
    c.cfg["process"]["rlimits"] = json!(v);
}

/// `inner` run only when the runner holds capability `cap`, else one skipped check.
fn needs_cap(id: &str, cap: &'static str, inner: Def) -> Def {
    def(id, move |c: &mut Case| {
        if host_has_cap(cap) {
            (inner.run)(c)
        } else {
            c.tap.skip("host-capability", format!("host limitation: the runner (so the runtime) lacks {cap}"));
        }
    })
}

pub fn cases() -> Vec<Def> {
    let mut v = vec![
        // Everything the checker knows, on the base config (runc's `spec` defaults).
        checker("default", &[], |_| {}),
        checker("process-args", &["process"], |c| c.cfg["process"]["args"] = json!(["/conformance/checker", "with space", "--flag=1", "", "ünïcode"])),
        checker("process-cwd", &["process"], |c| c.cfg["process"]["cwd"] = json!("/tmp")),
        checker("process-cwd-missing", &["process"], |c| c.cfg["process"]["cwd"] = json!("/created/by/runtime")),
        checker("process-env", &["process"], |c| {
            c.cfg["process"]["env"] = json!(["PATH=/bin", "EMPTY=", "WITH_EQUALS=a=b=c", "SPACES=one two  three", "UNICODE=héllo"])
        }),
        checker("process-no-new-privileges-false", &["process"], |c| c.cfg["process"]["noNewPrivileges"] = json!(false)),
        checker("process-nnp-blocks-setuid", &["process"], |c| {
            suid_probe(c);
            c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        }),
        checker("process-setuid-without-nnp", &["process"], |c| {
            suid_probe(c);
            c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            c.cfg["process"]["noNewPrivileges"] = json!(false);
        }),
        checker("process-oom-score-adj", &["process"], |c| c.cfg["process"]["oomScoreAdj"] = json!(500)),
        needs_cap("process-oom-score-adj-negative", "CAP_SYS_RESOURCE", checker("", &["process"], |c| c.cfg["process"]["oomScoreAdj"] = json!(-250))),
        needs_cap("rlimit-raise-hard", "CAP_SYS_RESOURCE", checker("", &["rlimits"], |c| {
            let own = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
            let hard = brig_conformance::procfs::limit(&own, "Max open files").map(|(_, h)| h).unwrap_or(1 << 20);
            c.cfg["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": hard + 1}]);
        })),
        checker("user-uid-gid", &["user", "process"], |c| c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1001})),
        checker("user-additional-gids", &["user"], |c| c.cfg["process"]["user"] = json!({"uid": 0, "gid": 0, "additionalGids": [10, 20, 30]})),
        checker("user-nonroot-additional-gids", &["user"], |c| c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5, 2000]})),
        checker("user-umask-077", &["user"], |c| c.cfg["process"]["user"]["umask"] = json!(0o077)),
        checker("user-umask-000", &["user"], |c| c.cfg["process"]["user"]["umask"] = json!(0)),
        checker("caps-default", &["caps"], |_| {}),
        checker("caps-none", &["caps"], |c| caps(c, [&[], &[], &[], &[], &[]])),
        // Every capability the runner itself may hold: a runtime cannot grant more than it has.
        checker("caps-all", &["caps"], |c| {
            let all = host_caps();
            caps(c, [&all, &all, &all, &all, &all]);
        }),
        checker("caps-bounding-only", &["caps"], |c| caps(c, [&["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"], &[], &[], &[], &[]])),
        checker("caps-effective-subset", &["caps"], |c| {
            caps(c, [&["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], &["CAP_KILL"], &[], &["CAP_CHOWN", "CAP_KILL"], &[]])
        }),
        checker("caps-inheritable", &["caps"], |c| {
            caps(c, [&["CAP_CHOWN", "CAP_SYS_NICE"], &["CAP_CHOWN"], &["CAP_SYS_NICE", "CAP_CHOWN"], &["CAP_CHOWN", "CAP_SYS_NICE"], &[]])
        }),
        checker("caps-nonroot-ambient", &["caps", "user"], |c| {
            c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            let s: &[&str] = &["CAP_NET_BIND_SERVICE", "CAP_KILL"];
            caps(c, [s, s, s, s, s]);
        }),
        checker("caps-nonroot-no-ambient", &["caps", "user"], |c| {
            c.cfg["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            let s: &[&str] = &["CAP_NET_BIND_SERVICE", "CAP_KILL"];
            caps(c, [s, s, s, s, &[]]);
        }),
        checker("rlimit-nofile", &["rlimits"], |c| rlimit(c, &[("RLIMIT_NOFILE", 512, 2048)])),
        checker("rlimit-core", &["rlimits"], |c| rlimit(c, &[("RLIMIT_CORE", 0, u64::MAX)])),
        checker("rlimit-nproc", &["rlimits"], |c| rlimit(c, &[("RLIMIT_NPROC", 4096, 8192)])),
        checker("rlimit-stack", &["rlimits"], |c| rlimit(c, &[("RLIMIT_STACK", 8 << 20, 16 << 20)])),
        checker("rlimit-many", &["rlimits"], |c| {
            rlimit(
                c,
                &[
                    ("RLIMIT_CPU", 3600, 7200),
                    ("RLIMIT_FSIZE", 1 << 30, 2 << 30),
                    ("RLIMIT_DATA", 1 << 31, 1 << 32),
                    ("RLIMIT_AS", 1 << 34, u64::MAX),
                    ("RLIMIT_RSS", 1 << 30, 1 << 30),
                    ("RLIMIT_MEMLOCK", 65536, 131072),
                    ("RLIMIT_LOCKS", 100, 200),
                    ("RLIMIT_SIGPENDING", 1000, 2000),
                    ("RLIMIT_MSGQUEUE", 819200, 819200),
                    ("RLIMIT_NICE", 0, 10),
                    ("RLIMIT_RTPRIO", 0, 5),
                    ("RLIMIT_RTTIME", 1000000, u64::MAX),
                    ("RLIMIT_NOFILE", 256, 256),
                ],
            )
        }),
        // config.md "Extensibility": unknown properties MUST be ignored.
        checker("config-unknown-properties", &["process", "mounts"], |c| {
            c.cfg["org.example.unknown"] = json!({"nested": [1, 2, 3]});
            c.cfg["process"]["org.example.unknown"] = json!(true);
            c.cfg["linux"]["org.example.unknown"] = json!("x");
            c.cfg["mounts"][0]["org.example.unknown"] = json!(1);
        }),
        checker("config-oci-version-1.0.0", &["process"], |c| c.cfg["ociVersion"] = json!("1.0.0")),
        checker("config-minimal", &["process", "namespaces"], |c| {
            // Only the REQUIRED fields (plus /proc for the checker).
            let args = c.cfg["process"]["args"].clone();
            let cg = c.cfg["linux"]["cgroupsPath"].clone();
            c.cfg = json!({
                "ociVersion": "1.0.2",
                "root": {"path": "rootfs"},
                "process": {"cwd": "/", "args": args, "user": {"uid": 0, "gid": 0}},
                "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
                "linux": {"cgroupsPath": cg, "namespaces": [{"type": "mount"}, {"type": "pid"}]}
            });
        }),
        checker("root-absolute-path", &["root"], |c| c.cfg["root"]["path"] = json!(c.rootfs.display().to_string())),
        checker("mount-bind-relative-source", &["mounts"], |c| {
            // config.md: bind sources may be relative to the bundle.
            let d = c.bundle.join("relsrc");
            let _ = std::fs::create_dir_all(&d);
            let marker = format!("relative bind source of {}\n", c.id);
            let _ = std::fs::write(d.join(".conformance-marker"), &marker);
            c.expect["bind_markers"]["/mnt/relative"] = json!(marker);
            mount(c, json!({"destination": "/mnt/relative", "type": "none", "source": "relsrc", "options": ["bind"]}));
        }),
        checker("root-readonly", &["root"], |c| c.cfg["root"]["readonly"] = json!(true)),
        checker("root-writable", &["root"], |c| c.cfg["root"]["readonly"] = json!(false)),
        checker("root-readonly-with-mounts", &["root", "mounts", "default-devices"], |c| {
            c.cfg["root"]["readonly"] = json!(true);
            mount(c, json!({"destination": "/mnt/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "nosuid", "mode=1777"]}));
            let s = bind_dir(c, "src", "/mnt/data");
            mount(c, json!({"destination": "/mnt/data", "type": "none", "source": s, "options": ["rbind", "rw"]}));
        }),
        checker("hostname", &["hostname"], |c| c.cfg["hostname"] = json!("conformance-host-name")),
        checker("domainname", &["hostname"], |c| {
            c.cfg["hostname"] = json!("box");
            c.cfg["domainname"] = json!("conformance.example");
        }),
        checker("mounts-default", &["mounts"], |_| {}),
        checker("mount-tmpfs-options", &["mounts"], |c| {
            mount(c, json!({"destination": "/mnt/a", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=1m"]}))
        }),
        checker("mount-tmpfs-ro", &["mounts"], |c| mount(c, json!({"destination": "/mnt/ro", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=755"]}))),
        checker("mount-tmpfs-noatime", &["mounts"], |c| mount(c, json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["noatime", "nodiratime"]}))),
        checker("mount-tmpfs-strictatime", &["mounts"], |c| mount(c, json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["strictatime"]}))),
        checker("mount-tmpfs-relatime", &["mounts"], |c| mount(c, json!({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["relatime", "rw"]}))),
        checker("mount-tmpfs-uid-gid", &["mounts"], |c| {
            mount(c, json!({"destination": "/mnt/owned", "type": "tmpfs", "source": "tmpfs", "options": ["uid=1000", "gid=1000", "mode=700", "nr_inodes=1000"]}))
        }),
        checker("mount-tmpfs-sync", &["mounts"], |c| mount(c, json!({"destination": "/mnt/sync", "type": "tmpfs", "source": "tmpfs", "options": ["sync", "dirsync"]}))),
        checker("mount-nested", &["mounts"], |c| {
            mount(c, json!({"destination": "/mnt/outer", "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]}));
            mount(c, json!({"destination": "/mnt/outer/inner", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "mode=700"]}));
        }),
        checker("mount-bind-dir", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/bind");
            mount(c, json!({"destination": "/mnt/bind", "type": "none", "source": s, "options": ["bind"]}));
        }),
        checker("mount-bind-ro", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/bind-ro");
            mount(c, json!({"destination": "/mnt/bind-ro", "type": "none", "source": s, "options": ["bind", "ro"]}));
        }),
        checker("mount-rbind-nosuid-nodev-noexec", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/rbind");
            mount(c, json!({"destination": "/mnt/rbind", "type": "none", "source": s, "options": ["rbind", "nosuid", "nodev", "noexec"]}));
        }),
        checker("mount-bind-type-bind", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/typed");
            mount(c, json!({"destination": "/mnt/typed", "type": "bind", "source": s, "options": ["rbind", "rw"]}));
        }),
        checker("mount-bind-file", &["mounts"], |c| {
            let s = bind_file(c, "file-src", "/etc/bound-file");
            mount(c, json!({"destination": "/etc/bound-file", "type": "none", "source": s, "options": ["bind", "ro"]}));
        }),
        checker("mount-bind-shared", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/shared");
            mount(c, json!({"destination": "/mnt/shared", "type": "none", "source": s, "options": ["rbind", "rshared"]}));
        }),
        checker("mount-bind-private", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/private");
            mount(c, json!({"destination": "/mnt/private", "type": "none", "source": s, "options": ["rbind", "rprivate"]}));
        }),
        checker("mount-bind-unbindable", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/unbindable");
            mount(c, json!({"destination": "/mnt/unbindable", "type": "none", "source": s, "options": ["rbind", "runbindable"]}));
        }),
        checker("mount-rbind-submounts", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/rbind-sub");
            submount(c, &s, "/mnt/rbind-sub");
            mount(c, json!({"destination": "/mnt/rbind-sub", "type": "none", "source": s, "options": ["rbind"]}));
        }),
        checker("mount-bind-no-submounts", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/bind-nosub");
            submount(c, &s, "");
            c.expect["absent_mounts"] = json!(["/mnt/bind-nosub/sub"]);
            mount(c, json!({"destination": "/mnt/bind-nosub", "type": "none", "source": s, "options": ["bind"]}));
        }),
        checker("mount-bind-recursive-ro", &["mounts"], |c| {
            let s = bind_dir(c, "src", "/mnt/rro");
            submount(c, &s, "/mnt/rro");
            mount(c, json!({"destination": "/mnt/rro", "type": "none", "source": s, "options": ["rbind", "rro"]}));
        }),
        checker("mount-proc-options", &["mounts"], |c| {
            let m = arr(&mut c.cfg, "mounts");
            m[0] = json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]});
        }),
        checker("mount-sysfs-rw", &["mounts"], |c| {
            let m = arr(&mut c.cfg, "mounts");
            m[5] = json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev"]});
            m.truncate(6);
        }),
        checker("mount-no-dev-tmpfs", &["mounts", "default-devices"], |c| {
            // Without a /dev tmpfs the runtime must still supply the default devices.
            arr(&mut c.cfg, "mounts").retain(|m| !m["destination"].as_str().unwrap_or("").starts_with("/dev"));
        }),
        checker("rootfs-propagation-private", &["propagation"], |c| c.cfg["linux"]["rootfsPropagation"] = json!("private")),
        checker("rootfs-propagation-rprivate", &["propagation"], |c| c.cfg["linux"]["rootfsPropagation"] = json!("rprivate")),
        checker("rootfs-propagation-slave", &["propagation"], |c| {
            shared_bundle(c);
            c.cfg["linux"]["rootfsPropagation"] = json!("slave");
        }),
        checker("rootfs-propagation-shared", &["propagation"], |c| {
            shared_bundle(c);
            c.cfg["linux"]["rootfsPropagation"] = json!("shared");
        }),
        checker("rootfs-propagation-unbindable", &["propagation"], |c| c.cfg["linux"]["rootfsPropagation"] = json!("unbindable")),
        checker("masked-default", &["masked"], |_| {}),
        checker("masked-custom", &["masked"], |c| {
            c.cfg["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc/cpuinfo", "/proc/sys/kernel", "/sys/kernel", "/etc/passwd", "/does/not/exist"])
        }),
        checker("readonly-default", &["readonly"], |_| {}),
        checker("readonly-custom", &["readonly"], |c| c.cfg["linux"]["readonlyPaths"] = json!(["/proc/sys", "/conformance", "/etc/group", "/does/not/exist"])),
    ];
    // Each default mount on its own, so a failure points at one filesystem type.
    for (i, name) in ["proc", "dev", "devpts", "shm", "mqueue", "sysfs", "cgroup"].iter().enumerate() {
        v.push(checker(format!("mount-only-{name}"), &["mounts"], move |c| {
            let keep = arr(&mut c.cfg, "mounts")[i].clone();
            let mut ms = vec![keep];
            if i == 2 {
                ms.insert(0, json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}));
            }
            c.cfg["mounts"] = json!(ms);
            // The checker needs /proc for its own view.
            if i != 0 {
                arr(&mut c.cfg, "mounts").insert(0, json!({"destination": "/proc", "type": "proc", "source": "proc"}));
            }
        }));
    }
    v
}
