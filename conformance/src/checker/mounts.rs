//! Checks of `root`, `mounts`, `linux.rootfsPropagation`, `linux.maskedPaths` and
//! `linux.readonlyPaths`, all from /proc/self/mountinfo.

use crate::Ctx;
use brig_conformance::procfs::{mount_at, mountinfo, MountInfo};
use brig_conformance::tap::Tap;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

fn norm(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() { "/".into() } else { t.into() }
}

/// `root.readonly`, and that `/` is the bundle's rootfs (the runner leaves a marker there).
pub fn check_root(ctx: &Ctx, t: &mut Tap) {
    let mounts = mountinfo("self");
    let ro = ctx.cfg["root"]["readonly"].as_bool().unwrap_or(false);
    match mount_at(&mounts, "/") {
        Some(m) => t.eq("root.readonly", m.opts.iter().any(|o| o == "ro"), ro),
        None => t.fail("root.readonly", "no mount at / in mountinfo"),
    }
    if let Some(marker) = ctx.expect["rootfs_marker"].as_str() {
        let got = fs::read_to_string("/conformance/rootfs-marker").map_err(|e| e.to_string());
        t.eq("root.path", got, Ok(marker.to_string()));
    }
}

/// A size such as `65536k`, `1m` or `1048576` in KiB, as tmpfs shows it.
fn kib(s: &str) -> Option<u64> {
    let (num, mul) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1),
        'm' | 'M' => (&s[..s.len() - 1], 1024),
        'g' | 'G' => (&s[..s.len() - 1], 1024 * 1024),
        _ => return s.parse::<u64>().ok().map(|b| b / 1024),
    };
    num.parse::<u64>().ok().map(|n| n * mul)
}

fn data_matches(key: &str, want: &str, got: &str) -> bool {
    match key {
        "mode" | "ptmxmode" => u32::from_str_radix(want, 8).ok() == u32::from_str_radix(got, 8).ok(),
        "size" => kib(want) == kib(got),
        _ => want == got,
    }
}

const RECURSIVE: [&str; 14] = ["ro", "rw", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime", "strictatime", "suid", "dev", "exec", "atime", "diratime"];

/// `rro` -> `ro`, `rnosuid` -> `nosuid`: the recursive mount options of runtime-spec 1.1.
fn recursive_base(o: &str) -> Option<&str> {
    o.strip_prefix('r').filter(|b| RECURSIVE.contains(b))
}

/// Whether one per-mount option holds on `m`; None when the option is not observable.
fn flag_holds(o: &str, m: &MountInfo) -> Option<bool> {
    let has = |f: &str| m.opts.iter().any(|x| x == f);
    let prop = |tag: &str| m.optional.iter().any(|x| x.starts_with(tag));
    let o = recursive_base(o).unwrap_or(o);
    Some(match o {
        "ro" => has("ro"),
        "rw" => has("rw"),
        "nosuid" | "nodev" | "noexec" | "noatime" | "nodiratime" | "relatime" => has(o),
        "suid" => !has("nosuid"),
        "dev" => !has("nodev"),
        "exec" => !has("noexec"),
        "strictatime" => !has("noatime") && !has("relatime"),
        "norelatime" => !has("relatime"),
        "shared" | "rshared" => prop("shared:"),
        "slave" | "rslave" => prop("master:") && !prop("shared:"),
        "private" | "rprivate" => !prop("shared:") && !prop("master:") && !prop("unbindable"),
        "unbindable" | "runbindable" => prop("unbindable"),
        "sync" | "dirsync" => m.super_opts.iter().any(|x| x == o),
        _ => return None,
    })
}

/// Every entry of `mounts`: present, type, source, per-mount flags, fs data options, bind source.
pub fn check_mounts(ctx: &Ctx, t: &mut Tap) {
    let mounts = mountinfo("self");
    for m in ctx.cfg["mounts"].as_array().into_iter().flatten() {
        let dest = norm(m["destination"].as_str().unwrap_or(""));
        let id = format!("mount[{dest}]");
        let opts: Vec<&str> = m["options"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let ty = m["type"].as_str().unwrap_or("");
        let bind = ty == "bind" || opts.iter().any(|o| *o == "bind" || *o == "rbind");
        let Some(mi) = mount_at(&mounts, &dest) else {
            t.fail(format!("{id}.present"), "no such mount point in /proc/self/mountinfo");
            continue;
        };
        t.pass(format!("{id}.present"));
        if !bind {
            let ok = mi.fstype == ty || (ty == "cgroup" && ["tmpfs", "cgroup", "cgroup2"].contains(&mi.fstype.as_str()));
            t.check(format!("{id}.type"), ok, || format!("fstype {:?}, want {ty:?}", mi.fstype));
            if let Some(src) = m["source"].as_str().filter(|_| ty != "cgroup") {
                t.eq(format!("{id}.source"), mi.source.as_str(), src);
            }
        }
        let below: Vec<&MountInfo> = mounts.iter().filter(|x| x.mount_point.starts_with(&format!("{dest}/"))).collect();
        // A v1 `cgroup` mount is a tmpfs holding one cgroup mount per controller: the options
        // are about the cgroup filesystems, so check them on those.
        let cgroup_v1 = ty == "cgroup" && mi.fstype == "tmpfs";
        let flag_targets: Vec<&MountInfo> = if cgroup_v1 { below.iter().copied().filter(|b| b.fstype.starts_with("cgroup")).collect() } else { vec![mi] };
        for o in &opts {
            if let Some((k, v)) = o.split_once('=') {
                if bind || cgroup_v1 {
                    continue;
                }
                match mi.super_opts.iter().find_map(|s| s.strip_prefix(&format!("{k}="))) {
                    Some(got) => t.check(format!("{id}.data.{k}"), data_matches(k, v, got), || format!("{k}={got}, want {k}={v}")),
                    // tmpfs shows mode only when it differs from its default 1777.
                    None if k == "mode" && mi.fstype == "tmpfs" => t.check(format!("{id}.data.{k}"), data_matches(k, v, "1777"), || format!("mode 1777 (not shown), want {v}")),
                    None if ["mode", "size", "uid", "gid", "ptmxmode", "nr_inodes"].contains(&k) => {
                        t.fail(format!("{id}.data.{k}"), format!("{k} missing from super options {:?}", mi.super_opts))
                    }
                    None => {}
                }
                continue;
            }
            if (*o == "sync" || *o == "dirsync") && bind {
                continue;
            }
            if flag_holds(o, mi).is_none() {
                continue;
            }
            let bad: Vec<String> = flag_targets.iter().filter(|m| flag_holds(o, m) == Some(false)).map(|m| format!("{} {:?} {:?}", m.mount_point, m.opts, m.optional)).collect();
            let ok = bad.is_empty() && !flag_targets.is_empty();
            t.check(format!("{id}.opt.{o}"), ok, || format!("not applied: {}", bad.join("; ")));
            if recursive_base(o).is_some() && !below.is_empty() {
                let bad: Vec<&str> = below.iter().filter(|b| flag_holds(o, b) == Some(false)).map(|b| b.mount_point.as_str()).collect();
                t.check(format!("{id}.opt.{o}.submounts"), bad.is_empty(), || format!("not applied below: {bad:?}"));
            }
        }
        if bind {
            if let Some(want) = ctx.expect["bind_markers"].get(&dest).and_then(Value::as_str) {
                let is_dir = fs::metadata(&dest).map(|md| md.is_dir()).unwrap_or(false);
                let p = if is_dir { format!("{dest}/.conformance-marker") } else { dest.clone() };
                let got = fs::read_to_string(&p).map_err(|e| e.to_string());
                t.eq(format!("{id}.bind-source"), got, Ok(want.to_string()));
            }
        }
    }
}

/// Mount points the runner expects (`present_mounts`, e.g. submounts carried by rbind) or
/// expects absent (`absent_mounts`, submounts a plain bind must not carry).
pub fn check_expected_mounts(ctx: &Ctx, t: &mut Tap) {
    let mounts = mountinfo("self");
    for p in ctx.expect["present_mounts"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        t.check(format!("mount[{p}].present"), mount_at(&mounts, p).is_some(), || "not a mount point".into());
    }
    for p in ctx.expect["absent_mounts"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        t.check(format!("mount[{p}].absent"), mount_at(&mounts, p).is_none(), || "is a mount point".into());
    }
}

/// `linux.rootfsPropagation`, from the optional fields of the `/` mount.
pub fn check_rootfs_propagation(ctx: &Ctx, t: &mut Tap) {
    let Some(p) = ctx.cfg["linux"]["rootfsPropagation"].as_str() else { return };
    let mounts = mountinfo("self");
    match mount_at(&mounts, "/") {
        // Runtimes bind the rootfs after making its parent private, so `/` has no master even
        // under a shared parent: for slave, what shows is that `/` does not propagate back.
        Some(m) if p == "slave" || p == "rslave" => {
            let shared = m.optional.iter().any(|x| x.starts_with("shared:"));
            t.check("rootfsPropagation", !shared, || format!("/ is shared ({:?}), want slave", m.optional))
        }
        Some(m) => match flag_holds(p, m) {
            Some(ok) => t.check("rootfsPropagation", ok, || format!("/ has optional fields {:?}, want {p}", m.optional)),
            None => t.fail("rootfsPropagation", format!("unknown propagation {p:?}")),
        },
        None => t.fail("rootfsPropagation", "no mount at /"),
    }
}

/// Each `linux.maskedPaths` entry reads as empty: /dev/null over files, an empty read-only
/// tmpfs over directories. Paths that do not exist in the container need no mask.
pub fn check_masked(ctx: &Ctx, t: &mut Tap) {
    let mounts = mountinfo("self");
    for p in ctx.cfg["linux"]["maskedPaths"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let id = format!("masked[{p}]");
        let md = match fs::symlink_metadata(p) {
            Ok(md) => md,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                t.pass(id);
                continue;
            }
            Err(e) => {
                // EACCES/EPERM on stat also hides the content.
                t.check(id, e.kind() == std::io::ErrorKind::PermissionDenied, || format!("stat: {e}"));
                continue;
            }
        };
        if md.is_dir() {
            let n = fs::read_dir(p).map(|d| d.count()).unwrap_or(0);
            t.check(id, n == 0, || format!("directory lists {n} entries"));
        } else {
            let null = md.file_type().is_char_device() && md.rdev() == (1 << 8 | 3);
            let content = fs::read(p).map(|b| b.len()).unwrap_or(0);
            let covered = mount_at(&mounts, p).is_some();
            t.check(id, (null || covered) && content == 0, || format!("not masked: {} bytes readable, rdev {:#x}", content, md.rdev()));
        }
    }
}

/// Each `linux.readonlyPaths` entry is a read-only mount. Never probed by writing: a runtime
/// that fails this must not get a write to /proc/sysrq-trigger.
pub fn check_readonly(ctx: &Ctx, t: &mut Tap) {
    let mounts = mountinfo("self");
    for p in ctx.cfg["linux"]["readonlyPaths"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let id = format!("readonly[{p}]");
        if fs::symlink_metadata(p).is_err() {
            t.pass(id);
            continue;
        }
        match mount_at(&mounts, p) {
            Some(m) => t.check(id, m.opts.iter().any(|o| o == "ro"), || format!("mount options {:?}", m.opts)),
            None => t.fail(id, "no mount at this path"),
        }
    }
}
