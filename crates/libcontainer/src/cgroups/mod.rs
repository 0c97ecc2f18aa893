//! cgroups (interim): places the container in a cgroup of its own in every mounted hierarchy and
//! removes it on delete. Resource limits are refused with a clear error until the full
//! controller support lands.

use serde::{Deserialize, Serialize};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{what} `{path}`: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system)")]
    NoSystemd,
    #[error("linux.resources: {0} is not supported by this build of brig")]
    Unsupported(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cgroup {
    /// Absolute directories of the container's cgroup, one per hierarchy.
    pub dirs: Vec<PathBuf>,
    /// Ancestors brig created (removed again by destroy when empty).
    #[serde(default)]
    pub created: Vec<PathBuf>,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CgroupError + 'a {
    move |source| CgroupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

impl Cgroup {
    pub fn new(
        cgroups_path: Option<&Path>,
        id: &str,
        systemd: bool,
    ) -> Result<Cgroup, CgroupError> {
        if systemd {
            return Err(CgroupError::NoSystemd);
        }
        let info = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(io("read", Path::new("/proc/self/mountinfo")))?;
        let own = std::fs::read_to_string("/proc/self/cgroup")
            .map_err(io("read", Path::new("/proc/self/cgroup")))?;
        let mut dirs = Vec::new();
        for m in crate::rootfs::cgroup_mounts(&info) {
            let key = if m.fstype == "cgroup2" {
                String::new()
            } else {
                m.options.clone()
            };
            let mine = own
                .lines()
                .filter_map(|l| {
                    l.split(':')
                        .nth(1)
                        .map(|c| (c, l.splitn(3, ':').nth(2).unwrap_or("/")))
                })
                .find(|(c, _)| *c == key)
                .map(|(_, p)| p)
                .unwrap_or("/");
            let rel = match cgroups_path {
                Some(p) if p.is_absolute() => p.to_path_buf(),
                Some(p) => Path::new(mine).join(p),
                None => Path::new(mine).join(id),
            };
            dirs.push(Path::new(&m.mountpoint).join(rel.strip_prefix("/").unwrap_or(&rel)));
        }
        Ok(Cgroup {
            dirs,
            created: Vec::new(),
        })
    }

    pub fn create(
        &mut self,
        resources: Option<&oci_spec::runtime::LinuxResources>,
    ) -> Result<(), CgroupError> {
        if let Some(r) = resources {
            let v = serde_json::to_value(r).unwrap_or_default();
            if let Some(obj) = v.as_object() {
                for (k, val) in obj {
                    let trivial = val.is_null()
                        || val.as_array().is_some_and(|a| {
                            a.iter().all(|d| {
                                d.get("allow") == Some(&serde_json::Value::Bool(false))
                                    || d.get("allow").is_some()
                            })
                        });
                    if k != "devices" && !trivial {
                        return Err(CgroupError::Unsupported(format!("linux.resources.{k}")));
                    }
                }
            }
        }
        for d in &self.dirs {
            let mut missing = Vec::new();
            let mut cur = d.as_path();
            while !cur.exists() {
                missing.push(cur.to_path_buf());
                match cur.parent() {
                    Some(p) => cur = p,
                    None => break,
                }
            }
            std::fs::create_dir_all(d).map_err(io("mkdir", d))?;
            // v1 cpuset: a new cgroup starts with no cpus/mems; inherit the parent's, top down.
            for m in missing.iter().rev() {
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    if let (Some(parent), true) = (m.parent(), m.join(f).exists()) {
                        if let Ok(v) = std::fs::read_to_string(parent.join(f)) {
                            let _ = std::fs::write(m.join(f), v.trim());
                        }
                    }
                }
            }
            self.created.extend(missing.into_iter().skip(1));
        }
        Ok(())
    }

    pub fn clone_into_fd(&self) -> Option<OwnedFd> {
        None
    }

    pub fn add_task(&self, pid: i32, _in_unified_already: bool) -> Result<(), CgroupError> {
        for d in &self.dirs {
            let p = d.join("cgroup.procs");
            std::fs::write(&p, pid.to_string()).map_err(io("write", &p))?;
        }
        Ok(())
    }

    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let Some(d) = self.dirs.first() else {
            return Ok(Vec::new());
        };
        let p = d.join("cgroup.procs");
        match std::fs::read_to_string(&p) {
            Ok(s) => Ok(s.lines().filter_map(|l| l.trim().parse().ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io("read", &p)(e)),
        }
    }

    pub fn signal_all(&self, sig: i32) -> Result<(), CgroupError> {
        for pid in self.pids()? {
            // SAFETY: kill(2) with plain integers.
            unsafe { libc::kill(pid, sig) };
        }
        Ok(())
    }

    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        Ok(false)
    }

    pub fn destroy(&self) -> Result<(), CgroupError> {
        for _ in 0..100 {
            if self.pids()?.is_empty() {
                break;
            }
            self.signal_all(libc::SIGKILL)?;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for d in &self.dirs {
            for attempt in 0..50 {
                match std::fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(e) if attempt < 49 && e.raw_os_error() == Some(libc::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(5))
                    }
                    Err(e) => return Err(io("rmdir", d)(e)),
                }
            }
        }
        // Ancestors we made, deepest first; a sibling container may still use one: skip it.
        for d in &self.created {
            let _ = std::fs::remove_dir(d);
        }
        Ok(())
    }
}
