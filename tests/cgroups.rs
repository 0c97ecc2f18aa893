//! The cgroup-driven commands: pause, resume, ps, events, update, kill --all, and resources at create,
//! read back from the host's cgroup files (this host: v1 controllers, cgroup2 at /sys/fs/cgroup/unified).

use brig_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The host file `file` of controller `ctrl` (a v1 hierarchy) for container `id`.
fn cg_file(ctrl: &str, id: &str, file: &str) -> PathBuf {
    Path::new("/sys/fs/cgroup")
        .join(ctrl)
        .join("brig-test")
        .join(id)
        .join(file)
}

fn read_cg(ctrl: &str, id: &str, file: &str) -> String {
    let p = cg_file(ctrl, id, file);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

/// Poll `f` every 20 ms until it returns Some, for at most `secs` seconds.
#[track_caller]
fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn writable(c: &mut Value) {
    c["root"]["readonly"] = json!(false);
}

/// Create and start a container; returns its bundle.
fn started(env: &Env, id: &str, args: &[&str], edit: impl FnOnce(&mut Value)) -> PathBuf {
    let b = env.bundle(id, args, edit);
    env.create(id, &b).ok();
    env.brig(&["start", id]).ok();
    b
}

fn ps_json(env: &Env, id: &str) -> Vec<i64> {
    let r = env.brig(&["ps", "--format", "json", id]);
    r.ok();
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    v.as_array()
        .map(|a| a.iter().map(|p| p.as_i64().unwrap()).collect())
        .unwrap_or_default()
}

/// Whether `pid` is gone or a zombie.
fn dead(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
    }
}

/// runc (the reference) on a bundle of ours, with its own state root; `delete --force`d on drop.
struct Runc<'a> {
    env: &'a Env,
    id: String,
}

impl Runc<'_> {
    fn cmd(&self) -> std::process::Command {
        assert!(
            Path::new("/usr/sbin/runc").exists(),
            "runc (the reference) is not installed at /usr/sbin/runc"
        );
        let mut c = std::process::Command::new("/usr/sbin/runc");
        c.arg("--root")
            .arg(self.env.dir.join("runc-state"))
            .stdin(Stdio::null());
        c
    }
    fn run(&self, args: &[&str]) -> Run {
        let r = self.env.output(self.cmd().args(args));
        assert_eq!(r.code, 0, "runc {args:?} failed: {}", r.stderr);
        r
    }
}

impl Drop for Runc<'_> {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .args(["delete", "--force", &self.id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

const COUNTER: &str = "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done";

#[test]
fn pause_stops_the_processes_and_resume_restarts_them() {
    let env = Env::new("pause");
    let id = env.id("p");
    let b = started(&env, &id, &["sh", "-c", COUNTER], writable);
    let count = || {
        std::fs::read_to_string(b.join("rootfs/tmp/count"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    wait_for(5, "the counter to start", || count().filter(|&n| n > 2));
    env.brig(&["resume", &id])
        .fails_with("container not paused");
    env.brig(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    assert_eq!(read_cg("freezer", &id, "freezer.state"), "FROZEN");
    env.brig(&["pause", &id])
        .fails_with("container not running");
    let frozen = wait_for(2, "a complete counter value", count);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(), Some(frozen), "the counter moved while paused");
    env.brig(&["resume", &id]).ok();
    assert_eq!(env.status(&id), "running");
    assert_eq!(read_cg("freezer", &id, "freezer.state"), "THAWED");
    wait_for(5, "the counter to move again", || {
        count().filter(|&n| n > frozen + 2)
    });
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["pause", &id])
        .fails_with("container not running");
    env.brig(&["resume", &id])
        .fails_with("container not paused");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn delete_force_removes_a_paused_container() {
    let env = Env::new("pause-del");
    let id = env.id("pd");
    started(&env, &id, &["sh", "-c", "sleep 100 & wait"], |_| {});
    let pids = wait_for(5, "two processes", || {
        Some(ps_json(&env, &id)).filter(|p| p.len() == 2)
    });
    env.brig(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    env.brig(&["delete", &id])
        .fails_with("cannot delete container in state `paused`");
    env.brig(&["delete", "--force", &id]).ok();
    env.assert_gone(&id);
    for p in pids {
        wait_for(5, "the processes to die", || dead(p).then_some(()));
    }
}

#[test]
fn ps_lists_the_init_and_its_child_like_runc() {
    let env = Env::new("ps");
    let id = env.id("ps");
    let edit = |c: &mut Value| c["process"]["args"] = json!(["sh", "-c", "sleep 100 & wait"]);
    started(&env, &id, &[], edit);
    let init = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    let pids = wait_for(5, "two processes", || {
        Some(ps_json(&env, &id)).filter(|p| p.len() == 2)
    });
    assert!(pids.contains(&init), "{pids:?} lacks the init {init}");
    let child = *pids.iter().find(|&&p| p != init).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap();
    let ppid: i64 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ppid, init);

    // The default table: ps -ef's header and one row per process, in pid order.
    let r = env.brig(&["ps", &id]);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "UID        PID  PPID  C STIME TTY          TIME CMD"
    );
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    let row = |pid: i64| {
        lines[1..]
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(&pid.to_string()))
            .unwrap_or_else(|| panic!("no row for {pid}: {}", r.stdout))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let (ri, rc) = (row(init), row(child));
    assert_eq!(ri[0], "root");
    assert_eq!(ri[5], "?");
    assert_eq!(ri[7..], ["sh", "-c", "sleep", "100", "&", "wait"]);
    assert_eq!(rc[2], init.to_string());
    assert_eq!(rc[7..], ["sleep", "100"]);
    // The native table is what the host's `ps -e -f` prints for those rows (retried: STIME and
    // TIME may tick between the two runs).
    let mut last = (String::new(), String::new());
    for _ in 0..5 {
        last = (
            env.brig(&["ps", &id]).stdout,
            env.brig(&["ps", &id, "-e", "-f"]).stdout,
        );
        if last.0 == last.1 {
            break;
        }
    }
    assert_eq!(last.0, last.1, "brig's table vs the host's ps -e -f");
    // Other ps arguments go to the host's ps, filtered to the container's pids (as runc).
    let r = env.brig(&["ps", &id, "-o", "pid,comm"]);
    r.ok();
    let mut got: Vec<&str> = r.stdout.lines().skip(1).map(str::trim).collect();
    got.sort();
    let mut want = vec![format!("{init} sh"), format!("{child} sleep")];
    want.sort();
    assert_eq!(got, want, "{}", r.stdout);
    assert_eq!(
        r.stdout
            .lines()
            .next()
            .map(str::split_whitespace)
            .unwrap()
            .collect::<Vec<_>>(),
        ["PID", "COMMAND"]
    );
    env.brig(&["ps", "--format", "xml", &id])
        .fails_with("invalid format option");

    // runc on the same bundle: the same JSON shape (a flat array of host pids) and table header.
    let rid = env.id("ps-runc");
    let rb = env.bundle(&rid, &[], edit);
    let runc = Runc {
        env: &env,
        id: rid.clone(),
    };
    runc.run(&["run", "-d", "--bundle", rb.to_str().unwrap(), &rid]);
    let theirs: Value = wait_for(5, "runc's two processes", || {
        let out = runc.run(&["ps", "--format", "json", &rid]).stdout;
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        (v.as_array().map(Vec::len) == Some(2)).then_some(v)
    });
    assert!(theirs.as_array().unwrap().iter().all(Value::is_i64));
    let table = runc.run(&["ps", &rid]).stdout;
    assert_eq!(table.lines().next(), Some(lines[0]));
    drop(runc);

    // Stopped: no processes, printed as runc prints an empty list.
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    let r = env.brig(&["ps", "--format", "json", &id]);
    r.ok();
    assert_eq!(r.stdout, "null\n");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    env.assert_gone(&rid);
}

#[test]
fn events_stats_prints_one_event_with_runcs_keys() {
    let env = Env::new("events-stats");
    let id = env.id("es");
    let edit = |c: &mut Value| {
        c["process"]["args"] = json!(["sh", "-c", "sleep 100 & wait"]);
        c["linux"]["resources"]["memory"] = json!({"limit": 64 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 40});
    };
    started(&env, &id, &[], edit);
    wait_for(5, "two processes", || {
        Some(ps_json(&env, &id)).filter(|p| p.len() == 2)
    });
    let r = env.brig(&["events", "--stats", &id]);
    r.ok();
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let ev: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ev["type"], "stats");
    assert_eq!(ev["id"], id.as_str());
    let data = &ev["data"];
    assert!(
        data["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
        "{data}"
    );
    assert_eq!(data["memory"]["usage"]["limit"], 64 << 20);
    assert_eq!(data["pids"]["current"], 2);
    assert_eq!(data["pids"]["limit"], 40);
    assert!(
        data["cpu"]["usage"]["total"].as_u64().unwrap() > 0,
        "{data}"
    );

    // runc on the same bundle: the same event keys and the same top-level stats keys, in order.
    let rid = env.id("es-runc");
    let rb = env.bundle(&rid, &[], edit);
    let runc = Runc {
        env: &env,
        id: rid.clone(),
    };
    runc.run(&["run", "-d", "--bundle", rb.to_str().unwrap(), &rid]);
    let theirs: Value =
        serde_json::from_str(&runc.run(&["events", "--stats", &rid]).stdout).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let mut ek = keys(&ev);
    let mut tk = keys(&theirs);
    ek.sort();
    tk.sort();
    assert_eq!(ek, tk);
    // serde_json's Map sorts keys, so compare the order as printed.
    const TOP: [&str; 8] = [
        "cpu",
        "cpuset",
        "memory",
        "pids",
        "blkio",
        "hugetlb",
        "intel_rdt",
        "network_interfaces",
    ];
    let order = |line: &str| -> Vec<&'static str> {
        let data = &line[line.find("\"data\":").unwrap()..];
        let mut pos: Vec<(usize, &'static str)> = TOP
            .iter()
            .filter_map(|k| data.find(&format!("\"{k}\":")).map(|p| (p, *k)))
            .collect();
        pos.sort();
        pos.into_iter().map(|(_, k)| k).collect()
    };
    let theirs_line = runc.run(&["events", "--stats", &rid]).stdout;
    assert_eq!(order(&r.stdout), order(&theirs_line));
    assert_eq!(order(&r.stdout), TOP);
    for k in ["memory", "pids", "cpu"] {
        let mut a = keys(&data[k]);
        let mut b = keys(&theirs["data"][k]);
        a.sort();
        b.sort();
        assert_eq!(a, b, "keys of {k}");
    }
    drop(runc);

    env.brig(&["events", "--interval", "0s", &id])
        .fails_with("duration interval must be greater than 0");
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["events", "--stats", &id])
        .fails_with("container not running");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
    env.assert_gone(&rid);
}

#[test]
fn events_reports_an_oom_and_ends_when_the_container_stops() {
    let env = Env::new("events-oom");
    let id = env.id("oom");
    // The init waits for /tmp/go, then allocates 32 MiB under an 8 MiB limit (swap limited too,
    // so it cannot page out instead).
    let script = "while [ ! -e /tmp/go ]; do sleep 0.05; done; \
                  exec dd if=/dev/zero of=/dev/null bs=32M count=1";
    let memsw = Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists();
    let b = started(&env, &id, &["sh", "-c", script], |c| {
        writable(c);
        let mut m = json!({"limit": 8 << 20});
        if memsw {
            m["swap"] = json!(8 << 20);
        }
        c["linux"]["resources"]["memory"] = m;
    });
    let out = env.dir.join("events.out");
    let mut child = env
        .cmd()
        .args(["events", "--interval", "200ms", &id])
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let lines = || std::fs::read_to_string(&out).unwrap_or_default();
    // The first stats event comes after the OOM notifier is registered.
    wait_for(10, "a first stats event", || {
        lines().contains("\"type\":\"stats\"").then_some(())
    });
    std::fs::write(b.join("rootfs/tmp/go"), "").unwrap();
    let status = wait_for(20, "events to exit", || child.try_wait().unwrap());
    assert!(status.success(), "{status:?}");
    let text = lines();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.contains(&json!({"type": "oom", "id": id})),
        "no oom event in {text}"
    );
    for e in &events {
        assert!(e["type"] == "oom" || e["type"] == "stats", "{e}");
    }
    assert_eq!(env.status(&id), "stopped");
    assert!(
        read_cg("memory", &id, "memory.oom_control").contains("oom_kill 1"),
        "{}",
        read_cg("memory", &id, "memory.oom_control")
    );
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn update_changes_memory_and_pids_limits_seen_from_both_sides() {
    let env = Env::new("update");
    let id = env.id("up");
    // The container reports its own limits through its /sys/fs/cgroup mount.
    let script = "while true; do \
                  cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /tmp/mem; \
                  cat /sys/fs/cgroup/pids/pids.max > /tmp/pids; sleep 0.05; done";
    let b = started(&env, &id, &["sh", "-c", script], |c| {
        writable(c);
        c["linux"]["resources"]["memory"] = json!({"limit": 64 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 50});
    });
    let inside = |file: &str, want: &str| {
        let p = b.join("rootfs/tmp").join(file);
        wait_for(5, &format!("{file} = {want} inside"), || {
            let s = std::fs::read_to_string(&p).unwrap_or_default();
            (s.trim() == want).then_some(())
        });
    };
    inside("mem", &(64u64 << 20).to_string());
    inside("pids", "50");

    // Flags, with runc's size units.
    env.brig(&["update", "--memory", "128m", "--pids-limit", "60", &id])
        .ok();
    assert_eq!(
        read_cg("memory", &id, "memory.limit_in_bytes"),
        (128u64 << 20).to_string()
    );
    assert_eq!(read_cg("pids", &id, "pids.max"), "60");
    inside("mem", &(128u64 << 20).to_string());
    inside("pids", "60");

    // --resources=FILE: other flags are ignored, as in runc.
    let file = env.dir.join("res.json");
    std::fs::write(
        &file,
        r#"{"memory": {"limit": 100663296}, "pids": {"limit": 70}}"#,
    )
    .unwrap();
    let arg = format!("--resources={}", file.display());
    env.brig(&["update", &arg, "--pids-limit", "5", &id]).ok();
    assert_eq!(read_cg("memory", &id, "memory.limit_in_bytes"), "100663296");
    assert_eq!(read_cg("pids", &id, "pids.max"), "70");

    // --resources - : JSON on stdin (containerd's CRI path); -1 means unlimited.
    std::fs::write(&file, r#"{"pids": {"limit": -1}, "cpu": {"shares": 512}}"#).unwrap();
    let r = env.output(
        env.cmd()
            .args(["update", "--resources", "-", &id])
            .stdin(std::fs::File::open(&file).unwrap()),
    );
    r.ok();
    assert_eq!(read_cg("pids", &id, "pids.max"), "max");
    assert_eq!(read_cg("cpu", &id, "cpu.shares"), "512");
    assert_eq!(read_cg("memory", &id, "memory.limit_in_bytes"), "100663296");
    inside("pids", "max");

    // The other flags.
    env.brig(&[
        "update",
        "--cpu-share",
        "256",
        "--cpu-period",
        "100000",
        "--cpu-quota",
        "50000",
        "--cpuset-cpus",
        "0",
        "--memory-reservation",
        "32m",
        "--memory",
        "-1",
        &id,
    ])
    .ok();
    assert_eq!(read_cg("cpu", &id, "cpu.shares"), "256");
    assert_eq!(read_cg("cpu", &id, "cpu.cfs_period_us"), "100000");
    assert_eq!(read_cg("cpu", &id, "cpu.cfs_quota_us"), "50000");
    assert_eq!(read_cg("cpuset", &id, "cpuset.cpus"), "0");
    assert_eq!(
        read_cg("memory", &id, "memory.soft_limit_in_bytes"),
        (32u64 << 20).to_string()
    );
    assert!(
        read_cg("memory", &id, "memory.limit_in_bytes")
            .parse::<u64>()
            .unwrap()
            > 1 << 60
    );
    env.brig(&["update", "--cpu-quota", "-1", &id]).ok();
    assert_eq!(read_cg("cpu", &id, "cpu.cfs_quota_us"), "-1");

    // Errors: one line, runc's wording.
    env.brig(&["update", "--memory", "abc", &id])
        .fails_with("invalid value for memory: invalid size: 'abc'");
    env.brig(&["update", "--cpu-share", "x", &id])
        .fails_with("invalid value for cpu-share");
    env.brig(&["update", "--resources", "/nonexistent.json", &id])
        .fails_with("/nonexistent.json");
    env.brig(&["update", "--l3-cache-schema", "L3:0=f", &id])
        .fails_with("Intel RDT/CAT: l3 cache schema is not enabled");
    env.brig(&["kill", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    env.brig(&["update", "--pids-limit", "9", &id])
        .fails_with("container not running");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn resources_at_create_land_in_the_host_cgroup_files() {
    let env = Env::new("create-res");
    let id = env.id("cr");
    let b = env.bundle(&id, &["sleep", "100"], |c| {
        c["linux"]["resources"]["memory"] = json!({"limit": 48 << 20, "reservation": 24 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 20});
        c["linux"]["resources"]["cpu"] =
            json!({"shares": 256, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"});
    });
    env.create(&id, &b).ok();
    assert_eq!(
        read_cg("memory", &id, "memory.limit_in_bytes"),
        (48u64 << 20).to_string()
    );
    assert_eq!(
        read_cg("memory", &id, "memory.soft_limit_in_bytes"),
        (24u64 << 20).to_string()
    );
    assert_eq!(read_cg("pids", &id, "pids.max"), "20");
    assert_eq!(read_cg("cpu", &id, "cpu.shares"), "256");
    assert_eq!(read_cg("cpu", &id, "cpu.cfs_quota_us"), "20000");
    assert_eq!(read_cg("cpu", &id, "cpu.cfs_period_us"), "100000");
    assert_eq!(read_cg("cpuset", &id, "cpuset.cpus"), "0");
    assert_eq!(read_cg("cpuset", &id, "cpuset.mems"), "0");
    let init = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    for ctrl in ["memory", "pids", "cpu", "cpuset", "freezer"] {
        assert_eq!(
            read_cg(ctrl, &id, "cgroup.procs"),
            init.to_string(),
            "{ctrl}"
        );
    }
    // Only a running container can be paused (runc also pauses a created one).
    env.brig(&["pause", &id])
        .fails_with("container not running");
    env.brig(&["resume", &id])
        .fails_with("container not paused");
    assert_eq!(read_cg("freezer", &id, "freezer.state"), "THAWED");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn kill_all_reaches_every_process() {
    let env = Env::new("kill-all");
    let id = env.id("ka");
    let b = env.bundle(
        &id,
        &["sh", "-c", "sh /w.sh a & sh /w.sh b & exec sh /w.sh init"],
        writable,
    );
    // Each process records the SIGUSR1 it receives.
    std::fs::write(
        b.join("rootfs/w.sh"),
        "trap 'touch /tmp/got-$1' USR1\nwhile true; do sleep 0.05; done\n",
    )
    .unwrap();
    env.create(&id, &b).ok();
    env.brig(&["start", &id]).ok();
    let got = |n: &str| b.join("rootfs/tmp").join(format!("got-{n}")).exists();
    wait_for(5, "three shells", || {
        let pids = ps_json(&env, &id);
        // Three shells, each with a sleep now and then.
        (pids.len() >= 3).then_some(())
    });
    env.brig(&["kill", &id, "USR1"]).ok();
    wait_for(5, "the init to get SIGUSR1", || got("init").then_some(()));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !got("a") && !got("b"),
        "plain kill reached more than the init"
    );
    env.brig(&["kill", "--all", &id, "USR1"]).ok();
    wait_for(5, "every shell to get SIGUSR1", || {
        (got("a") && got("b")).then_some(())
    });
    let pids = ps_json(&env, &id);
    env.brig(&["kill", "--all", &id, "KILL"]).ok();
    env.wait_status(&id, "stopped");
    for p in pids {
        wait_for(5, "every process to die", || dead(p).then_some(()));
    }
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

#[test]
fn unknown_ids_and_bad_arguments_fail_in_one_line() {
    let env = Env::new("cg-errors");
    for args in [
        &["pause", "nosuch"][..],
        &["resume", "nosuch"],
        &["ps", "nosuch"],
        &["ps", "--format", "json", "nosuch"],
        &["events", "--stats", "nosuch"],
        &["events", "nosuch"],
        &["update", "--pids-limit", "5", "nosuch"],
    ] {
        env.brig(args).fails_with("does not exist");
    }
    env.brig(&["events", "--interval", "5x", "nosuch"])
        .fails_with("invalid duration");
    env.brig(&["ps"]).fails_with("required");
}
