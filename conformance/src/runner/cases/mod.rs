//! The case list. A case is an id plus a function that drives the runtime and records checks.
//! Config cases run the checker inside a container built from a config variation; lifecycle,
//! hook and error cases drive the runtime's commands from outside.

mod compat;
mod config;
mod errors;
mod hooks;
mod lifecycle;
mod linux;

use crate::harness::{Case, Io};
use brig_conformance::tap;
use serde_json::{json, Value};
use std::time::Duration;

/// RLIMIT_* names and their /proc/<pid>/limits rows.
pub const RLIMIT_ROWS: [(&str, &str); 16] = [
    ("RLIMIT_CPU", "Max cpu time"),
    ("RLIMIT_FSIZE", "Max file size"),
    ("RLIMIT_DATA", "Max data size"),
    ("RLIMIT_STACK", "Max stack size"),
    ("RLIMIT_CORE", "Max core file size"),
    ("RLIMIT_RSS", "Max resident set"),
    ("RLIMIT_NPROC", "Max processes"),
    ("RLIMIT_NOFILE", "Max open files"),
    ("RLIMIT_MEMLOCK", "Max locked memory"),
    ("RLIMIT_AS", "Max address space"),
    ("RLIMIT_LOCKS", "Max file locks"),
    ("RLIMIT_SIGPENDING", "Max pending signals"),
    ("RLIMIT_MSGQUEUE", "Max msgqueue size"),
    ("RLIMIT_NICE", "Max nice priority"),
    ("RLIMIT_RTPRIO", "Max realtime priority"),
    ("RLIMIT_RTTIME", "Max realtime timeout"),
];

/// One case.
pub struct Def {
    pub id: String,
    pub run: Box<dyn Fn(&mut Case)>,
}

pub fn def(id: impl Into<String>, run: impl Fn(&mut Case) + 'static) -> Def {
    Def { id: id.into(), run: Box::new(run) }
}

/// A config case: `setup` edits `c.cfg` / `c.expect`, then the checker runs and checks the
/// `focus` areas (every area when `focus` is empty).
pub fn checker(id: impl Into<String>, focus: &'static [&'static str], setup: impl Fn(&mut Case) + 'static) -> Def {
    def(id, move |c: &mut Case| {
        if !focus.is_empty() {
            c.expect["focus"] = json!(focus);
        }
        setup(c);
        run_checker(c, Io::default(), |_, _| {});
    })
}

/// Every case, in run order.
pub fn all() -> Vec<Def> {
    let mut v = Vec::new();
    v.extend(config::cases());
    v.extend(linux::cases());
    v.extend(lifecycle::cases());
    v.extend(compat::cases());
    v.extend(hooks::cases());
    v.extend(errors::cases());
    v
}

/// create -> (after_create) -> start -> checker runs to its end -> delete; then folds the
/// checker's TAP into the case and checks that delete left nothing behind.
pub fn run_checker(c: &mut Case, mut io: Io, after_create: impl Fn(&mut Case, i32)) {
    c.write_bundle();
    let out_path = c.dir.join("checker.out");
    io.stdout = Some(out_path.clone());
    let cid = c.cid.clone();
    let bundle = c.bundle.display().to_string();
    let mut args = vec!["create".to_string(), "--bundle".into(), bundle];
    let preserve = io.extra_fds.len();
    if preserve > 0 {
        args.push("--preserve-fds".into());
        args.push(preserve.to_string());
    }
    args.push(cid.clone());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = c.rt_io(&argv, io);
    c.tap.check("create", o.ok(), || o.why());
    if !o.ok() {
        return;
    }
    let pid = match c.state(&cid) {
        Ok(s) => s["pid"].as_i64().unwrap_or(0) as i32,
        Err(e) => {
            c.tap.fail("state", e);
            0
        }
    };
    after_create(c, pid);
    let o = c.rt(&["start", &cid]);
    c.tap.check("start", o.ok(), || o.why());
    if o.ok() && pid > 0 {
        if let Err(e) = c.wait_pid(pid, Duration::from_secs(20)) {
            c.tap.fail("checker.exited", e);
        }
    }
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let checks = tap::parse(&text);
    let complete = text.lines().any(|l| l.starts_with("1.."));
    c.tap.check("checker.completed", complete && !checks.is_empty(), || format!("checker output incomplete ({} points): {}", checks.len(), text.lines().last().unwrap_or("")));
    for x in checks {
        c.tap.record(x.id, x.outcome);
    }
    let o = c.rt(&["delete", &cid]);
    c.tap.check("delete", o.ok(), || o.why());
    c.check_nothing_left("deleted", &cid, Some(pid));
}

/// Mutable access to an array in the config, created when absent.
pub fn arr<'a>(v: &'a mut Value, ptr: &str) -> &'a mut Vec<Value> {
    let mut cur = v;
    for key in ptr.trim_start_matches('/').split('/') {
        if cur.get(key).is_none() {
            cur[key] = Value::Null;
        }
        cur = &mut cur[key];
    }
    if !cur.is_array() {
        *cur = json!([]);
    }
    cur.as_array_mut().unwrap_or_else(|| unreachable!())
}

/// Sets `ptr` (a /-separated path of object keys) to `val`, creating objects on the way.
pub fn set(v: &mut Value, ptr: &str, val: Value) {
    let mut cur = v;
    for key in ptr.trim_start_matches('/').split('/') {
        if !cur.is_object() {
            *cur = json!({});
        }
        cur = &mut cur[key];
    }
    *cur = val;
}

/// The container's process replaced by a busybox shell command.
pub fn shell(c: &mut Case, script: &str) {
    c.cfg["process"]["args"] = json!(["/bin/sh", "-c", script]);
}
