//! Checks of `hostname`/`domainname` and of `linux`: namespaces, id mappings, devices, sysctl,
//! seccomp and personality.

use crate::Ctx;
use brig_conformance::procfs::{mount_at, mountinfo};
use brig_conformance::sys;
use brig_conformance::tap::Tap;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// Config namespace type and its /proc/self/ns name.
pub const NAMESPACES: [(&str, &str); 8] =
    [("pid", "pid"), ("network", "net"), ("mount", "mnt"), ("ipc", "ipc"), ("uts", "uts"), ("user", "user"), ("cgroup", "cgroup"), ("time", "time")];

pub fn check_hostname(ctx: &Ctx, t: &mut Tap) {
    let read = |f: &str| fs::read_to_string(format!("/proc/sys/kernel/{f}")).map(|s| s.trim_end().to_string()).ok();
    if let Some(h) = ctx.cfg["hostname"].as_str() {
        t.eq("hostname", read("hostname"), Some(h.to_string()));
    }
    if let Some(d) = ctx.cfg["domainname"].as_str() {
        t.eq("domainname", read("domainname"), Some(d.to_string()));
    }
}

/// Each namespace type: new when listed without a path, the given one when listed with a path,
/// the runtime's (host's) own when not listed.
pub fn check_namespaces(ctx: &Ctx, t: &mut Tap) {
    let listed = ctx.cfg["linux"]["namespaces"].as_array().cloned().unwrap_or_default();
    for (ty, name) in NAMESPACES {
        let id = format!("ns.{ty}");
        let Ok(got) = fs::read_link(format!("/proc/self/ns/{name}")).map(|p| p.display().to_string()) else {
            t.skip(id, format!("/proc/self/ns/{name} not available"));
            continue;
        };
        let host = ctx.expect["host_ns"][name].as_str();
        let entry = listed.iter().find(|n| n["type"].as_str() == Some(ty));
        match entry {
            Some(n) if n.get("path").is_some() => match ctx.expect["joined_ns"][ty].as_str() {
                Some(want) => t.eq(format!("{id}.joined"), got.as_str(), want),
                None => t.skip(format!("{id}.joined"), "runner gave no inode for the joined namespace"),
            },
            Some(_) => match host {
                Some(h) => t.check(format!("{id}.new"), got != h, || format!("{got} is the host's namespace")),
                None => t.skip(format!("{id}.new"), "runner gave no host namespace"),
            },
            None => match host {
                Some(h) => t.eq(format!("{id}.shared"), got.as_str(), h),
                None => t.skip(format!("{id}.shared"), "runner gave no host namespace"),
            },
        }
    }
}

fn triples(v: &Value) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> =
        v.as_array().into_iter().flatten().map(|m| (m["containerID"].as_u64().unwrap_or(0), m["hostID"].as_u64().unwrap_or(0), m["size"].as_u64().unwrap_or(0))).collect();
    out.sort();
    out
}

fn read_map(f: &str) -> Vec<(u64, u64, u64)> {
    let mut out: Vec<(u64, u64, u64)> = fs::read_to_string(f)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let n: Vec<u64> = l.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            (n.len() == 3).then(|| (n[0], n[1], n[2]))
        })
        .collect();
    out.sort();
    out
}

/// `linux.uidMappings` / `linux.gidMappings` against /proc/self/{uid,gid}_map.
pub fn check_idmap(ctx: &Ctx, t: &mut Tap) {
    let l = &ctx.cfg["linux"];
    if l.get("uidMappings").is_some() {
        t.eq("idmap.uid_map", read_map("/proc/self/uid_map"), triples(&l["uidMappings"]));
    }
    if l.get("gidMappings").is_some() {
        t.eq("idmap.gid_map", read_map("/proc/self/gid_map"), triples(&l["gidMappings"]));
    }
}

fn major(rdev: u64) -> u64 {
    ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff)
}

fn minor(rdev: u64) -> u64 {
    (rdev & 0xff) | ((rdev >> 12) & !0xff)
}

/// Each `linux.devices` entry: type, major/minor, file mode, owner.
pub fn check_devices(ctx: &Ctx, t: &mut Tap) {
    let userns = ctx.cfg["linux"]["namespaces"].as_array().into_iter().flatten().any(|n| n["type"] == "user");
    for d in ctx.cfg["linux"]["devices"].as_array().into_iter().flatten() {
        let path = d["path"].as_str().unwrap_or("");
        let id = format!("device[{path}]");
        let md = match fs::symlink_metadata(path) {
            Ok(md) => md,
            Err(e) => {
                t.fail(format!("{id}.present"), e.to_string());
                continue;
            }
        };
        t.pass(format!("{id}.present"));
        let ft = md.file_type();
        let ty = d["type"].as_str().unwrap_or("");
        let ok = match ty {
            "c" | "u" => ft.is_char_device(),
            "b" => ft.is_block_device(),
            "p" => ft.is_fifo(),
            _ => false,
        };
        t.check(format!("{id}.type"), ok, || format!("file type {ft:?}, want {ty}"));
        if ty != "p" {
            t.eq(format!("{id}.major"), major(md.rdev()), d["major"].as_u64().unwrap_or(0));
            t.eq(format!("{id}.minor"), minor(md.rdev()), d["minor"].as_u64().unwrap_or(0));
        }
        if userns {
            // Inside a user namespace runtimes bind-mount the host node: mode and owner are the host's.
            continue;
        }
        if let Some(mode) = d["fileMode"].as_u64() {
            t.eq(format!("{id}.fileMode"), format!("{:o}", md.mode() & 0o7777), format!("{mode:o}"));
        }
        if let Some(uid) = d["uid"].as_u64() {
            t.eq(format!("{id}.uid"), md.uid() as u64, uid);
        }
        if let Some(gid) = d["gid"].as_u64() {
            t.eq(format!("{id}.gid"), md.gid() as u64, gid);
        }
    }
}

/// The devices and /dev symlinks every Linux container gets (config-linux.md "Default Devices").
pub fn check_default_devices(ctx: &Ctx, t: &mut Tap) {
    let defaults = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)];
    for (name, maj, min) in defaults {
        let path = format!("/dev/{name}");
        let id = format!("devices.default.{name}");
        match fs::metadata(&path) {
            Ok(md) => {
                let ok = md.file_type().is_char_device() && major(md.rdev()) == maj && minor(md.rdev()) == min;
                t.check(id.clone(), ok, || format!("not char {maj}:{min} (rdev {}:{})", major(md.rdev()), minor(md.rdev())));
            }
            Err(e) => t.fail(id.clone(), e.to_string()),
        }
        let usable = match name {
            "null" => fs::write(&path, b"x").map_err(|e| e.to_string()),
            "full" => match fs::write(&path, b"x") {
                Err(e) if e.raw_os_error() == Some(28) => Ok(()),
                other => Err(format!("write: {other:?}, want ENOSPC")),
            },
            "tty" => match fs::File::open(&path) {
                Ok(_) => Ok(()),
                Err(e) if e.raw_os_error() == Some(6) => Ok(()), // ENXIO: no controlling terminal
                Err(e) => Err(e.to_string()),
            },
            _ => {
                use std::io::Read;
                let mut b = [0u8; 4];
                fs::File::open(&path).and_then(|mut f| f.read_exact(&mut b)).map_err(|e| e.to_string())
            }
        };
        t.eq(format!("{id}.usable"), usable, Ok(()));
    }
    let links = [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2")];
    for (link, target) in links {
        let got = fs::read_link(link).map(|p| p.display().to_string()).map_err(|e| e.to_string());
        t.eq(format!("devices.symlink.{link}"), got, Ok(target.to_string()));
    }
    let devpts = ctx.cfg["mounts"].as_array().into_iter().flatten().any(|m| m["type"] == "devpts");
    if devpts {
        let ok = match fs::symlink_metadata("/dev/ptmx") {
            Ok(md) if md.file_type().is_symlink() => fs::read_link("/dev/ptmx").map(|p| p.display().to_string() == "pts/ptmx" || p.display().to_string() == "/dev/pts/ptmx").unwrap_or(false),
            Ok(_) => mount_at(&mountinfo("self"), "/dev/ptmx").is_some(),
            Err(_) => false,
        };
        t.check("devices.ptmx", ok, || "/dev/ptmx is neither a symlink to pts/ptmx nor a bind mount of it".into());
    }
    if ctx.cfg["process"]["terminal"].as_bool().unwrap_or(false) {
        let ok = fs::metadata("/dev/console").map(|md| md.file_type().is_char_device() && major(md.rdev()) == 136).unwrap_or(false);
        t.check("devices.console", ok, || "/dev/console is not the container's pty (char 136:N)".into());
    }
}

/// Each `linux.sysctl` key read back from /proc/sys (whitespace-normalized).
pub fn check_sysctl(ctx: &Ctx, t: &mut Tap) {
    let Some(map) = ctx.cfg["linux"]["sysctl"].as_object() else { return };
    for (k, v) in map {
        let p = format!("/proc/sys/{}", k.replace('.', "/"));
        let got = fs::read_to_string(&p).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).map_err(|e| e.to_string());
        let want = v.as_str().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
        t.eq(format!("sysctl[{k}]"), got, Ok(want));
    }
}

/// x86_64 numbers of the syscalls the checker knows how to make harmlessly.
const SYSCALLS: [(&str, i64); 6] = [("getppid", 110), ("getpgrp", 111), ("sched_yield", 24), ("getsid", 124), ("personality", 135), ("getpriority", 140)];

fn nr(name: &str) -> Option<i64> {
    SYSCALLS.iter().find(|(n, _)| *n == name).map(|(_, n)| *n)
}

/// Helper mode: one system call, exit 0 on success or 100+errno.
pub fn syscall_helper(args: &[String]) -> i32 {
    let Some(n) = args.first().and_then(|a| nr(a)) else { return 99 };
    let a0 = args.get(1).and_then(|a| a.parse::<u64>().ok()).unwrap_or(0);
    match sys::raw_syscall(n, a0, 0, 0) {
        Ok(_) => 0,
        Err(e) => 100 + e.min(150),
    }
}

/// Runs the helper and reports how it ended: Ok(errno or 0) or Err(signal).
fn in_child(name: &str, arg: u64) -> Result<i32, i32> {
    use std::os::unix::process::ExitStatusExt;
    let st = std::process::Command::new("/proc/self/exe").args(["--syscall", name, &arg.to_string()]).status();
    match st {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(0), _) => Ok(0),
            (Some(c), _) if c >= 100 => Ok(c - 100),
            (Some(c), _) => Ok(-c),
            (None, Some(sig)) => Err(sig),
            _ => Ok(-1),
        },
        Err(e) => Ok(-1000 - e.raw_os_error().unwrap_or(0)),
    }
}

/// `linux.seccomp`: filter mode, and each rule on a syscall the checker can make.
pub fn check_seccomp(ctx: &Ctx, t: &mut Tap) {
    let sc = &ctx.cfg["linux"]["seccomp"];
    let mode = brig_conformance::procfs::status_field("self", "Seccomp");
    let want = if sc.is_object() { "2" } else { "0" };
    t.eq("seccomp.mode", mode.as_deref(), Some(want));
    if !sc.is_object() {
        return;
    }
    let mut ruled: Vec<&str> = Vec::new();
    for rule in sc["syscalls"].as_array().into_iter().flatten() {
        let action = rule["action"].as_str().unwrap_or("");
        let errno = rule["errnoRet"].as_i64().unwrap_or(1) as i32;
        let args = rule["args"].as_array().cloned().unwrap_or_default();
        for name in rule["names"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            ruled.push(name);
            let Some(n) = nr(name) else { continue };
            // Only `arg0 == value` conditions are exercised: the matching call, then another value.
            let (arg, other) = match args.as_slice() {
                [] => (0, None),
                [a] if a["index"] == 0 && a["op"] == "SCMP_CMP_EQ" => {
                    let v = a["value"].as_u64().unwrap_or(0);
                    (v, Some(if v == 0xffff_ffff { 0 } else { v + 1 }))
                }
                _ => continue,
            };
            let id = format!("seccomp[{name}]");
            match action {
                "SCMP_ACT_ERRNO" => t.eq(format!("{id}.errno"), sys::raw_syscall(n, arg, 0, 0).err(), Some(errno)),
                "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG" => t.eq(format!("{id}.allowed"), sys::raw_syscall(n, arg, 0, 0).is_ok(), true),
                "SCMP_ACT_TRACE" => t.eq(format!("{id}.trace-without-tracer"), sys::raw_syscall(n, arg, 0, 0).err(), Some(38)),
                "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" | "SCMP_ACT_KILL_PROCESS" | "SCMP_ACT_TRAP" => {
                    t.eq(format!("{id}.sigsys"), in_child(name, arg), Err(31))
                }
                _ => continue,
            }
            if let Some(o) = other {
                t.eq(format!("{id}.args-unmatched-allowed"), sys::raw_syscall(n, o, 0, 0).is_ok(), true);
            }
        }
    }
    if sc["defaultAction"] == "SCMP_ACT_ALLOW" {
        if let Some((name, n)) = SYSCALLS.iter().find(|(s, _)| !ruled.contains(s) && *s != "personality") {
            t.eq(format!("seccomp.default-allow[{name}]"), sys::raw_syscall(*n, 0, 0, 0).is_ok(), true);
        }
    }
}

/// `linux.personality.domain`, read back with personality(0xffffffff).
pub fn check_personality(ctx: &Ctx, t: &mut Tap) {
    let Some(domain) = ctx.cfg["linux"]["personality"]["domain"].as_str() else { return };
    let want = match domain {
        "LINUX" => 0,
        "LINUX32" => 8,
        _ => return t.skip("personality.domain", format!("unknown domain {domain}")),
    };
    let got = sys::raw_syscall(135, 0xffff_ffff, 0, 0).map(|p| p & 0xff);
    t.eq("personality.domain", got, Ok(want));
}
