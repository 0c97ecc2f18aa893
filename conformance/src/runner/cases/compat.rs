//! runc-compatibility cases: commands and flags beyond runtime.md that container engines use
//! on every call (global `--log`/`--log-format`, `exec`, `list`, `pause`/`resume`).

use super::lifecycle::{running, sleeper, stopped};
use super::{def, Def};
use crate::harness::Case;
use serde_json::Value;

/// runc's global `--log FILE --log-format json`, which container engines (containerd's shim)
/// pass on every call: accepted, and errors land in FILE as JSON lines with `msg`/`level`.
fn log_flags(c: &mut Case) {
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    c.cids.push(id.clone());
    let log = c.dir.join("runtime.log").display().to_string();
    let b = c.bundle.display().to_string();
    let o = c.rt(&["--log", &log, "--log-format", "json", "create", "--bundle", &b, &id]);
    c.tap.check("create-with-log-flags", o.ok(), || o.why());
    let o = c.rt(&["--log", &log, "--log-format", "json", "delete", "--force", &id]);
    c.tap.check("delete-with-log-flags", o.ok(), || o.why());
    let o = c.rt(&["--log", &log, "--log-format", "json", "state", "no-such-container"]);
    c.tap.check("error.fails", !o.ok(), || "state of an unknown id succeeded".into());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines: Vec<Value> = text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
    let all_json = !text.trim().is_empty() && lines.len() == text.lines().filter(|l| !l.trim().is_empty()).count();
    c.tap.check("log.json-lines", all_json, || format!("log is not JSON lines: {:?}", text.chars().take(200).collect::<String>()));
    let has_error = lines.iter().any(|l| l["level"] == "error" && l["msg"].as_str().map(|m| !m.is_empty()).unwrap_or(false));
    c.tap.check("log.error-record", has_error, || format!("no {{\"level\":\"error\",\"msg\":...}} record in {:?}", text.chars().take(200).collect::<String>()));
}

/// runc's `exec` (beyond runtime.md, used by every engine): runs in the container, returns
/// the process's exit code, refuses a stopped container.
fn compat_exec(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["exec", &id, "/bin/sh", "-c", "echo exec > /execd; cat /proc/1/cmdline | tr '\\0' ' '"]);
    c.tap.check("exec", o.ok(), || o.why());
    c.tap.check("exec.in-container", c.rootfs.join("execd").exists(), || "the exec'd process did not write /execd in the rootfs".into());
    c.tap.check("exec.sees-container-pid1", o.stdout.starts_with("sleep 600"), || format!("pid 1 there is {:?}", o.stdout));
    let o = c.rt(&["exec", &id, "/bin/sh", "-c", "exit 5"]);
    c.tap.eq("exec.exit-code", o.code, Some(5));
    let o = c.rt(&["exec", "--env", "EXECVAR=v1", "--cwd", "/tmp", &id, "/bin/sh", "-c", "echo $EXECVAR $(pwd)"]);
    c.tap.eq("exec.env-and-cwd", o.stdout.trim(), "v1 /tmp");
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
    let o = c.rt(&["exec", &id, "/bin/true"]);
    c.tap.check("exec-stopped.fails", !o.ok(), || "exec into a stopped container succeeded".into());
}

/// runc's `list` and `pause`/`resume` (beyond runtime.md).
fn compat_list_pause(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["list", "--format", "json"]);
    let listed: Vec<Value> = serde_json::from_str(&o.stdout).unwrap_or_default();
    c.tap.check("list.json-has-container", listed.iter().any(|x| x["id"] == id.as_str() && x["status"] == "running"), || format!("list output {:?}", o.stdout.trim()));
    let o = c.rt(&["pause", &id]);
    c.tap.check("pause", o.ok(), || o.why());
    let st = c.state(&id).ok().and_then(|s| s["status"].as_str().map(str::to_string));
    c.tap.eq("pause.status", st, Some("paused".into()));
    // v1 freezer.state FROZEN, or v2 cgroup.freeze 1.
    let frozen = c.cgroup_dirs().iter().find_map(|d| {
        std::fs::read_to_string(d.join("freezer.state")).or_else(|_| std::fs::read_to_string(d.join("cgroup.freeze"))).ok().map(|s| s.trim().to_string())
    });
    c.tap.check("pause.cgroup-frozen", matches!(frozen.as_deref(), Some("FROZEN") | Some("1")), || format!("freezer state {frozen:?} (pid {pid})"));
    let o = c.rt(&["resume", &id]);
    c.tap.check("resume", o.ok(), || o.why());
    let st = c.state(&id).ok().and_then(|s| s["status"].as_str().map(str::to_string));
    c.tap.eq("resume.status", st, Some("running".into()));
}

pub fn cases() -> Vec<Def> {
    vec![
        def("runc-compat-log-flags", log_flags),
        def("runc-compat-exec", compat_exec),
        def("runc-compat-list-pause-resume", compat_list_pause),
    ]
}
