//! Hook cases (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): every hook type, its
//! order, the state it gets on stdin, its args/env, failing hooks and hook timeouts.
//!
//! Hooks log into a directory bind-mounted into the container at its own host path, so
//! createContainer (before pivot_root) and startContainer (after it) write to the same place.

use super::lifecycle::{create, sleeper, stopped, wait_file};
use super::{arr, def, shell, Def};
use crate::harness::Case;
use brig_conformance::sys;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TYPES: [&str; 6] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];
const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Makes the hook log dir, visible at the same path inside the container.
fn log_dir(c: &mut Case) -> PathBuf {
    let d = c.dir.join("hooklog");
    let _ = std::fs::create_dir_all(&d);
    let s = d.display().to_string();
    arr(&mut c.cfg, "mounts").push(json!({"destination": s, "type": "none", "source": s, "options": ["rbind", "rw"]}));
    d
}

/// A hook that saves its stdin (the state) as `<name>.json`, its network namespace as
/// `<name>.netns`, and appends `name` to `order`.
fn logging_hook(log: &Path, name: &str) -> Value {
    let l = log.display();
    let script = format!("cat > {l}/{name}.json; readlink /proc/self/ns/net > {l}/{name}.netns; echo {name} >> {l}/order");
    json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": [PATH_ENV]})
}

fn failing_hook() -> Value {
    // Reads the state first: a hook that exits before the runtime has written it is
    // another case (`hook-closes-stdin`).
    json!({"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; echo failing hook >&2; exit 3"], "env": [PATH_ENV]})
}

fn order(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log.join("order")).unwrap_or_default().lines().map(str::to_string).collect()
}

fn pos(o: &[String], name: &str) -> Option<usize> {
    o.iter().position(|x| x == name)
}

fn check_hook_state(c: &mut Case, log: &Path, ty: &str) {
    let p = format!("hook.{ty}");
    let text = std::fs::read_to_string(log.join(format!("{ty}.json")));
    let Ok(text) = text else {
        c.tap.fail(format!("{p}.ran"), "the hook never ran");
        return;
    };
    c.tap.pass(format!("{p}.ran"));
    let s: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return c.tap.fail(format!("{p}.stdin-state"), format!("stdin is not JSON ({e}): {:?}", text.chars().take(100).collect::<String>())),
    };
    c.tap.pass(format!("{p}.stdin-state"));
    c.tap.check(format!("{p}.state.ociVersion"), s["ociVersion"].as_str().map(|v| !v.is_empty()).unwrap_or(false), || format!("{:?}", s["ociVersion"]));
    c.tap.eq(format!("{p}.state.id"), s["id"].as_str(), Some(c.cid.as_str()));
    let b = c.bundle.display().to_string();
    c.tap.eq(format!("{p}.state.bundle"), s["bundle"].as_str(), Some(b.as_str()));
    let valid = ["creating", "created", "running", "stopped"];
    let st = s["status"].as_str().unwrap_or("");
    c.tap.check(format!("{p}.state.status"), valid.contains(&st), || format!("status {st:?}"));
    if ty != "poststop" {
        c.tap.check(format!("{p}.state.pid"), s["pid"].as_i64().unwrap_or(0) > 0, || format!("pid {:?}", s["pid"]));
    }
    let want = c.cfg.get("annotations").cloned().unwrap_or(json!({}));
    c.tap.eq(format!("{p}.state.annotations"), s.get("annotations").cloned().unwrap_or(json!({})), want);
}

fn hooks_all(c: &mut Case) {
    let log = log_dir(c);
    c.cfg["annotations"] = json!({"org.opencontainers.conformance": "hooks"});
    for ty in TYPES {
        c.cfg["hooks"][ty] = json!([logging_hook(&log, ty)]);
    }
    let l = log.display().to_string();
    shell(c, &format!("echo process >> {l}/order; echo started > /started; exec sleep 600"));
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    if !o.ok() {
        return;
    }
    let after_create = order(&log);
    for ty in ["prestart", "createRuntime", "createContainer"] {
        c.tap.check(format!("order.{ty}-during-create"), pos(&after_create, ty).is_some(), || format!("not run by create (order {after_create:?})"));
    }
    for ty in ["startContainer", "poststart", "process"] {
        c.tap.check(format!("order.{ty}-not-during-create"), pos(&after_create, ty).is_none(), || format!("ran during create (order {after_create:?})"));
    }
    let cr = (pos(&after_create, "createRuntime"), pos(&after_create, "createContainer"));
    c.tap.check("order.createRuntime-before-createContainer", matches!(cr, (Some(a), Some(b)) if a < b), || format!("order {after_create:?}"));
    let pc = (pos(&after_create, "prestart"), pos(&after_create, "createContainer"));
    c.tap.check("order.prestart-before-createContainer", matches!(pc, (Some(a), Some(b)) if a < b), || format!("order {after_create:?}"));
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let container_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).map(|p| p.display().to_string()).unwrap_or_default();
    let o = c.rt(&["start", &id]);
    c.tap.check("start", o.ok(), || o.why());
    wait_file(&c.rootfs.join("started"), Duration::from_secs(5));
    wait_file(&log.join("poststart.json"), Duration::from_secs(2));
    let after_start = order(&log);
    let sp = (pos(&after_start, "startContainer"), pos(&after_start, "process"));
    c.tap.check("order.startContainer-before-process", matches!(sp, (Some(a), Some(b)) if a < b), || format!("order {after_start:?}"));
    let ps = (pos(&after_start, "startContainer"), pos(&after_start, "poststart"));
    c.tap.check("order.poststart-after-startContainer", matches!(ps, (Some(a), Some(b)) if a < b), || format!("order {after_start:?}"));
    c.tap.check("order.poststop-not-before-delete", pos(&after_start, "poststop").is_none(), || format!("order {after_start:?}"));
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
    c.tap.check("order.poststop-not-at-stop", pos(&order(&log), "poststop").is_none(), || "poststop ran before delete".into());
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete", o.ok(), || o.why());
    let fin = order(&log);
    c.tap.check("order.poststop-last", fin.last().map(String::as_str) == Some("poststop"), || format!("order {fin:?}"));
    for ty in TYPES {
        check_hook_state(c, &log, ty);
    }
    // config.md: createContainer and startContainer run in the container's namespaces, the
    // others in the runtime's (seen through the network namespace, which the crun wrapper keeps).
    let host_net = c.host.host_ns["net"].as_str().unwrap_or("").to_string();
    for ty in TYPES {
        let (want, place) = if ty == "createContainer" || ty == "startContainer" { (&container_net, "container") } else { (&host_net, "runtime") };
        let got = std::fs::read_to_string(log.join(format!("{ty}.netns"))).map(|s| s.trim().to_string()).unwrap_or_default();
        c.tap.check(format!("hook.{ty}.in-{place}-namespace"), !want.is_empty() && got == *want, || format!("network namespace {got:?}, want the {place}'s {want:?}"));
    }
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn hooks_multiple(c: &mut Case) {
    let log = log_dir(c);
    let l = log.display().to_string();
    let hooks: Vec<Value> = (1..=3).map(|i| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat >/dev/null; echo {i} >> {l}/order")]})).collect();
    c.cfg["hooks"]["createRuntime"] = json!(hooks);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    c.tap.eq("order.array-order", order(&log), vec!["1".to_string(), "2".into(), "3".into()]);
}

fn hooks_env_args(c: &mut Case) {
    let log = log_dir(c);
    let l = log.display().to_string();
    for ty in ["createRuntime", "createContainer", "startContainer", "poststart", "poststop", "prestart"] {
        c.cfg["hooks"][ty] = json!([{
            "path": "/bin/sh",
            "args": ["sh", "-c", format!("echo \"$0|$1|$HOOKVAR|${{UNSET-unset}}\" > {l}/{ty}.args; cat >/dev/null"), "zero", "one"],
            "env": ["HOOKVAR=from-env", PATH_ENV]
        }]);
    }
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let o = c.rt(&["start", &id]);
    c.tap.check("start", o.ok(), || o.why());
    wait_file(&log.join("poststart.args"), Duration::from_secs(2));
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
    let _ = c.rt(&["delete", &id]);
    for ty in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
        let got = std::fs::read_to_string(log.join(format!("{ty}.args"))).map(|s| s.trim().to_string()).map_err(|e| e.to_string());
        c.tap.eq(format!("hook.{ty}.args-and-env"), got, Ok("zero|one|from-env|unset".to_string()));
    }
}

/// A hook of `ty` that fails: create (or start) fails and leaves nothing behind.
fn hook_fails_create(c: &mut Case, ty: &str) {
    c.cfg["hooks"][ty] = json!([failing_hook()]);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create.fails", !o.ok(), || "create succeeded although a hook failed".into());
    c.tap.check("create.message", !o.ok() && !o.stderr.trim().is_empty(), || "no error message".into());
    c.tap.check("process-not-started", !c.rootfs.join("started").exists(), || "the process ran".into());
    reap();
    c.check_nothing_left("failed", &id, None);
}

fn reap() {
    std::thread::sleep(Duration::from_millis(50));
    crate::harness::reap_zombies();
}

fn hook_fails_start_container(c: &mut Case) {
    c.cfg["hooks"]["startContainer"] = json!([failing_hook()]);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    // The hook runs in the container after `start` has signalled it, so the error may surface
    // as a failed start or as a container that stops without running its process.
    let o = c.rt(&["start", &id]);
    let _ = c.wait_pid(pid, Duration::from_secs(3));
    let st = c.state(&id).ok().and_then(|s| s["status"].as_str().map(str::to_string));
    c.tap.check("start.fails-or-stops", !o.ok() || st.as_deref() == Some("stopped"), || format!("start succeeded and the container is {st:?}"));
    c.tap.check("process-not-started", !c.rootfs.join("started").exists(), || "the process ran".into());
    let _ = c.rt(&["delete", "--force", &id]);
    reap();
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn hook_fails_poststart(c: &mut Case) {
    // runtime.md: a failing poststart hook only gets a warning; the lifecycle goes on.
    c.cfg["hooks"]["poststart"] = json!([failing_hook()]);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    let o = c.rt(&["start", &id]);
    c.tap.check("start.succeeds", o.ok(), || o.why());
    let s = c.state(&id);
    c.tap.eq("still-running", s.ok().and_then(|s| s["status"].as_str().map(str::to_string)), Some("running".into()));
}

fn hook_fails_poststop(c: &mut Case) {
    // runtime.md: a failing poststop hook only gets a warning; delete still succeeds.
    c.cfg["hooks"]["poststop"] = json!([failing_hook()]);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete.succeeds", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
}

/// A hook need not read the state: with its stdin closed the runtime's write fails (EPIPE),
/// which must not fail or kill the runtime.
fn hook_closes_stdin(c: &mut Case) {
    let log = log_dir(c);
    let l = log.display().to_string();
    for ty in ["createRuntime", "poststop"] {
        c.cfg["hooks"][ty] = json!([{"path": "/bin/sh", "args": ["sh", "-c", format!("exec 0<&-; sleep 0.3; echo {ty} >> {l}/order")], "env": [PATH_ENV]}]);
    }
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check("create", o.ok(), || o.why());
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete", o.ok(), || o.why());
    c.tap.eq("hooks-ran", order(&log), vec!["createRuntime".to_string(), "poststop".into()]);
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn hook_timeout(c: &mut Case) {
    c.cfg["hooks"]["createRuntime"] = json!([{"path": "/bin/sh", "args": ["sh", "-c", "exec sleep 30"], "timeout": 1}]);
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let t = Instant::now();
    let o = create(c, &id, &[]);
    let took = t.elapsed();
    c.tap.check("create.fails", !o.ok(), || "create succeeded although the hook timed out".into());
    c.tap.check("create.within-timeout", took < Duration::from_secs(8), || format!("create took {took:?} for a 1 s hook timeout"));
    reap();
    c.check_nothing_left("failed", &id, None);
    // The hook's own sleep must not outlive it either.
    let left: Vec<i32> = c.stray_children().into_iter().filter(|p| sys::pid_alive(*p)).collect();
    c.tap.check("hook-process-gone", left.is_empty(), || format!("left: {left:?}"));
}

pub fn cases() -> Vec<Def> {
    let mut v = vec![
        def("hooks-all-types", hooks_all),
        def("hooks-array-order", hooks_multiple),
        def("hooks-args-env", hooks_env_args),
    ];
    for ty in ["prestart", "createRuntime", "createContainer"] {
        v.push(def(format!("hook-fails-{ty}"), move |c| hook_fails_create(c, ty)));
    }
    v.extend([
        def("hook-fails-startContainer", hook_fails_start_container),
        def("hook-fails-poststart", hook_fails_poststart),
        def("hook-fails-poststop", hook_fails_poststop),
        def("hook-timeout", hook_timeout),
        def("hook-closes-stdin", hook_closes_stdin),
    ]);
    v
}
