//! The cgroup-driven commands: pause, resume, ps, events, update, kill --all, delete, and resources at
//! create (memory, pids, cpu, cpuset, blkio/io, devices, unified keys, cgroup namespace), read back from
//! the kernel's files for this host's layout (v1, v2 or hybrid; found through `CgroupFiles`).

use brig_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// runc's cpu.shares → cpu.weight conversion (what brig must write on cgroup2).
fn weight_of_shares(shares: u64) -> u64 {
    1 + ((shares - 2) * 9999) / 262142
}

/// `FROZEN` or `THAWED` as the kernel reports it: v1 freezer.state; cgroup2 cgroup.freeze and the
/// `frozen` key of cgroup.events, which must agree.
fn freezer_state(cg: &CgroupFiles) -> String {
    if !cg.is_v2("freezer") {
        return cg.read("freezer", "freezer.state");
    }
    let asked = cg.read("freezer", "cgroup.freeze");
    let events = cg.read("freezer", "cgroup.events");
    let frozen = events
        .lines()
        .find_map(|l| l.strip_prefix("frozen "))
        .unwrap_or("?");
    match (asked.as_str(), frozen) {
        ("1", "1") => "FROZEN".to_string(),
        ("0", "0") => "THAWED".to_string(),
        _ => format!("cgroup.freeze={asked} cgroup.events: {events:?}"),
    }
}

/// The memory limit file and what "no limit" reads as, per layout.
fn mem_limit_file(cg: &CgroupFiles) -> &'static str {
    if cg.is_v2("memory") {
        "memory.max"
    } else {
        "memory.limit_in_bytes"
    }
}

fn is_unlimited(v: &str) -> bool {
    v == "max" || v.parse::<u64>().is_ok_and(|n| n > 1 << 60)
}

/// The cpu quota as one comparable string: v1 `cfs_quota_us cfs_period_us`, v2 cpu.max ("max" for -1).
fn cpu_max(cg: &CgroupFiles) -> String {
    if cg.is_v2("cpu") {
        return cg.read("cpu", "cpu.max");
    }
    let q = cg.read("cpu", "cpu.cfs_quota_us");
    let p = cg.read("cpu", "cpu.cfs_period_us");
    format!("{} {p}", if q == "-1" { "max" } else { &q })
}

/// Whether the kernel accounts swap for memory cgroups here (memsw on v1, memory.swap.max on v2),
/// judged from this test process's own memory cgroup.
fn swap_accounting() -> bool {
    let own = CgroupFiles::of_pid(i64::from(std::process::id()));
    let file = if own.is_v2("memory") {
        "memory.swap.max"
    } else {
        "memory.memsw.limit_in_bytes"
    };
    own.file("memory", file).exists()
        || own
            .dir("memory")
            .ancestors()
            .nth(1)
            .is_some_and(|p| p.join(file).exists())
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
    let cg = CgroupFiles::of_container(&env, &id);
    assert_eq!(freezer_state(&cg), "THAWED");
    env.brig(&["resume", &id])
        .fails_with("container not paused");
    env.brig(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    assert_eq!(freezer_state(&cg), "FROZEN");
    env.brig(&["pause", &id])
        .fails_with("container not running");
    let frozen = wait_for(2, "a complete counter value", count);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(), Some(frozen), "the counter moved while paused");
    env.brig(&["resume", &id]).ok();
    assert_eq!(env.status(&id), "running");
    assert_eq!(freezer_state(&cg), "THAWED");
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
fn kill_of_a_paused_container_with_sigkill_ends_it() {
    // podman kill of a paused container: `kill ID 9` without --all must thaw (runc does), or the
    // frozen init never dies on cgroup v1.
    let env = Env::new("pause-kill");
    let id = env.id("pk");
    started(&env, &id, &["sleep", "100"], |_| {});
    let pid = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    env.brig(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    // Another signal leaves it paused.
    env.brig(&["kill", &id, "CONT"]).ok();
    assert_eq!(env.status(&id), "paused");
    env.brig(&["kill", &id, "9"]).ok();
    wait_for(5, "the init to die", || dead(pid).then_some(()));
    env.wait_status(&id, "stopped");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
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
    // `cache` is left out when zero (runc's omitempty), and whether a container's page cache is
    // charged to it depends on who read its files first (here: the test copied busybox for both).
    let keys_but_cache = |v: &Value| {
        let mut k = keys(v);
        k.retain(|k| k != "cache");
        k
    };
    for k in ["memory", "pids", "cpu"] {
        let mut a = keys_but_cache(&data[k]);
        let mut b = keys_but_cache(&theirs["data"][k]);
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
    let memsw = swap_accounting();
    let b = started(&env, &id, &["sh", "-c", script], |c| {
        writable(c);
        let mut m = json!({"limit": 8 << 20});
        if memsw {
            m["swap"] = json!(8 << 20);
        }
        c["linux"]["resources"]["memory"] = m;
    });
    let cg = CgroupFiles::of_container(&env, &id);
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
    // The kernel's own count: v1 memory.oom_control, cgroup2 memory.events.
    let file = if cg.is_v2("memory") {
        "memory.events"
    } else {
        "memory.oom_control"
    };
    let text = cg.read("memory", file);
    let kills: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no oom_kill in {file}: {text}"));
    assert!(kills >= 1, "{file}: {text}");
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);
}

/// The container's own view of its limits, through its /sys/fs/cgroup mount: (file name in the
/// rootfs's /tmp, path inside the container, for a shell) for memory, pids and the cpu quota on
/// this layout. Without a cgroup namespace, cgroup2 is the whole tree there (as with runc): the
/// container's directory is the path in /proc/self/cgroup.
fn inside_files() -> [(&'static str, &'static str); 3] {
    if layout() == Layout::V2 {
        [
            (
                "mem",
                "/sys/fs/cgroup$(grep ^0:: /proc/self/cgroup | cut -d: -f3)/memory.max",
            ),
            (
                "pids",
                "/sys/fs/cgroup$(grep ^0:: /proc/self/cgroup | cut -d: -f3)/pids.max",
            ),
            (
                "cpu",
                "/sys/fs/cgroup$(grep ^0:: /proc/self/cgroup | cut -d: -f3)/cpu.max",
            ),
        ]
    } else {
        [
            ("mem", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
            ("pids", "/sys/fs/cgroup/pids/pids.max"),
            ("cpu", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
        ]
    }
}

#[test]
fn update_changes_memory_pids_and_cpu_limits_seen_from_both_sides() {
    let env = Env::new("update");
    let id = env.id("up");
    // The container reports its own limits through its /sys/fs/cgroup mount.
    let copies: Vec<String> = inside_files()
        .iter()
        .map(|(name, path)| {
            format!("cat {path} > /tmp/{name}.new 2>&1; mv /tmp/{name}.new /tmp/{name};")
        })
        .collect();
    let script = format!("while true; do {} sleep 0.05; done", copies.join(" "));
    let b = started(&env, &id, &["sh", "-c", &script], |c| {
        writable(c);
        c["linux"]["resources"]["memory"] = json!({"limit": 64 << 20});
        c["linux"]["resources"]["pids"] = json!({"limit": 50});
        c["linux"]["resources"]["cpu"] = json!({"quota": 20000, "period": 100000});
    });
    let cg = CgroupFiles::of_container(&env, &id);
    let v2 = layout() == Layout::V2;
    let mem = mem_limit_file(&cg);
    let inside = |file: &str, want: &str| {
        let p = b.join("rootfs/tmp").join(file);
        let mut last = String::new();
        let ok = (0..250).any(|_| {
            last = std::fs::read_to_string(&p).unwrap_or_default();
            if last.trim() == want {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
            false
        });
        assert!(
            ok,
            "inside the container, {file} is {last:?}, want {want:?}"
        );
    };
    // Inside, v1 shows the quota alone, cgroup2 "quota period".
    let quota_inside = |q: &str, p: &str| {
        if v2 {
            format!("{q} {p}")
        } else if q == "max" {
            "-1".to_string()
        } else {
            q.to_string()
        }
    };
    inside("mem", &(64u64 << 20).to_string());
    inside("pids", "50");
    inside("cpu", &quota_inside("20000", "100000"));
    assert_eq!(cpu_max(&cg), "20000 100000");

    // Flags, with runc's size units.
    env.brig(&[
        "update",
        "--memory",
        "128m",
        "--pids-limit",
        "60",
        "--cpu-quota",
        "30000",
        &id,
    ])
    .ok();
    assert_eq!(cg.read("memory", mem), (128u64 << 20).to_string());
    assert_eq!(cg.read("pids", "pids.max"), "60");
    assert_eq!(cpu_max(&cg), "30000 100000");
    inside("mem", &(128u64 << 20).to_string());
    inside("pids", "60");
    inside("cpu", &quota_inside("30000", "100000"));

    // --resources=FILE: other flags are ignored, as in runc.
    let file = env.dir.join("res.json");
    std::fs::write(
        &file,
        r#"{"memory": {"limit": 100663296}, "pids": {"limit": 70}}"#,
    )
    .unwrap();
    let arg = format!("--resources={}", file.display());
    env.brig(&["update", &arg, "--pids-limit", "5", &id]).ok();
    assert_eq!(cg.read("memory", mem), "100663296");
    assert_eq!(cg.read("pids", "pids.max"), "70");

    // --resources - : JSON on stdin (containerd's CRI path); -1 means unlimited.
    std::fs::write(&file, r#"{"pids": {"limit": -1}, "cpu": {"shares": 512}}"#).unwrap();
    let r = env.output(
        env.cmd()
            .args(["update", "--resources", "-", &id])
            .stdin(std::fs::File::open(&file).unwrap()),
    );
    r.ok();
    assert_eq!(cg.read("pids", "pids.max"), "max");
    if cg.is_v2("cpu") {
        assert_eq!(
            cg.read("cpu", "cpu.weight"),
            weight_of_shares(512).to_string()
        );
    } else {
        assert_eq!(cg.read("cpu", "cpu.shares"), "512");
    }
    assert_eq!(cg.read("memory", mem), "100663296");
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
    assert_eq!(cpu_max(&cg), "50000 100000");
    assert_eq!(cg.read("cpuset", "cpuset.cpus"), "0");
    if cg.is_v2("cpu") {
        assert_eq!(
            cg.read("cpu", "cpu.weight"),
            weight_of_shares(256).to_string()
        );
    } else {
        assert_eq!(cg.read("cpu", "cpu.shares"), "256");
    }
    let reservation = if cg.is_v2("memory") {
        "memory.low"
    } else {
        "memory.soft_limit_in_bytes"
    };
    assert_eq!(cg.read("memory", reservation), (32u64 << 20).to_string());
    let limit = cg.read("memory", mem);
    assert!(is_unlimited(&limit), "{mem} = {limit}");
    inside("cpu", &quota_inside("50000", "100000"));
    env.brig(&["update", "--cpu-quota", "-1", &id]).ok();
    assert_eq!(cpu_max(&cg), "max 100000");
    inside("cpu", &quota_inside("max", "100000"));

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

/// A block io weight file and how brig converts blkio.weight for it.
type WeightFile = (&'static str, fn(u64) -> u64);

/// The last number of the first line of a weight file: v1 `500`, cgroup2/BFQ `default 500`.
fn weight_value(text: &str) -> String {
    text.lines()
        .next()
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or("")
        .to_string()
}

#[test]
fn resources_at_create_land_in_the_host_cgroup_files() {
    let env = Env::new("create-res");
    let id = env.id("cr");
    let swap = swap_accounting();
    let b = env.bundle(&id, &["sleep", "100"], |c| {
        let mut m = json!({"limit": 48 << 20, "reservation": 24 << 20});
        if swap {
            m["swap"] = json!(96 << 20);
        }
        c["linux"]["resources"]["memory"] = m;
        c["linux"]["resources"]["pids"] = json!({"limit": 20});
        c["linux"]["resources"]["cpu"] =
            json!({"shares": 256, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"});
    });
    env.create(&id, &b).ok();
    let cg = CgroupFiles::of_container(&env, &id);
    assert_eq!(
        cg.read("memory", mem_limit_file(&cg)),
        (48u64 << 20).to_string()
    );
    if cg.is_v2("memory") {
        assert_eq!(cg.read("memory", "memory.low"), (24u64 << 20).to_string());
        if swap {
            // memory.swap.max is swap alone: memory+swap (v1 semantics) minus the limit.
            assert_eq!(
                cg.read("memory", "memory.swap.max"),
                (48u64 << 20).to_string()
            );
        }
    } else {
        assert_eq!(
            cg.read("memory", "memory.soft_limit_in_bytes"),
            (24u64 << 20).to_string()
        );
        if swap {
            assert_eq!(
                cg.read("memory", "memory.memsw.limit_in_bytes"),
                (96u64 << 20).to_string()
            );
        }
    }
    assert_eq!(cg.read("pids", "pids.max"), "20");
    if cg.is_v2("cpu") {
        assert_eq!(
            cg.read("cpu", "cpu.weight"),
            weight_of_shares(256).to_string()
        );
    } else {
        assert_eq!(cg.read("cpu", "cpu.shares"), "256");
    }
    assert_eq!(cpu_max(&cg), "20000 100000");
    assert_eq!(cg.read("cpuset", "cpuset.cpus"), "0");
    assert_eq!(cg.read("cpuset", "cpuset.mems"), "0");
    let init = env.state(&id).unwrap()["pid"].as_i64().unwrap();
    for dir in cg.dirs() {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), init.to_string(), "{}", dir.display());
    }
    // A created container can be paused, as runc allows: it reads `paused`, cannot be started
    // until resumed, and is `created` again after resume.
    env.brig(&["resume", &id])
        .fails_with("container not paused");
    env.brig(&["pause", &id]).ok();
    assert_eq!(env.status(&id), "paused");
    assert_eq!(freezer_state(&cg), "FROZEN");
    env.brig(&["start", &id])
        .fails_with("cannot start container in state `paused`");
    env.brig(&["resume", &id]).ok();
    assert_eq!(env.status(&id), "created");
    assert_eq!(freezer_state(&cg), "THAWED");

    // The block io weight goes to the file this kernel has for it: v1 blkio.weight (CFQ, gone since
    // 5.0) or blkio.bfq.weight (BFQ); cgroup2 io.bfq.weight (BFQ) or io.weight (converted, io cost).
    // Without any of them, create fails naming the field.
    let candidates: &[WeightFile] = if cg.is_v2("blkio") {
        &[
            ("io.bfq.weight", |w| w),
            ("io.weight", |w| 1 + (w - 10) * 9999 / 990),
        ]
    } else {
        &[("blkio.weight", |w| w), ("blkio.bfq.weight", |w| w)]
    };
    let ctrl = if cg.is_v2("blkio") { "io" } else { "blkio" };
    let found = candidates
        .iter()
        .find(|(f, _)| cg.file(ctrl, f).exists())
        .copied();
    env.brig(&["delete", &id]).ok();
    env.assert_gone(&id);

    let id = env.id("cr-io");
    let b = env.bundle(&id, &["sleep", "100"], |c| {
        c["linux"]["resources"]["blockIO"] = json!({"weight": 500});
    });
    match found {
        Some((file, convert)) => {
            env.create(&id, &b).ok();
            let cg = CgroupFiles::of_container(&env, &id);
            assert_eq!(
                weight_value(&cg.read(ctrl, file)),
                convert(500).to_string(),
                "{file}"
            );
            env.brig(&["delete", &id]).ok();
        }
        None => {
            env.create(&id, &b)
                .fails_with("linux.resources.blockIO.weight: no ");
        }
    }
    env.assert_gone(&id);
}

#[test]
fn delete_removes_the_cgroup_in_every_hierarchy() {
    let env = Env::new("delete-cg");
    let id = env.id("dc");
    started(&env, &id, &["sleep", "100"], |_| {});
    let cg = CgroupFiles::of_container(&env, &id);
    let dirs: Vec<PathBuf> = cg.dirs().into_iter().map(Path::to_path_buf).collect();
    let want = cgroup_bases().len();
    assert_eq!(dirs.len(), want, "one directory per hierarchy: {dirs:?}");
    for d in &dirs {
        assert!(d.is_dir(), "{} missing", d.display());
    }
    env.brig(&["delete", "--force", &id]).ok();
    for d in &dirs {
        assert!(!d.exists(), "{} left behind", d.display());
    }
    env.assert_gone(&id);
}

/// Run `sh -c script` in a container and return its stdout; the container must exit 0.
fn run_script(env: &Env, id: &str, script: &str, edit: impl FnOnce(&mut Value)) -> String {
    let b = env.bundle(id, &["sh", "-c", script], edit);
    let r = env.run(id, &b);
    r.ok();
    env.brig(&["delete", id]);
    r.stdout.clone()
}

#[test]
fn devices_not_allowed_cannot_be_opened() {
    let env = Env::new("devices");
    // Major 42 is reserved for demos and never has a driver: opening a node allowed by the
    // devices cgroup fails with ENXIO, one it denies fails with EPERM first.
    let script =
        "for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/brig42; do \
                  if (exec 3<>$d) 2>/dev/shm/err; then echo \"$d: ok\"; \
                  else echo \"$d: $(cat /dev/shm/err)\"; fi; done";
    let node = json!([{"path": "/dev/brig42", "type": "c", "major": 42, "minor": 0,
                        "fileMode": 438, "uid": 0, "gid": 0}]);
    let check = |out: &str, dev: &str, want: &str| {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{dev}:")))
            .unwrap_or_else(|| panic!("no line for {dev} in {out}"));
        assert!(line.contains(want), "{line} (want {want:?}); all: {out}");
    };
    let id = env.id("dev-deny");
    let out = run_script(&env, &id, script, |c| {
        c["linux"]["devices"] = node.clone();
    });
    for d in [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
    ] {
        check(&out, d, ": ok");
    }
    // No controlling terminal: the driver says ENXIO, so the cgroup let it through.
    check(&out, "/dev/tty", "No such device or address");
    check(&out, "/dev/brig42", "Operation not permitted");
    env.assert_gone(&id);

    let id = env.id("dev-allow");
    let out = run_script(&env, &id, script, |c| {
        c["linux"]["devices"] = node.clone();
        c["linux"]["resources"]["devices"] = json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 42, "minor": 0, "access": "rw"}
        ]);
    });
    check(&out, "/dev/null", ": ok");
    check(&out, "/dev/brig42", "No such device or address");
    env.assert_gone(&id);
}

#[test]
fn unified_keys_are_written_on_cgroup2_and_refused_on_v1() {
    let env = Env::new("unified");
    let id = env.id("un");
    let b = env.bundle(&id, &["sleep", "100"], |c| {
        c["linux"]["resources"]["unified"] = json!({"pids.max": "42", "memory.high": "50331648"});
    });
    if layout() == Layout::V2 {
        env.create(&id, &b).ok();
        let cg = CgroupFiles::of_container(&env, &id);
        assert_eq!(cg.read("pids", "pids.max"), "42");
        assert_eq!(cg.read("memory", "memory.high"), "50331648");
        env.brig(&["delete", &id]).ok();
    } else {
        // v1: no cgroup2 at all; hybrid: memory and pids are v1 hierarchies, not in cgroup2.
        env.create(&id, &b).fails_with("linux.resources.unified");
    }
    env.assert_gone(&id);
}

#[test]
fn a_new_cgroup_namespace_is_rooted_at_the_container() {
    let env = Env::new("cgroupns");
    let id = env.id("cns");
    let pids = inside_files()[1].1;
    let script = format!("cat /proc/self/cgroup; echo pids.max=$(cat {pids})");
    let out = run_script(&env, &id, &script, |c| {
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "cgroup"}));
        c["linux"]["resources"]["pids"] = json!({"limit": 33});
    });
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("pids.max="))
        .collect();
    match layout() {
        Layout::V2 => assert_eq!(lines, ["0::/"], "{out}"),
        Layout::V1 | Layout::Hybrid => {
            assert!(lines.len() > 1, "{out}");
            for l in &lines {
                assert!(
                    l.ends_with(":/"),
                    "{l} is not the namespace root; all: {out}"
                );
            }
        }
    }
    // The cgroup filesystem mounted inside is the container's own cgroup.
    assert!(out.contains("pids.max=33\n"), "{out}");
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
