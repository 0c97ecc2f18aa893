//! Checks of `linux.resources` as seen from inside (the cgroup mount) and of the device cgroup.

use crate::Ctx;
use brig_conformance::tap::Tap;
use std::fs;

/// Where the container's own cgroup of one controller is visible: v1 `<ctrl>` dir or v2 root.
fn find_file(v1_ctrl: &str, v1_file: &str, v2_file: &str) -> Option<(bool, String)> {
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for l in own.lines() {
        let mut it = l.splitn(3, ':');
        let (_, ctrls, path) = (it.next()?, it.next()?, it.next()?);
        let path = path.trim_end_matches('/');
        if ctrls.split(',').any(|c| c == v1_ctrl) {
            for dir in [format!("/sys/fs/cgroup/{v1_ctrl}{path}"), format!("/sys/fs/cgroup/{v1_ctrl}")] {
                let f = format!("{dir}/{v1_file}");
                if let Ok(s) = fs::read_to_string(&f) {
                    return Some((true, s.trim().to_string()));
                }
            }
        }
        if ctrls.is_empty() && !v2_file.is_empty() {
            for dir in [format!("/sys/fs/cgroup{path}"), "/sys/fs/cgroup".to_string()] {
                if let Ok(s) = fs::read_to_string(format!("{dir}/{v2_file}")) {
                    return Some((false, s.trim().to_string()));
                }
            }
        }
    }
    None
}

fn cpu_weight(shares: u64) -> u64 {
    if shares == 0 { 0 } else { 1 + ((shares.saturating_sub(2)) * 9999) / 262142 }
}

/// Resource limits read back through the container's cgroup mount.
pub fn check_cgroups(ctx: &Ctx, t: &mut Tap) {
    let r = &ctx.cfg["linux"]["resources"];
    let cg_mount = ctx.cfg["mounts"].as_array().into_iter().flatten().any(|m| m["type"] == "cgroup" || m["type"] == "cgroup2");
    let mut check = |id: &str, ctrl: &str, f1: &str, f2: &str, want_v1: String, want_v2: String| match find_file(ctrl, f1, f2) {
        Some((true, got)) => t.eq(format!("cgroup.{id}"), got, want_v1),
        Some((false, got)) => t.eq(format!("cgroup.{id}"), got, want_v2),
        None if f2.is_empty() && std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() => {
            t.skip(format!("cgroup.{id}"), "no cgroup v2 equivalent")
        }
        None if cg_mount => t.fail(format!("cgroup.{id}"), format!("neither {ctrl}/{f1} nor {f2} visible under /sys/fs/cgroup")),
        None => t.skip(format!("cgroup.{id}"), "no cgroup mount in the config"),
    };
    let m = &r["memory"];
    if let Some(v) = m["limit"].as_i64() {
        check("memory.limit", "memory", "memory.limit_in_bytes", "memory.max", v.to_string(), v.to_string());
    }
    if let Some(v) = m["reservation"].as_i64() {
        check("memory.reservation", "memory", "memory.soft_limit_in_bytes", "memory.low", v.to_string(), v.to_string());
    }
    if let Some(v) = m["swappiness"].as_u64() {
        check("memory.swappiness", "memory", "memory.swappiness", "", v.to_string(), v.to_string());
    }
    let c = &r["cpu"];
    if let Some(v) = c["shares"].as_u64() {
        check("cpu.shares", "cpu", "cpu.shares", "cpu.weight", v.to_string(), cpu_weight(v).to_string());
    }
    if let Some(q) = c["quota"].as_i64() {
        let p = c["period"].as_u64().unwrap_or(100000);
        check("cpu.quota", "cpu", "cpu.cfs_quota_us", "cpu.max", q.to_string(), format!("{q} {p}"));
    }
    if let Some(p) = c["period"].as_u64() {
        let q = c["quota"].as_i64().map(|q| q.to_string()).unwrap_or_else(|| "max".into());
        check("cpu.period", "cpu", "cpu.cfs_period_us", "cpu.max", p.to_string(), format!("{q} {p}"));
    }
    if let Some(v) = c["cpus"].as_str() {
        check("cpu.cpus", "cpuset", "cpuset.cpus", "cpuset.cpus", v.to_string(), v.to_string());
    }
    if let Some(v) = c["mems"].as_str() {
        check("cpu.mems", "cpuset", "cpuset.mems", "cpuset.mems", v.to_string(), v.to_string());
    }
    if let Some(v) = r["pids"]["limit"].as_i64() {
        let want = if v <= 0 { "max".to_string() } else { v.to_string() };
        check("pids.limit", "pids", "pids.max", "pids.max", want.clone(), want);
    }
    if r.is_object() {
        // Without a cgroup namespace the path is the host's; with one it is "/".
        let cgns = ctx.cfg["linux"]["namespaces"].as_array().into_iter().flatten().any(|n| n["type"] == "cgroup" && n.get("path").is_none());
        if let Some(want) = ctx.cfg["linux"]["cgroupsPath"].as_str().filter(|p| p.starts_with('/')) {
            let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
            let line = own.lines().find(|l| l.split(':').nth(1).map(|c| c.split(',').any(|x| x == "memory") || c.is_empty()).unwrap_or(false));
            let got = line.and_then(|l| l.splitn(3, ':').nth(2)).unwrap_or("").to_string();
            let want = if cgns { "/".to_string() } else { want.trim_end_matches('/').to_string() };
            t.eq("cgroup.self-path", got, want);
        }
    }
}

/// Devices the runner expects the device cgroup to allow or deny: open(2) fails with EPERM when
/// the cgroup denies it (the nodes use an unassigned major, so an allowed open gives ENXIO).
/// Verdicts: `allowed`, `denied`, `read-only` (reading allowed, writing denied).
pub fn check_device_access(ctx: &Ctx, t: &mut Tap) {
    let Some(map) = ctx.expect["dev_access"].as_object() else { return };
    for (path, verdict) in map {
        let try_open = |write: bool| {
            let r = fs::OpenOptions::new().read(!write).write(write).open(path);
            let denied = matches!(&r, Err(e) if e.raw_os_error() == Some(1));
            (denied, format!("{:?}", r.map(|_| ()).map_err(|e| e.to_string())))
        };
        let verdict = verdict.as_str().unwrap_or("");
        let (read_denied, rmsg) = try_open(false);
        let want_read_denied = verdict == "denied";
        t.check(format!("devcgroup[{path}].read-{}", if want_read_denied { "denied" } else { "allowed" }), read_denied == want_read_denied, || format!("open(O_RDONLY): {rmsg}"));
        if verdict == "read-only" {
            let (write_denied, wmsg) = try_open(true);
            t.check(format!("devcgroup[{path}].write-denied"), write_denied, || format!("open(O_WRONLY): {wmsg}"));
        }
    }
}
