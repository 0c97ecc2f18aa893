//! Checks of `process`: args, cwd, env, terminal, user, capabilities, rlimits, fds.

use crate::Ctx;
use brig_conformance::procfs::{limit, status_field};
use brig_conformance::sys;
use brig_conformance::tap::Tap;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;

pub const CAPS: [&str; 41] = [
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
    "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
    "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
    "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
    "CHECKPOINT_RESTORE",
];

pub const RLIMITS: [(&str, &str); 16] = [
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

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// args, cwd, env, terminal, noNewPrivileges, oomScoreAdj.
pub fn check_process(ctx: &Ctx, t: &mut Tap) {
    let p = &ctx.cfg["process"];
    let args: Vec<String> = std::env::args().collect();
    t.eq("process.args", args, strs(p.get("args")));
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|e| format!("error: {e}"));
    t.eq("process.cwd", cwd, p["cwd"].as_str().unwrap_or("/").to_string());
    for kv in strs(p.get("env")) {
        let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
        t.eq(format!("process.env.{k}"), std::env::var(k).ok(), Some(v.to_string()));
    }
    let terminal = p["terminal"].as_bool().unwrap_or(false);
    t.eq("process.terminal", sys::is_tty(0), terminal);
    let nnp = status_field("self", "NoNewPrivs");
    let want = if p["noNewPrivileges"].as_bool().unwrap_or(false) { "1" } else { "0" };
    t.eq("process.noNewPrivileges", nnp.as_deref(), Some(want));
    if let Some(probe) = ctx.expect["suid_probe"].as_str() {
        // A setuid-root copy of the checker: no_new_privs must keep exec from raising euid.
        let root = std::process::Command::new(probe).arg("--euid").status().map(|s| s.code() == Some(0)).map_err(|e| e.to_string());
        let nnp = p["noNewPrivileges"].as_bool().unwrap_or(false);
        let id = if nnp { "process.noNewPrivileges.setuid-blocked" } else { "process.setuid-exec-gains-root" };
        t.eq(id, root, Ok(!nnp));
    }
    if let Some(adj) = p.get("oomScoreAdj").and_then(Value::as_i64) {
        let got = fs::read_to_string("/proc/self/oom_score_adj").map(|s| s.trim().to_string()).unwrap_or_default();
        t.eq("process.oomScoreAdj", got, adj.to_string());
    }
}

fn ids(field: &str) -> Vec<u64> {
    status_field("self", field).unwrap_or_default().split_whitespace().filter_map(|x| x.parse().ok()).collect()
}

/// uid, gid, additionalGids, umask.
pub fn check_user(ctx: &Ctx, t: &mut Tap) {
    let u = &ctx.cfg["process"]["user"];
    let uid = u["uid"].as_u64().unwrap_or(0);
    let gid = u["gid"].as_u64().unwrap_or(0);
    t.eq("user.uid", ids("Uid"), vec![uid; 4]);
    t.eq("user.gid", ids("Gid"), vec![gid; 4]);
    let groups: BTreeSet<u64> = ids("Groups").into_iter().collect();
    match u.get("additionalGids").and_then(Value::as_array) {
        Some(list) => {
            let want: BTreeSet<u64> = list.iter().filter_map(Value::as_u64).collect();
            let ok = want.is_subset(&groups) && groups.iter().all(|g| want.contains(g) || *g == gid);
            t.check("user.additionalGids", ok, || format!("groups {groups:?}, want {want:?} (plus optionally gid {gid})"));
        }
        None => {
            let ok = groups.iter().all(|g| *g == gid);
            t.check("user.no-inherited-groups", ok, || format!("supplementary groups {groups:?} without additionalGids"));
        }
    }
    if let Some(mask) = u.get("umask").and_then(Value::as_u64) {
        let got = status_field("self", "Umask").and_then(|s| u64::from_str_radix(&s, 8).ok());
        t.eq("user.umask", got.map(|m| format!("{m:04o}")), Some(format!("{mask:04o}")));
        // And it applies: a new file gets 0666 & ~umask.
        let probe = format!("/tmp/umask-probe-{}", std::process::id());
        let mode = fs::write(&probe, b"").and_then(|_| fs::metadata(&probe)).map(|m| {
            use std::os::unix::fs::PermissionsExt;
            format!("{:04o}", m.permissions().mode() & 0o777)
        });
        let _ = fs::remove_file(&probe);
        t.eq("user.umask.new-file-mode", mode.map_err(|e| e.to_string()), Ok(format!("{:04o}", 0o666 & !mask)));
    }
}

fn cap_mask(names: &[String]) -> u64 {
    names.iter().filter_map(|n| CAPS.iter().position(|c| n.strip_prefix("CAP_") == Some(c))).fold(0, |m, b| m | 1 << b)
}

fn cap_names(mask: u64) -> Vec<&'static str> {
    (0..CAPS.len()).filter(|b| mask & (1 << b) != 0).map(|b| CAPS[b]).collect()
}

/// The five capability sets, as the kernel leaves them after the runtime's final execve.
pub fn check_caps(ctx: &Ctx, t: &mut Tap) {
    let Some(c) = ctx.cfg["process"].get("capabilities") else { return };
    let last: u32 = fs::read_to_string("/proc/sys/kernel/cap_last_cap").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(40);
    let known = if last >= 63 { u64::MAX } else { (1u64 << (last + 1)) - 1 };
    let set = |k: &str| cap_mask(&strs(c.get(k))) & known;
    let (bnd, inh, prm, amb) = (set("bounding"), set("inheritable"), set("permitted"), set("ambient"));
    let amb = amb & inh & prm;
    // execve(2) recomputes permitted/effective: root gets bounding|inheritable (plus ambient),
    // anyone else keeps only the ambient set (no file capabilities in the busybox rootfs);
    // see capabilities(7), "Transformation of capabilities during execve()".
    let root = ctx.cfg["process"]["user"]["uid"].as_u64().unwrap_or(0) == 0;
    // With no_new_privs the kernel never lets exec add to the permitted set it had before.
    let nnp = ctx.cfg["process"]["noNewPrivileges"].as_bool().unwrap_or(false);
    let mut prm_after = if root { bnd | inh | amb } else { amb };
    if nnp {
        prm_after &= prm;
    }
    let want = [("CapBnd", "bounding", bnd), ("CapInh", "inheritable", inh), ("CapPrm", "permitted", prm_after), ("CapEff", "effective", prm_after), ("CapAmb", "ambient", amb)];
    for (field, name, want) in want {
        let got = status_field("self", field).and_then(|s| u64::from_str_radix(&s, 16).ok()).unwrap_or(u64::MAX);
        t.check(format!("caps.{name}"), got == want, || format!("got {:?}, want {:?}", cap_names(got), cap_names(want)));
    }
}

/// Each `process.rlimits` entry, read back from /proc/self/limits.
pub fn check_rlimits(ctx: &Ctx, t: &mut Tap) {
    let text = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    for r in ctx.cfg["process"]["rlimits"].as_array().into_iter().flatten() {
        let ty = r["type"].as_str().unwrap_or("?");
        let Some((_, row)) = RLIMITS.iter().find(|(n, _)| *n == ty) else {
            t.skip(format!("rlimit.{ty}"), "unknown rlimit type");
            continue;
        };
        let want = (r["soft"].as_u64().unwrap_or(0), r["hard"].as_u64().unwrap_or(0));
        t.eq(format!("rlimit.{ty}"), limit(&text, row), Some(want));
    }
}

/// Only stdio plus the `--preserve-fds` range is open, and the preserved fds carry their files.
pub fn check_fds(ctx: &Ctx, t: &mut Tap) {
    let preserved = ctx.expect["preserve_fds"].as_u64().unwrap_or(0) as i32;
    let mut open: Vec<i32> = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc/self/fd") {
        let names: Vec<String> = rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        for n in names {
            let Ok(fd) = n.parse::<i32>() else { continue };
            // The directory stream itself shows up as one more fd; it is closed by now.
            if fs::read_link(format!("/proc/self/fd/{fd}")).is_ok() {
                open.push(fd);
            }
        }
    }
    let leaked: Vec<String> = open
        .iter()
        .filter(|fd| **fd > 2 + preserved)
        .map(|fd| format!("{fd}->{}", fs::read_link(format!("/proc/self/fd/{fd}")).map(|p| p.display().to_string()).unwrap_or_default()))
        .collect();
    t.check("fds.no-leaked", leaked.is_empty(), || format!("unexpected open fds: {}", leaked.join(", ")));
    for fd in 3..3 + preserved {
        let got = fs::read_to_string(format!("/proc/self/fd/{fd}")).map_err(|e| e.to_string());
        t.eq(format!("fds.preserved.{fd}"), got, Ok(format!("preserved-fd-{fd}\n")));
    }
}
