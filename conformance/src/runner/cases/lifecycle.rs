//! Lifecycle cases (runtime.md "Operations" and "Lifecycle"): state and its fields through
//! created/running/stopped, the create/start split, kill with names and numbers, delete in
//! each state, run, pid file, console socket.

use super::{def, shell, Def};
use crate::harness::{Case, Io, Out};
use brig_conformance::{sys, tap};
use serde_json::{json, Value};
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `create --bundle <bundle> [extra...] <id>`.
pub fn create(c: &mut Case, id: &str, extra: &[&str]) -> Out {
    let b = c.bundle.display().to_string();
    let mut a = vec!["create", "--bundle", b.as_str()];
    a.extend_from_slice(extra);
    a.push(id);
    if !c.cids.iter().any(|x| x == id) {
        c.cids.push(id.to_string());
    }
    c.rt(&a)
}

/// Polls for a file to exist.
pub fn wait_file(p: &Path, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        if p.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    p.exists()
}

/// A process that marks it has started, then sleeps.
pub fn sleeper(c: &mut Case) {
    shell(c, "echo started > /started; exec sleep 600");
}

/// create (checked), returning the init pid.
pub fn created(c: &mut Case, prefix: &str) -> Option<i32> {
    c.write_bundle();
    let id = c.cid.clone();
    let o = create(c, &id, &[]);
    c.tap.check(format!("{prefix}create"), o.ok(), || o.why());
    if !o.ok() {
        return None;
    }
    match c.state(&id) {
        Ok(s) => s["pid"].as_i64().map(|p| p as i32),
        Err(e) => {
            c.tap.fail(format!("{prefix}state"), e);
            None
        }
    }
}

/// create + start (checked), waiting until the process has really started.
pub fn running(c: &mut Case, prefix: &str) -> Option<i32> {
    let pid = created(c, prefix)?;
    let id = c.cid.clone();
    let o = c.rt(&["start", &id]);
    c.tap.check(format!("{prefix}start"), o.ok(), || o.why());
    let started = wait_file(&c.rootfs.join("started"), Duration::from_secs(5));
    c.tap.check(format!("{prefix}process-started"), started, || "the process did not write /started within 5s".into());
    (o.ok() && started).then_some(pid)
}

/// Waits for `stopped` (the init pid reaped first: we are its subreaper).
pub fn stopped(c: &mut Case, pid: i32, check: &str) -> Option<Value> {
    let _ = c.wait_pid(pid, Duration::from_secs(5));
    let id = c.cid.clone();
    let r = c.wait_status(&id, "stopped", Duration::from_secs(5));
    c.tap.check(check, r.is_ok(), || r.clone().err().unwrap_or_default());
    r.ok()
}

fn check_state_fields(c: &mut Case, s: &Value, p: &str, status: &str) {
    let ver = s["ociVersion"].as_str().unwrap_or("");
    c.tap.check(format!("{p}.ociVersion"), !ver.is_empty(), || format!("ociVersion {:?}", s["ociVersion"]));
    c.tap.eq(format!("{p}.id"), s["id"].as_str(), Some(c.cid.as_str()));
    c.tap.eq(format!("{p}.status"), s["status"].as_str(), Some(status));
    let bundle = c.bundle.display().to_string();
    c.tap.eq(format!("{p}.bundle"), s["bundle"].as_str(), Some(bundle.as_str()));
    let want = c.cfg.get("annotations").cloned().unwrap_or(json!({}));
    let got = s.get("annotations").cloned().unwrap_or(json!({}));
    c.tap.eq(format!("{p}.annotations"), got, want);
    if status != "stopped" {
        let pid = s["pid"].as_i64().unwrap_or(0) as i32;
        c.tap.check(format!("{p}.pid"), pid > 0 && sys::pid_alive(pid), || format!("pid {:?} is not a live process", s["pid"]));
    }
}

fn lifecycle_state(c: &mut Case) {
    c.cfg["annotations"] = json!({"org.opencontainers.conformance": "state", "com.example.empty": ""});
    sleeper(c);
    let Some(pid) = created(c, "") else { return };
    let id = c.cid.clone();
    if let Ok(s) = c.state(&id) {
        check_state_fields(c, &s, "created", "created");
    }
    std::thread::sleep(Duration::from_millis(300));
    c.tap.check("created.process-not-started", !c.rootfs.join("started").exists(), || "the user process ran before start".into());
    let procs = c.cgroup_pids();
    c.tap.check("created.pid-in-cgroup", procs.contains(&pid), || format!("pid {pid} not in {procs:?}"));
    let o = c.rt(&["start", &id]);
    c.tap.check("start", o.ok(), || o.why());
    c.tap.check("start.process-ran", wait_file(&c.rootfs.join("started"), Duration::from_secs(5)), || "no /started within 5s".into());
    if let Ok(s) = c.state(&id) {
        check_state_fields(c, &s, "running", "running");
        c.tap.eq("running.same-pid", s["pid"].as_i64(), Some(pid as i64));
    }
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    c.tap.check("running.pid-is-process", cmd.starts_with(b"sleep\x00600"), || format!("cmdline {:?}", String::from_utf8_lossy(&cmd)));
    let o = c.rt(&["kill", &id, "KILL"]);
    c.tap.check("kill", o.ok(), || o.why());
    if let Some(s) = stopped(c, pid, "stopped.reached") {
        check_state_fields(c, &s, "stopped", "stopped");
    }
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete", o.ok(), || o.why());
    let o = c.rt(&["state", &id]);
    c.tap.check("deleted.state-fails", !o.ok(), || "state of a deleted container succeeded".into());
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn run_exit_code(c: &mut Case) {
    shell(c, "exit 7");
    c.write_bundle();
    let id = c.cid.clone();
    let b = c.bundle.display().to_string();
    let o = c.rt(&["run", "--bundle", &b, &id]);
    c.tap.eq("run.exit-code", o.code, Some(7));
    let o = c.rt(&["state", &id]);
    c.tap.check("run.removed-after-exit", !o.ok(), || "the container still exists after run returned".into());
    c.check_nothing_left("run", &id, None);
}

fn run_checker_foreground(c: &mut Case) {
    c.expect["focus"] = json!(["process", "namespaces"]);
    c.write_bundle();
    let id = c.cid.clone();
    let b = c.bundle.display().to_string();
    let o = c.rt(&["run", "--bundle", &b, &id]);
    c.tap.eq("run.exit-code", o.code, Some(0));
    let checks = tap::parse(&o.stdout);
    c.tap.check("checker.completed", o.stdout.lines().any(|l| l.starts_with("1..")), || format!("no TAP plan; stderr: {}", o.stderr.trim()));
    for x in checks {
        c.tap.record(x.id, x.outcome);
    }
    c.check_nothing_left("run", &id, None);
}

fn run_detached(c: &mut Case) {
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let b = c.bundle.display().to_string();
    let o = c.rt(&["run", "--detach", "--bundle", &b, &id]);
    c.tap.check("run-detach", o.ok(), || o.why());
    let s = c.state(&id);
    c.tap.eq("run-detach.status", s.as_ref().ok().and_then(|s| s["status"].as_str().map(str::to_string)), Some("running".to_string()));
    let pid = s.ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let o = c.rt(&["delete", "--force", &id]);
    c.tap.check("delete-force", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
}

/// A shell that logs the signals it gets (pid 1 ignores signals it has no handler for).
fn trapper(c: &mut Case) {
    shell(c, "for s in TERM USR1 USR2 HUP INT; do trap \"echo $s >> /signals\" $s; done; echo started > /started; while :; do sleep 0.05; done");
}

fn kill_names(c: &mut Case) {
    trapper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let sig = c.rootfs.join("signals");
    let mut expected: Vec<&str> = Vec::new();
    for (arg, name) in [("TERM", "TERM"), ("SIGUSR1", "USR1"), ("12", "USR2"), ("SIGHUP", "HUP"), ("2", "INT"), ("", "TERM")] {
        let label = if arg.is_empty() { "default".to_string() } else { arg.to_string() };
        let o = if arg.is_empty() { c.rt(&["kill", &id]) } else { c.rt(&["kill", &id, arg]) };
        c.tap.check(format!("kill[{label}]"), o.ok(), || o.why());
        expected.push(name);
        let want: String = expected.iter().map(|s| format!("{s}\n")).collect();
        let t = Instant::now();
        let mut got = String::new();
        while t.elapsed() < Duration::from_secs(3) {
            got = std::fs::read_to_string(&sig).unwrap_or_default();
            if got.len() >= want.len() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        c.tap.eq(format!("kill[{label}].delivered-{name}"), got.trim_end().lines().last().map(str::to_string), Some(name.to_string()));
    }
    let o = c.rt(&["kill", &id, "KILL"]);
    c.tap.check("kill[KILL]", o.ok(), || o.why());
    stopped(c, pid, "kill[KILL].stopped");
}

fn kill_stops(c: &mut Case, sig: &str) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["kill", &id, sig]);
    c.tap.check("kill", o.ok(), || o.why());
    stopped(c, pid, "stopped");
    c.tap.check("process-gone", !sys::pid_alive(pid), || format!("pid {pid} still alive"));
}

fn kill_created(c: &mut Case) {
    sleeper(c);
    let Some(pid) = created(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["kill", &id, "KILL"]);
    c.tap.check("kill-created", o.ok(), || o.why());
    stopped(c, pid, "stopped");
    c.tap.check("process-never-ran", !c.rootfs.join("started").exists(), || "the process ran".into());
}

fn kill_stopped(c: &mut Case) {
    shell(c, "echo started > /started; exit 0");
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    stopped(c, pid, "stopped");
    let o = c.rt(&["kill", &id, "TERM"]);
    c.tap.check("kill-stopped.fails", !o.ok(), || "kill of a stopped container succeeded".into());
    c.tap.check("kill-stopped.message", !o.ok() && !o.stderr.trim().is_empty(), || "no error message".into());
}

fn delete_created(c: &mut Case) {
    sleeper(c);
    let Some(pid) = created(c, "") else { return };
    let id = c.cid.clone();
    // runc deletes a created container without --force (runtime.md wants an error; brig follows runc).
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete-created", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn delete_running(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete-running.refused", !o.ok(), || "delete of a running container without --force succeeded".into());
    c.tap.check("delete-running.message", !o.ok() && !o.stderr.trim().is_empty(), || "no error message".into());
    let s = c.state(&id);
    c.tap.eq("delete-running.still-running", s.ok().and_then(|s| s["status"].as_str().map(str::to_string)), Some("running".into()));
    let o = c.rt(&["delete", "--force", &id]);
    c.tap.check("delete-force", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
}

fn delete_stopped(c: &mut Case) {
    shell(c, "echo started > /started; exit 3");
    let Some(pid) = running(c, "") else { return };
    let id = c.cid.clone();
    stopped(c, pid, "stopped");
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete-stopped", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete-again.fails", !o.ok(), || "second delete succeeded".into());
}

fn pid_file(c: &mut Case) {
    sleeper(c);
    c.write_bundle();
    let id = c.cid.clone();
    let pf = c.dir.join("init.pid");
    let pfs = pf.display().to_string();
    let o = create(c, &id, &["--pid-file", &pfs]);
    c.tap.check("create", o.ok(), || o.why());
    let got = std::fs::read_to_string(&pf).map(|s| s.trim().to_string()).map_err(|e| e.to_string());
    let s = c.state(&id);
    let want = s.ok().and_then(|s| s["pid"].as_i64()).map(|p| p.to_string()).ok_or_else(|| "no state".to_string());
    c.tap.eq("pid-file.matches-state", got, want);
}

fn console_socket(c: &mut Case) {
    c.cfg["process"]["terminal"] = json!(true);
    c.cfg["process"]["consoleSize"] = json!({"height": 31, "width": 101});
    c.cfg["process"]["args"] = json!(["/conformance/checker"]);
    c.expect["focus"] = json!(["process", "default-devices"]);
    c.write_bundle();
    let sock_path = c.dir.join("console.sock");
    let listener = match std::os::unix::net::UnixListener::bind(&sock_path) {
        Ok(l) => l,
        Err(e) => return c.tap.fail("console.listen", e.to_string()),
    };
    let _ = listener.set_nonblocking(true);
    let id = c.cid.clone();
    let sp = sock_path.display().to_string();
    let o = create(c, &id, &["--console-socket", &sp]);
    c.tap.check("create", o.ok(), || o.why());
    if !o.ok() {
        return;
    }
    let t = Instant::now();
    let conn = loop {
        match listener.accept() {
            Ok((s, _)) => break Some(s),
            Err(_) if t.elapsed() < Duration::from_secs(3) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let Some(conn) = conn else { return c.tap.fail("console.connected", "the runtime never connected to the console socket") };
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(3)));
    let fd = match sys::recv_fd(conn.as_raw_fd()) {
        Ok(fd) => fd,
        Err(e) => return c.tap.fail("console.received-fd", e.to_string()),
    };
    c.tap.pass("console.received-fd");
    c.tap.check("console.is-tty", sys::is_tty(fd), || "the received fd is not a terminal".into());
    let ws = sys::winsize(fd);
    c.tap.eq("console.size", ws.map(|w| (w.rows, w.cols)).map_err(|e| e.to_string()), Ok((31, 101)));
    // SAFETY: `fd` was just received and is owned by nobody else in this process.
    let master = unsafe { std::fs::File::from_raw_fd(fd) };
    let buf = Arc::new(Mutex::new(Vec::new()));
    let b2 = Arc::clone(&buf);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut m = master;
        let mut chunk = [0u8; 4096];
        while let Ok(n) = m.read(&mut chunk) {
            if n == 0 {
                break;
            }
            if let Ok(mut b) = b2.lock() {
                b.extend_from_slice(&chunk[..n]);
            }
        }
    });
    let pid = c.state(&id).ok().and_then(|s| s["pid"].as_i64()).unwrap_or(0) as i32;
    let o = c.rt(&["start", &id]);
    c.tap.check("start", o.ok(), || o.why());
    let _ = c.wait_pid(pid, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    let text = buf.lock().map(|b| String::from_utf8_lossy(&b).replace('\r', "")).unwrap_or_default();
    c.tap.check("console.checker-output", text.lines().any(|l| l.starts_with("1..")), || format!("no TAP from the pty: {:?}", text.chars().take(200).collect::<String>()));
    for x in tap::parse(&text) {
        c.tap.record(x.id, x.outcome);
    }
    let _ = c.rt_io(&["delete", &id], Io::default());
}

/// features.md: `features` prints a JSON document describing what the runtime supports.
fn features(c: &mut Case) {
    let o = c.rt(&["features"]);
    c.tap.check("features.exit", o.ok(), || o.why());
    let v: Value = match serde_json::from_str(&o.stdout) {
        Ok(v) => v,
        Err(e) => return c.tap.fail("features.json", format!("not JSON ({e})")),
    };
    c.tap.pass("features.json");
    for k in ["ociVersionMin", "ociVersionMax"] {
        c.tap.check(format!("features.{k}"), v[k].as_str().map(|s| s.starts_with("1.")).unwrap_or(false), || format!("{k} = {:?}", v[k]));
    }
    let hooks: Vec<&str> = v["hooks"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for h in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
        c.tap.check(format!("features.hooks.{h}"), hooks.contains(&h), || format!("hooks {hooks:?}"));
    }
    let opts: Vec<&str> = v["mountOptions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for m in ["bind", "rbind", "ro", "nosuid", "nodev", "noexec"] {
        c.tap.check(format!("features.mountOptions.{m}"), opts.contains(&m), || format!("mountOptions {opts:?}"));
    }
    let ns: Vec<&str> = v["linux"]["namespaces"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for n in ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] {
        c.tap.check(format!("features.linux.namespaces.{n}"), ns.contains(&n), || format!("namespaces {ns:?}"));
    }
    let caps = v["linux"]["capabilities"].as_array().map(Vec::len).unwrap_or(0);
    c.tap.check("features.linux.capabilities", caps >= 38, || format!("{caps} capabilities listed"));
}

/// runtime.md create: changes to config.json after create do not affect the container.
fn config_after_create(c: &mut Case) {
    sleeper(c);
    let Some(pid) = created(c, "") else { return };
    let id = c.cid.clone();
    let mut changed = c.cfg.clone();
    changed["process"]["args"] = json!(["/bin/sh", "-c", "echo modified > /modified; exec sleep 600"]);
    let _ = std::fs::write(c.bundle.join("config.json"), changed.to_string());
    let o = c.rt(&["start", &id]);
    c.tap.check("start", o.ok(), || o.why());
    let ran = wait_file(&c.rootfs.join("started"), Duration::from_secs(5));
    c.tap.check("original-process-ran", ran, || "the process from create time did not run".into());
    c.tap.check("modified-config-ignored", !c.rootfs.join("modified").exists(), || "start used the config.json changed after create".into());
    let _ = c.rt(&["kill", &id, "KILL"]);
    stopped(c, pid, "stopped");
}

/// The state follows the process: killed from outside the runtime, the container is stopped.
fn state_after_external_kill(c: &mut Case) {
    sleeper(c);
    let Some(pid) = running(c, "") else { return };
    let _ = sys::kill(pid, 9);
    if let Some(s) = stopped(c, pid, "stopped") {
        c.tap.eq("stopped.id", s["id"].as_str(), Some(c.cid.as_str()));
    }
    let id = c.cid.clone();
    let o = c.rt(&["delete", &id]);
    c.tap.check("delete", o.ok(), || o.why());
    c.check_nothing_left("deleted", &id, Some(pid));
}

pub fn cases() -> Vec<Def> {
    vec![
        def("config-modified-after-create", config_after_create),
        def("state-after-external-kill", state_after_external_kill),
        def("features", features),
        def("lifecycle-state", lifecycle_state),
        def("run-exit-code", run_exit_code),
        def("run-foreground-checker", run_checker_foreground),
        def("run-detach", run_detached),
        def("kill-signal-names-and-numbers", kill_names),
        def("kill-KILL", |c| kill_stops(c, "KILL")),
        def("kill-SIGKILL", |c| kill_stops(c, "SIGKILL")),
        def("kill-9", |c| kill_stops(c, "9")),
        def("kill-TERM-no-handler-pid1", |c| {
            // No handler in pid 1 of a pid namespace: TERM is ignored, so the container stays up.
            sleeper(c);
            let Some(pid) = running(c, "") else { return };
            let id = c.cid.clone();
            let o = c.rt(&["kill", &id, "TERM"]);
            c.tap.check("kill", o.ok(), || o.why());
            std::thread::sleep(Duration::from_millis(300));
            c.tap.check("still-running", sys::pid_alive(pid), || "pid 1 died of an unhandled TERM".into());
        }),
        def("kill-created", kill_created),
        def("kill-stopped", kill_stopped),
        def("delete-created", delete_created),
        def("delete-running", delete_running),
        def("delete-stopped", delete_stopped),
        def("pid-file", pid_file),
        def("console-socket", console_socket),
    ]
}
