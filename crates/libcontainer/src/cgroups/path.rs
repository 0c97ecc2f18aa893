//! Where cgroups live: mountinfo and /proc/self/cgroup parsing, layout detection, cgroupsPath resolution.

use std::path::{Path, PathBuf};

use super::{CgroupError, HostLayout};

/// v1 controllers the kernel knows (named hierarchies such as `name=systemd` are kept as well).
const V1_CONTROLLERS: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "perf_event",
    "net_prio",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// One mounted cgroup hierarchy, as found in mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Where it is mounted, already under the injected host root.
    pub mount_point: PathBuf,
    /// The cgroup of the hierarchy shown at `mount_point` (field 4 of mountinfo; `/` unless in a container).
    pub root: String,
    /// v1: the controllers (and `name=...`) bound to the hierarchy; empty for cgroup2.
    pub controllers: Vec<String>,
}

/// Every cgroup hierarchy of the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mounts {
    pub v1: Vec<Mount>,
    pub unified: Option<Mount>,
}

impl Mounts {
    pub fn layout(&self) -> Option<HostLayout> {
        let has_v1 = self
            .v1
            .iter()
            .any(|m| m.controllers.iter().any(|c| !c.starts_with("name=")));
        match (has_v1, self.unified.is_some()) {
            (true, true) => Some(HostLayout::Hybrid),
            (true, false) => Some(HostLayout::V1),
            (false, true) => Some(HostLayout::V2),
            (false, false) => None,
        }
    }
}

/// Undo mountinfo's octal escapes (`\040` for a space, ...).
pub(crate) fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Join an absolute host path under the injected root (`/` on a real host).
pub(crate) fn under_root(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

/// Parse /proc/self/mountinfo text: keep the first mount of each cgroup hierarchy.
pub(crate) fn parse_mountinfo(text: &str, root: &Path) -> Mounts {
    let mut mounts = Mounts::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if sep < 5 || fields.len() < sep + 4 {
            continue;
        }
        let (hroot, mount_point) = (unescape(fields[3]), unescape(fields[4]));
        let (fstype, super_opts) = (fields[sep + 1], fields[sep + 3]);
        let mount_point = under_root(root, &mount_point);
        match fstype {
            "cgroup2" if mounts.unified.is_none() => {
                mounts.unified = Some(Mount {
                    mount_point,
                    root: hroot,
                    controllers: Vec::new(),
                });
            }
            "cgroup" => {
                let controllers: Vec<String> = super_opts
                    .split(',')
                    .filter(|o| V1_CONTROLLERS.contains(o) || o.starts_with("name="))
                    .map(str::to_string)
                    .collect();
                if controllers.is_empty() || mounts.v1.iter().any(|m| m.controllers == controllers)
                {
                    continue;
                }
                mounts.v1.push(Mount {
                    mount_point,
                    root: hroot,
                    controllers,
                });
            }
            _ => {}
        }
    }
    mounts
}

/// One line of /proc/self/cgroup: `id:controllers:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnCgroup {
    pub controllers: Vec<String>,
    pub path: String,
}

pub(crate) fn parse_self_cgroup(text: &str) -> Vec<OwnCgroup> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let ctrls = it.next()?;
            let path = it.next()?;
            let controllers = if ctrls.is_empty() {
                Vec::new()
            } else {
                ctrls.split(',').map(str::to_string).collect()
            };
            Some(OwnCgroup {
                controllers,
                path: path.to_string(),
            })
        })
        .collect()
}

/// runc's CleanPath: a lexically cleaned path; a relative one cannot climb above its start with `..`.
pub(crate) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    if abs {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Expand a systemd slice name to its path: `a-b.slice` -> `/a.slice/a-b.slice`; `-.slice` is the root.
pub(crate) fn expand_slice(slice: &str) -> Result<String, String> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(format!(
            "invalid slice name `{slice}`: must end in `.slice`"
        ));
    };
    if stem == "-" {
        return Ok("/".to_string());
    }
    if stem.is_empty()
        || stem.contains('/')
        || stem.starts_with('-')
        || stem.ends_with('-')
        || stem.contains("--")
    {
        return Err(format!("invalid slice name `{slice}`"));
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        path.push('/');
        path.push_str(&prefix);
        path.push_str(".slice");
    }
    Ok(path)
}

/// The cgroup path systemd would give `slice:prefix:name` (default slice `system.slice`).
pub(crate) fn systemd_path(spec: &str) -> Result<String, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [slice, prefix, name] = parts[..] else {
        return Err(format!(
            "expected the systemd form `slice:prefix:name`, got `{spec}`"
        ));
    };
    if name.is_empty() {
        return Err(format!(
            "expected the systemd form `slice:prefix:name`, got `{spec}` (empty name)"
        ));
    }
    let slice_path = expand_slice(if slice.is_empty() {
        "system.slice"
    } else {
        slice
    })?;
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    Ok(format!("{}/{unit}", slice_path.trim_end_matches('/')))
}

/// `own` (a path in the hierarchy) as seen below the mount, whose hierarchy root is `mount_root`.
fn own_under_mount(own: &str, mount_root: &str) -> String {
    if mount_root == "/" {
        return own.to_string();
    }
    match own.strip_prefix(mount_root) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_string(),
        _ => own.to_string(),
    }
}

/// The container's directory in one v1 hierarchy. An absolute `inner` is taken from the hierarchy's mount;
/// a relative one goes below the caller's own cgroup in that hierarchy, as runc does.
pub(crate) fn v1_dir(mount: &Mount, own: &[OwnCgroup], inner: &str) -> PathBuf {
    if inner.starts_with('/') {
        return mount.mount_point.join(inner.trim_start_matches('/'));
    }
    let own_path = own
        .iter()
        .find(|o| o.controllers.iter().any(|c| mount.controllers.contains(c)))
        .map(|o| own_under_mount(&o.path, &mount.root))
        .unwrap_or_default();
    mount
        .mount_point
        .join(own_path.trim_start_matches('/'))
        .join(inner)
}

/// The container's directory in the cgroup2 hierarchy. A relative `inner` goes below the *parent* of the
/// caller's cgroup (runc: the caller's own cgroup has processes, so it cannot delegate controllers).
pub(crate) fn unified_dir(mount: &Mount, own: &[OwnCgroup], inner: &str) -> PathBuf {
    if inner.starts_with('/') {
        return mount.mount_point.join(inner.trim_start_matches('/'));
    }
    let own_path = own
        .iter()
        .find(|o| o.controllers.is_empty())
        .map(|o| own_under_mount(&o.path, &mount.root))
        .unwrap_or_default();
    let parent = Path::new(&own_path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    mount
        .mount_point
        .join(parent.trim_start_matches('/'))
        .join(inner)
}

/// Resolve `linux.cgroupsPath` (+ systemd flag) to the inner path used in every hierarchy.
pub(crate) fn inner_path(
    cgroups_path: Option<&Path>,
    id: &str,
    systemd: bool,
    systemd_running: bool,
) -> Result<String, CgroupError> {
    let raw = cgroups_path
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty());
    if systemd {
        let spec = raw.clone().unwrap_or_else(|| format!(":brig:{id}"));
        let path = systemd_path(&spec).map_err(|reason| CgroupError::CgroupsPath {
            path: spec.clone(),
            reason,
        })?;
        let reason = if systemd_running {
            format!(
                "the systemd cgroup driver (unit `{path}`) is not implemented: brig does not talk D-Bus; \
                 use the cgroupfs driver"
            )
        } else {
            "the systemd cgroup driver was requested but systemd is not running (no /run/systemd/system); \
             use the cgroupfs driver (no --systemd-cgroup)"
                .to_string()
        };
        return Err(CgroupError::CgroupsPath { path: spec, reason });
    }
    let inner = clean_path(raw.as_deref().unwrap_or(id));
    if inner.is_empty() || inner == "/" {
        return Err(CgroupError::CgroupsPath {
            path: raw.unwrap_or_else(|| id.to_string()),
            reason: "resolves to the root cgroup; a container needs a cgroup of its own"
                .to_string(),
        });
    }
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const V2: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
    const V1: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:32 /docker/abc /mnt/again\\040here rw,relatime - cgroup cgroup rw,memory
37 31 0:33 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
";

    #[test]
    fn layout_detection_from_mountinfo() {
        let r = Path::new("/");
        assert_eq!(
            parse_mountinfo(HYBRID, r).layout(),
            Some(HostLayout::Hybrid)
        );
        assert_eq!(parse_mountinfo(V2, r).layout(), Some(HostLayout::V2));
        assert_eq!(parse_mountinfo(V1, r).layout(), Some(HostLayout::V1));
        assert_eq!(
            parse_mountinfo("22 27 0:21 / /proc rw - proc proc rw\n", r).layout(),
            None
        );
        // name=systemd alone next to cgroup2 is still a v2 host.
        let only_named = "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n\
                          41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_mountinfo(only_named, r).layout(),
            Some(HostLayout::V2)
        );
    }

    #[test]
    fn mountinfo_controllers_roots_and_duplicates() {
        let m = parse_mountinfo(V1, Path::new("/fake"));
        assert_eq!(
            m.v1.len(),
            3,
            "the second memory mount is a duplicate: {m:?}"
        );
        assert_eq!(m.v1[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(
            m.v1[0].mount_point,
            Path::new("/fake/sys/fs/cgroup/cpu,cpuacct")
        );
        assert_eq!(m.v1[1].root, "/docker/abc");
        assert_eq!(m.v1[2].controllers, ["name=systemd"]);
        assert!(m.unified.is_none());
        assert_eq!(unescape("/mnt/again\\040here"), "/mnt/again here");
    }

    #[test]
    fn clean_path_like_runc() {
        assert_eq!(clean_path("/a/../b/./c//"), "/b/c");
        assert_eq!(clean_path("../../etc"), "etc");
        assert_eq!(clean_path("/../.."), "/");
        assert_eq!(clean_path("a/b"), "a/b");
    }

    #[test]
    fn systemd_slices() {
        assert_eq!(
            expand_slice("a-b-c.slice").unwrap(),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        assert_eq!(expand_slice("-.slice").unwrap(), "/");
        assert!(expand_slice("a--b.slice").is_err());
        assert!(expand_slice("nope").is_err());
        assert_eq!(
            systemd_path("system.slice:docker:abc").unwrap(),
            "/system.slice/docker-abc.scope"
        );
        assert_eq!(
            systemd_path(":brig:x").unwrap(),
            "/system.slice/brig-x.scope"
        );
        assert_eq!(
            systemd_path("user-1000.slice::m.slice").unwrap(),
            "/user.slice/user-1000.slice/m.slice"
        );
        assert!(systemd_path("/a/b").is_err());
    }

    #[test]
    fn inner_path_forms() {
        assert_eq!(
            inner_path(Some(Path::new("/a/b/../c")), "id", false, false).unwrap(),
            "/a/c"
        );
        assert_eq!(
            inner_path(Some(Path::new("rel/x")), "id", false, false).unwrap(),
            "rel/x"
        );
        assert_eq!(inner_path(None, "myid", false, false).unwrap(), "myid");
        assert_eq!(
            inner_path(Some(Path::new("")), "myid", false, false).unwrap(),
            "myid"
        );
        let e = inner_path(Some(Path::new("/")), "id", false, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("root cgroup"), "{e}");
        let e = inner_path(Some(Path::new("system.slice:brig:x")), "x", true, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("systemd is not running"), "{e}");
        assert!(e.contains("system.slice:brig:x"), "{e}");
        let e = inner_path(Some(Path::new("/not/systemd")), "x", true, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("slice:prefix:name"), "{e}");
        let e = inner_path(None, "x", true, true).unwrap_err().to_string();
        assert!(e.contains("/system.slice/brig-x.scope"), "{e}");
    }

    #[test]
    fn dirs_absolute_relative_and_in_a_container() {
        let m = parse_mountinfo(V1, Path::new("/"));
        let own = parse_self_cgroup(
            "3:cpu,cpuacct:/user/me\n2:memory:/docker/abc/inner\n1:name=systemd:/\n0::/x/y\n",
        );
        assert_eq!(
            v1_dir(&m.v1[0], &own, "/abs/c"),
            Path::new("/sys/fs/cgroup/cpu,cpuacct/abs/c")
        );
        assert_eq!(
            v1_dir(&m.v1[0], &own, "rel"),
            Path::new("/sys/fs/cgroup/cpu,cpuacct/user/me/rel")
        );
        // The memory mount shows /docker/abc of the hierarchy: our own /docker/abc/inner is /inner below it.
        assert_eq!(
            v1_dir(&m.v1[1], &own, "rel"),
            Path::new("/sys/fs/cgroup/memory/inner/rel")
        );
        assert_eq!(
            v1_dir(&m.v1[2], &own, "a/b"),
            Path::new("/sys/fs/cgroup/systemd/a/b")
        );
        let u = parse_mountinfo(V2, Path::new("/"));
        let unified = u.unified.as_ref().unwrap();
        assert_eq!(
            unified_dir(unified, &own, "/n/e/s/t"),
            Path::new("/sys/fs/cgroup/n/e/s/t")
        );
        assert_eq!(
            unified_dir(unified, &own, "rel"),
            Path::new("/sys/fs/cgroup/x/rel")
        );
        let at_root = parse_self_cgroup("0::/\n");
        assert_eq!(
            unified_dir(unified, &at_root, "rel"),
            Path::new("/sys/fs/cgroup/rel")
        );
    }
}
