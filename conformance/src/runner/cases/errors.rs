//! Error cases (runtime.md "Errors" and each operation's MUSTs): unknown and duplicate ids,
//! start twice, bad config, missing rootfs, empty args, bad signals; each checks the runtime
//! exits non-zero with a message and leaves nothing behind.

use super::lifecycle::{create, created, running, sleeper, stopped};
use super::{arr, def, shell, Def};
use crate::harness::{Case, Out};
use serde_json::json;
use std::time::Duration;

fn fails(c: &mut Case, name: &str, o: &Out) {
    c.tap.check(format!("{name}.fails"), !o.ok() && !o.timed_out, || if o.timed_out { "timed out".into() } else { "succeeded".into() });
    c.tap.check(format!("{name}.message"), !o.ok() && !o.stderr.trim().is_empty(), || "no error message on stderr".into());
}

fn unknown_id(c: &mut Case) {
    let _ = std::fs::create_dir_all(&c.state_root);
    for cmd in [&["state", "no-such-container"][..], &["start", "no-such-container"], &["kill", "no-such-container", "KILL"], &["delete", "no-such-container"]] {
        let o = c.rt(cmd);
        fails(c, cmd[0], &o);
    }
    c.check_nothing_left("after", "no-such-container", None);
}

/// create must fail for a broken bundle, and leave nothing behind.
fn bad_bundle(c: &mut Case, edit: impl Fn(&mut Case)) {
    sleeper(c);
    c.write_bundle();
    edit(c);
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    fails(c, "create", &o);
    std::thread::sleep(Duration::from_millis(50));
    crate::harness::reap_zombies();
    c.check_nothing_left("failed", &id, None);
}

fn duplicate_id(c: &mut Case) {
    sleeper(c);
    let Some(pid) = created(c, "first.") else { return };
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    fails(c, "second-create", &o);
    let s = c.state(&id);
    c.tap.eq("first.still-created", s.as_ref().ok().and_then(|s| s["status"].as_str().map(str::to_string)), Some("created".into()));
    c.tap.eq("first.same-pid", s.ok().and_then(|s| s["pid"].as_i64()), Some(pid as i64));
}

fn start_twice(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["start", &id]);
    fails(c, "second-start", &o);
    c.tap.check("still-running", brig_conformance::sys::pid_alive(pid), || "the container died".into());
}

fn start_stopped(c: &mut Case) {
    shell(c, "echo started > /started; exit 0");
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    stopped(c, pid, "stopped");
    let o = c.rt(&["start", &id]);
    fails(c, "start-stopped", &o);
}

fn bad_signal(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    for (name, sig) in [("unknown-name", "SIGNOPE"), ("out-of-range", "1000"), ("negative", "-9")] {
        let o = c.rt(&["kill", &id, sig]);
        fails(c, &format!("kill[{name}]"), &o);
    }
    c.tap.check("still-running", brig_conformance::sys::pid_alive(pid), || "the container died".into());
}

fn missing_executable(c: &mut Case) {
    c.cfg["process"]["args"] = json!(["/no/such/executable"]);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    // runtime.md: create or start (where the process is executed) must report the failure.
    let failed = if o.ok() {
        let s = c.rt(&["start", &id]);
        !s.ok()
    } else {
        true
    };
    c.tap.check("create-or-start.fails", failed, || "neither create nor start reported the missing executable".into());
    let _ = c.rt(&["delete", "--force", &id]);
    std::thread::sleep(Duration::from_millis(50));
    crate::harness::reap_zombies();
    c.check_nothing_left("deleted", &id, None);
}

/// An id that is a path must be refused, and nothing may be created outside the state root.
fn invalid_id(c: &mut Case) {
    sleeper(c);
    c.write_bundle();
    for (name, id) in [("dotdot", "../escaped-id"), ("slash", "a/b"), ("empty", "")] {
        let o = create(c, id, &[]);
        fails(c, &format!("create[{name}]"), &o);
    }
    let outside = c.state_root.parent().map(|p| p.join("escaped-id")).filter(|p| p.exists());
    c.tap.check("nothing-outside-state-root", outside.is_none(), || format!("{outside:?} was created"));
}

pub fn cases() -> Vec<Def> {
    vec![
        def("err-invalid-id", invalid_id),
        // runc and crun refuse these; runtime.md leaves it open, brig follows them.
        def("err-hostname-without-uts-namespace", |c| bad_bundle(c, |c| {
            c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-net-sysctl-in-host-network-namespace", |c| bad_bundle(c, |c| {
            // The host's own value: should a runtime apply it anyway, nothing changes.
            let cur = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").map(|s| s.trim().to_string()).unwrap_or_else(|_| "0".into());
            c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "pid"}, {"type": "uts"}]);
            c.cfg["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": cur});
            arr(&mut c.cfg, "mounts").retain(|m| m["type"] != "sysfs" && m["type"] != "cgroup");
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-unknown-id", unknown_id),
        def("err-duplicate-id", duplicate_id),
        def("err-start-twice", start_twice),
        def("err-start-stopped", start_stopped),
        def("err-bad-signal", bad_signal),
        def("err-missing-executable", missing_executable),
        def("err-bad-json", |c| bad_bundle(c, |c| {
            let _ = std::fs::write(c.bundle.join("config.json"), "{\"ociVersion\": \"1.0.2\", \"process\": ");
        })),
        def("err-no-config", |c| bad_bundle(c, |c| {
            let _ = std::fs::remove_file(c.bundle.join("config.json"));
        })),
        def("err-missing-rootfs", |c| bad_bundle(c, |c| {
            c.cfg["root"]["path"] = json!("no-such-rootfs");
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-empty-args", |c| bad_bundle(c, |c| {
            c.cfg["process"]["args"] = json!([]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-unknown-namespace", |c| bad_bundle(c, |c| {
            c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "bogus"}]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-bad-namespace-path", |c| bad_bundle(c, |c| {
            c.cfg["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "network", "path": "/proc/self/ns/no-such-ns"}]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-bad-mount-type", |c| bad_bundle(c, |c| {
            if let Some(m) = c.cfg["mounts"].as_array_mut() {
                m.push(json!({"destination": "/mnt/x", "type": "no-such-fs", "source": "none"}));
            }
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-bad-device-type", |c| bad_bundle(c, |c| {
            c.cfg["linux"]["devices"] = json!([{"path": "/dev/bad", "type": "x", "major": 1, "minor": 3}]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-bad-rlimit", |c| bad_bundle(c, |c| {
            c.cfg["process"]["rlimits"] = json!([{"type": "RLIMIT_NOPE", "soft": 1, "hard": 1}]);
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
        def("err-relative-cwd", |c| bad_bundle(c, |c| {
            c.cfg["process"]["cwd"] = json!("relative/dir");
            let _ = std::fs::write(c.bundle.join("config.json"), c.cfg.to_string());
        })),
    ]
}
